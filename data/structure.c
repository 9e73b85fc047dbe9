// structure.c — the structure measures of data/structure.h: chroma and timbre
// features from the log-mel, best-aligned section-pair similarity, the
// same-label gap and AUC, MusDr's structureness indicator, similarity
// against distance, their text, JSON and PNG, the summary over songs with
// bootstrap intervals, and the reference run over the corpus.
// It owns no segmentation (analyze.c) and no corpus files (shards.c).
//
// Legend: T log-mel frames (or feature frames where said), M = N_MELS,
// F = N_BINS, Q = 12 pitch classes, N frames of MusDr's 2 Hz SSM.
#include "data/structure.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "audio/audio.h"
#include "data/analyze.h"
#include "util/stats.h"
#include "util/util.h"

const char *const SIM_NAME[SIM_KINDS] = {"chroma", "timbre", "combined"};
const char *const SI_NAME[SI_KINDS] = {"SI(3,8)", "SI(8,15)", "SI(15,128)"};
static const double SI_LO[SI_KINDS] = {3, 8, 15}, SI_HI[SI_KINDS] = {8, 15, 128};

void structure_defaults(StructureOpts *o) {
    o->max_lag_s = 2.0;
    o->min_overlap = 0.5;
    o->min_section_s = 1.0;
    o->curve_bin_s = 5.0;
    o->curve_max_s = 120.0;
    o->structureness = 1;
    o->keep_ssm = 0;
}

// ---- chroma from the log-mel ----------------------------------------------------------
// W (Q, M): the share of band m's triangle (over STFT bins) that the
// analyzer's chroma filterbank gives pitch class q; zero for bands wider than
// STRUCT_CHROMA_MAX_ST semitones. inv_h (M): 1 / the band's peak weight, which
// turns a Slaney band value (a mean of magnitude under a unit-area triangle)
// back into the magnitude of a sinusoid at the band's centre.
typedef struct {
    float W[STRUCT_CHROMA * N_MELS];
    float inv_h[N_MELS];
} ChromaMap;

static void chroma_map(ChromaMap *cm) {
    const float *fb = mel_fb();
    float *cb = mallocCheck(sizeof(float) * STRUCT_CHROMA * N_BINS);   // (Q, F)
    chroma_filterbank(cb);
    memset(cm, 0, sizeof *cm);
    for (int m = 0; m < N_MELS; m++) {
        const float *row = fb + m * N_BINS;
        int i0 = -1, i1 = -1;
        double sum = 0, h = 0;
        for (int f = 0; f < N_BINS; f++)
            if (row[f] > 0) {
                if (i0 < 0) i0 = f;
                i1 = f;
                sum += row[f];
                if (row[f] > h) h = row[f];
            }
        if (i0 < 1 || h <= 0) continue;
        cm->inv_h[m] = (float)(1.0 / h);
        double span = 12.0 * log2((i1 + 1.0) / (i0 - 1.0));   // the triangle's zeros lie outside its nonzero bins
        if (span > STRUCT_CHROMA_MAX_ST) continue;
        for (int q = 0; q < STRUCT_CHROMA; q++) {
            double s = 0;
            for (int f = i0; f <= i1; f++) s += row[f] * cb[q * N_BINS + f];
            cm->W[q * N_MELS + m] = (float)(s / sum);
        }
    }
    free(cb);
}

static void chroma_of(float *c, const float *lm, const ChromaMap *cm) {
    float p[N_MELS];
    for (int m = 0; m < N_MELS; m++) {
        float a = expf(lm[m]) - LOG_FLOOR;   // silence (the floor) is no pitch
        a = a > 0 ? a * cm->inv_h[m] : 0.0f;
        p[m] = a * a;
    }
    for (int q = 0; q < STRUCT_CHROMA; q++) {
        double s = 0;
        for (int m = 0; m < N_MELS; m++) s += cm->W[q * N_MELS + m] * p[m];
        c[q] = (float)s;
    }
}

void structure_chroma_frame(float *chroma, const float *logmel_frame) {
    ChromaMap cm;
    chroma_map(&cm);
    chroma_of(chroma, logmel_frame, &cm);
}

// ---- features -------------------------------------------------------------------------
void structure_features_free(StructureFeatures *f) {
    if (!f) return;
    free(f->chroma);
    free(f->timbre);
    memset(f, 0, sizeof *f);
}

int structure_features(StructureFeatures *f, const float *logmel, long T) {
    memset(f, 0, sizeof *f);
    if (!logmel || T < STRUCT_HOP_MELS)
        return err_set("structure: %ld log-mel frames, need at least %d (0.19 s)", T, STRUCT_HOP_MELS);
    const int P = STRUCT_HOP_MELS, Q = STRUCT_CHROMA, D = STRUCT_TIMBRE;
    long Tf = (T + P - 1) / P;
    f->T = Tf;
    f->rate = (double)SAMPLE_RATE / (HOP * P);
    f->chroma = callocCheck((size_t)Tf * Q, sizeof(float));   // (Tf, Q)
    f->timbre = callocCheck((size_t)Tf * D, sizeof(float));   // (Tf, D)
    ChromaMap *cm = mallocCheck(sizeof *cm);
    chroma_map(cm);
    float sum[N_MELS], c[STRUCT_CHROMA];
    for (long k = 0; k < Tf; k++) {
        long t0 = k * P, t1 = t0 + P < T ? t0 + P : T;
        double acc[STRUCT_CHROMA] = {0};
        memset(sum, 0, sizeof sum);
        for (long t = t0; t < t1; t++) {
            const float *lm = logmel + t * N_MELS;
            for (int m = 0; m < N_MELS; m++) sum[m] += lm[m];
            chroma_of(c, lm, cm);
            for (int q = 0; q < Q; q++) acc[q] += c[q];
        }
        double nn = 0;
        for (int q = 0; q < Q; q++) nn += acc[q] * acc[q];
        nn = sqrt(nn);
        for (int q = 0; q < Q; q++) f->chroma[k * Q + q] = nn > 1e-30 ? (float)(acc[q] / nn) : 0.0f;
        for (int d = 0; d < D; d++) f->timbre[k * D + d] = (float)logmel_dct(sum, (int)(t1 - t0), d + 1);
    }
    free(cm);
    // centre chroma over the song; standardise each timbre coefficient
    for (int q = 0; q < Q; q++) {
        double mu = 0;
        for (long k = 0; k < Tf; k++) mu += f->chroma[k * Q + q];
        mu /= Tf;
        for (long k = 0; k < Tf; k++) f->chroma[k * Q + q] = (float)(f->chroma[k * Q + q] - mu);
    }
    for (int d = 0; d < D; d++) {
        double mu = 0, var = 0;
        for (long k = 0; k < Tf; k++) mu += f->timbre[k * D + d];
        mu /= Tf;
        for (long k = 0; k < Tf; k++) { double v = f->timbre[k * D + d] - mu; var += v * v; }
        double sd = sqrt(var / Tf) + 1e-6;
        for (long k = 0; k < Tf; k++) f->timbre[k * D + d] = (float)((f->timbre[k * D + d] - mu) / sd);
    }
    return 0;
}

