// cmd_structure.c — `refrain structure IN --timeline T.json [--json OUT] [--png SSM.png]`:
// how well the sections of a song repeat (data/structure.h): same-label
// against different-label section similarity (gap, AUC), MusDr's
// structureness and the similarity against distance, with one line per
// section pair; and `refrain structure --corpus DIR [--split valid]
// [--sources mma,module]`: the same over real songs with exact labels, with
// bootstrap intervals over songs, the reference generated songs are read against.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "data/corpus.h"
#include "data/structure.h"
#include "util/util.h"

static const char *timeline = NULL, *jsonp = NULL, *png = NULL, *corpus = NULL, *sources = "mma,module";
static int split = SPLIT_VALID, max_songs = 0, no_si = 0, boot = 2000, seed = 1;
static double max_lag = 2.0, min_section = 1.0, curve_bin = 5.0, curve_max = 120.0;
static const Opt OPTS[] = {
    {"timeline", 't', OPT_STRING, &timeline, 0, 0, NULL, "FILE", "IN's sections: a JSON timeline (refrain generate --timeline, analyze, form --json)", 0},
    {"json", 0, OPT_STRING, &jsonp, 0, 0, NULL, "FILE", "also write the measures as JSON to FILE", 0},
    {"png", 0, OPT_STRING, &png, 0, 0, NULL, "FILE", "IN: write the self-similarity matrix with the section boundaries as a PNG", 0},
    {"corpus", 0, OPT_STRING, &corpus, 0, 0, NULL, "DIR", "instead of IN: measure the songs of a corpus (e.g. .cache/corpus) against their labels", 0},
    {"split", 0, OPT_CHOICE, &split, 0, 0, "train,valid", "SPLIT", "--corpus: which songs", 0},
    {"sources", 0, OPT_STRING, &sources, 0, 0, NULL, "LIST", "--corpus: comma-separated sources among mma, module, recording", 0},
    {"max-songs", 0, OPT_INT, &max_songs, 0, 100000, NULL, "N", "--corpus: at most N songs; 0 = all", 0},
    {"boot", 0, OPT_INT, &boot, 0, 100000, NULL, "N", "--corpus: bootstrap resamples of the songs for the intervals", 0},
    {"seed", 0, OPT_INT, &seed, 0, 2147483647, NULL, "N", "--corpus: seed of the bootstrap", 0},
    {"max-lag", 0, OPT_FLOAT, &max_lag, 0, 30, NULL, "SEC", "align two sections within +-SEC", 0},
    {"min-section", 0, OPT_FLOAT, &min_section, 0.2, 600, NULL, "SEC", "leave shorter sections out of the pairs", 0},
    {"curve-bin", 0, OPT_FLOAT, &curve_bin, 0.5, 600, NULL, "SEC", "width of the similarity-against-distance bins", 0},
    {"curve-max", 0, OPT_FLOAT, &curve_max, 1, 3600, NULL, "SEC", "similarity against distance up to SEC", 0},
    {"no-si", 0, OPT_FLAG, &no_si, 0, 0, NULL, NULL, "skip MusDr's structureness (the slowest part)", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"structure", "IN", 1,
                             "measure how a song's sections repeat (gap, AUC, structureness), or with --corpus "
                             "the reference over real songs",
                             OPTS};
static const OptSpec SPEC_CORPUS = {"structure", "", 0, SPEC.summary, OPTS};

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    fprintf(stderr, "refrain: structure: %s (see 'refrain structure --help')\n", what);
    return 2;
}

// The writers commit_outputs calls (CliOutput.to_stream, .to_path).
typedef struct { const StructureResult *r; const SongForm *form; } SongOut;
static int song_json(FILE *f, const void *ctx) {
    const SongOut *s = ctx;
    return structure_write_json(f, s->r, s->form);
}
static int song_png(const char *path, const void *ctx) {
    const SongOut *s = ctx;
    return structure_ssm_png(path, s->r, s->form);
}

typedef struct { const StructureSummary *sum; const StructureResult *r; const CorpusSong *meta; int n; } RefOut;
static int ref_json(FILE *f, const void *ctx) {
    const RefOut *o = ctx;
    return structure_corpus_write_json(f, o->sum, o->r, o->meta, o->n);
}

static int run_corpus(const StructureOpts *o) {
    unsigned bits = structure_sources(sources);
    if (!bits) return usage("--sources must be a comma-separated list of mma, module and recording, got '%s'", sources);
    if (timeline || png) return usage("--%s goes with IN, not with --corpus", timeline ? "timeline" : "png");
    if (jsonp && check_output(jsonp, "json")) return fail();
    StructureResult *r;
    CorpusSong *meta;
    int n;
    if (structure_corpus(&r, &meta, &n, corpus, split, bits, max_songs, o)) return fail();
    structure_corpus_print(stdout, r, meta, n);
    printf("\nreference: %s songs of %s (%s)\n", corpus_split_name(split), corpus, sources);
    StructureSummary sum;
    structure_summarize(&sum, r, n, boot, (uint64_t)seed);
    structure_summary_print(stdout, &sum);
    RefOut ro = {&sum, r, meta, n};
    int rc = commit_outputs(&(CliOutput){.path = jsonp, .to_stream = ref_json, .ctx = &ro}, 1) ? fail() : 0;
    structure_summary_free(&sum);
    for (int i = 0; i < n; i++) { structure_result_free(&r[i]); corpus_song_free(&meta[i]); }
    free(r);
    free(meta);
    return rc;
}

static int run(int argc, char **argv) {
    int with_corpus = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--corpus") == 0 || strncmp(argv[i], "--corpus=", 9) == 0) with_corpus = 1;
    char *in = NULL;
    int st = opts_parse(with_corpus ? &SPEC_CORPUS : &SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (curve_max < curve_bin) return usage("--curve-max %g is below --curve-bin %g", curve_max, curve_bin);
    StructureOpts o;
    structure_defaults(&o);
    o.max_lag_s = max_lag;
    o.min_section_s = min_section;
    o.curve_bin_s = curve_bin;
    o.curve_max_s = curve_max;
    o.structureness = !no_si;
    if (with_corpus) return run_corpus(&o);

    if (!timeline) return usage("IN needs its sections: --timeline FILE (or measure a corpus with --corpus DIR)");
    if (png && check_output(png, "png")) return fail();
    if (jsonp && check_output(jsonp, "json")) return fail();
    SongForm form = {0};
    if (timeline_read(timeline, &form)) return fail();
    float *x = NULL;
    long n = 0;
    int rc = 1;
    StructureResult r = {0};
    o.keep_ssm = png != NULL;
    if (read_excerpt(in, 0, 0, &x, &n) || structure_check_form(&form, (double)n / SAMPLE_RATE)) goto done;
    progress("structure: %.1f s of audio, %d sections", (double)n / SAMPLE_RATE, form.n);
    if (structure_measure_audio(&r, x, n, &form, &o)) goto done;
    progress_done();
    structure_print(stdout, in, &r, &form);
    SongOut so = {&r, &form};
    CliOutput out[] = {{.path = jsonp, .to_stream = song_json, .ctx = &so}, {.path = png, .to_path = song_png, .ctx = &so}};
    if (commit_outputs(out, 2)) goto done;   // both or neither
    rc = 0;
done:
    if (rc) { progress_done(); rc = fail(); }
    structure_result_free(&r);
    song_form_free(&form);
    free(x);
    return rc;
}

const Command cmd_structure = {&SPEC, run};
