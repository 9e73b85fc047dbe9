// train.c — training the mel autoencoder on the corpus: songs of a split held
// in memory, random crops from the run's seeded Rng, AdamW with warm-up and
// cosine decay, gradient clipping, EMA, a NaN guard (nn/optim.h), validation
// at intervals on fixed crops of the validation split (EMA weights),
// checkpoints written atomically every few minutes that resume exactly
// (nn/checkpoint.h), and the export of the EMA weights with the latent
// statistics measured over the training split.
// ae_train is a sequence of named steps: start the model (seed, or a
// checkpoint: every refusal of the options or the checkpoint comes here, before
// anything is read or written), load the songs (data/songs.c), start the linear
// paths at their PCA, fix the validation crops, run the shared loop
// (nn/trainer.h) with this file's step, validation and save hooks (the song
// list is written once the run holds its lock), export the EMA weights.
// Under mpirun (util/dist.h) each rank takes its share of every step's global
// batch of --batch crops, crop g of a step drawing its song, start,
// augmentation and noise from its own stream (the step's key, one draw of the
// run's Rng, and g), and the gradients are summed, each rank's weighted by its
// share of the crops, before the AdamW step every rank takes; validation is
// split the same way and summed; rank 0 alone writes files and prints.
// It owns no model wiring (autoencoder.c), no corpus reading (data/), no loop
// timing, log or progress (nn/trainer.c) and no command-line parsing (cli/cmd_ae.c).
#include "autoencoder/autoencoder.h"
#include "audio/audio.h"
#include "data/corpus.h"
#include "nn/trainer.h"
#include "util/dist.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- crops ------------------------------------------------------------------------------
static long song_frames(const SongSet *s, int i) { return s->songs[i].meta.n_frames; }

// A song with probability proportional to its length, then a uniform start;
// songs shorter than T repeat their last frame (ae_load_input pads by clamping).
static void pick_crop(const SongSet *s, Rng *rng, int T, int *song, long *start) {
    long total = 0;
    for (int i = 0; i < s->n; i++) total += song_frames(s, i);
    long r = (long)(rng_u64(rng) % (uint64_t)total);
    int i = 0;
    while (i < s->n - 1 && r >= song_frames(s, i)) { r -= song_frames(s, i); i++; }
    long span = song_frames(s, i) - T;
    *song = i;
    *start = span > 0 ? (long)(rng_u64(rng) % (uint64_t)(span + 1)) : 0;
}

// Copies T frames of a song from start into dst (T, M); past the end the
// last frame repeats.
static void copy_crop(float *dst, const SongSet *s, int song, long start, int T, int M) {
    long Ts = song_frames(s, song);
    for (int t = 0; t < T; t++) {
        long src = start + t < Ts ? start + t : Ts - 1;
        memcpy(dst + (long)t * M, s->songs[song].mel + src * M, sizeof(float) * M);
    }
}

static void load_crop(const Ae *m, AeActs *a, int b, const SongSet *s, int song, long start, int T) {
    int M = m->cfg.n_mels;
    if (start + T <= song_frames(s, song)) { ae_load_input(m, a, b, s->songs[song].mel + start * M, T); return; }
    float *tmp = mallocCheck(sizeof(float) * T * M);
    copy_crop(tmp, s, song, start, T, M);
    ae_load_input(m, a, b, tmp, T);
    free(tmp);
}

void ae_augment_crop(float *x, const float *other, int T, int M, const float *g, const float *g2) {
    const float floor_log = logf(LOG_FLOOR);
    for (long t = 0; t < T; t++)
        for (int k = 0; k < M; k++) {
            long i = t * M + k;
            float p = x[i] > floor_log ? g[k] * expf(x[i]) : 0.0f;
            if (other && other[i] > floor_log) p += g2[k] * expf(other[i]);
            x[i] = logf(p > LOG_FLOOR ? p : LOG_FLOOR);
        }
}

static float uniform_pm1(Rng *rng) { return 2.0f * (float)rng_uniform(rng) - 1.0f; }

