// cmd_diffusion.c — `refrain train-diffusion`: trains the section denoiser on
// the latent corpus (diffusion/train.c). This file only parses options into
// the library's params and calls it once.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "diffusion/diffusion.h"
#include "util/util.h"

static const char *d_data, *d_ae, *d_lat, *d_out, *d_export = NULL, *d_init = NULL;
static int d_half = 0, d_stop = 0, d_steps, d_batch, d_warmup, d_val, d_resume = 0, d_seed, d_width, d_depth, d_heads, d_k, d_msec,
           d_mframes, d_ctx, d_crop, d_pool;
static double d_lr, d_lrmin, d_ckpt, d_maxmin = 0, d_pmem, d_plab, d_pctx;
static const Opt OPTS[] = {
    {"data", 0, OPT_STRING, &d_data, 0, 0, NULL, "DIR", "corpus folder (make data)", 0},
    {"ae", 0, OPT_STRING, &d_ae, 0, 0, NULL, "FILE", "autoencoder whose latents the denoiser learns (default: the shipped one)", 0},
    {"latents", 0, OPT_STRING, &d_lat, 0, 0, NULL, "FILE", "latent corpus cache (rebuilt when the autoencoder or corpus changes)", 0},
    {"out", 'o', OPT_STRING, &d_out, 0, 0, NULL, "CKPT", "training checkpoint, written every --ckpt-minutes, at the end, and on Ctrl-C, SIGTERM or SIGHUP (a closed terminal) after the current step (exit 130 / 143 / 129; a second one stops at once)", 0},
    {"resume", 0, OPT_FLAG, &d_resume, 0, 0, NULL, NULL, "continue from --out exactly where it stopped", 0},
    {"init", 0, OPT_STRING, &d_init, 0, 0, NULL, "CKPT", "continue from this checkpoint instead of --out", 0},
    {"export", 0, OPT_STRING, &d_export, 0, 0, NULL, "FILE", "at the end, write the EMA weights here (the model generate uses)", 0},
    {"export-dtype", 0, OPT_CHOICE, &d_half, 0, 0, "f32,f16", "TYPE", "the exported weights' storage: f16 halves the file (each weight rounded to the nearest float16)", 0},
    {"steps", 0, OPT_INT, &d_steps, 1, 100000000, NULL, "N", "optimizer steps (the cosine schedule ends here)", 0},
    {"stop-at", 0, OPT_INT, &d_stop, 0, 100000000, NULL, "N", "stop with a checkpoint at step N (at most --steps), keeping the --steps plan (a phase); 0 = run to --steps", 0},
    {"batch", 0, OPT_INT, &d_batch, 1, 1024, NULL, "N", "examples per step", 0},
    {"lr", 0, OPT_FLOAT, &d_lr, 1e-7, 1, NULL, "F", "peak learning rate", 0},
    {"lr-min", 0, OPT_FLOAT, &d_lrmin, 0, 1, NULL, "F", "final learning rate of the cosine decay", 0},
    {"warmup", 0, OPT_INT, &d_warmup, 0, 100000000, NULL, "N", "linear warm-up steps", 0},
    {"val-every", 0, OPT_INT, &d_val, 1, 100000000, NULL, "N", "validation every N steps", 0},
    {"ckpt-minutes", 0, OPT_FLOAT, &d_ckpt, 0.01, 1440, NULL, "MIN", "checkpoint interval", 0},
    {"max-minutes", 0, OPT_FLOAT, &d_maxmin, 0, 100000, NULL, "MIN", "stop (with a checkpoint) after this much wall time; 0 = never", 0},
    {"seed", 0, OPT_INT, &d_seed, 0, 2147483647, NULL, "N", "seed of initialisation, data order and noise", 0},
    {"width", 0, OPT_INT, &d_width, 8, 4096, NULL, "N", "model width C (also the conditioning width)", 0},
    {"depth", 0, OPT_INT, &d_depth, 1, 64, NULL, "N", "DiT blocks", 0},
    {"heads", 0, OPT_INT, &d_heads, 1, 64, NULL, "N", "attention heads (width / heads even)", 0},
    {"mem-k", 0, OPT_INT, &d_k, 0, 64, NULL, "K", "memory tokens per earlier section; 0 = every latent frame (uncompressed)", 0},
    {"mem-sections", 0, OPT_INT, &d_msec, 0, 64, NULL, "N", "earlier sections remembered at most (same-label first, then most recent)", 0},
    {"mem-pool", 0, OPT_CHOICE, &d_pool, 0, 0, "fixed,attention", "HOW", "memory compressor: K fixed spans + a linear map, or K learned queries attending to the section's frames (needs --mem-k >= 1)", 0},
    {"mem-frames", 0, OPT_INT, &d_mframes, 1, 65536, NULL, "N", "memory tokens at most when --mem-k 0", 0},
    {"context", 0, OPT_INT, &d_ctx, 0, 1024, NULL, "FRAMES", "clean latent frames of the previous section before each crop", 0},
    {"crop", 0, OPT_INT, &d_crop, 1, 4096, NULL, "FRAMES", "new latent frames per example (longer sections are cropped)", 0},
    {"drop-mem", 0, OPT_FLOAT, &d_pmem, 0, 1, NULL, "P", "probability an example's memory is removed (for guidance and --no-memory)", 0},
    {"drop-labels", 0, OPT_FLOAT, &d_plab, 0, 1, NULL, "P", "probability its label, occurrence, style and targets are removed", 0},
    {"drop-context", 0, OPT_FLOAT, &d_pctx, 0, 1, NULL, "P", "probability its context frames are removed", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"train-diffusion", "", 0, "train the section denoiser on the latent corpus", OPTS};

static int run(int argc, char **argv) {
    DiffTrainOpts o;
    diff_train_defaults(&o);
    DenoiserConfig c = denoiser_config_default();
    d_data = o.data; d_ae = NULL; d_lat = o.latents; d_out = o.out;
    d_steps = (int)o.steps; d_batch = o.batch; d_lr = o.lr; d_lrmin = o.lr_min; d_warmup = (int)o.warmup;
    d_val = o.val_every; d_ckpt = o.ckpt_minutes; d_seed = (int)(o.seed & 0x7fffffff);
    d_width = c.width; d_depth = c.depth; d_heads = c.heads; d_k = c.mem_k; d_msec = c.mem_sections;
    d_mframes = 1024; d_pool = c.mem_pool; d_ctx = c.ctx_frames; d_crop = c.crop_frames;
    d_pmem = o.drop.p_drop_mem; d_plab = o.drop.p_drop_labels; d_pctx = o.drop.p_drop_ctx;
    int st = opts_parse(&SPEC, argc, argv, NULL);
    if (st != OPTS_OK) return st;
    if (d_width % d_heads || (d_width / d_heads) % 2) {
        fprintf(stderr, "refrain: train-diffusion: --width %d must split into --heads %d of even size\n", d_width, d_heads);
        return 2;
    }
    if (check_stop_at("train-diffusion", d_stop, d_steps)) return 2;
    if (d_export && check_output(d_export, "rfc")) return fail();
    static char found[4096];
    if (!(d_ae = cli_model(d_ae, "ae.rfc", found, sizeof found))) return fail();
    if (make_parents(d_out) || make_parents(d_lat) || dir_exists_for(d_out) || dir_exists_for(d_lat)) return fail();
    o.data = d_data; o.ae = d_ae; o.latents = d_lat; o.out = d_out; o.export_path = d_export; o.init = d_init;
    o.export_dtype = d_half ? CKPT_F16 : CKPT_F32;
    o.resume = d_resume; o.steps = d_steps; o.stop_at = d_stop; o.batch = d_batch; o.lr = (float)d_lr; o.lr_min = (float)d_lrmin;
    o.warmup = d_warmup; o.val_every = d_val; o.ckpt_minutes = d_ckpt; o.max_minutes = d_maxmin;
    o.seed = (uint64_t)d_seed;
    o.drop.p_drop_mem = (float)d_pmem; o.drop.p_drop_labels = (float)d_plab; o.drop.p_drop_ctx = (float)d_pctx;
    c.width = c.cond_dim = d_width; c.depth = d_depth; c.heads = d_heads; c.mem_k = d_k; c.mem_sections = d_msec;
    c.mem_tokens = d_k > 0 ? d_k * d_msec : d_mframes;
    c.mem_pool = d_pool;   // CHOICE index: fixed 0, attention 1 (DenoiserConfig.mem_pool's values)
    c.ctx_frames = d_ctx; c.crop_frames = d_crop;
    if (denoiser_config_check(&c)) {   // e.g. --mem-pool attention with --mem-k 0
        fprintf(stderr, "refrain: train-diffusion: %s\n", err_msg());
        return 2;
    }
    return diff_train(&o, &c) ? fail() : 0;
}

const Command cmd_train_diffusion = {&SPEC, run};

// ---- denoiser-eval ------------------------------------------------------------------------------
static const char *v_model, *v_extra = NULL, *v_data, *v_ae, *v_lat, *v_out, *v_figs = NULL, *v_log = NULL,
                  *v_note = NULL;
static int v_secs, v_seed;
static const Opt EVAL_OPTS[] = {
    {"model", 'm', OPT_STRING, &v_model, 0, 0, NULL, "FILE", "denoiser model file (default: the shipped one)", 0},
    {"compare", 0, OPT_STRING, &v_extra, 0, 0, NULL, "A,B,..", "more models to evaluate the same way (other K, uncompressed)", 0},
    {"data", 0, OPT_STRING, &v_data, 0, 0, NULL, "DIR", "corpus folder", 0},
    {"ae", 0, OPT_STRING, &v_ae, 0, 0, NULL, "FILE", "autoencoder the models were trained on (default: the shipped one)", 0},
    {"latents", 0, OPT_STRING, &v_lat, 0, 0, NULL, "FILE", "latent corpus cache", 0},
    {"output", 'o', OPT_STRING, &v_out, 0, 0, NULL, "FILE", "Markdown report to write", 1},
    {"figs", 0, OPT_STRING, &v_figs, 0, 0, NULL, "DIR", "folder for the PNGs (default: the report's folder)", 0},
    {"log", 0, OPT_STRING, &v_log, 0, 0, NULL, "TSV", "training log (train-diffusion writes CKPT.tsv) to plot", 0},
    {"note", 0, OPT_STRING, &v_note, 0, 0, NULL, "TEXT", "a line added under the title (how the model was made)", 0},
    {"max-sections", 0, OPT_INT, &v_secs, 1, 1000, NULL, "N", "sections evaluated per validation song", 0},
    {"seed", 0, OPT_INT, &v_seed, 0, 2147483647, NULL, "N", "seed of the noise and the bootstrap", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec EVAL_SPEC = {"denoiser-eval", "", 0,
                                  "flow loss of the denoiser with and without memory on the validation split (Markdown report)",
                                  EVAL_OPTS};

static int run_eval(int argc, char **argv) {
    DenoiserEvalOpts o;
    denoiser_eval_defaults(&o);
    v_model = NULL; v_data = o.data; v_ae = NULL; v_lat = o.latents; v_secs = o.max_sections;
    v_seed = (int)(o.seed & 0x7fffffff);
    int st = opts_parse(&EVAL_SPEC, argc, argv, NULL);
    if (st != OPTS_OK) return st;
    if (check_output(v_out, "md")) return fail();
    static char extra[4096], figs[4096], found[2][4096];
    if (!(v_model = cli_model(v_model, "denoiser.rfc", found[0], sizeof found[0])) ||
        !(v_ae = cli_model(v_ae, "ae.rfc", found[1], sizeof found[1])))
        return fail();
    if (v_extra) {
        snprintf(extra, sizeof extra, "%s", v_extra);
        for (char *t = strtok(extra, ","); t && o.n_extra < DENOISER_EVAL_MAX_EXTRA; t = strtok(NULL, ","))
            o.extra[o.n_extra++] = t;
    }
    if (!v_figs) v_figs = report_folder(figs, sizeof figs, v_out);
    o.model = v_model; o.data = v_data; o.ae = v_ae; o.latents = v_lat; o.report = v_out; o.figs = v_figs;
    o.log = v_log; o.note = v_note; o.max_sections = v_secs; o.seed = (uint64_t)v_seed;
    return denoiser_eval(&o) ? fail() : 0;
}

const Command cmd_denoiser_eval = {&EVAL_SPEC, run_eval};
