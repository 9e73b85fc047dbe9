// gradcheck.h — an analytic gradient against central finite differences, the
// check every backward pass in refrain gets (ggml test-backend-ops style).
// Header-only, for the test programs (test_nn_grad, test_nn_dit, test_ae).
//
// For a sample of coordinates i of a float tensor x, the numeric gradient is
//     num = (L(x + h) - L(x - h)) / ((x + h) - (x - h)),
// the denominator taken from the float values the perturbation really
// produced, and L a scalar loss summed in double from the float forward. The
// error over the sampled coordinates is the normalized squared error
//     nerr = sum (a - num)^2 / (sum a^2 + sum num^2),
// scale free and robust near zero (0 when both are all zero). Each caller
// states its tolerance and step h, and shows that the measure rejects a
// gradient only 5% off.
#ifndef REFRAIN_TESTS_GRADCHECK_H
#define REFRAIN_TESTS_GRADCHECK_H

#include <stdint.h>
#include "util/rng.h"

// The scalar loss of the current inputs (runs the forward).
typedef double (*GradLossFn)(void *ctx);

// Normalized squared error between analytic a and numeric num over m coordinates.
static inline double gradcheck_nerr(const double *a, const double *num, int m) {
    double d2 = 0, a2 = 0, n2 = 0;
    for (int i = 0; i < m; i++) { d2 += (a[i] - num[i]) * (a[i] - num[i]); a2 += a[i] * a[i]; n2 += num[i] * num[i]; }
    return (a2 + n2) > 1e-30 ? d2 / (a2 + n2) : 0.0;
}

// Samples min(n, max) coordinates of x (n floats): every one when n <= max,
// else drawn from rng. For each: ana[s] = g[i] (the analytic gradient of x)
// and num[s] = the central difference with step h. x is restored bit for bit;
// the last loss call ran on x + h or x - h, so a caller that reads the forward's
// outputs afterwards runs it once more. Returns the count.
static inline int gradcheck_sample(float *x, const float *g, long n, int max, float h,
                                   GradLossFn loss, void *ctx, Rng *rng, double *ana, double *num) {
    int m = n < max ? (int)n : max;
    for (int s = 0; s < m; s++) {
        long i = n <= max ? s : (long)(rng_u64(rng) % (uint64_t)n);
        float x0 = x[i];
        x[i] = x0 + h; double xp = x[i]; double lp = loss(ctx);
        x[i] = x0 - h; double xm = x[i]; double lm = loss(ctx);
        x[i] = x0;
        num[s] = (lp - lm) / (xp - xm);
        ana[s] = g[i];
    }
    return m;
}

#endif
