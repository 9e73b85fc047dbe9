// examples.c — training and evaluation examples for the denoiser, cut from the
// latent corpus: one section of one song (cropped when longer than the
// model's crop), the previous frames as clean context, the song's earlier
// sections as memory, noise at a flow time, and the condition drops that let
// one model serve guidance and the no-memory runs.
// It owns no network (denoiser.c) and no feature layout (conditioning/features.c).
#include "diffusion/diffusion.h"
#include "util/util.h"

#include <math.h>
#include <string.h>

DropOpts drop_opts_default(void) {
    DropOpts d = {0.15f, 0.15f, 0.10f, 0.5f};
    return d;
}

static SectionInfo section_info(const LatentSong *s, int i) {
    const LatentSection *x = &s->sec[i];
    SectionInfo in;
    memset(&in, 0, sizeof in);
    in.label_id = x->label_id;
    in.occurrence = x->occurrence;
    in.style = s->source + 1;
    in.index = i;
    in.n_sections = s->n_sections;
    in.start_seconds = x->start / COND_FRAME_RATE;
    in.seconds = (x->end - x->start) / COND_FRAME_RATE;
    in.song_seconds = s->T / COND_FRAME_RATE;
    in.targets = x->targets;
    return in;
}

// Example i with no memory: every token masked (and, for attention pooling,
// every section slot emptied).
static void clear_memory(const Denoiser *m, DenoiserBatch *b, int i) {
    const DenoiserConfig *c = &m->cfg;
    int cap = b->ns;
    memset(b->mem_mask + (long)i * cap, 0, (size_t)cap);
    if (c->mem_pool == 0) return;
    long ns = cap / c->mem_k, Lm = denoiser_mem_lm(c);
    memset(b->mem_fr + (long)i * ns * Lm * denoiser_fp(c), 0, sizeof(float) * ns * Lm * denoiser_fp(c));
    memset(b->mem_fr_mask + (long)i * ns * Lm, 0, (size_t)(ns * Lm));
    memset(b->mem_sec + (long)i * ns * COND_MEM_SEC_DIM, 0, sizeof(float) * ns * COND_MEM_SEC_DIM);
}

// Which earlier sections the memory of section cur holds within cap tokens:
// chosen[first .. n) (indices into src's sections, oldest first); returns n, sets
// *first and *used (the tokens they take). The most recent that fit are kept.
static int memory_plan(const DenoiserConfig *c, const LatentSong *s, int cur, const LatentSong *src, int cap,
                       int *chosen, int *first, int *used) {
    *first = *used = 0;
    int n_prev = src == s ? cur : (cur < src->n_sections ? cur : src->n_sections);
    if (n_prev <= 0 || c->mem_sections <= 0) return 0;
    int ids[n_prev + 1];
    for (int j = 0; j < n_prev; j++) ids[j] = src->sec[j].label_id;
    ids[n_prev] = s->sec[cur].label_id;
    int n = cond_memory_select(chosen, ids, n_prev, c->mem_sections);
    int f = n, u = 0;
    while (f > 0) {
        const LatentSection *x = &src->sec[chosen[f - 1]];
        int k = cond_mem_tokens(c->mem_k, x->end - x->start);
        if (u + k > cap) break;
        u += k;
        f--;
    }
    *first = f;
    *used = u;
    return n;
}

int denoiser_memory_tokens(const Denoiser *m, const LatentSong *s, int cur) {
    return denoiser_memory_tokens_from(m, s, cur, s);
}

int denoiser_memory_tokens_from(const Denoiser *m, const LatentSong *s, int cur, const LatentSong *src) {
    int chosen[cur + 1], first, used;
    memory_plan(&m->cfg, s, cur, src, m->cfg.mem_tokens, chosen, &first, &used);
    return used;
}

// The memory of example i: the remembered sections' tokens, most recent kept
// first when they do not all fit: features in mf (mem_pool 0), or each
// section's frames and features in slot tok / K of mem_fr, mem_fr_mask,
// mem_sec (mem_pool 1). Returns the tokens written.
static int fill_memory(const Denoiser *m, DenoiserBatch *b, int i, const LatentSong *s, int cur,
                       const LatentSong *src, int drop_labels) {
    const DenoiserConfig *c = &m->cfg;
    int Fm = denoiser_fm(c), cap = b->ns, z = c->z;
    float *mf = c->mem_pool == 0 ? b->mf + (long)i * cap * Fm : NULL;
    uint8_t *mask = b->mem_mask + (long)i * cap;
    clear_memory(m, b, i);
    const LatentSection *now = &s->sec[cur];
    int n_prev = src == s ? cur : (cur < src->n_sections ? cur : src->n_sections);
    int chosen[n_prev + 1], first, used;
    int n = memory_plan(c, s, cur, src, cap, chosen, &first, &used);
    if (n == 0) return 0;
    double end_prev = src == s ? now->start : src->sec[n_prev - 1].end;   // where "now" starts for src
    int tok = 0;
    for (int q = first; q < n; q++) {
        int j = chosen[q];
        const LatentSection *x = &src->sec[j];
        MemorySource ms = {x->label_id, x->occurrence, n_prev - j, (end_prev - x->start) / COND_FRAME_RATE,
                           x->label_id != 0 && x->label_id == now->label_id};
        int k = cond_mem_tokens(c->mem_k, x->end - x->start);
        if (c->mem_pool == 0) {
            cond_memory_features(mf + (long)tok * Fm, src->lat + (long)x->start * z, x->end - x->start, z,
                                 c->mem_k, &ms, drop_labels);
        } else {
            long slot = (long)i * (cap / c->mem_k) + tok / c->mem_k, Lm = denoiser_mem_lm(c);
            int nf = cond_memory_frames(b->mem_fr + slot * Lm * denoiser_fp(c), src->lat + (long)x->start * z,
                                        x->end - x->start, z, (int)Lm);
            memset(b->mem_fr_mask + slot * Lm, 1, (size_t)nf);
            cond_memory_section_features(b->mem_sec + slot * COND_MEM_SEC_DIM, &ms, drop_labels);
        }
        memset(mask + tok, 1, (size_t)k);
        tok += k;
    }
    return tok;
}

