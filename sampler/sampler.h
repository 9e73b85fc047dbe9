// sampler — turning the denoiser into songs: the ODE samplers for the
// rectified flow and their time schedules (sampler/samplers.c); guidance and
// the song loop, sections in form order with their memory (sampler/song.c);
// refrain.h's generate, which decodes and vocodes the song (sampler/generate.c);
// refrain.h's editing: re-roll, prime, continue, a recording's form (sampler/edit.c);
// the generation quality report (sampler/eval.c) and the window features it
// measures songs by (sampler/features.c); the memory ablation (sampler/ablate.c).
// It owns no network (diffusion/), no conditioning vectors (conditioning/) and
// no audio code; a sampler sees the model only through a VelocityFn. Functions return 0 / -1 with err_set() (util/util.h), never print.
//
// The flow (diffusion/diffusion.h): x_t = (1 - t) x0 + t e, the network
// predicts v = e - x0. Sampling integrates dx/dt = v(x, t) from t = 1 (pure
// noise) down to t = 0 (data). Notation below: x0^ = x - t v, the model's
// prediction of the clean data at (x, t); lambda(t) = log((1 - t) / t), half
// the log-SNR (SNR = ((1 - t) / t)^2).
#ifndef REFRAIN_SAMPLER_H
#define REFRAIN_SAMPLER_H

#include "refrain.h"
#include "autoencoder/autoencoder.h"
#include "data/structure.h"
#include "diffusion/diffusion.h"
#include "util/rng.h"
#include "util/song.h"
#include "util/stats.h"

#include <stdio.h>

// ---- the model as the sampler sees it ---------------------------------------------------
// The model's velocity at (x, t) for n values: writes v (n). ctx is the caller's
// (the song loop: the denoiser with guidance). Returns 0, or -1 with err_set().
typedef int (*VelocityFn)(void *ctx, float *v, const float *x, float t, long n);

// ---- time schedules (sampler/samplers.c) ------------------------------------------------
// steps + 1 times from 1 down to 0: ts[0] = 1, ts[steps] = 0, strictly decreasing.
//   SCHED_LINEAR  uniform in t: ts[i] = 1 - i / steps.
//   SCHED_LOGSNR  uniform in log-SNR on the interior points ts[1..steps-1], from
//                 t_max = 1 - 1/steps to t_min = 1/steps (the linear schedule's
//                 first and last interior points), so every step shrinks as steps
//                 grow (the largest, mid-way, about log(steps) / (2 steps)) and the
//                 deterministic samplers converge at their order in that step.
//   SCHED_SAO     stable-audio-tools' spacing exactly (its rf_denoiser / ping-pong
//                 demos): lambda uniform from -6 to 2 (log-SNR -12 to 4, t from
//                 0.9975 to 0.119) over ts[0..steps], the two ends then clamped to
//                 1 and 0. Its last step always starts at t >= 0.119 however many
//                 steps, so a deterministic sampler ends on the x0^ of that point
//                 and does not converge to the ODE's solution: made for ping-pong.
// shift > 0 stretches every schedule toward t = 1 with SD3's time shift
// t' = shift t / (1 + (shift - 1) t) (Esser et al. 2024); 1 = none.
// Returns 0, or -1 (steps < 1, unknown schedule, shift not > 0, or times that
// float cannot keep apart).
typedef enum { SCHED_LINEAR = 0, SCHED_LOGSNR = 1, SCHED_SAO = 2, SCHED_COUNT } ScheduleKind;
const char *schedule_name(int kind);           // "linear", "logsnr", "sao"; "?" if unknown
int schedule_from_name(const char *name);      // -1 if unknown
int sampler_times(float *ts, int steps, int schedule, float shift);

