// test_stats — util/stats.h and the report's window features (sampler/features.c):
//   - Gaussian fits, Fréchet distance, median distance and unbiased MMD^2
//     against numpy (tests/make_stats_ref.py, tests/data/stats_ref.bin);
//   - FD of a set with itself is 0, FD is symmetric, a prepared reference gives
//     the same number; weighted fits equal fits of repeated rows;
//   - MMD^2 of two samples of one distribution is near 0, of a shifted one clearly
//     positive; the grouped (bootstrap) form equals the plain one, and a resample's
//     value equals the plain MMD^2 of the rows it repeats;
//   - Jacobi eigenvalues and the PSD square root (negative eigenvalues clamped);
//   - the bootstrap draws and percentiles diffusion/eval.c's private loop used;
//   - the basic interval of FD over songs of correlated windows (a known FD)
//     covers the true FD far more often than the percentile one (which the
//     reports used, and which can lie wholly above its own estimate);
//   - window features of a synthetic ramp and of a tone after silence.
#include "tests/check.h"
#include "audio/audio.h"
#include "sampler/sampler.h"
#include "util/rng.h"
#include "util/stats.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double *rd(FILE *f, long n) {
    double *x = mallocCheck(sizeof(double) * (n ? n : 1));
    if (fread(x, sizeof(double), (size_t)n, f) != (size_t)n) { free(x); return NULL; }
    return x;
}

static void test_reference(void) {
    const char *path = "tests/data/stats_ref.bin";
    FILE *f = fopen(path, "rb");
    char magic[8];
    int32_t nc = 0;
    if (!CHECK(f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, "STATREF1", 8) && fread(&nc, 4, 1, f) == 1 && nc > 0,
               "%s readable (run /usr/bin/python3 tests/make_stats_ref.py)", path)) { if (f) fclose(f); return; }
    for (int c = 0; c < nc; c++) {
        int32_t h[3];
        if (!CHECK(fread(h, 4, 3, f) == 3, "case %d header", c)) break;
        int n = h[0], m = h[1], d = h[2];
        double *x = rd(f, (long)n * d), *y = rd(f, (long)m * d), *mx = rd(f, d), *sx = rd(f, (long)d * d), *v = rd(f, 5);
        if (!CHECK(x && y && mx && sx && v, "case %d data", c)) { free(x); free(y); free(mx); free(sx); free(v); break; }
        GaussFit gx, gy;
        stats_gauss_fit(&gx, x, NULL, n, d);
        stats_gauss_fit(&gy, y, NULL, m, d);
        double em = 0, ec = 0, sc = 0;
        for (int i = 0; i < d; i++) em = fmax(em, fabs(gx.mean[i] - mx[i]));
        for (int i = 0; i < d * d; i++) { ec = fmax(ec, fabs(gx.cov[i] - sx[i])); sc = fmax(sc, fabs(sx[i])); }
        CHECK(em < 1e-12 && ec < 1e-12 * sc, "case %d (n %d, m %d, d %d): mean and covariance as np.cov (max diff %.1e, %.1e)",
              c, n, m, d, em, ec);
        double fd;
        stats_frechet(&gx, &gy, &fd);
        check_close("  Frechet distance against numpy (eigenvalues of S1 S2)", fd, v[0], 1e-9, 1e-9);
        double mp = 0;
        double *pool = mallocCheck(sizeof(double) * (n + m) * d);
        memcpy(pool, x, sizeof(double) * n * d);
        memcpy(pool + (long)n * d, y, sizeof(double) * m * d);
        mp = stats_median_distance(pool, n + m, d);
        free(pool);
        check_close("  median pairwise distance, pooled", mp, v[1], 0, 1e-13);
        check_close("  median pairwise distance, x alone", stats_median_distance(x, n, d), v[2], 0, 1e-13);
        double mmd = stats_mmd2(x, n, y, m, d, v[3]);
        check_close("  unbiased MMD^2 (bandwidth = x's median)", mmd, v[4], 1e-13, 1e-10);
        stats_gauss_free(&gx); stats_gauss_free(&gy);
        free(x); free(y); free(mx); free(sx); free(v);
    }
    fclose(f);
}

