// dit.c — wiring of the DiT-style block stack (see dit.h for the picture).
// It owns the parameter layout, the activation arena, the order of layer
// calls in forward and backward, and the memory's keys and values prepared
// once for sampling; the layers themselves live in layers.c. Both forwards
// (raw and prepared memory) run the same block_forward, so they cannot drift.
//
// Legend: B batch, T sequence length, S memory length, C width, H heads,
// D head dim (C/H), M MLP hidden, E conditioning width, Ci input channels,
// Co output channels, Cm memory width, N = B*T rows, Ns = B*S memory rows.
// Modulation chunks: mod + j*B*C, j = 0..8 = sh1 sc1 g1 sh2 sc2 g2 sh3 sc3 g3.
#include "nn/dit.h"
#include "nn/arena.h"
#include "nn/layers.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// ---- per-op profile ----------------------------------------------------------------
const char *dit_op_names[DIT_OP_COUNT] = {"linear (sgemm)", "attention core", "layernorm",
                                          "rope", "modulate + gated residual", "gelu",
                                          "other (silu, zeroing)"};
static int prof_on, prof_dir;   // prof_on 1 wall, 2 CPU clock; prof_dir 0 forward, 1 backward
static double prof_t[2][DIT_OP_COUNT];
static double prof_clock(void) {
    if (prof_on == 1) return now_seconds();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
#define PROF(op, ...)                                                     \
    do {                                                                  \
        double t0_ = prof_on ? prof_clock() : 0;                          \
        __VA_ARGS__;                                                      \
        if (prof_on) prof_t[prof_dir][op] += prof_clock() - t0_;          \
    } while (0)

void dit_profile(int on) {
    prof_on = on;
    if (on) memset(prof_t, 0, sizeof prof_t);
}
void dit_profile_get(double fwd[DIT_OP_COUNT], double bwd[DIT_OP_COUNT]) {
    for (int i = 0; i < DIT_OP_COUNT; i++) { fwd[i] = prof_t[0][i]; bwd[i] = prof_t[1][i]; }
}

// ---- config -----------------------------------------------------------------------
void dit_config_defaults(DitConfig *c) {
    if (!c->mlp_ratio) c->mlp_ratio = 4;
    if (c->rope_base == 0) c->rope_base = 10000.f;
    if (!c->Cm) c->Cm = c->C;
    if (!c->Cout) c->Cout = c->Cin;
}

int dit_config_check(const DitConfig *c) {
    if (c->C <= 0 || c->L < 0 || c->H <= 0 || c->E <= 0 || c->Cin <= 0 || c->Cout <= 0 ||
        c->Cm <= 0 || c->mlp_ratio <= 0)
        return err_set("dit: every size must be positive (C %d L %d H %d E %d Cin %d Cout %d Cm %d mlp %d)",
                       c->C, c->L, c->H, c->E, c->Cin, c->Cout, c->Cm, c->mlp_ratio);
    if (c->C % c->H || (c->C / c->H) % 2)
        return err_set("dit: width %d must split into %d heads of even size (rotary pairs)", c->C, c->H);
    return 0;
}

// ---- parameters --------------------------------------------------------------------
static int padd(ParamSet *p, const char *prefix, const char *name, int decay, int d0, int d1) {
    char full[PARAM_NAME_MAX];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return params_add(p, full, decay, d0, d1, 0, 0);
}

int dit_declare(DitModel *m, ParamSet *p, const DitConfig *cfg, const char *prefix) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    dit_config_defaults(&m->cfg);
    if (dit_config_check(&m->cfg)) return -1;
    const DitConfig *c = &m->cfg;
    int C = c->C, M = c->mlp_ratio * C, E = c->E;
    char n[PARAM_NAME_MAX];
    m->in_w = padd(p, prefix, "in.w", 1, C, c->Cin);                 // (C, Ci)
    m->in_b = padd(p, prefix, "in.b", 0, C, 0);                      // (C)
    m->blocks = callocCheck(c->L ? c->L : 1, sizeof *m->blocks);
    for (int l = 0; l < c->L; l++) {
        DitBlockIdx *b = &m->blocks[l];
#define BLK(field, name, decay, d0, d1) \
        (snprintf(n, sizeof n, "blocks.%d.%s", l, name), b->field = padd(p, prefix, n, decay, d0, d1))
        BLK(ada_w, "ada.w", 1, 9 * C, E);        // (9C, E)
        BLK(ada_b, "ada.b", 0, 9 * C, 0);        // (9C)
        BLK(qkv_w, "attn.qkv.w", 1, 3 * C, C);   // (3C, C)
        BLK(qkv_b, "attn.qkv.b", 0, 3 * C, 0);   // (3C)
        BLK(proj_w, "attn.proj.w", 1, C, C);     // (C, C)
        BLK(proj_b, "attn.proj.b", 0, C, 0);     // (C)
        BLK(cq_w, "cross.q.w", 1, C, C);         // (C, C)
        BLK(cq_b, "cross.q.b", 0, C, 0);         // (C)
        BLK(ckv_w, "cross.kv.w", 1, 2 * C, c->Cm);  // (2C, Cm)
        BLK(ckv_b, "cross.kv.b", 0, 2 * C, 0);   // (2C)
        BLK(cproj_w, "cross.proj.w", 1, C, C);   // (C, C), no bias
        BLK(fc1_w, "mlp.fc1.w", 1, M, C);        // (M, C)
        BLK(fc1_b, "mlp.fc1.b", 0, M, 0);        // (M)
        BLK(fc2_w, "mlp.fc2.w", 1, C, M);        // (C, M)
        BLK(fc2_b, "mlp.fc2.b", 0, C, 0);        // (C)
#undef BLK
    }
    m->fada_w = padd(p, prefix, "final.ada.w", 1, 2 * C, E);        // (2C, E)
    m->fada_b = padd(p, prefix, "final.ada.b", 0, 2 * C, 0);        // (2C)
    m->out_w = padd(p, prefix, "final.w", 1, c->Cout, C);           // (Co, C)
    m->out_b = padd(p, prefix, "final.b", 0, c->Cout, 0);           // (Co)
    return 0;
}

