// activations.c — elementwise and row-wise layers: SiLU, GELU (tanh
// approximation), softmax, AdaLN modulation, gated residual, sinusoidal
// timestep embedding, y += x and y *= a, and the MSE and L1 losses.
// Forward and backward. Nothing here depends on -ffast-math: exp is
// nn_expf (kernels_internal.h), plain IEEE arithmetic that vectorizes under
// `omp simd` and gives the same bits vectorized or not.
//
// Legend: B batch, T time, C channels, N rows, E embedding width, n elements.
#include "nn/layers.h"
#include "nn/kernels_internal.h"

#include <math.h>

// ---- SiLU: x * sigmoid(x) -------------------------------------------------------------
void silu_forward(float *out, const float *in, long n) {
#pragma omp parallel for simd schedule(static) if (n >= NN_PAR_MIN)
    for (long i = 0; i < n; i++) {
        float x = in[i];
        out[i] = x / (1.0f + nn_expf(-x));
    }
}

void silu_backward(float *din, const float *dout, const float *in, long n) {
#pragma omp parallel for simd schedule(static) if (n >= NN_PAR_MIN)
    for (long i = 0; i < n; i++) {
        float x = in[i], s = 1.0f / (1.0f + nn_expf(-x));
        din[i] += dout[i] * s * (1.0f + x * (1.0f - s));
    }
}

// ---- GELU, tanh approximation: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3) ----
// Computed through the identity 0.5 (1 + tanh(u)) = sigmoid(2u), so one
// vectorized exp serves both directions:
//   gelu(x)  = x s,  s = sigmoid(2u)
//   gelu'(x) = s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
#define GELU_K 0.7978845608028654f   // sqrt(2/pi)
#define GELU_A 0.044715f

void gelu_forward(float *out, const float *in, long n) {
#pragma omp parallel for simd schedule(static) if (n >= NN_PAR_MIN)
    for (long i = 0; i < n; i++) {
        float x = in[i];
        float u2 = 2.0f * GELU_K * (x + GELU_A * x * x * x);
        out[i] = x / (1.0f + nn_expf(-u2));
    }
}

void gelu_backward(float *din, const float *dout, const float *in, long n) {
#pragma omp parallel for simd schedule(static) if (n >= NN_PAR_MIN)
    for (long i = 0; i < n; i++) {
        float x = in[i], x2 = x * x;
        float u2 = 2.0f * GELU_K * (x + GELU_A * x2 * x);
        float s = 1.0f / (1.0f + nn_expf(-u2));
        float du = GELU_K * (1.0f + 3.0f * GELU_A * x2);
        din[i] += dout[i] * (s + 2.0f * x * s * (1.0f - s) * du);
    }
}

// ---- softmax over the last dim of (N, C) -------------------------------------------------
void softmax_forward(float *out, const float *in, int N, int C) {
#pragma omp parallel for schedule(static) if ((long)N * C >= NN_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *x = in + (long)r * C;
        float *y = out + (long)r * C;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int c = 0; c < C; c++) mx = x[c] > mx ? x[c] : mx;
#pragma omp simd
        for (int c = 0; c < C; c++) y[c] = nn_expf(x[c] - mx);
        double s = 0;   // a separate loop: GCC will not vectorize float exp and a double sum together
#pragma omp simd reduction(+ : s)
        for (int c = 0; c < C; c++) s += y[c];
        float inv = (float)(1.0 / s);
#pragma omp simd
        for (int c = 0; c < C; c++) y[c] *= inv;
    }
}

void softmax_backward(float *din, const float *dout, const float *out, int N, int C) {
#pragma omp parallel for schedule(static) if ((long)N * C >= NN_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *y = out + (long)r * C, *dy = dout + (long)r * C;
        float *dx = din + (long)r * C;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int c = 0; c < C; c++) s += (double)dy[c] * y[c];
        float sf = (float)s;
        for (int c = 0; c < C; c++) dx[c] += y[c] * (dy[c] - sf);
    }
}

// ---- AdaLN modulation and gated residual -------------------------------------------------
// Sums over T per (b, c) run in parallel over (b, block of 64 channels), each
// summed in time order: the same bits for any thread count.
#define MBLK 64

// out (B, T, C) = x * (1 + scale[b]) + shift[b]; shift and scale must be given.
void modulate_forward(float *out, const float *x, const float *shift, const float *scale,
                      int B, int T, int C) {
#pragma omp parallel for schedule(static) if ((long)B * T * C >= NN_PAR_MIN)
    for (long bt = 0; bt < (long)B * T; bt++) {
        long bi = bt / T;
        const float *sh = shift + bi * C, *sc = scale + bi * C, *xr = x + bt * C;
        float *y = out + bt * C;
#pragma omp simd
        for (int c = 0; c < C; c++) y[c] = xr[c] * (1.0f + sc[c]) + sh[c];
    }
}

