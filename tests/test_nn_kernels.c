// test_nn_kernels.c — the optimized layer kernels against naive references
// on odd sizes (linear, conv1d, attention, forward and backward), a few exact
// properties (softmax sums, rope at position 0, timestep embedding values),
// and determinism: the same call twice gives the same bits, and one thread
// gives the same bits as two.
//
// `test_nn_kernels --bench` instead times a few training-sized shapes and
// prints GFLOP/s at one and two threads (never asserted on).
#include "tests/check.h"
#include "nn/layers.h"
#include "nn/kernels_internal.h"   // nn_conv_batch_max
#include "util/rng.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static Rng g_rng;

static float *randn(long n, float sd) {
    float *x = mallocCheck((size_t)(n > 0 ? n : 1) * sizeof(float));
    rng_fill_normal(&g_rng, x, n, sd);
    return x;
}
static float *zeros(long n) { return callocCheck((size_t)(n > 0 ? n : 1), sizeof(float)); }

// Max |got - want| / (1 + rms(want)) over n: float rounding grows with the
// size of the values summed, so the error is measured against the tensor's
// scale (a sum of 900 products of O(1) terms is O(30), and so is its
// rounding), while a wrong element still shows as O(1).
static int check_rel(const char *what, const float *got, const double *want, long n, double tol) {
    double m = 0, ss = 0;
    long at = 0;
    for (long i = 0; i < n; i++) ss += want[i] * want[i];
    double scale = 1.0 + sqrt(ss / (n > 0 ? n : 1));
    for (long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]) / scale;
        if (d > m || isnan(d)) { m = isnan(d) ? INFINITY : d; at = i; }
    }
    return CHECK(m <= tol, "%s: max err/(1+rms) %.2e at %ld (tol %.0e, n %ld)", what, m, at, tol, n);
}
static double *to_double(const float *x, long n) {
    double *y = mallocCheck((size_t)(n > 0 ? n : 1) * sizeof(double));
    for (long i = 0; i < n; i++) y[i] = x[i];
    return y;
}

// ---- linear ---------------------------------------------------------------------------------
static void test_linear(int N, int C, int OC, int bias) {
    char name[96];
    snprintf(name, sizeof name, "linear N%d C%d OC%d%s", N, C, OC, bias ? " +b" : "");
    float *in = randn((long)N * C, 1), *w = randn((long)OC * C, 1.0f / sqrtf(C));
    float *b = bias ? randn(OC, 1) : NULL, *out = zeros((long)N * OC), *ref = zeros((long)N * OC);
    linear_forward(out, in, w, b, N, C, OC);
    linear_forward_naive(ref, in, w, b, N, C, OC);
    double *refd = to_double(ref, (long)N * OC);
    char what[160];
    snprintf(what, sizeof what, "%s forward vs naive", name);
    check_rel(what, out, refd, (long)N * OC, 1e-5);
    free(refd);

    // backward against double-precision loops
    float *dout = randn((long)N * OC, 1), *din = zeros((long)N * C), *dw = zeros((long)OC * C), *db = zeros(OC);
    linear_backward(din, dw, bias ? db : NULL, dout, in, w, N, C, OC);
    double *rdin = calloc((size_t)N * C, sizeof(double)), *rdw = calloc((size_t)OC * C, sizeof(double));
    double *rdb = calloc((size_t)OC, sizeof(double));
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double g = dout[(long)n * OC + o];
            rdb[o] += g;
            for (int c = 0; c < C; c++) {
                rdin[(long)n * C + c] += g * w[(long)o * C + c];
                rdw[(long)o * C + c] += g * in[(long)n * C + c];
            }
        }
    snprintf(what, sizeof what, "%s din", name); check_rel(what, din, rdin, (long)N * C, 1e-5);
    snprintf(what, sizeof what, "%s dw", name); check_rel(what, dw, rdw, (long)OC * C, 1e-5);
    if (bias) { snprintf(what, sizeof what, "%s db", name); check_rel(what, db, rdb, OC, 1e-5); }
    free(in); free(w); free(b); free(out); free(ref); free(dout); free(din); free(dw); free(db);
    free(rdin); free(rdw); free(rdb);
}

