// generate.c — refrain.h's implementation: the models loaded once, and a song
// from a form string: parse (conditioning/), the song loop (song.c), the
// autoencoder's windowed decoder, the Griffin-Lim vocoder, and the timeline
// with each section's seed. It owns no file writing: the caller (the CLI)
// writes what it wants of the result.
#include "refrain.h"
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "sampler/model.h"
#include "sampler/sampler.h"
#include "util/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail_with(char *err, size_t cap, int code) {
    if (err && cap) snprintf(err, cap, "%s", err_msg());
    return code;
}

refrain_model_params refrain_model_default_params(void) {
    refrain_model_params p = {NULL, NULL};
    return p;
}

refrain_model *refrain_autoencoder_load(const char *path, char *err, size_t err_cap) {
    char apath[PATH_MAX];
    if (!path && refrain_find_model("ae.rfc", apath, sizeof apath, err, err_cap)) return NULL;
    refrain_model *m = callocCheck(1, sizeof *m);
    if (ae_load(&m->ae, path ? path : apath, NULL)) { fail_with(err, err_cap, -1); free(m); return NULL; }
    return m;
}

int refrain_find_model(const char *name, char *buf, size_t cap, char *err, size_t err_cap) {
    return model_find(name, 0, buf, cap) ? fail_with(err, err_cap, -1) : 0;
}

refrain_model *refrain_model_load(const refrain_model_params *p, char *err, size_t err_cap) {
    char dpath[PATH_MAX], apath[PATH_MAX];
    const char *d = p && p->denoiser ? p->denoiser : NULL, *a = p && p->autoencoder ? p->autoencoder : NULL;
    // the denoiser first, so a wrong --model is what the message names even where no ae.rfc is found
    if (!d) { if (refrain_find_model("denoiser.rfc", dpath, sizeof dpath, err, err_cap)) return NULL; d = dpath; }
    refrain_model *m = callocCheck(1, sizeof *m);
    if (denoiser_load(&m->den, d)) { fail_with(err, err_cap, -1); free(m); return NULL; }
    if (!a && refrain_find_model("ae.rfc", apath, sizeof apath, err, err_cap)) {
        denoiser_free(&m->den); free(m); return NULL;
    }
    if (!a) a = apath;
    if (ae_load(&m->ae, a, NULL)) { fail_with(err, err_cap, -1); denoiser_free(&m->den); free(m); return NULL; }
    if (m->ae.cfg.z != m->den.cfg.z) {
        err_set("the denoiser %s makes %d latent channels, the autoencoder %s decodes %d", d, m->den.cfg.z, a,
                m->ae.cfg.z);
        fail_with(err, err_cap, -1);
        refrain_model_free(m);
        return NULL;
    }
    if (!m->ae.has_stats) {
        err_set("the autoencoder %s has no latent statistics (a training checkpoint? use its export)", a);
        fail_with(err, err_cap, -1);
        refrain_model_free(m);
        return NULL;
    }
    return m;
}

void refrain_model_free(refrain_model *m) {
    if (!m) return;
    denoiser_free(&m->den);
    ae_free(&m->ae);
    free(m);
}

refrain_generate_params refrain_generate_default_params(void) {
    refrain_generate_params g;
    memset(&g, 0, sizeof g);
    SongParams sp;
    song_params_default(&sp);
    g.bpm = 120;
    g.seed = sp.seed;
    g.steps = sp.steps;
    g.sampler = sp.sampler;
    g.schedule = sp.schedule;
    g.cfg = sp.cfg;
    g.memory_guidance = sp.mem_guidance;
    VocoderOpts vo;
    vocoder_defaults(&vo);
    g.vocoder_iters = vo.iters;
    g.repeat_strength = sp.repeat_strength;
    g.seam_strength = sp.seam_t;
    return g;
}

void refrain_song_free(refrain_song *s) {
    free(s->audio); free(s->logmel); free(s->latents); free(s->sections); free(s->form); free(s->rerolled);
    memset(s, 0, sizeof *s);
}

typedef struct {
    const refrain_generate_params *p;
} Prog;
static void den_progress(void *ctx, int section, int n, int step, int steps) {
    const refrain_generate_params *p = ctx;
    p->progress(p->progress_user, "denoiser", section, n, step, steps);
}

