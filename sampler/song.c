// song.c — the song loop: a whole song's latents from a form, one section at a
// time in form order. Each section starts from noise seeded by (seed, index);
// its memory (every earlier section's finished latents, compressed by the
// denoiser) is prepared once and reused by every sampling step and every chunk;
// the frames before it (the previous section's tail, or the previous chunk)
// are clean context. Guidance combines up to three predictions batched in one
// forward: with everything (c), without labels (u), without memory (m):
//   v = v_c + (cfg - 1) (v_c - v_u) + mem_guidance (v_c - v_m).
// Editing (song_generate_edit, sampler.h) runs the same loop around latents that
// exist: some sections kept (their seams re-joined), some primed from a recording,
// a repeat started from its earlier occurrence re-noised (SDEdit, Meng et al. 2022).
// The ablation's controls (SongParams.mem_forms): a section remembers another
// song's sections before it instead of its own (ExampleSpec.mem_song).
// It owns no decoding or vocoding (refrain.c) and no ODE solver (samplers.c).
#include "sampler/sampler.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void song_params_default(SongParams *p) {
    memset(p, 0, sizeof *p);
    // ab2, 4 steps: the best measured (notebooks_exports/generate.md, the shipped denoiser at
    // step 2,537, 8 songs x 30 s: KAD 2.9 latents / 5.2 log-mel against 8.6 / 10.3 for heun 12;
    // every sampler scored worse with more steps) and the one that fits a 3-minute song in 10 s
    // (2.9 s per minute of audio against heun 12's 10.4). Sweep again as the model trains.
    p->sampler = SAMPLER_AB2;
    p->schedule = SCHED_LOGSNR;
    p->shift = 1.0f;
    p->steps = 4;
    p->cfg = 2.0f;
    // memory guidance 0: the memory still feeds every section's cross-attention; no third,
    // memory-free example steers away from it. Against 1 on the shipped denoiser it measured
    // better on three of four distances twice (generate.md, 8 songs x 30 s: KAD 1.61 / 5.33
    // against 2.69 / 5.12; ablation.md, 20 three-minute songs: latent FD 2.95 against 4.74)
    // with the same structure (gap 0.662 against 0.674), at two examples per forward, not three.
    p->mem_guidance = 0.0f;
    p->style = 0;
    p->seed = RNG_DEFAULT_SEED;
    // 0.6: a repeat starts from its label's earlier occurrence re-noised to t = 0.6. The
    // section memory alone lifts the same-label minus different-label gap of generated
    // songs to about a sixth of real songs' (notebooks_exports/ablation.md: 0.12 against
    // 0.74); starting repeats part of the way down brings it to real songs' level, at 0.4
    // past it (repeats near copies). The ablation report's repeat strength sweep is the
    // measurement behind it.
    p->repeat_strength = 0.6f;
    p->seam_t = 0.6f;
}

void song_latents_free(SongLatents *s) {
    free(s->lat); free(s->bounds); free(s->seeds);
    memset(s, 0, sizeof *s);
}

long song_bounds(const SongForm *form, long *bounds) {
    long prev = 0;
    for (int i = 0; i < form->n; i++) {
        long b = lround(form->sections[i].start * COND_FRAME_RATE);
        if (i == 0) b = 0;
        if (b <= prev && i > 0) b = prev + 1;   // at least one frame each
        bounds[i] = b;
        prev = b;
    }
    long end = form->n ? lround(form->sections[form->n - 1].end * COND_FRAME_RATE) : 0;
    bounds[form->n] = end > prev ? end : prev + 1;
    return bounds[form->n];
}

// The velocity of the chunk's new frames: the batch's examples (c, and u / m when
// guided) all get x at rows [row0, row0 + frames) and time t; one forward.
typedef struct {
    const Denoiser *m;
    DenoiserActs *a;
    DenoiserBatch *b;
    const DitMemory *dm;
    int row0;
    long frames;
    int iu, im;             // batch index of the label-free / memory-free example, -1 if none
    float cfg, mg;
    float *tmp;             // (frames, Z)
    long known0;            // rows [known0, frames) are known (an edit's seam): their velocity is
                            // the line's own, e - x0, example 0's target in b->v
} Chunk;

