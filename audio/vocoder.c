// vocoder — magnitude spectrogram (or log-mel) back to a waveform.
//
// Owns: fast Griffin-Lim with momentum (Perraudin, Balazs & Søndergaard 2013)
// with exactly the update torchaudio 0.13's functional.griffinlim uses, three
// phase initialisations (random, zero, and Phase Gradient Heuristic Integration,
// Průša, Balazs & Søndergaard 2017), the log-mel vocoder built on mel_to_mag,
// and the spectral-convergence measure.
// Does not own: the STFT conventions (audio.h and stft.c fix them: centred
// frames, reflect padding, periodic Hann, istft normalised by the summed squared
// window). The fused loop below re-implements them frame by frame so one pass
// does FFT -> projection -> inverse FFT -> overlap-add; tests/test_audio_vocoder.c
// keeps the naive reference built from stft_forward / stft_inverse and checks
// the two agree.
//
// Legend: T frames, F = N_BINS bins, N = N_FFT, H = HOP, n samples,
// Lp = (T-1)*H + N samples of the reflect-padded signal.
//
// One iteration (torchaudio's rule, a = momentum / (1 + momentum)):
//     x      = istft(S * c)            S the target magnitude, c unit phases
//     R      = stft(x)
//     c      = (R - a*Rprev) / (|R - a*Rprev| + 1e-16),   Rprev = R
// and the returned waveform is istft(S * c) after the last update.
// The fused pass reads x (padded, buffer A), and for each frame computes R,
// the new c, the inverse frame of S*c and adds it into buffer B; frames are
// split into fixed chunks of CHUNK frames so results do not depend on the
// thread count (each chunk owns its output samples; the 3-hop spill past its
// end goes to a side buffer added after a barrier).
//
// Speed (three minutes, 15,504 frames, bench/vocoder.sh, shared 2-core
// machine): about 40 ms CPU per iteration on one thread (FFTW about half of
// it, the rest mostly the memory stream of R_prev and S), PGHI 0.35 s; 52-78x
// less wall time than torchaudio 0.13's GriffinLim at equal iterations.
// FFTW_ESTIMATE, not MEASURE: MEASURE plans were 16% faster here but are chosen
// by timing, so two runs could round differently; generated audio must be
// reproducible (same seed, model and threads -> same samples).
#include "audio/audio.h"
#include "audio/fft_lock.h"
#include "util/rng.h"
#include "util/util.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define CHUNK 64                 // frames per work unit (fixed: bit-identical at any thread count)
#define SPILL (N_FFT - HOP)      // samples a chunk's last frames write past its own region
#define PGHI_GAMMA 0.25645       // Gaussian equivalent of the Hann window: lambda = gamma * N^2
#ifndef PGHI_BLOCK
#define PGHI_BLOCK 64             // frames integrated together (see init_pghi)
#endif
// mel_to_mag iterations in vocode_logmel. Measured on 10 s of music (log-mel
// round trip after 64 GL iterations, mean |d logmel|): 0 (warm start only)
// 0.157, 10: 0.073, 30: 0.069, 100: 0.068, 300: 0.068; 32 iterations cost
// 0.2 s for three minutes.
#define MEL_INV_ITERS 32
#define PGHI_TOL 1e-5            // bins below tol * max(S) get phase 0 and are not integrated

// ---- FFTW plans, made once per process -----------------------------------------------
static fftwf_plan plan_r2c, plan_c2r;
static float win[N_FFT];          // periodic Hann
static float win_inv[N_FFT];      // win / N: FFTW's c2r is unnormalised

static int plans_ready(void) {
    int ok = 1;
    fft_plan_lock();
    if (!plan_r2c) {
        float *in = fftwf_malloc(sizeof(float) * N_FFT);
        fftwf_complex *out = fftwf_malloc(sizeof(fftwf_complex) * N_BINS);
        if (in && out) {
            plan_r2c = fftwf_plan_dft_r2c_1d(N_FFT, in, out, FFTW_ESTIMATE);
            plan_c2r = fftwf_plan_dft_c2r_1d(N_FFT, out, in, FFTW_ESTIMATE);
        }
        fftwf_free(in);
        fftwf_free(out);
        for (int j = 0; j < N_FFT; j++) {
            win[j] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * j / N_FFT));
            win_inv[j] = win[j] / N_FFT;
        }
        ok = plan_r2c && plan_c2r;
    }
    fft_plan_unlock();
    return ok ? 0 : err_set("vocoder: FFTW could not plan a %d-point transform", N_FFT);
}

