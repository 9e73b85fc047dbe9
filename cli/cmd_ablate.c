// cmd_ablate.c — `refrain ablate --form "..." --songs N -o ablation.md`: what the
// section memory buys and costs (sampler/ablate.c, ablate_run): the same songs
// with memory, without, with another song's memory and with other songs' (one per
// section; the two controls), at each memory guidance of
// a sweep, at each repeat strength of a sweep and with each extra model, measured for structure, quality and cost,
// with the figures beside the report. --model may be given several times: the
// first is the model measured, the others add their memory condition (their K).
// This file parses options, calls the library once and writes the report atomically.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "conditioning/conditioning.h"
#include "sampler/sampler.h"
#include "util/util.h"

static const char *v_form = NULL, *v_out = NULL, *v_model = NULL, *v_ae = NULL, *v_data, *v_work, *v_figs = NULL,
                  *v_note = NULL, *v_sweep = "0,1,2,4", *v_rsweep = "none";
static int v_songs, v_seed, v_steps, v_sampler, v_sched, v_iters, v_style, v_boot;
static double v_cfg, v_mg, v_bpm, v_rs;
static const Opt OPTS[] = {
    {"form", 'f', OPT_STRING, &v_form, 0, 0, NULL, "FORM", "every song's sections (as refrain generate --form)", 1},
    {"songs", 'n', OPT_INT, &v_songs, 2, 10000, NULL, "N", "songs per condition (seeds SEED .. SEED + N - 1)", 0},
    {"output", 'o', OPT_STRING, &v_out, 0, 0, NULL, "FILE", "Markdown report to write", 1},
    {"model", 'm', OPT_STRING, &v_model, 0, 0, NULL, "FILE", "denoiser (default: the shipped one); give it again for each model to compare (their memory condition, e.g. another K)", 0},
    {"ae", 0, OPT_STRING, &v_ae, 0, 0, NULL, "FILE", "autoencoder model (default: the shipped one)", 0},
    {"data", 0, OPT_STRING, &v_data, 0, 0, NULL, "DIR", "corpus folder: its validation songs are the references", 0},
    {"work", 0, OPT_STRING, &v_work, 0, 0, NULL, "DIR", "where the songs are kept (in DIR/<model hash>/) and reused by a rerun", 0},
    {"figs", 0, OPT_STRING, &v_figs, 0, 0, NULL, "DIR", "folder for the PNGs (default: the report's folder)", 0},
    {"note", 0, OPT_STRING, &v_note, 0, 0, NULL, "TEXT", "a line added under the title", 0},
    {"memory-guidance-sweep", 0, OPT_STRING, &v_sweep, 0, 0, NULL, "G,G,..", "memory guidance settings to compare (at most 8; \"none\": no sweep)", 0},
    {"repeat-strength-sweep", 0, OPT_STRING, &v_rsweep, 0, 0, NULL, "X,X,..", "repeat strengths to compare, each with memory (each above 0, at most 1; at most 8; \"none\": no sweep)", 0},
    OPT_REPEAT_STRENGTH(v_rs, "repeat strength of every condition but the sweep's (as refrain generate; 1 = from pure noise; no memory: always 1)"),
    {"seed", 0, OPT_INT, &v_seed, 0, 2147483647, NULL, "N", "song i's seed is N + i; also the bootstraps'", 0},
    OPT_STEPS(v_steps),
    OPT_SAMPLER(v_sampler),
    OPT_SCHEDULE(v_sched),
    OPT_CFG(v_cfg),
    OPT_MEMORY_GUIDANCE(v_mg, "memory guidance of every condition but the sweep's"),
    OPT_BPM(v_bpm),
    OPT_STYLE(v_style),
    OPT_VOCODER_ITERS(v_iters),
    {"boot", 0, OPT_INT, &v_boot, 0, 100000, NULL, "N", "bootstrap resamples over songs for the intervals (0 = none)", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"ablate", "", 0,
                             "what the section memory buys: the same songs with memory, without, with another song's and other songs' "
                             "(one per section), at several guidances and models (Markdown report)",
                             OPTS};

// "0,1,2.5" into v (at most cap, each a `what` in lo..hi; lo OPT_ABOVE_0: above 0); "none" is empty. Returns
// the count, or -1 after saying which item of option `name` is wrong.
static int parse_floats(const char *name, const char *what, const char *text, float *v, int cap, double lo, double hi) {
    if (!strcmp(text, "none")) return 0;
    char buf[512], *save = NULL;
    snprintf(buf, sizeof buf, "%s", text);
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        double x = strtod(t, &end);
        if (n == cap || *end || end == t || !(x >= lo && x <= hi)) {
            if (n == cap) fprintf(stderr, "refrain: --%s: '%s' is one too many (at most %d)\n", name, t, cap);
            else if (lo == OPT_ABOVE_0) fprintf(stderr, "refrain: --%s: '%s' is not a %s above 0 and at most %g\n", name, t, what, hi);
            else fprintf(stderr, "refrain: --%s: '%s' is not a %s in %g..%g\n", name, t, what, lo, hi);
            return -1;
        }
        v[n++] = (float)x;
    }
    if (!n) { fprintf(stderr, "refrain: --%s: an empty list (give \"none\" for no sweep)\n", name); return -1; }
    return n;
}

