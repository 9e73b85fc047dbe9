// cmd_info.c — `refrain info IN`: format, rate, channels, duration, peak,
// RMS level and integrated loudness of a sound file, or the kind,
// hyperparameters and training step of a refrain model file, as text or JSON.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "nn/checkpoint.h"
#include "util/util.h"

static int json = 0;
static const Opt OPTS[] = {
    {"json", 0, OPT_FLAG, &json, 0, 0, NULL, NULL, "print one JSON object instead of text", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};
static const OptSpec SPEC = {"info", "IN", 1, "show a sound file's format, duration, peak, RMS level and loudness, "
                             "or a model file's kind, hyperparameters and training step", OPTS};

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

static int is_model_file(const char *path) {
    char magic[4];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int yes = fread(magic, 1, 4, f) == 4 && memcmp(magic, "RFRN", 4) == 0;
    fclose(f);
    return yes;
}

static int model_info(const char *in) {
    CkptInfo ci;
    if (checkpoint_info(in, &ci)) return fail();
    if (json) {
        printf("{\n");
        json_string("path", in);
        json_string("kind", ci.kind);
        printf("  \"tensors\": %d,\n  \"training_state\": %s,\n", ci.n_tensors, ci.has_train ? "true" : "false");
        if (ci.has_train) printf("  \"step\": %lld,\n  \"total_steps\": %lld,\n", (long long)ci.step, (long long)ci.total_steps);
        printf("  \"hyperparameters\": {");
        for (int i = 0; i < ci.hp.n; i++) {
            const HparamEntry *e = &ci.hp.e[i];
            if (e->is_float) printf("%s\n    \"%s\": %.9g", i ? "," : "", e->key, e->f);
            else printf("%s\n    \"%s\": %lld", i ? "," : "", e->key, (long long)e->i);
        }
        printf("\n  }\n}\n");
        return 0;
    }
    printf("file      %s\n", in);
    printf("model     %s (%d tensors)\n", ci.kind, ci.n_tensors);
    if (ci.has_train) printf("training  step %lld of %lld\n", (long long)ci.step, (long long)ci.total_steps);
    else printf("training  none (weights only)\n");
    for (int i = 0; i < ci.hp.n; i++) {
        const HparamEntry *e = &ci.hp.e[i];
        if (e->is_float) printf("  %-14s %.9g\n", e->key, e->f);
        else printf("  %-14s %lld\n", e->key, (long long)e->i);
    }
    return 0;
}

static int run(int argc, char **argv) {
    char *in;
    int st = opts_parse(&SPEC, argc, argv, &in);
    if (st != OPTS_OK) return st;
    if (is_model_file(in)) return model_info(in);
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
