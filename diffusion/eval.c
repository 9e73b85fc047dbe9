// eval.c — the denoiser's evaluation report (notebooks_exports/denoiser.md):
// the validation flow loss at fixed t with fixed noise, on every section of
// every validation song, under four conditions (full; memory removed; the
// memory of a different song of the same source; labels removed), split by
// source and by repeats (the label occurred earlier in the song) against
// first occurrences, with 95% bootstrap intervals over songs for what the
// memory buys; the same for each extra model given (other K, uncompressed),
// beside its cost; and the training curves as PNG.
// It owns no network (denoiser.c) and no examples (examples.c).
#include "diffusion/diffusion.h"
#include "audio/audio.h"
#include "data/corpus.h"
#include "util/stats.h"
#include "util/util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_COND 4
#define N_T 5
static const float EVAL_T[N_T] = {0.1f, 0.3f, 0.5f, 0.7f, 0.9f};
#define BOOT 2000

void denoiser_eval_defaults(DenoiserEvalOpts *o) {
    memset(o, 0, sizeof *o);
    o->model = NULL;   // the shipped denoiser.rfc and ae.rfc, found by model_file
    o->data = ".cache/corpus";
    o->ae = NULL;
    o->latents = ".cache/latents/latents.rfl";
    o->max_sections = 16;
    o->seed = RNG_DEFAULT_SEED;
}

// One evaluated section: its song, source, whether it repeats, and its loss
// under each condition: lt at each of the N_T times, loss their mean.
typedef struct {
    int song, source, repeat;
    double loss[N_COND];
    double lt[N_COND][N_T];
} EvalRow;

// Another validation song of the same source (the next one in order), for the control.
static const LatentSong *other_song(const LatentCorpus *va, int i) {
    for (int k = 1; k < va->n; k++) {
        const LatentSong *s = &va->songs[(i + k) % va->n];
        if (s->source == va->songs[i].source && s->n_sections > 1) return s;
    }
    return NULL;
}

static int eval_model(const Denoiser *m, const LatentCorpus *va, const DenoiserEvalOpts *o, EvalRow **rows_out,
                      int *nrows, double *ms_per_example, double *tokens_mean) {
    int cap = 0;
    for (int i = 0; i < va->n; i++) cap += va->songs[i].n_sections < o->max_sections ? va->songs[i].n_sections : o->max_sections;
    EvalRow *rows = callocCheck(cap + 1, sizeof *rows);
    int B = 16, T = denoiser_seq(&m->cfg), S = m->cfg.mem_tokens;
    DenoiserBatch b;
    denoiser_batch_alloc(&b, &m->cfg, B, T, S);
    b.nt = T; b.ns = S;
    DenoiserActs a;
    denoiser_acts_alloc(&a, m, B, T, S, 0);
    // all (section, condition, t) examples in a fixed order, B at a time
    long total = (long)cap * N_COND * N_T, done = 0, tok = 0, tok_n = 0;
    double tfw = 0, t0 = now_seconds();
    int n = 0;
    for (int i = 0; i < va->n; i++) {
        const LatentSong *s = &va->songs[i];
        const LatentSong *other = other_song(va, i);
        for (int k = 0; k < s->n_sections && k < o->max_sections; k++, n++) {
            EvalRow *r = &rows[n];
            r->song = i; r->source = s->source; r->repeat = s->sec[k].occurrence > 1;
            for (int c = 0; c < N_COND; c++) {
                b.nb = N_T;
                for (int j = 0; j < N_T; j++) {
                    ExampleSpec e = {s, k, -1, EVAL_T[j], NULL, c == MEM_NONE, c == LABELS_NONE, 0, 0};
                    if (c == MEM_OTHER) { if (other) e.mem_song = other; else e.no_mem = 1; }
                    Rng noise;   // the same noise for every condition and model
                    rng_seed(&noise, o->seed + 1000003ull * (uint64_t)i + 1009ull * (uint64_t)k + (uint64_t)j);
                    if (denoiser_fill_example(m, &b, j, &e, &noise)) goto fail;
                    if (c == MEM_FULL)
                        for (int q = 0; q < S; q++) { tok += b.mem_mask[(long)j * S + q]; }
                }
                if (c == MEM_FULL) tok_n += N_T;
                double L[N_T], tf = now_seconds();
                if (denoiser_example_losses(m, &m->params, &a, &b, L)) goto fail;
                tfw += now_seconds() - tf;
                double sum = 0;
                for (int j = 0; j < N_T; j++) { sum += L[j]; r->lt[c][j] = L[j]; }
                r->loss[c] = sum / N_T;
                done += N_T;
            }
            progress("denoiser-eval: %ld/%ld examples, %.0f s", done, total, now_seconds() - t0);
        }
    }
    progress_done();
    *rows_out = rows;
    *nrows = n;
    *ms_per_example = 1e3 * tfw / (double)(done ? done : 1);
    *tokens_mean = tok_n ? (double)tok / tok_n : 0;
    denoiser_acts_free(&a, m);
    denoiser_batch_free(&b);
    return 0;
fail:
    free(rows);
    denoiser_acts_free(&a, m);
    denoiser_batch_free(&b);
    return -1;
}

