// train.c — training the section denoiser on the latent corpus: random
// section crops with their context and memory (examples.c), the flow loss,
// AdamW with warm-up and cosine decay, EMA, the NaN guard, validation on
// fixed examples with fixed noise (with and without memory, so the log shows
// whether the memory is being used), checkpoints that resume bit-exactly, and
// the export of the EMA weights. The loop itself is nn/trainer's.
// Under mpirun (util/dist.h) each rank takes its share of every step's global
// batch of --batch examples, example g of a step drawing from its own stream
// (the step's key, one draw of the run's Rng, and g), and the gradients are
// summed, each rank's weighted by its share of the batch's loss frames, before
// the AdamW step every rank takes; validation is split the same way and summed.
// It owns no network wiring (denoiser.c) and no command-line parsing.
#include "diffusion/diffusion.h"
#include "data/corpus.h"
#include "nn/trainer.h"
#include "util/dist.h"
#include "util/util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diff_train_defaults(DiffTrainOpts *o) {
    memset(o, 0, sizeof *o);
    o->data = ".cache/corpus";
    o->ae = NULL;   // the shipped ae.rfc, found by model_file
    o->latents = ".cache/latents/latents.rfl";
    o->out = ".cache/denoiser/denoiser-train.rfc";
    o->steps = 20000;
    o->batch = 16;
    o->lr = 4e-4f;
    o->lr_min = 2e-5f;
    o->warmup = 500;
    o->val_every = 500;
    o->ckpt_minutes = 5;
    o->seed = RNG_DEFAULT_SEED;
    o->drop = drop_opts_default();
}

// ---- validation: fixed examples, fixed noise ---------------------------------------------
#define VAL_T_COUNT 2
static const float VAL_T[VAL_T_COUNT] = {0.3f, 0.7f};
#define VAL_SECTIONS 4   // per song: the first section and up to 3 repeats or later ones

typedef struct {
    ExampleSpec e;
    uint64_t seed;
    int repeat;              // its label occurred earlier in the song
} ValExample;

static int val_examples(ValExample **out, const LatentCorpus *va) {
    int cap = va->n * VAL_SECTIONS * VAL_T_COUNT + 1, n = 0;
    ValExample *v = callocCheck(cap, sizeof *v);
    for (int i = 0; i < va->n; i++) {
        const LatentSong *s = &va->songs[i];
        int taken = 0;
        for (int k = 0; k < s->n_sections && taken < VAL_SECTIONS; k++) {
            if (k > 0 && s->sec[k].occurrence < 2 && taken >= VAL_SECTIONS / 2) continue;   // prefer repeats
            for (int j = 0; j < VAL_T_COUNT; j++) {
                ValExample *x = &v[n++];
                x->e.song = s;
                x->e.sec = k;
                x->e.crop_start = -1;
                x->e.t = VAL_T[j];
                x->seed = 0x7a1 + (uint64_t)n * 7919;
                x->repeat = s->sec[k].occurrence > 1;
            }
            taken++;
        }
    }
    *out = v;
    return n;
}

typedef struct {
    const DiffTrainOpts *o;
    Denoiser *m;
    TrainState *st;
    Hparams hp;
    DenoiserBatch b;
    DenoiserActs a;
    float *grad;
    LatentCorpus tr;         // training songs (the valid ones moved out)
    LatentCorpus va;
    long *cum;               // (tr.n + 1) frame offsets
    ValExample *val;
    int nval;
    double ema_loss;
} Run;

// Mean flow loss over the validation examples (EMA weights), all and on repeats.
static int validate_loss(Run *r, int no_mem, double *all, double *rep) {
    ParamSet pe = r->m->params;
    pe.data = r->st->ema;
    double s = 0, sr = 0;
    int n = 0, nr = 0;
    long lo, hi;   // this rank's share of the examples
    dist_share(r->nval, &lo, &hi);
    for (int i = (int)lo; i < hi; i += r->b.B) {
        int nb = hi - i < r->b.B ? (int)(hi - i) : r->b.B;
        r->b.nb = nb;
        for (int k = 0; k < nb; k++) {
            ExampleSpec e = r->val[i + k].e;
            e.no_mem = no_mem;
            Rng noise;
            rng_seed(&noise, r->val[i + k].seed);
            if (denoiser_fill_example(r->m, &r->b, k, &e, &noise)) return -1;
        }
        double L[nb];
        if (denoiser_example_losses(r->m, &pe, &r->a, &r->b, L)) return -1;
        for (int k = 0; k < nb; k++) {
            s += L[k]; n++;
            if (r->val[i + k].repeat) { sr += L[k]; nr++; }
        }
    }
    r->b.nb = r->b.B;
    double sum[4] = {s, n, sr, nr};
    if (dist_allreduce_sum_double(sum, 4)) return -1;
    *all = sum[1] > 0 ? sum[0] / sum[1] : NAN;
    *rep = sum[3] > 0 ? sum[2] / sum[3] : NAN;
    return 0;
}