// cos(u, v) = u.v / sqrt(|u|^2 |v|^2) in double: exactly 1 for u == v, exactly
// symmetric, 0 when either is 0.
static double cosd(const float *u, const float *v, int D) {
    double uv = 0, uu = 0, vv = 0;
    for (int i = 0; i < D; i++) {
        uv += (double)u[i] * v[i];
        uu += (double)u[i] * u[i];
        vv += (double)v[i] * v[i];
    }
    double den = uu * vv;
    return den > 0 ? uv / sqrt(den) : 0.0;
}

int structure_pair_similarity(float sim[SIM_KINDS], int *lag, const StructureFeatures *f, long a0, long a1,
                              long b0, long b1, int max_lag, double min_overlap) {
    long La = a1 - a0, Lb = b1 - b0, Lmin = La < Lb ? La : Lb;
    long need = (long)ceil(min_overlap * Lmin);
    if (need < 1) need = 1;
    double best[SIM_KINDS] = {-INFINITY, -INFINITY, -INFINITY};
    int best_lag = 0, any = 0;
    for (int l = -max_lag; l <= max_lag; l++) {
        long k0 = l < 0 ? -l : 0, k1 = La < Lb - l ? La : Lb - l;   // k in [k0, k1): a_k and b_{k+l}
        if (k1 - k0 < need) continue;
        double sc = 0, st = 0;
        for (long k = k0; k < k1; k++) {
            sc += cosd(f->chroma + (a0 + k) * STRUCT_CHROMA, f->chroma + (b0 + k + l) * STRUCT_CHROMA, STRUCT_CHROMA);
            st += cosd(f->timbre + (a0 + k) * STRUCT_TIMBRE, f->timbre + (b0 + k + l) * STRUCT_TIMBRE, STRUCT_TIMBRE);
        }
        sc /= (double)(k1 - k0);
        st /= (double)(k1 - k0);
        double cb = 0.5 * (sc + st);
        any = 1;
        if (sc > best[SIM_CHROMA]) best[SIM_CHROMA] = sc;
        if (st > best[SIM_TIMBRE]) best[SIM_TIMBRE] = st;
        // ties keep the smallest |lag| (then the negative one, found first)
        if (cb > best[SIM_COMBINED] || (cb == best[SIM_COMBINED] && abs(l) < abs(best_lag))) {
            best[SIM_COMBINED] = cb;
            best_lag = l;
        }
    }
    if (!any) return -1;
    for (int s = 0; s < SIM_KINDS; s++) sim[s] = (float)best[s];
    *lag = best_lag;
    return 0;
}

double structure_auc(const double *pos, int npos, const double *neg, int nneg) {
    if (npos <= 0 || nneg <= 0) return NAN;
    double u = 0;
    for (int i = 0; i < npos; i++)
        for (int j = 0; j < nneg; j++) u += pos[i] > neg[j] ? 1.0 : pos[i] == neg[j] ? 0.5 : 0.0;
    return u / ((double)npos * nneg);
}

// ---- MusDr's SSM ---------------------------------------------------------------------------
// Chroma at 10 Hz -> 2 Hz, as MusDr's compute_SM_from_filename: X (N, Q).
static double *musdr_chroma(int *N, const float *logmel, long T) {
    // 10 Hz frame k (centred at k/10 s like librosa's centred frames) pools the
    // log-mel frames t whose centre t*HOP/SR lies in [k/10 - 0.05, k/10 + 0.05)
    long K = ((T - 1) * HOP * 20 / SAMPLE_RATE + 1) / 2 + 1;
    double *c10 = callocCheck((size_t)K * STRUCT_CHROMA, sizeof(double));   // (K, Q)
    ChromaMap *cm = mallocCheck(sizeof *cm);
    chroma_map(cm);
    float c[STRUCT_CHROMA];
    for (long t = 0; t < T; t++) {
        long k = (t * HOP * 20 / SAMPLE_RATE + 1) / 2;
        chroma_of(c, logmel + t * N_MELS, cm);
        for (int q = 0; q < STRUCT_CHROMA; q++) c10[k * STRUCT_CHROMA + q] += c[q];
    }
    free(cm);
    for (long k = 0; k < K; k++) {   // librosa chroma_stft norm=2: tiny norms left as they are
        double nn = 0;
        for (int q = 0; q < STRUCT_CHROMA; q++) nn += c10[k * STRUCT_CHROMA + q] * c10[k * STRUCT_CHROMA + q];
        nn = sqrt(nn);
        if (nn >= FLT_MIN)
            for (int q = 0; q < STRUCT_CHROMA; q++) c10[k * STRUCT_CHROMA + q] /= nn;
    }
    // boxcar of 21 frames ('same' convolution, zeros outside) / 21, every 5th frame, L2 (threshold 0.001)
    int n = (int)((K + 4) / 5);
    double *X = callocCheck((size_t)n * STRUCT_CHROMA, sizeof(double));
    for (int i = 0; i < n; i++) {
        long k = 5L * i;
        double *x = X + (size_t)i * STRUCT_CHROMA, nn = 0;
        for (long d = -10; d <= 10; d++)
            if (k + d >= 0 && k + d < K)
                for (int q = 0; q < STRUCT_CHROMA; q++) x[q] += c10[(k + d) * STRUCT_CHROMA + q];
        for (int q = 0; q < STRUCT_CHROMA; q++) { x[q] /= 21.0; nn += x[q] * x[q]; }
        nn = sqrt(nn);
        for (int q = 0; q < STRUCT_CHROMA; q++) x[q] = nn > 0.001 ? x[q] / nn : 1.0 / sqrt(12.0);
    }
    free(c10);
    *N = n;
    return X;
}

