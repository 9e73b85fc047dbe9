// attention.c — rotary position embedding and the scaled dot-product
// attention core (self or cross, optional key mask and causal mask), forward
// and backward, plus the naive reference attention. The projections around it
// (q, k, v, out) are linear layers, wired in dit.c.
//
// Legend: B batch, H heads, D head dim, C = H*D, Tq query length, Tk key
// length. q is (B, Tq, H, D) = rows of (B, Tq, C); k, v are (B, Tk, H, D);
// att is (B, H, Tq, Tk).
//
// Each (b, h) pair is independent: OpenMP splits the B*H pairs statically and
// each thread runs single-threaded sgemm on its pair (QK^T and PV), writing
// only that pair's slices, so results are the same for any thread count.
#include "nn/layers.h"
#include "nn/kernels_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static _Thread_local NnScratch s_rope;   // cos/sin table (T, D/2) x 2
static _Thread_local int s_rope_T, s_rope_D;   // what the table holds
static _Thread_local float s_rope_base;
static _Thread_local NnScratch s_att;    // dP (Tq, Tk) per worker thread

// ---- rotary position embedding ------------------------------------------------------
// Angles in double: pos * base^(-2i/D); rounding to float only at the end.
// The table is kept per thread and rebuilt only when (T, D, base) change.
static float *rope_table(int T, int D, float base) {
    int half = D / 2;
    if (T == s_rope_T && D == s_rope_D && base == s_rope_base) return s_rope.p;
    float *tab = nn_scratch(&s_rope, (size_t)T * half * 2);   // cos (T, D/2), sin (T, D/2)
    float *cs = tab, *sn = tab + (long)T * half;
    s_rope_T = T; s_rope_D = D; s_rope_base = base;
    for (int i = 0; i < half; i++) {
        double f = pow((double)base, -2.0 * i / D);
        for (int t = 0; t < T; t++) {
            double a = t * f;
            cs[(long)t * half + i] = (float)cos(a);
            sn[(long)t * half + i] = (float)sin(a);
        }
    }
    return tab;
}

// dir = +1 rotates forward; dir = -1 rotates back (the transpose).
static void rope_apply(float *x, int B, int T, int H, int D, float base, float dir) {
    int half = D / 2;
    const float *tab = rope_table(T, D, base);
    const float *cs = tab, *sn = tab + (long)T * half;
#pragma omp parallel for schedule(static) if ((long)B * T * H * D >= NN_PAR_MIN)
    for (long bt = 0; bt < (long)B * T; bt++) {
        int t = (int)(bt % T);
        const float *c = cs + (long)t * half, *s = sn + (long)t * half;
        for (int h = 0; h < H; h++) {
            float *v = x + (bt * H + h) * D;
#pragma omp simd
            for (int i = 0; i < half; i++) {
                float x0 = v[2 * i], x1 = v[2 * i + 1], si = dir * s[i];
                v[2 * i] = x0 * c[i] - x1 * si;
                v[2 * i + 1] = x0 * si + x1 * c[i];
            }
        }
    }
}

void rope_forward(float *x, int B, int T, int H, int D, float base) {
    if (B > 0 && T > 0 && H > 0 && D > 1) rope_apply(x, B, T, H, D, base, 1.0f);
}

void rope_backward(float *dx, int B, int T, int H, int D, float base) {
    if (B > 0 && T > 0 && H > 0 && D > 1) rope_apply(dx, B, T, H, D, base, -1.0f);
}

// ---- attention --------------------------------------------------------------------------
// One row of scores -> probabilities over the allowed keys (j < lim, and
// m[j] != 0 when there is a mask); masked keys get exactly 0, and a row with
// no allowed key is all 0.
static void masked_softmax_row(float *p, const uint8_t *m, int lim, int Tk) {
    float mx = -INFINITY;
    int any = 0;
    if (m) {
        for (int j = 0; j < lim; j++)
            if (m[j]) { any = 1; mx = p[j] > mx ? p[j] : mx; }
    } else {
        any = lim > 0;
#pragma omp simd reduction(max : mx)
        for (int j = 0; j < lim; j++) mx = p[j] > mx ? p[j] : mx;
    }
    if (!any) { memset(p, 0, (size_t)Tk * sizeof(float)); return; }
    if (m) {
#pragma omp simd
        for (int j = 0; j < lim; j++) { float e = nn_expf(p[j] - mx); p[j] = m[j] ? e : 0.0f; }
    } else {
#pragma omp simd
        for (int j = 0; j < lim; j++) p[j] = nn_expf(p[j] - mx);
    }
    double s = 0;   // a separate loop: GCC will not vectorize float exp and a double sum together
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < lim; j++) s += p[j];
    float inv = (float)(1.0 / s);
#pragma omp simd
    for (int j = 0; j < lim; j++) p[j] *= inv;
    for (int j = lim; j < Tk; j++) p[j] = 0.0f;
}

