// denoiser.c — the section denoiser's wiring around nn/dit (see diffusion.h
// for the picture): its configuration, parameters, activation arena, the
// conditioning MLP and the memory compressor (the memory-token map, or
// learned-query attention pooling), forward, the flow loss and its backward,
// and the model file.
//
// Legend: B batch, T frames, S memory tokens, Z latent channels, C width,
// E conditioning width, Ci network input channels, Fc raw conditioning
// features, Fm raw memory-token features; pooling (mem_pool 1): K tokens per
// section, Ns section slots (S / K), Lm frames per section, Fp per-frame and
// Fk per-token section-map features, H heads of D = C / H.
//
// The pooling runs section by section (one attention call per remembered
// section over its own frames, up to its last valid one), so empty slots and
// short sections cost nothing beyond their frames; sections are independent,
// which is also what lets a sampler pool each finished section once.
#include "diffusion/diffusion.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- configuration -------------------------------------------------------------------------
DenoiserConfig denoiser_config_default(void) {
    DenoiserConfig c;
    memset(&c, 0, sizeof c);
    c.z = 32;
    // Sized for generate's budget (a 3-minute song, about 3,900 latent frames, through every
    // sampling step in at most 10 s on 2 cores): width 192, depth 6 costs about 8 MFLOP per
    // frame (28 C^2 per block plus attention over a 390-frame section), 31 GFLOP per forward
    // of the song, about 0.26 s at the 120 GFLOP/s the DiT reaches on 2 cores, so 16 steps
    // with guidance (32 forwards) fit; width 256 would take about 14 s
    // (notebooks_exports/bench-denoiser.md has the measured figures).
    c.width = 192;
    c.depth = 6;
    c.heads = 6;
    c.cond_dim = 192;
    c.t_dim = 64;
    // K 16 fixed spans: at width 128, depth 4, 2,500 steps (notebooks_exports/denoiser-memory.md)
    // the memory lowered the repeats' loss by 1.5 / 2.5 / 3.5% with K 4 / 8 / 16 and by 1.2% with
    // K 8 learned-query pooling, for 8.4 / 9.3 / 10.3 / 8.7 ms per example: K 16 buys the most of the
    // compressed memories for 10% more time, and still keeps a 16-section song at 256 tokens; the
    // uncompressed memory (every frame, up to 1,024 tokens) reached 3.9% at 35.4 ms: K 16 gets 90%
    // of it at 29% of its time.
    c.mem_k = 16;
    c.mem_sections = 16;
    c.mem_tokens = c.mem_sections * c.mem_k;
    c.mem_pool = 0;          // fixed spans + a linear map (1: learned-query attention pooling)
    c.ctx_frames = 48;       // 2.2 s of the previous section
    c.crop_frames = 208;     // 9.7 s of the section being made (T = 256 with the context)
    return c;
}

int denoiser_config_check(const DenoiserConfig *c) {
    if (c->z < 1 || c->width < 2 || c->depth < 1 || c->heads < 1 || c->cond_dim < 1 || c->t_dim < 2 ||
        c->t_dim % 2 || c->mem_k < 0 || c->mem_sections < 0 || c->mem_tokens < 0 || c->ctx_frames < 0 ||
        c->crop_frames < 1)
        return err_set("denoiser: bad configuration (z %d width %d depth %d heads %d cond %d t_dim %d K %d "
                       "sections %d tokens %d context %d crop %d)", c->z, c->width, c->depth, c->heads,
                       c->cond_dim, c->t_dim, c->mem_k, c->mem_sections, c->mem_tokens, c->ctx_frames,
                       c->crop_frames);
    if (c->width % c->heads || (c->width / c->heads) % 2)
        return err_set("denoiser: width %d must split into %d heads of even size", c->width, c->heads);
    if (c->mem_k > 0 && c->mem_tokens < c->mem_k)
        return err_set("denoiser: %d memory tokens cannot hold one section of %d", c->mem_tokens, c->mem_k);
    if (c->mem_pool != 0 && c->mem_pool != 1)
        return err_set("denoiser: memory compressor %d unknown (0 fixed spans, 1 attention pooling)", c->mem_pool);
    if (c->mem_pool == 1 && c->mem_k < 1)
        return err_set("denoiser: attention pooling needs K >= 1 tokens per section (K 0, every frame, is "
                       "the uncompressed memory of the fixed-span compressor)");
    if (c->mem_pool == 1 && c->mem_tokens % c->mem_k)
        return err_set("denoiser: attention pooling needs whole sections: %d memory tokens is no multiple of K %d",
                       c->mem_tokens, c->mem_k);
    return 0;
}

