// test_nn_layers_ref.c — the single layers against PyTorch 1.13: forward
// outputs and every gradient on the inputs and gradients that
// tests/make_layers_ref.py wrote to tests/data/layers_ref.bin. This pins the
// conventions (conv1d layout and padding, GroupNorm grouping, nearest
// upsampling, GELU tanh, eps, rope pairs, masked attention, L1 at a tie) that
// finite differences cannot. Tolerance: max |diff| <= TOL, values are O(1).
#include "tests/check.h"
#include "tests/refdata.h"
#include "nn/layers.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define TOL 2e-5

static RefSet g_refs;

// The tensor named name; exits the test (as a failure) if it is missing.
static RefTensor *ref(const char *name) {
    RefTensor *r = refset_find(&g_refs, name);
    if (r) return r;
    CHECK(0, "reference tensor %s present", name);
    exit(check_summary("test_nn_layers_ref"));
}
static float *R(const char *prefix, const char *name) {
    char full[96];
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    return ref(full)->data;
}
static long RN(const char *prefix, const char *name) {
    char full[96];
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    return ref(full)->n;
}
static float *zeros(long n) { return callocCheck((size_t)(n > 0 ? n : 1), sizeof(float)); }
static void cmp(const char *prefix, const char *what, const float *got) {
    char full[96];
    snprintf(full, sizeof full, "%s.%s", prefix, what);
    RefTensor *r = ref(full);
    check_max_diff(full, got, r->data, r->n, TOL);
}

static void test_conv(const char *p) {
    float *s = R(p, "shape");
    int B = (int)s[0], C = (int)s[1], T = (int)s[2], OC = (int)s[3], K = (int)s[4];
    int stride = (int)s[5], pad = (int)s[6], dil = (int)s[7];
    int To = conv1d_out_len(T, K, stride, pad, dil);
    CHECK((long)B * OC * To == RN(p, "out"), "%s: output length %d as torch", p, To);
    float *out = zeros(RN(p, "out")), *din = zeros(RN(p, "in")), *dw = zeros(RN(p, "w")), *db = zeros(OC);
    conv1d_forward(out, R(p, "in"), R(p, "w"), R(p, "b"), B, C, T, OC, K, stride, pad, dil);
    conv1d_backward(din, dw, db, R(p, "dout"), R(p, "in"), R(p, "w"), B, C, T, OC, K, stride, pad, dil);
    cmp(p, "out", out); cmp(p, "din", din); cmp(p, "dw", dw); cmp(p, "db", db);
    free(out); free(din); free(dw); free(db);
}

static void test_attention(const char *p, int causal, const float *maskf) {
    RefTensor *q = ref(!strcmp(p, "att_self") ? "att_self.q" : "att_cross.q");
    char kname[64];
    snprintf(kname, sizeof kname, "%s.k", p);
    RefTensor *k = ref(kname);
    int B = q->shape[0], Tq = q->shape[1], C = q->shape[2], Tk = k->shape[1], H = 2, D = C / H;
    uint8_t mask[64];
    if (maskf) for (int i = 0; i < B * Tk; i++) mask[i] = maskf[i] != 0;
    float *out = zeros(q->n), *att = zeros((long)B * H * Tq * Tk);
    float *dq = zeros(q->n), *dk = zeros(k->n), *dv = zeros(k->n);
    attention_forward(out, att, q->data, k->data, R(p, "v"), maskf ? mask : NULL, B, H, Tq, Tk, D, causal);
    attention_backward(dq, dk, dv, R(p, "dout"), att, q->data, k->data, R(p, "v"), B, H, Tq, Tk, D);
    cmp(p, "out", out); cmp(p, "dq", dq); cmp(p, "dk", dk); cmp(p, "dv", dv);
    free(out); free(att); free(dq); free(dk); free(dv);
}