static int run(int argc, char **argv) {
    AblateOpts o;
    ablate_defaults(&o);
    v_data = o.data; v_work = o.work; v_songs = o.songs; v_seed = (int)(o.seed & 0x7fffffff); v_steps = o.steps;
    v_sampler = o.sampler; v_sched = o.schedule; v_cfg = o.cfg; v_mg = o.mem_guidance; v_bpm = o.bpm;
    v_rs = o.repeat_strength; v_style = o.style; v_iters = o.vocoder_iters; v_boot = o.boot;
    int st = opts_parse(&SPEC, argc, argv, NULL);
    if (st != OPTS_OK) return st;
    // --model given several times: the first is measured, the others compared
    int nm = 0;
    const char *models[ABLATE_MAX_MODELS + 1];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if ((!strcmp(a, "--model") || !strcmp(a, "-m")) && i + 1 < argc) v = argv[++i];
        else if (!strncmp(a, "--model=", 8)) v = a + 8;
        if (!v) continue;
        if (nm == ABLATE_MAX_MODELS + 1) { fprintf(stderr, "refrain: ablate: at most %d models\n", ABLATE_MAX_MODELS + 1); return 2; }
        models[nm++] = v;
    }
    if ((o.n_sweep = parse_floats("memory-guidance-sweep", "guidance", v_sweep, o.mg_sweep, ABLATE_MAX_SWEEP, -5, 20)) < 0) return 2;
    if ((o.n_rs_sweep = parse_floats("repeat-strength-sweep", "repeat strength", v_rsweep, o.rs_sweep, ABLATE_MAX_SWEEP, OPT_ABOVE_0, REPEAT_STRENGTH_MAX)) < 0) return 2;
    FormOpts fo;
    form_opts_default(&fo);
    fo.bpm = v_bpm;
    SongForm check;
    if (form_parse(&check, v_form, &fo)) { fprintf(stderr, "refrain: %s\n", err_msg()); return 2; }
    song_form_free(&check);
    if (check_output(v_out, "md")) return fail();
    static char figs[4096];
    if (!v_figs) v_figs = report_folder(figs, sizeof figs, v_out);
    static char found[2][4096];
    if (!nm && !(v_model = cli_model(v_model, "denoiser.rfc", found[0], sizeof found[0]))) return fail();
    if (!(v_ae = cli_model(v_ae, "ae.rfc", found[1], sizeof found[1]))) return fail();
    o.form = v_form; o.songs = v_songs; o.seed = (uint64_t)v_seed; o.model = nm ? models[0] : v_model; o.ae = v_ae;
    for (int i = 1; i < nm; i++) o.models[o.n_models++] = models[i];
    o.data = v_data; o.work = v_work; o.figs = v_figs; o.note = v_note; o.bpm = v_bpm; o.style = v_style;
    o.steps = v_steps; o.sampler = v_sampler; o.schedule = v_sched; o.cfg = (float)v_cfg; o.mem_guidance = (float)v_mg;
    o.vocoder_iters = v_iters; o.boot = v_boot; o.repeat_strength = (float)v_rs;
    AtomicFile af;
    if (atomic_open(&af, v_out)) return fail();
    AblateCounts n;
    if (ablate_run(af.f, &o, &n)) { atomic_abort(&af); return fail(); }
    if (atomic_commit(&af)) return fail();
    if (!g_quiet) fprintf(stderr, "ablate: wrote %s (%d songs generated, %d reused)\n", v_out, n.generated, n.reused);
    return 0;
}

const Command cmd_ablate = {&SPEC, run};
