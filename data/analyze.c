// analyze.c — structural segmentation of a recording: coarse chroma and
// timbre features, self-similarity, checkerboard novelty, peak picking,
// and clustering of segments into repeat labels; text and PNG output (the
// JSON timeline is util/song.c's);
// boundary and pairwise evaluation measures. Per-section descriptors live in
// descriptors.c. It owns no file decoding and no model code.
//
// Legend: T coarse frames (frame_s apart), P STFT frames pooled per coarse
// frame, D feature dims, S segments, F = N_BINS, M = N_MELS.
#include "data/analyze.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/draw.h"
#include "util/util.h"


#define N_CHROMA 12
#define N_MFCC 20
#define MAX_FRAMES 3000

void analyze_defaults(AnalyzeOpts *o) {
    o->frame_s = 16.0 * HOP / SAMPLE_RATE;   // 0.186 s
    // Tuned on MMA seeds 5000-5047 (48 songs) and the corpus's 32 training
    // modules (references: every played order entry), means over songs of
    // F@0.5s / F@3s / pairwise F: the old fixed scale (min section 6 s, kernel
    // 5 s, blur 2 s) MMA 0.64 / 0.89 / 0.87, modules 0.40 / 0.62 / 0.59; this one
    // (5 / 4.5 / 1.75 s, growing past 150 s in proportion to the duration) MMA
    // 0.64 / 0.91 / 0.88, modules 0.40 / 0.61 / 0.59. 4 / 4 / 1.5 s cut MMA
    // sections at their 4-bar phrases (0.62 / 0.87 / 0.88); 3 / 3 / 1 s cut the
    // unit test's 10 s sections at their 4 s chord loop. Growing from 200 s left
    // the 5-minute test song in 29 pieces; any growth costs the three modules
    // over 200 s (patterns of 6 to 10 s) some boundaries.
    o->min_section_s = 5.0;
    o->scale_from_s = 150.0;
    o->scale_power = 1.0;
    o->kernel_s = 4.5;
    o->embed_s = 1.5;
    o->peak_delta = 0.3f;
    o->label_threshold = 0.5f;
    o->chroma_weight = 0.5f;
    o->knn = 0.04f;
    o->sf_time_s = 1.75;
    o->sf_lag_s = 0.5;
    o->sf_weight = 0.5f;
    o->refine_s = 1.0;
    o->refine_kernel_s = 0.6;
    o->merge_adjacent = 1;
    o->split_repeats = 1;
    o->sf_fold = 0;
    o->descriptors = 1;
    // The pattern level, tuned on the corpus's 32 training modules against
    // their order lists (F@0.5s / F@3s / pairwise F; the section level there:
    // 0.40 / 0.61 / 0.60): comb height as a plain mean, shortest comb within
    // 0.8 of the best, gap weight 4, kernel 1.5 s, label threshold 0.8: 0.44 /
    // 0.69 / 0.61; threshold 0.88: 0.51 / 0.77 / 0.71; the comb's sum over
    // sqrt(teeth), within 0.85, gap weight 16: 0.58 / 0.77 / 0.73; kernel
    // 2.5 s: 0.58 / 0.80 / 0.73 (1 s: 0.53 / 0.74 / 0.73; 3.5 s: 0.47 / 0.76 /
    // 0.69). Every try: notebooks_exports/analyzer.md, "Tries".
    o->level = ANALYZE_SECTIONS;
    o->period_min_s = 2.0;
    o->period_max_s = 16.0;
    o->period_harm = 0.85f;
    o->grid_alpha = 16.0;
    o->pattern_kernel_s = 2.5;
    // The period prior, the fine labels and the locked pairs (after the
    // evaluation of 7f0bbad, tuned on the same 32 training modules;
    // notebooks_exports/analyzer.md, "Tries"): no prior, labels on the combined
    // matrix at 0.88: 0.57 / 0.79 / 0.73; a log-normal prior on the period (6 s,
    // sd 1.2 octaves) and labels on fine log-mel frames (4 hops) at 0.94: 0.59 /
    // 0.85 / 0.76 (sd 0.5 octaves: 0.56 / 0.86 / 0.74, but it turns a 2.4 s
    // period into 4.8 s); + locked pairs double the period: 0.61 / 0.88 / 0.78;
    // fine frames of one hop: 0.61 / 0.88 / 0.79. Session 11 (the same 32
    // modules): every alignment tried and the 10th percentile of the frame
    // cosines along the best (fine_similarity) at 0.94: 0.62 / 0.89 / 0.81, at
    // 0.92 / 0.93 / 0.95 / 0.96: pairwise 0.814 / 0.812 / 0.809 / -; + locked
    // pairs that may hold "x x" (locked_pairs) at 0.93: 0.62 / 0.90 / 0.817
    // (0.92: 0.816, 0.94: 0.815, 0.95: 0.816, 0.96: 0.799).
    o->period_prior_s = 6.0;
    o->period_prior_oct = 1.2;
    o->pattern_fine = 1;
    o->pattern_pairs = 1;
    o->pattern_threshold = 0.93f;
    // Session 11, second round (the same 32 training modules): the period halves
    // when the patterns at p/2 come as "x x" pairs; the share of such pairs is
    // 0.96 in rough_journey (each pattern played four times: period 7.7 s, the
    // order entries 3.8 s), at most 0.56 in the others. At 0.7 or 0.75: F@3s /
    // pairwise 0.898 / 0.817 -> 0.908 / 0.819 (rough_journey only); at 0.5 two
    // others halve too: 0.887 / 0.814. A wider prior (1.6 / 2 octaves: pairwise
    // 0.811 / 0.810) or one centred at 5 s (0.788) lost.
    o->pattern_halves = 0.75;
}

void analysis_free(Analysis *a) {
    if (!a) return;
    song_form_free(&a->form);
    free(a->ssm);
    free(a->novelty);
    memset(a, 0, sizeof *a);
}

// ---- features ----------------------------------------------------------------------
// Chroma filterbank (12, F): each bin's power is spread over the semitones
// near its pitch by a Gaussian as wide as the bin (in semitones), then folded
// to pitch classes (0 = C). Bins outside 100 Hz .. 4 kHz are left out: below,
// one bin of a 1024-point FFT spans several semitones.
void chroma_filterbank(float *cb) {
    memset(cb, 0, sizeof(float) * N_CHROMA * N_BINS);
    const double df = (double)SAMPLE_RATE / N_FFT;
    for (int k = 1; k < N_BINS; k++) {
        double f = k * df;
        if (f < 100.0 || f > 4000.0) continue;
        double p = 69.0 + 12.0 * log2(f / 440.0);          // fractional MIDI pitch
        double bw = 12.0 / log(2.0) * df / f;               // bin width in semitones
        double sd = bw * 0.5 > 0.4 ? bw * 0.5 : 0.4;
        double w[64], wsum = 0;
        int s0 = (int)floor(p - 3 * sd), s1 = (int)ceil(p + 3 * sd);
        if (s1 - s0 >= 64) s1 = s0 + 63;
        for (int s = s0; s <= s1; s++) { w[s - s0] = exp(-0.5 * (p - s) * (p - s) / (sd * sd)); wsum += w[s - s0]; }
        for (int s = s0; s <= s1; s++) cb[((s % 12) + 12) % 12 * N_BINS + k] += (float)(w[s - s0] / wsum);
    }
}

double logmel_dct(const float *lm, int count, int k) {
    double s = 0;
    for (int m = 0; m < N_MELS; m++) s += lm[m] / count * cos(M_PI / N_MELS * (m + 0.5) * k);
    return s;
}

typedef struct {
    int P;                 // STFT frames per coarse frame
    long T;                // coarse frames
    const float *cb;       // (12, F)
    const float *fb;       // (M, F) mel filterbank
    float *chroma;         // (T, 12) summed power per pitch class
    float *logmel;         // (T, M) summed log-mel
    float *energy;         // (T) summed power
    int *count;            // (T) STFT frames pooled
    long Tf;               // fine frames (fine_hops STFT frames each), 0 = none kept
    float *fine;           // (Tf, M) summed log-mel
} FeatCtx;
// The pattern level's fine frames: fine_hops STFT hops each (one: 11.6 ms, so two
// plays of one pattern line up to within 6 ms); fine_similarity tries every
// alignment over every fine_kstep-th frame, then takes the fine_quantile-th
// quantile of the frame cosines along the best one.
// Training modules, pairwise F: frames of 4 hops, every alignment 0.776; one hop,
// every 4th alignment then refined, every 2nd frame, the mean 0.787.
// Patterns are slid +- fine_slack_s along each other: a variant's change can pull
// a boundary about a second off the order entry, and two plays whose edges are
// then 1.4 s apart do not line up within +- 1 s (tests/test_data_analyze.c,
// test_pattern_variant; the training modules: one changes, pairwise 0.548 -> 0.561).
static const int fine_hops = 1, fine_kstep = 4;
static const double fine_quantile = 0.1, fine_slack_s = 2.0;

