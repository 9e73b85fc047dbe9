// eval.c — the generation quality report (notebooks_exports/generate.md,
// `refrain generate-eval`): how far generated songs lie from real ones, read
// against what real songs score.
//
// Sets, each cut to its songs' first max_seconds and measured per 1-second
// window of each section (features.c): (a) unit-scale latents, (b) log-mel band
// statistics of the audio analysed again from the waveform.
//   reference   every validation song of the corpus (latents by the autoencoder's
//               encoder, log-mel of the original audio);
//   floor 1     N training songs, the same way: what real music scores;
//   floor 2     the N chosen validation songs through the autoencoder and the
//               vocoder (encode, decode, Griffin-Lim), (a) encoded again from the
//               rendered audio: what rendering alone costs. These are songs of
//               the reference itself, so it is a lower bound;
//   ceiling     Gaussian latents of the same lengths, decoded and vocoded;
//   generated   for each chosen validation song i, a song with its form (labels,
//               lengths, source as style) and seed i + 1 through refrain_generate,
//               at the headline setting and at every cell of the steps x samplers
//               sweep, with the seconds each takes per minute of audio.
// Distances against the reference: Fréchet distance of Gaussian fits, and KAD
// (kadtk: 100 x unbiased MMD^2, Gaussian kernel, bandwidth the median pairwise
// distance of the reference set, one kernel for every row so rows compare).
// Intervals: 95% basic bootstrap over the compared set's songs (stats_basic95),
// the reference held fixed: FD leans high with few songs and a resample's more. It owns no sampler, model or distance code.
#include "sampler/sampler.h"
#include "refrain.h"
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "data/corpus.h"
#include "nn/layers.h"
#include "util/stats.h"
#include "util/util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gen_eval_defaults(GenEvalOpts *o) {
    memset(o, 0, sizeof *o);
    refrain_generate_params g = refrain_generate_default_params();
    o->data = ".cache/corpus";
    o->songs = 16;
    o->max_seconds = 60;
    const int steps[4] = {4, 8, 16, 32};
    for (int i = 0; i < 4; i++) o->steps[i] = steps[i];
    o->n_steps = 4;
    for (int i = 0; i < SAMPLER_COUNT; i++) o->samplers[i] = i;
    o->n_samplers = SAMPLER_COUNT;
    o->main_steps = g.steps;
    o->main_sampler = g.sampler;
    o->schedule = g.schedule;
    o->cfg = g.cfg;
    o->mem_guidance = g.memory_guidance;
    o->vocoder_iters = g.vocoder_iters;
    o->boot = 200;
    o->seed = RNG_DEFAULT_SEED;
}

// ---- sets and their distances ------------------------------------------------------------------
enum { FA = QUAL_LATENT, FB = QUAL_MEL, NF = QUAL_KINDS };   // (a) latents, (b) log-mel

void eval_set_init(EvalSet *s, const char *name, int z) {
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    featset_init(&s->f[FA], 2 * z);
    featset_init(&s->f[FB], 2 * N_MELS);
    s->steps = s->sampler = -1;
}
void eval_set_free(EvalSet *s) { featset_free(&s->f[FA]); featset_free(&s->f[FB]); }

int eval_reference_prepare(EvalReference *r, const EvalSet *ref) {
    memset(r, 0, sizeof *r);
    for (int k = 0; k < NF; k++) {
        progress("reference fit and bandwidth (%s)", k == FA ? "latents" : "log-mel");
        if (stats_gauss_fit(&r->fit[k], ref->f[k].x, NULL, ref->f[k].n, ref->f[k].d)) { eval_reference_free(r); return -1; }
        stats_gauss_prepare(&r->fit[k]);
        r->bw[k] = stats_median_distance(ref->f[k].x, ref->f[k].n, ref->f[k].d);
    }
    progress_done();
    r->set = ref;
    return 0;
}
void eval_reference_free(EvalReference *r) {
    for (int k = 0; k < NF; k++) stats_gauss_free(&r->fit[k]);
}

typedef struct { const MmdGroups *g; int *mult; } KadBoot;
static double kad_resample(void *ctx, const int *idx, int n) {
    KadBoot *b = ctx;
    memset(b->mult, 0, sizeof(int) * b->g->ng);
    for (int j = 0; j < n; j++) b->mult[idx[j]]++;
    return 100 * stats_mmd2_resampled(b->g, b->mult);
}