// ---- conv1d ---------------------------------------------------------------------------------
static void test_conv(int B, int C, int T, int OC, int K, int stride, int pad, int dil) {
    int To = conv1d_out_len(T, K, stride, pad, dil);
    long nin = (long)B * C * T, nw = (long)OC * C * K, nout = (long)B * OC * To;
    float *in = randn(nin, 1), *w = randn(nw, 1.0f / sqrtf(C * K)), *b = randn(OC, 1);
    float *out = zeros(nout), *ref = zeros(nout);
    conv1d_forward(out, in, w, b, B, C, T, OC, K, stride, pad, dil);
    conv1d_forward_naive(ref, in, w, b, B, C, T, OC, K, stride, pad, dil);
    double *refd = to_double(ref, nout);
    char what[160];
    snprintf(what, sizeof what, "conv1d B%d C%d T%d OC%d K%d s%d p%d d%d (To %d) forward",
             B, C, T, OC, K, stride, pad, dil, To);
    check_rel(what, out, refd, nout, 1e-5);

    float *dout = randn(nout, 1), *din = zeros(nin), *dw = zeros(nw), *db = zeros(OC);
    conv1d_backward(din, dw, db, dout, in, w, B, C, T, OC, K, stride, pad, dil);
    double *rdin = calloc((size_t)(nin ? nin : 1), sizeof(double)), *rdw = calloc((size_t)nw, sizeof(double));
    double *rdb = calloc((size_t)OC, sizeof(double));
    for (int bi = 0; bi < B; bi++)
        for (int o = 0; o < OC; o++)
            for (int t = 0; t < To; t++) {
                double g = dout[((long)bi * OC + o) * To + t];
                rdb[o] += g;
                for (int c = 0; c < C; c++)
                    for (int k = 0; k < K; k++) {
                        long pos = (long)t * stride - pad + (long)k * dil;
                        if (pos < 0 || pos >= T) continue;
                        rdin[((long)bi * C + c) * T + pos] += g * w[((long)o * C + c) * K + k];
                        rdw[((long)o * C + c) * K + k] += g * in[((long)bi * C + c) * T + pos];
                    }
            }
    snprintf(what, sizeof what, "conv1d K%d s%d p%d d%d din", K, stride, pad, dil);
    check_rel(what, din, rdin, nin, 1e-5);
    snprintf(what, sizeof what, "conv1d K%d s%d p%d d%d dw, db", K, stride, pad, dil);
    double *both = mallocCheck((size_t)(nw + OC) * sizeof(double));
    float *gboth = mallocCheck((size_t)(nw + OC) * sizeof(float));
    memcpy(both, rdw, nw * sizeof(double)); memcpy(both + nw, rdb, OC * sizeof(double));
    memcpy(gboth, dw, nw * sizeof(float)); memcpy(gboth + nw, db, OC * sizeof(float));
    check_rel(what, gboth, both, nw + OC, 1e-5);
    free(in); free(w); free(b); free(out); free(ref); free(refd); free(dout); free(din); free(dw); free(db);
    free(rdin); free(rdw); free(rdb); free(both); free(gboth);
}

// ---- attention -----------------------------------------------------------------------------------
// Reference backward in double from the definition, recomputing probabilities.
static void attention_backward_ref(double *dq, double *dk, double *dv, const float *dout,
                                   const float *q, const float *k, const float *v, const uint8_t *mask,
                                   int B, int H, int Tq, int Tk, int D, int causal) {
    int C = H * D;
    double sc = 1.0 / sqrt((double)D);
    double *p = mallocCheck((size_t)(Tk + 1) * sizeof(double)), *dp = mallocCheck((size_t)(Tk + 1) * sizeof(double));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Tq; i++) {
                long qi = ((long)b * Tq + i) * C + (long)h * D;
                double mx = -INFINITY, s = 0;
                for (int j = 0; j < Tk; j++) {
                    int ok = (!mask || mask[b * Tk + j]) && (!causal || j <= i);
                    p[j] = -INFINITY;
                    if (!ok) continue;
                    double dot = 0;
                    for (int d = 0; d < D; d++) dot += (double)q[qi + d] * k[((long)b * Tk + j) * C + (long)h * D + d];
                    p[j] = dot * sc;
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j < Tk; j++) { p[j] = p[j] == -INFINITY ? 0 : exp(p[j] - mx); s += p[j]; }
                if (s == 0) continue;
                double pdp = 0;
                for (int j = 0; j < Tk; j++) {
                    p[j] /= s;
                    long kj = ((long)b * Tk + j) * C + (long)h * D;
                    dp[j] = 0;
                    for (int d = 0; d < D; d++) {
                        dp[j] += (double)dout[qi + d] * v[kj + d];
                        dv[kj + d] += p[j] * dout[qi + d];
                    }
                    pdp += p[j] * dp[j];
                }
                for (int j = 0; j < Tk; j++) {
                    double ds = p[j] * (dp[j] - pdp) * sc;
                    long kj = ((long)b * Tk + j) * C + (long)h * D;
                    for (int d = 0; d < D; d++) {
                        dq[qi + d] += ds * k[kj + d];
                        dk[kj + d] += ds * q[qi + d];
                    }
                }
            }
    free(p); free(dp);
}

static void test_attention(int B, int H, int Tq, int Tk, int D, int causal, const uint8_t *mask) {
    int C = H * D;
    long nq = (long)B * Tq * C, nk = (long)B * Tk * C;
    float *q = randn(nq, 1), *k = randn(nk, 1), *v = randn(nk, 1);
    float *out = zeros(nq), *ref = zeros(nq), *att = zeros((long)B * H * Tq * Tk);
    attention_forward(out, att, q, k, v, mask, B, H, Tq, Tk, D, causal);
    attention_forward_naive(ref, q, k, v, mask, B, H, Tq, Tk, D, causal);
    double *refd = to_double(ref, nq);
    char what[160];
    snprintf(what, sizeof what, "attention B%d H%d Tq%d Tk%d D%d%s%s forward", B, H, Tq, Tk, D,
             causal ? " causal" : "", mask ? " masked" : "");
    check_rel(what, out, refd, nq, 1e-5);

    float *dout = randn(nq, 1), *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk);
    attention_backward(dq, dk, dv, dout, att, q, k, v, B, H, Tq, Tk, D);
    double *rq = calloc((size_t)nq, sizeof(double)), *rk = calloc((size_t)(nk ? nk : 1), sizeof(double));
    double *rv = calloc((size_t)(nk ? nk : 1), sizeof(double));
    attention_backward_ref(rq, rk, rv, dout, q, k, v, mask, B, H, Tq, Tk, D, causal);
    snprintf(what, sizeof what, "attention Tq%d Tk%d%s%s dq", Tq, Tk, causal ? " causal" : "", mask ? " masked" : "");
    check_rel(what, dq, rq, nq, 1e-5);
    snprintf(what, sizeof what, "attention Tq%d Tk%d%s%s dk", Tq, Tk, causal ? " causal" : "", mask ? " masked" : "");
    check_rel(what, dk, rk, nk, 1e-5);
    snprintf(what, sizeof what, "attention Tq%d Tk%d%s%s dv", Tq, Tk, causal ? " causal" : "", mask ? " masked" : "");
    check_rel(what, dv, rv, nk, 1e-5);
    free(q); free(k); free(v); free(out); free(ref); free(att); free(refd);
    free(dout); free(dq); free(dk); free(dv); free(rq); free(rk); free(rv);
}

