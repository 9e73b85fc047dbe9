// cmd_vocode.c — `refrain vocode IN -o OUT`: a round trip through refrain's
// features: audio -> log-mel (80 bands) -> Griffin-Lim vocoder -> audio.
// What you hear is what the model's output will sound like at best.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "util/util.h"

static const char *out = NULL;
static int iters, init, float32 = 0, seed;   // from vocoder_defaults() in run()
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
    VocoderOpts vo;
    vocoder_defaults(&vo);   // the table's defaults (and so --help) come from the vocoder
    iters = vo.iters;
    init = vo.init;
    momentum = vo.momentum;
    seed = (int)(vo.seed & 0x7fffffff);
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (check_output(out, "wav,flac,ogg")) return fail();
    if (float32 && path_ext(out)[0] != 'w' && path_ext(out)[0] != 'W') {
        fprintf(stderr, "refrain: vocode: --float applies only to .wav output (see 'refrain vocode --help')\n");
        return 2;
    }
    vo.iters = iters;
    vo.momentum = (float)momentum;
    vo.init = (PhaseInit)init;
    vo.seed = (uint64_t)seed;
    vo.progress = !g_quiet;

    float *x = NULL, *lm = NULL, *y = NULL;
    long n = 0, T = 0, ny = 0;
    int rc = 1;
    if (read_excerpt(in, start, duration, &x, &n)) goto done;
    double t0 = now_seconds();
    progress("vocode: %.1f s of audio, %d iterations, init %s", (double)n / SAMPLE_RATE, iters,
             init == PHASE_PGHI ? "pghi" : init == PHASE_ZERO ? "zero" : "random");
    if (logmel_from_audio(&lm, &T, x, n)) goto done;
    if (vocode_logmel(&y, &ny, lm, T, &vo)) goto done;
    OutTx tx;
    outtx_begin(&tx);
    const char *tmp = outtx_add(&tx, out);
    if (!tmp || audio_write(tmp, y, ny, SAMPLE_RATE, float32) || outtx_commit(&tx)) { outtx_abort(&tx); goto done; }
    progress_done();
    if (!g_quiet) {
        // how far the result is from IN's own STFT magnitude: mel loss and phase loss together
        double sc = NAN;
        Stft *s = stft_create();
        float *mag = mallocCheck(sizeof(float) * T * N_BINS);   // (T, F)
        if (s) {
            stft_magnitude(s, mag, x, (T - 1) * HOP);
            sc = spectral_convergence(mag, T, y, ny);
            stft_free(s);
        }
        free(mag);
        fprintf(stderr, "vocode: wrote %s (%.1f s) in %.1f s; spectral convergence against IN %.3f\n", out,
                (double)ny / SAMPLE_RATE, now_seconds() - t0, sc);
    }
    rc = 0;
done:
    if (rc) { progress_done(); rc = fail(); }
    free(x);
    free(lm);
    free(y);
    return rc;
}

const Command cmd_vocode = {&SPEC, run};
