// test_diffusion_train — train-diffusion end to end on a tiny corpus written
// here (songs of synthetic log-mel with verse/chorus sections) and a tiny
// autoencoder saved here:
//   - the latent corpus is built, then read back from its cache unchanged, and
//     rebuilt when the autoencoder file changes;
//   - a run stopped at step 4 and resumed to 8 gives bit-identical losses and
//     the same checkpoint bytes as an uninterrupted 8-step run;
//   - a longer run lowers the training loss;
//   - a resume with other drop settings is refused, naming the setting.
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "autoencoder/autoencoder.h"
#include "diffusion/diffusion.h"
#include "data/corpus.h"
#include "audio/audio.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[128];

static int write_ae(const char *path, uint64_t seed) {
    AeConfig c = tiny_ae_config(4);
    Ae m;
    if (ae_create(&m, &c)) return -1;
    Rng r;
    rng_seed(&r, seed);
    ae_init(&m, &r);
    int rc = ae_save(&m, path);
    ae_free(&m);
    return rc;
}

static DenoiserConfig tiny(void) {
    DenoiserConfig c = denoiser_config_default();
    c.z = 4; c.width = 16; c.depth = 1; c.heads = 2; c.cond_dim = 16; c.t_dim = 8;
    c.mem_k = 2; c.mem_sections = 4; c.mem_tokens = 8; c.ctx_frames = 4; c.crop_frames = 16;
    return c;
}

static DiffTrainOpts opts(const char *out, long steps) {
    static char ae[256], lat[256], outp[3][256];
    static int k;
    DiffTrainOpts o;
    diff_train_defaults(&o);
    snprintf(ae, sizeof ae, "%s/ae.rfc", g_dir);
    snprintf(lat, sizeof lat, "%s/latents.rfl", g_dir);
    k = (k + 1) % 3;
    snprintf(outp[k], sizeof outp[k], "%s/%s", g_dir, out);
    o.data = g_dir; o.ae = ae; o.latents = lat; o.out = outp[k];
    o.steps = steps; o.batch = 4; o.lr = 3e-3f; o.lr_min = 3e-4f; o.warmup = 2; o.val_every = 4;
    o.ckpt_minutes = 1000;
    return o;
}

// The loss column (3rd) of a train-diffusion log, as text rows.
static int log_losses(const char *ckpt, char rows[][32], int cap) {
    char p[300];
    snprintf(p, sizeof p, "%s.tsv", ckpt);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    char line[2048];
    int n = 0;
    if (fgets(line, sizeof line, f))
        while (n < cap && fgets(line, sizeof line, f)) {
            char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL, *c = b ? strchr(b + 1, '\t') : NULL;
            if (!b || !c) continue;
            snprintf(rows[n], 32, "%.*s", (int)(c - b - 1), b + 1);
            n++;
        }
    fclose(f);
    return n;
}

static int files_equal(const char *a, const char *b) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void test_latent_cache(void) {
    char ae[256], lat[256];
    snprintf(ae, sizeof ae, "%s/ae.rfc", g_dir);
    snprintf(lat, sizeof lat, "%s/latents.rfl", g_dir);
    LatentCorpus a, b;
    int rc = latent_corpus_load(&a, g_dir, ae, lat, 0);
    CHECK(rc == 0 && a.n == 8 && a.z == 4, "latent corpus built: %d songs, z %d (%s)", a.n, a.z, rc ? err_msg() : "ok");
    if (rc) return;
    const LatentSong *s = &a.songs[0];
    CHECK(s->n_sections == 4 && s->sec[0].start == 0 && s->sec[3].end == s->T && s->sec[2].occurrence == 2 &&
          s->sec[1].label_id == cond_label_id("chorus"),
          "sections in latent frames, labels and occurrences kept (%d sections, T %d)", s->n_sections, s->T);
    rc = latent_corpus_load(&b, g_dir, ae, lat, 0);
    int same = rc == 0 && b.n == a.n;
    for (int i = 0; same && i < a.n; i++)
        same = a.songs[i].T == b.songs[i].T && !memcmp(a.songs[i].lat, b.songs[i].lat, sizeof(float) * a.songs[i].T * 4);
    CHECK(same, "read back from the cache, the same latents");
    latent_corpus_free(&b);
    write_ae(ae, 77);   // another autoencoder: the cache must not be reused
    rc = latent_corpus_load(&b, g_dir, ae, lat, 0);
    CHECK(rc == 0 && b.ae_hash != a.ae_hash && memcmp(a.songs[0].lat, b.songs[0].lat, sizeof(float) * 4 * 8) != 0,
          "a changed autoencoder rebuilds the latents");
    latent_corpus_free(&a);
    latent_corpus_free(&b);
}

