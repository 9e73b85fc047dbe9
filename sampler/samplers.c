// samplers — the ODE samplers for the rectified flow and their time schedules
// (sampler/sampler.h). Owns the update rules and the step loop; not the model,
// guidance or the song (the VelocityFn hides them).
//
// Why these: Euler is what DiffRhythm, ACE-Step and Stable Audio take at 8 to 60
// steps; Heun is the classic second-order check on it at twice the cost; AB2
// gets second order at Euler's cost by reusing the previous step's evaluation;
// ping-pong is Stable Audio Open Small's few-step sampler.
//
// AB2 is the two-step Adams-Bashforth method on the velocity in t, with
// variable steps (Hairer, Norsett & Wanner, Solving ODEs I, III.5): with
// h_i = t_{i+1} - t_i and v_i = v(x_i, t_i),
//     x_{i+1} = x_i + h_i ((1 + w) v_i - w v_{i-1}),   w = h_i / (2 h_{i-1}),
// the first step Euler. For data with a smooth density the flow's velocity is
// smooth on all of [0, 1] (the exact v(x, 0) = -x and v(x, 1) = x - E[x0]), so
// extrapolating it in t stays second order up to t = 0, the last step
// included, and a network trained on this v predicts it there. Rejected:
// DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2; stable-audio-tools
// sample_flow_dpmpp), which extrapolates x0^ = x - t v linearly in
// lambda = log((1 - t) / t) and here reduces to x_{i+1} = rho x_i + (1 - rho) D,
// rho = t_{i+1} / t_i: lambda runs to -inf and +inf at t = 1 and 0, so steps
// even in t are O(1) in lambda at both ends whatever their number, and its last
// step (lambda infinite) must be first order. On tests/test_sampler.c's flow,
// linear schedule, 8/16/32/64 steps, its error was 9.5e-2 1.4e-2 8.4e-3 3.6e-3
// (observed order 1.5, not yet second order) against AB2's 5.4e-2 1.4e-2
// 3.3e-3 8.0e-4 (order 2.0); with classifier-free guidance between two such
// Gaussians (scales 3, 5, 7 at 8, 16, 32 steps, linear schedule) AB2 was the
// closer in 8 of 9 cases. (There Euler held up best at 8 steps, scales 5 and 7:
// 0.03-0.04 against 0.09-0.5 for both multisteps.) Both coincide with Euler
// for their first step: on this flow every first-order exponential integrator
// (DDIM, DPM-Solver-1 with noise or data prediction) is Euler.
#include "sampler/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static const char *SCHED_NAMES[SCHED_COUNT] = {"linear", "logsnr", "sao"};
static const char *SAMPLER_NAMES[SAMPLER_COUNT] = {"euler", "heun", "ab2", "pingpong"};

const char *schedule_name(int kind) { return kind >= 0 && kind < SCHED_COUNT ? SCHED_NAMES[kind] : "?"; }
const char *sampler_name(int kind) { return kind >= 0 && kind < SAMPLER_COUNT ? SAMPLER_NAMES[kind] : "?"; }

int schedule_from_name(const char *name) {
    for (int k = 0; name && k < SCHED_COUNT; k++)
        if (!strcmp(name, SCHED_NAMES[k])) return k;
    return -1;
}

int sampler_from_name(const char *name) {
    for (int k = 0; name && k < SAMPLER_COUNT; k++)
        if (!strcmp(name, SAMPLER_NAMES[k])) return k;
    return -1;
}

// ---- time schedules --------------------------------------------------------------------

static double t_of_lambda(double lam) { return 1.0 / (1.0 + exp(lam)); }   // lambda = log((1 - t) / t)

