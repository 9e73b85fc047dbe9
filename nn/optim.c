// optim.c — AdamW, gradient clipping, EMA, lr schedule, finite guard and the
// TrainState they share. See optim.h. No file I/O here (checkpoint.c).
#include "nn/optim.h"
#include "util/util.h"

// No fused multiply-add contraction: the AdamW SIMD body and scalar tail must
// round the same way. GCC in ISO mode (-std=c11, as the Makefile builds) does
// not contract; clang does unless told.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096        // floats per work item (and per partial sum of the norm)
#define PAR_MIN 65536     // arenas smaller than this run on one thread: a parallel
                          // region costs more than the loop, and far more when the
                          // machine is oversubscribed

OptimConfig optim_config_default(void) {
    OptimConfig c;
    memset(&c, 0, sizeof c);
    c.lr = 3e-4f;
    c.lr_min = 3e-5f;
    c.warmup_steps = 0;
    c.total_steps = 0;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.weight_decay = 0.01f;
    c.clip_norm = 1.0f;
    c.ema_decay = 0.999f;
    c.ema_warmup = 1;
    return c;
}

float *optim_arena_alloc(const ParamSet *p) {
    return alignedCheck((size_t)p->total * sizeof(float));
}

void train_state_init(TrainState *st, const ParamSet *params, const OptimConfig *cfg, uint64_t seed) {
    memset(st, 0, sizeof *st);
    st->cfg = *cfg;
    st->step = 0;
    rng_seed(&st->rng, seed);
    st->total = params->total;
    st->m = optim_arena_alloc(params);
    st->v = optim_arena_alloc(params);
    if (cfg->ema_decay > 0) {
        st->ema = optim_arena_alloc(params);
        if (params->data) memcpy(st->ema, params->data, (size_t)params->total * sizeof(float));
    }
}

void train_state_free(TrainState *st) {
    free(st->m);
    free(st->v);
    free(st->ema);
    memset(st, 0, sizeof *st);
}

float lr_schedule(const OptimConfig *c, long step) {
    if (step < 0) step = 0;
    if (c->warmup_steps > 0 && step < c->warmup_steps)
        return (float)((double)c->lr * (double)(step + 1) / (double)c->warmup_steps);
    if (c->total_steps <= c->warmup_steps) return c->lr;   // no decay configured
    if (step >= c->total_steps) return c->lr_min;
    double progress = (double)(step - c->warmup_steps) / (double)(c->total_steps - c->warmup_steps);
    return (float)(c->lr_min + 0.5 * ((double)c->lr - c->lr_min) * (1.0 + cos(M_PI * progress)));
}

// ---- the flat loop: fixed chunks that never cross a tensor ---------------------------
// Every pass splits each tensor into chunks of CHUNK floats, so padding between
// tensors is never touched and the chunks (hence the norm's partial sums) do
// not depend on the thread count. first[i] is tensor i's first chunk; first[n]
// is the chunk count.
typedef struct { long *first; long n; } Chunks;

static Chunks chunks_make(const ParamSet *p) {
    Chunks c;
    c.first = mallocCheck((size_t)(p->n + 1) * sizeof *c.first);
    c.first[0] = 0;
    for (int i = 0; i < p->n; i++) c.first[i + 1] = c.first[i] + (p->specs[i].size + CHUNK - 1) / CHUNK;
    c.n = c.first[p->n];
    return c;
}
// Tensor and element range [*start, *end) of chunk k.
static const ParamSpec *chunk_at(const ParamSet *p, const Chunks *c, long k, long *start, long *end) {
    int lo = 0, hi = p->n - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (c->first[mid] <= k) lo = mid; else hi = mid - 1;
    }
    const ParamSpec *s = &p->specs[lo];
    *start = (k - c->first[lo]) * CHUNK;
    *end = *start + CHUNK < s->size ? *start + CHUNK : s->size;
    return s;
}

