// test_generate — the song loop and refrain.h's generate with tiny models
// written here (a random denoiser and autoencoder, so the sound is noise but
// every rule about it can be checked):
//   - sections, boundaries and lengths as the form says; the timeline agrees
//     with the audio's length; labels and occurrences carried;
//   - same seed: identical samples; another seed: different ones;
//   - memory off changes only what depends on memory: the first section's
//     latents are identical, a later one's differ;
//   - a long section is made in chunks of at most the model's crop;
//   - a bad form is an input error naming the word; a missing model names
//     where it looked.
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "refrain.h"
#include "autoencoder/autoencoder.h"
#include "diffusion/diffusion.h"
#include "nn/checkpoint.h"
#include "sampler/sampler.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[128], g_den[256], g_ae[256];

static int write_models(void) { return tiny_models_write(g_den, g_ae); }

static refrain_generate_params params(const char *form, uint64_t seed) {
    refrain_generate_params p = refrain_generate_default_params();
    p.form = form;
    p.seed = seed;
    p.steps = 3;
    p.vocoder_iters = 4;
    return p;
}

static void test_song(refrain_model *m) {
    const char *form = "intro:3 verse:4 chorus:5 verse:4 chorus:5";
    refrain_generate_params p = params(form, 11);
    refrain_song a, b, c;
    char err[512];
    int rc = refrain_generate(m, &p, &a, err, sizeof err);
    CHECK(rc == 0, "a five-section song (%s)", rc ? err : "ok");
    if (rc) return;
    double secs = (double)a.n_samples / a.sample_rate;
    CHECK(a.n_sections == 5 && !strcmp(a.sections[2].label, "chorus") && a.sections[4].occurrence == 2,
          "sections, labels and occurrences as the form says");
    int spans = 1;
    const double want[5] = {3, 4, 5, 4, 5};
    for (int i = 0; i < 5; i++) {
        double len = a.sections[i].end - a.sections[i].start;
        spans &= fabs(len - want[i]) < 0.05 && (i == 0 || a.sections[i].start == a.sections[i - 1].end);
    }
    CHECK(spans && a.sections[0].start == 0, "each section's length within 50 ms of the form's, end to end");
    CHECK(fabs(a.sections[4].end - secs) < 1e-9 && fabs(secs - 21) < 0.05,
          "the timeline ends where the audio ends (%.3f s)", secs);
    CHECK(a.n_latent * 4 == a.n_frames && a.n_samples == (a.n_frames - 1) * 256,
          "latents, log-mel frames and samples agree (%ld, %ld, %ld)", a.n_latent, a.n_frames, a.n_samples);
    int finite = 1;
    for (long i = 0; i < a.n_samples; i++) finite &= isfinite(a.audio[i]) != 0;
    CHECK(finite, "every sample finite");
    rc = refrain_generate(m, &p, &b, err, sizeof err);
    CHECK(rc == 0 && b.n_samples == a.n_samples && !memcmp(a.audio, b.audio, sizeof(float) * a.n_samples) &&
          !memcmp(a.latents, b.latents, sizeof(float) * a.n_latent * a.z), "the same seed: identical samples");
    refrain_song_free(&b);
    // Thread counts agree too: every parallel loop splits by output element (no
    // reduction is shared between threads), so 2 threads give 1 thread's bytes.
    nn_set_threads(2);
    rc = refrain_generate(m, &p, &b, err, sizeof err);
    nn_set_threads(1);
    CHECK(rc == 0 && b.n_samples == a.n_samples && !memcmp(a.audio, b.audio, sizeof(float) * a.n_samples) &&
          !memcmp(a.latents, b.latents, sizeof(float) * a.n_latent * a.z), "2 threads: the same samples as 1");
    refrain_song_free(&b);
    p.seed = 12;
    rc = refrain_generate(m, &p, &b, err, sizeof err);
    CHECK(rc == 0 && memcmp(a.latents, b.latents, sizeof(float) * a.n_latent * a.z) != 0 &&
          a.sections[0].seed != b.sections[0].seed, "another seed: other samples and seeds");
    refrain_song_free(&b);
    p.seed = 11;
    p.no_memory = 1;
    rc = refrain_generate(m, &p, &c, err, sizeof err);
    long s1 = lround(a.sections[1].start * 22050.0 / 1024), s2 = lround(a.sections[2].start * 22050.0 / 1024);
    long s3 = lround(a.sections[3].start * 22050.0 / 1024);
    CHECK(rc == 0 && !memcmp(a.latents, c.latents, sizeof(float) * s1 * a.z),
          "memory off: the first section (frames 0..%ld) is identical", s1);
    double d2 = 0;
    for (long i = s2 * a.z; i < s3 * a.z; i++) d2 = fmax(d2, fabs(a.latents[i] - c.latents[i]));
    CHECK(rc == 0 && d2 > 1e-4, "memory off: the first chorus (after two sections) differs (max %.3g)", d2);
    refrain_song_free(&c);
    refrain_song_free(&a);
}