// Large buffers (tens of MB for a song): 2 MB aligned and marked for
// transparent huge pages, so first touch costs one fault per 2 MB instead of
// one per 4 kB (page faults were a fifth of a call's time on this VM).
static void *big_alloc(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    size_t size = (bytes + huge - 1) / huge * huge;
    if (posix_memalign(&p, huge, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE);   // advice only: ignore failure
#endif
    return p;
}

void vocoder_defaults(VocoderOpts *o) {
    memset(o, 0, sizeof *o);
    o->iters = 64;
    o->momentum = 0.99f;
    o->init = PHASE_PGHI;
    o->seed = RNG_DEFAULT_SEED;
}

// ---- phase initialisation -------------------------------------------------------------
// All three write unit phases c (T, F) interleaved (re, im) into c.

static void init_zero(float *c, long T) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < T * N_BINS; i++) { c[2 * i] = 1.0f; c[2 * i + 1] = 0.0f; }
}

// Phases from c[2i] (radians) to unit complex numbers in place.
static void phase_to_unit(float *c, long TF) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < TF; i++) {
        float ph = c[2 * i];
        c[2 * i] = cosf(ph);
        c[2 * i + 1] = sinf(ph);
    }
}

static void init_random(float *c, long T, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (long i = 0; i < T * N_BINS; i++) c[2 * i] = 2.0f * (float)M_PI * rng_uniform(&r);   // one stream: thread-count independent
    phase_to_unit(c, T * N_BINS);
}

// PGHI. With a Gaussian window g(t) = exp(-pi t^2 / lambda) the STFT phase phi
// (referenced to the window centre) and the log-magnitude s obey
//     d phi / du     = 2 pi w + (1/lambda) ds/dw     (time derivative, rad/sample)
//     d phi / dw     = -lambda ds/du                 (frequency derivative, w in cycles/sample)
// (checked on a pure tone and an impulse). Our frames start at the window's left
// edge, which multiplies bin k by (-1)^k: one extra pi per bin step. With
// central differences on the grid (u = mH, w = k/N), the phase steps are
//     time  m -> m+1: dt(m,k) = 2 pi H k / N + H N / (2 lambda) (s[m,k+1] - s[m,k-1])
//     freq  k -> k+1: df(m,k) = pi - lambda / (2 H N) (s[m+1,k] - s[m-1,k])
// integrated with the trapezoid rule from the loudest bin outwards, always
// extending from the loudest bin already reached (a max-heap).
// A bucket queue stands in for the paper's max-heap: keys (log-magnitudes)
// are quantised to PGHI_LEVELS levels over [log(tol * max), log(max)] (about
// 1% of magnitude per level), bins within a level come out last in, first
// out, and a bitmap finds the highest non-empty level. O(1) per bin instead of
// a heap's cache-missing O(log n). On three minutes of music: SC after PGHI
// 0.1704 (exact heap, same blocks: 0.1707), PGHI CPU time 0.35 s instead of 0.9.
#define PGHI_LEVELS 1024
typedef struct {
    int32_t head[PGHI_LEVELS];      // first entry of each level, -1 if empty
    uint64_t bits[PGHI_LEVELS / 64];
    int32_t *next;                  // (entries) next entry in the same level
    long base;                      // entry = bin index - base
    float lo, scale;                // level = (key - lo) * scale
} Queue;

static void q_reset(Queue *q, long base) {
    for (int l = 0; l < PGHI_LEVELS; l++) q->head[l] = -1;
    memset(q->bits, 0, sizeof q->bits);
    q->base = base;
}

static inline void q_push(Queue *q, float key, long i) {
    int l = (int)((key - q->lo) * q->scale);
    l = l < 0 ? 0 : l >= PGHI_LEVELS ? PGHI_LEVELS - 1 : l;
    int32_t e = (int32_t)(i - q->base);
    q->next[e] = q->head[l];
    q->head[l] = e;
    q->bits[l >> 6] |= (uint64_t)1 << (l & 63);
}