// ---- samplers (sampler/samplers.c) ------------------------------------------------------
//   SAMPLER_EULER     x += (t' - t) v(x, t). First order; on this flow it is also DDIM.
//   SAMPLER_HEUN      Heun's trapezoid (Karras et al. 2022, EDM Algorithm 1): Euler to
//                     t', a second velocity there, the mean of the two. Second order,
//                     two evaluations a step; the last step (to t = 0) is Euler.
//   SAMPLER_AB2       a second-order multistep that reuses the previous step's velocity,
//                     one evaluation a step: Adams-Bashforth 2 in t on the velocity
//                     (DPM-Solver++(2M) was measured and rejected; samplers.c says why).
//   SAMPLER_PINGPONG  Stable Audio Open Small's ping-pong (stable-audio-tools
//                     sample_flow_pingpong): x0^ at t, then re-noised to t' with fresh
//                     noise from rng, x = (1 - t') x0^ + t' e'. Stochastic; made for
//                     adversarially post-trained models: with a model that predicts the
//                     posterior mean (an MSE-trained flow, as refrain's) its samples are
//                     too narrow: on Gaussian data their sd is 0.47 to 0.62 of the data's
//                     at 8 steps, tending to 1/sqrt(2) as steps grow (tests/test_sampler.c).
typedef enum { SAMPLER_EULER = 0, SAMPLER_HEUN = 1, SAMPLER_AB2 = 2, SAMPLER_PINGPONG = 3, SAMPLER_COUNT } SamplerKind;
const char *sampler_name(int kind);            // "euler", "heun", "ab2", "pingpong"; "?" if unknown
int sampler_from_name(const char *name);       // -1 if unknown

// Model evaluations a sampler makes for `steps` steps on times ending at 0 (as
// sampler_times makes them): Euler, AB2 and ping-pong `steps`, Heun 2 steps - 1;
// -1 for an unknown kind or steps < 1. For progress and time budgets.
int sampler_evals(int kind, int steps);

// Called after each step with step = 1..steps.
typedef void (*SamplerProgress)(void *ctx, int step, int steps);

// Integrates x (n) in place from ts[0] to ts[steps] (ts strictly decreasing in
// [0, 1]) with the given sampler. The deterministic samplers ignore rng (may be
// NULL); ping-pong draws n normals from it at every step but the last. Scratch is
// allocated inside; prog may be NULL. Returns 0, or -1 with err_set(): bad
// arguments, or the velocity's error (its message is kept) after which x holds
// the last completed step.
int sampler_run(int kind, float *x, long n, const float *ts, int steps, VelocityFn f, void *ctx,
                Rng *rng, SamplerProgress prog, void *prog_ctx);

// ---- the song loop (sampler/song.c) ----------------------------------------------------
// One section at a time, in form order: each from seeded noise, denoised with the
// memory of every section made so far (prepared once per section) and the
// previous frames as clean context; a section longer than the model's crop is
// made in chunks of at most crop_frames new frames, each continuing the last
// (the lengths the model was trained on).
typedef struct {
    int sampler;            // SamplerKind
    int schedule;           // ScheduleKind
    float shift;            // schedule time shift (1 = none)
    int steps;              // sampling steps per chunk
    float cfg;              // guidance on the section conditioning (1 = none): v_u + cfg (v_c - v_u)
    float mem_guidance;     // memory guidance (0 = none): + g (v_c - v_no_memory)
    int no_memory;          // 1: every section made without memory (the ablation)
    const SongForm *const *mem_forms;  // the ablation's controls, "another song's memory": NULL, or one entry
    const float *const *mem_lats;      // per section of the form: section i remembers mem_forms[i]'s sections
                               // 0 .. i - 1 (its labels, and its latents mem_lats[i] (T, Z), T its song_bounds)
                               // instead of its own; a NULL entry: its own
    int style;              // 0 none, 1 mma, 2 module, 3 recording
    uint64_t seed;          // section i's noise comes from (seed, i)
    float repeat_strength;  // 0 < X <= 1: a repeated section (its label made earlier) starts from its
                            // label's previous occurrence re-noised to t = X (1 = pure noise, the default);
                            // that occurrence is in the song it remembers (mem_forms[i]'s when given; none
                            // with no_memory: then every section starts from pure noise)
    float seam_t;           // an edit's seam is re-denoised from t = seam_t (SDEdit; default 0.6)
    // Progress: section i of n, chunk, sampling step of steps (may be NULL).
    void (*progress)(void *ctx, int section, int n_sections, int step, int steps);
    void *progress_ctx;
} SongParams;
void song_params_default(SongParams *p);