static int hook_validate(void *ctx, char *row, size_t rcap, char *msg, size_t mcap) {
    Run *r = ctx;
    double all, rep, all0, rep0;
    if (validate_loss(r, 0, &all, &rep) || validate_loss(r, 1, &all0, &rep0)) return -1;
    trainer_cat(row, rcap, "\t%.5f\t%.5f\t%.5f\t%.5f", all, all0, rep, rep0);
    snprintf(msg, mcap, "train loss %.4f, validation flow loss %.4f (memory removed %.4f); on repeats %.4f "
             "(memory removed %.4f, %+.1f%%), EMA weights", r->ema_loss, all, all0, rep, rep0,
             100.0 * (rep - rep0) / rep0);
    return 0;
}

// Sums this rank's gradient and loss with the other ranks': the loss is a
// mean over the global batch's loss frames (sum of w times Z), so each
// rank's mean and gradient count in proportion to its own frames.
static int sum_over_ranks(Run *r, double *loss) {
    double wsum = 0;
    for (long i = 0; i < (long)r->b.nb * r->b.nt; i++) wsum += r->b.w[i];
    double sum[2] = {*loss * wsum, wsum};
    if (dist_allreduce_sum_double(sum, 2)) return -1;
    float share = (float)(wsum / sum[1]);
    long P = r->m->params.total;
    for (long i = 0; i < P; i++) r->grad[i] *= share;
    if (dist_allreduce_sum_float(r->grad, P)) return -1;
    *loss = sum[0] / sum[1];
    return 0;
}

static int hook_step(void *ctx, char *row, size_t rcap, char *prog, size_t pcap) {
    Run *r = ctx;
    uint64_t key = rng_u64(&r->st->rng);   // the step's key: one draw on every rank, whatever their number
    long lo, hi;                           // this rank's share of the global batch
    dist_share(r->o->batch, &lo, &hi);
    r->b.nb = (int)(hi - lo);
    for (long g = lo; g < hi; g++) {
        Rng ex;                            // example g's own stream
        rng_seed(&ex, dist_example_seed(key, g));
        if (denoiser_random_example(r->m, &r->b, (int)(g - lo), &r->tr, r->cum, &r->o->drop, &ex)) return -1;
    }
    memset(r->grad, 0, sizeof(float) * r->m->params.total);
    double loss;
    if (denoiser_loss(r->m, &r->m->params, &r->a, &r->b, r->grad, &loss)) return -1;
    if (dist_size() > 1 && sum_over_ranks(r, &loss)) return -1;
    float lr = lr_schedule(&r->st->cfg, r->st->step);
    double gn;
    if (optim_step(&r->m->params, r->grad, r->st, (float)loss, &gn))
        return err_set("%s; nothing saved after the last checkpoint (%s); lower --lr or resume from it",
                       err_msg(), r->o->out);
    r->ema_loss = r->ema_loss < 0 ? loss : 0.98 * r->ema_loss + 0.02 * loss;
    snprintf(row, rcap, "%.5f\t%.3e\t%.4f", loss, lr, gn);
    snprintf(prog, pcap, "loss %.4f  lr %.2e  |g| %.3f", r->ema_loss, lr, gn);
    return 0;
}

static int hook_save(void *ctx) {
    Run *r = ctx;
    return checkpoint_save(r->o->out, DENOISER_KIND, &r->hp, &r->m->params, r->st);
}

// ---- set-up ---------------------------------------------------------------------------------
// Splits the latent corpus by the corpus's own split (the songs are shared, not copied).
static void split_corpus(LatentCorpus *all, LatentCorpus *tr, LatentCorpus *va) {
    memset(tr, 0, sizeof *tr); memset(va, 0, sizeof *va);
    tr->songs = callocCheck(all->n + 1, sizeof *tr->songs);
    va->songs = callocCheck(all->n + 1, sizeof *va->songs);
    tr->z = va->z = all->z;
    for (int i = 0; i < all->n; i++) {
        LatentCorpus *d = all->songs[i].split == SPLIT_VALID ? va : tr;
        d->songs[d->n++] = all->songs[i];
        d->hours += all->songs[i].T / COND_FRAME_RATE / 3600.0;
    }
    free(all->songs);   // the songs' buffers now belong to tr and va
    memset(all, 0, sizeof *all);
}

