// autoencoder.c — the mel autoencoder's wiring (see autoencoder.h for the
// picture): configuration, parameter layout, activation arena, forward,
// backward and loss, whole-song windowed encode/decode, model and latent
// files. The layers themselves are nn/layers.h; training is train.c.
//
// Legend: B batch, M mel bands, T mel frames, Tl = T/4 latent frames,
// Z latent channels, C channels of an op, G GroupNorm groups.
// Network tensors are (B, C, T); encode/decode's public arrays are (T, M) and (Tl, Z).
#include "autoencoder/autoencoder.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

// ---- configuration ------------------------------------------------------------------
AeConfig ae_config_default(void) {
    AeConfig c;
    memset(&c, 0, sizeof c);
    c.n_mels = 80;
    c.z = 32;                  // the shipped model (assets/MODEL_CARD.md)
    c.ch[0] = 96; c.ch[1] = 128; c.ch[2] = 256;
    c.enc_res = 1; c.dec_res = 2;
    c.groups = 16;
    c.in_shift = -5.0f;
    c.in_scale = 0.4f;
    c.kl_weight = 1e-3f;
    c.linear = 1;
    return c;
}

int ae_config_check(const AeConfig *c) {
    if (c->n_mels <= 0 || c->z <= 0 || c->groups <= 0 || c->enc_res < 0 || c->dec_res < 0 ||
        c->ch[0] <= 0 || c->ch[1] <= 0 || c->ch[2] <= 0)
        return err_set("autoencoder: every size must be positive (mels %d z %d widths %d/%d/%d groups %d)",
                       c->n_mels, c->z, c->ch[0], c->ch[1], c->ch[2], c->groups);
    for (int i = 0; i < 3; i++)
        if (c->ch[i] % c->groups)
            return err_set("autoencoder: width %d is not a multiple of the %d GroupNorm groups", c->ch[i], c->groups);
    if (3 * (c->enc_res > c->dec_res ? c->enc_res : c->dec_res) + 8 > AE_MAX_OPS)
        return err_set("autoencoder: at most %d residual blocks per level", (AE_MAX_OPS - 8) / 3);
    if (!(c->in_scale > 0) || !isfinite(c->in_shift))
        return err_set("autoencoder: input scale must be positive (got %g)", c->in_scale);
    return 0;
}

void ae_config_to_hparams(const AeConfig *c, Hparams *hp) {
    hparams_init(hp);
    hparams_set_int(hp, "n_mels", c->n_mels);
    hparams_set_int(hp, "z", c->z);
    hparams_set_int(hp, "ch0", c->ch[0]);
    hparams_set_int(hp, "ch1", c->ch[1]);
    hparams_set_int(hp, "ch2", c->ch[2]);
    hparams_set_int(hp, "enc_res", c->enc_res);
    hparams_set_int(hp, "dec_res", c->dec_res);
    hparams_set_int(hp, "groups", c->groups);
    hparams_set_int(hp, "down", AE_DOWN);
    hparams_set_float(hp, "in_shift", c->in_shift);
    hparams_set_float(hp, "in_scale", c->in_scale);
    hparams_set_float(hp, "kl_weight", c->kl_weight);
    hparams_set_int(hp, "linear_path", c->linear);
}

int ae_config_from_hparams(AeConfig *c, const Hparams *hp) {
    int64_t v[10];
    double f[3];
    const char *ik[] = {"n_mels", "z", "ch0", "ch1", "ch2", "enc_res", "dec_res", "groups", "down", "linear_path"};
    const char *fk[] = {"in_shift", "in_scale", "kl_weight"};
    for (int i = 0; i < 10; i++)
        if (hparams_get_int(hp, ik[i], &v[i])) return -1;
    for (int i = 0; i < 3; i++)
        if (hparams_get_float(hp, fk[i], &f[i])) return -1;
    if (v[8] != AE_DOWN)
        return err_set("autoencoder downsamples by %lld in time; this build handles only %d", (long long)v[8], AE_DOWN);
    memset(c, 0, sizeof *c);
    c->n_mels = (int)v[0]; c->z = (int)v[1];
    c->ch[0] = (int)v[2]; c->ch[1] = (int)v[3]; c->ch[2] = (int)v[4];
    c->enc_res = (int)v[5]; c->dec_res = (int)v[6]; c->groups = (int)v[7];
    c->in_shift = (float)f[0]; c->in_scale = (float)f[1]; c->kl_weight = (float)f[2];
    c->linear = (int)v[9];
    return ae_config_check(c);
}

// ---- layout -------------------------------------------------------------------------
static int decl(ParamSet *p, const char *side, int i, const char *name, int decay, int d0, int d1, int d2) {
    char full[PARAM_NAME_MAX];
    snprintf(full, sizeof full, "%s.%d.%s", side, i, name);
    return params_add(p, full, decay, d0, d1, d2, 0);
}

