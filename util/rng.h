// rng — the project's own seeded random numbers (xoshiro256**), state passed
// explicitly and saved with training state. Never seeded from time or pid.
#ifndef REFRAIN_RNG_H
#define REFRAIN_RNG_H
#include <stdint.h>

#define RNG_DEFAULT_SEED 20261124u

typedef struct {
    uint64_t s[4];
    int has_spare;   // Box-Muller makes normals in pairs; the second waits here
    float spare;
} Rng;

void rng_seed(Rng *r, uint64_t seed);   // splitmix64 expands the seed
uint64_t rng_u64(Rng *r);
float rng_uniform(Rng *r);              // [0, 1)
float rng_normal(Rng *r);               // mean 0, sd 1
void rng_fill_normal(Rng *r, float *x, long n, float sd);

#endif
