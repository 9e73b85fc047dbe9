// norm.c — group norm over (B, C, T) and layer norm over the last dim of
// (N, C), forward and backward. Statistics are two-pass (mean, then the mean
// of squared deviations), accumulated in double; forward stores mean and rstd
// for backward. Parameter-gradient sums run per channel in a fixed order, so
// results are the same for any thread count. Epsilon: NN_NORM_EPS (1e-5, as
// PyTorch's GroupNorm and LayerNorm).
//
// Legend: B batch, C channels, T time, G groups, Cg = C/G, N rows.
#include "nn/layers.h"
#include "nn/kernels_internal.h"

#include <math.h>

// Two-pass statistics of n floats.
static void stats(const float *x, long n, float *mean, float *rstd) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (long i = 0; i < n; i++) s += x[i];
    double m = s / (double)n, v = 0;
#pragma omp simd reduction(+ : v)
    for (long i = 0; i < n; i++) { double d = x[i] - m; v += d * d; }
    v /= (double)n;
    *mean = (float)m;
    *rstd = (float)(1.0 / sqrt(v + (double)NN_NORM_EPS));
}

// ---- group norm -------------------------------------------------------------------
void groupnorm_forward(float *out, float *mean, float *rstd, const float *in,
                       const float *w, const float *b, int B, int C, int T, int G) {
    int Cg = C / G;
    long gsize = (long)Cg * T;
#pragma omp parallel for schedule(static) if ((long)B * C * T >= NN_PAR_MIN)
    for (int bg = 0; bg < B * G; bg++) {
        int bi = bg / G, g = bg % G;
        long base = ((long)bi * C + (long)g * Cg) * T;     // the group is contiguous
        float m, r;
        stats(in + base, gsize, &m, &r);
        mean[bg] = m; rstd[bg] = r;
        for (int cc = 0; cc < Cg; cc++) {
            int c = g * Cg + cc;
            float sc = w ? w[c] * r : r, sh = b ? b[c] : 0.0f;
            const float *x = in + base + (long)cc * T;
            float *y = out + base + (long)cc * T;
#pragma omp simd
            for (int t = 0; t < T; t++) y[t] = (x[t] - m) * sc + sh;
        }
    }
}

void groupnorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *mean, const float *rstd, const float *w,
                        int B, int C, int T, int G) {
    int Cg = C / G;
    long gsize = (long)Cg * T;
    if (din) {
#pragma omp parallel for schedule(static) if ((long)B * C * T >= NN_PAR_MIN)
        for (int bg = 0; bg < B * G; bg++) {
            int bi = bg / G, g = bg % G;
            long base = ((long)bi * C + (long)g * Cg) * T;
            float m = mean[bg], r = rstd[bg];
            double s1 = 0, s2 = 0;    // sum dxhat, sum dxhat * xhat
            for (int cc = 0; cc < Cg; cc++) {
                float wc = w ? w[g * Cg + cc] : 1.0f;
                const float *x = in + base + (long)cc * T, *dy = dout + base + (long)cc * T;
#pragma omp simd reduction(+ : s1, s2)
                for (int t = 0; t < T; t++) {
                    float dxh = dy[t] * wc, xh = (x[t] - m) * r;
                    s1 += dxh; s2 += (double)dxh * xh;
                }
            }
            float a1 = (float)(s1 / gsize), a2 = (float)(s2 / gsize);
            for (int cc = 0; cc < Cg; cc++) {
                float wc = w ? w[g * Cg + cc] : 1.0f;
                const float *x = in + base + (long)cc * T, *dy = dout + base + (long)cc * T;
                float *dx = din + base + (long)cc * T;
#pragma omp simd
                for (int t = 0; t < T; t++) {
                    float xh = (x[t] - m) * r;
                    dx[t] += r * (dy[t] * wc - a1 - xh * a2);
                }
            }
        }
    }
    if (dw || db) {
#pragma omp parallel for schedule(static) if ((long)B * C * T >= NN_PAR_MIN)
        for (int c = 0; c < C; c++) {
            int g = c / Cg;
            double sw = 0, sb = 0;
            for (int bi = 0; bi < B; bi++) {
                float m = mean[bi * G + g], r = rstd[bi * G + g];
                const float *x = in + ((long)bi * C + c) * T, *dy = dout + ((long)bi * C + c) * T;
#pragma omp simd reduction(+ : sw, sb)
                for (int t = 0; t < T; t++) { sw += (double)dy[t] * ((x[t] - m) * r); sb += dy[t]; }
            }
            if (dw) dw[c] += (float)sw;
            if (db) db[c] += (float)sb;
        }
    }
}

