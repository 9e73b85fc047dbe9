// linear.c — thread control for the nn layers, and the linear layer
// (out = in @ w^T + b) on cblas_sgemm, with its naive reference kernel.
// Owns: nn_set_threads/nn_threads, linear_*, nn_colsum_add. Other layers
// live in conv.c, norm.c, activations.c and attention.c.
//
// Legend: N rows (B*T), C input features, OC output features.
#include "nn/layers.h"
#include "nn/kernels_internal.h"

#include <cblas.h>
#include <string.h>

// ---- threads ------------------------------------------------------------------
static int g_threads = 0;   // 0: not set yet, use the OpenMP default

void nn_set_threads(int n) {
    if (n < 1) n = 1;
    g_threads = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
}

int nn_threads(void) {
    if (g_threads > 0) return g_threads;
    return nn_team_max();
}

int nn_blas_serial_begin(void) {
    int prev = openblas_get_num_threads();
    if (prev > 1) openblas_set_num_threads(1);
    return prev;
}

void nn_blas_serial_end(int prev) {
    if (prev > 1) openblas_set_num_threads(prev);
}

// ---- chunked sgemm -------------------------------------------------------------------
// The plan: 1, 2 or 4 chunks (so 1, 2 or 4 threads share them evenly), each
// at least 96 rows long (every chunk re-packs the operand it shares, about
// 1/(2 * rows) of its time) and at least 2^20 multiply-adds, rounded to
// multiples of 16 rows (OpenBLAS's widest register tile).
static int gemm_chunk_len(int L, double macs) {
    long n = L / 96;
    double by_work = macs / 1048576.0;
    if (n > by_work) n = (long)by_work;
    if (n >= 4) n = 4;
    else if (n >= 2) n = 2;
    else return L;
    long len = (L + n - 1) / n;
    len = (len + 15) / 16 * 16;
    return (int)len;
}

void nn_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {   // C = beta C
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(long)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(long)i * ldc + j];
        return;
    }
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    int split_m = M >= N, L = split_m ? M : N;
    int len = gemm_chunk_len(L, (double)M * N * K);
    int nch = (L + len - 1) / len;
    int prev = nn_blas_serial_begin();
#pragma omp parallel for schedule(static) if (nch > 1)
    for (int ch = 0; ch < nch; ch++) {
        int lo = ch * len, n = L - lo < len ? L - lo : len;
        if (split_m) {   // rows lo.. of C and of op(A)
            const float *a = ta ? A + lo : A + (long)lo * lda;
            cblas_sgemm(CblasRowMajor, TA, TB, n, N, K, alpha, a, lda, B, ldb, beta, C + (long)lo * ldc, ldc);
        } else {         // columns lo.. of C and of op(B)
            const float *b = tb ? B + (long)lo * ldb : B + lo;
            cblas_sgemm(CblasRowMajor, TA, TB, M, n, K, alpha, A, lda, b, ldb, beta, C + lo, ldc);
        }
    }
    nn_blas_serial_end(prev);
}

// ---- column sums -------------------------------------------------------------------
#define COLBLK 64
void nn_colsum_add(float *db, const float *x, long N, int C) {
    int nblk = (C + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (N * C >= NN_PAR_MIN)
    for (int blk = 0; blk < nblk; blk++) {
        int c0 = blk * COLBLK, nc = C - c0 < COLBLK ? C - c0 : COLBLK;
        double acc[COLBLK] = {0};
        for (long n = 0; n < N; n++) {
            const float *row = x + n * C + c0;
#pragma omp simd
            for (int c = 0; c < nc; c++) acc[c] += row[c];
        }
        for (int c = 0; c < nc; c++) db[c0 + c] += (float)acc[c];
    }
}

// ---- linear -----------------------------------------------------------------------
// out (N, OC) = in (N, C) @ w^T (OC, C) + b (OC)
void linear_forward(float *out, const float *in, const float *w, const float *b, int N, int C, int OC) {
    if (N <= 0 || OC <= 0) return;
    float beta = 0.0f;
    if (b) {
#pragma omp parallel for schedule(static) if ((long)N * OC >= NN_PAR_MIN)
        for (int n = 0; n < N; n++) memcpy(out + (long)n * OC, b, (size_t)OC * sizeof(float));
        beta = 1.0f;
    } else if (C <= 0) {
        memset(out, 0, (size_t)N * OC * sizeof(float));
    }
    if (C <= 0) return;
    nn_sgemm(0, 1, N, OC, C, 1.0f, in, C, w, C, beta, out, OC);
}

void linear_backward(float *din, float *dw, float *db, const float *dout,
                     const float *in, const float *w, int N, int C, int OC) {
    if (N <= 0 || OC <= 0) return;
    if (din && C > 0)   // din (N, C) += dout (N, OC) @ w (OC, C)
        nn_sgemm(0, 0, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, din, C);
    if (dw && C > 0)    // dw (OC, C) += dout^T (OC, N) @ in (N, C)
        nn_sgemm(1, 0, OC, C, N, 1.0f, dout, OC, in, C, 1.0f, dw, C);
    if (db) nn_colsum_add(db, dout, N, OC);
}

void linear_forward_naive(float *out, const float *in, const float *w, const float *b, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double acc = b ? b[o] : 0.0;
            for (int c = 0; c < C; c++) acc += (double)in[(long)n * C + c] * w[(long)o * C + c];
            out[(long)n * OC + o] = (float)acc;
        }
}
