// io.c — sound files in and out: reading anything libsndfile reads (WAV,
// FLAC, OGG Vorbis/Opus, MP3, ...) as mono at the model rate, resampling with
// libsamplerate, writing WAV/FLAC/OGG atomically, and the file summary behind
// `refrain analyze` (peak, RMS, ITU-R BS.1770-4 integrated loudness).
// It owns no spectral analysis (stft.c, mel.c).
#include "audio/audio.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define READ_CHUNK 65536   // frames per sf_readf_float call

// A WAV whose data chunk declares more bytes than the file holds was cut short
// (an interrupted copy, download or recording). libsndfile reads what is there
// without a word (its log says "data : 44100 (should be 19956)"), so refrain
// refuses it and says how much is missing: a song cut short silently is worse
// than one refused. The streaming sizes 0 and 0xFFFFFFFF (a writer that could
// not seek back) mean "unknown" and pass. 1: cut short (sizes in *declared, *held).
static int wav_cut_short(const char *path, long long fsize, long long *declared, long long *held) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char h[12], c[8];
    int cut = 0;
    if (fread(h, 1, 12, f) == 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WAVE", 4)) {
        long long pos = 12;
        for (int k = 0; k < 64 && fread(c, 1, 8, f) == 8; k++) {   // a few chunks before "data"
            unsigned long long size = c[4] | c[5] << 8 | c[6] << 16 | (unsigned long long)c[7] << 24;
            pos += 8;
            if (!memcmp(c, "data", 4)) {
                *declared = (long long)size;
                *held = fsize - pos;
                cut = size != 0 && size != 0xFFFFFFFFull && (long long)size > *held;
                break;
            }
            pos += (long long)size + (size & 1);
            if (pos >= fsize || fseek(f, pos, SEEK_SET) != 0) break;
        }
    }
    fclose(f);
    return cut;
}

