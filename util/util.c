// util.c — errors, checked wrappers, atomic files, progress. See util.h.
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
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

int make_parents(const char *path) {
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(d, 0777) && errno != EEXIST) return err_set("cannot create the folder '%s': %s", d, strerror(errno));
        *p = '/';
    }
    return 0;
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

// ---- temporaries removed on a signal --------------------------------------------------
// Slots are claimed under a mutex; the handler only reads them. A slot's name is
// written before it is marked live and unmarked before it is reused.
#define TMP_REG_MAX 64
static char g_reg[TMP_REG_MAX][4096];
static volatile sig_atomic_t g_reg_live[TMP_REG_MAX];
static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;

static void tmp_register(const char *tmp) {
    pthread_mutex_lock(&g_reg_lock);
    for (int i = 0; i < TMP_REG_MAX; i++)
        if (!g_reg_live[i]) {
            snprintf(g_reg[i], sizeof g_reg[i], "%s", tmp);
            g_reg_live[i] = 1;
            break;
        }   // more than TMP_REG_MAX at once: the extra ones are not cleaned up on a signal
    pthread_mutex_unlock(&g_reg_lock);
}

void tmp_forget(const char *tmp) {
    pthread_mutex_lock(&g_reg_lock);
    for (int i = 0; i < TMP_REG_MAX; i++)
        if (g_reg_live[i] && strcmp(g_reg[i], tmp) == 0) { g_reg_live[i] = 0; break; }
    pthread_mutex_unlock(&g_reg_lock);
}

static void remove_tmp(const char *tmp) {
    remove(tmp);
    tmp_forget(tmp);
}

// A deferred stop (stop_signals_defer): the first SIGINT, SIGTERM or SIGHUP is
// only recorded in g_stop, for the loop to finish its step and save; a second
// one acts at once.
static volatile sig_atomic_t g_defer = 0, g_stop = 0;
static const int STOP_SIGS[3] = {SIGINT, SIGTERM, SIGHUP};   // Ctrl-C, kill, a closed terminal

static void on_signal(int sig) {   // async-signal-safe: a flag, or unlink and _exit only
    if (g_defer && !g_stop && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)) { g_stop = sig; return; }
    for (int i = 0; i < TMP_REG_MAX; i++)
        if (g_reg_live[i]) unlink(g_reg[i]);
    _exit(128 + sig);
}

// Installs on_signal for sig unless it is ignored (nohup, or SIGINT in a job
// started with '&' without job control: it stays ignored). SA_RESTART: a
// deferred signal returns into the program, whose writes must not fail with EINTR.
static void catch_signal(int sig, struct sigaction *old) {
    struct sigaction sa, prev;
    if (sigaction(sig, NULL, &prev) == 0 && prev.sa_handler == SIG_IGN) { if (old) *old = prev; return; }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, old);
}

void tmp_cleanup_on_signals(void) {
    for (int i = 0; i < 3; i++) catch_signal(STOP_SIGS[i], NULL);
}

static struct sigaction g_stop_old[3];   // STOP_SIGS' handlers before stop_signals_defer(1)

void stop_signals_defer(int on) {
    if (on && !g_defer) {
        g_stop = 0;
        for (int i = 0; i < 3; i++) catch_signal(STOP_SIGS[i], &g_stop_old[i]);
        g_defer = 1;
    } else if (!on && g_defer) {
        g_defer = 0;
        for (int i = 0; i < 3; i++) sigaction(STOP_SIGS[i], &g_stop_old[i], NULL);
    }
}

const char *stop_signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

int stop_signal(void) { return g_stop; }

void stop_signal_agree(int sig) {
    if (!g_stop) g_stop = sig;
}

// A process killed outright (SIGKILL, a power cut, the OOM killer) cannot
// remove its temporaries: <path>.tmp.<pid>.<ext> stays beside path. The next
// write of the same path removes those whose process no longer exists (on this
// machine: kill(pid, 0) says ESRCH), so a killed corpus build or training run,
// started again, leaves nothing behind (tests/cli_kill.sh). A live writer's
// temporary, even another user's (EPERM), stays; so does one whose pid a new
// process took (rare; the next write after that one ends removes it).
static void sweep_stale_tmps(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash == dir) slash[1] = 0; else if (slash) *slash = 0; else snprintf(dir, sizeof dir, ".");
    size_t nb = strlen(base);
    const char *ext = path_ext(path);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;   // base ".tmp." digits "." ext
        if (strncmp(n, base, nb) != 0 || strncmp(n + nb, ".tmp.", 5) != 0) continue;
        char *end;
        long pid = strtol(n + nb + 5, &end, 10);
        if (end == n + nb + 5 || *end != '.' || strcmp(end + 1, ext) != 0 || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char stale[8200];
        snprintf(stale, sizeof stale, "%s/%s", dir, n);
        unlink(stale);
    }
    closedir(d);
}

int tmp_path_for(char *tmp, size_t cap, const char *path) {
    if (dir_exists_for(path)) return -1;
    sweep_stale_tmps(path);
    // keep the real extension last: libsndfile and friends choose by it
    int n = snprintf(tmp, cap, "%s.tmp.%ld.%s", path, (long)getpid(), path_ext(path));
    if (n < 0 || (size_t)n >= cap) return err_set("output path too long: %s", path);
    tmp_register(tmp);
    return 0;
}