static inline long q_pop(Queue *q) {   // -1 when empty
    for (int w = PGHI_LEVELS / 64 - 1; w >= 0; w--) {
        if (!q->bits[w]) continue;
        int l = w * 64 + 63 - __builtin_clzll(q->bits[w]);
        int32_t e = q->head[l];
        q->head[l] = q->next[e];
        if (q->head[l] < 0) q->bits[w] &= ~((uint64_t)1 << (l & 63));
        return q->base + e;
    }
    return -1;
}

static int init_pghi(float *c, const float *mag, long T) {
    const long TF = T * N_BINS;
    if (TF > INT32_MAX) return err_set("vocoder: %ld frames is too long for PGHI", T);
    float smax = 0.0f;
#pragma omp parallel for reduction(max : smax) schedule(static)
    for (long i = 0; i < TF; i++) smax = mag[i] > smax ? mag[i] : smax;
    if (smax <= 0.0f) { init_zero(c, T); return 0; }     // silence: any phase will do

    // The integrated phase and the log-magnitude live interleaved in c itself
    // (c[2i] phase, c[2i+1] log-magnitude) until the last step turns the phase
    // into (cos, sin): no extra (T, F) buffers to fault in.
    float *ph = c, *s = c + 1;                            // (T, F) with stride 2
    uint8_t *todo = big_alloc((size_t)TF);                // 1: above tol, not reached yet
    if (!todo) return err_set("vocoder: out of memory for PGHI over %ld frames", T);
    const float floor_ = (float)(PGHI_TOL * smax);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < TF; i++) {
        s[2 * i] = logf(mag[i] > floor_ ? mag[i] : floor_);
        todo[i] = mag[i] > floor_;
        ph[2 * i] = 0.0f;
    }
    const double lambda = PGHI_GAMMA * N_FFT * N_FFT;
    const float ct = (float)(HOP * N_FFT / (2.0 * lambda)), cf = (float)(lambda / (2.0 * HOP * N_FFT));
    const float tw = (float)(2.0 * M_PI * HOP / N_FFT);
    // Phase steps from bin (m, k); edges use one-sided differences in time and
    // the mirror symmetry of a real signal's spectrum in frequency (slope 0).