static void add_op(AeOp *ops, int *n, ParamSet *p, const char *side, AeOpKind kind, int cin, int cout, int stride) {
    AeOp *o = &ops[*n];
    memset(o, 0, sizeof *o);
    o->kind = kind; o->cin = cin; o->cout = cout; o->stride = stride;
    o->tmul_num = 1; o->tmul_den = 1;
    o->w = o->b = o->n1w = o->n1b = o->c1w = o->c1b = o->n2w = o->n2b = o->c2w = o->c2b = -1;
    int i = *n;
    switch (kind) {
    case AE_CONV:
        o->tmul_den = stride;
        o->w = decl(p, side, i, "conv.w", 1, cout, cin, 3);    // (cout, cin, 3)
        o->b = decl(p, side, i, "conv.b", 0, cout, 0, 0);      // (cout)
        break;
    case AE_UP:
        o->tmul_num = 2;
        break;
    case AE_NORMACT:
        o->n1w = decl(p, side, i, "norm.w", 0, cin, 0, 0);     // (C)
        o->n1b = decl(p, side, i, "norm.b", 0, cin, 0, 0);
        break;
    case AE_RES:
        o->n1w = decl(p, side, i, "norm1.w", 0, cin, 0, 0);    // (C)
        o->n1b = decl(p, side, i, "norm1.b", 0, cin, 0, 0);
        o->c1w = decl(p, side, i, "conv1.w", 1, cin, cin, 3);  // (C, C, 3)
        o->c1b = decl(p, side, i, "conv1.b", 0, cin, 0, 0);
        o->n2w = decl(p, side, i, "norm2.w", 0, cin, 0, 0);
        o->n2b = decl(p, side, i, "norm2.b", 0, cin, 0, 0);
        o->c2w = decl(p, side, i, "conv2.w", 1, cin, cin, 3);
        o->c2b = decl(p, side, i, "conv2.b", 0, cin, 0, 0);
        break;
    }
    (*n)++;
}

int ae_create(Ae *m, const AeConfig *cfg) {
    memset(m, 0, sizeof *m);
    if (ae_config_check(cfg)) return -1;
    m->cfg = *cfg;
    const AeConfig *c = cfg;
    ParamSet *p = &m->params;
    params_init(p);
    const int *ch = c->ch;
    // encoder: (B, M, T) -> (B, 2Z, T/4)
    add_op(m->enc, &m->n_enc, p, "enc", AE_CONV, c->n_mels, ch[0], 1);
    for (int l = 0; l < 3; l++) {
        for (int r = 0; r < c->enc_res; r++) add_op(m->enc, &m->n_enc, p, "enc", AE_RES, ch[l], ch[l], 1);
        if (l < 2) add_op(m->enc, &m->n_enc, p, "enc", AE_CONV, ch[l], ch[l + 1], 2);
    }
    add_op(m->enc, &m->n_enc, p, "enc", AE_NORMACT, ch[2], ch[2], 1);
    add_op(m->enc, &m->n_enc, p, "enc", AE_CONV, ch[2], 2 * c->z, 1);
    // decoder: (B, Z, T/4) -> (B, M, T)
    add_op(m->dec, &m->n_dec, p, "dec", AE_CONV, c->z, ch[2], 1);
    for (int l = 2; l >= 0; l--) {
        for (int r = 0; r < c->dec_res; r++) add_op(m->dec, &m->n_dec, p, "dec", AE_RES, ch[l], ch[l], 1);
        if (l > 0) {
            add_op(m->dec, &m->n_dec, p, "dec", AE_UP, ch[l], ch[l], 1);
            add_op(m->dec, &m->n_dec, p, "dec", AE_CONV, ch[l], ch[l - 1], 1);
        }
    }
    add_op(m->dec, &m->n_dec, p, "dec", AE_NORMACT, ch[0], ch[0], 1);
    add_op(m->dec, &m->n_dec, p, "dec", AE_CONV, ch[0], c->n_mels, 1);
    m->lin_ew = m->lin_eb = m->lin_dw = m->lin_db = -1;
    if (c->linear) {
        m->lin_ew = params_add(p, "enc.lin.w", 1, c->z, c->n_mels, AE_DOWN, 0);          // (Z, M, 4)
        m->lin_eb = params_add(p, "enc.lin.b", 0, c->z, 0, 0, 0);                        // (Z)
        m->lin_dw = params_add(p, "dec.lin.w", 1, AE_DOWN * c->n_mels, c->z, 1, 0);      // (4M, Z, 1)
        m->lin_db = params_add(p, "dec.lin.b", 0, AE_DOWN * c->n_mels, 0, 0, 0);         // (4M)
    }
    m->lat_mean = params_add(p, "latent.mean", 0, c->z, 0, 0, 0);   // (Z)
    m->lat_std = params_add(p, "latent.std", 0, c->z, 0, 0, 0);     // (Z)
    params_alloc(p);
    float *s = params_get(p, m->lat_std);
    for (int i = 0; i < c->z; i++) s[i] = 1.0f;
    return 0;
}

void ae_free(Ae *m) { params_free(&m->params); }

long ae_param_count(const Ae *m) {
    long n = 0;
    for (int i = 0; i < m->params.n; i++) n += m->params.specs[i].size;
    return n;
}

static void he_normal(float *w, long n, int fan_in, float gain, Rng *rng) {
    rng_fill_normal(rng, w, n, gain * sqrtf(2.0f / (float)fan_in));
}