// ---- exact properties --------------------------------------------------------------------------
static void test_properties(void) {
    // softmax rows sum to 1 and keep order
    int N = 7, C = 33;
    float *x = randn(N * C, 3), *y = zeros(N * C);
    softmax_forward(y, x, N, C);
    double worst = 0;
    for (int r = 0; r < N; r++) {
        double s = 0;
        for (int c = 0; c < C; c++) s += y[r * C + c];
        if (fabs(s - 1) > worst) worst = fabs(s - 1);
    }
    CHECK(worst < 1e-6, "softmax rows sum to 1 (worst |sum-1| %.2e)", worst);
    // softmax of huge logits stays finite
    float big[3] = {1000, 999, -1000}, pb[3];
    softmax_forward(pb, big, 1, 3);
    CHECK(isfinite(pb[0]) && fabs(pb[0] - 1 / (1 + exp(-1.0))) < 1e-6 && pb[2] == 0,
          "softmax of logits near 1000 is finite and right (%g %g %g)", pb[0], pb[1], pb[2]);

    // rope: position 0 is the identity; norms of pairs are kept
    int B = 2, T = 9, H = 3, D = 8;
    long n = (long)B * T * H * D;
    float *r = randn(n, 1), *r0 = mallocCheck(n * sizeof(float));
    memcpy(r0, r, n * sizeof(float));
    rope_forward(r, B, T, H, D, 10000.0f);
    int id0 = 1;
    double nerr = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int i = 0; i < H * D; i += 2) {
                long o = ((long)b * T + t) * H * D + i;
                if (t == 0) id0 &= r[o] == r0[o] && r[o + 1] == r0[o + 1];
                double a = hypot(r[o], r[o + 1]), c = hypot(r0[o], r0[o + 1]);
                if (fabs(a - c) > nerr) nerr = fabs(a - c);
            }
    CHECK(id0, "rope leaves position 0 unchanged");
    CHECK(nerr < 1e-5, "rope keeps pair norms (worst %.2e)", nerr);
    // pair (0,1) at position t rotates by exactly t radians
    float e[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    float seq[3 * 8];
    for (int t = 0; t < 3; t++) memcpy(seq + t * 8, e, sizeof e);
    rope_forward(seq, 1, 3, 1, 8, 10000.0f);
    CHECK(fabs(seq[16] - cos(2.0)) < 1e-6 && fabs(seq[17] - sin(2.0)) < 1e-6,
          "rope rotates pair 0 at t=2 by 2 rad (%g %g)", seq[16], seq[17]);
    rope_backward(seq, 1, 3, 1, 8, 10000.0f);
    CHECK(fabs(seq[16] - 1) < 1e-6 && fabs(seq[17]) < 1e-6, "rope backward undoes forward");

    // timestep embedding against the formula
    float t[2] = {0, 123.5f}, emb[2 * 16];
    timestep_embedding(emb, t, 2, 16, 10000.0f);
    double te = 0;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 8; i++) {
            double f = pow(10000.0, -i / 8.0);
            te = fmax(te, fabs(emb[b * 16 + i] - cos(t[b] * f)));
            te = fmax(te, fabs(emb[b * 16 + 8 + i] - sin(t[b] * f)));
        }
    CHECK(te < 1e-6, "timestep embedding matches cos/sin formula (max err %.2e)", te);

    // upsample values; conv lengths
    float u[3] = {1, 2, 3}, u2[6];
    upsample2x_forward(u2, u, 1, 1, 3);
    CHECK(u2[0] == 1 && u2[1] == 1 && u2[4] == 3 && u2[5] == 3, "upsample2x repeats samples");
    CHECK(conv1d_out_len(10, 3, 1, 1, 1) == 10 && conv1d_out_len(10, 3, 2, 1, 1) == 5 &&
          conv1d_out_len(10, 3, 1, 0, 2) == 6 && conv1d_out_len(2, 5, 1, 0, 1) == 0,
          "conv1d_out_len: same, strided, dilated, too short");
    // losses
    float p[4] = {1, 2, 3, 4}, tg[4] = {1, 0, 3, 8}, g[4] = {0};
    CHECK(mse_loss(g, p, tg, 4) == 5.0f && g[1] == 1.0f && g[3] == -2.0f && g[0] == 0.0f, "mse value and gradient");
    memset(g, 0, sizeof g);
    CHECK(l1_loss(g, p, tg, 4) == 1.5f && g[1] == 0.25f && g[3] == -0.25f && g[0] == 0.0f, "l1 value and gradient, sign(0)=0");
    free(x); free(y); free(r); free(r0);
}

