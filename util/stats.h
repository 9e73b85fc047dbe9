// stats — the numerical statistics that evaluations share, all in double:
// the symmetric eigendecomposition (cyclic Jacobi) and the PSD matrix square
// root built on it; feature sets (rows with the song each came from); Gaussian
// fits and the Fréchet distance between two of them (FID / FAD's formula); the
// kernel distance, unbiased MMD^2 with a Gaussian RBF kernel (KAD's estimator,
// Chung et al. 2025, kadtk); and the percentile bootstrap.
// It owns no features (sampler/features.c makes them from latents and audio)
// and no reports. Lives in util/ because every module links it (the PCA
// baseline in autoencoder/, the denoiser's report in diffusion/, the
// generation report in sampler/).
#ifndef REFRAIN_STATS_H
#define REFRAIN_STATS_H

#include <stdint.h>

// ---- linear algebra -----------------------------------------------------------------
// Symmetric eigendecomposition by cyclic Jacobi: A (n, n) is destroyed;
// evals (n) decreasing, evecs (n, n) rows are eigenvectors. Returns sweeps used.
int jacobi_eigen(double *A, int n, double *evals, double *evecs);
// out (n, n) = V diag(sqrt(max(l, 0))) V^T for symmetric A (n, n) = V diag(l) V^T
// (not modified; its upper and lower triangles are averaged first). Negative
// eigenvalues, which rounding gives a PSD matrix, count as 0.
void stats_sqrtm_psd(double *out, const double *A, int n);

// ---- feature sets --------------------------------------------------------------------
// n rows of d numbers, each with the group it came from (a song), so that a
// bootstrap can resample whole groups.
typedef struct {
    double *x;      // (n, d)
    int *group;     // (n)
    long n, cap;
    int d;
} FeatureSet;
void featset_init(FeatureSet *s, int d);
double *featset_add(FeatureSet *s, int group);   // a new row (d, zeroed) to fill
void featset_free(FeatureSet *s);
int featset_groups(const FeatureSet *s);         // 1 + the largest group id (0 when empty)

// ---- Gaussian fit and Fréchet distance ----------------------------------------------------
typedef struct {
    int d;
    double n;          // total weight of the rows fitted
    double *mean;      // (d)
    double *cov;       // (d, d), unbiased: sum w (x - mean)(x - mean)^T / (n - 1), numpy's np.cov
    double *sqrt_cov;  // (d, d) cov^(1/2) once stats_gauss_prepare has run, else NULL
} GaussFit;
// Mean and covariance of x (n, d), two passes. w NULL: every row once; else
// row i counts w[i] times (w >= 0; a bootstrap's multiplicities). Needs a total
// weight above 1. Returns 0, or -1 with err_set().
int stats_gauss_fit(GaussFit *g, const double *x, const double *w, long n, int d);
// Keeps cov^(1/2) in the fit, so the Fréchet distances against it (the
// reference's, one per compared set and bootstrap draw) skip one square root.
void stats_gauss_prepare(GaussFit *g);
void stats_gauss_free(GaussFit *g);
// Fréchet distance |mu_a - mu_b|^2 + tr S_a + tr S_b - 2 tr (S_a^(1/2) S_b S_a^(1/2))^(1/2)
// (the squared 2-Wasserstein distance of the two Gaussians, as FID and FAD report
// it), square roots by the symmetric eigendecomposition with negative eigenvalues
// clamped to 0; a's cached root is used when present. Symmetric in a and b up to
// rounding. Returns 0, or -1 with err_set() (dimensions differ).
int stats_frechet(const GaussFit *a, const GaussFit *b, double *fd);

// ---- kernel distance -------------------------------------------------------------------------
// Median of the n (n - 1) / 2 pairwise Euclidean distances of x (n, d); the lower
// of the two middle values when their count is even (torch.median's, which
// kadtk's bandwidth uses). 0 when n < 2.
double stats_median_distance(const double *x, long n, int d);
// Unbiased MMD^2 between x (n, d) and y (m, d), n, m >= 2, with the kernel
// k(a, b) = exp(-|a - b|^2 / (2 bw^2)):
//   sum_{i!=j} k(x_i, x_j) / (n (n-1)) + sum_{i!=j} k(y_i, y_j) / (m (m-1)) - 2 sum_ij k(x_i, y_j) / (n m).
// Can be slightly negative when the two samples come from one distribution.
// KAD (kadtk) is 100 times this, with bw the median distance of the reference set.
double stats_mmd2(const double *x, long n, const double *y, long m, int d, double bw);
// The same, prepared for a bootstrap over y's groups with x held fixed: the
// kernel sums by group pair, so a resample costs O(groups^2), not O((n + m)^2 d).
typedef struct {
    int ng;
    long n;
    double kxx;        // mean of k(x_i, x_j) over i != j
    double *kyy;       // (ng, ng) sum of k(y_i, y_j) over y_i in group a, y_j in group b (i = j included)
    double *kxy;       // (ng) sum of k(x_i, y_j) over all x_i and the y_j of the group
    long *cnt;         // (ng) rows of y in each group
} MmdGroups;
// group (m): y's rows' groups, 0 .. ng - 1. Returns 0, or -1 with err_set().
int stats_mmd2_groups(MmdGroups *g, const double *x, long n, const double *y, long m, const int *group, int ng,
                      int d, double bw);
// MMD^2 of x against y with group a taken mult[a] times (all 1: stats_mmd2's value).
// NAN when fewer than 2 rows are taken.
double stats_mmd2_resampled(const MmdGroups *g, const int *mult);
void stats_mmd2_groups_free(MmdGroups *g);

// ---- bootstrap -------------------------------------------------------------------------------
// The statistic of one resample: idx (n) are the drawn indices (with repeats).
typedef double (*BootStat)(void *ctx, const int *idx, int n);
// Percentile bootstrap: reps resamples of n indices drawn with replacement (an
// Rng seeded with seed; idx[j] = rng_u64 % n, in order), the statistic of each,
// and the 95% interval [v(floor(0.025 reps)), v(floor(0.975 reps) - 1)] of the
// sorted values (NAN sorts last). n >= 1, reps >= 1.
void stats_bootstrap95(BootStat f, void *ctx, int n, int reps, uint64_t seed, double *lo, double *hi);
// A BootStat: FD of fs against ref with each row weighted by how often its group (song)
// was drawn; w (fs->n) and mult (ng) are scratch. NAN when the fit fails.
typedef struct { const FeatureSet *fs; const GaussFit *ref; int ng; double *w; int *mult; } FdResample;
double stats_fd_resample(void *ctx, const int *idx, int n);
// The basic (pivotal) interval from a percentile one of the estimate est, in place:
// [2 est - hi, 2 est - lo]. For a statistic that leans with the sample's size, as FD
// and a KAD of few songs do (a resample holds about 63% distinct songs, so it leans
// more than the estimate), the percentile interval sits on the lean's side of the
// estimate; the basic one turns the lean around and covers the many-songs value
// (Davison & Hinkley 1997, 5.2). Either bound NAN: both NAN.
void stats_basic95(double est, double *lo, double *hi);

#endif
