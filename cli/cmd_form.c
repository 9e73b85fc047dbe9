// cmd_form.c — `refrain form "FORM" [--bpm N] [--json]`: parses a form string
// (conditioning/form.c, notations in conditioning.h) and prints its sections,
// one per line, or as timeline JSON (util/song.h timeline_write, what `refrain
// analyze` writes and `refrain spectrogram --timeline` reads). A form that does
// not parse is a usage error: one line, exit status 2.
#include <math.h>
#include <stdio.h>

#include "cli/cli.h"
#include "conditioning/conditioning.h"
#include "util/util.h"

static int json = 0;
static double bpm = 120;
static const Opt OPTS[] = {
    {"bpm", 0, OPT_FLOAT, &bpm, FORM_BPM_MIN, FORM_BPM_MAX, NULL, "N", "tempo for lengths given in bars (':8b', compact forms)", 0},
    {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print the timeline as JSON instead of text", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"form", "FORM", 1,
                             "parse a song form (\"intro verse:16 chorus:8b[loud=-12] outro\", \"i4A4B8o4\") and show its sections",
                             OPTS};

static void print_text(const SongForm *f) {
    for (int i = 0; i < f->n; i++) {
        const SongSection *s = &f->sections[i];
        printf("%d  %s  (%d)  %.1f-%.1f s  %.1f s", i + 1, s->label, s->occurrence, s->start, s->end, s->end - s->start);
        if (!isnan(s->desc.loudness_lufs)) printf("  loud %g LUFS", s->desc.loudness_lufs);
        if (!isnan(s->desc.brightness_hz)) printf("  bright %g Hz", s->desc.brightness_hz);
        if (!isnan(s->desc.onset_density)) printf("  onsets %g/s", s->desc.onset_density);
        printf("\n");
    }
}

static int run(int argc, char **argv) {
    char *text;
    int st = opts_parse(&SPEC, argc, argv, &text);
    if (st != OPTS_OK) return st;
    FormOpts o;
    form_opts_default(&o);
    o.bpm = bpm;
    SongForm f;
    if (form_parse(&f, text, &o)) {
        fprintf(stderr, "refrain: %s\n", err_msg());
        return 2;   // the form is what the user typed: a usage error
    }
    int rc = 0;
    if (json) rc = timeline_write(stdout, &f) ? fail() : 0;
    else print_text(&f);
    song_form_free(&f);
    return rc;
}

const Command cmd_form = {&SPEC, run};
