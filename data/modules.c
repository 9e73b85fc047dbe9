// modules — tracker modules (MOD, S3M, IT, XM, ... anything libopenmpt
// reads) rendered to mono at SAMPLE_RATE, with their exact repeat structure:
// while rendering, the order position being played is polled every POLL
// samples (1.5 ms), so each played order entry becomes a span whose start time
// is well inside one log-mel frame, and its pattern number gives the repeat label.
// Polling the playback (rather than walking the order list) follows pattern
// jumps and breaks the way the song really plays. Packed subsongs are
// rendered one at a time. It owns no features or shards.
#include "data/corpus.h"
#include "audio/audio.h"
#include "util/util.h"

#include <errno.h>
#include <libopenmpt/libopenmpt.h>
#include <stdlib.h>
#include <string.h>

#define POLL 32   // samples rendered between polls of the play position

static int load_file(const char *path, void **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open module %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n <= 0 || n > (256l << 20)) { fclose(f); return err_set("%s: empty or too large (%ld bytes)", path, n); }
    *data = mallocCheck((size_t)n);
    if (fread(*data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f); free(*data);
        return err_set("%s: read error", path);
    }
    fclose(f);
    *size = (size_t)n;
    return 0;
}

static openmpt_module *open_module(const char *path) {
    void *data = NULL;
    size_t size = 0;
    if (load_file(path, &data, &size)) return NULL;
    int err = 0;
    const char *msg = NULL;
    openmpt_module *mod = openmpt_module_create_from_memory2(data, size, openmpt_log_func_silent, NULL, NULL, NULL,
                                                             &err, &msg, NULL);
    free(data);
    if (!mod) {
        err_set("%s: libopenmpt cannot read it (%s)", path, msg ? msg : "unknown format");
        if (msg) openmpt_free_string(msg);
        return NULL;
    }
    if (msg) openmpt_free_string(msg);
    return mod;
}

int module_count_subsongs(const char *path, int *n) {
    openmpt_module *mod = open_module(path);
    if (!mod) return -1;
    *n = openmpt_module_get_num_subsongs(mod);
    openmpt_module_destroy(mod);
    if (*n < 1) *n = 1;
    return 0;
}

int module_render(const char *path, int subsong, double max_seconds, float **x, long *n,
                  ModuleSpan **spans, int *nspans) {
    *x = NULL; *n = 0; *spans = NULL; *nspans = 0;
    openmpt_module *mod = open_module(path);
    if (!mod) return -1;
    int nsub = openmpt_module_get_num_subsongs(mod);
    if (subsong < 0 || (nsub > 0 && subsong >= nsub)) {
        openmpt_module_destroy(mod);
        return err_set("%s: no subsong %d (it has %d)", path, subsong, nsub);
    }
    if (nsub > 1 && !openmpt_module_select_subsong(mod, subsong)) {
        openmpt_module_destroy(mod);
        return err_set("%s: cannot select subsong %d", path, subsong);
    }
    openmpt_module_set_repeat_count(mod, 0);   // play once, stop at the song's loop point
    long cap = (long)(max_seconds * SAMPLE_RATE);
    long alloc = SAMPLE_RATE * 60, len = 0;
    float *buf = mallocCheck((size_t)alloc * sizeof *buf);
    ModuleSpan *sp = NULL;
    int ns = 0, prev_order = -1, prev_row = -1;
    while (len < cap) {
        int order = openmpt_module_get_current_order(mod);
        int row = openmpt_module_get_current_row(mod);
        // A new span when the order changes, or the same order restarts (jump to itself).
        if (order != prev_order || row < prev_row) {
            sp = reallocCheck(sp, (size_t)(ns + 1) * sizeof *sp);
            sp[ns].start = (double)len / SAMPLE_RATE;
            sp[ns].order = order;
            sp[ns].pattern = openmpt_module_get_order_pattern(mod, order);
            ns++;
        }
        prev_order = order;
        prev_row = row;
        if (len + POLL > alloc) {
            alloc *= 2;
            buf = reallocCheck(buf, (size_t)alloc * sizeof *buf);
        }
        size_t got = openmpt_module_read_float_mono(mod, SAMPLE_RATE, POLL, buf + len);
        if (got == 0) break;
        len += (long)got;
    }
    openmpt_module_destroy(mod);
    // At the loop point the player is already back at the first order for the
    // last few hops: a tail span under a second is the previous one's end.
    while (ns > 1 && len - sp[ns - 1].start * SAMPLE_RATE < SAMPLE_RATE) ns--;
    if (len == 0 || ns == 0) {
        free(buf); free(sp);
        return err_set("%s: subsong %d renders no audio", path, subsong);
    }
    *x = buf; *n = len; *spans = sp; *nspans = ns;
    return 0;
}

int module_sections(SongSection **sections, int *nsec, const ModuleSpan *spans, int nspans,
                    int n_frames) {
    *sections = NULL; *nsec = 0;
    if (nspans <= 0 || n_frames <= 0) return err_set("module_sections: no spans or frames");
    SongSection *s = callocCheck((size_t)nspans, sizeof *s);
    int *seen = callocCheck((size_t)nspans, sizeof *seen);   // patterns in order of first appearance
    int nseen = 0, k = 0;
    for (int i = 0; i < nspans; i++) {
        int start = corpus_frame(spans[i].start);
        int end = i + 1 < nspans ? corpus_frame(spans[i + 1].start) : n_frames;
        if (i == 0) start = 0;
        if (end > n_frames) end = n_frames;
        if (end <= start) continue;
        int id = -1;
        for (int j = 0; j < nseen; j++)
            if (seen[j] == spans[i].pattern) id = j;
        if (id < 0) { id = nseen; seen[nseen++] = spans[i].pattern; }
        SongSection *c = &s[k++];
        c->start = corpus_seconds(start);
        c->end = corpus_seconds(end);
        if (id < 26) snprintf(c->label, sizeof c->label, "%c", 'A' + id);
        else snprintf(c->label, sizeof c->label, "%c%d", 'A' + id % 26, id / 26);
        c->confidence = 1.0f;
    }
    free(seen);
    if (k == 0) { free(s); return err_set("module_sections: every span is empty"); }
    s[k - 1].end = corpus_seconds(n_frames);
    song_number_occurrences(s, k);
    *sections = s;
    *nsec = k;
    return 0;
}
