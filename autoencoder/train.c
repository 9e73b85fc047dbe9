// train.c — training the mel autoencoder on the corpus: songs of a split held
// in memory, random crops from the run's seeded Rng, AdamW with warm-up and
// cosine decay, gradient clipping, EMA, a NaN guard (nn/optim.h), validation
// at intervals on fixed crops of the validation split (EMA weights),
// checkpoints written atomically every few minutes that resume exactly
// (nn/checkpoint.h), and the export of the EMA weights with the latent
// statistics measured over the training split.
// It owns no model wiring (autoencoder.c) and no command-line parsing (cli/cmd_ae.c).
#include "autoencoder/autoencoder.h"
#include "audio/audio.h"
#include "data/corpus.h"
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
void ae_sample_batch(const Ae *m, AeActs *a, const SongSet *s, Rng *rng, int B, int T, const AeAugment *aug) {
    int M = m->cfg.n_mels;
    float *x = NULL, *y = NULL, *g = NULL, *g2 = NULL;
    if (aug && (aug->gain_db > 0 || aug->mix > 0 || aug->tilt_db > 0)) {
        x = mallocCheck(sizeof(float) * T * M); y = mallocCheck(sizeof(float) * T * M);
        g = mallocCheck(sizeof(float) * M); g2 = mallocCheck(sizeof(float) * M);
    }
    for (int b = 0; b < B; b++) {
        int song;
        long start;
        pick_crop(s, rng, T, &song, &start);
        if (!x) { load_crop(m, a, b, s, song, start, T); continue; }
        copy_crop(x, s, song, start, T, M);
        random_gains(rng, aug, g, M);
        int mixed = aug->mix > 0 && rng_uniform(rng) < aug->mix;
        if (mixed) {
            pick_crop(s, rng, T, &song, &start);
            copy_crop(y, s, song, start, T, M);
            random_gains(rng, aug, g2, M);
        }
        ae_augment_crop(x, mixed ? y : NULL, T, M, g, g2);
        ae_load_input(m, a, b, x, T);
    }
    free(x); free(y); free(g); free(g2);
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
    double rec = 0, kl = 0;
    for (int i = 0; i < n; i += B) {
        int nb = n - i < B ? n - i : B;
        for (int b = 0; b < nb; b++) load_crop(m, a, b, v, songs[i + b], starts[i + b], T);
        AeLoss L;
        if (ae_loss(m, p, a, NULL, nb, T, NULL, 0, &L)) return -1;
        rec += L.rec * nb; kl += L.kl * nb;
    }
    out->rec = rec / n; out->kl = kl / n;
    out->loss = out->rec + m->cfg.kl_weight * out->kl;
    return 0;
}

