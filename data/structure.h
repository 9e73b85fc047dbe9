// structure — how well a song's sections repeat, measured from its sound and
// a timeline (util/song.h): the measures issue 14's ablation reads for the
// songs refrain makes, and the same measures on real songs with exact labels
// as the reference. Used by `refrain structure` (cli/cmd_structure.c).
// It owns no segmentation (analyze.h: this needs the sections given), no
// decoding (audio/) and no corpus files (corpus.h: it only reads them).
//
// Everything starts from the model's log-mel (audio/audio.h: 80 Slaney bands,
// log(max(mel, 1e-5)), 86.13 frames/s): the corpus keeps only the log-mel, so
// audio goes through logmel_from_audio first and both are the same measure.
//
// 1. Features, one frame per STRUCT_HOP_MELS log-mel frames (0.186 s, 5.38/s,
//    the analyzer's frame):
//    - chroma (12): the power of each mel band (undoing the Slaney area norm
//      and the log floor) spread over pitch classes by the analyzer's chroma
//      filterbank seen through the band's triangle; only bands no wider than
//      STRUCT_CHROMA_MAX_ST semitones count (from band 15, 624-689 Hz, up:
//      below, a band spans several semitones and smears every pitch class)
//      up to the filterbank's 4 kHz; lower notes count through their
//      harmonics. L2-normalised per frame, then the song's mean frame is
//      subtracted.
//    - timbre (20): DCT-II coefficients 1..20 of the log-mel (c0, the level,
//      is left out), each standardised over the song (mean 0, sd 1), as the
//      analyzer does.
//    Centring over the song makes a similarity say "more alike than this
//    song's average frame": unrelated frames average about 0, not a level
//    set by the instrumentation (raw chroma and MFCCs of any two frames of
//    one song have cosines near 1). Taking the best of the 2L + 1 lags lifts
//    unrelated sections a little above 0 (0.14 on average for eight
//    synthetic sections in tests/test_data_structure.c, at most 0.28).
// 2. Section pairs: for sections a (frames a_0..a_{La-1}) and b, and each lag
//    l in [-L, L] (L = max_lag_s, default 2 s = 11 frames) at which at least
//    min_overlap (0.5) of the shorter section overlaps,
//        s(l) = mean over k of cos(a_k, b_{k+l})    (k where both exist)
//    computed for chroma and for timbre; cos(u, v) = u.v / sqrt(|u|^2 |v|^2)
//    in double (0 when a vector is 0). chroma = max_l s_chroma(l),
//    timbre = max_l s_timbre(l), combined = max_l (s_chroma(l) + s_timbre(l)) / 2
//    (one alignment for both), whose lag is reported. Sections shorter than
//    min_section_s (1 s) are left out.
// 3. Per song, for each of chroma, timbre, combined: the gap = mean over
//    same-label pairs - mean over different-label pairs, and the AUC of
//    telling them apart = P(same > different) + P(same = different) / 2 over
//    all (same, different) pairs of pairs (Mann-Whitney U / (n_s n_d)).
//    NAN when the song has no same-label or no different-label pair.
// 4. Structureness: MusDr's structureness indicator (Wu & Yang 2020, "The
//    Jazz Transformer on the front line", ISMIR; github.com/slSeanWU/MusDr,
//    after Mueller's FMP notebooks), ported faithfully except for its chroma:
//    chroma at 10 Hz (here from the log-mel, see 1, pooled over 0.1 s; MusDr:
//    librosa chroma_stft, hop 2205, n_fft 4410), L2 per frame, a 21-frame
//    boxcar, every 5th frame (2 Hz), L2 again (below 0.001: the flat unit
//    vector); the SSM is the dot product made transposition-invariant (max
//    over 12 cyclic shifts) and path-enhanced (mean over 16 frames along
//    diagonals at 7 relative tempi 0.5..2, forward and backward, max);
//    thresholded keeping the top 25% of cells, scaled to [0, 1], the rest set
//    to -2, diagonal 1. The fitness of a segment (Mueller, Grosche & Jiang
//    2012) is the harmonic mean of the normalised score and normalised
//    coverage of its optimal path family (dynamic programming over the SSM's
//    columns of the segment, steps (1,1), (1,2), (2,1), an "elevator" column
//    between paths); SI(lo, hi) = the largest fitness over all segments
//    whose length in 2 Hz frames lies in [int(2 lo), int(2 hi)] (MusDr's
//    rows int(2 lo) - 1 .. int(2 hi) - 1 of its length-minus-one axis), or 0.
//    MusDr reports SI(3, 8) (short), SI(8, 15) (mid), SI(15, 128) (long).
//    Cost: O(N^2 L^2 / 2) for N 2 Hz frames and segments up to L = 256:
//    about a second for a three-minute song.
// 5. Similarity against distance: the mean combined frame similarity
//    (cos of chroma + cos of timbre) / 2 over frame pairs i < j, binned by
//    their distance (j - i) frames in seconds, bins curve_bin_s wide up to
//    curve_max_s. Repeats show as bumps at the distance between repeats.
//
// Over songs (structure_summarize): means with 95% percentile bootstrap
// intervals over songs (util/stats.h stats_bootstrap95: songs resampled with
// replacement, the same seed, so the same draws, for every measure).
//
// Functions return 0 / -1 with err_set() (util/util.h).
#ifndef REFRAIN_STRUCTURE_H
#define REFRAIN_STRUCTURE_H

