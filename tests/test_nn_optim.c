// test_nn_optim.c — AdamW and clip_grad_norm_ against torch (tests/data/optim_ref.bin,
// written by tests/make_optim_ref.py), the lr schedule and the EMA against their
// closed forms, the deterministic gradient norm, and the NaN/Inf guard.
#include "tests/check.h"
#include "tests/refdata.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static void test_against_torch(void) {
    FILE *f = fopen("tests/data/optim_ref.bin", "rb");
    if (!CHECK(f != NULL, "open tests/data/optim_ref.bin (run from the repository root)")) return;
    char magic[4];
    int32_t hdr[4];
    float hp[5];
    int ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "OPTR", 4) == 0 &&
             fread(hdr, sizeof hdr[0], 4, f) == 4 && fread(hp, sizeof hp[0], 5, f) == 5;
    if (!CHECK(ok, "optim_ref.bin header")) { fclose(f); return; }
    int nsteps = hdr[0], rows = hdr[1], cols = hdr[2], nb = hdr[3];
    long nw = (long)rows * cols;

    ParamSet p;
    params_init(&p);
    int iw = params_add(&p, "w", 1, rows, cols, 0, 0);
    int ib = params_add(&p, "b", 0, nb, 0, 0, 0);
    params_alloc(&p);
    float *w = params_get(&p, iw), *b = params_get(&p, ib);
    float *grad = optim_arena_alloc(&p);
    ok = ref_read_floats(f, w, nw) == 0 && ref_read_floats(f, b, nb) == 0;

    OptimConfig cfg = optim_config_default();
    cfg.beta1 = hp[0]; cfg.beta2 = hp[1]; cfg.eps = hp[2]; cfg.weight_decay = hp[3];
    cfg.clip_norm = hp[4]; cfg.ema_decay = 0;
    TrainState st;
    train_state_init(&st, &p, &cfg, 1);

    float *want = mallocCheck((size_t)(4 * nw + 4 * nb) * sizeof(float));
    float *ww = want, *wb = ww + nw, *wmw = wb + nb, *wmb = wmw + nw, *wvw = wmb + nb, *wvb = wvw + nw;
    double worst_w = 0;
    for (int s = 0; s < nsteps && ok; s++) {
        float lr, norm_ref;
        ok = ref_read_floats(f, &lr, 1) == 0 && ref_read_floats(f, grad + p.specs[iw].offset, nw) == 0 &&
             ref_read_floats(f, grad + p.specs[ib].offset, nb) == 0 && ref_read_floats(f, &norm_ref, 1) == 0 &&
             ref_read_floats(f, ww, nw) == 0 && ref_read_floats(f, wb, nb) == 0 &&
             ref_read_floats(f, wmw, nw) == 0 && ref_read_floats(f, wmb, nb) == 0 &&
             ref_read_floats(f, wvw, nw) == 0 && ref_read_floats(f, wvb, nb) == 0;
        if (!CHECK(ok, "optim_ref.bin step %d readable", s)) break;
        double norm = grad_clip(&p, grad, cfg.clip_norm);
        char what[96];
        snprintf(what, sizeof what, "step %d clip_grad_norm_ norm (%s)", s + 1,
                 norm > cfg.clip_norm ? "clipped" : "not clipped");
        check_close(what, norm, norm_ref, 0, 1e-6);
        adamw_update(&p, grad, &st, lr);
        // float32 in a slightly different order than torch's kernels: about 2 ulp at |w| ~ 1
        snprintf(what, sizeof what, "step %d AdamW w (weight decay %g)", s + 1, (double)cfg.weight_decay);
        check_max_diff(what, w, ww, nw, 2.5e-7);
        snprintf(what, sizeof what, "step %d AdamW b (no weight decay)", s + 1);
        check_max_diff(what, b, wb, nb, 2.5e-7);
        snprintf(what, sizeof what, "step %d Adam m", s + 1);
        check_max_diff(what, st.m + p.specs[iw].offset, wmw, nw, 1e-7);
        check_max_diff(what, st.m + p.specs[ib].offset, wmb, nb, 1e-7);
        snprintf(what, sizeof what, "step %d Adam v", s + 1);
        check_max_diff(what, st.v + p.specs[iw].offset, wvw, nw, 1e-8);
        check_max_diff(what, st.v + p.specs[ib].offset, wvb, nb, 1e-8);
        for (long j = 0; j < nw; j++) { double d = fabs(w[j] - ww[j]); if (d > worst_w) worst_w = d; }
    }
    CHECK(st.step == nsteps, "step counter %ld after %d updates", st.step, nsteps);
    printf("        (AdamW vs torch over %d steps: worst |w diff| %.3g)\n", nsteps, worst_w);
    free(want);
    free(grad);
    train_state_free(&st);
    params_free(&p);
    fclose(f);
}