typedef struct {
    float *lat;             // (T, Z) unit-scale latents of the whole song
    long T;                 // latent frames
    int z;
    long *bounds;           // (n + 1) section boundaries in latent frames
    int n;
    uint64_t *seeds;        // (n) each section's noise seed
    double seconds_denoiser;   // wall time in the denoiser
    int sections_sampled;      // sections sampled (a re-roll: the re-rolled ones; seams not counted)
    long frames_sampled;       // latent frames sampled, seams included
    long memory_tokens;        // memory tokens the sampled sections held, summed (0 without memory)
} SongLatents;
void song_latents_free(SongLatents *s);
// Section boundaries of a form in latent frames: bounds[i] = round(start_i * rate), every
// section at least one frame. Returns the total frames.
long song_bounds(const SongForm *form, long *bounds);
int song_generate(const Denoiser *m, const SongForm *form, const SongParams *p, SongLatents *out);

// ---- editing a song (sampler/song.c; refrain.h's re-roll, prime and continue in sampler/edit.c) ----
// The song loop around latents that exist already. form holds every section,
// the given ones included; lat (T, Z) the latents they start from (T the form's
// song_bounds), NULL when only primed sections are given (their latents then
// come from prime_lat).
//   - sections 0 .. n_prime - 1 are a recording's (primed): never sampled, only
//     remembered; with prime_ctx their last frames are the next section's
//     context (continue), without it the first sampled section has none.
//   - redo[i] (NULL: all) picks the sections sampled, with seeds from
//     (p->seed, i - n_prime) as song_generate's; the others keep their latents
//     and their seeds[i], bit for bit, except the seam: when any of the
//     ctx_frames frames before a kept section changed, its first
//     min(ctx_frames, length) frames are re-noised to t = p->seam_t with its own
//     seed's noise and denoised again (SDEdit) with the new frames before them as
//     context, while the rest of its first chunk stays in the window as known
//     frames held on their noising line x_t = (1 - t) x0 + t e (the model sees both
//     sides of the seam; only the seam's frames are written back). A same-seed
//     re-roll changes nothing, so it makes no seam and reproduces the song.
typedef struct {
    const float *lat;          // (T, Z) every section's latents, or NULL
    const uint64_t *seeds;     // (n) seeds of the kept sections (NULL: 0)
    const uint8_t *redo;       // (n) 1 = sample the section; NULL: every section after the primed ones
    int n_prime;               // leading sections given by a recording
    const float *prime_lat;    // (bounds[n_prime], Z) their latents when lat is NULL
    int prime_ctx;             // 1: the recording's tail is the first sampled section's context
} SongEdit;
int song_generate_edit(const Denoiser *m, const SongForm *form, const SongParams *p, const SongEdit *e,
                       SongLatents *out);

// A generated or loaded song's sections as the song type (spans, seeds, targets; sampler/generate.c),
// for its timeline, spectrogram and measures. sections malloc'd: song_form_free.
SongForm refrain_song_form(const refrain_song *s);
// A public timeline as the song type (sampler/library.c); sections malloc'd: song_form_free.
SongForm refrain_timeline_form(const refrain_timeline *t);

// ---- quality features (sampler/features.c) ----------------------------------------------
// One row per 1-second window of each section of form: [start + k, start + k + 1)
// seconds for k = 0 .. floor(end - start) - 1 (a section's last partial second and
// a section under 1 s give none), the frames lround(s * rate) .. lround((s + 1) * rate)
// of x (T, C) at `rate` frames per second, clipped to [0, T) (a window left empty is
// skipped). The row (2C) is each channel's mean, then its standard deviation
// (divided by the frame count), over the window; it joins fs (fs->d = 2C) in
// `group`. Returns the windows added, or -1 with err_set().
long window_features(FeatureSet *fs, int group, const float *x, long T, int C, double rate, const SongForm *form);
// (a) unit-scale latents lat (T, Z) at COND_FRAME_RATE (about 21.5 frames/s): rows of 2Z.
int latent_window_features(FeatureSet *fs, int group, const float *lat, long T, int Z, const SongForm *form);
// (b) audio (n) at SAMPLE_RATE, analysed by audio/'s log-mel front end
// (logmel_from_audio), then its N_MELS bands at SAMPLE_RATE / HOP frames/s: rows of 2 N_MELS.
int mel_window_features(FeatureSet *fs, int group, const float *audio, long n, const SongForm *form);