static void init_ops(const AeOp *ops, int n, ParamSet *p, Rng *rng) {
    for (int i = 0; i < n; i++) {
        const AeOp *o = &ops[i];
        int norms[] = {o->n1w, o->n2w};
        for (int k = 0; k < 2; k++)
            if (norms[k] >= 0) {
                float *g = params_get(p, norms[k]);
                for (long j = 0; j < p->specs[norms[k]].size; j++) g[j] = 1.0f;
            }
        if (o->kind == AE_CONV) he_normal(params_get(p, o->w), p->specs[o->w].size, 3 * o->cin, 1.0f, rng);
        if (o->kind == AE_RES) {
            he_normal(params_get(p, o->c1w), p->specs[o->c1w].size, 3 * o->cin, 1.0f, rng);
            he_normal(params_get(p, o->c2w), p->specs[o->c2w].size, 3 * o->cin, 0.25f, rng);
        }
    }
}

void ae_init(Ae *m, Rng *rng) {
    ParamSet *p = &m->params;
    memset(p->data, 0, sizeof(float) * p->total);
    init_ops(m->enc, m->n_enc, p, rng);
    init_ops(m->dec, m->n_dec, p, rng);
    // the last decoder conv starts small: the first reconstructions sit near the mean
    const AeOp *last = &m->dec[m->n_dec - 1];
    scale_inplace(params_get(p, last->w), 0.1f, p->specs[last->w].size);
    if (m->cfg.linear) {
        he_normal(params_get(p, m->lin_ew), p->specs[m->lin_ew].size, AE_DOWN * m->cfg.n_mels, 0.5f, rng);
        he_normal(params_get(p, m->lin_dw), p->specs[m->lin_dw].size, m->cfg.z, 0.1f, rng);
    }
    float *s = params_get(p, m->lat_std);
    for (int i = 0; i < m->cfg.z; i++) s[i] = 1.0f;
    m->has_stats = 0;
}

int ae_init_pca(Ae *m, const struct PcaBaseline *pca) {
    const AeConfig *c = &m->cfg;
    ParamSet *p = &m->params;
    int M = c->n_mels, Z = c->z, D = AE_DOWN * M;
    if (!c->linear || !pca->stacked || pca->M != M || pca->Z != Z)
        return err_set("autoencoder: PCA init needs linear paths and a stacked PCA of %d bands to %d components", M, Z);
    float *ew = params_get(p, m->lin_ew), *eb = params_get(p, m->lin_eb);
    float *dw = params_get(p, m->lin_dw), *db = params_get(p, m->lin_db);
    for (int z = 0; z < Z; z++) {
        double b = 0;
        for (int k = 0; k < AE_DOWN; k++)
            for (int j = 0; j < M; j++) {
                double w = pca->comp[(long)z * D + k * M + j];
                double mean = (pca->mean[k * M + j] - c->in_shift) * c->in_scale;   // normalized units
                ew[((long)z * M + j) * AE_DOWN + k] = (float)w;
                dw[(long)(k * M + j) * Z + z] = (float)w;
                b -= w * mean;
            }
        eb[z] = (float)b;
    }
    for (int d = 0; d < D; d++) db[d] = (float)((pca->mean[d] - c->in_shift) * c->in_scale);
    // the convolutional paths start silent: decoder output conv 0, encoder mu rows 0,
    // log-variance rows 0 with bias -8 (sd 0.02)
    const AeOp *dl = &m->dec[m->n_dec - 1], *el = &m->enc[m->n_enc - 1];
    memset(params_get(p, dl->w), 0, sizeof(float) * p->specs[dl->w].size);
    memset(params_get(p, dl->b), 0, sizeof(float) * p->specs[dl->b].size);
    float *w = params_get(p, el->w), *b = params_get(p, el->b);
    memset(w, 0, sizeof(float) * p->specs[el->w].size);
    for (int z = 0; z < Z; z++) { b[z] = 0; b[Z + z] = -8.0f; }
    return 0;
}

static long ops_flops(const AeOp *ops, int n, long T) {
    long f = 0, t = T;
    for (int i = 0; i < n; i++) {
        const AeOp *o = &ops[i];
        long to = t * o->tmul_num / o->tmul_den;
        if (o->kind == AE_CONV) f += 2L * 3 * o->cin * o->cout * to;
        if (o->kind == AE_RES) f += 2 * 2L * 3 * o->cin * o->cin * t;
        t = to;
    }
    return f;
}

long ae_flops_forward(const Ae *m, int T) {
    return ops_flops(m->enc, m->n_enc, T) + ops_flops(m->dec, m->n_dec, T / AE_DOWN);
}

// ---- activation arena -----------------------------------------------------------------
// One function sizes (base NULL) and points (base set) the arena (nn/arena.h).
static void point_ops(const AeOp *ops, int n, AeOpActs *acts, long B, long T, int G, Arena *ar,
                      long *maxct) {
    long t = T;
    for (int i = 0; i < n; i++) {
        const AeOp *o = &ops[i];
        AeOpActs count, *a = ar->base ? &acts[i] : &count;
        long to = t * o->tmul_num / o->tmul_den;
        memset(a, 0, sizeof *a);
        a->out = arena_take(ar, B * o->cout * to);                // (B, cout, To)
        if (o->kind == AE_RES || o->kind == AE_NORMACT) {
            a->g1 = arena_take(ar, B * o->cin * t);               // (B, C, T)
            a->mean1 = arena_take(ar, B * G);                     // (B, G)
            a->rstd1 = arena_take(ar, B * G);                     // (B, G)
        }
        if (o->kind == AE_RES) {
            a->a1 = arena_take(ar, B * o->cin * t);               // (B, C, T)
            a->h1 = arena_take(ar, B * o->cin * t);               // (B, C, T)
            a->g2 = arena_take(ar, B * o->cin * t);               // (B, C, T)
            a->a2 = arena_take(ar, B * o->cin * t);               // (B, C, T)
            a->mean2 = arena_take(ar, B * G);                     // (B, G)
            a->rstd2 = arena_take(ar, B * G);                     // (B, G)
        }
        long ct = (long)(o->cin * t > o->cout * to ? o->cin * t : o->cout * to);
        if (ct > *maxct) *maxct = ct;
        t = to;
    }
}

