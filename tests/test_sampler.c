// test_sampler.c — the ODE samplers and schedules of sampler/ against an
// analytic flow whose velocity and ODE solution are known exactly.
//
// The flow: x0 ~ N(mu, s^2) per coordinate, e ~ N(0, 1), x_t = (1 - t) x0 + t e.
// Its marginal velocity is affine in x:
//     v(x, t) = E[e - x0 | x_t = x] = -mu + c(t) (x - (1 - t) mu),
//     c(t) = (t - (1 - t) s^2) / V(t),   V(t) = (1 - t)^2 s^2 + t^2 (> 0 on [0, 1])
// and the ODE from x(1) = e follows x(t) = (1 - t) mu + sqrt(V(t)) e, ending at
// x(0) = mu + s e. Each coordinate has its own (mu, s) and e.
#include "sampler/sampler.h"
#include "tests/check.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define NP 3   // (mu, s) pairs, one per coordinate in turn
// unit-scale latents (s 1) and narrower conditional spreads
static const double MU[NP] = {0.5, -1.0, 2.0}, SD[NP] = {0.5, 1.0, 0.25};

typedef struct {
    long calls;     // velocity evaluations seen
    long fail_at;   // fail on this call (1-based); 0 never
} Flow;

static int flow_velocity(void *ctx, float *v, const float *x, float t, long n) {
    Flow *fl = ctx;
    if (++fl->calls == fl->fail_at) return err_set("flow: planned failure at call %ld", fl->calls);
    for (long j = 0; j < n; j++) {
        double mu = MU[j % NP], s2 = SD[j % NP] * SD[j % NP], tt = t;
        double c = (tt - (1 - tt) * s2) / ((1 - tt) * (1 - tt) * s2 + tt * tt);
        v[j] = (float)(-mu + c * (x[j] - (1 - tt) * mu));
    }
    return 0;
}

typedef struct { int calls, last; } Prog;
static void count_progress(void *ctx, int step, int steps) {
    Prog *p = ctx;
    p->calls++;
    p->last = step;
}

// Max |x(0) - (mu + s e)| over coordinates, e spread over [-2.5, 2.5] for each
// pair; *hmax gets the schedule's largest step. schedule -1: steps alternating
// between two lengths, 2 to 1 (steps even), which only a multistep whose
// weights follow the step ratio integrates at second order.
#define NE 11
static double endpoint_error(int kind, int schedule, float shift, int steps, double *hmax) {
    float x[NP * NE], e[NP * NE], ts[257];
    for (int j = 0; j < NP * NE; j++) x[j] = e[j] = -2.5f + 5.0f * (j / NP) / (NE - 1);
    if (schedule < 0)
        for (int i = 0; i <= steps; i++) ts[i] = 1 - (3 * (i / 2) + 2 * (i % 2)) / (1.5f * steps);
    else if (sampler_times(ts, steps, schedule, shift))
        return INFINITY;
    Flow fl = {0};
    if (sampler_run(kind, x, NP * NE, ts, steps, flow_velocity, &fl, NULL, NULL, NULL)) return INFINITY;
    double m = 0;
    for (int j = 0; j < NP * NE; j++) m = fmax(m, fabs(x[j] - (MU[j % NP] + SD[j % NP] * e[j])));
    *hmax = 0;
    for (int i = 0; i < steps; i++) *hmax = fmax(*hmax, ts[i] - ts[i + 1]);
    return m;
}