// MusDr's filter_diag_mult_SM for a square S (N, N): mean over L cells along
// the diagonal (forward: i+p, j+p; backward: i-p, j-p; zeros outside) of S
// with its columns resampled to each relative tempo, resampled back; the max
// over tempi (and over 0) is max-ed into out.
static void diag_filter_max(double *out, const double *S, int N, int L, const double *tempi, int ntempi, int backward) {
    double *fin = callocCheck((size_t)N * N, sizeof(double));   // S_L_final starts at zeros
    for (int s = 0; s < ntempi; s++) {
        int Mc = (int)ceil(N / tempi[s]);
        int *i1 = mallocCheck(sizeof(int) * Mc), *i2 = mallocCheck(sizeof(int) * N);
        for (int c = 0; c < Mc; c++) {
            double v = rint((double)(c + 1) / Mc * N) - 1;   // np.around: half to even
            i1[c] = v < 0 ? 0 : (int)v;
        }
        for (int j = 0; j < N; j++) {
            double v = rint((double)(j + 1) / N * Mc) - 1;
            i2[j] = v < 0 ? 0 : (int)v;
        }
        double *SL = callocCheck((size_t)N * Mc, sizeof(double));   // (N, Mc)
        for (int i = 0; i < N; i++)
            for (int c = 0; c < Mc; c++) {
                double acc = 0;
                for (int p = 0; p < L; p++) {
                    int ii = backward ? i - p : i + p, cc = backward ? c - p : c + p;
                    if (ii < 0 || cc < 0 || ii >= N || cc >= Mc) break;
                    acc += S[(size_t)ii * N + i1[cc]];
                }
                SL[(size_t)i * Mc + c] = acc / L;
            }
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double v = SL[(size_t)i * Mc + i2[j]];
                if (v > fin[(size_t)i * N + j]) fin[(size_t)i * N + j] = v;
            }
        free(SL); free(i1); free(i2);
    }
    for (size_t k = 0; k < (size_t)N * N; k++) if (fin[k] > out[k]) out[k] = fin[k];
    free(fin);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int structure_musdr_ssm(double **Sout, int *Nout, const float *logmel, long T) {
    *Sout = NULL;
    *Nout = 0;
    if (!logmel || T < 2) return err_set("structure: too little log-mel for a self-similarity matrix (%ld frames)", T);
    int N;
    double *X = musdr_chroma(&N, logmel, T);   // (N, Q)
    const int Q = STRUCT_CHROMA, L = 16;
    double tempi[7];
    {   // compute_tempo_rel_set(0.5, 2, 7): exp(linspace(log 0.5, log 2, 7))
        double a = log(0.5), b = log(2.0), step = (b - a) / 6;
        for (int i = 0; i < 7; i++) tempi[i] = exp(i == 6 ? b : i * step + a);
    }
    double *S = callocCheck((size_t)N * N, sizeof(double));    // S_TI
    double *Sc = mallocCheck(sizeof(double) * N * N), *Sd = mallocCheck(sizeof(double) * N * N);
    for (int shift = 0; shift < Q; shift++) {
        // S_cyc[i][j] = sum_q X[i][(q - shift) mod Q] X[j][q]
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double acc = 0;
                for (int q = 0; q < Q; q++) acc += X[(size_t)i * Q + ((q - shift) % Q + Q) % Q] * X[(size_t)j * Q + q];
                Sc[(size_t)i * N + j] = acc;
            }
        memset(Sd, 0, sizeof(double) * N * N);
        diag_filter_max(Sd, Sc, N, L, tempi, 7, 0);
        diag_filter_max(Sd, Sc, N, L, tempi, 7, 1);   // max(forward, backward); both >= 0
        for (size_t k = 0; k < (size_t)N * N; k++)
            if (shift == 0 || Sd[k] > S[k]) S[k] = Sd[k];
    }
    free(Sc); free(X);
    // threshold_matrix(relative 0.25, scale, penalty -2)
    size_t NN = (size_t)N * N;
    memcpy(Sd, S, sizeof(double) * NN);
    qsort(Sd, NN, sizeof(double), cmp_dbl);
    size_t below = (size_t)rint(NN * (1 - 0.25));
    if (below < NN) {
        double thr = Sd[below];
        for (size_t k = 0; k < NN; k++) if (S[k] < thr) S[k] = 0;
    } else {
        memset(S, 0, sizeof(double) * NN);
    }
    free(Sd);
    double mn = INFINITY, mx = -INFINITY;
    for (size_t k = 0; k < NN; k++) {
        if (S[k] > 0 && S[k] < mn) mn = S[k];
        if (S[k] > mx) mx = S[k];
    }
    if (!isfinite(mn)) mn = 0;
    if (mx > mn)
        for (size_t k = 0; k < NN; k++) S[k] = S[k] == 0 ? -2.0 : (S[k] - mn) / (mx - mn);
    for (int i = 0; i < N; i++) S[(size_t)i * N + i] = 1.0;   // normalization_properties_SSM
    *Sout = S;
    *Nout = N;
    return 0;
}

