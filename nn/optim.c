// optim.c — AdamW, gradient clipping, EMA, lr schedule, finite guard and the
// TrainState they share. See optim.h. No file I/O here (checkpoint.c).
#include "nn/optim.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NORM_CHUNK 4096   // floats per partial sum of the gradient norm

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
    size_t bytes = ((size_t)p->total * sizeof(float) + 63) & ~(size_t)63;
    float *a = aligned_alloc(64, bytes ? bytes : 64);
    if (!a) {
        fprintf(stderr, "refrain: out of memory for an arena of %ld floats\n", p->total);
        exit(1);
    }
    memset(a, 0, bytes ? bytes : 64);
    return a;
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

// ---- gradient norm and clipping ---------------------------------------------------
// Chunks never cross tensors, so padding between tensors is never read.
// first[i] is the index of tensor i's first chunk; first[n] is the chunk count.
static long *chunk_table(const ParamSet *p) {
    long *first = mallocCheck((size_t)(p->n + 1) * sizeof *first);
    first[0] = 0;
    for (int i = 0; i < p->n; i++)
        first[i + 1] = first[i] + (p->specs[i].size + NORM_CHUNK - 1) / NORM_CHUNK;
    return first;
}

double grad_norm(const ParamSet *p, const float *grad) {
    if (p->n == 0) return 0.0;
    long *first = chunk_table(p);
    long nchunks = first[p->n];
    double *part = mallocCheck((size_t)(nchunks ? nchunks : 1) * sizeof *part);
    #pragma omp parallel for schedule(static)
    for (long c = 0; c < nchunks; c++) {
        int lo = 0, hi = p->n - 1;                 // tensor holding chunk c
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (first[mid] <= c) lo = mid; else hi = mid - 1;
        }
        const ParamSpec *s = &p->specs[lo];
        long start = (c - first[lo]) * NORM_CHUNK;
        long end = start + NORM_CHUNK < s->size ? start + NORM_CHUNK : s->size;
        const float *g = grad + s->offset;
        double acc = 0.0;
        for (long j = start; j < end; j++) acc += (double)g[j] * (double)g[j];
        part[c] = acc;
    }
    double sum = 0.0;
    for (long c = 0; c < nchunks; c++) sum += part[c];   // fixed order
    free(part);
    free(first);
    return sqrt(sum);
}

// Scales grad as clip_grad_norm_ does, given the norm already computed.
static void clip_with_norm(const ParamSet *p, float *grad, float max_norm, double norm) {
    if (!(max_norm > 0)) return;
    // torch computes the coefficient in float32: max_norm / (total_norm + 1e-6)
    float coef = max_norm / ((float)norm + 1e-6f);
    if (!(coef < 1.0f)) return;                      // also leaves NaN grads alone
    #pragma omp parallel
    for (int i = 0; i < p->n; i++) {
        float *g = grad + p->specs[i].offset;
        long n = p->specs[i].size;
        #pragma omp for schedule(static) nowait
        for (long j = 0; j < n; j++) g[j] *= coef;
    }
}

double grad_clip(const ParamSet *p, float *grad, float max_norm) {
    double norm = grad_norm(p, grad);
    clip_with_norm(p, grad, max_norm, norm);
    return norm;
}

// ---- AdamW --------------------------------------------------------------------------
// Scalars are computed in double and rounded to float once, as torch does with
// Python floats; the elementwise order of operations follows
// torch.optim.adamw._single_tensor_adamw.
void adamw_update(ParamSet *params, const float *grad, TrainState *st, float lr) {
    const OptimConfig *c = &st->cfg;
    st->step += 1;
    double t = (double)st->step;
    double b1 = c->beta1, b2 = c->beta2;
    float decay_mul = (float)(1.0 - (double)lr * (double)c->weight_decay);
    float one_minus_b1 = (float)(1.0 - b1), one_minus_b2 = (float)(1.0 - b2);
    float beta1 = c->beta1, beta2 = c->beta2, eps = c->eps;
    float neg_step_size = (float)(-((double)lr / (1.0 - pow(b1, t))));
    float bc2_sqrt = (float)sqrt(1.0 - pow(b2, t));
    float *w = params->data, *m = st->m, *v = st->v;
    #pragma omp parallel
    for (int i = 0; i < params->n; i++) {
        const ParamSpec *s = &params->specs[i];
        float *pw = w + s->offset, *pm = m + s->offset, *pv = v + s->offset;
        const float *pg = grad + s->offset;
        int decay = s->decay && c->weight_decay != 0.0f;
        #pragma omp for schedule(static) nowait
        for (long j = 0; j < s->size; j++) {
            float g = pg[j];
            float wj = pw[j];
            if (decay) wj = wj * decay_mul;
            float mj = pm[j] * beta1 + one_minus_b1 * g;
            float vj = pv[j] * beta2 + one_minus_b2 * (g * g);
            float denom = sqrtf(vj) / bc2_sqrt + eps;
            pw[j] = wj + neg_step_size * (mj / denom);
            pm[j] = mj;
            pv[j] = vj;
        }
    }
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
    const float *w = params->data;
    float *e = st->ema;
    #pragma omp parallel
    for (int i = 0; i < params->n; i++) {
        const ParamSpec *s = &params->specs[i];
        #pragma omp for schedule(static) nowait
        for (long j = s->offset; j < s->offset + s->size; j++) e[j] = d * e[j] + one_minus_d * w[j];
    }
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