// ---- NULL gradients ------------------------------------------------------------------------------
// Each backward with only one gradient asked for gives the same bits as with
// all of them, and with none asked for touches nothing (and does not crash).
static int same(const float *a, const float *b, long n) { return memcmp(a, b, (size_t)n * sizeof(float)) == 0; }

static void test_null_grads(void) {
    int ok = 1;
    {   // linear
        int N = 40, C = 24, OC = 36;
        float *in = randn(N * C, 1), *w = randn(OC * C, 1), *dout = randn(N * OC, 1);
        float *a[3] = {zeros(N * C), zeros(OC * C), zeros(OC)}, *b[3] = {zeros(N * C), zeros(OC * C), zeros(OC)};
        linear_backward(a[0], a[1], a[2], dout, in, w, N, C, OC);
        linear_backward(b[0], NULL, NULL, dout, in, w, N, C, OC);
        linear_backward(NULL, b[1], NULL, dout, in, w, N, C, OC);
        linear_backward(NULL, NULL, b[2], dout, in, w, N, C, OC);
        linear_backward(NULL, NULL, NULL, dout, in, w, N, C, OC);
        ok &= same(a[0], b[0], N * C) && same(a[1], b[1], OC * C) && same(a[2], b[2], OC);
        CHECK(ok, "linear_backward: each gradient alone = all together; all NULL is a no-op");
        free(in); free(w); free(dout); for (int i = 0; i < 3; i++) { free(a[i]); free(b[i]); }
    }
    {   // conv1d
        int B = 2, C = 5, T = 30, OC = 6, K = 3, To = conv1d_out_len(T, K, 2, 1, 1);
        float *in = randn(B * C * T, 1), *w = randn(OC * C * K, 1), *dout = randn(B * OC * To, 1);
        float *a[3] = {zeros(B * C * T), zeros(OC * C * K), zeros(OC)}, *b[3] = {zeros(B * C * T), zeros(OC * C * K), zeros(OC)};
        conv1d_backward(a[0], a[1], a[2], dout, in, w, B, C, T, OC, K, 2, 1, 1);
        conv1d_backward(b[0], NULL, NULL, dout, in, w, B, C, T, OC, K, 2, 1, 1);
        conv1d_backward(NULL, b[1], NULL, dout, in, w, B, C, T, OC, K, 2, 1, 1);
        conv1d_backward(NULL, NULL, b[2], dout, in, w, B, C, T, OC, K, 2, 1, 1);
        conv1d_backward(NULL, NULL, NULL, dout, in, w, B, C, T, OC, K, 2, 1, 1);
        CHECK(same(a[0], b[0], B * C * T) && same(a[1], b[1], OC * C * K) && same(a[2], b[2], OC),
              "conv1d_backward: each gradient alone = all together; all NULL is a no-op");
        free(in); free(w); free(dout); for (int i = 0; i < 3; i++) { free(a[i]); free(b[i]); }
    }
    {   // attention
        int B = 2, H = 2, T = 9, S = 7, D = 4, C = H * D;
        float *q = randn(B * T * C, 1), *k = randn(B * S * C, 1), *v = randn(B * S * C, 1), *dout = randn(B * T * C, 1);
        float *out = zeros(B * T * C), *att = zeros(B * H * T * S);
        attention_forward(out, att, q, k, v, NULL, B, H, T, S, D, 0);
        float *a[3] = {zeros(B * T * C), zeros(B * S * C), zeros(B * S * C)}, *b[3] = {zeros(B * T * C), zeros(B * S * C), zeros(B * S * C)};
        attention_backward(a[0], a[1], a[2], dout, att, q, k, v, B, H, T, S, D);
        attention_backward(b[0], NULL, NULL, dout, att, q, k, v, B, H, T, S, D);
        attention_backward(NULL, b[1], NULL, dout, att, q, k, v, B, H, T, S, D);
        attention_backward(NULL, NULL, b[2], dout, att, q, k, v, B, H, T, S, D);
        attention_backward(NULL, NULL, NULL, dout, att, q, k, v, B, H, T, S, D);
        CHECK(same(a[0], b[0], B * T * C) && same(a[1], b[1], B * S * C) && same(a[2], b[2], B * S * C),
              "attention_backward: each gradient alone = all together; all NULL is a no-op");
        free(q); free(k); free(v); free(dout); free(out); free(att); for (int i = 0; i < 3; i++) { free(a[i]); free(b[i]); }
    }
    {   // norms, modulate, gated residual
        int B = 2, C = 8, T = 6, G = 2, N = B * T;
        long n = (long)B * C * T;
        float *x = randn(n, 1), *y = zeros(n), *w = randn(C, 1), *bb = randn(C, 1), *dout = randn(n, 1);
        float *m = zeros(N), *r = zeros(N);
        float *a[3] = {zeros(n), zeros(C), zeros(C)}, *b[3] = {zeros(n), zeros(C), zeros(C)};
        groupnorm_forward(y, m, r, x, w, bb, B, C, T, G);
        groupnorm_backward(a[0], a[1], a[2], dout, x, m, r, w, B, C, T, G);
        groupnorm_backward(b[0], NULL, NULL, dout, x, m, r, w, B, C, T, G);
        groupnorm_backward(NULL, b[1], NULL, dout, x, m, r, w, B, C, T, G);
        groupnorm_backward(NULL, NULL, b[2], dout, x, m, r, w, B, C, T, G);
        groupnorm_backward(NULL, NULL, NULL, dout, x, m, r, w, B, C, T, G);
        int g = same(a[0], b[0], n) && same(a[1], b[1], C) && same(a[2], b[2], C);
        for (int i = 0; i < 3; i++) { memset(a[i], 0, (i ? C : n) * sizeof(float)); memset(b[i], 0, (i ? C : n) * sizeof(float)); }
        layernorm_forward(y, m, r, x, w, bb, N, C);
        layernorm_backward(a[0], a[1], a[2], dout, x, m, r, w, N, C);
        layernorm_backward(b[0], NULL, NULL, dout, x, m, r, w, N, C);
        layernorm_backward(NULL, b[1], NULL, dout, x, m, r, w, N, C);
        layernorm_backward(NULL, NULL, b[2], dout, x, m, r, w, N, C);
        layernorm_backward(NULL, NULL, NULL, dout, x, m, r, w, N, C);
        int l = same(a[0], b[0], n) && same(a[1], b[1], C) && same(a[2], b[2], C);
        CHECK(g && l, "groupnorm/layernorm backward: each gradient alone = all together");
        float *sh = randn(B * C, 1), *sc = randn(B * C, 1);
        float *p[3] = {zeros(n), zeros(B * C), zeros(B * C)}, *q[3] = {zeros(n), zeros(B * C), zeros(B * C)};
        modulate_backward(p[0], p[1], p[2], dout, x, sc, B, T, C);
        modulate_backward(q[0], NULL, NULL, dout, x, sc, B, T, C);
        modulate_backward(NULL, q[1], NULL, dout, x, sc, B, T, C);
        modulate_backward(NULL, NULL, q[2], dout, x, sc, B, T, C);
        modulate_backward(NULL, NULL, NULL, dout, x, sc, B, T, C);
        int mo = same(p[0], q[0], n) && same(p[1], q[1], B * C) && same(p[2], q[2], B * C);
        float *u[3] = {zeros(n), zeros(n), zeros(B * C)}, *z[3] = {zeros(n), zeros(n), zeros(B * C)};
        gated_residual_backward(u[0], u[1], u[2], dout, x, sh, B, T, C);
        gated_residual_backward(z[0], NULL, NULL, dout, x, sh, B, T, C);
        gated_residual_backward(NULL, z[1], NULL, dout, x, sh, B, T, C);
        gated_residual_backward(NULL, NULL, z[2], dout, x, sh, B, T, C);
        gated_residual_backward(NULL, NULL, NULL, dout, x, sh, B, T, C);
        int gr = same(u[0], z[0], n) && same(u[1], z[1], n) && same(u[2], z[2], B * C);
        CHECK(mo && gr, "modulate/gated residual backward: each gradient alone = all together");
        free(x); free(y); free(w); free(bb); free(dout); free(m); free(r); free(sh); free(sc);
        for (int i = 0; i < 3; i++) { free(a[i]); free(b[i]); free(p[i]); free(q[i]); free(u[i]); free(z[i]); }
    }
}