// Relative gain of condition `with` over `base`: 1 - mean(with) / mean(base), over rows
// passing the filter, with a 95% bootstrap interval over songs.
typedef struct { double mean[N_COND]; double gain, lo, hi; int n, songs; } Cell;

// The gain 1 - sum(with) / sum(base) over the drawn songs (ids[idx[j]]).
typedef struct { const double *sw, *sb; const int *ids; } GainBoot;
static double gain_resample(void *ctx, const int *idx, int n) {
    const GainBoot *g = ctx;
    double a = 0, b = 0;
    for (int j = 0; j < n; j++) { int s = g->ids[idx[j]]; a += g->sw[s]; b += g->sb[s]; }
    return b > 0 ? 1 - a / b : 0;
}

// ti: the loss at EVAL_T[ti] only; -1 their mean.
static double row_loss(const EvalRow *r, int c, int ti) { return ti < 0 ? r->loss[c] : r->lt[c][ti]; }

static Cell cell_stats_t(const EvalRow *rows, int n, int source, int repeat, int with, int base, uint64_t seed,
                         int n_songs, int ti) {
    Cell c;
    memset(&c, 0, sizeof c);
    double *sw = callocCheck(n_songs, sizeof(double)), *sb = callocCheck(n_songs, sizeof(double));
    int *cnt = callocCheck(n_songs, sizeof(int));
    for (int i = 0; i < n; i++) {
        const EvalRow *r = &rows[i];
        if ((source >= 0 && r->source != source) || (repeat >= 0 && r->repeat != repeat)) continue;
        for (int k = 0; k < N_COND; k++) c.mean[k] += row_loss(r, k, ti);
        sw[r->song] += row_loss(r, with, ti); sb[r->song] += row_loss(r, base, ti); cnt[r->song]++;
        c.n++;
    }
    int *ids = callocCheck(n_songs + 1, sizeof(int));
    for (int s = 0; s < n_songs; s++) if (cnt[s]) ids[c.songs++] = s;
    if (c.n) for (int k = 0; k < N_COND; k++) c.mean[k] /= c.n;
    c.gain = c.n ? 1 - c.mean[with] / c.mean[base] : NAN;
    c.lo = c.hi = NAN;
    if (c.songs >= 2) {
        GainBoot gb = {sw, sb, ids};
        stats_bootstrap95(gain_resample, &gb, c.songs, BOOT, seed, &c.lo, &c.hi);
    }
    free(sw); free(sb); free(cnt); free(ids);
    return c;
}

static Cell cell_stats(const EvalRow *rows, int n, int source, int repeat, int with, int base, uint64_t seed,
                       int n_songs) {
    return cell_stats_t(rows, n, source, repeat, with, base, seed, n_songs, -1);
}

static void pct_ci(FILE *f, const Cell *c) {
    if (!c->n) { fprintf(f, " - |"); return; }
    if (isnan(c->lo)) fprintf(f, " %+.1f%% |", 100 * c->gain);
    else fprintf(f, " %+.1f%% [%+.1f, %+.1f] |", 100 * c->gain, 100 * c->lo, 100 * c->hi);
}

static const char *SRC_NAME[4] = {"mma", "module", "recording", "all"};

