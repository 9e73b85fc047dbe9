// diffusion — the section denoiser and how it learns: the rectified-flow
// objective, the denoiser network (nn/dit's block stack with refrain's
// conditioning and section memory), the latent corpus it trains on, and its
// training loop (diffusion/train.c). It owns no form parsing or feature
// vectors (conditioning/), no sampling loop (sampler/), no autoencoder.
//
// Legend: B batch, T frames in a sequence (context + new), S memory tokens,
// Z latent channels, C width, E conditioning width, Ci = Z + COND_FRAME_DIM
// network input channels, Fc = t_dim + COND_SEC_DIM raw conditioning features,
// Fm = Z + COND_MEM_EXTRA raw memory-token features, K tokens per section;
// for learned-query pooling (mem_pool 1): Ns remembered-section slots (S / K),
// Lm frames kept per remembered section (crop_frames), Fp = Z + COND_MEM_POS
// per-frame features, Fs = COND_MEM_SEC_DIM per-section features,
// Fk = Fs + COND_MEM_POS section-map input per token, D = C / H head size.
//
//   rectified flow:  x_t = (1 - t) x0 + t e,  v = e - x0,  t ~ logit-normal(0, 1)
//
//   per example: [P clean context frames | new frames x_t | padding]   (T, Ci)
//   cf  = [sinusoid(1000 t) | section features]                         (B, Fc)
//   cond = c2(SiLU(c1(cf)))                                             (B, E)
//   mem  = mw(mf) over every token of every remembered section          (B, S, C)
//          (mem_pool 1: mem = pool(frames of each section), below)
//   v_hat = DiT(x, cond, mem, mem_mask, self_mask)                      (B, T, Z)
//   loss = mean over new, valid frames and channels of (v_hat - v)^2
//
// Memory tokens: each earlier section of the song, pooled at K fixed spans
// (conditioning/features.c) and mapped by one linear layer, carrying its
// label and distance; K = 0 keeps every frame (the uncompressed reference).
//
// Learned-query attention pooling (mem_pool 1), per remembered section j:
//   fr = [latents | place in the section] of its frames, at most Lm     (Lm, Fp)
//   k = wk(fr), v = wv(fr) (no bias: a key bias cancels in the softmax)  (Lm, C)
//   a = MultiHeadAttn(q, k, v, frame mask), q learned, H heads           (K, C)
//   mem_j = a + ws([section features | place of token k]) + bs          (K, C)
// The queries start near 0 (N(0, 0.02)): the pooling starts as the mean of
// v over the section's frames, the token's place telling the K tokens apart.
#ifndef REFRAIN_DIFFUSION_H
#define REFRAIN_DIFFUSION_H

#include <stdint.h>

#include "conditioning/conditioning.h"
#include "nn/nn.h"

#define DENOISER_KIND "denoiser"

// ---- the network ----------------------------------------------------------------------
typedef struct {
    int z;              // latent channels Z (the autoencoder's)
    int width;          // C
    int depth;          // L blocks
    int heads;          // H
    int cond_dim;       // E
    int t_dim;          // timestep sinusoid width
    int mem_k;          // K tokens per remembered section; 0 = every frame (uncompressed)
    int mem_sections;   // remembered sections at most (same-label first, then most recent)
    int mem_tokens;     // S capacity (mem_sections * K, or a frame cap when K = 0)
    int mem_pool;       // the compressor: 0 K fixed spans + a linear map; 1 learned-query
                        // attention pooling (K > 0; crop_frames frames per section at most)
    int ctx_frames;     // P clean context frames from before the section
    int crop_frames;    // new frames per training example (sections longer are cropped)
} DenoiserConfig;

DenoiserConfig denoiser_config_default(void);
int denoiser_config_check(const DenoiserConfig *c);
void denoiser_config_to_hparams(const DenoiserConfig *c, Hparams *hp);
int denoiser_config_from_hparams(DenoiserConfig *c, const Hparams *hp);
static inline int denoiser_cin(const DenoiserConfig *c) { return c->z + COND_FRAME_DIM; }
static inline int denoiser_fc(const DenoiserConfig *c) { return c->t_dim + COND_SEC_DIM; }
static inline int denoiser_fm(const DenoiserConfig *c) { return c->z + COND_MEM_EXTRA; }
static inline int denoiser_seq(const DenoiserConfig *c) { return c->ctx_frames + c->crop_frames; }
static inline int denoiser_mem_lm(const DenoiserConfig *c) { return c->crop_frames; }   // Lm
static inline int denoiser_fp(const DenoiserConfig *c) { return c->z + COND_MEM_POS; }

