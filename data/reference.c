// reference.c — scoring the analyzer (analyze.h) against a reference form:
// a JSON timeline, a MIDI file's marker events (an MMA song's MidiMark
// sections) or a tracker module's played order list (every order entry a
// section labelled by its pattern: exact repeat structure); boundary F at
// 0.5 s and 3 s and pairwise label F in one tab-separated line (refrain
// analyze --ref, scripts/eval-analyzer.sh reads it). Also reading a tracker
// module as audio, so the analyzer can run on the song its reference came from.
// It owns no segmentation (analyze.c) and no module rendering (modules.c).
#include "data/analyze.h"
#include "data/corpus.h"
#include "audio/audio.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MODULE_MAX_SECONDS 900.0   // as the corpus cuts them (data/corpus.h)

int is_tracker_module(const char *path) {
    static const char *EXT[] = {"mod", "xm", "s3m", "it", "mptm", "669", "mtm", "stm", "med", "okt", "far",
                                "ult", "umx", "amf", "dsm", "mdl", "psm", "ptm", NULL};
    for (int i = 0; EXT[i]; i++) if (strcasecmp(path_ext(path), EXT[i]) == 0) return 1;
    return 0;
}

int module_read_range(const char *path, int subsong, double start, double duration, float **x, long *n) {
    ModuleSpan *sp;
    int ns;
    if (module_render(path, subsong, MODULE_MAX_SECONDS, x, n, &sp, &ns)) return -1;
    free(sp);
    long s0 = (long)(start * SAMPLE_RATE), s1 = duration > 0 ? s0 + (long)(duration * SAMPLE_RATE) : *n;
    if (s1 > *n) s1 = *n;
    if (s0 >= s1) {
        err_set("%s: nothing after %.1f s (it plays %.1f s)", path, start, (double)*n / SAMPLE_RATE);
        free(*x);
        *x = NULL;
        return -1;
    }
    memmove(*x, *x + s0, sizeof(float) * (s1 - s0));
    *n = s1 - s0;
    return 0;
}

static int ref_add(AnalysisRef *r, double t, const char *name) {
    if (r->n >= ANALYSIS_REF_MAX) return err_set("reference has more than %d sections", ANALYSIS_REF_MAX);
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

int analysis_ref_read(AnalysisRef *r, const char *path, int subsong, double start) {
    memset(r, 0, sizeof *r);
    if (is_tracker_module(path)) {
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

// An oracle at the analyzer's granularity: each found boundary moved to the
// nearest reference boundary, each resulting segment labelled with the
// reference label that covers most of it. It keeps the analyzer's number of
// sections and makes them as right as that number allows, so its scores say
// what granularity alone costs: a section-level form against a pattern-level
// reference (a module's order list) loses boundary recall and pairwise
// precision however well it finds its sections. rb (nr): interior reference
// boundaries.
static void oracle_prf(double *f3, double *pf, const AnalysisRef *r, const double *rb, int nr, const double *eb,
                       int ne, double dur) {
    double *os = mallocCheck(sizeof(double) * (ne + 1)), *ob = mallocCheck(sizeof(double) * (ne + 1));
    int *ol = mallocCheck(sizeof(int) * (ne + 1)), no = 1, nob = 0;
    double *cover = callocCheck(r->n + 1, sizeof(double));
    os[0] = 0;
    for (int k = 0; k < ne && nr > 0; k++) {
        int bj = 0;
        for (int j = 1; j < nr; j++) if (fabs(rb[j] - eb[k]) < fabs(rb[bj] - eb[k])) bj = j;
        if (rb[bj] > os[no - 1]) os[no++] = rb[bj];
    }
    for (int k = 0; k < no; k++) {
        double a0 = os[k], a1 = k + 1 < no ? os[k + 1] : dur;
        memset(cover, 0, sizeof(double) * (r->n + 1));
        for (int j = 0; j < r->n; j++) {   // labels are 0 .. r->n - 1
            double s0 = r->start[j], s1 = j + 1 < r->n ? r->start[j + 1] : dur;
            double o = (s1 < a1 ? s1 : a1) - (s0 > a0 ? s0 : a0);
            if (o > 0) cover[r->label[j]] += o;
        }
        ol[k] = 0;
        for (int c = 1; c < r->n; c++) if (cover[c] > cover[ol[k]]) ol[k] = c;
        if (k) ob[nob++] = os[k];
    }
    double p, rr, pp, pr;
    boundary_prf(&p, &rr, f3, rb, nr, ob, nob, 3.0);
    pairwise_prf(&pp, &pr, pf, r->start, r->label, r->n, os, ol, no, dur, 0.1);
    free(os); free(ob); free(ol); free(cover);
}

void analysis_score_print(FILE *f, const AnalysisRef *r, const SongForm *a) {
    int n = a->n > 0 ? a->n : 1;
    double *rb = mallocCheck(sizeof(double) * (r->n + 1)), *eb = mallocCheck(sizeof(double) * n);
    double *es = mallocCheck(sizeof(double) * n);
    int *el = mallocCheck(sizeof(int) * n), nr = 0, ne = 0;
    for (int i = 1; i < r->n; i++) if (r->start[i] > 0 && r->start[i] < a->duration) rb[nr++] = r->start[i];
    for (int i = 0; i < a->n; i++) {
        es[i] = a->sections[i].start;
        el[i] = analysis_label_index(a->sections[i].label);   // "A" .. "Z", "AA" ..
        if (el[i] < 0) el[i] = 0;
        if (i > 0) eb[ne++] = a->sections[i].start;
    }
    double p5, r5, f5, p3, r3, f3, pp, pr, pf, cf3, cpf;
    boundary_prf(&p5, &r5, &f5, rb, nr, eb, ne, 0.5);
    boundary_prf(&p3, &r3, &f3, rb, nr, eb, ne, 3.0);
    pairwise_prf(&pp, &pr, &pf, r->start, r->label, r->n, es, el, a->n, a->duration, 0.1);
    oracle_prf(&cf3, &cpf, r, rb, nr, eb, ne, a->duration);
    // one tab-separated line, easy for scripts to pick out
    fprintf(f, "score\tF@0.5s %.3f\tP %.3f\tR %.3f\tF@3s %.3f\tP %.3f\tR %.3f\tpairwise %.3f\tP %.3f\tR %.3f\tref ",
            f5, p5, r5, f3, p3, r3, pf, pp, pr);
    for (int i = 0; i < r->n; i++) fputc('a' + r->label[i] % 26, f);
    fprintf(f, "\test ");
    int multi = 0;   // labels past "Z" are two letters: then '.' between labels
    for (int i = 0; i < a->n; i++) multi |= strlen(a->sections[i].label) > 1;
    for (int i = 0; i < a->n; i++) fprintf(f, "%s%s", multi && i ? "." : "", a->sections[i].label);
    fprintf(f, "\toracle-F@3s %.3f\toracle-pairwise %.3f\n", cf3, cpf);
    free(rb); free(eb); free(es); free(el);
}