static void write_tables(FILE *f, const EvalRow *rows, int n, int n_songs, uint64_t seed) {
    fprintf(f, "| source | sections | n | songs | full | memory removed | other song's memory | labels removed "
               "| memory lowers the loss by | other memory lowers it by | labels lower it by |\n");
    fprintf(f, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int rep = 1; rep >= 0; rep--)
        for (int src = 0; src < 4; src++) {
            int s = src == 3 ? -1 : src;
            Cell mem = cell_stats(rows, n, s, rep, MEM_FULL, MEM_NONE, seed, n_songs);
            if (!mem.n) continue;
            Cell oth = cell_stats(rows, n, s, rep, MEM_OTHER, MEM_NONE, seed + 1, n_songs);
            Cell lab = cell_stats(rows, n, s, rep, MEM_FULL, LABELS_NONE, seed + 2, n_songs);
            fprintf(f, "| %s | %s | %d | %d | %.4f | %.4f | %.4f | %.4f |", SRC_NAME[src], rep ? "repeats" : "first",
                    mem.n, mem.songs, mem.mean[0], mem.mean[1], mem.mean[2], mem.mean[3]);
            pct_ci(f, &mem); pct_ci(f, &oth); pct_ci(f, &lab);
            fputc('\n', f);
        }
    // where the memory helps: its gain on repeats at each t (t = 1 is pure noise)
    fprintf(f, "\nWhere the memory helps: on repeats, how much it lowers the loss at each flow time t (t = 1 is "
               "pure noise, where only the memory and the labels can tell what to make), with the mean losses over "
               "all repeats:\n\n| t | mma | module | recording | all | full loss, all | memory removed, all |\n"
               "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int ti = 0; ti < N_T; ti++) {
        fprintf(f, "| %.1f |", EVAL_T[ti]);
        Cell all = {0};
        for (int src = 0; src < 4; src++) {
            Cell c = cell_stats_t(rows, n, src == 3 ? -1 : src, 1, MEM_FULL, MEM_NONE, seed, n_songs, ti);
            pct_ci(f, &c);
            if (src == 3) all = c;
        }
        fprintf(f, " %.4f | %.4f |\n", all.mean[MEM_FULL], all.mean[MEM_NONE]);
    }
}

// Training and validation curves from a train-diffusion log (<ckpt>.tsv).
static int plot_log(const char *log, const char *png) {
    FILE *f = fopen(log, "r");
    if (!f) return err_set("cannot open the training log '%s'", log);
    char line[4096];
    int col[5] = {-1, -1, -1, -1, -1};   // loss val_loss val_nomem val_rep val_rep_nomem
    const char *names[5] = {"loss", "val_loss", "val_nomem", "val_rep", "val_rep_nomem"};
    if (!fgets(line, sizeof line, f)) { fclose(f); return err_set("empty training log '%s'", log); }
    int k = 0;
    for (char *tok = strtok(line, "\t\n"); tok; tok = strtok(NULL, "\t\n"), k++)
        for (int j = 0; j < 5; j++) if (!strcmp(tok, names[j])) col[j] = k;
    int cap = 1024, n[5] = {0};
    double *x[5], *y[5];
    for (int j = 0; j < 5; j++) { x[j] = mallocCheck(sizeof(double) * cap); y[j] = mallocCheck(sizeof(double) * cap); }
    double smooth = -1;
    long row = 0;
    while (fgets(line, sizeof line, f)) {
        double v[32];
        int nv = 0;
        char *p = line, *end;
        while (nv < 32) { v[nv] = strtod(p, &end); if (end == p) break; nv++; p = end; if (*p == '\t') p++; }
        if (nv < 3) continue;
        row++;
        for (int j = 0; j < 5; j++) {
            if (col[j] < 0 || col[j] >= nv) continue;
            double val = v[col[j]];
            if (j == 0) { smooth = smooth < 0 ? val : 0.99 * smooth + 0.01 * val; val = smooth; if (row % 20) continue; }
            if (n[j] == cap) {
                cap *= 2;
                for (int q = 0; q < 5; q++) { x[q] = reallocCheck(x[q], sizeof(double) * cap); y[q] = reallocCheck(y[q], sizeof(double) * cap); }
            }
            x[j][n[j]] = v[0]; y[j][n[j]] = val; n[j]++;
        }
    }
    fclose(f);
    const char *leg[5] = {"train (smoothed)", "validation", "validation, memory removed", "validation repeats",
                          "validation repeats, memory removed"};
    PlotSeries ps[5];
    int np = 0;
    for (int j = 0; j < 5; j++) if (n[j]) ps[np++] = (PlotSeries){leg[j], x[j], y[j], n[j]};
    OutTx tx;   // the figure, atomically
    outtx_begin(&tx);
    const char *tmp = np ? outtx_add(&tx, png) : NULL;
    int rc = !np ? err_set("the training log '%s' has no loss columns", log)
             : !tmp || plot_png(tmp, "denoiser training", "step", "flow loss (MSE of v)", ps, np, 0, 1) ||
                       outtx_commit(&tx) ? -1 : 0;
    if (rc) outtx_abort(&tx);
    for (int j = 0; j < 5; j++) { free(x[j]); free(y[j]); }
    return rc;
}

static void valid_only(LatentCorpus *all, LatentCorpus *va) {
    memset(va, 0, sizeof *va);
    va->z = all->z;
    va->songs = callocCheck(all->n + 1, sizeof *va->songs);
    for (int i = 0; i < all->n; i++) {
        if (all->songs[i].split == SPLIT_VALID) { va->songs[va->n++] = all->songs[i]; va->hours += all->songs[i].T / COND_FRAME_RATE / 3600; }
        else { free(all->songs[i].sec); free(all->songs[i].lat); }
    }
    free(all->songs);
    memset(all, 0, sizeof *all);
}