// A section longer than the crop (40 frames, 1.9 s) comes in chunks; it must be
// the same length and finite, and its seam frames continue (no frame left at 0).
static void test_chunks(refrain_model *m) {
    refrain_generate_params p = params("verse:6 chorus:7", 5);
    refrain_song a;
    char err[512];
    int rc = refrain_generate(m, &p, &a, err, sizeof err);
    int zero = 0;
    for (long t = 0; rc == 0 && t < a.n_latent; t++) {
        double s = 0;
        for (int k = 0; k < a.z; k++) s += fabs(a.latents[t * a.z + k]);
        zero += s == 0;
    }
    CHECK(rc == 0 && zero == 0 && fabs(a.sections[1].end - 13) < 0.05,
          "sections of 6 and 7 s made in chunks of 40 frames: every frame made (%d untouched)", zero);
    if (!rc) refrain_song_free(&a);
}

static void test_errors(refrain_model *m) {
    refrain_generate_params p = params("intro chrous outro", 1);
    refrain_song a;
    char err[512];
    int rc = refrain_generate(m, &p, &a, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "chrous") && strstr(err, "chorus"),
          "a bad form is an input error naming the word: %s", err);
    p = params("verse", 1);
    p.steps = 0;
    rc = refrain_generate(m, &p, &a, err, sizeof err);
    CHECK(rc == REFRAIN_ERR_INPUT && strstr(err, "steps"), "0 steps refused: %s", err);
    setenv("REFRAIN_MODEL_DIR", g_dir, 1);   // holds no denoiser.rfc under that name
    char path[512];
    rc = refrain_find_model("denoiser.rfc", path, sizeof path, err, sizeof err);
    CHECK(rc != 0 && strstr(err, g_dir) && strstr(err, "REFRAIN_MODEL_DIR"), "a missing model names where it looked: %s", err);
    rc = refrain_find_model("ae-tiny.rfc", path, sizeof path, err, sizeof err);
    CHECK(rc == 0 && !strcmp(path, g_ae), "REFRAIN_MODEL_DIR finds a model there (%s)", rc ? err : path);
    refrain_model_params mp = {g_ae, g_ae};
    refrain_model *bad = refrain_model_load(&mp, err, sizeof err);
    CHECK(!bad && strstr(err, "denoiser"), "an autoencoder given as the denoiser is refused: %s", err);
}

// The shipped models (assets/): they load together and make a short song whose
// audio is finite, not silent and as long as the form, with the sections it asks for.
static void test_shipped(void) {
    refrain_model_params mp = {"assets/denoiser.rfc", "assets/ae.rfc"};
    char err[512];
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    if (!CHECK(m != NULL, "the shipped denoiser and autoencoder load together (%s)", m ? "ok" : err)) return;
    refrain_generate_params p = params("intro:2 chorus:3 chorus:3", 5);
    p.steps = 2;
    refrain_song a;
    int rc = refrain_generate(m, &p, &a, err, sizeof err);
    CHECK(rc == 0, "a song with the shipped models (%s)", rc ? err : "ok");
    if (!rc) {
        double ss = 0;
        int finite = 1;
        for (long i = 0; i < a.n_samples; i++) { finite &= isfinite(a.audio[i]) != 0; ss += (double)a.audio[i] * a.audio[i]; }
        double rms_db = 10 * log10(ss / (a.n_samples ? a.n_samples : 1) + 1e-30);
        CHECK(finite && rms_db > -60 && rms_db < 0 && a.n_sections == 3 && fabs(a.sections[2].end - 8) < 0.05 &&
                  fabs((double)a.n_samples / a.sample_rate - 8) < 0.1,
              "finite, not silent (RMS %.1f dBFS), 3 sections, 8 s", rms_db);
        refrain_song_free(&a);
    }
    refrain_model_free(m);
}