// ---- fitness (Mueller's FMP C4S3, as MusDr ships it) ---------------------------------------------
// D (N, M) with M = len + 1: column 0 the elevator, column m the segment's frame m - 1.
static double accumulate(double *D, const double *S, int N, int start, int len) {
    const int M = len + 1;
    for (int m = 0; m < M; m++) D[m] = -INFINITY;
    D[0] = 0;
    D[1] = S[start];
    for (int n = 1; n < N; n++) {
        double *d = D + (size_t)n * M;
        const double *p1 = d - M, *p2 = n >= 2 ? d - 2 * M : NULL;   // D[n-2] of n = 1 is -inf
        const double *s = S + (size_t)n * N + start - 1;               // s[m] = S_seg[n][m-1]
        d[0] = p1[0] > p1[M - 1] ? p1[0] : p1[M - 1];
        d[1] = d[0] + s[1];
        if (p2) {
#pragma omp simd
            for (int m = 2; m < M; m++) {
                double a = p1[m - 1], b = p1[m - 2], c = p2[m - 1];
                double x = a > b ? a : b;
                x = x > c ? x : c;
                d[m] = s[m] + x;
            }
        } else {
            for (int m = 2; m < M; m++) {
                double a = p1[m - 1], b = p1[m - 2];
                d[m] = s[m] + (a > b ? a : b);
            }
        }
    }
    const double *last = D + (size_t)(N - 1) * M;
    return last[0] > last[M - 1] ? last[0] : last[M - 1];
}

// compute_optimal_path_family + compute_fitness, keeping only what the fitness reads.
static double fitness_from(const double *D, double score, int N, int len, double *score_n, double *coverage_n) {
    const int M = len + 1;
    int n = N - 1, m;
    long points = 0, coverage = 0;
    int paths = 0, cur_len = 0, cur_end_n = 0, cur_start_n = 0, first_end_m = 0;
#define DD(a, b) D[(size_t)(a) * M + (b)]
#define ADD_POINT(pn, pm) do { if (cur_len == 0) { cur_end_n = (pn); first_end_m = (pm); } \
                               cur_start_n = (pn); cur_len++; points++; } while (0)
#define CLOSE_PATH() do { if (cur_len > 0) { coverage += cur_end_n - cur_start_n + 1; paths++; } cur_len = 0; } while (0)
    if (DD(n, M - 1) < DD(n, 0)) m = 0;
    else { m = M - 1; ADD_POINT(N - 1, M - 2); }
    int cn = n, cm = m;   // `cell`, kept across iterations as in the Python
    while (n > 0 || m > 0) {
        if (n == 0) { cn = 0; cm = m - 1; }
        else if (m == 0) {
            if (DD(n - 1, M - 1) > DD(n - 1, 0)) {
                cn = n - 1; cm = M - 1;
                CLOSE_PATH();
                ADD_POINT(n - 1, M - 2);
            } else { cn = n - 1; cm = 0; }
        } else if (m == 1) { cn = n; cm = 0; }
        else {
            int pn[3], pm[3], np = 0;
            pn[np] = n - 1; pm[np++] = m - 1;
            if (n > 2) { pn[np] = n - 2; pm[np++] = m - 1; }
            if (m > 2) { pn[np] = n - 1; pm[np++] = m - 2; }
            double best = -INFINITY;
            for (int i = 0; i < np; i++)
                if (best < DD(pn[i], pm[i])) { best = DD(pn[i], pm[i]); cn = pn[i]; cm = pm[i]; }
            ADD_POINT(cn, cm - 1);
        }
        n = cn; m = cm;
    }
    // the last path closed is the earliest in time: path_family[0]; its last point is its first added
    int first_m = first_end_m;
    CLOSE_PATH();
#undef DD
#undef ADD_POINT
#undef CLOSE_PATH
    if (paths == 0) {   // cannot happen with S(n, n) = 1 (MusDr would raise); say 0
        if (score_n) *score_n = 0;
        if (coverage_n) *coverage_n = 0;
        return 0;
    }
    const double eps = 1e-16;
    double Mf = first_m + 1;
    double sn = (score - Mf) / ((double)points + eps);
    double cv = ((double)coverage - Mf) / (N + eps);
    if (score_n) *score_n = sn;
    if (coverage_n) *coverage_n = cv;
    return 2 * sn * cv / (sn + cv + eps);
}

double structure_segment_fitness(const double *S, int N, int start, int len, double *score_n, double *coverage_n) {
    double *D = mallocCheck(sizeof(double) * (size_t)N * (len + 1));
    double score = accumulate(D, S, N, start, len);
    double f = fitness_from(D, score, N, len, score_n, coverage_n);
    free(D);
    return f;
}

void structure_fitness_rowmax(double *rowmax, const double *S, int N, int lmin, int lmax) {
    if (lmax > N) lmax = N;
    if (lmin < 1) lmin = 1;
    for (int l = 1; l <= lmax; l++) rowmax[l - 1] = -INFINITY;
    if (lmin > lmax) return;
    double *D = mallocCheck(sizeof(double) * (size_t)N * (lmax + 1));
    for (int len = lmin; len <= lmax; len++)
        for (int start = 0; start + len <= N; start++) {
            double score = accumulate(D, S, N, start, len);
            double f = fitness_from(D, score, N, len, NULL, NULL);
            if (f > rowmax[len - 1]) rowmax[len - 1] = f;
        }
    free(D);
}

int structure_si(double si[SI_KINDS], const float *logmel, long T) {
    double *S;
    int N;
    for (int k = 0; k < SI_KINDS; k++) si[k] = NAN;
    if (structure_musdr_ssm(&S, &N, logmel, T)) return -1;
    // MusDr: rows int(lo * 2) - 1 .. int(hi * 2) - 1 of the length-minus-one axis
    int lmin = STRUCT_SI_MAX_LEN, lmax = 1;
    for (int k = 0; k < SI_KINDS; k++) {
        int lo = (int)(SI_LO[k] * STRUCT_SI_RATE), hi = (int)(SI_HI[k] * STRUCT_SI_RATE);
        if (lo < lmin) lmin = lo;
        if (hi > lmax) lmax = hi;
    }
    if (lmax > N) lmax = N;
    double *rowmax = mallocCheck(sizeof(double) * (STRUCT_SI_MAX_LEN + 1));
    structure_fitness_rowmax(rowmax, S, N, lmin, lmax);
    for (int k = 0; k < SI_KINDS; k++) {
        int lo = (int)(SI_LO[k] * STRUCT_SI_RATE), hi = (int)(SI_HI[k] * STRUCT_SI_RATE);
        double v = 0;   // rows of length >= 2 hold zeros past the last start
        for (int l = lo; l <= hi && l <= N; l++) if (rowmax[l - 1] > v) v = rowmax[l - 1];
        si[k] = v;
    }
    free(rowmax);
    free(S);
    return 0;
}

