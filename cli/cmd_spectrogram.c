// cmd_spectrogram.c — `refrain spectrogram IN -o OUT.png [--timeline T.json]`:
// the log-mel spectrogram of a sound file (or an excerpt) as a PNG, with
// section boundaries when a timeline is given (refrain.h: the log-mel, the
// timeline and the picture).
#include <stdio.h>
#include <stdlib.h>

#include "refrain.h"
#include "audio/audio.h"
#include "cli/cli.h"
#include "util/util.h"

static const char *out = NULL, *timeline = NULL;
static double start = 0, duration = 0;
static const Opt OPTS[] = {
    {"output", 'o', OPT_STRING, &out, 0, 0, NULL, "FILE", "the PNG to write", 1},
    {"timeline", 't', OPT_STRING, &timeline, 0, 0, NULL, "FILE", "JSON timeline: draw its section boundaries and labels", 0},
    {"start", 0, OPT_FLOAT, &start, 0, 86400, NULL, "SEC", "begin this many seconds into IN", 0},
    {"duration", 0, OPT_FLOAT, &duration, 0, 86400, NULL, "SEC", "use at most this many seconds; 0 = to the end", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"spectrogram", "IN", 1,
                             "draw IN's log-mel spectrogram as a PNG, with section boundaries from a timeline", OPTS};

static int run(int argc, char **argv) {
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    // everything that can be refused cheaply is refused before reading audio
    refrain_timeline tl = {0};
    char err[1024];
    if (check_output(out, "png")) return fail();
    if (timeline && refrain_timeline_read(&tl, timeline, err, sizeof err)) { err_set("%s", err); return fail(); }
    float *x = NULL;
    long n = 0;
    refrain_logmel lm = {0};
    int rc = 1;
    if (read_excerpt(in, start, duration, &x, &n)) goto done;
    double seconds = (double)n / SAMPLE_RATE;
    int late = 0, first = -1;   // drawn clipped, but worth one line: a timeline for another file?
    for (int i = 0; i < tl.n_sections; i++)
        if (tl.sections[i].end > seconds + 0.5 && late++ == 0) first = i;
    if (late)
        fprintf(stderr, "refrain: warning: %d section(s) of %s end after the audio (%.1f s), from sections[%d] on; drawn clipped\n",
                late, timeline, seconds, first);
    progress("spectrogram: %.1f s of audio -> %s", seconds, out);
    if (refrain_logmel_from_audio(&lm, x, n, SAMPLE_RATE, err, sizeof err)) { err_set("%s", err); goto done; }
    if (commit_outputs(&(CliOutput){.path = out, .mel_png = &lm, .timeline = timeline ? &tl : NULL}, 1)) goto done;
    progress_done();
    rc = 0;
done:
    if (rc) { progress_done(); rc = fail(); }
    free(x);
    refrain_logmel_free(&lm);
    refrain_timeline_free(&tl);
    return rc;
}

const Command cmd_spectrogram = {&SPEC, run};
