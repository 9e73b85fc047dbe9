// test_library.c — refrain.h's calls beyond generation (sampler/library.c) on
// the tiny test models and audio made here: each gives exactly what the module
// function it wraps gives (bit for bit, with the parameters mapped as the
// header says), the shapes the header states, the input errors it promises
// (REFRAIN_ERR_INPUT, with a message naming what is wrong), and the timeline
// writer and reader round trip; refrain_generate's re-roll and form-from
// (reroll_from, form_from) as the calls they stand for.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refrain.h"
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "data/analyze.h"
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "util/util.h"

static char g_dir[] = "/tmp/refrain-test-library-XXXXXX", g_den[256], g_ae[256];

// A / B / A / B sections of 6 s: plucked C-major and slow D-minor chords.
static float *make_song(long *n) {
    *n = 24L * SAMPLE_RATE;
    float *x = callocCheck(*n, sizeof(float));
    static const double A[3] = {261.6, 329.6, 392.0}, B[3] = {293.7, 349.2, 440.0};
    for (long i = 0; i < *n; i++) {
        double t = (double)i / SAMPLE_RATE, tb = fmod(t, 0.5);
        int b = (int)(t / 6) % 2;
        const double *f = b ? B : A;
        double env = b ? 0.6 : exp(-tb / 0.15), s = 0;
        for (int k = 0; k < 3; k++) s += sin(2 * M_PI * f[k] * t) + (b ? 0 : 0.5 * sin(4 * M_PI * f[k] * t));
        x[i] = (float)(0.2 * env * s);
    }
    return x;
}

static int same_floats(const float *a, const float *b, long n) { return n >= 0 && memcmp(a, b, sizeof(float) * n) == 0; }

