// ablate.c — `refrain ablate` (issue 14): what the section memory buys and what
// it costs, measured on the songs refrain makes. The same N songs (one form,
// seeds seed + i, so the same noise) are generated under several conditions:
//   memory        the song loop as shipped (each section remembers the earlier ones);
//   no memory     no section remembers anything (refrain_generate's no_memory);
//   other memory  section i remembers song (i + 1) mod N of the memory condition
//                 (its sections 0 .. i - 1: refrain_generate's memory_from), the
//                 control: the memory's content, not its presence, should help;
//   other songs   section k of song i remembers its sections 0 .. k - 1 of another
//                 song of the memory condition for each k (refrain_generate's
//                 memory_from_each; others_song), the second control: one other song
//                 brings its own repeats along (its choruses are alike, so the choruses
//                 that start from them are alike too), a different one for each section
//                 brings the content of other songs without their repeats;
//   guidance g    the memory condition at each memory guidance of the sweep (the
//                 setting given aliases the memory condition: the same songs);
//   model K       the memory condition with each extra denoiser (another memory size);
//   repeat X      the memory condition with each repeat strength of a second sweep (a
//                 repeat starts from its label's earlier occurrence re-noised to t = X;
//                 every other condition uses the one given, the controls' repeats start
//                 from the other songs' sections, and without memory from pure noise).
// Every song is measured from its rendered audio (data/structure.h: the
// same-label minus different-label section similarity gap, its AUC, MusDr's
// structureness), against real songs with exact labels (structure_corpus on the
// validation MMA songs and modules); per condition the means with 95% bootstrap
// intervals over songs, and the differences paired over songs (same seeds).
// Quality: Fréchet distance and KAD of (a) the latents and (b) the audio's log-mel
// against every validation song (eval.c's machinery, generate-eval's numbers);
// cost: wall seconds per song and memory tokens per section.
// Resumable: each song is kept in <work>/<model hash>/ as <condition>-seed<S>.wav
// (32-bit float, so a reread is the same samples), .lat, .json (timeline) and .txt
// (its settings, then what it cost); a rerun reuses a song whose settings match and
// whose files load, and measures every song from those files, so a rerun writes
// the same numbers. It owns no model, measure or distance code.
#include "sampler/sampler.h"
#include "refrain.h"
#include "audio/audio.h"
#include "data/structure.h"
#include "nn/layers.h"
#include "util/rng.h"
#include "util/stats.h"
#include "util/util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ablate_defaults(AblateOpts *o) {
    memset(o, 0, sizeof *o);
    refrain_generate_params g = refrain_generate_default_params();
    o->songs = 20;
    o->seed = 1;
    o->data = ".cache/corpus";
    o->work = ".cache/ablate";
    const float sweep[4] = {0, 1, 2, 4};
    for (int i = 0; i < 4; i++) o->mg_sweep[i] = sweep[i];
    o->n_sweep = 4;
    o->repeat_strength = g.repeat_strength;
    o->bpm = g.bpm;
    o->style = g.style;
    o->steps = g.steps;
    o->sampler = g.sampler;
    o->schedule = g.schedule;
    o->cfg = g.cfg;
    o->mem_guidance = g.memory_guidance;
    o->vocoder_iters = g.vocoder_iters;
    o->boot = 200;   // as generate-eval: each FD resample is a Gaussian fit and a 160 x 160 eigendecomposition
}

// ---- intervals over songs ----------------------------------------------------------------------
typedef struct { const double *a, *b; } PairCtx;
static double diff_stat(void *ctx, const int *idx, int n) {
    const PairCtx *c = ctx;
    double s = 0;
    for (int j = 0; j < n; j++) s += c->a[idx[j]] - c->b[idx[j]];
    return s / n;
}
static double pratio_stat(void *ctx, const int *idx, int n) {
    const PairCtx *c = ctx;
    double sa = 0, sb = 0;
    for (int j = 0; j < n; j++) { sa += c->a[idx[j]]; sb += c->b[idx[j]]; }
    return sa / sb;
}
// Two independent sets: a's draws are stats_bootstrap95's, b's come from the
// context's own Rng (seeded from the same seed), nb of them per resample.
typedef struct { const double *a, *b; int nb; Rng rng; } TwoCtx;
static double ratio_stat(void *ctx, const int *idx, int n) {
    TwoCtx *c = ctx;
    double sa = 0, sb = 0;
    for (int j = 0; j < n; j++) sa += c->a[idx[j]];
    for (int j = 0; j < c->nb; j++) sb += c->b[rng_u64(&c->rng) % (uint64_t)c->nb];
    return (sa / n) / (sb / c->nb);
}

// The songs where both a and b are finite, into fa, fb; returns how many.
static int finite_pairs(double *fa, double *fb, const double *a, const double *b, int n) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(a[i]) && isfinite(b[i])) { fa[m] = a[i]; fb[m] = b[i]; m++; }
    return m;
}
static int finite_only(double *fa, const double *a, int n) {
    int m = 0;
    for (int i = 0; i < n; i++) if (isfinite(a[i])) fa[m++] = a[i];
    return m;
}

static StructureInterval paired(const double *a, const double *b, int n, int boot, uint64_t seed, int ratio) {
    StructureInterval r = {NAN, NAN, NAN, 0};
    double *fa = mallocCheck(sizeof(double) * (n + 1)), *fb = mallocCheck(sizeof(double) * (n + 1));
    int m = finite_pairs(fa, fb, a, b, n);
    r.n = m;
    if (m > 0) {
        int *all = mallocCheck(sizeof(int) * m);
        for (int i = 0; i < m; i++) all[i] = i;
        PairCtx c = {fa, fb};
        r.mean = ratio ? pratio_stat(&c, all, m) : diff_stat(&c, all, m);
        if (boot > 0 && m >= 2) stats_bootstrap95(ratio ? pratio_stat : diff_stat, &c, m, boot, seed, &r.lo, &r.hi);
        free(all);
    }
    free(fa); free(fb);
    return r;
}

StructureInterval ablate_paired_difference(const double *a, const double *b, int n, int boot, uint64_t seed) {
    return paired(a, b, n, boot, seed, 0);
}

StructureInterval ablate_paired_ratio(const double *a, const double *b, int n, int boot, uint64_t seed) {
    return paired(a, b, n, boot, seed, 1);
}

