// library.c — refrain.h beyond generation: timelines (util/song.h), audio in,
// log-mel features, the autoencoder's encode and decode, the vocoder
// (audio/), and the analyzer (data/analyze.h), each behind the header's types:
// plain arrays with their shapes, params structs with defaults, errors copied
// into the caller's buffer. generate.c loads the models; edit.c re-rolls.
// It owns no file naming or atomic output: the caller (the CLI) writes what it
// wants under the names it chooses (util.h OutTx), so the writers here take
// exactly the path or stream given.
#include "refrain.h"
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "data/analyze.h"
#include "sampler/model.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail_with(char *err, size_t cap, int code) {
    if (err && cap) snprintf(err, cap, "%s", err_msg());
    return code;
}

// ---- timelines ---------------------------------------------------------------------------
void public_section(refrain_section *r, const SongSection *x) {
    snprintf(r->label, sizeof r->label, "%s", x->label);
    r->occurrence = x->occurrence;
    r->start = x->start; r->end = x->end; r->seed = x->seed;
    r->loudness_lufs = x->desc.loudness_lufs;
    r->brightness_hz = x->desc.brightness_hz;
    r->onset_density = x->desc.onset_density;
    r->rms_db = x->desc.rms_db;
    r->confidence = x->confidence;
}

static void timeline_from(refrain_timeline *t, const SongForm *f) {
    t->n_sections = f->n;
    t->sections = callocCheck(f->n ? f->n : 1, sizeof *t->sections);
    for (int i = 0; i < f->n; i++) public_section(&t->sections[i], &f->sections[i]);
    t->bpm = f->bpm;
    t->duration = f->duration;
}

// As refrain_song_form does for a song.
SongForm refrain_timeline_form(const refrain_timeline *t) {
    refrain_song s;
    memset(&s, 0, sizeof s);
    s.sections = t->sections;
    s.n_sections = t->n_sections;
    s.bpm = t->bpm;
    s.sample_rate = SAMPLE_RATE;
    SongForm f = refrain_song_form(&s);
    f.duration = t->duration;
    return f;
}

int refrain_timeline_read(refrain_timeline *t, const char *path, char *err, size_t err_cap) {
    memset(t, 0, sizeof *t);
    SongForm f;
    if (timeline_read(path, &f)) return fail_with(err, err_cap, REFRAIN_ERR);
    timeline_from(t, &f);
    song_form_free(&f);
    return 0;
}

int refrain_timeline_write(const refrain_timeline *t, FILE *fp, char *err, size_t err_cap) {
    SongForm f = refrain_timeline_form(t);
    int rc = timeline_write(fp, &f);
    song_form_free(&f);
    return rc ? fail_with(err, err_cap, REFRAIN_ERR) : 0;
}

void refrain_timeline_print(const refrain_timeline *t, FILE *fp) {
    SongForm f = refrain_timeline_form(t);
    timeline_print(fp, &f);
    song_form_free(&f);
}

void refrain_timeline_free(refrain_timeline *t) {
    free(t->sections);
    memset(t, 0, sizeof *t);
}

refrain_timeline refrain_song_timeline(const refrain_song *s) {
    refrain_timeline t = {s->sections, s->n_sections, s->bpm,
                          s->sample_rate > 0 ? (double)s->n_samples / s->sample_rate : 0};
    return t;
}

// ---- arrays ------------------------------------------------------------------------------
void refrain_audio_free(refrain_audio *a) { free(a->samples); memset(a, 0, sizeof *a); }
void refrain_logmel_free(refrain_logmel *m) { free(m->data); memset(m, 0, sizeof *m); }
void refrain_latents_free(refrain_latents *l) { free(l->data); memset(l, 0, sizeof *l); }

int refrain_audio_read(refrain_audio *out, const char *path, double start, double duration, char *err,
                       size_t err_cap) {
    memset(out, 0, sizeof *out);
    int rc = audio_read_range(path, SAMPLE_RATE, start, duration, &out->samples, &out->n_samples);
    if (rc) return fail_with(err, err_cap, rc == AUDIO_ERR_RANGE ? REFRAIN_ERR_INPUT : REFRAIN_ERR);
    out->sample_rate = SAMPLE_RATE;
    return 0;
}

int at_model_rate(const float *x, long n, int rate, float **y, long *ny, int *owned) {
    *owned = rate != SAMPLE_RATE;
    if (!*owned) { *y = (float *)x; *ny = n; return 0; }
    if (rate < 1000 || rate > 384000) return err_set("audio at %d Hz; allowed 1000..384000", rate);
    return audio_resample(y, ny, x, n, rate, SAMPLE_RATE);
}