int eval_compare(EvalSet *s, const EvalReference *r, int boot, uint64_t seed) {
    for (int k = 0; k < NF; k++) {
        const FeatureSet *fs = &s->f[k], *rf = &r->set->f[k];
        s->fd[k] = s->kad[k] = s->fd_lo[k] = s->fd_hi[k] = s->kad_lo[k] = s->kad_hi[k] = NAN;
        if (fs->n < 2) continue;
        GaussFit g;
        if (stats_gauss_fit(&g, fs->x, NULL, fs->n, fs->d) || stats_frechet(&r->fit[k], &g, &s->fd[k])) return -1;
        stats_gauss_free(&g);
        int ng = featset_groups(fs);
        MmdGroups mg;
        if (stats_mmd2_groups(&mg, rf->x, rf->n, fs->x, fs->n, fs->group, ng, fs->d, r->bw[k])) return -1;
        int *mult = mallocCheck(sizeof(int) * ng);
        for (int a = 0; a < ng; a++) mult[a] = 1;
        s->kad[k] = 100 * stats_mmd2_resampled(&mg, mult);
        if (boot > 0 && ng >= 2) {
            FdResample fb = {fs, &r->fit[k], ng, mallocCheck(sizeof(double) * fs->n), mult};
            stats_bootstrap95(stats_fd_resample, &fb, ng, boot, seed + 2 * k, &s->fd_lo[k], &s->fd_hi[k]);
            stats_basic95(s->fd[k], &s->fd_lo[k], &s->fd_hi[k]);
            free(fb.w);
            KadBoot kb = {&mg, mult};
            stats_bootstrap95(kad_resample, &kb, ng, boot, seed + 2 * k + 1, &s->kad_lo[k], &s->kad_hi[k]);
            stats_basic95(s->kad[k], &s->kad_lo[k], &s->kad_hi[k]);
        }
        free(mult);
        stats_mmd2_groups_free(&mg);
    }
    return 0;
}

// ---- songs borrowed from the corpus --------------------------------------------------------------
typedef struct {
    int corpus;                 // index in the validation set
    int style;                  // source + 1
    SongForm cut;               // its sections cut to max_seconds
    char form[4096];            // the same as a form string for refrain_generate
} Borrowed;

// The song's sections within its first max_s seconds (0: all): a section the cut
// leaves under 1 s is dropped, as is any past FORM_MAX_SECTIONS.
static void cut_form(SongForm *out, const CorpusSong *s, double max_s) {
    memset(out, 0, sizeof *out);
    out->sections = callocCheck(s->n_sections + 1, sizeof(SongSection));
    for (int i = 0; i < s->n_sections && out->n < FORM_MAX_SECTIONS; i++) {
        SongSection x = s->sections[i];
        if (max_s > 0 && x.start >= max_s) break;
        if (max_s > 0 && x.end > max_s) { x.end = max_s; if (x.end - x.start < 1) break; }
        out->sections[out->n++] = x;
    }
    out->duration = out->n ? out->sections[out->n - 1].end : 0;
}

// "label:seconds ..." with each length at least the form's 1 s.
static int form_string(char *buf, size_t cap, const SongForm *f) {
    size_t L = 0;
    buf[0] = 0;
    for (int i = 0; i < f->n; i++) {
        double len = f->sections[i].end - f->sections[i].start;
        int k = snprintf(buf + L, cap - L, "%s%s:%.3f", i ? " " : "", f->sections[i].label, len < 1 ? 1.0 : len);
        if (k < 0 || (size_t)k >= cap - L) return err_set("generate-eval: the form of a song is too long");
        L += (size_t)k;
    }
    return f->n ? 0 : err_set("generate-eval: a song with no section of at least 1 s");
}

static int load_song(const char *dir, const LoadedSong *s, float **mel) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/shards/%s", dir, s->meta.shard);
    CorpusSong cs;
    if (shard_read(path, &cs, mel)) return -1;
    corpus_song_free(&cs);
    return 0;
}

// Mel frames that cover the first max_s seconds (all: T).
static long cut_frames(long T, double max_s) {
    if (max_s <= 0) return T;
    long t = lround(max_s * SAMPLE_RATE / HOP) + 1;
    return t < T ? t : T;
}

// ---- the sets ---------------------------------------------------------------------------------------
typedef struct {
    const GenEvalOpts *o;
    Ae ae;
    VocoderOpts vo;
    SongSet va, tr;             // metadata only; each song's features read from its shard
    Borrowed *b;                // (N)
    int N;
} Ctx;

