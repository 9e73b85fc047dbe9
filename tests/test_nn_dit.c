// test_nn_dit — golden test of the DiT block stack (nn/dit.c) against the
// PyTorch 1.13 reference written by tests/make_dit_ref.py: forward output,
// MSE loss, every parameter gradient and d x, d cond, d mem. Also: a batch
// item whose memory is all masked equals running it with no memory; dit_init
// makes every block the identity (AdaLN-Zero); forward is deterministic and
// backward accumulates.
//
// On a small random model (every tensor nonzero, widths chosen so one block's
// memory keys are not 64-byte aligned): the self-attention key mask (a padded
// item's valid frames equal the shorter sequence run alone; padding does not
// reach them; the whole-loss gradient with a mask against central finite
// differences, tests/gradcheck.h) and the prepared memory (dit_forward_prepared
// equals dit_forward bit for bit, with and without masks).
//
// Tolerance: float32 refrain vs a float64 reference stored as float32,
//   max |got - want| <= REL_TOL * max |want| over each tensor.
// PyTorch's own float32 run of the same graph agrees with float64 to 1e-6
// relative (make_dit_ref.py prints it); refrain's worst tensor sits at 1/7 of
// the tolerance, while a wrong wiring (a swapped modulation chunk, a missing
// rope backward) fails 25 to 41 checks.
#include "tests/check.h"
#include "tests/gradcheck.h"
#include "tests/refdata.h"
#include "nn/dit.h"
#include "nn/layers.h"
#include "nn/params.h"
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REL_TOL 5e-6

static RefSet g_ref;

static RefTensor *ref(const char *name) { return refset_find(&g_ref, name); }

static double max_abs(const float *x, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

// Compares got to the reference tensor `name`, printing the max difference.
static void compare(const char *name, const float *got, long n) {
    RefTensor *t = ref(name);
    if (!CHECK(t && t->n == n, "%s present in the reference with %ld values", name, n)) return;
    check_max_diff(name, got, t->data, n, REL_TOL * max_abs(t->data, n));
}

// ---- masks and the prepared memory, on a small random model ------------------------------
typedef struct {
    DitModel m;
    ParamSet p;
    DitActs a;
    int B, T, S;
    float *x, *cond, *mem;      // (B, T, Ci), (B, E), (B, S, Cm)
    uint8_t *mmask, *smask;     // (B, S), (B, T)
    float *dout;                // (B, T, Co): 0 on padded frames
} Rig;

static void rig_init(Rig *r, Rng *rng) {
    // C 12 = 2 heads of 6; B*S*C = 72 floats, so block 1's prepared keys start off a 64-byte line
    DitConfig cfg = {.C = 12, .L = 2, .H = 2, .mlp_ratio = 2, .E = 8, .Cin = 5, .Cout = 4, .Cm = 7};
    memset(r, 0, sizeof *r);
    r->B = 2; r->T = 7; r->S = 3;
    params_init(&r->p);
    dit_declare(&r->m, &r->p, &cfg, "");
    params_alloc(&r->p);
    rng_fill_normal(rng, r->p.data, r->p.total, 0.3f);   // gates and the output layer too
    const DitConfig *c = &r->m.cfg;
    int B = r->B, T = r->T, S = r->S;
    r->x = mallocCheck(sizeof(float) * B * T * c->Cin);
    r->cond = mallocCheck(sizeof(float) * B * c->E);
    r->mem = mallocCheck(sizeof(float) * B * S * c->Cm);
    r->dout = callocCheck((size_t)B * T * c->Cout, sizeof(float));
    rng_fill_normal(rng, r->x, (long)B * T * c->Cin, 1.0f);
    rng_fill_normal(rng, r->cond, (long)B * c->E, 1.0f);
    rng_fill_normal(rng, r->mem, (long)B * S * c->Cm, 1.0f);
    // item 0: 4 valid frames of 7 and memory slot 1 masked; item 1: 6 valid frames, all memory
    static const int len[2] = {4, 6};
    static const uint8_t mm[2 * 3] = {1, 0, 1, 1, 1, 1};
    r->mmask = mallocCheck((size_t)B * S);
    r->smask = mallocCheck((size_t)B * T);
    memcpy(r->mmask, mm, sizeof mm);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            r->smask[b * T + t] = t < len[b];
            if (t < len[b]) rng_fill_normal(rng, r->dout + ((long)b * T + t) * c->Cout, c->Cout, 1.0f);
        }
    dit_acts_alloc(&r->a, &r->m, B, T, S, 1);
}