// ---- one song ---------------------------------------------------------------------------------------
void structure_result_free(StructureResult *r) {
    if (!r) return;
    free(r->pairs);
    free(r->curve);
    free(r->ssm);
    memset(r, 0, sizeof *r);
}

// Frame self-similarity: unit rows of chroma and timbre, (cos + cos) / 2,
// binned by distance (and kept whole when ssm != NULL).
static void frame_similarity(StructureResult *r, const StructureFeatures *f, float *ssm) {
    long T = f->T;
    float *uc = mallocCheck(sizeof(float) * T * STRUCT_CHROMA), *ut = mallocCheck(sizeof(float) * T * STRUCT_TIMBRE);
    for (long k = 0; k < T; k++) {
        const float *c = f->chroma + k * STRUCT_CHROMA, *t = f->timbre + k * STRUCT_TIMBRE;
        double nc = 0, nt = 0;
        for (int q = 0; q < STRUCT_CHROMA; q++) nc += (double)c[q] * c[q];
        for (int d = 0; d < STRUCT_TIMBRE; d++) nt += (double)t[d] * t[d];
        nc = nc > 0 ? 1 / sqrt(nc) : 0;
        nt = nt > 0 ? 1 / sqrt(nt) : 0;
        for (int q = 0; q < STRUCT_CHROMA; q++) uc[k * STRUCT_CHROMA + q] = (float)(c[q] * nc);
        for (int d = 0; d < STRUCT_TIMBRE; d++) ut[k * STRUCT_TIMBRE + d] = (float)(t[d] * nt);
    }
    double *sum = callocCheck(r->n_bins ? r->n_bins : 1, sizeof(double));
    long *cnt = callocCheck(r->n_bins ? r->n_bins : 1, sizeof(long));
    for (long i = 0; i < T; i++) {
        const float *ci = uc + i * STRUCT_CHROMA, *ti = ut + i * STRUCT_TIMBRE;
        for (long j = ssm ? 0 : i + 1; j < T; j++) {
            const float *cj = uc + j * STRUCT_CHROMA, *tj = ut + j * STRUCT_TIMBRE;
            float sc = 0, st = 0;
            for (int q = 0; q < STRUCT_CHROMA; q++) sc += ci[q] * cj[q];
            for (int d = 0; d < STRUCT_TIMBRE; d++) st += ti[d] * tj[d];
            float s = 0.5f * (sc + st);
            if (ssm) ssm[i * T + j] = s;
            if (j <= i) continue;
            long b = (long)((j - i) / f->rate / r->bin_s);
            if (b < r->n_bins) { sum[b] += s; cnt[b]++; }
        }
    }
    for (int b = 0; b < r->n_bins; b++) r->curve[b] = cnt[b] ? sum[b] / cnt[b] : NAN;
    free(sum); free(cnt); free(uc); free(ut);
}

int structure_check_form(const SongForm *form, double duration) {
    if (!form || form->n <= 0) return err_set("structure: the song has no sections");
    for (int i = 0; i < form->n; i++) {
        const SongSection *s = &form->sections[i];
        if (!(s->start >= 0 && s->end > s->start))
            return err_set("structure: section %d (%s) spans %.3f-%.3f s", i, s->label, s->start, s->end);
        if (s->end > duration + 0.05)
            return err_set("structure: section %d (%s) ends at %.2f s, past the end of the audio (%.2f s)", i, s->label,
                           s->end, duration);
    }
    return 0;
}

