// cmd_form.c — `refrain form "FORM" [--bpm N] [--json]`: parses a form string
// (conditioning/form.c, notations in conditioning.h) and prints its sections,
// one per line, or as timeline JSON that `refrain spectrogram --timeline`
// reads. A form that does not parse is a usage error: one line, exit status 2.
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

static void json_seconds(const char *key, double v) {   // 8 -> 8.0, 21.333333 -> 21.333333
    char buf[64];
    int k = snprintf(buf, sizeof buf, "%.6f", v);
    while (k > 2 && buf[k - 1] == '0' && buf[k - 2] != '.') buf[--k] = 0;
    printf(",\"%s\":%s", key, buf);
}

static void print_json(const SongForm *f) {
    printf("{\"bpm\":%g,\"sections\":[", f->bpm);
    for (int i = 0; i < f->n; i++) {
        const SongSection *s = &f->sections[i];   // labels come from the vocabulary: no escaping needed
        printf("%s{\"label\":\"%s\",\"label_id\":%d,\"occurrence\":%d", i ? "," : "", s->label, cond_label_id(s->label),
               s->occurrence);
        json_seconds("start", s->start);
        json_seconds("end", s->end);
        if (!isnan(s->desc.loudness_lufs)) printf(",\"loudness_lufs\":%g", s->desc.loudness_lufs);
        if (!isnan(s->desc.brightness_hz)) printf(",\"brightness_hz\":%g", s->desc.brightness_hz);
        if (!isnan(s->desc.onset_density)) printf(",\"onset_density\":%g", s->desc.onset_density);
        printf("}");
    }
    printf("]}\n");
}

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
    if (json) print_json(&f);
    else print_text(&f);
    song_form_free(&f);
    return 0;
}

const Command cmd_form = {&SPEC, run};
