// analyze — structure analysis of a recording: where the sections are and
// which ones repeat, plus per-section descriptors (loudness, brightness,
// onset density). Used by `refrain analyze` and by the corpus builder to
// label the soundtrack recordings (design.md, "The corpus", source 3).
// It owns no file decoding (audio/io.c) and no model code.
//
// Method (data/analyze.c): coarse frames (~0.19 s) of chroma (12 pitch
// classes from the STFT magnitude) and timbre (DCT of the 80-band log-mel);
// time-delay-embedded cosine self-similarity matrices; novelty from Foote
// checkerboard kernels on each plus structure features (lag matrix of the
// mutual k-NN recurrence, Serra et al. 2014); peak picking with an adaptive
// threshold and a minimum section length (the section scale, below), each boundary then moved to the
// nearby peak of a sharper structure novelty; segments clustered (average
// linkage on a diagonal-path similarity of the path-enhanced recurrence)
// into repeat labels 'A', 'B', ...; same-label neighbours merged, and runs
// about k times a label's other occurrence split again.
// The section scale grows with the song: past scale_from_s (150 s) the shortest
// section, the novelty kernel and the structure-feature blur grow in proportion
// to the duration (5 s up to 2.5 minutes, 10 s at five, 20 s at ten), so a long
// song does not come out as many short sections (a 5-minute song of six 50 s
// sections with a layer coming and going every 8 s: 35 sections at the old fixed
// 6 s scale, 9 with it). Tuned on MMA seeds 5000-5047 and the corpus's training
// modules; evaluation on held-out MMA songs and tracker modules (exact pattern
// labels, from packages outside the corpus too): notebooks_exports/analyzer.md.
// The pattern level (AnalyzeOpts.level = ANALYZE_PATTERNS, `refrain analyze
// --level patterns`) is the finer, exact level of a song made of fixed-length
// patterns or phrases (a tracker module's order list): its repetition period is
// the comb spacing that lands on the most of a sharp novelty (2.5 s checkerboard
// plus short-blur structure features), weighed by a weak prior on the length
// (6 s, 1.2 octaves: the comb alone cannot tell a pattern with a change in its
// middle from two patterns), doubled when the patterns come in locked pairs and
// halved when the patterns at half of it come as "x x" pairs; a
// boundary is placed about every period by dynamic programming (Ellis's beat
// tracker at the pattern scale, so a pattern of another length re-phases the
// grid), and the patterns are labelled by average linkage on their similarity
// over fine log-mel frames (one STFT hop: a pattern played again is the same
// audio): at the best of every alignment within +- 2 s, the 10th percentile of
// the frame cosines (a variant differs in a short part), with no merging of
// equal neighbours (an order list's "c c" is two entries). Against the order
// lists of the corpus's training modules (its tuning set) it scores boundary
// F@3s 0.91 and pairwise F 0.82 where the section level scores 0.61 and 0.60
// (the section level, with about 7 sections for 17 order entries, cannot do
// better than 0.64 and 0.67 even with perfect boundaries and labels at its
// granularity); on held-out modules 0.79 to 0.84 / 0.69 to 0.75 (0.66 / 0.58 on a
// set whose 3.2 to 3.6 s patterns the 6 s prior doubles). What it loses there is
// the period's octave, which is notation (how many bars a composer put in a
// 64-row pattern), not sound: where the octave matches the order list, pairwise
// F is 0.82 to 0.86 (notebooks_exports/analyzer.md, Tries, session 12).
// Descriptors (data/descriptors.c) need only the samples and a time span.
//
// All audio is mono float at SAMPLE_RATE (22,050 Hz, audio/audio.h).
// Functions return 0 / -1 with err_set() (util/util.h).
#ifndef REFRAIN_ANALYZE_H
#define REFRAIN_ANALYZE_H

#include <stdio.h>

#include "util/song.h"

// ---- per-section descriptors (data/descriptors.c) ------------------------------
// Descriptors (util/song.h) of x[start*SR, end*SR) (clamped to [0, n)):
// loudness -70 LUFS and RMS -120 dBFS if silent, brightness over the
// non-silent frames. A span shorter than 0.1 s is refused. Thread-safe.
int section_descriptors(SectionDescriptors *d, const float *x, long n, double start, double end);

