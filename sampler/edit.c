// edit.c — refrain.h's editing: a song made earlier read back from its
// timeline and latents (refrain_song_load), one or more of its sections
// re-rolled (refrain_reroll), a recording's form borrowed
// (refrain_form_from_audio; refrain_generate with p->form_from), and a song
// primed with, or continuing, a recording (refrain_generate with p->prime:
// edit_generate_primed); refrain_generate with p->reroll_from is refrain_reroll. The song loop's part
// of each (which sections are sampled, seams, the primed memory, repeats from
// their earlier occurrence) is song_generate_edit (song.c); this file builds its
// inputs and turns its latents into a song: decoding, vocoding, and for a
// continuation the join with the recording's own samples.
//
// Seams (refrain_reroll): the section after a re-rolled one keeps its latents
// except its first ctx_frames frames (the model's context length, 2.2 s for the
// shipped model), which are re-noised to t = 0.6 and denoised again (SDEdit)
// with the new section's tail as context and the rest of its first chunk held
// as known frames. SDEdit rather than resampling from pure noise: the old seam
// frames were made as the start of what follows them, so keeping their coarse
// content (what survives t = 0.6) keeps the join to the unchanged frames after
// the seam, while the model redraws the detail to continue the new section;
// from pure noise the seam would be a new start with only the known frames'
// noisy view to agree with.
//
// Continue: the recording is encoded in full (its latents are the memory and
// its last ctx_frames frames the context); the output is its own samples, then
// the rendering of the latents from 8 latent frames (0.37 s) before its end, so
// the REFRAIN_CROSSFADE_SECONDS (0.1 s) equal-power crossfade over the
// recording's last samples mixes two renderings of the same music (the rendering
// is not phase-coherent with the original: equal power, sin/cos, keeps the
// level). The rendering's gain is set once, from BS.1770 loudness of the
// recording against that of the rendering's new part.
// It owns no file writing (the CLI writes what it wants of the result).
#include "refrain.h"
#include "audio/audio.h"
#include "data/analyze.h"
#include "sampler/model.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOIN_LATENT_FRAMES 8   // rendered before the join, for the crossfade (>= 0.1 s + the padding)

static int fail_with(char *err, size_t cap, int code) {
    if (err && cap) snprintf(err, cap, "%s", err_msg());
    return code;
}

static double frame_seconds(long f) { return f * (double)AE_DOWN * HOP / SAMPLE_RATE; }

// ---- a song made earlier ------------------------------------------------------------------
int refrain_song_load(refrain_song *s, const char *timeline, const char *latents, char *err, size_t err_cap) {
    memset(s, 0, sizeof *s);
    SongForm f;
    if (timeline_read(timeline, &f)) return fail_with(err, err_cap, REFRAIN_ERR);
    float *lat = NULL;
    long Tl = 0, T = 0;
    int Z = 0;
    if (f.n < 1) {
        err_set("timeline %s has no sections", timeline);
        song_form_free(&f);
        return fail_with(err, err_cap, REFRAIN_ERR);
    }
    if (latents_read(latents, &lat, &Tl, &Z, &T)) { song_form_free(&f); return fail_with(err, err_cap, REFRAIN_ERR); }
    // the timeline's song ends where generate's audio of Tl latent frames ends: (4 Tl - 1) hops
    double want = (double)(T - 1) * HOP / SAMPLE_RATE, end = f.sections[f.n - 1].end;
    if (T != Tl * AE_DOWN || fabs(end - want) > 0.002) {
        err_set("latents %s (%ld frames, %.3f s) do not belong to timeline %s (%d sections, %.3f s); give the "
                "--latents file written with it", latents, Tl, want, timeline, f.n, end);
        free(lat);
        song_form_free(&f);
        return fail_with(err, err_cap, REFRAIN_ERR);
    }
    s->latents = lat; s->n_latent = Tl; s->z = Z;
    s->n_samples = (T - 1) * HOP; s->sample_rate = SAMPLE_RATE;
    s->n_frames = T;
    s->bpm = f.bpm;
    s->n_sections = f.n;
    s->sections = callocCheck(f.n, sizeof *s->sections);
    for (int i = 0; i < f.n; i++) public_section(&s->sections[i], &f.sections[i]);
    song_form_free(&f);
    return 0;
}

