// arena — carving one float allocation into 64-byte aligned slices (llm.c
// malloc_and_point_activations). A model's activations are pointed by one
// function that runs twice: with base NULL it only counts (every arena_take
// returns NULL and off grows to the total), then, after alignedCheck of
// off * sizeof(float) bytes, with the base it points every buffer. The two
// passes run the same code, so the size and the layout can never disagree.
// Used by nn/dit.c and autoencoder/autoencoder.c; params.c rounds its tensor
// offsets with arena_round for the same alignment.
#ifndef REFRAIN_NN_ARENA_H
#define REFRAIN_NN_ARENA_H

#include <stddef.h>

typedef struct {
    float *base;   // NULL: only count
    long off;      // floats taken so far
} Arena;

// n floats rounded up to whole 64-byte lines (16 floats), so every slice of a
// 64-byte aligned base is 64-byte aligned too.
static inline long arena_round(long n) { return (n + 15) & ~15L; }

// The next n floats (NULL while counting).
static inline float *arena_take(Arena *a, long n) {
    float *p = a->base ? a->base + a->off : NULL;
    a->off += arena_round(n);
    return p;
}

#endif