static void feat_frame(void *vctx, long t, const float *mag) {
    FeatCtx *c = vctx;
    long u = t / c->P;
    if (u >= c->T) u = c->T - 1;
    float pw[N_BINS];
    double e = 0;
    for (int f = 0; f < N_BINS; f++) { pw[f] = mag[f] * mag[f]; e += pw[f]; }
    for (int q = 0; q < N_CHROMA; q++) {
        const float *row = c->cb + q * N_BINS;
        double s = 0;
        for (int f = 0; f < N_BINS; f++) s += row[f] * pw[f];
        c->chroma[u * N_CHROMA + q] += (float)s;
    }
    for (int m = 0; m < N_MELS; m++) {
        const float *row = c->fb + m * N_BINS;
        double s = 0;
        for (int f = 0; f < N_BINS; f++) s += row[f] * mag[f];
        float lv = logf(s > LOG_FLOOR ? (float)s : LOG_FLOOR);
        c->logmel[u * N_MELS + m] += lv;
        if (c->fine && t / fine_hops < c->Tf) c->fine[t / fine_hops * N_MELS + m] += lv;
    }
    c->energy[u] += (float)e;
    c->count[u]++;
}

// Each of the d columns of x (T, d) to zero mean and unit deviation (+1e-6) over the T rows.
static void standardize_columns(float *x, long T, int d) {
    for (int k = 0; k < d; k++) {
        double mu = 0, var = 0;
        for (long t = 0; t < T; t++) mu += x[t * d + k];
        mu /= T;
        for (long t = 0; t < T; t++) { double e = x[t * d + k] - mu; var += e * e; }
        double sd = sqrt(var / T) + 1e-6;
        for (long t = 0; t < T; t++) x[t * d + k] = (float)((x[t * d + k] - mu) / sd);
    }
}

// Time-delay embedding and L2 normalisation: out (T, m*D) stacks frames
// t - m/2 .. t + m/2 - 1 (clamped at the ends); rows of zeros stay zero.
static float *embed_normalise(const float *f, long T, int D, int m) {
    float *out = callocCheck((size_t)T * m * D, sizeof(float));
    for (long t = 0; t < T; t++) {
        float *o = out + (size_t)t * m * D;
        for (int k = 0; k < m; k++) {
            long s = t - m / 2 + k;
            if (s < 0) s = 0;
            if (s >= T) s = T - 1;
            memcpy(o + k * D, f + s * D, sizeof(float) * D);
        }
        double ss = 0;
        for (int i = 0; i < m * D; i++) ss += (double)o[i] * o[i];
        if (ss > 1e-12) {
            float inv = (float)(1.0 / sqrt(ss));
            for (int i = 0; i < m * D; i++) o[i] *= inv;
        }
    }
    return out;
}

// Cosine self-similarity (T, T) of L2-normalised rows E (T, D).
static float *self_similarity(const float *E, long T, int D) {
    float *S = mallocCheck(sizeof(float) * T * T);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T, D, 1.0f, E, D, E, D, 0.0f, S, (int)T);
    return S;
}

// Foote novelty: a Gaussian-tapered checkerboard kernel of half-width L slid
// along the diagonal. Near the ends only the part of the kernel inside the
// matrix counts, rescaled by the weight it covers. nov (T), >= 0.
static void checkerboard_novelty(float *nov, const float *S, long T, int L) {
    float *g = mallocCheck(sizeof(float) * (2 * L + 1));
    double sd = 0.5 * L;
    for (int a = -L; a <= L; a++) g[a + L] = (float)exp(-0.5 * a * a / (sd * sd));
    double full = 0;
    for (int a = -L; a <= L; a++)
        for (int b = -L; b <= L; b++)
            if (a != 0 && b != 0) full += g[a + L] * g[b + L];
    for (long t = 0; t < T; t++) {
        double s = 0, w = 0;
        for (int a = -L; a <= L; a++) {
            long i = t + a;
            if (i < 0 || i >= T || a == 0) continue;
            for (int b = -L; b <= L; b++) {
                long j = t + b;
                if (j < 0 || j >= T || b == 0) continue;
                double k = g[a + L] * g[b + L];
                // same side of t: similar is expected (+); across t: (-)
                s += ((a < 0) == (b < 0) ? k : -k) * S[i * T + j];
                w += k;
            }
        }
        // a kernel less than half inside the matrix says little
        nov[t] = (w > 0.5 * full && s > 0) ? (float)(s / w) : 0.0f;
    }
    free(g);
}

// Mean 0, standard deviation 1 (a constant curve becomes 0).
static void standardise(float *x, long n) {
    double mu = 0, var = 0;
    for (long i = 0; i < n; i++) mu += x[i];
    mu /= n;
    for (long i = 0; i < n; i++) var += (x[i] - mu) * (x[i] - mu);
    double sd = sqrt(var / n);
    for (long i = 0; i < n; i++) x[i] = sd > 1e-12 ? (float)((x[i] - mu) / sd) : 0.0f;
}

void analysis_label_name(char *name, size_t cap, int k) {
    if (k < 26) snprintf(name, cap, "%c", 'A' + k);
    else snprintf(name, cap, "%c%c", 'A' + (k / 26 - 1) % 26, 'A' + k % 26);
}

int analysis_label_index(const char *name) {
    if (!name[0] || name[0] < 'A' || name[0] > 'Z') return -1;
    if (!name[1]) return name[0] - 'A';
    if (name[1] < 'A' || name[1] > 'Z' || name[2]) return -1;
    return (name[0] - 'A' + 1) * 26 + name[1] - 'A';
}

static void normalise_max(float *x, long n) {
    float m = 0;
    for (long i = 0; i < n; i++) if (x[i] > m) m = x[i];
    if (m > 0) for (long i = 0; i < n; i++) x[i] /= m;
}

// Mutual k-nearest-neighbour recurrence (Serra et al. 2014): R(i,j) = 1 when
// j is among the k most similar frames to i and i among those of j. Frames
// within `band` of each other do not count as neighbours. R: (T, T) of 0/1.
static float *knn_recurrence(const float *S, long T, int k, int band) {
    float *thr = mallocCheck(sizeof(float) * T);
    float *row = mallocCheck(sizeof(float) * T);
    for (long i = 0; i < T; i++) {
        long m = 0;
        for (long j = 0; j < T; j++) if (labs(j - i) > band) row[m++] = S[i * T + j];
        if (m == 0) { thr[i] = INFINITY; continue; }
        long kk = k < m ? k : m;
        // quickselect the kk-th largest
        long lo = 0, hi = m - 1, want = kk - 1;
        while (lo < hi) {
            float piv = row[(lo + hi) / 2];
            long a = lo, b = hi;
            while (a <= b) {
                while (row[a] > piv) a++;
                while (row[b] < piv) b--;
                if (a <= b) { float t = row[a]; row[a] = row[b]; row[b] = t; a++; b--; }
            }
            if (want <= b) hi = b; else if (want >= a) lo = a; else break;
        }
        thr[i] = row[want];
    }
    float *R = callocCheck((size_t)T * T, sizeof(float));
    for (long i = 0; i < T; i++)
        for (long j = 0; j < T; j++)
            if (labs(j - i) > band && S[i * T + j] >= thr[i] && S[i * T + j] >= thr[j]) R[i * T + j] = 1.0f;
    free(thr);
    free(row);
    return R;
}

static void gauss_kernel(float *g, int r, double sd) {
    double s = 0;
    for (int a = -r; a <= r; a++) { g[a + r] = (float)exp(-0.5 * a * a / (sd * sd)); s += g[a + r]; }
    for (int a = -r; a <= r; a++) g[a + r] /= (float)s;
}

