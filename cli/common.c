// common.c — helpers the subcommands share: error printing, reading an input
// excerpt, checking an output path before long work, writing a command's
// outputs all or none. See cli.h.
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"
#include "sampler/sampler.h"
#include "util/dist.h"
#include "util/util.h"

// Set by the helpers below when the error they report is the command line's
// (an output name refrain cannot write, a --start past the end): exit 2.
static int g_usage_error = 0;

int fail(void) {
    int st = g_usage_error ? 2 : stop_signal() ? 128 + stop_signal() : 1;   // a trainer stopped by SIGINT / SIGTERM / SIGHUP: 130 / 143 / 129
    // a data-parallel run's stop: every rank exits with it, rank 0 alone says so (as it alone shows progress)
    if (!(st > 128 && dist_rank() > 0)) fprintf(stderr, "refrain: %s\n", err_msg());
    g_usage_error = 0;
    return st;
}

int read_excerpt(const char *path, double start, double duration, float **x, long *n) {
    int rc = audio_read_range(path, SAMPLE_RATE, start, duration, x, n);
    if (rc == AUDIO_ERR_RANGE) g_usage_error = 1;
    return rc ? -1 : 0;
}

int check_output(const char *path, const char *exts) {
    const char *ext = path_ext(path);
    int ok = 0;
    for (const char *p = exts; *p && !ok;) {
        size_t len = strcspn(p, ",");
        ok = *ext && strlen(ext) == len && strncasecmp(p, ext, len) == 0;
        p += len + (p[len] == ',');
    }
    if (!ok) {   // "wav,flac,ogg" -> ".wav, .flac or .ogg"
        char list[128] = "";
        size_t o = 0;
        for (const char *p = exts; *p && o + 8 < sizeof list;) {
            size_t len = strcspn(p, ",");
            o += snprintf(list + o, sizeof list - o, "%s.%.*s", o ? (p[len] ? ", " : " or ") : "", (int)len, p);
            p += len + (p[len] == ',');
        }
        g_usage_error = 1;
        return err_set("cannot write %s: the name must end in %s", path, list);
    }
    return dir_exists_for(path);
}

int commit_outputs(const CliOutput *out, int n) {
    OutTx tx;
    outtx_begin(&tx);
    char err[1024];   // refrain.h's copy of err_msg(), which stays set for fail()
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        const CliOutput *o = &out[i];
        if (!o->path) continue;
        if (o->json || o->to_stream) {   // a stream's write error is left to outtx_commit, which names the file and the reason
            FILE *f = outtx_fopen(&tx, o->path);
            rc = !f || ((o->json ? refrain_timeline_write(o->json, f, err, sizeof err) : o->to_stream(f, o->ctx)) &&
                        !ferror(f)) ? -1 : 0;
            continue;
        }
        const char *tmp = outtx_add(&tx, o->path);
        if (!tmp) rc = -1;
        else if (o->ssm_png) rc = refrain_analysis_png(o->ssm_png, tmp, err, sizeof err);
        else if (o->audio) rc = audio_write(tmp, o->audio->samples, o->audio->n_samples, o->audio->sample_rate, o->float32);
        else if (o->mel_png) rc = refrain_spectrogram_png(o->mel_png, o->timeline, tmp, err, sizeof err);
        else if (o->latents) rc = refrain_latents_write(o->latents, tmp, err, sizeof err);
        else if (o->to_path) rc = o->to_path(tmp, o->ctx);
        else rc = err_set("commit_outputs: nothing to write to %s", o->path);
    }
    if (rc || outtx_commit(&tx)) {
        outtx_abort(&tx);
        return -1;
    }
    return 0;
}

const char *report_folder(char *buf, size_t cap, const char *report) {
    snprintf(buf, cap, "%s", report);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    else snprintf(buf, cap, ".");
    return buf;
}

void vocoder_progress(void *user, const char *stage, int section, int n, int step, int steps) {
    progress("griffin-lim %d/%d", step, steps);
}

const char *cli_model(const char *given, const char *name, char *buf, size_t cap) {
    return model_file(given, name, 1, buf, cap);
}

int check_stop_at(const char *cmd, int stop_at, int steps) {
    if (stop_at <= steps) return 0;
    fprintf(stderr, "refrain: %s: --stop-at %d is past --steps %d (the plan's last step; a phase stops at or before it)\n",
            cmd, stop_at, steps);
    return 2;
}