#define S1(i) s[2 * (i)]
#define PH(i) ph[2 * (i)]
#define S_(m, k) S1((long)(m) * N_BINS + (k))
#define DT(m, k) (tw * (k) + ct * ((k) > 0 && (k) < N_BINS - 1 ? S_(m, (k) + 1) - S_(m, (k) - 1) : 0.0f))
#define DF(m, k) ((float)M_PI - cf * ((m) > 0 && (m) < T - 1 ? S_((m) + 1, k) - S_((m) - 1, k)         \
                                   : (m) > 0 ? 2.0f * (S_(m, k) - S_((m) - 1, k))                      \
                                   : T > 1 ? 2.0f * (S_((m) + 1, k) - S_(m, k)) : 0.0f))
    // The paper's heap spans the whole spectrogram; on a song its frontier
    // grows to millions of bins and every heap step misses the cache (4.4 s
    // CPU for three minutes). Here frames go in blocks of PGHI_BLOCK: each
    // block is seeded with the finished frame before it and integrates only
    // inside itself, so the queue stays in cache (PGHI_BLOCK = 1 is RTPGHI,
    // Průša & Holighaus 2017). Measured on three minutes of music, SC of the
    // PGHI phase with no iteration: whole-song heap 0.1698, blocks of 64
    // 0.1707, 16: 0.1719, 4: 0.1771, 1: 0.1866. The first block starts at its
    // loudest bin; islands cut off by sub-tolerance bins start at their first
    // bin in (frame, bin) order.
    Queue *q = mallocCheck(sizeof(Queue));
    q->next = mallocCheck(sizeof(int32_t) * (PGHI_BLOCK + 1) * N_BINS);
    q->lo = logf(floor_);
    q->scale = (float)(PGHI_LEVELS / fmax(logf(smax) - logf(floor_), 1e-6));
    for (long t0 = 0; t0 < T; t0 += PGHI_BLOCK) {
        long t1 = t0 + PGHI_BLOCK < T ? t0 + PGHI_BLOCK : T;
        long scan = t0 * N_BINS, end = t1 * N_BINS;
        q_reset(q, scan - N_BINS);       // entries: the seed frame t0-1, then the block
        if (t0 == 0) {
            long imax = 0;
            for (long i = 1; i < end; i++) if (mag[i] > mag[imax]) imax = i;
            if (todo[imax]) { todo[imax] = 0; q_push(q, S1(imax), imax); }
        } else {
            for (long i = scan - N_BINS; i < scan; i++)
                if (mag[i] > floor_) q_push(q, S1(i), i);
        }
        for (;;) {
            long i;
            while ((i = q_pop(q)) >= 0) {
                long m = i / N_BINS, k = i % N_BINS;
                float dt = DT(m, k);
                if (m + 1 < t1 && todo[i + N_BINS]) {
                    PH(i + N_BINS) = PH(i) + 0.5f * (dt + DT(m + 1, k));
                    todo[i + N_BINS] = 0; q_push(q, S1(i + N_BINS), i + N_BINS);
                }
                if (m < t0) continue;                  // a seed: its own frame is finished
                if (m > 0 && todo[i - N_BINS]) {
                    PH(i - N_BINS) = PH(i) - 0.5f * (dt + DT(m - 1, k));
                    todo[i - N_BINS] = 0; q_push(q, S1(i - N_BINS), i - N_BINS);
                }
                float df = DF(m, k);
                if (k + 1 < N_BINS && todo[i + 1]) {
                    PH(i + 1) = PH(i) + 0.5f * (df + DF(m, k + 1));
                    todo[i + 1] = 0; q_push(q, S1(i + 1), i + 1);
                }
                if (k > 0 && todo[i - 1]) {
                    PH(i - 1) = PH(i) - 0.5f * (df + DF(m, k - 1));
                    todo[i - 1] = 0; q_push(q, S1(i - 1), i - 1);
                }
            }
            while (scan < end && !todo[scan]) scan++;
            if (scan == end) break;
            todo[scan] = 0;
            q_push(q, S1(scan), scan);
        }
    }
#undef S_
#undef S1
#undef PH
#undef DT
#undef DF
    phase_to_unit(c, TF);
    free(q->next);
    free(q);
    free(todo);
    return 0;
}

// ---- the fused Griffin-Lim pass ----------------------------------------------------------
typedef struct {
    long T, n, Lp, nchunks;
    const float *mag;      // (T, F) target magnitude S
    float *prev;           // (T, F) x2: previous rebuilt STFT R; before iteration 1, the initial phases
    float *invenv;         // (Lp) 1 / summed squared window, 0 where the sum vanishes
    float *side;           // (nchunks, SPILL) what each chunk's frames add past its own samples
    double *err;           // (nchunks) sum over the chunk of (|R| - S)^2
    float **fin;           // per thread (N): time frame
    fftwf_complex **fsp;   // per thread (F): spectrum
    int nthreads;
    int want_err;          // accumulate err during updates (for sc_trace)
} Gl;

enum { PASS_FWD = 1, PASS_INV = 2 };

