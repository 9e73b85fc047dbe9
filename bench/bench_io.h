// bench_io.h — raw float32 files shared by the bench programs (bench_*.c),
// which exchange arrays with their PyTorch peers through them. Header only:
// each bench program is one .c file linked with librefrain.a.
#ifndef REFRAIN_BENCH_IO_H
#define REFRAIN_BENCH_IO_H

#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

// The whole file as floats; exits with a message naming the file on failure.
static inline float *read_f32(const char *path, long *count) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "bench: cannot open %s\n", path); exit(1); }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *x = mallocCheck(bytes > 0 ? bytes : 1);
    if (bytes < 0 || fread(x, 1, bytes, f) != (size_t)bytes) { fprintf(stderr, "bench: short read %s\n", path); exit(1); }
    fclose(f);
    *count = bytes / (long)sizeof(float);
    return x;
}

static inline void write_f32(const char *path, const float *x, long count) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(x, sizeof(float), count, f) != (size_t)count || fclose(f) != 0) {
        fprintf(stderr, "bench: cannot write %s\n", path);
        exit(1);
    }
}

#endif