static const char *const HP_KEYS[] = {"z", "width", "depth", "heads", "cond_dim", "t_dim", "mem_k",
                                      "mem_sections", "mem_tokens", "ctx_frames", "crop_frames"};
#define N_HP ((int)(sizeof HP_KEYS / sizeof *HP_KEYS))
static int *hp_field(DenoiserConfig *c, int i) {
    int *f[N_HP] = {&c->z, &c->width, &c->depth, &c->heads, &c->cond_dim, &c->t_dim, &c->mem_k,
                    &c->mem_sections, &c->mem_tokens, &c->ctx_frames, &c->crop_frames};
    return f[i];
}

void denoiser_config_to_hparams(const DenoiserConfig *c, Hparams *hp) {
    hparams_init(hp);
    DenoiserConfig t = *c;
    for (int i = 0; i < N_HP; i++) hparams_set_int(hp, HP_KEYS[i], *hp_field(&t, i));
    hparams_set_int(hp, "sec_dim", COND_SEC_DIM);          // the feature layout the model was trained on
    hparams_set_int(hp, "mem_extra", COND_MEM_EXTRA);
    hparams_set_int(hp, "frame_dim", COND_FRAME_DIM);
    // Written only when not the default, so a fixed-span model's file is what it was
    // before the key existed and its training checkpoints still resume (checkpoint_load
    // refuses a key one side lacks).
    if (c->mem_pool) hparams_set_int(hp, "mem_pool", c->mem_pool);
}

int denoiser_config_from_hparams(DenoiserConfig *c, const Hparams *hp) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N_HP; i++) {
        int64_t v;
        if (hparams_get_int(hp, HP_KEYS[i], &v)) return -1;
        *hp_field(c, i) = (int)v;
    }
    int64_t pool;
    c->mem_pool = hparams_get_int(hp, "mem_pool", &pool) ? 0 : (int)pool;   // absent: fixed spans
    const char *lay[3] = {"sec_dim", "mem_extra", "frame_dim"};
    const int want[3] = {COND_SEC_DIM, COND_MEM_EXTRA, COND_FRAME_DIM};
    for (int i = 0; i < 3; i++) {
        int64_t v;
        if (hparams_get_int(hp, lay[i], &v)) return -1;
        if (v != want[i])
            return err_set("denoiser: the model was trained with %s %lld, this build has %d "
                           "(retrain it, or use the refrain it was made with)", lay[i], (long long)v, want[i]);
    }
    return denoiser_config_check(c);
}

// ---- parameters ------------------------------------------------------------------------------
static DitConfig dit_config_of(const DenoiserConfig *c) {
    DitConfig d;
    memset(&d, 0, sizeof d);
    d.C = c->width; d.L = c->depth; d.H = c->heads; d.E = c->cond_dim;
    d.Cin = denoiser_cin(c); d.Cout = c->z; d.Cm = c->width;
    dit_config_defaults(&d);
    return d;
}