StructureInterval ablate_ratio(const double *a, int na, const double *b, int nb, int boot, uint64_t seed) {
    StructureInterval r = {NAN, NAN, NAN, 0};
    double *fa = mallocCheck(sizeof(double) * (na + 1)), *fb = mallocCheck(sizeof(double) * (nb + 1));
    int ma = finite_only(fa, a, na), mb = finite_only(fb, b, nb);
    r.n = ma < mb ? ma : mb;
    if (ma > 0 && mb > 0) {
        double sa = 0, sb = 0;
        for (int i = 0; i < ma; i++) sa += fa[i];
        for (int i = 0; i < mb; i++) sb += fb[i];
        r.mean = (sa / ma) / (sb / mb);
        if (boot > 0 && ma >= 2 && mb >= 2) {
            TwoCtx c;
            c.a = fa; c.b = fb; c.nb = mb;
            rng_seed(&c.rng, seed ^ 0x5851f42d4c957f2dull);
            stats_bootstrap95(ratio_stat, &c, ma, boot, seed, &r.lo, &r.hi);
        }
    }
    free(fa); free(fb);
    return r;
}

// ---- conditions ------------------------------------------------------------------------------------
// C_MEMORY, C_NONE and C_OTHER are conditions 0, 1, 2; C_OTHERS is the last (added later: the
// others keep their indices, so their bootstrap draws and figures stay as they were)
enum { C_MEMORY = 0, C_NONE, C_OTHER, C_SWEEP, C_MODEL, C_REPEAT, C_OTHERS };

typedef struct {
    const char *path;
    uint64_t hash;
    int k;                       // memory tokens per remembered section
    char desc[192];
    char dir[PATH_MAX];          // its songs: <work>/<hash>
} Model;

typedef struct {
    int kind;
    char name[96];               // in the tables
    char key[32];                // its songs' file names: <key>-seed<S>
    float mg;                    // memory guidance
    float rs;                    // repeat strength (1: from pure noise)
    int model;                   // index into the models (0: the one measured)
    int alias;                   // -1, or the condition whose songs these are
    StructureResult *res;        // (N)
    double *sec, *tok;           // (N) wall seconds of the song, its mean memory tokens per section
    double *cpu;                 // (N) CPU seconds of the song (NaN: stored before they were recorded)
    double *gap, *auc, *si;      // (N) combined gap, combined AUC, SI(8,15): each song's
    EvalSet q;
    StructureSummary sum;
    SongForm form0;              // song 1's sections (for its self-similarity picture)
    int measured;
} Cond;

typedef struct {
    const AblateOpts *o;
    AblateCounts *counts;
    Model *models;
    refrain_model *m;            // the model being generated with, loaded on the first song that needs it
    int m_index;
    uint64_t ae_hash;
    const char *ae;
    char base[4096];             // the settings every song shares
    const char *memory_key;      // the memory condition's songs' key (the control's memories)
    int n_sections;              // the form's sections
} Store;

static void song_paths(char paths[4][PATH_MAX], const char *dir, const char *key, uint64_t seed) {
    const char *ext[4] = {"wav", "lat", "json", "txt"};
    for (int k = 0; k < 4; k++) {
        int n = snprintf(paths[k], PATH_MAX, "%s/%s-seed%llu.%s", dir, key, (unsigned long long)seed, ext[k]);
        if (n >= PATH_MAX) paths[k][0] = 0;   // too long: no such file, and writing it fails
    }
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *s = NULL;
    size_t n = 0, cap = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF && n < (1u << 20)) {
        if (n + 2 > cap) { cap = cap ? 2 * cap : 4096; s = reallocCheck(s, cap); }
        s[n++] = (char)ch;
    }
    fclose(f);
    if (s) s[n] = 0;
    return s;
}

// A stored song: timeline and latents (refrain_song_load) and its audio.
static int load_stored(refrain_song *s, char paths[4][PATH_MAX]) {
    char err[1024];
    if (refrain_song_load(s, paths[2], paths[1], err, sizeof err)) return err_set("%s", err);
    float *x;
    long n;
    if (audio_read(paths[0], SAMPLE_RATE, &x, &n)) { refrain_song_free(s); return -1; }
    s->audio = x;
    s->n_samples = n;
    return 0;
}

// The memory condition's song that section k of song i remembers in the control
// "other songs' memory": song (i + k) mod N, skipping song i itself, so each section
// of a song remembers a different song (k >= 1; section 0 remembers nothing).
static int others_song(int i, int k, int N) { return (i + 1 + (k - 1) % (N - 1)) % N; }

// The stored songs whose sections condition c's song i remembers: none (its own
// or none), song i + 1 for C_OTHER, one per section for C_OTHERS. from[k] is the
// song section k remembers (NULL: its own); n the form's sections.
typedef struct { refrain_song *songs; int n; const refrain_song **from; } Memories;
static void memories_free(Memories *m) {
    for (int k = 0; k < m->n && m->songs; k++) refrain_song_free(&m->songs[k]);
    free(m->songs); free(m->from);
    memset(m, 0, sizeof *m);
}
static int memories_load(Memories *mm, const Store *st, const Cond *c, int i, int n) {
    const AblateOpts *o = st->o;
    memset(mm, 0, sizeof *mm);
    if (c->kind != C_OTHER && c->kind != C_OTHERS) return 0;
    mm->n = n;
    mm->songs = callocCheck(n, sizeof *mm->songs);
    mm->from = callocCheck(n, sizeof *mm->from);
    for (int k = c->kind == C_OTHER ? 0 : 1; k < n; k++) {
        int j = c->kind == C_OTHER ? (i + 1) % o->songs : others_song(i, k, o->songs);
        char fp[4][PATH_MAX];
        song_paths(fp, st->models[c->model].dir, st->memory_key, o->seed + (uint64_t)j);
        if (load_stored(&mm->songs[k], fp)) {
            memories_free(mm);
            return err_set("ablate: the memory condition's song %s: %s", fp[2], err_msg());
        }
        mm->from[k] = &mm->songs[k];
        if (c->kind == C_OTHER) break;   // one song for every section
    }
    return 0;
}