static long point_acts(AeActs *a, const Ae *m, int B, int T, int train, float *base) {
    const AeConfig *c = &m->cfg;
    long maxct = 0, Tl = T / AE_DOWN;
    Arena ar = {base, 0};
    a->x = arena_take(&ar, (long)B * c->n_mels * T);                      // (B, M, T)
    point_ops(m->enc, m->n_enc, a->enc, B, T, c->groups, &ar, &maxct);
    a->z = arena_take(&ar, (long)B * c->z * Tl);                          // (B, Z, Tl)
    a->eps = arena_take(&ar, (long)B * c->z * Tl);                        // (B, Z, Tl)
    if (c->linear) {
        a->lin_e = arena_take(&ar, (long)B * c->z * Tl);                  // (B, Z, Tl)
        a->lin_d = arena_take(&ar, (long)B * AE_DOWN * c->n_mels * Tl);   // (B, 4M, Tl)
        if (train) a->dlin = arena_take(&ar, (long)B * AE_DOWN * c->n_mels * Tl);   // (B, 4M, Tl)
    }
    point_ops(m->dec, m->n_dec, a->dec, B, Tl, c->groups, &ar, &maxct);
    if (train) {
        long n = (long)B * maxct;
        a->d0 = arena_take(&ar, n);                                       // (B * max C*T)
        a->d1 = arena_take(&ar, n);
        a->da = arena_take(&ar, n);
        a->dg = arena_take(&ar, n);
        a->dh = arena_take(&ar, n);
        a->dmom = arena_take(&ar, (long)B * 2 * c->z * Tl);               // (B, 2Z, Tl)
        a->dz = arena_take(&ar, (long)B * c->z * Tl);                     // (B, Z, Tl)
    }
    return ar.off;
}

void ae_acts_alloc(AeActs *a, const Ae *m, int B, int T, int train) {
    memset(a, 0, sizeof *a);
    T = (T + AE_DOWN - 1) / AE_DOWN * AE_DOWN;
    a->B = B; a->T = T; a->train = train;
    a->total = point_acts(a, m, B, T, train, NULL);
    a->mem = alignedCheck((size_t)a->total * sizeof(float));
    point_acts(a, m, B, T, train, a->mem);
}

void ae_acts_free(AeActs *a) {
    free(a->mem);
    memset(a, 0, sizeof *a);
}

// ---- forward and backward of an op list ------------------------------------------------
#define PW(idx) ((idx) >= 0 ? params_get(p, (idx)) : NULL)
#define PG(idx) ((idx) >= 0 && grad ? grad + p->specs[(idx)].offset : NULL)

// in (B, ops[0].cin, T) -> acts[n-1].out
static void forward_ops(const AeOp *ops, int n, AeOpActs *acts, const ParamSet *p, const float *in,
                        int B, int T, int G) {
    const float *x = in;
    int t = T;
    for (int i = 0; i < n; i++) {
        const AeOp *o = &ops[i];
        AeOpActs *a = &acts[i];
        long nel = (long)B * o->cin * t;
        switch (o->kind) {
        case AE_CONV:
            conv1d_forward(a->out, x, PW(o->w), PW(o->b), B, o->cin, t, o->cout, 3, o->stride, 1, 1);
            break;
        case AE_UP:
            upsample2x_forward(a->out, x, B, o->cin, t);          // (B, C, 2T)
            break;
        case AE_NORMACT:
            groupnorm_forward(a->g1, a->mean1, a->rstd1, x, PW(o->n1w), PW(o->n1b), B, o->cin, t, G);
            silu_forward(a->out, a->g1, nel);
            break;
        case AE_RES:
            groupnorm_forward(a->g1, a->mean1, a->rstd1, x, PW(o->n1w), PW(o->n1b), B, o->cin, t, G);
            silu_forward(a->a1, a->g1, nel);
            conv1d_forward(a->h1, a->a1, PW(o->c1w), PW(o->c1b), B, o->cin, t, o->cin, 3, 1, 1, 1);
            groupnorm_forward(a->g2, a->mean2, a->rstd2, a->h1, PW(o->n2w), PW(o->n2b), B, o->cin, t, G);
            silu_forward(a->a2, a->g2, nel);
            conv1d_forward(a->out, a->a2, PW(o->c2w), PW(o->c2b), B, o->cin, t, o->cin, 3, 1, 1, 1);
            add_inplace(a->out, x, nel);                          // residual
            break;
        }
        x = a->out;
        t = t * o->tmul_num / o->tmul_den;
    }
}

