// util — what every module shares: error reporting, checked allocation and
// I/O, atomic (temp-file + rename) output, where the shipped models are found,
// progress lines, timing.
// It owns no model or audio logic.
//
// Error convention: library functions return 0 on success and -1 on failure,
// after calling err_set() with one line naming the problem. Only the CLI
// decides to print it (err_msg()) and exit. The *Check wrappers are for
// conditions a caller cannot recover from (out of memory) and exit at once,
// naming the file and line (llm.c llmc/utils.h).
#ifndef REFRAIN_UTIL_H
#define REFRAIN_UTIL_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

// ---- errors ---------------------------------------------------------------
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2))); // returns -1; may take err_msg() as an argument
const char *err_msg(void);   // last message, "" if none
void err_clear(void);

// ---- checked wrappers (exit on failure) -----------------------------------
void *malloc_check(size_t size, const char *file, int line);
void *calloc_check(size_t n, size_t size, const char *file, int line);
void *realloc_check(void *p, size_t size, const char *file, int line);
// aligned_alloc of `bytes` rounded up to a multiple of `align` (a power of two),
// zeroed; freed with free(). alignedCheck: 64-byte aligned (one cache line, an
// AVX-512 register), what every arena of floats uses.
void *aligned_alloc_check(size_t align, size_t bytes, const char *file, int line);
#define mallocCheck(size) malloc_check((size), __FILE__, __LINE__)
#define callocCheck(n, size) calloc_check((n), (size), __FILE__, __LINE__)
#define reallocCheck(p, size) realloc_check((p), (size), __FILE__, __LINE__)
#define alignedCheck(bytes) aligned_alloc_check(64, (bytes), __FILE__, __LINE__)

// ---- atomic output ----------------------------------------------------------
// Write to "<path>.tmp.<pid>" next to the target, then rename into place, so a
// crash or a full disk never leaves a partial file under the real name.
typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4096];
} AtomicFile;
int atomic_open(AtomicFile *af, const char *path);   // checks the folder exists
int atomic_commit(AtomicFile *af);  // flush + fsync + close + rename; reports ENOSPC
void atomic_abort(AtomicFile *af);  // close and remove the temp file
// For libraries that write by path (libsndfile, stb): pick the temp name
// (registered for removal on a signal), let the library write it, then commit
// (or remove it and tmp_forget it on failure).
int tmp_path_for(char *tmp, size_t cap, const char *path);
int commit_tmp(const char *tmp, const char *path);
int dir_exists_for(const char *path);  // 0 if the folder holding path exists
int make_parents(const char *path);    // creates the folders above path (mkdir -p of its folder part)

// ---- output transactions ------------------------------------------------------
// A command's outputs appear all together or not at all (issue 17): each is
// written under a temporary name beside it (tmp_path_for), and outtx_commit
// renames them only once every one was written; a failure or an abort removes
// every temporary. Library writers take the temporary path (or FILE*) and
// report their own write errors; the CLI owns the transaction.
#define OUTTX_MAX 16
typedef struct {
    int n;
    FILE *f[OUTTX_MAX];          // outtx_fopen's streams (NULL: written by path)
    char path[OUTTX_MAX][4096];  // final names
    char tmp[OUTTX_MAX][4096];   // where they are written now
} OutTx;
void outtx_begin(OutTx *tx);
// The temporary path to write path's contents to, or NULL with err_set() (no
// such folder, too many outputs). Valid until commit or abort.
const char *outtx_add(OutTx *tx, const char *path);
FILE *outtx_fopen(OutTx *tx, const char *path);   // outtx_add, opened "wb"
// Closes the streams (a write error or a full disk names the final path),
// fsyncs every temporary and renames them into place. -1 with err_set() and
// nothing left behind when any of them failed.
int outtx_commit(OutTx *tx);
// Closes and removes every temporary; a pending err_msg() naming one of them
// names its final path instead (call it before printing the error).
void outtx_abort(OutTx *tx);

// Every temporary name above (and AtomicFile's, tmp_path_for's) is registered
// from its creation until it is renamed or removed. After
// tmp_cleanup_on_signals(), SIGINT, SIGTERM and SIGHUP remove the registered
// files (unlink only: async-signal-safe) and exit with 128 + the signal.
void tmp_cleanup_on_signals(void);
// A loop that stops cleanly on a signal (the trainers, nn/trainer.c): between
// stop_signals_defer(1) and stop_signals_defer(0) the first SIGINT, SIGTERM or
// SIGHUP (Ctrl-C, kill, a closed terminal) is only recorded, and stop_signal()
// returns it (0 until one came), so the loop can finish its step, save and
// return; a second one acts at once as above (temporaries removed, exit 128 +
// the signal). defer(1) catches the three where a program had not (an ignored
// one stays ignored: nohup's SIGHUP) and defer(0) puts the previous handlers
// back; the recorded signal stays readable until the next defer(1) (the CLI
// exits with 128 + it: cli/common.c fail(), 130 / 143 / 129).
void stop_signals_defer(int on);
int stop_signal(void);
// A stop the ranks of a data-parallel run agreed on (nn/trainer.c: a signal to
// any rank stops all): stop_signal() returns it on a rank no signal reached
// too, so every rank's CLI exits with the same 128 + it. One already recorded stays.
void stop_signal_agree(int sig);
const char *stop_signal_name(int sig);   // "SIGINT", "SIGTERM", "SIGHUP"
void tmp_forget(const char *tmp);   // renamed or removed: no longer ours to clean up
const char *path_ext(const char *path); // lower-case-insensitive extension without dot, "" if none

// ---- numbers entering from files ----------------------------------------------------
// The one test of what refrain accepts from a file (audio samples, latents,
// model tensors): finite, and |x| <= limit. Returns the index of the first value
// that fails, or -1. Each reader calls it where the numbers enter and names the
// file and the index in its refusal.
long first_bad_value(const float *x, size_t n, float limit);
const char *bad_value_kind(float v);   // "NaN", "infinite" or "too large"

// ---- the shipped models (util/models.c) -----------------------------------------------
// The one lookup of a shipped model file by name ("ae.rfc", "denoiser.rfc"):
// $REFRAIN_MODEL_DIR, then assets/ and ../share/refrain beside the running
// program, then the same two beside the library (librefrain.so, or the program
// a librefrain.a is linked into); also_cwd adds assets/NAME in the current
// folder as the last place (the CLI's: a binary in a build folder or a copy of
// one, run from the source tree, finds the tree's assets/; the library never
// looks there). 0 with the path in buf, or -1 with err_set() naming every place
// looked in. refrain_find_model (refrain.h) is model_find(name, 0, ...).
int model_find(const char *name, int also_cwd, char *buf, size_t cap);
// given (a model the caller named) as is, or else model_find's path in buf; NULL
// with err_set(). The library's options structs leave their models NULL by
// default and resolve them here with also_cwd 0; the CLI's cli_model with 1.
const char *model_file(const char *given, const char *name, int also_cwd, char *buf, size_t cap);

// ---- progress and time -------------------------------------------------------
extern int g_quiet;                  // --quiet silences progress
// stderr: a redrawn line on a terminal; in a log, at most one line a second.
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress_done(void);            // ends the line; in a log, writes the last skipped state
double now_seconds(void);            // monotonic clock
double cpu_seconds(void);            // CPU time of the process, all threads together

#endif