// ---- determinism -----------------------------------------------------------------------------------
// Runs every layer on mid-sized shapes and concatenates all outputs and
// gradients into one buffer; returns its length.
#define PUT(src, n) do { if (len + (n) > cap) { fprintf(stderr, "run_all: buffer too small\n"); exit(1); } \
                             memcpy(buf + len, (src), (size_t)(n) * sizeof(float)); len += (n); } while (0)
static long run_all(float *buf, long cap, unsigned seed) {
    Rng save = g_rng;
    rng_seed(&g_rng, seed);
    long len = 0;
    {   // linear big enough for OpenBLAS to thread
        int N = 300, C = 130, OC = 190;
        float *in = randn((long)N * C, 1), *w = randn((long)OC * C, 0.1f), *b = randn(OC, 1);
        float *out = zeros((long)N * OC), *dout = randn((long)N * OC, 1);
        float *din = zeros((long)N * C), *dw = zeros((long)OC * C), *db = zeros(OC);
        linear_forward(out, in, w, b, N, C, OC);
        linear_backward(din, dw, db, dout, in, w, N, C, OC);
        PUT(out, N * OC); PUT(din, N * C); PUT(dw, OC * C); PUT(db, OC);
        free(in); free(w); free(b); free(out); free(dout); free(din); free(dw); free(db);
    }
    long batch_max = nn_conv_batch_max;
    for (int big = 0; big < 2; big++) {   // conv1d: batched path, then item by item
        int B = 3, C = big ? 64 : 24, T = big ? 500 : 200, OC = big ? 64 : 32, K = 3, s = big ? 1 : 2, p = 1, d = 1;
        nn_conv_batch_max = big ? 0 : batch_max;
        int To = conv1d_out_len(T, K, s, p, d);
        float *in = randn((long)B * C * T, 1), *w = randn((long)OC * C * K, 0.1f), *b = randn(OC, 1);
        float *out = zeros((long)B * OC * To), *dout = randn((long)B * OC * To, 1);
        float *din = zeros((long)B * C * T), *dw = zeros((long)OC * C * K), *db = zeros(OC);
        conv1d_forward(out, in, w, b, B, C, T, OC, K, s, p, d);
        conv1d_backward(din, dw, db, dout, in, w, B, C, T, OC, K, s, p, d);
        PUT(out, B * OC * To); PUT(din, B * C * T); PUT(dw, OC * C * K); PUT(db, OC);
        free(in); free(w); free(b); free(out); free(dout); free(din); free(dw); free(db);
    }
    nn_conv_batch_max = batch_max;
    {   // attention, self causal and cross masked
        int B = 3, H = 4, T = 48, S = 20, D = 16, C = H * D;
        long nq = (long)B * T * C, nk = (long)B * S * C;
        float *q = randn(nq, 1), *k = randn(nq, 1), *v = randn(nq, 1), *ck = randn(nk, 1), *cv = randn(nk, 1);
        float *out = zeros(nq), *att = zeros((long)B * H * T * T), *dout = randn(nq, 1);
        float *dq = zeros(nq), *dk = zeros(nq), *dv = zeros(nq), *dck = zeros(nk), *dcv = zeros(nk);
        uint8_t mask[3 * 20];
        for (int i = 0; i < 60; i++) mask[i] = (i % 3 != 1) && i < 40;
        attention_forward(out, att, q, k, v, NULL, B, H, T, T, D, 1);
        attention_backward(dq, dk, dv, dout, att, q, k, v, B, H, T, T, D);
        PUT(out, nq); PUT(att, (long)B * H * T * T); PUT(dq, nq); PUT(dk, nq); PUT(dv, nq);
        attention_forward(out, att, q, ck, cv, mask, B, H, T, S, D, 0);
        attention_backward(dq, dck, dcv, dout, att, q, ck, cv, B, H, T, S, D);
        PUT(out, nq); PUT(dq, nq); PUT(dck, nk); PUT(dcv, nk);
        free(q); free(k); free(v); free(ck); free(cv); free(out); free(att); free(dout);
        free(dq); free(dk); free(dv); free(dck); free(dcv);
    }
    {   // norms, activations, modulation, rope, softmax, losses: sizes above
        // NN_PAR_MIN, so the parallel paths run
        int N = 1560, C = 96, B = 4, T = 390, G = 8;
        long n = (long)N * C;
        float *x = randn(n, 1), *y = zeros(n), *dy = randn(n, 1), *dx = zeros(n), *w = randn(C, 1), *b = randn(C, 1);
        float *mean = zeros(N), *rstd = zeros(N), *dw = zeros(C), *db = zeros(C);
        layernorm_forward(y, mean, rstd, x, w, b, N, C);
        layernorm_backward(dx, dw, db, dy, x, mean, rstd, w, N, C);
        PUT(y, n); PUT(mean, N); PUT(rstd, N); PUT(dx, n); PUT(dw, C); PUT(db, C);
        // group norm on (B, C, T) = 4 x 96 x 130
        float *gm = zeros(B * G), *gr = zeros(B * G);
        memset(dx, 0, n * sizeof(float)); memset(dw, 0, C * sizeof(float)); memset(db, 0, C * sizeof(float));
        groupnorm_forward(y, gm, gr, x, w, b, B, C, T, G);
        groupnorm_backward(dx, dw, db, dy, x, gm, gr, w, B, C, T, G);
        PUT(y, (long)B * C * T); PUT(dx, (long)B * C * T); PUT(dw, C); PUT(db, C);
        gelu_forward(y, x, n); gelu_backward(dx, dy, x, n); PUT(y, n); PUT(dx, n);
        silu_forward(y, x, n); silu_backward(dx, dy, x, n); PUT(y, n); PUT(dx, n);
        softmax_forward(y, x, N, C); softmax_backward(dx, dy, y, N, C); PUT(y, n); PUT(dx, n);
        float *sh = randn((long)B * C, 1), *sc = randn((long)B * C, 1), *dsh = zeros((long)B * C), *dsc = zeros((long)B * C);
        modulate_forward(y, x, sh, sc, B, T, C);
        modulate_backward(dx, dsh, dsc, dy, x, sc, B, T, C);
        float *dyy = zeros(n);
        gated_residual_forward(y, y, x, sc, B, T, C);
        gated_residual_backward(dx, dyy, dsh, dy, x, sc, B, T, C);
        PUT(y, n); PUT(dx, n); PUT(dyy, n); PUT(dsh, B * C); PUT(dsc, B * C);
        free(dyy);
        rope_forward(x, B, T, 6, 16, 10000.0f); rope_backward(dy, B, T, 6, 16, 10000.0f); PUT(x, n); PUT(dy, n);
        float l[2];
        l[0] = mse_loss(dx, x, y, n); l[1] = l1_loss(dx, x, y, n);
        PUT(l, 2); PUT(dx, n);
        free(x); free(y); free(dy); free(dx); free(w); free(b); free(mean); free(rstd); free(dw); free(db);
        free(gm); free(gr); free(sh); free(sc); free(dsh); free(dsc);
    }
    g_rng = save;
    return len;
}