// The median length of each label's sections in the training songs: the
// form parser's default length for a section given without one.
static void label_medians(const LatentCorpus *tr, float *med) {
    for (int id = 1; id < COND_N_LABELS; id++) {
        int n = 0, cap = 0;
        float *v = NULL;
        for (int i = 0; i < tr->n; i++)
            for (int k = 0; k < tr->songs[i].n_sections; k++) {
                const LatentSection *x = &tr->songs[i].sec[k];
                if (x->label_id != id) continue;
                if (n == cap) { cap = cap ? 2 * cap : 64; v = reallocCheck(v, sizeof(float) * cap); }
                v[n++] = (float)((x->end - x->start) / COND_FRAME_RATE);
            }
        if (n >= 5) {   // enough to trust; else the built-in default stays
            for (int a = 1; a < n; a++)
                for (int b = a; b > 0 && v[b - 1] > v[b]; b--) { float t = v[b]; v[b] = v[b - 1]; v[b - 1] = t; }
            med[id] = v[n / 2];
        }
        free(v);
    }
}

static void record_drops(const DropOpts *d, Hparams *hp) {
    hparams_set_float(hp, "drop_mem", d->p_drop_mem);
    hparams_set_float(hp, "drop_labels", d->p_drop_labels);
    hparams_set_float(hp, "drop_ctx", d->p_drop_ctx);
    hparams_set_float(hp, "crop_at_start", d->p_start);
}

static void run_free(Run *r) {
    free(r->grad); free(r->cum); free(r->val);
    denoiser_acts_free(&r->a, r->m);
    denoiser_batch_free(&r->b);
    latent_corpus_free(&r->tr);
    for (int i = 0; i < r->va.n; i++) { free(r->va.songs[i].sec); free(r->va.songs[i].lat); }
    free(r->va.songs);
}

// The latent corpus, built (or its cache refreshed) by rank 0 alone before the
// other ranks read it; every rank learns whether it failed.
static int load_latents(LatentCorpus *all, const DiffTrainOpts *o) {
    int lead = dist_rank() == 0, rc = lead ? latent_corpus_load(all, o->data, o->ae, o->latents, !g_quiet) : 0;
    double failed = rc != 0;
    if (dist_allreduce_sum_double(&failed, 1)) { if (!rc) latent_corpus_free(all); return -1; }
    if (failed > 0) {
        if (!rc) latent_corpus_free(all);
        return rc ? -1 : err_set("train-diffusion: rank 0 could not load the latent corpus");
    }
    if (lead || !latent_corpus_load(all, o->data, o->ae, o->latents, 0)) return 0;
    fprintf(stderr, "refrain: train-diffusion: rank %d: %s\n", dist_rank(), err_msg());
    dist_abort(1);   // rank 0 is about to wait for this one
}