int denoiser_create(Denoiser *m, const DenoiserConfig *cfg) {
    memset(m, 0, sizeof *m);
    if (denoiser_config_check(cfg)) return -1;
    m->cfg = *cfg;
    const DenoiserConfig *c = &m->cfg;
    int E = c->cond_dim, C = c->width;
    params_init(&m->params);
    m->c1_w = params_add(&m->params, "cond.fc1.w", 1, E, denoiser_fc(c), 0, 0);   // (E, Fc)
    m->c1_b = params_add(&m->params, "cond.fc1.b", 0, E, 0, 0, 0);                // (E)
    m->c2_w = params_add(&m->params, "cond.fc2.w", 1, E, E, 0, 0);                // (E, E)
    m->c2_b = params_add(&m->params, "cond.fc2.b", 0, E, 0, 0, 0);                // (E)
    m->m_w = m->m_b = m->mq = m->mk_w = m->mv_w = m->ms_w = m->ms_b = -1;
    if (c->mem_pool == 0) {
        m->m_w = params_add(&m->params, "memory.w", 1, C, denoiser_fm(c), 0, 0);      // (C, Fm)
        m->m_b = params_add(&m->params, "memory.b", 0, C, 0, 0, 0);                   // (C)
    } else {   // the queries are not decayed (decay would pull them to plain averaging)
        m->mq = params_add(&m->params, "memory.q", 0, c->mem_k, C, 0, 0);             // (K, C)
        m->mk_w = params_add(&m->params, "memory.k.w", 1, C, denoiser_fp(c), 0, 0);   // (C, Fp)
        m->mv_w = params_add(&m->params, "memory.v.w", 1, C, denoiser_fp(c), 0, 0);   // (C, Fp)
        m->ms_w = params_add(&m->params, "memory.s.w", 1, C, COND_MEM_EXTRA, 0, 0);   // (C, Fk)
        m->ms_b = params_add(&m->params, "memory.s.b", 0, C, 0, 0, 0);                // (C)
    }
    m->med_s = params_add(&m->params, "form.median_seconds", 0, COND_N_LABELS, 0, 0, 0);
    DitConfig d = dit_config_of(c);
    if (dit_declare(&m->dit, &m->params, &d, "dit.")) { params_free(&m->params); return -1; }
    params_alloc(&m->params);
    float med[COND_N_LABELS];
    cond_default_seconds(med);
    memcpy(params_get(&m->params, m->med_s), med, sizeof med);
    return 0;
}

void denoiser_free(Denoiser *m) {
    dit_free(&m->dit);
    params_free(&m->params);
    memset(m, 0, sizeof *m);
}

static void xavier(float *w, int rows, int cols, Rng *rng) {
    float a = sqrtf(6.f / (float)(rows + cols));
    for (long i = 0; i < (long)rows * cols; i++) w[i] = a * (2.f * rng_uniform(rng) - 1.f);
}

void denoiser_init(Denoiser *m, Rng *rng) {
    const DenoiserConfig *c = &m->cfg;
    dit_init(&m->dit, &m->params, rng);
    xavier(params_get(&m->params, m->c1_w), c->cond_dim, denoiser_fc(c), rng);
    xavier(params_get(&m->params, m->c2_w), c->cond_dim, c->cond_dim, rng);
    if (c->mem_pool == 0) xavier(params_get(&m->params, m->m_w), c->width, denoiser_fm(c), rng);
    else {
        xavier(params_get(&m->params, m->mk_w), c->width, denoiser_fp(c), rng);
        xavier(params_get(&m->params, m->mv_w), c->width, denoiser_fp(c), rng);
        xavier(params_get(&m->params, m->ms_w), c->width, COND_MEM_EXTRA, rng);
        float *q = params_get(&m->params, m->mq);
        for (long i = 0; i < (long)c->mem_k * c->width; i++) q[i] = 0.02f * rng_normal(rng);
    }
    int zero[] = {m->c1_b, m->c2_b, c->mem_pool == 0 ? m->m_b : m->ms_b};
    for (int i = 0; i < 3; i++) memset(params_get(&m->params, zero[i]), 0, sizeof(float) * m->params.specs[zero[i]].size);
}

long denoiser_param_count(const Denoiser *m) {
    long n = 0;
    for (int i = 0; i < m->params.n; i++)
        if (i != m->med_s) n += m->params.specs[i].size;
    return n;
}

long denoiser_flops_forward(const DenoiserConfig *c, int B, int T, int S, int prepared) {
    DitConfig d = dit_config_of(c);
    long f = dit_flops_forward(&d, B, T, S);
    if (prepared) f -= (long)d.L * 2 * B * S * d.Cm * 2 * d.C;   // keys and values made once
    long E = c->cond_dim;
    f += 2L * B * E * (denoiser_fc(c) + E);
    if (!prepared) f += denoiser_flops_memory(c, B, S);
    return f;
}

long denoiser_flops_memory(const DenoiserConfig *c, int B, int S) {
    long C = c->width;
    if (c->mem_pool == 0) return 2L * B * S * denoiser_fm(c) * C;
    long K = c->mem_k, Lm = denoiser_mem_lm(c);
    // keys and values over every frame, scores and weighted sum per token, the section map
    return (long)B * (S / K) * (2 * 2 * Lm * denoiser_fp(c) * C + 2 * 2 * K * Lm * C) + 2L * B * S * COND_MEM_EXTRA * C;
}