static void test_lr_schedule(void) {
    OptimConfig c = optim_config_default();
    c.lr = 1e-3f; c.lr_min = 1e-5f; c.warmup_steps = 10; c.total_steps = 110;
    double lr = c.lr, lo = c.lr_min;
    check_close("lr step 0 = lr/warmup", lr_schedule(&c, 0), lr * 1 / 10, 0, 1e-6);
    check_close("lr step 4 = 5 lr/warmup", lr_schedule(&c, 4), lr * 5 / 10, 0, 1e-6);
    check_close("lr step 9 = lr (warm-up done)", lr_schedule(&c, 9), lr, 0, 1e-6);
    check_close("lr step 10 = lr (cosine start)", lr_schedule(&c, 10), lr, 0, 1e-6);
    check_close("lr step 35 (quarter)", lr_schedule(&c, 35), lo + 0.5 * (lr - lo) * (1 + cos(M_PI * 0.25)), 0, 1e-6);
    check_close("lr step 60 = midpoint", lr_schedule(&c, 60), 0.5 * (lr + lo), 0, 1e-6);
    check_close("lr step 110 = floor", lr_schedule(&c, 110), lo, 0, 1e-6);
    check_close("lr step 1000 = floor", lr_schedule(&c, 1000), lo, 0, 1e-6);
    int mono = 1;
    for (long s = 11; s <= 110; s++) mono &= lr_schedule(&c, s) <= lr_schedule(&c, s - 1);
    CHECK(mono, "lr never rises after warm-up");
    c.warmup_steps = 0; c.total_steps = 0;
    check_close("no warm-up, no decay: constant lr", lr_schedule(&c, 12345), lr, 0, 0);
}

static void test_ema(void) {
    ParamSet p;
    params_init(&p);
    params_add(&p, "a", 1, 3, 5, 0, 0);
    params_add(&p, "c", 0, 7, 0, 0, 0);
    params_alloc(&p);
    for (long i = 0; i < p.total; i++) p.data[i] = 0;
    for (int t = 0; t < p.n; t++)
        for (long j = 0; j < p.specs[t].size; j++) p.data[p.specs[t].offset + j] = 0.5f + 0.1f * (float)j - t;
    for (int warm = 0; warm <= 1; warm++) {
        OptimConfig c = optim_config_default();
        c.ema_decay = 0.9f;
        c.ema_warmup = warm;
        TrainState st;
        train_state_init(&st, &p, &c, 1);
        CHECK(memcmp(st.ema, p.data, (size_t)p.total * sizeof(float)) == 0, "EMA starts as a copy of the weights");
        float *e0 = mallocCheck((size_t)p.total * sizeof(float));
        for (long i = 0; i < p.total; i++) st.ema[i] = e0[i] = 3.0f - 0.25f * (float)(i % 11);
        // constant weights w: after n updates ema = w + prod(d_t) (e0 - w)
        const int n = 40;
        double prod = 1;
        for (int s = 1; s <= n; s++) {
            st.step = s;                          // ema_update runs after the optimizer step
            ema_update(&p, &st);
            double d = warm ? fmin(0.9, (1.0 + s) / (10.0 + s)) : 0.9;
            prod *= d;
        }
        double worst = 0;
        for (int t = 0; t < p.n; t++)
            for (long j = 0; j < p.specs[t].size; j++) {
                long i = p.specs[t].offset + j;
                double want = p.data[i] + prod * (e0[i] - p.data[i]);
                worst = fmax(worst, fabs(st.ema[i] - want));
            }
        CHECK(worst <= 2e-6, "EMA after %d steps %s warm-up = closed form: max |diff| %.3g (tol 2e-6)",
              n, warm ? "with" : "without", worst);
        check_close(warm ? "EMA decay at step 2 with warm-up = 3/12" : "EMA decay without warm-up",
                    ema_decay_at(&c, 2), warm ? 3.0 / 12.0 : 0.9, 0, 1e-7);
        free(e0);
        train_state_free(&st);
    }
    params_free(&p);
}

