#!/usr/bin/python3
# make_stats_ref.py — writes tests/data/stats_ref.bin, the reference that
# tests/test_stats.c compares util/stats.c with: Gaussian fits (np.cov), the
# Fréchet distance, the median pairwise distance and the unbiased MMD^2 with a
# Gaussian kernel (kadtk's estimator, unscaled), computed in float64 by numpy
# alone, by another route than the C code: the Fréchet distance's trace term
# from the eigenvalues of the non-symmetric product S1 S2 (FID's sqrtm(S1 S2)),
# the kernel sums from a dense distance matrix.
#
# Run: /usr/bin/python3 tests/make_stats_ref.py   (numpy only)
#
# File layout, little-endian:
#   char[8] "STATREF1"; int32 ncases
#   per case: int32 n, m, d; float64 x[n*d], y[m*d];
#             float64 mean_x[d], cov_x[d*d], fd, median_pooled, median_x, bw, mmd2
#   (bw = median_x, the bandwidth kadtk uses: the reference set's own median)
import struct

import numpy as np

rng = np.random.default_rng(20261124)


def frechet(x, y):
    mx, my = x.mean(0), y.mean(0)
    sx, sy = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    ev = np.linalg.eigvals(sx @ sy)            # eigenvalues of S1 S2 = those of S1^1/2 S2 S1^1/2, >= 0
    tr_sqrt = np.sqrt(np.clip(ev.real, 0, None)).sum()
    return float(((mx - my) ** 2).sum() + np.trace(sx) + np.trace(sy) - 2 * tr_sqrt), mx, sx


def pdist(x):
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    iu = np.triu_indices(len(x), 1)
    return np.sqrt(d2[iu])


def lower_median(v):
    v = np.sort(v)
    return float(v[(len(v) - 1) // 2])


def mmd2(x, y, bw):
    g = 1.0 / (2 * bw * bw)
    k = lambda a, b: np.exp(-g * ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


cases = []
# correlated Gaussians, different means and covariances
d = 6
A, B = rng.normal(size=(d, d)), rng.normal(size=(d, d)) * 0.5
cases.append((rng.normal(size=(200, d)) @ A.T, rng.normal(size=(150, d)) @ B.T + 0.7))
# a rank-deficient covariance (3 of 5 dimensions), against a full one: eigenvalues at the clamp
x = np.zeros((120, 5)); x[:, :3] = rng.normal(size=(120, 3))
cases.append((x, rng.normal(size=(90, 5)) * 1.3 - 0.2))
# wider, heavy-tailed (not Gaussian), an odd number of pairs
d = 16
cases.append((rng.standard_t(3, size=(101, d)), rng.standard_t(3, size=(80, d)) * 1.2 + 0.1))

out = bytearray(b"STATREF1") + struct.pack("<i", len(cases))
f64 = lambda a: np.ascontiguousarray(a, dtype="<f8").tobytes()
for x, y in cases:
    fd, mx, sx = frechet(x, y)
    med_pool = lower_median(pdist(np.vstack([x, y])))
    med_x = lower_median(pdist(x))
    out += struct.pack("<3i", len(x), len(y), x.shape[1]) + f64(x) + f64(y) + f64(mx) + f64(sx)
    out += struct.pack("<5d", fd, med_pool, med_x, med_x, mmd2(x, y, med_x))
    print(f"n {len(x)} m {len(y)} d {x.shape[1]}: fd {fd:.6f} median pooled {med_pool:.6f} x {med_x:.6f} "
          f"mmd2 {mmd2(x, y, med_x):.6e}")
open("tests/data/stats_ref.bin", "wb").write(bytes(out))
print(f"wrote tests/data/stats_ref.bin ({len(out)} bytes)")