// Opens path for reading, refusing a missing path, a folder, an empty file,
// something libsndfile cannot parse, and a file with no audio, each with one
// message naming the file and the problem.
static SNDFILE *open_checked(const char *path, SF_INFO *info) {
    struct stat st;
    if (stat(path, &st) != 0) {
        err_set("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        err_set("cannot read %s: it is a folder, not a sound file", path);
        return NULL;
    }
    if (st.st_size == 0) {
        err_set("cannot read %s: the file is empty (0 bytes)", path);
        return NULL;
    }
    memset(info, 0, sizeof *info);
    SNDFILE *sf = sf_open(path, SFM_READ, info);
    if (!sf) {
        err_set("cannot read %s: not a sound file libsndfile understands (%s)", path, sf_strerror(NULL));
        return NULL;
    }
    if (info->channels <= 0 || info->samplerate <= 0) {
        sf_close(sf);
        err_set("cannot read %s: bad header (%d channels at %d Hz)", path, info->channels, info->samplerate);
        return NULL;
    }
    if (info->frames == 0) {
        sf_close(sf);
        err_set("cannot read %s: it holds no audio (0 frames)", path);
        return NULL;
    }
    long long declared, held;
    int major = info->format & SF_FORMAT_TYPEMASK;
    if ((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) && wav_cut_short(path, (long long)st.st_size, &declared, &held)) {
        sf_close(sf);
        err_set("cannot read %s: the file is cut short: its header declares %lld bytes of audio, the file holds %lld "
                "(%.0f%% of it is missing; an interrupted copy or recording?)", path, declared, held,
                100.0 * (declared - held) / declared);
        return NULL;
    }
    return sf;
}

// Reads every frame (not trusting the header count, which MP3 only estimates)
// and downmixes to mono by averaging the channels. peak (may be NULL) gets the
// largest |sample| over all channels.
// max > 0 stops after max frames (a window after sf_seek).
static int read_mono(SNDFILE *sf, const SF_INFO *info, const char *path, long max, float **out, long *n, float *peak) {
    int C = info->channels;
    // The header's frame count is a hint, not a promise (a hostile or broken
    // header claimed 2^30 frames of a 100-byte FLAC: a 4 GB allocation, found by
    // fuzz/fuzz_audio.c): start at one chunk and grow (doubling) as frames come.
    long cap = info->frames > 0 && info->frames < READ_CHUNK ? (long)info->frames : READ_CHUNK;
    if (max > 0 && max < cap) cap = max;
    float *mono = mallocCheck(sizeof(float) * cap);
    // READ_CHUNK samples a read whatever the channel count (libsndfile allows
    // 1,024 channels: READ_CHUNK frames of them were 256 MB)
    const long chunk = READ_CHUNK / C > 0 ? READ_CHUNK / C : 1;
    float *buf = mallocCheck(sizeof(float) * chunk * C);   // (chunk, C) interleaved
    long len = 0;
    float pk = 0;
    for (;;) {
        sf_count_t want = max > 0 && max - len < chunk ? max - len : chunk;
        if (want <= 0) break;
        sf_count_t got = sf_readf_float(sf, buf, want);
        if (got <= 0) break;
        long bad = first_bad_value(buf, (size_t)got * C, AUDIO_SAMPLE_LIMIT);
        if (bad >= 0) {
            float v = buf[bad];
            free(buf);
            free(mono);
            return err_set("cannot read %s: sample %ld (channel %d, %.3f s in) is %s (%g); refrain reads finite samples "
                           "up to %g", path, len + bad / C, (int)(bad % C) + 1, (double)(len + bad / C) / info->samplerate,
                           bad_value_kind(v), v, AUDIO_SAMPLE_LIMIT);
        }
        if (len + got > cap) {
            while (len + got > cap) cap *= 2;
            mono = reallocCheck(mono, sizeof(float) * cap);
        }
        for (sf_count_t i = 0; i < got; i++) {
            float s = 0;
            for (int c = 0; c < C; c++) {
                float v = buf[i * C + c];
                s += v;
                if (fabsf(v) > pk) pk = fabsf(v);
            }
            mono[len + i] = s / C;
        }
        len += got;
    }
    free(buf);
    if (sf_error(sf) != SF_ERR_NO_ERROR) {
        free(mono);
        return err_set("cannot read %s: decoding failed after %ld frames (%s)", path, len, sf_strerror(sf));
    }
    if (len == 0) {
        free(mono);
        return err_set("cannot read %s: it holds no audio (0 frames decoded)", path);
    }
    *out = mono;
    *n = len;
    if (peak) *peak = pk;
    return 0;
}

// ---- exact 2:1 decimation (44.1 -> 22.05 kHz) ---------------------------------------------
// Most music is 44,100 Hz; libsamplerate's SRC_SINC_MEDIUM_QUALITY took 55%
// of the corpus build's CPU (perf, this machine). For the exact 2:1 ratio a linear-phase half-band FIR does the same
// job in a fraction of the time: 255 taps, Kaiser beta 8 windowed sinc, cutoff
// 11,025 Hz; every other tap is zero. -6 dB at 11,025 Hz (the top of the mel
// range), passband flat to ~10 kHz, stopband below -70 dB above ~12 kHz.
#define HB_TAPS 255

static double bessel_i0(double x) {
    double s = 1, t = 1;
    for (int k = 1; k < 50; k++) {
        t *= (x / (2 * k)) * (x / (2 * k));
        s += t;
        if (t < 1e-12 * s) break;
    }
    return s;
}

static void halfband_taps(float *h) {
    const int M = HB_TAPS / 2;
    const double beta = 8.0;
    double sum = 0, tmp[HB_TAPS];
    for (int i = 0; i < HB_TAPS; i++) {
        int k = i - M;
        double sinc = k == 0 ? 0.5 : sin(M_PI * 0.5 * k) / (M_PI * k);
        double r = (double)k / M;
        tmp[i] = sinc * bessel_i0(beta * sqrt(1 - r * r)) / bessel_i0(beta);
        sum += tmp[i];
    }
    for (int i = 0; i < HB_TAPS; i++) h[i] = (float)(tmp[i] / sum);
}

int audio_decimate2(float **out, long *nout, const float *x, long n) {
    const int M = HB_TAPS / 2;
    float h[HB_TAPS];
    halfband_taps(h);
    // Non-zero taps only: the centre and the odd offsets from it.
    int nt = 0, off[HB_TAPS];
    float w[HB_TAPS];
    for (int i = 0; i < HB_TAPS; i++)
        if (i == M || ((i - M) & 1)) { off[nt] = i - M; w[nt] = h[i]; nt++; }
    long m = (n + 1) / 2;
    float *y = callocCheck((size_t)(m ? m : 1), sizeof *y);
    // Interior outputs (every tap inside x): tap-outer loop, so the inner loop
    // over outputs vectorizes. Edges: the plain, bounds-checked sum.
    long k0 = (M + 1) / 2, k1 = (n - 1 - M) / 2;   // 2k - M >= 0 and 2k + M <= n - 1
    if (k1 < k0) k1 = k0 - 1;
    for (int t = 0; t < nt; t++) {
        const float wt = w[t];
        const float *xs = x + off[t];
        for (long k = k0; k <= k1; k++) y[k] += wt * xs[2 * k];
    }
    for (long k = 0; k < m; k++) {
        if (k >= k0 && k <= k1) { k = k1; continue; }
        double acc = 0;
        for (int t = 0; t < nt; t++) {
            long j = 2 * k + off[t];
            if (j >= 0 && j < n) acc += w[t] * x[j];
        }
        y[k] = (float)acc;
    }
    *out = y;
    *nout = m;
    return 0;
}

int audio_resample(float **out, long *nout, const float *in, long n, int sr_in, int sr_out) {
    *out = NULL;
    *nout = 0;
    if (sr_in <= 0 || sr_out <= 0) return err_set("resample: bad rates %d -> %d Hz", sr_in, sr_out);
    if (n <= 0) return err_set("resample: no input samples");
    double ratio = (double)sr_out / sr_in;
    if (!src_is_valid_ratio(ratio))
        return err_set("resample: ratio %d -> %d Hz is outside libsamplerate's 1/256..256", sr_in, sr_out);
    if (sr_in == sr_out) {
        *out = mallocCheck(sizeof(float) * n);
        memcpy(*out, in, sizeof(float) * n);
        *nout = n;
        return 0;
    }
    if (sr_in == 2 * sr_out) return audio_decimate2(out, nout, in, n);   // one path for corpus and users
    long cap = (long)ceil(n * ratio) + 16;
    float *o = mallocCheck(sizeof(float) * cap);
    SRC_DATA d = {0};
    d.data_in = in;
    d.input_frames = n;
    d.data_out = o;
    d.output_frames = cap;
    d.src_ratio = ratio;
    d.end_of_input = 1;
    int e = src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1);
    if (e) {
        free(o);
        return err_set("resample %d -> %d Hz: %s", sr_in, sr_out, src_strerror(e));
    }
    *out = o;
    *nout = d.output_frames_gen;
    return 0;
}