static void rig_free(Rig *r) {
    dit_acts_free(&r->a, &r->m);
    dit_free(&r->m);
    params_free(&r->p);
    free(r->x); free(r->cond); free(r->mem); free(r->mmask); free(r->smask); free(r->dout);
}

static int valid_len(const Rig *r, int b) {
    int n = 0;
    for (int t = 0; t < r->T; t++) n += r->smask[b * r->T + t];
    return n;
}

// A padded item's valid frames equal that sequence run alone; padding does not reach them.
static void test_self_mask(Rig *r) {
    const DitConfig *c = &r->m.cfg;
    int B = r->B, T = r->T, S = r->S, Co = c->Cout;
    long nout = (long)B * T * Co;
    dit_forward(&r->m, &r->p, &r->a, r->x, r->cond, r->mem, r->mmask, r->smask, B, T, S);
    float *out = mallocCheck(sizeof(float) * nout);
    memcpy(out, r->a.out, sizeof(float) * nout);
    double scale = max_abs(out, nout);
    DitActs a1;
    dit_acts_alloc(&a1, &r->m, 1, T, S, 0);
    for (int b = 0; b < B; b++) {
        int n = valid_len(r, b);
        dit_forward(&r->m, &r->p, &a1, r->x + (long)b * T * c->Cin, r->cond + (long)b * c->E,
                    r->mem + (long)b * S * c->Cm, r->mmask + b * S, NULL, 1, n, S);
        char what[96];
        snprintf(what, sizeof what, "self mask: item %d's %d valid frames of %d == the %d frames alone", b, n, T, n);
        check_max_diff(what, out + (long)b * T * Co, a1.out, (long)n * Co, 1e-6 * scale);
    }
    dit_acts_free(&a1, &r->m);

    // other values in the padded frames: the valid frames keep the same bits
    long nx = (long)B * T * c->Cin;
    float *x2 = mallocCheck(sizeof(float) * nx);
    memcpy(x2, r->x, sizeof(float) * nx);
    for (long i = 0; i < nx; i++)
        if (!r->smask[i / c->Cin]) x2[i] = 3.0f - x2[i];
    dit_forward(&r->m, &r->p, &r->a, x2, r->cond, r->mem, r->mmask, r->smask, B, T, S);
    int same = 1, padded_moved = 0;
    for (long i = 0; i < nout; i++) {
        if (r->smask[i / Co]) same &= r->a.out[i] == out[i];
        else padded_moved |= r->a.out[i] != out[i];
    }
    CHECK(same && padded_moved, "self mask: new values in the padded frames change only the padded outputs "
          "(valid frames bit-identical)");
    free(x2);

    // a mask of all ones is no mask
    uint8_t *ones = mallocCheck((size_t)B * T);
    memset(ones, 1, (size_t)B * T);
    dit_forward(&r->m, &r->p, &r->a, r->x, r->cond, r->mem, r->mmask, ones, B, T, S);
    memcpy(out, r->a.out, sizeof(float) * nout);
    dit_forward(&r->m, &r->p, &r->a, r->x, r->cond, r->mem, r->mmask, NULL, B, T, S);
    CHECK(memcmp(out, r->a.out, sizeof(float) * nout) == 0, "self mask of all ones == NULL, bit for bit");
    free(ones);
    free(out);
}

// L = sum(dout * out), dout 0 on the padded frames (a loss that ignores padding).
static double rig_loss(void *p) {
    Rig *r = p;
    const DitConfig *c = &r->m.cfg;
    dit_forward(&r->m, &r->p, &r->a, r->x, r->cond, r->mem, r->mmask, r->smask, r->B, r->T, r->S);
    double s = 0;
    for (long i = 0; i < (long)r->B * r->T * c->Cout; i++) s += (double)r->dout[i] * r->a.out[i];
    return s;
}