static void test_grad_norm(void) {
    ParamSet p;
    params_init(&p);
    params_add(&p, "big", 1, 300, 333, 0, 0);     // several chunks, odd size: padding follows
    params_add(&p, "small", 0, 5, 0, 0, 0);
    params_alloc(&p);
    float *g = optim_arena_alloc(&p);
    Rng r;
    rng_seed(&r, 7);
    double want = 0;
    for (int t = 0; t < p.n; t++)
        for (long j = 0; j < p.specs[t].size; j++) {
            float x = rng_normal(&r);
            g[p.specs[t].offset + j] = x;
            want += (double)x * x;
        }
    want = sqrt(want);
    long pad = p.specs[0].offset + p.specs[0].size;        // first padding float
    CHECK(pad < p.specs[1].offset, "the layout has padding after 'big' (%ld < %ld)", pad, p.specs[1].offset);
    g[pad] = 1e30f;                                        // garbage in padding must not count
    double n1 = grad_norm(&p, g);
    check_close("grad norm over tensors only (padding ignored)", n1, want, 0, 1e-12);
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    double a = grad_norm(&p, g);
    omp_set_num_threads(2);
    double b = grad_norm(&p, g);
    omp_set_num_threads(saved);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "grad norm bit-identical on 1 and 2 threads (%.17g vs %.17g)", a, b);
#endif
#ifdef _OPENMP
    {   // a whole optim_step (clip, AdamW, EMA) on this arena, big enough to run
        // in parallel: 1 and 2 threads give the same bits
        OptimConfig c = optim_config_default();
        c.clip_norm = 1.0f;
        float *w0 = mallocCheck((size_t)p.total * sizeof(float));
        for (long i = 0; i < p.total; i++) w0[i] = 0.001f * (float)(i % 1000);
        float *res[2], *gg = optim_arena_alloc(&p);
        for (int th = 1; th <= 2; th++) {
            memcpy(p.data, w0, (size_t)p.total * sizeof(float));
            TrainState st;
            train_state_init(&st, &p, &c, 1);
            omp_set_num_threads(th);
            for (int k = 0; k < 3; k++) {
                memcpy(gg, g, (size_t)p.total * sizeof(float));
                gg[pad] = 0;
                optim_step(&p, gg, &st, 1.0f, NULL);
            }
            res[th - 1] = mallocCheck((size_t)p.total * sizeof(float) * 2);
            memcpy(res[th - 1], p.data, (size_t)p.total * sizeof(float));
            memcpy(res[th - 1] + p.total, st.ema, (size_t)p.total * sizeof(float));
            train_state_free(&st);
        }
        omp_set_num_threads(saved);
        CHECK(memcmp(res[0], res[1], (size_t)p.total * sizeof(float) * 2) == 0,
              "optim_step on %ld floats: weights and EMA bit-identical on 1 and 2 threads", p.total);
        free(res[0]); free(res[1]); free(gg); free(w0);
    }
#endif
    // below max_norm: gradients untouched, bit for bit
    float *copy = mallocCheck((size_t)p.total * sizeof(float));
    memcpy(copy, g, (size_t)p.total * sizeof(float));
    grad_clip(&p, g, (float)(want * 2));
    CHECK(memcmp(copy, g, (size_t)p.total * sizeof(float)) == 0, "norm below max_norm: gradients unchanged");
    grad_clip(&p, g, 2.0f);
    check_close("after clipping to 2, norm is 2", grad_norm(&p, g), 2.0, 0, 1e-5);
    CHECK(g[pad] == 1e30f, "clipping leaves padding alone");
    free(copy);
    free(g);
    params_free(&p);
}