void dit_free(DitModel *m) {
    free(m->blocks);
    m->blocks = NULL;
}

static void xavier(float *w, int rows, int cols, Rng *rng) {
    float a = sqrtf(6.f / (float)(rows + cols));
    for (long i = 0; i < (long)rows * cols; i++) w[i] = a * (2.f * rng_uniform(rng) - 1.f);
}

void dit_init(const DitModel *m, ParamSet *p, Rng *rng) {
    const DitConfig *c = &m->cfg;
    int C = c->C, M = c->mlp_ratio * C;
    memset(params_get(p, m->in_b), 0, sizeof(float) * C);
    xavier(params_get(p, m->in_w), C, c->Cin, rng);
    for (int l = 0; l < c->L; l++) {
        const DitBlockIdx *b = &m->blocks[l];
        int bias[] = {b->ada_w, b->ada_b, b->qkv_b, b->proj_b, b->cq_b, b->ckv_b, b->fc1_b, b->fc2_b};
        for (size_t i = 0; i < sizeof bias / sizeof *bias; i++)   // AdaLN-Zero and zero biases
            memset(params_get(p, bias[i]), 0, sizeof(float) * p->specs[bias[i]].size);
        xavier(params_get(p, b->qkv_w), 3 * C, C, rng);
        xavier(params_get(p, b->proj_w), C, C, rng);
        xavier(params_get(p, b->cq_w), C, C, rng);
        xavier(params_get(p, b->ckv_w), 2 * C, c->Cm, rng);
        xavier(params_get(p, b->cproj_w), C, C, rng);
        xavier(params_get(p, b->fc1_w), M, C, rng);
        xavier(params_get(p, b->fc2_w), C, M, rng);
    }
    int zero[] = {m->fada_w, m->fada_b, m->out_w, m->out_b};
    for (size_t i = 0; i < sizeof zero / sizeof *zero; i++)
        memset(params_get(p, zero[i]), 0, sizeof(float) * p->specs[zero[i]].size);
}

long dit_flops_forward(const DitConfig *c, int B, int T, int S) {
    long C = c->C, M = (long)c->mlp_ratio * C, E = c->E, N = (long)B * T, Ns = (long)B * S;
    long blk = 2 * B * E * 9 * C            // ada
             + 2 * N * C * 3 * C            // qkv
             + 2 * N * C * C * 3            // attn proj, cross q, cross proj
             + 2 * Ns * c->Cm * 2 * C       // cross k, v
             + 2 * N * C * M * 2            // fc1, fc2
             + 4 * (long)B * T * T * C      // self-attention QK^T and PV
             + 4 * (long)B * T * S * C;     // cross-attention
    return c->L * blk + 2 * N * c->Cin * C + 2 * B * E * 2 * C + 2 * N * C * c->Cout;
}