void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       const uint8_t *kmask, int B, int H, int Tq, int Tk, int D, int causal) {
    const int C = H * D;
    if (B <= 0 || H <= 0 || Tq <= 0 || D <= 0) return;
    if (Tk <= 0) { memset(out, 0, (size_t)B * Tq * C * sizeof(float)); return; }
    const float scale = 1.0f / sqrtf((float)D);
    int prev = nn_blas_serial_begin();
#pragma omp parallel for schedule(static) if (B * H > 1)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        const float *Q = q + (long)b * Tq * C + (long)h * D;     // (Tq, D), row stride C
        const float *K = k + (long)b * Tk * C + (long)h * D;     // (Tk, D)
        const float *V = v + (long)b * Tk * C + (long)h * D;     // (Tk, D)
        float *O = out + (long)b * Tq * C + (long)h * D;         // (Tq, D)
        float *P = att + (long)bh * Tq * Tk;                     // (Tq, Tk)
        const uint8_t *m = kmask ? kmask + (long)b * Tk : NULL;
        // P = scale * Q K^T, then masked softmax per row
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, D,
                    scale, Q, C, K, C, 0.0f, P, Tk);
        for (int i = 0; i < Tq; i++)   // causal: key j > query i is masked
            masked_softmax_row(P + (long)i * Tk, m, causal ? (i + 1 < Tk ? i + 1 : Tk) : Tk, Tk);
        // O = P V
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, D, Tk,
                    1.0f, P, Tk, V, C, 0.0f, O, C);
    }
    nn_blas_serial_end(prev);
}

// d (Tk) <- scale * p * (d - sum(p * d)): softmax backward on one row, in place.
static void softmax_grad_row(float *d, const float *p, float scale, int Tk) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < Tk; j++) s += (double)p[j] * d[j];
    float sf = (float)s;
#pragma omp simd
    for (int j = 0; j < Tk; j++) d[j] = scale * p[j] * (d[j] - sf);
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *att,
                        const float *q, const float *k, const float *v,
                        int B, int H, int Tq, int Tk, int D) {
    const int C = H * D;
    if (B <= 0 || H <= 0 || Tq <= 0 || Tk <= 0 || D <= 0) return;
    const float scale = 1.0f / sqrtf((float)D);
    float *scratch = (dq || dk) ? nn_scratch(&s_att, (size_t)nn_team_max() * Tq * Tk) : NULL;
    int prev = nn_blas_serial_begin();
#pragma omp parallel for schedule(static) if (B * H > 1)
    for (int bh = 0; bh < B * H; bh++) {
        int b = bh / H, h = bh % H;
        long qo = (long)b * Tq * C + (long)h * D, ko = (long)b * Tk * C + (long)h * D;
        const float *P = att + (long)bh * Tq * Tk;                // (Tq, Tk)
        const float *dO = dout + qo;                              // (Tq, D), row stride C
        if (dv)   // dV (Tk, D) += P^T (Tk, Tq) @ dO (Tq, D)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, D, Tq,
                        1.0f, P, Tk, dO, C, 1.0f, dv + ko, C);
        if (!dq && !dk) continue;
        float *dS = scratch + (long)nn_thread_id() * Tq * Tk;    // (Tq, Tk)
        // dP = dO V^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, Tk, D,
                    1.0f, dO, C, v + ko, C, 0.0f, dS, Tk);
        // dS = scale * P * (dP - rowsum(P * dP)); masked keys have P = 0
        for (int i = 0; i < Tq; i++) softmax_grad_row(dS + (long)i * Tk, P + (long)i * Tk, scale, Tk);
        if (dq)   // dQ (Tq, D) += dS (Tq, Tk) @ K (Tk, D)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, D, Tk,
                        1.0f, dS, Tk, k + ko, C, 1.0f, dq + qo, C);
        if (dk)   // dK (Tk, D) += dS^T (Tk, Tq) @ Q (Tq, D)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Tk, D, Tq,
                        1.0f, dS, Tk, q + qo, C, 1.0f, dk + ko, C);
    }
    nn_blas_serial_end(prev);
}

void attention_forward_naive(float *out, const float *q, const float *k, const float *v,
                             const uint8_t *kmask, int B, int H, int Tq, int Tk, int D, int causal) {
    const int C = H * D;
    double *p = mallocCheck((size_t)(Tk > 0 ? Tk : 1) * sizeof(double));
    double scale = 1.0 / sqrt((double)D);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Tq; i++) {
                const float *qi = q + ((long)b * Tq + i) * C + (long)h * D;
                float *o = out + ((long)b * Tq + i) * C + (long)h * D;
                double mx = -INFINITY, s = 0;
                for (int j = 0; j < Tk; j++) {
                    int ok = (!kmask || kmask[(long)b * Tk + j]) && (!causal || j <= i);
                    p[j] = -INFINITY;
                    if (!ok) continue;
                    const float *kj = k + ((long)b * Tk + j) * C + (long)h * D;
                    double dot = 0;
                    for (int d = 0; d < D; d++) dot += (double)qi[d] * kj[d];
                    p[j] = dot * scale;
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j < Tk; j++) { p[j] = p[j] == -INFINITY ? 0.0 : exp(p[j] - mx); s += p[j]; }
                for (int d = 0; d < D; d++) {
                    double acc = 0;
                    for (int j = 0; j < Tk; j++)
                        if (p[j] != 0.0) acc += p[j] * v[((long)b * Tk + j) * C + (long)h * D + d];
                    o[d] = s > 0 ? (float)(acc / s) : 0.0f;
                }
            }
    free(p);
}
