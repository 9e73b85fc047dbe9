// cmd_generate_eval.c — `refrain generate-eval -o generate.md`: the generation
// quality report (sampler/eval.c, generate_eval): Fréchet distance and KAD of
// generated songs against the validation songs, with floors, a ceiling and a
// steps x samplers sweep, and spectrograms beside the report. This file parses
// options, calls the library once and writes the report atomically.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sampler/sampler.h"
#include "util/util.h"

static const char *v_model = NULL, *v_ae = NULL, *v_data, *v_out = NULL, *v_figs = NULL, *v_note = NULL, *v_steps,
                  *v_samplers;
static int v_songs, v_boot, v_seed, v_sched, v_iters;
static double v_max, v_cfg, v_mg;
static const Opt OPTS[] = {
    {"output", 'o', OPT_STRING, &v_out, 0, 0, NULL, "FILE", "Markdown report to write", 1},
    {"model", 'm', OPT_STRING, &v_model, 0, 0, NULL, "FILE", "denoiser model (default: the shipped one, found beside the binary)", 0},
    {"ae", 0, OPT_STRING, &v_ae, 0, 0, NULL, "FILE", "autoencoder model (default: the shipped one)", 0},
    {"data", 0, OPT_STRING, &v_data, 0, 0, NULL, "DIR", "corpus folder (its validation and training splits)", 0},
    {"figs", 0, OPT_STRING, &v_figs, 0, 0, NULL, "DIR", "folder for the PNGs (default: the report's folder)", 0},
    {"note", 0, OPT_STRING, &v_note, 0, 0, NULL, "TEXT", "a line added under the title (how the report was made)", 0},
    {"songs", 0, OPT_INT, &v_songs, 0, 100000, NULL, "N", "validation songs to borrow forms from (0 = all)", 0},
    {"max-seconds", 0, OPT_FLOAT, &v_max, 0, 100000, NULL, "S", "cut every song to its first S seconds (0 = whole songs)", 0},
    {"steps", 0, OPT_STRING, &v_steps, 0, 0, NULL, "N,N,..", "the sweep's sampling steps (each 1..1000, at most 8; \"none\": no sweep)", 0},
    {"samplers", 0, OPT_STRING, &v_samplers, 0, 0, NULL, "A,B,..", "the sweep's samplers: euler, heun, ab2, pingpong (\"none\": no sweep)", 0},
    OPT_SCHEDULE(v_sched),
    OPT_CFG(v_cfg),
    OPT_MEMORY_GUIDANCE(v_mg, "extra push toward what the memory of earlier sections suggests (0 = none; the memory is used either way)"),
    OPT_VOCODER_ITERS(v_iters),
    {"boot", 0, OPT_INT, &v_boot, 0, 100000, NULL, "N", "bootstrap resamples over songs for the intervals (0 = none)", 0},
    {"seed", 0, OPT_INT, &v_seed, 0, 2147483647, NULL, "N", "seed of the ceiling's Gaussian latents and the bootstrap", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"generate-eval", "", 0,
                             "quality of generated songs against the validation songs, floors, ceiling and a steps x samplers sweep (Markdown report)",
                             OPTS};

// "4,8,16" or names "euler,heun" into v (at most cap); "none" is an empty list.
// Returns the count, or -1 after printing which item is wrong.
static int parse_list(const char *flag, const char *text, int *v, int cap, int names) {
    if (!strcmp(text, "none")) return 0;
    char buf[512], *save = NULL;
    snprintf(buf, sizeof buf, "%s", text);
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long x = names ? sampler_from_name(t) : strtol(t, &end, 10);
        if (n == cap || (names && x < 0) || (!names && (*end || end == t || x < 1 || x > 1000))) {
            fprintf(stderr, "refrain: --%s: '%s' %s\n", flag, t,
                    n == cap ? "is one too many" : names ? "is not euler, heun, ab2 or pingpong" : "is not a step count in 1..1000");
            return -1;
        }
        v[n++] = (int)x;
    }
    if (!n) { fprintf(stderr, "refrain: --%s: an empty list (give \"none\" for no sweep)\n", flag); return -1; }
    return n;
}

static int run(int argc, char **argv) {
    GenEvalOpts o;
    gen_eval_defaults(&o);
    v_data = o.data; v_songs = o.songs; v_max = o.max_seconds; v_steps = "4,8,16,32"; v_samplers = "euler,heun,ab2,pingpong";
    v_sched = o.schedule; v_cfg = o.cfg; v_mg = o.mem_guidance; v_iters = o.vocoder_iters; v_boot = o.boot;
    v_seed = (int)(o.seed & 0x7fffffff);
    int st = opts_parse(&SPEC, argc, argv, NULL);
    if (st != OPTS_OK) return st;
    if ((o.n_steps = parse_list("steps", v_steps, o.steps, GEN_EVAL_MAX_STEPS, 0)) < 0 ||
        (o.n_samplers = parse_list("samplers", v_samplers, o.samplers, SAMPLER_COUNT, 1)) < 0)
        return 2;
    if (check_output(v_out, "md")) return fail();
    static char figs[4096];
    if (!v_figs) v_figs = report_folder(figs, sizeof figs, v_out);
    static char found[2][4096];
    if (!(v_model = cli_model(v_model, "denoiser.rfc", found[0], sizeof found[0])) ||
        !(v_ae = cli_model(v_ae, "ae.rfc", found[1], sizeof found[1])))
        return fail();
    o.model = v_model; o.ae = v_ae; o.data = v_data; o.figs = v_figs; o.note = v_note; o.songs = v_songs;
    o.max_seconds = v_max; o.schedule = v_sched; o.cfg = (float)v_cfg; o.mem_guidance = (float)v_mg;
    o.vocoder_iters = v_iters; o.boot = v_boot; o.seed = (uint64_t)v_seed;
    AtomicFile af;
    if (atomic_open(&af, v_out)) return fail();
    if (generate_eval(af.f, &o)) { atomic_abort(&af); return fail(); }
    if (atomic_commit(&af)) return fail();
    if (!g_quiet) fprintf(stderr, "generate-eval: wrote %s\n", v_out);
    return 0;
}

const Command cmd_generate_eval = {&SPEC, run};