// A float16 model file (checkpoint_save_weights, CKPT_F16) generates the song the
// float32 one does up to the weights' rounding: each weight carries a relative
// error of at most 2^-11 (4.9e-4); the bound allows the 2 blocks, 3 steps and
// the guidance's extrapolation (cfg 2: the difference of two predictions,
// doubled) to grow it twentyfold, 1e-2 of the latents' RMS.
static void test_half_model(refrain_model *m) {
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/den-f16.rfc", g_dir);
    Denoiser d;
    Hparams hp;
    int rc = denoiser_load(&d, g_den);
    if (!rc) { denoiser_config_to_hparams(&d.cfg, &hp); rc = checkpoint_save_weights(path, DENOISER_KIND, &hp, &d.params, CKPT_F16); }
    if (!rc) denoiser_free(&d);
    if (!CHECK(rc == 0, "the tiny denoiser saved in float16: %s", rc ? err_msg() : "ok")) return;
    refrain_model_params mp = {path, g_ae};
    refrain_model *h = refrain_model_load(&mp, err, sizeof err);
    if (!CHECK(h != NULL, "the float16 file loads (%s)", h ? "ok" : err)) return;
    refrain_generate_params p = params("verse:3 chorus:3 verse:3", 5);
    refrain_song a, b;
    rc = refrain_generate(m, &p, &a, err, sizeof err);
    if (!rc && refrain_generate(h, &p, &b, err, sizeof err)) { rc = -1; refrain_song_free(&a); }
    refrain_model_free(h);
    if (!CHECK(rc == 0, "a song from each (%s)", rc ? err : "ok")) return;
    double d2 = 0, n2 = 0;
    for (long i = 0; i < a.n_latent * a.z; i++) {
        d2 += pow(a.latents[i] - b.latents[i], 2);
        n2 += pow(a.latents[i], 2);
    }
    double rel = sqrt(d2 / n2);
    CHECK(a.n_latent == b.n_latent && rel > 0 && rel < 1e-2, "float16 weights: the song's latents within %.2g of the "
          "float32 model's (relative RMS; 1e-2 allowed)", rel);
    refrain_song_free(&a); refrain_song_free(&b);
}

int main(int argc, char **argv) {
    nn_set_threads(1);
    if (argc == 3 && !strcmp(argv[1], "--write-models")) {   // for tests/cli_generate.sh
        snprintf(g_den, sizeof g_den, "%s/denoiser.rfc", argv[2]);
        snprintf(g_ae, sizeof g_ae, "%s/ae.rfc", argv[2]);
        if (write_models()) { fprintf(stderr, "test_generate: %s\n", err_msg()); return 1; }
        return 0;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/test_generate_%d", (int)getpid());
    snprintf(g_den, sizeof g_den, "%s/den-tiny.rfc", g_dir);
    snprintf(g_ae, sizeof g_ae, "%s/ae-tiny.rfc", g_dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
    if (system(cmd) || write_models()) { CHECK(0, "tiny models: %s", err_msg()); return check_summary("test_generate"); }
    refrain_model_params mp = {g_den, g_ae};
    char err[512];
    refrain_model *m = refrain_model_load(&mp, err, sizeof err);
    CHECK(m != NULL, "tiny models load (%s)", m ? "ok" : err);
    if (m) {
        test_song(m);
        test_chunks(m);
        test_errors(m);
        test_half_model(m);
        refrain_model_free(m);
    }
    test_shipped();
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) printf("note: could not remove %s\n", g_dir);
    return check_summary("test_generate");
}
