// cmd_analyze.c — `refrain analyze IN [--json] [--png SSM.png] [--ref REF]`:
// the form of a recording (sections, repeat labels, confidence, loudness,
// brightness, onset density) found by data/analyze.h; as a table, or as a
// JSON timeline that `refrain spectrogram --timeline` draws. With --ref (a
// JSON timeline or a MIDI file with marker events, e.g. from `refrain mmagen`
// rendered by mma, or a tracker module whose played order list is the
// reference) it also scores itself: boundary F at 0.5 s and 3 s and pairwise
// label F. IN may itself be a tracker module (rendered through libopenmpt,
// data/modules.c), so `refrain analyze song.it --ref song.it` scores the
// analyzer against the song's exact pattern structure. The analysis is
// refrain.h's (refrain_analyze), the scoring data/reference.c's; the JSON and
// the PNG are written together or not at all (cli.h commit_outputs).
#include <stdlib.h>

#include "refrain.h"
#include "audio/audio.h"
#include "cli/cli.h"
#include "data/analyze.h"
#include "sampler/sampler.h"
#include "util/util.h"

static int json = 0;
static const char *png = NULL, *outp = NULL, *ref = NULL;
static double start = 0, duration = 0;
static double min_section, kernel, threshold;   // refrain_analyze_default_params() in run()
static int subsong = 0, fixed_scale = 0, level = 0;
static const Opt OPTS[] = {
    {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print the sections as a JSON timeline instead of a table", 0},
    {"output", 'o', OPT_STRING, &outp, 0, 0, NULL, "FILE", "also write the JSON timeline to FILE", 0},
    {"png", 0, OPT_STRING, &png, 0, 0, NULL, "FILE", "write the self-similarity matrix with the boundaries as a PNG", 0},
    {"ref", 0, OPT_STRING, &ref, 0, 0, NULL, "FILE",
     "score against a reference: JSON timeline, MIDI file with markers, or tracker module (its order list)", 0},
    {"subsong", 0, OPT_INT, &subsong, 0, 255, NULL, "K", "subsong of a tracker module IN or --ref", 0},
    {"start", 0, OPT_FLOAT, &start, 0, 86400, NULL, "SEC", "begin this many seconds into IN", 0},
    {"duration", 0, OPT_FLOAT, &duration, 0, 86400, NULL, "SEC", "use at most this many seconds; 0 = to the end", 0},
    {"min-section", 0, OPT_FLOAT, &min_section, 1, 120, NULL, "SEC",
     "shortest section of a song up to 2.5 minutes; longer songs scale it (and --kernel) in proportion to their length", 0},
    {"kernel", 0, OPT_FLOAT, &kernel, 1, 60, NULL, "SEC", "half-width of the checkerboard novelty kernel", 0},
    {"fixed-scale", 0, OPT_FLAG, &fixed_scale, 0, 0, NULL, NULL,
     "keep --min-section and --kernel as given at any song length", 0},
    {"level", 0, OPT_CHOICE, &level, 0, 0, "sections,patterns", "LEVEL",
     "patterns: a boundary at every repetition of the song's dominant period (a tracker module's "
     "patterns), each pattern labelled; --min-section, --kernel and --threshold are for sections", 0},
    {"threshold", 0, OPT_FLOAT, &threshold, 0, 1, NULL, "X",
     "segment similarity at which two segments share a label; it moves boundaries too: neighbours "
     "that share a label merge into one section, and a merged run is cut again where it repeats", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"analyze", "IN", 1,
                             "find a recording's sections, repeat labels and per-section descriptors", OPTS};

static int run(int argc, char **argv) {
    refrain_analyze_params p = refrain_analyze_default_params();   // the table's defaults (and --help's)
    min_section = p.min_section; kernel = p.kernel; threshold = p.threshold;
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (png && check_output(png, "png")) return fail();
    if (outp && check_output(outp, "json")) return fail();
    AnalysisRef *rf = NULL;
    if (ref) {
        rf = mallocCheck(sizeof *rf);
        if (analysis_ref_read(rf, ref, subsong, start)) { free(rf); return fail(); }
    }
    p.min_section = min_section;
    p.kernel = kernel;
    p.threshold = threshold;
    p.fixed_scale = fixed_scale;
    p.patterns = level == 1;
    float *x = NULL;
    long n = 0;
    refrain_analysis *a = NULL;
    char err[1024];
    int rc = 1;
    if (is_tracker_module(in) ? module_read_range(in, subsong, start, duration, &x, &n)
                              : read_excerpt(in, start, duration, &x, &n))
        goto done;
    progress("analyze: %.1f s of audio", (double)n / SAMPLE_RATE);
    if (!(a = refrain_analyze(x, n, SAMPLE_RATE, &p, err, sizeof err))) { err_set("%s", err); goto done; }
    progress_done();
    const refrain_timeline *t = refrain_analysis_timeline(a);
    if (json) {
        if (refrain_timeline_write(t, stdout, err, sizeof err)) { err_set("%s", err); goto done; }
    } else {
        refrain_timeline_print(t, stdout);
    }
    CliOutput files[] = {{.path = outp, .json = t}, {.path = png, .ssm_png = a}};   // both or neither
    if (commit_outputs(files, 2)) goto done;
    if (rf) {
        SongForm form = refrain_timeline_form(t);
        analysis_score_print(json ? stderr : stdout, rf, &form);
        song_form_free(&form);
    }
    rc = 0;
done:
    if (rc) { progress_done(); rc = fail(); }
    refrain_analysis_free(a);
    free(x);
    free(rf);
    return rc;
}

const Command cmd_analyze = {&SPEC, run};
