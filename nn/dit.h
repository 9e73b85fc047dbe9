// dit — the DiT-style block stack the denoiser is built from (AdaLN-Zero
// blocks with rotary self-attention, masked cross-attention to a memory, and
// a GELU MLP), its parameter layout, activation arena, forward and backward.
// It owns no noise schedule, timestep embedding or memory compressor: the
// caller passes a ready conditioning vector `cond` and memory tokens `mem`.
//
// Legend: B batch, T sequence length, S memory length, C width, H heads,
// D head dim (C/H), M MLP hidden (mlp_ratio*C), E conditioning width,
// Ci input channels, Co output channels, Cm memory width, L blocks,
// N = B*T rows, Ns = B*S memory rows.
//
//   h0 = in(x)                                             (B, T, C)
//   c  = SiLU(cond)                                        (B, E)
//   per block l:  [sh1 sc1 g1 sh2 sc2 g2 sh3 sc3 g3] = ada_l(c)   9 x (B, C)
//     h += g1 * proj(SelfAttn(rope(q), rope(k), v, self_mask))   on modulate(LN(h), sh1, sc1)
//     h += g2 * proj(CrossAttn(q(h), k(mem), v(mem), mem_mask)) on modulate(LN(h), sh2, sc2)
//     h += g3 * fc2(GELU(fc1(modulate(LN(h), sh3, sc3))))
//   [shf scf] = final.ada(c);  out = final(modulate(LN(h), shf, scf))   (B, T, Co)
//
// LN has no affine (AdaLN supplies shift/scale). The cross-attention output
// projection has no bias, so an empty or fully masked memory contributes
// exactly 0 (the attention core returns 0 for a query with no valid key).
// The self-attention key mask lets a batch hold sequences of different
// lengths padded to T: a valid frame never attends to padding, and rope
// counts positions from 0, so its output is that of the shorter sequence
// alone. Padded frames still produce (meaningless) outputs; a loss ignores them.
// Parameter names: "in.w", "blocks.0.attn.qkv.w", "blocks.0.cross.kv.b",
// "final.ada.w", ... (dit_declare lists them all). PyTorch's nn.Linear layout:
// w is (out, in). The 9C rows of ada.w are in the chunk order above.
#ifndef REFRAIN_NN_DIT_H
#define REFRAIN_NN_DIT_H

#include <stdint.h>
#include "nn/params.h"
#include "util/rng.h"

typedef struct {
    int C;          // width
    int L;          // blocks
    int H;          // heads (C % H == 0, C/H even for rope)
    int mlp_ratio;  // MLP hidden = mlp_ratio * C
    int E;          // conditioning width
    int Cin;        // input channels
    int Cout;       // output channels
    int Cm;         // memory width (cross-attn k/v project Cm -> C)
    float rope_base;  // rotary base, 10000 by default
} DitConfig;

// Fills defaults for what is 0: mlp_ratio 4, rope_base 10000, Cm = C, Cout = Cin.
void dit_config_defaults(DitConfig *c);
int dit_config_check(const DitConfig *c);   // 0 or -1 with err_set

// Parameter indices into a ParamSet (the same layout serves params, grads,
// Adam moments and EMA). Each is (w, b); -1 where a tensor has no bias.
typedef struct {
    int ada_w, ada_b;                 // (9C, E), (9C)
    int qkv_w, qkv_b;                 // (3C, C), (3C)
    int proj_w, proj_b;               // (C, C), (C)
    int cq_w, cq_b;                   // (C, C), (C)
    int ckv_w, ckv_b;                 // (2C, Cm), (2C)
    int cproj_w;                      // (C, C), no bias
    int fc1_w, fc1_b;                 // (M, C), (M)
    int fc2_w, fc2_b;                 // (C, M), (C)
} DitBlockIdx;

typedef struct {
    DitConfig cfg;
    int in_w, in_b;                   // (C, Ci), (C)
    DitBlockIdx *blocks;              // (L)
    int fada_w, fada_b;               // (2C, E), (2C)
    int out_w, out_b;                 // (Co, C), (Co)
} DitModel;

// Declares every tensor of the stack into p (not yet allocated; the caller
// may declare more tensors, then params_alloc). Names get `prefix` in front
// ("" or e.g. "denoiser."). Returns 0 or -1 on a bad config.
int dit_declare(DitModel *m, ParamSet *p, const DitConfig *cfg, const char *prefix);
void dit_free(DitModel *m);
// DiT init: Xavier-uniform matrices, zero biases; AdaLN linears and the final
// output linear zero (AdaLN-Zero: every block starts as the identity).
void dit_init(const DitModel *m, ParamSet *p, Rng *rng);
long dit_flops_forward(const DitConfig *c, int B, int T, int S);  // matmul + attention FLOPs