// Song i of condition c: reused from the store when its settings match and its
// files load, else generated (with the memory of the memory condition's songs when
// c is a control) and stored. *s is read back from the files either way; sec, cpu
// and tok say what it cost when it was made.
static int get_song(Store *st, const Cond *c, int i, refrain_song *s, double *sec, double *cpu, double *tok) {
    const AblateOpts *o = st->o;
    const Model *md = &st->models[c->model];
    uint64_t seed = o->seed + (uint64_t)i, from_seed = o->seed + (uint64_t)((i + 1) % o->songs);
    int other = c->kind == C_OTHER, nomem = c->kind == C_NONE;
    char paths[4][PATH_MAX], settings[8192], rs[64] = "", from[4096] = "-0";   // "-0": as songs stored before the control had it
    song_paths(paths, md->dir, c->key, seed);
    // said only when not 1 (a song stored before the knob existed is the same song)
    if (c->rs != 1.0f) snprintf(rs, sizeof rs, "repeat_strength %.9g\n", c->rs);
    if (other) snprintf(from, sizeof from, "memory-seed%llu", (unsigned long long)from_seed);
    if (c->kind == C_OTHERS) {
        int n = snprintf(from, sizeof from, "per-section-seeds");
        for (int k = 1; k < st->n_sections && n < (int)sizeof from - 24; k++)
            n += snprintf(from + n, sizeof from - n, " %llu", (unsigned long long)(o->seed + (uint64_t)others_song(i, k, o->songs)));
    }
    snprintf(settings, sizeof settings, "%skey %s\nseed %llu\nno_memory %d\nmemory_guidance %.9g\nmemory_from %s\n%s---\n",
             st->base, c->key, (unsigned long long)seed, nomem, c->mg, from, rs);
    char *have = slurp(paths[3]);
    if (have && !strncmp(have, settings, strlen(settings))) {
        long tokens = -1;
        int nsec = 0;
        if (sscanf(have + strlen(settings), "seconds %lf\nmemory_tokens %ld\nsections %d", sec, &tokens, &nsec) == 3 &&
            nsec > 0 && load_stored(s, paths) == 0) {
            *tok = (double)tokens / nsec;
            const char *cl = strstr(have + strlen(settings), "\ncpu_seconds ");
            if (!cl || sscanf(cl, "\ncpu_seconds %lf", cpu) != 1) *cpu = NAN;
            free(have);
            st->counts->reused++;
            return 0;
        }
        err_clear();
    }
    free(have);
    // generate it
    if (!st->m || st->m_index != c->model) {
        refrain_model_free(st->m);
        refrain_model_params mp = refrain_model_default_params();
        mp.denoiser = md->path;
        mp.autoencoder = st->ae;
        char err[1024];
        st->m = refrain_model_load(&mp, err, sizeof err);
        if (!st->m) return err_set("%s", err);
        st->m_index = c->model;
    }
    Memories mm;
    if (memories_load(&mm, st, c, i, st->n_sections)) return -1;
    ReportProgress pr = {"ablate", c->name, i, o->songs};
    refrain_generate_params gp = report_song_params(o->form, o->style, seed, o->steps, o->sampler, o->schedule, o->cfg,
                                                    c->mg, o->vocoder_iters, &pr);
    gp.bpm = o->bpm;
    gp.no_memory = nomem;
    gp.repeat_strength = c->rs;
    gp.memory_from = other ? mm.from[0] : NULL;
    gp.memory_from_each = c->kind == C_OTHERS ? mm.from : NULL;
    refrain_song g;
    char err[1024];
    double t0 = now_seconds(), c0 = cpu_seconds();
    int rc = refrain_generate(st->m, &gp, &g, err, sizeof err);
    double wall = now_seconds() - t0, ct = cpu_seconds() - c0;
    memories_free(&mm);
    if (rc) return err_set("ablate: %s, song %d (seed %llu): %s", c->name, i + 1, (unsigned long long)seed, err);
    // store it: every file or none
    OutTx tx;
    outtx_begin(&tx);
    const char *tmp;
    FILE *f;
    SongForm form = refrain_song_form(&g);
    rc = !(tmp = outtx_add(&tx, paths[0])) || audio_write(tmp, g.audio, g.n_samples, g.sample_rate, 1) ||
         !(tmp = outtx_add(&tx, paths[1])) || latents_write(tmp, g.latents, g.n_latent, g.z, g.n_frames) ||
         !(f = outtx_fopen(&tx, paths[2])) || (timeline_write(f, &form) && !ferror(f)) ||
         !(f = outtx_fopen(&tx, paths[3]));
    if (!rc) fprintf(f, "%sseconds %.6f\nmemory_tokens %ld\nsections %d\ncpu_seconds %.6f\n", settings, wall, g.memory_tokens,
                     g.n_sections, ct);
    if (!rc) rc = outtx_commit(&tx);
    else outtx_abort(&tx);
    song_form_free(&form);
    *sec = wall;
    *cpu = ct;
    *tok = g.n_sections ? (double)g.memory_tokens / g.n_sections : 0;
    refrain_song_free(&g);
    if (rc) return -1;
    st->counts->generated++;
    return load_stored(s, paths);
}

static void cond_alloc(Cond *c, int N, int z) {
    c->res = callocCheck(N, sizeof *c->res);
    c->sec = callocCheck(N, sizeof(double));
    c->cpu = callocCheck(N, sizeof(double));
    c->tok = callocCheck(N, sizeof(double));
    c->gap = callocCheck(N, sizeof(double));
    c->auc = callocCheck(N, sizeof(double));
    c->si = callocCheck(N, sizeof(double));
    eval_set_init(&c->q, c->name, z);
}
static void cond_free(Cond *c, int N) {
    for (int i = 0; i < N && c->res; i++) structure_result_free(&c->res[i]);
    free(c->res); free(c->sec); free(c->cpu); free(c->tok); free(c->gap); free(c->auc); free(c->si);
    eval_set_free(&c->q);
    structure_summary_free(&c->sum);
    song_form_free(&c->form0);
}

// Every song of condition c: made or reused, measured, its features added.
static int run_condition(Store *st, Cond *c) {
    const AblateOpts *o = st->o;
    for (int i = 0; i < o->songs; i++) {
        progress("ablate: %s, song %d/%d", c->name, i + 1, o->songs);
        refrain_song s;
        if (get_song(st, c, i, &s, &c->sec[i], &c->cpu[i], &c->tok[i])) return -1;
        SongForm form = refrain_song_form(&s);
        StructureOpts so;
        structure_defaults(&so);
        so.keep_ssm = i == 0 && (c->kind == C_MEMORY || c->kind == C_NONE);   // the side-by-side picture
        int rc = structure_measure_audio(&c->res[i], s.audio, s.n_samples, &form, &so);
        if (!rc) rc = latent_window_features(&c->q.f[QUAL_LATENT], i, s.latents, s.n_latent, s.z, &form);
        if (!rc) rc = mel_window_features(&c->q.f[QUAL_MEL], i, s.audio, s.n_samples, &form);
        c->q.songs++;
        c->gap[i] = c->res[i].gap[SIM_COMBINED];
        c->auc[i] = c->res[i].auc[SIM_COMBINED];
        c->si[i] = c->res[i].si[SI_MID];
        if (i == 0) c->form0 = form; else song_form_free(&form);
        refrain_song_free(&s);
        if (rc) return err_set("ablate: %s, song %d: %s", c->name, i + 1, err_msg());
    }
    progress_done();
    c->measured = 1;
    return 0;
}