// dout (the gradient of acts[n-1].out) -> parameter gradients (accumulated into
// grad) and, when din != NULL, the gradient of the input (overwritten).
// dout must be a->d0 or a buffer other than d0/d1.
static void backward_ops(const AeOp *ops, int n, AeOpActs *acts, const ParamSet *p, float *grad,
                         const float *in, const float *dout, float *din, AeActs *s, int B, int T, int G) {
    int tin[AE_MAX_OPS];
    int t = T;
    for (int i = 0; i < n; i++) { tin[i] = t; t = t * ops[i].tmul_num / ops[i].tmul_den; }
    const float *dcur = dout;
    for (int i = n - 1; i >= 0; i--) {
        const AeOp *o = &ops[i];
        AeOpActs *a = &acts[i];
        const float *x = i ? acts[i - 1].out : in;
        int ti = tin[i];
        long nel = (long)B * o->cin * ti;
        float *dnext = i ? (dcur == s->d0 ? s->d1 : s->d0) : din;
        if (dnext) memset(dnext, 0, sizeof(float) * nel);
        switch (o->kind) {
        case AE_CONV:
            conv1d_backward(dnext, PG(o->w), PG(o->b), dcur, x, PW(o->w), B, o->cin, ti, o->cout, 3, o->stride, 1, 1);
            break;
        case AE_UP:
            if (dnext) upsample2x_backward(dnext, dcur, B, o->cin, ti);
            break;
        case AE_NORMACT:
            memset(s->dg, 0, sizeof(float) * nel);
            silu_backward(s->dg, dcur, a->g1, nel);
            groupnorm_backward(dnext, PG(o->n1w), PG(o->n1b), s->dg, x, a->mean1, a->rstd1, PW(o->n1w), B, o->cin, ti, G);
            break;
        case AE_RES:
            if (dnext) add_inplace(dnext, dcur, nel);                       // skip path
            memset(s->da, 0, sizeof(float) * nel);
            conv1d_backward(s->da, PG(o->c2w), PG(o->c2b), dcur, a->a2, PW(o->c2w), B, o->cin, ti, o->cin, 3, 1, 1, 1);
            memset(s->dg, 0, sizeof(float) * nel);
            silu_backward(s->dg, s->da, a->g2, nel);
            memset(s->dh, 0, sizeof(float) * nel);
            groupnorm_backward(s->dh, PG(o->n2w), PG(o->n2b), s->dg, a->h1, a->mean2, a->rstd2, PW(o->n2w), B, o->cin, ti, G);
            memset(s->da, 0, sizeof(float) * nel);
            conv1d_backward(s->da, PG(o->c1w), PG(o->c1b), s->dh, a->a1, PW(o->c1w), B, o->cin, ti, o->cin, 3, 1, 1, 1);
            memset(s->dg, 0, sizeof(float) * nel);
            silu_backward(s->dg, s->da, a->g1, nel);
            groupnorm_backward(dnext, PG(o->n1w), PG(o->n1b), s->dg, x, a->mean1, a->rstd1, PW(o->n1w), B, o->cin, ti, G);
            break;
        }
        dcur = dnext;
    }
}

static int check_cap(const AeActs *a, int B, int T) {
    if (B < 1 || T < AE_DOWN || T % AE_DOWN || B > a->B || T > a->T)
        return err_set("autoencoder: batch %d x %d frames does not fit the arena (%d x %d, T a multiple of %d)",
                       B, T, a->B, a->T, AE_DOWN);
    return 0;
}

// encoder (and its linear path into the mu rows of the moments)
static void enc_fwd(const Ae *m, const ParamSet *p, AeActs *a, int B, int T) {
    const AeConfig *c = &m->cfg;
    forward_ops(m->enc, m->n_enc, a->enc, p, a->x, B, T, c->groups);
    if (!c->linear) return;
    int Z = c->z, Tl = T / AE_DOWN;
    conv1d_forward(a->lin_e, a->x, PW(m->lin_ew), PW(m->lin_eb), B, c->n_mels, T, Z, AE_DOWN, AE_DOWN, 0, 1);
    float *mom = a->enc[m->n_enc - 1].out;                       // (B, 2Z, Tl)
    for (int b = 0; b < B; b++) add_inplace(mom + (long)b * 2 * Z * Tl, a->lin_e + (long)b * Z * Tl, (long)Z * Tl);
}

// decoder from a->z (and its linear path added to the output)
static void dec_fwd(const Ae *m, const ParamSet *p, AeActs *a, int B, int T) {
    const AeConfig *c = &m->cfg;
    int Tl = T / AE_DOWN, M = c->n_mels;
    forward_ops(m->dec, m->n_dec, a->dec, p, a->z, B, Tl, c->groups);
    if (!c->linear) return;
    conv1d_forward(a->lin_d, a->z, PW(m->lin_dw), PW(m->lin_db), B, c->z, Tl, AE_DOWN * M, 1, 1, 0, 1);
    float *y = a->dec[m->n_dec - 1].out;                         // (B, M, T)
    for (int b = 0; b < B; b++)
        for (int k = 0; k < AE_DOWN; k++)
            for (int j = 0; j < M; j++) {
                const float *src = a->lin_d + ((long)b * AE_DOWN * M + k * M + j) * Tl;   // (Tl)
                float *dst = y + ((long)b * M + j) * T + k;
                for (int t = 0; t < Tl; t++) dst[(long)t * AE_DOWN] += src[t];
            }
}

int ae_encode_forward(const Ae *m, const ParamSet *p, AeActs *a, int B, int T) {
    if (check_cap(a, B, T)) return -1;
    enc_fwd(m, p, a, B, T);
    return 0;
}
const float *ae_moments(const Ae *m, const AeActs *a) { return a->enc[m->n_enc - 1].out; }