int refrain_reroll_sections(const refrain_song *from, const char *which, int *idx, char *err, size_t err_cap) {
    int n = from->n_sections, k = 0;
    if (!which || !*which) { err_set("reroll: no section given (a number 1..%d or a label)", n); return fail_with(err, err_cap, REFRAIN_ERR_INPUT); }
    char *end;
    long v = strtol(which, &end, 10);
    if (*end == 0) {
        if (v < 1 || v > n) {
            err_set("--reroll %s: the song has %d sections; give 1..%d (the timeline's order) or a label", which, n, n);
            return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
        }
        idx[0] = (int)v - 1;
        return 1;
    }
    for (int i = 0; i < n; i++) if (!strcmp(from->sections[i].label, which)) idx[k++] = i;
    if (k == 0) {
        char labels[512] = "";
        for (int i = 0; i < n; i++) {
            int seen = 0;
            for (int j = 0; j < i; j++) seen |= !strcmp(from->sections[j].label, from->sections[i].label);
            size_t L = strlen(labels);
            if (!seen) snprintf(labels + L, sizeof labels - L, "%s%s", L ? ", " : "", from->sections[i].label);
        }
        err_set("--reroll %s: no section has that label; the song's labels are %s (or give a number 1..%d)", which,
                labels, n);
        return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    }
    return k;
}

// ---- from latents to a song -----------------------------------------------------------
static SongParams song_params_of(const refrain_generate_params *p) {
    SongParams sp;
    song_params_default(&sp);
    sp.sampler = p->sampler; sp.schedule = p->schedule; sp.steps = p->steps;
    sp.cfg = p->cfg; sp.mem_guidance = p->memory_guidance; sp.no_memory = p->no_memory;
    sp.style = p->style; sp.seed = p->seed;
    sp.repeat_strength = p->repeat_strength; sp.seam_t = p->seam_strength;
    return sp;
}

// Progress counts the sections sampled from the output's first (a primed
// recording's sections are never sampled: they are skipped in the count).
typedef struct {
    const refrain_generate_params *p;
    int skip;
} Prog;
static void den_progress(void *ctx, int section, int n, int step, int steps) {
    const Prog *g = ctx;
    g->p->progress(g->p->progress_user, "denoiser", section - g->skip, n - g->skip, step, steps);
}

// lat (Tl, Z) -> *mel (4 Tl, M) -> *x (*n samples); times added to out.
static int render(refrain_model *m, const refrain_generate_params *p, const float *lat, long Tl, float **mel,
                  float **x, long *n, refrain_song *out) {
    double t0 = now_seconds();
    if (p->progress) p->progress(p->progress_user, "decoder", 0, 0, 0, 1);
    long T = Tl * AE_DOWN;
    *mel = mallocCheck(sizeof(float) * T * m->ae.cfg.n_mels);
    *x = NULL;
    int rc = ae_decode(&m->ae, lat, Tl, *mel, T, 1);
    double t1 = now_seconds();
    if (!rc) {
        if (p->progress) p->progress(p->progress_user, "vocoder", 0, 0, 0, 1);
        VocoderOpts vo;
        vocoder_defaults(&vo);
        vo.iters = p->vocoder_iters;
        rc = vocode_logmel(x, n, *mel, T, &vo);
    }
    out->seconds_decoder += t1 - t0;
    out->seconds_vocoder += now_seconds() - t1;
    if (rc) { free(*mel); *mel = NULL; }
    return rc;
}

// out's sections: form's sections [first, n) on the latent bounds, shifted to start at
// bounds[first]; the last ends at the audio's end.
static void set_sections(refrain_song *out, const SongForm *form, const SongLatents *lat, int first, long n_samples) {
    out->n_sections = form->n - first;
    out->sections = callocCheck(out->n_sections, sizeof *out->sections);
    for (int i = first; i < form->n; i++) {
        refrain_section *s = &out->sections[i - first];
        const SongSection *f = &form->sections[i];
        snprintf(s->label, sizeof s->label, "%s", f->label);
        s->occurrence = f->occurrence;
        s->start = frame_seconds(lat->bounds[i] - lat->bounds[first]);
        s->end = i == form->n - 1 ? (double)n_samples / SAMPLE_RATE : frame_seconds(lat->bounds[i + 1] - lat->bounds[first]);
        s->seed = lat->seeds[i];
        s->loudness_lufs = f->desc.loudness_lufs;
        s->brightness_hz = f->desc.brightness_hz;
        s->onset_density = f->desc.onset_density;
        s->rms_db = s->confidence = NAN;
    }
}