int refrain_logmel_from_audio(refrain_logmel *out, const float *x, long n, int rate, char *err, size_t err_cap) {
    memset(out, 0, sizeof *out);
    float *y;
    long ny;
    int owned;
    if (at_model_rate(x, n, rate, &y, &ny, &owned)) return fail_with(err, err_cap, REFRAIN_ERR);
    int rc = logmel_from_audio(&out->data, &out->n_frames, y, ny);
    if (owned) free(y);
    if (rc) return fail_with(err, err_cap, REFRAIN_ERR);
    out->n_mels = N_MELS;
    return 0;
}

// ---- the autoencoder -----------------------------------------------------------------------
int refrain_model_z(const refrain_model *m) { return m->ae.cfg.z; }
int refrain_model_latent_stats(const refrain_model *m) { return m->ae.has_stats; }

int refrain_encode(refrain_model *m, const float *x, long n, int rate, refrain_latents *out, refrain_logmel *mel,
                   char *err, size_t err_cap) {
    memset(out, 0, sizeof *out);
    refrain_logmel lm;
    if (refrain_logmel_from_audio(&lm, x, n, rate, err, err_cap)) return REFRAIN_ERR;
    long T = lm.n_frames, Tl = ae_latent_frames(T);
    float *lat = mallocCheck(sizeof(float) * Tl * m->ae.cfg.z);   // (Tl, Z)
    if (ae_encode(&m->ae, lm.data, T, lat, 1)) {
        free(lat);
        refrain_logmel_free(&lm);
        return fail_with(err, err_cap, REFRAIN_ERR);
    }
    out->data = lat; out->n_latent = Tl; out->z = m->ae.cfg.z; out->n_frames = T;
    if (mel) *mel = lm;
    else refrain_logmel_free(&lm);
    return 0;
}

int refrain_decode(refrain_model *m, const refrain_latents *lat, refrain_logmel *out, char *err, size_t err_cap) {
    memset(out, 0, sizeof *out);
    if (lat->z != m->ae.cfg.z) {
        err_set("latents of %d channels, the autoencoder expects %d; decode with the model that encoded them", lat->z,
                m->ae.cfg.z);
        return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    }
    if (lat->n_latent < 1 || ae_latent_frames(lat->n_frames) != lat->n_latent) {
        err_set("%ld latent frames do not make %ld log-mel frames (%d each)", lat->n_latent, lat->n_frames, AE_DOWN);
        return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    }
    long T = lat->n_frames;
    float *lm = mallocCheck(sizeof(float) * T * m->ae.cfg.n_mels);   // (T, M)
    if (ae_decode(&m->ae, lat->data, lat->n_latent, lm, T, 1)) { free(lm); return fail_with(err, err_cap, REFRAIN_ERR); }
    out->data = lm; out->n_frames = T; out->n_mels = m->ae.cfg.n_mels;
    return 0;
}

int refrain_latents_read(refrain_latents *out, const char *path, char *err, size_t err_cap) {
    memset(out, 0, sizeof *out);
    if (latents_read(path, &out->data, &out->n_latent, &out->z, &out->n_frames))
        return fail_with(err, err_cap, REFRAIN_ERR);
    return 0;
}

int refrain_latents_write(const refrain_latents *lat, const char *path, char *err, size_t err_cap) {
    if (latents_write(path, lat->data, lat->n_latent, lat->z, lat->n_frames)) return fail_with(err, err_cap, REFRAIN_ERR);
    return 0;
}

// ---- the vocoder -----------------------------------------------------------------------------
refrain_vocode_params refrain_vocode_default_params(void) {
    VocoderOpts vo;
    vocoder_defaults(&vo);
    refrain_vocode_params p = {vo.iters, (int)vo.init, vo.momentum, vo.seed, NULL, NULL};
    return p;
}

static void vocode_progress(void *ctx, int it, int iters) {
    const refrain_vocode_params *p = ctx;
    p->progress(p->progress_user, "vocoder", 0, 0, it, iters);
}