static int chunk_velocity(void *ctx, float *v, const float *x, float t, long n) {
    Chunk *c = ctx;
    const DenoiserConfig *cfg = &c->m->cfg;
    const int Z = cfg->z, Ci = denoiser_cin(cfg), T = c->b->nt;
    for (int j = 0; j < c->b->nb; j++) {
        for (long r = 0; r < c->frames; r++)
            memcpy(c->b->x + ((long)j * T + c->row0 + r) * Ci, x + r * Z, sizeof(float) * Z);
        denoiser_set_time(cfg, c->b, j, t);
    }
    if (denoiser_forward_prepared(c->m, &c->m->params, c->a, c->b, c->dm)) return -1;
    const float *out = c->a->dit.out;                                          // (nb, T, Z)
    for (long r = 0; r < c->frames; r++)
        for (int z = 0; z < Z; z++) {
            long o = (c->row0 + r) * Z + z;
            float vc = out[o], w = vc;
            if (r >= c->known0) { v[r * Z + z] = c->b->v[o]; continue; }
            if (c->iu >= 0) w += (c->cfg - 1.0f) * (vc - out[(long)c->iu * T * Z + o]);
            if (c->im >= 0) w += c->mg * (vc - out[(long)c->im * T * Z + o]);
            v[r * Z + z] = w;
        }
    (void)n;
    return 0;
}

typedef struct {
    const SongParams *p;
    int section, n;
} ProgCtx;
static void step_progress(void *ctx, int step, int steps) {
    ProgCtx *pc = ctx;
    if (pc->p->progress) pc->p->progress(pc->p->progress_ctx, pc->section, pc->n, step, steps);
}

// The song so far as the example builder reads it: every section's span and
// label, the latents made so far (zeros after).
static void song_view(LatentSong *s, const SongForm *form, const SongLatents *out, int style) {
    memset(s, 0, sizeof *s);
    snprintf(s->song, sizeof s->song, "generated");
    s->source = style - 1;
    s->split = 0;
    s->T = (int32_t)out->T;
    s->n_sections = form->n;
    s->sec = callocCheck(form->n, sizeof *s->sec);
    for (int i = 0; i < form->n; i++) {
        const SongSection *f = &form->sections[i];
        LatentSection *x = &s->sec[i];
        x->start = (int32_t)out->bounds[i];
        x->end = (int32_t)out->bounds[i + 1];
        x->label_id = cond_label_id(f->label) > 0 ? cond_label_id(f->label) : 0;
        x->occurrence = f->occurrence > 0 ? f->occurrence : 1;
        x->targets.loudness_lufs = f->desc.loudness_lufs;
        x->targets.brightness_hz = f->desc.brightness_hz;
        x->targets.onset_density = f->desc.onset_density;
    }
    s->lat = out->lat;
}

// How make_section samples a section: from pure noise (t0 1, seam 0), from the
// latents in view->lat re-noised to t0 (a repeat's start, or a seam), with no
// context before its first chunk (no_ctx), or only its first `seam` frames
// (the rest of the first chunk known, held on its noising line).
typedef struct {
    float t0;
    int no_ctx;
    long seam;
} SectionJob;

// The schedule ts (steps + 1 times from 1 to 0) started at t0 <= 1: t0, then the
// times below it (img2img's rule, so a later start also costs fewer steps).
// Returns the steps.
static int times_from(float *dst, const float *ts, int steps, float t0) {
    if (t0 >= 1.0f) { memcpy(dst, ts, sizeof(float) * (steps + 1)); return steps; }
    int n = 0;
    dst[n++] = t0;
    for (int k = 1; k <= steps; k++) if (ts[k] < t0) dst[n++] = ts[k];
    return n - 1;
}