// The observed order: minus the least-squares slope of log(error) against
// log(largest step) over 8, 16, 32, 64 steps. A method of order p has an error
// O(hmax^p). On uniform steps (linear, no shift: hmax = 1/steps) the order must
// be the textbook one, within [0.8, 1.3] for Euler and [1.7, 2.5] for the
// second-order samplers. On the uneven schedules only the lower bound is
// checked: their error may fall faster than their largest step predicts where
// the largest steps lie where little error is made. Shift 3's largest step is
// the last, 3/(steps + 2); the log-SNR schedule's lies mid-way, about
// log(steps) / (2 steps) (its range, 2 log(steps - 1) in lambda, grows with the
// steps), while Heun's error there comes mostly from the ends, where the steps
// are 1/steps (it shows order about 3). The alternating steps are uniform
// enough for both bounds.
static void test_orders(void) {
    struct { int sched; float shift; } cfg[] = {{SCHED_LINEAR, 1}, {SCHED_LINEAR, 3}, {SCHED_LOGSNR, 1}, {-1, 1}};
    int kinds[] = {SAMPLER_EULER, SAMPLER_HEUN, SAMPLER_AB2};
    for (int c = 0; c < 4; c++)
        for (int k = 0; k < 3; k++) {
            int kind = kinds[k], uniform = cfg[c].sched < 0 || (cfg[c].sched == SCHED_LINEAR && cfg[c].shift == 1);
            double err[4], h[4], sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (int i = 0; i < 4; i++) {
                err[i] = endpoint_error(kind, cfg[c].sched, cfg[c].shift, 8 << i, &h[i]);
                double lx = log(h[i]), ly = log(err[i]);
                sx += lx; sy += ly; sxx += lx * lx; sxy += lx * ly;
            }
            double order = (4 * sxy - sx * sy) / (4 * sxx - sx * sx);
            double lo = kind == SAMPLER_EULER ? 0.8 : 1.7, hi = !uniform ? INFINITY : kind == SAMPLER_EULER ? 1.3 : 2.5;
            double tol64 = kind == SAMPLER_EULER ? 0.1 : 0.015;
            CHECK(order >= lo && order <= hi,
                  "%s, %s shift %g: order %.2f in [%g, %g] (error at 8/16/32/64 steps %.2e %.2e %.2e %.2e, largest step %.3f .. %.4f)",
                  sampler_name(kind), cfg[c].sched < 0 ? "alternating" : schedule_name(cfg[c].sched), cfg[c].shift, order, lo, hi, err[0], err[1], err[2],
                  err[3], h[0], h[3]);
            CHECK(err[3] <= tol64, "%s, %s shift %g: error at 64 steps %.2e <= %g", sampler_name(kind),
                  cfg[c].sched < 0 ? "alternating" : schedule_name(cfg[c].sched), cfg[c].shift, err[3], tol64);
        }
    // stable-audio-tools' fixed range: the last step always starts at t >= 0.119,
    // so a deterministic sampler stops converging (the header's warning).
    double h, e32 = endpoint_error(SAMPLER_HEUN, SCHED_SAO, 1, 32, &h), e64 = endpoint_error(SAMPLER_HEUN, SCHED_SAO, 1, 64, &h);
    CHECK(e64 > 0.02 && e64 > 0.7 * e32, "heun, sao: the error stalls (32 steps %.3g, 64 steps %.3g)", e32, e64);
}

// A velocity linear in t, v = a + b t (whatever x), has x(0) = x(1) - a - b / 2.
// One Euler step over h errs by -b h^2 / 2 exactly; Heun's trapezoid and the
// two-step extrapolation of v with the weights of the step ratio are exact, so on
// any steps Heun errs only by its last (Euler) step and AB2 only by its first.
static int linear_velocity(void *ctx, float *v, const float *x, float t, long n) {
    for (long j = 0; j < n; j++) v[j] = 0.3f - 1.7f * t;
    return 0;
}

static void test_linear_velocity(void) {
    const float ts[8] = {1, 0.9f, 0.7f, 0.65f, 0.4f, 0.3f, 0.05f, 0};
    double euler = 0;
    for (int i = 0; i < 7; i++) euler += 1.7 * (ts[i + 1] - ts[i]) * (ts[i + 1] - ts[i]) / 2;   // -b h^2 / 2 summed
    double want[3] = {euler, 1.7 * 0.05 * 0.05 / 2, 1.7 * 0.1 * 0.1 / 2};   // Euler, Heun (last step), AB2 (first)
    for (int kind = 0; kind < 3; kind++) {
        float x = 0.5f;
        sampler_run(kind, &x, 1, ts, 7, linear_velocity, NULL, NULL, NULL, NULL);
        char what[96];
        snprintf(what, sizeof what, "%s on v = 0.3 - 1.7 t, 7 uneven steps: error", sampler_name(kind));
        check_close(what, x - (0.5 - 0.3 + 1.7 / 2), want[kind], 1e-6, 0);
    }
}