// ---- batch and activations ----------------------------------------------------------------------
void denoiser_batch_alloc(DenoiserBatch *b, const DenoiserConfig *c, int B, int T, int S) {
    memset(b, 0, sizeof *b);
    b->B = B; b->T = T; b->S = S;
    long BT = (long)B * T, BS = (long)B * (S > 0 ? S : 1);
    b->x = callocCheck(BT * denoiser_cin(c), sizeof(float));
    b->v = callocCheck(BT * c->z, sizeof(float));
    b->w = callocCheck(BT, sizeof(float));
    b->self_mask = callocCheck(BT, 1);
    b->t = callocCheck(B, sizeof(float));
    b->cf = callocCheck((long)B * denoiser_fc(c), sizeof(float));
    b->mem_mask = callocCheck(BS, 1);
    if (c->mem_pool == 0) {
        b->mf = callocCheck(BS * denoiser_fm(c), sizeof(float));
    } else {
        long BN = (long)B * (S / c->mem_k > 0 ? S / c->mem_k : 1), Lm = denoiser_mem_lm(c);
        b->mem_fr = callocCheck(BN * Lm * denoiser_fp(c), sizeof(float));
        b->mem_fr_mask = callocCheck(BN * Lm, 1);
        b->mem_sec = callocCheck(BN * COND_MEM_SEC_DIM, sizeof(float));
    }
}

void denoiser_batch_free(DenoiserBatch *b) {
    free(b->x); free(b->v); free(b->w); free(b->self_mask); free(b->t);
    free(b->cf); free(b->mf); free(b->mem_mask);
    free(b->mem_fr); free(b->mem_fr_mask); free(b->mem_sec);
    memset(b, 0, sizeof *b);
}

void denoiser_set_time(const DenoiserConfig *c, DenoiserBatch *b, int i, float t) {
    float s = 1000.f * t;
    b->t[i] = t;
    timestep_embedding(b->cf + (long)i * denoiser_fc(c), &s, 1, c->t_dim, 10000.f);
}

void denoiser_acts_alloc(DenoiserActs *a, const Denoiser *m, int B, int T, int S, int train) {
    memset(a, 0, sizeof *a);
    const DenoiserConfig *c = &m->cfg;
    a->B = B; a->T = T; a->S = S; a->train = train;
    dit_acts_alloc(&a->dit, &m->dit, B, T, S, train);
    long BE = (long)B * c->cond_dim, BSC = (long)B * (S > 0 ? S : 1) * c->width;
    a->ch = callocCheck(BE, sizeof(float)); a->ca = callocCheck(BE, sizeof(float));
    a->cond = callocCheck(BE, sizeof(float));
    a->mem = callocCheck(BSC, sizeof(float));
    long C = c->width, Lm = denoiser_mem_lm(c);
    if (c->mem_pool == 1) {
        long K = c->mem_k, BN = (long)B * (S / K > 0 ? S / K : 1);
        a->mk = callocCheck(BN * Lm * C, sizeof(float));
        a->mv = callocCheck(BN * Lm * C, sizeof(float));
        a->matt = callocCheck(BN * c->heads * K * Lm, sizeof(float));
        a->mpool = callocCheck(K * C, sizeof(float));
        a->msin = callocCheck((long)B * (S > 0 ? S : 1) * COND_MEM_EXTRA, sizeof(float));
    }
    if (train) {
        a->dcond = callocCheck(BE, sizeof(float)); a->dca = callocCheck(BE, sizeof(float));
        a->dch = callocCheck(BE, sizeof(float));
        a->dmem = callocCheck(BSC, sizeof(float));
        a->dout = callocCheck((long)B * T * c->z, sizeof(float));
        if (c->mem_pool == 1) {
            a->dmk = callocCheck(Lm * C, sizeof(float));
            a->dmv = callocCheck(Lm * C, sizeof(float));
        }
    }
}

void denoiser_acts_free(DenoiserActs *a, const Denoiser *m) {
    dit_acts_free(&a->dit, &m->dit);
    free(a->ch); free(a->ca); free(a->cond); free(a->mem);
    free(a->dcond); free(a->dca); free(a->dch); free(a->dmem); free(a->dout);
    free(a->mk); free(a->mv); free(a->matt); free(a->mpool); free(a->msin); free(a->dmk); free(a->dmv);
    memset(a, 0, sizeof *a);
}