// One section: its chunks, each sampled from noise with the shared memory.
// mem: the song whose sections section i remembers (view itself, or another song's: p->mem_forms[i]).
static int make_section(const Denoiser *m, const SongParams *p, LatentSong *view, const LatentSong *mem, int i,
                        DenoiserBatch *b, DenoiserActs *a, const float *ts_all, uint64_t seed, int n_sections,
                        const SectionJob *job, long *mem_tokens) {
    const DenoiserConfig *c = &m->cfg;
    const int Z = c->z;
    const LatentSection *x = &view->sec[i];
    int has_mem = !p->no_memory && i > 0 && c->mem_sections > 0;
    int iu = p->cfg != 1.0f ? 1 : -1;
    int im = has_mem && p->mem_guidance != 0.0f ? (iu >= 0 ? 2 : 1) : -1;
    b->nb = 1 + (iu >= 0) + (im >= 0);
    Rng rng;
    rng_seed(&rng, seed);
    DitMemory dm;
    memset(&dm, 0, sizeof dm);
    int rc = 0, prepared = 0;
    float *xs = NULL;
    ProgCtx pc = {p, i, n_sections};
    float ts[p->steps + 1];
    int steps = times_from(ts, ts_all, p->steps, job->t0);
    long end = job->seam > 0 ? x->start + 1 : x->end;   // a seam: the first chunk only
    for (long c0 = x->start; c0 < end && rc == 0; c0 += c->crop_frames) {
        long frames = x->end - c0 < c->crop_frames ? x->end - c0 : c->crop_frames;
        int no_ctx = job->no_ctx && c0 == x->start;
        long ctx = no_ctx ? 0 : c0 < c->ctx_frames ? c0 : c->ctx_frames;
        b->nt = (int)(ctx + frames);
        b->ns = has_mem ? denoiser_memory_tokens_from(m, view, i, mem) : 0;   // only the tokens it holds
        if (c0 == x->start) *mem_tokens += b->ns;
        Rng noise = rng;   // the same noise in every example of the batch
        for (int j = 0; j < b->nb && rc == 0; j++) {
            ExampleSpec e = {view, i, c0, job->t0, mem == view ? NULL : mem, !has_mem || j == im, j == iu, no_ctx, frames};
            noise = rng;
            rc = denoiser_fill_example(m, b, j, &e, &noise);
        }
        rng = noise;       // the next chunk draws fresh noise
        if (rc) break;
        if (!prepared) {   // the memory is the same for every chunk of the section
            rc = denoiser_memory_prepare(m, &m->params, a, b, &dm);
            prepared = 1;
            if (rc) break;
        }
        xs = reallocCheck(xs, sizeof(float) * frames * Z);
        for (long r = 0; r < frames; r++) memcpy(xs + r * Z, b->x + (ctx + r) * denoiser_cin(c), sizeof(float) * Z);
        long keep = job->seam > 0 && job->seam < frames ? job->seam : frames;   // rows written back
        Chunk ch = {m, a, b, &dm, (int)ctx, frames, iu, im, p->cfg, p->mem_guidance, NULL, keep};
        rc = sampler_run(p->sampler, xs, frames * Z, ts, steps, chunk_velocity, &ch, &rng, step_progress, &pc);
        if (!rc) memcpy(view->lat + c0 * Z, xs, sizeof(float) * keep * Z);
    }
    free(xs);
    dit_memory_free(&dm);
    return rc;
}

int song_generate(const Denoiser *m, const SongForm *form, const SongParams *p, SongLatents *out) {
    return song_generate_edit(m, form, p, NULL, out);
}

// Section i's seed from (seed, i): the same section noise whatever came before.
static uint64_t section_seed(uint64_t seed, int i) {
    Rng sr;
    rng_seed(&sr, seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)));
    return 1 + rng_u64(&sr) % SONG_SEED_MAX;   // exact in a timeline
}

// A repeat's start: its label's previous occurrence laid over section i's frames,
// tiled when it is shorter (frame f takes its frame f mod length) and cropped
// when longer (its first frames). The occurrence is the nearest section j < i of
// the song section i remembers (src: its own, or another song's for the control)
// with section i's label, as written. Returns 1 when there is one, 0 when the
// label is new to that song.
typedef struct { const SongForm *form; const long *bounds; const float *lat; } RepeatSrc;
static int repeat_init(float *lat, const SongForm *form, const long *bounds, int i, const RepeatSrc *src, int Z) {
    int top = i < src->form->n ? i : src->form->n;
    for (int j = top - 1; j >= 0; j--) {
        if (strcmp(src->form->sections[j].label, form->sections[i].label)) continue;
        long lj = src->bounds[j + 1] - src->bounds[j], li = bounds[i + 1] - bounds[i];
        if (lj < 1) return 0;
        for (long f = 0; f < li; f++)
            memcpy(lat + (bounds[i] + f) * Z, src->lat + (src->bounds[j] + f % lj) * Z, sizeof(float) * Z);
        return 1;
    }
    return 0;
}

// Another song that section i remembers (p->mem_forms[i]): its sections on its
// latents. Returns 1 when there is one (free it with other_song_free), 0 when
// the section remembers its own song.
typedef struct { LatentSong view; SongLatents lat; } OtherSong;
static int other_song(OtherSong *o, const SongParams *p, int i) {
    memset(o, 0, sizeof *o);
    const SongForm *f = p->mem_forms ? p->mem_forms[i] : NULL;
    if (!f) return 0;
    o->lat.bounds = callocCheck(f->n + 1, sizeof *o->lat.bounds);
    o->lat.T = song_bounds(f, o->lat.bounds);
    o->lat.lat = (float *)p->mem_lats[i];
    song_view(&o->view, f, &o->lat, p->style);
    return 1;
}
static void other_song_free(OtherSong *o) {
    free(o->view.sec);
    free(o->lat.bounds);
}