// ---- quality distances the reports share (sampler/eval.c) ---------------------------------
// A set of songs' window features, (a) latents and (b) log-mel (above), and its
// Fréchet distance and KAD against a reference with 95% bootstrap intervals over
// the set's songs (generate-eval's rows, ablate's conditions).
enum { QUAL_LATENT = 0, QUAL_MEL = 1, QUAL_KINDS = 2 };
typedef struct {
    char name[96];
    FeatureSet f[QUAL_KINDS];       // rows grouped by song
    int songs;
    int steps, sampler;             // generated sets; -1 otherwise
    int alias;                      // a sweep cell that is the headline setting: its numbers are copied
    double sec_audio, sec_total, sec_den;
    double fd[QUAL_KINDS], fd_lo[QUAL_KINDS], fd_hi[QUAL_KINDS], kad[QUAL_KINDS], kad_lo[QUAL_KINDS], kad_hi[QUAL_KINDS];
} EvalSet;
void eval_set_init(EvalSet *s, const char *name, int z);   // z latent channels
void eval_set_free(EvalSet *s);
// The reference set: every validation song of the corpus at dir, (a) its latents by
// ae's encoder, (b) its log-mel, each cut to its first max_seconds (0: whole songs).
int eval_reference_set(EvalSet *ref, const Ae *ae, const char *dir, double max_seconds);
typedef struct {
    GaussFit fit[QUAL_KINDS];       // prepared (cov^(1/2) kept)
    double bw[QUAL_KINDS];          // KAD bandwidths: the reference's median pairwise distance
    const EvalSet *set;
} EvalReference;
int eval_reference_prepare(EvalReference *r, const EvalSet *ref);
void eval_reference_free(EvalReference *r);
// s's FD and KAD (100 x MMD^2) against r, with `boot` resamples of s's songs (0: no intervals).
int eval_compare(EvalSet *s, const EvalReference *r, int boot, uint64_t seed);
// The four Markdown cells " FD (a) | KAD (a) | FD (b) | KAD (b) |", each "v [lo, hi]" or "-".
void eval_distance_cells(FILE *f, const EvalSet *s);

// ---- a report's songs (sampler/eval.c; generate-eval and ablate) ------------------------------
// generate's defaults (refrain_generate_default_params) with a song's form,
// style and seed and the sampling settings every song of a report shares, and
// progress on stderr through pr (which must outlive the call): "CMD: SET, song
// i/n, section s/S, step k/K", then "CMD: SET, song i/n, decoder" and "vocoder".
typedef struct {
    const char *cmd, *set;   // "ablate", the condition; "generate-eval", the setting
    int song, songs;         // song (from 0) of songs
} ReportProgress;
refrain_generate_params report_song_params(const char *form, int style, uint64_t seed, int steps, int sampler,
                                           int schedule, float cfg, float mem_guidance, int vocoder_iters,
                                           ReportProgress *pr);

// ---- the generation report (sampler/eval.c) ------------------------------------------------
// Fréchet distance and KAD of generated songs against the corpus's validation
// songs over features (a) and (b), beside floors (training songs; validation
// songs through the autoencoder and the vocoder) and a ceiling (Gaussian
// latents decoded and vocoded), and a sweep of steps x samplers against the
// time they take. Generated song i borrows the form of validation song i (its
// labels, lengths and source as style) and is made with seed i + 1 through
// refrain_generate (refrain.h).
#define GEN_EVAL_MAX_STEPS 8
typedef struct {
    const char *model;       // denoiser; NULL: refrain_find_model("denoiser.rfc")
    const char *ae;          // autoencoder; NULL: refrain_find_model("ae.rfc")
    const char *data;        // corpus folder (default .cache/corpus)
    const char *figs;        // folder for the spectrogram PNGs (NULL: none drawn)
    const char *note;        // a line under the title (NULL: none)
    int songs;               // validation songs generated (0: all), spread evenly over the sorted list
    double max_seconds;      // each song cut to its first max_seconds (0: whole songs)
    int steps[GEN_EVAL_MAX_STEPS], n_steps;       // the sweep's steps
    int samplers[SAMPLER_COUNT], n_samplers;      // the sweep's samplers (SamplerKind)
    int main_steps, main_sampler;                 // the headline setting (generate's defaults)
    int schedule;            // every setting's time schedule
    float cfg, mem_guidance; // every setting's guidance
    int vocoder_iters;       // Griffin-Lim iterations of every rendering
    int boot;                // bootstrap resamples over songs (0: no intervals)
    uint64_t seed;           // the ceiling's Gaussian latents and the bootstrap
} GenEvalOpts;
// generate's defaults (refrain_generate_default_params), the sweep {4, 8, 16, 32}
// x {euler, heun, ab2, pingpong}, 16 songs of at most 60 s, 200 resamples.
void gen_eval_defaults(GenEvalOpts *o);
// Writes the Markdown report to f and, when o->figs is set, generate-1..3.png
// (spectrograms of three generated songs with their sections) into it. Progress
// on stderr (util's progress). Returns 0, or -1 with err_set().
int generate_eval(FILE *f, const GenEvalOpts *o);

