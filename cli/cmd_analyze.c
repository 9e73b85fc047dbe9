// cmd_analyze.c — `refrain analyze IN [--json] [--png SSM.png] [--ref REF]`:
// the form of a recording (sections, repeat labels, confidence, loudness,
// brightness, onset density) found by data/analyze.h; as a table, or as a
// JSON timeline that `refrain spectrogram --timeline` draws. With --ref (a
// JSON timeline or a MIDI file with marker events, e.g. from `refrain mmagen`
// rendered by mma, or a tracker module whose played order list is the
// reference) it also scores itself: boundary F at 0.5 s and 3 s and pairwise
// label F. IN may itself be a tracker module (rendered through libopenmpt,
// data/modules.c), so `refrain analyze song.it --ref song.it` scores the
// analyzer against the song's exact pattern structure.
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "data/analyze.h"
#include "data/corpus.h"
#include "util/util.h"

static int json = 0;
static const char *png = NULL, *outp = NULL, *ref = NULL;
static double start = 0, duration = 0;
static double min_section = 5.0, kernel = 4.5, threshold = 0.5;   // analyze_defaults' values
static int subsong = 0, fixed_scale = 0;
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
    {"threshold", 0, OPT_FLOAT, &threshold, 0, 1, NULL, "X",
     "segment similarity at which two segments share a label; it moves boundaries too: neighbours "
     "that share a label merge into one section, and a merged run is cut again where it repeats", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"analyze", "IN", 1,
                             "find a recording's sections, repeat labels and per-section descriptors", OPTS};

// Tracker modules (anything libopenmpt reads) are told by their extension.
static int is_module(const char *path) {
    static const char *EXT[] = {"mod", "xm", "s3m", "it", "mptm", "669", "mtm", "stm", "med", "okt", "far",
                                "ult", "umx", "amf", "dsm", "mdl", "psm", "ptm", NULL};
    for (int i = 0; EXT[i]; i++) if (strcasecmp(path_ext(path), EXT[i]) == 0) return 1;
    return 0;
}
#define MODULE_MAX_SECONDS 900.0   // as the corpus cuts them (data/corpus.h)

// Reference sections: starts (ascending) and integer labels by first appearance.
typedef struct {
    double start[256];
    int label[256];
    char name[256][32];
    int n;
} RefForm;

static int ref_add(RefForm *r, double t, const char *name) {
    if (r->n >= 256) return err_set("reference has more than 256 sections");
    if (r->n > 0 && t < r->start[r->n - 1]) return err_set("reference sections are not in time order at %.2f s", t);
    int lab = -1;
    for (int i = 0; i < r->n && lab < 0; i++) if (strcmp(r->name[i], name) == 0) lab = r->label[i];
    if (lab < 0) {
        lab = 0;
        for (int i = 0; i < r->n; i++) if (r->label[i] >= lab) lab = r->label[i] + 1;
    }
    snprintf(r->name[r->n], sizeof r->name[0], "%s", name);
    r->start[r->n] = t;
    r->label[r->n++] = lab;
    return 0;
}

static int ref_read(RefForm *r, const char *path) {
    memset(r, 0, sizeof *r);
    if (is_module(path)) {
        // every played order entry is a section labelled by its pattern
        float *x;
        long n;
        ModuleSpan *sp;
        int ns, rc = 0;
        if (module_render(path, subsong, MODULE_MAX_SECONDS, &x, &n, &sp, &ns)) return -1;
        free(x);
        for (int i = 0; i < ns && rc == 0; i++) {
            char name[32];
            snprintf(name, sizeof name, "%d", sp[i].pattern);
            rc = ref_add(r, i == 0 ? -start : sp[i].start - start, name);
        }
        free(sp);
        return rc;
    }
    if (strcasecmp(path_ext(path), "mid") == 0 || strcasecmp(path_ext(path), "midi") == 0) {
        MidiMarker *mk;
        int n;
        double end;
        if (midi_read_markers(path, &mk, &n, &end)) return -1;
        int rc = n ? 0 : err_set("MIDI file %s has no marker events", path);
        for (int i = 0; i < n && rc == 0; i++) rc = ref_add(r, mk[i].time - start, mk[i].text);
        free(mk);
        return rc;
    }
    SongForm tl;
    if (timeline_read(path, &tl)) return -1;
    int rc = tl.n ? 0 : err_set("timeline %s has no sections", path);
    for (int i = 0; i < tl.n && rc == 0; i++) rc = ref_add(r, tl.sections[i].start - start, tl.sections[i].label);
    song_form_free(&tl);
    return rc;
}