int denoiser_fill_example(const Denoiser *m, DenoiserBatch *b, int i, const ExampleSpec *e, Rng *noise) {
    const DenoiserConfig *c = &m->cfg;
    const LatentSong *s = e->song;
    if (i < 0 || i >= b->nb || e->sec < 0 || e->sec >= s->n_sections)
        return err_set("denoiser example: example %d of %d, section %d of %d", i, b->nb, e->sec, s->n_sections);
    const LatentSection *x = &s->sec[e->sec];
    const int z = c->z, Ci = denoiser_cin(c), T = b->nt;
    long len = x->end - x->start;
    long n_new = len < c->crop_frames ? len : c->crop_frames;
    if (e->frames > 0) n_new = e->frames < len ? e->frames : len;
    long c0 = e->crop_start < 0 ? x->start : e->crop_start;
    if (c0 > x->end - n_new) c0 = x->end - n_new;
    if (c0 < x->start) c0 = x->start;
    long pc = e->no_ctx ? 0 : (c0 < c->ctx_frames ? c0 : c->ctx_frames);
    if (pc + n_new > T) return err_set("denoiser example: %ld frames do not fit %d", pc + n_new, T);
    float *xr = b->x + (long)i * T * Ci, *vr = b->v + (long)i * T * z, *wr = b->w + (long)i * T;
    uint8_t *sm = b->self_mask + (long)i * T;
    memset(xr, 0, sizeof(float) * T * Ci);
    memset(vr, 0, sizeof(float) * T * z);
    memset(wr, 0, sizeof(float) * T);
    memset(sm, 0, (size_t)T);
    float eps[z];
    for (long r = 0; r < pc + n_new; r++) {
        long f = c0 - pc + r;                      // the song's latent frame
        const float *x0 = s->lat + f * z;
        float *row = xr + r * Ci;
        int ctx = r < pc;
        if (ctx) memcpy(row, x0, sizeof(float) * z);
        else {
            for (int k = 0; k < z; k++) eps[k] = rng_normal(noise);
            flow_mix(row, vr + r * z, x0, eps, e->t, z);
            wr[r] = 1.0f;
        }
        cond_frame_features(row + z, ctx, f - x->start, len);
        sm[r] = 1;
    }
    SectionInfo in = section_info(s, e->sec);
    denoiser_set_time(c, b, i, e->t);
    cond_section_features(b->cf + (long)i * denoiser_fc(c) + c->t_dim, &in, e->no_labels);
    if (b->ns > 0) {
        if (e->no_mem) clear_memory(m, b, i);
        else fill_memory(m, b, i, s, e->sec, e->mem_song ? e->mem_song : s, e->no_labels);
    }
    return 0;
}

int denoiser_random_example(const Denoiser *m, DenoiserBatch *b, int i, const LatentCorpus *lc,
                            const long *cum_frames, const DropOpts *d, Rng *rng) {
    long total = cum_frames[lc->n];
    long r = (long)(rng_u64(rng) % (uint64_t)total);
    int lo = 0, hi = lc->n - 1;                    // the song holding frame r
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum_frames[mid + 1] <= r) lo = mid + 1; else hi = mid;
    }
    const LatentSong *s = &lc->songs[lo];
    long f = r - cum_frames[lo];
    int sec = 0;
    while (sec < s->n_sections - 1 && s->sec[sec].end <= f) sec++;
    const LatentSection *x = &s->sec[sec];
    long len = x->end - x->start, n_new = len < m->cfg.crop_frames ? len : m->cfg.crop_frames;
    ExampleSpec e;
    memset(&e, 0, sizeof e);
    e.song = s;
    e.sec = sec;
    e.crop_start = rng_uniform(rng) < d->p_start ? x->start
                 : x->start + (long)(rng_u64(rng) % (uint64_t)(len - n_new + 1));
    e.t = flow_sample_t(rng);
    e.no_mem = rng_uniform(rng) < d->p_drop_mem;
    e.no_labels = rng_uniform(rng) < d->p_drop_labels;
    e.no_ctx = rng_uniform(rng) < d->p_drop_ctx;
    return denoiser_fill_example(m, b, i, &e, rng);
}