// ---- activation arena ----------------------------------------------------------------
// One function both sizes (base == NULL) and points (base != NULL) the arena,
// so the two can never disagree (nn/arena.h).
static long point_acts(DitActs *a, const DitConfig *c, int B, int T, int S, int train, float *base) {
    long C = c->C, M = (long)c->mlp_ratio * C, H = c->H, N = (long)B * T, Ns = (long)B * S;
    Arena ar = {base, 0};
    a->c = arena_take(&ar, (long)B * c->E);                  // (B, E)
    a->h0 = arena_take(&ar, N * C);                          // (N, C)
    for (int l = 0; l < c->L; l++) {
        DitBlockActs count, *k = base ? &a->blk[l] : &count;
        k->mod = arena_take(&ar, 9 * B * C);                 // (9, B, C)
        k->ln1 = arena_take(&ar, N * C);                     // (N, C)
        k->mean1 = arena_take(&ar, N);                       // (N)
        k->rstd1 = arena_take(&ar, N);                       // (N)
        k->x1 = arena_take(&ar, N * C);                      // (N, C)
        k->q = arena_take(&ar, N * C);                       // (N, C)
        k->k = arena_take(&ar, N * C);                       // (N, C)
        k->v = arena_take(&ar, N * C);                       // (N, C)
        k->att1 = arena_take(&ar, B * H * T * T);            // (B, H, T, T)
        k->ao1 = arena_take(&ar, N * C);                     // (N, C)
        k->y1 = arena_take(&ar, N * C);                      // (N, C)
        k->h1 = arena_take(&ar, N * C);                      // (N, C)
        k->ln2 = arena_take(&ar, N * C);                     // (N, C)
        k->mean2 = arena_take(&ar, N);                       // (N)
        k->rstd2 = arena_take(&ar, N);                       // (N)
        k->x2 = arena_take(&ar, N * C);                      // (N, C)
        k->cq = arena_take(&ar, N * C);                      // (N, C)
        k->ck = arena_take(&ar, Ns * C);                     // (Ns, C)
        k->cv = arena_take(&ar, Ns * C);                     // (Ns, C)
        k->att2 = arena_take(&ar, B * H * T * S);            // (B, H, T, S)
        k->ao2 = arena_take(&ar, N * C);                     // (N, C)
        k->y2 = arena_take(&ar, N * C);                      // (N, C)
        k->h2 = arena_take(&ar, N * C);                      // (N, C)
        k->ln3 = arena_take(&ar, N * C);                     // (N, C)
        k->mean3 = arena_take(&ar, N);                       // (N)
        k->rstd3 = arena_take(&ar, N);                       // (N)
        k->x3 = arena_take(&ar, N * C);                      // (N, C)
        k->pre = arena_take(&ar, N * M);                     // (N, M)
        k->act = arena_take(&ar, N * M);                     // (N, M)
        k->y3 = arena_take(&ar, N * C);                      // (N, C)
        k->h3 = arena_take(&ar, N * C);                      // (N, C)
    }
    a->fmod = arena_take(&ar, 2 * B * C);                    // (2, B, C)
    a->lnf = arena_take(&ar, N * C);                         // (N, C)
    a->meanf = arena_take(&ar, N);                           // (N)
    a->rstdf = arena_take(&ar, N);                           // (N)
    a->xf = arena_take(&ar, N * C);                          // (N, C)
    a->out = arena_take(&ar, N * c->Cout);                   // (N, Co)
    if (train) {
        a->dh = arena_take(&ar, N * C);                      // (N, C)
        a->dy = arena_take(&ar, N * C);                      // (N, C)
        a->dx = arena_take(&ar, N * C);                      // (N, C)
        a->dln = arena_take(&ar, N * C);                     // (N, C)
        a->dq = arena_take(&ar, N * C);                      // (N, C)
        a->dk = arena_take(&ar, N * C);                      // (N, C)
        a->dv = arena_take(&ar, N * C);                      // (N, C)
        a->dck = arena_take(&ar, Ns * C);                    // (Ns, C)
        a->dcv = arena_take(&ar, Ns * C);                    // (Ns, C)
        a->dpre = arena_take(&ar, N * M);                    // (N, M)
        a->dact = arena_take(&ar, N * M);                    // (N, M)
        a->dmod = arena_take(&ar, 9 * B * C);                // (9, B, C)
        a->dc = arena_take(&ar, (long)B * c->E);             // (B, E)
    }
    return ar.off;
}