int commit_tmp(const char *tmp, const char *path) {
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove_tmp(tmp);
        return err_set("cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    tmp_forget(tmp);
    return 0;
}

static const char *why_write(int e) { return e == ENOSPC ? "disk full" : strerror(e); }

int atomic_open(AtomicFile *af, const char *path) {
    memset(af, 0, sizeof *af);
    snprintf(af->path, sizeof af->path, "%s", path);
    if (tmp_path_for(af->tmp, sizeof af->tmp, path)) return -1;
    af->f = fopen(af->tmp, "wb");
    if (!af->f) { int e = errno; tmp_forget(af->tmp); return err_set("cannot write %s: %s", path, strerror(e)); }
    return 0;
}

// Flushes, fsyncs and closes f; 0, or an errno. A stream whose error flag an
// earlier write set keeps errno from that write unless something else failed
// since: take it when it is a write error, else say EIO.
static int close_synced(FILE *f) {
    int e = 0;
    if (ferror(f)) e = errno == ENOSPC || errno == EFBIG || errno == EDQUOT || errno == EROFS ? errno : EIO;
    errno = 0;
    if (fflush(f) != 0 && !e) e = errno ? errno : EIO;
    if (!e && fsync(fileno(f)) != 0) e = errno;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    return e;
}

int atomic_commit(AtomicFile *af) {
    int e = close_synced(af->f);
    af->f = NULL;
    if (e) {
        remove_tmp(af->tmp);
        return err_set("cannot write %s: %s", af->path, why_write(e));
    }
    return commit_tmp(af->tmp, af->path);
}

void atomic_abort(AtomicFile *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) remove_tmp(af->tmp);
}

// ---- output transactions ------------------------------------------------------------------
void outtx_begin(OutTx *tx) { tx->n = 0; }

const char *outtx_add(OutTx *tx, const char *path) {
    if (tx->n == OUTTX_MAX) { err_set("cannot write %s: more than %d outputs in one command", path, OUTTX_MAX); return NULL; }
    int i = tx->n;
    if (tmp_path_for(tx->tmp[i], sizeof tx->tmp[i], path)) return NULL;
    snprintf(tx->path[i], sizeof tx->path[i], "%s", path);
    tx->f[i] = NULL;
    tx->n++;
    return tx->tmp[i];
}

FILE *outtx_fopen(OutTx *tx, const char *path) {
    const char *tmp = outtx_add(tx, path);
    if (!tmp) return NULL;
    FILE *f = fopen(tmp, "wb");
    if (!f) { err_set("cannot write %s: %s", path, strerror(errno)); return NULL; }
    tx->f[tx->n - 1] = f;
    return f;
}

int outtx_commit(OutTx *tx) {
    int bad = -1, e = 0;
    for (int i = 0; i < tx->n; i++) {   // every file complete and on disk
        if (tx->f[i]) e = close_synced(tx->f[i]);
        else {   // written by path: on disk? (errno kept for the streams' check)
            int keep = errno;
            int fd = open(tx->tmp[i], O_RDONLY);
            if (fd < 0 || fsync(fd) != 0) e = errno ? errno : EIO;
            if (fd >= 0) close(fd);
            if (!e) errno = keep;
        }
        tx->f[i] = NULL;
        if (e) { bad = i; break; }
    }
    int renamed = 0;
    if (bad < 0)
        for (; renamed < tx->n; renamed++) {
            if (rename(tx->tmp[renamed], tx->path[renamed]) != 0) { e = errno; bad = renamed; break; }
            tmp_forget(tx->tmp[renamed]);
        }
    if (bad < 0) { tx->n = 0; return 0; }
    // all or none: the ones already renamed go too (their old contents were replaced anyway)
    for (int i = 0; i < renamed; i++) remove(tx->path[i]);
    char path[4096];
    snprintf(path, sizeof path, "%s", tx->path[bad]);
    for (int i = renamed; i < tx->n; i++) { if (tx->f[i]) fclose(tx->f[i]); remove_tmp(tx->tmp[i]); }
    tx->n = 0;
    return err_set("cannot write %s: %s", path, why_write(e));
}

// A writer given a temporary path names it in its message; the user knows the final name.
static void err_name_final(const char *tmp, const char *path) {
    char *at = strstr(g_err, tmp);
    if (!at) return;
    char rest[sizeof g_err];
    snprintf(rest, sizeof rest, "%s", at + strlen(tmp));
    *at = 0;
    err_set("%s%s%s", g_err, path, rest);
}

void outtx_abort(OutTx *tx) {
    for (int i = 0; i < tx->n; i++) {
        err_name_final(tx->tmp[i], tx->path[i]);
        if (tx->f[i]) fclose(tx->f[i]);
        tx->f[i] = NULL;
        remove_tmp(tx->tmp[i]);
    }
    tx->n = 0;
}

long first_bad_value(const float *x, size_t n, float limit) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(x[i]) <= limit)) return (long)i;   // NaN fails every comparison
    return -1;
}

const char *bad_value_kind(float v) { return isnan(v) ? "NaN" : isinf(v) ? "infinite" : "too large"; }

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