int structure_measure(StructureResult *r, const float *logmel, long T, const SongForm *form,
                      const StructureOpts *opts) {
    StructureOpts o;
    if (opts) o = *opts; else structure_defaults(&o);
    memset(r, 0, sizeof *r);
    if (!(o.max_lag_s >= 0 && o.max_lag_s <= 60)) return err_set("structure: max_lag_s %g out of range [0, 60]", o.max_lag_s);
    if (!(o.min_overlap > 0 && o.min_overlap <= 1)) return err_set("structure: min_overlap %g out of range (0, 1]", o.min_overlap);
    if (!(o.curve_bin_s > 0) || !(o.curve_max_s >= o.curve_bin_s))
        return err_set("structure: curve bins %g s up to %g s make no curve", o.curve_bin_s, o.curve_max_s);
    double dur = (double)T * HOP / SAMPLE_RATE;   // a corpus song's last section ends here
    if (structure_check_form(form, dur)) return -1;
    StructureFeatures f;
    if (structure_features(&f, logmel, T)) return -1;
    r->n_sections = form->n;
    r->duration = dur;
    r->T = f.T;
    r->frame_s = 1.0 / f.rate;
    for (int s = 0; s < SIM_KINDS; s++) r->same_mean[s] = r->diff_mean[s] = r->gap[s] = r->auc[s] = NAN;
    for (int s = 0; s < SI_KINDS; s++) r->si[s] = NAN;

    // sections on feature frames
    long *a0 = mallocCheck(sizeof(long) * form->n), *a1 = mallocCheck(sizeof(long) * form->n);
    int *use = callocCheck(form->n, sizeof(int));
    for (int i = 0; i < form->n; i++) {
        const SongSection *s = &form->sections[i];
        a0[i] = (long)ceil(s->start * f.rate - 1e-6);
        a1[i] = (long)floor(s->end * f.rate + 1e-6);
        if (a1[i] > f.T) a1[i] = f.T;
        use[i] = a1[i] > a0[i] && (a1[i] - a0[i]) / f.rate >= o.min_section_s - 1e-9;
        r->n_used += use[i];
    }
    int cap = r->n_used * (r->n_used - 1) / 2;
    r->pairs = callocCheck(cap ? cap : 1, sizeof(StructurePair));
    int max_lag = (int)lround(o.max_lag_s * f.rate);
    for (int i = 0; i < form->n; i++)
        for (int j = i + 1; j < form->n; j++) {
            if (!use[i] || !use[j]) continue;
            StructurePair *p = &r->pairs[r->n_pairs];
            int lag;
            if (structure_pair_similarity(p->sim, &lag, &f, a0[i], a1[i], a0[j], a1[j], max_lag, o.min_overlap)) continue;
            p->a = i;
            p->b = j;
            p->same = strcmp(form->sections[i].label, form->sections[j].label) == 0;
            p->lag_s = (float)(lag / f.rate);
            r->n_pairs++;
            if (p->same) r->n_same++; else r->n_diff++;
        }
    free(a0); free(a1); free(use);
    double *ps = mallocCheck(sizeof(double) * (r->n_same + 1)), *pd = mallocCheck(sizeof(double) * (r->n_diff + 1));
    for (int s = 0; s < SIM_KINDS; s++) {
        int ns = 0, nd = 0;
        double ss = 0, sd = 0;
        for (int k = 0; k < r->n_pairs; k++) {
            double v = r->pairs[k].sim[s];
            if (r->pairs[k].same) { ps[ns++] = v; ss += v; } else { pd[nd++] = v; sd += v; }
        }
        if (ns) r->same_mean[s] = ss / ns;
        if (nd) r->diff_mean[s] = sd / nd;
        if (ns && nd) {
            r->gap[s] = r->same_mean[s] - r->diff_mean[s];
            r->auc[s] = structure_auc(ps, ns, pd, nd);
        }
    }
    free(ps); free(pd);

    r->bin_s = o.curve_bin_s;
    r->n_bins = (int)ceil(o.curve_max_s / o.curve_bin_s - 1e-9);
    r->curve = mallocCheck(sizeof(double) * r->n_bins);
    if (o.keep_ssm) r->ssm = mallocCheck(sizeof(float) * f.T * f.T);
    frame_similarity(r, &f, r->ssm);
    structure_features_free(&f);
    if (o.structureness && structure_si(r->si, logmel, T)) { structure_result_free(r); return -1; }
    return 0;
}

int structure_measure_audio(StructureResult *r, const float *x, long n, const SongForm *form,
                            const StructureOpts *o) {
    float *mel;
    long T;
    memset(r, 0, sizeof *r);
    if (logmel_from_audio(&mel, &T, x, n)) return -1;
    int rc = structure_measure(r, mel, T, form, o);
    free(mel);
    return rc;
}

// ---- output ---------------------------------------------------------------------------------------------
void structure_print(FILE *f, const char *name, const StructureResult *r, const SongForm *form) {
    if (name) fprintf(f, "%s: ", name);
    fprintf(f, "%d sections (%d long enough), %d pairs: %d same-label, %d different-label\n", r->n_sections,
            r->n_used, r->n_pairs, r->n_same, r->n_diff);
    fprintf(f, "%-10s %8s %8s %8s %8s\n", "", "same", "diff", "gap", "AUC");
    for (int s = 0; s < SIM_KINDS; s++)
        fprintf(f, "%-10s %8.3f %8.3f %8.3f %8.3f\n", SIM_NAME[s], r->same_mean[s], r->diff_mean[s], r->gap[s],
                r->auc[s]);
    fprintf(f, "structureness (MusDr):");
    for (int k = 0; k < SI_KINDS; k++) fprintf(f, "  %s %.3f", SI_NAME[k], r->si[k]);
    fprintf(f, "\nsimilarity by distance (s):");
    for (int b = 0; b < r->n_bins; b++)
        if (!isnan(r->curve[b])) fprintf(f, " %g:%.3f", b * r->bin_s, r->curve[b]);
    fprintf(f, "\n   a    b  %-12s %-12s same  chroma  timbre  combined  lag_s\n", "label a", "label b");
    for (int k = 0; k < r->n_pairs; k++) {
        const StructurePair *p = &r->pairs[k];
        fprintf(f, "%4d %4d  %-12s %-12s %4s  %6.3f  %6.3f  %8.3f  %5.2f\n", p->a, p->b,
                form->sections[p->a].label, form->sections[p->b].label, p->same ? "yes" : "no",
                p->sim[SIM_CHROMA], p->sim[SIM_TIMBRE], p->sim[SIM_COMBINED], p->lag_s);
    }
}

static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.4f", v); else fputs("null", f);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_kinds(FILE *f, const char *name, const double *v) {
    fprintf(f, "  \"%s\": {", name);
    for (int s = 0; s < SIM_KINDS; s++) {
        fprintf(f, "%s\"%s\": ", s ? ", " : "", SIM_NAME[s]);
        json_num(f, v[s]);
    }
    fprintf(f, "},\n");
}

int structure_write_json(FILE *f, const StructureResult *r, const SongForm *form) {
    fprintf(f, "{\n  \"sections\": %d, \"sections_used\": %d, \"pairs_same\": %d, \"pairs_different\": %d,\n",
            r->n_sections, r->n_used, r->n_same, r->n_diff);
    json_kinds(f, "same", r->same_mean);
    json_kinds(f, "different", r->diff_mean);
    json_kinds(f, "gap", r->gap);
    json_kinds(f, "auc", r->auc);
    fprintf(f, "  \"structureness\": {");
    for (int k = 0; k < SI_KINDS; k++) {
        fprintf(f, "%s\"%s\": ", k ? ", " : "", SI_NAME[k]);
        json_num(f, r->si[k]);
    }
    fprintf(f, "},\n  \"curve_bin_s\": %g, \"curve\": [", r->bin_s);
    for (int b = 0; b < r->n_bins; b++) { if (b) fputs(", ", f); json_num(f, r->curve[b]); }
    fprintf(f, "],\n  \"pairs\": [");
    for (int k = 0; k < r->n_pairs; k++) {
        const StructurePair *p = &r->pairs[k];
        fprintf(f, "%s\n    {\"a\": %d, \"b\": %d, \"label_a\": ", k ? "," : "", p->a, p->b);
        json_str(f, form->sections[p->a].label);
        fprintf(f, ", \"label_b\": ");
        json_str(f, form->sections[p->b].label);
        fprintf(f, ", \"same\": %s, \"chroma\": ", p->same ? "true" : "false");
        json_num(f, p->sim[SIM_CHROMA]);
        fprintf(f, ", \"timbre\": ");
        json_num(f, p->sim[SIM_TIMBRE]);
        fprintf(f, ", \"combined\": ");
        json_num(f, p->sim[SIM_COMBINED]);
        fprintf(f, ", \"lag_s\": %.3f}", p->lag_s);
    }
    fprintf(f, "%s]\n}\n", r->n_pairs ? "\n  " : "");
    return ferror(f) ? err_set("write error: %s", strerror(errno)) : 0;
}

