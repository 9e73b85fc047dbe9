// test_models — where the shipped models are found (util.h model_find,
// model_file): $REFRAIN_MODEL_DIR first, assets/ in the current folder only
// when asked (the CLI), a given path as is; and the library's runs whose
// options default to the shipped models (ae_eval, diff_train, denoiser_eval)
// find them by the same lookup, not as ./assets/... relative to the current
// folder. Each run is stopped early: by a missing model, or by a missing corpus
// once the model was found.
#include "autoencoder/autoencoder.h"
#include "diffusion/diffusion.h"
#include "tests/check.h"
#include "tests/tiny_models.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[128];

static const char *at(const char *name) { return check_in_dir(g_dir, name); }

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

// The lookup itself: env, the current folder, a given path.
static void test_lookup(void) {
    char buf[4096];
    setenv("REFRAIN_MODEL_DIR", at("env"), 1);
    const char *p = model_file(NULL, "x.rfc", 0, buf, sizeof buf);
    CHECK(p && !strcmp(p, at("env/x.rfc")), "REFRAIN_MODEL_DIR/x.rfc is found: %s", p ? p : err_msg());
    p = model_file("mine.rfc", "x.rfc", 0, buf, sizeof buf);
    CHECK(p && !strcmp(p, "mine.rfc"), "a given model is taken as is (%s)", p ? p : err_msg());
    // y.rfc is only in ./assets (the current folder is g_dir/cwd)
    p = model_file(NULL, "y.rfc", 0, buf, sizeof buf);
    CHECK(!p && strstr(err_msg(), "no y.rfc found") && strstr(err_msg(), at("env/y.rfc")) &&
              !strstr(err_msg(), "current folder"),
          "the library never looks in ./assets: %s", err_msg());
    p = model_file(NULL, "y.rfc", 1, buf, sizeof buf);
    CHECK(p && !strcmp(p, "assets/y.rfc"), "the CLI's lookup (also_cwd) finds ./assets/y.rfc last: %s",
          p ? p : err_msg());
}

// The library's defaults: a NULL model is the shipped one, by model_file.
// ./assets holds files that are not models (what the old defaults read), so a
// run that reached them would fail on them.
static void test_defaults(void) {
    AeEvalOpts ae;
    ae_eval_defaults(&ae);
    DiffTrainOpts tr;
    diff_train_defaults(&tr);
    DenoiserEvalOpts de;
    denoiser_eval_defaults(&de);
    CHECK(!ae.model && !tr.ae && !de.model && !de.ae, "the defaults leave every model NULL (the shipped one)");
    char data[512], lat[512], out[512], report[512];   // at()'s buffers are reused
    snprintf(data, sizeof data, "%s", at("no-corpus"));
    snprintf(lat, sizeof lat, "%s", at("lat.rfl"));
    snprintf(out, sizeof out, "%s", at("den.rfc"));
    snprintf(report, sizeof report, "%s", at("report.md"));
    ae.data = tr.data = de.data = data;
    tr.latents = de.latents = lat;
    tr.out = out;
    de.report = report;
    DenoiserConfig c = denoiser_config_default();
    c.z = 4;

    // No model where the lookup looks: each run says where it looked, naming REFRAIN_MODEL_DIR's folder
    setenv("REFRAIN_MODEL_DIR", at("empty"), 1);
    OutTx tx;
    AeEvalResult res;
    outtx_begin(&tx);
    int rc = ae_eval(&tx, at("ae.md"), &ae, &res);
    outtx_abort(&tx);
    CHECK(rc && strstr(err_msg(), "no ae.rfc found") && strstr(err_msg(), at("empty/ae.rfc")),
          "ae_eval, no model: %s", err_msg());
    rc = diff_train(&tr, &c);
    CHECK(rc && strstr(err_msg(), "no ae.rfc found") && strstr(err_msg(), at("empty/ae.rfc")),
          "diff_train, no autoencoder: %s", err_msg());
    rc = denoiser_eval(&de);
    CHECK(rc && strstr(err_msg(), "no denoiser.rfc found") && strstr(err_msg(), at("empty/denoiser.rfc")),
          "denoiser_eval, no denoiser: %s", err_msg());

    // The models in REFRAIN_MODEL_DIR: found and read; each run stops at the missing corpus
    setenv("REFRAIN_MODEL_DIR", at("env"), 1);
    outtx_begin(&tx);
    rc = ae_eval(&tx, at("ae.md"), &ae, &res);
    outtx_abort(&tx);
    CHECK(rc && strstr(err_msg(), "no corpus") && strstr(err_msg(), "no-corpus"),
          "ae_eval reads REFRAIN_MODEL_DIR/ae.rfc, then wants the corpus: %s", err_msg());
    rc = diff_train(&tr, &c);
    CHECK(rc && strstr(err_msg(), "no corpus in") && strstr(err_msg(), "no-corpus"), "diff_train finds its autoencoder, then wants the corpus: %s",
          err_msg());
    rc = denoiser_eval(&de);
    CHECK(rc && strstr(err_msg(), "no corpus in") && strstr(err_msg(), "no-corpus"), "denoiser_eval finds both models, then wants the corpus: %s",
          err_msg());
    struct stat st;
    CHECK(stat(out, &st) && stat(report, &st) && stat(at("ae.md"), &st),
          "no output written by the refused runs");
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/refrain-test-models-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    g_quiet = 1;
    mkdir(at("env"), 0755);
    mkdir(at("empty"), 0755);
    mkdir(at("cwd"), 0755);
    mkdir(at("cwd/assets"), 0755);
    write_file(at("env/x.rfc"), "x");
    write_file(at("cwd/assets/y.rfc"), "y");
    write_file(at("cwd/assets/ae.rfc"), "not a model");
    write_file(at("cwd/assets/denoiser.rfc"), "not a model");
    CHECK(tiny_models_write(at("env/denoiser.rfc"), at("env/ae.rfc")) == 0, "tiny models written: %s", err_msg());
    if (chdir(at("cwd"))) { perror("chdir"); return 1; }
    test_lookup();
    test_defaults();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) printf("  could not remove %s\n", g_dir);
    return check_summary("test_models");
}