// g (M): a random gain times a random tilt, linear in dB across the bands.
static void random_gains(Rng *rng, const AeAugment *aug, float *g, int M) {
    float gain = aug->gain_db > 0 ? aug->gain_db * uniform_pm1(rng) : 0.0f;
    float tilt = aug->tilt_db > 0 ? aug->tilt_db * uniform_pm1(rng) : 0.0f;
    for (int k = 0; k < M; k++) {
        float pos = M > 1 ? 2.0f * k / (M - 1) - 1.0f : 0.0f;   // -1 bottom band .. +1 top band
        g[k] = powf(10.0f, (gain + tilt * pos) / 20.0f);
    }
}

// Why augment: without it the training loss kept falling while validation
// flattened (mean training L1 3.8% above validation over the first 1,000
// steps, 5.8% below over the last 1,000 of 8,000; assets/MODEL_CARD.md).
// Scratch of one augmented crop: x and y (T, M), g and g2 (M); all NULL without augmentation.
typedef struct { float *x, *y, *g, *g2; } CropScratch;

static void scratch_alloc(CropScratch *c, const AeAugment *aug, int T, int M) {
    memset(c, 0, sizeof *c);
    if (!aug || !(aug->gain_db > 0 || aug->mix > 0 || aug->tilt_db > 0)) return;
    c->x = mallocCheck(sizeof(float) * T * M); c->y = mallocCheck(sizeof(float) * T * M);
    c->g = mallocCheck(sizeof(float) * M); c->g2 = mallocCheck(sizeof(float) * M);
}
static void scratch_free(CropScratch *c) { free(c->x); free(c->y); free(c->g); free(c->g2); }

// One crop (augmented when c has scratch) from rng into slot b of the batch.
static void sample_crop(const Ae *m, AeActs *a, int b, const SongSet *s, Rng *rng, int T, const AeAugment *aug,
                        CropScratch *c) {
    int M = m->cfg.n_mels, song;
    long start;
    pick_crop(s, rng, T, &song, &start);
    if (!c->x) { load_crop(m, a, b, s, song, start, T); return; }
    copy_crop(c->x, s, song, start, T, M);
    random_gains(rng, aug, c->g, M);
    int mixed = aug->mix > 0 && rng_uniform(rng) < aug->mix;
    if (mixed) {
        pick_crop(s, rng, T, &song, &start);
        copy_crop(c->y, s, song, start, T, M);
        random_gains(rng, aug, c->g2, M);
    }
    ae_augment_crop(c->x, mixed ? c->y : NULL, T, M, c->g, c->g2);
    ae_load_input(m, a, b, c->x, T);
}

void ae_sample_batch(const Ae *m, AeActs *a, const SongSet *s, Rng *rng, int B, int T, const AeAugment *aug) {
    CropScratch c;
    scratch_alloc(&c, aug, T, m->cfg.n_mels);
    for (int b = 0; b < B; b++) sample_crop(m, a, b, s, rng, T, aug, &c);
    scratch_free(&c);
}

int ae_measure_latent_stats(Ae *m, const ParamSet *p, const SongSet *s, int n, uint64_t seed) {
    int Z = m->cfg.z, T = AE_WIN, B = 16, Tl = T / AE_DOWN;
    AeActs a;
    ae_acts_alloc(&a, m, B, T, 0);
    Rng rng;
    rng_seed(&rng, seed);
    double *sum = callocCheck(Z, sizeof(double)), *sq = callocCheck(Z, sizeof(double));
    long cnt = 0;
    for (int done = 0; done < n; done += B) {
        int nb = n - done < B ? n - done : B;
        ae_sample_batch(m, &a, s, &rng, nb, T, NULL);
        if (ae_encode_forward(m, p, &a, nb, T)) { ae_acts_free(&a); free(sum); free(sq); return -1; }
        const float *mom = ae_moments(m, &a);                      // (nb, 2Z, Tl)
        for (int b = 0; b < nb; b++)
            for (int c = 0; c < Z; c++)
                for (int t = 0; t < Tl; t++) {
                    double v = mom[((long)b * 2 * Z + c) * Tl + t];
                    sum[c] += v; sq[c] += v * v;
                }
        cnt += (long)nb * Tl;
    }
    float *mean = params_get(&m->params, m->lat_mean), *sd = params_get(&m->params, m->lat_std);
    for (int c = 0; c < Z; c++) {
        double mu = sum[c] / cnt, var = sq[c] / cnt - mu * mu;
        mean[c] = (float)mu;
        sd[c] = (float)sqrt(var > 1e-12 ? var : 1e-12);
    }
    m->has_stats = 1;
    free(sum); free(sq);
    ae_acts_free(&a);
    return 0;
}