// Structure-feature novelty: the circular time-lag matrix of R, column i
// holding R(i, i+l) over lags l, blurred by a Gaussian (sd_t frames along
// time, sd_l along lag); novelty(i) = || P(i+d) - P(i-d) ||, d = sd_t.
// Boundaries are where the pattern of repetitions changes. nov: (T).
static void structure_novelty(float *nov, const float *R, long T, double sd_t, double sd_l, int fold) {
    float *Lg = mallocCheck(sizeof(float) * T * T);    // (T lag, T time)
    for (long i = 0; i < T; i++)
        for (long l = 0; l < T; l++)
            Lg[l * T + i] = fold ? 0.5f * (R[i * T + (i + l) % T] + R[i * T + ((i - l) % T + T) % T])
                                 : R[i * T + (i + l) % T];
    int rt = (int)ceil(2.5 * sd_t), rl = (int)ceil(2.5 * sd_l);
    float *gt = mallocCheck(sizeof(float) * (2 * rt + 1)), *gl = mallocCheck(sizeof(float) * (2 * rl + 1));
    gauss_kernel(gt, rt, sd_t);
    gauss_kernel(gl, rl, sd_l);
    float *tmp = callocCheck((size_t)T * T, sizeof(float));
    // along lag (circular)
    for (long l = 0; l < T; l++)
        for (int a = -rl; a <= rl; a++) {
            long ll = ((l + a) % T + T) % T;
            float w = gl[a + rl];
            const float *src = Lg + ll * T;
            float *dst = tmp + l * T;
            for (long i = 0; i < T; i++) dst[i] += w * src[i];
        }
    // along time (clamped)
    memset(Lg, 0, sizeof(float) * T * T);
    for (long l = 0; l < T; l++) {
        const float *src = tmp + l * T;
        float *dst = Lg + l * T;
        for (long i = 0; i < T; i++) {
            double acc = 0;
            for (int a = -rt; a <= rt; a++) {
                long ii = i + a;
                if (ii < 0) ii = 0;
                if (ii >= T) ii = T - 1;
                acc += gt[a + rt] * src[ii];
            }
            dst[i] = (float)acc;
        }
    }
    int d = (int)lround(sd_t) > 0 ? (int)lround(sd_t) : 1;
    for (long i = 0; i < T; i++) {
        long a = i - d < 0 ? 0 : i - d, b = i + d >= T ? T - 1 : i + d;
        double s = 0;
        for (long l = 0; l < T; l++) { double v = Lg[l * T + b] - Lg[l * T + a]; s += v * v; }
        nov[i] = (float)sqrt(s);
    }
    free(tmp); free(gt); free(gl); free(Lg);
}

// Path enhancement: mean of R over a diagonal segment of half-length r.
static float *diagonal_smooth(const float *R, long T, int r) {
    float *P = callocCheck((size_t)T * T, sizeof(float));
    for (long i = 0; i < T; i++)
        for (long j = 0; j < T; j++) {
            double s = 0; int c = 0;
            for (int a = -r; a <= r; a++) {
                long ii = i + a, jj = j + a;
                if (ii < 0 || jj < 0 || ii >= T || jj >= T) continue;
                s += R[ii * T + jj]; c++;
            }
            P[i * T + j] = c ? (float)(s / c) : 0.0f;
        }
    return P;
}

// ---- boundaries ----------------------------------------------------------------------
typedef struct { long t; float h; } Peak;
static int cmp_peak_desc(const void *a, const void *b) {
    float x = ((const Peak *)a)->h, y = ((const Peak *)b)->h;
    return (x < y) - (x > y);
}
static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}
static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// Peaks of nov that are the largest within +-w frames and exceed the mean over
// +-avg frames by delta * std(nov); then, strongest first, those at least
// minlen frames from every accepted boundary and from both ends.
// bounds: interior boundary frames, ascending; returns their count.
static int pick_peaks(long *bounds, float *heights, const float *nov, long T, int w, int avg,
                      float delta, int minlen, int edge) {
    double mu = 0, var = 0;
    for (long t = 0; t < T; t++) mu += nov[t];
    mu /= T;
    for (long t = 0; t < T; t++) var += (nov[t] - mu) * (nov[t] - mu);
    double sd = sqrt(var / T);
    Peak *pk = mallocCheck(sizeof(Peak) * (T + 1));
    int np = 0;
    for (long t = 1; t + 1 < T; t++) {
        int ok = 1;
        for (long k = t - w; k <= t + w && ok; k++)
            if (k >= 0 && k < T && k != t && (nov[k] > nov[t] || (nov[k] == nov[t] && k < t))) ok = 0;
        if (!ok) continue;
        double m = 0; int c = 0;
        for (long k = t - avg; k <= t + avg; k++) if (k >= 0 && k < T) { m += nov[k]; c++; }
        m /= c;
        if (nov[t] < m + delta * sd) continue;
        pk[np].t = t; pk[np].h = nov[t]; np++;
    }
    qsort(pk, np, sizeof(Peak), cmp_peak_desc);
    int nb = 0;
    for (int i = 0; i < np; i++) {
        long t = pk[i].t;
        if (t < edge || T - t < edge) continue;
        int ok = 1;
        for (int j = 0; j < nb && ok; j++) if (labs(bounds[j] - t) < minlen) ok = 0;
        if (!ok) continue;
        bounds[nb++] = t;
    }
    qsort(bounds, nb, sizeof(long), cmp_long);
    for (int j = 0; j < nb; j++) heights[j] = nov[bounds[j]];
    free(pk);
    return nb;
}

// ---- labels ----------------------------------------------------------------------------
// Similarity of segments [a0,a1) and [b0,b1) along diagonals of S: the best
// mean of S(a0+k, b0+s+k) over alignments s of the shorter segment within the
// longer one (give or take `slack` frames), times sqrt(shorter/longer) so that
// a short segment matching part of a long one counts less than a full repeat.
static float segment_similarity(const float *S, long T, long a0, long a1, long b0, long b1, int slack) {
    long la = a1 - a0, lb = b1 - b0;
    if (la > lb) { long t; t = a0; a0 = b0; b0 = t; t = a1; a1 = b1; b1 = t; t = la; la = lb; lb = t; }
    float best = -1.0f;
    for (long s = -slack; s <= lb - la + slack; s++) {
        double sum = 0; long c = 0;
        for (long k = 0; k < la; k++) {
            long j = b0 + s + k;
            if (j < b0 || j >= b1) continue;
            sum += S[(a0 + k) * T + j];
            c++;
        }
        if (c < (la * 3) / 4 || c == 0) continue;
        float v = (float)(sum / c);
        if (v > best) best = v;
    }
    if (best < -0.5f) best = 0.0f;
    return best * (float)sqrt((double)la / lb);
}

// Like segment_similarity, on fine frames F (Tf, D) with L2-normalised rows: the
// shorter segment slid along the longer +- slack frames, and at the alignment
// whose mean cosine over every fine_kstep-th frame is best, the fine_quantile-th
// quantile of the cosines of all its frames, mapped to 0..1. The pattern level's
// labels: a pattern played again is the same audio to within a fine frame, a
// variant of it is not, and coarse frames (0.19 s) that fall a fraction of a
// frame apart in two repeats blur that difference.
// Why every alignment: two plays of one pattern line up within one or two fine
// frames (a play shifted by one frame is already a cosine 0.07 lower), so a
// search over every 4th alignment (session 10's) missed the peak, 0.02 to 0.2
// lower in 19 of 406 pairs of one training module, and split plays of one
// pattern into two labels. Why a low quantile and no length factor: a variant
// differs in a short part, which a mean over the whole pattern hides. Training
// modules' pairwise F with every alignment, on session 10's boundaries (scratch
// harness, notebooks_exports/analyzer.md "Tries"): the mean times sqrt(length
// ratio) 0.785 at 0.94, the mean 0.804 at 0.97, the 10th percentile 0.805 at 0.92.
static float fine_similarity(const float *F, long Tf, int D, long a0, long a1, long b0, long b1, int slack) {
    if (a1 > Tf) a1 = Tf;
    if (b1 > Tf) b1 = Tf;
    long la = a1 - a0, lb = b1 - b0;
    if (la <= 0 || lb <= 0) return 0;
    if (la > lb) { long t; t = a0; a0 = b0; b0 = t; t = a1; a1 = b1; b1 = t; t = la; la = lb; lb = t; }
    double best = -INFINITY;
    long bs = 0;
    for (long s = -slack; s <= lb - la + slack; s++) {
        double sum = 0;
        long c = 0;
        for (long k = 0; k < la; k += fine_kstep) {
            long j = b0 + s + k;
            if (j < b0 || j >= b1) continue;
            sum += cblas_sdot(D, F + (a0 + k) * D, 1, F + j * D, 1);
            c++;
        }
        if (c == 0 || c < (la / fine_kstep * 3) / 4) continue;
        if (sum / c > best) { best = sum / c; bs = s; }
    }
    if (!isfinite(best)) return 0;
    // the cosines along the best alignment, every frame, and their low quantile
    float *cs = mallocCheck(sizeof(float) * la);
    long c = 0;
    for (long k = 0; k < la; k++) {
        long j = b0 + bs + k;
        if (j >= b0 && j < b1) cs[c++] = cblas_sdot(D, F + (a0 + k) * D, 1, F + j * D, 1);
    }
    qsort(cs, c, sizeof(float), cmp_float);
    float q = cs[(long)(fine_quantile * (c - 1))];
    free(cs);
    return 0.5f * (1.0f + q);
}