// ---- forward and loss ------------------------------------------------------------------------------
// The conditioning MLP and the memory compressor; then the DiT.
static int check_fit(const Denoiser *m, const DenoiserActs *a, const DenoiserBatch *b) {
    if (b->nb > a->B || b->nt > a->T || b->ns > a->S || b->nb < 1 || b->nt < 1 || b->ns < 0)
        return err_set("denoiser: batch %d x %d frames, %d memory tokens does not fit the arena (%d, %d, %d)",
                       b->nb, b->nt, b->ns, a->B, a->T, a->S);
    const DenoiserConfig *c = &m->cfg;
    if (b->ns > 0 && (c->mem_pool == 0 ? !b->mf : !b->mem_fr || !a->mk))
        return err_set("denoiser: the batch or arena was not made for this model's memory compressor (mem_pool %d)",
                       c->mem_pool);
    if (b->ns > 0 && c->mem_pool == 1 && b->ns % c->mem_k)
        return err_set("denoiser: %d memory tokens is no whole number of sections of K %d", b->ns, c->mem_k);
    return 0;
}

// Frames a pooling section slot uses: up to its last valid one (0: an empty slot).
static int slot_frames(const uint8_t *mask, int Lm) {
    int n = Lm;
    while (n > 0 && !mask[n - 1]) n--;
    return n;
}

// a->mem (nb, ns, C) from the batch's memory: the linear map of mf (mem_pool 0), or
// learned-query attention pooling over each section's frames plus its section map.
static void memory_forward(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b) {
    const DenoiserConfig *c = &m->cfg;
    const int B = b->nb, S = b->ns, C = c->width;
    if (c->mem_pool == 0) {
        linear_forward(a->mem, b->mf, params_get(p, m->m_w), params_get(p, m->m_b), B * S, denoiser_fm(c), C);
        return;                                                                              // (B, S, C)
    }
    const int K = c->mem_k, Ns = S / K, Lm = denoiser_mem_lm(c), Fp = denoiser_fp(c), Fk = COND_MEM_EXTRA;
    const int H = c->heads, D = C / H;
    for (int s = 0; s < B * Ns; s++)                 // token k of section slot s: [its section | its place]
        for (int k = 0; k < K; k++) {
            float *r = a->msin + ((long)s * K + k) * Fk;
            memcpy(r, b->mem_sec + (long)s * COND_MEM_SEC_DIM, sizeof(float) * COND_MEM_SEC_DIM);
            cond_memory_position(r + COND_MEM_SEC_DIM, ((float)k + 0.5f) / (float)K);
        }
    linear_forward(a->mem, a->msin, params_get(p, m->ms_w), params_get(p, m->ms_b), B * S, Fk, C);   // (B, S, C)
    const float *q = params_get(p, m->mq);                                                  // (K, C)
    for (int s = 0; s < B * Ns; s++) {
        int n = slot_frames(b->mem_fr_mask + (long)s * Lm, Lm);
        if (n == 0) continue;                        // no frames: the section map alone
        const float *fr = b->mem_fr + (long)s * Lm * Fp;                                     // (n, Fp)
        float *k = a->mk + (long)s * Lm * C, *v = a->mv + (long)s * Lm * C;                  // (n, C)
        linear_forward(k, fr, params_get(p, m->mk_w), NULL, n, Fp, C);
        linear_forward(v, fr, params_get(p, m->mv_w), NULL, n, Fp, C);
        attention_forward(a->mpool, a->matt + (long)s * H * K * Lm, q, k, v, b->mem_fr_mask + (long)s * Lm,
                          1, H, K, n, D, 0);                                                 // (K, C)
        add_inplace(a->mem + (long)s * K * C, a->mpool, (long)K * C);
    }
}