int ae_decode_forward(const Ae *m, const ParamSet *p, AeActs *a, int B, int T) {
    if (check_cap(a, B, T)) return -1;
    dec_fwd(m, p, a, B, T);
    return 0;
}
const float *ae_output(const Ae *m, const AeActs *a) { return a->dec[m->n_dec - 1].out; }

#define LOGVAR_MIN (-30.0f)
#define LOGVAR_MAX 20.0f

int ae_loss(const Ae *m, const ParamSet *p, AeActs *a, const float *eps, int B, int T,
            float *grad, int mse, AeLoss *out) {
    const AeConfig *c = &m->cfg;
    if (grad && !a->train) return err_set("autoencoder: activations were allocated without backward scratch");
    if (ae_encode_forward(m, p, a, B, T)) return -1;
    int Z = c->z, Tl = T / AE_DOWN, M = c->n_mels;
    const float *mom = ae_moments(m, a);                         // (B, 2Z, Tl)
    long nlat = (long)B * Z * Tl;
    double kl = 0;
    for (int b = 0; b < B; b++)
        for (int ch = 0; ch < Z; ch++) {
            const float *mu = mom + ((long)b * 2 * Z + ch) * Tl;
            const float *lv = mom + ((long)b * 2 * Z + Z + ch) * Tl;
            float *z = a->z + ((long)b * Z + ch) * Tl;
            const float *e = eps ? eps + ((long)b * Z + ch) * Tl : NULL;
            for (int t = 0; t < Tl; t++) {
                float l = fminf(fmaxf(lv[t], LOGVAR_MIN), LOGVAR_MAX);
                z[t] = e ? mu[t] + expf(0.5f * l) * e[t] : mu[t];
                kl += 0.5 * ((double)mu[t] * mu[t] + exp((double)l) - 1.0 - l);
            }
        }
    kl /= (double)nlat;
    dec_fwd(m, p, a, B, T);
    const float *y = ae_output(m, a);                            // (B, M, T)
    long n = (long)B * M * T;
    double rec = 0;
    for (long i = 0; i < n; i++) {
        double d = (double)y[i] - a->x[i];
        rec += mse ? d * d : fabs(d);
    }
    rec /= (double)n;
    out->rec = rec;
    out->kl = kl;
    out->loss = rec + (double)c->kl_weight * kl;
    if (!grad) return 0;

    // d loss / d x_hat into d0
    float *dy = a->d0;
    float k = (float)(1.0 / (double)n);
    for (long i = 0; i < n; i++) {
        float d = y[i] - a->x[i];
        dy[i] = mse ? 2.0f * k * d : (d > 0 ? k : (d < 0 ? -k : 0.0f));
    }
    if (c->linear)   // gradient of the decoder's linear path output, (B, 4M, Tl), before d0 is reused
        for (int b = 0; b < B; b++)
            for (int q = 0; q < AE_DOWN; q++)
                for (int j = 0; j < M; j++) {
                    float *dst = a->dlin + ((long)b * AE_DOWN * M + q * M + j) * Tl;
                    const float *src = dy + ((long)b * M + j) * T + q;
                    for (int t = 0; t < Tl; t++) dst[t] = src[(long)t * AE_DOWN];
                }
    backward_ops(m->dec, m->n_dec, a->dec, p, grad, a->z, dy, a->dz, a, B, Tl, c->groups);
    if (c->linear)
        conv1d_backward(a->dz, PG(m->lin_dw), PG(m->lin_db), a->dlin, a->z, PW(m->lin_dw), B, Z, Tl, AE_DOWN * M, 1, 1, 0, 1);
    // through the sample and the KL term into the moments
    float kw = (float)(c->kl_weight / (double)nlat);
    for (int b = 0; b < B; b++)
        for (int ch = 0; ch < Z; ch++) {
            const float *mu = mom + ((long)b * 2 * Z + ch) * Tl;
            const float *lv = mom + ((long)b * 2 * Z + Z + ch) * Tl;
            float *dmu = a->dmom + ((long)b * 2 * Z + ch) * Tl;
            float *dlv = a->dmom + ((long)b * 2 * Z + Z + ch) * Tl;
            const float *dz = a->dz + ((long)b * Z + ch) * Tl;
            const float *e = eps ? eps + ((long)b * Z + ch) * Tl : NULL;
            for (int t = 0; t < Tl; t++) {
                dmu[t] = dz[t] + kw * mu[t];
                int inside = lv[t] > LOGVAR_MIN && lv[t] < LOGVAR_MAX;
                float el = expf(fminf(fmaxf(lv[t], LOGVAR_MIN), LOGVAR_MAX));
                float g = 0.5f * kw * (el - 1.0f);
                if (e) g += dz[t] * e[t] * 0.5f * sqrtf(el);
                dlv[t] = inside ? g : 0.0f;
            }
        }
    if (c->linear) {   // the encoder's linear path gets the mu rows' gradient; dz is free now
        for (int b = 0; b < B; b++)
            memcpy(a->dz + (long)b * Z * Tl, a->dmom + (long)b * 2 * Z * Tl, sizeof(float) * Z * Tl);
        conv1d_backward(NULL, PG(m->lin_ew), PG(m->lin_eb), a->dz, a->x, PW(m->lin_ew), B, M, T, Z, AE_DOWN, AE_DOWN, 0, 1);
    }
    backward_ops(m->enc, m->n_enc, a->enc, p, grad, a->x, a->dmom, NULL, a, B, T, c->groups);
    return 0;
}