int structure_ssm_png(const char *path, const StructureResult *r, const SongForm *form) {
    if (!r->ssm) return err_set("structure: no self-similarity kept (keep_ssm) to draw");
    Analysis a;
    memset(&a, 0, sizeof a);
    a.T = (int)r->T;
    a.frame_s = r->frame_s;
    a.ssm = r->ssm;
    a.form.n = form->n;
    a.form.duration = r->duration;
    a.form.sections = callocCheck(form->n, sizeof(SongSection));
    char seen[26][SONG_LABEL_MAX];
    int nseen = 0;
    for (int i = 0; i < form->n; i++) {
        a.form.sections[i] = form->sections[i];
        int k = 0;
        while (k < nseen && strcmp(seen[k], form->sections[i].label)) k++;
        if (k == nseen && nseen < 26) snprintf(seen[nseen++], SONG_LABEL_MAX, "%s", form->sections[i].label);
        snprintf(a.form.sections[i].label, SONG_LABEL_MAX, "%c", 'A' + (k < 26 ? k : 25));
    }
    int rc = analysis_ssm_png(path, &a);
    free(a.form.sections);
    return rc;
}

// ---- over songs -----------------------------------------------------------------------------------------
// The mean of the drawn songs' values (a BootStat for util/stats.h).
static double mean_of(void *ctx, const int *idx, int n) {
    const double *x = ctx;
    double s = 0;
    for (int i = 0; i < n; i++) s += x[idx[i]];
    return s / n;
}

// Mean of x[0..n) and its 95% percentile bootstrap interval (boot resamples).
static StructureInterval interval(double *x, int n, int boot, uint64_t seed) {
    StructureInterval iv = {NAN, NAN, NAN, n};
    if (n == 0) return iv;
    double m = 0;
    for (int i = 0; i < n; i++) m += x[i];
    iv.mean = m / n;
    if (n >= 2 && boot >= 1) stats_bootstrap95(mean_of, x, n, boot, seed, &iv.lo, &iv.hi);
    return iv;
}

void structure_summarize(StructureSummary *s, const StructureResult *songs, int n, int boot, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->n_songs = n;
    double *x = mallocCheck(sizeof(double) * (n + 1));
#define COLLECT(dst, expr) do { int m_ = 0;                                   \
        for (int i = 0; i < n; i++) { double v_ = (expr); if (isfinite(v_)) x[m_++] = v_; } \
        (dst) = interval(x, m_, boot, seed); } while (0)
    for (int k = 0; k < SIM_KINDS; k++) {
        COLLECT(s->gap[k], songs[i].gap[k]);
        COLLECT(s->auc[k], songs[i].auc[k]);
        COLLECT(s->same[k], songs[i].same_mean[k]);
        COLLECT(s->diff[k], songs[i].diff_mean[k]);
    }
    for (int k = 0; k < SI_KINDS; k++) COLLECT(s->si[k], songs[i].si[k]);
    int nb = 0;
    for (int i = 0; i < n; i++) if (songs[i].n_bins > nb) { nb = songs[i].n_bins; s->bin_s = songs[i].bin_s; }
    s->n_bins = nb;
    s->curve = callocCheck(nb ? nb : 1, sizeof(StructureInterval));
    for (int b = 0; b < nb; b++) COLLECT(s->curve[b], b < songs[i].n_bins ? songs[i].curve[b] : NAN);
#undef COLLECT
    free(x);
}

void structure_summary_free(StructureSummary *s) {
    if (!s) return;
    free(s->curve);
    memset(s, 0, sizeof *s);
}

static void print_iv(FILE *f, StructureInterval iv) {
    if (iv.n == 0) fprintf(f, "  %21s", "-");
    else if (isnan(iv.lo)) fprintf(f, "  %6.3f %14s", iv.mean, "");
    else fprintf(f, "  %6.3f [%6.3f, %6.3f]", iv.mean, iv.lo, iv.hi);
}

void structure_summary_print(FILE *f, const StructureSummary *s) {
    fprintf(f, "%d songs; mean over songs [95%% bootstrap interval over songs]\n", s->n_songs);
    fprintf(f, "%-10s  %21s  %21s  %21s  %21s\n", "", "same", "different", "gap", "AUC");
    for (int k = 0; k < SIM_KINDS; k++) {
        fprintf(f, "%-10s", SIM_NAME[k]);
        print_iv(f, s->same[k]); print_iv(f, s->diff[k]); print_iv(f, s->gap[k]); print_iv(f, s->auc[k]);
        fprintf(f, "   (%d songs)\n", s->gap[k].n);
    }
    fprintf(f, "structureness (MusDr):\n");
    for (int k = 0; k < SI_KINDS; k++) { fprintf(f, "  %-10s", SI_NAME[k]); print_iv(f, s->si[k]); fprintf(f, "   (%d songs)\n", s->si[k].n); }
    fprintf(f, "similarity by distance:\n");
    for (int b = 0; b < s->n_bins; b++) {
        if (s->curve[b].n == 0) continue;
        fprintf(f, "  %5g-%-5g s", b * s->bin_s, (b + 1) * s->bin_s);
        print_iv(f, s->curve[b]);
        fprintf(f, "   (%d songs)\n", s->curve[b].n);
    }
}