static void test_resume_exact(void) {
    DenoiserConfig c = tiny();
    DiffTrainOpts o = opts("full.rfc", 8);
    int rc = diff_train(&o, &c);
    CHECK(rc == 0, "8 uninterrupted steps (%s)", rc ? err_msg() : "ok");
    DiffTrainOpts p = opts("part.rfc", 8);
    p.stop_at = 4;   // the same plan, stopped halfway (as --max-minutes would)
    rc = diff_train(&p, &c);
    p.stop_at = 0;
    p.resume = 1;
    rc |= diff_train(&p, &c);
    CHECK(rc == 0, "4 steps, then resumed to 8 (%s)", rc ? err_msg() : "ok");
    char a[16][32], b[16][32];
    int na = log_losses(o.out, a, 16), nb = log_losses(p.out, b, 16), same = na == 8 && nb == 8;
    for (int i = 0; same && i < 8; i++) same = !strcmp(a[i], b[i]);
    CHECK(same, "the resumed run's losses are the uninterrupted run's, bit for bit (%d and %d rows; step 8: %s vs %s)",
          na, nb, na > 7 ? a[7] : "-", nb > 7 ? b[7] : "-");
    CHECK(files_equal(o.out, p.out), "and its checkpoint is byte-identical");
    p.drop.p_drop_mem = 0.5f;
    p.steps = 10;
    rc = diff_train(&p, &c);
    CHECK(rc != 0 && strstr(err_msg(), "drop_mem"), "a resume with another memory dropout is refused: %s",
          rc ? err_msg() : "it ran");
    char exp[300];
    snprintf(exp, sizeof exp, "%s/export.rfc", g_dir);
    o.export_path = exp;
    o.resume = 1;
    rc = diff_train(&o, &c);
    Denoiser m;
    rc = rc || denoiser_load(&m, exp);
    CHECK(rc == 0 && m.cfg.width == 16, "the EMA export loads as a model (%s)", rc ? err_msg() : "ok");
    if (!rc) denoiser_free(&m);
}

static void test_learns(void) {
    DenoiserConfig c = tiny();
    DiffTrainOpts o = opts("long.rfc", 80);
    int rc = diff_train(&o, &c);
    char r[80][32];
    int n = log_losses(o.out, r, 80);
    double first = 0, last = 0;
    for (int i = 0; i < 15 && n == 80; i++) { first += atof(r[i]); last += atof(r[79 - i]); }
    CHECK(rc == 0 && n == 80 && last < 0.85 * first,
          "80 steps lower the training loss: mean of the first 15 %.4f, of the last 15 %.4f", first / 15, last / 15);
}

// The attention-pooling compressor trains and resumes exactly too.
static void test_pooling_resume(void) {
    DenoiserConfig c = tiny();
    c.mem_pool = 1;
    DiffTrainOpts o = opts("pool-full.rfc", 6), p = opts("pool-part.rfc", 6);
    int rc = diff_train(&o, &c);
    p.stop_at = 3;
    rc |= diff_train(&p, &c);
    p.stop_at = 0;
    p.resume = 1;
    rc |= diff_train(&p, &c);
    CHECK(rc == 0 && files_equal(o.out, p.out), "attention pooling: 3 steps + resume to 6 give the 6-step checkpoint "
          "byte for byte (%s)", rc ? err_msg() : "ok");
}

int main(void) {
    nn_set_threads(1);
    g_quiet = 1;
    snprintf(g_dir, sizeof g_dir, "/tmp/test_diffusion_train_%d", (int)getpid());
    char cmd[300];
    if (tiny_corpus_write(g_dir, 6, 2, tiny_verse_chorus_song)) {   // 6 training and 2 validation songs
        CHECK(0, "shard: %s", err_msg());
        return check_summary("test_diffusion_train");
    }
    char ae[256];
    snprintf(ae, sizeof ae, "%s/ae.rfc", g_dir);
    if (write_ae(ae, 5)) { CHECK(0, "ae: %s", err_msg()); return check_summary("test_diffusion_train"); }
    test_latent_cache();
    test_resume_exact();
    test_learns();
    test_pooling_resume();
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) printf("note: could not remove %s\n", g_dir);
    return check_summary("test_diffusion_train");
}
