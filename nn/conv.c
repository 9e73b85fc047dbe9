// conv.c — 1-D convolution over time (im2col + one sgemm over the whole
// batch, or per item for very large inputs; stride, zero padding and
// dilation) and 2x nearest upsampling, forward and backward, plus the naive
// reference convolution. Owns nothing else.
//
// Legend: B batch, C input channels, T input length, OC output channels,
// K kernel width, To output length, CK = C*K rows of the im2col matrix.
#include "nn/layers.h"
#include "nn/kernels_internal.h"

#include <string.h>

static _Thread_local NnScratch s_conv;   // im2col matrices and gathered outputs

int conv1d_out_len(int T, int K, int stride, int pad, int dil) {
    if (T < 0 || K < 1 || stride < 1 || dil < 1 || pad < 0) return 0;
    long span = (long)dil * (K - 1) + 1;
    long len = (long)T + 2L * pad - span;
    return len < 0 ? 0 : (int)(len / stride + 1);
}

// Output steps t in [*lo, *hi) read a real input sample for tap offset
// off = k*dil - pad: 0 <= t*stride + off < T. Outside, the tap sees padding.
static void tap_range(int T, int To, int stride, int off, int *lo, int *hi) {
    long l = off >= 0 ? 0 : (-(long)off + stride - 1) / stride;
    long last = (long)T - 1 - off;                 // t*stride <= last
    long h = last < 0 ? 0 : last / stride + 1;
    if (h > To) h = To;
    if (l > h) l = h;
    *lo = (int)l; *hi = (int)h;
}