long dit_acts_size(const DitConfig *c, int B, int T, int S, int train) {
    DitActs dummy;
    return point_acts(&dummy, c, B, T, S, train, NULL);
}

void dit_acts_alloc(DitActs *a, const DitModel *m, int B, int T, int S, int train) {
    memset(a, 0, sizeof *a);
    a->B = B; a->T = T; a->S = S; a->train = train;
    a->total = dit_acts_size(&m->cfg, B, T, S, train);
    a->blk = callocCheck(m->cfg.L ? m->cfg.L : 1, sizeof *a->blk);
    a->mem = alignedCheck((size_t)a->total * sizeof(float));
    point_acts(a, &m->cfg, B, T, S, train, a->mem);
}

void dit_acts_free(DitActs *a, const DitModel *m) {
    free(a->mem);
    free(a->blk);
    memset(a, 0, sizeof *a);
}

static void zero(float *x, long n) { memset(x, 0, (size_t)n * sizeof(float)); }

// ---- forward -----------------------------------------------------------------------
#define P(i) params_get(p, (i))

// The memory's keys and values for block bi: mem (Ns, Cm) -> ck, cv (Ns, C).
static void memory_kv(float *ck, float *cv, const DitModel *m, const ParamSet *p, const DitBlockIdx *bi,
                      const float *mem, int Ns) {
    const int C = m->cfg.C, Cm = m->cfg.Cm;
    PROF(DIT_OP_LINEAR, linear_forward(ck, mem, P(bi->ckv_w), P(bi->ckv_b), Ns, Cm, C));  // (Ns, C)
    PROF(DIT_OP_LINEAR, linear_forward(cv, mem, P(bi->ckv_w) + (long)C * Cm,
                                       P(bi->ckv_b) + C, Ns, Cm, C));                 // (Ns, C)
}

// One block on the residual stream h (N, C) -> k->h3 (N, C). cvec (B, E) is
// SiLU(cond); ck, cv (Ns, C) the memory's keys and values (unused when S == 0).
static void block_forward(const DitModel *m, const ParamSet *p, const DitBlockIdx *bi, DitBlockActs *k,
                          const float *h, const float *cvec, const float *ck, const float *cv,
                          const uint8_t *mem_mask, const uint8_t *self_mask, int B, int T, int S) {
    const DitConfig *c = &m->cfg;
    const int C = c->C, H = c->H, D = C / H, E = c->E, M = c->mlp_ratio * C;
    const int N = B * T;
    const long BC = (long)B * C;
    const float base = c->rope_base;
    float *mod = k->mod;                                                            // (9, B, C)
    for (int j = 0; j < 9; j++)                                                     // (B, C) each
        PROF(DIT_OP_LINEAR, linear_forward(mod + j * BC, cvec, P(bi->ada_w) + (long)j * C * E,
                                           P(bi->ada_b) + j * C, B, E, C));
    // self-attention with rope
    PROF(DIT_OP_LN, layernorm_forward(k->ln1, k->mean1, k->rstd1, h, NULL, NULL, N, C));  // (N, C)
    PROF(DIT_OP_MOD, modulate_forward(k->x1, k->ln1, mod, mod + BC, B, T, C));          // (N, C)
    float *qkv[3] = {k->q, k->k, k->v};
    for (int j = 0; j < 3; j++)                                                     // (N, C) each
        PROF(DIT_OP_LINEAR, linear_forward(qkv[j], k->x1, P(bi->qkv_w) + (long)j * C * C,
                                           P(bi->qkv_b) + j * C, N, C, C));
    PROF(DIT_OP_ROPE, rope_forward(k->q, B, T, H, D, base));                        // (B, T, H, D)
    PROF(DIT_OP_ROPE, rope_forward(k->k, B, T, H, D, base));                        // (B, T, H, D)
    PROF(DIT_OP_ATTN, attention_forward(k->ao1, k->att1, k->q, k->k, k->v, self_mask,
                                        B, H, T, T, D, 0));                         // (N, C), att (B, H, T, T)
    PROF(DIT_OP_LINEAR, linear_forward(k->y1, k->ao1, P(bi->proj_w), P(bi->proj_b), N, C, C));  // (N, C)
    PROF(DIT_OP_MOD, gated_residual_forward(k->h1, h, k->y1, mod + 2 * BC, B, T, C));     // (N, C)
    // cross-attention to the memory
    PROF(DIT_OP_LN, layernorm_forward(k->ln2, k->mean2, k->rstd2, k->h1, NULL, NULL, N, C));  // (N, C)
    PROF(DIT_OP_MOD, modulate_forward(k->x2, k->ln2, mod + 3 * BC, mod + 4 * BC, B, T, C));  // (N, C)
    if (S > 0) {
        PROF(DIT_OP_LINEAR, linear_forward(k->cq, k->x2, P(bi->cq_w), P(bi->cq_b), N, C, C));  // (N, C)
        PROF(DIT_OP_ATTN, attention_forward(k->ao2, k->att2, k->cq, ck, cv, mem_mask,
                                            B, H, T, S, D, 0));                      // (N, C), att (B, H, T, S)
        PROF(DIT_OP_LINEAR, linear_forward(k->y2, k->ao2, P(bi->cproj_w), NULL, N, C, C));  // (N, C)
    } else {
        PROF(DIT_OP_OTHER, zero(k->y2, (long)N * C));                               // (N, C) empty memory
    }
    PROF(DIT_OP_MOD, gated_residual_forward(k->h2, k->h1, k->y2, mod + 5 * BC, B, T, C));  // (N, C)
    // MLP
    PROF(DIT_OP_LN, layernorm_forward(k->ln3, k->mean3, k->rstd3, k->h2, NULL, NULL, N, C));  // (N, C)
    PROF(DIT_OP_MOD, modulate_forward(k->x3, k->ln3, mod + 6 * BC, mod + 7 * BC, B, T, C));  // (N, C)
    PROF(DIT_OP_LINEAR, linear_forward(k->pre, k->x3, P(bi->fc1_w), P(bi->fc1_b), N, C, M));  // (N, M)
    PROF(DIT_OP_GELU, gelu_forward(k->act, k->pre, (long)N * M));                   // (N, M)
    PROF(DIT_OP_LINEAR, linear_forward(k->y3, k->act, P(bi->fc2_w), P(bi->fc2_b), N, M, C));  // (N, C)
    PROF(DIT_OP_MOD, gated_residual_forward(k->h3, k->h2, k->y3, mod + 8 * BC, B, T, C));  // (N, C)
}