static double *gauss_rows(Rng *r, long n, int d, double shift, double scale) {
    double *x = mallocCheck(sizeof(double) * n * d);
    for (long i = 0; i < n * d; i++) x[i] = shift + scale * rng_normal(r);
    return x;
}

static void test_frechet_props(void) {
    Rng r;
    rng_seed(&r, 11);
    int d = 12;
    long n = 300, m = 250;
    double *x = gauss_rows(&r, n, d, 0, 1), *y = gauss_rows(&r, m, d, 0.3, 1.5);
    for (long i = 0; i < n; i++) x[i * d + 1] += 0.8 * x[i * d];   // some correlation
    GaussFit a, b;
    stats_gauss_fit(&a, x, NULL, n, d);
    stats_gauss_fit(&b, y, NULL, m, d);
    double self, ab, ba, abp;
    stats_frechet(&a, &a, &self);
    stats_frechet(&a, &b, &ab);
    stats_frechet(&b, &a, &ba);
    CHECK(fabs(self) < 1e-10, "FD of a set with itself: %.2e (0 within 1e-10)", self);
    CHECK(ab > 1 && fabs(ab - ba) < 1e-10 * ab, "FD symmetric: %.12f and %.12f", ab, ba);
    // The analytic value for diagonal Gaussians: d * (0.3^2 + (1 - 1.5)^2) = 12 * 0.34 = 4.08, the
    // estimate about it (x has one correlated pair, which adds a little)
    CHECK(ab > 3.5 && ab < 5.5, "FD of N(0, I) (one correlated pair) against N(0.3, 1.5^2 I) in 12 dimensions: %.3f (analytic about 4.2)", ab);
    stats_gauss_prepare(&a);
    stats_frechet(&a, &b, &abp);
    CHECK(fabs(abp - ab) < 1e-10 * ab, "a prepared reference (cached square root) gives the same FD: %.12f", abp);
    // weighted fit = fit of the repeated rows
    double *w = mallocCheck(sizeof(double) * m);
    long rows = 0;
    for (long i = 0; i < m; i++) { w[i] = (double)(i % 3); rows += i % 3; }
    double *rep = mallocCheck(sizeof(double) * rows * d);
    long k = 0;
    for (long i = 0; i < m; i++)
        for (int t = 0; t < i % 3; t++) memcpy(rep + (k++) * d, y + i * d, sizeof(double) * d);
    GaussFit gw, gr;
    stats_gauss_fit(&gw, y, w, m, d);
    stats_gauss_fit(&gr, rep, NULL, rows, d);
    double e = 0;
    for (int i = 0; i < d * d; i++) e = fmax(e, fabs(gw.cov[i] - gr.cov[i]));
    for (int i = 0; i < d; i++) e = fmax(e, fabs(gw.mean[i] - gr.mean[i]));
    CHECK(gw.n == rows && e < 1e-12, "weighted fit (weights 0, 1, 2) = fit of the repeated rows (max diff %.1e)", e);
    GaussFit bad;
    CHECK(stats_gauss_fit(&bad, y, NULL, 1, d) == -1, "a fit of one row is refused: %s", err_msg());
    stats_gauss_free(&a); stats_gauss_free(&b); stats_gauss_free(&gw); stats_gauss_free(&gr);
    free(x); free(y); free(w); free(rep);
}