// Ping-pong on the same flow. With the exact posterior-mean model the variance
// of its output follows in closed form: if x ~ N((1 - t) mu, W) at step i, then
// x0^ = mu + k (x - (1 - t) mu), k = (1 - t) s^2 / V(t), has variance k^2 W, and
// re-noising gives W' = (1 - t')^2 k^2 W + t'^2; the last step returns x0^.
static double pingpong_sd(const float *ts, int steps, double s) {
    double w = 1;
    for (int i = 0; i < steps; i++) {
        double t = ts[i], tn = ts[i + 1], k = (1 - t) * s * s / ((1 - t) * (1 - t) * s * s + t * t);
        w = (1 - tn) * (1 - tn) * k * k * w + tn * tn;
    }
    return sqrt(w);
}

// 8 linear steps from the starting noise of seed 99, re-noised from an rng seeded `seed`.
static void pingpong_run(float *x, long m, uint64_t seed) {
    float ts[9];
    Rng r;
    rng_seed(&r, 99);
    rng_fill_normal(&r, x, m, 1);
    rng_seed(&r, seed);
    sampler_times(ts, 8, SCHED_LINEAR, 1);
    Flow fl = {0};
    sampler_run(SAMPLER_PINGPONG, x, m, ts, 8, flow_velocity, &fl, &r, NULL, NULL);
}

static void test_pingpong(void) {
    const long M = 20000;                 // draws per (mu, s) pair
    const long n = M * NP;
    float *x = mallocCheck(n * sizeof(float)), *y = mallocCheck(n * sizeof(float)), ts[17];
    // 8 steps of two schedules, and 2 steps, where the first re-noising is all the
    // output's spread (x0^ at t = 1 is mu whatever x)
    int scheds[] = {SCHED_LINEAR, SCHED_SAO, SCHED_LINEAR};
    for (int c = 0; c < 3; c++) {
        int steps = c < 2 ? 8 : 2;
        sampler_times(ts, steps, scheds[c], 1);
        Rng r;
        rng_seed(&r, 1234);
        rng_fill_normal(&r, x, n, 1);
        Flow fl = {0};
        CHECK(sampler_run(SAMPLER_PINGPONG, x, n, ts, steps, flow_velocity, &fl, &r, NULL, NULL) == 0,
              "pingpong runs: %s, %d steps, %ld draws per (mu, s)", schedule_name(scheds[c]), steps, M);
        for (int p = 0; p < NP; p++) {
            double s1 = 0, s2 = 0;
            for (long j = p; j < n; j += NP) { s1 += x[j]; s2 += (double)x[j] * x[j]; }
            double mean = s1 / M, sd = sqrt(s2 / M - mean * mean), want = pingpong_sd(ts, steps, SD[p]);
            // 4 standard errors: sd / sqrt(M) for the mean, sd / sqrt(2 M) for the sd
            CHECK(fabs(mean - MU[p]) <= 4 * want / sqrt(M), "pingpong %s %d steps, mu %g s %g: mean %.4f (tol %.4f)",
                  schedule_name(scheds[c]), steps, MU[p], SD[p], mean, 4 * want / sqrt(M));
            CHECK(fabs(sd - want) <= 4 * want / sqrt(2.0 * M),
                  "pingpong %s %d steps, mu %g s %g: sd %.4f, closed form %.4f = %.3f s (tol %.4f)",
                  schedule_name(scheds[c]), steps, MU[p], SD[p], sd, want, want / SD[p], 4 * want / sqrt(2.0 * M));
        }
    }
    // The closed form's limit: about 1/sqrt(2) of s, never s, with the posterior-mean model.
    float tl[1025];
    sampler_times(tl, 1024, SCHED_LINEAR, 1);
    printf("  pingpong sd / s with the posterior-mean model at 1024 linear steps: %.4f (s 1)\n", pingpong_sd(tl, 1024, 1));

    // Same seed, same bits; another seed, other bits (the same starting noise for all three).
    long m = 999;
    float *z = mallocCheck(m * sizeof(float));
    pingpong_run(x, m, 7);
    pingpong_run(y, m, 7);
    pingpong_run(z, m, 8);
    CHECK(!memcmp(x, y, m * sizeof(float)), "pingpong: same seed gives identical bits");
    CHECK(memcmp(x, z, m * sizeof(float)), "pingpong: another seed gives other bits");
    free(x); free(y); free(z);
}