int main(void) {
    nn_set_threads(2);
    if (refset_load(&g_refs, "tests/data/layers_ref.bin", "LAYREF01", "tests/make_layers_ref.py")) {
        CHECK(0, "%s", err_msg());
        return check_summary("test_nn_layers_ref");
    }
    test_conv("conv_a");
    test_conv("conv_b");

    {   // upsample (2, 3, 5)
        float *out = zeros(RN("up", "out")), *din = zeros(RN("up", "in"));
        upsample2x_forward(out, R("up", "in"), 2, 3, 5);
        upsample2x_backward(din, R("up", "dout"), 2, 3, 5);
        cmp("up", "out", out); cmp("up", "din", din);
        free(out); free(din);
    }
    {   // group norm (2, 6, 5), 3 groups
        float *out = zeros(60), *m = zeros(6), *r = zeros(6), *din = zeros(60), *dw = zeros(6), *db = zeros(6);
        groupnorm_forward(out, m, r, R("gn", "in"), R("gn", "w"), R("gn", "b"), 2, 6, 5, 3);
        groupnorm_backward(din, dw, db, R("gn", "dout"), R("gn", "in"), m, r, R("gn", "w"), 2, 6, 5, 3);
        cmp("gn", "out", out); cmp("gn", "din", din); cmp("gn", "dw", dw); cmp("gn", "db", db);
        free(out); free(m); free(r); free(din); free(dw); free(db);
    }
    {   // layer norm (6, 9), affine
        float *out = zeros(54), *m = zeros(6), *r = zeros(6), *din = zeros(54), *dw = zeros(9), *db = zeros(9);
        layernorm_forward(out, m, r, R("ln", "in"), R("ln", "w"), R("ln", "b"), 6, 9);
        layernorm_backward(din, dw, db, R("ln", "dout"), R("ln", "in"), m, r, R("ln", "w"), 6, 9);
        cmp("ln", "out", out); cmp("ln", "din", din); cmp("ln", "dw", dw); cmp("ln", "db", db);
        free(out); free(m); free(r); free(din); free(dw); free(db);
    }
    {   // silu, gelu (tanh), softmax
        float out[40], din[40];
        memset(din, 0, sizeof din);
        silu_forward(out, R("silu", "in"), 40);
        silu_backward(din, R("silu", "dout"), R("silu", "in"), 40);
        cmp("silu", "out", out); cmp("silu", "din", din);
        memset(din, 0, sizeof din);
        gelu_forward(out, R("gelu", "in"), 40);
        gelu_backward(din, R("gelu", "dout"), R("gelu", "in"), 40);
        cmp("gelu", "out", out); cmp("gelu", "din", din);
        memset(din, 0, sizeof din);
        softmax_forward(out, R("softmax", "in"), 4, 7);
        softmax_backward(din, R("softmax", "dout"), out, 4, 7);
        cmp("softmax", "out", out); cmp("softmax", "din", din);
    }
    {   // rope (2, 5, 2, 6), base 100
        float x[120], dx[120];
        memcpy(x, R("rope", "in"), sizeof x);
        memcpy(dx, R("rope", "dout"), sizeof dx);
        rope_forward(x, 2, 5, 2, 6, 100.0f);
        rope_backward(dx, 2, 5, 2, 6, 100.0f);
        cmp("rope", "out", x); cmp("rope", "din", dx);
    }
    test_attention("att_self", 1, NULL);
    test_attention("att_cross", 0, R("att_cross", "mask"));
    {   // modulate and gated residual (2, 4, 5)
        float out[40], dx[40] = {0}, dsh[10] = {0}, dsc[10] = {0};
        modulate_forward(out, R("mod", "x"), R("mod", "shift"), R("mod", "scale"), 2, 4, 5);
        modulate_backward(dx, dsh, dsc, R("mod", "dout"), R("mod", "x"), R("mod", "scale"), 2, 4, 5);
        cmp("mod", "out", out); cmp("mod", "dx", dx); cmp("mod", "dshift", dsh); cmp("mod", "dscale", dsc);
        float dres[40] = {0}, dy[40] = {0}, dg[10] = {0};
        gated_residual_forward(out, R("gres", "res"), R("gres", "y"), R("gres", "gate"), 2, 4, 5);
        gated_residual_backward(dres, dy, dg, R("gres", "dout"), R("gres", "y"), R("gres", "gate"), 2, 4, 5);
        cmp("gres", "out", out); cmp("gres", "dres", dres); cmp("gres", "dy", dy); cmp("gres", "dgate", dg);
    }
    {   // timestep embedding, E 16
        float out[4 * 16];
        timestep_embedding(out, R("temb", "t"), 4, 16, 10000.0f);
        cmp("temb", "out", out);
    }
    {   // losses
        float dp[30] = {0}, l = mse_loss(dp, R("mse", "pred"), R("mse", "target"), 30);
        cmp("mse", "loss", &l); cmp("mse", "dpred", dp);
        memset(dp, 0, sizeof dp);
        l = l1_loss(dp, R("l1", "pred"), R("l1", "target"), 30);
        cmp("l1", "loss", &l); cmp("l1", "dpred", dp);
        CHECK(dp[3] == 0.0f, "l1: gradient at an exact tie is 0, as torch");
    }
    refset_free(&g_refs);
    return check_summary("test_nn_layers_ref");
}
