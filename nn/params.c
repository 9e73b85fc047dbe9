// params.c — the named-tensor arena. See params.h.
#include "nn/params.h"
#include "nn/arena.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void params_init(ParamSet *p) { memset(p, 0, sizeof *p); }

int params_add(ParamSet *p, const char *name, int decay, int d0, int d1, int d2, int d3) {
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 32;
        p->specs = reallocCheck(p->specs, (size_t)p->cap * sizeof *p->specs);
    }
    ParamSpec *s = &p->specs[p->n];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    int dims[PARAM_MAX_DIMS] = {d0, d1, d2, d3};
    s->size = 1;
    for (int i = 0; i < PARAM_MAX_DIMS && dims[i] > 0; i++) {
        s->shape[s->ndim++] = dims[i];
        s->size *= dims[i];
    }
    s->offset = p->total;
    s->decay = decay;
    p->total += arena_round(s->size);   // keep every tensor 64-byte aligned
    return p->n++;
}

void params_alloc(ParamSet *p) {
    p->data = alignedCheck((size_t)p->total * sizeof(float));
}

float *params_get(const ParamSet *p, int idx) { return p->data + p->specs[idx].offset; }

int params_find(const ParamSet *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->specs[i].name, name) == 0) return i;
    return -1;
}

void params_free(ParamSet *p) {
    free(p->specs);
    free(p->data);
    memset(p, 0, sizeof *p);
}