// Average-linkage agglomerative clustering of S segments by similarity sim
// (S, S), merging while the best average similarity is >= thr. lab: (S)
// cluster ids renumbered by first appearance.
static void cluster_segments(int *lab, const float *sim, int S, float thr) {
    for (int i = 0; i < S; i++) lab[i] = i;
    for (;;) {
        int bi = -1, bj = -1;
        float best = -1e9f;
        for (int ci = 0; ci < S; ci++) {
            for (int cj = ci + 1; cj < S; cj++) {
                double s = 0; int c = 0, hi = 0, hj = 0;
                for (int x = 0; x < S; x++) {
                    if (lab[x] == ci) hi = 1;
                    if (lab[x] == cj) hj = 1;
                    if (lab[x] != ci) continue;
                    for (int y = 0; y < S; y++) if (lab[y] == cj) { s += sim[x * S + y]; c++; }
                }
                if (!hi || !hj || c == 0) continue;
                if (s / c > best) { best = (float)(s / c); bi = ci; bj = cj; }
            }
        }
        if (bi < 0 || best < thr) break;
        for (int x = 0; x < S; x++) if (lab[x] == bj) lab[x] = bi;
    }
    int map[256];
    for (int i = 0; i < 256; i++) map[i] = -1;
    int next = 0;
    for (int i = 0; i < S; i++) {
        int c = lab[i] & 255;
        if (map[c] < 0) map[c] = next++;
        lab[i] = map[c];
    }
}

// ---- the pattern level -------------------------------------------------------------------
// A tracker module plays fixed-length patterns; much other music repeats in
// fixed-length phrases. The pattern level (AnalyzeOpts.level) finds that
// length and cuts the song at each of its repetitions.

// Linear interpolation of x (n) at fractional index t (clamped).
static double lerp_at(const float *x, long n, double t) {
    if (t <= 0) return x[0];
    if (t >= n - 1) return x[n - 1];
    long i = (long)t;
    double f = t - i;
    return (1 - f) * x[i] + f * x[i + 1];
}

// The repetition period of a novelty curve z (T, mean 0, sd 1), in frames:
// the comb of teeth p apart (any phase) whose teeth land on the most novelty,
// over p in [lo, hi] frames, in steps of 0.1 % of p; teeth closer than `edge`
// frames to either end (where the novelty kernel hangs out) do not count.
// A comb scores the sum of
// z under its c teeth over sqrt(c), which is N(0, 1) for noise at any p (a
// plain mean lets a long period's few teeth win by chance: 10 of 32 training
// modules' periods found, against 15). A comb of 2p lands on every other peak
// of p, so the shortest p within `harm` of the best score wins, at the top of
// its peak. *score: that comb's score.
static double repetition_period(const float *z, long T, double lo, double hi, double harm, long edge,
                                 double prior_p, double prior_sd, double *score) {
    int np = 0;
    for (double p = lo; p <= hi; p *= 1.001) np++;
    double *best = mallocCheck(sizeof(double) * (np + 1)), *per = mallocCheck(sizeof(double) * (np + 1));
    int k = 0;
    for (double p = lo; p <= hi && k < np; p *= 1.001, k++) {
        double b = -INFINITY;
        for (double ph = 0; ph < p; ph += 0.5) {
            double s = 0;
            int c = 0;
            for (double t = ph; t < T - 1 - edge; t += p)
                if (t >= edge) { s += lerp_at(z, T, t); c++; }
            // sum / sqrt(c): N(0, 1) for any p when z is noise, so a long
            // period's few teeth do not win by chance
            if (c >= 3 && s / sqrt((double)c) > b) b = s / sqrt((double)c);
        }
        best[k] = b;
        per[k] = p;
    }
    // a weak prior on the length: the comb cannot tell a pattern from two
    // (alternate teeth weak) or from half of one (a change in its middle)
    if (prior_sd > 0)
        for (int i = 0; i < k; i++) {
            double u = log2(per[i] / prior_p) / prior_sd;
            if (best[i] > 0) best[i] *= exp(-0.5 * u * u);
        }
    double top = -INFINITY;
    for (int i = 0; i < k; i++) if (best[i] > top) top = best[i];
    double p = 0;
    *score = top;
    for (int i = 0; i < k && p == 0; i++)
        if (best[i] >= harm * top && top > 0) {
            // the peak this comb's score rises to: the best within +10 %
            // (novelty peaks are broad, so the score is flat near its top, and
            // the first comb past the line sits on its rising flank)
            int j = i;
            for (int m = i; m < k && per[m] <= 1.1 * per[i]; m++) if (best[m] > best[j]) j = m;
            p = per[j];
            *score = best[j];
        }
    free(best);
    free(per);
    return p;
}

// Boundaries about every p frames where z is high (dynamic programming as in
// Ellis's 2007 beat tracker, at the pattern scale): maximise the sum of z at
// the boundaries minus alpha * log(gap / p)^2 per gap, gaps within [p/2, 2p].
// The first boundary is frame 0; the song may end anywhere in its last pattern.
// bnd: room for T + 1; returns the boundary count including frame 0.
static int pattern_grid(long *bnd, const float *z, long T, double p, double alpha) {
    double *C = mallocCheck(sizeof(double) * T);
    long *from = mallocCheck(sizeof(long) * T);
    long g0 = (long)floor(0.5 * p), g1 = (long)ceil(2.0 * p);
    if (g0 < 1) g0 = 1;
    for (long t = 0; t < T; t++) {
        C[t] = t == 0 ? 0.0 : -INFINITY;
        from[t] = -1;
        if (t == 0) continue;
        for (long u = t - g1; u <= t - g0; u++) {
            if (u < 0 || !isfinite(C[u])) continue;
            double lg = log((double)(t - u) / p);
            double v = C[u] - alpha * lg * lg;
            if (v > C[t]) { C[t] = v; from[t] = u; }
        }
        if (isfinite(C[t])) C[t] += z[t];
    }
    // the last boundary: between p/2 and 2p before the end, the best total (a
    // short last pattern costs nothing: songs stop where they like)
    long last = 0;
    double bv = -INFINITY;
    for (long t = T - g0; t >= 0 && t >= T - g1; t--)
        if (isfinite(C[t]) && C[t] > bv) { bv = C[t]; last = t; }
    int n = 0;
    for (long t = last; t >= 0; t = from[t]) { bnd[n++] = t; if (t == 0) break; }
    for (int i = 0; i < n / 2; i++) { long x = bnd[i]; bnd[i] = bnd[n - 1 - i]; bnd[n - 1 - i] = x; }
    if (n == 0 || bnd[0] != 0) { bnd[0] = 0; n = n ? n : 1; }
    free(C);
    free(from);
    return n;
}

