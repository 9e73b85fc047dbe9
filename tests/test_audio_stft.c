// test_audio_stft — STFT against a naive double-precision DFT of the
// reflect-padded signal, and STFT -> iSTFT reconstruction of white noise, a
// music-like signal and a real recording (warzone2100-music, when fetched).
#include "audio/audio.h"
#include "tests/check.h"
#include "util/rng.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

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
    free(re1); free(im1);
    free(x);
    stft_free(s);
    return check_summary("test_audio_stft");
}