// The song's latents from frame `first` on, decoded and vocoded into out.
static int finish(refrain_model *m, const refrain_generate_params *p, const SongForm *form, SongLatents *lat,
                  int first_section, refrain_song *out) {
    long f0 = lat->bounds[first_section], Tl = lat->T - f0;
    float *mel, *x;
    long n;
    if (render(m, p, lat->lat + f0 * lat->z, Tl, &mel, &x, &n, out)) return -1;
    out->audio = x; out->n_samples = n; out->sample_rate = SAMPLE_RATE;
    out->logmel = mel; out->n_frames = Tl * AE_DOWN; out->n_mels = m->ae.cfg.n_mels;
    out->latents = mallocCheck(sizeof(float) * Tl * lat->z);
    memcpy(out->latents, lat->lat + f0 * lat->z, sizeof(float) * Tl * lat->z);
    out->n_latent = Tl; out->z = lat->z;
    set_sections(out, form, lat, first_section, n);
    out->bpm = form->bpm;
    out->seconds_denoiser = lat->seconds_denoiser;
    out->sections_sampled = lat->sections_sampled;
    out->frames_sampled = lat->frames_sampled;
    out->memory_tokens = lat->memory_tokens;
    return 0;
}

// ---- re-roll --------------------------------------------------------------------------------
int refrain_reroll(refrain_model *m, const refrain_generate_params *p, const refrain_song *from, const char *which,
                   refrain_song *out, char *err, size_t err_cap) {
    memset(out, 0, sizeof *out);
    refrain_generate_params q = *p;
    q.form = "(the song's)";
    q.prime = NULL;
    q.form_from = NULL;
    q.reroll_from = NULL;
    if (!m->den.cfg.z) err_set("reroll: the model has no denoiser (refrain_autoencoder_load)");
    if (!m->den.cfg.z || generate_check_params(&q)) return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    int n = from->n_sections;
    if (n < 1 || !from->latents) { err_set("reroll: the song has no sections or no latents"); return fail_with(err, err_cap, REFRAIN_ERR_INPUT); }
    int *idx = mallocCheck(sizeof(int) * n);
    int k = refrain_reroll_sections(from, which, idx, err, err_cap);
    if (k < 0) { free(idx); return k; }
    SongForm form = refrain_song_form(from);
    form.duration = from->sections[n - 1].end;
    uint64_t *seeds = mallocCheck(sizeof(uint64_t) * n);
    uint8_t *redo = callocCheck(n, 1);
    for (int i = 0; i < k; i++) redo[idx[i]] = 1;
    for (int i = 0; i < n; i++) seeds[i] = from->sections[i].seed;
    int rc = 0;
    long bounds[n + 1];
    long T = song_bounds(&form, bounds);
    if (from->z != m->den.cfg.z || T != from->n_latent) {
        err_set("reroll: the song's latents are %ld frames of %d channels; its timeline and the denoiser make %ld of %d",
                from->n_latent, from->z, T, m->den.cfg.z);
        rc = fail_with(err, err_cap, REFRAIN_ERR);
    }
    SongLatents lat;
    memset(&lat, 0, sizeof lat);
    if (!rc) {
        SongParams sp = song_params_of(p);
        Prog g = {p, 0};
        if (p->progress) { sp.progress = den_progress; sp.progress_ctx = &g; }
        SongEdit e = {from->latents, seeds, redo, 0, NULL, 0};
        if (song_generate_edit(&m->den, &form, &sp, &e, &lat)) rc = fail_with(err, err_cap, REFRAIN_ERR);
    }
    if (!rc && finish(m, p, &form, &lat, 0, out)) rc = fail_with(err, err_cap, REFRAIN_ERR);
    if (!rc) { out->rerolled = idx; out->n_rerolled = k; idx = NULL; }
    free(idx);
    song_latents_free(&lat);
    song_form_free(&form);
    free(seeds);
    free(redo);
    return rc;
}

// ---- a recording's form ------------------------------------------------------------------------
// x at rate -> *y at SAMPLE_RATE (*y = x itself when rate is already SAMPLE_RATE).
static int analyze_recording(Analysis *a, const float *x, long n) {
    AnalyzeOpts o;
    analyze_defaults(&o);
    o.descriptors = 0;
    return analyze_audio(a, x, n, &o);
}