// ---- training ----------------------------------------------------------------------------
void ae_train_defaults(AeTrainOpts *o) {
    memset(o, 0, sizeof *o);
    o->data = ".cache/corpus";
    o->out = ".cache/ae/ae-train.rfc";
    o->steps = 8000;           // the first phase of the shipped model's run (scripts/train-model.sh)
    o->batch = 16;
    o->crop = 256;
    o->lr = 7e-4f;
    o->lr_min = 5e-5f;
    o->kl_weight = 1e-3f;
    o->warmup = 200;
    o->val_every = 250;
    o->ckpt_minutes = 5;
    o->seed = RNG_DEFAULT_SEED;
    o->stats_crops = 1024;
    o->aug.gain_db = 6;        // augmentation of the shipped run: +-6 dB gain,
    o->aug.mix = 0.3f;         // 30% of crops summed with a second one
    o->aug.tilt_db = 0;
}

// Mean loss on fixed validation crops (no sampling noise), with weights p.
static int validate(const Ae *m, const ParamSet *p, AeActs *a, const SongSet *v, const int *songs,
                    const long *starts, int n, int B, int T, AeLoss *out) {
    double sum[2] = {0, 0};   // rec and kl, times crops
    long lo, hi;              // this rank's share of the crops
    dist_share(n, &lo, &hi);
    for (int i = (int)lo; i < hi; i += B) {
        int nb = hi - i < B ? (int)(hi - i) : B;
        for (int b = 0; b < nb; b++) load_crop(m, a, b, v, songs[i + b], starts[i + b], T);
        AeLoss L;
        if (ae_loss(m, p, a, NULL, nb, T, NULL, 0, &L)) return -1;
        sum[0] += L.rec * nb; sum[1] += L.kl * nb;
    }
    if (dist_allreduce_sum_double(sum, 2)) return -1;
    out->rec = sum[0] / n; out->kl = sum[1] / n;
    out->loss = out->rec + m->cfg.kl_weight * out->kl;
    return 0;
}

// The augmentation is part of what a run trains on, so a training checkpoint
// records it (AE_AUG_KEYS) and a resume with other settings is refused instead
// of silently changing the data.
static const char *from_checkpoint(const AeTrainOpts *o) { return o->init ? o->init : (o->resume ? o->out : NULL); }

#define N_AUG AE_N_AUG_KEYS
const char *const AE_AUG_KEYS[N_AUG] = {"aug_gain_db", "aug_mix", "aug_tilt_db"};
static const char *const AUG_FLAG[N_AUG] = {"--gain-db", "--mix", "--tilt-db"};
static void aug_values(const AeAugment *a, float v[N_AUG]) { v[0] = a->gain_db; v[1] = a->mix; v[2] = a->tilt_db; }

static void record_augmentation(const AeTrainOpts *o, Hparams *hp) {
    float v[N_AUG];
    aug_values(&o->aug, v);
    for (int i = 0; i < N_AUG; i++) hparams_set_float(hp, AE_AUG_KEYS[i], (double)v[i]);
}