#define DIT_PER_TENSOR 4
static void test_mask_gradient(Rig *r, Rng *rng) {
    const DitConfig *c = &r->m.cfg;
    int B = r->B, T = r->T, S = r->S;
    long nx = (long)B * T * c->Cin, nc = (long)B * c->E, nm = (long)B * S * c->Cm;
    float *grad = callocCheck(r->p.total, sizeof(float));
    float *dx = callocCheck(nx, sizeof(float)), *dcond = callocCheck(nc, sizeof(float));
    float *dmem = callocCheck(nm, sizeof(float));
    rig_loss(r);
    CHECK(dit_backward(&r->m, &r->p, grad, &r->a, r->dout, dx, dcond, dmem, r->x, r->cond, r->mem,
                       r->mmask, r->smask, B, T, S) == 0, "backward with a self mask runs %s", err_msg());
    int pad_zero = 1;
    for (long i = 0; i < nx; i++)
        if (!r->smask[i / c->Cin]) pad_zero &= dx[i] == 0.0f;
    CHECK(pad_zero, "self mask: padded frames get exactly zero dx when the loss ignores them");

    enum { CAP = 512 };
    double ana[CAP] = {0}, num[CAP] = {0};
    int ns = 0, worst_t = -1;
    double worst = 0;
    const float h = 1e-2f;
    // every parameter tensor, then x, cond and mem
    for (int i = 0; i < r->p.n + 3 && ns + 3 * DIT_PER_TENSOR <= CAP; i++) {
        float *v, *g;
        long n;
        int max = DIT_PER_TENSOR;
        if (i < r->p.n) { v = params_get(&r->p, i); g = grad + r->p.specs[i].offset; n = r->p.specs[i].size; }
        else if (i == r->p.n) { v = r->x; g = dx; n = nx; max = 3 * DIT_PER_TENSOR; }
        else if (i == r->p.n + 1) { v = r->cond; g = dcond; n = nc; max = 3 * DIT_PER_TENSOR; }
        else { v = r->mem; g = dmem; n = nm; max = 3 * DIT_PER_TENSOR; }
        int k = gradcheck_sample(v, g, n, max, h, rig_loss, r, rng, ana + ns, num + ns);
        double e = gradcheck_nerr(ana + ns, num + ns, k);
        if (e > worst) { worst = e; worst_t = i; }
        ns += k;
    }
    const double tol = 1e-4;
    double e = gradcheck_nerr(ana, num, ns);
    const char *wn = worst_t < 0 ? "-" : worst_t < r->p.n ? r->p.specs[worst_t].name
                   : worst_t == r->p.n ? "x" : worst_t == r->p.n + 1 ? "cond" : "mem";
    CHECK(e < tol, "self mask: whole-loss gradient, %d coordinates (every tensor, x, cond, mem): nerr %.2e "
          "(tol %.0e); worst %s %.2e", ns, e, tol, wn, worst);
    CHECK(worst < 50 * tol, "self mask: every tensor's own nerr below %.0e (worst %.2e)", 50 * tol, worst);
    double bad[CAP];
    for (int i = 0; i < ns; i++) bad[i] = ana[i] * (i % 2 ? 1.05 : 0.95);
    double eb = gradcheck_nerr(bad, num, ns);
    CHECK(eb > tol, "self-test: a gradient 5%% off gives nerr %.2e > tol", eb);
    free(grad); free(dx); free(dcond); free(dmem);
}

