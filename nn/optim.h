// optim — what turns gradients into better weights: AdamW with decoupled
// weight decay, global gradient-norm clipping, an EMA of the weights, the
// learning-rate schedule, a NaN/Inf guard, and the TrainState that a
// checkpoint saves so training resumes exactly. It owns no model wiring and
// no file I/O (nn/checkpoint.h writes TrainState).
//
// Every arena here has the layout of the model's ParamSet (nn/params.h): one
// float per parameter at the same offset, `total` floats. Gradients are a
// plain float* arena of that layout (optim_arena_alloc); m, v and ema live in
// TrainState. Every pass is one OpenMP loop over fixed chunks of 4096 floats
// that never cross a tensor (so decay can differ per tensor and the padding
// between tensors is never read). All of it is elementwise except the gradient
// norm, which sums each chunk in double and adds the chunk sums in order, so
// results do not depend on the thread count. Arenas under 65,536 floats run on
// one thread.
//
// Typical step:
//     memset(grad, 0, params.total * sizeof(float));
//     float loss = forward_backward(model, grad, batch);
//     if (optim_step(&params, grad, &st, loss, &gnorm)) { report err_msg(); stop; }
#ifndef REFRAIN_NN_OPTIM_H
#define REFRAIN_NN_OPTIM_H

#include <stdint.h>

#include "nn/params.h"
#include "util/rng.h"

// Hyperparameters of one training run. Saved with the TrainState.
typedef struct {
    float lr;            // peak learning rate (after warm-up)
    float lr_min;        // cosine decays to this floor
    long warmup_steps;   // linear warm-up length; 0: none
    long total_steps;    // cosine reaches lr_min here and stays; 0: constant lr after warm-up
    float beta1, beta2;  // Adam moment decays
    float eps;           // added to sqrt(v_hat), outside the sqrt (as torch)
    float weight_decay;  // decoupled, only on tensors with spec.decay = 1
    float clip_norm;     // global L2 gradient-norm clip; <= 0: no clipping
    float ema_decay;     // ema = d*ema + (1-d)*w; 0: EMA off
    int ema_warmup;      // 1: d_t = min(ema_decay, (1 + t) / (10 + t)), t = updates done
} OptimConfig;

// Defaults: lr 3e-4, lr_min 3e-5, warm-up 0, total 0, betas (0.9, 0.999),
// eps 1e-8, weight decay 0.01, clip 1.0, EMA 0.999 with warm-up.
OptimConfig optim_config_default(void);

// Everything an uninterrupted run carries from one step to the next.
typedef struct {
    OptimConfig cfg;
    long step;           // optimizer updates done so far
    Rng rng;             // the run's data and noise stream
    long total;          // floats per arena (= the ParamSet's total)
    float *m, *v;        // (total) Adam first and second moments
    float *ema;          // (total) EMA of the weights; NULL when cfg.ema_decay == 0
} TrainState;

// Zeroed, 64-byte aligned arena of p->total floats (for gradients).
float *optim_arena_alloc(const ParamSet *p);

// Allocates m, v (zero) and ema (a copy of the current weights), step 0,
// rng seeded with `seed`. Free with train_state_free.
void train_state_init(TrainState *st, const ParamSet *params, const OptimConfig *cfg, uint64_t seed);
void train_state_free(TrainState *st);

// Learning rate for the update that follows `step` completed updates:
// lr * (step + 1) / warmup_steps during warm-up, then cosine from lr to lr_min
// over [warmup_steps, total_steps], then lr_min.
float lr_schedule(const OptimConfig *cfg, long step);

// Global L2 norm of the gradient over every tensor (padding excluded),
// computed in double with fixed chunking (deterministic).
double grad_norm(const ParamSet *p, const float *grad);
// torch.nn.utils.clip_grad_norm_: scales grad by max_norm / (norm + 1e-6)
// when that is below 1. Returns the norm before clipping. max_norm <= 0: no clip.
double grad_clip(const ParamSet *p, float *grad, float max_norm);

// One AdamW update with learning rate lr (torch.optim.AdamW, amsgrad off):
// step += 1; w *= 1 - lr*wd (decay tensors only); m = b1*m + (1-b1)*g;
// v = b2*v + (1-b2)*g*g; w -= lr/(1-b1^step) * m / (sqrt(v)/sqrt(1-b2^step) + eps).
void adamw_update(ParamSet *params, const float *grad, TrainState *st, float lr);

// EMA decay used after `step` completed updates (with the optional warm-up).
float ema_decay_at(const OptimConfig *cfg, long step);
// ema = d*ema + (1-d)*w with d = ema_decay_at(cfg, st->step). No-op without EMA.
void ema_update(const ParamSet *params, TrainState *st);

// NaN/Inf guard: 0 when loss and grad norm are finite, else -1 with a message
// naming the step and which one blew up, so the loop stops before saving.
int train_check_finite(float loss, double gnorm, long step);

// The whole update: norm + clip, finite guard, lr_schedule, adamw_update,
// ema_update. On a non-finite loss or gradient it returns -1 (err_set) and
// leaves the weights and the state untouched. *gnorm_out (may be NULL) gets
// the pre-clip norm.
int optim_step(ParamSet *params, float *grad, TrainState *st, float loss, double *gnorm_out);

#endif
