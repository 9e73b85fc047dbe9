// test_nn_dit — golden test of the DiT block stack (nn/dit.c) against the
// PyTorch 1.13 reference written by tests/make_dit_ref.py: forward output,
// MSE loss, every parameter gradient and d x, d cond, d mem. Also: a batch
// item whose memory is all masked equals running it with no memory; dit_init
// makes every block the identity (AdaLN-Zero); forward is deterministic and
// backward accumulates.
//
// Tolerance: float32 refrain vs a float64 reference stored as float32,
//   max |got - want| <= REL_TOL * max |want| over each tensor.
// PyTorch's own float32 run of the same graph agrees with float64 to 1e-6
// relative (make_dit_ref.py prints it); refrain's worst tensor sits at 1/7 of
// the tolerance, while a wrong wiring (a swapped modulation chunk, a missing
// rope backward) fails 25 to 41 checks.
#include "tests/check.h"
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
    CHECK(dit_forward(&m, &p, &a, x, cond, mem, mask, B, T, S) == 0, "forward runs %s", err_msg());
    compare("out", a.out, nout);
    float *dout = callocCheck(nout, sizeof(float));
    float loss = mse_loss(dout, a.out, target, nout);
    check_close("loss", loss, ref("loss")->data[0], 0, REL_TOL);

    // backward
    float *grad = callocCheck(p.total, sizeof(float));
    float *dx = callocCheck((size_t)B * T * cfg.Cin, sizeof(float));
    float *dcond = callocCheck((size_t)B * cfg.E, sizeof(float));
    float *dmem = callocCheck((size_t)B * S * cfg.Cm, sizeof(float));
    CHECK(dit_backward(&m, &p, grad, &a, dout, dx, dcond, dmem, x, cond, mem, mask, B, T, S) == 0,
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
    dit_forward(&m, &p, &a, x, cond, mem, mask, B, T, S);
    CHECK(memcmp(out1, a.out, sizeof(float) * nout) == 0, "forward is deterministic");
    dit_backward(&m, &p, grad, &a, dout, NULL, NULL, NULL, x, cond, mem, mask, B, T, S);
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
    CHECK(dit_forward(&m, &p, &a0, x, cond, mem, mask, 1, T, S) == -1, "a memory longer than the arena is refused: %s",
          err_msg());
    dit_forward(&m, &p, &a0, x + (long)bl * T * cfg.Cin, cond + (long)bl * cfg.E, NULL, NULL, 1, T, 0);
    long n1 = (long)T * cfg.Cout;
    check_max_diff("all-masked item == empty memory", a0.out, out1 + bl * n1, n1, 1e-6 * max_abs(out1, nout));
    // empty memory backward runs and agrees with the all-masked item's input gradient
    float *dx0 = callocCheck((size_t)T * cfg.Cin, sizeof(float));
    float *g0 = callocCheck(p.total, sizeof(float));
    float *dout0 = callocCheck(n1, sizeof(float));
    for (long i = 0; i < n1; i++) dout0[i] = dout[bl * n1 + i];
    dit_backward(&m, &p, g0, &a0, dout0, dx0, NULL, NULL, x + (long)bl * T * cfg.Cin,
                 cond + (long)bl * cfg.E, NULL, NULL, 1, T, 0);
    // reference dx of item bl is the whole-batch dx restricted to that item
    const float *rdx = ref("dx")->data + (long)bl * T * cfg.Cin;
    check_max_diff("empty memory: dx of that item", dx0, rdx, (long)T * cfg.Cin,
                   REL_TOL * max_abs(ref("dx")->data, (long)B * T * cfg.Cin));
    dit_acts_free(&a0, &m);

    // AdaLN-Zero: after dit_init every block is the identity on the residual stream
    Rng rng;
    rng_seed(&rng, RNG_DEFAULT_SEED);
    dit_init(&m, &p, &rng);
    dit_forward(&m, &p, &a, x, cond, mem, mask, B, T, S);
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
    return check_summary("test_nn_dit");
}