// The whole stack. The memory comes either raw (mem, projected here into each
// block's k->ck, k->cv) or prepared (dm: the same projections, made once).
static int forward(const DitModel *m, const ParamSet *p, DitActs *a, const float *x, const float *cond,
                   const float *mem, const DitMemory *dm, const uint8_t *mem_mask, const uint8_t *self_mask,
                   int B, int T, int S, const char *who) {
    const DitConfig *c = &m->cfg;
    const int C = c->C, E = c->E;
    const int N = B * T, Ns = B * S;
    const long BC = (long)B * C;
    if (B > a->B || T > a->T || S > a->S || B < 0 || T < 0 || S < 0)
        return err_set("%s: B %d T %d S %d do not fit the activation arena (%d, %d, %d)",
                       who, B, T, S, a->B, a->T, a->S);
    prof_dir = 0;
    a->prepared = dm != NULL;
    PROF(DIT_OP_OTHER, silu_forward(a->c, cond, (long)B * E));                      // (B, E)
    PROF(DIT_OP_LINEAR, linear_forward(a->h0, x, P(m->in_w), P(m->in_b), N, c->Cin, C));  // (N, C)
    const float *h = a->h0;                                                         // (N, C)
    for (int l = 0; l < c->L; l++) {
        const DitBlockIdx *bi = &m->blocks[l];
        DitBlockActs *k = &a->blk[l];
        const float *ck = k->ck, *cv = k->cv;                                       // (Ns, C) each
        if (S > 0 && dm) {
            ck = dm->k + (long)l * Ns * C;
            cv = dm->v + (long)l * Ns * C;
        } else if (S > 0) {
            memory_kv(k->ck, k->cv, m, p, bi, mem, Ns);
        }
        block_forward(m, p, bi, k, h, a->c, ck, cv, mem_mask, self_mask, B, T, S);
        h = k->h3;
    }
    // final AdaLN and output projection
    for (int j = 0; j < 2; j++)                                                     // (B, C) each
        PROF(DIT_OP_LINEAR, linear_forward(a->fmod + j * BC, a->c, P(m->fada_w) + (long)j * C * E,
                                           P(m->fada_b) + j * C, B, E, C));
    PROF(DIT_OP_LN, layernorm_forward(a->lnf, a->meanf, a->rstdf, h, NULL, NULL, N, C));  // (N, C)
    PROF(DIT_OP_MOD, modulate_forward(a->xf, a->lnf, a->fmod, a->fmod + BC, B, T, C));  // (N, C)
    PROF(DIT_OP_LINEAR, linear_forward(a->out, a->xf, P(m->out_w), P(m->out_b), N, C, c->Cout));  // (N, Co)
    return 0;
}