static void test_times(void) {
    int steps_list[] = {1, 2, 3, 8, 64, 1000};
    float ts[1001], base[1001];
    int ok = 1;
    for (int sc = 0; sc < SCHED_COUNT; sc++)
        for (int si = 0; si < 6; si++)
            for (int sh = 0; sh < 3; sh++) {
                int steps = steps_list[si];
                float shift = sh == 0 ? 1 : sh == 1 ? 3 : 1.0f / 3;
                int rc = sampler_times(ts, steps, sc, shift);
                int good = rc == 0 && ts[0] == 1 && ts[steps] == 0;
                for (int i = 0; i < steps; i++) good &= ts[i + 1] < ts[i];
                if (!good) printf("  bad times: %s, %d steps, shift %g (rc %d)\n", schedule_name(sc), steps, shift, rc);
                ok &= good;
            }
    CHECK(ok, "every schedule, steps 1..1000, shift 1/3, 1, 3: ts[0] = 1, ts[steps] = 0, strictly decreasing");

    sampler_times(ts, 8, SCHED_LINEAR, 1);
    double d = 0;
    for (int i = 0; i <= 8; i++) d = fmax(d, fabs(ts[i] - (1 - i / 8.0)));
    CHECK(d < 1e-7, "linear: 1 - i / steps (max diff %.2g)", d);

    // logsnr: the interior evenly spaced in lambda = log((1 - t) / t), from 1 - 1/steps to 1/steps
    for (int steps = 3; steps <= 64; steps *= 4) {
        sampler_times(ts, steps, SCHED_LOGSNR, 1);
        double h = (log((double)steps - 1) * 2) / (steps - 2), dev = 0;
        for (int i = 1; i < steps - 1; i++) {
            double l0 = log((1.0 - ts[i]) / ts[i]), l1 = log((1.0 - ts[i + 1]) / ts[i + 1]);
            dev = fmax(dev, fabs(l1 - l0 - h));
        }
        CHECK(dev < 1e-4 && fabs(ts[1] - (1 - 1.0 / steps)) < 1e-6 && fabs(ts[steps - 1] - 1.0 / steps) < 1e-6,
              "logsnr, %d steps: log-SNR step %.4f uniform on the interior (max dev %.2g), ends %.4f %.4f", steps, 2 * h,
              dev, ts[1], ts[steps - 1]);
    }
    // sao: stable-audio-tools' sigmoid(-linspace(-6, 2)), ends clamped
    sampler_times(ts, 8, SCHED_SAO, 1);
    d = 0;
    for (int i = 1; i < 8; i++) d = fmax(d, fabs(ts[i] - 1 / (1 + exp(-6.0 + i))));
    CHECK(d < 1e-6, "sao, 8 steps: sigmoid(6 - i), i = 1..7 (max diff %.2g; ts[1] %.5f, ts[7] %.5f)", d, ts[1], ts[7]);

    // shift: t' = shift t / (1 + (shift - 1) t); above 1 every interior time moves toward 1
    for (int sc = 0; sc < SCHED_COUNT; sc++) {
        sampler_times(base, 16, sc, 1);
        sampler_times(ts, 16, sc, 3);
        int up = 1;
        d = 0;
        for (int i = 1; i < 16; i++) {
            up &= ts[i] > base[i];
            d = fmax(d, fabs(ts[i] - 3.0 * base[i] / (1 + 2.0 * base[i])));
        }
        sampler_times(ts, 16, sc, 1.0f / 3);
        for (int i = 1; i < 16; i++) up &= ts[i] < base[i];
        CHECK(up && d < 1e-6, "%s: shift 3 raises, 1/3 lowers every interior time; SD3's formula (max diff %.2g)",
              schedule_name(sc), d);
    }

    CHECK(sampler_times(ts, 0, SCHED_LINEAR, 1) == -1, "0 steps refused: %s", err_msg());
    CHECK(sampler_times(ts, 8, SCHED_COUNT, 1) == -1, "unknown schedule refused: %s", err_msg());
    CHECK(sampler_times(ts, 8, SCHED_LINEAR, 0) == -1 && sampler_times(ts, 8, SCHED_LINEAR, NAN) == -1,
          "shift 0 and NaN refused: %s", err_msg());
}