static void test_mmd_props(void) {
    Rng r;
    rng_seed(&r, 12);
    int d = 8;
    long n = 400, m = 300;
    double *x = gauss_rows(&r, n, d, 0, 1), *y = gauss_rows(&r, m, d, 0, 1), *z = gauss_rows(&r, m, d, 0.5, 1);
    double bw = stats_median_distance(x, n, d);
    double same = stats_mmd2(x, n, y, m, d, bw), shifted = stats_mmd2(x, n, z, m, d, bw);
    // Under one distribution the unbiased estimate has mean 0 and sd about sqrt(2/(n m)) * ... ~ 1e-3 here.
    CHECK(fabs(same) < 2e-3, "MMD^2 of two samples of N(0, I_8) (n 400, m 300): %.2e (|.| < 2e-3)", same);
    CHECK(shifted > 0.02 && shifted > 20 * fabs(same), "MMD^2 with the second shifted by 0.5 per dimension: %.4f (> 0.02 and > 20x)", shifted);
    // grouped form: 10 groups of 30 rows
    int ng = 10, *grp = mallocCheck(sizeof(int) * m), *mult = mallocCheck(sizeof(int) * ng);
    for (long i = 0; i < m; i++) grp[i] = (int)(i / 30);
    MmdGroups g;
    CHECK(stats_mmd2_groups(&g, x, n, z, m, grp, ng, d, bw) == 0, "grouped MMD prepared");
    for (int a = 0; a < ng; a++) mult[a] = 1;
    double all = stats_mmd2_resampled(&g, mult);
    CHECK(fabs(all - shifted) < 1e-12, "grouped MMD^2, every group once = plain: %.15f vs %.15f", all, shifted);
    int mm[10] = {0, 2, 1, 0, 3, 1, 0, 0, 2, 1};
    long rows = 0;
    for (int a = 0; a < ng; a++) rows += 30L * mm[a];
    double *rep = mallocCheck(sizeof(double) * rows * d);
    long k = 0;
    for (int a = 0; a < ng; a++)
        for (int t = 0; t < mm[a]; t++)
            for (long i = 30L * a; i < 30L * (a + 1); i++) memcpy(rep + (k++) * d, z + i * d, sizeof(double) * d);
    double res = stats_mmd2_resampled(&g, mm), plain = stats_mmd2(x, n, rep, rows, d, bw);
    CHECK(fabs(res - plain) < 1e-12, "a resample (groups 0,2,1,0,3,1,0,0,2,1 times) = plain MMD^2 of the repeated rows: %.15f vs %.15f",
          res, plain);
    int none[10] = {0};
    CHECK(isnan(stats_mmd2_resampled(&g, none)), "a resample of no rows is NAN");
    grp[5] = ng;
    MmdGroups g2;
    CHECK(stats_mmd2_groups(&g2, x, n, z, m, grp, ng, d, bw) == -1, "a group out of range is refused: %s", err_msg());
    stats_mmd2_groups_free(&g);
    free(x); free(y); free(z); free(grp); free(mult); free(rep);
}

static void test_linalg(void) {
    int n = 7;
    Rng r;
    rng_seed(&r, 13);
    double *Q = mallocCheck(sizeof(double) * n * n), *A = mallocCheck(sizeof(double) * n * n),
           *B = mallocCheck(sizeof(double) * n * n), *S = mallocCheck(sizeof(double) * n * n),
           *V = mallocCheck(sizeof(double) * n * n), ev[7], want[7] = {9, 4, 2.5, 1, 0.25, 0.01, -0.5};
    for (int i = 0; i < n * n; i++) Q[i] = rng_normal(&r);
    for (int i = 0; i < n; i++) {   // Gram-Schmidt: rows orthonormal
        for (int j = 0; j < i; j++) {
            double dd = 0;
            for (int k = 0; k < n; k++) dd += Q[i * n + k] * Q[j * n + k];
            for (int k = 0; k < n; k++) Q[i * n + k] -= dd * Q[j * n + k];
        }
        double nn = 0;
        for (int k = 0; k < n; k++) nn += Q[i * n + k] * Q[i * n + k];
        for (int k = 0; k < n; k++) Q[i * n + k] /= sqrt(nn);
    }
    for (int i = 0; i < n; i++)   // A = Q^T diag(want) Q
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += Q[k * n + i] * want[k] * Q[k * n + j];
            A[i * n + j] = s;
        }
    memcpy(B, A, sizeof(double) * n * n);
    jacobi_eigen(B, n, ev, V);
    double e = 0;
    for (int i = 0; i < n; i++) e = fmax(e, fabs(ev[i] - want[i]));
    CHECK(e < 1e-12, "Jacobi (now in util/stats.c): eigenvalues 9 .. -0.5 within %.1e", e);
    // square root: clamps the -0.5; sqrt(A)^2 = A with the negative part removed
    stats_sqrtm_psd(S, A, n);
    double e2 = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0, t = 0;
            for (int k = 0; k < n; k++) s += S[i * n + k] * S[k * n + j];
            for (int k = 0; k < n; k++) t += Q[k * n + i] * (want[k] > 0 ? want[k] : 0) * Q[k * n + j];
            e2 = fmax(e2, fabs(s - t));
        }
    CHECK(e2 < 1e-12, "PSD square root: S S = A with its negative eigenvalue clamped to 0 (max diff %.1e)", e2);
    free(Q); free(A); free(B); free(S); free(V);
}

