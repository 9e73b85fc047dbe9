// cmd_convert.c — `refrain convert IN -o OUT`: decode any format libsndfile
// reads, downmix to mono, resample to 22,050 Hz and write .wav/.flac/.ogg,
// optionally only an excerpt (the demo cuts its 30 s this way).
#include <stdlib.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "util/util.h"

static const char *out = NULL;
static double start = 0, duration = 0;
static int float32 = 0;
static const Opt OPTS[] = {
    {"output", 'o', OPT_STRING, &out, 0, 0, NULL, "FILE", "audio to write: .wav, .flac or .ogg", 1},
    {"start", 0, OPT_FLOAT, &start, 0, 86400, NULL, "SEC", "begin this many seconds into IN", 0},
    {"duration", 0, OPT_FLOAT, &duration, 0, 86400, NULL, "SEC", "keep at most this many seconds; 0 = to the end", 0},
    {"float", 0, OPT_FLAG, &float32, 0, 0, NULL, NULL, "write 32-bit float WAV instead of 16-bit PCM", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"convert", "IN", 1,
                             "write IN (or an excerpt) as 22,050 Hz mono .wav, .flac or .ogg", OPTS};

static int run(int argc, char **argv) {
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (check_output(out, "wav,flac,ogg")) return fail();
    float *x = NULL;
    long n = 0;
    if (read_excerpt(in, start, duration, &x, &n) ||
        commit_outputs(&(CliOutput){.path = out, .audio = &(refrain_audio){x, n, SAMPLE_RATE}, .float32 = float32}, 1)) {
        free(x);
        return fail();
    }
    if (!g_quiet) fprintf(stderr, "convert: wrote %s (%.1f s)\n", out, (double)n / SAMPLE_RATE);
    free(x);
    return 0;
}

const Command cmd_convert = {&SPEC, run};
