// examples/analyze.c — a recording's form through refrain.h alone: read any
// audio file libsndfile reads, find its sections and repeat labels with the
// analyzer, print them, and on request write the timeline JSON and the
// self-similarity picture. No model is needed.
//
//   cc analyze.c $(pkg-config --cflags --libs refrain) -o analyze
//   ./analyze [-j OUT.json] [-p OUT.png] [-m MIN_SECTION] IN
//
// Exit status: 0, 1 when refrain reports an error (its message on stderr), 2 bad usage.
// tests/cli_analyze_output.sh (make test) builds it against the build tree's librefrain.so
// and checks that its timeline is the one `refrain analyze` writes, byte for byte.
#include <refrain.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    refrain_analyze_params ap = refrain_analyze_default_params();
    const char *in = NULL, *json = NULL, *png = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-j") && has_value) json = argv[++i];
        else if (!strcmp(a, "-p") && has_value) png = argv[++i];
        else if (!strcmp(a, "-m") && has_value) ap.min_section = atof(argv[++i]);
        else if (a[0] != '-' && !in) in = a;
        else { in = NULL; break; }
    }
    if (!in) {
        fprintf(stderr, "usage: %s [-j OUT.json] [-p OUT.png] [-m MIN_SECTION] IN\n", argv[0]);
        return 2;
    }
    char err[512];
    refrain_audio x;
    if (refrain_audio_read(&x, in, 0, 0, err, sizeof err)) { fprintf(stderr, "analyze: %s\n", err); return 1; }
    refrain_analysis *a = refrain_analyze(x.samples, x.n_samples, x.sample_rate, &ap, err, sizeof err);
    refrain_audio_free(&x);
    if (!a) { fprintf(stderr, "analyze: %s\n", err); return 1; }
    // the sections: labels "A", "B", ... by first appearance, each with its span and descriptors
    const refrain_timeline *t = refrain_analysis_timeline(a);
    for (int i = 0; i < t->n_sections; i++) {
        const refrain_section *s = &t->sections[i];
        printf("%-3s %d  %7.2f - %7.2f s  %6.1f LUFS  confidence %.2f\n", s->label, s->occurrence, s->start, s->end,
               s->loudness_lufs, s->confidence);
    }
    int rc = 0;
    if (json) {   // the library writes to any stream; atomic file output is the caller's choice
        FILE *f = fopen(json, "w");
        if (!f || refrain_timeline_write(t, f, err, sizeof err)) { fprintf(stderr, "analyze: %s\n", f ? err : json); rc = 1; }
        if (f && fclose(f)) { perror(json); rc = 1; }
    }
    if (png && refrain_analysis_png(a, png, err, sizeof err)) { fprintf(stderr, "analyze: %s\n", err); rc = 1; }
    refrain_analysis_free(a);
    return rc;
}