void modulate_backward(float *dx, float *dshift, float *dscale, const float *dout,
                       const float *x, const float *scale, int B, int T, int C) {
    if (dx) {
#pragma omp parallel for schedule(static) if ((long)B * T * C >= NN_PAR_MIN)
        for (long bt = 0; bt < (long)B * T; bt++) {
            const float *sc = scale + (bt / T) * C, *dy = dout + bt * C;
            float *d = dx + bt * C;
#pragma omp simd
            for (int c = 0; c < C; c++) d[c] += dy[c] * (1.0f + sc[c]);
        }
    }
    if (dshift || dscale) {
        int nblk = (C + MBLK - 1) / MBLK;
#pragma omp parallel for schedule(static) if ((long)B * T * C >= NN_PAR_MIN)
        for (int job = 0; job < B * nblk; job++) {
            int bi = job / nblk, c0 = (job % nblk) * MBLK, nc = C - c0 < MBLK ? C - c0 : MBLK;
            double ssh[MBLK] = {0}, ssc[MBLK] = {0};
            for (int t = 0; t < T; t++) {
                const float *dy = dout + ((long)bi * T + t) * C + c0;
                const float *xr = x + ((long)bi * T + t) * C + c0;
#pragma omp simd
                for (int c = 0; c < nc; c++) { ssh[c] += dy[c]; ssc[c] += (double)dy[c] * xr[c]; }
            }
            for (int c = 0; c < nc; c++) {
                if (dshift) dshift[(long)bi * C + c0 + c] += (float)ssh[c];
                if (dscale) dscale[(long)bi * C + c0 + c] += (float)ssc[c];
            }
        }
    }
}

// out (B, T, C) = res + gate[b] * y
void gated_residual_forward(float *out, const float *res, const float *y, const float *gate,
                            int B, int T, int C) {
#pragma omp parallel for schedule(static) if ((long)B * T * C >= NN_PAR_MIN)
    for (long bt = 0; bt < (long)B * T; bt++) {
        const float *g = gate + (bt / T) * C, *r = res + bt * C, *yr = y + bt * C;
        float *o = out + bt * C;
#pragma omp simd
        for (int c = 0; c < C; c++) o[c] = r[c] + g[c] * yr[c];
    }
}

void gated_residual_backward(float *dres, float *dy, float *dgate, const float *dout,
                             const float *y, const float *gate, int B, int T, int C) {
    if (dres || dy) {
#pragma omp parallel for schedule(static) if ((long)B * T * C >= NN_PAR_MIN)
        for (long bt = 0; bt < (long)B * T; bt++) {
            const float *g = gate + (bt / T) * C, *d = dout + bt * C;
            if (dres) {
                float *r = dres + bt * C;
#pragma omp simd
                for (int c = 0; c < C; c++) r[c] += d[c];
            }
            if (dy) {
                float *yy = dy + bt * C;
#pragma omp simd
                for (int c = 0; c < C; c++) yy[c] += d[c] * g[c];
            }
        }
    }
    if (dgate) {
        int nblk = (C + MBLK - 1) / MBLK;
#pragma omp parallel for schedule(static) if ((long)B * T * C >= NN_PAR_MIN)
        for (int job = 0; job < B * nblk; job++) {
            int bi = job / nblk, c0 = (job % nblk) * MBLK, nc = C - c0 < MBLK ? C - c0 : MBLK;
            double s[MBLK] = {0};
            for (int t = 0; t < T; t++) {
                const float *d = dout + ((long)bi * T + t) * C + c0, *yr = y + ((long)bi * T + t) * C + c0;
#pragma omp simd
                for (int c = 0; c < nc; c++) s[c] += (double)d[c] * yr[c];
            }
            for (int c = 0; c < nc; c++) dgate[(long)bi * C + c0 + c] += (float)s[c];
        }
    }
}

// ---- sinusoidal timestep embedding -------------------------------------------------------
// out[b, i] = cos(t f_i), out[b, E/2 + i] = sin(t f_i), f_i = max_period^(-i/(E/2))
void timestep_embedding(float *out, const float *t, int B, int E, float max_period) {
    int half = E / 2;
    double lmp = log((double)max_period);
    for (int bi = 0; bi < B; bi++)
        for (int i = 0; i < half; i++) {
            double f = exp(-lmp * i / half), a = (double)t[bi] * f;
            out[(long)bi * E + i] = (float)cos(a);
            out[(long)bi * E + half + i] = (float)sin(a);
        }
}

// ---- elementwise helpers ------------------------------------------------------------------
void add_inplace(float *y, const float *x, long n) {
#pragma omp parallel for simd schedule(static) if (n >= NN_PAR_MIN)
    for (long i = 0; i < n; i++) y[i] += x[i];
}

void scale_inplace(float *y, float a, long n) {
#pragma omp parallel for simd schedule(static) if (n >= NN_PAR_MIN)
    for (long i = 0; i < n; i++) y[i] *= a;
}

// ---- losses (means over n); sums in double, in index order ---------------------------------
float mse_loss(float *dpred, const float *pred, const float *target, long n) {
    if (n <= 0) return 0.0f;
    double s = 0;
    for (long i = 0; i < n; i++) { double d = (double)pred[i] - target[i]; s += d * d; }
    if (dpred) {
        float k = (float)(2.0 / (double)n);
#pragma omp parallel for schedule(static) if (n >= NN_PAR_MIN)
        for (long i = 0; i < n; i++) dpred[i] += k * (pred[i] - target[i]);
    }
    return (float)(s / (double)n);
}

// d|d|/dd is sign(d), with sign(0) = 0 (PyTorch's choice).
float l1_loss(float *dpred, const float *pred, const float *target, long n) {
    if (n <= 0) return 0.0f;
    double s = 0;
    for (long i = 0; i < n; i++) s += fabs((double)pred[i] - target[i]);
    if (dpred) {
        float k = (float)(1.0 / (double)n);
#pragma omp parallel for schedule(static) if (n >= NN_PAR_MIN)
        for (long i = 0; i < n; i++) {
            float d = pred[i] - target[i];
            dpred[i] += d > 0 ? k : (d < 0 ? -k : 0.0f);
        }
    }
    return (float)(s / (double)n);
}