// dit_forward_prepared == dit_forward, bit for bit.
static void test_prepared(Rig *r) {
    const DitConfig *c = &r->m.cfg;
    int B = r->B, T = r->T, S = r->S;
    long nout = (long)B * T * c->Cout, nx = (long)B * T * c->Cin;
    float *want = mallocCheck(sizeof(float) * nout);
    float *x2 = mallocCheck(sizeof(float) * nx);
    for (long i = 0; i < nx; i++) x2[i] = 0.5f * r->x[(i + 5) % nx] - 0.25f;   // a second sampling step
    for (int masked = 0; masked < 2; masked++) {
        const uint8_t *mm = masked ? r->mmask : NULL, *sm = masked ? r->smask : NULL;
        DitMemory dm;
        CHECK(dit_memory_prepare(&r->m, &r->p, &dm, r->mem, mm, B, S) == 0, "dit_memory_prepare %s",
              err_msg());
        for (int step = 0; step < 2; step++) {
            const float *x = step ? x2 : r->x;
            dit_forward(&r->m, &r->p, &r->a, x, r->cond, r->mem, mm, sm, B, T, S);
            memcpy(want, r->a.out, sizeof(float) * nout);
            CHECK(dit_forward_prepared(&r->m, &r->p, &r->a, x, r->cond, &dm, sm, B, T) == 0,
                  "dit_forward_prepared runs %s", err_msg());
            char what[128];
            snprintf(what, sizeof what, "prepared memory == dit_forward (%s, input %d)",
                     masked ? "memory and self masks" : "no masks", step + 1);
            check_max_diff(what, r->a.out, want, nout, 0);
        }
        dit_memory_free(&dm);
    }
    // empty memory: dm NULL, or prepared from S = 0, == dit_forward with S = 0
    dit_forward(&r->m, &r->p, &r->a, r->x, r->cond, NULL, NULL, r->smask, B, T, 0);
    memcpy(want, r->a.out, sizeof(float) * nout);
    dit_forward_prepared(&r->m, &r->p, &r->a, r->x, r->cond, NULL, r->smask, B, T);
    check_max_diff("prepared: dm NULL == dit_forward with S = 0", r->a.out, want, nout, 0);
    DitMemory dm;
    dit_memory_prepare(&r->m, &r->p, &dm, NULL, NULL, B, 0);
    dit_forward_prepared(&r->m, &r->p, &r->a, r->x, r->cond, &dm, r->smask, B, T);
    check_max_diff("prepared: a memory of S = 0 == dit_forward with S = 0", r->a.out, want, nout, 0);
    dit_memory_free(&dm);

    // refusals: another batch size; backward after a prepared forward (no memory keys kept)
    dit_memory_prepare(&r->m, &r->p, &dm, r->mem, r->mmask, 1, S);
    CHECK(dit_forward_prepared(&r->m, &r->p, &r->a, r->x, r->cond, &dm, NULL, B, T) == -1,
          "a memory prepared for B 1 is refused for B %d: %s", B, err_msg());
    dit_memory_free(&dm);
    err_clear();
    dit_memory_prepare(&r->m, &r->p, &dm, r->mem, r->mmask, B, S);
    dit_forward_prepared(&r->m, &r->p, &r->a, r->x, r->cond, &dm, NULL, B, T);
    float *grad = callocCheck(r->p.total, sizeof(float));
    CHECK(dit_backward(&r->m, &r->p, grad, &r->a, r->dout, NULL, NULL, NULL, r->x, r->cond, r->mem,
                       r->mmask, NULL, B, T, S) == -1, "backward after a prepared forward is refused: %s",
          err_msg());
    err_clear();
    dit_forward(&r->m, &r->p, &r->a, r->x, r->cond, r->mem, r->mmask, NULL, B, T, S);
    CHECK(dit_backward(&r->m, &r->p, grad, &r->a, r->dout, NULL, NULL, NULL, r->x, r->cond, r->mem,
                       r->mmask, NULL, B, T, S) == 0, "and accepted again after dit_forward %s", err_msg());
    dit_memory_free(&dm);
    free(grad); free(want); free(x2);
}

static void test_masks_and_prepared(void) {
    Rng rng;
    rng_seed(&rng, RNG_DEFAULT_SEED + 7);
    err_clear();
    Rig r;
    rig_init(&r, &rng);
    test_self_mask(&r);
    test_mask_gradient(&r, &rng);
    test_prepared(&r);
    rig_free(&r);
}