static void fmt_time(char *buf, size_t cap, double s) {
    if (s < 0 || !isfinite(s)) snprintf(buf, cap, "?");
    else if (s < 3600) snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
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
            fprintf(stderr, "train-ae: %s predates the augmentation record; continuing with --gain-db %g --mix %g "
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

// The training log <out>.tsv, one row per step. A resumed run (resume_step
// >= 0) first drops the rows after its checkpoint's step: those steps are
// about to be redone, and the log should read as one uninterrupted run.
static FILE *open_log(const char *path, long resume_step) {
    FILE *in = resume_step >= 0 ? fopen(path, "r") : NULL;
    AtomicFile af;
    if (atomic_open(&af, path)) { if (in) fclose(in); err_clear(); return NULL; }   // no log is not fatal
    char line[1024];
    if (!in || !fgets(line, sizeof line, in)) fputs("step\tseconds\tloss\trec\tkl\tlr\tgnorm\tval_rec\tval_kl\n", af.f);
    else {
        fputs(line, af.f);   // the header
        while (fgets(line, sizeof line, in)) {
            char *end;
            long step = strtol(line, &end, 10);
            if (end != line && step <= resume_step) fputs(line, af.f);
        }
    }
    if (in) fclose(in);
    if (atomic_commit(&af)) { err_clear(); return NULL; }
    return fopen(path, "a");
}

int ae_train(const AeTrainOpts *o, const AeConfig *cfg_in) {
    AeConfig cfg = *cfg_in;
    cfg.kl_weight = o->kl_weight;
    if (o->crop % AE_DOWN) return err_set("train-ae: crop %d must be a multiple of %d", o->crop, AE_DOWN);
    double t0 = now_seconds();
    SongSet tr, va;
    if (songset_load(&tr, o->data, SPLIT_TRAIN, 0, 1)) return -1;
    if (songset_load(&va, o->data, SPLIT_VALID, 0, 1)) { songset_free(&tr); return -1; }
    long frames = 0;
    for (int i = 0; i < tr.n; i++) frames += song_frames(&tr, i);
    {   // exactly which songs this run sees (the corpus may still be growing)
        char lp[4200];
        snprintf(lp, sizeof lp, "%s.songs.tsv", o->out);
        FILE *f = fopen(lp, "w");
        if (f) {
            fprintf(f, "split\tsource\tframes\tsong\n");
            for (int i = 0; i < tr.n; i++)
                fprintf(f, "train\t%s\t%ld\t%s\n", corpus_source_name(tr.songs[i].meta.source), song_frames(&tr, i), tr.songs[i].meta.song);
            for (int i = 0; i < va.n; i++)
                fprintf(f, "valid\t%s\t%ld\t%s\n", corpus_source_name(va.songs[i].meta.source), song_frames(&va, i), va.songs[i].meta.song);
            fclose(f);
        }
    }
    fprintf(stderr, "train-ae: %d training songs (%.2f h, %ld frames), %d validation songs (%.2f h), loaded in %.1f s\n",
            tr.n, tr.hours, frames, va.n, va.hours, now_seconds() - t0);

    Ae m;
    if (ae_create(&m, &cfg)) { songset_free(&tr); songset_free(&va); return -1; }
    Hparams hp;
    ae_config_to_hparams(&cfg, &hp);
    hparams_set_int(&hp, "latent_stats", 0);
    if (!from_checkpoint(o)) record_augmentation(o, &hp);
    OptimConfig oc = optim_config_default();
    oc.lr = o->lr; oc.lr_min = o->lr_min; oc.warmup_steps = o->warmup; oc.total_steps = o->steps;
    oc.weight_decay = 0.01f; oc.clip_norm = 1.0f; oc.ema_decay = 0.999f; oc.ema_warmup = 1;
    TrainState st;
    Rng init;
    rng_seed(&init, o->seed);
    ae_init(&m, &init);
    train_state_init(&st, &m.params, &oc, o->seed ^ 0x5eedULL);
    const char *from = from_checkpoint(o);
    if (!from && cfg.linear) {   // the linear paths start at the stacked PCA of the training split
        double tp = now_seconds();
        PcaBaseline pca;
        if (pca_fit(&pca, &tr, cfg.z, 1, 2)) goto fail;
        double all = 0, kept = 0;
        for (int k = 0; k < pca.D; k++) { all += pca.eval[k]; if (k < cfg.z) kept += pca.eval[k]; }
        int rc_init = ae_init_pca(&m, &pca);
        pca_free(&pca);
        if (rc_init) goto fail;
        fprintf(stderr, "train-ae: linear paths start at the PCA of stacked 4-frame groups (%d of %d components, "
                "%.1f%% of the variance; %.1f s)\n", cfg.z, AE_DOWN * cfg.n_mels, 100 * kept / all, now_seconds() - tp);
        memcpy(st.ema, m.params.data, sizeof(float) * m.params.total);   // EMA starts at the init
    }
    if (from) {
        if (check_augmentation(from, o, &hp)) goto fail;
        if (checkpoint_load(from, AE_KIND, &hp, &m.params, &st)) goto fail;
        record_augmentation(o, &hp);   // older checkpoints gain the record at their next save
        if (st.cfg.total_steps != o->steps) {   // training longer (or shorter) than planned
            fprintf(stderr, "train-ae: plan changed from %ld to %ld steps (the run is no longer the uninterrupted one)\n",
                    st.cfg.total_steps, o->steps);
            st.cfg.total_steps = o->steps;
        }
        fprintf(stderr, "train-ae: resumed from %s at step %ld\n", from, st.step);
    }
    fprintf(stderr, "train-ae: model %ld parameters, z %d, widths %d/%d/%d, res %d/%d; batch %d x %d frames "
            "(gain +-%g dB, mix %g, tilt +-%g dB); %ld steps; %.2f GFLOP per step; %d threads\n",
            ae_param_count(&m), cfg.z, cfg.ch[0], cfg.ch[1], cfg.ch[2], cfg.enc_res, cfg.dec_res,
            o->batch, o->crop, (double)o->aug.gain_db, (double)o->aug.mix, (double)o->aug.tilt_db, o->steps, 3e-9 * (double)ae_flops_forward(&m, o->crop) * o->batch, nn_threads());

    // fixed validation crops: up to 4 per song, evenly spaced, at most 96
    int nval = 0, *vsong = mallocCheck(sizeof(int) * 96);
    long *vstart = mallocCheck(sizeof(long) * 96);
    for (int k = 0; k < 4 && nval < 96; k++)
        for (int i = 0; i < va.n && nval < 96; i++) {
            long span = song_frames(&va, i) - o->crop;
            vsong[nval] = i;
            vstart[nval++] = span > 0 ? span * (2 * k + 1) / 8 : 0;
        }

    AeActs a;
    ae_acts_alloc(&a, &m, o->batch, o->crop, 1);
    float *grad = optim_arena_alloc(&m.params);
    char tsv[4200];
    snprintf(tsv, sizeof tsv, "%s.tsv", o->out);
    FILE *log = open_log(tsv, from ? st.step : -1);
    double tstart = now_seconds(), tlast_ckpt = tstart, tlast_prog = 0, ema_loss = -1;
    long step0 = st.step;
    int rc = 0, stopped = 0;
    long Tl = o->crop / AE_DOWN;
    while (st.step < o->steps) {
        ae_sample_batch(&m, &a, &tr, &st.rng, o->batch, o->crop, &o->aug);
        rng_fill_normal(&st.rng, a.eps, (long)o->batch * cfg.z * Tl, 1.0f);
        memset(grad, 0, sizeof(float) * m.params.total);
        AeLoss L;
        if (ae_loss(&m, &m.params, &a, a.eps, o->batch, o->crop, grad, 0, &L)) { rc = -1; break; }
        double gn = 0;
        float lr = lr_schedule(&st.cfg, st.step);
        if (optim_step(&m.params, grad, &st, (float)L.loss, &gn)) {
            progress_done();
            err_set("train-ae stopped: %s; nothing saved after the last checkpoint (%s); "
                    "lower --lr or resume from that checkpoint", err_msg(), o->out);
            rc = -1;
            break;
        }
        ema_loss = ema_loss < 0 ? L.loss : 0.98 * ema_loss + 0.02 * L.loss;
        double now = now_seconds(), el = now - tstart;
        double sps = (st.step - step0) / (el > 1e-9 ? el : 1e-9);
        int do_val = st.step % o->val_every == 0 || st.step == o->steps;
        if (log) fprintf(log, "%ld\t%.2f\t%.5f\t%.5f\t%.4f\t%.3e\t%.4f", st.step, el, L.loss, L.rec, L.kl, lr, gn);
        if (do_val) {
            ParamSet pe = m.params;
            pe.data = st.ema;
            AeLoss V;
            if (validate(&m, &pe, &a, &va, vsong, vstart, nval, o->batch, o->crop, &V)) { rc = -1; break; }
            if (log) fprintf(log, "\t%.5f\t%.4f", V.rec, V.kl);
            progress_done();
            if (!g_quiet)
                fprintf(stderr, "train-ae: step %ld: train loss %.4f (rec %.4f, kl %.3f), validation rec %.4f "
                        "(= %.3f log-mel MAE, EMA weights), kl %.3f\n",
                        st.step, ema_loss, L.rec, L.kl, V.rec, V.rec / cfg.in_scale, V.kl);
        }
        if (log) { fputc('\n', log); fflush(log); }
        if (now - tlast_prog > 1.0) {
            char left[32];
            fmt_time(left, sizeof left, (o->steps - st.step) / (sps > 0 ? sps : 1e-9));
            progress("train-ae: step %ld/%ld  loss %.4f  rec %.4f  kl %.3f  lr %.2e  |g| %.3f  %.2f steps/s  %s left",
                     st.step, o->steps, ema_loss, L.rec, L.kl, lr, gn, sps, left);
            tlast_prog = now;
        }
        int out_of_time = o->max_minutes > 0 && now - t0 > 60 * o->max_minutes;
        if (now - tlast_ckpt > 60 * o->ckpt_minutes || st.step == o->steps || out_of_time) {
            if (checkpoint_save(o->out, AE_KIND, &hp, &m.params, &st)) { rc = -1; break; }
            tlast_ckpt = now;
        }
        if (out_of_time) {
            progress_done();
            fprintf(stderr, "train-ae: --max-minutes %.1f reached at step %ld; checkpoint %s (resume with --resume)\n",
                    o->max_minutes, st.step, o->out);
            stopped = 1;
            break;
        }
    }
    progress_done();
    if (log) fclose(log);
    if (!rc)
        fprintf(stderr, "train-ae: %s at step %ld after %.1f min; checkpoint %s\n", stopped ? "stopped" : "done",
                st.step, (now_seconds() - tstart) / 60, o->out);
    if (!rc && o->export_path) {
        // the EMA weights, with latent statistics over the training split
        memcpy(m.params.data, st.ema, sizeof(float) * m.params.total);
        if (ae_measure_latent_stats(&m, &m.params, &tr, o->stats_crops, o->seed + 2)) rc = -1;
        else if (ae_save(&m, o->export_path)) rc = -1;
        else {
            const float *mean = params_get(&m.params, m.lat_mean), *sd = params_get(&m.params, m.lat_std);
            fprintf(stderr, "train-ae: exported EMA weights to %s; latent mean/std per channel:", o->export_path);
            for (int c = 0; c < cfg.z; c++) fprintf(stderr, " %.2f/%.2f", mean[c], sd[c]);
            fprintf(stderr, "\n");
        }
    }
    free(grad);
    free(vsong); free(vstart);
    ae_acts_free(&a);
    train_state_free(&st);
    ae_free(&m);
    songset_free(&tr); songset_free(&va);
    return rc;
fail:
    train_state_free(&st);
    ae_free(&m);
    songset_free(&tr); songset_free(&va);
    return -1;
}