static void test_autoencoder(const float *x, long n) {
    char err[512];
    refrain_model *m = refrain_autoencoder_load(g_ae, err, sizeof err);
    if (!CHECK(m != NULL, "refrain_autoencoder_load: %s", m ? "loaded" : err)) return;
    CHECK(refrain_model_z(m) == 4 && refrain_model_latent_stats(m) == 1, "the tiny autoencoder: z %d, latent statistics %d",
          refrain_model_z(m), refrain_model_latent_stats(m));
    refrain_model *none = refrain_autoencoder_load("/nonexistent/ae.rfc", err, sizeof err);
    CHECK(!none && strstr(err, "/nonexistent/ae.rfc"), "a missing model: NULL, the message names it: %s", err);

    // encode = logmel_from_audio + ae_encode, bit for bit
    refrain_latents lat;
    refrain_logmel mel;
    int rc = refrain_encode(m, x, n, SAMPLE_RATE, &lat, &mel, err, sizeof err);
    Ae ae;
    ae_load(&ae, g_ae, NULL);
    float *lm;
    long T;
    logmel_from_audio(&lm, &T, x, n);
    long Tl = ae_latent_frames(T);
    float *want = mallocCheck(sizeof(float) * Tl * 4);
    ae_encode(&ae, lm, T, want, 1);
    CHECK(rc == 0 && lat.n_frames == T && T == stft_frames(n) && lat.n_latent == Tl && lat.z == 4,
          "encode: %ld log-mel frames -> %ld x %d latents (want %ld -> %ld x 4)", lat.n_frames, lat.n_latent, lat.z, T, Tl);
    CHECK(rc == 0 && same_floats(lat.data, want, Tl * 4), "encode: the latents are ae_encode's, bit for bit");
    CHECK(rc == 0 && mel.n_frames == T && mel.n_mels == N_MELS && same_floats(mel.data, lm, T * N_MELS),
          "encode: the log-mel it kept is logmel_from_audio's");

    // decode = ae_decode; its refusals
    refrain_logmel dec;
    rc = refrain_decode(m, &lat, &dec, err, sizeof err);
    float *want_dec = mallocCheck(sizeof(float) * T * N_MELS);
    ae_decode(&ae, want, Tl, want_dec, T, 1);
    CHECK(rc == 0 && dec.n_frames == T && dec.n_mels == N_MELS && same_floats(dec.data, want_dec, T * N_MELS),
          "decode: %ld x %d log-mel, ae_decode's bit for bit", dec.n_frames, dec.n_mels);
    refrain_latents bad = lat;
    bad.z = 3;
    refrain_logmel junk;
    rc = refrain_decode(m, &bad, &junk, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "3 channels") && strstr(err, "expects 4"), "decode of 3-channel latents: %d, %s", rc, err);
    bad = lat;
    bad.n_frames = lat.n_latent * 4 + 7;
    rc = refrain_decode(m, &bad, &junk, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT, "decode with more log-mel frames than the latents make: %d, %s", rc, err);

    // a model without a denoiser cannot generate
    refrain_generate_params gp = refrain_generate_default_params();
    gp.form = "verse:2";
    refrain_song song;
    rc = refrain_generate(m, &gp, &song, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "no denoiser"), "generate with the autoencoder alone: %d, %s", rc, err);

    // the latent file round trip
    char path[512];
    snprintf(path, sizeof path, "%s/lat.bin", g_dir);
    refrain_latents back;
    rc = refrain_latents_write(&lat, path, err, sizeof err) || refrain_latents_read(&back, path, err, sizeof err);
    CHECK(rc == 0 && back.n_latent == lat.n_latent && back.z == lat.z && back.n_frames == lat.n_frames &&
              same_floats(back.data, lat.data, lat.n_latent * lat.z),
          "latents written and read back: the same shapes and bits");
    refrain_latents missing;
    rc = refrain_latents_read(&missing, "/nonexistent/lat.bin", err, sizeof err);
    CHECK(rc == REFRAIN_ERR && strstr(err, "/nonexistent/lat.bin"), "reading a missing latent file: %s", err);

    // encode at another rate: resampled first
    float *x2 = mallocCheck(sizeof(float) * 2 * n);
    for (long i = 0; i < 2 * n; i++) x2[i] = x[i / 2];
    refrain_latents lat2;
    rc = refrain_encode(m, x2, 2 * n, 2 * SAMPLE_RATE, &lat2, NULL, err, sizeof err);
    CHECK(rc == 0 && labs(lat2.n_frames - T) <= 1, "encode at 44.1 kHz: %ld log-mel frames (%ld at 22.05 kHz)", lat2.n_frames, T);
    refrain_latents_free(&lat2);
    free(x2);

    refrain_logmel_free(&dec);
    refrain_latents_free(&back);
    refrain_latents_free(&lat);
    refrain_logmel_free(&mel);
    CHECK(lat.data == NULL && mel.data == NULL && mel.n_frames == 0, "the free functions zero what they free");
    free(want); free(want_dec); free(lm);
    ae_free(&ae);
    refrain_model_free(m);
}

typedef struct { int calls, last, steps, bad; } Progress;
static void on_progress(void *user, const char *stage, int section, int n, int step, int steps) {
    Progress *p = user;
    p->calls++;
    if (strcmp(stage, "vocoder") != 0 || step != p->last + 1) p->bad++;
    p->last = step;
    p->steps = steps;
}

