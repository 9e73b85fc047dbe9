// test_audio_mel — the Slaney filterbank and the log-mel front-end against
// torchaudio 0.13 (tests/data/mel_ref.bin, written by tests/make_mel_ref.py),
// and mel_to_mag against the clamped pseudo-inverse it replaces.
#include "audio/audio.h"
#include "tests/check.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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
    check_max_diff("log-mel vs log(clamp(MelSpectrogram, 1e-5))", logmel, r->logmel, T * N_MELS, 1e-4);
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

// Naive reference for mel_to_mag: the same warm start and FISTA iterations
// written densely in double precision over all M x F filterbank entries.
static void naive_mel_to_mag(double *mag, const float *mel, long T, int iters) {
    const float *fb = mel_fb();
    double G[N_MELS][N_MELS], v[N_MELS], L = 0;
    for (int a = 0; a < N_MELS; a++)
        for (int b = 0; b < N_MELS; b++) {
            double s = 0;
            for (int f = 0; f < N_BINS; f++) s += (double)fb[a * N_BINS + f] * fb[b * N_BINS + f];
            G[a][b] = s;
        }
    for (int a = 0; a < N_MELS; a++) v[a] = 1;
    for (int it = 0; it < 500; it++) {   // power iteration for L
        double w[N_MELS], nrm = 0;
        for (int a = 0; a < N_MELS; a++) {
            w[a] = 0;
            for (int b = 0; b < N_MELS; b++) w[a] += G[a][b] * v[b];
            nrm += w[a] * w[a];
        }
        nrm = sqrt(nrm);
        double vn = 0;
        for (int a = 0; a < N_MELS; a++) vn += v[a] * v[a];
        L = nrm / sqrt(vn);
        for (int a = 0; a < N_MELS; a++) v[a] = w[a] / nrm;
    }
    L *= 1.01;
    double *x = malloc(sizeof(double) * N_BINS), *y = malloc(sizeof(double) * N_BINS);
    for (long t = 0; t < T; t++) {
        const float *mt = mel + t * N_MELS;
        for (int f = 0; f < N_BINS; f++) {
            double num = 0, col = 0;
            for (int m = 0; m < N_MELS; m++) {
                double rs = 0;
                for (int k = 0; k < N_BINS; k++) rs += fb[m * N_BINS + k];
                num += fmax(mt[m], 0) / rs * fb[m * N_BINS + f];
                col += fb[m * N_BINS + f];
            }
            x[f] = y[f] = col > 1e-12 ? num / col : 0;
        }
        double tk = 1;
        for (int it = 0; it < iters; it++) {
            double r[N_MELS];
            for (int m = 0; m < N_MELS; m++) {
                double s = 0;
                for (int f = 0; f < N_BINS; f++) s += fb[m * N_BINS + f] * y[f];
                r[m] = s - fmax(mt[m], 0);
            }
            double tn = 0.5 * (1 + sqrt(1 + 4 * tk * tk)), beta = (tk - 1) / tn;
            tk = tn;
            for (int f = 0; f < N_BINS; f++) {
                double g = 0;
                for (int m = 0; m < N_MELS; m++) g += r[m] * fb[m * N_BINS + f];
                double xn = fmax(y[f] - g / L, 0);
                y[f] = xn + beta * (xn - x[f]);
                x[f] = xn;
            }
        }
        memcpy(mag + t * N_BINS, x, sizeof(double) * N_BINS);
    }
    free(x);
    free(y);
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

    // the banded, threaded kernel against the naive dense one, on 6 frames
    {
        long t0 = T / 2, nt = 6;
        double *ref = malloc(sizeof(double) * nt * N_BINS);
        naive_mel_to_mag(ref, mel + t0 * N_MELS, nt, 20);
        mel_to_mag(a, mel + t0 * N_MELS, nt, 20);
        double m = 0, d = 0;
        for (long i = 0; i < nt * N_BINS; i++) { m = fmax(m, fabs(ref[i])); d = fmax(d, fabs(a[i] - ref[i])); }
        CHECK(d < 1e-5 * m, "mel_to_mag (20 iters) vs naive dense double FISTA: max diff %.3g (tol %.3g)", d, 1e-5 * m);
        free(ref);
    }
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
    printf("  spectral error vs true |STFT|: clamped pinv %.4f, warm start %.4f, NNLS-100 %.4f\n",
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

// The same comparison on 20 s of a real recording, and how the error falls
// with the iteration count (printed: the vocoder picks its count from it).
static void test_mel_to_mag_music(void) {
    const char *song = ".cache/pkg/warzone2100-music/usr/share/games/warzone2100/music/menu.opus";
    float *x;
    long n;
    if (audio_read(song, SAMPLE_RATE, &x, &n) != 0) {
        CHECK(0, "real music: %s (run scripts/fetch-music.sh)", err_msg());
        return;
    }
    long off = n > 60L * SAMPLE_RATE ? 40L * SAMPLE_RATE : 0, len = 20L * SAMPLE_RATE;
    if (off + len > n) len = n - off;
    long T = stft_frames(len);
    Stft *s = stft_create();
    float *truth = malloc(sizeof(float) * T * N_BINS), *mel = malloc(sizeof(float) * T * N_MELS);
    float *a = malloc(sizeof(float) * T * N_BINS);
    stft_magnitude(s, truth, x + off, len);
    mel_from_mag(mel, truth, T);
    clamped_pinv(a, mel, T);
    double e_pinv = logmel_error(a, mel, T), s_pinv = spectral_error(a, truth, T * N_BINS);
    printf("  20 s of %s: clamped pinv: log-mel %.4f nats, spectral %.4f\n", song, e_pinv, s_pinv);
    const int its[] = {0, 8, 16, 32, 64};
    double e[5], sp[5];
    for (int k = 0; k < 5; k++) {
        mel_to_mag(a, mel, T, its[k]);
        e[k] = logmel_error(a, mel, T);
        sp[k] = spectral_error(a, truth, T * N_BINS);
        printf("  NNLS %2d iterations: log-mel %.4f nats, spectral %.4f\n", its[k], e[k], sp[k]);
    }
    CHECK(e[3] < 0.5 * e_pinv && sp[3] < s_pinv, "real music: NNLS-32 beats the clamped pinv (log-mel %.4f < %.4f, spectral %.4f < %.4f)",
          e[3], e_pinv, sp[3], s_pinv);
    CHECK(e[4] < e[2] && e[2] < e[0], "real music: log-mel error falls with iterations");
    free(truth); free(mel); free(a); free(x);
    stft_free(s);
}

// Features must not depend on the core count: the same bits at 1 and 2 threads.
static void test_thread_independence(const MelRef *r) {
#ifdef _OPENMP
    float *a, *b;
    long Ta, Tb;
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    int ok = logmel_from_audio(&a, &Ta, r->x, r->n) == 0;
    omp_set_num_threads(2);
    ok &= logmel_from_audio(&b, &Tb, r->x, r->n) == 0;
    CHECK(ok && Ta == Tb && memcmp(a, b, sizeof(float) * Ta * N_MELS) == 0, "log-mel bit-identical at 1 and 2 threads");
    float *m1 = malloc(sizeof(float) * Ta * N_BINS), *m2 = malloc(sizeof(float) * Ta * N_BINS);
    for (long i = 0; i < Ta * N_MELS; i++) a[i] = expf(a[i]);
    omp_set_num_threads(1);
    mel_to_mag(m1, a, Ta, 16);
    omp_set_num_threads(2);
    mel_to_mag(m2, a, Ta, 16);
    CHECK(memcmp(m1, m2, sizeof(float) * Ta * N_BINS) == 0, "mel_to_mag bit-identical at 1 and 2 threads");
    omp_set_num_threads(saved);
    free(a); free(b); free(m1); free(m2);
#else
    printf("  (built without OpenMP: thread independence not tested)\n");
#endif
}

int main(void) {
    MelRef r;
    if (read_ref(&r, "tests/data/mel_ref.bin") != 0) {
        CHECK(0, "read tests/data/mel_ref.bin");
        return check_summary("test_audio_mel");
    }
    test_vs_torchaudio(&r);
    test_mel_to_mag(&r);
    test_thread_independence(&r);
    test_mel_to_mag_music();
    free(r.x); free(r.fb); free(r.mel); free(r.logmel);
    return check_summary("test_audio_mel");
}