static void test_determinism(void) {
    long cap = 6000000;
    float *a = mallocCheck(cap * sizeof(float)), *b = mallocCheck(cap * sizeof(float)), *c = mallocCheck(cap * sizeof(float));
    nn_set_threads(2);
    long na = run_all(a, cap, 7);
    long nb = run_all(b, cap, 7);
    CHECK(na <= cap && na == nb, "determinism suite size %ld floats", na);
    CHECK(memcmp(a, b, na * sizeof(float)) == 0, "every layer, 2 threads: two runs give the same bits");
    for (int th = 1; th <= 3; th += 2) {
        nn_set_threads(th);
        long nc = run_all(c, cap, 7);
        long first = -1, ndiff = 0;
        for (long i = 0; i < na && nc == na; i++)
            if (memcmp(&a[i], &c[i], sizeof(float))) { ndiff++; if (first < 0) first = i; }
        CHECK(nc == na && ndiff == 0, "every layer: %d thread%s and 2 threads give the same bits (%ld differ, first at %ld)",
              th, th > 1 ? "s" : "", ndiff, first);
    }
    nn_set_threads(2);
    free(a); free(b); free(c);
}

// ---- benchmark (not part of the test) ----------------------------------------------------------------
// Best wall time of reps calls; g_cpu_best gets the best process CPU time
// (all threads). On a busy machine FLOP per CPU-second is closer to what an
// idle one would show per core; at 2 threads it also counts OpenMP
// spin-waiting, so it shows parallel efficiency rather than speed.
// (cpu_seconds is util's.)
static double g_cpu_best;
static double time_it(void (*fn)(void *), void *ctx, int reps) {
    fn(ctx);   // warm up (scratch, thread pools)
    double best = 1e30;
    g_cpu_best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds(), c0 = cpu_seconds();
        fn(ctx);
        double dt = now_seconds() - t0, dc = cpu_seconds() - c0;
        if (dt < best) best = dt;
        if (dc < g_cpu_best) g_cpu_best = dc;
    }
    return best;
}

