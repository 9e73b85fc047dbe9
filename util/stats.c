// stats.c — util/stats.h: Jacobi eigendecomposition, PSD square roots, feature
// sets, Gaussian fits and the Fréchet distance, the kernel distance (unbiased
// MMD^2, Gaussian RBF) and the percentile bootstrap. Everything in double.
// The kernel sums run over rows in parallel, each row's sum kept apart and added
// in row order afterwards, so the results are the same bits for any thread count.
// jacobi_eigen moved here from autoencoder/baseline.c (unchanged) when the
// generation report needed it for matrix square roots.
#include "util/stats.h"
#include "util/rng.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- linear algebra -----------------------------------------------------------------------
int jacobi_eigen(double *A, int n, double *evals, double *evecs) {
    double *V = mallocCheck(sizeof(double) * n * n);   // columns are eigenvectors
    for (int i = 0; i < n * n; i++) V[i] = 0;
    for (int i = 0; i < n; i++) V[i * n + i] = 1;
    int sweep;
    for (sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                if (i != j) off += A[i * n + j] * A[i * n + j];
                else diag += A[i * n + i] * A[i * n + i];
            }
        if (off <= 1e-30 * (diag > 0 ? diag : 1)) break;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) {   // A = J^T A J: columns p, q
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) {   // rows p, q
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = c * vkp - s * vkq;
                    V[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    // sort by decreasing eigenvalue; rows of evecs are eigenvectors
    int *ord = mallocCheck(sizeof(int) * n);
    for (int i = 0; i < n; i++) ord[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && A[ord[j] * n + ord[j]] > A[ord[j - 1] * n + ord[j - 1]]; j--) {
            int t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        evals[i] = A[ord[i] * n + ord[i]];
        for (int k = 0; k < n; k++) evecs[i * n + k] = V[k * n + ord[i]];
    }
    free(ord);
    free(V);
    return sweep;
}

void stats_sqrtm_psd(double *out, const double *A, int n) {
    double *S = mallocCheck(sizeof(double) * n * n), *V = mallocCheck(sizeof(double) * n * n),
           *l = mallocCheck(sizeof(double) * n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) S[i * n + j] = 0.5 * (A[i * n + j] + A[j * n + i]);
    jacobi_eigen(S, n, l, V);
    for (int i = 0; i < n; i++) l[i] = l[i] > 0 ? sqrt(l[i]) : 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += V[k * n + i] * l[k] * V[k * n + j];
            out[i * n + j] = s;
        }
    free(S); free(V); free(l);
}

// c (n, n) = a (n, n) b (n, n)
static void matmul(double *c, const double *a, const double *b, int n) {
    for (int i = 0; i < n * n; i++) c[i] = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
        }
}

// ---- feature sets ----------------------------------------------------------------------------
void featset_init(FeatureSet *s, int d) {
    memset(s, 0, sizeof *s);
    s->d = d;
}

double *featset_add(FeatureSet *s, int group) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->x = reallocCheck(s->x, sizeof(double) * s->cap * s->d);
        s->group = reallocCheck(s->group, sizeof(int) * s->cap);
    }
    double *row = s->x + s->n * s->d;
    memset(row, 0, sizeof(double) * s->d);
    s->group[s->n++] = group;
    return row;
}

void featset_free(FeatureSet *s) {
    free(s->x); free(s->group);
    memset(s, 0, sizeof *s);
}

int featset_groups(const FeatureSet *s) {
    int g = -1;
    for (long i = 0; i < s->n; i++) if (s->group[i] > g) g = s->group[i];
    return g + 1;
}

// ---- Gaussian fit and Fréchet distance ----------------------------------------------------------
int stats_gauss_fit(GaussFit *g, const double *x, const double *w, long n, int d) {
    memset(g, 0, sizeof *g);
    double W = 0;
    for (long i = 0; i < n; i++) W += w ? w[i] : 1;
    if (d < 1 || !(W > 1)) return err_set("Gaussian fit: %g rows of %d numbers; need more than one row", W, d);
    g->d = d;
    g->n = W;
    g->mean = callocCheck(d, sizeof(double));
    g->cov = callocCheck((size_t)d * d, sizeof(double));
    for (long i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        if (wi == 0) continue;
        for (int k = 0; k < d; k++) g->mean[k] += wi * x[i * d + k];
    }
    for (int k = 0; k < d; k++) g->mean[k] /= W;
    double *c = mallocCheck(sizeof(double) * d);
    for (long i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        if (wi == 0) continue;
        for (int k = 0; k < d; k++) c[k] = x[i * d + k] - g->mean[k];
        for (int a = 0; a < d; a++) {
            double ca = wi * c[a];
            for (int b = a; b < d; b++) g->cov[a * d + b] += ca * c[b];
        }
    }
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) g->cov[b * d + a] = g->cov[a * d + b] /= (W - 1);
    free(c);
    return 0;
}