// ---- the report --------------------------------------------------------------------------------------
static void iv(FILE *f, StructureInterval x, const char *fmt) {
    fputc(' ', f);
    if (isnan(x.mean)) { fprintf(f, "- |"); return; }
    fprintf(f, fmt, x.mean);
    if (!isnan(x.lo)) { fprintf(f, " ["); fprintf(f, fmt, x.lo); fprintf(f, ", "); fprintf(f, fmt, x.hi); fputc(']', f); }
    fprintf(f, " |");
}

static int all_finite(const double *x, int n) {
    for (int i = 0; i < n; i++) if (!isfinite(x[i])) return 0;
    return n > 0;
}

static double mean_of(const double *x, int n) {
    double s = 0;
    int m = 0;
    for (int i = 0; i < n; i++) if (isfinite(x[i])) { s += x[i]; m++; }
    return m ? s / m : NAN;
}

// " 0.412 [0.301, 0.522]" into buf.
static void iv_text(char *buf, size_t cap, StructureInterval x, const char *fmt) {
    char a[32], b[32], c[32];
    if (isnan(x.mean)) { snprintf(buf, cap, "- (no value)"); return; }
    snprintf(a, sizeof a, fmt, x.mean);
    if (isnan(x.lo)) { snprintf(buf, cap, "%s", a); return; }
    snprintf(b, sizeof b, fmt, x.lo);
    snprintf(c, sizeof c, fmt, x.hi);
    snprintf(buf, cap, "%s [%s, %s]", a, b, c);
}

// A target line's verdict: the point against the line, and whether the interval
// lies wholly on the same side.
static const char *verdict(StructureInterval x, double line, int at_least) {
    if (isnan(x.mean)) return "no value";
    int met = at_least ? x.mean >= line : x.mean <= line;
    if (isnan(x.lo)) return met ? "met (no interval)" : "not met (no interval)";
    int all = at_least ? x.lo >= line : x.hi <= line, none = at_least ? x.hi < line : x.lo > line;
    return met ? (all ? "met, interval too" : "met, interval straddles the line")
               : (none ? "not met, interval too" : "not met, interval straddles the line");
}

static int plot_one(const char *path, const char *title, const char *xl, const char *yl, const PlotSeries *ps, int np) {
    OutTx tx;
    outtx_begin(&tx);
    const char *tmp = outtx_add(&tx, path);
    int rc = !tmp || plot_png(tmp, title, xl, yl, ps, np, 0, 0) || outtx_commit(&tx);
    if (rc) outtx_abort(&tx);
    return rc ? -1 : 0;
}

static int ssm_one(const char *path, const StructureResult *r, const SongForm *form) {
    OutTx tx;
    outtx_begin(&tx);
    const char *tmp = outtx_add(&tx, path);
    int rc = !tmp || structure_ssm_png(tmp, r, form) || outtx_commit(&tx);
    if (rc) outtx_abort(&tx);
    return rc ? -1 : 0;
}

// Pooled combined pair similarities of songs (same or different label), sorted.
static int pooled_pairs(double **out, const StructureResult *r, int n, int same) {
    int m = 0;
    for (int i = 0; i < n; i++) m += same ? r[i].n_same : r[i].n_diff;
    *out = mallocCheck(sizeof(double) * (m + 1));
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < r[i].n_pairs; p++)
            if (r[i].pairs[p].same == same && k < m) (*out)[k++] = r[i].pairs[p].sim[SIM_COMBINED];
    for (int i = 1; i < k; i++) {   // insertion sort: a few hundred values
        double v = (*out)[i];
        int j = i - 1;
        while (j >= 0 && (*out)[j] > v) { (*out)[j + 1] = (*out)[j]; j--; }
        (*out)[j + 1] = v;
    }
    return k;
}

static const Cond *cond_of_kind(const Cond *cs, int nc, int kind) {
    for (int c = 0; c < nc; c++) if (cs[c].kind == kind) return &cs[c];
    return NULL;
}

// The figures beside the report: the SSM of song 1 with and without memory, and
// the distributions of same- and different-label pair similarities.
static void figures(FILE *f, const AblateOpts *o, Cond *cs, int nc, const StructureResult *ref, int nref) {
    if (!o->figs) return;
    char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX];
    snprintf(p1, sizeof p1, "%s/ablation-ssm-memory.png", o->figs);
    snprintf(p2, sizeof p2, "%s/ablation-ssm-none.png", o->figs);
    snprintf(p3, sizeof p3, "%s/ablation-pairs.png", o->figs);
    int ok_ssm = cs[C_MEMORY].res[0].ssm && cs[C_NONE].res[0].ssm &&
                 ssm_one(p1, &cs[C_MEMORY].res[0], &cs[C_MEMORY].form0) == 0 &&
                 ssm_one(p2, &cs[C_NONE].res[0], &cs[C_NONE].form0) == 0;
    fprintf(f, "\n## Figures\n\n");
    if (ok_ssm)
        fprintf(f, "Song 1 (seed %llu): the frame self-similarity (chroma and timbre combined) with its section "
                   "boundaries, with memory (left) and without (right):\n\n![with memory](ablation-ssm-memory.png) "
                   "![without memory](ablation-ssm-none.png)\n\n",
                (unsigned long long)o->seed);
    PlotSeries ps[10];
    double *v[10], *x[10];
    int np = 0;
    const char *names[5] = {"memory", "no memory", "other song's memory", "other songs' memory", "real songs"};
    const Cond *oths = cond_of_kind(cs, nc, C_OTHERS);
    for (int c = 0; c < 5; c++)
        for (int same = 1; same >= 0; same--) {
            const StructureResult *r = c < 3 ? cs[c].res : c == 3 ? oths->res : ref;
            int n = c < 4 ? o->songs : nref;
            int k = pooled_pairs(&v[np], r, n, same);
            x[np] = mallocCheck(sizeof(double) * (k + 1));
            for (int i = 0; i < k; i++) x[np][i] = k > 1 ? (double)i / (k - 1) : 0.5;
            static char nm[10][64];
            snprintf(nm[np], sizeof nm[np], "%s: %s label", names[c], same ? "same" : "different");
            ps[np] = (PlotSeries){nm[np], x[np], v[np], k};
            np++;
        }
    int drawn = 0, keep = 0;
    for (int i = 0; i < np; i++) if (ps[i].n > 0) ps[keep++] = ps[i];
    if (keep && plot_one(p3, "section pair similarity, sorted", "quantile over pairs", "combined similarity", ps, keep) == 0)
        drawn = 1;
    if (drawn)
        fprintf(f, "Same-label and different-label section pair similarities (combined, best alignment within "
                   "+-2 s), pooled over songs and sorted (each curve is a quantile function: a curve higher up holds "
                   "more similar pairs). Structure shows as the same-label curve lying above the different-label one:\n\n"
                   "![pair similarity distributions](ablation-pairs.png)\n");
    for (int i = 0; i < np; i++) { free(v[i]); free(x[i]); }
}

