// test_audio_stft — STFT against a naive double-precision DFT of the
// reflect-padded signal, STFT and iSTFT against torch 1.13 (tests/data/
// stft_ref.bin from tests/make_mel_ref.py; the iSTFT of a spectrogram that is
// no signal's STFT pins down torch.istft's windowing and normalisation, which
// a round trip alone would not), and STFT -> iSTFT reconstruction of white noise, a
// music-like signal and a real recording (warzone2100-music, when fetched).
#include "audio/audio.h"
#include "tests/check.h"
#include "util/rng.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// Naive reference: torch.stft(center=True, pad_mode="reflect") written out.
static void naive_stft(double *re, double *im, const float *x, long n) {
    long T = 1 + n / HOP, P = n + N_FFT;
    double *pad = malloc(sizeof(double) * P);
    for (long i = 0; i < P; i++) {
        long k = i - N_FFT / 2;
        if (k < 0) k = -k;                  // reflect without repeating the edge
        if (k >= n) k = 2 * (n - 1) - k;
        pad[i] = x[k];
    }
    for (long t = 0; t < T; t++)
        for (int f = 0; f < N_BINS; f++) {
            double sr = 0, si = 0;
            for (int j = 0; j < N_FFT; j++) {
                double w = 0.5 - 0.5 * cos(2 * M_PI * j / N_FFT);
                double a = -2 * M_PI * (double)f * j / N_FFT;
                sr += pad[t * HOP + j] * w * cos(a);
                si += pad[t * HOP + j] * w * sin(a);
            }
            re[t * N_BINS + f] = sr;
            im[t * N_BINS + f] = si;
        }
    free(pad);
}

