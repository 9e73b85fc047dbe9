// stft.c — short-time Fourier transform and its inverse with FFTW (single
// precision), exactly as torch.stft / torch.istft compute them with
// n_fft = N_FFT, hop = HOP, a periodic Hann window, center=True and
// pad_mode="reflect". It owns no mel or phase-reconstruction logic.
//
// Layout legend: n samples, T = 1 + n / HOP frames, F = N_BINS bins.
// Spectrograms are frame-major (T, F).
//
// Threading: the two FFTW plans are made once, under a mutex (FFTW's planner
// is not thread-safe), and executed with the new-array interface on buffers
// each thread allocates for itself, so one Stft may be used from many threads
// at once. Frames are spread over OpenMP threads; every frame is computed the
// same way at any thread count, and the overlap-add sums each sample's frames
// in the same order, so results are bit-identical at 1 or 2 threads.
//
// FFTW_ESTIMATE, not MEASURE: measured on this machine a 1024-point r2c takes
// 1.03 us planned by ESTIMATE and 0.72 us by MEASURE, but MEASURE spends
// ~0.6 s planning, more than it saves on a 3-minute song (15.5k frames).
#include "audio/audio.h"
#include "audio/fft_lock.h"
#include "util/util.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Stft {
    fftwf_plan fwd;          // r2c, N_FFT real -> F complex
    fftwf_plan inv;          // c2r, F complex -> N_FFT real (unnormalised)
    float window[N_FFT];     // periodic Hann
    float inv_env[HOP];      // 1 / sum_k window[j + k HOP]^2, the overlap-add
                             // normaliser wherever N_FFT / HOP frames overlap
};

static pthread_mutex_t g_plan_lock = PTHREAD_MUTEX_INITIALIZER;
void fft_plan_lock(void) { pthread_mutex_lock(&g_plan_lock); }
void fft_plan_unlock(void) { pthread_mutex_unlock(&g_plan_lock); }

Stft *stft_create(void) {
    Stft *s = callocCheck(1, sizeof *s);
    for (int j = 0; j < N_FFT; j++)   // torch.hann_window(N_FFT, periodic=True)
        s->window[j] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * j / N_FFT));
    for (int j = 0; j < HOP; j++) {
        double e = 0;
        for (int k = j; k < N_FFT; k += HOP) e += (double)s->window[k] * s->window[k];
        s->inv_env[j] = (float)(1.0 / e);
    }
    float *buf = fftwf_malloc(sizeof(float) * N_FFT);
    fftwf_complex *spec = fftwf_malloc(sizeof(fftwf_complex) * N_BINS);
    if (!buf || !spec) {
        fftwf_free(buf);
        fftwf_free(spec);
        free(s);
        err_set("stft: cannot allocate FFT buffers");
        return NULL;
    }
    pthread_mutex_lock(&g_plan_lock);
    s->fwd = fftwf_plan_dft_r2c_1d(N_FFT, buf, spec, FFTW_ESTIMATE);
    s->inv = fftwf_plan_dft_c2r_1d(N_FFT, spec, buf, FFTW_ESTIMATE);
    pthread_mutex_unlock(&g_plan_lock);
    fftwf_free(buf);
    fftwf_free(spec);
    if (!s->fwd || !s->inv) {
        stft_free(s);
        err_set("stft: FFTW could not make a plan for n_fft %d", N_FFT);
        return NULL;
    }
    return s;
}

void stft_free(Stft *s) {
    if (!s) return;
    pthread_mutex_lock(&g_plan_lock);
    if (s->fwd) fftwf_destroy_plan(s->fwd);
    if (s->inv) fftwf_destroy_plan(s->inv);
    pthread_mutex_unlock(&g_plan_lock);
    free(s);
}

long stft_frames(long n) { return 1 + n / HOP; }