// The recording's form as a string, allocated to fit (*form, the caller frees it), of *n_sections.
static int form_of_recording(const float *x, long n, int rate, char **form, int *n_sections) {
    float *y;
    long ny;
    int owned;
    *form = NULL;
    if (at_model_rate(x, n, rate, &y, &ny, &owned)) return -1;
    Analysis a;
    int rc = analyze_recording(&a, y, ny);
    if (owned) free(y);
    if (rc) return -1;
    size_t cap = 1, L = 0;
    for (int i = 0; i < a.form.n; i++) cap += strlen(a.form.sections[i].label) + 24;   // " label:seconds.mmm"
    char *f = mallocCheck(cap);
    f[0] = 0;
    for (int i = 0; i < a.form.n; i++) {
        const SongSection *s = &a.form.sections[i];
        L += (size_t)snprintf(f + L, cap - L, "%s%s:%.3f", i ? " " : "", s->label, s->end - s->start);
    }
    *n_sections = a.form.n;
    analysis_free(&a);
    *form = f;
    return 0;
}

int refrain_form_from_audio(const float *x, long n, int rate, char *form, size_t cap, char *err, size_t err_cap) {
    char *f;
    int k, rc = 0;
    if (cap) form[0] = 0;
    if (form_of_recording(x, n, rate, &f, &k)) return fail_with(err, err_cap, REFRAIN_ERR);
    size_t L = strlen(f);
    if (L >= cap)
        rc = err_set("form of the recording: %d sections do not fit %zu bytes", k, cap);
    else
        memcpy(form, f, L + 1);
    free(f);
    return rc ? fail_with(err, err_cap, REFRAIN_ERR) : 0;
}

int edit_generate_form_from(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                            size_t err_cap) {
    char *f;
    int k;
    if (form_of_recording(p->form_from, p->form_from_samples, p->form_from_rate, &f, &k))
        return fail_with(err, err_cap, REFRAIN_ERR);
    refrain_generate_params q = *p;
    q.form = f;
    q.form_from = NULL;
    int rc = refrain_generate(m, &q, out, err, err_cap);
    if (rc) free(f);
    else out->form = f;
    return rc;
}

// ---- prime and continue -------------------------------------------------------------------------
// The recording's sections, then the form's, as one form on the latent clock: the
// recording's span ends at its last latent frame (Tr), the form's sections follow it;
// occurrences numbered over both.
static SongForm primed_form(const SongForm *rec, long Tr, const SongForm *form) {
    int n = rec->n + form->n;
    SongForm f = {callocCheck(n, sizeof(SongSection)), n, form->bpm, 0};
    double off = Tr / COND_FRAME_RATE;
    for (int i = 0; i < rec->n; i++) {
        SongSection *s = &f.sections[i];
        *s = rec->sections[i];
        s->desc = SECTION_DESCRIPTORS_NONE;
        s->seed = 0;
        if (i == rec->n - 1) s->end = off;
    }
    for (int i = 0; i < form->n; i++) {
        SongSection *s = &f.sections[rec->n + i];
        *s = form->sections[i];
        s->start += off;
        s->end += off;
    }
    f.duration = f.sections[n - 1].end;
    song_number_occurrences(f.sections, n);
    return f;
}

// The continuation's audio: the recording x (n) unchanged up to the crossfade, then
// the rendering g (ng samples, its sample 0 at the song's sample g0), its gain matched.
static float *join(const float *x, long n, float *g, long ng, long g0, long *nout) {
    double lr = loudness_lufs(x, n, SAMPLE_RATE);
    long from = n - g0 < ng ? n - g0 : ng;   // the rendering's new part starts at the song's sample n
    double lg = loudness_lufs(g + from, ng - from, SAMPLE_RATE);
    double gain_db = isfinite(lr) && isfinite(lg) ? lr - lg : 0;
    if (gain_db > 24) gain_db = 24;
    if (gain_db < -24) gain_db = -24;
    float gain = (float)pow(10.0, gain_db / 20);
    for (long i = 0; i < ng; i++) g[i] *= gain;
    long N = g0 + ng, xf = lround(REFRAIN_CROSSFADE_SECONDS * SAMPLE_RATE);
    if (xf > n - g0) xf = n - g0;
    if (xf > n) xf = n;
    float *y = mallocCheck(sizeof(float) * N);
    memcpy(y, x, sizeof(float) * (n - xf));
    for (long i = n - xf; i < n; i++) {
        double w = (i - (n - xf) + 0.5) / xf * M_PI / 2;
        y[i] = (float)(x[i] * cos(w) + g[i - g0] * sin(w));
    }
    memcpy(y + n, g + (n - g0), sizeof(float) * (N - n));
    *nout = N;
    return y;
}