static void test_evals_and_errors(void) {
    float ts[9], x[6] = {0.1f, -0.2f, 0.3f, 1, 2, -3}, x_in[6];
    memcpy(x_in, x, sizeof x);
    int ok = 1;
    for (int kind = 0; kind < SAMPLER_COUNT; kind++)
        for (int steps = 1; steps <= 8; steps++) {
            Rng r;
            rng_seed(&r, 1);
            Flow fl = {0};
            Prog pg = {0};
            sampler_times(ts, steps, SCHED_LOGSNR, 1);
            int rc = sampler_run(kind, x, 6, ts, steps, flow_velocity, &fl, &r, count_progress, &pg);
            int good = rc == 0 && fl.calls == sampler_evals(kind, steps) && pg.calls == steps && pg.last == steps;
            if (!good)
                printf("  %s, %d steps: rc %d, %ld calls, evals %d, progress %d (last %d)\n", sampler_name(kind), steps, rc,
                       fl.calls, sampler_evals(kind, steps), pg.calls, pg.last);
            ok &= good;
        }
    CHECK(ok, "sampler_evals equals the velocity calls, progress runs 1..steps (every sampler, steps 1..8)");
    CHECK(sampler_evals(SAMPLER_HEUN, 10) == 19 && sampler_evals(SAMPLER_AB2, 10) == 10 &&
              sampler_evals(SAMPLER_COUNT, 10) == -1 && sampler_evals(SAMPLER_EULER, 0) == -1,
          "sampler_evals: heun 10 -> 19, ab2 10 -> 10, unknown or 0 steps -> -1");

    // The velocity's error stops the run and comes back; x keeps the last completed step.
    sampler_times(ts, 8, SCHED_LINEAR, 1);
    for (int kind = 0; kind < SAMPLER_COUNT; kind++)
        for (long at = 1; at <= 3; at++) {
            Rng r;
            rng_seed(&r, 1);
            memcpy(x, x_in, sizeof x);
            Flow fl = {0, at};
            Prog pg = {0};
            err_clear();
            int rc = sampler_run(kind, x, 6, ts, 8, flow_velocity, &fl, &r, count_progress, &pg);
            char want[64];
            snprintf(want, sizeof want, "flow: planned failure at call %ld", at);
            int done = kind == SAMPLER_HEUN ? (int)(at - 1) / 2 : (int)at - 1;   // steps finished before the failure
            CHECK(rc == -1 && !strcmp(err_msg(), want) && fl.calls == at && pg.calls == done &&
                      (at > 1 || !memcmp(x, x_in, sizeof x)),
                  "%s, velocity fails at call %ld: rc %d, '%s', %ld calls, %d steps done%s", sampler_name(kind), at, rc,
                  err_msg(), fl.calls, pg.calls, at == 1 ? ", x untouched" : "");
        }

    Flow fl = {0};
    float bad[3] = {1, 0.5f, 0.5f};
    CHECK(sampler_run(SAMPLER_EULER, x, 6, bad, 2, flow_velocity, &fl, NULL, NULL, NULL) == -1 && fl.calls == 0,
          "times that do not decrease refused: %s", err_msg());
    CHECK(sampler_run(SAMPLER_PINGPONG, x, 6, ts, 8, flow_velocity, &fl, NULL, NULL, NULL) == -1 && fl.calls == 0,
          "pingpong without an rng refused: %s", err_msg());
    CHECK(sampler_run(SAMPLER_COUNT, x, 6, ts, 8, flow_velocity, &fl, NULL, NULL, NULL) == -1, "unknown sampler refused");

    ok = 1;
    for (int k = 0; k < SAMPLER_COUNT; k++) ok &= sampler_from_name(sampler_name(k)) == k;
    for (int k = 0; k < SCHED_COUNT; k++) ok &= schedule_from_name(schedule_name(k)) == k;
    CHECK(ok && sampler_from_name("ddim") == -1 && schedule_from_name("cosine") == -1 && !strcmp(sampler_name(9), "?") &&
              !strcmp(sampler_name(SAMPLER_AB2), "ab2") && !strcmp(schedule_name(SCHED_LOGSNR), "logsnr"),
          "names round-trip; unknown names -> -1, unknown kinds -> \"?\"");
}

int main(void) {
    test_orders();
    test_linear_velocity();
    test_pingpong();
    test_times();
    test_evals_and_errors();
    return check_summary("test_sampler");
}