// im2col of a batch: col (CK, B*To), item b in columns [b*To, (b+1)*To):
// col[c*K + k, b*To + t] = in[b, c, t*stride - pad + k*dil], or 0 in the padding.
// One parallel loop over (item, row) pairs; each writes its own segment.
static void im2col(float *col, const float *in, int B, int C, int T, int K, int To,
                   int stride, int pad, int dil) {
    long CK = (long)C * K, BT = (long)B * To;
#pragma omp parallel for schedule(static) if (CK * BT >= NN_PAR_MIN)
    for (long job = 0; job < B * CK; job++) {
        long bi = job / CK, r = job % CK;
        int c = (int)(r / K), k = (int)(r % K), off = k * dil - pad, lo, hi;
        tap_range(T, To, stride, off, &lo, &hi);
        float *row = col + r * BT + bi * To;
        const float *src = in + (bi * C + c) * T;
        if (lo > 0) memset(row, 0, (size_t)lo * sizeof(float));
        if (stride == 1) {
            if (hi > lo) memcpy(row + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
        } else {
            for (int t = lo; t < hi; t++) row[t] = src[(long)t * stride + off];
        }
        if (hi < To) memset(row + hi, 0, (size_t)(To - hi) * sizeof(float));
    }
}

// din (B, C, T) += scatter of dcol (CK, B*To): one job per (item, channel),
// taps and steps in a fixed order, so the sums do not depend on the thread count.
static void col2im_add(float *din, const float *dcol, int B, int C, int T, int K, int To,
                       int stride, int pad, int dil) {
    long BT = (long)B * To;
#pragma omp parallel for schedule(static) if ((long)C * K * BT >= NN_PAR_MIN)
    for (long job = 0; job < (long)B * C; job++) {
        long bi = job / C, c = job % C;
        float *dst = din + job * T;
        for (int k = 0; k < K; k++) {
            int off = k * dil - pad, lo, hi;
            tap_range(T, To, stride, off, &lo, &hi);
            const float *row = dcol + (c * K + k) * BT + bi * To;
            if (stride == 1) {
                float *d = dst + off;
#pragma omp simd
                for (int t = lo; t < hi; t++) d[t] += row[t];
            } else {
                for (int t = lo; t < hi; t++) dst[(long)t * stride + off] += row[t];
            }
        }
    }
}

// The whole batch is one product over B*To columns: col (CK, B*To), and
// out/dout gathered to (OC, B*To). One product shares well among threads
// however short the items are, and a call has a fixed, small number of
// parallel regions (each of which, on shared cores, can wait for its second
// thread). When that scratch would pass nn_conv_batch_max floats, items go
// one at a time instead. The choice depends only on the shape.
long nn_conv_batch_max = 16L << 20;
static int use_batched(int B, long CK, int OC, int To) {
    return (double)(CK + OC) * B * To <= (double)nn_conv_batch_max;
}

static void conv1d_forward_batched(float *out, const float *in, const float *w, const float *b,
                                   int B, int C, int T, int OC, int K, int stride, int pad, int dil, int To) {
    long CK = (long)C * K, BT = (long)B * To;
    float *col = nn_scratch(&s_conv, (size_t)((CK + OC) * BT));   // col (CK, B*To), y (OC, B*To)
    float *y = col + CK * BT;
    im2col(col, in, B, C, T, K, To, stride, pad, dil);
    nn_sgemm(0, 0, OC, (int)BT, (int)CK, 1.0f, w, (int)CK, col, (int)BT, 0.0f, y, (int)BT);
#pragma omp parallel for schedule(static) if ((long)OC * BT >= NN_PAR_MIN)
    for (long bo = 0; bo < (long)B * OC; bo++) {     // y (OC, B*To) -> out (B, OC, To), + bias
        long bi = bo / OC, o = bo % OC;
        const float *src = y + o * BT + bi * To;
        float *dst = out + bo * To, bias = b ? b[o] : 0.0f;
#pragma omp simd
        for (int t = 0; t < To; t++) dst[t] = src[t] + bias;
    }
}

static void conv1d_backward_batched(float *din, float *dw, const float *dout, const float *in,
                                    const float *w, int B, int C, int T, int OC, int K,
                                    int stride, int pad, int dil, int To) {
    long CK = (long)C * K, BT = (long)B * To;
    float *dy = nn_scratch(&s_conv, (size_t)((CK + OC) * BT));     // dy (OC, B*To), col (CK, B*To)
    float *col = dy + OC * BT;
#pragma omp parallel for schedule(static) if ((long)OC * BT >= NN_PAR_MIN)
    for (long bo = 0; bo < (long)B * OC; bo++) {     // dout (B, OC, To) -> dy (OC, B*To)
        long bi = bo / OC, o = bo % OC;
        memcpy(dy + o * BT + bi * To, dout + bo * To, (size_t)To * sizeof(float));
    }
    if (dw) {   // dw (OC, CK) += dy (OC, B*To) @ col^T (B*To, CK)
        im2col(col, in, B, C, T, K, To, stride, pad, dil);
        nn_sgemm(0, 1, OC, (int)CK, (int)BT, 1.0f, dy, (int)BT, col, (int)BT, 1.0f, dw, (int)CK);
    }
    if (din) {  // dcol (CK, B*To) = w^T (CK, OC) @ dy (OC, B*To), then scatter
        nn_sgemm(1, 0, (int)CK, (int)BT, OC, 1.0f, w, (int)CK, dy, (int)BT, 0.0f, col, (int)BT);
        col2im_add(din, col, B, C, T, K, To, stride, pad, dil);
    }
}

// A 1x1 convolution with no stride or padding reads the input as it is.
static int is_pointwise(int K, int stride, int pad) { return K == 1 && stride == 1 && pad == 0; }

void conv1d_forward(float *out, const float *in, const float *w, const float *b,
                    int B, int C, int T, int OC, int K, int stride, int pad, int dil) {
    int To = conv1d_out_len(T, K, stride, pad, dil);
    if (B <= 0 || OC <= 0 || To <= 0) return;
    long CK = (long)C * K;
    if (use_batched(B, CK, OC, To)) {
        conv1d_forward_batched(out, in, w, b, B, C, T, OC, K, stride, pad, dil, To);
        return;
    }
    int direct = is_pointwise(K, stride, pad);
    float *col = (direct || CK == 0) ? NULL : nn_scratch(&s_conv, (size_t)(CK * To));
    for (int bi = 0; bi < B; bi++) {
        const float *inb = in + (long)bi * C * T;          // (C, T)
        float *outb = out + (long)bi * OC * To;            // (OC, To)
        float beta = 0.0f;
        if (b) {
            for (int o = 0; o < OC; o++) {
                float *row = outb + (long)o * To, bias = b[o];
#pragma omp simd
                for (int t = 0; t < To; t++) row[t] = bias;
            }
            beta = 1.0f;
        } else if (CK == 0) {
            memset(outb, 0, (size_t)OC * To * sizeof(float));
        }
        if (CK == 0) continue;
        const float *src = inb;
        if (!direct) { im2col(col, inb, 1, C, T, K, To, stride, pad, dil); src = col; }
        // out (OC, To) = w (OC, CK) @ col (CK, To)
        nn_sgemm(0, 0, OC, To, (int)CK, 1.0f, w, (int)CK, src, To, beta, outb, To);
    }
}

void conv1d_backward(float *din, float *dw, float *db, const float *dout,
                     const float *in, const float *w,
                     int B, int C, int T, int OC, int K, int stride, int pad, int dil) {
    int To = conv1d_out_len(T, K, stride, pad, dil);
    if (B <= 0 || OC <= 0 || To <= 0) return;
    long CK = (long)C * K;
    if (db) {   // db (OC) += sums of dout over batch and time
#pragma omp parallel for schedule(static) if ((long)B * OC * To >= NN_PAR_MIN)
        for (int o = 0; o < OC; o++) {
            double acc = 0;
            for (int bi = 0; bi < B; bi++) {
                const float *row = dout + ((long)bi * OC + o) * To;
#pragma omp simd reduction(+ : acc)
                for (int t = 0; t < To; t++) acc += row[t];
            }
            db[o] += (float)acc;
        }
    }
    if (CK == 0 || (!dw && !din)) return;
    if (use_batched(B, CK, OC, To)) {
        conv1d_backward_batched(din, dw, dout, in, w, B, C, T, OC, K, stride, pad, dil, To);
        return;
    }
    int direct = is_pointwise(K, stride, pad);
    float *col = NULL, *dcol = NULL;
    if (!direct) {
        float *s = nn_scratch(&s_conv, (size_t)(2 * CK * To));
        col = s; dcol = s + CK * To;
    }
    for (int bi = 0; bi < B; bi++) {
        const float *inb = in + (long)bi * C * T;          // (C, T)
        const float *doutb = dout + (long)bi * OC * To;    // (OC, To)
        if (dw) {   // dw (OC, CK) += dout (OC, To) @ col^T (To, CK)
            const float *src = inb;
            if (!direct) { im2col(col, inb, 1, C, T, K, To, stride, pad, dil); src = col; }
            nn_sgemm(0, 1, OC, (int)CK, To, 1.0f, doutb, To, src, To, 1.0f, dw, (int)CK);
        }
        if (din) {  // dcol (CK, To) = w^T (CK, OC) @ dout (OC, To), then scatter
            float *dinb = din + (long)bi * C * T;
            if (direct) {
                nn_sgemm(1, 0, (int)CK, To, OC, 1.0f, w, (int)CK, doutb, To, 1.0f, dinb, To);
            } else {
                nn_sgemm(1, 0, (int)CK, To, OC, 1.0f, w, (int)CK, doutb, To, 0.0f, dcol, To);
                col2im_add(dinb, dcol, 1, C, T, K, To, stride, pad, dil);
            }
        }
    }
}

void conv1d_forward_naive(float *out, const float *in, const float *w, const float *b,
                          int B, int C, int T, int OC, int K, int stride, int pad, int dil) {
    int To = conv1d_out_len(T, K, stride, pad, dil);
    for (int bi = 0; bi < B; bi++)
        for (int o = 0; o < OC; o++)
            for (int t = 0; t < To; t++) {
                double acc = b ? b[o] : 0.0;
                for (int c = 0; c < C; c++)
                    for (int k = 0; k < K; k++) {
                        long pos = (long)t * stride - pad + (long)k * dil;
                        if (pos < 0 || pos >= T) continue;
                        acc += (double)w[((long)o * C + c) * K + k] * in[((long)bi * C + c) * T + pos];
                    }
                out[((long)bi * OC + o) * To + t] = (float)acc;
            }
}

// ---- 2x nearest upsampling: in (B, C, T) -> out (B, C, 2T) -------------------------
void upsample2x_forward(float *out, const float *in, int B, int C, int T) {
    long rows = (long)B * C;
#pragma omp parallel for schedule(static) if (rows * T >= NN_PAR_MIN)
    for (long r = 0; r < rows; r++) {
        const float *x = in + r * T;
        float *y = out + r * 2 * T;
#pragma omp simd
        for (int t = 0; t < T; t++) { y[2 * t] = x[t]; y[2 * t + 1] = x[t]; }
    }
}

void upsample2x_backward(float *din, const float *dout, int B, int C, int T) {
    long rows = (long)B * C;
#pragma omp parallel for schedule(static) if (rows * T >= NN_PAR_MIN)
    for (long r = 0; r < rows; r++) {
        const float *dy = dout + r * 2 * T;
        float *dx = din + r * T;
#pragma omp simd
        for (int t = 0; t < T; t++) dx[t] += dy[2 * t] + dy[2 * t + 1];
    }
}