// ---- structure analysis (data/analyze.c) ---------------------------------------------
typedef struct {
    double frame_s;        // feature hop in seconds (default 0.186: 16 STFT hops)
    double min_section_s;  // shortest section (default 5; scaled with the song, below)
    double scale_from_s;   // songs longer than this (default 150) scale min_section_s, kernel_s and
    double scale_power;    // sf_time_s by (duration / scale_from_s)^scale_power (default 1; 0 = off)
    double kernel_s;       // half-width of the checkerboard kernel (default 4.5; scaled)
    double embed_s;        // time-delay embedding span (default 1.5)
    float peak_delta;      // adaptive threshold: local mean + delta * global std (default 0.3)
    float label_threshold; // segment similarity above which two segments share a label (default 0.5)
    float chroma_weight;   // weight of chroma vs timbre novelty, 0..1 (default 0.5)
    float knn;             // recurrence neighbours, fraction of frames (default 0.04)
    double sf_time_s;      // structure-feature blur along time, sd in seconds (default 1.75; scaled)
    double sf_lag_s;       // ... along lag (default 0.5)
    float sf_weight;       // weight of structure-feature novelty vs checkerboard (default 0.5)
    double refine_s;       // boundaries move to the sharp novelty peak within +-refine_s (default 1; 0 = off)
    double refine_kernel_s;// time blur (sd, s) of that structure-feature novelty (default 0.6)
    int merge_adjacent;    // merge neighbouring segments that get one label (default 1)
    int split_repeats;     // after merging, cut runs ~k times a label's shortest occurrence (default 1)
    int sf_fold;           // structure features ignore the sign of the lag (default 0)
    int descriptors;       // measure each section's desc (default 1; else left 0)
    // The level of the form (ANALYZE_*): sections (the default) or patterns,
    // the song cut at every repetition of its dominant period (below).
    int level;
    double period_min_s;   // pattern level: the period is sought in [period_min_s, period_max_s]
    double period_max_s;   //   (defaults 2 and 16 s)
    float period_harm;     // ... the shortest comb within this share of the best comb's height (default 0.85)
    double grid_alpha;     // ... weight of the penalty on gaps that are not one period (default 16)
    double pattern_kernel_s; // ... checkerboard half-width of its novelty (default 2.5)
    double period_prior_s;   // ... a log-normal prior on the period, centred here (default 6 s) and
    double period_prior_oct; //   this many octaves wide (default 1.2; 0 = none): weighs the comb between
                             //   a pattern and two of it, or half of it
    int pattern_fine;        // ... patterns compared on fine log-mel frames (one STFT hop, 11.6 ms;
                             //   default 1) instead of the combined matrix of coarse frames (0)
    int pattern_pairs;       // ... with pattern_fine: the period doubles when the patterns found come in
                             //   locked pairs, two of them repeated (default 1)
    float pattern_threshold; // ... segment similarity at which two patterns share a label (default 0.93;
                             //   0.88 suits pattern_fine 0)
    double pattern_halves;   // ... with pattern_fine: the period halves when at least this share of the
                             //   patterns found at half of it come in pairs "x x" (default 0.75; 0 = never)
} AnalyzeOpts;
enum { ANALYZE_SECTIONS = 0, ANALYZE_PATTERNS = 1 };

typedef struct {
    // The sections found (util/song.h), consecutive from 0 to form.duration,
    // the audio's length: repeat labels "A", "B", ... in order of first
    // appearance, occurrences, confidence 0..1 (boundary novelty and clustering
    // margin combined), descriptors; bpm 0. timeline_write writes it as JSON.
    SongForm form;
    // Kept for the PNG and for inspection:
    int T;                 // coarse frames
    double frame_s;        // seconds per coarse frame
    double t0;             // time of frame 0 (leading silence is not analysed)
    float *ssm;            // (T, T) combined self-similarity, 0..1
    float *novelty;        // (T) combined novelty, 0..1
    double period_s;       // pattern level: the repetition period found, seconds (0 at the section level)
} Analysis;

void analyze_defaults(AnalyzeOpts *o);
// x: (n) mono at SAMPLE_RATE. out is filled (free with analysis_free). Audio
// shorter than 2 * min_section_s gives one section. o == NULL: defaults.
int analyze_audio(Analysis *out, const float *x, long n, const AnalyzeOpts *o);
void analysis_free(Analysis *a);