// Decodes lat (Tl, Z) to T mel frames, vocodes, and adds the rendered audio's
// features: (b) from its log-mel, and when re_encode, (a) from its latents
// encoded again (else from lat itself).
static int render_features(Ctx *c, EvalSet *s, int group, const float *lat, long Tl, long T, const SongForm *f,
                           int re_encode) {
    int Z = c->ae.cfg.z, rc = -1;
    float *mel = mallocCheck(sizeof(float) * T * N_MELS), *x = NULL, *mel2 = NULL, *lat2 = NULL;
    long n, T2;
    if (ae_decode(&c->ae, lat, Tl, mel, T, 1) || vocode_logmel(&x, &n, mel, T, &c->vo)) goto done;
    if (mel_window_features(&s->f[FB], group, x, n, f)) goto done;
    if (re_encode) {
        if (logmel_from_audio(&mel2, &T2, x, n)) goto done;
        long Tl2 = ae_latent_frames(T2);
        lat2 = mallocCheck(sizeof(float) * Tl2 * Z);
        if (ae_encode(&c->ae, mel2, T2, lat2, 1) || latent_window_features(&s->f[FA], group, lat2, Tl2, Z, f)) goto done;
    } else if (latent_window_features(&s->f[FA], group, lat, Tl, Z, f)) goto done;
    rc = 0;
done:
    free(mel); free(x); free(mel2); free(lat2);
    return rc;
}

// Song ls of the corpus at dir into s as group `group`: (a) its latents encoded by ae,
// (b) its log-mel, in the windows of its sections within max_s (cut_form). Its
// latents (Tl, Z) and cut form are handed back in *lat and *cut when those are
// given (the caller frees them), else freed.
static int corpus_song_features(EvalSet *s, int group, const Ae *ae, const char *dir, const LoadedSong *ls,
                                double max_s, float **lat_out, SongForm *cut_out) {
    float *mel;
    if (load_song(dir, ls, &mel)) return -1;
    int Z = ae->cfg.z;
    long T = ls->meta.n_frames, Tl = ae_latent_frames(T);
    float *lat = mallocCheck(sizeof(float) * Tl * Z);
    SongForm cut;
    cut_form(&cut, &ls->meta, max_s);
    int rc = ae_encode(ae, mel, T, lat, 1);
    if (!rc) rc = latent_window_features(&s->f[FA], group, lat, Tl, Z, &cut);
    if (!rc) rc = window_features(&s->f[FB], group, mel, T, N_MELS, (double)SAMPLE_RATE / HOP, &cut) < 0;
    s->songs++;
    free(mel);
    if (lat_out && !rc) *lat_out = lat; else free(lat);
    if (cut_out && !rc) *cut_out = cut; else song_form_free(&cut);
    return rc ? -1 : 0;
}

int eval_reference_set(EvalSet *ref, const Ae *ae, const char *dir, double max_seconds) {
    SongSet va;
    if (songset_load(&va, dir, SPLIT_VALID, 0, 0)) return -1;
    int rc = 0;
    for (int j = 0; j < va.n && !rc; j++) {
        progress("reference: validation song %d/%d", j + 1, va.n);
        rc = corpus_song_features(ref, j, ae, dir, &va.songs[j], max_seconds, NULL, NULL);
    }
    progress_done();
    songset_free(&va);
    return rc;
}

// The reference (every validation song), floor 2 and the ceiling (the chosen ones).
static int real_sets(Ctx *c, EvalSet *ref, EvalSet *aefloor, EvalSet *ceil) {
    const GenEvalOpts *o = c->o;
    int Z = c->ae.cfg.z;
    for (int j = 0, i = 0; j < c->va.n; j++) {
        progress("generate-eval: validation song %d/%d", j + 1, c->va.n);
        float *lat;
        SongForm cut;
        if (corpus_song_features(ref, j, &c->ae, o->data, &c->va.songs[j], o->max_seconds, &lat, &cut)) return -1;
        long T = c->va.songs[j].meta.n_frames;
        int rc = 0;
        if (i < c->N && c->b[i].corpus == j) {
            long Tc = cut_frames(T, o->max_seconds), Tlc = ae_latent_frames(Tc);
            rc = render_features(c, aefloor, i, lat, Tlc, Tc, &cut, 1);
            aefloor->songs++;
            if (!rc) {   // the ceiling: N(0, 1) latents of the same length
                float *g = mallocCheck(sizeof(float) * Tlc * Z);
                Rng r;
                rng_seed(&r, o->seed + 7919ull * (uint64_t)(i + 1));
                rng_fill_normal(&r, g, Tlc * Z, 1.0f);
                rc = render_features(c, ceil, i, g, Tlc, Tc, &cut, 0);
                ceil->songs++;
                free(g);
            }
            i++;
        }
        song_form_free(&cut);
        free(lat);
        if (rc) return -1;
    }
    progress_done();
    return 0;
}

