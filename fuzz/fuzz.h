// fuzz.h — what the libFuzzer harnesses (fuzz/fuzz_*.c) share: the input bytes
// as a file path, for readers that take a path. The bytes go to one memfd per
// process (no disk, no leftovers), read back through /proc/self/fd/N, which
// every reader opens like a file (stat, fopen, sf_open).
// Each harness defines LLVMFuzzerTestOneInput; tests/test_fuzz_replay.c
// includes every harness under another name and replays tests/fuzz/NAME/.
#ifndef REFRAIN_FUZZ_H
#define REFRAIN_FUZZ_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // memfd_create
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/util.h"

// The input as a file: a path valid until the next call. Extension ext (".wav",
// "" for none) is not part of a memfd's path, so readers that choose by
// extension see none: the harnesses fuzz the readers that look at the bytes.
static inline const char *fuzz_path(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("refrain-fuzz", 0);
        if (fd < 0) { perror("memfd_create"); abort(); }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    err_clear();
    return path;
}

#endif
