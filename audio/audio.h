// audio — refrain's sound floor: file I/O (libsndfile), resampling
// (libsamplerate), STFT/iSTFT (FFTW), the Slaney mel filterbank and log-mel
// features, mel-to-linear inversion, the Griffin-Lim-family vocoder, and
// spectrogram PNGs with section boundaries (stb_image_write). The sections and
// their timeline JSON are util/song.h's.
// It owns no model code. Functions return 0 / -1 with err_set() (util.h).
//
// Layout legend: n samples, T frames, F = N_FFT/2+1 frequency bins,
// M mel bands. Spectrograms are frame-major: (T, F) and (T, M).
#ifndef REFRAIN_AUDIO_H
#define REFRAIN_AUDIO_H

#include <stdint.h>

#include "util/song.h"

// Fixed numbers (design.md).
#define SAMPLE_RATE 22050
#define N_FFT 1024
#define HOP 256
#define N_BINS (N_FFT / 2 + 1)
#define N_MELS 80
#define MEL_FMIN 0.0f
#define MEL_FMAX 11025.0f
#define LOG_FLOOR 1e-5f   // features are log(max(mel, 1e-5)), mel of magnitude (power 1)

// ---- files (audio/io.c) -------------------------------------------------------
typedef struct {
    char format[64];      // e.g. "OGG (Vorbis)", "WAV (PCM_16)"
    int sample_rate;
    int channels;
    long frames;          // per channel
    double duration;      // seconds
    float peak;           // max |sample| over all channels, linear
    double rms_dbfs;      // RMS level of the mono mix, dBFS
    double loudness_lufs; // integrated loudness, ITU-R BS.1770 (K-weighting, gating), mono mix
} AudioInfo;

int audio_info(const char *path, AudioInfo *info);
// Every sample read is checked where it enters (util.h first_bad_value): NaN,
// infinity or |x| > AUDIO_SAMPLE_LIMIT is refused, naming the file and the
// sample. Full scale is 1; float files may go past it, but a sample of 1e6 is
// 120 dB over full scale: no recording, only a broken file. The limit also
// keeps the float32 power sums of the STFT and the mel front end (squares of
// samples summed over a whole song) far from overflow.
#define AUDIO_SAMPLE_LIMIT 1e6f
// Reads any libsndfile format, downmixes to mono, resamples to target_sr
// (audio_resample: the half-band FIR for 2:1, else libsamplerate SRC_SINC_MEDIUM_QUALITY). *out is malloc'd, *n its length.
// Refuses missing, unreadable, empty or zero-length files with a clear message.
int audio_read(const char *path, int target_sr, float **out, long *n);
// The same for [start, start + duration) seconds only (duration 0 = to the
// end), decoding only that window where the format seeks exactly; a start at
// or past the end is refused with AUDIO_ERR_RANGE (the caller's argument, not
// the file, is wrong), other failures with -1.
#define AUDIO_ERR_RANGE (-2)
int audio_read_range(const char *path, int target_sr, double start, double duration, float **out, long *n);
// ITU-R BS.1770-4 integrated loudness of mono x at sr (K-weighting, 400 ms
// blocks every 100 ms, -70 LUFS absolute and -10 LU relative gates); a clip
// under 400 ms is one block. -INFINITY when everything is gated out.
double loudness_lufs(const float *x, long n, int sr);
// Exact 2:1 ratios (44.1 -> 22.05 kHz) take audio_decimate2; others libsamplerate.
int audio_resample(float **out, long *nout, const float *in, long n, int sr_in, int sr_out);
// Linear-phase half-band FIR, 255 taps (Kaiser 8): -6 dB at the new Nyquist,
// flat to ~10 kHz, below -70 dB above ~12 kHz. *nout = (n + 1) / 2, no delay.
int audio_decimate2(float **out, long *nout, const float *x, long n);
// Writes mono audio; the format follows the extension: .wav (16-bit PCM, or
// 32-bit float when float32 != 0), .flac, .ogg (Vorbis), to exactly path (the
// caller's OutTx temporary makes it atomic); on failure the file is removed.
int audio_write(const char *path, const float *x, long n, int sr, int float32);