int dit_forward(const DitModel *m, const ParamSet *p, DitActs *a,
                 const float *x, const float *cond, const float *mem, const uint8_t *mem_mask,
                 const uint8_t *self_mask, int B, int T, int S) {
    return forward(m, p, a, x, cond, mem, NULL, mem_mask, self_mask, B, T, S, "dit_forward");
}

int dit_memory_prepare(const DitModel *m, const ParamSet *p, DitMemory *dm,
                       const float *mem, const uint8_t *mem_mask, int B, int S) {
    const DitConfig *c = &m->cfg;
    memset(dm, 0, sizeof *dm);
    if (B < 0 || S < 0) return err_set("dit_memory_prepare: B %d S %d must not be negative", B, S);
    dm->B = B; dm->S = S; dm->L = c->L; dm->C = c->C;
    const long Ns = (long)B * S, n = (long)c->L * Ns * c->C;
    dm->k = alignedCheck((size_t)n * sizeof(float));                                // (L, Ns, C)
    dm->v = alignedCheck((size_t)n * sizeof(float));                                // (L, Ns, C)
    if (mem_mask && Ns > 0) {
        dm->mask = mallocCheck((size_t)Ns);                                         // (B, S)
        memcpy(dm->mask, mem_mask, (size_t)Ns);
    }
    prof_dir = 0;
    for (int l = 0; l < c->L && Ns > 0; l++)
        memory_kv(dm->k + l * Ns * c->C, dm->v + l * Ns * c->C, m, p, &m->blocks[l], mem, (int)Ns);
    return 0;
}

void dit_memory_free(DitMemory *dm) {
    free(dm->k);
    free(dm->v);
    free(dm->mask);
    memset(dm, 0, sizeof *dm);
}

int dit_forward_prepared(const DitModel *m, const ParamSet *p, DitActs *a, const float *x, const float *cond,
                         const DitMemory *dm, const uint8_t *self_mask, int B, int T) {
    if (!dm || dm->S == 0)
        return forward(m, p, a, x, cond, NULL, NULL, NULL, self_mask, B, T, 0, "dit_forward_prepared");
    if (dm->B != B || dm->L != m->cfg.L || dm->C != m->cfg.C)
        return err_set("dit_forward_prepared: the memory was prepared for B %d, %d blocks of width %d; "
                       "this call has B %d, the model %d blocks of width %d (prepare it again)",
                       dm->B, dm->L, dm->C, B, m->cfg.L, m->cfg.C);
    return forward(m, p, a, x, cond, NULL, dm, dm->mask, self_mask, B, T, dm->S, "dit_forward_prepared");
}
#undef P