// hp: the hyperparameters the checkpoint must hold; gains the file's record when it has one.
static int check_augmentation(const char *from, const AeTrainOpts *o, Hparams *hp) {
    Hparams file;
    if (checkpoint_read_hparams(from, AE_KIND, &file)) return -1;
    float want[N_AUG];
    aug_values(&o->aug, want);
    double have[N_AUG];
    for (int i = 0; i < N_AUG; i++)
        if (hparams_get_float(&file, AE_AUG_KEYS[i], &have[i])) {
            err_clear();
            if (!dist_rank()) fprintf(stderr, "train-ae: %s predates the augmentation record; continuing with --gain-db %g --mix %g "
                    "--tilt-db %g\n", from, (double)want[0], (double)want[1], (double)want[2]);
            return 0;
        }
    for (int i = 0; i < N_AUG; i++)
        if ((float)have[i] != want[i])
            return err_set("train-ae: %s was trained with %s %g, this run asks for %g; pass the checkpoint's "
                           "setting to resume it, or train a new --out", from, AUG_FLAG[i], have[i], (double)want[i]);
    record_augmentation(o, hp);
    return 0;
}

// ---- one run: the steps ae_train takes, and the hooks the harness calls -------------------
// The songs of both splits.
static int load_songs(const AeTrainOpts *o, SongSet *tr, SongSet *va, double t0) {
    if (songset_load(tr, o->data, SPLIT_TRAIN, 0, 1)) return -1;
    if (songset_load(va, o->data, SPLIT_VALID, 0, 1)) { songset_free(tr); return -1; }
    long frames = 0;
    for (int i = 0; i < tr->n; i++) frames += song_frames(tr, i);
    if (!dist_rank()) fprintf(stderr, "train-ae: %d training songs (%.2f h, %ld frames), %d validation songs (%.2f h), loaded in %.1f s\n",
            tr->n, tr->hours, frames, va->n, va->hours, now_seconds() - t0);
    return 0;
}

// The linear paths start at the stacked PCA of the training split, and the EMA at that start.
static int init_pca(Ae *m, TrainState *st, const SongSet *tr) {
    double tp = now_seconds();
    PcaBaseline pca;
    if (pca_fit(&pca, tr, m->cfg.z, 1, 2)) return -1;
    double all = 0, kept = 0;
    for (int k = 0; k < pca.D; k++) { all += pca.eval[k]; if (k < m->cfg.z) kept += pca.eval[k]; }
    int rc = ae_init_pca(m, &pca);
    pca_free(&pca);
    if (rc) return -1;
    if (!dist_rank()) fprintf(stderr, "train-ae: linear paths start at the PCA of stacked 4-frame groups (%d of %d components, "
            "%.1f%% of the variance; %.1f s)\n", m->cfg.z, AE_DOWN * m->cfg.n_mels, 100 * kept / all, now_seconds() - tp);
    memcpy(st->ema, m->params.data, sizeof(float) * m->params.total);
    return 0;
}

// Continues from the checkpoint `from`: refused when its augmentation differs.
static int resume(const AeTrainOpts *o, const char *from, Ae *m, TrainState *st, Hparams *hp) {
    if (check_augmentation(from, o, hp)) return -1;
    if (checkpoint_load(from, AE_KIND, hp, &m->params, st)) return -1;
    record_augmentation(o, hp);   // older checkpoints gain the record at their next save
    if (st->cfg.total_steps != o->steps) {   // training longer (or shorter) than planned
        if (!dist_rank()) fprintf(stderr, "train-ae: plan changed from %ld to %ld steps (the run is no longer the uninterrupted one)\n",
                st->cfg.total_steps, o->steps);
        st->cfg.total_steps = o->steps;
    }
    if (!dist_rank()) fprintf(stderr, "train-ae: resumed from %s at step %ld\n", from, st->step);
    return 0;
}

