// refrain.h — refrain as a library: load the models once, generate songs and
// re-roll their sections; encode audio to latents and decode them, vocode a
// log-mel, analyze a recording's sections, read and write timelines
// (examples/generate.c and examples/analyze.c are whole programs).
// (In the style of whisper.h and stable-diffusion.h: an opaque model, params
// structs with defaults functions, a progress callback instead of a global,
// errors returned with a message.) Installed (make install): build with
// `pkg-config --cflags --libs refrain` (librefrain.so), or link librefrain.a with
// `pkg-config --static --libs refrain`'s libraries; examples/generate.c is a whole program.
//
//   refrain_model_params mp = refrain_model_default_params();
//   char err[256];
//   refrain_model *m = refrain_model_load(&mp, err, sizeof err);   // NULL: err says why
//   refrain_generate_params gp = refrain_generate_default_params();
//   gp.form = "intro verse chorus verse chorus outro";
//   refrain_song song;
//   if (refrain_generate(m, &gp, &song, err, sizeof err)) { ... }
//   ... song.audio (n_samples at sample_rate), song.logmel, song.sections ...
//   refrain_song_free(&song);
//   refrain_model_free(m);
//
// Same seed, same models: the same samples, bit for bit, at any thread count (every
// parallel loop splits by output element; tests/test_generate.c checks 1 against 2
// threads, and a shipped-size checkpoint gave identical WAV bytes at 1 and 2 threads).
#ifndef REFRAIN_H
#define REFRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// The one version: `refrain --version` prints it, and the Makefile reads it from
// this line for the shared library's file name (librefrain.so.MAJOR -> .so.VERSION).
#define REFRAIN_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif
// The shared library exports exactly what this header declares (the library is
// built with -fvisibility=hidden; see the Makefile).
#pragma GCC visibility push(default)

// ---- models ---------------------------------------------------------------------------
typedef struct refrain_model refrain_model;   // the denoiser and the autoencoder

typedef struct {
    const char *denoiser;   // model files; NULL: found by refrain_find_model
    const char *autoencoder;
} refrain_model_params;
refrain_model_params refrain_model_default_params(void);

// A shipped model file by name ("denoiser.rfc", "ae.rfc"), never relative to the
// current folder: $REFRAIN_MODEL_DIR, then assets/ beside the running binary (a
// build tree), then ../share/refrain beside it (an installed binary), then the
// same two beside librefrain.so when a program links it (PREFIX/lib/../share/refrain
// is where make install puts the models; dladdr). Returns 0 with the path in buf,
// or -1 with a message naming the places looked in.
int refrain_find_model(const char *name, char *buf, size_t cap, char *err, size_t err_cap);

refrain_model *refrain_model_load(const refrain_model_params *p, char *err, size_t err_cap);
void refrain_model_free(refrain_model *m);
// The autoencoder alone, for refrain_encode and refrain_decode (not for generating):
// path NULL: refrain_find_model("ae.rfc"). Accepts a model without latent
// statistics (a training checkpoint: its latents are not unit scale; refrain_model_latent_stats says).
refrain_model *refrain_autoencoder_load(const char *path, char *err, size_t err_cap);
// The autoencoder's latent channels, and whether it holds latent statistics
// (1: its latents are unit scale, as the denoiser wants them).
int refrain_model_z(const refrain_model *m);
int refrain_model_latent_stats(const refrain_model *m);

// ---- generation -------------------------------------------------------------------------
// stage: "denoiser" (section of n_sections, step of steps), "decoder", "vocoder".
typedef void (*refrain_progress_fn)(void *user, const char *stage, int section, int n_sections, int step,
                                    int steps);

typedef struct refrain_song refrain_song;   // below