// The memory compressor's backward from a->dmem (nb, ns, C), accumulating into grad.
static void memory_backward(const Denoiser *m, const ParamSet *p, float *grad, DenoiserActs *a,
                            const DenoiserBatch *b) {
    const DenoiserConfig *c = &m->cfg;
    const int B = b->nb, S = b->ns, C = c->width;
#define G(i) (grad + p->specs[(i)].offset)
    if (c->mem_pool == 0) {
        linear_backward(NULL, G(m->m_w), G(m->m_b), a->dmem, b->mf, params_get(p, m->m_w), B * S,
                        denoiser_fm(c), C);                                                  // (C, Fm), (C)
        return;
    }
    const int K = c->mem_k, Ns = S / K, Lm = denoiser_mem_lm(c), Fp = denoiser_fp(c), Fk = COND_MEM_EXTRA;
    const int H = c->heads, D = C / H;
    linear_backward(NULL, G(m->ms_w), G(m->ms_b), a->dmem, a->msin, params_get(p, m->ms_w), B * S, Fk, C);
    const float *q = params_get(p, m->mq);
    for (int s = 0; s < B * Ns; s++) {
        int n = slot_frames(b->mem_fr_mask + (long)s * Lm, Lm);
        if (n == 0) continue;
        const float *fr = b->mem_fr + (long)s * Lm * Fp;                                     // (n, Fp)
        const float *k = a->mk + (long)s * Lm * C, *v = a->mv + (long)s * Lm * C;            // (n, C)
        memset(a->dmk, 0, sizeof(float) * n * C);
        memset(a->dmv, 0, sizeof(float) * n * C);
        attention_backward(G(m->mq), a->dmk, a->dmv, a->dmem + (long)s * K * C, a->matt + (long)s * H * K * Lm,
                           q, k, v, 1, H, K, n, D);                                          // (K, C), (n, C) x2
        linear_backward(NULL, G(m->mk_w), NULL, a->dmk, fr, params_get(p, m->mk_w), n, Fp, C);   // (C, Fp)
        linear_backward(NULL, G(m->mv_w), NULL, a->dmv, fr, params_get(p, m->mv_w), n, Fp, C);   // (C, Fp)
    }
#undef G
}

// The conditioning MLP alone: a->cond (nb, E) from b->cf.
static void cond_forward(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b) {
    const DenoiserConfig *c = &m->cfg;
    const int B = b->nb, E = c->cond_dim, Fc = denoiser_fc(c);
    linear_forward(a->ch, b->cf, params_get(p, m->c1_w), params_get(p, m->c1_b), B, Fc, E);   // (B, E)
    silu_forward(a->ca, a->ch, (long)B * E);                                                 // (B, E)
    linear_forward(a->cond, a->ca, params_get(p, m->c2_w), params_get(p, m->c2_b), B, E, E); // (B, E)
}

int denoiser_forward(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b) {
    if (check_fit(m, a, b)) return -1;
    const int B = b->nb, T = b->nt;
    cond_forward(m, p, a, b);
    int S = b->ns;
    if (S > 0) memory_forward(m, p, a, b);                                                   // (B, S, C)
    return dit_forward(&m->dit, p, &a->dit, b->x, a->cond, S > 0 ? a->mem : NULL, S > 0 ? b->mem_mask : NULL,
                       b->self_mask, B, T, S);
}

int denoiser_memory_prepare(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                            DitMemory *dm) {
    memset(dm, 0, sizeof *dm);
    if (check_fit(m, a, b)) return -1;
    if (b->ns == 0) return 0;
    memory_forward(m, p, a, b);                                                              // (B, S, C)
    return dit_memory_prepare(&m->dit, p, dm, a->mem, b->mem_mask, b->nb, b->ns);
}

int denoiser_forward_prepared(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                              const DitMemory *dm) {
    if (check_fit(m, a, b)) return -1;
    cond_forward(m, p, a, b);
    return dit_forward_prepared(&m->dit, p, &a->dit, b->x, a->cond, dm && dm->S > 0 ? dm : NULL, b->self_mask,
                                b->nb, b->nt);
}