typedef struct {
    DenoiserConfig cfg;
    ParamSet params;
    DitModel dit;              // names "dit.*"
    int c1_w, c1_b, c2_w, c2_b;   // (E, Fc), (E), (E, E), (E): conditioning MLP
    int m_w, m_b;              // (C, Fm), (C): memory tokens (mem_pool 0; else -1)
    int mq, mk_w, mv_w;        // (K, C), (C, Fp), (C, Fp): pooling queries, keys, values (mem_pool 1; else -1)
    int ms_w, ms_b;            // (C, Fk), (C): pooling's section map (mem_pool 1; else -1)
    int med_s;                 // (COND_N_LABELS) median section seconds per label in the
                               // training corpus (not trained; the form parser's defaults)
} Denoiser;

int denoiser_create(Denoiser *m, const DenoiserConfig *cfg);   // declares + allocates (zero)
void denoiser_free(Denoiser *m);
void denoiser_init(Denoiser *m, Rng *rng);   // DiT init; Xavier c1, c2, mw (wk, wv, ws); q N(0, 0.02); zero biases
long denoiser_param_count(const Denoiser *m);
// Matmul + attention FLOPs of one forward over B sequences of T frames with S
// memory tokens; prepared = the memory already made (its tokens and the DiT's
// keys/values: both run once per section when sampling). For mem_pool 1 the
// pooling counts S / K sections of Lm frames each (its most).
long denoiser_flops_forward(const DenoiserConfig *c, int B, int T, int S, int prepared);
// The memory compressor's part of it: S tokens (S / K sections for mem_pool 1) into (B, S, C).
long denoiser_flops_memory(const DenoiserConfig *c, int B, int S);

// ---- one batch of examples, as the network takes it --------------------------------------
// Rows are packed for the sizes in use (x is (nb, nt, Ci) contiguous, mf (nb, ns, Fm),
// mem_fr (nb, ns / K, Lm, Fp)): set nb, nt, ns before filling examples.
// The memory's layout follows the model's compressor: mem_pool 0 fills mf; mem_pool 1
// fills mem_fr, mem_fr_mask and mem_sec instead (ns a multiple of K; section slot j
// gives tokens j K .. j K + K - 1). Both set mem_mask, per token.
typedef struct {
    int B, T, S;               // capacity
    int nb, nt, ns;            // in use: examples, frames per example, memory tokens per example
    float *x;                  // (B, T, Ci) latents (noisy new / clean context) + frame features
    float *v;                  // (B, T, Z) velocity target (training)
    float *w;                  // (B, T) 1 on new valid frames (where the loss applies), else 0
    uint8_t *self_mask;        // (B, T) 1 valid frame (context or new), 0 padding
    float *t;                  // (B) flow time
    float *cf;                 // (B, Fc) raw conditioning
    float *mf;                 // (B, S, Fm) raw memory tokens (mem_pool 0; else NULL)
    uint8_t *mem_mask;         // (B, S) 1 = a token
    float *mem_fr;             // (B, Ns, Lm, Fp) frames of each remembered section (mem_pool 1; else NULL)
    uint8_t *mem_fr_mask;      // (B, Ns, Lm) 1 = a frame (mem_pool 1)
    float *mem_sec;            // (B, Ns, Fs) section features (mem_pool 1)
} DenoiserBatch;
void denoiser_batch_alloc(DenoiserBatch *b, const DenoiserConfig *c, int B, int T, int S);
void denoiser_batch_free(DenoiserBatch *b);
// Writes the timestep sinusoid of t into example i's cf (the first t_dim columns).
void denoiser_set_time(const DenoiserConfig *c, DenoiserBatch *b, int i, float t);