// The model, its optimizer state and its checkpoint hyperparameters, started
// from the seed or from a checkpoint (a fresh model's linear paths then start
// at the PCA of the songs: init_pca). On failure nothing is left allocated.
static int start_model(const AeTrainOpts *o, const AeConfig *cfg, Ae *m, TrainState *st, Hparams *hp) {
    if (ae_create(m, cfg)) return -1;
    const char *from = from_checkpoint(o);
    ae_config_to_hparams(cfg, hp);
    hparams_set_int(hp, "latent_stats", 0);
    if (!from) record_augmentation(o, hp);
    OptimConfig oc = optim_config_default();
    oc.lr = o->lr; oc.lr_min = o->lr_min; oc.warmup_steps = o->warmup; oc.total_steps = o->steps;
    oc.weight_decay = 0.01f; oc.clip_norm = 1.0f; oc.ema_decay = 0.999f; oc.ema_warmup = 1;
    Rng init;
    rng_seed(&init, o->seed);
    ae_init(m, &init);
    train_state_init(st, &m->params, &oc, o->seed ^ 0x5eedULL);
    if (from && resume(o, from, m, st, hp)) { train_state_free(st); ae_free(m); return -1; }
    return 0;
}

static void print_model(const AeTrainOpts *o, const AeConfig *cfg, const Ae *m) {
    if (!dist_rank()) fprintf(stderr, "train-ae: model %ld parameters, z %d, widths %d/%d/%d, res %d/%d; batch %d x %d frames "
            "(gain +-%g dB, mix %g, tilt +-%g dB); %ld steps; %.2f GFLOP per step; %d threads\n",
            ae_param_count(m), cfg->z, cfg->ch[0], cfg->ch[1], cfg->ch[2], cfg->enc_res, cfg->dec_res,
            o->batch, o->crop, (double)o->aug.gain_db, (double)o->aug.mix, (double)o->aug.tilt_db, o->steps,
            3e-9 * (double)ae_flops_forward(m, o->crop) * o->batch, nn_threads());
}

// Fixed validation crops: up to 4 per song, evenly spaced, at most AE_VAL_CROPS.
#define AE_VAL_CROPS 96
static int validation_crops(const SongSet *va, int crop, int *vsong, long *vstart) {
    int nval = 0;
    for (int k = 0; k < 4 && nval < AE_VAL_CROPS; k++)
        for (int i = 0; i < va->n && nval < AE_VAL_CROPS; i++) {
            long span = song_frames(va, i) - crop;
            vsong[nval] = i;
            vstart[nval++] = span > 0 ? span * (2 * k + 1) / 8 : 0;
        }
    return nval;
}

// Everything the hooks share.
typedef struct {
    const AeTrainOpts *o;
    Ae *m;
    TrainState *st;
    const Hparams *hp;
    const SongSet *tr, *va;
    AeActs a;
    float *grad;               // gradient arena of m->params' layout
    int vsong[AE_VAL_CROPS], nval;
    long vstart[AE_VAL_CROPS];
    AeLoss L;                  // the last step's loss
    double ema_loss;           // smoothed training loss (-1 before the first step)
    CropScratch scratch;       // one augmented crop
} AeRun;

// Sums this rank's gradient and loss with the other ranks': every crop counts
// the same in the global batch's mean, so each rank's by its share of them.
static int sum_over_ranks(AeRun *r, int nb, AeLoss *L) {
    double B = r->o->batch, sum[3] = {L->loss * nb, L->rec * nb, L->kl * nb};
    if (dist_allreduce_sum_double(sum, 3)) return -1;
    float share = (float)(nb / B);
    long P = r->m->params.total;
    for (long i = 0; i < P; i++) r->grad[i] *= share;
    if (dist_allreduce_sum_float(r->grad, P)) return -1;
    L->loss = sum[0] / B; L->rec = sum[1] / B; L->kl = sum[2] / B;
    return 0;
}