void stats_gauss_prepare(GaussFit *g) {
    if (g->sqrt_cov) return;
    g->sqrt_cov = mallocCheck(sizeof(double) * g->d * g->d);
    stats_sqrtm_psd(g->sqrt_cov, g->cov, g->d);
}

void stats_gauss_free(GaussFit *g) {
    free(g->mean); free(g->cov); free(g->sqrt_cov);
    memset(g, 0, sizeof *g);
}

int stats_frechet(const GaussFit *a, const GaussFit *b, double *fd) {
    if (a->d != b->d || a->d < 1) return err_set("Frechet distance: fits of %d and %d numbers", a->d, b->d);
    int d = a->d;
    double *R = a->sqrt_cov, *own = NULL;
    if (!R) { R = own = mallocCheck(sizeof(double) * d * d); stats_sqrtm_psd(R, a->cov, d); }
    double *T = mallocCheck(sizeof(double) * d * d), *M = mallocCheck(sizeof(double) * d * d),
           *V = mallocCheck(sizeof(double) * d * d), *l = mallocCheck(sizeof(double) * d);
    matmul(T, R, b->cov, d);   // S_a^(1/2) S_b
    matmul(M, T, R, d);        // S_a^(1/2) S_b S_a^(1/2), symmetric up to rounding
    for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++) M[i * d + j] = M[j * d + i] = 0.5 * (M[i * d + j] + M[j * d + i]);
    jacobi_eigen(M, d, l, V);
    double tr_sqrt = 0, dm = 0, tr = 0;
    for (int i = 0; i < d; i++) tr_sqrt += l[i] > 0 ? sqrt(l[i]) : 0;
    for (int i = 0; i < d; i++) {
        double e = a->mean[i] - b->mean[i];
        dm += e * e;
        tr += a->cov[i * d + i] + b->cov[i * d + i];
    }
    *fd = dm + tr - 2 * tr_sqrt;
    free(own); free(T); free(M); free(V); free(l);
    return 0;
}

// ---- kernel distance --------------------------------------------------------------------------
static double sqdist(const double *a, const double *b, int d) {
    double s = 0;
    for (int k = 0; k < d; k++) { double e = a[k] - b[k]; s += e * e; }
    return s;
}

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);   // NAN last
    return (a > b) - (a < b);
}

double stats_median_distance(const double *x, long n, int d) {
    if (n < 2) return 0;
    long np = n * (n - 1) / 2;
    double *v = mallocCheck(sizeof(double) * np);
    #pragma omp parallel for schedule(dynamic, 16)
    for (long i = 0; i < n; i++) {
        long base = i * n - i * (i + 1) / 2;   // pairs (i, j > i) after rows 0..i-1
        for (long j = i + 1; j < n; j++) v[base + j - i - 1] = sqrt(sqdist(x + i * d, x + j * d, d));
    }
    qsort(v, (size_t)np, sizeof(double), cmp_double);
    double med = v[(np - 1) / 2];
    free(v);
    return med;
}

double stats_mmd2(const double *x, long n, const double *y, long m, int d, double bw) {
    if (n < 2 || m < 2 || !(bw > 0)) return NAN;
    double gam = 1 / (2 * bw * bw);
    double *rx = callocCheck(n, sizeof(double)), *ry = callocCheck(m, sizeof(double)),
           *rxy = callocCheck(n, sizeof(double));
    #pragma omp parallel for schedule(dynamic, 16)
    for (long i = 0; i < n; i++) {
        double s = 0, t = 0;
        for (long j = i + 1; j < n; j++) s += exp(-gam * sqdist(x + i * d, x + j * d, d));
        for (long j = 0; j < m; j++) t += exp(-gam * sqdist(x + i * d, y + j * d, d));
        rx[i] = s; rxy[i] = t;
    }
    #pragma omp parallel for schedule(dynamic, 16)
    for (long i = 0; i < m; i++) {
        double s = 0;
        for (long j = i + 1; j < m; j++) s += exp(-gam * sqdist(y + i * d, y + j * d, d));
        ry[i] = s;
    }
    double sx = 0, sy = 0, sxy = 0;
    for (long i = 0; i < n; i++) { sx += rx[i]; sxy += rxy[i]; }
    for (long i = 0; i < m; i++) sy += ry[i];
    free(rx); free(ry); free(rxy);
    return 2 * sx / ((double)n * (n - 1)) + 2 * sy / ((double)m * (m - 1)) - 2 * sxy / ((double)n * m);
}