typedef struct {
    int B, T, S, train;
    DitActs dit;
    float *ch, *ca, *cond;     // (B, E) each: c1 output, SiLU, c2 output
    float *mem;                // (B, S, C)
    float *mk, *mv;            // (B, Ns, Lm, C) each: pooling keys, values (mem_pool 1)
    float *matt;               // (B, Ns, H, K, Lm) pooling attention probabilities (mem_pool 1)
    float *mpool;              // (K, C) one section's pooled vectors (mem_pool 1)
    float *msin;               // (B, S, Fk) section-map input per token (mem_pool 1)
    float *dcond, *dca, *dch;  // (B, E) (train)
    float *dmem;               // (B, S, C) (train)
    float *dmk, *dmv;          // (Lm, C) each: one section's key, value gradients (train, mem_pool 1)
    float *dout;               // (B, T, Z) (train)
} DenoiserActs;
void denoiser_acts_alloc(DenoiserActs *a, const Denoiser *m, int B, int T, int S, int train);
void denoiser_acts_free(DenoiserActs *a, const Denoiser *m);

// Forward: v_hat (nb, nt, Z) in a->dit.out. Returns 0 or -1 (err_set).
int denoiser_forward(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b);
// The flow loss (mean squared error over frames with w = 1); with grad != NULL
// (an arena of p's layout) also the backward pass, ACCUMULATING into grad.
int denoiser_loss(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                  float *grad, double *loss);

// Sampling: the memory's tokens and every block's keys and values computed once for
// the batch's memory (b->mf or the pooling frames, mem_mask), then forwards that
// reuse them while x and t change (v_hat in a->dit.out, the same bits as
// denoiser_forward). dm empty (S 0) when b->ns == 0; free with dit_memory_free.
int denoiser_memory_prepare(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                            DitMemory *dm);
int denoiser_forward_prepared(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                              const DitMemory *dm);
// Forward, then each example's own flow loss (its mean over its w = 1 frames) into losses (nb).
int denoiser_example_losses(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                            double *losses);

// ---- rectified flow --------------------------------------------------------------------
// t = sigmoid(n), n ~ N(0, 1) (logit-normal).
float flow_sample_t(Rng *rng);
// x_t = (1 - t) x0 + t e and v = e - x0, over n values.
void flow_mix(float *xt, float *v, const float *x0, const float *e, float t, long n);

// ---- files -------------------------------------------------------------------------------
// Loads a model file (weights-only export, or a training checkpoint's EMA
// weights). Builds the model from the file's hyperparameters.
int denoiser_load(Denoiser *m, const char *path);
int denoiser_save(const Denoiser *m, const char *path);

// ---- the latent corpus (diffusion/latents.c) ---------------------------------------------
typedef struct {
    int32_t start, end;        // latent frames [start, end)
    int32_t label_id, occurrence;
    SectionTargets targets;
} LatentSection;
typedef struct {
    char song[256];
    int32_t source, split;
    int32_t T;                 // latent frames
    int32_t n_sections;
    LatentSection *sec;        // (n_sections), consecutive, covering [0, T)
    float *lat;                // (T, Z) unit-scale latents
} LatentSong;
typedef struct {
    LatentSong *songs;
    int n, z;
    uint64_t ae_hash, corpus_hash;   // what the cache was built from
    double hours;
} LatentCorpus;
// The corpus at corpus_dir encoded by the autoencoder at ae_path into unit-scale
// latents, with every song's sections in latent frames. Kept in cache_path and
// rebuilt when the autoencoder file or the corpus changes (hashes in its header).
// Progress on stderr when progress != 0.
int latent_corpus_load(LatentCorpus *lc, const char *corpus_dir, const char *ae_path, const char *cache_path,
                       int progress);
void latent_corpus_free(LatentCorpus *lc);
// FNV-1a-64 of a file's bytes (identifies a model file).
int file_hash(const char *path, uint64_t *h);

