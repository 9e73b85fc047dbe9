// baseline.c — the linear baselines the autoencoder is judged against
// (issue 5): average pooling of 4 mel frames, then PCA to Z components fitted
// on the training split; reconstruction maps back with the same components and
// repeats each pooled frame 4 times. Same size as the autoencoder's latent
// (Z numbers per 4 frames). Covariance in double; eigenvectors by the cyclic
// Jacobi method (no LAPACK). It owns nothing else.
#include "autoencoder/autoencoder.h"
#include "audio/audio.h"
#include "util/stats.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