typedef struct { float *in, *w, *b, *out, *dout, *din, *dw, *db, *att, *q, *k, *v, *dq, *dk, *dv; int N, C, OC, B, H, T, D, K; } BenchCtx;
static void b_lin_f(void *p) { BenchCtx *c = p; linear_forward(c->out, c->in, c->w, c->b, c->N, c->C, c->OC); }
static void b_lin_b(void *p) { BenchCtx *c = p; linear_backward(c->din, c->dw, c->db, c->dout, c->in, c->w, c->N, c->C, c->OC); }
static void b_att_f(void *p) { BenchCtx *c = p; attention_forward(c->out, c->att, c->q, c->k, c->v, NULL, c->B, c->H, c->T, c->T, c->D, 0); }
static void b_att_b(void *p) { BenchCtx *c = p; attention_backward(c->dq, c->dk, c->dv, c->dout, c->att, c->q, c->k, c->v, c->B, c->H, c->T, c->T, c->D); }
static void b_conv_f(void *p) { BenchCtx *c = p; conv1d_forward(c->out, c->in, c->w, c->b, c->B, c->C, c->T, c->OC, c->K, 1, c->K / 2, 1); }
static void b_conv_b(void *p) { BenchCtx *c = p; conv1d_backward(c->din, c->dw, c->db, c->dout, c->in, c->w, c->B, c->C, c->T, c->OC, c->K, 1, c->K / 2, 1); }
static void b_gelu_f(void *p) { BenchCtx *c = p; gelu_forward(c->out, c->in, (long)c->N * c->C); }
static void b_gelu_b(void *p) { BenchCtx *c = p; gelu_backward(c->din, c->dout, c->in, (long)c->N * c->C); }
static void b_ln_f(void *p) { BenchCtx *c = p; layernorm_forward(c->out, c->q, c->k, c->in, NULL, NULL, c->N, c->C); }
static void b_ln_b(void *p) { BenchCtx *c = p; layernorm_backward(c->din, NULL, NULL, c->dout, c->in, c->q, c->k, NULL, c->N, c->C); }