int sampler_times(float *ts, int steps, int schedule, float shift) {
    if (steps < 1) return err_set("sampler: steps must be at least 1 (got %d)", steps);
    if (schedule < 0 || schedule >= SCHED_COUNT) return err_set("sampler: unknown schedule %d", schedule);
    if (!(shift > 0) || !isfinite(shift)) return err_set("sampler: time shift must be > 0 (got %g)", shift);
    for (int i = 0; i <= steps; i++) {
        double t = 1.0 - (double)i / steps;                  // SCHED_LINEAR, and LOGSNR's steps <= 2
        if (schedule == SCHED_LOGSNR && steps > 2 && i > 0 && i < steps) {
            double hi = log(steps - 1.0);                     // lambda at t_min = 1 / steps
            t = t_of_lambda(-hi + 2 * hi * (i - 1) / (steps - 2));
        } else if (schedule == SCHED_SAO && i > 0 && i < steps) {
            t = t_of_lambda(-6.0 + 8.0 * i / steps);
        }
        ts[i] = (float)(shift * t / (1.0 + (shift - 1.0) * t));
    }
    for (int i = 0; i < steps; i++)
        if (!(ts[i + 1] < ts[i]))
            return err_set("sampler: %d steps of the %s schedule are too fine for float times (t %g repeats)", steps,
                           schedule_name(schedule), ts[i]);
    return 0;
}

// ---- samplers --------------------------------------------------------------------------

int sampler_evals(int kind, int steps) {
    if (kind < 0 || kind >= SAMPLER_COUNT || steps < 1) return -1;
    return kind == SAMPLER_HEUN ? 2 * steps - 1 : steps;
}

int sampler_run(int kind, float *x, long n, const float *ts, int steps, VelocityFn f, void *ctx,
                Rng *rng, SamplerProgress prog, void *prog_ctx) {
    if (kind < 0 || kind >= SAMPLER_COUNT) return err_set("sampler: unknown sampler %d", kind);
    if (steps < 1 || n < 0 || !f) return err_set("sampler: need steps >= 1, n >= 0 and a velocity (steps %d, n %ld)", steps, n);
    if (kind == SAMPLER_PINGPONG && !rng) return err_set("sampler: pingpong needs an rng");
    if (!(ts[0] <= 1) || !(ts[steps] >= 0)) return err_set("sampler: times must lie in [0, 1] (%g .. %g)", ts[0], ts[steps]);
    for (int i = 0; i < steps; i++)
        if (!(ts[i + 1] < ts[i])) return err_set("sampler: times must decrease strictly (ts[%d] %g, ts[%d] %g)", i, ts[i], i + 1, ts[i + 1]);

    float *buf = callocCheck(3 * (size_t)(n ? n : 1), sizeof(float));   // 3 x (n) scratch, zeroed
    float *a = buf, *b = buf + n, *c = buf + 2 * n;
    int rc = 0;
    for (int i = 0; i < steps; i++) {
        float t = ts[i], tn = ts[i + 1], h = tn - t;
        if ((rc = f(ctx, a, x, t, n))) break;                                  // a = v(x, t)
        if (kind == SAMPLER_EULER || (kind == SAMPLER_HEUN && tn == 0)) {
            for (long j = 0; j < n; j++) x[j] += h * a[j];
        } else if (kind == SAMPLER_HEUN) {
            for (long j = 0; j < n; j++) b[j] = x[j] + h * a[j];                // b = Euler's x(t')
            if ((rc = f(ctx, c, b, tn, n))) break;                             // c = v(b, t')
            for (long j = 0; j < n; j++) x[j] += 0.5f * h * (a[j] + c[j]);
        } else if (kind == SAMPLER_AB2) {
            float w = i > 0 ? (float)(0.5 * h / ((double)t - ts[i - 1])) : 0;   // h_i / (2 h_{i-1})
            for (long j = 0; j < n; j++) x[j] += h * ((1 + w) * a[j] - w * b[j]);   // b = v_{i-1}
            float *tmp = a; a = b; b = tmp;                                    // keep v_i for the next step
        } else {                                                               // SAMPLER_PINGPONG
            for (long j = 0; j < n; j++) x[j] -= t * a[j];                      // x0^
            if (tn > 0)
                for (long j = 0; j < n; j++) x[j] = (1 - tn) * x[j] + tn * rng_normal(rng);
        }
        if (prog) prog(prog_ctx, i + 1, steps);
    }
    free(buf);
    return rc ? -1 : 0;
}