static void json_iv(FILE *f, StructureInterval iv) {
    fprintf(f, "{\"mean\": ");
    json_num(f, iv.mean);
    fprintf(f, ", \"lo\": ");
    json_num(f, iv.lo);
    fprintf(f, ", \"hi\": ");
    json_num(f, iv.hi);
    fprintf(f, ", \"songs\": %d}", iv.n);
}

int structure_summary_write_json(FILE *f, const StructureSummary *s) {
    fprintf(f, "{\n  \"songs\": %d,\n", s->n_songs);
    const char *names[4] = {"same", "different", "gap", "auc"};
    const StructureInterval *rows[4] = {s->same, s->diff, s->gap, s->auc};
    for (int r = 0; r < 4; r++) {
        fprintf(f, "  \"%s\": {", names[r]);
        for (int k = 0; k < SIM_KINDS; k++) {
            fprintf(f, "%s\n    \"%s\": ", k ? "," : "", SIM_NAME[k]);
            json_iv(f, rows[r][k]);
        }
        fprintf(f, "\n  },\n");
    }
    fprintf(f, "  \"structureness\": {");
    for (int k = 0; k < SI_KINDS; k++) {
        fprintf(f, "%s\n    \"%s\": ", k ? "," : "", SI_NAME[k]);
        json_iv(f, s->si[k]);
    }
    fprintf(f, "\n  },\n  \"curve_bin_s\": %g,\n  \"curve\": [", s->bin_s);
    for (int b = 0; b < s->n_bins; b++) {
        fprintf(f, "%s\n    ", b ? "," : "");
        json_iv(f, s->curve[b]);
    }
    fprintf(f, "\n  ]\n}\n");
    return ferror(f) ? err_set("write error: %s", strerror(errno)) : 0;
}

// ---- the reference over the corpus --------------------------------------------------------------------------
int structure_corpus(StructureResult **songs, CorpusSong **meta, int *n, const char *dir, int split,
                     unsigned sources, int max_songs, const StructureOpts *o) {
    *songs = NULL;
    *meta = NULL;
    *n = 0;
    SongSet set;
    if (songset_load(&set, dir, split, 0, 0)) return -1;
    StructureResult *res = callocCheck(set.n, sizeof *res);
    CorpusSong *cs = callocCheck(set.n, sizeof *cs);
    int k = 0, want = 0;
    for (int i = 0; i < set.n; i++) if (sources & (1u << set.songs[i].meta.source)) want++;
    if (max_songs > 0 && want > max_songs) want = max_songs;
    double t0 = now_seconds();
    for (int i = 0; i < set.n && k < want; i++) {
        CorpusSong *c = &set.songs[i].meta;
        if (!(sources & (1u << c->source))) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/shards/%s", dir, c->shard);
        CorpusSong full;
        float *mel = NULL;
        if (shard_read(path, &full, &mel)) goto fail;
        SongForm form = {full.sections, full.n_sections, 0, full.duration};
        int rc = structure_measure(&res[k], mel, full.n_frames, &form, o);
        free(mel);
        if (rc) {
            err_set("%s: %s", c->song, err_msg());
            corpus_song_free(&full);
            goto fail;
        }
        cs[k] = full;
        k++;
        progress("structure: %d/%d songs, %.0f s", k, want, now_seconds() - t0);
    }
    progress_done();
    songset_free(&set);
    if (k == 0) {
        free(res); free(cs);
        return err_set("no %s songs of the sources asked for in the corpus '%s'", corpus_split_name(split), dir);
    }
    *songs = res;
    *meta = cs;
    *n = k;
    return 0;
fail:
    progress_done();
    for (int i = 0; i < k; i++) { structure_result_free(&res[i]); corpus_song_free(&cs[i]); }
    free(res); free(cs);
    songset_free(&set);
    return -1;
}

unsigned structure_sources(const char *s) {
    unsigned bits = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        int k = -1;
        for (int i = 0; i < SRC_COUNT; i++)
            if (strlen(corpus_source_name(i)) == len && strncmp(s, corpus_source_name(i), len) == 0) k = i;
        if (k < 0) return 0;
        bits |= 1u << k;
        s += len + (s[len] == ',');
    }
    return bits;
}

void structure_corpus_print(FILE *f, const StructureResult *r, const CorpusSong *meta, int n) {
    fprintf(f, "%-72s %-7s %4s %5s %7s %6s %8s %8s %8s\n", "song", "source", "secs", "pairs", "gap", "AUC", SI_NAME[0],
            SI_NAME[1], SI_NAME[2]);
    for (int i = 0; i < n; i++)
        fprintf(f, "%-72s %-7s %4d %5d %7.3f %6.3f %8.3f %8.3f %8.3f\n", meta[i].song,
                corpus_source_name(meta[i].source), r[i].n_sections, r[i].n_pairs, r[i].gap[SIM_COMBINED],
                r[i].auc[SIM_COMBINED], r[i].si[SI_SHORT], r[i].si[SI_MID], r[i].si[SI_LONG]);
}

int structure_corpus_write_json(FILE *f, const StructureSummary *sum, const StructureResult *r,
                                const CorpusSong *meta, int n) {
    fprintf(f, "{\"reference\": ");
    if (structure_summary_write_json(f, sum)) return -1;
    fprintf(f, ", \"songs\": [\n");
    for (int i = 0; i < n; i++) {
        SongForm form = {meta[i].sections, meta[i].n_sections, 0, meta[i].duration};
        fprintf(f, "%s{\"song\": \"%s\", \"source\": \"%s\", \"measures\": ", i ? ", " : "", meta[i].song,
                corpus_source_name(meta[i].source));
        if (structure_write_json(f, &r[i], &form)) return -1;
        fprintf(f, "}\n");
    }
    fprintf(f, "]}\n");
    return ferror(f) ? err_set("write error: %s", strerror(errno)) : 0;
}