// A batch of augmented crops and fresh noise, loss and gradient, one AdamW step.
// Crop g of the step's global batch draws everything from its own stream.
static int hook_step(void *ctx, char *row, size_t row_cap, char *prog, size_t prog_cap) {
    AeRun *r = ctx;
    const AeTrainOpts *o = r->o;
    Ae *m = r->m;
    TrainState *st = r->st;
    uint64_t key = rng_u64(&st->rng);   // the step's key: one draw on every rank, whatever their number
    long lo, hi, nz = (long)m->cfg.z * (o->crop / AE_DOWN);
    dist_share(o->batch, &lo, &hi);     // this rank's crops
    int nb = (int)(hi - lo);
    for (long g = lo; g < hi; g++) {
        Rng ex;
        rng_seed(&ex, dist_example_seed(key, g));
        sample_crop(m, &r->a, (int)(g - lo), r->tr, &ex, o->crop, &o->aug, &r->scratch);
        rng_fill_normal(&ex, r->a.eps + (g - lo) * nz, nz, 1.0f);   // (Z, Tl) of crop g
    }
    memset(r->grad, 0, sizeof(float) * m->params.total);
    AeLoss L;
    if (ae_loss(m, &m->params, &r->a, r->a.eps, nb, o->crop, r->grad, 0, &L)) return -1;
    if (dist_size() > 1 && sum_over_ranks(r, nb, &L)) return -1;
    double gn = 0;
    float lr = lr_schedule(&st->cfg, st->step);
    if (optim_step(&m->params, r->grad, st, (float)L.loss, &gn))
        return err_set("train-ae stopped: %s; nothing saved after the last checkpoint (%s); "
                       "lower --lr or resume from that checkpoint", err_msg(), o->out);
    r->L = L;
    r->ema_loss = r->ema_loss < 0 ? L.loss : 0.98 * r->ema_loss + 0.02 * L.loss;
    snprintf(row, row_cap, "%.5f\t%.5f\t%.4f\t%.3e\t%.4f", L.loss, L.rec, L.kl, lr, gn);
    snprintf(prog, prog_cap, "loss %.4f  rec %.4f  kl %.3f  lr %.2e  |g| %.3f", r->ema_loss, L.rec, L.kl, lr, gn);
    return 0;
}

// Loss of the EMA weights on the fixed validation crops.
static int hook_validate(void *ctx, char *row, size_t row_cap, char *msg, size_t msg_cap) {
    AeRun *r = ctx;
    ParamSet pe = r->m->params;
    pe.data = r->st->ema;
    AeLoss V;
    if (validate(r->m, &pe, &r->a, r->va, r->vsong, r->vstart, r->nval, r->a.B, r->o->crop, &V)) return -1;
    trainer_cat(row, row_cap, "\t%.5f\t%.4f", V.rec, V.kl);
    snprintf(msg, msg_cap, "train loss %.4f (rec %.4f, kl %.3f), validation rec %.4f (= %.3f log-mel MAE, EMA weights), "
             "kl %.3f", r->ema_loss, r->L.rec, r->L.kl, V.rec, V.rec / r->m->cfg.in_scale, V.kl);
    return 0;
}

static int hook_save(void *ctx) {
    AeRun *r = ctx;
    return checkpoint_save(r->o->out, AE_KIND, r->hp, &r->m->params, r->st);
}

// Once the run holds its lock: the list of exactly which songs this run sees
// (<out>.songs.tsv: the corpus may still be growing). Not fatal when it cannot be written.
static void hook_begin(void *ctx) {
    AeRun *r = ctx;
    char lp[4200];
    snprintf(lp, sizeof lp, "%s.songs.tsv", r->o->out);
    AtomicFile af;
    if (atomic_open(&af, lp)) { err_clear(); return; }
    fprintf(af.f, "split\tsource\tframes\tsong\n");
    for (int k = 0; k < 2; k++) {
        const SongSet *s = k ? r->va : r->tr;
        for (int i = 0; i < s->n; i++)
            fprintf(af.f, "%s\t%s\t%ld\t%s\n", k ? "valid" : "train", corpus_source_name(s->songs[i].meta.source),
                    song_frames(s, i), s->songs[i].meta.song);
    }
    if (atomic_commit(&af)) err_clear();
}