int refrain_vocode(const refrain_vocode_params *p, const refrain_logmel *mel, refrain_audio *out, char *err,
                   size_t err_cap) {
    memset(out, 0, sizeof *out);
    if (p->iters < 1) { err_set("vocode: %d iterations; need at least 1", p->iters); return fail_with(err, err_cap, REFRAIN_ERR_INPUT); }
    if (p->init < PHASE_RANDOM || p->init > PHASE_PGHI) { err_set("vocode: unknown initial phase %d", p->init); return fail_with(err, err_cap, REFRAIN_ERR_INPUT); }
    if (!(p->momentum >= 0 && p->momentum <= (float)VOCODER_MOMENTUM_MAX)) {
        err_set("vocode: momentum %g; allowed 0..%g", p->momentum, VOCODER_MOMENTUM_MAX);
        return fail_with(err, err_cap, REFRAIN_ERR_INPUT);
    }
    if (mel->n_mels != N_MELS) { err_set("vocode: %d mel bands; the vocoder takes %d", mel->n_mels, N_MELS); return fail_with(err, err_cap, REFRAIN_ERR_INPUT); }
    VocoderOpts vo;
    vocoder_defaults(&vo);
    vo.iters = p->iters;
    vo.init = (PhaseInit)p->init;
    vo.momentum = p->momentum;
    vo.seed = p->seed;
    if (p->progress) { vo.on_iter = vocode_progress; vo.on_iter_ctx = (void *)p; }
    if (vocode_logmel(&out->samples, &out->n_samples, mel->data, mel->n_frames, &vo)) return fail_with(err, err_cap, REFRAIN_ERR);
    out->sample_rate = SAMPLE_RATE;
    return 0;
}

double refrain_spectral_convergence(const float *x, long nx, const float *y, long ny) {
    if (ny < 1 || nx < ny) return NAN;
    long T = stft_frames(ny);
    Stft *s = stft_create();
    if (!s) return NAN;
    float *mag = mallocCheck(sizeof(float) * T * N_BINS);   // (T, F) of x's first ny samples
    stft_magnitude(s, mag, x, ny);
    stft_free(s);
    double sc = spectral_convergence(mag, T, y, ny);
    free(mag);
    return sc;
}

int refrain_spectrogram_png(const refrain_logmel *mel, const refrain_timeline *t, const char *path, char *err,
                            size_t err_cap) {
    if (mel->n_mels != N_MELS) { err_set("spectrogram: %d mel bands; it draws %d", mel->n_mels, N_MELS); return fail_with(err, err_cap, REFRAIN_ERR_INPUT); }
    SongForm f = {0};
    if (t) f = refrain_timeline_form(t);
    int rc = spectrogram_png(path, mel->data, mel->n_frames, t ? &f : NULL);
    song_form_free(&f);
    return rc ? fail_with(err, err_cap, REFRAIN_ERR) : 0;
}

// ---- the analyzer ----------------------------------------------------------------------------
struct refrain_analysis {
    Analysis a;
    refrain_timeline t;   // a.form in the public type
};

refrain_analyze_params refrain_analyze_default_params(void) {
    AnalyzeOpts o;
    analyze_defaults(&o);
    refrain_analyze_params p = {o.min_section_s, o.kernel_s, 0, o.label_threshold, 0};
    return p;
}

refrain_analysis *refrain_analyze(const float *x, long n, int rate, const refrain_analyze_params *p, char *err,
                                  size_t err_cap) {
    refrain_analyze_params d = refrain_analyze_default_params();
    if (!p) p = &d;
    if (!(p->min_section > 0) || !(p->kernel > 0) || !(p->threshold >= 0 && p->threshold <= 1)) {
        err_set("analyze: min_section %g, kernel %g, threshold %g; allowed above 0, above 0, 0..1", p->min_section,
                p->kernel, p->threshold);
        fail_with(err, err_cap, REFRAIN_ERR_INPUT);
        return NULL;
    }
    AnalyzeOpts o;
    analyze_defaults(&o);
    o.min_section_s = p->min_section;
    o.kernel_s = p->kernel;
    o.label_threshold = (float)p->threshold;
    if (p->fixed_scale) o.scale_power = 0;
    if (p->patterns) o.level = ANALYZE_PATTERNS;
    float *y;
    long ny;
    int owned;
    if (at_model_rate(x, n, rate, &y, &ny, &owned)) { fail_with(err, err_cap, REFRAIN_ERR); return NULL; }
    refrain_analysis *r = callocCheck(1, sizeof *r);
    int rc = analyze_audio(&r->a, y, ny, &o);
    if (owned) free(y);
    if (rc) { fail_with(err, err_cap, REFRAIN_ERR); free(r); return NULL; }
    timeline_from(&r->t, &r->a.form);
    return r;
}

const refrain_timeline *refrain_analysis_timeline(const refrain_analysis *a) { return &a->t; }

int refrain_analysis_png(const refrain_analysis *a, const char *path, char *err, size_t err_cap) {
    return analysis_ssm_png(path, &a->a) ? fail_with(err, err_cap, REFRAIN_ERR) : 0;
}

void refrain_analysis_free(refrain_analysis *a) {
    if (!a) return;
    analysis_free(&a->a);
    refrain_timeline_free(&a->t);
    free(a);
}