typedef struct {
    const char *form;          // "intro verse chorus:8b outro", "i4A4B8o4", ... (conditioning.h)
    double bpm;                // bars -> seconds (default 120)
    int style;                 // 0 none, 1 mma, 2 module, 3 recording
    uint64_t seed;
    int steps;                 // sampling steps per section chunk
    int sampler;               // 0 euler, 1 heun, 2 ab2, 3 pingpong
    int schedule;              // 0 linear, 1 logsnr, 2 sao
    float cfg;                 // guidance on the section conditioning (1 = none)
    float memory_guidance;     // extra push toward the memory: + g (v_c - v_no_memory) (0 = none, the default;
                               // the memory is used either way: no_memory drops it)
    int no_memory;             // 1: no section remembers the ones before (the ablation)
    const refrain_song *memory_from;   // the control "another song's memory" (NULL: none): section i remembers
                               // this song's sections 0 .. i - 1 (its labels and latents; a song made earlier,
                               // e.g. by refrain_generate or refrain_song_load) instead of its own. Passing the
                               // song this call makes with memory_from NULL reproduces it bit for bit. Not with prime
    const refrain_song *const *memory_from_each;   // the control "other songs' memory" (NULL: none): one entry
                               // per section of the form; section i remembers memory_from_each[i]'s sections
                               // 0 .. i - 1 as above (a NULL entry: its own). Not with memory_from or prime
    int vocoder_iters;         // Griffin-Lim iterations
    refrain_progress_fn progress;
    void *progress_user;
    // Editing (sampler/edit.c):
    float repeat_strength;     // 0 < X <= 1: each repeated section (its label, as written, came earlier)
                               // starts from that label's previous occurrence re-noised to t = X,
                               // x_t = (1 - X) x0 + X e, then the ODE from X to 0 on the schedule's times
                               // below X (fewer steps); an earlier occurrence shorter than the new one is
                               // tiled (frame f takes its frame f mod length), a longer one cropped to its
                               // first frames. 1 = from pure noise (plain generation); default 0.6
                               // (notebooks_exports/ablation.md: repeats as alike as real songs').
                               // The occurrence is in the song the section remembers: memory_from's when given;
                               // with no_memory there is none and every section starts from pure noise
    float seam_strength;       // refrain_reroll: the seam after a re-rolled section is re-noised to this t
                               // and denoised again (SDEdit); 0 < t <= 1, default 0.6
    const float *prime;        // a recording (mono, prime_samples at prime_rate Hz), NULL for none: the
    long prime_samples;        // analyzer's sections of it (refrain analyze, labels A, B, ...), encoded by the
    int prime_rate;            // autoencoder, are the song's first sections, never sampled: every section
                               // of the form remembers them (occurrences count them too). The output is the
                               // form's sections only, and the first has no context frames.
    int prime_continue;        // with prime: the song continues the recording: its last frames are the
                               // first section's context, and the output is the recording's own samples
                               // unchanged, then the new sections, joined by an equal-power crossfade of
                               // REFRAIN_CROSSFADE_SECONDS over the recording's last samples (against its
                               // rendering through the autoencoder and vocoder), the new part's gain set so
                               // its BS.1770 loudness matches the recording's (at most +-24 dB); the
                               // recording's sections (seed 0) lead the output's sections
    const float *form_from;    // a recording (mono, form_from_samples at form_from_rate Hz), NULL for none:
    long form_from_samples;    // the form is refrain_form_from_audio's of it, instead of form (give one of
    int form_from_rate;        // the two); the form string used is returned in refrain_song.form
    const refrain_song *reroll_from;   // a song made earlier (refrain_song_load), NULL for none: the call is
    const char *reroll;        // refrain_reroll(m, p, reroll_from, reroll, ...): its sections `reroll` names
                               // ("3" or a label) sampled anew; not with form, form_from, prime or memory_from*
} refrain_generate_params;
#define REFRAIN_CROSSFADE_SECONDS 0.1
refrain_generate_params refrain_generate_default_params(void);

typedef struct {
    char label[32];
    int occurrence;
    double start, end;         // seconds
    uint64_t seed;             // the section's noise seed
    float loudness_lufs, brightness_hz, onset_density;   // targets asked for, or measured (analysis); NAN = none
    float rms_db;              // plain RMS level, dBFS (analysis); NAN = none
    float confidence;          // 0..1, how sure the analyzer is of the label and start; NAN = not given
} refrain_section;

struct refrain_song {
    float *audio;              // (n_samples) mono at sample_rate
    long n_samples;
    int sample_rate;
    float *logmel;             // (n_frames, n_mels), the decoder's output
    long n_frames;
    int n_mels;
    float *latents;            // (n_latent, z) unit-scale latents
    long n_latent;
    int z;
    refrain_section *sections; // (n_sections)
    int n_sections;
    double bpm;
    double seconds_denoiser, seconds_decoder, seconds_vocoder;
    int sections_sampled;      // sections the denoiser made (a re-roll: the re-rolled ones)
    long frames_sampled;       // latent frames it sampled, a re-roll's seams included
    int n_recording;           // prime_continue: the leading sections that are the recording's; else 0
    long recording_samples;    // prime_continue: audio[0, recording_samples - crossfade) is the recording's
    long memory_tokens;        // memory tokens the sampled sections held, summed (the memory's cost)
    char *form;                // form_from: the form string taken from the recording; else NULL
    int *rerolled;             // a re-roll: the re-rolled sections' 0-based indices, ascending (n_rerolled); else NULL
    int n_rerolled;
};

#define REFRAIN_ERR (-1)         // a failure: err says what
#define REFRAIN_ERR_INPUT (-2)   // the caller's input is wrong (a bad form or parameter): err says which