// Average-linkage clustering like cluster_segments, in O(S^3) (Lance-Williams
// update of the cluster-to-cluster means), for the many segments of the
// pattern level. lab: (S) renumbered by first appearance.
static void cluster_average(int *lab, const float *sim, int S, float thr) {
    double *M = mallocCheck(sizeof(double) * S * S);
    int *size = mallocCheck(sizeof(int) * S), *root = mallocCheck(sizeof(int) * S);
    for (int i = 0; i < S * S; i++) M[i] = sim[i];
    for (int i = 0; i < S; i++) { size[i] = 1; root[i] = i; }
    for (;;) {
        int bi = -1, bj = -1;
        double best = -1e9;
        for (int i = 0; i < S; i++) {
            if (!size[i]) continue;
            for (int j = i + 1; j < S; j++)
                if (size[j] && M[i * S + j] > best) { best = M[i * S + j]; bi = i; bj = j; }
        }
        if (bi < 0 || best < thr) break;
        for (int k = 0; k < S; k++) {
            if (!size[k] || k == bi || k == bj) continue;
            double v = (size[bi] * M[bi * S + k] + size[bj] * M[bj * S + k]) / (size[bi] + size[bj]);
            M[bi * S + k] = M[k * S + bi] = v;
        }
        size[bi] += size[bj];
        size[bj] = 0;
        for (int k = 0; k < S; k++) if (root[k] == bj) root[k] = bi;
    }
    int *map = mallocCheck(sizeof(int) * S);
    for (int i = 0; i < S; i++) map[i] = -1;
    int next = 0;
    for (int i = 0; i < S; i++) {
        if (map[root[i]] < 0) map[root[i]] = next++;
        lab[i] = map[root[i]];
    }
    free(map); free(M); free(size); free(root);
}

// Labels of the ng segments [g[i], g[i+1]) (coarse frames; g[ng] the end) by
// average linkage at thr on their fine similarity (ratio: fine frames per coarse).
static void pattern_labels(int *lab, const long *g, int ng, const float *F, long Tf, double ratio, int slack, float thr) {
    float *sim = mallocCheck(sizeof(float) * ng * ng);
    for (int i = 0; i < ng; i++) {
        sim[i * ng + i] = 1.0f;
        for (int j = i + 1; j < ng; j++)
            sim[i * ng + j] = sim[j * ng + i] =
                fine_similarity(F, Tf, N_MELS, lround(g[i] * ratio), lround(g[i + 1] * ratio), lround(g[j] * ratio),
                                lround(g[j + 1] * ratio), (int)lround(slack * ratio));
    }
    cluster_average(lab, sim, ng, thr);
    free(sim);
}

// The grid at period p (pattern_grid; *g: ng + 1 boundaries, the last T) and the
// labels of its patterns (pattern_labels; *lb: ng). Returns ng.
static int grid_labels(long **g, int **lb, const float *z, long T, double p, double alpha, const float *F, long Tf,
                       double ratio, int slack, float thr) {
    *g = mallocCheck(sizeof(long) * (T + 2));
    int ng = pattern_grid(*g, z, T, p, alpha);
    (*g)[ng] = T;
    *lb = mallocCheck(sizeof(int) * (ng + 1));
    pattern_labels(*lb, *g, ng, F, Tf, ratio, slack, thr);
    return ng;
}

// The share of the consecutive pairs of patterns (labels lb, ng), at the better
// of the two phases, that hold one label twice ("x x"): near 1 when the patterns
// found are halves of patterns whose halves sound alike, or patterns each played
// twice in a row.
static double twin_share(const int *lb, int ng) {
    double best = 0;
    for (int ph = 0; ph < 2; ph++) {
        int self = 0, npair = 0;
        for (int a = ph; a + 1 < ng; a += 2) { npair++; self += lb[a] == lb[a + 1]; }
        if (npair && (double)self / npair > best) best = (double)self / npair;
    }
    return best;
}

// The phase (0 or 1) at which the labels lb (ng) of the patterns found at some
// period come in locked pairs, or -1: at that phase x is always followed by y and
// y always preceded by x, no label in both places, at least three pairs and two
// pairs that come again. A pair "x x" (a pattern whose halves sound alike, as in
// "A B C C" at half the period, a training module's "ef ef gg") may hold its
// label in both places but counts as no repeated pair: with it the training
// modules' pairwise F 0.810 -> 0.815 (over-theme 0.73 -> 0.87, no other module
// changed); without the two repeated pairs of "x y" a song of back-to-back
// repeats ("a a b b") would double.
static int locked_pairs(const int *lb, int ng) {
    for (int ph = 0; ph < 2; ph++) {
        int ok = 1, rep = 0, npair = 0;
        for (int a = ph; a + 1 < ng && ok; a += 2) {
            npair++;
            int first = 1, again = 0;   // the first occurrence of its pair, which comes again
            for (int b = ph; b < a; b += 2) if (lb[a] == lb[b]) first = 0;
            for (int b = a + 2; b + 1 < ng; b += 2) {
                if ((lb[a] == lb[b]) != (lb[a + 1] == lb[b + 1])) ok = 0;
                if (lb[a] == lb[b]) again = 1;
            }
            int self = lb[a] == lb[a + 1];
            rep += first && again && !self;
            for (int b = ph; b + 1 < ng && !self; b += 2)
                if (lb[a] == lb[b + 1] || lb[a + 1] == lb[b]) ok = 0;
        }
        if (ok && rep >= 2 && npair >= 3) return ph;
    }
    return -1;
}