// One block's saved activations (pointers into the arena).
typedef struct {
    float *mod;            // (9, B, C) shift/scale/gate x3
    float *ln1, *mean1, *rstd1, *x1;   // (N, C), (N), (N), (N, C) modulated
    float *q, *k, *v;      // (N, C) each; q, k after rope
    float *att1;           // (B, H, T, T)
    float *ao1, *y1, *h1;  // (N, C) attention out, proj out, residual after
    float *ln2, *mean2, *rstd2, *x2;
    float *cq;             // (N, C)
    float *ck, *cv;        // (Ns, C)
    float *att2;           // (B, H, T, S)
    float *ao2, *y2, *h2;  // (N, C)
    float *ln3, *mean3, *rstd3, *x3;
    float *pre, *act;      // (N, M) fc1 out, GELU out
    float *y3, *h3;        // (N, C) fc2 out, block output
} DitBlockActs;

typedef struct {
    int B, T, S;           // capacity the arena was sized for
    int train;             // 1: backward scratch allocated
    float *mem;            // the arena
    long total;            // floats
    float *c;              // (B, E) SiLU(cond)
    float *h0;             // (N, C) input projection
    DitBlockActs *blk;     // (L)
    float *fmod;           // (2, B, C) final shift, scale
    float *lnf, *meanf, *rstdf, *xf;   // (N, C), (N), (N), (N, C)
    float *out;            // (N, Co)
    // backward scratch (train only)
    float *dh;             // (N, C) gradient of the residual stream
    float *dy, *dx, *dln;  // (N, C) each
    float *dq, *dk, *dv;   // (N, C) each
    float *dck, *dcv;      // (Ns, C) each
    float *dpre, *dact;    // (N, M) each
    float *dmod;           // (9, B, C)
    float *dc;             // (B, E)
    int prepared;          // the last forward read a DitMemory: no ck, cv here for backward
} DitActs;

long dit_acts_size(const DitConfig *c, int B, int T, int S, int train);   // floats
void dit_acts_alloc(DitActs *a, const DitModel *m, int B, int T, int S, int train);
void dit_acts_free(DitActs *a, const DitModel *m);

// Forward: x (B, T, Ci), cond (B, E), mem (B, S, Cm), mem_mask (B, S) with
// 1 = valid (NULL = all valid); S may be 0 (mem, mem_mask then unused).
// self_mask (B, T): 1 = valid frame, 0 = padding no frame attends to (NULL =
// all valid). Result in a->out (B, T, Co). Returns 0, or -1 (err_set) when B,
// T or S exceed the arena's capacity.
int dit_forward(const DitModel *m, const ParamSet *p, DitActs *a,
                 const float *x, const float *cond, const float *mem, const uint8_t *mem_mask,
                 const uint8_t *self_mask, int B, int T, int S);
// Backward from dout (B, T, Co): ACCUMULATES into the gradient arena grad
// (p->total floats, the layout of p: a ParamSet's data or optim_arena_alloc) and
// into dx (B, T, Ci), dcond (B, E), dmem (B, S, Cm); any of the three may be
// NULL. Takes the same inputs as the dit_forward just run (the masks are
// already in the saved attention probabilities: masked keys have 0). Returns
// 0, or -1 (err_set) for an arena without backward scratch or too small, or
// after dit_forward_prepared.
int dit_backward(const DitModel *m, const ParamSet *p, float *grad, DitActs *a,
                  const float *dout, float *dx, float *dcond, float *dmem,
                  const float *x, const float *cond, const float *mem, const uint8_t *mem_mask,
                  const uint8_t *self_mask, int B, int T, int S);

// Keys and values of every block for one memory, computed once (the sampler's memory is
// fixed across sampling steps). k, v: (L, B*S, C) each.
typedef struct { int B, S, L, C; float *k, *v; uint8_t *mask; /* (B, S) copy or NULL */ } DitMemory;
// mem (B, S, Cm), mem_mask (B, S) or NULL, as dit_forward takes them; S may be 0.
// Returns 0, or -1 (err_set) for a negative size; free with dit_memory_free.
int dit_memory_prepare(const DitModel *m, const ParamSet *p, DitMemory *dm,
                       const float *mem, const uint8_t *mem_mask, int B, int S);
void dit_memory_free(DitMemory *dm);
// Forward with a prepared memory (dm NULL or dm->S == 0: empty memory). Same result, bit for bit,
// as dit_forward with the memory it was prepared from. dm->B must equal B, and the
// arena hold dm->S. For sampling: dit_backward refuses to follow it.
int dit_forward_prepared(const DitModel *m, const ParamSet *p, DitActs *a, const float *x, const float *cond,
                         const DitMemory *dm, const uint8_t *self_mask, int B, int T);

// Per-op wall time (seconds) accumulated by forward/backward when profiling
// is on (for bench_nn); indexed by DitOp.
enum { DIT_OP_LINEAR, DIT_OP_ATTN, DIT_OP_LN, DIT_OP_ROPE, DIT_OP_MOD, DIT_OP_GELU,
       DIT_OP_OTHER, DIT_OP_COUNT };
extern const char *dit_op_names[DIT_OP_COUNT];
// on: 0 off, 1 wall clock, 2 process CPU time (steady on a shared machine
// at one thread). Turning it on resets the counters.
void dit_profile(int on);
void dit_profile_get(double fwd[DIT_OP_COUNT], double bwd[DIT_OP_COUNT]);

#endif
