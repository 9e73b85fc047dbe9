// bench_denoiser — speed of the section denoiser (diffusion/denoiser.c) on
// this machine, two measurements. bench/denoiser.sh runs both beside the
// PyTorch peer (bench/denoiser_peer.py) and writes
// notebooks_exports/bench-denoiser.md.
//
//   train:  one training step of the shipped configuration
//           (denoiser_config_default()) at batch 16: zero the gradients, the
//           flow loss with its backward (denoiser_loss), plain AdamW (as
//           torch.optim.AdamW; no clipping or EMA, which the peer leaves out too).
//   sample: what sampling one 3-minute song costs per sampling step: one
//           forward of each of 10 sections of 390 new latent frames (18.1 s
//           each, 3,900 frames), B 1, the sections after the first with the
//           configuration's clean context frames before them, section i
//           remembering its i earlier sections (K tokens each, at most
//           mem_sections). Timed two ways: denoiser_forward as it is (the
//           memory mapped and its keys/values made on every call), and the
//           sampler's way, the memory's keys/values made once per section
//           (dit_memory_prepare, timed apart) and dit_forward_prepared per step.
//           --width and --depth choose the candidate size (heads of 32 channels, conditioning width = width, as train-diffusion --width).
//
// Batch of the training step (the peer builds the same masks): example b
// remembers b % 17 sections (b * K valid memory tokens of S), every fourth
// example is a short section whose last 40 frames are padding, the context
// frames carry no loss (w = 0).
//
// Output: one "key value" line per figure (seconds, FLOPs), parsed by denoiser.sh.
// Usage: bench_denoiser train [--threads N] [--iters N] [--warmup N]
//        bench_denoiser sample [--threads N] [--reps N] [--width C] [--depth L]
#include "diffusion/diffusion.h"
#include "util/rng.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAIN_BATCH 16
#define SONG_SECTIONS 10
#define SECTION_FRAMES 390
#define SHORT_PAD 40

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *t, int n) {
    qsort(t, n, sizeof *t, cmp_d);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

// The model at config c: dit_init, then non-zero AdaLN and output weights, as after some training.
static int make_model(Denoiser *m, const DenoiserConfig *c) {
    if (denoiser_create(m, c)) return -1;
    Rng rng;
    rng_seed(&rng, RNG_DEFAULT_SEED);
    denoiser_init(m, &rng);
    ParamSet *p = &m->params;
    for (int i = 0; i < p->n; i++)
        if (strstr(p->specs[i].name, "ada.w") || !strcmp(p->specs[i].name, "dit.final.w"))
            rng_fill_normal(&rng, params_get(p, i), p->specs[i].size, 0.02f);
    return 0;
}

static int bench_train(int iters, int warmup) {
    DenoiserConfig c = denoiser_config_default();
    Denoiser m;
    if (make_model(&m, &c)) { fprintf(stderr, "bench_denoiser: %s\n", err_msg()); return 1; }
    const int B = TRAIN_BATCH, T = denoiser_seq(&c), S = c.mem_tokens, P = c.ctx_frames;
    printf("config width %d depth %d heads %d cond %d K %d sections %d\n", c.width, c.depth, c.heads, c.cond_dim,
           c.mem_k, c.mem_sections);
    printf("batch %d\nframes %d\nmemory_tokens %d\n", B, T, S);
    printf("params %ld\n", denoiser_param_count(&m));

    DenoiserBatch b;
    denoiser_batch_alloc(&b, &c, B, T, S);
    b.nb = B; b.nt = T; b.ns = S;
    Rng rng;
    rng_seed(&rng, 7);
    rng_fill_normal(&rng, b.x, (long)B * T * denoiser_cin(&c), 1.f);
    rng_fill_normal(&rng, b.v, (long)B * T * c.z, 1.f);
    rng_fill_normal(&rng, b.cf, (long)B * denoiser_fc(&c), 1.f);
    rng_fill_normal(&rng, b.mf, (long)B * S * denoiser_fm(&c), 1.f);
    for (int e = 0; e < B; e++) {
        int valid = e % 4 == 3 ? T - SHORT_PAD : T, tokens = (e % 17) * c.mem_k;
        for (int t = 0; t < T; t++) {
            b.self_mask[e * T + t] = t < valid;
            b.w[e * T + t] = t >= P && t < valid;
        }
        for (int s = 0; s < S; s++) b.mem_mask[e * S + s] = s < tokens;
    }
    DenoiserActs a;
    denoiser_acts_alloc(&a, &m, B, T, S, 1);
    float *grad = optim_arena_alloc(&m.params);
    OptimConfig oc = optim_config_default();
    oc.ema_decay = 0;   // plain AdamW, as torch.optim.AdamW
    TrainState st;
    train_state_init(&st, &m.params, &oc, 1);

    double *t = mallocCheck(sizeof(double) * (iters + 1)), *tc = mallocCheck(sizeof(double) * (iters + 1));
    double t_zero = 0, t_loss = 0, t_adam = 0, loss = 0;
    for (int it = 0; it < warmup + iters; it++) {
        double c0 = cpu_seconds(), t0 = now_seconds();
        memset(grad, 0, sizeof(float) * m.params.total);
        double t1 = now_seconds();
        if (denoiser_loss(&m, &m.params, &a, &b, grad, &loss)) { fprintf(stderr, "bench_denoiser: %s\n", err_msg()); return 1; }
        double t2 = now_seconds();
        adamw_update(&m.params, grad, &st, 1e-4f);
        double t3 = now_seconds();
        if (it >= warmup) {
            t[it - warmup] = t3 - t0;
            tc[it - warmup] = cpu_seconds() - c0;
            t_zero += t1 - t0; t_loss += t2 - t1; t_adam += t3 - t2;
        }
    }
    double step = median(t, iters), fl = 3.0 * denoiser_flops_forward(&c, B, T, S, 0);
    printf("loss %.6g\n", loss);
    printf("train_step_s %.6g\n", step);
    printf("train_step_cpu_s %.6g\n", median(tc, iters));
    printf("train_flops %.6g\n", fl);
    printf("train_gflops %.6g\n", fl / step / 1e9);
    printf("step_zero_s %.6g\nstep_loss_s %.6g\nstep_adamw_s %.6g\n", t_zero / iters, t_loss / iters, t_adam / iters);
    // the forward alone, to split forward from backward
    for (int it = 0; it < 1 + iters; it++) {
        double t0 = now_seconds();
        denoiser_forward(&m, &m.params, &a, &b);
        if (it >= 1) t[it - 1] = now_seconds() - t0;
    }
    printf("step_fwd_s %.6g\n", median(t, iters));

    train_state_free(&st);
    free(grad); free(t); free(tc);
    denoiser_acts_free(&a, &m);
    denoiser_batch_free(&b);
    denoiser_free(&m);
    return 0;
}

static int bench_sample(int threads, int reps, int width, int depth) {
    DenoiserConfig c = denoiser_config_default();
    c.width = c.cond_dim = width;   // as train-diffusion sizes a candidate
    c.heads = width / 32;           // heads of 32 channels, as the shipped size
    c.depth = depth;
    Denoiser m;
    if (make_model(&m, &c)) { fprintf(stderr, "bench_denoiser: %s\n", err_msg()); return 1; }
    const int P = c.ctx_frames, Tmax = P + SECTION_FRAMES;
    const int n_mem_max = SONG_SECTIONS - 1 < c.mem_sections ? SONG_SECTIONS - 1 : c.mem_sections;
    const int Smax = n_mem_max * (c.mem_k > 0 ? c.mem_k : 1);
    printf("config width %d depth %d heads %d cond %d K %d\n", c.width, c.depth, c.heads, c.cond_dim, c.mem_k);
    printf("params %ld\n", denoiser_param_count(&m));
    printf("song_sections %d\nsection_frames %d\ncontext_frames %d\n", SONG_SECTIONS, SECTION_FRAMES, P);

    DenoiserBatch b;
    denoiser_batch_alloc(&b, &c, 1, Tmax, Smax);
    Rng rng;
    rng_seed(&rng, 7);
    rng_fill_normal(&rng, b.x, (long)Tmax * denoiser_cin(&c), 1.f);
    rng_fill_normal(&rng, b.cf, denoiser_fc(&c), 1.f);
    rng_fill_normal(&rng, b.mf, (long)Smax * denoiser_fm(&c), 1.f);
    memset(b.self_mask, 1, Tmax);
    memset(b.mem_mask, 1, Smax > 0 ? Smax : 1);
    DenoiserActs a;
    denoiser_acts_alloc(&a, &m, 1, Tmax, Smax, 0);
    DitMemory dm[SONG_SECTIONS];
    memset(dm, 0, sizeof dm);

    // per section: frames and memory; prepare each memory once (the sampler does it once per section)
    int sec_T[SONG_SECTIONS], sec_S[SONG_SECTIONS];
    float *cond = mallocCheck(sizeof(float) * c.cond_dim);
    double t_prep = 0;
    long fl_full = 0, fl_prep = 0;
    for (int i = 0; i < SONG_SECTIONS; i++) {
        int n_mem = i < c.mem_sections ? i : c.mem_sections;
        sec_T[i] = (i > 0 ? P : 0) + SECTION_FRAMES;
        sec_S[i] = n_mem * c.mem_k;
        fl_full += denoiser_flops_forward(&c, 1, sec_T[i], sec_S[i], 0);
        fl_prep += denoiser_flops_forward(&c, 1, sec_T[i], sec_S[i], 1);
        b.nb = 1; b.nt = sec_T[i]; b.ns = sec_S[i];
        if (denoiser_forward(&m, &m.params, &a, &b)) { fprintf(stderr, "bench_denoiser: %s\n", err_msg()); return 1; }
        memcpy(cond, a.cond, sizeof(float) * c.cond_dim);   // the conditioning MLP's output (tiny)
        double t0 = now_seconds();
        if (dit_memory_prepare(&m.dit, &m.params, &dm[i], a.mem, b.mem_mask, 1, sec_S[i])) {
            fprintf(stderr, "bench_denoiser: %s\n", err_msg());
            return 1;
        }
        t_prep += now_seconds() - t0;
    }
    printf("song_frames %d\nsong_flops_full %ld\nsong_flops_prepared %ld\n", SONG_SECTIONS * SECTION_FRAMES,
           fl_full, fl_prep);
    printf("memory_prepare_s %.6g\n", t_prep);

    // one sampling step over the whole song, each way: warm-up, then reps
    double *tf = mallocCheck(sizeof(double) * reps), *tp = mallocCheck(sizeof(double) * reps);
    double *cf = mallocCheck(sizeof(double) * reps), *cp = mallocCheck(sizeof(double) * reps);
    for (int r = 0; r < 1 + reps; r++) {
        double c0 = cpu_seconds(), t0 = now_seconds();
        for (int i = 0; i < SONG_SECTIONS; i++) {
            b.nt = sec_T[i]; b.ns = sec_S[i];
            denoiser_forward(&m, &m.params, &a, &b);
        }
        double c1 = cpu_seconds(), t1 = now_seconds();
        for (int i = 0; i < SONG_SECTIONS; i++)
            dit_forward_prepared(&m.dit, &m.params, &a.dit, b.x, cond, &dm[i], b.self_mask, 1, sec_T[i]);
        double c2 = cpu_seconds(), t2 = now_seconds();
        if (r >= 1) { tf[r - 1] = t1 - t0; tp[r - 1] = t2 - t1; cf[r - 1] = c1 - c0; cp[r - 1] = c2 - c1; }
    }
    double sf = median(tf, reps), sp = median(tp, reps);
    printf("step_full_s %.6g\nstep_full_gflops %.6g\n", sf, fl_full / sf / 1e9);
    printf("step_prepared_s %.6g\nstep_prepared_gflops %.6g\n", sp, fl_prep / sp / 1e9);
    printf("step_full_cpu_s %.6g\nstep_prepared_cpu_s %.6g\n", median(cf, reps), median(cp, reps));
    // where a prepared step goes: one profiled pass (process CPU time at one thread, else wall)
    dit_profile(threads == 1 ? 2 : 1);
    for (int i = 0; i < SONG_SECTIONS; i++)
        dit_forward_prepared(&m.dit, &m.params, &a.dit, b.x, cond, &dm[i], b.self_mask, 1, sec_T[i]);
    double pf[DIT_OP_COUNT], pb[DIT_OP_COUNT];
    dit_profile_get(pf, pb);
    dit_profile(0);
    for (int i = 0; i < DIT_OP_COUNT; i++) printf("op %d %.6g %s\n", i, pf[i], dit_op_names[i]);

    for (int i = 0; i < SONG_SECTIONS; i++) dit_memory_free(&dm[i]);
    free(tf); free(tp); free(cf); free(cp); free(cond);
    denoiser_acts_free(&a, &m);
    denoiser_batch_free(&b);
    denoiser_free(&m);
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: bench_denoiser train [--threads N] [--iters N] [--warmup N]\n"
                    "       bench_denoiser sample [--threads N] [--reps N] [--width C] [--depth L]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "train") && strcmp(argv[1], "sample"))) return usage();
    int threads = 1, iters = 5, warmup = 2, reps = 3, width = denoiser_config_default().width, depth = denoiser_config_default().depth;
    for (int i = 2; i < argc; i++) {
        int *dst = !strcmp(argv[i], "--threads") ? &threads : !strcmp(argv[i], "--iters") ? &iters
                 : !strcmp(argv[i], "--warmup") ? &warmup : !strcmp(argv[i], "--reps") ? &reps
                 : !strcmp(argv[i], "--width") ? &width : !strcmp(argv[i], "--depth") ? &depth : NULL;
        if (!dst || i + 1 >= argc) return usage();
        *dst = atoi(argv[++i]);
    }
    if (threads < 1 || iters < 1 || warmup < 0 || reps < 1 || width < 8 || depth < 1) return usage();
    nn_set_threads(threads);
    printf("threads %d\n", threads);
    return !strcmp(argv[1], "train") ? bench_train(iters, warmup) : bench_sample(threads, reps, width, depth);
}