// Floor 1: N training songs spread evenly over the sorted list.
static int train_set(Ctx *c, EvalSet *s) {
    const GenEvalOpts *o = c->o;
    int N = c->N < c->tr.n ? c->N : c->tr.n;
    for (int i = 0; i < N; i++) {
        progress("generate-eval: training song %d/%d", i + 1, N);
        const LoadedSong *ls = &c->tr.songs[(long)i * c->tr.n / N];
        if (corpus_song_features(s, i, &c->ae, o->data, ls, o->max_seconds, NULL, NULL)) return -1;
    }
    progress_done();
    return 0;
}

static void report_progress(void *user, const char *stage, int section, int n, int step, int steps) {
    const ReportProgress *g = user;
    if (!strcmp(stage, "denoiser"))
        progress("%s: %s, song %d/%d, section %d/%d, step %d/%d", g->cmd, g->set, g->song + 1, g->songs, section + 1,
                 n, step, steps);
    else progress("%s: %s, song %d/%d, %s", g->cmd, g->set, g->song + 1, g->songs, stage);
}

refrain_generate_params report_song_params(const char *form, int style, uint64_t seed, int steps, int sampler,
                                           int schedule, float cfg, float mem_guidance, int vocoder_iters,
                                           ReportProgress *pr) {
    refrain_generate_params gp = refrain_generate_default_params();
    gp.form = form;
    gp.style = style;
    gp.seed = seed;
    gp.steps = steps;
    gp.sampler = sampler;
    gp.schedule = schedule;
    gp.cfg = cfg;
    gp.memory_guidance = mem_guidance;
    gp.vocoder_iters = vocoder_iters;
    gp.progress = report_progress;
    gp.progress_user = pr;
    return gp;
}

static int generated_set(Ctx *c, refrain_model *m, EvalSet *s, int steps, int sampler, int pngs) {
    const GenEvalOpts *o = c->o;
    s->steps = steps;
    s->sampler = sampler;
    for (int i = 0; i < c->N; i++) {
        ReportProgress pr = {"generate-eval", s->name, i, c->N};
        refrain_generate_params gp = report_song_params(c->b[i].form, c->b[i].style, (uint64_t)i + 1, steps, sampler,
                                                        o->schedule, o->cfg, o->mem_guidance, o->vocoder_iters, &pr);
        refrain_song song;
        char err[1024];
        double t0 = now_seconds();
        if (refrain_generate(m, &gp, &song, err, sizeof err)) return err_set("generate-eval: song %d (%s): %s", i + 1, c->va.songs[c->b[i].corpus].meta.song, err);
        s->sec_total += now_seconds() - t0;
        s->sec_den += song.seconds_denoiser;
        s->sec_audio += (double)song.n_samples / song.sample_rate;
        SongForm f = refrain_song_form(&song);
        int rc = latent_window_features(&s->f[FA], i, song.latents, song.n_latent, song.z, &f);
        if (!rc) rc = mel_window_features(&s->f[FB], i, song.audio, song.n_samples, &f);
        if (!rc && pngs && o->figs && (i == 0 || i == c->N / 3 || i == 2 * c->N / 3) && (i == 0 || c->N >= 3)) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/generate-%d.png", o->figs, i == 0 ? 1 : i == c->N / 3 ? 2 : 3);
            OutTx tx;   // one figure, atomically
            outtx_begin(&tx);
            const char *tmp = outtx_add(&tx, path);
            rc = !tmp || spectrogram_png(tmp, song.logmel, song.n_frames, &f) || outtx_commit(&tx) ? -1 : 0;
            if (rc) outtx_abort(&tx);
        }
        s->songs++;
        song_form_free(&f);
        refrain_song_free(&song);
        if (rc) return -1;
    }
    progress_done();
    return 0;
}

// ---- the report -----------------------------------------------------------------------------------
static void cell(FILE *f, double v, double lo, double hi, const char *fmt) {
    fputc(' ', f);
    if (isnan(v)) { fprintf(f, "- |"); return; }
    fprintf(f, fmt, v);
    if (!isnan(lo)) { fprintf(f, " ["); fprintf(f, fmt, lo); fprintf(f, ", "); fprintf(f, fmt, hi); fputc(']', f); }
    fprintf(f, " |");
}