// ---- examples from the latent corpus (diffusion/examples.c) --------------------------------
typedef struct {
    float p_drop_mem;          // memory removed
    float p_drop_labels;       // label, occurrence, style and descriptor targets removed
    float p_drop_ctx;          // context frames removed
    float p_start;             // a long section is cropped from its start (else anywhere)
} DropOpts;
DropOpts drop_opts_default(void);   // 0.15, 0.15, 0.1, 0.5
// How an evaluation example changes the memory.
typedef enum { MEM_FULL = 0, MEM_NONE = 1, MEM_OTHER = 2, LABELS_NONE = 3 } EvalCondition;

// Example i of b: section `sec` of song `song`, new frames from latent frame
// `crop_start` (clamped into the section), noise e ~ rng at time t, the memory
// of the song's earlier sections (or of `mem_song`'s sections when mem_song !=
// NULL: the control), dropping per `drop` (NULL: nothing dropped, drop_* flags
// override). Fills x, v, w, masks, cf, mf.
typedef struct {
    const LatentSong *song;
    int sec;
    long crop_start;           // -1: at the section's start
    float t;
    const LatentSong *mem_song;   // NULL: the song's own earlier sections
    int no_mem, no_labels, no_ctx;
    long frames;               // new frames from crop_start (generation's chunks); 0: the training rule,
                               // min(section length, crop_frames)
} ExampleSpec;
int denoiser_fill_example(const Denoiser *m, DenoiserBatch *b, int i, const ExampleSpec *e, Rng *noise);
// The memory tokens section cur of s gets (what denoiser_fill_example writes
// when b->ns is the model's mem_tokens): a sampler sets b->ns to it, so masked
// tokens cost nothing.
int denoiser_memory_tokens(const Denoiser *m, const LatentSong *s, int cur);
// The same when the memory is src's sections (ExampleSpec.mem_song = src; src == s: the above).
int denoiser_memory_tokens_from(const Denoiser *m, const LatentSong *s, int cur, const LatentSong *src);
// A random training example: a frame uniform over the corpus picks the song and
// section; crop, t, noise and drops from rng.
int denoiser_random_example(const Denoiser *m, DenoiserBatch *b, int i, const LatentCorpus *lc,
                            const long *cum_frames, const DropOpts *d, Rng *rng);

// ---- training (diffusion/train.c) ------------------------------------------------------------
typedef struct {
    const char *data;          // corpus folder
    const char *ae;            // autoencoder model file (default NULL: the shipped one, util.h model_file)
    const char *latents;       // latent cache file
    const char *out;           // training checkpoint
    const char *export_path;   // EMA weights at the end (NULL: none)
    int export_dtype;          // their storage: CKPT_F32 (0, the default) or CKPT_F16 (half the file)
    const char *init;          // continue from this checkpoint instead of out
    int resume;
    long steps;                // the plan: the cosine schedule ends here
    long stop_at;              // stop (with a checkpoint) at this step, keeping the plan; 0 = at steps
    int batch;
    float lr, lr_min;
    long warmup;
    int val_every;
    double ckpt_minutes, max_minutes;
    uint64_t seed;
    DropOpts drop;
} DiffTrainOpts;
void diff_train_defaults(DiffTrainOpts *o);
int diff_train(const DiffTrainOpts *o, const DenoiserConfig *cfg);

// ---- evaluation (diffusion/eval.c) ---------------------------------------------------------
#define DENOISER_EVAL_MAX_EXTRA 8
typedef struct {
    const char *model;         // the denoiser evaluated first (model and ae default to NULL: the shipped ones, util.h model_file)
    const char *extra[DENOISER_EVAL_MAX_EXTRA];   // more models for the K table (other K, uncompressed)
    int n_extra;
    const char *data, *ae, *latents;
    const char *report;        // Markdown file
    const char *figs;          // folder for the PNGs (NULL: none)
    const char *log;           // training log to plot (NULL: none)
    const char *note;          // a line under the title
    int max_sections;          // sections per validation song
    uint64_t seed;             // noise and bootstrap
} DenoiserEvalOpts;
void denoiser_eval_defaults(DenoiserEvalOpts *o);
// Writes the report (see eval.c): flow loss by source, repeats/first, under four
// conditions, with bootstrap intervals; one section per model; the training curve.
int denoiser_eval(const DenoiserEvalOpts *o);

#endif