static void bench(void) {
    for (int th = 1; th <= 2; th++) {
        nn_set_threads(th);
        printf("--- %d thread%s ---\n", th, th > 1 ? "s" : "");
        {
            BenchCtx c = {0};
            c.N = 2048; c.C = 256; c.OC = 768;
            c.in = randn((long)c.N * c.C, 1); c.w = randn((long)c.OC * c.C, 0.05f); c.b = randn(c.OC, 1);
            c.out = zeros((long)c.N * c.OC); c.dout = randn((long)c.N * c.OC, 1);
            c.din = zeros((long)c.N * c.C); c.dw = zeros((long)c.OC * c.C); c.db = zeros(c.OC);
            double fl = 2.0 * c.N * c.C * c.OC;
            double tf = time_it(b_lin_f, &c, 20), cf = g_cpu_best, tb = time_it(b_lin_b, &c, 20), cb = g_cpu_best;
            printf("linear 2048x256->768   fwd %7.3f ms %6.1f GFLOP/s   bwd %7.3f ms %6.1f GFLOP/s"
                   "   [per CPU-second: %.1f / %.1f GFLOP]\n",
                   tf * 1e3, fl / tf * 1e-9, tb * 1e3, 2 * fl / tb * 1e-9, fl / cf * 1e-9, 2 * fl / cb * 1e-9);
            free(c.in); free(c.w); free(c.b); free(c.out); free(c.dout); free(c.din); free(c.dw); free(c.db);
        }
        {
            BenchCtx c = {0};
            c.B = 8; c.H = 4; c.T = 256; c.D = 64;
            long n = (long)c.B * c.T * c.H * c.D;
            c.q = randn(n, 1); c.k = randn(n, 1); c.v = randn(n, 1); c.out = zeros(n); c.dout = randn(n, 1);
            c.dq = zeros(n); c.dk = zeros(n); c.dv = zeros(n); c.att = zeros((long)c.B * c.H * c.T * c.T);
            double fl = 2.0 * 2.0 * c.B * c.H * (double)c.T * c.T * c.D;   // QK^T and PV
            double tf = time_it(b_att_f, &c, 10), cf = g_cpu_best, tb = time_it(b_att_b, &c, 10), cb = g_cpu_best;
            printf("attention B8 H4 T256 D64 fwd %7.3f ms %6.1f GFLOP/s   bwd %7.3f ms %6.1f GFLOP/s (matmul flops)"
                   "   [per CPU-second: %.1f / %.1f]\n",
                   tf * 1e3, fl / tf * 1e-9, tb * 1e3, 2 * fl / tb * 1e-9, fl / cf * 1e-9, 2 * fl / cb * 1e-9);
            free(c.q); free(c.k); free(c.v); free(c.out); free(c.dout); free(c.dq); free(c.dk); free(c.dv); free(c.att);
        }
        {
            BenchCtx c = {0};
            c.B = 8; c.C = 128; c.OC = 128; c.T = 512; c.K = 3;
            c.in = randn((long)c.B * c.C * c.T, 1); c.w = randn((long)c.OC * c.C * c.K, 0.05f); c.b = randn(c.OC, 1);
            c.out = zeros((long)c.B * c.OC * c.T); c.dout = randn((long)c.B * c.OC * c.T, 1);
            c.din = zeros((long)c.B * c.C * c.T); c.dw = zeros((long)c.OC * c.C * c.K); c.db = zeros(c.OC);
            double fl = 2.0 * c.B * c.OC * c.C * c.K * c.T;
            double tf = time_it(b_conv_f, &c, 10), cf = g_cpu_best, tb = time_it(b_conv_b, &c, 10), cb = g_cpu_best;
            printf("conv1d B8 C128 T512 K3 fwd %7.3f ms %6.1f GFLOP/s   bwd %7.3f ms %6.1f GFLOP/s"
                   "   [per CPU-second: %.1f / %.1f]\n",
                   tf * 1e3, fl / tf * 1e-9, tb * 1e3, 2 * fl / tb * 1e-9, fl / cf * 1e-9, 2 * fl / cb * 1e-9);
            free(c.in); free(c.w); free(c.b); free(c.out); free(c.dout); free(c.din); free(c.dw); free(c.db);
        }
        {
            BenchCtx c = {0};
            c.N = 2048; c.C = 1024;
            long n = (long)c.N * c.C;
            c.in = randn(n, 1); c.out = zeros(n); c.dout = randn(n, 1); c.din = zeros(n);
            c.q = zeros(8192); c.k = zeros(8192);   // layernorm mean, rstd below
            double tf = time_it(b_gelu_f, &c, 10), tb = time_it(b_gelu_b, &c, 10);
            printf("gelu 2M elements       fwd %7.3f ms (%5.2f ns/elem)   bwd %7.3f ms\n", tf * 1e3, tf / n * 1e9, tb * 1e3);
            c.C = 256; c.N = 8192;
            tf = time_it(b_ln_f, &c, 10); tb = time_it(b_ln_b, &c, 10);
            printf("layernorm 8192x256     fwd %7.3f ms (%5.1f GB/s)   bwd %7.3f ms\n", tf * 1e3, 8.0 * n / tf * 1e-9, tb * 1e3);
            free(c.in); free(c.out); free(c.dout); free(c.din); free(c.q); free(c.k);
        }
    }
}

int main(int argc, char **argv) {
    rng_seed(&g_rng, RNG_DEFAULT_SEED);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) { bench(); return 0; }
    nn_set_threads(2);
    test_linear(37, 53, 29, 1);
    test_linear(37, 53, 29, 0);
    test_linear(129, 257, 65, 1);
    test_linear(1, 5, 3, 1);
    // conv1d: odd sizes, every stride/pad/dilation path, the pointwise path
    test_conv(3, 5, 37, 7, 3, 1, 1, 1);
    test_conv(3, 5, 37, 7, 1, 1, 0, 1);
    test_conv(2, 5, 37, 7, 1, 2, 0, 1);
    test_conv(2, 4, 41, 6, 4, 2, 3, 1);
    test_conv(2, 3, 29, 5, 5, 3, 4, 2);
    test_conv(1, 6, 23, 4, 3, 1, 0, 3);
    test_conv(2, 3, 7, 5, 7, 1, 6, 1);      // pad so wide some taps never see input
    test_conv(2, 33, 65, 17, 3, 2, 1, 1);
    test_conv(2, 70, 301, 70, 3, 1, 1, 1);
    test_conv(2, 128, 300, 128, 1, 1, 0, 1);
    test_conv(3, 64, 611, 48, 5, 2, 4, 2);
    // the same through the item-by-item path (taken for very large inputs)
    long batch_max = nn_conv_batch_max;
    nn_conv_batch_max = 0;
    printf("  (conv1d item by item)\n");
    test_conv(3, 5, 37, 7, 3, 1, 1, 1);
    test_conv(2, 4, 41, 6, 4, 2, 3, 1);
    test_conv(2, 70, 301, 70, 3, 1, 1, 1);
    test_conv(2, 128, 300, 128, 1, 1, 0, 1);
    test_conv(3, 64, 611, 48, 5, 2, 4, 2);
    nn_conv_batch_max = batch_max;
    // attention
    static const uint8_t mask[3 * 23] = {
        1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    test_attention(3, 3, 17, 23, 8, 0, NULL);
    test_attention(3, 3, 17, 23, 8, 0, mask);
    test_attention(2, 3, 31, 31, 6, 1, NULL);
    test_attention(1, 1, 1, 1, 2, 0, NULL);
    test_attention(2, 2, 5, 0, 4, 0, NULL);
    test_properties();
    test_null_grads();
    test_determinism();
    return check_summary("test_nn_kernels");
}
