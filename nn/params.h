// params — named tensors packed in one flat float arena (llm.c
// malloc_and_point_parameters). Parameters, gradients, Adam moments and EMA
// are each one arena of the same layout, so AdamW, EMA and checkpoint I/O are
// one flat loop, and checkpoints find tensors by name and byte size.
#ifndef REFRAIN_NN_PARAMS_H
#define REFRAIN_NN_PARAMS_H

#define PARAM_NAME_MAX 64
#define PARAM_MAX_DIMS 4

typedef struct {
    char name[PARAM_NAME_MAX];
    int ndim;
    int shape[PARAM_MAX_DIMS];
    long offset;      // into the arena, in floats
    long size;        // element count
    int decay;        // 1: AdamW weight decay applies (matrices), 0: biases, norms, embeddings of gains
} ParamSpec;

typedef struct {
    ParamSpec *specs;
    int n, cap;
    long total;       // floats
    float *data;      // (total) — allocated by params_alloc
} ParamSet;

void params_init(ParamSet *p);
// Declares a tensor; returns its index. Shapes with fewer dims pass 0 for the rest.
int params_add(ParamSet *p, const char *name, int decay, int d0, int d1, int d2, int d3);
void params_alloc(ParamSet *p);                 // zeroed arena, 64-byte aligned
float *params_get(const ParamSet *p, int idx);  // pointer into the arena
int params_find(const ParamSet *p, const char *name);  // -1 if absent
void params_free(ParamSet *p);

#endif