// ---- STFT (audio/stft.c) -------------------------------------------------------
// Centred like torch.stft(center=True, pad_mode="reflect"), periodic Hann window.
// Frames: T = 1 + n / HOP. Thread-safe after creation (FFTW new-array execute).
typedef struct Stft Stft;
Stft *stft_create(void);            // N_FFT / HOP / Hann; NULL + err on failure
void stft_free(Stft *s);
long stft_frames(long n);           // 1 + n / HOP
// re, im: (T, F)
void stft_forward(Stft *s, float *re, float *im, const float *x, long n);
// Inverse by weighted overlap-add, normalised by the summed squared window
// (torch.istft). x: (n) — the caller says the length to return.
void stft_inverse(Stft *s, float *x, long n, const float *re, const float *im, long T);
void stft_magnitude(Stft *s, float *mag, const float *x, long n);   // mag: (T, F)

// ---- mel (audio/mel.c) ------------------------------------------------------------
// Slaney mel scale and Slaney area norm, as torchaudio 0.13's
// melscale_fbanks(N_BINS, 0, 11025, 80, 22050, norm="slaney", mel_scale="slaney").
// fb: (M, F) row-major (transposed relative to torchaudio's (F, M)).
void mel_filterbank(float *fb);
const float *mel_fb(void);                   // a shared, lazily built copy
// mag (T, F) -> mel (T, M) (magnitude mel, power 1).
void mel_from_mag(float *mel, const float *mag, long T);
// log(max(mel, LOG_FLOOR)), in place over n values.
void log_compress(float *x, long n);
// Whole front-end: audio (n) -> logmel (T, M), T = stft_frames(n). *logmel malloc'd.
int logmel_from_audio(float **logmel, long *T, const float *x, long n);
// Linear mel (T, M) (exp of the log-mel features) -> linear magnitude (T, F),
// non-negative: min ||mag·FBᵀ - mel||² subject to mag >= 0, by FISTA projected
// gradient from a flat-spectrum warm start (see mel.c), `iters` iterations.
void mel_to_mag(float *mag, const float *mel, long T, int iters);

// ---- vocoder (audio/vocoder.c) ----------------------------------------------------
typedef enum { PHASE_RANDOM = 0, PHASE_ZERO = 1, PHASE_PGHI = 2 } PhaseInit;
typedef struct {
    int iters;            // Griffin-Lim iterations (default 64)
    float momentum;       // fast Griffin-Lim alpha (default 0.99), 0..VOCODER_MOMENTUM_MAX
    PhaseInit init;       // default PHASE_PGHI
    uint64_t seed;        // for PHASE_RANDOM
    int progress;         // print progress on stderr
    void (*on_iter)(void *ctx, int it, int iters);   // called after iteration it (1-based) when not NULL
    void *on_iter_ctx;
    float *sc_trace;      // optional (iters): spectral convergence after each iteration
} VocoderOpts;
// The vocoder's limits, which option tables take as their ranges (one place):
// momentum m enters as m / (1 + m) and must stay below 1 for the iteration to
// settle; VOCODER_MIN_FRAMES: reflect padding needs more than N_FFT / 2 samples.
#define VOCODER_MOMENTUM_MAX 0.999
#define VOCODER_MIN_FRAMES 4
void vocoder_defaults(VocoderOpts *o);
// Magnitude (T, F) -> waveform x (n). n is usually (T-1)*HOP.
int griffin_lim(float *x, long n, const float *mag, long T, const VocoderOpts *o);
// Log-mel (T, M) -> waveform; *x malloc'd, *n = (T-1)*HOP.
int vocode_logmel(float **x, long *n, const float *logmel, long T, const VocoderOpts *o);
// || |STFT(x)| - mag ||_F / || mag ||_F
double spectral_convergence(const float *mag, long T, const float *x, long n);

// ---- spectrogram images (audio/spectrogram.c) ------------------------------------
// Log-mel (T, M) -> PNG: perceptual colormap, time axis with ticks, and when
// form != NULL, boundary lines with each section's label (the sections of a
// timeline, util/song.h timeline_read). Written to exactly path (see audio_write).
int spectrogram_png(const char *path, const float *logmel, long T, const SongForm *form);


// ---- line plots for reports (audio/plot.c) -------------------------------------------
typedef struct {
    const char *name;     // legend entry
    const double *x, *y;
    int n;
} PlotSeries;
// Axes with ticks and labels, one colour per series, a legend. logx/logy: log10 axes.
int plot_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
             const PlotSeries *series, int nseries, int logx, int logy);

#endif