// The EMA weights, with latent statistics over the training split, as a weights-only model.
static int export_ema(const AeTrainOpts *o, Ae *m, const TrainState *st, const SongSet *tr) {
    memcpy(m->params.data, st->ema, sizeof(float) * m->params.total);
    if (ae_measure_latent_stats(m, &m->params, tr, o->stats_crops, o->seed + 2)) return -1;
    if (ae_save(m, o->export_path)) return -1;
    const float *mean = params_get(&m->params, m->lat_mean), *sd = params_get(&m->params, m->lat_std);
    fprintf(stderr, "train-ae: exported EMA weights to %s; latent mean/std per channel:", o->export_path);
    for (int c = 0; c < m->cfg.z; c++) fprintf(stderr, " %.2f/%.2f", mean[c], sd[c]);
    fprintf(stderr, "\n");
    return 0;
}

int ae_train(const AeTrainOpts *o, const AeConfig *cfg_in) {
    AeConfig cfg = *cfg_in;
    cfg.kl_weight = o->kl_weight;
    if (o->crop % AE_DOWN) return err_set("train-ae: crop %d must be a multiple of %d", o->crop, AE_DOWN);
    if (dist_init()) return -1;
    int ranks = dist_size(), lead = dist_rank() == 0, Bl = (o->batch + ranks - 1) / ranks;   // Bl: crops per rank at most
    if (o->batch < ranks)
        return err_set("train-ae: --batch %d is smaller than the %d ranks (each rank needs a crop)", o->batch, ranks);
    double t0 = now_seconds();
    Ae m;
    TrainState st;
    Hparams hp;
    if (start_model(o, &cfg, &m, &st, &hp)) return -1;
    SongSet tr, va;
    if (load_songs(o, &tr, &va, t0)) { train_state_free(&st); ae_free(&m); return -1; }
    if (!from_checkpoint(o) && cfg.linear && init_pca(&m, &st, &tr)) {
        train_state_free(&st); ae_free(&m); songset_free(&tr); songset_free(&va);
        return -1;
    }
    print_model(o, &cfg, &m);
    // every rank starts from rank 0's weights (the same seed and data make the same ones; this makes sure)
    if (dist_bcast_float(m.params.data, m.params.total) || dist_bcast_float(st.ema, m.params.total)) {
        train_state_free(&st); ae_free(&m); songset_free(&tr); songset_free(&va);
        return -1;
    }
    if (lead && ranks > 1)
        fprintf(stderr, "train-ae: %d ranks (%s), each takes %d%s of a step's %d crops\n", ranks, dist_backend(),
                o->batch / ranks, o->batch % ranks ? " or one more" : "", o->batch);
    AeRun r = {.o = o, .m = &m, .st = &st, .hp = &hp, .tr = &tr, .va = &va, .ema_loss = -1};
    r.nval = validation_crops(&va, o->crop, r.vsong, r.vstart);
    ae_acts_alloc(&r.a, &m, Bl, o->crop, 1);
    scratch_alloc(&r.scratch, &o->aug, o->crop, m.cfg.n_mels);
    r.grad = optim_arena_alloc(&m.params);

    TrainerOpts to = {.name = "train-ae", .out = o->out, .log_header = "loss\trec\tkl\tlr\tgnorm\tval_rec\tval_kl",
                      .steps = o->stop_at > 0 && o->stop_at < o->steps ? o->stop_at : o->steps,   // --stop-at: a phase
                      .val_every = o->val_every, .ckpt_minutes = o->ckpt_minutes,
                      .max_minutes = o->max_minutes, .started = t0, .quiet = g_quiet};
    TrainerHooks hooks = {&r, hook_step, hook_validate, hook_save, hook_begin};
    int rc = trainer_run(&to, &hooks, &st.step, from_checkpoint(o) ? st.step : -1);
    if (!rc && o->export_path && lead) rc = export_ema(o, &m, &st, &tr);

    scratch_free(&r.scratch);
    free(r.grad);
    ae_acts_free(&r.a);
    train_state_free(&st);
    ae_free(&m);
    songset_free(&tr); songset_free(&va);
    return rc;
}
