// autoencoder — the mel autoencoder (design.md: "Latents: about 21.5
// frames/s (4x in time), 16 to 32 channels"): a 1-D convolutional encoder and
// decoder over log-mel, its parameter layout, activation arena, forward and
// hand-written backward, its loss (L1 reconstruction + a small KL on a learned
// log-variance), whole-song encode/decode with unit-scale latents, its
// checkpoint files, its training loop (autoencoder/train.c) and the linear
// baseline it is judged against (autoencoder/baseline.c).
// It owns no audio I/O or vocoder (audio/), no layer math (nn/), no corpus
// files (data/).
//
// Legend: B batch, M mel bands (80), T mel frames, Tl = T/4 latent frames,
// Z latent channels, C0 C1 C2 widths at T, T/2, T/4, G groups of GroupNorm.
// Tensors are channel-major (B, C, T) inside the network; the corpus and the
// public encode/decode API are frame-major: log-mel (T, M), latents (Tl, Z).
//
//   x  = (logmel - in_shift) * in_scale                        (B, M, T)
//   encoder:  conv3 M->C0 | res(C0) x Re | down C0->C1 | res(C1) x Re
//             | down C1->C2 | res(C2) x Re | GN SiLU | conv3 C2->2Z   (B, 2Z, Tl)
//   [mu, logvar] = split(moments); z = mu + exp(logvar/2) * eps  (B, Z, Tl)
//   decoder:  conv3 Z->C2 | res(C2) x Rd | up2x, conv3 C2->C1 | res(C1) x Rd
//             | up2x, conv3 C1->C0 | res(C0) x Rd | GN SiLU | conv3 C0->M  (B, M, T)
//   res(C):   y = x + conv3(SiLU(GN(conv3(SiLU(GN(x))))))
//   down:     conv k=3, stride 2, pad 1 (T even -> T/2)
//   loss = mean |x_hat - x| + kl_weight * mean KL(N(mu, e^logvar) || N(0, 1))
//
// Linear paths (cfg.linear): mu += conv k=4 stride 4 M->Z of x, and
// x_hat += the 4 frames of a 1x1 conv Z->4M of z laid out in time. Training
// starts them at the PCA of stacked 4-frame groups of the training split
// (ae_init_pca) with the convolutional paths' last layers at zero, so the
// model starts as the best linear autoencoder of its size and the
// convolutional paths learn what is left.
//
// Shipped latents are unit scale: encode returns (mu - lat_mean) / lat_std per
// channel, with lat_mean, lat_std measured over the training split after
// training and stored in the model file (tensors "latent.mean", "latent.std").
#ifndef REFRAIN_AUTOENCODER_H
#define REFRAIN_AUTOENCODER_H

#include <stdint.h>

#include "data/corpus.h"
#include "nn/nn.h"
#include "util/util.h"

#define AE_KIND "autoencoder"
#define AE_DOWN 4              // time downsampling factor
#define AE_MAX_OPS 64

typedef struct {
    int n_mels;                // M (80)
    int z;                     // latent channels Z
    int ch[3];                 // C0, C1, C2
    int enc_res, dec_res;      // residual blocks per level
    int groups;                // GroupNorm groups (divides every width)
    float in_shift, in_scale;  // fixed input affine: x = (logmel - shift) * scale
    float kl_weight;           // KL weight in the loss (training only, stored)
    int linear;                // 1: linear paths beside the convolutional ones (below)
} AeConfig;

// The shipped configuration: M 80, Z 24, widths 64/128/256, 1 encoder and
// 1 decoder block per level, 16 groups, shift -5.0, scale 0.4, KL 1e-3.
AeConfig ae_config_default(void);
int ae_config_check(const AeConfig *c);   // 0 or -1 with err_set
// The configuration as checkpoint hyperparameters, and back.
void ae_config_to_hparams(const AeConfig *c, Hparams *hp);
int ae_config_from_hparams(AeConfig *c, const Hparams *hp);

typedef enum { AE_CONV, AE_RES, AE_UP, AE_NORMACT } AeOpKind;

