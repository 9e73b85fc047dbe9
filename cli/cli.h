// cli — what the subcommands share: the Command record the dispatch table in
// main.c lists, error printing, and reading an input excerpt.
// Exit status: 0 success, 1 a failure (one "refrain: ..." line), 2 bad usage.
#ifndef REFRAIN_CLI_H
#define REFRAIN_CLI_H

#include "cli/opts.h"

typedef struct {
    const OptSpec *spec;    // name, usage, summary and options
    int (*run)(int argc, char **argv);   // argv[0] is the subcommand's name
} Command;

#include "refrain.h"   // REFRAIN_VERSION: the one version (--version, the shared library's name)

// Prints "refrain: <err_msg()>" and returns 1 (for `return fail();`), or 2
// when read_excerpt or check_output found the command line at fault.
int fail(void);
// Reads IN as mono SAMPLE_RATE audio and keeps [start, start + duration)
// seconds (duration 0: to the end). Returns 0, or -1 with err_set() (a start
// past the end makes the next fail() exit 2).
int read_excerpt(const char *path, double start, double duration, float **x, long *n);
// Checks that the output's folder exists and its extension is one of exts
// ("wav,flac,ogg"), before any long work. Returns 0, or -1 with err_set() (an
// unknown extension makes the next fail() exit 2; a missing folder exits 1).
int check_output(const char *path, const char *exts);

#endif