// ---- gradient norm and clipping ---------------------------------------------------
double grad_norm(const ParamSet *p, const float *grad) {
    if (p->n == 0) return 0.0;
    Chunks ch = chunks_make(p);
    double *part = mallocCheck((size_t)(ch.n ? ch.n : 1) * sizeof *part);
    #pragma omp parallel for schedule(static) if (p->total >= PAR_MIN)
    for (long k = 0; k < ch.n; k++) {
        long j, end;
        const ParamSpec *s = chunk_at(p, &ch, k, &j, &end);
        const float *g = grad + s->offset;
        double acc[4] = {0, 0, 0, 0};                // 4 chains: latency, not order, limits this
        for (; j + 4 <= end; j += 4)
            for (int q = 0; q < 4; q++) acc[q] += (double)g[j + q] * (double)g[j + q];
        for (; j < end; j++) acc[0] += (double)g[j] * (double)g[j];
        part[k] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    double sum = 0.0;
    for (long k = 0; k < ch.n; k++) sum += part[k];     // fixed order
    free(part);
    free(ch.first);
    return sqrt(sum);
}

// Scales grad as clip_grad_norm_ does, given the norm already computed.
static void clip_with_norm(const ParamSet *p, float *grad, float max_norm, double norm) {
    if (!(max_norm > 0)) return;
    // torch computes the coefficient in float32: max_norm / (total_norm + 1e-6)
    float coef = max_norm / ((float)norm + 1e-6f);
    if (!(coef < 1.0f)) return;                      // also leaves NaN grads alone
    Chunks ch = chunks_make(p);
    #pragma omp parallel for schedule(static) if (p->total >= PAR_MIN)
    for (long k = 0; k < ch.n; k++) {
        long j, end;
        const ParamSpec *s = chunk_at(p, &ch, k, &j, &end);
        float *restrict g = grad + s->offset;
        #pragma omp simd
        for (long q = j; q < end; q++) g[q] *= coef;
    }
    free(ch.first);
}

double grad_clip(const ParamSet *p, float *grad, float max_norm) {
    double norm = grad_norm(p, grad);
    clip_with_norm(p, grad, max_norm, norm);
    return norm;
}

// ---- AdamW --------------------------------------------------------------------------
// Scalars are computed in double and rounded to float once, as torch does with
// Python floats; the elementwise order of operations follows
// torch.optim.adamw._single_tensor_adamw. The AVX path does the same IEEE
// operations (no FMA), so it gives the same bits as the scalar tail.
typedef struct { float dm, b1, omb1, b2, omb2, bc2_sqrt, eps, neg_step; } AdamK;

static void adamw_span(float *restrict w, float *restrict m, float *restrict v, const float *restrict g,
                       long j, long end, const AdamK *k) {
#if defined(__AVX__)
    __m256 dm = _mm256_set1_ps(k->dm), b1 = _mm256_set1_ps(k->b1), omb1 = _mm256_set1_ps(k->omb1);
    __m256 b2 = _mm256_set1_ps(k->b2), omb2 = _mm256_set1_ps(k->omb2), bc2 = _mm256_set1_ps(k->bc2_sqrt);
    __m256 eps = _mm256_set1_ps(k->eps), nss = _mm256_set1_ps(k->neg_step);
    for (; j + 8 <= end; j += 8) {
        __m256 gj = _mm256_loadu_ps(g + j);
        __m256 wj = _mm256_mul_ps(_mm256_loadu_ps(w + j), dm);
        __m256 mj = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + j), b1), _mm256_mul_ps(omb1, gj));
        __m256 vj = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + j), b2),
                                  _mm256_mul_ps(omb2, _mm256_mul_ps(gj, gj)));
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vj), bc2), eps);
        _mm256_storeu_ps(w + j, _mm256_add_ps(wj, _mm256_mul_ps(nss, _mm256_div_ps(mj, den))));
        _mm256_storeu_ps(m + j, mj);
        _mm256_storeu_ps(v + j, vj);
    }