static void test_vocoder(const float *x, long n) {
    char err[512];
    refrain_vocode_params vp = refrain_vocode_default_params();
    VocoderOpts vo;
    vocoder_defaults(&vo);
    CHECK(vp.iters == vo.iters && vp.init == (int)vo.init && vp.momentum == vo.momentum && vp.seed == vo.seed,
          "vocode defaults are the vocoder's: %d iterations, init %d, momentum %g", vp.iters, vp.init, vp.momentum);
    long n3 = 3L * SAMPLE_RATE;
    refrain_logmel mel;
    int rc = refrain_logmel_from_audio(&mel, x, n3, SAMPLE_RATE, err, sizeof err);
    if (!CHECK(rc == 0 && mel.n_frames == stft_frames(n3) && mel.n_mels == N_MELS, "log-mel of 3 s: %ld x %d",
               rc ? 0 : mel.n_frames, rc ? 0 : mel.n_mels))
        return;
    Progress pr = {0, 0, 0, 0};
    vp.iters = 3;
    vp.progress = on_progress;
    vp.progress_user = &pr;
    refrain_audio y;
    rc = refrain_vocode(&vp, &mel, &y, err, sizeof err);
    vo.iters = 3;
    float *want;
    long nw;
    vocode_logmel(&want, &nw, mel.data, mel.n_frames, &vo);
    CHECK(rc == 0 && y.n_samples == (mel.n_frames - 1) * HOP && y.sample_rate == SAMPLE_RATE && y.n_samples == nw &&
              same_floats(y.samples, want, nw),
          "vocode: %ld samples, vocode_logmel's bit for bit", y.n_samples);
    CHECK(pr.calls == 3 && pr.steps == 3 && pr.bad == 0, "progress: %d calls, stage \"vocoder\", steps 1..%d", pr.calls, pr.steps);
    double sc = refrain_spectral_convergence(x, n3, y.samples, y.n_samples);
    double self = refrain_spectral_convergence(x, n3, x, y.n_samples);
    CHECK(isfinite(sc) && sc > 0.01 && sc < 1.5 && self == 0, "spectral convergence: %.3f after 3 iterations, %.3f of x with itself",
          sc, self);
    CHECK(isnan(refrain_spectral_convergence(x, 10, y.samples, y.n_samples)), "spectral convergence with x shorter than y: NAN");
    refrain_audio junk;
    refrain_vocode_params bad = vp;
    bad.iters = 0;
    CHECK(refrain_vocode(&bad, &mel, &junk, err, sizeof err) == REFRAIN_ERR_INPUT, "0 iterations refused: %s", err);
    bad = vp;
    bad.momentum = 1;
    CHECK(refrain_vocode(&bad, &mel, &junk, err, sizeof err) == REFRAIN_ERR_INPUT && strstr(err, "momentum"),
          "momentum 1 refused: %s", err);
    bad = vp;
    bad.init = 3;
    CHECK(refrain_vocode(&bad, &mel, &junk, err, sizeof err) == REFRAIN_ERR_INPUT, "init 3 refused: %s", err);
    bad.momentum = (float)VOCODER_MOMENTUM_MAX;
    bad.init = 2;
    bad.iters = 1;
    bad.progress = NULL;
    CHECK(refrain_vocode(&bad, &mel, &junk, err, sizeof err) == 0, "momentum %g, the vocoder's limit, taken", VOCODER_MOMENTUM_MAX);
    refrain_audio_free(&junk);

    char path[512];
    snprintf(path, sizeof path, "%s/spec.png", g_dir);
    rc = refrain_spectrogram_png(&mel, NULL, path, err, sizeof err);
    FILE *f = fopen(path, "rb");
    unsigned char sig[4] = {0};
    if (f) { if (fread(sig, 1, 4, f) != 4) sig[0] = 0; fclose(f); }
    CHECK(rc == 0 && sig[0] == 0x89 && sig[1] == 'P', "spectrogram PNG written");
    free(want);
    refrain_audio_free(&y);
    refrain_logmel_free(&mel);
}