int song_generate_edit(const Denoiser *m, const SongForm *form, const SongParams *p, const SongEdit *e,
                       SongLatents *out) {
    memset(out, 0, sizeof *out);
    const DenoiserConfig *c = &m->cfg;
    const int Z = c->z;
    if (form->n < 1) return err_set("generate: the form has no sections");
    if (p->steps < 1) return err_set("generate: %d sampling steps; need at least 1", p->steps);
    if (!(p->repeat_strength > 0 && p->repeat_strength <= 1))
        return err_set("generate: repeat strength %g; allowed above 0, at most 1", p->repeat_strength);
    if (!(p->seam_t > 0 && p->seam_t <= 1)) return err_set("generate: seam strength %g; allowed above 0, at most 1", p->seam_t);
    int n_prime = e ? e->n_prime : 0;
    if (n_prime < 0 || n_prime >= form->n) return err_set("generate: %d primed sections of %d", n_prime, form->n);
    out->n = form->n;
    out->z = Z;
    out->bounds = callocCheck(form->n + 1, sizeof *out->bounds);
    out->seeds = callocCheck(form->n, sizeof *out->seeds);
    out->T = song_bounds(form, out->bounds);
    out->lat = callocCheck(out->T * Z, sizeof(float));
    if (e && e->lat) memcpy(out->lat, e->lat, sizeof(float) * out->T * Z);
    else if (e && n_prime) memcpy(out->lat, e->prime_lat, sizeof(float) * out->bounds[n_prime] * Z);
    float *ts = mallocCheck(sizeof(float) * (p->steps + 1));
    if (sampler_times(ts, p->steps, p->schedule, p->shift)) { free(ts); song_latents_free(out); return -1; }
    for (int i = 0; p->mem_forms && i < form->n; i++)
        if (p->mem_forms[i] && (p->mem_forms[i]->n < 1 || !p->mem_lats || !p->mem_lats[i])) {
            free(ts);
            song_latents_free(out);
            return err_set("generate: the memory's song of section %d has no sections or no latents", i + 1);
        }
    LatentSong view;
    song_view(&view, form, out, p->style);
    long seam_tokens = 0;   // a seam's memory is not counted in out->memory_tokens
    int T = c->ctx_frames + c->crop_frames, S = c->mem_tokens;
    DenoiserBatch b;
    denoiser_batch_alloc(&b, c, 3, T, S);
    DenoiserActs a;
    denoiser_acts_alloc(&a, m, 3, T, S, 0);
    double t0 = now_seconds();
    int rc = 0;
    for (int i = 0; i < form->n && rc == 0; i++) {
        long s0 = out->bounds[i], len = out->bounds[i + 1] - s0;
        int redo = i >= n_prime && (!e || !e->redo || e->redo[i]);
        OtherSong os;   // what section i remembers: its own song, or another's
        const LatentSong *mem = other_song(&os, p, i) ? &os.view : &view;
        RepeatSrc rsrc = mem == &view ? (RepeatSrc){form, out->bounds, out->lat}
                                      : (RepeatSrc){p->mem_forms[i], os.lat.bounds, os.lat.lat};
        if (!redo) {
            out->seeds[i] = e && e->seeds ? e->seeds[i] : 0;
            long from = s0 > c->ctx_frames ? s0 - c->ctx_frames : 0;   // its context: changed?
            if (i < n_prime || !e->lat || c->ctx_frames == 0 ||
                !memcmp(out->lat + from * Z, e->lat + from * Z, sizeof(float) * (s0 - from) * Z)) {
                other_song_free(&os);
                continue;
            }
            SectionJob job = {p->seam_t, 0, len < c->ctx_frames ? len : c->ctx_frames};
            rc = make_section(m, p, &view, mem, i, &b, &a, ts, out->seeds[i], form->n, &job, &seam_tokens);
            out->frames_sampled += job.seam;
            other_song_free(&os);
            continue;
        }
        out->seeds[i] = section_seed(p->seed, i - n_prime);
        memset(out->lat + s0 * Z, 0, sizeof(float) * len * Z);   // from noise: nothing of what was there
        SectionJob job = {1.0f, n_prime > 0 && i == n_prime && !e->prime_ctx, 0};
        // a repeat starts from what the section remembers: nothing without memory
        if (p->repeat_strength < 1 && !p->no_memory && repeat_init(out->lat, form, out->bounds, i, &rsrc, Z))
            job.t0 = p->repeat_strength;
        rc = make_section(m, p, &view, mem, i, &b, &a, ts, out->seeds[i], form->n, &job, &out->memory_tokens);
        other_song_free(&os);
        out->sections_sampled++;
        out->frames_sampled += len;
    }
    out->seconds_denoiser = now_seconds() - t0;
    denoiser_acts_free(&a, m);
    denoiser_batch_free(&b);
    free(view.sec);
    free(ts);
    if (rc) song_latents_free(out);
    return rc;
}
