// test_audio_mel — the Slaney filterbank and the log-mel front-end against
// torchaudio 0.13 (tests/data/mel_ref.bin, written by tests/make_mel_ref.py),
// and mel_to_mag against the clamped pseudo-inverse it replaces.
#include "audio/audio.h"
#include "tests/check.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int n, T, M, F;
    float *x, *fb, *mel, *logmel;
} MelRef;

static int read_ref(MelRef *r, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { printf("cannot open %s (run tests/make_mel_ref.py)\n", path); return -1; }
    char magic[8];
    int hdr[4];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "MELREF1", 8) != 0 || fread(hdr, 4, 4, f) != 4) {
        printf("%s: not a MELREF1 file\n", path);
        fclose(f);
        return -1;
    }
    r->n = hdr[0]; r->T = hdr[1]; r->M = hdr[2]; r->F = hdr[3];
    long sizes[4] = {r->n, (long)r->M * r->F, (long)r->T * r->M, (long)r->T * r->M};
    float **dst[4] = {&r->x, &r->fb, &r->mel, &r->logmel};
    for (int i = 0; i < 4; i++) {
        *dst[i] = malloc(sizeof(float) * sizes[i]);
        if (fread(*dst[i], sizeof(float), sizes[i], f) != (size_t)sizes[i]) {
            printf("%s: truncated\n", path);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static double max_abs(const float *a, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

// ---- filterbank and front-end vs torchaudio --------------------------------------
static void test_vs_torchaudio(const MelRef *r) {
    CHECK(r->M == N_MELS && r->F == N_BINS, "reference shape (M %d, F %d)", r->M, r->F);
    CHECK(r->T == stft_frames(r->n), "T = 1 + n/HOP (%d frames for %d samples)", r->T, r->n);
    float *fb = malloc(sizeof(float) * N_MELS * N_BINS);
    mel_filterbank(fb);
    // torchaudio computes in float32; entries are <= ~0.025, so 1e-7 is a few ulps of the largest.
    printf("  fb max %.4g\n", max_abs(r->fb, (long)N_MELS * N_BINS));
    check_max_diff("filterbank vs torchaudio melscale_fbanks", fb, r->fb, (long)N_MELS * N_BINS, 2e-7);
    check_max_diff("mel_fb() equals mel_filterbank()", mel_fb(), fb, (long)N_MELS * N_BINS, 0);
    free(fb);

    float *logmel;
    long T;
    CHECK(logmel_from_audio(&logmel, &T, r->x, r->n) == 0, "logmel_from_audio runs");
    CHECK(T == r->T, "frames %ld == %d", T, r->T);
    // mel magnitude: relative to the largest value (float32 FFT rounding, different FFT libraries)
    float *mel = malloc(sizeof(float) * T * N_MELS);
    for (long i = 0; i < T * N_MELS; i++) mel[i] = expf(logmel[i]);
    double mmax = max_abs(r->mel, T * N_MELS);
    double worst = 0;
    for (long i = 0; i < T * N_MELS; i++)
        if (r->mel[i] > 1e-4f) worst = fmax(worst, fabs(mel[i] - r->mel[i]) / r->mel[i]);
    printf("  mel max %.4g; worst relative diff on values > 1e-4: %.3g\n", mmax, worst);
    check_max_diff("mel (power 1) vs MelSpectrogram, abs", mel, r->mel, T * N_MELS, 2e-6 * mmax);
    CHECK(worst < 1e-4, "mel relative diff where mel > 1e-4: %.3g < 1e-4", worst);
    // log-mel: absolute in log units; the floor region agrees exactly
    check_max_diff("log-mel vs log(clamp(MelSpectrogram, 1e-5))", logmel, r->logmel, T * N_MELS, 1e-3);
    free(mel);
    free(logmel);
}

// ---- mel_to_mag vs the clamped pseudo-inverse -------------------------------------
// Pseudo-inverse of fb (M, F), full row rank: pinv = fb^T (fb fb^T)^-1, computed
// in double by Gauss-Jordan on the M x M Gram matrix.
static void clamped_pinv(float *mag, const float *mel, long T) {
    const float *fb = mel_fb();
    double *G = calloc((size_t)N_MELS * 2 * N_MELS, sizeof(double));   // [G | I]
    for (int a = 0; a < N_MELS; a++) {
        for (int b = 0; b < N_MELS; b++) {
            double s = 0;
            for (int f = 0; f < N_BINS; f++) s += (double)fb[a * N_BINS + f] * fb[b * N_BINS + f];
            G[a * 2 * N_MELS + b] = s;
        }
        G[a * 2 * N_MELS + N_MELS + a] = 1;
    }
    for (int c = 0; c < N_MELS; c++) {   // Gauss-Jordan with partial pivoting
        int p = c;
        for (int a = c + 1; a < N_MELS; a++) if (fabs(G[a * 2 * N_MELS + c]) > fabs(G[p * 2 * N_MELS + c])) p = a;
        for (int k = 0; k < 2 * N_MELS; k++) { double t = G[c * 2 * N_MELS + k]; G[c * 2 * N_MELS + k] = G[p * 2 * N_MELS + k]; G[p * 2 * N_MELS + k] = t; }
        double d = G[c * 2 * N_MELS + c];
        for (int k = 0; k < 2 * N_MELS; k++) G[c * 2 * N_MELS + k] /= d;
        for (int a = 0; a < N_MELS; a++) {
            if (a == c) continue;
            double s = G[a * 2 * N_MELS + c];
            for (int k = 0; k < 2 * N_MELS; k++) G[a * 2 * N_MELS + k] -= s * G[c * 2 * N_MELS + k];
        }
    }
    for (long t = 0; t < T; t++) {
        double u[N_MELS];   // (fb fb^T)^-1 mel_t
        for (int a = 0; a < N_MELS; a++) {
            double s = 0;
            for (int b = 0; b < N_MELS; b++) s += G[a * 2 * N_MELS + N_MELS + b] * mel[t * N_MELS + b];
            u[a] = s;
        }
        for (int f = 0; f < N_BINS; f++) {
            double s = 0;
            for (int a = 0; a < N_MELS; a++) s += fb[a * N_BINS + f] * u[a];
            mag[t * N_BINS + f] = s > 0 ? (float)s : 0.0f;
        }
    }
    free(G);
}

// mean |log(max(fb mag, floor)) - log(max(mel, floor))| over frames and bands
static double logmel_error(const float *mag, const float *mel, long T) {
    float *re = malloc(sizeof(float) * T * N_MELS);
    mel_from_mag(re, mag, T);
    double s = 0;
    for (long i = 0; i < T * N_MELS; i++) {
        double a = log(fmax(re[i], LOG_FLOOR)), b = log(fmax(mel[i], LOG_FLOOR));
        s += fabs(a - b);
    }
    free(re);
    return s / (T * N_MELS);
}

// ||mag - true||_F / ||true||_F
static double spectral_error(const float *mag, const float *truth, long n) {
    double num = 0, den = 0;
    for (long i = 0; i < n; i++) {
        num += (double)(mag[i] - truth[i]) * (mag[i] - truth[i]);
        den += (double)truth[i] * truth[i];
    }
    return sqrt(num / den);
}

static void test_mel_to_mag(const MelRef *r) {
    long T = stft_frames(r->n);
    Stft *s = stft_create();
    float *truth = malloc(sizeof(float) * T * N_BINS);
    float *mel = malloc(sizeof(float) * T * N_MELS);
    float *a = malloc(sizeof(float) * T * N_BINS);
    float *b = malloc(sizeof(float) * T * N_BINS);
    stft_magnitude(s, truth, r->x, r->n);
    mel_from_mag(mel, truth, T);

    clamped_pinv(a, mel, T);
    double e_pinv = logmel_error(a, mel, T), s_pinv = spectral_error(a, truth, T * N_BINS);
    mel_to_mag(b, mel, T, 0);
    double e_warm = logmel_error(b, mel, T), s_warm = spectral_error(b, truth, T * N_BINS);
    double minv = 1;
    for (long i = 0; i < T * N_BINS; i++) minv = fmin(minv, b[i]);
    CHECK(minv >= 0, "warm start is non-negative (min %.3g)", minv);
    mel_to_mag(b, mel, T, 100);
    double e_nnls = logmel_error(b, mel, T), s_nnls = spectral_error(b, truth, T * N_BINS);
    minv = 1;
    for (long i = 0; i < T * N_BINS; i++) minv = fmin(minv, b[i]);
    printf("  re-analysed log-mel error (mean |diff|, nats): clamped pinv %.4f, warm start %.4f, NNLS-100 %.2e\n",
           e_pinv, e_warm, e_nnls);
    printf("  spectral error vs true |STFT|: clamped pinv %.4f, warm start %.4f, NNLS-100 %.2e\n",
           s_pinv, s_warm, s_nnls);
    CHECK(minv >= 0, "mel_to_mag is non-negative (min %.3g)", minv);
    CHECK(e_nnls < 0.5 * e_pinv, "NNLS log-mel error %.4f < half the clamped pinv's %.4f", e_nnls, e_pinv);
    CHECK(e_nnls < e_warm, "iterations improve on the warm start (%.4f < %.4f)", e_nnls, e_warm);
    CHECK(s_nnls < s_pinv, "NNLS spectral error %.4f < clamped pinv's %.4f", s_nnls, s_pinv);

    // A flat spectrum is recovered exactly by the warm start (bins that some band sees).
    for (long i = 0; i < 4 * N_BINS; i++) truth[i] = 0.25f;
    mel_from_mag(mel, truth, 4);
    mel_to_mag(b, mel, 4, 0);
    double worst = 0;
    for (int f = 1; f < N_BINS - 1; f++) worst = fmax(worst, fabs(b[f] - 0.25));
    CHECK(worst < 1e-5, "flat spectrum recovered by the warm start (max diff %.3g)", worst);
    free(truth); free(mel); free(a); free(b);
    stft_free(s);
}

int main(void) {
    MelRef r;
    if (read_ref(&r, "tests/data/mel_ref.bin") != 0) {
        CHECK(0, "read tests/data/mel_ref.bin");
        return check_summary("test_audio_mel");
    }
    test_vs_torchaudio(&r);
    test_mel_to_mag(&r);
    free(r.x); free(r.fb); free(r.mel); free(r.logmel);
    return check_summary("test_audio_mel");
}
