// cmd_corpus.c — the corpus subcommands (data/corpus.h):
//   `refrain mmagen OUT`  writes MMA songs from a seed (one .mma, or a folder of them)
//   `refrain corpus LIST` builds feature shards and the index from a source list
// scripts/make-data.sh drives both; `make data` runs it.
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "data/corpus.h"
#include "util/rng.h"
#include "util/util.h"

// ---- refrain mmagen -------------------------------------------------------------------
#define TEXT_(x) #x
#define TEXT(x) TEXT_(x)   // a macro's value as a string: "24" for --help
static int mg_seed = (int)RNG_DEFAULT_SEED, mg_count = 0, mg_tempo = 0;
static double mg_hours = 3.2;
static const char *mg_list = NULL, *mg_form = NULL, *mg_groove = NULL, *mg_lib = NULL;
static const Opt MG_OPTS[] = {
    {"seed", 0, OPT_INT, &mg_seed, 0, 2147483647, NULL, "N", "song seed (a set derives song i's seed from it)", 0},
    {"hours", 0, OPT_FLOAT, &mg_hours, 0.001, 1000, NULL, "H", "folder: write songs until their estimated length reaches H hours", 0},
    {"count", 0, OPT_INT, &mg_count, 0, 100000, NULL, "N", "folder: write exactly N songs instead (0 = use --hours)", 0},
    {"list", 0, OPT_STRING, &mg_list, 0, 0, NULL, "FILE", "folder: also write one line per song (name, groove, tempo, seconds, form)", 0},
    {"form", 0, OPT_STRING, &mg_form, 0, 0, NULL, "\"S S ..\"", "one song: 1 to " TEXT(MMA_MAX_SECTIONS) " sections (intro verse prechorus chorus bridge solo outro); default drawn", 0},
    {"groove", 0, OPT_STRING, &mg_groove, 0, 0, NULL, "NAME", "one song: MMA groove file (e.g. 8beat); default drawn", 0},
    {"tempo", 0, OPT_INT, &mg_tempo, 0, 400, NULL, "BPM", "one song: tempo (0 = drawn)", 0},
    {"libdir", 0, OPT_STRING, &mg_lib, 0, 0, NULL, "DIR", "MMA groove library (default /usr/share/mma/lib/stdlib)", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec MG_SPEC = {"mmagen", "OUT", 1,
                                "write MMA songs with section markers from a seed (OUT.mma: one song; else a folder)",
                                MG_OPTS};

static int run_mmagen(int argc, char **argv) {
    char *out;
    int st = opts_parse(&MG_SPEC, argc, argv, &out);
    if (st != OPTS_OK) return st;
    int one = strcasecmp(path_ext(out), "mma") == 0;
    // each option is for one of the two modes; the other would ignore it
    const char *stray = one ? (mg_count ? "--count" : mg_list ? "--list" : NULL)
                            : (mg_form ? "--form" : mg_groove ? "--groove" : mg_tempo ? "--tempo" : NULL);
    if (stray) {
        fprintf(stderr, "refrain: mmagen: %s is for %s; %s is %s (see 'refrain mmagen --help')\n", stray,
                one ? "a folder of songs" : "one song (OUT.mma)", out, one ? "one song" : "a folder");
        return 2;
    }
    if (one && mg_form && mma_form_check(mg_form)) {   // unknown, empty, too long: a usage error, as `refrain form` makes it, before MMA loads
        fprintf(stderr, "refrain: mmagen: %s (see 'refrain mmagen --help')\n", err_msg());
        return 2;
    }
    MmaLibrary *lib;
    if (mma_library_load(&lib, mg_lib)) return fail();
    int rc = 0;
    if (one) {
        AtomicFile af;
        MmaSongInfo info;
        if (atomic_open(&af, out)) { mma_library_free(lib); return fail(); }
        if (mma_generate(af.f, &info, lib, (uint64_t)mg_seed, mg_form, mg_groove, mg_tempo)) {
            atomic_abort(&af);
            mma_library_free(lib);
            return fail();
        }
        if (atomic_commit(&af)) { mma_library_free(lib); return fail(); }
        printf("%s\t%s/%s\t%d/4\t%d bpm\t%.1f s\t", out, info.groove_file, info.groove, info.beats_per_bar,
               info.tempo, info.est_seconds);
        for (int i = 0; i < info.n_sections; i++)
            printf("%s%s:%d", i ? " " : "", info.sections[i].label, info.sections[i].bars);
        printf("\n");
    } else {
        FILE *list = NULL;
        AtomicFile af;
        if (mg_list) {
            if (atomic_open(&af, mg_list)) { mma_library_free(lib); return fail(); }
            list = af.f;
        }
        rc = mma_generate_set(out, lib, (uint64_t)mg_seed, mg_hours, mg_count, list);
        if (list) {
            if (rc) atomic_abort(&af);
            else rc = atomic_commit(&af);
        }
        if (rc) { mma_library_free(lib); return fail(); }
    }
    mma_library_free(lib);
    return 0;
}

const Command cmd_mmagen = {&MG_SPEC, run_mmagen};

// ---- refrain corpus ----------------------------------------------------------------------
static const char *cp_out = ".cache/corpus", *cp_cache = ".cache/";
static int cp_part = 0, cp_parts = 1, cp_index_only = 0, cp_valid = CORPUS_VALID_PERCENT;
static double cp_min = 20, cp_max = 900;
static const Opt CP_OPTS[] = {
    {"out", 'o', OPT_STRING, &cp_out, 0, 0, NULL, "DIR", "output folder (shards/, index.rfi, index.tsv)", 0},
    {"cache", 0, OPT_STRING, &cp_cache, 0, 0, NULL, "PREFIX", "prefix removed from paths to make song ids", 0},
    {"part", 0, OPT_INT, &cp_part, 0, 1023, NULL, "K", "build only list lines with index % parts == K", 0},
    {"parts", 0, OPT_INT, &cp_parts, 1, 1024, NULL, "N", "number of parts run side by side (the index is written when N is 1)", 0},
    {"index-only", 0, OPT_FLAG, &cp_index_only, 0, 0, NULL, NULL, "build nothing: collect the shards into the index", 0},
    {"min-seconds", 0, OPT_FLOAT, &cp_min, 0, 3600, NULL, "SEC", "skip shorter songs", 0},
    {"max-seconds", 0, OPT_FLOAT, &cp_max, 1, 86400, NULL, "SEC", "cut longer songs", 0},
    {"valid-percent", 0, OPT_INT, &cp_valid, 0, 100, NULL, "P", "share of songs (by hash of the song id) in the validation split", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec CP_SPEC = {"corpus", "LIST", 1,
                                "build the training corpus (feature shards + index) from a source list", CP_OPTS};

static int run_corpus(int argc, char **argv) {
    char *list;
    int st = opts_parse(&CP_SPEC, argc, argv, &list);
    if (st != OPTS_OK) return st;
    if (cp_part >= cp_parts) {
        fprintf(stderr, "refrain: corpus: --part must be below --parts (%d)\n", cp_parts);
        return 2;
    }
    CorpusOpts o;
    corpus_defaults(&o);
    o.list = list;
    o.out = cp_out;
    o.cache = cp_cache;
    o.part = cp_part;
    o.nparts = cp_parts;
    o.min_seconds = cp_min;
    o.max_seconds = cp_max;
    o.valid_percent = cp_valid;
    if (!cp_index_only) {
        int built, fresh, skipped;
        double t0 = now_seconds();
        if (corpus_build(&o, &built, &fresh, &skipped)) return fail();
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "refrain corpus: part %d/%d: %d built, %d up to date, %d skipped (%.1f s wall, %.1f s CPU)\n",
                cp_part + 1, cp_parts, built, fresh, skipped, now_seconds() - t0,
                ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec));
        if (cp_parts > 1) return 0;
    }
    CorpusIndex ix;
    if (corpus_index(&o, &ix)) return fail();
    printf("corpus index %s/index.rfi: %d songs\n\n", cp_out, ix.n);
    index_summary(stdout, &ix);
    index_free(&ix);
    return 0;
}

const Command cmd_corpus = {&CP_SPEC, run_corpus};