int main(void) {
    nn_set_threads(2);
    if (refset_load(&g_ref, "tests/data/dit_ref.bin", "DITREF01", "tests/make_dit_ref.py")) {
        CHECK(0, "reference file loads: %s", err_msg());
        return check_summary("test_nn_dit");
    }
    const float *cf = ref("config")->data;
    int B = (int)cf[0], T = (int)cf[1], S = (int)cf[2];
    DitConfig cfg = {.C = (int)cf[3], .L = (int)cf[4], .H = (int)cf[5], .mlp_ratio = (int)cf[6],
                     .E = (int)cf[7], .Cin = (int)cf[8], .Cout = (int)cf[9], .Cm = (int)cf[10],
                     .rope_base = cf[11]};
    printf("config: B %d T %d S %d C %d L %d H %d mlp %d E %d Cin %d Cout %d Cm %d\n",
           B, T, S, cfg.C, cfg.L, cfg.H, cfg.mlp_ratio, cfg.E, cfg.Cin, cfg.Cout, cfg.Cm);

    DitModel m;
    ParamSet p;
    params_init(&p);
    CHECK(dit_declare(&m, &p, &cfg, "") == 0, "dit_declare accepts the config %s", err_msg());
    params_alloc(&p);

    // weights by name; every reference parameter must be a declared tensor and vice versa
    int nparam_ref = 0, loaded = 0;
    for (int i = 0; i < g_ref.n; i++) nparam_ref += strncmp(g_ref.t[i].name, "param:", 6) == 0;
    for (int i = 0; i < p.n; i++) {
        char key[160];
        snprintf(key, sizeof key, "param:%s", p.specs[i].name);
        RefTensor *t = ref(key);
        if (!CHECK(t && t->n == p.specs[i].size, "weight %s found with %ld values", p.specs[i].name,
                   p.specs[i].size)) continue;
        memcpy(params_get(&p, i), t->data, sizeof(float) * t->n);
        loaded++;
    }
    CHECK(loaded == p.n && nparam_ref == p.n, "all %d tensors loaded (reference has %d)", p.n, nparam_ref);

    const float *x = ref("x")->data, *cond = ref("cond")->data, *mem = ref("mem")->data;
    const float *target = ref("target")->data;
    uint8_t *mask = mallocCheck((size_t)B * S);
    for (int i = 0; i < B * S; i++) mask[i] = ref("mask")->data[i] != 0;

    DitActs a;
    dit_acts_alloc(&a, &m, B, T, S, 1);
    long nout = (long)B * T * cfg.Cout;

    // forward + loss
    CHECK(dit_forward(&m, &p, &a, x, cond, mem, mask, NULL, B, T, S) == 0, "forward runs %s", err_msg());
    compare("out", a.out, nout);
    float *dout = callocCheck(nout, sizeof(float));
    float loss = mse_loss(dout, a.out, target, nout);
    check_close("loss", loss, ref("loss")->data[0], 0, REL_TOL);

    // backward
    float *grad = callocCheck(p.total, sizeof(float));
    float *dx = callocCheck((size_t)B * T * cfg.Cin, sizeof(float));
    float *dcond = callocCheck((size_t)B * cfg.E, sizeof(float));
    float *dmem = callocCheck((size_t)B * S * cfg.Cm, sizeof(float));
    CHECK(dit_backward(&m, &p, grad, &a, dout, dx, dcond, dmem, x, cond, mem, mask, NULL, B, T, S) == 0,
          "backward runs %s", err_msg());
    compare("dx", dx, (long)B * T * cfg.Cin);
    compare("dcond", dcond, (long)B * cfg.E);
    compare("dmem", dmem, (long)B * S * cfg.Cm);
    for (int i = 0; i < p.n; i++) {
        char key[160];
        snprintf(key, sizeof key, "grad:%s", p.specs[i].name);
        compare(key, grad + p.specs[i].offset, p.specs[i].size);
    }
    // masked memory slots and the all-masked item get no gradient
    double dmask = 0;
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++)
            if (!mask[b * S + s]) dmask += max_abs(dmem + ((long)b * S + s) * cfg.Cm, cfg.Cm);
    CHECK(dmask == 0, "masked memory slots get zero gradient (sum of max |d| %.3g)", dmask);

    // determinism: a second forward gives the same bits; a second backward doubles the grads
    float *out1 = mallocCheck(sizeof(float) * nout);
    memcpy(out1, a.out, sizeof(float) * nout);
    float *grad1 = mallocCheck(sizeof(float) * p.total);
    memcpy(grad1, grad, sizeof(float) * p.total);
    dit_forward(&m, &p, &a, x, cond, mem, mask, NULL, B, T, S);
    CHECK(memcmp(out1, a.out, sizeof(float) * nout) == 0, "forward is deterministic");
    dit_backward(&m, &p, grad, &a, dout, NULL, NULL, NULL, x, cond, mem, mask, NULL, B, T, S);
    double worst = 0;
    for (long i = 0; i < p.total; i++) {
        double d = fabs(grad[i] - 2.0 * grad1[i]);
        worst = d > worst ? d : worst;
    }
    CHECK(worst <= 1e-6 * max_abs(grad1, p.total), "backward accumulates (+=): max |g2 - 2 g1| %.3g", worst);

    // the last item has all memory masked: it must equal that item run with S = 0
    int bl = B - 1;
    int all_masked = 1;
    for (int s = 0; s < S; s++) all_masked &= !mask[bl * S + s];
    CHECK(all_masked, "reference masks every memory slot of item %d", bl);
    DitActs a0;
    dit_acts_alloc(&a0, &m, 1, T, 0, 1);
    CHECK(dit_forward(&m, &p, &a0, x, cond, mem, mask, NULL, 1, T, S) == -1, "a memory longer than the arena is refused: %s",
          err_msg());
    dit_forward(&m, &p, &a0, x + (long)bl * T * cfg.Cin, cond + (long)bl * cfg.E, NULL, NULL, NULL, 1, T, 0);
    long n1 = (long)T * cfg.Cout;
    check_max_diff("all-masked item == empty memory", a0.out, out1 + bl * n1, n1, 1e-6 * max_abs(out1, nout));
    // empty memory backward runs and agrees with the all-masked item's input gradient
    float *dx0 = callocCheck((size_t)T * cfg.Cin, sizeof(float));
    float *g0 = callocCheck(p.total, sizeof(float));
    float *dout0 = callocCheck(n1, sizeof(float));
    for (long i = 0; i < n1; i++) dout0[i] = dout[bl * n1 + i];
    dit_backward(&m, &p, g0, &a0, dout0, dx0, NULL, NULL, x + (long)bl * T * cfg.Cin,
                 cond + (long)bl * cfg.E, NULL, NULL, NULL, 1, T, 0);
    // reference dx of item bl is the whole-batch dx restricted to that item
    const float *rdx = ref("dx")->data + (long)bl * T * cfg.Cin;
    check_max_diff("empty memory: dx of that item", dx0, rdx, (long)T * cfg.Cin,
                   REL_TOL * max_abs(ref("dx")->data, (long)B * T * cfg.Cin));
    dit_acts_free(&a0, &m);

    // AdaLN-Zero: after dit_init every block is the identity on the residual stream
    Rng rng;
    rng_seed(&rng, RNG_DEFAULT_SEED);
    dit_init(&m, &p, &rng);
    dit_forward(&m, &p, &a, x, cond, mem, mask, NULL, B, T, S);
    long nh = (long)B * T * cfg.C;
    check_max_diff("dit_init: last block output == input projection", a.blk[cfg.L - 1].h3, a.h0, nh, 0);
    CHECK(max_abs(a.h0, nh) > 0, "dit_init: input projection is not zero");
    CHECK(max_abs(a.out, nout) == 0, "dit_init: zero output layer");

    // flop count sanity: one block's QKV alone is 2*N*C*3C
    long fl = dit_flops_forward(&cfg, B, T, S);
    CHECK(fl > (long)cfg.L * 2 * B * T * cfg.C * 3 * cfg.C, "flop count %ld covers the QKV matmuls", fl);

    dit_acts_free(&a, &m);
    dit_free(&m);
    params_free(&p);
    free(mask); free(dout); free(grad); free(dx); free(dcond); free(dmem); free(out1); free(grad1);
    free(dx0); free(g0); free(dout0);
    refset_free(&g_ref);

    test_masks_and_prepared();
    return check_summary("test_nn_dit");
}
