// cmd_ae_eval.c — `refrain ae-eval -o autoencoder.md`: the autoencoder's report
// (autoencoder/eval.c, ae_eval; written by scripts/eval-ae.sh): reconstruction
// against a PCA baseline on the validation split, spectrograms, the training
// curve and the encode / decode time. This file parses options, calls the
// library once and commits the report and its figures together (util.h OutTx).
#include <stdio.h>

#include "autoencoder/autoencoder.h"
#include "cli/cli.h"
#include "util/util.h"

static AeEvalOpts e;   // the table's defaults from ae_eval_defaults() in run()
static const char *e_out = NULL, *e_figs = NULL;
static const Opt OPTS[] = {
    {"model", 'm', OPT_STRING, &e.model, 0, 0, NULL, "FILE", "autoencoder model file (default: the shipped one)", 0},
    {"data", 0, OPT_STRING, &e.data, 0, 0, NULL, "DIR", "corpus folder", 0},
    {"output", 'o', OPT_STRING, &e_out, 0, 0, NULL, "FILE", "Markdown report to write", 1},
    {"figs", 0, OPT_STRING, &e_figs, 0, 0, NULL, "DIR", "folder for the PNGs (default: the report's folder)", 0},
    {"log", 0, OPT_STRING, &e.log, 0, 0, NULL, "TSV", "training log (train-ae writes CKPT.tsv) to plot", 0},
    {"note", 0, OPT_STRING, &e.note, 0, 0, NULL, "TEXT", "a line added under the title (how the model was made)", 0},
    {"max-train-songs", 0, OPT_INT, &e.max_train_songs, 0, 100000, NULL, "N", "fit the baseline on at most N training songs; 0 = all", 0},
    {"bench-reps", 0, OPT_INT, &e.bench_reps, 1, 100, NULL, "N", "repetitions of the 3-minute benchmark (best is reported)", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"ae-eval", "", 0,
                             "evaluate the autoencoder against a PCA baseline on the validation split (Markdown report)",
                             OPTS};

static int run(int argc, char **argv) {
    ae_eval_defaults(&e);
    e.model = NULL;   // the shipped one, found by cli_model
    int st = opts_parse(&SPEC, argc, argv, NULL);
    if (st != OPTS_OK) return st;
    if (check_output(e_out, "md")) return fail();
    static char found[4096];
    if (!(e.model = cli_model(e.model, "ae.rfc", found, sizeof found))) return fail();
    static char figs[4096];
    e.figs = e_figs ? e_figs : report_folder(figs, sizeof figs, e_out);
    static OutTx tx;   // every figure and the report, or none (static: 16 paths of 4 kB)
    outtx_begin(&tx);
    double t0 = now_seconds();
    AeEvalResult r;
    if (ae_eval(&tx, e_out, &e, &r) || outtx_commit(&tx)) { outtx_abort(&tx); return fail(); }
    fprintf(stderr, "ae-eval: AE MAE %.3f vs PCA %.3f (%.1f%% lower); 3-min encode+decode %.2f s; wrote %s in %.0f s\n",
            r.ae_mae, r.pca_mae, 100 * r.gain, r.bench_s, e_out, now_seconds() - t0);
    printf("ae_mae %.4f pca_mae %.4f gain %.4f bench_s %.4f\n", r.ae_mae, r.pca_mae, r.gain, r.bench_s);
    return 0;
}

const Command cmd_ae_eval = {&SPEC, run};