int denoiser_eval(const DenoiserEvalOpts *given) {
    char found[2][PATH_MAX];
    DenoiserEvalOpts q = *given;   // a model NULL: the shipped one
    if (!(q.model = model_file(given->model, "denoiser.rfc", 0, found[0], sizeof found[0])) ||
        !(q.ae = model_file(given->ae, "ae.rfc", 0, found[1], sizeof found[1])))
        return -1;
    const DenoiserEvalOpts *o = &q;
    LatentCorpus all, va;
    if (latent_corpus_load(&all, o->data, o->ae, o->latents, !g_quiet)) return -1;
    valid_only(&all, &va);
    if (!va.n) { latent_corpus_free(&va); return err_set("denoiser-eval: no validation songs in %s", o->data); }
    const char *models[1 + DENOISER_EVAL_MAX_EXTRA];
    int nm = 1;
    models[0] = o->model;
    for (int i = 0; i < o->n_extra && nm < 1 + DENOISER_EVAL_MAX_EXTRA; i++) models[nm++] = o->extra[i];
    AtomicFile af;
    if (atomic_open(&af, o->report)) { latent_corpus_free(&va); return -1; }
    FILE *f = af.f;
    int rc = -1;
    fprintf(f, "# Section denoiser: evaluation\n\n");
    fprintf(f, "Written by `refrain denoiser-eval`.");
    if (o->note) fprintf(f, " %s", o->note);
    fprintf(f, "\n\nValidation split of the corpus: %d songs, %.2f h. Every section (at most %d per song) is one "
               "example, cropped from its start like the first frames `generate` makes; its flow loss (mean squared "
               "error of the predicted velocity, unit-scale latents) is averaged over t = 0.1, 0.3, 0.5, 0.7, 0.9 with "
               "the same noise under every condition and for every model. *Repeats* are sections whose label occurred "
               "earlier in the song; *first* are first occurrences. \"Memory lowers the loss by\" is 1 - full / "
               "memory removed; \"other memory\" is 1 - (another validation song of the same source as memory) / "
               "memory removed, the control, which should be near zero or below; \"labels\" is 1 - full / labels "
               "removed. Brackets: 95%% bootstrap intervals over songs (%d resamples).\n\n", va.n, va.hours,
            o->max_sections, BOOT);
    for (int mi = 0; mi < nm; mi++) {
        Denoiser m;
        if (denoiser_load(&m, models[mi])) goto done;
        uint64_t h;
        if (file_hash(models[mi], &h)) { denoiser_free(&m); goto done; }
        EvalRow *rows;
        int n;
        double ms, tokens;
        if (!g_quiet) fprintf(stderr, "denoiser-eval: %s\n", models[mi]);
        if (eval_model(&m, &va, o, &rows, &n, &ms, &tokens)) { denoiser_free(&m); goto done; }
        const DenoiserConfig *c = &m.cfg;
        fprintf(f, "## %s\n\n", models[mi]);
        char mem[64];
        if (c->mem_k) snprintf(mem, sizeof mem, "K = %d tokens per section by %s", c->mem_k,
                               c->mem_pool ? "learned-query attention pooling" : "pooling at fixed spans");
        else snprintf(mem, sizeof mem, "every latent frame (uncompressed)");
        fprintf(f, "FNV-1a-64 %016llx; %ld parameters, width %d, depth %d, heads %d; memory: %s, at most %d sections "
                   "(%d tokens); context %d frames, crop %d. Mean memory tokens per example %.1f; %.2f ms per example "
                   "forward (%d frames, batch 16, %d threads).\n\n", (unsigned long long)h, denoiser_param_count(&m),
                c->width, c->depth, c->heads, mem, c->mem_sections, c->mem_tokens, c->ctx_frames, c->crop_frames,
                tokens, ms, denoiser_seq(c), nn_threads());
        write_tables(f, rows, n, va.n, o->seed);
        fputc('\n', f);
        free(rows);
        denoiser_free(&m);
    }
    if (o->log && o->figs) {
        char png[4096];
        snprintf(png, sizeof png, "%s/denoiser-training.png", o->figs);
        if (plot_log(o->log, png)) fprintf(f, "(No training curve: %s.)\n", err_msg());
        else fprintf(f, "Training curve (`%s`):\n\n![denoiser training curve](denoiser-training.png)\n", o->log);
    }
    rc = 0;
done:
    if (rc) atomic_abort(&af);
    else rc = atomic_commit(&af);
    latent_corpus_free(&va);
    return rc;
}