#include <stdint.h>
#include <stdio.h>

#include "data/corpus.h"
#include "util/song.h"

#define STRUCT_HOP_MELS 16        // log-mel frames per feature frame (0.186 s)
#define STRUCT_CHROMA 12
#define STRUCT_TIMBRE 20          // DCT coefficients 1..20
#define STRUCT_CHROMA_MAX_ST 3.0  // widest mel band (semitones) that counts for chroma
#define STRUCT_SI_RATE 2.0        // MusDr's SSM frame rate (Hz)
#define STRUCT_SI_MAX_LEN 256     // longest segment scored: 128 s, MusDr's default upper bound

enum { SIM_CHROMA = 0, SIM_TIMBRE = 1, SIM_COMBINED = 2, SIM_KINDS = 3 };
enum { SI_SHORT = 0, SI_MID = 1, SI_LONG = 2, SI_KINDS = 3 };   // SI(3,8), SI(8,15), SI(15,128)
extern const char *const SIM_NAME[SIM_KINDS];   // "chroma", "timbre", "combined"
extern const char *const SI_NAME[SI_KINDS];     // "SI(3,8)", "SI(8,15)", "SI(15,128)"

typedef struct {
    double max_lag_s;      // alignment search +- (default 2)
    double min_overlap;    // fraction of the shorter section that must overlap (default 0.5)
    double min_section_s;  // shorter sections are left out of the pairs (default 1)
    double curve_bin_s;    // similarity-against-distance bin width (default 5)
    double curve_max_s;    // ... up to this distance (default 120)
    int structureness;     // compute MusDr's SI (default 1; 0 leaves si NAN)
    int keep_ssm;          // keep the frame self-similarity for a PNG (default 0)
} StructureOpts;

void structure_defaults(StructureOpts *o);

// ---- features -----------------------------------------------------------------------
typedef struct {
    long T;                // feature frames: ceil(log-mel frames / STRUCT_HOP_MELS)
    double rate;           // frames per second (SAMPLE_RATE / (HOP * STRUCT_HOP_MELS))
    float *chroma;         // (T, 12) L2-normalised, song mean subtracted
    float *timbre;         // (T, 20) standardised over the song
} StructureFeatures;

// logmel: (T, N_MELS) as logmel_from_audio makes it. Refuses T < STRUCT_HOP_MELS.
int structure_features(StructureFeatures *f, const float *logmel, long T);
void structure_features_free(StructureFeatures *f);
// The chroma mapping of one log-mel frame (before any normalisation): (12).
void structure_chroma_frame(float *chroma, const float *logmel_frame);

// Best alignment of frames [a0, a1) and [b0, b1) of f (section 2 above):
// sim[SIM_*], *lag = the combined's best l in frames (b's frame k + l matches
// a's frame k). Returns 0, or -1 (no err_set) when no lag overlaps enough.
int structure_pair_similarity(float sim[SIM_KINDS], int *lag, const StructureFeatures *f, long a0, long a1,
                              long b0, long b1, int max_lag, double min_overlap);

// AUC of telling pos from neg: (#{p > q} + #{p = q} / 2) / (npos nneg); NAN if either is empty.
double structure_auc(const double *pos, int npos, const double *neg, int nneg);

// ---- structureness (MusDr) ------------------------------------------------------------
// MusDr's 2 Hz SSM (section 4): *S (N, N) malloc'd, row-major, in [0, 1] or -2, diagonal 1.
int structure_musdr_ssm(double **S, int *N, const float *logmel, long T);
// Largest fitness per segment length over all starts: rowmax[l - 1] for
// lengths l = 1 .. lmax (lmax <= N); -INFINITY where not computed (l < lmin).
void structure_fitness_rowmax(double *rowmax, const double *S, int N, int lmin, int lmax);
// The fitness of one segment [start, start + len) of S (N, N), as MusDr's
// compute_fitness; the other outputs may be NULL.
double structure_segment_fitness(const double *S, int N, int start, int len, double *score_n, double *coverage_n);
// si[SI_*] of a log-mel (T, N_MELS).
int structure_si(double si[SI_KINDS], const float *logmel, long T);