int diff_train(const DiffTrainOpts *given, const DenoiserConfig *cfg) {
    char found[PATH_MAX];
    DiffTrainOpts q = *given;   // the autoencoder NULL: the shipped one
    if (!(q.ae = model_file(given->ae, "ae.rfc", 0, found, sizeof found))) return -1;
    const DiffTrainOpts *o = &q;
    if (dist_init()) return -1;
    if (o->batch < dist_size())
        return err_set("train-diffusion: --batch %d is smaller than the %d ranks (each rank needs an example)",
                       o->batch, dist_size());
    Run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.ema_loss = -1;
    LatentCorpus all;
    double t0 = now_seconds();
    if (load_latents(&all, o)) return -1;
    int lead = dist_rank() == 0;   // rank 0 alone prints
    if (all.z != cfg->z) {
        int z = all.z;
        latent_corpus_free(&all);
        return err_set("train-diffusion: the autoencoder %s has %d latent channels, the denoiser %d", o->ae, z, cfg->z);
    }
    split_corpus(&all, &r.tr, &r.va);
    if (!r.tr.n || !r.va.n) {
        run_free(&r);
        return err_set("train-diffusion: the corpus %s has %d training and %d validation songs; need both "
                       "(build it with 'make data')", o->data, r.tr.n, r.va.n);
    }
    r.cum = callocCheck(r.tr.n + 1, sizeof *r.cum);
    for (int i = 0; i < r.tr.n; i++) r.cum[i + 1] = r.cum[i] + r.tr.songs[i].T;
    if (lead) fprintf(stderr, "train-diffusion: %d training songs (%.2f h, %ld latent frames), %d validation songs (%.2f h); "
            "latents ready in %.1f s\n", r.tr.n, r.tr.hours, r.cum[r.tr.n], r.va.n, r.va.hours, now_seconds() - t0);

    Denoiser m;
    if (denoiser_create(&m, cfg)) { run_free(&r); return -1; }
    r.m = &m;
    Rng init;
    rng_seed(&init, o->seed);
    denoiser_init(&m, &init);
    label_medians(&r.tr, params_get(&m.params, m.med_s));
    denoiser_config_to_hparams(cfg, &r.hp);
    record_drops(&o->drop, &r.hp);
    OptimConfig oc = optim_config_default();
    oc.lr = o->lr; oc.lr_min = o->lr_min; oc.warmup_steps = o->warmup; oc.total_steps = o->steps;
    oc.weight_decay = 0.01f; oc.clip_norm = 1.0f; oc.ema_decay = 0.999f; oc.ema_warmup = 1;
    TrainState st;
    train_state_init(&st, &m.params, &oc, o->seed ^ 0xd1ffULL);
    r.st = &st;
    const char *from = o->init ? o->init : (o->resume ? o->out : NULL);
    int rc = -1;
    if (from) {
        if (checkpoint_load(from, DENOISER_KIND, &r.hp, &m.params, &st)) goto done;
        if (st.cfg.total_steps != o->steps) {
            if (lead) fprintf(stderr, "train-diffusion: plan changed from %ld to %ld steps\n", st.cfg.total_steps, o->steps);
            st.cfg.total_steps = o->steps;
        }
        if (lead) fprintf(stderr, "train-diffusion: resumed from %s at step %ld\n", from, st.step);
    }
    // every rank starts from rank 0's weights (the same seed makes the same ones; this makes sure)
    if (dist_bcast_float(m.params.data, m.params.total) || dist_bcast_float(st.ema, m.params.total)) goto done;
    int T = denoiser_seq(cfg), S = cfg->mem_tokens, Bl = (o->batch + dist_size() - 1) / dist_size();
    denoiser_batch_alloc(&r.b, cfg, Bl, T, S);
    r.b.nb = Bl; r.b.nt = T; r.b.ns = S;
    denoiser_acts_alloc(&r.a, &m, Bl, T, S, 1);
    r.grad = optim_arena_alloc(&m.params);
    r.nval = val_examples(&r.val, &r.va);
    if (lead && dist_size() > 1)
        fprintf(stderr, "train-diffusion: %d ranks (%s), each takes %d%s of a step's %d examples\n", dist_size(),
                dist_backend(), o->batch / dist_size(), o->batch % dist_size() ? " or one more" : "", o->batch);
    if (lead) fprintf(stderr, "train-diffusion: model %ld parameters (width %d, depth %d, heads %d, K %d by %s, %d memory tokens, "
            "context %d + crop %d frames); batch %d; %ld steps; %.1f GFLOP per step; %d validation examples; "
            "%d threads\n", denoiser_param_count(&m), cfg->width, cfg->depth, cfg->heads, cfg->mem_k,
            cfg->mem_pool ? "attention pooling" : "fixed spans", S,
            cfg->ctx_frames, cfg->crop_frames, o->batch, o->steps,
            3e-9 * (double)denoiser_flops_forward(cfg, o->batch, T, S, 0), r.nval, nn_threads());
    TrainerOpts to = {"train-diffusion", o->out, "loss\tlr\tgnorm\tval_loss\tval_nomem\tval_rep\tval_rep_nomem",
                      o->stop_at > 0 && o->stop_at < o->steps ? o->stop_at : o->steps, o->val_every,
                      o->ckpt_minutes, o->max_minutes, t0, g_quiet};
    TrainerHooks hk = {&r, hook_step, hook_validate, hook_save, NULL};
    if (trainer_run(&to, &hk, &st.step, from ? st.step : -1)) goto done;
    rc = 0;
    if (o->export_path && lead) {
        hparams_set_int(&r.hp, "trained_steps", st.step);   // which step of the plan the weights are
        hparams_set_int(&r.hp, "planned_steps", o->steps);
        if (checkpoint_save_ema_as(o->export_path, DENOISER_KIND, &r.hp, &m.params, &st, o->export_dtype)) rc = -1;
        else fprintf(stderr, "train-diffusion: exported the EMA weights to %s (%s)\n", o->export_path,
                     o->export_dtype == CKPT_F16 ? "float16" : "float32");
    }
done:
    run_free(&r);
    train_state_free(&st);
    denoiser_free(&m);
    return rc;
}