int generate_check_params(const refrain_generate_params *p) {
    if (!p->form && !p->form_from && !p->reroll_from) return err_set("generate: no form given");
    if (p->form_from && p->form) return err_set("generate: form and form_from both given; give one");
    if (p->reroll_from && (p->form || p->form_from || p->prime || p->memory_from || p->memory_from_each))
        return err_set("generate: a re-roll (reroll_from) takes the song's form; no form, form_from, prime or memory_from with it");
    if (p->steps < 1 || p->steps > 1000) return err_set("generate: steps %d; allowed 1..1000", p->steps);
    if (p->sampler < 0 || p->sampler >= SAMPLER_COUNT) return err_set("generate: unknown sampler %d", p->sampler);
    if (p->schedule < 0 || p->schedule >= SCHED_COUNT) return err_set("generate: unknown schedule %d", p->schedule);
    if (p->style < 0 || p->style >= COND_N_STYLES) return err_set("generate: style %d; allowed 0..%d", p->style, COND_N_STYLES - 1);
    if (!isfinite(p->cfg) || !isfinite(p->memory_guidance)) return err_set("generate: guidance must be finite");
    if (p->vocoder_iters < 1) return err_set("generate: vocoder iterations %d; need at least 1", p->vocoder_iters);
    if (!(p->repeat_strength > 0 && p->repeat_strength <= 1))
        return err_set("generate: repeat strength %g; allowed above 0, at most 1", p->repeat_strength);
    if (!(p->seam_strength > 0 && p->seam_strength <= 1))
        return err_set("generate: seam strength %g; allowed above 0, at most 1", p->seam_strength);
    if (p->prime && (p->memory_from || p->memory_from_each))
        return err_set("generate: another song's memory does not go with a primed recording");
    if (p->memory_from && p->memory_from_each) return err_set("generate: memory_from and memory_from_each both given");
    if (p->prime && (p->prime_samples < 1 || p->prime_rate < 1000 || p->prime_rate > 384000))
        return err_set("generate: a recording of %ld samples at %d Hz", p->prime_samples, p->prime_rate);
    if (p->form_from && (p->form_from_samples < 1 || p->form_from_rate < 1000 || p->form_from_rate > 384000))
        return err_set("generate: a form_from recording of %ld samples at %d Hz", p->form_from_samples,
                       p->form_from_rate);
    return 0;
}

// Another song's sections for a section's memory (refrain_generate_params.memory_from):
// its form on its latent frames, checked against the denoiser.
static int memory_song(SongForm *mform, const refrain_song *o, int z, int section) {
    *mform = refrain_song_form(o);
    long *mb = mallocCheck(sizeof(long) * (mform->n + 1));
    long T = mform->n ? song_bounds(mform, mb) : 0;
    free(mb);
    if (o->latents && mform->n >= 1 && o->z == z && T == o->n_latent) return 0;
    err_set("generate: the memory's song of section %d has %ld latent frames of %d channels; its sections and the "
            "denoiser need %ld of %d", section + 1, o->latents ? o->n_latent : 0, o->z, T, z);
    song_form_free(mform);
    return -1;
}

