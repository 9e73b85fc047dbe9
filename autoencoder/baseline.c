// baseline.c — the linear baselines the autoencoder is judged against
// (issue 5): average pooling of 4 mel frames, then PCA to Z components fitted
// on the training split; reconstruction maps back with the same components and
// repeats each pooled frame 4 times. Same size as the autoencoder's latent
// (Z numbers per 4 frames). Covariance in double; eigenvectors by the cyclic
// Jacobi method (no LAPACK). It owns nothing else.
#include "autoencoder/autoencoder.h"
#include "audio/audio.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

// Group j of logmel (T, M): frames [4j, 4j+4) ∩ [0, T) averaged (pooled, D = M)
// or side by side (stacked, D = 4M, frames past the end repeat the last one).
static void group(double *p, const float *logmel, long T, int M, long j, int stacked) {
    long a = j * AE_DOWN, b = a + AE_DOWN < T ? a + AE_DOWN : T;
    if (stacked) {
        for (int k = 0; k < AE_DOWN; k++) {
            long t = a + k < T ? a + k : T - 1;
            for (int m = 0; m < M; m++) p[k * M + m] = logmel[t * M + m];
        }
        return;
    }
    for (int k = 0; k < M; k++) p[k] = 0;
    for (long t = a; t < b; t++)
        for (int k = 0; k < M; k++) p[k] += logmel[t * M + k];
    for (int k = 0; k < M; k++) p[k] /= (double)(b - a);
}

int pca_fit(PcaBaseline *b, const SongSet *tr, int Z, int stacked, int every) {
    int M = N_MELS, D = stacked ? AE_DOWN * M : M;
    memset(b, 0, sizeof *b);
    if (Z < 1 || Z > D) return err_set("pca baseline: %d components out of range 1..%d", Z, D);
    if (every < 1) every = 1;
    b->M = M; b->Z = Z; b->D = D; b->stacked = stacked;
    b->mean = callocCheck(D, sizeof(double));
    b->comp = callocCheck((size_t)Z * D, sizeof(double));
    b->eval = callocCheck(D, sizeof(double));
    double *S = callocCheck((size_t)D * D, sizeof(double)), *p = mallocCheck(sizeof(double) * D);
    long n = 0;
    for (int s = 0; s < tr->n; s++)   // mean
        for (long j = 0; j < ae_latent_frames(tr->songs[s].meta.n_frames); j += every, n++) {
            group(p, tr->songs[s].mel, tr->songs[s].meta.n_frames, M, j, stacked);
            for (int k = 0; k < D; k++) b->mean[k] += p[k];
        }
    for (int k = 0; k < D; k++) b->mean[k] /= (double)n;
    for (int s = 0; s < tr->n; s++)   // covariance (upper triangle)
        for (long j = 0; j < ae_latent_frames(tr->songs[s].meta.n_frames); j += every) {
            group(p, tr->songs[s].mel, tr->songs[s].meta.n_frames, M, j, stacked);
            for (int k = 0; k < D; k++) p[k] -= b->mean[k];
            for (int k = 0; k < D; k++) {
                double pk = p[k];
                double *row = S + (long)k * D;
                for (int l = k; l < D; l++) row[l] += pk * p[l];
            }
        }
    for (int k = 0; k < D; k++)
        for (int l = k; l < D; l++) { S[k * D + l] /= (double)n; S[l * D + k] = S[k * D + l]; }
    double *V = mallocCheck(sizeof(double) * D * D);
    jacobi_eigen(S, D, b->eval, V);
    memcpy(b->comp, V, sizeof(double) * Z * D);
    free(V); free(S); free(p);
    return 0;
}

void pca_reconstruct(const PcaBaseline *b, const float *logmel, long T, float *out) {
    int M = b->M, Z = b->Z, D = b->D;
    double *p = mallocCheck(sizeof(double) * D), *r = mallocCheck(sizeof(double) * D),
           *c = mallocCheck(sizeof(double) * Z);
    for (long j = 0; j < ae_latent_frames(T); j++) {
        group(p, logmel, T, M, j, b->stacked);
        for (int z = 0; z < Z; z++) {
            double s = 0;
            for (int k = 0; k < D; k++) s += b->comp[(long)z * D + k] * (p[k] - b->mean[k]);
            c[z] = s;
        }
        for (int k = 0; k < D; k++) {
            double s = b->mean[k];
            for (int z = 0; z < Z; z++) s += b->comp[(long)z * D + k] * c[z];
            r[k] = s;
        }
        for (long t = j * AE_DOWN; t < (j + 1) * AE_DOWN && t < T; t++)
            for (int k = 0; k < M; k++) out[t * M + k] = (float)r[b->stacked ? (t - j * AE_DOWN) * M + k : k];
    }
    free(p); free(r); free(c);
}

void pca_free(PcaBaseline *b) {
    free(b->mean); free(b->comp); free(b->eval);
    memset(b, 0, sizeof *b);
}