#endif
    for (; j < end; j++) {
        float gj = g[j];
        float wj = w[j] * k->dm;                     // x * 1.0f == x exactly (no-decay tensors)
        float mj = m[j] * k->b1 + k->omb1 * gj;
        float vj = v[j] * k->b2 + k->omb2 * (gj * gj);
        float den = sqrtf(vj) / k->bc2_sqrt + k->eps;
        w[j] = wj + k->neg_step * (mj / den);
        m[j] = mj;
        v[j] = vj;
    }
}

void adamw_update(ParamSet *params, const float *grad, TrainState *st, float lr) {
    const OptimConfig *c = &st->cfg;
    st->step += 1;
    double t = (double)st->step, b1 = c->beta1, b2 = c->beta2;
    AdamK kd;                                         // for tensors with weight decay
    kd.dm = (float)(1.0 - (double)lr * (double)c->weight_decay);
    kd.b1 = c->beta1;
    kd.omb1 = (float)(1.0 - b1);
    kd.b2 = c->beta2;
    kd.omb2 = (float)(1.0 - b2);
    kd.bc2_sqrt = (float)sqrt(1.0 - pow(b2, t));
    kd.eps = c->eps;
    kd.neg_step = (float)(-((double)lr / (1.0 - pow(b1, t))));
    AdamK kn = kd;                                    // and without
    kn.dm = 1.0f;
    Chunks ch = chunks_make(params);
    #pragma omp parallel for schedule(static) if (params->total >= PAR_MIN)
    for (long k = 0; k < ch.n; k++) {
        long j, end;
        const ParamSpec *s = chunk_at(params, &ch, k, &j, &end);
        long o = s->offset;
        adamw_span(params->data + o, st->m + o, st->v + o, grad + o, j, end, s->decay ? &kd : &kn);
    }
    free(ch.first);
}

// ---- EMA -------------------------------------------------------------------------------
float ema_decay_at(const OptimConfig *c, long step) {
    if (!(c->ema_decay > 0)) return 0.0f;
    if (!c->ema_warmup) return c->ema_decay;
    float warm = (float)((1.0 + (double)step) / (10.0 + (double)step));
    return warm < c->ema_decay ? warm : c->ema_decay;
}

void ema_update(const ParamSet *params, TrainState *st) {
    if (!st->ema || !(st->cfg.ema_decay > 0)) return;
    float d = ema_decay_at(&st->cfg, st->step);
    float one_minus_d = (float)(1.0 - (double)d);
    Chunks ch = chunks_make(params);
    #pragma omp parallel for schedule(static) if (params->total >= PAR_MIN)
    for (long k = 0; k < ch.n; k++) {
        long j, end;
        const ParamSpec *s = chunk_at(params, &ch, k, &j, &end);
        float *restrict e = st->ema + s->offset;
        const float *restrict w = params->data + s->offset;
        #pragma omp simd
        for (long q = j; q < end; q++) e[q] = d * e[q] + one_minus_d * w[q];
    }
    free(ch.first);
}

// ---- guard and the whole step -------------------------------------------------------------
int train_check_finite(float loss, double gnorm, long step) {
    if (!isfinite(loss))
        return err_set("training stopped at step %ld: loss is %s (expected a finite number); "
                       "nothing was updated or saved — lower the learning rate, check the data, "
                       "or resume from the last checkpoint", step, isnan(loss) ? "NaN" : "Inf");
    if (!isfinite(gnorm))
        return err_set("training stopped at step %ld: gradient norm is %s (loss %g was finite); "
                       "nothing was updated or saved — a backward pass overflowed; lower the "
                       "learning rate or resume from the last checkpoint",
                       step, isnan(gnorm) ? "NaN" : "Inf", (double)loss);
    return 0;
}

int optim_step(ParamSet *params, float *grad, TrainState *st, float loss, double *gnorm_out) {
    double gnorm = grad_norm(params, grad);
    if (gnorm_out) *gnorm_out = gnorm;
    if (train_check_finite(loss, gnorm, st->step)) return -1;
    clip_with_norm(params, grad, st->cfg.clip_norm, gnorm);
    adamw_update(params, grad, st, lr_schedule(&st->cfg, st->step));
    ema_update(params, st);
    return 0;
}