// diffusion/eval.c's bootstrap before it moved here, verbatim but for names.
static void old_bootstrap(const double *sw, const double *sb, const int *ids, int songs, int boot, uint64_t seed,
                          double *lo, double *hi) {
    double *g = mallocCheck(sizeof(double) * boot);
    Rng r;
    rng_seed(&r, seed);
    for (int k = 0; k < boot; k++) {
        double a = 0, b = 0;
        for (int j = 0; j < songs; j++) {
            int s = ids[rng_u64(&r) % (uint64_t)songs];
            a += sw[s]; b += sb[s];
        }
        g[k] = b > 0 ? 1 - a / b : 0;
    }
    for (int i = 1; i < boot; i++)
        for (int j = i; j > 0 && g[j - 1] > g[j]; j--) { double t = g[j]; g[j] = g[j - 1]; g[j - 1] = t; }
    *lo = g[(int)(0.025 * boot)];
    *hi = g[(int)(0.975 * boot) - 1];
    free(g);
}
typedef struct { const double *sw, *sb; const int *ids; } GainCtx;
static double gain(void *ctx, const int *idx, int n) {
    const GainCtx *g = ctx;
    double a = 0, b = 0;
    for (int j = 0; j < n; j++) { a += g->sw[g->ids[idx[j]]]; b += g->sb[g->ids[idx[j]]]; }
    return b > 0 ? 1 - a / b : 0;
}
typedef struct { const double *v; } MeanCtx;
static double mean_of(void *ctx, const int *idx, int n) {
    const MeanCtx *m = ctx;
    double s = 0;
    for (int j = 0; j < n; j++) s += m->v[idx[j]];
    return s / n;
}

static void test_bootstrap(void) {
    Rng r;
    rng_seed(&r, 14);
    int songs = 23, ids[23];
    double sw[40], sb[40];
    for (int i = 0; i < 40; i++) { sw[i] = 1 + rng_uniform(&r); sb[i] = 1.2 + rng_uniform(&r); }
    for (int i = 0; i < songs; i++) ids[i] = (i * 7) % 40;
    double lo0, hi0, lo1, hi1;
    old_bootstrap(sw, sb, ids, songs, 2000, 99, &lo0, &hi0);
    GainCtx gc = {sw, sb, ids};
    stats_bootstrap95(gain, &gc, songs, 2000, 99, &lo1, &hi1);
    CHECK(lo0 == lo1 && hi0 == hi1, "stats_bootstrap95 = diffusion/eval.c's old loop, bit for bit: [%.17g, %.17g]", lo1, hi1);
    double v[50], s = 0, ss = 0;
    for (int i = 0; i < 50; i++) { v[i] = 3 + rng_normal(&r); s += v[i]; }
    for (int i = 0; i < 50; i++) ss += (v[i] - s / 50) * (v[i] - s / 50);
    double want = 2 * 1.96 * sqrt(ss / 50) / sqrt(50.0);   // the normal interval of the mean
    MeanCtx mc = {v};
    stats_bootstrap95(mean_of, &mc, 50, 1000, 5, &lo1, &hi1);
    CHECK(lo1 < s / 50 && s / 50 < hi1 && fabs((hi1 - lo1) / want - 1) < 0.15,
          "bootstrap interval of a mean of 50 N(3, 1): [%.3f, %.3f] around %.3f, width %.3f (normal theory %.3f, within 15%%)",
          lo1, hi1, s / 50, hi1 - lo1, want);
}

