// util.c — errors, checked wrappers, atomic files, progress. See util.h.
#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char g_err[1024];
int g_quiet = 0;
static int g_progress_open = 0;

// Formats into a local buffer first, so err_set("context: %s", err_msg())
// (wrapping the previous message) is safe.
int err_set(const char *fmt, ...) {
    char tmp[sizeof g_err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(g_err, tmp, sizeof g_err);
    return -1;
}
const char *err_msg(void) { return g_err; }
void err_clear(void) { g_err[0] = 0; }

static void die_oom(size_t size, const char *file, int line) {
    fprintf(stderr, "refrain: out of memory allocating %zu bytes at %s:%d\n", size, file, line);
    exit(1);
}
void *malloc_check(size_t size, const char *file, int line) {
    void *p = malloc(size ? size : 1);
    if (!p) die_oom(size, file, line);
    return p;
}
void *calloc_check(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die_oom(n * size, file, line);
    return p;
}
void *realloc_check(void *p, size_t size, const char *file, int line) {
    void *q = realloc(p, size ? size : 1);
    if (!q) die_oom(size, file, line);
    return q;
}
void *aligned_alloc_check(size_t align, size_t bytes, const char *file, int line) {
    if (bytes > SIZE_MAX - align) die_oom(bytes, file, line);
    size_t n = bytes ? (bytes + align - 1) / align * align : align;   // C11 wants a multiple
    void *p = aligned_alloc(align, n);
    if (!p) die_oom(n, file, line);
    memset(p, 0, n);
    return p;
}

int dir_exists_for(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;                 // current folder
    if (slash == dir) slash[1] = 0; else *slash = 0;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set("output folder '%s' does not exist", dir);
    return 0;
}

const char *path_ext(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash)) return "";
    return dot + 1;
}

int tmp_path_for(char *tmp, size_t cap, const char *path) {
    if (dir_exists_for(path)) return -1;
    // keep the real extension last: libsndfile and friends choose by it
    int n = snprintf(tmp, cap, "%s.tmp.%ld.%s", path, (long)getpid(), path_ext(path));
    if (n < 0 || (size_t)n >= cap) return err_set("output path too long: %s", path);
    return 0;
}

int commit_tmp(const char *tmp, const char *path) {
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return err_set("cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return 0;
}

int atomic_open(AtomicFile *af, const char *path) {
    memset(af, 0, sizeof *af);
    snprintf(af->path, sizeof af->path, "%s", path);
    if (tmp_path_for(af->tmp, sizeof af->tmp, path)) return -1;
    af->f = fopen(af->tmp, "wb");
    if (!af->f) return err_set("cannot write %s: %s", path, strerror(errno));
    return 0;
}

int atomic_commit(AtomicFile *af) {
    int bad = ferror(af->f);
    if (fflush(af->f) != 0) bad = 1;
    int e = errno;
    if (!bad && fsync(fileno(af->f)) != 0) { bad = 1; e = errno; }
    if (fclose(af->f) != 0 && !bad) { bad = 1; e = errno; }
    af->f = NULL;
    if (bad) {
        remove(af->tmp);
        return err_set("cannot write %s: %s", af->path, e == ENOSPC ? "disk full" : strerror(e));
    }
    return commit_tmp(af->tmp, af->path);
}

void atomic_abort(AtomicFile *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) remove(af->tmp);
}

// On a terminal every call redraws one line. In a log file (CI, nohup) a line
// per call would flood it (a vocoder iteration, a training step), so lines are
// written at most once per PROGRESS_LOG_S; the latest skipped one waits in
// g_pending for progress_done(), so the final state is always logged.
#define PROGRESS_LOG_S 1.0
static char g_pending[512];
static double g_last_line = -1e9;

void progress(const char *fmt, ...) {
    if (g_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    if (isatty(fileno(stderr))) {
        fputc('\r', stderr);
        vfprintf(stderr, fmt, ap);
        fputs("\033[K", stderr);
        g_progress_open = 1;
    } else {
        vsnprintf(g_pending, sizeof g_pending, fmt, ap);
        double t = now_seconds();
        if (t - g_last_line >= PROGRESS_LOG_S) {
            fprintf(stderr, "%s\n", g_pending);
            g_pending[0] = 0;
            g_last_line = t;
        }
    }
    va_end(ap);
    fflush(stderr);
}
void progress_done(void) {
    if (g_quiet) return;
    if (g_pending[0]) fprintf(stderr, "%s\n", g_pending);   // the last state, if it was skipped
    g_pending[0] = 0;
    g_last_line = -1e9;   // the next task's first line is written at once
    if (g_progress_open) fputc('\n', stderr);
    g_progress_open = 0;
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