// Index into x for position i of the reflect-padded signal (i may be < 0 or
// >= n). Reflection excludes the edge sample, like torch's "reflect"; for
// signals shorter than the padding it keeps reflecting (torch would refuse).
static inline long reflect_index(long i, long n) {
    if (n == 1) return 0;
    long period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

// Windowed frame t of the centred signal into buf (N_FFT).
static void load_frame(float *buf, const float *window, const float *x, long n, long t) {
    long start = t * HOP - N_FFT / 2;
    if (start >= 0 && start + N_FFT <= n) {
#pragma omp simd
        for (int j = 0; j < N_FFT; j++) buf[j] = x[start + j] * window[j];
    } else {
        for (int j = 0; j < N_FFT; j++) buf[j] = x[reflect_index(start + j, n)] * window[j];
    }
}

// mode 0: complex out to re/im; mode 1: magnitude to re.
static void forward_frames(Stft *s, float *re, float *im, const float *x, long n, int mode) {
    long T = stft_frames(n);
    if (n <= 0) {   // one frame of silence
        memset(re, 0, sizeof(float) * N_BINS);
        if (im) memset(im, 0, sizeof(float) * N_BINS);
        return;
    }
#pragma omp parallel if (T > 8)
    {
        float *buf = fftwf_malloc(sizeof(float) * N_FFT);
        fftwf_complex *spec = fftwf_malloc(sizeof(fftwf_complex) * N_BINS);
        if (!buf || !spec) {   // cannot recover inside a parallel region
            fprintf(stderr, "refrain: out of memory in stft\n");
            abort();
        }
#pragma omp for schedule(static)
        for (long t = 0; t < T; t++) {
            load_frame(buf, s->window, x, n, t);
            fftwf_execute_dft_r2c(s->fwd, buf, spec);
            float *r = re + t * N_BINS;
            if (mode == 0) {
                float *i = im + t * N_BINS;
#pragma omp simd
                for (int f = 0; f < N_BINS; f++) { r[f] = spec[f][0]; i[f] = spec[f][1]; }
            } else {
#pragma omp simd
                for (int f = 0; f < N_BINS; f++)   // |X| <= N_FFT * peak: no overflow, so no hypotf
                    r[f] = sqrtf(spec[f][0] * spec[f][0] + spec[f][1] * spec[f][1]);
            }
        }
        fftwf_free(buf);
        fftwf_free(spec);
    }
}

void stft_forward(Stft *s, float *re, float *im, const float *x, long n) {
    forward_frames(s, re, im, x, n, 0);
}

void stft_magnitude(Stft *s, float *mag, const float *x, long n) {
    forward_frames(s, mag, NULL, x, n, 1);
}

// torch.istft: irfft each frame (1/N_FFT), multiply by the window, overlap-add
// into the padded signal, divide by the overlap-added squared window, drop the
// first N_FFT/2 samples and return n of them (zeros past the last frame).
// Frames t and t+4 do not overlap (N_FFT == 4 * HOP), so the overlap-add runs
// in N_FFT/HOP passes, each spreading non-touching frames over threads.
void stft_inverse(Stft *s, float *x, long n, const float *re, const float *im, long T) {
    if (n <= 0) return;
    memset(x, 0, sizeof(float) * n);
    if (T <= 0) return;
    long padded = N_FFT + HOP * (T - 1);
    float *y = callocCheck(padded, sizeof(float));     // (padded) overlap-added frames
    const int passes = (N_FFT + HOP - 1) / HOP;
    const float scale = 1.0f / N_FFT;
#pragma omp parallel if (T > 8)
    {
        float *buf = fftwf_malloc(sizeof(float) * N_FFT);
        fftwf_complex *spec = fftwf_malloc(sizeof(fftwf_complex) * N_BINS);
        if (!buf || !spec) {
            fprintf(stderr, "refrain: out of memory in istft\n");
            abort();
        }
        for (int p = 0; p < passes; p++) {
#pragma omp for schedule(static)
            for (long t = p; t < T; t += passes) {
                const float *r = re + t * N_BINS, *i = im + t * N_BINS;
#pragma omp simd
                for (int f = 0; f < N_BINS; f++) { spec[f][0] = r[f]; spec[f][1] = i[f]; }
                fftwf_execute_dft_c2r(s->inv, spec, buf);   // destroys spec; refilled next frame
                float *yo = y + t * HOP;
#pragma omp simd
                for (int j = 0; j < N_FFT; j++) yo[j] += buf[j] * (scale * s->window[j]);
            }   // implicit barrier: the next pass may touch these samples
        }
        fftwf_free(buf);
        fftwf_free(spec);
    }
    // Divide by the summed squared window. Away from the ends all N_FFT/HOP
    // frames overlap and the sum is periodic (inv_env); near the ends it is
    // summed over the frames that exist.
    long avail = padded - N_FFT / 2;
    long m = n < avail ? n : avail;
    long full_lo = N_FFT - HOP, full_hi = HOP * T;   // padded positions covered by every overlap
    for (long k = 0; k < m; k++) {
        long p = k + N_FFT / 2;
        if (p >= full_lo && p < full_hi) {
            x[k] = y[p] * s->inv_env[p % HOP];
        } else {
            double e = 0;
            long t1 = p / HOP < T - 1 ? p / HOP : T - 1;
            for (long t = t1; t >= 0 && p - t * HOP < N_FFT; t--) {
                float w = s->window[p - t * HOP];
                e += (double)w * w;
            }
            x[k] = e > 1e-11 ? (float)(y[p] / e) : 0.0f;
        }
    }
    free(y);
}
