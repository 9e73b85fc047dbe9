// kernels_internal.h — private helpers shared by the layer files (linear.c,
// conv.c, norm.c, activations.c, attention.c). Not part of the public API.
//
// Scratch: each layer file keeps one growing buffer per calling thread
// (_Thread_local), so hot paths allocate only when a shape grows beyond any
// seen before, and two threads calling layers at once never share scratch.
#ifndef REFRAIN_NN_KERNELS_INTERNAL_H
#define REFRAIN_NN_KERNELS_INTERNAL_H

#include <stddef.h>
#include <stdlib.h>
#include "util/util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

// Elementwise loops smaller than this run on one thread (fork/join costs
// more than it saves).
#define NN_PAR_MIN 32768L

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

// db (C) += column sums of x (N, C); parallel over column blocks, each
// column summed in row order in double: the same bits for any thread count.
void nn_colsum_add(float *db, const float *x, long N, int C);

#endif