// Decodes up to max frames (0: all) from sf's current position, downmixes to
// mono, resamples to target_sr, and closes sf. Shared by audio_read and
// audio_read_range.
static int decode_at_rate(SNDFILE *sf, const SF_INFO *info, const char *path, long max, int target_sr, float **out,
                          long *n) {
    float *mono;
    long len;
    int rc = read_mono(sf, info, path, max, &mono, &len, NULL);
    sf_close(sf);
    if (rc) return -1;
    if (info->samplerate == target_sr) {
        *out = mono;
        *n = len;
        return 0;
    }
    rc = audio_resample(out, n, mono, len, info->samplerate, target_sr);
    free(mono);
    return rc ? err_set("cannot read %s: %s", path, err_msg()) : 0;
}

int audio_read(const char *path, int target_sr, float **out, long *n) {
    *out = NULL;
    *n = 0;
    if (target_sr <= 0) return err_set("cannot read %s: bad target rate %d Hz", path, target_sr);
    SF_INFO info;
    SNDFILE *sf = open_checked(path, &info);
    return sf ? decode_at_rate(sf, &info, path, 0, target_sr, out, n) : -1;
}

// Cuts [start, start + duration) (seconds; duration 0 = to the end) out of x
// in place, at rate sr; offset is x's first sample's index in the whole file
// at that rate, total the whole file's length (for the message).
static int cut_window(float **x, long *n, long offset, double start, double duration, int sr, const char *path,
                      double total) {
    long a = (long)(start * sr + 0.5) - offset;
    if (a < 0) a = 0;
    if (a >= *n) {
        free(*x);
        *x = NULL;
        *n = 0;
        err_set("--start %g s is at or past the end of %s (%.2f s long)", start, path, total);
        return AUDIO_ERR_RANGE;
    }
    long b = duration > 0 ? (long)(start * sr + 0.5) + (long)(duration * sr + 0.5) - offset : *n;
    if (b > *n) b = *n;
    memmove(*x, *x + a, (size_t)(b - a) * sizeof(float));
    *n = b - a;
    return 0;
}