// The target lines of issue 14 (the combined gap), the paired differences, the
// sentence, the tables.
typedef struct {
    StructureInterval mem_real, none_mem, other_none, others_none, mem_none;
} Targets;

static void write_report(FILE *f, const AblateOpts *o, const Model *models, int nmodels, const char *ae, uint64_t ah,
                         Cond *cs, int nc, const StructureSummary *refsum, const StructureResult *ref, int nref,
                         const EvalSet *qref, const EvalReference *qr, const AblateCounts *counts, double wall) {
    const int N = o->songs;
    const Cond *mem = &cs[C_MEMORY], *none = &cs[C_NONE], *oth = &cs[C_OTHER], *oths = cond_of_kind(cs, nc, C_OTHERS);
    int io = (int)(oths - cs);
    double *rgap = mallocCheck(sizeof(double) * (nref + 1));
    for (int i = 0; i < nref; i++) rgap[i] = ref[i].gap[SIM_COMBINED];
    Targets t;
    t.mem_real = ablate_ratio(mem->gap, N, rgap, nref, o->boot, o->seed + 11);
    t.none_mem = ablate_paired_ratio(none->gap, mem->gap, N, o->boot, o->seed + 12);
    // the same draws as the paired-differences table's rows (seed + 31 + the condition's index, 3 per measure)
    t.other_none = ablate_paired_difference(oth->gap, none->gap, N, o->boot, o->seed + 31 + 3 * C_OTHER);
    t.mem_none = ablate_paired_difference(mem->gap, none->gap, N, o->boot, o->seed + 31 + 3 * C_MEMORY);
    t.others_none = ablate_paired_difference(oths->gap, none->gap, N, o->boot, o->seed + 31 + 3 * io);
    free(rgap);
    fprintf(f, "# Ablation: what the section memory buys\n\nWritten by `refrain ablate`.");
    if (o->note) fprintf(f, " %s", o->note);
    fprintf(f, "\n\nDenoiser `%s` (FNV-1a-64 %016llx; %s)", models[0].path, (unsigned long long)models[0].hash, models[0].desc);
    for (int m = 1; m < nmodels; m++)
        fprintf(f, "; compared denoiser `%s` (FNV-1a-64 %016llx; %s)", models[m].path, (unsigned long long)models[m].hash,
                models[m].desc);
    fprintf(f, "; autoencoder `%s` (FNV-1a-64 %016llx).\n\n", ae, (unsigned long long)ah);
    static const char *const style_name[4] = {"none", "mma", "module", "recording"};
    fprintf(f, "To reproduce: `refrain --threads %d ablate --form \"%s\" --songs %d --seed %llu --bpm %g --style %s "
               "--steps %d --sampler %s --schedule %s --cfg %g --memory-guidance %g --memory-guidance-sweep ",
            nn_threads(), o->form, N, (unsigned long long)o->seed, o->bpm, style_name[o->style & 3], o->steps, sampler_name(o->sampler),
            schedule_name(o->schedule), o->cfg, o->mem_guidance);
    for (int i = 0; i < o->n_sweep; i++) fprintf(f, "%s%g", i ? "," : "", o->mg_sweep[i]);
    if (!o->n_sweep) fprintf(f, "none");
    fprintf(f, " --repeat-strength %g --repeat-strength-sweep ", o->repeat_strength);
    for (int i = 0; i < o->n_rs_sweep; i++) fprintf(f, "%s%g", i ? "," : "", o->rs_sweep[i]);
    if (!o->n_rs_sweep) fprintf(f, "none");
    fprintf(f, " --vocoder-iters %d --boot %d --data %s --work %s", o->vocoder_iters, o->boot, o->data, o->work);
    for (int m = 0; m < nmodels; m++) fprintf(f, " --model %s", models[m].path);
    fprintf(f, " --ae %s -o ablation.md`. %d songs generated and %d reused from `%s` in this run; %.0f s wall.\n\n",
            ae, counts->generated, counts->reused, models[0].dir, wall);

    // the sentence, from the numbers
    char gm[96], gn[96], go[96], dm[96], dot[96], rr[96], gr[96], gos[96], dos[96];
    iv_text(gm, sizeof gm, mem->sum.gap[SIM_COMBINED], "%.3f");
    iv_text(gn, sizeof gn, none->sum.gap[SIM_COMBINED], "%.3f");
    iv_text(go, sizeof go, oth->sum.gap[SIM_COMBINED], "%.3f");
    iv_text(dm, sizeof dm, t.mem_none, "%+.3f");
    iv_text(dot, sizeof dot, t.other_none, "%+.3f");
    iv_text(gos, sizeof gos, oths->sum.gap[SIM_COMBINED], "%.3f");
    iv_text(dos, sizeof dos, t.others_none, "%+.3f");
    iv_text(rr, sizeof rr, t.mem_real, "%.2f");
    iv_text(gr, sizeof gr, refsum->gap[SIM_COMBINED], "%.3f");
    // the cost: CPU seconds when every song of both has them (a busy machine changes them less than wall time)
    int use_cpu = all_finite(mem->cpu, N) && all_finite(none->cpu, N);
    double sm = mean_of(use_cpu ? mem->cpu : mem->sec, N), sn = mean_of(use_cpu ? none->cpu : none->sec, N);
    double tk = mean_of(mem->tok, N);
    int sig = !isnan(t.mem_none.lo) && (t.mem_none.lo > 0 || t.mem_none.hi < 0);
    fprintf(f, "## In one paragraph\n\nWith memory, same-label sections of the generated songs are more alike than "
               "different-label ones by a gap of %s (combined chroma and timbre similarity), against %s without memory: "
               "the memory %s the gap by %s, paired over the %d songs (same seeds)%s. That is %s of real songs' gap (%s, "
               "%d validation MMA songs and modules). Another song's memory gives %s (%s against none)%s. With each "
               "section remembering a different other song, the gap is %s (%s against none)%s. It costs %.1f "
               "memory tokens per section on average and %.1f %s per song against %.1f without memory (%+.0f%%)%s.\n\n",
            gm, gn, !isnan(t.mem_none.mean) && t.mem_none.mean < 0 ? "lowers" : "raises", dm, t.mem_none.n,
            isnan(t.mem_none.lo) ? "" : sig ? ", an interval that excludes 0" : ", an interval that includes 0: these songs do not show an effect",
            rr, gr, nref, go, dot,
            isnan(t.other_none.mean) ? "" : t.other_none.mean <= 0 ? ", no better than none, as a control should be"
                                                                    : ", better than none: the memory's help is not (only) its content",
            gos, dos,
            isnan(t.others_none.mean) ? "" : t.others_none.mean <= 0 ? ", no better than none" : ", better than none",
            tk, sm, use_cpu ? "CPU s" : "s", sn, sn > 0 ? 100 * (sm - sn) / sn : NAN,
            use_cpu ? "" : " (wall time when each song was made, which the machine's load changes: read it with the "
                           "quiet-machine timings of bench-generate.md)");

    fprintf(f, "## The targets (issue 14)\n\nThe same-label minus different-label gap of the combined similarity. "
               "Ratios of means; brackets: 95%% bootstrap intervals (%d resamples; over songs, paired where the songs "
               "share seeds, each set resampled on its own against the real songs).\n\n"
               "| line | value | target | verdict |\n| --- | ---: | --- | --- |\n", o->boot);
    char b[128];
    iv_text(b, sizeof b, t.mem_real, "%.3f");
    fprintf(f, "| with-memory gap / real songs' gap | %s | >= 0.80 | %s |\n", b, verdict(t.mem_real, 0.8, 1));
    iv_text(b, sizeof b, t.none_mem, "%.3f");
    fprintf(f, "| no-memory gap / with-memory gap | %s | <= 0.50 | %s |\n", b, verdict(t.none_mem, 0.5, 0));
    iv_text(b, sizeof b, t.other_none, "%+.3f");
    fprintf(f, "| other song's memory gap - no-memory gap | %s | <= 0 (no better than none) | %s |\n", b,
            verdict(t.other_none, 0, 0));
    iv_text(b, sizeof b, t.others_none, "%+.3f");
    fprintf(f, "| other songs' memory (one per section) gap - no-memory gap | %s | <= 0 (no better than none) | %s |\n\n",
            b, verdict(t.others_none, 0, 0));

    fprintf(f, "## Structure\n\nMeasured from each song's rendered audio against its timeline (data/structure.h, "
               "`refrain structure`): chroma and timbre section similarity at the best lag within +-2 s, the gap "
               "(same-label minus different-label mean) and the AUC of telling same from different; MusDr's "
               "structureness SI. Means over songs with 95%% bootstrap intervals.\n\n"
               "| condition | songs | gap (combined) | gap (chroma) | gap (timbre) | AUC (combined) | SI(3,8) | SI(8,15) | SI(15,128) |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int c = -1; c < nc; c++) {
        const StructureSummary *s = c < 0 ? refsum : &cs[cs[c].alias >= 0 ? cs[c].alias : c].sum;
        fprintf(f, "| %s | %d |", c < 0 ? "real songs (validation MMA + modules)" : cs[c].name, s->n_songs);
        iv(f, s->gap[SIM_COMBINED], "%.3f"); iv(f, s->gap[SIM_CHROMA], "%.3f"); iv(f, s->gap[SIM_TIMBRE], "%.3f");
        iv(f, s->auc[SIM_COMBINED], "%.3f");
        for (int k = 0; k < SI_KINDS; k++) iv(f, s->si[k], "%.3f");
        fputc('\n', f);
    }
    fprintf(f, "\n## Paired differences\n\nEach song against the same seed's song without memory (differences of "
               "per-song values, averaged over the songs where both have one).\n\n"
               "| difference | songs | gap (combined) | AUC (combined) | SI(8,15) |\n| --- | ---: | ---: | ---: | ---: |\n");
    for (int c = 0; c < nc; c++) {
        if (c == C_NONE || cs[c].kind == C_MODEL) continue;
        int xi = cs[c].alias >= 0 ? cs[c].alias : c;   // an alias: the same songs, the same draws
        const Cond *x = &cs[xi];
        StructureInterval dg = ablate_paired_difference(x->gap, none->gap, N, o->boot, o->seed + 31 + 3 * xi);
        StructureInterval da = ablate_paired_difference(x->auc, none->auc, N, o->boot, o->seed + 32 + 3 * xi);
        StructureInterval ds = ablate_paired_difference(x->si, none->si, N, o->boot, o->seed + 33 + 3 * xi);
        fprintf(f, "| %s - no memory | %d |", cs[c].name, dg.n);
        iv(f, dg, "%+.3f"); iv(f, da, "%+.3f"); iv(f, ds, "%+.3f");
        fputc('\n', f);
    }
    fprintf(f, "\n## Quality and cost\n\nFréchet distance and KAD against every validation song (%d songs, %ld "
               "windows), as `refrain generate-eval` measures them: (a) the latents, (b) the log-mel of the audio "
               "analysed again, in 1-second windows of each section (whole songs); KAD bandwidths (a) %.3f, (b) %.3f; "
               "basic bootstrap intervals over songs, which may lie below the estimate (FD leans high with few songs). "
               "Seconds: wall time of each song (all stages) when it was made, at %d threads on a machine that may "
               "have been busy; memory tokens: the tokens a section's memory held, averaged over the song's sections "
               "(the first holds none); CPU seconds: all threads' CPU time of each song (- where a song was stored "
               "before they were recorded).\n\n"
               "| condition | songs | windows | FD (a) latents | KAD (a) | FD (b) log-mel | KAD (b) | s per song | CPU s per song | memory tokens per section |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
            qref->songs, qref->f[QUAL_LATENT].n, qr->bw[QUAL_LATENT], qr->bw[QUAL_MEL], nn_threads());
    for (int c = 0; c < nc; c++) {
        const Cond *x = &cs[cs[c].alias >= 0 ? cs[c].alias : c];
        fprintf(f, "| %s | %d | %ld |", cs[c].name, x->q.songs, x->q.f[QUAL_LATENT].n);
        eval_distance_cells(f, &x->q);
        fprintf(f, " %.1f |", mean_of(x->sec, N));
        if (all_finite(x->cpu, N)) fprintf(f, " %.1f |", mean_of(x->cpu, N));
        else fprintf(f, " - |");
        fprintf(f, " %.1f |\n", mean_of(x->tok, N));
    }
    figures(f, o, cs, nc, ref, nref);
    fprintf(f, "\n## The songs\n\nForm `%s` at %g BPM, style %s; song i (from 1) has seed %llu + i - 1; the other "
               "song's memory of song i is song i + 1 of the memory condition (song 1's for the last); in the other "
               "songs' memory, section k (from 0) of song i remembers song i + 1 + ((k - 1) mod (N - 1)) (mod N) of the "
               "memory condition: a different song for each section, never song i. %s, %d steps, "
               "schedule %s, cfg %g, memory guidance %g, repeat strength %g (without memory: 1), %d Griffin-Lim iterations.\n",
            o->form, o->bpm, style_name[o->style & 3], (unsigned long long)o->seed, sampler_name(o->sampler), o->steps,
            schedule_name(o->schedule), o->cfg, o->mem_guidance, o->repeat_strength, o->vocoder_iters);
}