static void test_timeline(void) {
    char err[512], path[512];
    snprintf(path, sizeof path, "%s/t.json", g_dir);
    refrain_section s[2];
    memset(s, 0, sizeof s);
    snprintf(s[0].label, sizeof s[0].label, "verse");
    snprintf(s[1].label, sizeof s[1].label, "chorus");
    s[0].occurrence = s[1].occurrence = 1;
    s[0].start = 0; s[0].end = 4.25; s[1].start = 4.25; s[1].end = 9.5;
    s[0].seed = 17; s[1].seed = 0;
    s[0].loudness_lufs = -14.5f; s[0].brightness_hz = 1200.5f; s[0].onset_density = 2.5f; s[0].rms_db = -12.25f;
    s[0].confidence = 0.75f;
    s[1].loudness_lufs = s[1].brightness_hz = s[1].onset_density = s[1].rms_db = s[1].confidence = NAN;
    refrain_timeline t = {s, 2, 96, 9.5};
    FILE *f = fopen(path, "w");
    int rc = !f || refrain_timeline_write(&t, f, err, sizeof err);
    if (f) fclose(f);
    refrain_timeline b;
    rc = rc || refrain_timeline_read(&b, path, err, sizeof err);
    if (!CHECK(rc == 0 && b.n_sections == 2, "timeline written and read back: %d sections", rc ? 0 : b.n_sections)) return;
    const refrain_section *r = b.sections;
    CHECK(!strcmp(r[0].label, "verse") && !strcmp(r[1].label, "chorus") && r[0].start == 0 && r[0].end == 4.25 &&
              r[1].end == 9.5 && r[0].seed == 17 && r[1].seed == 0 && b.bpm == 96 && b.duration == 9.5,
          "labels, spans, seeds, bpm and duration");
    CHECK(r[0].loudness_lufs == -14.5f && r[0].brightness_hz == 1200.5f && r[0].onset_density == 2.5f &&
              r[0].rms_db == -12.25f && r[0].confidence == 0.75f,
          "descriptors and confidence");
    CHECK(isnan(r[1].loudness_lufs) && isnan(r[1].rms_db) && isnan(r[1].confidence), "unknown fields stay NAN");
    refrain_timeline_free(&b);
    CHECK(b.sections == NULL && b.n_sections == 0, "refrain_timeline_free zeroes");
    snprintf(path, sizeof path, "%s/bad.json", g_dir);
    f = fopen(path, "w");
    if (f) { fputs("{\"sections\": [{\"start\": 5, \"end\": 2}]}", f); fclose(f); }
    CHECK(refrain_timeline_read(&b, path, err, sizeof err) == REFRAIN_ERR && strstr(err, "bad.json") && b.sections == NULL,
          "a reversed section refused: %s", err);
    char *buf = NULL;
    size_t len = 0;
    f = open_memstream(&buf, &len);
    refrain_timeline_print(&t, f);
    fclose(f);
    const char *line = "form: versechorus   (2 sections, 9.5 s)\n";
    CHECK(buf && !strncmp(buf, line, strlen(line)), "the table's form line: %.40s", buf ? buf : "");
    free(buf);

    refrain_song song;
    memset(&song, 0, sizeof song);
    song.sections = s; song.n_sections = 2; song.bpm = 96; song.n_samples = 9 * SAMPLE_RATE; song.sample_rate = SAMPLE_RATE;
    refrain_timeline v = refrain_song_timeline(&song);
    CHECK(v.sections == s && v.n_sections == 2 && v.bpm == 96 && v.duration == 9, "refrain_song_timeline: a view of the song");
}

static void test_analyze(const float *x, long n) {
    char err[512];
    refrain_analyze_params p = refrain_analyze_default_params();
    AnalyzeOpts o;
    analyze_defaults(&o);
    CHECK(p.min_section == o.min_section_s && p.kernel == o.kernel_s && p.threshold == o.label_threshold && !p.fixed_scale,
          "analyze defaults are the analyzer's: min section %g s, kernel %g s, threshold %g", p.min_section, p.kernel, p.threshold);
    p.min_section = 3;
    p.kernel = 2.5;
    p.threshold = 0.4;
    p.fixed_scale = 1;
    refrain_analysis *a = refrain_analyze(x, n, SAMPLE_RATE, &p, err, sizeof err);
    o.min_section_s = 3;
    o.kernel_s = 2.5;
    o.label_threshold = 0.4f;
    o.scale_power = 0;
    Analysis want;
    int rc = analyze_audio(&want, x, n, &o);
    if (!CHECK(a && rc == 0, "refrain_analyze and analyze_audio: %s", a ? "both ran" : err)) return;
    const refrain_timeline *t = refrain_analysis_timeline(a);
    int same = t->n_sections == want.form.n && t->duration == want.form.duration;
    for (int i = 0; same && i < t->n_sections; i++) {
        const SongSection *w = &want.form.sections[i];
        same = !strcmp(t->sections[i].label, w->label) && t->sections[i].start == w->start && t->sections[i].end == w->end &&
               t->sections[i].occurrence == w->occurrence && t->sections[i].confidence == w->confidence &&
               t->sections[i].loudness_lufs == w->desc.loudness_lufs && t->sections[i].rms_db == w->desc.rms_db;
    }
    char form[64] = "";
    for (int i = 0; i < t->n_sections && strlen(form) < 60; i++) strcat(form, t->sections[i].label);
    CHECK(same, "the sections are analyze_audio's with the parameters mapped: %s over %.1f s", form, t->duration);
    CHECK(t->n_sections >= 2 && t->sections[0].label[0] == 'A', "more than one section, the first labelled A: %s", form);
    char path[512];
    snprintf(path, sizeof path, "%s/ssm.png", g_dir);
    rc = refrain_analysis_png(a, path, err, sizeof err);
    CHECK(rc == 0 && access(path, F_OK) == 0, "the self-similarity PNG written");
    analysis_free(&want);
    refrain_analysis_free(a);

    // each parameter reaches the analyzer: a shortest section of 13 s leaves 24 s one
    // section; threshold 0 gives every segment one label, and neighbours that share one merge
    for (int k = 0; k < 2; k++) {
        p = refrain_analyze_default_params();
        if (k == 0) p.min_section = 13;
        else p.threshold = 0;
        a = refrain_analyze(x, n, SAMPLE_RATE, &p, err, sizeof err);
        CHECK(a && refrain_analysis_timeline(a)->n_sections == 1, "%s: %d section(s)",
              k ? "threshold 0" : "min_section 13", a ? refrain_analysis_timeline(a)->n_sections : -1);
        refrain_analysis_free(a);
    }
    p = refrain_analyze_default_params();
    p.threshold = 1.5;
    a = refrain_analyze(x, n, SAMPLE_RATE, &p, err, sizeof err);
    CHECK(!a && strstr(err, "threshold"), "threshold 1.5 refused: %s", err);
    float *x2 = mallocCheck(sizeof(float) * n / 2);
    for (long i = 0; i < n / 2; i++) x2[i] = x[2 * i];
    a = refrain_analyze(x2, n / 2, SAMPLE_RATE / 2, NULL, err, sizeof err);
    CHECK(a && fabs(refrain_analysis_timeline(a)->duration - 24) < 0.1, "11.025 kHz audio, default params: %.2f s analysed",
          a ? refrain_analysis_timeline(a)->duration : 0);
    refrain_analysis_free(a);
    free(x2);
}