// ---- layer norm -------------------------------------------------------------------
void layernorm_forward(float *out, float *mean, float *rstd, const float *in,
                       const float *w, const float *b, int N, int C) {
#pragma omp parallel for schedule(static) if ((long)N * C >= NN_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *x = in + (long)n * C;
        float *y = out + (long)n * C;
        float m, r;
        stats(x, C, &m, &r);
        mean[n] = m; rstd[n] = r;
        if (w && b) {
#pragma omp simd
            for (int c = 0; c < C; c++) y[c] = (x[c] - m) * r * w[c] + b[c];
        } else if (w || b) {
            for (int c = 0; c < C; c++) y[c] = (x[c] - m) * r * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f);
        } else {
#pragma omp simd
            for (int c = 0; c < C; c++) y[c] = (x[c] - m) * r;
        }
    }
}

#define LN_BLK 64

// One row of layer-norm backward. w == NULL means no affine; the two cases
// are separate loops so both vectorize (a per-element `w ? :` does not).
static inline void ln_row_backward(float *dx, const float *dy, const float *x, const float *w,
                                   float m, float r, int C) {
    double s1 = 0, s2 = 0;    // sum dxhat, sum dxhat * xhat
    if (w) {
#pragma omp simd reduction(+ : s1, s2)
        for (int c = 0; c < C; c++) { float dxh = dy[c] * w[c]; s1 += dxh; s2 += (double)dxh * ((x[c] - m) * r); }
    } else {
#pragma omp simd reduction(+ : s1, s2)
        for (int c = 0; c < C; c++) { s1 += dy[c]; s2 += (double)dy[c] * ((x[c] - m) * r); }
    }
    float a1 = (float)(s1 / C), a2 = (float)(s2 / C);
    if (w) {
#pragma omp simd
        for (int c = 0; c < C; c++) dx[c] += r * (dy[c] * w[c] - a1 - (x[c] - m) * r * a2);
    } else {
#pragma omp simd
        for (int c = 0; c < C; c++) dx[c] += r * (dy[c] - a1 - (x[c] - m) * r * a2);
    }
}

void layernorm_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                        const float *mean, const float *rstd, const float *w, int N, int C) {
    if (din) {
#pragma omp parallel for schedule(static) if ((long)N * C >= NN_PAR_MIN)
        for (int n = 0; n < N; n++)
            ln_row_backward(din + (long)n * C, dout + (long)n * C, in + (long)n * C, w, mean[n], rstd[n], C);
    }
    if (dw || db) {   // per block of columns, rows summed in order
        int nblk = (C + LN_BLK - 1) / LN_BLK;
#pragma omp parallel for schedule(static) if ((long)N * C >= NN_PAR_MIN)
        for (int blk = 0; blk < nblk; blk++) {
            int c0 = blk * LN_BLK, nc = C - c0 < LN_BLK ? C - c0 : LN_BLK;
            double sw[LN_BLK] = {0}, sb[LN_BLK] = {0};
            for (int n = 0; n < N; n++) {
                const float *x = in + (long)n * C + c0, *dy = dout + (long)n * C + c0;
                float m = mean[n], r = rstd[n];
                for (int c = 0; c < nc; c++) { sw[c] += dy[c] * ((x[c] - m) * r); sb[c] += dy[c]; }
            }
            for (int c = 0; c < nc; c++) {
                if (dw) dw[c0 + c] += (float)sw[c];
                if (db) db[c0 + c] += (float)sb[c];
            }
        }
    }
}
