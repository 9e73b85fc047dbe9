// refdata.h — reading the reference tensors that the tests/make_*_ref.py
// scripts (Debian's PyTorch 1.13, never a runtime dependency) write into
// tests/data/. Header-only, for the test programs.
//
// Named-tensor files (dit_ref.bin "DITREF01", layers_ref.bin "LAYREF01"),
// little-endian:
//   char[8] magic; uint32 count; per tensor: uint32 name length, the name's
//   bytes, uint32 ndim (<= 4), uint32 dims[ndim], float32 data[prod(dims)]
// Files of a fixed record layout (optim_ref.bin) are read field by field with
// ref_read_floats.
#ifndef REFRAIN_TESTS_REFDATA_H
#define REFRAIN_TESTS_REFDATA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"

typedef struct {
    char name[128];
    int ndim, shape[4];
    long n;          // prod(shape)
    float *data;     // (n)
} RefTensor;

typedef struct {
    RefTensor *t;
    int n;
} RefSet;

// n floats from f: 0, or -1 when the file ends first.
static inline int ref_read_floats(FILE *f, float *x, long n) {
    return fread(x, sizeof(float), (size_t)n, f) == (size_t)n ? 0 : -1;
}

static inline void refset_free(RefSet *rs) {
    for (int i = 0; i < rs->n; i++) free(rs->t[i].data);
    free(rs->t);
    memset(rs, 0, sizeof *rs);
}

// Loads a named-tensor file with the 8-byte magic; script names the Python file
// that writes it, for the message when it is missing. 0, or -1 with err_set.
static inline int refset_load(RefSet *rs, const char *path, const char *magic, const char *script) {
    memset(rs, 0, sizeof *rs);
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open %s (run /usr/bin/python3 %s from the repository root)", path, script);
    char got[8];
    uint32_t count;
    if (fread(got, 1, 8, f) != 8 || memcmp(got, magic, 8) || fread(&count, 4, 1, f) != 1) goto bad;
    rs->t = callocCheck(count ? count : 1, sizeof *rs->t);
    for (uint32_t i = 0; i < count; i++) {
        RefTensor *t = &rs->t[i];
        uint32_t len, ndim, dims[4];
        if (fread(&len, 4, 1, f) != 1 || len >= sizeof t->name || fread(t->name, 1, len, f) != len ||
            fread(&ndim, 4, 1, f) != 1 || ndim > 4 || fread(dims, 4, ndim, f) != ndim) goto bad;
        t->ndim = (int)ndim;
        t->n = 1;
        for (uint32_t d = 0; d < ndim; d++) { t->shape[d] = (int)dims[d]; t->n *= dims[d]; }
        t->data = mallocCheck((size_t)(t->n ? t->n : 1) * sizeof(float));
        rs->n++;
        if (ref_read_floats(f, t->data, t->n)) goto bad;
    }
    fclose(f);
    return 0;
bad:
    fclose(f);
    refset_free(rs);
    return err_set("%s: truncated or not a %.8s file (rewrite it with /usr/bin/python3 %s)", path, magic, script);
}

// The tensor called name, or NULL.
static inline RefTensor *refset_find(const RefSet *rs, const char *name) {
    for (int i = 0; i < rs->n; i++)
        if (strcmp(rs->t[i].name, name) == 0) return &rs->t[i];
    return NULL;
}

#endif