static void test_audio_read(const float *x) {
    char err[512], path[512];
    snprintf(path, sizeof path, "%s/x.wav", g_dir);
    audio_write(path, x, 2L * SAMPLE_RATE, SAMPLE_RATE, 1);
    refrain_audio a;
    int rc = refrain_audio_read(&a, path, 0.5, 1, err, sizeof err);
    CHECK(rc == 0 && a.n_samples == SAMPLE_RATE && a.sample_rate == SAMPLE_RATE && same_floats(a.samples, x + SAMPLE_RATE / 2, SAMPLE_RATE),
          "refrain_audio_read of [0.5, 1.5) s: %ld samples, the ones written", a.n_samples);
    refrain_audio_free(&a);
    rc = refrain_audio_read(&a, path, 3, 0, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "past the end"), "a start past the end: REFRAIN_ERR_INPUT: %s", err);
    rc = refrain_audio_read(&a, "/nonexistent/x.wav", 0, 0, err, sizeof err);
    CHECK(rc == REFRAIN_ERR && strstr(err, "/nonexistent/x.wav"), "a missing file: REFRAIN_ERR: %s", err);
}

// refrain_generate as the one entry for every kind of song: reroll_from is
// refrain_reroll bit for bit, form_from is refrain_form_from_audio's form given as
// form, bit for bit, each saying what it did (rerolled, form); what does not go
// together is REFRAIN_ERR_INPUT.
static void test_generate_entry(const float *x, long n) {
    char err[512];
    refrain_model_params mp = {g_den, g_ae};
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    if (!CHECK(m != NULL, "tiny denoiser and autoencoder load: %s", m ? "ok" : err)) return;
    refrain_generate_params p = refrain_generate_default_params();
    p.form = "intro:3 verse:3 chorus:3 verse:3 chorus:3";
    p.seed = 11; p.steps = 3; p.vocoder_iters = 4;
    refrain_song a, b, c;
    int rc = refrain_generate(m, &p, &a, err, sizeof err);
    if (!CHECK(rc == 0, "a song to re-roll: %s", rc ? err : "ok")) { refrain_model_free(m); return; }
    CHECK(a.form == NULL && a.rerolled == NULL && a.n_rerolled == 0, "a plain song: no form string, nothing re-rolled");
    refrain_generate_params q = p;
    q.form = NULL; q.seed = 12; q.reroll_from = &a; q.reroll = "chorus";
    rc = refrain_generate(m, &q, &b, err, sizeof err);
    int rc2 = refrain_reroll(m, &q, &a, "chorus", &c, err, sizeof err);
    CHECK(rc == 0 && rc2 == 0 && b.n_latent == c.n_latent && same_floats(b.latents, c.latents, b.n_latent * b.z) &&
          b.n_samples == c.n_samples && same_floats(b.audio, c.audio, b.n_samples) &&
          b.frames_sampled == c.frames_sampled && !same_floats(a.latents, b.latents, a.n_latent * a.z),
          "reroll_from + reroll \"chorus\": refrain_reroll's song bit for bit (latents, samples), not the original");
    CHECK(rc == 0 && rc2 == 0 && b.n_rerolled == 2 && b.rerolled[0] == 2 && b.rerolled[1] == 4 && c.n_rerolled == 2 &&
          c.rerolled[0] == 2 && c.rerolled[1] == 4 && b.form == NULL,
          "the re-rolled sections are listed: %d of them (3 and 5, counted from 1)", rc ? -1 : b.n_rerolled);
    if (!rc) refrain_song_free(&b);
    if (!rc2) refrain_song_free(&c);
    q.reroll = "bridge";
    rc = refrain_generate(m, &q, &b, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "intro, verse, chorus"), "a label the song lacks: REFRAIN_ERR_INPUT: %s", err);
    q.reroll = "2"; q.form = "verse";
    rc = refrain_generate(m, &q, &b, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "reroll_from"), "reroll_from with a form: REFRAIN_ERR_INPUT: %s", err);

    // form_from: the form of the A B A B recording, then that form
    char form[512];
    rc = refrain_form_from_audio(x, n, SAMPLE_RATE, form, sizeof form, err, sizeof err);
    if (CHECK(rc == 0, "refrain_form_from_audio: %s", rc ? err : form)) {
        q = p;
        q.form = NULL; q.form_from = x; q.form_from_samples = n; q.form_from_rate = SAMPLE_RATE;
        rc = refrain_generate(m, &q, &b, err, sizeof err);
        p.form = form;
        rc2 = refrain_generate(m, &p, &c, err, sizeof err);
        CHECK(rc == 0 && rc2 == 0 && b.form && !strcmp(b.form, form) && c.form == NULL && b.n_samples == c.n_samples &&
              same_floats(b.audio, c.audio, b.n_samples) && same_floats(b.latents, c.latents, b.n_latent * b.z) &&
              b.n_sections == c.n_sections,
              "form_from: the song refrain_form_from_audio's form gives, bit for bit (%d sections), and that form: %s",
              rc ? -1 : b.n_sections, rc ? err : b.form);
        if (!rc) refrain_song_free(&b);
        if (!rc2) refrain_song_free(&c);
    }
    q = p;
    q.form_from = x; q.form_from_samples = n; q.form_from_rate = SAMPLE_RATE;
    rc = refrain_generate(m, &q, &b, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "form_from"), "form and form_from both: REFRAIN_ERR_INPUT: %s", err);
    q.form = NULL; q.form_from_samples = 0;
    rc = refrain_generate(m, &q, &b, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "0 samples"), "an empty form_from recording: REFRAIN_ERR_INPUT: %s", err);
    refrain_song_free(&a);
    refrain_model_free(m);
}

int main(void) {
    if (!CHECK(mkdtemp(g_dir) != NULL, "scratch folder %s", g_dir)) return check_summary("test_library");
    snprintf(g_den, sizeof g_den, "%s/den.rfc", g_dir);
    snprintf(g_ae, sizeof g_ae, "%s/ae.rfc", g_dir);
    if (!CHECK(tiny_models_write(g_den, g_ae) == 0, "tiny models written: %s", err_msg())) return check_summary("test_library");
    long n;
    float *x = make_song(&n);
    test_autoencoder(x, 4L * SAMPLE_RATE);
    test_vocoder(x, n);
    test_timeline();
    test_analyze(x, n);
    test_audio_read(x);
    test_generate_entry(x, n);
    free(x);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) printf("  (could not remove %s)\n", g_dir);
    return check_summary("test_library");
}
