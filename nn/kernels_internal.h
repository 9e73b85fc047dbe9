// kernels_internal.h — private helpers shared by the layer files (linear.c,
// conv.c, norm.c, activations.c, attention.c). Not part of the public API.
//
// Scratch: each layer file keeps one growing buffer per calling thread
// (_Thread_local), so hot paths allocate only when a shape grows beyond any
// seen before, and two threads calling layers at once never share scratch.
#ifndef REFRAIN_NN_KERNELS_INTERNAL_H
#define REFRAIN_NN_KERNELS_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "util/util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

// Elementwise loops over fewer elements than this run on one thread: below
// ~50 us of work a fork/join saves little when the machine is idle, and when
// the cores are shared each parallel region can wait milliseconds for its
// second thread to be scheduled.
#define NN_PAR_MIN 131072L

// exp(x) in float, written so `#pragma omp simd` loops vectorize it (libm's
// expf does not vectorize without -ffast-math). Cody-Waite reduction
// x = n ln2 + f, |f| <= ln2/2, Cephes' degree-6 polynomial for e^f, then
// scaling by 2^n through the exponent bits; within 1.3 ulp of exp on
// [-87, 88] (checked over every float there). Below -87 it returns 0 (the
// subnormal range is flushed), above 88 +inf; NaN stays NaN.
// Plain IEEE operations (fused multiply-adds where the target has them, see
// NN_FMA): the same bits whether a loop runs vectorized or not.
#ifdef FP_FAST_FMAF
#define NN_FMA(a, b, c) fmaf((a), (b), (c))
#else   // no hardware FMA (a build without -march=native): libm's fmaf is slow
#define NN_FMA(a, b, c) ((a) * (b) + (c))
#endif
static inline float nn_expf(float x) {
    union { float f; uint32_t u; } r, s;
    float x0 = x;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    r.f = NN_FMA(x, 1.44269504088896341f, 12582912.0f);   // 1.5*2^23: rounds x/ln2
    float n = r.f - 12582912.0f;
    float f = NN_FMA(n, -0.693359375f, x);                 // ln2 in two parts
    f = NN_FMA(n, 2.12194440e-4f, f);
    float y = 1.9875691500e-4f;
    y = NN_FMA(y, f, 1.3981999507e-3f);
    y = NN_FMA(y, f, 8.3334519073e-3f);
    y = NN_FMA(y, f, 4.1665795894e-2f);
    y = NN_FMA(y, f, 1.6666665459e-1f);
    y = NN_FMA(y, f, 5.0000001201e-1f);
    y = NN_FMA(y, f * f, f + 1.0f);
    s.u = (r.u - 0x4B400000u + 127u) << 23;              // 2^n
    y *= s.f;
    y = x0 < -87.0f ? 0.0f : y;
    return x0 > 88.0f ? INFINITY : y;
}

typedef struct { float *p; size_t cap; } NnScratch;

static inline float *nn_scratch(NnScratch *s, size_t n) {
    if (n > s->cap) {
        free(s->p);
        s->p = mallocCheck(n * sizeof(float));
        s->cap = n;
    }
    return s->p;
}

static inline int nn_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline int nn_team_max(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// Static partition of [0, n) among nth threads: thread tid gets [*lo, *hi).
// The split depends only on (n, nth, tid), never on timing.
static inline void nn_range(long n, int nth, int tid, long *lo, long *hi) {
    long q = n / nth, r = n % nth;
    *lo = tid * q + (tid < r ? tid : r);
    *hi = *lo + q + (tid < r ? 1 : 0);
}

// Inside an OpenMP loop whose body calls sgemm, OpenBLAS must run on one
// thread (the pthread build does not notice it is inside a parallel region
// and would oversubscribe). These bracket such loops.
int nn_blas_serial_begin(void);   // returns the count to restore
void nn_blas_serial_end(int prev);

// Row-major C (M, N) = alpha op(A) (M, K) op(B) (K, N) + beta C, as
// cblas_sgemm, but cut into chunks along the longer of M and N by a plan that
// depends only on the shape, each chunk one single-threaded sgemm, chunks
// shared among OpenMP threads. OpenBLAS's own threading (and even a different
// slicing) changes the rounding; a fixed plan gives the same bits for any
// thread count. ta, tb: nonzero = transposed.
void nn_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

// conv1d runs the whole batch as one product while its scratch stays within
// this many floats (default 16M), else item by item. Tests lower it to reach
// the per-item path.
extern long nn_conv_batch_max;

// db (C) += column sums of x (N, C); parallel over column blocks, each
// column summed in row order in double: the same bits for any thread count.
void nn_colsum_add(float *db, const float *x, long N, int C);

#endif