static long gcd_long(long a, long b) {
    while (b) { long t = a % b; a = b; b = t; }
    return a;
}

// Seeks and decodes only the window (plus 0.25 s each side for the
// resampler's filter), starting at a source frame whose time is a whole
// output sample, so the result matches the whole-file read to float rounding
// (tests/test_audio_io.c). MP3 (whose frame count is an estimate) and
// unseekable streams decode the whole file.
int audio_read_range(const char *path, int target_sr, double start, double duration, float **out, long *n) {
    *out = NULL;
    *n = 0;
    if (target_sr <= 0) return err_set("cannot read %s: bad target rate %d Hz", path, target_sr);
    if (start < 0 || duration < 0) return err_set("cannot read %s: negative start or duration", path);
    SF_INFO info;
    SNDFILE *sf = open_checked(path, &info);
    if (!sf) return -1;
    int sr = info.samplerate;
    int exact = info.seekable && (info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG && info.frames > 0;
    if (!exact || (start == 0 && duration == 0)) {
        if (decode_at_rate(sf, &info, path, 0, target_sr, out, n)) return -1;
        return cut_window(out, n, 0, start, duration, target_sr, path, (double)*n / target_sr);
    }
    double total = (double)info.frames / sr;
    long g = gcd_long(sr, target_sr);
    long L = sr / g;                                 // source frames per whole number of output samples
    long margin = sr == target_sr ? 0 : sr / 4;
    long s0 = (long)(start * sr) - margin;
    s0 = s0 > 0 ? s0 / L * L : 0;
    long s1 = duration > 0 ? (long)((start + duration) * sr) + margin + L : (long)info.frames;
    if (s1 > info.frames) s1 = (long)info.frames;
    if (s0 >= s1) {
        sf_close(sf);
        err_set("--start %g s is at or past the end of %s (%.2f s long)", start, path, total);
        return AUDIO_ERR_RANGE;
    }
    if (sf_seek(sf, s0, SEEK_SET) != s0) {
        err_set("cannot read %s: seeking to %.2f s failed (%s)", path, (double)s0 / sr, sf_strerror(sf));
        sf_close(sf);
        return -1;
    }
    if (decode_at_rate(sf, &info, path, s1 - s0, target_sr, out, n)) return -1;
    long offset = s0 / L * (target_sr / g);          // output index of (*out)[0]
    return cut_window(out, n, offset, start, duration, target_sr, path, total);
}

int audio_write(const char *path, const float *x, long n, int sr, int float32) {
    const char *ext = path_ext(path);
    SF_INFO info = {0};
    int clip = 1;   // everything but float WAV: PCM would wrap around
    if (!strcasecmp(ext, "wav")) {
        info.format = SF_FORMAT_WAV | (float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
        clip = !float32;
    } else if (!strcasecmp(ext, "flac")) {
        info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    } else if (!strcasecmp(ext, "ogg") || !strcasecmp(ext, "oga")) {
        info.format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    } else {
        return err_set("cannot write %s: unknown extension '%s' (use .wav, .flac or .ogg)", path, ext);
    }
    if (n <= 0) return err_set("cannot write %s: no samples", path);
    if (sr <= 0) return err_set("cannot write %s: bad sample rate %d", path, sr);
    info.samplerate = sr;
    info.channels = 1;
    if (!sf_format_check(&info)) return err_set("cannot write %s: libsndfile refuses this format at %d Hz", path, sr);

    if (dir_exists_for(path)) return err_set("cannot write %s: %s", path, err_msg());
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) {
        char why[256];
        snprintf(why, sizeof why, "%s", sf_strerror(NULL));
        remove(path);   // libsndfile may have created it before failing
        return err_set("cannot write %s: %s", path, why);
    }
    if (info.format == (SF_FORMAT_OGG | SF_FORMAT_VORBIS)) {
        double q = 0.8;   // Vorbis quality 0..1; the io test's chord comes back at 41 dB SNR
        sf_command(sf, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q);
    }
    // Clip, chunk by chunk (non-finite samples are the caller's bug: audio_check_finite).
    float *buf = mallocCheck(sizeof(float) * READ_CHUNK);
    long done = 0;
    int bad = 0;
    while (done < n && !bad) {
        long m = n - done < READ_CHUNK ? n - done : READ_CHUNK;
        for (long i = 0; i < m; i++) {
            float v = x[done + i];
            if (isnan(v)) v = 0;
            if (clip) v = v > 1.0f ? 1.0f : (v < -1.0f ? -1.0f : v);
            buf[i] = v;
        }
        errno = 0;
        if (sf_writef_float(sf, buf, m) != m) bad = errno ? errno : EIO;
        done += m;
    }
    free(buf);
    // The system's reason when a write failed with one (EFBIG, EDQUOT, EROFS, ...):
    // libsndfile's own text for it was "Unspecified internal error." or "No error
    // defined for this error number" from its Vorbis writer under a full disk.
    char why[256];
    snprintf(why, sizeof why, "%s", bad == ENOSPC ? "disk full" : bad && bad != EIO ? strerror(bad) : sf_strerror(sf));
    errno = 0;
    if (sf_close(sf) != 0 && !bad) {
        bad = errno ? errno : EIO;
        snprintf(why, sizeof why, "closing the file failed (%s)", bad == ENOSPC ? "disk full" : strerror(bad));
    }
    if (bad) {
        remove(path);
        return err_set("cannot write %s: %s", path, why);
    }
    return 0;
}

// ---- analysis: peak, RMS, BS.1770-4 loudness --------------------------------------

typedef struct { double b0, b1, b2, a1, a2, z1, z2; } Biquad;   // transposed direct form II

static inline double biquad_run(Biquad *q, double x) {
    double y = q->b0 * x + q->z1;
    q->z1 = q->b1 * x - q->a1 * y + q->z2;
    q->z2 = q->b2 * x - q->a2 * y;
    return y;
}

// The two K-weighting stages of ITU-R BS.1770, redesigned for any rate from
// their analog prototypes (the bilinear-transform parameters libebur128 and
// pyloudnorm use). At 48 kHz they give the coefficients printed in the standard.
static void k_weighting(Biquad *shelf, Biquad *hp, int sr) {
    memset(shelf, 0, sizeof *shelf);
    memset(hp, 0, sizeof *hp);
    double f0 = 1681.974450955533, G = 3.999843853973347, Q = 0.7071752369554196;
    double K = tan(M_PI * f0 / sr);
    double Vh = pow(10.0, G / 20.0), Vb = pow(Vh, 0.4996667741545416);
    double a0 = 1.0 + K / Q + K * K;
    shelf->b0 = (Vh + Vb * K / Q + K * K) / a0;
    shelf->b1 = 2.0 * (K * K - Vh) / a0;
    shelf->b2 = (Vh - Vb * K / Q + K * K) / a0;
    shelf->a1 = 2.0 * (K * K - 1.0) / a0;
    shelf->a2 = (1.0 - K / Q + K * K) / a0;
    f0 = 38.13547087602444;
    Q = 0.5003270373238773;
    K = tan(M_PI * f0 / sr);
    a0 = 1.0 + K / Q + K * K;
    hp->b0 = 1.0;
    hp->b1 = -2.0;
    hp->b2 = 1.0;
    hp->a1 = 2.0 * (K * K - 1.0) / a0;
    hp->a2 = (1.0 - K / Q + K * K) / a0;
}

// Integrated loudness of x (mono) at sr: K-weighting, 400 ms blocks every
// 100 ms, absolute gate -70 LUFS, relative gate -10 LU. A clip shorter than
// one block is measured as one block of all it has (section descriptors need
// short sections too). -INFINITY when no block passes the gates (silence).
double loudness_lufs(const float *x, long n, int sr) {
    long step = lround(0.1 * sr);     // 100 ms
    if (n <= 0 || step <= 0) return -INFINITY;
    int whole = n < 4 * step;         // shorter than one 400 ms block
    long seglen = whole ? n : step;
    long nseg = n / seglen;           // complete segments; a tail under 100 ms is left out
    Biquad shelf, hp;
    k_weighting(&shelf, &hp, sr);
    double *seg = callocCheck(nseg, sizeof(double));   // (nseg) sum of squares per segment
    for (long s = 0; s < nseg; s++) {
        double acc = 0;
        for (long i = s * seglen; i < (s + 1) * seglen; i++) {
            double y = biquad_run(&hp, biquad_run(&shelf, x[i]));
            acc += y * y;
        }
        seg[s] = acc;
    }
    long nblk = whole ? 1 : nseg - 3;
    double *z = mallocCheck(sizeof(double) * nblk);    // (nblk) block mean squares
    if (whole) z[0] = seg[0] / n;
    for (long j = 0; !whole && j < nblk; j++)
        z[j] = (seg[j] + seg[j + 1] + seg[j + 2] + seg[j + 3]) / (4.0 * step);
    free(seg);
    double abs_gate = pow(10.0, (-70.0 + 0.691) / 10.0);   // mean square of -70 LUFS
    double sum = 0;
    long cnt = 0;
    for (long j = 0; j < nblk; j++)
        if (z[j] > abs_gate) { sum += z[j]; cnt++; }
    if (cnt == 0) { free(z); return -INFINITY; }
    double rel_gate = sum / cnt * pow(10.0, -10.0 / 10.0);  // -10 LU below the absolutely gated mean
    double gate = rel_gate > abs_gate ? rel_gate : abs_gate;
    sum = 0;
    cnt = 0;
    for (long j = 0; j < nblk; j++)
        if (z[j] > gate) { sum += z[j]; cnt++; }
    free(z);
    if (cnt == 0) return -INFINITY;
    return -0.691 + 10.0 * log10(sum / cnt);
}

int audio_info(const char *path, AudioInfo *ai) {
    memset(ai, 0, sizeof *ai);
    SF_INFO info;
    SNDFILE *sf = open_checked(path, &info);
    if (!sf) return -1;
    // "WAV (Signed 16 bit PCM)", "OGG (Opus)", ... from libsndfile's own names.
    SF_FORMAT_INFO major = {0}, sub = {0};
    major.format = info.format & SF_FORMAT_TYPEMASK;
    sub.format = info.format & SF_FORMAT_SUBMASK;
    const char *mext = "?", *sname = "?";
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.extension) mext = major.extension;
    if (!strcmp(mext, "oga")) mext = "ogg";   // libsndfile names Ogg's extension "oga"
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name) sname = sub.name;
    char up[16];
    size_t k = 0;
    for (; mext[k] && k < sizeof up - 1; k++) up[k] = (char)(mext[k] >= 'a' && mext[k] <= 'z' ? mext[k] - 32 : mext[k]);
    up[k] = 0;
    snprintf(ai->format, sizeof ai->format, "%s (%s)", up, sname);

    float *mono;
    long n;
    float peak;
    int rc = read_mono(sf, &info, path, 0, &mono, &n, &peak);
    sf_close(sf);
    if (rc) return -1;
    ai->sample_rate = info.samplerate;
    ai->channels = info.channels;
    ai->frames = n;
    ai->duration = (double)n / info.samplerate;
    ai->peak = peak;
    double ss = 0;
    for (long i = 0; i < n; i++) ss += (double)mono[i] * mono[i];
    ai->rms_dbfs = ss > 0 ? 10.0 * log10(ss / n) : -INFINITY;
    ai->loudness_lufs = loudness_lufs(mono, n, info.samplerate);
    free(mono);
    return 0;
}