static void test_window_features(void) {
    // a ramp x(t, c) = 10 c + t over 130 frames at 21.5 frames/s (C 3): sections 0-2.5 s,
    // 2.5-5.0 s and 5.0-5.6 s give 2 + 2 + 0 windows
    int C = 3;
    long T = 130;
    float *x = mallocCheck(sizeof(float) * T * C);
    for (long t = 0; t < T; t++)
        for (int c = 0; c < C; c++) x[t * C + c] = (float)(10 * c + t);
    SongSection sec[3] = {{.start = 0, .end = 2.5}, {.start = 2.5, .end = 5.0}, {.start = 5.0, .end = 5.6}};
    SongForm form = {sec, 3, 0, 5.6};
    FeatureSet fs;
    featset_init(&fs, 2 * C);
    double rate = 21.5;
    long got = window_features(&fs, 7, x, T, C, rate, &form);
    CHECK(got == 4 && fs.n == 4 && fs.group[3] == 7, "ramp: %ld windows (want 4: two per whole section, none for 0.6 s), group kept", got);
    double starts[4] = {0, 1, 2.5, 3.5}, e = 0;
    for (int w = 0; w < 4 && w < fs.n; w++) {
        long a = lround(starts[w] * rate), b = lround((starts[w] + 1) * rate), n = b - a;
        for (int c = 0; c < C; c++) {
            double mean = 10 * c + (a + b - 1) / 2.0, sd = sqrt((n * n - 1) / 12.0);   // consecutive integers
            e = fmax(e, fabs(fs.x[w * 2 * C + c] - mean));
            e = fmax(e, fabs(fs.x[w * 2 * C + C + c] - sd));
        }
    }
    CHECK(e < 1e-9, "ramp: each window's mean 10c + (a + b - 1) / 2 and sd sqrt((n^2 - 1) / 12) over frames a..b-1 (max diff %.1e)", e);
    FeatureSet bad;
    featset_init(&bad, 5);
    CHECK(window_features(&bad, 0, x, T, C, rate, &form) == -1, "a set of the wrong width is refused: %s", err_msg());
    featset_free(&fs);
    // latent features: at COND_FRAME_RATE, 3 s of a constant give 3 rows of (value, 0)
    float lat[70 * 2];
    for (int i = 0; i < 70 * 2; i++) lat[i] = i % 2 ? -0.5f : 1.25f;
    SongSection one = {.start = 0, .end = 3.0};
    SongForm f1 = {&one, 1, 0, 3.0};
    featset_init(&fs, 4);
    latent_window_features(&fs, 0, lat, 70, 2, &f1);
    CHECK(fs.n == 3 && fs.x[0] == 1.25 && fs.x[1] == -0.5 && fs.x[2] == 0 && fs.x[3] == 0 && fs.x[8] == 1.25,
          "latents: 3 s at 21.5 frames/s -> %ld windows of (mean 1.25, -0.5; sd 0, 0)", fs.n);
    featset_free(&fs);
    // log-mel from audio: silence, then a 1 kHz tone from 1.1 s to 3 s: window 0 is the log floor in
    // every band with sd 0; window 1 is loud near 1 kHz
    long n = 3 * SAMPLE_RATE;
    float *au = callocCheck(n, sizeof(float));
    for (long i = (long)(1.1 * SAMPLE_RATE); i < n; i++) au[i] = 0.5f * sinf(2 * (float)M_PI * 1000.0f * i / SAMPLE_RATE);
    featset_init(&fs, 2 * N_MELS);
    int mrc = mel_window_features(&fs, 0, au, n, &f1);
    CHECK(mrc == 0 && fs.n == 3, "log-mel: 3 s of audio -> %ld windows", fs.n);
    if (fs.n == 3) {
        double emax = 0, loud = -100;
        for (int k = 0; k < N_MELS; k++) {
            emax = fmax(emax, fabs(fs.x[k] - log(LOG_FLOOR)));
            emax = fmax(emax, fabs(fs.x[N_MELS + k]));
            loud = fmax(loud, fs.x[2 * N_MELS + k]);
        }
        CHECK(emax < 1e-6, "log-mel: the silent first second is log(1e-5) in every band with sd 0 (max diff %.1e)", emax);
        CHECK(loud > -2, "log-mel: the second second holds the tone (loudest band mean %.2f)", loud);
    }
    featset_free(&fs);
    free(au);
    free(x);
}