static int check_opts(const AblateOpts *o) {
    if (!o->form || !*o->form) return err_set("ablate: no form given");
    if (o->songs < 2 || o->songs > 10000) return err_set("ablate: %d songs; allowed 2..10000 (the control takes another song's memory)", o->songs);
    if (o->n_sweep < 0 || o->n_sweep > ABLATE_MAX_SWEEP) return err_set("ablate: %d guidance settings; at most %d", o->n_sweep, ABLATE_MAX_SWEEP);
    for (int i = 0; i < o->n_sweep; i++)
        if (!isfinite(o->mg_sweep[i])) return err_set("ablate: a memory guidance that is not a number");
    if (o->n_rs_sweep < 0 || o->n_rs_sweep > ABLATE_MAX_SWEEP) return err_set("ablate: %d repeat strengths; at most %d", o->n_rs_sweep, ABLATE_MAX_SWEEP);
    for (int i = 0; i < o->n_rs_sweep; i++)
        if (!(o->rs_sweep[i] > 0 && o->rs_sweep[i] <= 1)) return err_set("ablate: repeat strength %g; allowed above 0, at most 1", o->rs_sweep[i]);
    if (!(o->repeat_strength > 0 && o->repeat_strength <= 1)) return err_set("ablate: repeat strength %g; allowed above 0, at most 1", o->repeat_strength);
    if (o->n_models < 0 || o->n_models > ABLATE_MAX_MODELS) return err_set("ablate: %d compared models; at most %d", o->n_models, ABLATE_MAX_MODELS);
    if (o->steps < 1 || o->steps > 1000) return err_set("ablate: steps %d; allowed 1..1000", o->steps);
    if (o->sampler < 0 || o->sampler >= SAMPLER_COUNT) return err_set("ablate: unknown sampler %d", o->sampler);
    if (o->schedule < 0 || o->schedule >= SCHED_COUNT) return err_set("ablate: unknown schedule %d", o->schedule);
    if (o->boot < 0) return err_set("ablate: %d bootstrap resamples", o->boot);
    if (!o->data || !o->work) return err_set("ablate: no corpus or work folder given");
    return 0;
}

