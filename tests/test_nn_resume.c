// test_nn_resume.c — save, reload, resume: a small MLP trained N steps in one
// go and trained N/2 steps, checkpointed, freed, reloaded and trained N/2 more
// must give bit-identical losses, weights, Adam moments and EMA (llm.c
// test_gpt2.cu). Exercises AdamW + clipping + EMA + lr schedule together, with
// the data drawn from the TrainState's own RNG.
#include "tests/check.h"
#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "util/rng.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Legend: B batch, C input width, H hidden width, O output width.
enum { B = 16, C = 12, H = 32, O = 5, N_STEPS = 24 };

typedef struct {
    ParamSet p;
    int w1, b1, w2, b2;
    float *grad;                       // (p.total)
    float x[B * C], tgt[B * O];        // (B, C), (B, O)
    float h[B * H], a[B * H], y[B * O];// pre-activation, gelu, output
    float dy[B * O], da[B * H], dh[B * H];
} Mlp;

static void mlp_build(Mlp *m) {
    memset(m, 0, sizeof *m);
    params_init(&m->p);
    m->w1 = params_add(&m->p, "fc1.w", 1, H, C, 0, 0);
    m->b1 = params_add(&m->p, "fc1.b", 0, H, 0, 0, 0);
    m->w2 = params_add(&m->p, "fc2.w", 1, O, H, 0, 0);
    m->b2 = params_add(&m->p, "fc2.b", 0, O, 0, 0, 0);
    params_alloc(&m->p);
    m->grad = optim_arena_alloc(&m->p);
}
static void mlp_init_weights(Mlp *m) {
    Rng r;
    rng_seed(&r, 31337);
    rng_fill_normal(&r, params_get(&m->p, m->w1), (long)H * C, 1.0f / sqrtf(C));
    rng_fill_normal(&r, params_get(&m->p, m->b1), H, 0.1f);
    rng_fill_normal(&r, params_get(&m->p, m->w2), (long)O * H, 1.0f / sqrtf(H));
}
static void mlp_free(Mlp *m) { free(m->grad); params_free(&m->p); }

static Hparams mlp_hparams(void) {
    Hparams h;
    hparams_init(&h);
    hparams_set_int(&h, "in", C);
    hparams_set_int(&h, "hidden", H);
    hparams_set_int(&h, "out", O);
    return h;
}

// One training step on a batch drawn from st->rng; returns the loss (before the update).
static float train_step(Mlp *m, TrainState *st, int *ok, double *gn) {
    rng_fill_normal(&st->rng, m->x, B * C, 1.0f);
    for (int b = 0; b < B; b++)                  // a fixed smooth target function of x
        for (int o = 0; o < O; o++) {
            float s = 0;
            for (int c = 0; c < C; c++) s += m->x[b * C + c] * (0.1f * (float)(c - o) + 0.05f);
            m->tgt[b * O + o] = sinf(s) + 0.1f * (float)o;
        }
    ParamSet *p = &m->p;
    memset(m->grad, 0, (size_t)p->total * sizeof(float));
    memset(m->dy, 0, sizeof m->dy);
    memset(m->da, 0, sizeof m->da);
    memset(m->dh, 0, sizeof m->dh);
    linear_forward(m->h, m->x, params_get(p, m->w1), params_get(p, m->b1), B, C, H);   // (B, H)
    gelu_forward(m->a, m->h, B * H);                                                    // (B, H)
    linear_forward(m->y, m->a, params_get(p, m->w2), params_get(p, m->b2), B, H, O);   // (B, O)
    float loss = mse_loss(m->dy, m->y, m->tgt, B * O);
    float *g = m->grad;
    linear_backward(m->da, g + p->specs[m->w2].offset, g + p->specs[m->b2].offset, m->dy,
                    m->a, params_get(p, m->w2), B, H, O);
    gelu_backward(m->dh, m->da, m->h, B * H);
    linear_backward(NULL, g + p->specs[m->w1].offset, g + p->specs[m->b1].offset, m->dh,
                    m->x, params_get(p, m->w1), B, C, H);
    if (optim_step(p, m->grad, st, loss, gn)) *ok = 0;
    return loss;
}

static OptimConfig run_config(void) {
    OptimConfig c = optim_config_default();
    c.lr = 2e-2f; c.lr_min = 1e-3f; c.warmup_steps = 4; c.total_steps = N_STEPS;
    c.weight_decay = 0.05f; c.clip_norm = 0.5f;   // small enough that some steps clip
    c.ema_decay = 0.95f; c.ema_warmup = 1;
    return c;
}

static int same_arena(const ParamSet *p, const float *a, const float *b) {
    for (int i = 0; i < p->n; i++)
        if (memcmp(a + p->specs[i].offset, b + p->specs[i].offset, (size_t)p->specs[i].size * sizeof(float))) return 0;
    return 1;
}