// ---- the whole analysis -----------------------------------------------------------------
// The analysis proper, on audio already trimmed of leading/trailing silence.
static int analyze_core(Analysis *out, const float *x, long n, AnalyzeOpts o) {

    double dur = (double)n / SAMPLE_RATE;
    out->form.duration = dur;
    if (o.scale_power > 0 && o.scale_from_s > 0 && dur > o.scale_from_s) {
        // the section scale grows with the song (analyze.h)
        double g = pow(dur / o.scale_from_s, o.scale_power);
        o.min_section_s *= g;
        o.kernel_s *= g;
        o.sf_time_s *= g;
    }
    int P = (int)lround(o.frame_s * SAMPLE_RATE / HOP);
    if (P < 1) P = 1;
    long T0 = stft_frames(n);
    // the (T, T) matrices grow with the square of the length: past MAX_FRAMES
    // coarse frames (about 9 minutes at the default hop) the hop grows instead
    if ((T0 + P - 1) / P > MAX_FRAMES) P = (int)((T0 + MAX_FRAMES - 1) / MAX_FRAMES);
    long T = (T0 + P - 1) / P;
    out->frame_s = (double)P * HOP / SAMPLE_RATE;
    out->T = (int)T;

    // 1. pooled chroma, log-mel and energy per coarse frame
    float *cb = mallocCheck(sizeof(float) * N_CHROMA * N_BINS);
    chroma_filterbank(cb);
    FeatCtx fc = { .P = P, .T = T, .cb = cb, .fb = mel_fb() };
    fc.chroma = callocCheck(T * N_CHROMA, sizeof(float));
    fc.logmel = callocCheck(T * N_MELS, sizeof(float));
    fc.energy = callocCheck(T, sizeof(float));
    fc.count = callocCheck(T, sizeof(int));
    if (o.level == ANALYZE_PATTERNS && o.pattern_fine) {   // log-mel every fine_hops STFT frames, for the labels
        fc.Tf = (T0 + fine_hops - 1) / fine_hops;
        fc.fine = callocCheck((size_t)fc.Tf * N_MELS, sizeof(float));
    }
    int rc = stft_walk(x, n, feat_frame, &fc);
    free(cb);
    if (rc) { free(fc.chroma); free(fc.logmel); free(fc.energy); free(fc.count); free(fc.fine); return -1; }

    // 2. chroma: L1 per frame, square-root compressed; silent frames zero.
    float emax = 0;
    for (long t = 0; t < T; t++) {
        if (fc.count[t]) fc.energy[t] /= fc.count[t];
        if (fc.energy[t] > emax) emax = fc.energy[t];
    }
    for (long t = 0; t < T; t++) {
        float *c = fc.chroma + t * N_CHROMA;
        double s = 0;
        for (int q = 0; q < N_CHROMA; q++) s += c[q];
        int silent = fc.energy[t] < emax * 1e-6f || s <= 0;
        for (int q = 0; q < N_CHROMA; q++) c[q] = silent ? 0.0f : sqrtf((float)(c[q] / s));
    }
    // timbre: DCT-II of the mean log-mel, coefficients 0..N_MFCC-1, each
    // standardised over the song (so the timbre SSM measures contrast, not level).
    float *mf = callocCheck(T * N_MFCC, sizeof(float));
    for (long t = 0; t < T; t++) {
        const float *lm = fc.logmel + t * N_MELS;
        int c = fc.count[t] ? fc.count[t] : 1;
        for (int k = 0; k < N_MFCC; k++) mf[t * N_MFCC + k] = (float)logmel_dct(lm, c, k);
    }
    standardize_columns(mf, T, N_MFCC);

    // 3. embedded self-similarity: chroma in [0,1]; timbre cosine mapped to [0,1]
    int m = (int)lround(o.embed_s / out->frame_s);
    if (m < 1) m = 1;
    float *Ec = embed_normalise(fc.chroma, T, N_CHROMA, m);
    float *Et = embed_normalise(mf, T, N_MFCC, m);
    float *Sc = self_similarity(Ec, T, N_CHROMA * m);
    float *St = self_similarity(Et, T, N_MFCC * m);
    for (long i = 0; i < T * T; i++) St[i] = 0.5f * (St[i] + 1.0f);
    free(Ec); free(Et);
    if (fc.fine) {
        long Tf = fc.Tf;
        float *F = fc.fine;
        standardize_columns(F, Tf, N_MELS);
        float *E = embed_normalise(F, Tf, N_MELS, 1);   // L2 per frame: dot products are cosines
        free(fc.fine);
        fc.fine = E;
    }
    free(mf);
    free(fc.chroma); free(fc.logmel); free(fc.count); free(fc.energy);

    // 4. novelty: checkerboard on each SSM, and structure features from the
    //    k-NN recurrence of the combined one
    float wc = o.chroma_weight;
    float *Sm = mallocCheck(sizeof(float) * T * T);
    for (long i = 0; i < T * T; i++) Sm[i] = wc * Sc[i] + (1.0f - wc) * St[i];
    int L = (int)lround(o.kernel_s / out->frame_s);
    if (L < 2) L = 2;
    float *nc = mallocCheck(sizeof(float) * T), *nt = mallocCheck(sizeof(float) * T);
    float *ns = mallocCheck(sizeof(float) * T);
    checkerboard_novelty(nc, Sc, T, L);
    checkerboard_novelty(nt, St, T, L);
    normalise_max(nc, T);
    normalise_max(nt, T);
    free(Sc); free(St);
    int knn = (int)lround(o.knn * T);
    if (knn < 2) knn = 2;
    int band = (int)lround(1.0 / out->frame_s);
    float *R = knn_recurrence(Sm, T, knn, band);
    structure_novelty(ns, R, T, o.sf_time_s / out->frame_s, o.sf_lag_s / out->frame_s, o.sf_fold);
    normalise_max(ns, T);
    float *nov = mallocCheck(sizeof(float) * T);
    for (long t = 0; t < T; t++)
        nov[t] = (1.0f - o.sf_weight) * (wc * nc[t] + (1.0f - wc) * nt[t]) + o.sf_weight * ns[t];
    normalise_max(nov, T);
    free(nc); free(nt); free(ns);

    // 5. boundaries
    int minlen = (int)lround(o.min_section_s / out->frame_s);
    if (minlen < 1) minlen = 1;
    long *bnd = mallocCheck(sizeof(long) * (T + 2));
    float *bh = mallocCheck(sizeof(float) * (T + 2));
    int nb = 0;
    if (o.level == ANALYZE_PATTERNS) {
        // the pattern level: a sharp novelty (short checkerboard on the combined
        // matrix plus the short-blur structure features), its repetition period,
        // and a boundary at every repetition of it
        int Lp = (int)lround(o.pattern_kernel_s / out->frame_s), Ls = (int)lround(o.refine_kernel_s / out->frame_s);
        float *z = mallocCheck(sizeof(float) * T), *zs = mallocCheck(sizeof(float) * T);
        checkerboard_novelty(z, Sm, T, Lp < 2 ? 2 : Lp);
        structure_novelty(zs, R, T, Ls < 1 ? 1 : Ls, o.sf_lag_s / out->frame_s, o.sf_fold);
        standardise(z, T);
        standardise(zs, T);
        for (long t = 0; t < T; t++) z[t] = 0.5f * (z[t] + zs[t]);
        standardise(z, T);
        double score, p = 0;
        if (T > 8) p = repetition_period(z, T, o.period_min_s / out->frame_s, o.period_max_s / out->frame_s,
                                         o.period_harm, Lp, o.period_prior_s / out->frame_s, o.period_prior_oct,
                                         &score);
        double ratio = (double)P / fine_hops;
        int slack = (int)lround(fine_slack_s / out->frame_s);
        if (p > 0 && T > 4 * p && fc.fine && o.pattern_halves > 0 && 0.5 * p >= o.period_min_s / out->frame_s) {
            // a comb of 2p wins when every pattern is played twice in a row (the
            // repeat's boundary has no novelty): when the patterns found at p/2
            // come as "x x" pairs, the period is p/2
            long *g;
            int *lb;
            int ng = grid_labels(&g, &lb, z, T, 0.5 * p, o.grid_alpha, fc.fine, fc.Tf, ratio, slack,
                                 o.pattern_threshold);
            if (twin_share(lb, ng) >= o.pattern_halves) p *= 0.5;
            free(lb);
            free(g);
        }
        if (p > 0 && T > 4 * p && fc.fine && o.pattern_pairs) {
            // patterns that always come in the same pairs are halves of one: when the
            // labels at p are locked pairs, the period is 2p (the comb cannot tell a
            // pattern with a change in its middle from two patterns)
            long *g;
            int *lb;
            int ng = grid_labels(&g, &lb, z, T, p, o.grid_alpha, fc.fine, fc.Tf, ratio, slack, o.pattern_threshold);
            int merge = locked_pairs(lb, ng);
            if (merge >= 0) p *= 2;
            free(lb);
            free(g);
        }
        if (p > 0 && T > 2 * p) {
            long *g = mallocCheck(sizeof(long) * (T + 1));
            int ng = pattern_grid(g, z, T, p, o.grid_alpha);
            for (int k = 1; k < ng && nb < T; k++) {
                bnd[1 + nb] = g[k];
                bh[1 + nb] = nov[g[k]];
                nb++;
            }
            free(g);
            out->period_s = p * out->frame_s;
        }
        free(z); free(zs);
    } else if (dur >= 2 * o.min_section_s && T > 4)
        nb = pick_peaks(bnd + 1, bh + 1, nov, T, minlen / 2 > 1 ? minlen / 2 : 1, L, o.peak_delta, minlen,
                        minlen / 2 > 1 ? minlen / 2 : 1);
    if (o.refine_s > 0 && nb > 0 && o.level != ANALYZE_PATTERNS) {
        // move each boundary to the strongest structure-feature novelty nearby
        // computed with a short time blur: the long kernels find sections, a
        // short one places their edges
        int Ls = (int)lround(o.refine_kernel_s / out->frame_s), r = (int)lround(o.refine_s / out->frame_s);
        float *nr = mallocCheck(sizeof(float) * T);
        structure_novelty(nr, R, T, Ls < 1 ? 1 : Ls, o.sf_lag_s / out->frame_s, o.sf_fold);
        for (int k = 1; k <= nb; k++) {
            long lo = bnd[k] - r, hi = bnd[k] + r, best = bnd[k];
            if (lo < (k > 1 ? bnd[k - 1] + 1 : 1)) lo = k > 1 ? bnd[k - 1] + 1 : 1;
            if (hi > T - 2) hi = T - 2;
            for (long t = lo; t <= hi; t++) if (nr[t] > nr[best]) best = t;
            bnd[k] = best;
        }
        free(nr);
    }
    bnd[0] = 0; bh[0] = 1.0f;
    bnd[nb + 1] = T;
    int S = nb + 1;

    // 6. labels: segment similarity on the path-enhanced recurrence, clustering
    float *Pe = diagonal_smooth(R, T, (int)lround(o.embed_s / out->frame_s));
    free(R);
    float *sim = mallocCheck(sizeof(float) * S * S);
    int slack = (int)lround(1.0 / out->frame_s);
    // the pattern level compares patterns on the combined matrix itself: a
    // pattern played again is the same audio, a variant of it is not quite
    const float *Ssim = o.level == ANALYZE_PATTERNS ? Sm : Pe;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S && !fc.fine; j++)
            sim[i * S + j] = i == j ? 1.0f
                             : segment_similarity(Ssim, T, bnd[i], bnd[i + 1], bnd[j], bnd[j + 1], slack);
    if (fc.fine) {
        // the pattern level's similarity on the fine frames (pattern_fine)
        double ratio = (double)P / fine_hops;
        for (int i = 0; i < S; i++) sim[i * S + i] = 1.0f;
#define FINE(t) ((long)lround((t) * ratio))
        for (int i = 0; i < S; i++)
            for (int j = i + 1; j < S; j++) {
                float v = fine_similarity(fc.fine, fc.Tf, N_MELS, FINE(bnd[i]), FINE(bnd[i + 1]),
                                          FINE(bnd[j]), FINE(bnd[j + 1]),
                                          (int)FINE(lround(fine_slack_s / out->frame_s)));
                sim[i * S + j] = sim[j * S + i] = v;
            }
#undef FINE
    }
    free(fc.fine);
    if (getenv("REFRAIN_ANALYZE_DEBUG")) {
        for (int i = 0; i < S; i++) {
            fprintf(stderr, "sim %2d:", i);
            for (int j = 0; j < S; j++) fprintf(stderr, " %.3f", sim[i * S + j]);
            fprintf(stderr, "\n");
        }
    }
    int *lab = mallocCheck(sizeof(int) * S);
    if (o.level == ANALYZE_PATTERNS) cluster_average(lab, sim, S, o.pattern_threshold);
    else if (S <= 256) cluster_segments(lab, sim, S, o.label_threshold);
    else for (int i = 0; i < S; i++) lab[i] = i;  // unreachable for sane min_section_s
    // patterns played back to back are two patterns (an order list's "c c")
    if (o.merge_adjacent && o.level != ANALYZE_PATTERNS) {
        // neighbours with one label are one section (a repeated phrase inside
        // a section makes its halves look like two); similarities are redone
        long *ob = mallocCheck(sizeof(long) * (S + 1));
        float *obh = mallocCheck(sizeof(float) * (S + 1));
        int oS = S;
        memcpy(ob, bnd, sizeof(long) * (S + 1));
        memcpy(obh, bh, sizeof(float) * (S + 1));
        int k = 0;
        for (int i = 0; i < S; i++) {
            if (i > 0 && lab[i] == lab[k - 1]) continue;
            bnd[k] = bnd[i]; bh[k] = bh[i]; lab[k] = lab[i]; k++;
        }
        bnd[k] = T;
        if (o.split_repeats && k < S) {
            // ... but a merged run about twice as long as the label's shortest
            // other occurrence is two occurrences back to back ("chorus
            // chorus"): cut it again at the merged boundary nearest each multiple
            long *nbnd = mallocCheck(sizeof(long) * (oS + 1));
            float *nbh = mallocCheck(sizeof(float) * (oS + 1));
            int *nlab = mallocCheck(sizeof(int) * (oS + 1));
            int nm = 0;
            for (int i = 0; i < k; i++) {
                long len = bnd[i + 1] - bnd[i], Lc = -1;
                for (int j = 0; j < k; j++)
                    if (j != i && lab[j] == lab[i] && (Lc < 0 || bnd[j + 1] - bnd[j] < Lc)) Lc = bnd[j + 1] - bnd[j];
                nbnd[nm] = bnd[i]; nbh[nm] = bh[i]; nlab[nm] = lab[i]; nm++;
                if (Lc <= 0 || len < 1.7 * Lc) continue;
                int parts = (int)lround((double)len / Lc);
                for (int q = 1; q < parts; q++) {
                    double target = bnd[i] + (double)q * len / parts;
                    int best = -1;
                    for (int j = 1; j < oS; j++)
                        if (ob[j] > nbnd[nm - 1] && ob[j] < bnd[i + 1] &&
                            (best < 0 || fabs(ob[j] - target) < fabs(ob[best] - target)))
                            best = j;
                    if (best < 0 || fabs(ob[best] - target) > 0.25 * Lc) continue;
                    nbnd[nm] = ob[best]; nbh[nm] = obh[best]; nlab[nm] = lab[i]; nm++;
                }
            }
            memcpy(bnd, nbnd, sizeof(long) * nm);
            memcpy(bh, nbh, sizeof(float) * nm);
            memcpy(lab, nlab, sizeof(int) * nm);
            k = nm;
            bnd[k] = T;
            free(nbnd); free(nbh); free(nlab);
        }
        free(ob); free(obh);
        if (k < S) {
            S = k;
            for (int i = 0; i < S; i++)
                for (int j = 0; j < S; j++)
                    sim[i * S + j] = i == j ? 1.0f
                                     : segment_similarity(Pe, T, bnd[i], bnd[i + 1], bnd[j], bnd[j + 1], slack);
        }
    }

    out->form.n = S;
    out->form.sections = callocCheck(S, sizeof(SongSection));   // desc 0 unless analyze_audio measures it
    int *occ = callocCheck(S, sizeof(int)), *cother = mallocCheck(sizeof(int) * S);
    double *other = mallocCheck(sizeof(double) * S);
    for (int i = 0; i < S; i++) {
        SongSection *s = &out->form.sections[i];
        s->start = i == 0 ? 0.0 : bnd[i] * out->frame_s;
        s->end = i == S - 1 ? dur : bnd[i + 1] * out->frame_s;
        if (s->end > dur) s->end = dur;
        analysis_label_name(s->label, sizeof s->label, lab[i]);
        s->occurrence = ++occ[lab[i]];   // labels are 0 .. S-1
        // label margin: mean similarity to own cluster minus best other cluster
        double own = 0; int cown = 0;
        memset(other, 0, sizeof(double) * S);
        memset(cother, 0, sizeof(int) * S);
        for (int j = 0; j < S; j++) {
            if (j == i) continue;
            if (lab[j] == lab[i]) { own += sim[i * S + j]; cown++; }
            else { other[lab[j]] += sim[i * S + j]; cother[lab[j]]++; }
        }
        double best_other = 0;
        for (int c = 0; c < S; c++) if (cother[c] && other[c] / cother[c] > best_other) best_other = other[c] / cother[c];
        double margin = cown ? own / cown - best_other : o.label_threshold - best_other;
        double lc = 0.5 + margin / 0.4;
        if (lc < 0) lc = 0;
        if (lc > 1) lc = 1;
        s->confidence = (float)(0.5 * lc + 0.5 * bh[i]);   // bh: novelty peak height at the start, 1 for the first
    }
    free(occ); free(other); free(cother);
    free(sim); free(lab); free(bnd); free(bh); free(Pe);
    out->ssm = Sm;
    out->novelty = nov;
    return 0;
}

