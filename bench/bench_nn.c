// bench_nn — speed of the DiT block stack (nn/dit.c) on this machine: one
// training step (forward, MSE loss, backward, AdamW) at batch 8 and one
// batch-1 forward, plus the machine's measured sgemm peak and a per-op
// breakdown of the step. bench/nn.sh runs it beside the PyTorch peer
// (bench/bench_nn_torch.py) and writes notebooks_exports/bench-nn.md.
//
// Output: one "key value" line per figure (seconds, FLOP/s), parsed by nn.sh.
// Usage: bench_nn [--threads N] [--iters N] [--warmup N]
//
// Reference denoiser stack: C 256, L 6, H 4, MLP 4x, E 256, Ci = Co = 32,
// memory width 256; T 256, S 64 memory tokens (the last 16 masked in every
// other batch item).
#include "nn/dit.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "util/rng.h"
#include "util/util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *t, int n) {
    qsort(t, n, sizeof *t, cmp_d);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

// Best sgemm rate (FLOP/s) of `reps` timed calls of out (M, N) = a (M, K) @ b^T (N, K).
static double sgemm_rate(int M, int N, int K, int reps) {
    float *a = mallocCheck(sizeof(float) * M * K), *b = mallocCheck(sizeof(float) * N * K);
    float *c = mallocCheck(sizeof(float) * M * N);
    Rng r;
    rng_seed(&r, 7);
    rng_fill_normal(&r, a, (long)M * K, 1.f);
    rng_fill_normal(&r, b, (long)N * K, 1.f);
    double best = 1e30;
    for (int i = 0; i < reps + 3; i++) {
        double t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, a, K, b, K, 0.f, c, N);
        double dt = now_seconds() - t0;
        if (i >= 3 && dt < best) best = dt;
    }
    free(a); free(b); free(c);
    return 2.0 * M * N * K / best;
}