// Forward part: R = stft frame t of padded signal a; updates prev and writes the
// unit phase c into sp (interleaved). With init, c comes from prev (the initial phases).
// Inverse part: frame of istft(S*c), windowed and scaled, returned in fr.
// alpha: momentum factor (0 on the first update: torchaudio's tprev is 0 then).
static inline double gl_frame(Gl *g, long t, int mode, int init, float alpha, const float *a,
                              float *restrict fr, fftwf_complex *sp) {
    const float *restrict S = g->mag + t * N_BINS;
    float *restrict P = g->prev + 2 * t * N_BINS;
    float *restrict z = (float *)sp;
    float err = 0.0f;
    if (init) {
        for (int k = 0; k < N_BINS; k++) { z[2 * k] = S[k] * P[2 * k]; z[2 * k + 1] = S[k] * P[2 * k + 1]; }
    } else {
        const float *restrict src = a + t * HOP;
#pragma omp simd
        for (int j = 0; j < N_FFT; j++) fr[j] = src[j] * win[j];
        fftwf_execute_dft_r2c(plan_r2c, fr, sp);
        if (mode & PASS_INV) {
            // Fused projection: remember R, form R - alpha*Rprev, normalise,
            // and scale by the target magnitude for the inverse transform.
            // (The Makefile builds this file with -fno-math-errno: otherwise
            // sqrtf keeps a scalar errno branch and these loops stay scalar.)
            if (g->want_err) {
#pragma omp simd reduction(+ : err)
                for (int k = 0; k < N_BINS; k++) {
                    float re = z[2 * k], im = z[2 * k + 1];
                    float e = sqrtf(re * re + im * im) - S[k];
                    err += e * e;
                }
            }
#pragma omp simd
            for (int k = 0; k < N_BINS; k++) {
                float re = z[2 * k], im = z[2 * k + 1];
                float dr = re - alpha * P[2 * k], di = im - alpha * P[2 * k + 1];
                P[2 * k] = re; P[2 * k + 1] = im;
                float r = S[k] / (sqrtf(dr * dr + di * di) + 1e-16f);
                z[2 * k] = dr * r; z[2 * k + 1] = di * r;
            }
        } else {
#pragma omp simd reduction(+ : err)
            for (int k = 0; k < N_BINS; k++) {
                float e = sqrtf(z[2 * k] * z[2 * k] + z[2 * k + 1] * z[2 * k + 1]) - S[k];
                err += e * e;
            }
        }
    }
    if (mode & PASS_INV) {
        fftwf_execute_dft_c2r(plan_c2r, sp, fr);   // destroys sp: fine
    }
    return (double)err;
}

// One pass over all frames. Reads padded signal a (when not init), writes the
// normalised, reflect-padded next signal into b (when PASS_INV). Returns the sum
// of (|R| - S)^2 over all bins (0 when init).
static double gl_pass(Gl *g, int mode, int init, float alpha, const float *a, float *b) {
    const long T = g->T, nch = g->nchunks, Lp = g->Lp;
    const long n = g->n;
#pragma omp parallel num_threads(g->nthreads)
    {
#ifdef _OPENMP
        int tid = omp_get_thread_num();
#else
        int tid = 0;
#endif
        float *fr = g->fin[tid];
        fftwf_complex *sp = g->fsp[tid];
#pragma omp for schedule(static)
        for (long c = 0; c < nch; c++) {
            long t0 = c * CHUNK, t1 = t0 + CHUNK < T ? t0 + CHUNK : T;
            // This chunk owns samples [t0*H, t1*H) (the last chunk: to Lp).
            long own0 = t0 * HOP, own1 = c == nch - 1 ? Lp : t1 * HOP;
            float *side = g->side + c * SPILL;
            if (mode & PASS_INV) {
                memset(b + own0, 0, sizeof(float) * (own1 - own0));
                memset(side, 0, sizeof(float) * SPILL);
            }
            double e = 0.0;
            for (long t = t0; t < t1; t++) {
                e += gl_frame(g, t, mode, init, alpha, a, fr, sp);
                if (!(mode & PASS_INV)) continue;
                long p = t * HOP;
                int j_own = (int)(own1 - p < N_FFT ? own1 - p : N_FFT);
                // Window (and FFTW's missing 1/N) on the way into the overlap-add.
                float *restrict dst = b + p;
                const float *restrict y = fr;
#pragma omp simd
                for (int j = 0; j < j_own; j++) dst[j] += y[j] * win_inv[j];
                for (int j = j_own; j < N_FFT; j++) side[p + j - own1] += y[j] * win_inv[j];
            }
            g->err[c] = e;
        }
        if (mode & PASS_INV) {
            // Implicit barrier above: every chunk's own samples are final but for
            // the spill of the chunk before; add it, then normalise.
#pragma omp for schedule(static)
            for (long c = 0; c < nch; c++) {
                long own0 = c * CHUNK * HOP, own1 = c == nch - 1 ? Lp : (c + 1) * CHUNK * HOP;
                if (c > 0) {
                    const float *side = g->side + (c - 1) * SPILL;
                    for (int j = 0; j < SPILL && own0 + j < Lp; j++) b[own0 + j] += side[j];
                }
                // The spill (3 hops) never reaches past the next chunk: CHUNK >= 3, and
                // the last chunk, however short, owns everything to Lp.
                float *restrict bb = b;
                const float *restrict ie = g->invenv;
#pragma omp simd
                for (long i = own0; i < own1; i++) bb[i] *= ie[i];
            }
#pragma omp single
            {
                // Reflect padding for the next forward STFT: b holds x at [N/2, N/2 + n).
                const long o = N_FFT / 2;
                for (long j = 1; j <= o; j++) b[o - j] = b[o + j];
                for (long i = o + n; i < Lp; i++) b[i] = b[2 * (o + n - 1) - i];
            }
        }
    }
    double e = 0.0;
    for (long c = 0; c < nch; c++) e += g->err[c];
    return e;
}