static double rel_err(const float *a, const float *b, long n) {
    double num = 0, den = 0;
    for (long i = 0; i < n; i++) {
        num += (double)(a[i] - b[i]) * (a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
}

static void test_vs_naive(Stft *s, Rng *rng) {
    long n = 3000;   // not a multiple of HOP: the last frame reaches into the right padding
    float *x = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) x[i] = rng_normal(rng) * 0.3f + 0.2f * sinf(0.05f * i);
    long T = stft_frames(n);
    CHECK(T == 12, "stft_frames(3000) = %ld", T);
    float *re = malloc(sizeof(float) * T * N_BINS), *im = malloc(sizeof(float) * T * N_BINS);
    float *mag = malloc(sizeof(float) * T * N_BINS);
    double *rr = malloc(sizeof(double) * T * N_BINS), *ri = malloc(sizeof(double) * T * N_BINS);
    stft_forward(s, re, im, x, n);
    stft_magnitude(s, mag, x, n);
    naive_stft(rr, ri, x, n);
    double m = 0, scale = 0, mm = 0;
    for (long i = 0; i < T * N_BINS; i++) {
        m = fmax(m, fmax(fabs(re[i] - rr[i]), fabs(im[i] - ri[i])));
        mm = fmax(mm, fabs(mag[i] - hypot(rr[i], ri[i])));
        scale = fmax(scale, hypot(rr[i], ri[i]));
    }
    printf("  naive DFT: max |X| %.3g\n", scale);
    CHECK(m < 2e-6 * scale, "stft_forward vs naive DFT: max diff %.3g (tol %.3g)", m, 2e-6 * scale);
    CHECK(mm < 2e-6 * scale, "stft_magnitude vs naive |DFT|: max diff %.3g (tol %.3g)", mm, 2e-6 * scale);
    free(x); free(re); free(im); free(mag); free(rr); free(ri);
}

static void test_vs_torch(Stft *s) {
    FILE *f = fopen("tests/data/stft_ref.bin", "rb");
    char magic[8];
    int h[4];
    if (!f || fread(magic, 1, 8, f) != 8 || memcmp(magic, "STFTREF1", 8) || fread(h, 4, 4, f) != 4) {
        CHECK(0, "read tests/data/stft_ref.bin (run tests/make_mel_ref.py)");
        if (f) fclose(f);
        return;
    }
    long n = h[0], T = h[1], F = h[2], nl = h[3];
    CHECK(F == N_BINS && T == stft_frames(n), "reference shape: n %ld, T %ld, F %ld", n, T, F);
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * nl);
    float *a[4];
    for (int k = 0; k < 4; k++) a[k] = malloc(sizeof(float) * T * F);
    int ok = fread(x, 4, n, f) == (size_t)n;
    for (int k = 0; k < 4; k++) ok &= fread(a[k], 4, T * F, f) == (size_t)(T * F);
    ok &= fread(y, 4, nl, f) == (size_t)nl;
    fclose(f);
    CHECK(ok, "stft_ref.bin complete");
    if (ok && F == N_BINS) {
        float *re = malloc(sizeof(float) * T * F), *im = malloc(sizeof(float) * T * F);
        stft_forward(s, re, im, x, n);
        double m = 0;
        for (long i = 0; i < T * F; i++) m = fmax(m, hypot(a[0][i], a[1][i]));
        check_max_diff("stft real part vs torch.stft", re, a[0], T * F, 2e-6 * m);
        check_max_diff("stft imaginary part vs torch.stft", im, a[1], T * F, 2e-6 * m);
        float *z = malloc(sizeof(float) * nl);
        stft_inverse(s, z, nl, a[2], a[3], T);
        // Where the summed squared window is tiny (the last samples the frames
        // hold: down to w[1023]^2 ~ 1e-10) both torch and we divide float
        // rounding noise by it, so there the comparison is relative and looser.
        long avail = HOP * (T - 1) + N_FFT / 2;
        double ym = 0, dw = 0, dt = 0, tail = 0;   // ym: largest |y| where the window sum >= 0.01
        long nweak = 0;
        for (long i = 0; i < nl; i++) {
            long p = i + N_FFT / 2;
            double env = 0;
            for (long t = 0; t < T; t++)
                if (p - t * HOP >= 0 && p - t * HOP < N_FFT) {
                    double w = 0.5 - 0.5 * cos(2 * M_PI * (p - t * HOP) / N_FFT);
                    env += w * w;
                }
            double d = fabs((double)z[i] - y[i]);
            if (i >= avail) tail = fmax(tail, fabs(z[i]) + fabs(y[i]));
            else if (env >= 1e-2) { dw = fmax(dw, d); ym = fmax(ym, fabs(y[i])); }
            else { dt = fmax(dt, d / fabs(y[i])); nweak++; }
        }
        CHECK(dw <= 1e-5 * ym, "istft of an inconsistent spectrogram vs torch.istft: max diff %.3g (tol %.3g)", dw, 1e-5 * ym);
        CHECK(nweak < HOP / 2 && dt < 2e-3, "the %ld samples with summed window^2 < 0.01 agree to relative %.3g (tol 2e-3)", nweak, dt);
        CHECK(tail == 0, "length past the frames: zeros, like torch.istft");
        free(re); free(im); free(z);
    }
    free(x); free(y);
    for (int k = 0; k < 4; k++) free(a[k]);
}

static void roundtrip(Stft *s, const char *what, const float *x, long n) {
    long T = stft_frames(n);
    float *re = malloc(sizeof(float) * T * N_BINS), *im = malloc(sizeof(float) * T * N_BINS);
    float *y = malloc(sizeof(float) * (n + 1000));
    stft_forward(s, re, im, x, n);
    for (long i = 0; i < n + 1000; i++) y[i] = 12345.0f;
    stft_inverse(s, y, n, re, im, T);
    double e = rel_err(y, x, n);
    CHECK(e < 1e-5, "%s: STFT->iSTFT relative error %.3g < 1e-5 (n %ld, T %ld)", what, e, n, T);
    CHECK(y[n] == 12345.0f, "%s: iSTFT writes exactly n samples", what);
    // Asking for more than the frames hold pads with zeros (torch.istft length=).
    stft_inverse(s, y, n + 1000, re, im, T);
    long avail = HOP * (T - 1) + N_FFT / 2;
    double tail = 0;
    for (long i = avail; i < n + 1000; i++) tail = fmax(tail, fabs(y[i]));
    CHECK(tail == 0 && rel_err(y, x, n) < 1e-5, "%s: samples past the last frame are zero", what);
    free(re); free(im); free(y);
}