// Parses the form, generates every section, decodes and vocodes: the one call
// for every kind of song (a form, a recording's form (form_from), primed or
// continuing a recording (prime), a re-roll of a song made earlier (reroll_from)). Returns 0,
// REFRAIN_ERR_INPUT (a bad form or parameter: err names the word and what is
// allowed) or REFRAIN_ERR, with err set.
int refrain_generate(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                     size_t err_cap);
void refrain_song_free(refrain_song *s);

// ---- editing a song made earlier (sampler/edit.c) -----------------------------------------
// A song made earlier, from the timeline and the latents file generate wrote
// (--timeline, --latents): sections (labels, spans, seeds, targets) and latents;
// no audio. Refuses a latents file that does not belong to the timeline (its
// frames not the timeline's length, or not 4 mel frames each): REFRAIN_ERR.
int refrain_song_load(refrain_song *s, const char *timeline, const char *latents, char *err, size_t err_cap);
// The sections `which` names in a song of n: "3" (1-based, in the timeline's
// order) or a label ("chorus": every occurrence). Writes their 0-based indices
// (ascending) to idx (n) and returns how many, or REFRAIN_ERR_INPUT (a number out
// of 1..n, a label the song does not have) with err saying what is allowed.
int refrain_reroll_sections(const refrain_song *from, const char *which, int *idx, char *err, size_t err_cap);
// Re-roll: the song `from` again with the sections `which` names sampled anew,
// each with the seed p->seed gives section i in refrain_generate (so the seed the
// song was made with reproduces them, and the song, bit for bit), and every
// other section's latents kept bit for bit, except a seam: when a kept section's
// context (the model's context frames before it) changed, its first frames (as
// many, or the whole section if shorter) are re-noised to p->seam_strength and
// denoised again with the new frames before them as context and the rest of its
// first chunk as known frames (sampler.h, song_generate_edit). p's form and prime
// are ignored (the form is from's); its sampling settings should be the song's.
// The whole song is decoded and vocoded again. out->sections_sampled and
// frames_sampled say what was sampled; out->sections carry the new seeds.
int refrain_reroll(refrain_model *m, const refrain_generate_params *p, const refrain_song *from, const char *which,
                   refrain_song *out, char *err, size_t err_cap);
// A recording's form as a form string for refrain_generate_params.form: its
// sections as the analyzer finds them (refrain analyze's defaults), each label
// and length in seconds to the millisecond: "A:12.306 B:20.015 A:12.353". x is
// mono at rate Hz. Returns 0, or REFRAIN_ERR (too short to analyse, or a form
// longer than cap) with err set.
int refrain_form_from_audio(const float *x, long n, int rate, char *form, size_t cap, char *err, size_t err_cap);

// ---- timelines: a song's sections as JSON (util/song.h) ----------------------------------
// {"bpm": 90, "duration": 132.016, "sections": [{"label": "A", "start": 0.000, "end": 32.322,
//  "occurrence": 1, "confidence": 1.000, "loudness_lufs": -19.55, ...}, ...]}: what
// refrain generate --timeline and refrain analyze --json write.
typedef struct {
    refrain_section *sections; // (n_sections)
    int n_sections;
    double bpm;                // tempo bar lengths were given in; 0 = none
    double duration;           // seconds; 0 = not given
} refrain_timeline;
// Reads a timeline; refuses bad JSON, negative, reversed or overlapping sections
// (REFRAIN_ERR, err naming the file and the section).
int refrain_timeline_read(refrain_timeline *t, const char *path, char *err, size_t err_cap);
// Writes t as JSON to f (times to the millisecond). Returns 0, or REFRAIN_ERR on a write error.
int refrain_timeline_write(const refrain_timeline *t, FILE *f, char *err, size_t err_cap);
// A table: the form line ("form: ABAB   (4 sections, 60.0 s)"), then a row per
// section with its span, confidence and descriptors (refrain analyze's output).
void refrain_timeline_print(const refrain_timeline *t, FILE *f);
void refrain_timeline_free(refrain_timeline *t);
// A song's timeline, pointing into s (not a copy: do not free it).
refrain_timeline refrain_song_timeline(const refrain_song *s);

// ---- features, the autoencoder and the vocoder -----------------------------------------
// Audio in: mono float samples at any rate (resampled to REFRAIN_SAMPLE_RATE).
// Log-mel: 80 Slaney bands, 0 to 11,025 Hz, log(max(mel, 1e-5)), hop 256 (86.1 frames/s).
// Latents: the autoencoder's, one per REFRAIN_LATENT_MELS log-mel frames (21.5/s).
#define REFRAIN_SAMPLE_RATE 22050
#define REFRAIN_LATENT_MELS 4
typedef struct {
    float *samples;            // (n_samples) mono
    long n_samples;
    int sample_rate;
} refrain_audio;
typedef struct {
    float *data;               // (n_frames, n_mels)
    long n_frames;
    int n_mels;
} refrain_logmel;
typedef struct {
    float *data;               // (n_latent, z), unit scale when the model has latent statistics
    long n_latent;
    int z;
    long n_frames;             // the log-mel frames they stand for: refrain_decode makes this many
} refrain_latents;
void refrain_audio_free(refrain_audio *a);
void refrain_logmel_free(refrain_logmel *m);
void refrain_latents_free(refrain_latents *l);