int main(int argc, char **argv) {
    int threads = 1, iters = 10, warmup = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else { fprintf(stderr, "usage: bench_nn [--threads N] [--iters N] [--warmup N]\n"); return 2; }
    }
    if (threads < 1 || iters < 1 || warmup < 0) { fprintf(stderr, "bench_nn: bad arguments\n"); return 2; }
    nn_set_threads(threads);
    printf("threads %d\n", threads);

    // machine peak: sgemm on shapes of this model
    double p1 = sgemm_rate(1024, 256, 256, 40), p2 = sgemm_rate(2048, 768, 256, 20);
    double p3 = sgemm_rate(2048, 1024, 256, 20);
    double peak = p1 > p2 ? p1 : p2;
    peak = peak > p3 ? peak : p3;
    printf("sgemm_1024x256x256 %.4g\nsgemm_2048x768x256 %.4g\nsgemm_2048x1024x256 %.4g\nsgemm_peak %.4g\n",
           p1, p2, p3, peak);

    const int B = 8, T = 256, S = 64;
    DitConfig cfg = {.C = 256, .L = 6, .H = 4, .mlp_ratio = 4, .E = 256, .Cin = 32, .Cout = 32, .Cm = 256};
    DitModel m;
    ParamSet p;
    params_init(&p);
    if (dit_declare(&m, &p, &cfg, "")) { fprintf(stderr, "bench_nn: %s\n", err_msg()); return 1; }
    params_alloc(&p);
    Rng rng;
    rng_seed(&rng, RNG_DEFAULT_SEED);
    dit_init(&m, &p, &rng);
    // non-zero AdaLN and output weights, as after some training
    for (int i = 0; i < p.n; i++)
        if (strstr(p.specs[i].name, "ada.w") || !strcmp(p.specs[i].name, "final.w"))
            rng_fill_normal(&rng, params_get(&p, i), p.specs[i].size, 0.02f);
    long nparams = 0;
    for (int i = 0; i < p.n; i++) nparams += p.specs[i].size;
    printf("params %ld\n", nparams);

    float *x = mallocCheck(sizeof(float) * B * T * cfg.Cin), *cond = mallocCheck(sizeof(float) * B * cfg.E);
    float *mem = mallocCheck(sizeof(float) * B * S * cfg.Cm), *target = mallocCheck(sizeof(float) * B * T * cfg.Cout);
    uint8_t *mask = mallocCheck((size_t)B * S);
    rng_fill_normal(&rng, x, (long)B * T * cfg.Cin, 1.f);
    rng_fill_normal(&rng, cond, (long)B * cfg.E, 1.f);
    rng_fill_normal(&rng, mem, (long)B * S * cfg.Cm, 1.f);
    rng_fill_normal(&rng, target, (long)B * T * cfg.Cout, 1.f);
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++) mask[b * S + s] = !(b % 2 && s >= S - 16);

    long nout = (long)B * T * cfg.Cout;
    float *dout = mallocCheck(sizeof(float) * nout);
    float *grad = optim_arena_alloc(&p);
    OptimConfig oc = optim_config_default();
    oc.ema_decay = 0;   // the step compared is plain AdamW, as torch.optim.AdamW
    TrainState st;
    train_state_init(&st, &p, &oc, 1);
    DitActs a;
    dit_acts_alloc(&a, &m, B, T, S, 1);

    // (a) training step
    double *t = mallocCheck(sizeof(double) * 3 * iters), *tc = mallocCheck(sizeof(double) * 3 * iters);
    double t_zero = 0, t_fwd = 0, t_loss = 0, t_bwd = 0, t_adam = 0;
    float loss = 0;
    for (int it = 0; it < warmup + iters; it++) {
        double c0 = cpu_seconds(), t0 = now_seconds();
        memset(grad, 0, sizeof(float) * p.total);
        memset(dout, 0, sizeof(float) * nout);
        double t1 = now_seconds();
        dit_forward(&m, &p, &a, x, cond, mem, mask, NULL, B, T, S);
        double t2 = now_seconds();
        loss = mse_loss(dout, a.out, target, nout);
        double t3 = now_seconds();
        dit_backward(&m, &p, grad, &a, dout, NULL, NULL, NULL, x, cond, mem, mask, NULL, B, T, S);
        double t4 = now_seconds();
        adamw_update(&p, grad, &st, 1e-4f);
        double t5 = now_seconds();
        if (it >= warmup) {
            t[it - warmup] = t5 - t0;
            tc[it - warmup] = cpu_seconds() - c0;
            t_zero += t1 - t0; t_fwd += t2 - t1; t_loss += t3 - t2; t_bwd += t4 - t3; t_adam += t5 - t4;
        }
    }
    double train = median(t, iters);
    double fl = (double)dit_flops_forward(&cfg, B, T, S);
    printf("loss %.6g\n", loss);
    printf("train_step_s %.6g\n", train);
    printf("train_step_cpu_s %.6g\n", median(tc, iters));
    printf("train_tokens_per_s %.6g\n", B * T / train);
    printf("train_flops %.6g\n", 3 * fl);
    printf("train_gflops %.6g\n", 3 * fl / train / 1e9);
    printf("train_peak_frac %.4f\n", 3 * fl / train / peak);
    printf("step_zero_s %.6g\nstep_fwd_s %.6g\nstep_loss_s %.6g\nstep_bwd_s %.6g\nstep_adamw_s %.6g\n",
           t_zero / iters, t_fwd / iters, t_loss / iters, t_bwd / iters, t_adam / iters);

    // per-op breakdown of forward and backward (3 profiled passes, averaged);
    // at one thread in CPU time, which other processes on the machine do not inflate
    int clock_kind = threads == 1 ? 2 : 1;
    printf("profile_clock %s\n", clock_kind == 2 ? "cpu" : "wall");
    dit_profile(clock_kind);
    for (int it = 0; it < 3; it++) {
        memset(grad, 0, sizeof(float) * p.total);
        memset(dout, 0, sizeof(float) * nout);
        dit_forward(&m, &p, &a, x, cond, mem, mask, NULL, B, T, S);
        mse_loss(dout, a.out, target, nout);
        dit_backward(&m, &p, grad, &a, dout, NULL, NULL, NULL, x, cond, mem, mask, NULL, B, T, S);
    }
    double pf[DIT_OP_COUNT], pb[DIT_OP_COUNT];
    dit_profile_get(pf, pb);
    dit_profile(0);
    for (int i = 0; i < DIT_OP_COUNT; i++)
        printf("op %d %.6g %.6g %s\n", i, pf[i] / 3, pb[i] / 3, dit_op_names[i]);

    // (b) batch-1 forward (inference arena, no backward scratch)
    DitActs a1;
    dit_acts_alloc(&a1, &m, 1, T, S, 0);
    for (int it = 0; it < warmup + 3 * iters; it++) {
        double c0 = cpu_seconds(), t0 = now_seconds();
        dit_forward(&m, &p, &a1, x, cond, mem, mask, NULL, 1, T, S);
        double dt = now_seconds() - t0;
        if (it >= warmup) { t[it - warmup] = dt; tc[it - warmup] = cpu_seconds() - c0; }
    }
    double fl1 = (double)dit_flops_forward(&cfg, 1, T, S);
    double fwd = median(t, 3 * iters);
    printf("fwd1_s %.6g\n", fwd);
    printf("fwd1_cpu_s %.6g\n", median(tc, 3 * iters));
    printf("fwd1_tokens_per_s %.6g\n", T / fwd);
    printf("fwd1_flops %.6g\n", fl1);
    printf("fwd1_gflops %.6g\n", fl1 / fwd / 1e9);
    printf("fwd1_peak_frac %.4f\n", fl1 / fwd / peak);
    dit_profile(clock_kind);
    for (int it = 0; it < 5; it++) dit_forward(&m, &p, &a1, x, cond, mem, mask, NULL, 1, T, S);
    dit_profile_get(pf, pb);
    dit_profile(0);
    for (int i = 0; i < DIT_OP_COUNT; i++) printf("op1 %d %.6g %s\n", i, pf[i] / 5, dit_op_names[i]);

    dit_acts_free(&a1, &m);
    dit_acts_free(&a, &m);
    train_state_free(&st);
    free(grad); free(t); free(tc); free(x); free(cond); free(mem); free(target); free(mask); free(dout);
    dit_free(&m);
    params_free(&p);
    return 0;
}