int ablate_run(FILE *f, const AblateOpts *o, AblateCounts *counts) {
    AblateCounts dummy;
    if (!counts) counts = &dummy;
    memset(counts, 0, sizeof *counts);
    if (check_opts(o)) return -1;
    double t0 = now_seconds();
    char dpath[PATH_MAX], apath[PATH_MAX];
    const char *dp = model_file(o->model, "denoiser.rfc", 0, dpath, sizeof dpath), *aep;
    if (!dp || !(aep = model_file(o->ae, "ae.rfc", 0, apath, sizeof apath))) return -1;
    int nmodels = 1 + o->n_models;
    Model *models = callocCheck(nmodels, sizeof *models);
    models[0].path = dp;
    for (int m = 0; m < o->n_models; m++) models[1 + m].path = o->models[m];
    Store st;
    memset(&st, 0, sizeof st);
    st.o = o; st.counts = counts; st.models = models; st.ae = aep; st.m_index = -1;
    int rc = -1, nc = 0, nref = 0;
    Cond *cs = NULL;
    StructureResult *ref = NULL;
    CorpusSong *meta = NULL;
    StructureSummary refsum;
    memset(&refsum, 0, sizeof refsum);
    EvalSet qref;
    memset(&qref, 0, sizeof qref);
    EvalReference qr;
    memset(&qr, 0, sizeof qr);
    Ae ae;
    memset(&ae, 0, sizeof ae);
    int ae_loaded = 0;
    if (file_hash(aep, &st.ae_hash)) goto done;
    for (int m = 0; m < nmodels; m++) {
        Denoiser d;
        if (file_hash(models[m].path, &models[m].hash) || denoiser_load(&d, models[m].path)) goto done;
        const DenoiserConfig *dc = &d.cfg;
        models[m].k = dc->mem_k;
        snprintf(models[m].desc, sizeof models[m].desc, "%ld parameters, width %d, depth %d, K %d%s",
                 denoiser_param_count(&d), dc->width, dc->depth, dc->mem_k, dc->mem_pool ? " (attention pooling)" : "");
        denoiser_free(&d);
        snprintf(models[m].dir, sizeof models[m].dir, "%s/%016llx", o->work, (unsigned long long)models[m].hash);
    }
    snprintf(st.base, sizeof st.base,
             "refrain ablate song 1\nform %s\nbpm %.9g\nstyle %d\nsteps %d\nsampler %s\nschedule %s\ncfg %.9g\n"
             "vocoder_iters %d\nautoencoder %016llx\n",
             o->form, o->bpm, o->style, o->steps, sampler_name(o->sampler), schedule_name(o->schedule), o->cfg,
             o->vocoder_iters, (unsigned long long)st.ae_hash);
    {   // the form's sections (the per-section control's memories); a bad form fails here
        FormOpts fo;
        form_opts_default(&fo);
        fo.bpm = o->bpm > 0 ? o->bpm : 120;
        SongForm form;
        if (form_parse(&form, o->form, &fo)) goto done;
        st.n_sections = form.n;
        song_form_free(&form);
    }
    // the references first: a missing corpus fails before any song is made
    StructureOpts so;
    structure_defaults(&so);
    if (structure_corpus(&ref, &meta, &nref, o->data, SPLIT_VALID, (1u << SRC_MMA) | (1u << SRC_MODULE), 0, &so)) goto done;
    structure_summarize(&refsum, ref, nref, o->boot, o->seed);
    if (ae_load(&ae, aep, NULL)) goto done;
    ae_loaded = 1;
    eval_set_init(&qref, "reference: validation songs", ae.cfg.z);
    if (eval_reference_set(&qref, &ae, o->data, 0) || eval_reference_prepare(&qr, &qref)) goto done;
    for (int m = 0; m < nmodels; m++) {   // the song store, once the references are in
        char probe[PATH_MAX + 8];
        snprintf(probe, sizeof probe, "%s/x", models[m].dir);
        if (make_parents(probe)) goto done;
    }
    // the conditions
    cs = callocCheck(4 + o->n_sweep + o->n_models + o->n_rs_sweep, sizeof *cs);
    // a repeat strength below 1 keeps its songs apart from plain generation's
    char sfx[32] = "";
    if (o->repeat_strength != 1.0f) snprintf(sfx, sizeof sfx, "-rs%g", o->repeat_strength);
    for (int k = 0; k < 3; k++) {
        Cond *c = &cs[nc++];
        c->kind = k; c->mg = o->mem_guidance; c->alias = -1;
        c->rs = k == C_NONE ? 1.0f : o->repeat_strength;
        snprintf(c->key, sizeof c->key, "%s%s", k == C_MEMORY ? "memory" : k == C_NONE ? "none" : "other", k == C_NONE ? "" : sfx);
        if (k == C_MEMORY && o->repeat_strength != 1.0f)
            snprintf(c->name, sizeof c->name, "memory (K %d), repeat strength %g", models[0].k, o->repeat_strength);
        else if (k == C_MEMORY) snprintf(c->name, sizeof c->name, "memory (K %d)", models[0].k);
        else snprintf(c->name, sizeof c->name, "%s", k == C_NONE ? "no memory" : "other song's memory");
    }
    for (int i = 0; i < o->n_sweep; i++) {
        Cond *c = &cs[nc++];
        c->kind = C_SWEEP; c->mg = o->mg_sweep[i]; c->alias = -1; c->rs = o->repeat_strength;
        snprintf(c->key, sizeof c->key, "mg%g%s", c->mg, sfx);
        snprintf(c->name, sizeof c->name, "memory guidance %g", c->mg);
        if (c->mg == o->mem_guidance) c->alias = C_MEMORY;
        for (int j = 3; j < nc - 1; j++) if (c->alias < 0 && cs[j].kind == C_SWEEP && cs[j].mg == c->mg) c->alias = j;
    }
    for (int m = 1; m < nmodels; m++) {
        Cond *c = &cs[nc++];
        c->kind = C_MODEL; c->mg = o->mem_guidance; c->model = m; c->alias = -1; c->rs = o->repeat_strength;
        snprintf(c->key, sizeof c->key, "memory%s", sfx);
        const char *base = strrchr(models[m].path, '/');
        snprintf(c->name, sizeof c->name, "memory, K %d (%.60s)", models[m].k, base ? base + 1 : models[m].path);
    }
    for (int i = 0; i < o->n_rs_sweep; i++) {
        Cond *c = &cs[nc++];
        c->kind = C_REPEAT; c->mg = o->mem_guidance; c->rs = o->rs_sweep[i]; c->alias = -1;
        snprintf(c->key, sizeof c->key, "%s", "memory");
        if (c->rs != 1.0f) snprintf(c->key, sizeof c->key, "memory-rs%g", c->rs);
        snprintf(c->name, sizeof c->name, "repeat strength %g", c->rs);
        if (c->rs == o->repeat_strength) c->alias = C_MEMORY;
        for (int j = 3; j < nc - 1; j++) if (c->alias < 0 && cs[j].kind == C_REPEAT && cs[j].rs == c->rs) c->alias = j;
    }
    {   // the control "other songs' memory", last
        Cond *c = &cs[nc++];
        c->kind = C_OTHERS; c->mg = o->mem_guidance; c->alias = -1; c->rs = o->repeat_strength;
        snprintf(c->key, sizeof c->key, "others%s", sfx);
        snprintf(c->name, sizeof c->name, "other songs' memory (one per section)");
    }
    st.memory_key = cs[C_MEMORY].key;
    for (int c = 0; c < nc; c++) {
        if (cs[c].alias >= 0) continue;
        cond_alloc(&cs[c], o->songs, ae.cfg.z);
        if (run_condition(&st, &cs[c])) goto done;
        structure_summarize(&cs[c].sum, cs[c].res, o->songs, o->boot, o->seed);
        progress("ablate: distances, %s", cs[c].name);
        if (eval_compare(&cs[c].q, &qr, o->boot, o->seed + 101ull * (uint64_t)(c + 1))) goto done;
    }
    progress_done();
    refrain_model_free(st.m);
    st.m = NULL;
    write_report(f, o, models, nmodels, aep, st.ae_hash, cs, nc, &refsum, ref, nref, &qref, &qr, counts, now_seconds() - t0);
    rc = ferror(f) ? err_set("ablate: cannot write the report") : 0;
done:
    progress_done();
    refrain_model_free(st.m);
    for (int c = 0; c < nc; c++) if (cs[c].alias < 0) cond_free(&cs[c], o->songs);
    free(cs);
    for (int i = 0; i < nref; i++) { structure_result_free(&ref[i]); corpus_song_free(&meta[i]); }
    free(ref); free(meta);
    structure_summary_free(&refsum);
    eval_reference_free(&qr);
    eval_set_free(&qref);
    if (ae_loaded) ae_free(&ae);
    free(models);
    return rc;
}