static void test_guard(void) {
    CHECK(train_check_finite(1.5f, 2.0, 3) == 0, "finite loss and norm pass the guard");
    int rc = train_check_finite(NAN, 1.0, 17);
    CHECK(rc == -1 && strstr(err_msg(), "loss is NaN") && strstr(err_msg(), "step 17"),
          "NaN loss stops training: \"%s\"", err_msg());
    rc = train_check_finite(1.0f, INFINITY, 18);
    CHECK(rc == -1 && strstr(err_msg(), "gradient norm is Inf"), "Inf gradient stops training: \"%s\"", err_msg());

    ParamSet p;
    params_init(&p);
    int i = params_add(&p, "w", 1, 4, 4, 0, 0);
    params_alloc(&p);
    for (long j = 0; j < 16; j++) params_get(&p, i)[j] = 0.1f * j;
    float *g = optim_arena_alloc(&p);
    for (long j = 0; j < 16; j++) g[j] = 1.0f;
    g[5] = NAN;
    OptimConfig c = optim_config_default();
    TrainState st;
    train_state_init(&st, &p, &c, 1);
    float before[16];
    memcpy(before, p.data, sizeof before);
    double gn = 0;
    rc = optim_step(&p, g, &st, 0.5f, &gn);
    CHECK(rc == -1 && isnan(gn), "optim_step refuses a NaN gradient: \"%s\"", err_msg());
    CHECK(memcmp(before, p.data, sizeof before) == 0 && st.step == 0,
          "refused step leaves weights and step counter untouched");
    g[5] = 1.0f;
    rc = optim_step(&p, g, &st, 0.5f, &gn);
    CHECK(rc == 0 && st.step == 1 && memcmp(before, p.data, sizeof before) != 0,
          "a finite step updates (norm %.3g)", gn);
    free(g);
    train_state_free(&st);
    params_free(&p);
}

// The AdamW kernel has a SIMD body and a scalar tail; both must give the same
// bits. One tensor of 203 floats (mostly SIMD) against 203 one-float tensors
// (all scalar tail), same values, five steps with decay.
static void test_simd_equals_scalar(void) {
    enum { N = 203 };
    ParamSet one, many;
    params_init(&one);
    params_init(&many);
    params_add(&one, "w", 1, N, 0, 0, 0);
    for (int i = 0; i < N; i++) { char nm[16]; snprintf(nm, sizeof nm, "w%d", i); params_add(&many, nm, 1, 1, 0, 0, 0); }
    params_alloc(&one);
    params_alloc(&many);
    float *g1 = optim_arena_alloc(&one), *g2 = optim_arena_alloc(&many);
    Rng r;
    rng_seed(&r, 5);
    for (int i = 0; i < N; i++) one.data[i] = many.data[many.specs[i].offset] = rng_normal(&r);
    OptimConfig c = optim_config_default();
    c.weight_decay = 0.1f; c.ema_decay = 0; c.clip_norm = 0;
    TrainState s1, s2;
    train_state_init(&s1, &one, &c, 1);
    train_state_init(&s2, &many, &c, 1);
    for (int step = 0; step < 5; step++) {
        for (int i = 0; i < N; i++) g1[i] = g2[many.specs[i].offset] = rng_normal(&r);
        adamw_update(&one, g1, &s1, 1e-2f);
        adamw_update(&many, g2, &s2, 1e-2f);
    }
    int same = 1;
    for (int i = 0; i < N; i++) {
        long o = many.specs[i].offset;
        same &= memcmp(&one.data[i], &many.data[o], 4) == 0 && memcmp(&s1.m[i], &s2.m[o], 4) == 0 &&
                memcmp(&s1.v[i], &s2.v[o], 4) == 0;
    }
    CHECK(same, "AdamW: SIMD body and scalar tail give bit-identical weights and moments");
    free(g1); free(g2);
    train_state_free(&s1); train_state_free(&s2);
    params_free(&one); params_free(&many);
}

int main(void) {
    test_against_torch();
    test_simd_equals_scalar();
    test_lr_schedule();
    test_ema();
    test_grad_norm();
    test_guard();
    return check_summary("test_nn_optim");
}