// Leading and trailing silence (100 ms blocks more than 60 dB below the
// loudest block) is cut before the analysis and given to the first and last
// sections afterwards: a render's silent tail is no section of the song.
int analyze_audio(Analysis *out, const float *x, long n, const AnalyzeOpts *opts) {
    AnalyzeOpts o;
    if (opts) o = *opts; else analyze_defaults(&o);
    memset(out, 0, sizeof *out);
    if (!x || n <= 0) return err_set("analyze: no audio");
    if (o.frame_s < 0.02 || o.frame_s > 2.0) return err_set("analyze: frame_s %.3f out of range [0.02, 2]", o.frame_s);
    if (o.min_section_s < 0.5) return err_set("analyze: min_section_s %.2f below 0.5 s", o.min_section_s);
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i])) return err_set("analyze: sample %ld is not finite", i);
    long blk = SAMPLE_RATE / 10, nb = (n + blk - 1) / blk;
    double emax = 0;
    double *e = callocCheck(nb, sizeof(double));
    for (long i = 0; i < n; i++) e[i / blk] += (double)x[i] * x[i];
    for (long b = 0; b < nb; b++) if (e[b] > emax) emax = e[b];
    long b0 = 0, b1 = nb;
    while (b0 < nb && !(e[b0] > emax * 1e-6)) b0++;
    while (b1 > b0 && !(e[b1 - 1] > emax * 1e-6)) b1--;
    free(e);
    long a = b0 * blk, b = b1 * blk < n ? b1 * blk : n;
    if (b - a < (long)(2 * o.min_section_s * SAMPLE_RATE) || b - a <= N_FFT) { a = 0; b = n; }  // too little to trim
    if (analyze_core(out, x + a, b - a, o)) return -1;
    double t0 = (double)a / SAMPLE_RATE, dur = (double)n / SAMPLE_RATE;
    out->t0 = t0;
    out->form.duration = dur;
    for (int i = 0; i < out->form.n; i++) {
        SongSection *s = &out->form.sections[i];
        s->start = i == 0 ? 0.0 : s->start + t0;
        s->end = i == out->form.n - 1 ? dur : s->end + t0;
        if (o.descriptors && s->end - s->start >= 0.1 && section_descriptors(&s->desc, x, n, s->start, s->end)) {
            analysis_free(out);
            return -1;
        }
    }
    return 0;
}