// FD over songs of correlated windows: each song's windows share a random mean (half
// the variance between songs), the population is N(delta, I) against the reference
// N(0, I), so the true FD is |delta|^2 = 1. Resamples of songs, as eval.c's (stats_fd_resample).
static void test_basic_interval(void) {
    double lo = 5.027, hi = 6.983;
    stats_basic95(4.744, &lo, &hi);
    CHECK(fabs(lo - 2.505) < 1e-9 && fabs(hi - 4.461) < 1e-9, "basic interval of 4.744 from [5.027, 6.983]: [%.3f, %.3f]", lo, hi);
    lo = NAN; hi = 1;
    stats_basic95(1, &lo, &hi);
    CHECK(isnan(lo) && isnan(hi), "no percentile interval, no basic one");
    enum { D = 8, S = 20, W = 40, TRIALS = 40, BOOT = 100 };
    GaussFit ref;
    memset(&ref, 0, sizeof ref);
    ref.d = D; ref.n = 1000000000;
    ref.mean = callocCheck(D, sizeof(double));
    ref.cov = callocCheck(D * D, sizeof(double));
    for (int i = 0; i < D; i++) ref.cov[i * D + i] = 1;
    stats_gauss_prepare(&ref);
    Rng r;
    rng_seed(&r, 7);
    int cov_pct = 0, cov_basic = 0, above = 0;
    for (int t = 0; t < TRIALS; t++) {
        FeatureSet fs;
        featset_init(&fs, D);
        for (int s = 0; s < S; s++) {
            double m[D];
            for (int i = 0; i < D; i++) m[i] = sqrt(1.0 / D) + sqrt(0.5) * rng_normal(&r);
            for (int k = 0; k < W; k++) {
                double *x = featset_add(&fs, s);
                for (int i = 0; i < D; i++) x[i] = m[i] + sqrt(0.5) * rng_normal(&r);
            }
        }
        GaussFit g;
        double fd = NAN;
        if (stats_gauss_fit(&g, fs.x, NULL, fs.n, D) == 0) { stats_frechet(&ref, &g, &fd); stats_gauss_free(&g); }
        FdResample b = {&fs, &ref, S, mallocCheck(sizeof(double) * fs.n), mallocCheck(sizeof(int) * S)};
        stats_bootstrap95(stats_fd_resample, &b, S, BOOT, 1000 + t, &lo, &hi);
        cov_pct += lo <= 1 && 1 <= hi;
        above += lo > fd;
        stats_basic95(fd, &lo, &hi);
        cov_basic += lo <= 1 && 1 <= hi;
        free(b.w); free(b.mult);
        featset_free(&fs);
    }
    stats_gauss_free(&ref);
    CHECK(cov_basic >= 0.8 * TRIALS && cov_basic > cov_pct + TRIALS / 4,
          "FD over %d songs of correlated windows (true FD 1): the basic interval covers it in %d of %d trials, the "
          "percentile one in %d (%d lie wholly above their estimate)", S, cov_basic, TRIALS, cov_pct, above);
}

int main(void) {
    test_reference();
    test_frechet_props();
    test_mmd_props();
    test_linalg();
    test_bootstrap();
    test_basic_interval();
    test_window_features();
    return check_summary("test_stats");
}