int denoiser_loss(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                  float *grad, double *loss) {
    if (grad && !a->train) return err_set("denoiser_loss: the arena was allocated without backward scratch");
    if (denoiser_forward(m, p, a, b)) return -1;
    const DenoiserConfig *c = &m->cfg;
    const int B = b->nb, T = b->nt, Z = c->z, E = c->cond_dim, C = c->width, S = b->ns;
    const float *out = a->dit.out;                                                           // (B, T, Z)
    double wsum = 0, se = 0;
    for (long r = 0; r < (long)B * T; r++) wsum += b->w[r];
    if (wsum <= 0) return err_set("denoiser_loss: the batch has no frame to learn from");
    for (long r = 0; r < (long)B * T; r++) {
        if (b->w[r] == 0) continue;
        for (int z = 0; z < Z; z++) {
            double d = (double)out[r * Z + z] - b->v[r * Z + z];
            se += b->w[r] * d * d;
        }
    }
    double n = wsum * Z;
    *loss = se / n;
    if (!grad) return 0;
    float *dout = a->dout;                                                                   // (B, T, Z)
    for (long r = 0; r < (long)B * T; r++)
        for (int z = 0; z < Z; z++)
            dout[r * Z + z] = b->w[r] == 0 ? 0.f
                            : (float)(2.0 * b->w[r] * ((double)out[r * Z + z] - b->v[r * Z + z]) / n);
    memset(a->dcond, 0, sizeof(float) * B * E);
    if (S > 0) memset(a->dmem, 0, sizeof(float) * (long)B * S * C);
    if (dit_backward(&m->dit, p, grad, &a->dit, dout, NULL, a->dcond, S > 0 ? a->dmem : NULL, b->x, a->cond,
                     S > 0 ? a->mem : NULL, S > 0 ? b->mem_mask : NULL, b->self_mask, B, T, S))
        return -1;
    if (S > 0) memory_backward(m, p, grad, a, b);
#define G(i) (grad + p->specs[(i)].offset)
    memset(a->dca, 0, sizeof(float) * B * E);
    memset(a->dch, 0, sizeof(float) * B * E);
    linear_backward(a->dca, G(m->c2_w), G(m->c2_b), a->dcond, a->ca, params_get(p, m->c2_w), B, E, E);  // (B, E)
    silu_backward(a->dch, a->dca, a->ch, (long)B * E);                                       // (B, E)
    linear_backward(NULL, G(m->c1_w), G(m->c1_b), a->dch, b->cf, params_get(p, m->c1_w), B, denoiser_fc(c), E);
#undef G
    return 0;
}

int denoiser_example_losses(const Denoiser *m, const ParamSet *p, DenoiserActs *a, const DenoiserBatch *b,
                            double *losses) {
    if (denoiser_forward(m, p, a, b)) return -1;
    const int T = b->nt, Z = m->cfg.z;
    const float *out = a->dit.out;                                                           // (B, T, Z)
    for (int i = 0; i < b->nb; i++) {
        double se = 0, ws = 0;
        for (long r = (long)i * T; r < (long)(i + 1) * T; r++) {
            if (b->w[r] == 0) continue;
            ws += b->w[r];
            for (int z = 0; z < Z; z++) {
                double d = (double)out[r * Z + z] - b->v[r * Z + z];
                se += b->w[r] * d * d;
            }
        }
        losses[i] = ws > 0 ? se / (ws * Z) : NAN;
    }
    return 0;
}

// ---- rectified flow ---------------------------------------------------------------------------------
float flow_sample_t(Rng *rng) {
    float n = rng_normal(rng);
    return 1.0f / (1.0f + expf(-n));
}

void flow_mix(float *xt, float *v, const float *x0, const float *e, float t, long n) {
    for (long i = 0; i < n; i++) {
        xt[i] = (1.0f - t) * x0[i] + t * e[i];
        if (v) v[i] = e[i] - x0[i];
    }
}

// ---- files ------------------------------------------------------------------------------------------
int denoiser_load(Denoiser *m, const char *path) {
    Hparams hp;
    DenoiserConfig c;
    if (checkpoint_read_hparams(path, DENOISER_KIND, &hp)) return -1;
    if (denoiser_config_from_hparams(&c, &hp)) return err_set("%s: %s", path, err_msg());
    if (denoiser_create(m, &c)) return -1;
    CkptInfo info;
    if (checkpoint_info(path, &info)) { denoiser_free(m); return -1; }
    int rc = info.has_train ? checkpoint_load_ema(path, DENOISER_KIND, &hp, &m->params)
                            : checkpoint_load(path, DENOISER_KIND, &hp, &m->params, NULL);
    if (rc) denoiser_free(m);
    return rc;
}

int denoiser_save(const Denoiser *m, const char *path) {
    Hparams hp;
    denoiser_config_to_hparams(&m->cfg, &hp);
    return checkpoint_save(path, DENOISER_KIND, &hp, &m->params, NULL);
}