int stats_mmd2_groups(MmdGroups *g, const double *x, long n, const double *y, long m, const int *group, int ng,
                      int d, double bw) {
    memset(g, 0, sizeof *g);
    if (n < 2 || m < 1 || ng < 1 || !(bw > 0)) return err_set("MMD: %ld and %ld rows in %d groups, bandwidth %g", n, m, ng, bw);
    for (long i = 0; i < m; i++)
        if (group[i] < 0 || group[i] >= ng) return err_set("MMD: row %ld in group %d of %d", i, group[i], ng);
    double gam = 1 / (2 * bw * bw);
    g->ng = ng;
    g->n = n;
    g->kyy = callocCheck((size_t)ng * ng, sizeof(double));
    g->kxy = callocCheck(ng, sizeof(double));
    g->cnt = callocCheck(ng, sizeof(long));
    double *rx = callocCheck(n, sizeof(double)), *rxy = callocCheck((size_t)n * ng, sizeof(double)),
           *ry = callocCheck((size_t)m * ng, sizeof(double));
    #pragma omp parallel for schedule(dynamic, 16)
    for (long i = 0; i < n; i++) {
        double s = 0;
        for (long j = i + 1; j < n; j++) s += exp(-gam * sqdist(x + i * d, x + j * d, d));
        rx[i] = s;
        for (long j = 0; j < m; j++) rxy[i * ng + group[j]] += exp(-gam * sqdist(x + i * d, y + j * d, d));
    }
    #pragma omp parallel for schedule(dynamic, 16)
    for (long i = 0; i < m; i++)   // row i's sums with every later row, by the later row's group
        for (long j = i + 1; j < m; j++) ry[i * ng + group[j]] += exp(-gam * sqdist(y + i * d, y + j * d, d));
    double sx = 0;
    for (long i = 0; i < n; i++) {
        sx += rx[i];
        for (int a = 0; a < ng; a++) g->kxy[a] += rxy[i * ng + a];
    }
    g->kxx = 2 * sx / ((double)n * (n - 1));
    for (long i = 0; i < m; i++) {
        int a = group[i];
        g->cnt[a]++;
        g->kyy[a * ng + a] += 1;   // k(y_i, y_i)
        for (int b = 0; b < ng; b++) {
            g->kyy[a * ng + b] += ry[i * ng + b];
            g->kyy[b * ng + a] += ry[i * ng + b];
        }
    }
    free(rx); free(rxy); free(ry);
    return 0;
}

double stats_mmd2_resampled(const MmdGroups *g, const int *mult) {
    double mm = 0, yy = 0, xy = 0;
    for (int a = 0; a < g->ng; a++) {
        if (!mult[a]) continue;
        mm += (double)mult[a] * g->cnt[a];
        xy += mult[a] * g->kxy[a];
        for (int b = 0; b < g->ng; b++) yy += (double)mult[a] * mult[b] * g->kyy[a * g->ng + b];
    }
    if (mm < 2) return NAN;
    yy -= mm;   // the pairs of a row with itself
    return g->kxx + yy / (mm * (mm - 1)) - 2 * xy / ((double)g->n * mm);
}

void stats_mmd2_groups_free(MmdGroups *g) {
    free(g->kyy); free(g->kxy); free(g->cnt);
    memset(g, 0, sizeof *g);
}

// ---- bootstrap ----------------------------------------------------------------------------------
void stats_bootstrap95(BootStat f, void *ctx, int n, int reps, uint64_t seed, double *lo, double *hi) {
    double *v = mallocCheck(sizeof(double) * reps);
    int *idx = mallocCheck(sizeof(int) * n);
    Rng r;
    rng_seed(&r, seed);
    for (int k = 0; k < reps; k++) {
        for (int j = 0; j < n; j++) idx[j] = (int)(rng_u64(&r) % (uint64_t)n);
        v[k] = f(ctx, idx, n);
    }
    qsort(v, (size_t)reps, sizeof(double), cmp_double);
    int il = (int)(0.025 * reps), ih = (int)(0.975 * reps) - 1;
    if (ih < il) ih = il;
    *lo = v[il];
    *hi = v[ih];
    free(v); free(idx);
}

void stats_basic95(double est, double *lo, double *hi) {
    if (isnan(*lo) || isnan(*hi) || isnan(est)) { *lo = *hi = NAN; return; }
    double l = 2 * est - *hi, h = 2 * est - *lo;
    *lo = l;
    *hi = h;
}

double stats_fd_resample(void *ctx, const int *idx, int n) {
    FdResample *b = ctx;
    memset(b->mult, 0, sizeof(int) * b->ng);
    for (int j = 0; j < n; j++) b->mult[idx[j]]++;
    for (long i = 0; i < b->fs->n; i++) b->w[i] = b->mult[b->fs->group[i]];
    GaussFit g;
    double fd = NAN;
    if (stats_gauss_fit(&g, b->fs->x, b->w, b->fs->n, b->fs->d) == 0) { stats_frechet(b->ref, &g, &fd); stats_gauss_free(&g); }
    return fd;
}
