// cmd_vocode.c — `refrain vocode IN -o OUT`: a round trip through refrain's
// features: audio -> log-mel (80 bands) -> Griffin-Lim vocoder -> audio.
// What you hear is what the model's output will sound like at best.
// The features and the vocoder are refrain.h's (refrain_vocode).
#include <stdio.h>
#include <stdlib.h>

#include "refrain.h"
#include "audio/audio.h"
#include "cli/cli.h"
#include "util/util.h"

static const char *out = NULL;
static int iters, init, float32 = 0, seed;   // from refrain_vocode_default_params() in run()
static double momentum, start = 0, duration = 0;
// CHOICE indexes follow PhaseInit's values: random 0, zero 1, pghi 2.
static const Opt OPTS[] = {
    {"output", 'o', OPT_STRING, &out, 0, 0, NULL, "FILE", "audio to write: .wav, .flac or .ogg", 1},
    {"iters", 'n', OPT_INT, &iters, 1, 10000, NULL, "N", "Griffin-Lim iterations", 0},
    {"init", 0, OPT_CHOICE, &init, 0, 0, "random,zero,pghi", "MODE", "initial phase", 0},
    {"momentum", 0, OPT_FLOAT, &momentum, 0, VOCODER_MOMENTUM_MAX, NULL, "F", "fast Griffin-Lim momentum (0 = plain Griffin-Lim)", 0},
    {"seed", 0, OPT_INT, &seed, 0, 2147483647, NULL, "N", "seed for --init random", 0},
    {"float", 0, OPT_FLAG, &float32, 0, 0, NULL, NULL, "write 32-bit float WAV instead of 16-bit PCM", 0},
    {"start", 0, OPT_FLOAT, &start, 0, 86400, NULL, "SEC", "begin this many seconds into IN", 0},
    {"duration", 0, OPT_FLOAT, &duration, 0, 86400, NULL, "SEC", "use at most this many seconds; 0 = to the end", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"vocode", "IN", 1,
                             "round-trip IN through log-mel features and the Griffin-Lim vocoder", OPTS};

static int run(int argc, char **argv) {
    refrain_vocode_params vp = refrain_vocode_default_params();   // the table's defaults (and --help's)
    iters = vp.iters;
    init = vp.init;
    momentum = vp.momentum;
    seed = (int)(vp.seed & 0x7fffffff);
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (check_output(out, "wav,flac,ogg")) return fail();
    if (float32 && path_ext(out)[0] != 'w' && path_ext(out)[0] != 'W') {
        fprintf(stderr, "refrain: vocode: --float applies only to .wav output (see 'refrain vocode --help')\n");
        return 2;
    }
    vp.iters = iters;
    vp.momentum = (float)momentum;
    vp.init = init;
    vp.seed = (uint64_t)seed;
    vp.progress = vocoder_progress;   // cli/common.c

    float *x = NULL;
    long n = 0;
    refrain_logmel lm = {0};
    refrain_audio y = {0};
    char err[1024];
    int rc = 1;
    if (read_excerpt(in, start, duration, &x, &n)) goto done;
    double t0 = now_seconds();
    progress("vocode: %.1f s of audio, %d iterations, init %s", (double)n / SAMPLE_RATE, iters,
             init == PHASE_PGHI ? "pghi" : init == PHASE_ZERO ? "zero" : "random");
    if (refrain_logmel_from_audio(&lm, x, n, SAMPLE_RATE, err, sizeof err) || refrain_vocode(&vp, &lm, &y, err, sizeof err)) {
        err_set("%s", err);
        goto done;
    }
    if (commit_outputs(&(CliOutput){.path = out, .audio = &y, .float32 = float32}, 1)) goto done;
    progress_done();
    if (!g_quiet)   // how far the result is from IN's own STFT magnitude: mel loss and phase loss together
        fprintf(stderr, "vocode: wrote %s (%.1f s) in %.1f s; spectral convergence against IN %.3f\n", out,
                (double)y.n_samples / SAMPLE_RATE, now_seconds() - t0,
                refrain_spectral_convergence(x, n, y.samples, y.n_samples));
    rc = 0;
done:
    if (rc) { progress_done(); rc = fail(); }
    free(x);
    refrain_logmel_free(&lm);
    refrain_audio_free(&y);
    return rc;
}

const Command cmd_vocode = {&SPEC, run};