// One stage of the encoder or decoder; times are relative: the op's input is
// T_in = T * tin_num / tin_den frames (T the network input's length).
typedef struct {
    AeOpKind kind;
    int cin, cout;             // channels in and out (equal except for CONV)
    int stride;                // CONV: 1 or 2 (k = 3, pad 1)
    int tmul_num, tmul_den;    // T_out = T_in * num / den
    int w, b;                  // CONV: weight (cout, cin, 3), bias (cout)
    int n1w, n1b, c1w, c1b;    // RES: GroupNorm 1, conv 1 (and NORMACT's GroupNorm in n1w, n1b)
    int n2w, n2b, c2w, c2b;    // RES: GroupNorm 2, conv 2
} AeOp;

typedef struct {
    AeConfig cfg;
    AeOp enc[AE_MAX_OPS], dec[AE_MAX_OPS];
    int n_enc, n_dec;
    int lin_ew, lin_eb;        // (Z, M, 4), (Z): encoder linear path (-1 without)
    int lin_dw, lin_db;        // (4M, Z, 1), (4M): decoder linear path
    int lat_mean, lat_std;     // (Z) each: latent statistics (not trained)
    int has_stats;             // lat_mean/lat_std hold measured values
    ParamSet params;           // declared and allocated by ae_create
} Ae;

// Declares and allocates the parameters (zero), lat_std set to 1.
int ae_create(Ae *m, const AeConfig *cfg);
void ae_free(Ae *m);
// He-normal convolutions, GroupNorm gains 1 and biases 0; the second
// convolution of each residual block scaled by 0.25 (blocks start near identity).
void ae_init(Ae *m, Rng *rng);
struct PcaBaseline;
// Linear paths from a stacked PCA (log-mel units, Z components); zeroes the
// last layers of the convolutional paths (the log-variance rows get bias -8).
int ae_init_pca(Ae *m, const struct PcaBaseline *pca);
long ae_param_count(const Ae *m);
long ae_flops_forward(const Ae *m, int T);   // encoder + decoder, one item, convs only

// Activations of one op (pointers into the arena). RES keeps g1, a1, h1, g2,
// a2 and out; NORMACT keeps g1 and out; CONV and UP keep out only.
typedef struct {
    float *out;                // (B, cout, T_out)
    float *g1, *a1, *h1, *g2, *a2;   // (B, C, T)
    float *mean1, *rstd1, *mean2, *rstd2;   // (B, G)
} AeOpActs;

typedef struct {
    int B, T;                  // capacity (T a multiple of 4)
    int train;                 // backward scratch present
    float *mem;
    long total;
    float *x;                  // (B, M, T) normalized input
    AeOpActs enc[AE_MAX_OPS], dec[AE_MAX_OPS];
    float *z;                  // (B, Z, Tl) sample (or mu)
    float *eps;                // (B, Z, Tl) noise used for z
    float *lin_e;              // (B, Z, Tl) encoder linear path
    float *lin_d;              // (B, 4M, Tl) decoder linear path
    float *dlin;               // (B, 4M, Tl) its gradient (train)
    // backward scratch
    float *d0, *d1, *da, *dg, *dh;   // (B * max C*T) each
    float *dmom;               // (B, 2Z, Tl)
    float *dz;                 // (B, Z, Tl)
} AeActs;

void ae_acts_alloc(AeActs *a, const Ae *m, int B, int T, int train);
void ae_acts_free(AeActs *a);

// Forward of the encoder on a->x (B, M, T), T a multiple of 4 and at most the
// capacity: moments (B, 2Z, Tl) in the last encoder op's out.
int ae_encode_forward(const Ae *m, const ParamSet *p, AeActs *a, int B, int T);
const float *ae_moments(const Ae *m, const AeActs *a);   // (B, 2Z, Tl)
// Decoder forward from a->z (B, Z, Tl): x_hat (B, M, T) in the last decoder op's out.
int ae_decode_forward(const Ae *m, const ParamSet *p, AeActs *a, int B, int T);
const float *ae_output(const Ae *m, const AeActs *a);    // (B, M, T)

typedef struct {
    double loss, rec, kl;      // total, mean |x_hat - x| (normalized units), mean KL
} AeLoss;