// ---- one song ---------------------------------------------------------------------------
typedef struct {
    int a, b;                  // section indices into the form, a < b
    int same;                  // same label
    float sim[SIM_KINDS];      // best-aligned similarity
    float lag_s;               // lag of the combined's best alignment, seconds (b later than a: > 0)
} StructurePair;

typedef struct {
    int n_sections;            // in the form
    int n_used;                // long enough to be compared
    int n_pairs, n_same, n_diff;
    StructurePair *pairs;      // (n_pairs)
    double same_mean[SIM_KINDS], diff_mean[SIM_KINDS];   // NAN when none
    double gap[SIM_KINDS], auc[SIM_KINDS];               // NAN when no same or no different pair
    double si[SI_KINDS];       // NAN when not computed
    int n_bins;                // similarity against distance: bin k = [k, k+1) * bin_s
    double bin_s;
    double *curve;             // (n_bins) mean similarity; NAN where no frame pair
    double duration;           // T * HOP / SAMPLE_RATE of the log-mel, seconds
    long T;                    // feature frames
    double frame_s;
    float *ssm;                // (T, T) combined frame similarity when opts.keep_ssm, else NULL
} StructureResult;

// Refuses a form with no sections, a section that is empty, starts before 0
// or ends more than 0.05 s past duration (seconds), naming it.
int structure_check_form(const SongForm *form, double duration);
// The measures of one song: log-mel (T, N_MELS) and its sections (in time
// order or not; structure_check_form with duration T * HOP / SAMPLE_RATE).
int structure_measure(StructureResult *r, const float *logmel, long T, const SongForm *form,
                      const StructureOpts *o);
// The same from mono audio at SAMPLE_RATE (through logmel_from_audio).
int structure_measure_audio(StructureResult *r, const float *x, long n, const SongForm *form,
                            const StructureOpts *o);
void structure_result_free(StructureResult *r);

// One song's report (refrain structure IN): "NAME: " (when name is not NULL)
// and the counts of sections and pairs, a table of the three measures, SI, the
// curve, and one line per pair.
void structure_print(FILE *f, const char *name, const StructureResult *r, const SongForm *form);
// JSON object with the same (labels from form). Returns 0 or -1 on a write error.
int structure_write_json(FILE *f, const StructureResult *r, const SongForm *form);
// The frame self-similarity (needs keep_ssm) with the section boundaries and
// labels (mapped to letters A, B, ... by first appearance; analysis_ssm_png's
// picture), written to exactly path (atomic output is the caller's: util.h OutTx).
int structure_ssm_png(const char *path, const StructureResult *r, const SongForm *form);

// ---- over songs ---------------------------------------------------------------------------
typedef struct {
    double mean, lo, hi;       // mean over songs and its 95% bootstrap interval (NAN if n == 0; lo = hi = NAN if n < 2)
    int n;                     // songs with a value
} StructureInterval;

typedef struct {
    int n_songs;
    StructureInterval gap[SIM_KINDS], auc[SIM_KINDS], same[SIM_KINDS], diff[SIM_KINDS], si[SI_KINDS];
    int n_bins;
    double bin_s;
    StructureInterval *curve;  // (n_bins)
} StructureSummary;

// Mean over songs of each measure (songs where it is NAN left out) with
// `boot` bootstrap resamples of those songs, seeded (boot 0: no intervals).
void structure_summarize(StructureSummary *s, const StructureResult *songs, int n, int boot, uint64_t seed);
void structure_summary_free(StructureSummary *s);
void structure_summary_print(FILE *f, const StructureSummary *s);
int structure_summary_write_json(FILE *f, const StructureSummary *s);

// The reference: every song of `split` in the corpus at dir whose source bit
// (1 << SRC_MMA, 1 << SRC_MODULE, ...) is in sources, measured from its
// shard's log-mel against its sections; at most max_songs (<= 0: all).
// Progress on stderr (util.h progress). *songs (n) malloc'd, in song-id order;
// *meta (n) malloc'd: each song's id, source, duration and sections (free each
// with corpus_song_free). Refuses a split holding no such song.
int structure_corpus(StructureResult **songs, CorpusSong **meta, int *n, const char *dir, int split,
                     unsigned sources, int max_songs, const StructureOpts *o);
// "mma,module" -> source bits (1 << SRC_MMA | 1 << SRC_MODULE); 0 on an unknown name.
unsigned structure_sources(const char *list);
// The reference's songs as a table, one row each: song, source, sections,
// pairs, combined gap and AUC, the three SI (refrain structure --corpus).
void structure_corpus_print(FILE *f, const StructureResult *r, const CorpusSong *meta, int n);
// {"reference": <summary>, "songs": [{"song": ..., "source": ..., "measures": <song>}, ...]}.
// 0, or -1 with err_set() on a write error.
int structure_corpus_write_json(FILE *f, const StructureSummary *sum, const StructureResult *r,
                                const CorpusSong *meta, int n);

#endif