// ---- output --------------------------------------------------------------------------------
void analysis_print(FILE *f, const Analysis *a) { timeline_print(f, &a->form); }

// A perceptual dark-to-light ramp (inferno-like control points).
static void ramp(unsigned char *rgb, float v) {
    static const float cp[6][3] = {
        {0, 0, 4}, {40, 11, 84}, {120, 28, 109}, {203, 71, 60}, {249, 150, 10}, {252, 255, 164}};
    if (!(v > 0)) v = 0;
    if (v > 1) v = 1;
    float p = v * 5;
    int i = (int)p;
    if (i >= 5) i = 4;
    float fr = p - i;
    for (int c = 0; c < 3; c++) rgb[c] = (unsigned char)(cp[i][c] + fr * (cp[i + 1][c] - cp[i][c]) + 0.5f);
}

static const uint32_t LABEL_RGB[8] = {
    RGB(31, 119, 180), RGB(255, 127, 14), RGB(44, 160, 44), RGB(214, 39, 40),
    RGB(148, 103, 189), RGB(140, 86, 75), RGB(227, 119, 194), RGB(23, 190, 207)};

int analysis_ssm_png(const char *path, const Analysis *a) {
    if (!a->ssm || a->T <= 0) return err_set("analysis has no self-similarity matrix to draw");
    int T = a->T;
    int N = T < SSM_MAX ? T : SSM_MAX;    // matrix side in pixels
    int o = SSM_BAND + SSM_PAD;           // matrix origin (x and y)
    Canvas cv;
    canvas_init(&cv, o + N, o + N, RGB(0, 0, 0));
    // contrast stretch between the 2nd and 98th percentile of a sample
    int ns = 4096;
    float *smp = mallocCheck(sizeof(float) * ns);
    for (int i = 0; i < ns; i++) smp[i] = a->ssm[(size_t)((double)i / ns * ((double)T * T - 1))];
    for (int i = 1; i < ns; i++) { float v = smp[i]; int j = i - 1; while (j >= 0 && smp[j] > v) { smp[j + 1] = smp[j]; j--; } smp[j + 1] = v; }
    float lo = smp[ns / 50], hi = smp[ns - ns / 50 - 1];
    free(smp);
    if (hi <= lo) hi = lo + 1e-3f;
    for (int y = 0; y < N; y++) {
        // box average of the frames under each pixel: a smaller, calmer image
        int i0 = (int)((long)y * T / N), i1 = (int)((long)(y + 1) * T / N);
        if (i1 <= i0) i1 = i0 + 1;
        for (int x = 0; x < N; x++) {
            int j0 = (int)((long)x * T / N), j1 = (int)((long)(x + 1) * T / N);
            if (j1 <= j0) j1 = j0 + 1;
            double acc = 0;
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++) acc += a->ssm[(size_t)i * T + j];
            float v = (float)(acc / ((i1 - i0) * (j1 - j0)));
            v = roundf((v - lo) / (hi - lo) * 31.0f) / 31.0f;   // 32 levels: a third of the file size
            ramp(cv.px + 3 * ((size_t)(y + o) * cv.w + x + o), v);
        }
    }
    double px_per_s = N / (T * a->frame_s);
    for (int k = 0; k < a->form.n; k++) {
        const SongSection *s = &a->form.sections[k];
        int p0 = (int)((s->start - a->t0) * px_per_s), p1 = (int)((s->end - a->t0) * px_per_s);
        if (p0 < 0) p0 = 0;
        if (p1 > N) p1 = N;
        int li = analysis_label_index(s->label);
        uint32_t col = LABEL_RGB[(li < 0 ? 0 : li) % 8];
        canvas_rect(&cv, o + p0, 0, o + p1, SSM_BAND, col);      // strip above
        canvas_rect(&cv, 0, o + p0, SSM_BAND, o + p1, col);      // strip left
        char lab[3] = {s->label[0], s->label[0] ? s->label[1] : 0, 0};
        if (p1 - p0 >= 12) {
            int mid = o + (p0 + p1) / 2;
            canvas_text(&cv, mid - text_width(lab, 2) / 2, 1, lab, 2, RGB(255, 255, 255));
            canvas_text(&cv, 4, mid - TEXT_HEIGHT(2) / 2, lab, 2, RGB(255, 255, 255));
        }
        if (k > 0) {   // boundary: one row and one column across the matrix
            canvas_rect(&cv, o, o + p0, o + N, o + p0 + 1, SSM_LINE_RGB);
            canvas_rect(&cv, o + p0, o, o + p0 + 1, o + N, SSM_LINE_RGB);
        }
    }
    int rc = canvas_write_png(&cv, path);
    canvas_free(&cv);
    return rc;
}

// ---- evaluation measures ---------------------------------------------------------------------
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void boundary_prf(double *p, double *r, double *f, const double *ref, int nref, const double *est, int nest,
                  double tol) {
    double *rs = mallocCheck(sizeof(double) * (nref + 1)), *es = mallocCheck(sizeof(double) * (nest + 1));
    memcpy(rs, ref, sizeof(double) * nref);
    memcpy(es, est, sizeof(double) * nest);
    qsort(rs, nref, sizeof(double), cmp_double);
    qsort(es, nest, sizeof(double), cmp_double);
    // Greedy left-to-right matching of sorted points within a tolerance is a
    // maximum one-to-one matching (an interval graph), as mir_eval's is.
    int hits = 0, j = 0;
    for (int i = 0; i < nref; i++) {
        while (j < nest && es[j] < rs[i] - tol) j++;
        if (j < nest && fabs(es[j] - rs[i]) <= tol) { hits++; j++; }
    }
    *p = nest ? (double)hits / nest : (nref ? 0.0 : 1.0);
    *r = nref ? (double)hits / nref : (nest ? 0.0 : 1.0);
    *f = (*p + *r) > 0 ? 2 * *p * *r / (*p + *r) : 0.0;
    free(rs);
    free(es);
}

static int label_at(double t, const double *starts, const int *labels, int n) {
    int k = 0;
    while (k + 1 < n && starts[k + 1] <= t) k++;
    return labels[k];
}

void pairwise_prf(double *p, double *r, double *f, const double *ref_starts, const int *ref_labels, int nref,
                  const double *est_starts, const int *est_labels, int nest, double dur, double step) {
    long nf = (long)(dur / step);
    int *a = mallocCheck(sizeof(int) * (nf + 1)), *b = mallocCheck(sizeof(int) * (nf + 1));
    int amax = 0, bmax = 0;
    for (long i = 0; i < nf; i++) {
        double t = (i + 0.5) * step;
        a[i] = label_at(t, ref_starts, ref_labels, nref);
        b[i] = label_at(t, est_starts, est_labels, nest);
        if (a[i] > amax) amax = a[i];
        if (b[i] > bmax) bmax = b[i];
    }
    // pair counts from the contingency table: sum over cells of C(n, 2)
    long *tab = callocCheck((size_t)(amax + 1) * (bmax + 1), sizeof(long));
    long *ca = callocCheck(amax + 1, sizeof(long)), *cbb = callocCheck(bmax + 1, sizeof(long));
    for (long i = 0; i < nf; i++) { tab[a[i] * (bmax + 1) + b[i]]++; ca[a[i]]++; cbb[b[i]]++; }
    double both = 0, sa = 0, sb = 0;
    for (long i = 0; i < (long)(amax + 1) * (bmax + 1); i++) both += 0.5 * tab[i] * (tab[i] - 1);
    for (int i = 0; i <= amax; i++) sa += 0.5 * ca[i] * (ca[i] - 1);
    for (int i = 0; i <= bmax; i++) sb += 0.5 * cbb[i] * (cbb[i] - 1);
    *p = sb > 0 ? both / sb : 1.0;
    *r = sa > 0 ? both / sa : 1.0;
    *f = (*p + *r) > 0 ? 2 * *p * *r / (*p + *r) : 0.0;
    free(a); free(b); free(tab); free(ca); free(cbb);
}