// ---- backward ----------------------------------------------------------------------
int dit_backward(const DitModel *m, const ParamSet *p, float *grad, DitActs *a,
                  const float *dout, float *dx, float *dcond, float *dmem,
                  const float *x, const float *cond, const float *mem, const uint8_t *mem_mask,
                  const uint8_t *self_mask, int B, int T, int S) {
    const DitConfig *c = &m->cfg;
    const int C = c->C, H = c->H, D = C / H, E = c->E, M = c->mlp_ratio * C, Cm = c->Cm;
    const int N = B * T, Ns = B * S;
    const long BC = (long)B * C, NC = (long)N * C, NM = (long)N * M;
    const float base = c->rope_base;
    if (!a->train)
        return err_set("dit_backward: the activation arena was allocated without backward scratch (train = 0)");
    if (a->prepared)
        return err_set("dit_backward: the forward just run used a prepared memory (dit_forward_prepared), "
                       "which keeps no memory keys for backward; train with dit_forward");
    if (B > a->B || T > a->T || S > a->S || B < 0 || T < 0 || S < 0)
        return err_set("dit_backward: B %d T %d S %d do not fit the activation arena (%d, %d, %d)",
                       B, T, S, a->B, a->T, a->S);
#define P(i) params_get(p, (i))
#define G(i) (grad + p->specs[(i)].offset)
    prof_dir = 1;
    const float *hL = c->L ? a->blk[c->L - 1].h3 : a->h0;                           // (N, C)
    // final layer
    PROF(DIT_OP_OTHER, { zero(a->dx, NC); zero(a->dln, NC); zero(a->dh, NC);
                         zero(a->dmod, 2 * BC); zero(a->dc, (long)B * E); });
    PROF(DIT_OP_LINEAR, linear_backward(a->dx, G(m->out_w), G(m->out_b), dout, a->xf, P(m->out_w),
                                        N, C, c->Cout));                            // dxf (N, C)
    PROF(DIT_OP_MOD, modulate_backward(a->dln, a->dmod, a->dmod + BC, a->dx, a->lnf, a->fmod + BC,
                                       B, T, C));                                   // (N, C), 2 x (B, C)
    PROF(DIT_OP_LN, layernorm_backward(a->dh, NULL, NULL, a->dln, hL, a->meanf, a->rstdf, NULL, N, C));  // (N, C)
    for (int j = 0; j < 2; j++)                                                     // dc (B, E)
        PROF(DIT_OP_LINEAR, linear_backward(a->dc, G(m->fada_w) + (long)j * C * E, G(m->fada_b) + j * C,
                                            a->dmod + j * BC, a->c, P(m->fada_w) + (long)j * C * E,
                                            B, E, C));
    for (int l = c->L - 1; l >= 0; l--) {
        const DitBlockIdx *bi = &m->blocks[l];
        DitBlockActs *k = &a->blk[l];
        const float *hin = l ? a->blk[l - 1].h3 : a->h0;                            // (N, C) block input
        const float *mod = k->mod;                                                  // (9, B, C)
        float *dmod = a->dmod;                                                      // (9, B, C)
        // a->dh holds dL/dh3 (N, C); each gated residual passes it through unchanged
        // (dres = NULL), and each layernorm backward adds its branch into it.
        PROF(DIT_OP_OTHER, { zero(dmod, 9 * BC); zero(a->dy, NC); zero(a->dact, NM);
                             zero(a->dpre, NM); zero(a->dx, NC); zero(a->dln, NC); });
        // MLP
        PROF(DIT_OP_MOD, gated_residual_backward(NULL, a->dy, dmod + 8 * BC, a->dh, k->y3, mod + 8 * BC,
                                                 B, T, C));                         // dy3 (N, C)
        PROF(DIT_OP_LINEAR, linear_backward(a->dact, G(bi->fc2_w), G(bi->fc2_b), a->dy, k->act,
                                            P(bi->fc2_w), N, M, C));                // (N, M)
        PROF(DIT_OP_GELU, gelu_backward(a->dpre, a->dact, k->pre, NM));             // (N, M)
        PROF(DIT_OP_LINEAR, linear_backward(a->dx, G(bi->fc1_w), G(bi->fc1_b), a->dpre, k->x3,
                                            P(bi->fc1_w), N, C, M));                // dx3 (N, C)
        PROF(DIT_OP_MOD, modulate_backward(a->dln, dmod + 6 * BC, dmod + 7 * BC, a->dx, k->ln3,
                                           mod + 7 * BC, B, T, C));                 // (N, C)
        PROF(DIT_OP_LN, layernorm_backward(a->dh, NULL, NULL, a->dln, k->h2, k->mean3, k->rstd3, NULL,
                                           N, C));                                  // dh2 (N, C)
        // cross-attention (nothing flows when the memory is empty: y2 == 0)
        if (S > 0) {
            PROF(DIT_OP_OTHER, { zero(a->dy, NC); zero(a->dx, NC); zero(a->dq, NC); zero(a->dln, NC);
                                 zero(a->dck, (long)Ns * C); zero(a->dcv, (long)Ns * C); });
            PROF(DIT_OP_MOD, gated_residual_backward(NULL, a->dy, dmod + 5 * BC, a->dh, k->y2,
                                                     mod + 5 * BC, B, T, C));       // dy2 (N, C)
            PROF(DIT_OP_LINEAR, linear_backward(a->dx, G(bi->cproj_w), NULL, a->dy, k->ao2,
                                                P(bi->cproj_w), N, C, C));          // dao2 (N, C)
            PROF(DIT_OP_ATTN, attention_backward(a->dq, a->dck, a->dcv, a->dx, k->att2, k->cq, k->ck,
                                                 k->cv, B, H, T, S, D));            // (N, C), 2 x (Ns, C)
            PROF(DIT_OP_OTHER, zero(a->dy, NC));
            PROF(DIT_OP_LINEAR, linear_backward(a->dy, G(bi->cq_w), G(bi->cq_b), a->dq, k->x2,
                                                P(bi->cq_w), N, C, C));             // dx2 (N, C)
            PROF(DIT_OP_LINEAR, linear_backward(dmem, G(bi->ckv_w), G(bi->ckv_b), a->dck, mem,
                                                P(bi->ckv_w), Ns, Cm, C));          // dmem (Ns, Cm)
            PROF(DIT_OP_LINEAR, linear_backward(dmem, G(bi->ckv_w) + (long)C * Cm, G(bi->ckv_b) + C,
                                                a->dcv, mem, P(bi->ckv_w) + (long)C * Cm,
                                                Ns, Cm, C));                        // dmem (Ns, Cm)
            PROF(DIT_OP_MOD, modulate_backward(a->dln, dmod + 3 * BC, dmod + 4 * BC, a->dy, k->ln2,
                                               mod + 4 * BC, B, T, C));             // (N, C)
            PROF(DIT_OP_LN, layernorm_backward(a->dh, NULL, NULL, a->dln, k->h1, k->mean2, k->rstd2,
                                               NULL, N, C));                        // dh1 (N, C)
        }
        // self-attention
        PROF(DIT_OP_OTHER, { zero(a->dy, NC); zero(a->dx, NC); zero(a->dq, NC); zero(a->dk, NC);
                             zero(a->dv, NC); zero(a->dln, NC); });
        PROF(DIT_OP_MOD, gated_residual_backward(NULL, a->dy, dmod + 2 * BC, a->dh, k->y1, mod + 2 * BC,
                                                 B, T, C));                         // dy1 (N, C)
        PROF(DIT_OP_LINEAR, linear_backward(a->dx, G(bi->proj_w), G(bi->proj_b), a->dy, k->ao1,
                                            P(bi->proj_w), N, C, C));               // dao1 (N, C)
        PROF(DIT_OP_ATTN, attention_backward(a->dq, a->dk, a->dv, a->dx, k->att1, k->q, k->k, k->v,
                                             B, H, T, T, D));                       // 3 x (N, C)
        PROF(DIT_OP_ROPE, rope_backward(a->dq, B, T, H, D, base));                  // (B, T, H, D)
        PROF(DIT_OP_ROPE, rope_backward(a->dk, B, T, H, D, base));                  // (B, T, H, D)
        PROF(DIT_OP_OTHER, zero(a->dy, NC));
        float *dqkv[3] = {a->dq, a->dk, a->dv};
        for (int j = 0; j < 3; j++)                                                 // dx1 (N, C)
            PROF(DIT_OP_LINEAR, linear_backward(a->dy, G(bi->qkv_w) + (long)j * C * C,
                                                G(bi->qkv_b) + j * C, dqkv[j], k->x1,
                                                P(bi->qkv_w) + (long)j * C * C, N, C, C));
        PROF(DIT_OP_MOD, modulate_backward(a->dln, dmod, dmod + BC, a->dy, k->ln1, mod + BC,
                                           B, T, C));                               // (N, C)
        PROF(DIT_OP_LN, layernorm_backward(a->dh, NULL, NULL, a->dln, hin, k->mean1, k->rstd1, NULL,
                                           N, C));                                  // dh (N, C) block input
        // AdaLN modulation linear
        for (int j = 0; j < 9; j++)                                                 // dc (B, E)
            PROF(DIT_OP_LINEAR, linear_backward(a->dc, G(bi->ada_w) + (long)j * C * E,
                                                G(bi->ada_b) + j * C, dmod + j * BC, a->c,
                                                P(bi->ada_w) + (long)j * C * E, B, E, C));
    }
    PROF(DIT_OP_LINEAR, linear_backward(dx, G(m->in_w), G(m->in_b), a->dh, x, P(m->in_w),
                                        N, c->Cin, C));                             // dx (N, Ci)
    if (dcond) PROF(DIT_OP_OTHER, silu_backward(dcond, a->dc, cond, (long)B * E));  // dcond (B, E)
    (void)mem_mask; (void)self_mask;   // masked keys already have probability 0 in att1, att2
#undef P
#undef G
    return 0;
}