int edit_generate_primed(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                         size_t err_cap) {
    const int Z = m->den.cfg.z, M = m->ae.cfg.n_mels;
    FormOpts fo;
    form_opts_default(&fo);
    fo.bpm = p->bpm > 0 ? p->bpm : 120;
    memcpy(fo.default_seconds, params_get(&m->den.params, m->den.med_s), sizeof fo.default_seconds);
    SongForm form;
    if (form_parse(&form, p->form, &fo)) return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    float *x, *mel = NULL, *rlat = NULL;
    long n, Tm = 0;
    int owned, rc = 0;
    if (at_model_rate(p->prime, p->prime_samples, p->prime_rate, &x, &n, &owned)) {
        song_form_free(&form);
        return fail_with(err, err_cap, REFRAIN_ERR);
    }
    Analysis a;
    memset(&a, 0, sizeof a);
    if (p->progress) p->progress(p->progress_user, "analyzer", 0, 0, 0, 1);
    if (analyze_recording(&a, x, n) || logmel_from_audio(&mel, &Tm, x, n)) rc = -1;
    long Tr = ae_latent_frames(Tm);
    if (!rc) {
        if (p->progress) p->progress(p->progress_user, "encoder", 0, 0, 0, 1);
        rlat = mallocCheck(sizeof(float) * Tr * Z);
        rc = ae_encode(&m->ae, mel, Tm, rlat, 1);
    }
    SongForm all = {0};
    SongLatents lat;
    memset(&lat, 0, sizeof lat);
    if (!rc) {
        all = primed_form(&a.form, Tr, &form);
        SongParams sp = song_params_of(p);
        Prog g = {p, a.form.n};
        if (p->progress) { sp.progress = den_progress; sp.progress_ctx = &g; }
        SongEdit e = {NULL, NULL, NULL, a.form.n, rlat, p->prime_continue};
        rc = song_generate_edit(&m->den, &all, &sp, &e, &lat);
    }
    int P = a.form.n;
    if (!rc && !p->prime_continue) rc = finish(m, p, &all, &lat, P, out);
    else if (!rc) {   // the recording, then the rendering from JOIN_LATENT_FRAMES before its end
        long d0 = Tr > JOIN_LATENT_FRAMES ? Tr - JOIN_LATENT_FRAMES : 0;
        float *dmel, *g;
        long ng;
        rc = render(m, p, lat.lat + d0 * Z, lat.T - d0, &dmel, &g, &ng, out);
        if (!rc) {
            long N;
            out->audio = join(x, n, g, ng, d0 * AE_DOWN * HOP, &N);
            free(g);
            out->n_samples = N; out->sample_rate = SAMPLE_RATE;
            long T = lat.T * AE_DOWN;   // log-mel: the recording's frames, then the rendering's
            out->logmel = mallocCheck(sizeof(float) * T * M);
            memcpy(out->logmel, mel, sizeof(float) * Tm * M);
            memcpy(out->logmel + Tm * M, dmel + (Tm - d0 * AE_DOWN) * M, sizeof(float) * (T - Tm) * M);
            free(dmel);
            out->n_frames = T; out->n_mels = M;
            out->latents = lat.lat; out->n_latent = lat.T; out->z = Z;
            lat.lat = NULL;
            set_sections(out, &all, &lat, 0, N);
            out->bpm = form.bpm;
            out->seconds_denoiser = lat.seconds_denoiser;
            out->sections_sampled = lat.sections_sampled;
            out->frames_sampled = lat.frames_sampled;
            out->n_recording = P;
            out->recording_samples = n;
        }
    }
    if (rc) { refrain_song_free(out); rc = fail_with(err, err_cap, REFRAIN_ERR); }
    song_latents_free(&lat);
    song_form_free(&all);
    song_form_free(&form);
    analysis_free(&a);
    free(mel);
    free(rlat);
    if (owned) free(x);
    return rc;
}