int main(void) {
    Rng rng;
    rng_seed(&rng, RNG_DEFAULT_SEED);
    Stft *s = stft_create();
    CHECK(s != NULL, "stft_create");
    test_vs_naive(s, &rng);
    test_vs_torch(s);

    long n = 5 * SAMPLE_RATE + 123;
    float *x = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) x[i] = 0.5f * rng_normal(&rng);
    roundtrip(s, "white noise 5 s", x, n);

    // music-like: notes with attack/decay envelopes, each with harmonics
    memset(x, 0, sizeof(float) * n);
    const double notes[] = {261.63, 329.63, 392.0, 523.25, 196.0, 440.0};
    for (int k = 0; k < 10; k++) {
        long on = k * n / 10, len = n / 4;
        double f0 = notes[k % 6];
        for (long i = 0; i < len && on + i < n; i++) {
            double t = (double)i / SAMPLE_RATE;
            double env = fmin(1.0, t / 0.01) * exp(-3.0 * t);
            for (int h = 1; h <= 8; h++) x[on + i] += (float)(0.1 / h * env * sin(2 * M_PI * f0 * h * t));
        }
    }
    roundtrip(s, "harmonic notes 5 s", x, n);
    roundtrip(s, "short signal 700 samples", x + SAMPLE_RATE, 700);
    // Shorter than the padding (torch refuses): reflection repeats, still invertible.
    roundtrip(s, "tiny signal 300 samples", x + SAMPLE_RATE, 300);
    roundtrip(s, "one sample", x + SAMPLE_RATE + 100, 1);

    const char *song = ".cache/pkg/warzone2100-music/usr/share/games/warzone2100/music/menu.opus";
    float *real;
    long nr;
    if (audio_read(song, SAMPLE_RATE, &real, &nr) == 0) {
        long off = nr > 40 * SAMPLE_RATE ? 30 * SAMPLE_RATE : 0;
        long len = nr - off < 10 * SAMPLE_RATE ? nr - off : 10 * SAMPLE_RATE;
        roundtrip(s, "warzone2100 menu.opus, 10 s excerpt", real + off, len);
        free(real);
    } else {
        CHECK(0, "read real music (%s): run scripts/fetch-music.sh", err_msg());
    }

    // Thread safety: two Stft objects made and used from parallel threads agree.
    float *re1 = malloc(sizeof(float) * stft_frames(n) * N_BINS);
    float *im1 = malloc(sizeof(float) * stft_frames(n) * N_BINS);
    stft_forward(s, re1, im1, x, n);
    int bad = 0;
#pragma omp parallel for num_threads(2) reduction(+ : bad)
    for (int k = 0; k < 4; k++) {
        Stft *s2 = stft_create();
        float *m2 = malloc(sizeof(float) * stft_frames(n) * N_BINS);
        stft_magnitude(s2, m2, x, n);
        for (long i = 0; i < stft_frames(n) * N_BINS; i++)
            if (fabsf(m2[i] - hypotf(re1[i], im1[i])) > 1e-5f) bad++;
        free(m2);
        stft_free(s2);
    }
    CHECK(bad == 0, "Stft created and run in parallel threads agrees (%d mismatches)", bad);
#ifdef _OPENMP
    {   // the same bits at 1 and 2 threads, forward and inverse
        long T = stft_frames(n);
        float *re2 = malloc(sizeof(float) * T * N_BINS), *im2 = malloc(sizeof(float) * T * N_BINS);
        float *y1 = malloc(sizeof(float) * n), *y2 = malloc(sizeof(float) * n);
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        stft_forward(s, re1, im1, x, n);
        stft_inverse(s, y1, n, re1, im1, T);
        omp_set_num_threads(2);
        stft_forward(s, re2, im2, x, n);
        stft_inverse(s, y2, n, re1, im1, T);
        omp_set_num_threads(saved);
        CHECK(!memcmp(re1, re2, sizeof(float) * T * N_BINS) && !memcmp(im1, im2, sizeof(float) * T * N_BINS),
              "stft_forward bit-identical at 1 and 2 threads");
        CHECK(!memcmp(y1, y2, sizeof(float) * n), "stft_inverse bit-identical at 1 and 2 threads");
        free(re2); free(im2); free(y1); free(y2);
    }
#endif
    free(re1); free(im1);
    free(x);
    stft_free(s);
    return check_summary("test_audio_stft");
}