int main(void) {
    OptimConfig cfg = run_config();
    Hparams hp = mlp_hparams();
    char dir[] = "/tmp/refrain_test_resume_XXXXXX";
    if (!mkdtemp(dir)) { printf("cannot make a temp folder\n"); return 1; }
    char path[256];
    snprintf(path, sizeof path, "%s/mlp.ckpt", dir);

    // ---- uninterrupted run ----
    float loss_a[N_STEPS];
    Mlp a;
    mlp_build(&a);
    mlp_init_weights(&a);
    TrainState sa;
    train_state_init(&sa, &a.p, &cfg, 777);
    int ok = 1, clipped = 0;
    double gn;
    for (int s = 0; s < N_STEPS; s++) {
        loss_a[s] = train_step(&a, &sa, &ok, &gn);
        clipped += gn > cfg.clip_norm;
    }
    CHECK(ok, "uninterrupted run: %d steps without a refused step", N_STEPS);
    CHECK(clipped > 0 && clipped < N_STEPS, "the run clips some steps and not others (%d of %d clipped)", clipped, N_STEPS);
    double first = 0, last = 0;                     // batches are noisy: compare 6-step means
    for (int s = 0; s < 6; s++) { first += loss_a[s] / 6; last += loss_a[N_STEPS - 6 + s] / 6; }
    CHECK(last < 0.8 * first, "training lowers the loss: mean of the first 6 steps %.4f, of the last 6 %.4f",
          first, last);

    // ---- first half, checkpoint, free everything ----
    float loss_b[N_STEPS];
    {
        Mlp b;
        mlp_build(&b);
        mlp_init_weights(&b);
        TrainState sb;
        train_state_init(&sb, &b.p, &cfg, 777);
        for (int s = 0; s < N_STEPS / 2; s++) loss_b[s] = train_step(&b, &sb, &ok, &gn);
        int rc = checkpoint_save(path, "mlp", &hp, &b.p, &sb);
        CHECK(rc == 0, "checkpoint at step %ld saved: %s", sb.step, rc ? err_msg() : "ok");
        train_state_free(&sb);
        mlp_free(&b);
    }
    // ---- fresh process state: build, load, second half ----
    Mlp c;
    mlp_build(&c);                                  // weights left at zero: the load must fill them
    OptimConfig wrong = optim_config_default();     // and the config must come from the file
    TrainState sc;
    train_state_init(&sc, &c.p, &wrong, 1);
    int rc = checkpoint_load(path, "mlp", &hp, &c.p, &sc);
    CHECK(rc == 0 && sc.step == N_STEPS / 2, "resumed at step %ld: %s", sc.step, rc ? err_msg() : "ok");
    for (int s = N_STEPS / 2; s < N_STEPS; s++) loss_b[s] = train_step(&c, &sc, &ok, &gn);
    CHECK(ok, "interrupted run: no refused step");

    int same_losses = memcmp(loss_a, loss_b, sizeof loss_a) == 0;
    int first_diff = -1;
    for (int s = 0; s < N_STEPS && first_diff < 0; s++) if (memcmp(&loss_a[s], &loss_b[s], sizeof(float))) first_diff = s;
    CHECK(same_losses, "losses of all %d steps bit-identical to the uninterrupted run (first difference at %d)",
          N_STEPS, first_diff);
    printf("        (loss at step %d: %.9g uninterrupted, %.9g resumed)\n", N_STEPS - 1,
           (double)loss_a[N_STEPS - 1], (double)loss_b[N_STEPS - 1]);
    CHECK(same_arena(&a.p, a.p.data, c.p.data), "final weights bit-identical");
    CHECK(same_arena(&a.p, sa.m, sc.m) && same_arena(&a.p, sa.v, sc.v), "final Adam moments bit-identical");
    CHECK(sc.ema && same_arena(&a.p, sa.ema, sc.ema), "final EMA bit-identical");
    CHECK(sa.step == sc.step && memcmp(sa.rng.s, sc.rng.s, sizeof sa.rng.s) == 0, "step and RNG agree at the end");

    // ---- negative control: resuming without the saved RNG changes the run ----
    {
        Mlp d;
        mlp_build(&d);
        TrainState sd;
        train_state_init(&sd, &d.p, &cfg, 1);
        checkpoint_load(path, "mlp", &hp, &d.p, &sd);
        rng_seed(&sd.rng, 777);                     // forget where the data stream was
        float l = train_step(&d, &sd, &ok, &gn);
        CHECK(l != loss_a[N_STEPS / 2], "control: a resume that loses the RNG state is detected (%.6g vs %.6g)",
              (double)l, (double)loss_a[N_STEPS / 2]);
        train_state_free(&sd);
        mlp_free(&d);
    }

    remove(path);
    rmdir(dir);
    train_state_free(&sa);
    train_state_free(&sc);
    mlp_free(&a);
    mlp_free(&c);
    return check_summary("test_nn_resume");
}
