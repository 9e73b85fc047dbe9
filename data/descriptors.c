// descriptors.c — per-section descriptors computed from audio: loudness
// (ITU-R BS.1770 loudness from audio/io.c, plus plain RMS), brightness (mean
// spectral centroid) and onset density (spectral-flux peaks per second).
// Also the chunked STFT walker that analyze.c shares. It owns no
// segmentation (analyze.c) and no file decoding (audio/io.c).
//
// Legend: n samples, T STFT frames (HOP apart), F = N_BINS bins.
#include "data/analyze.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "util/util.h"

// ---- chunked STFT ----------------------------------------------------------------
// Calls fn(ctx, t, mag) for every centred STFT frame t of x (T = 1 + n/HOP),
// in order, holding at most CHUNK frames of magnitude at once. A frame's
// samples come from a slice of x padded exactly as the whole-signal STFT would
// be (frames at least 2 hops from a slice's cut edge are taken), so the result
// equals stft_magnitude(x) frame for frame.
#define CHUNK 2048
int stft_walk(const float *x, long n, void (*fn)(void *ctx, long t, const float *mag), void *ctx) {
    if (n <= N_FFT / 2) return err_set("audio too short for analysis (%ld samples, need > %d)", n, N_FFT / 2);
    Stft *s = stft_create();
    if (!s) return -1;
    long T = stft_frames(n);
    float *mag = mallocCheck(sizeof(float) * (CHUNK + 4) * N_BINS);  // (CHUNK+4, F)
    const long margin = N_FFT / 2 / HOP;                                // 2 frames
    for (long t0 = 0; t0 < T; t0 += CHUNK) {
        long t1 = t0 + CHUNK < T ? t0 + CHUNK : T;
        long first = t0 == 0 ? 0 : t0 - margin;      // slice starts at first*HOP
        long s0 = first * HOP;
        long s1 = (t1 - 1) * HOP + N_FFT / 2;        // exclusive end of the last window
        if (s1 > n || t1 == T) s1 = n;
        if (s1 - s0 <= N_FFT / 2) {                  // a slice too short to reflect: take more before
            first = first > 4 ? first - 4 : 0;
            s0 = first * HOP;
        }
        long ns = s1 - s0;
        long Ts = stft_frames(ns);
        stft_magnitude(s, mag, x + s0, ns);
        for (long t = t0; t < t1; t++) {
            long k = t - first;
            if (k >= Ts) break;
            fn(ctx, t, mag + k * N_BINS);
        }
    }
    free(mag);
    stft_free(s);
    return 0;
}

// ---- spectral centroid and onsets ----------------------------------------------
typedef struct {
    long T;
    float *energy;    // (T) frame energy sum mag^2
    float *centroid;  // (T) Hz
    float *flux;      // (T) log-magnitude spectral flux
    float *prev;      // (F) previous frame's log magnitude
} SpecCtx;

static void spec_frame(void *vctx, long t, const float *mag) {
    SpecCtx *c = vctx;
    double e = 0, num = 0, den = 0, fl = 0;
    for (int f = 0; f < N_BINS; f++) {
        double m = mag[f];
        e += m * m;
        num += m * f;
        den += m;
        float lm = logf(1.0f + 10.0f * mag[f]);        // compressed magnitude
        if (t > 0 && lm > c->prev[f]) fl += lm - c->prev[f];
        c->prev[f] = lm;
    }
    c->energy[t] = (float)e;
    c->centroid[t] = den > 0 ? (float)(num / den * SAMPLE_RATE / N_FFT) : 0.0f;
    c->flux[t] = (float)(fl / N_BINS);
}

// Onset frames: peaks of the flux that are the largest within +-3 frames
// (35 ms), exceed the local mean over -10..+5 frames by delta (a fraction of the
// section's largest flux) and by half of itself, are at least 3 frames after
// the previous onset, and
// come from frames above an absolute energy floor (so noise in silence is no onset).
static int count_onsets(const float *flux, const float *energy, long T) {
    float fmax = 0, emax = 0;
    for (long t = 0; t < T; t++) {
        if (flux[t] > fmax) fmax = flux[t];
        if (energy[t] > emax) emax = energy[t];
    }
    if (fmax <= 1e-4f) return 0;
    const float delta = 0.07f * fmax;
    const float efloor = emax * 1e-5f;      // 50 dB below the loudest frame
    int count = 0;
    long last = -1000;
    for (long t = 1; t < T; t++) {
        float v = flux[t];
        int is_max = 1;
        for (long k = t - 3; k <= t + 3 && is_max; k++)
            if (k >= 0 && k < T && k != t && (flux[k] > v || (flux[k] == v && k < t))) is_max = 0;
        if (!is_max) continue;
        double avg = 0; int m = 0;
        for (long k = t - 10; k <= t + 5; k++) if (k >= 0 && k < T) { avg += flux[k]; m++; }
        avg /= m;
        if (v < avg + delta || v < 1.5 * avg) continue;   // and half again the local mean: steady noise has no onsets
        if (energy[t] < efloor && (t + 1 >= T || energy[t + 1] < efloor)) continue;
        if (t - last < 3) continue;
        count++;
        last = t;
    }
    return count;
}

int section_descriptors(SectionDescriptors *d, const float *x, long n, double start, double end) {
    long a = (long)floor(start * SAMPLE_RATE), b = (long)ceil(end * SAMPLE_RATE);
    if (a < 0) a = 0;
    if (b > n) b = n;
    if (b - a < (long)(0.1 * SAMPLE_RATE))
        return err_set("section %.2f-%.2f s is shorter than 0.1 s (audio is %.2f s)", start, end,
                       (double)n / SAMPLE_RATE);
    const float *xs = x + a;
    long ns = b - a;
    memset(d, 0, sizeof *d);

    double ss = 0;
    for (long i = 0; i < ns; i++) ss += (double)xs[i] * xs[i];
    d->rms_db = ss > 0 ? (float)(10.0 * log10(ss / ns)) : -120.0f;
    if (d->rms_db < -120.0f) d->rms_db = -120.0f;
    double lufs = loudness_lufs(xs, ns, SAMPLE_RATE);   // audio/io.c, BS.1770-4
    d->loudness_lufs = isfinite(lufs) ? (float)lufs : -70.0f;   // -70 when gated out

    SpecCtx c;
    c.T = stft_frames(ns);
    c.energy = callocCheck(c.T, sizeof(float));
    c.centroid = callocCheck(c.T, sizeof(float));
    c.flux = callocCheck(c.T, sizeof(float));
    c.prev = callocCheck(N_BINS, sizeof(float));
    if (stft_walk(xs, ns, spec_frame, &c)) {
        free(c.energy); free(c.centroid); free(c.flux); free(c.prev);
        return -1;
    }
    // brightness: mean centroid over frames within 40 dB of the loudest
    float emax = 0;
    for (long t = 0; t < c.T; t++) if (c.energy[t] > emax) emax = c.energy[t];
    double sum = 0; long cnt = 0;
    for (long t = 0; t < c.T; t++)
        if (emax > 0 && c.energy[t] >= emax * 1e-4f) { sum += c.centroid[t]; cnt++; }
    d->brightness_hz = cnt ? (float)(sum / cnt) : 0.0f;
    d->onset_density = (float)(count_onsets(c.flux, c.energy, c.T) / ((double)ns / SAMPLE_RATE));
    free(c.energy); free(c.centroid); free(c.flux); free(c.prev);
    return 0;
}