void ae_load_input(const Ae *m, AeActs *a, int b, const float *logmel, int T) {
    int M = m->cfg.n_mels;
    float sh = m->cfg.in_shift, sc = m->cfg.in_scale;
    float *x = a->x + (long)b * M * T;
    for (int t = 0; t < T; t++)
        for (int k = 0; k < M; k++) x[(long)k * T + t] = (logmel[(long)t * M + k] - sh) * sc;
}

// ---- whole songs -----------------------------------------------------------------------
#define AE_GROUP 8   // windows per forward pass

static long clampl(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

// Window plan over Tp = T rounded up to a multiple of 4: either one window of
// Tp frames with no context, or windows of AE_WIN core + AE_CTX each side.
static void plan(long T, long *Tp, int *Tw, int *ctx, long *nwin) {
    *Tp = (T + AE_DOWN - 1) / AE_DOWN * AE_DOWN;
    if (*Tp <= AE_WIN + 2 * AE_CTX) { *Tw = (int)*Tp; *ctx = 0; *nwin = 1; }
    else { *Tw = AE_WIN + 2 * AE_CTX; *ctx = AE_CTX; *nwin = (*Tp + AE_WIN - 1) / AE_WIN; }
}

int ae_encode(const Ae *m, const float *logmel, long T, float *lat, int unit) {
    if (T < 1) return err_set("autoencoder: nothing to encode (0 frames)");
    const AeConfig *c = &m->cfg;
    const ParamSet *p = &m->params;
    int M = c->n_mels, Z = c->z, Tw, ctx;
    long Tp, nwin;
    plan(T, &Tp, &Tw, &ctx, &nwin);
    int core = ctx ? AE_WIN : Tw;
    long Tl = Tp / AE_DOWN;
    const float *mean = params_get(p, m->lat_mean), *sd = params_get(p, m->lat_std);
    AeActs a;
    int G = nwin < AE_GROUP ? (int)nwin : AE_GROUP;
    ae_acts_alloc(&a, m, G, Tw, 0);
    float sh = c->in_shift, sc = c->in_scale;
    for (long w0 = 0; w0 < nwin; w0 += G) {
        int nb = (int)(nwin - w0 < G ? nwin - w0 : G);
        for (int b = 0; b < nb; b++) {
            long s = (w0 + b) * core - ctx;
            float *x = a.x + (long)b * M * Tw;                    // (M, Tw)
            for (int j = 0; j < Tw; j++) {
                const float *row = logmel + clampl(s + j, 0, T - 1) * M;
                for (int k = 0; k < M; k++) x[(long)k * Tw + j] = (row[k] - sh) * sc;
            }
        }
        if (ae_encode_forward(m, p, &a, nb, Tw)) { ae_acts_free(&a); return -1; }
        const float *mom = ae_moments(m, &a);                     // (nb, 2Z, Tw/4)
        int tlw = Tw / AE_DOWN;
        for (int b = 0; b < nb; b++) {
            long l0 = (w0 + b) * core / AE_DOWN;
            for (int t = 0; t < core / AE_DOWN && l0 + t < Tl; t++)
                for (int ch = 0; ch < Z; ch++) {
                    float mu = mom[((long)b * 2 * Z + ch) * tlw + ctx / AE_DOWN + t];
                    lat[(l0 + t) * Z + ch] = unit ? (mu - mean[ch]) / sd[ch] : mu;
                }
        }
    }
    ae_acts_free(&a);
    return 0;
}

int ae_decode(const Ae *m, const float *lat, long Tl, float *logmel, long T, int unit) {
    if (T < 1 || ae_latent_frames(T) != Tl)
        return err_set("autoencoder: %ld latent frames cannot decode to %ld mel frames (expected %ld latent frames)",
                       Tl, T, ae_latent_frames(T));
    const AeConfig *c = &m->cfg;
    const ParamSet *p = &m->params;
    int M = c->n_mels, Z = c->z, Tw, ctx;
    long Tp, nwin;
    plan(T, &Tp, &Tw, &ctx, &nwin);
    int core = ctx ? AE_WIN : Tw, tlw = Tw / AE_DOWN, lctx = ctx / AE_DOWN;
    const float *mean = params_get(p, m->lat_mean), *sd = params_get(p, m->lat_std);
    AeActs a;
    int G = nwin < AE_GROUP ? (int)nwin : AE_GROUP;
    ae_acts_alloc(&a, m, G, Tw, 0);
    float sh = c->in_shift, isc = 1.0f / c->in_scale;
    for (long w0 = 0; w0 < nwin; w0 += G) {
        int nb = (int)(nwin - w0 < G ? nwin - w0 : G);
        for (int b = 0; b < nb; b++) {
            long s = (w0 + b) * core / AE_DOWN - lctx;
            float *z = a.z + (long)b * Z * tlw;                   // (Z, Tw/4)
            for (int j = 0; j < tlw; j++) {
                const float *row = lat + clampl(s + j, 0, Tl - 1) * Z;
                for (int ch = 0; ch < Z; ch++) z[(long)ch * tlw + j] = unit ? row[ch] * sd[ch] + mean[ch] : row[ch];
            }
        }
        if (ae_decode_forward(m, p, &a, nb, Tw)) { ae_acts_free(&a); return -1; }
        const float *y = ae_output(m, &a);                        // (nb, M, Tw)
        for (int b = 0; b < nb; b++) {
            long t0 = (w0 + b) * core;
            for (int t = 0; t < core && t0 + t < T; t++)
                for (int k = 0; k < M; k++)
                    logmel[(t0 + t) * M + k] = y[((long)b * M + k) * Tw + ctx + t] * isc + sh;
        }
    }
    ae_acts_free(&a);
    return 0;
}

// ---- files -------------------------------------------------------------------------------
static void full_hparams(const Ae *m, const AeConfig *c, int has_stats, Hparams *hp) {
    (void)m;
    ae_config_to_hparams(c, hp);
    hparams_set_int(hp, "latent_stats", has_stats);
}

int ae_save(const Ae *m, const char *path) {
    Hparams hp;
    full_hparams(m, &m->cfg, m->has_stats, &hp);
    return checkpoint_save(path, AE_KIND, &hp, &m->params, NULL);
}

int ae_load(Ae *m, const char *path, const AeConfig *want) {
    Hparams file;
    if (checkpoint_read_hparams(path, AE_KIND, &file)) return -1;
    AeConfig cfg;
    int64_t stats = 0;
    if (hparams_get_int(&file, "latent_stats", &stats) || ae_config_from_hparams(&cfg, &file)) {
        return err_set("'%s' is not a model this build can read: %s", path, err_msg());
    }
    const AeConfig *use = want ? want : &cfg;
    if (ae_create(m, use)) return -1;
    Hparams hp;
    full_hparams(m, use, (int)stats, &hp);
    for (int i = 0; i < AE_N_AUG_KEYS; i++) {   // a training checkpoint's record (train.c)
        double v;
        if (!hparams_get_float(&file, AE_AUG_KEYS[i], &v)) hparams_set_float(&hp, AE_AUG_KEYS[i], v);
    }
    err_clear();
    // a training checkpoint: its EMA weights; a shipped model: its weights
    if (checkpoint_load_ema(path, AE_KIND, &hp, &m->params) && checkpoint_load(path, AE_KIND, &hp, &m->params, NULL)) {
        ae_free(m);
        return -1;
    }
    m->has_stats = (int)stats;
    err_clear();   // the EMA attempt's message, when the plain weights loaded
    return 0;
}

int latents_write(const char *path, const float *lat, long Tl, int Z, long T) {
    FILE *f = fopen(path, "wb");
    if (!f) return err_set("cannot write %s: %s", path, strerror(errno));
    uint32_t h[4] = {(uint32_t)Z, (uint32_t)Tl, (uint32_t)T, 0};
    errno = 0;
    int ok = fwrite("RFNLAT01", 1, 8, f) == 8 && fwrite(h, 4, 4, f) == 4 &&
             fwrite(lat, sizeof(float), (size_t)Tl * Z, f) == (size_t)Tl * Z && fflush(f) == 0;
    int e = ok ? 0 : errno ? errno : EIO;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    if (!e) return 0;
    remove(path);
    return err_set("cannot write %s: %s", path, e == ENOSPC ? "disk full" : strerror(e));
}

int latents_read(const char *path, float **lat, long *Tl, int *Z, long *T) {
    *lat = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot read latents %s: %s", path, strerror(errno));
    char magic[8];
    uint32_t h[4];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "RFNLAT01", 8) || fread(h, 4, 4, f) != 4) {
        fclose(f);
        return err_set("'%s' is not a refrain latent file (expected magic RFNLAT01; write one with 'refrain encode')", path);
    }
    if (h[0] == 0 || h[0] > 4096 || h[1] == 0 || (long)h[1] != ae_latent_frames(h[2])) {
        fclose(f);
        return err_set("latent file '%s' is malformed: %u channels, %u frames for %u mel frames", path, h[0], h[1], h[2]);
    }
    // the header's size against the file's, before allocating what it claims
    size_t n = (size_t)h[0] * h[1];
    struct stat st = {0};
    if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size != 24 + (uint64_t)n * sizeof(float)) {
        fclose(f);
        return err_set("latent file '%s' is %s: its header says %u x %u floats (%llu bytes), the file has %lld bytes",
                       path, (uint64_t)st.st_size < 24 + (uint64_t)n * sizeof(float) ? "truncated" : "malformed",
                       h[1], h[0], 24 + (unsigned long long)n * sizeof(float), (long long)st.st_size);
    }
    *lat = mallocCheck(n * sizeof(float));
    if (fread(*lat, sizeof(float), n, f) != n) {
        fclose(f);
        free(*lat);
        *lat = NULL;
        return err_set("latent file '%s' is truncated: expected %zu floats", path, n);
    }
    long bad = first_bad_value(*lat, n, LATENT_VALUE_LIMIT);
    if (bad >= 0) {
        float v = (*lat)[bad];
        fclose(f);
        free(*lat);
        *lat = NULL;
        return err_set("latent file '%s': value %ld (frame %ld, channel %ld) is %s (%g); latents are unit scale, "
                       "at most %g", path, bad, bad / (long)h[0], bad % (long)h[0], bad_value_kind(v), v,
                       LATENT_VALUE_LIMIT);
    }
    fclose(f);
    *Z = (int)h[0]; *Tl = h[1]; *T = h[2];
    return 0;
}