int griffin_lim(float *x, long n, const float *mag, long T, const VocoderOpts *o) {
    VocoderOpts def;
    if (!o) { vocoder_defaults(&def); o = &def; }
    if (!x || !mag) return err_set("griffin_lim: NULL buffer");
    if (T < VOCODER_MIN_FRAMES)
        return err_set("too little audio to vocode: %ld spectrogram frame%s (%.0f ms); at least %d (%.0f ms) are needed",
                       T, T == 1 ? "" : "s", 1000.0 * (T - 1) * HOP / SAMPLE_RATE, VOCODER_MIN_FRAMES,
                       1000.0 * (VOCODER_MIN_FRAMES - 1) * HOP / SAMPLE_RATE);
    if (stft_frames(n) != T)
        return err_set("griffin_lim: %ld samples give %ld frames, not %ld (use n = (T-1)*HOP)", n,
                       stft_frames(n), T);
    if (o->iters < 0) return err_set("griffin_lim: iters %d < 0", o->iters);
    if (!(o->momentum >= 0.0f && o->momentum <= (float)VOCODER_MOMENTUM_MAX))
        return err_set("the vocoder's momentum %g is outside 0..%g", (double)o->momentum, VOCODER_MOMENTUM_MAX);
    if (plans_ready() != 0) return -1;

    Gl g = {0};
    g.T = T; g.n = n; g.mag = mag;
    g.Lp = (T - 1) * HOP + N_FFT;
    g.nchunks = (T + CHUNK - 1) / CHUNK;
#ifdef _OPENMP
    g.nthreads = omp_get_max_threads();
#else
    g.nthreads = 1;
#endif
    // All buffers are made here, none inside the iterations.
    g.prev = big_alloc(sizeof(float) * 2 * T * N_BINS);
    float *bufa = big_alloc(sizeof(float) * g.Lp);
    float *bufb = big_alloc(sizeof(float) * g.Lp);
    g.invenv = mallocCheck(sizeof(float) * g.Lp);
    g.side = mallocCheck(sizeof(float) * g.nchunks * SPILL);
    g.err = callocCheck(g.nchunks, sizeof(double));
    g.fin = callocCheck(g.nthreads, sizeof(float *));
    g.fsp = callocCheck(g.nthreads, sizeof(fftwf_complex *));
    int ok = g.prev && bufa && bufb;
    for (int i = 0; i < g.nthreads && ok; i++) {
        g.fin[i] = fftwf_malloc(sizeof(float) * N_FFT);
        g.fsp[i] = fftwf_malloc(sizeof(fftwf_complex) * N_BINS);
        ok = g.fin[i] && g.fsp[i];
    }
    int rc = 0;
    if (!ok) { rc = err_set("out of memory vocoding %ld spectrogram frames", T); goto done; }

    for (long i = 0; i < g.Lp; i++) g.invenv[i] = 0.0f;
    for (long t = 0; t < T; t++)
        for (int j = 0; j < N_FFT; j++) g.invenv[t * HOP + j] += win[j] * win[j];
    for (long i = 0; i < g.Lp; i++) g.invenv[i] = g.invenv[i] > 1e-11f ? 1.0f / g.invenv[i] : 0.0f;

    switch (o->init) {
    case PHASE_ZERO: init_zero(g.prev, T); break;
    case PHASE_RANDOM: init_random(g.prev, T, o->seed); break;
    case PHASE_PGHI: rc = init_pghi(g.prev, mag, T); break;
    default: rc = err_set("griffin_lim: unknown phase init %d", (int)o->init);
    }
    if (rc) goto done;

    double s2 = 0.0;
#pragma omp parallel for reduction(+ : s2) schedule(static)
    for (long i = 0; i < T * N_BINS; i++) s2 += (double)mag[i] * mag[i];
    const double norm = s2 > 0 ? sqrt(s2) : 1.0;
    const float alpha = o->momentum / (1.0f + o->momentum);

    g.want_err = o->sc_trace != NULL;
    float *a = bufa, *b = bufb;
    gl_pass(&g, PASS_INV, 1, 0.0f, NULL, a);          // x0 = istft(S * c0)
    for (int it = 0; it < o->iters; it++) {
        double e = gl_pass(&g, PASS_FWD | PASS_INV, 0, it == 0 ? 0.0f : alpha, a, b);
        if (o->sc_trace && it > 0) o->sc_trace[it - 1] = sqrt(e) / norm;   // SC of x_it
        float *tmp = a; a = b; b = tmp;
        if (o->progress) progress("griffin-lim %d/%d", it + 1, o->iters);
        if (o->on_iter) o->on_iter(o->on_iter_ctx, it + 1, o->iters);
    }
    if (o->progress && o->iters) progress_done();
    if (o->sc_trace && o->iters > 0)
        o->sc_trace[o->iters - 1] = sqrt(gl_pass(&g, PASS_FWD, 0, 0.0f, a, NULL)) / norm;
    memcpy(x, a + N_FFT / 2, sizeof(float) * n);

done:
    for (int i = 0; i < g.nthreads; i++) { fftwf_free(g.fin[i]); fftwf_free(g.fsp[i]); }
    free(g.fin); free(g.fsp); free(g.err); free(g.side); free(g.invenv);
    free(bufa); free(bufb); free(g.prev);
    return rc;
}