// Any file libsndfile reads (WAV, FLAC, OGG, ...), mixed to mono at
// REFRAIN_SAMPLE_RATE; [start, start + duration) seconds of it (duration 0: to the
// end). REFRAIN_ERR_INPUT: start lies past the end.
int refrain_audio_read(refrain_audio *out, const char *path, double start, double duration, char *err,
                       size_t err_cap);
int refrain_logmel_from_audio(refrain_logmel *out, const float *x, long n, int rate, char *err, size_t err_cap);
// Audio -> log-mel -> latents. mel: the log-mel it encoded, kept when not NULL.
int refrain_encode(refrain_model *m, const float *x, long n, int rate, refrain_latents *out, refrain_logmel *mel,
                   char *err, size_t err_cap);
// Latents -> log-mel (lat->n_frames frames). REFRAIN_ERR_INPUT: the latents are
// not the model's (another channel count, or n_frames not 4 per latent frame).
int refrain_decode(refrain_model *m, const refrain_latents *lat, refrain_logmel *out, char *err, size_t err_cap);
// The latent file refrain encode and generate --latents write ("RFNLAT01", shapes, float32).
int refrain_latents_read(refrain_latents *out, const char *path, char *err, size_t err_cap);
int refrain_latents_write(const refrain_latents *lat, const char *path, char *err, size_t err_cap);

typedef struct {
    int iters;                 // Griffin-Lim iterations (default 64 in refrain vocode; generate's is its own)
    int init;                  // initial phase: 0 random, 1 zero, 2 pghi (the default)
    float momentum;            // fast Griffin-Lim momentum, 0 <= m < 1 (0 = plain Griffin-Lim)
    uint64_t seed;             // for init 0
    refrain_progress_fn progress;   // stage "vocoder", step (1-based) of steps iterations; NULL: none
    void *progress_user;
} refrain_vocode_params;
refrain_vocode_params refrain_vocode_default_params(void);
// Log-mel -> audio at REFRAIN_SAMPLE_RATE, (n_frames - 1) * 256 samples.
int refrain_vocode(const refrain_vocode_params *p, const refrain_logmel *mel, refrain_audio *out, char *err,
                   size_t err_cap);
// || |STFT(y)| - |STFT(x)| ||_F / || |STFT(x)| ||_F over x's frames: how far a
// rendering y (refrain_vocode's) is from the audio x it came from. Both at REFRAIN_SAMPLE_RATE.
double refrain_spectral_convergence(const float *x, long nx, const float *y, long ny);
// The log-mel as a PNG (viridis, time axis), with t's section boundaries and labels when not NULL.
int refrain_spectrogram_png(const refrain_logmel *mel, const refrain_timeline *t, const char *path, char *err,
                            size_t err_cap);

// ---- analysis: a recording's sections (data/analyze.h) --------------------------------------
// Novelty boundaries on chroma and timbre self-similarity, segments clustered
// into repeat labels "A", "B", ... (in order of first appearance), and each
// section's loudness, brightness and onset density.
typedef struct {
    double min_section;        // shortest section, seconds, for a song up to 2.5 minutes (default 5)
    double kernel;             // half-width of the novelty kernel, seconds (default 4.5)
    int fixed_scale;           // 1: keep min_section and kernel at any length (default 0: a longer song
                               // scales both in proportion to its length)
    double threshold;          // segment similarity at which two segments share a label, 0..1 (default 0.5)
    int patterns;              // 1: the pattern level instead of sections: a boundary at every repetition of
                               // the song's dominant period (a tracker module's patterns), labels per pattern;
                               // min_section, kernel and threshold then do not apply (default 0)
} refrain_analyze_params;
refrain_analyze_params refrain_analyze_default_params(void);
typedef struct refrain_analysis refrain_analysis;   // the sections and the self-similarity matrix
// x: mono at rate Hz. NULL on failure (err says why; too short is not one: it gives one section).
refrain_analysis *refrain_analyze(const float *x, long n, int rate, const refrain_analyze_params *p, char *err,
                                  size_t err_cap);
// The sections found, consecutive from 0 to the audio's length (a pointer into a).
const refrain_timeline *refrain_analysis_timeline(const refrain_analysis *a);
// The self-similarity matrix with the boundaries and labels, a PNG written to exactly path.
int refrain_analysis_png(const refrain_analysis *a, const char *path, char *err, size_t err_cap);
void refrain_analysis_free(refrain_analysis *a);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
