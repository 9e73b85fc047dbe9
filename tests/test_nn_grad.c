// test_nn_grad.c — every layer's backward against central finite differences.
//
// Method (tests/gradcheck.h, ggml test-backend-ops style): the loss is
// L = sum(dout * out) with a random dout, evaluated in double from the float
// forward kernel. For up to MAX_COORDS sampled coordinates of each input and
// parameter, the numeric gradient is the central difference, and the error
// measure the normalized squared error over the sampled coordinates,
//     nerr = sum (a - n)^2 / (sum a^2 + sum n^2),
// which is robust near zero and scale free; each op states its tolerance.
// Gradient buffers are pre-filled with random values before backward and the
// fill is subtracted afterwards, so a backward that overwrites instead of
// accumulating (+=) fails too. A self-test shows the measure rejects a
// gradient that is only 5% off.
#include "tests/check.h"
#include "tests/gradcheck.h"
#include "nn/layers.h"
#include "nn/kernels_internal.h"   // nn_conv_batch_max
#include "util/rng.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COORDS 48

static Rng g_rng;

static float *randn(long n, float sd) {
    float *x = mallocCheck((size_t)(n > 0 ? n : 1) * sizeof(float));
    rng_fill_normal(&g_rng, x, n, sd);
    return x;
}
static float *zeros(long n) { return callocCheck((size_t)(n > 0 ? n : 1), sizeof(float)); }
static float *copy(const float *x, long n) {
    float *y = mallocCheck((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (n > 0) memcpy(y, x, (size_t)n * sizeof(float));
    return y;
}

// ---- the checker ---------------------------------------------------------------------
typedef struct {
    const char *name;
    float *x;      // the tensor perturbed
    float *g;      // its analytic gradient (after subtracting the pre-fill)
    long n;
} Tens;

typedef void (*FwdFn)(void *ctx);   // recomputes the op's output from its inputs

// L = sum(dout * out) after running the op's forward.
typedef struct {
    FwdFn fwd;
    void *ctx;
    const float *out, *dout;
    long nout;
} DotLoss;
static double dot_loss(void *p) {
    DotLoss *d = p;
    d->fwd(d->ctx);
    double s = 0;
    for (long i = 0; i < d->nout; i++) s += (double)d->dout[i] * d->out[i];
    return s;
}

static void gradcheck(const char *op, FwdFn fwd, void *ctx, const float *out, const float *dout,
                      long nout, Tens *ts, int nt, float eps, double tol) {
    double ana[MAX_COORDS], num[MAX_COORDS];
    DotLoss dl = {fwd, ctx, out, dout, nout};
    for (int k = 0; k < nt; k++) {
        int m = gradcheck_sample(ts[k].x, ts[k].g, ts[k].n, MAX_COORDS, eps, dot_loss, &dl, &g_rng, ana, num);
        fwd(ctx);   // leave the output as it was
        double e = gradcheck_nerr(ana, num, m), amax = 0;
        for (int i = 0; i < m; i++) if (fabs(num[i]) > amax) amax = fabs(num[i]);
        CHECK(e <= tol && !isnan(e), "%-34s d%-5s nerr %.2e (tol %.0e, %2d coords, max|g| %.3g)",
              op, ts[k].name, e, tol, m, amax);
    }
}

// Pre-fill gradients with noise (remembered), run backward, then subtract it.
typedef struct { float *g, *g0; long n; } Prefill;
static void prefill(Prefill *p, float *g, long n) {
    p->g = g; p->n = n; p->g0 = randn(n, 1.0f);
    if (g && n > 0) memcpy(g, p->g0, (size_t)n * sizeof(float));
}
static void unfill(Prefill *p) {
    if (p->g) for (long i = 0; i < p->n; i++) p->g[i] -= p->g0[i];
    free(p->g0);
}

// ---- one context struct the forward callbacks read from -----------------------------------
typedef struct {
    float *out, *in, *w, *b, *x2, *x3, *mean, *rstd, *att;
    const uint8_t *mask;
    int B, C, T, OC, K, stride, pad, dil, G, N, H, Tq, Tk, D, causal;
    long n;
    float base;
} Ctx;

static void f_linear(void *p) { Ctx *c = p; linear_forward(c->out, c->in, c->w, c->b, c->N, c->C, c->OC); }
static void f_conv(void *p) {
    Ctx *c = p;
    conv1d_forward(c->out, c->in, c->w, c->b, c->B, c->C, c->T, c->OC, c->K, c->stride, c->pad, c->dil);
}
static void f_up(void *p) { Ctx *c = p; upsample2x_forward(c->out, c->in, c->B, c->C, c->T); }
static void f_gn(void *p) {
    Ctx *c = p;
    groupnorm_forward(c->out, c->mean, c->rstd, c->in, c->w, c->b, c->B, c->C, c->T, c->G);
}
static void f_ln(void *p) { Ctx *c = p; layernorm_forward(c->out, c->mean, c->rstd, c->in, c->w, c->b, c->N, c->C); }
static void f_silu(void *p) { Ctx *c = p; silu_forward(c->out, c->in, c->n); }
static void f_gelu(void *p) { Ctx *c = p; gelu_forward(c->out, c->in, c->n); }
static void f_softmax(void *p) { Ctx *c = p; softmax_forward(c->out, c->in, c->N, c->C); }
static void f_rope(void *p) {
    Ctx *c = p;
    memcpy(c->out, c->in, (size_t)c->n * sizeof(float));
    rope_forward(c->out, c->B, c->T, c->H, c->D, c->base);
}
static void f_att(void *p) {
    Ctx *c = p;   // in = q, x2 = k, x3 = v
    attention_forward(c->out, c->att, c->in, c->x2, c->x3, c->mask, c->B, c->H, c->Tq, c->Tk, c->D, c->causal);
}
static void f_mod(void *p) { Ctx *c = p; modulate_forward(c->out, c->in, c->x2, c->x3, c->B, c->T, c->C); }
static void f_gres(void *p) { Ctx *c = p; gated_residual_forward(c->out, c->in, c->x2, c->x3, c->B, c->T, c->C); }
static void f_mse(void *p) { Ctx *c = p; c->out[0] = mse_loss(NULL, c->in, c->x2, c->n); }
static void f_l1(void *p) { Ctx *c = p; c->out[0] = l1_loss(NULL, c->in, c->x2, c->n); }

// ---- per-op tests -------------------------------------------------------------------------
static void test_linear(int bias) {
    Ctx c = {0};
    c.N = 5; c.C = 7; c.OC = 6;
    c.in = randn(c.N * c.C, 1); c.w = randn(c.OC * c.C, 0.5f); c.b = bias ? randn(c.OC, 1) : NULL;
    c.out = zeros(c.N * c.OC);
    float *dout = randn(c.N * c.OC, 1), *din = zeros(c.N * c.C), *dw = zeros(c.OC * c.C), *db = zeros(c.OC);
    f_linear(&c);
    Prefill p[3];
    prefill(&p[0], din, c.N * c.C); prefill(&p[1], dw, c.OC * c.C); prefill(&p[2], bias ? db : NULL, c.OC);
    linear_backward(din, dw, bias ? db : NULL, dout, c.in, c.w, c.N, c.C, c.OC);
    for (int i = 0; i < 3; i++) unfill(&p[i]);
    Tens ts[3] = {{"in", c.in, din, c.N * c.C}, {"w", c.w, dw, c.OC * c.C}, {"b", c.b, db, c.OC}};
    gradcheck(bias ? "linear (bias)" : "linear (no bias)", f_linear, &c, c.out, dout, c.N * c.OC,
              ts, bias ? 3 : 2, 1e-2f, 1e-7);
    free(c.in); free(c.w); free(c.b); free(c.out); free(dout); free(din); free(dw); free(db);
}

static void test_conv(const char *name, int B, int C, int T, int OC, int K, int stride, int pad, int dil) {
    Ctx c = {0};
    c.B = B; c.C = C; c.T = T; c.OC = OC; c.K = K; c.stride = stride; c.pad = pad; c.dil = dil;
    int To = conv1d_out_len(T, K, stride, pad, dil);
    long nin = (long)B * C * T, nw = (long)OC * C * K, nout = (long)B * OC * To;
    c.in = randn(nin, 1); c.w = randn(nw, 0.5f); c.b = randn(OC, 1); c.out = zeros(nout);
    float *dout = randn(nout, 1), *din = zeros(nin), *dw = zeros(nw), *db = zeros(OC);
    f_conv(&c);
    Prefill p[3];
    prefill(&p[0], din, nin); prefill(&p[1], dw, nw); prefill(&p[2], db, OC);
    conv1d_backward(din, dw, db, dout, c.in, c.w, B, C, T, OC, K, stride, pad, dil);
    for (int i = 0; i < 3; i++) unfill(&p[i]);
    Tens ts[3] = {{"in", c.in, din, nin}, {"w", c.w, dw, nw}, {"b", c.b, db, OC}};
    gradcheck(name, f_conv, &c, c.out, dout, nout, ts, 3, 1e-2f, 1e-7);
    free(c.in); free(c.w); free(c.b); free(c.out); free(dout); free(din); free(dw); free(db);
}

static void test_upsample(void) {
    Ctx c = {0};
    c.B = 2; c.C = 3; c.T = 5;
    long nin = 30, nout = 60;
    c.in = randn(nin, 1); c.out = zeros(nout);
    float *dout = randn(nout, 1), *din = zeros(nin);
    f_up(&c);
    Prefill p; prefill(&p, din, nin);
    upsample2x_backward(din, dout, c.B, c.C, c.T);
    unfill(&p);
    Tens ts[1] = {{"in", c.in, din, nin}};
    gradcheck("upsample2x", f_up, &c, c.out, dout, nout, ts, 1, 1e-2f, 1e-7);
    free(c.in); free(c.out); free(dout); free(din);
}

static void test_groupnorm(void) {
    Ctx c = {0};
    c.B = 2; c.C = 6; c.T = 5; c.G = 3;
    long n = (long)c.B * c.C * c.T;
    c.in = randn(n, 1); c.w = randn(c.C, 1); c.b = randn(c.C, 1); c.out = zeros(n);
    for (long i = 0; i < n; i++) c.in[i] += 0.5f;   // a nonzero mean
    c.mean = zeros(c.B * c.G); c.rstd = zeros(c.B * c.G);
    float *dout = randn(n, 1), *din = zeros(n), *dw = zeros(c.C), *db = zeros(c.C);
    f_gn(&c);
    Prefill p[3];
    prefill(&p[0], din, n); prefill(&p[1], dw, c.C); prefill(&p[2], db, c.C);
    groupnorm_backward(din, dw, db, dout, c.in, c.mean, c.rstd, c.w, c.B, c.C, c.T, c.G);
    for (int i = 0; i < 3; i++) unfill(&p[i]);
    Tens ts[3] = {{"in", c.in, din, n}, {"w", c.w, dw, c.C}, {"b", c.b, db, c.C}};
    gradcheck("groupnorm (B2 C6 T5 G3)", f_gn, &c, c.out, dout, n, ts, 3, 1e-2f, 1e-6);
    free(c.in); free(c.w); free(c.b); free(c.out); free(c.mean); free(c.rstd);
    free(dout); free(din); free(dw); free(db);
}

static void test_layernorm(int affine) {
    Ctx c = {0};
    c.N = 6; c.C = 9;
    long n = (long)c.N * c.C;
    c.in = randn(n, 1); c.out = zeros(n); c.mean = zeros(c.N); c.rstd = zeros(c.N);
    for (long i = 0; i < n; i++) c.in[i] -= 0.7f;
    if (affine) { c.w = randn(c.C, 1); c.b = randn(c.C, 1); }
    float *dout = randn(n, 1), *din = zeros(n), *dw = zeros(c.C), *db = zeros(c.C);
    f_ln(&c);
    Prefill p[3];
    prefill(&p[0], din, n); prefill(&p[1], affine ? dw : NULL, c.C); prefill(&p[2], affine ? db : NULL, c.C);
    layernorm_backward(din, affine ? dw : NULL, affine ? db : NULL, dout, c.in, c.mean, c.rstd, c.w, c.N, c.C);
    for (int i = 0; i < 3; i++) unfill(&p[i]);
    Tens ts[3] = {{"in", c.in, din, n}, {"w", c.w, dw, c.C}, {"b", c.b, db, c.C}};
    gradcheck(affine ? "layernorm (affine)" : "layernorm (no affine)", f_ln, &c, c.out, dout, n,
              ts, affine ? 3 : 1, 1e-2f, 1e-6);
    free(c.in); free(c.w); free(c.b); free(c.out); free(c.mean); free(c.rstd);
    free(dout); free(din); free(dw); free(db);
}

static void test_act(const char *name, FwdFn f, void (*bwd)(float *, const float *, const float *, long)) {
    Ctx c = {0};
    c.n = 40;
    c.in = randn(c.n, 2.0f); c.out = zeros(c.n);
    float *dout = randn(c.n, 1), *din = zeros(c.n);
    f(&c);
    Prefill p; prefill(&p, din, c.n);
    bwd(din, dout, c.in, c.n);
    unfill(&p);
    Tens ts[1] = {{"in", c.in, din, c.n}};
    gradcheck(name, f, &c, c.out, dout, c.n, ts, 1, 1e-2f, 1e-6);
    free(c.in); free(c.out); free(dout); free(din);
}

static void test_softmax(void) {
    Ctx c = {0};
    c.N = 4; c.C = 7;
    long n = 28;
    c.in = randn(n, 1.5f); c.out = zeros(n);
    float *dout = randn(n, 1), *din = zeros(n);
    f_softmax(&c);
    Prefill p; prefill(&p, din, n);
    softmax_backward(din, dout, c.out, c.N, c.C);
    unfill(&p);
    Tens ts[1] = {{"in", c.in, din, n}};
    gradcheck("softmax", f_softmax, &c, c.out, dout, n, ts, 1, 1e-2f, 1e-6);
    free(c.in); free(c.out); free(dout); free(din);
}

static void test_rope(void) {
    Ctx c = {0};
    c.B = 2; c.T = 5; c.H = 2; c.D = 6; c.base = 100.0f;
    c.n = (long)c.B * c.T * c.H * c.D;
    c.in = randn(c.n, 1); c.out = zeros(c.n);
    float *dout = randn(c.n, 1);
    f_rope(&c);
    float *din = copy(dout, c.n);   // rope backward works in place on the gradient
    rope_backward(din, c.B, c.T, c.H, c.D, c.base);
    Tens ts[1] = {{"x", c.in, din, c.n}};
    gradcheck("rope", f_rope, &c, c.out, dout, c.n, ts, 1, 1e-2f, 1e-7);
    free(c.in); free(c.out); free(dout); free(din);
}

// Attention: q (B, Tq, C), k, v (B, Tk, C). mask may be NULL.
static void test_attention(const char *name, int B, int H, int Tq, int Tk, int D, int causal,
                           const uint8_t *mask) {
    Ctx c = {0};
    c.B = B; c.H = H; c.Tq = Tq; c.Tk = Tk; c.D = D; c.causal = causal; c.mask = mask;
    int C = H * D;
    long nq = (long)B * Tq * C, nk = (long)B * Tk * C;
    c.in = randn(nq, 1); c.x2 = randn(nk, 1); c.x3 = randn(nk, 1);
    c.out = zeros(nq); c.att = zeros((long)B * H * Tq * Tk);
    float *dout = randn(nq, 1), *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk);
    f_att(&c);
    Prefill p[3];
    prefill(&p[0], dq, nq); prefill(&p[1], dk, nk); prefill(&p[2], dv, nk);
    attention_backward(dq, dk, dv, dout, c.att, c.in, c.x2, c.x3, B, H, Tq, Tk, D);
    for (int i = 0; i < 3; i++) unfill(&p[i]);
    Tens ts[3] = {{"q", c.in, dq, nq}, {"k", c.x2, dk, nk}, {"v", c.x3, dv, nk}};
    gradcheck(name, f_att, &c, c.out, dout, nq, ts, 3, 1e-2f, 1e-6);

    if (mask) {   // exact zeros: masked keys get no gradient; an all-masked item none at all
        memset(dq, 0, nq * sizeof(float)); memset(dk, 0, nk * sizeof(float)); memset(dv, 0, nk * sizeof(float));
        attention_backward(dq, dk, dv, dout, c.att, c.in, c.x2, c.x3, B, H, Tq, Tk, D);
        int zk = 1, zq = 1, zo = 1;
        for (int b = 0; b < B; b++) {
            int any = 0;
            for (int j = 0; j < Tk; j++) {
                any |= mask[b * Tk + j];
                if (!mask[b * Tk + j])
                    for (int e = 0; e < C; e++) {
                        long i = ((long)b * Tk + j) * C + e;
                        zk &= dk[i] == 0.0f && dv[i] == 0.0f;
                    }
            }
            if (!any)
                for (long i = (long)b * Tq * C; i < (long)(b + 1) * Tq * C; i++) {
                    zq &= dq[i] == 0.0f;
                    zo &= c.out[i] == 0.0f;
                }
        }
        CHECK(zk, "%s: masked keys get exactly zero dk, dv", name);
        CHECK(zq && zo, "%s: an all-masked batch item gives output 0 and dq 0", name);
    }
    free(c.in); free(c.x2); free(c.x3); free(c.out); free(c.att); free(dout); free(dq); free(dk); free(dv);
}

static void test_attention_empty(void) {
    // Tk = 0: empty memory contributes nothing; backward leaves gradients alone.
    int B = 2, H = 2, Tq = 3, D = 4, C = 8;
    long nq = (long)B * Tq * C;
    float *q = randn(nq, 1), *out = randn(nq, 1), *dout = randn(nq, 1), *dq = randn(nq, 1);
    float *dq0 = copy(dq, nq), k[1] = {0}, v[1] = {0}, att[1] = {0};
    attention_forward(out, att, q, k, v, NULL, B, H, Tq, 0, D, 0);
    int zo = 1;
    for (long i = 0; i < nq; i++) zo &= out[i] == 0.0f;
    CHECK(zo, "attention Tk=0: output is exactly 0");
    attention_backward(dq, NULL, NULL, dout, att, q, k, v, B, H, Tq, 0, D);
    CHECK(memcmp(dq, dq0, nq * sizeof(float)) == 0, "attention Tk=0: dq unchanged (zero gradient)");
    free(q); free(out); free(dout); free(dq); free(dq0);
}

static void test_modulate(void) {
    Ctx c = {0};
    c.B = 2; c.T = 4; c.C = 5;
    long n = 40, nbc = 10;
    c.in = randn(n, 1); c.x2 = randn(nbc, 1); c.x3 = randn(nbc, 0.5f); c.out = zeros(n);
    float *dout = randn(n, 1), *dx = zeros(n), *dsh = zeros(nbc), *dsc = zeros(nbc);
    f_mod(&c);
    Prefill p[3];
    prefill(&p[0], dx, n); prefill(&p[1], dsh, nbc); prefill(&p[2], dsc, nbc);
    modulate_backward(dx, dsh, dsc, dout, c.in, c.x3, c.B, c.T, c.C);
    for (int i = 0; i < 3; i++) unfill(&p[i]);
    Tens ts[3] = {{"x", c.in, dx, n}, {"shift", c.x2, dsh, nbc}, {"scale", c.x3, dsc, nbc}};
    gradcheck("modulate", f_mod, &c, c.out, dout, n, ts, 3, 1e-2f, 1e-7);
    free(c.in); free(c.x2); free(c.x3); free(c.out); free(dout); free(dx); free(dsh); free(dsc);
}

static void test_gated_residual(void) {
    Ctx c = {0};
    c.B = 2; c.T = 4; c.C = 5;
    long n = 40, nbc = 10;
    c.in = randn(n, 1); c.x2 = randn(n, 1); c.x3 = randn(nbc, 1); c.out = zeros(n);
    float *dout = randn(n, 1), *dres = zeros(n), *dy = zeros(n), *dg = zeros(nbc);
    f_gres(&c);
    Prefill p[3];
    prefill(&p[0], dres, n); prefill(&p[1], dy, n); prefill(&p[2], dg, nbc);
    gated_residual_backward(dres, dy, dg, dout, c.x2, c.x3, c.B, c.T, c.C);
    for (int i = 0; i < 3; i++) unfill(&p[i]);
    Tens ts[3] = {{"res", c.in, dres, n}, {"y", c.x2, dy, n}, {"gate", c.x3, dg, nbc}};
    gradcheck("gated residual", f_gres, &c, c.out, dout, n, ts, 3, 1e-2f, 1e-7);
    free(c.in); free(c.x2); free(c.x3); free(c.out); free(dout); free(dres); free(dy); free(dg);
}

static void test_loss(const char *name, FwdFn f, float (*loss)(float *, const float *, const float *, long)) {
    Ctx c = {0};
    c.n = 30;
    c.in = randn(c.n, 1); c.x2 = randn(c.n, 1); c.out = zeros(1);
    for (long i = 0; i < c.n; i++)   // keep |pred - target| away from L1's kink
        if (fabsf(c.in[i] - c.x2[i]) < 0.05f) c.in[i] += 0.2f;
    float dout[1] = {1.0f}, *dp = zeros(c.n);
    f(&c);
    Prefill p; prefill(&p, dp, c.n);
    float l = loss(dp, c.in, c.x2, c.n);
    unfill(&p);
    CHECK(l == c.out[0], "%s: same value with and without a gradient", name);
    Tens ts[1] = {{"pred", c.in, dp, c.n}};
    // MSE is quadratic and L1 piecewise linear with no kink within eps: the
    // central difference is exact up to the float rounding of the loss.
    gradcheck(name, f, &c, c.out, dout, 1, ts, 1, 1e-2f, 1e-6);
    free(c.in); free(c.x2); free(c.out); free(dp);
}

// The measure must reject a gradient that is 5% off on every coordinate, or
// one that is right except for a single coordinate with the wrong sign.
static void test_checker_rejects(void) {
    double a[MAX_COORDS], n[MAX_COORDS];
    for (int i = 0; i < MAX_COORDS; i++) { n[i] = rng_normal(&g_rng); a[i] = 1.05 * n[i]; }
    double e1 = gradcheck_nerr(a, n, MAX_COORDS);
    for (int i = 0; i < MAX_COORDS; i++) a[i] = n[i];
    a[7] = -a[7];
    double e2 = gradcheck_nerr(a, n, MAX_COORDS);
    CHECK(e1 > 1e-4 && e2 > 1e-4, "checker rejects a 5%% scale error (nerr %.2e) and one flipped sign (%.2e)", e1, e2);
}

int main(void) {
    rng_seed(&g_rng, RNG_DEFAULT_SEED);
    nn_set_threads(2);
    test_checker_rejects();
    test_linear(1);
    test_linear(0);
    test_conv("conv1d K3 stride2 pad1", 2, 3, 11, 4, 3, 2, 1, 1);
    test_conv("conv1d K3 pad2 dil2", 2, 3, 9, 4, 3, 1, 2, 2);
    test_conv("conv1d K2 stride2 dil2 (no pad)", 1, 2, 10, 3, 2, 2, 0, 2);
    test_conv("conv1d K5 stride3 pad3 dil2", 2, 2, 13, 3, 5, 3, 3, 2);
    test_conv("conv1d K1 (pointwise)", 2, 4, 6, 3, 1, 1, 0, 1);
    long batch_max = nn_conv_batch_max;   // the item-by-item path of large inputs
    nn_conv_batch_max = 0;
    test_conv("conv1d K3 stride2 pad1, per item", 2, 3, 11, 4, 3, 2, 1, 1);
    test_conv("conv1d K3 pad2 dil2, per item", 2, 3, 9, 4, 3, 1, 2, 2);
    test_conv("conv1d K1 (pointwise path), per item", 2, 4, 6, 3, 1, 1, 0, 1);
    nn_conv_batch_max = batch_max;
    test_upsample();
    test_groupnorm();
    test_layernorm(1);
    test_layernorm(0);
    test_act("silu", f_silu, silu_backward);
    test_act("gelu (tanh)", f_gelu, gelu_backward);
    test_softmax();
    test_rope();
    test_attention("attention self", 2, 2, 5, 5, 4, 0, NULL);
    test_attention("attention self causal", 2, 2, 6, 6, 4, 1, NULL);
    // cross: item 0 masks some keys, item 1 masks all of them
    static const uint8_t mask[2 * 6] = {1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    test_attention("attention cross, key mask", 2, 2, 4, 6, 4, 0, mask);
    test_attention_empty();
    test_modulate();
    test_gated_residual();
    test_loss("mse", f_mse, mse_loss);
    test_loss("l1", f_l1, l1_loss);
    return check_summary("test_nn_grad");
}