double spectral_convergence(const float *mag, long T, const float *x, long n) {
    if (stft_frames(n) != T) return NAN;
    Stft *s = stft_create();
    if (!s) return NAN;
    float *m = malloc(sizeof(float) * T * N_BINS);
    if (!m) { stft_free(s); return NAN; }
    stft_magnitude(s, m, x, n);
    double num = 0.0, den = 0.0;
    for (long i = 0; i < T * N_BINS; i++) {
        double d = (double)m[i] - mag[i];
        num += d * d;
        den += (double)mag[i] * mag[i];
    }
    free(m);
    stft_free(s);
    return den > 0 ? sqrt(num / den) : (num > 0 ? INFINITY : 0.0);
}

int vocode_logmel(float **x, long *n, const float *logmel, long T, const VocoderOpts *o) {
    *x = NULL; *n = 0;
    if (T < VOCODER_MIN_FRAMES)
        return err_set("too little audio to vocode: %ld spectrogram frame%s (%.0f ms); at least %d (%.0f ms) are needed",
                       T, T == 1 ? "" : "s", 1000.0 * (T - 1) * HOP / SAMPLE_RATE, VOCODER_MIN_FRAMES,
                       1000.0 * (VOCODER_MIN_FRAMES - 1) * HOP / SAMPLE_RATE);
    float *mel = malloc(sizeof(float) * T * N_MELS);
    float *mag = malloc(sizeof(float) * T * N_BINS);
    long len = (T - 1) * HOP;
    float *y = malloc(sizeof(float) * len);
    if (!mel || !mag || !y) {
        free(mel); free(mag); free(y);
        return err_set("out of memory vocoding %ld spectrogram frames", T);
    }
    for (long i = 0; i < T * N_MELS; i++) mel[i] = expf(logmel[i]);
    mel_to_mag(mag, mel, T, MEL_INV_ITERS);
    int rc = griffin_lim(y, len, mag, T, o);
    free(mel); free(mag);
    if (rc) { free(y); return -1; }
    *x = y; *n = len;
    return 0;
}