int refrain_generate(refrain_model *m, const refrain_generate_params *p, refrain_song *out, char *err,
                     size_t err_cap) {
    memset(out, 0, sizeof *out);
    if (!m->den.cfg.z) {
        err_set("generate: the model has no denoiser (refrain_autoencoder_load)");
        return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    }
    if (generate_check_params(p)) return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    if (p->reroll_from) return refrain_reroll(m, p, p->reroll_from, p->reroll, out, err, err_cap);
    if (p->form_from) return edit_generate_form_from(m, p, out, err, err_cap);
    if (p->prime) return edit_generate_primed(m, p, out, err, err_cap);
    FormOpts fo;
    form_opts_default(&fo);
    fo.bpm = p->bpm > 0 ? p->bpm : 120;
    memcpy(fo.default_seconds, params_get(&m->den.params, m->den.med_s), sizeof fo.default_seconds);
    SongForm form;
    if (form_parse(&form, p->form, &fo)) return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    SongParams sp;
    song_params_default(&sp);
    sp.sampler = p->sampler; sp.schedule = p->schedule; sp.steps = p->steps;
    sp.cfg = p->cfg; sp.mem_guidance = p->memory_guidance; sp.no_memory = p->no_memory;
    sp.style = p->style; sp.seed = p->seed;
    sp.repeat_strength = p->repeat_strength; sp.seam_t = p->seam_strength;
    if (p->progress) { sp.progress = den_progress; sp.progress_ctx = (void *)p; }
    // other songs' memories: each one's sections on its latent frames, one per section of the form
    SongForm *mforms = callocCheck(form.n, sizeof *mforms);
    const SongForm **mf = callocCheck(form.n, sizeof *mf);
    const float **ml = callocCheck(form.n, sizeof *ml);
    int grc = 0, bad = 0;
    for (int i = 0; i < form.n && !bad; i++) {
        const refrain_song *o = p->memory_from ? p->memory_from : p->memory_from_each ? p->memory_from_each[i] : NULL;
        if (o) bad = memory_song(&mforms[i], o, m->den.cfg.z, i);
        if (o && !bad) { mf[i] = &mforms[i]; ml[i] = o->latents; }
    }
    if (p->memory_from || p->memory_from_each) { sp.mem_forms = mf; sp.mem_lats = ml; }
    SongLatents lat;
    if (!bad) grc = song_generate(&m->den, &form, &sp, &lat);
    for (int i = 0; i < form.n; i++) song_form_free(&mforms[i]);
    free(mforms); free(mf); free(ml);
    if (bad || grc) { song_form_free(&form); return fail_with(err, err_cap, bad ? REFRAIN_ERR_INPUT : REFRAIN_ERR); }
    // latents -> log-mel (4 mel frames each) -> audio
    double t0 = now_seconds();
    if (p->progress) p->progress(p->progress_user, "decoder", 0, 0, 0, 1);
    long T = lat.T * AE_DOWN;
    float *mel = mallocCheck(sizeof(float) * T * m->ae.cfg.n_mels);
    int rc = ae_decode(&m->ae, lat.lat, lat.T, mel, T, 1);
    double t1 = now_seconds();
    float *x = NULL;
    long n = 0;
    if (!rc) {
        if (p->progress) p->progress(p->progress_user, "vocoder", 0, 0, 0, 1);
        VocoderOpts vo;
        vocoder_defaults(&vo);
        vo.iters = p->vocoder_iters;
        rc = vocode_logmel(&x, &n, mel, T, &vo);
    }
    if (rc) { free(mel); song_latents_free(&lat); song_form_free(&form); return fail_with(err, err_cap, REFRAIN_ERR); }
    out->audio = x; out->n_samples = n; out->sample_rate = SAMPLE_RATE;
    out->logmel = mel; out->n_frames = T; out->n_mels = m->ae.cfg.n_mels;
    out->latents = lat.lat; out->n_latent = lat.T; out->z = lat.z;
    lat.lat = NULL;
    out->n_sections = form.n;
    out->sections = callocCheck(form.n, sizeof *out->sections);
    for (int i = 0; i < form.n; i++) {   // the spans the frames really have
        refrain_section *s = &out->sections[i];
        snprintf(s->label, sizeof s->label, "%s", form.sections[i].label);
        s->occurrence = form.sections[i].occurrence;
        s->start = lat.bounds[i] * (double)AE_DOWN * HOP / SAMPLE_RATE;
        s->end = lat.bounds[i + 1] * (double)AE_DOWN * HOP / SAMPLE_RATE;
        if (i == form.n - 1) s->end = (double)n / SAMPLE_RATE;
        s->seed = lat.seeds[i];
        s->loudness_lufs = form.sections[i].desc.loudness_lufs;
        s->brightness_hz = form.sections[i].desc.brightness_hz;
        s->onset_density = form.sections[i].desc.onset_density;
        s->rms_db = s->confidence = NAN;
    }
    out->bpm = fo.bpm;
    out->seconds_denoiser = lat.seconds_denoiser;
    out->seconds_decoder = t1 - t0;
    out->seconds_vocoder = now_seconds() - t1;
    out->sections_sampled = lat.sections_sampled;
    out->frames_sampled = lat.frames_sampled;
    out->memory_tokens = lat.memory_tokens;
    song_latents_free(&lat);
    song_form_free(&form);
    return 0;
}

SongForm refrain_song_form(const refrain_song *s) {
    SongForm f = {callocCheck(s->n_sections ? s->n_sections : 1, sizeof(SongSection)), s->n_sections, s->bpm,
                  (double)s->n_samples / s->sample_rate};
    for (int i = 0; i < s->n_sections; i++) {
        SongSection *x = &f.sections[i];
        const refrain_section *r = &s->sections[i];
        snprintf(x->label, sizeof x->label, "%s", r->label);
        x->occurrence = r->occurrence;
        x->start = r->start; x->end = r->end; x->seed = r->seed;
        x->confidence = r->confidence;
        x->desc = SECTION_DESCRIPTORS_NONE;
        x->desc.rms_db = r->rms_db;
        x->desc.loudness_lufs = r->loudness_lufs;
        x->desc.brightness_hz = r->brightness_hz;
        x->desc.onset_density = r->onset_density;
    }
    return f;
}