// The whole training loss on a->x (filled by the caller, normalized): encoder,
// z = mu + exp(logvar/2) * eps (eps NULL: z = mu, no noise), decoder, loss.
// With grad != NULL (an arena of p's layout) also the backward pass, which
// ACCUMULATES into grad. mse != 0 swaps L1 for MSE (a smooth loss for tests).
int ae_loss(const Ae *m, const ParamSet *p, AeActs *a, const float *eps, int B, int T,
            float *grad, int mse, AeLoss *out);

// Copies log-mel crops (T, M) frame-major into a->x as (B, M, T), normalized.
void ae_load_input(const Ae *m, AeActs *a, int b, const float *logmel, int T);

// ---- whole songs: windowed, any length ----------------------------------------------
// Songs are processed in windows of AE_WIN mel frames with AE_CTX frames of
// context on each side (edge frames repeated past the ends), so GroupNorm sees
// about what it saw in training and a latent depends only on nearby audio.
#define AE_WIN 256
#define AE_CTX 32
static inline long ae_latent_frames(long T) { return (T + AE_DOWN - 1) / AE_DOWN; }
// logmel (T, M) -> lat (Tl, Z), Tl = ae_latent_frames(T). unit != 0 applies the
// stored latent statistics (unit scale); 0 returns raw mu.
int ae_encode(const Ae *m, const float *logmel, long T, float *lat, int unit);
// lat (Tl, Z) -> logmel (T, M) for any T with ae_latent_frames(T) == Tl.
int ae_decode(const Ae *m, const float *lat, long Tl, float *logmel, long T, int unit);

// ---- files ----------------------------------------------------------------------------
// Loads a model file (weights-only or training checkpoint: the EMA weights when
// present). want != NULL: refuse a file whose configuration differs.
int ae_load(Ae *m, const char *path, const AeConfig *want);
int ae_save(const Ae *m, const char *path);   // weights only

// Latent file: "RFNLAT01", u32 Z, u32 Tl, u32 T (mel frames), u32 0, then
// float32 (Tl, Z) little-endian.
// Latent file: "RFNLAT01", u32 Z, Tl, T, 0, then (Tl, Z) float32. latents_write
// writes exactly path (atomicity is the caller's OutTx) and removes it on failure.
// latents_read checks the header against the file's size before allocating and
// refuses a value that is NaN, infinite or past LATENT_VALUE_LIMIT, naming it:
// unit-scale latents lie within a few units; 1e6 is a million standard
// deviations, which no encoder writes, and the decoder's convolutions would
// carry such values to infinity (a file of 1e30 decoded to silence).
#define LATENT_VALUE_LIMIT 1e6f
int latents_write(const char *path, const float *lat, long Tl, int Z, long T);
int latents_read(const char *path, float **lat, long *Tl, int *Z, long *T);

// ---- training (autoencoder/train.c) ----------------------------------------------------
// Training augmentation, all in the mel magnitude domain (ae_augment_crop).
typedef struct {
    float gain_db;             // each crop's gain uniform in +-gain_db dB (0: none)
    float mix;                 // probability a crop is summed with a second one
    float tilt_db;             // spectral tilt: top band +u dB, bottom band -u dB, u uniform in +-tilt_db
} AeAugment;
typedef struct {
    const char *data;          // corpus folder (index.rfi, or shards/ when no index yet)
    const char *out;           // training checkpoint path
    const char *export_path;   // weights-only EMA model at the end (NULL: none)
    const char *init;          // NULL or a checkpoint to resume from (--resume: out)
    int resume;
    long steps;
    long stop_at;              // stop with a checkpoint at this step, keeping the plan of `steps` (a phase); 0: at steps
    int batch, crop;
    float lr, lr_min, kl_weight;
    long warmup;
    int val_every;             // steps
    double ckpt_minutes;
    uint64_t seed;
    double max_minutes;        // stop (and save) after this wall time; 0 = no limit
    int stats_crops;           // crops of the training split for the latent statistics
    AeAugment aug;             // training augmentation (recorded in the checkpoint)
} AeTrainOpts;
// The hyperparameters only training checkpoints hold: the augmentation
// (gain_db, mix, tilt_db), so a resume with other settings is refused.
#define AE_N_AUG_KEYS 3
extern const char *const AE_AUG_KEYS[AE_N_AUG_KEYS];
void ae_train_defaults(AeTrainOpts *o);
int ae_train(const AeTrainOpts *o, const AeConfig *cfg);