static void score(const RefForm *r, const SongForm *a) {
    double rb[256], eb[256], es[256];
    int el[256], nr = 0, ne = 0;
    for (int i = 1; i < r->n; i++) if (r->start[i] > 0 && r->start[i] < a->duration) rb[nr++] = r->start[i];
    for (int i = 0; i < a->n && i < 256; i++) {
        es[i] = a->sections[i].start;
        el[i] = a->sections[i].label[0] - 'A';   // the analyzer's labels are single letters
        if (i > 0) eb[ne++] = a->sections[i].start;
    }
    double p5, r5, f5, p3, r3, f3, pp, pr, pf;
    boundary_prf(&p5, &r5, &f5, rb, nr, eb, ne, 0.5);
    boundary_prf(&p3, &r3, &f3, rb, nr, eb, ne, 3.0);
    pairwise_prf(&pp, &pr, &pf, r->start, r->label, r->n, es, el, a->n < 256 ? a->n : 256, a->duration, 0.1);
    // one tab-separated line, easy for scripts to pick out
    FILE *f = json ? stderr : stdout;
    fprintf(f, "score\tF@0.5s %.3f\tP %.3f\tR %.3f\tF@3s %.3f\tP %.3f\tR %.3f\tpairwise %.3f\tP %.3f\tR %.3f\tref ",
            f5, p5, r5, f3, p3, r3, pf, pp, pr);
    for (int i = 0; i < r->n; i++) fputc('a' + r->label[i] % 26, f);
    fprintf(f, "\test ");
    for (int i = 0; i < a->n; i++) fputs(a->sections[i].label, f);
    fprintf(f, "\n");
}

static int run(int argc, char **argv) {
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (png && check_output(png, "png")) return fail();
    if (outp && check_output(outp, "json")) return fail();
    RefForm *rf = NULL;
    if (ref) {
        rf = mallocCheck(sizeof *rf);
        if (ref_read(rf, ref)) { free(rf); return fail(); }
    }
    float *x = NULL;
    long n = 0;
    Analysis a = {0};
    int rc = 1;
    AnalyzeOpts o;
    analyze_defaults(&o);
    o.min_section_s = min_section;
    o.kernel_s = kernel;
    o.label_threshold = (float)threshold;
    if (fixed_scale) o.scale_power = 0;
    if (is_module(in)) {
        ModuleSpan *sp;
        int ns;
        if (module_render(in, subsong, MODULE_MAX_SECONDS, &x, &n, &sp, &ns)) goto done;
        free(sp);
        long s0 = (long)(start * SAMPLE_RATE), s1 = duration > 0 ? s0 + (long)(duration * SAMPLE_RATE) : n;
        if (s1 > n) s1 = n;
        if (s0 >= s1) { err_set("%s: nothing after %.1f s (it plays %.1f s)", in, start, (double)n / SAMPLE_RATE); goto done; }
        memmove(x, x + s0, sizeof(float) * (s1 - s0));
        n = s1 - s0;
    } else if (read_excerpt(in, start, duration, &x, &n)) goto done;
    progress("analyze: %.1f s of audio", (double)n / SAMPLE_RATE);
    if (analyze_audio(&a, x, n, &o)) goto done;
    progress_done();
    if (json) {
        if (timeline_write(stdout, &a.form)) goto done;
    } else {
        analysis_print(stdout, &a);
    }
    if (outp) {
        AtomicFile af;
        if (atomic_open(&af, outp)) goto done;
        if (timeline_write(af.f, &a.form)) { atomic_abort(&af); goto done; }
        if (atomic_commit(&af)) goto done;
    }
    if (png && analysis_ssm_png(png, &a)) goto done;
    if (rf) score(rf, &a.form);
    rc = 0;
done:
    if (rc) fail();
    analysis_free(&a);
    free(x);
    free(rf);
    return rc;
}

const Command cmd_analyze = {&SPEC, run};