// ---- the memory ablation (sampler/ablate.c, `refrain ablate`) ------------------------------
// The same songs (one form, seeds seed + i) under: memory; no memory; another
// song's memory (song i remembers song (i + 1) mod N of the memory condition,
// refrain_generate_params.memory_from); each memory guidance of the sweep; the
// memory condition with each extra denoiser (its K); each repeat strength of a
// second sweep (a repeat starts from what its section remembers: its own song's
// earlier occurrence, the other song's for the control, none without memory). Structure from the rendered
// audio (data/structure.h) against the validation MMA songs and modules
// (structure_corpus), issue 14's target lines, quality (eval_compare) and cost.
// Songs are kept in <work>/<model hash>/ and reused when their settings match.
#define ABLATE_MAX_SWEEP 8
#define ABLATE_MAX_MODELS 8
typedef struct {
    const char *form;              // every song's form (refrain_generate_params.form)
    int songs;                     // N >= 2
    uint64_t seed;                 // song i's seed: seed + i; also the bootstraps'
    const char *model, *ae;        // NULL: refrain_find_model
    const char *models[ABLATE_MAX_MODELS];   // extra denoisers: the memory condition with each
    int n_models;
    const char *data;              // corpus: the real-song and quality references (its validation split)
    const char *work;              // song store root: songs in <work>/<model hash, 16 hex digits>/
    const char *figs;              // folder for the PNGs (NULL: none drawn)
    const char *note;              // a line under the title (NULL: none)
    float mg_sweep[ABLATE_MAX_SWEEP];   // memory guidance settings (one equal to mem_guidance reuses the memory songs)
    int n_sweep;
    float rs_sweep[ABLATE_MAX_SWEEP];   // repeat strengths, each with memory (one equal to repeat_strength: the memory songs)
    int n_rs_sweep;
    float repeat_strength;         // every condition's but the sweep's (no memory: always 1; 1: from pure noise)
    double bpm;
    int style, steps, sampler, schedule, vocoder_iters;
    float cfg, mem_guidance;       // every condition's (mem_guidance: all but the sweep's)
    int boot;                      // bootstrap resamples over songs (0: no intervals)
} AblateOpts;
typedef struct {
    int generated, reused;         // songs made in this run, and found in the store
} AblateCounts;
// generate's defaults, 20 songs from seed 1, sweep 0,1,2,4, .cache/corpus, .cache/ablate, 200 resamples.
void ablate_defaults(AblateOpts *o);
// Writes the Markdown report to f and, when o->figs is set, ablation-ssm-memory.png,
// ablation-ssm-none.png and ablation-pairs.png into it (each atomically). Progress on
// stderr (util's progress). counts (may be NULL) says how many songs were made and
// reused. Returns 0, or -1 with err_set().
int ablate_run(FILE *f, const AblateOpts *o, AblateCounts *counts);
// Over the songs where both a[i] and b[i] are finite: the mean of a[i] - b[i]
// (paired difference) or sum a / sum b (paired ratio of means), with the 95%
// percentile interval of `boot` resamples of those songs (stats_bootstrap95, seeded;
// lo = hi = NAN when boot is 0 or fewer than 2 songs); .n the songs used.
StructureInterval ablate_paired_difference(const double *a, const double *b, int n, int boot, uint64_t seed);
StructureInterval ablate_paired_ratio(const double *a, const double *b, int n, int boot, uint64_t seed);
// mean(a) / mean(b) of two independent sets (finite values), each resampled on its own.
StructureInterval ablate_ratio(const double *a, int na, const double *b, int nb, int boot, uint64_t seed);

#endif