// Repeat label k (0, 1, ...) as the analyzer names it: "A" .. "Z", then
// "AA" .. "ZZ" (the pattern level can find more than 26); and back (-1 if
// name is not such a label).
void analysis_label_name(char *name, size_t cap, int k);
int analysis_label_index(const char *name);

// Human-readable table.
void analysis_print(FILE *f, const Analysis *a);
// Self-similarity matrix as a PNG (dark-to-light ramp; time runs down and
// right), section boundaries drawn as lines, labels in coloured strips above
// and left. Written to exactly path (atomic output is the caller's: util.h OutTx).
int analysis_ssm_png(const char *path, const Analysis *a);
// Geometry of the SSM image (analysis_ssm_png): a label strip SSM_BAND px wide
// above and left, SSM_PAD px of gap, then the N x N matrix, N = min(T, SSM_MAX)
// (frames box-averaged); boundaries are one row and one column of SSM_LINE_RGB.
#define SSM_BAND 18
#define SSM_PAD 2
#define SSM_MAX 480
#define SSM_LINE_RGB 0x00e6ffu   // (0, 230, 255)

// ---- evaluation helpers (used by tests and scripts/eval-analyzer.sh) -----------------
// Boundary hit rate with tolerance tol seconds (standard: one-to-one matching,
// interior boundaries only, i.e. excluding 0 and the end). ref/est: boundary times.
void boundary_prf(double *p, double *r, double *f, const double *ref, int nref,
                  const double *est, int nest, double tol);
// Pairwise frame-level label agreement (Levy & Sandler): frames of step seconds
// over [0, dur); pairs (i<j) with the same label in ref vs est.
// ref_starts/ref_labels: nref sections (start times ascending, label ints).
void pairwise_prf(double *p, double *r, double *f,
                  const double *ref_starts, const int *ref_labels, int nref,
                  const double *est_starts, const int *est_labels, int nest,
                  double dur, double step);

// ---- scoring against a reference (data/reference.c) ------------------------------------
// Reference sections: starts (ascending, seconds) and integer labels by first appearance.
#define ANALYSIS_REF_MAX 256
typedef struct {
    double start[ANALYSIS_REF_MAX];
    int label[ANALYSIS_REF_MAX];
    char name[ANALYSIS_REF_MAX][32];
    int n;
} AnalysisRef;
// A tracker module (anything libopenmpt reads), told by its extension.
int is_tracker_module(const char *path);
// Subsong k of a module rendered (data/modules.c, at most 900 s, as the corpus
// cuts them), keeping [start, start + duration) seconds (duration 0: to the end).
int module_read_range(const char *path, int subsong, double start, double duration, float **x, long *n);
// The reference at path: a JSON timeline, a MIDI file's marker events, or a
// tracker module's played order list (subsong k; every order entry a section
// labelled by its pattern); times shifted by -start (the excerpt analysed).
int analysis_ref_read(AnalysisRef *r, const char *path, int subsong, double start);
// One tab-separated line: "score\tF@0.5s F\tP p\tR r\tF@3s ...\tpairwise ...\tref abab\test ABAB
// \toracle-F@3s f\toracle-pairwise f": the found labels joined ("A.B.AA" once one has two
// letters); the oracle is the reference at the found form's granularity (each found
// boundary moved to the nearest reference one, each segment given the reference label
// covering most of it), what granularity alone allows.
void analysis_score_print(FILE *f, const AnalysisRef *r, const SongForm *a);

// ---- internal, shared by analyze.c, descriptors.c and structure.c ----------------------
// Calls fn(ctx, t, mag) for each centred STFT frame t = 0 .. stft_frames(n)-1
// of x, in order; mag (N_BINS) equals stft_magnitude's row t. Holds only a
// chunk of frames in memory, so hour-long recordings are fine.
int stft_walk(const float *x, long n, void (*fn)(void *ctx, long t, const float *mag), void *ctx);
// Also shared with data/structure.c (analyze.c): the chroma filterbank (12,
// N_BINS) spreading each STFT bin from 100 Hz to 4 kHz over the pitch classes
// near it (0 = C); and the timbre coefficient k (DCT-II over the N_MELS bands)
// of a log-mel frame held as the sum of `count` frames (lm[m] / count).
void chroma_filterbank(float *cb);
double logmel_dct(const float *lm, int count, int k);

#endif
