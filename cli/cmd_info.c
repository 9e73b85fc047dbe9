// cmd_info.c — `refrain info IN`: format, rate, channels, duration, peak,
// RMS level and integrated loudness of a sound file, as text or JSON.
#include <math.h>
#include <stdio.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "util/util.h"

static int json = 0;
static const Opt OPTS[] = {
    {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object instead of text", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"info", "IN", 1, "show a sound file's format, duration, peak, RMS level and loudness", OPTS};

static void json_number(const char *key, double v, const char *sep) {
    if (isfinite(v)) printf("  \"%s\": %.6g%s\n", key, v, sep);
    else printf("  \"%s\": null%s\n", key, sep);   // silence: -inf dBFS has no JSON spelling
}

static void json_string(const char *key, const char *s) {
    printf("  \"%s\": \"", key);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    printf("\",\n");
}

static int run(int argc, char **argv) {
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    AudioInfo ai;
    if (audio_info(in, &ai)) return fail();
    double peak_db = 20 * log10(ai.peak);
    if (json) {
        printf("{\n");
        json_string("path", in);
        json_string("format", ai.format);
        printf("  \"sample_rate\": %d,\n  \"channels\": %d,\n  \"frames\": %ld,\n", ai.sample_rate, ai.channels, ai.frames);
        json_number("duration", ai.duration, ",");
        json_number("peak", ai.peak, ",");
        json_number("peak_dbfs", peak_db, ",");
        json_number("rms_dbfs", ai.rms_dbfs, ",");
        json_number("loudness_lufs", ai.loudness_lufs, "");
        printf("}\n");
    } else {
        printf("file      %s\n", in);
        printf("format    %s\n", ai.format);
        printf("rate      %d Hz\n", ai.sample_rate);
        printf("channels  %d\n", ai.channels);
        printf("duration  %.3f s (%ld frames)\n", ai.duration, ai.frames);
        printf("peak      %.4f (%.1f dBFS)\n", ai.peak, peak_db);
        printf("RMS       %.1f dBFS\n", ai.rms_dbfs);
        if (isfinite(ai.loudness_lufs)) printf("loudness  %.1f LUFS\n", ai.loudness_lufs);
        else printf("loudness  below the -70 LUFS gate\n");
    }
    return 0;
}

const Command cmd_info = {&SPEC, run};