void eval_distance_cells(FILE *f, const EvalSet *s) {
    cell(f, s->fd[FA], s->fd_lo[FA], s->fd_hi[FA], "%.3f");
    cell(f, s->kad[FA], s->kad_lo[FA], s->kad_hi[FA], "%.3f");
    cell(f, s->fd[FB], s->fd_lo[FB], s->fd_hi[FB], "%.3f");
    cell(f, s->kad[FB], s->kad_lo[FB], s->kad_hi[FB], "%.3f");
}

static void list_ints(char *buf, size_t cap, const int *v, int n, int names) {
    size_t L = 0;
    buf[0] = 0;
    for (int i = 0; i < n && L < cap; i++) {
        int k = names ? snprintf(buf + L, cap - L, "%s%s", i ? "," : "", sampler_name(v[i]))
                      : snprintf(buf + L, cap - L, "%s%d", i ? "," : "", v[i]);
        if (k < 0) break;
        L += (size_t)k;
    }
}

static void sweep_plots(FILE *f, const GenEvalOpts *o, const EvalSet *sw, int nsw, const EvalSet *main) {
    if (!o->figs || nsw < 2) return;
    const char *file[NF] = {"generate-sweep-latent.png", "generate-sweep-mel.png"};
    const char *ylab[NF] = {"FD (a) latents", "FD (b) log-mel"};
    int drawn = 0;
    for (int k = 0; k < NF; k++) {
        PlotSeries ps[SAMPLER_COUNT + 1];
        double x[SAMPLER_COUNT][GEN_EVAL_MAX_STEPS], y[SAMPLER_COUNT][GEN_EVAL_MAX_STEPS], hx, hy;
        int np = 0;
        for (int a = 0; a < o->n_samplers; a++) {
            int n = 0;
            for (int i = 0; i < nsw; i++)
                if (sw[i].sampler == o->samplers[a] && sw[i].sec_audio > 0 && !isnan(sw[i].fd[k])) {
                    x[np][n] = 60 * sw[i].sec_total / sw[i].sec_audio; y[np][n] = sw[i].fd[k]; n++;
                }
            if (n) { ps[np] = (PlotSeries){sampler_name(o->samplers[a]), x[np], y[np], n}; np++; }
        }
        char hname[64];
        snprintf(hname, sizeof hname, "headline: %s, %d steps", sampler_name(main->sampler), main->steps);
        if (main->sec_audio > 0 && !isnan(main->fd[k])) {
            hx = 60 * main->sec_total / main->sec_audio; hy = main->fd[k];
            ps[np++] = (PlotSeries){hname, &hx, &hy, 1};
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", o->figs, file[k]);
        OutTx tx;   // one figure, atomically
        outtx_begin(&tx);
        const char *tmp = np ? outtx_add(&tx, path) : NULL;
        int prc = !tmp || plot_png(tmp, "quality against generation time", "seconds per minute of audio (all stages)",
                                   ylab[k], ps, np, 1, 0) || outtx_commit(&tx);
        if (prc) outtx_abort(&tx);
        if (!prc) {
            if (!drawn) fprintf(f, "\n");
            fprintf(f, "![%s against seconds per minute](%s)\n\n", ylab[k], file[k]);
            drawn = 1;
        }
    }
}

static void write_report(FILE *f, const Ctx *c, const char *model, uint64_t mh, const char *aep, uint64_t ah,
                         const char *model_desc, const EvalReference *r, EvalSet *const *rows, int nrows,
                         const EvalSet *headline, const EvalSet *sw, int nsw, double wall) {
    const GenEvalOpts *o = c->o;
    char steps[128], samplers[128];
    list_ints(steps, sizeof steps, o->steps, o->n_steps, 0);
    list_ints(samplers, sizeof samplers, o->samplers, o->n_samplers, 1);
    fprintf(f, "# Generation: quality\n\nWritten by `refrain generate-eval`.");
    if (o->note) fprintf(f, " %s", o->note);
    fprintf(f, "\n\nDenoiser `%s` (FNV-1a-64 %016llx; %s); autoencoder `%s` (FNV-1a-64 %016llx).\n\n", model,
            (unsigned long long)mh, model_desc, aep, (unsigned long long)ah);
    fprintf(f, "To reproduce: `refrain --threads %d generate-eval --model %s --ae %s --data %s --songs %d --max-seconds %g "
               "--steps %s --samplers %s --schedule %s --cfg %g --memory-guidance %g --vocoder-iters %d --boot %d --seed %llu "
               "-o generate.md` (the headline setting is %s, %d steps: generate's defaults). %.0f s wall.\n\n",
            nn_threads(), model, aep, o->data, o->songs, o->max_seconds, steps, samplers, schedule_name(o->schedule),
            o->cfg, o->mem_guidance, o->vocoder_iters, o->boot, (unsigned long long)o->seed,
            sampler_name(o->main_sampler), o->main_steps, wall);
    fprintf(f, "## How to read it\n\nEvery set is cut to its songs' first %g s and measured in 1-second windows of each "
               "section (a section's last partial second and sections under 1 s give none): **(a)** the autoencoder's "
               "unit-scale latents (%d channels, about 21.5 frames/s), each channel's mean and standard deviation over "
               "the window (%d numbers); **(b)** the audio's log-mel as refrain's front end analyses the waveform (%d "
               "bands, 86.1 frames/s), each band's mean and standard deviation (%d numbers). Each set is compared with "
               "the **reference**, every validation song of the corpus (%d songs, %ld windows). **FD**: Fréchet distance "
               "of Gaussian fits (FAD's formula on these features). **KAD**: 100 x the unbiased MMD^2 with a Gaussian "
               "kernel whose bandwidth is the median pairwise distance of the reference's windows (kadtk's recipe, "
               "Chung et al. 2025; (a) %.3f, (b) %.3f), the same kernel for every row. Lower is closer; KAD is about 0 "
               "for two samples of one distribution and can dip below it. Both grow as a set gets smaller, so every "
               "compared set has the same songs' worth of windows.",
            o->max_seconds > 0 ? o->max_seconds : INFINITY, c->ae.cfg.z, 2 * c->ae.cfg.z, N_MELS, 2 * N_MELS,
            r->set->songs, r->set->f[FA].n, r->bw[FA], r->bw[FB]);
    if (o->boot > 0)
        fprintf(f, " Brackets: 95%% basic bootstrap intervals over the compared set's songs (%d resamples; the reference "
                   "held fixed): twice the estimate minus the resamples' 97.5th and 2.5th percentiles. With few songs FD "
                   "(and KAD less so) leans high, and a resample, which repeats some songs, leans higher; the basic "
                   "interval turns that lean around, so it may lie below the estimate: it brackets the distance that "
                   "many songs would give.", o->boot);
    fprintf(f, "\n\n- *training songs* (floor): %d songs of the training split spread over its sorted list, as "
               "the reference is made: what real music that is not the reference scores.\n"
               "- *validation through autoencoder + vocoder* (floor): the %d chosen validation songs encoded, decoded and "
               "vocoded (Griffin-Lim, %d iterations), (b) from the rendered audio, (a) encoded again from it: what "
               "rendering alone costs. They are songs of the reference, so this floor is optimistic.\n"
               "- *Gaussian latents* (ceiling): N(0, 1) latents of the same lengths, decoded and vocoded: sound with the "
               "latents' scale and none of their structure.\n"
               "- *generated*: for each chosen validation song, a song with its form (labels, lengths; its source as "
               "style) and seed i + 1 (song i from 1), through `refrain_generate`, schedule %s, cfg %g, memory guidance "
               "%g; (a) the latents it made, (b) its audio analysed again.\n\n",
            c->N < c->tr.n ? c->N : c->tr.n, c->N, o->vocoder_iters, schedule_name(o->schedule), o->cfg,
            o->mem_guidance);
    fprintf(f, "## Distances to the validation songs\n\n| set | songs | windows | FD (a) latents | KAD (a) | FD (b) log-mel "
               "| KAD (b) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < nrows; i++) {
        fprintf(f, "| %s | %d | %ld |", rows[i]->name, rows[i]->songs, rows[i]->f[FA].n);
        eval_distance_cells(f, rows[i]);
        fputc('\n', f);
    }
    if (nsw) {
        fprintf(f, "\n## Steps and samplers: quality against time\n\nThe same songs and seeds at each setting; seconds "
                   "of wall time per minute of audio made, all stages (denoiser, decoder, vocoder) and the denoiser "
                   "alone, at %d threads%s. Model evaluations per chunk count one guided batch as one.\n\n",
                nn_threads(), "; timings from a shared or busy machine are upper bounds");
        fprintf(f, "| sampler | steps | evaluations | s per min | denoiser s per min | FD (a) | KAD (a) | FD (b) | KAD (b) |\n"
                   "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (int i = 0; i < nsw; i++) {
            const EvalSet *s = &sw[i];
            double mins = s->sec_audio / 60;
            fprintf(f, "| %s | %d | %d | %.1f | %.1f |", sampler_name(s->sampler), s->steps,
                    sampler_evals(s->sampler, s->steps), mins > 0 ? s->sec_total / mins : NAN,
                    mins > 0 ? s->sec_den / mins : NAN);
            eval_distance_cells(f, s);
            fputc('\n', f);
        }
        sweep_plots(f, o, sw, nsw, headline);
    }
    fprintf(f, "\n## The songs\n\n| # | validation song | source | style | form (cut) |\n| ---: | --- | --- | ---: | --- |\n");
    for (int i = 0; i < c->N; i++) {
        const CorpusSong *cs = &c->va.songs[c->b[i].corpus].meta;
        fprintf(f, "| %d | `%s` | %s | %d | `%s` |\n", i + 1, cs->song, corpus_source_name(cs->source), c->b[i].style,
                c->b[i].form);
    }
    if (o->figs && c->N) {
        fprintf(f, "\n## Spectrograms\n\nGenerated at the headline setting (the decoder's log-mel, with the sections "
                   "drawn):\n\n");
        int which[3] = {0, c->N / 3, 2 * c->N / 3};
        for (int k = 0; k < 3 && (k == 0 || c->N >= 3); k++)
            fprintf(f, "song %d (`%s`)\n\n![generated song %d](generate-%d.png)\n\n", which[k] + 1,
                    c->va.songs[c->b[which[k]].corpus].meta.song, which[k] + 1, k + 1);
    }
}

// ---- the whole run ----------------------------------------------------------------------------------
static int check_opts(const GenEvalOpts *o) {
    if (o->songs < 0) return err_set("generate-eval: songs %d; need 0 (all) or more", o->songs);
    if (!(o->max_seconds >= 0)) return err_set("generate-eval: max seconds %g; need 0 (whole songs) or more", o->max_seconds);
    if (o->n_steps < 0 || o->n_steps > GEN_EVAL_MAX_STEPS || o->n_samplers < 0 || o->n_samplers > SAMPLER_COUNT)
        return err_set("generate-eval: %d steps and %d samplers in the sweep; at most %d and %d", o->n_steps,
                       o->n_samplers, GEN_EVAL_MAX_STEPS, SAMPLER_COUNT);
    for (int i = 0; i < o->n_steps; i++)
        if (o->steps[i] < 1 || o->steps[i] > 1000) return err_set("generate-eval: steps %d; allowed 1..1000", o->steps[i]);
    for (int i = 0; i < o->n_samplers; i++)
        if (o->samplers[i] < 0 || o->samplers[i] >= SAMPLER_COUNT) return err_set("generate-eval: unknown sampler %d", o->samplers[i]);
    if (o->main_sampler < 0 || o->main_sampler >= SAMPLER_COUNT || o->main_steps < 1 || o->main_steps > 1000)
        return err_set("generate-eval: the headline setting (%d, %d steps) is not a sampler and steps", o->main_sampler,
                       o->main_steps);
    if (o->boot < 0) return err_set("generate-eval: %d bootstrap resamples", o->boot);
    return 0;
}

int generate_eval(FILE *f, const GenEvalOpts *o) {
    if (check_opts(o)) return -1;
    double t0 = now_seconds();
    char dpath[PATH_MAX], apath[PATH_MAX], err[1024];
    const char *model = model_file(o->model, "denoiser.rfc", 0, dpath, sizeof dpath), *aep;
    if (!model || !(aep = model_file(o->ae, "ae.rfc", 0, apath, sizeof apath))) return -1;
    uint64_t mh, ah;
    if (file_hash(model, &mh) || file_hash(aep, &ah)) return -1;
    char desc[256];
    {
        Denoiser d;
        if (denoiser_load(&d, model)) return -1;
        const DenoiserConfig *dc = &d.cfg;
        snprintf(desc, sizeof desc, "%ld parameters, width %d, depth %d, heads %d, K %d%s", denoiser_param_count(&d),
                 dc->width, dc->depth, dc->heads, dc->mem_k, dc->mem_pool ? " (attention pooling)" : "");
        denoiser_free(&d);
    }
    refrain_model_params mp = refrain_model_default_params();
    mp.denoiser = model;
    mp.autoencoder = aep;
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    if (!m) return err_set("%s", err);
    Ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    vocoder_defaults(&c.vo);
    c.vo.iters = o->vocoder_iters;
    int rc = -1, nsw = 0, nrows = 0;
    EvalSet ref, tr, aef, ceil, main, *sw = NULL;
    memset(&ref, 0, sizeof ref); memset(&tr, 0, sizeof tr); memset(&aef, 0, sizeof aef);
    memset(&ceil, 0, sizeof ceil); memset(&main, 0, sizeof main);
    EvalReference r;
    memset(&r, 0, sizeof r);
    if (ae_load(&c.ae, aep, NULL)) { refrain_model_free(m); return -1; }
    if (songset_load(&c.va, o->data, SPLIT_VALID, 0, 0)) goto done;
    if (songset_load(&c.tr, o->data, SPLIT_TRAIN, 0, 0)) goto done;
    c.N = o->songs > 0 && o->songs < c.va.n ? o->songs : c.va.n;
    c.b = callocCheck(c.N, sizeof *c.b);
    for (int i = 0; i < c.N; i++) {
        Borrowed *b = &c.b[i];
        b->corpus = (int)((long)i * c.va.n / c.N);
        b->style = c.va.songs[b->corpus].meta.source + 1;
        cut_form(&b->cut, &c.va.songs[b->corpus].meta, o->max_seconds);
        if (form_string(b->form, sizeof b->form, &b->cut)) goto done;
    }
    int Z = c.ae.cfg.z;
    eval_set_init(&ref, "reference: validation songs", Z);
    eval_set_init(&tr, "training songs (floor)", Z);
    eval_set_init(&aef, "validation through autoencoder + vocoder (floor)", Z);
    eval_set_init(&ceil, "Gaussian latents, decoded + vocoded (ceiling)", Z);
    eval_set_init(&main, "", Z);
    snprintf(main.name, sizeof main.name, "**generated: %s, %d steps**", sampler_name(o->main_sampler), o->main_steps);
    if (real_sets(&c, &ref, &aef, &ceil) || train_set(&c, &tr)) goto done;
    if (eval_reference_prepare(&r, &ref)) goto done;
    if (generated_set(&c, m, &main, o->main_steps, o->main_sampler, 1)) goto done;
    sw = callocCheck((size_t)o->n_steps * o->n_samplers + 1, sizeof *sw);
    for (int a = 0; a < o->n_samplers; a++)
        for (int s = 0; s < o->n_steps; s++) {
            EvalSet *e = &sw[nsw++];
            eval_set_init(e, "", Z);
            snprintf(e->name, sizeof e->name, "%s, %d steps", sampler_name(o->samplers[a]), o->steps[s]);
            if (o->samplers[a] == o->main_sampler && o->steps[s] == o->main_steps) {   // the headline again
                e->alias = 1;
                e->steps = main.steps; e->sampler = main.sampler;
                e->sec_audio = main.sec_audio; e->sec_total = main.sec_total; e->sec_den = main.sec_den;
                continue;
            }
            if (generated_set(&c, m, e, o->steps[s], o->samplers[a], 0)) goto done;
        }
    EvalSet *rows[4] = {&tr, &aef, &main, &ceil};
    nrows = 4;
    for (int i = 0; i < nrows; i++) {
        progress("generate-eval: distances, %s", rows[i]->name);
        if (eval_compare(rows[i], &r, o->boot, o->seed + 101ull * (uint64_t)(i + 1))) goto done;
    }
    for (int i = 0; i < nsw; i++) {
        progress("generate-eval: distances, %s", sw[i].name);
        if (sw[i].alias) {   // the headline setting: same songs, same numbers
            memcpy(sw[i].fd, main.fd, sizeof main.fd); memcpy(sw[i].fd_lo, main.fd_lo, sizeof main.fd_lo);
            memcpy(sw[i].fd_hi, main.fd_hi, sizeof main.fd_hi); memcpy(sw[i].kad, main.kad, sizeof main.kad);
            memcpy(sw[i].kad_lo, main.kad_lo, sizeof main.kad_lo); memcpy(sw[i].kad_hi, main.kad_hi, sizeof main.kad_hi);
            continue;
        }
        if (eval_compare(&sw[i], &r, o->boot, o->seed + 101ull * (uint64_t)(nrows + i + 1))) goto done;
    }
    progress_done();
    write_report(f, &c, model, mh, aep, ah, desc, &r, rows, nrows, &main, sw, nsw, now_seconds() - t0);
    rc = ferror(f) ? err_set("generate-eval: cannot write the report") : 0;
done:
    progress_done();
    eval_reference_free(&r);
    eval_set_free(&ref); eval_set_free(&tr); eval_set_free(&aef); eval_set_free(&ceil); eval_set_free(&main);
    for (int i = 0; i < nsw; i++) eval_set_free(&sw[i]);
    free(sw);
    for (int i = 0; i < c.N && c.b; i++) song_form_free(&c.b[i].cut);
    free(c.b);
    songset_free(&c.va);
    songset_free(&c.tr);
    ae_free(&c.ae);
    refrain_model_free(m);
    return rc;
}