// The songs training reads are a SongSet (data/corpus.h, songset_load): each
// song's log-mel (T, M) in songs[i].mel, T = songs[i].meta.n_frames.
// One batch of B random crops of T frames (song chosen in proportion to length).
// aug != NULL: each crop gets a random gain and tilt and is, with probability
// aug->mix, summed with a second crop (its own gain and tilt).
void ae_sample_batch(const Ae *m, AeActs *a, const SongSet *s, Rng *rng, int B, int T, const AeAugment *aug);
// In place over a (T, M) log-mel crop: per-band gains g (M, linear mel
// magnitude factors) and, when other is not NULL, the sum with other (per-band
// gains g2) in mel magnitude; values at the floor count as silence.
// Result is log(max(., LOG_FLOOR)).
void ae_augment_crop(float *x, const float *other, int T, int M, const float *g, const float *g2);
// Fills lat_mean / lat_std from the encoder's mu over n random training crops.
int ae_measure_latent_stats(Ae *m, const ParamSet *p, const SongSet *s, int n, uint64_t seed);

// ---- linear baselines (autoencoder/baseline.c) -------------------------------------------
// PCA to Z components per group of 4 frames, fitted on the training split
// (covariance in double, eigenvectors by cyclic Jacobi). stacked 0: the issue's
// baseline, 4x average pooling then PCA of the 80-band average, reconstruction
// repeats each pooled frame 4 times. stacked 1: PCA of the 4 frames side by
// side (320 numbers), which keeps some detail inside the group: the linear
// autoencoder of the same size, and the autoencoder's linear path at init.
typedef struct PcaBaseline {
    int M, Z, D, stacked;      // D = M (pooled) or 4M (stacked)
    double *mean;              // (D)
    double *comp;              // (Z, D) principal directions, by decreasing variance;
                               // stacked: index k*M + m is frame k of 4, band m
    double *eval;              // (D) all eigenvalues, decreasing
} PcaBaseline;
// every: use every k-th group of 4 frames (1 = all).
int pca_fit(PcaBaseline *b, const SongSet *train, int Z, int stacked, int every);
void pca_reconstruct(const PcaBaseline *b, const float *logmel, long T, float *out);
void pca_free(PcaBaseline *b);
// (Its eigenvectors come from jacobi_eigen, util/stats.h.)

// ---- the evaluation report (autoencoder/eval.c) --------------------------------------------
// `refrain ae-eval`: on the corpus's validation split, log-mel MAE and SNR of
// the reconstruction against the PCA baseline of the same size (above), per
// source and per run of mel bands, spectrograms of one song per source, the
// training curve (o->log) and the time to encode and decode a 3-minute song.
typedef struct {
    const char *model;       // autoencoder model file (default NULL: the shipped one, util.h model_file)
    const char *data;        // corpus folder (default .cache/corpus)
    const char *figs;        // folder for the PNGs (default ".")
    const char *log;         // training log (train-ae's CKPT.tsv) to plot; NULL: none
    const char *note;        // a line under the title; NULL: none
    int max_train_songs;     // fit the baseline on at most this many training songs (0 = all)
    int bench_reps;          // repetitions of the 3-minute benchmark, the best reported (default 3)
} AeEvalOpts;
typedef struct {
    double ae_mae, pca_mae;  // over every validation frame and band
    double gain;             // 1 - ae_mae / pca_mae
    double bench_s;          // encode + decode of the 3-minute song, best wall seconds
} AeEvalResult;
void ae_eval_defaults(AeEvalOpts *o);
// Writes the Markdown report as `report` and the figures into o->figs, each
// through tx (outtx_add / outtx_fopen; the caller commits or aborts).
int ae_eval(OutTx *tx, const char *report, const AeEvalOpts *o, AeEvalResult *r);

#endif
