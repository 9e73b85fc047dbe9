// cmd_ae.c — the mel autoencoder's commands:
//   refrain train-ae --data DIR [--steps N] [--out CKPT] [--resume] [--export FILE]
//   refrain encode IN -o LAT.bin          audio -> log-mel -> unit-scale latents
//   refrain decode LAT.bin -o OUT.wav     latents -> log-mel -> vocoder -> audio
//   refrain reconstruct IN -o OUT.wav     audio -> latents -> log-mel -> vocoder -> audio
// The model comes from --model (default assets/ae.rfc). The model, training
// and the latent file format are autoencoder/; encode, decode and reconstruct
// call refrain.h; this file only parses, writes files and reports.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refrain.h"
#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "cli/cli.h"
#include "util/util.h"

// ---- train-ae ---------------------------------------------------------------------------
static const char *t_data, *t_out, *t_export = NULL, *t_init = NULL;
static int t_steps, t_batch, t_crop, t_warmup, t_val, t_resume = 0, t_seed, t_z, t_ch0, t_ch1, t_ch2, t_eres, t_dres,
                                              t_stats;
static int t_stop = 0;   // --stop-at
static double t_lr, t_lrmin, t_kl, t_ckpt, t_maxmin = 0, t_gain, t_mix, t_tilt;
static const Opt TRAIN_OPTS[] = {
    {"data", 0, OPT_STRING, &t_data, 0, 0, NULL, "DIR", "corpus folder (index.rfi, or the shards built so far)", 0},
    {"steps", 0, OPT_INT, &t_steps, 1, 100000000, NULL, "N", "optimizer steps (the cosine schedule ends here)", 0},
    {"stop-at", 0, OPT_INT, &t_stop, 0, 100000000, NULL, "N", "stop with a checkpoint at step N (at most --steps), keeping the --steps plan (a phase); 0 = run to --steps", 0},
    {"out", 'o', OPT_STRING, &t_out, 0, 0, NULL, "CKPT", "training checkpoint, written every --ckpt-minutes, at the end, and on Ctrl-C, SIGTERM or SIGHUP (a closed terminal) after the current step (exit 130 / 143 / 129; a second one stops at once)", 0},
    {"resume", 0, OPT_FLAG, &t_resume, 0, 0, NULL, NULL, "continue from --out exactly where it stopped", 0},
    {"init", 0, OPT_STRING, &t_init, 0, 0, NULL, "CKPT", "continue from this checkpoint instead of --out", 0},
    {"export", 0, OPT_STRING, &t_export, 0, 0, NULL, "FILE", "at the end, write the EMA weights and latent statistics here", 0},
    {"batch", 0, OPT_INT, &t_batch, 1, 1024, NULL, "N", "crops per step", 0},
    {"crop", 0, OPT_INT, &t_crop, 16, 4096, NULL, "FRAMES", "mel frames per crop (a multiple of 4)", 0},
    {"lr", 0, OPT_FLOAT, &t_lr, 1e-7, 1, NULL, "F", "peak learning rate", 0},
    {"lr-min", 0, OPT_FLOAT, &t_lrmin, 0, 1, NULL, "F", "final learning rate of the cosine decay", 0},
    {"warmup", 0, OPT_INT, &t_warmup, 0, 100000000, NULL, "N", "linear warm-up steps", 0},
    {"kl", 0, OPT_FLOAT, &t_kl, 0, 10, NULL, "F", "weight of the KL term (mean over latent values)", 0},
    {"val-every", 0, OPT_INT, &t_val, 1, 100000000, NULL, "N", "validation every N steps", 0},
    {"ckpt-minutes", 0, OPT_FLOAT, &t_ckpt, 0.01, 1440, NULL, "MIN", "checkpoint interval", 0},
    {"max-minutes", 0, OPT_FLOAT, &t_maxmin, 0, 100000, NULL, "MIN", "stop (with a checkpoint) after this much wall time; 0 = never", 0},
    {"seed", 0, OPT_INT, &t_seed, 0, 2147483647, NULL, "N", "seed of initialisation and data order", 0},
    {"z", 0, OPT_INT, &t_z, 1, 256, NULL, "N", "latent channels", 0},
    {"ch0", 0, OPT_INT, &t_ch0, 1, 4096, NULL, "N", "width at the mel frame rate", 0},
    {"ch1", 0, OPT_INT, &t_ch1, 1, 4096, NULL, "N", "width at 1/2 the frame rate", 0},
    {"ch2", 0, OPT_INT, &t_ch2, 1, 4096, NULL, "N", "width at 1/4 the frame rate (the latent rate)", 0},
    {"enc-res", 0, OPT_INT, &t_eres, 0, 16, NULL, "N", "encoder residual blocks per level", 0},
    {"dec-res", 0, OPT_INT, &t_dres, 0, 16, NULL, "N", "decoder residual blocks per level", 0},
    {"gain-db", 0, OPT_FLOAT, &t_gain, 0, 40, NULL, "DB", "augmentation: each crop's gain uniform in +-DB dB; 0 = none", 0},
    {"mix", 0, OPT_FLOAT, &t_mix, 0, 1, NULL, "P", "augmentation: probability a crop is summed with a second one", 0},
    {"tilt-db", 0, OPT_FLOAT, &t_tilt, 0, 40, NULL, "DB", "augmentation: spectral tilt, top band +U dB and bottom -U, U uniform in +-DB; 0 = none", 0},
    {"stats-crops", 0, OPT_INT, &t_stats, 16, 1000000, NULL, "N", "training crops measured for the latent statistics", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec TRAIN_SPEC = {"train-ae", "", 0, "train the mel autoencoder on the corpus", TRAIN_OPTS};

static int run_train(int argc, char **argv) {
    AeTrainOpts o;
    ae_train_defaults(&o);
    AeConfig c = ae_config_default();
    t_data = o.data; t_out = o.out; t_steps = (int)o.steps; t_batch = o.batch; t_crop = o.crop;
    t_lr = o.lr; t_lrmin = o.lr_min; t_warmup = (int)o.warmup; t_kl = o.kl_weight; t_val = o.val_every;
    t_ckpt = o.ckpt_minutes; t_seed = (int)(o.seed & 0x7fffffff); t_stats = o.stats_crops;
    t_gain = o.aug.gain_db; t_mix = o.aug.mix; t_tilt = o.aug.tilt_db;
    t_z = c.z; t_ch0 = c.ch[0]; t_ch1 = c.ch[1]; t_ch2 = c.ch[2]; t_eres = c.enc_res; t_dres = c.dec_res;
    int st = opts_parse(&TRAIN_SPEC, argc, argv, NULL);
    if (st != OPTS_OK) return st;
    if (t_crop % AE_DOWN) {
        fprintf(stderr, "refrain: train-ae: --crop must be a multiple of %d (got %d)\n", AE_DOWN, t_crop);
        return 2;
    }
    if (check_stop_at("train-ae", t_stop, t_steps)) return 2;
    if (t_export && check_output(t_export, "rfc")) return fail();
    if (dir_exists_for(t_out)) return fail();
    o.data = t_data; o.out = t_out; o.export_path = t_export; o.init = t_init; o.resume = t_resume;
    o.steps = t_steps; o.stop_at = t_stop; o.batch = t_batch; o.crop = t_crop; o.lr = (float)t_lr; o.lr_min = (float)t_lrmin;
    o.warmup = t_warmup; o.kl_weight = (float)t_kl; o.val_every = t_val; o.ckpt_minutes = t_ckpt;
    o.max_minutes = t_maxmin; o.seed = (uint64_t)t_seed; o.stats_crops = t_stats;
    o.aug.gain_db = (float)t_gain; o.aug.mix = (float)t_mix; o.aug.tilt_db = (float)t_tilt;
    c.z = t_z; c.ch[0] = t_ch0; c.ch[1] = t_ch1; c.ch[2] = t_ch2; c.enc_res = t_eres; c.dec_res = t_dres;
    return ae_train(&o, &c) ? fail() : 0;
}
const Command cmd_train_ae = {&TRAIN_SPEC, run_train};

// ---- shared: model loading, audio in, audio out -------------------------------------------
// encode, decode and reconstruct go through refrain.h (sampler/library.c).
static const char *model_path = NULL, *out_path = NULL, *png_path = NULL;
static double x_start = 0, x_duration = 0;
static int v_iters = 64;

static refrain_model *load_model(void) {
    static char found[4096];
    char err[1024];
    int shipped = !model_path;
    if (!(model_path = cli_model(model_path, "ae.rfc", found, sizeof found))) return NULL;
    refrain_model *m = refrain_autoencoder_load(model_path, err, sizeof err);
    if (!m) {
        err_set("cannot use autoencoder model '%s': %s%s", model_path, err,
                shipped ? " (the shipped model; make one with 'refrain train-ae --export assets/ae.rfc')"
                        : "");
        return NULL;
    }
    if (!refrain_model_latent_stats(m))
        fprintf(stderr, "refrain: warning: %s has no latent statistics (a training checkpoint?); latents are not unit scale\n",
                model_path);
    return m;
}

// A refrain.h call's failure: its message becomes err_msg() for fail().
static int failed(const char *err) { return err_set("%s", err); }

// decode's and reconstruct's -o and --png, checked before any work.
static int check_audio_outputs(void) {
    return check_output(out_path, "wav,flac,ogg") || (png_path && check_output(png_path, "png")) ? -1 : 0;
}

// The vocoded audio and the --png, both or neither (cli/common.c commit_outputs).
static int write_audio(const refrain_logmel *mel) {
    refrain_vocode_params vp = refrain_vocode_default_params();
    vp.iters = v_iters;
    vp.progress = vocoder_progress;   // cli/common.c
    refrain_audio y = {0};
    char err[1024];
    if (refrain_vocode(&vp, mel, &y, err, sizeof err)) return failed(err);
    CliOutput out[2] = {{.path = out_path, .audio = &y}, {.path = png_path, .mel_png = mel}};
    int rc = commit_outputs(out, 2);
    refrain_audio_free(&y);
    return rc;
}

#define MODEL_OPT {"model", 'm', OPT_STRING, &model_path, 0, 0, NULL, "FILE", "autoencoder model file (default: the shipped one)", 0}
#define END_OPT {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0}

// ---- encode ----------------------------------------------------------------------------------
static const Opt ENC_OPTS[] = {
    {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "LAT", "latent file to write (.bin)", 1},
    MODEL_OPT,
    {"start", 0, OPT_FLOAT, &x_start, 0, 86400, NULL, "SEC", "begin this many seconds into IN", 0},
    {"duration", 0, OPT_FLOAT, &x_duration, 0, 86400, NULL, "SEC", "use at most this many seconds; 0 = to the end", 0},
    END_OPT,
};
static const OptSpec ENC_SPEC = {"encode", "IN", 1, "audio -> unit-scale autoencoder latents (Tl x Z float32)", ENC_OPTS};

static int run_encode(int argc, char **argv) {
    char *in;
    int st = opts_parse(&ENC_SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (check_output(out_path, "bin,lat")) return fail();
    refrain_model *m = load_model();
    if (!m) return fail();
    float *x = NULL;
    long n = 0;
    refrain_latents lat = {0};
    char err[1024];
    int rc = 1;
    if (read_excerpt(in, x_start, x_duration, &x, &n)) goto done;
    double t0 = now_seconds();
    if (refrain_encode(m, x, n, SAMPLE_RATE, &lat, NULL, err, sizeof err)) { failed(err); goto done; }
    CliOutput out = {.path = out_path, .latents = &lat};
    if (commit_outputs(&out, 1)) goto done;
    if (!g_quiet)
        fprintf(stderr, "encode: %.1f s of audio, %ld mel frames -> %ld x %d latents in %.2f s: %s\n",
                (double)n / SAMPLE_RATE, lat.n_frames, lat.n_latent, lat.z, now_seconds() - t0, out_path);
    rc = 0;
done:
    if (rc) rc = fail();
    free(x);
    refrain_latents_free(&lat);
    refrain_model_free(m);
    return rc;
}
const Command cmd_encode = {&ENC_SPEC, run_encode};

// ---- decode ----------------------------------------------------------------------------------
static const Opt DEC_OPTS[] = {
    {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "FILE", "audio to write: .wav, .flac or .ogg", 1},
    MODEL_OPT,
    {"png", 0, OPT_STRING, &png_path, 0, 0, NULL, "FILE", "also draw the decoded log-mel spectrogram", 0},
    {"iters", 'n', OPT_INT, &v_iters, 1, 10000, NULL, "N", "Griffin-Lim iterations", 0},
    END_OPT,
};
static const OptSpec DEC_SPEC = {"decode", "LAT", 1, "autoencoder latents -> log-mel -> vocoder -> audio", DEC_OPTS};

static int run_decode(int argc, char **argv) {
    char *in;
    int st = opts_parse(&DEC_SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (check_audio_outputs()) return fail();
    refrain_latents lat;
    refrain_logmel lm = {0};
    char err[1024];
    int rc = 1;
    if (refrain_latents_read(&lat, in, err, sizeof err)) { failed(err); return fail(); }
    refrain_model *m = load_model();
    if (!m) { refrain_latents_free(&lat); return fail(); }
    double t0 = now_seconds();
    if (refrain_decode(m, &lat, &lm, err, sizeof err)) {
        err_set("%s: %s (the model: %s)", in, err, model_path);
        goto done;
    }
    double td = now_seconds() - t0;
    if (write_audio(&lm)) goto done;
    progress_done();
    if (!g_quiet)
        fprintf(stderr, "decode: %ld latent frames -> %ld mel frames in %.2f s; wrote %s\n", lat.n_latent, lm.n_frames,
                td, out_path);
    rc = 0;
done:
    if (rc) { progress_done(); rc = fail(); }
    refrain_latents_free(&lat);
    refrain_logmel_free(&lm);
    refrain_model_free(m);
    return rc;
}
const Command cmd_decode = {&DEC_SPEC, run_decode};

// ---- reconstruct -----------------------------------------------------------------------------
static const Opt REC_OPTS[] = {
    {"output", 'o', OPT_STRING, &out_path, 0, 0, NULL, "FILE", "audio to write: .wav, .flac or .ogg", 1},
    MODEL_OPT,
    {"png", 0, OPT_STRING, &png_path, 0, 0, NULL, "FILE", "also draw the reconstructed log-mel spectrogram", 0},
    {"iters", 'n', OPT_INT, &v_iters, 1, 10000, NULL, "N", "Griffin-Lim iterations", 0},
    {"start", 0, OPT_FLOAT, &x_start, 0, 86400, NULL, "SEC", "begin this many seconds into IN", 0},
    {"duration", 0, OPT_FLOAT, &x_duration, 0, 86400, NULL, "SEC", "use at most this many seconds; 0 = to the end", 0},
    END_OPT,
};
static const OptSpec REC_SPEC = {"reconstruct", "IN", 1,
                                 "audio -> autoencoder latents -> log-mel -> vocoder -> audio (what the latents keep)",
                                 REC_OPTS};

static int run_reconstruct(int argc, char **argv) {
    char *in;
    int st = opts_parse(&REC_SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (check_audio_outputs()) return fail();
    refrain_model *m = load_model();
    if (!m) return fail();
    float *x = NULL;
    long n = 0;
    refrain_latents lat = {0};
    refrain_logmel lm = {0}, rec = {0};
    char err[1024];
    int rc = 1;
    if (read_excerpt(in, x_start, x_duration, &x, &n)) goto done;
    double t0 = now_seconds();
    if (refrain_encode(m, x, n, SAMPLE_RATE, &lat, &lm, err, sizeof err) || refrain_decode(m, &lat, &rec, err, sizeof err)) {
        failed(err);
        goto done;
    }
    double tae = now_seconds() - t0;
    double mae = 0;
    for (long i = 0; i < lm.n_frames * lm.n_mels; i++) mae += fabs((double)rec.data[i] - lm.data[i]);
    mae /= (double)(lm.n_frames * lm.n_mels);
    if (write_audio(&rec)) goto done;
    progress_done();
    if (!g_quiet)
        fprintf(stderr, "reconstruct: %.1f s of audio through %ld x %d latents (encode + decode %.2f s); "
                "log-mel MAE %.3f; wrote %s\n", (double)n / SAMPLE_RATE, lat.n_latent, lat.z, tae, mae, out_path);
    rc = 0;
done:
    if (rc) { progress_done(); rc = fail(); }
    free(x);
    refrain_latents_free(&lat);
    refrain_logmel_free(&lm);
    refrain_logmel_free(&rec);
    refrain_model_free(m);
    return rc;
}
const Command cmd_reconstruct = {&REC_SPEC, run_reconstruct};
