// test_diffusion — the section denoiser (diffusion/denoiser.c), its examples
// (diffusion/examples.c) and the conditioning features (conditioning/features.c):
//   - memory selection keeps same-label sections and the most recent ones;
//     pooling at K fixed spans averages the right frames; K = 0 keeps every frame;
//   - section features: one-hot places, and "drop" removes label, occurrence,
//     style and targets but keeps position and length;
//   - the whole flow loss against central finite differences on a tiny
//     configuration (every tensor sampled, with memory, context and padding),
//     and the measure rejects a gradient 5% off;
//   - context masking: padding frames change nothing; a fully masked memory
//     equals no memory; context frames carry no loss;
//   - rectified-flow mixing and the logit-normal t.
#include "tests/check.h"
#include "diffusion/diffusion.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- a synthetic song: sections A B A C with random latents ------------------------------
static LatentSong synth_song(int z, const int *lens, const int *labels, int n, uint64_t seed) {
    LatentSong s;
    memset(&s, 0, sizeof s);
    snprintf(s.song, sizeof s.song, "synthetic");
    s.source = 0;
    s.n_sections = n;
    s.sec = callocCheck(n, sizeof *s.sec);
    int t = 0;
    for (int k = 0; k < n; k++) {
        s.sec[k].start = t;
        s.sec[k].end = t + lens[k];
        s.sec[k].label_id = labels[k];
        int occ = 1;
        for (int j = 0; j < k; j++) occ += labels[j] == labels[k];
        s.sec[k].occurrence = occ;
        s.sec[k].targets.loudness_lufs = -14.f - k;
        s.sec[k].targets.brightness_hz = NAN;
        s.sec[k].targets.onset_density = 2.f;
        t += lens[k];
    }
    s.T = t;
    s.lat = mallocCheck(sizeof(float) * t * z);
    Rng r;
    rng_seed(&r, seed);
    rng_fill_normal(&r, s.lat, (long)t * z, 1.0f);
    return s;
}

static void free_song(LatentSong *s) { free(s->sec); free(s->lat); }

// ---- features --------------------------------------------------------------------------------------
static void test_memory_select(void) {
    int ids[8] = {1, 4, 2, 4, 3, 4, 5, 4};   // intro chorus verse chorus ... section 7 is a chorus
    int chosen[8];
    int n = cond_memory_select(chosen, ids, 3, 16);
    CHECK(n == 3 && chosen[0] == 0 && chosen[2] == 2, "under the cap every earlier section is kept (%d)", n);
    n = cond_memory_select(chosen, ids, 7, 4);
    // same label first (5, 3, 1), then the most recent other (6): song order 1 3 5 6
    CHECK(n == 4 && chosen[0] == 1 && chosen[1] == 3 && chosen[2] == 5 && chosen[3] == 6,
          "over the cap: same-label sections, then the most recent: %d %d %d %d", chosen[0], chosen[1], chosen[2],
          chosen[3]);
    ids[7] = 0;   // an unlabelled section matches nothing: the 4 most recent
    n = cond_memory_select(chosen, ids, 7, 4);
    CHECK(n == 4 && chosen[0] == 3 && chosen[3] == 6, "no label: the most recent (%d..%d)", chosen[0], chosen[3]);
}

static void test_memory_pool(void) {
    int z = 2;
    float lat[5 * 2] = {0, 10, 1, 11, 2, 12, 3, 13, 4, 14};
    MemorySource ms = {4, 2, 3, 30.0, 1};
    int Fm = z + COND_MEM_EXTRA;
    float f[5 * (2 + COND_MEM_EXTRA)];
    cond_memory_features(f, lat, 4, z, 2, &ms, 0);   // frames 0..3 in two spans of 2
    CHECK(f[0] == 0.5f && f[1] == 10.5f && f[Fm] == 2.5f && f[Fm + 1] == 12.5f,
          "K 2 over 4 frames: span means %.2f %.2f | %.2f %.2f", f[0], f[1], f[Fm], f[Fm + 1]);
    CHECK(f[z + 4] == 1.f && f[z + COND_N_LABELS] == 3 / 8.f && f[z + COND_N_LABELS + 2] == 1.f,
          "label one-hot, sections back and same-label flag in place");
    cond_memory_features(f, lat, 4, z, 2, &ms, 1);
    CHECK(f[z + 0] == 1.f && f[z + 4] == 0.f && f[z + COND_N_LABELS + 2] == 0.f,
          "dropped labels: label none, same-label flag 0");
    CHECK(cond_mem_tokens(0, 5) == 5 && cond_mem_tokens(8, 5) == 8, "K 0 keeps every frame; K 8 gives 8 tokens");
    cond_memory_features(f, lat, 5, z, 0, &ms, 0);
    int same = 1;
    for (int k = 0; k < 5; k++) same &= f[k * Fm] == lat[k * z] && f[k * Fm + 1] == lat[k * z + 1];
    CHECK(same, "uncompressed memory: token k is frame k");
    cond_memory_features(f, lat, 1, z, 3, &ms, 0);   // fewer frames than tokens: the frame repeats
    CHECK(f[0] == 0 && f[Fm] == 0 && f[2 * Fm] == 0 && f[2 * Fm + 1] == 10, "1 frame, K 3: the frame repeats");
}

static void test_section_features(void) {
    SectionInfo in = {4, 2, 1, 3, 8, 40.0, 16.0, 150.0, {-12.f, NAN, 4.f}};
    float f[COND_SEC_DIM], g[COND_SEC_DIM];
    cond_section_features(f, &in, 0);
    int L = COND_N_LABELS, O = COND_N_OCC, S = COND_N_STYLES;
    CHECK(f[4] == 1 && f[L + 2] == 1 && f[L + O + 1] == 1, "label, occurrence and style one-hots in place");
    float sum = 0;
    for (int i = 0; i < L + O + S; i++) sum += f[i];
    CHECK(sum == 3, "exactly three one-hot entries (%.0f)", sum);
    const float *pos = f + L + O + S;
    check_close("position index / (n - 1)", pos[0], 3.0 / 7.0, 1e-6, 0);
    check_close("length feature log(16/16)", pos[4], 0.0, 1e-6, 0);
    CHECK(pos[7] == 1 && pos[9] == 0 && pos[11] == 1, "targets' present flags: loudness yes, brightness no, onsets yes");
    cond_section_features(g, &in, 1);
    float s2 = 0;
    for (int i = 0; i < L + O + S; i++) s2 += g[i];
    CHECK(g[0] == 1 && g[L] == 1 && g[L + O] == 1 && s2 == 3, "dropped: label, occurrence, style all 'none'");
    CHECK(memcmp(g + L + O + S, f + L + O + S, 6 * sizeof(float)) == 0 && g[L + O + S + 7] == 0,
          "dropped: position and length kept, targets removed");
}

// ---- the denoiser ----------------------------------------------------------------------------------
static DenoiserConfig tiny_config(int K) {
    DenoiserConfig c = denoiser_config_default();
    c.z = 4; c.width = 8; c.depth = 2; c.heads = 2; c.cond_dim = 8; c.t_dim = 4;
    c.mem_k = K; c.mem_sections = 3; c.mem_tokens = K > 0 ? 3 * K : 24;
    c.ctx_frames = 3; c.crop_frames = 6;
    return c;
}

// Random weights everywhere (AdaLN-Zero's zeros would hide most gradients).
static void random_weights(Denoiser *m, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < m->params.n; i++) {
        if (i == m->med_s) continue;
        float *w = params_get(&m->params, i);
        for (long j = 0; j < m->params.specs[i].size; j++) w[j] = 0.3f * rng_normal(&r);
    }
}

static double nerr_of(const double *a, const double *b, int n) {   // ||a - b|| / max(||a||, ||b||, tiny)
    double d = 0, na = 0, nb = 0;
    for (int i = 0; i < n; i++) { d += (a[i] - b[i]) * (a[i] - b[i]); na += a[i] * a[i]; nb += b[i] * b[i]; }
    double s = sqrt(na > nb ? na : nb);
    return sqrt(d) / (s > 1e-12 ? s : 1e-12);
}

// Two examples: section 3 (a repeat, with context, memory of 3 sections, padding)
// and section 0 (no context, no memory).
static void fill_two(const Denoiser *m, DenoiserBatch *b, const LatentSong *s) {
    b->nb = 2; b->nt = denoiser_seq(&m->cfg); b->ns = m->cfg.mem_tokens;
    Rng r;
    rng_seed(&r, 99);
    ExampleSpec e = {s, 3, -1, 0.6f, NULL, 0, 0, 0};
    denoiser_fill_example(m, b, 0, &e, &r);
    ExampleSpec e0 = {s, 0, -1, 0.3f, NULL, 0, 0, 0};
    denoiser_fill_example(m, b, 1, &e0, &r);
}

static void test_gradients(int K) {
    DenoiserConfig c = tiny_config(K);
    Denoiser m;
    int created = denoiser_create(&m, &c) == 0;
    CHECK(created, "tiny denoiser (K %d) created: %ld parameters", K, created ? denoiser_param_count(&m) : 0L);
    random_weights(&m, 7);
    int lens[4] = {5, 4, 6, 4}, labels[4] = {8, 9, 8, 10};
    LatentSong s = synth_song(c.z, lens, labels, 4, 5);
    DenoiserBatch b;
    denoiser_batch_alloc(&b, &c, 2, denoiser_seq(&c), c.mem_tokens);
    fill_two(&m, &b, &s);
    int masked = 0;
    for (int i = 0; i < b.nt; i++) masked += !b.self_mask[i];
    int mem0 = 0;
    for (int i = 0; i < b.ns; i++) mem0 += b.mem_mask[i];
    CHECK(masked > 0 && mem0 > 0, "example 0 has padding (%d frames) and memory (%d tokens)", masked, mem0);
    DenoiserActs a;
    denoiser_acts_alloc(&a, &m, 2, b.nt, b.ns, 1);
    ParamSet *p = &m.params;
    float *grad = optim_arena_alloc(p);
    double L;
    int rc = denoiser_loss(&m, p, &a, &b, grad, &L);
    CHECK(rc == 0 && isfinite(L) && L > 0, "loss %.4f", L);
    enum { PER = 6, MAXN = 1024 };
    static double ana[MAXN], num[MAXN];
    double worst = 0;
    int ns = 0, worst_t = -1;
    Rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < p->n && ns + PER <= MAXN; i++) {
        if (i == m.med_s) continue;
        float *w = params_get(p, i);
        long n = p->specs[i].size;
        double ta[PER], tn[PER];
        int k = 0;
        for (; k < PER && k < n; k++) {
            long j = n <= PER ? k : (long)(rng_u64(&r) % (uint64_t)n);
            float w0 = w[j], h = 1e-2f;
            double lp, lm;
            w[j] = w0 + h; double wp = w[j];
            denoiser_loss(&m, p, &a, &b, NULL, &lp);
            w[j] = w0 - h; double wm = w[j];
            denoiser_loss(&m, p, &a, &b, NULL, &lm);
            w[j] = w0;
            tn[k] = (lp - lm) / (wp - wm);
            ta[k] = grad[p->specs[i].offset + j];
            ana[ns] = ta[k]; num[ns] = tn[k]; ns++;
        }
        double e = nerr_of(ta, tn, k);
        if (e > worst) { worst = e; worst_t = i; }
    }
    double tol = 1e-3, e = nerr_of(ana, num, ns);
    CHECK(e < tol, "K %d: whole flow-loss gradient, %d coordinates: nerr %.2e (tol %.0e); worst tensor %s %.2e",
          K, ns, e, tol, worst_t >= 0 ? p->specs[worst_t].name : "-", worst);
    CHECK(worst < 10 * tol, "K %d: every tensor's own nerr below %.0e (worst %.2e)", K, 10 * tol, worst);
    double bad[MAXN];
    for (int i = 0; i < ns; i++) bad[i] = ana[i] * (i % 2 ? 1.05 : 0.95);
    CHECK(nerr_of(bad, num, ns) > tol, "self-test: a gradient 5%% off gives nerr %.2e > tol", nerr_of(bad, num, ns));
    free(grad);
    denoiser_acts_free(&a, &m);
    denoiser_batch_free(&b);
    free_song(&s);
    denoiser_free(&m);
}

static void test_masking(void) {
    DenoiserConfig c = tiny_config(2);
    Denoiser m;
    denoiser_create(&m, &c);
    random_weights(&m, 11);
    int lens[4] = {5, 4, 6, 4}, labels[4] = {8, 9, 8, 10};
    LatentSong s = synth_song(c.z, lens, labels, 4, 5);
    int T = denoiser_seq(&c), Ci = denoiser_cin(&c), Z = c.z;
    DenoiserBatch b;
    denoiser_batch_alloc(&b, &c, 2, T, c.mem_tokens);
    DenoiserActs a;
    denoiser_acts_alloc(&a, &m, 2, T, c.mem_tokens, 0);
    fill_two(&m, &b, &s);
    double L0, L1;
    denoiser_loss(&m, &m.params, &a, &b, NULL, &L0);
    float *out0 = mallocCheck(sizeof(float) * 2 * T * Z);
    memcpy(out0, a.dit.out, sizeof(float) * 2 * T * Z);
    // padding frames of example 0 (the last ones) get garbage: valid outputs must not move
    int valid = 0;
    while (valid < T && b.self_mask[valid]) valid++;
    for (int t = valid; t < T; t++)
        for (int k = 0; k < Ci; k++) b.x[(long)t * Ci + k] = 100.f * (k + 1);
    denoiser_loss(&m, &m.params, &a, &b, NULL, &L1);
    double d = 0;
    for (long i = 0; i < (long)valid * Z; i++) d = fmax(d, fabs(out0[i] - a.dit.out[i]));
    CHECK(valid < T && d == 0 && L0 == L1, "padding frames change no valid output (max diff %.3g) nor the loss", d);
    // context frames carry no loss: their targets are ignored
    int ctx = 0;
    while (ctx < T && b.x[(long)ctx * Ci + Z] == 1.f) ctx++;
    for (int t = 0; t < ctx; t++) b.v[(long)t * Z] += 50.f;
    denoiser_loss(&m, &m.params, &a, &b, NULL, &L1);
    CHECK(ctx == c.ctx_frames && L0 == L1, "%d context frames, their targets carry no loss", ctx);
    // a fully masked memory equals no memory at all
    fill_two(&m, &b, &s);
    memset(b.mem_mask, 0, (size_t)b.ns);
    denoiser_loss(&m, &m.params, &a, &b, NULL, &L0);
    memcpy(out0, a.dit.out, sizeof(float) * 2 * T * Z);
    b.ns = 0;
    fill_two(&m, &b, &s);
    b.ns = 0;
    denoiser_loss(&m, &m.params, &a, &b, NULL, &L1);
    d = 0;
    for (long i = 0; i < 2L * T * Z; i++) d = fmax(d, fabs(out0[i] - a.dit.out[i]));
    CHECK(d == 0, "fully masked memory == empty memory (max diff %.3g)", d);
    // and the memory matters when it is there
    fill_two(&m, &b, &s);
    denoiser_loss(&m, &m.params, &a, &b, NULL, &L1);
    d = 0;
    for (long i = 0; i < (long)T * Z; i++) d = fmax(d, fabs(out0[i] - a.dit.out[i]));
    CHECK(d > 1e-3, "with memory the output of a repeat changes (max diff %.3g)", d);
    free(out0);
    denoiser_acts_free(&a, &m);
    denoiser_batch_free(&b);
    free_song(&s);
    denoiser_free(&m);
}

static void test_flow(void) {
    float x0[3] = {1, -2, 0.5f}, e[3] = {0.3f, 0.1f, -1}, xt[3], v[3];
    flow_mix(xt, v, x0, e, 0.25f, 3);
    check_close("x_t = (1 - t) x0 + t e", xt[1], 0.75 * -2 + 0.25 * 0.1, 1e-6, 0);
    check_close("v = e - x0", v[2], -1 - 0.5, 1e-6, 0);
    Rng r;
    rng_seed(&r, 1);
    double s = 0, s2 = 0;
    int n = 20000, in = 1;
    for (int i = 0; i < n; i++) {
        float t = flow_sample_t(&r);
        in &= t > 0 && t < 1;
        double l = log(t / (1 - t));
        s += l; s2 += l * l;
    }
    CHECK(in, "t in (0, 1)");
    check_close("logit(t) mean", s / n, 0, 0.03, 0);
    check_close("logit(t) sd", sqrt(s2 / n - (s / n) * (s / n)), 1, 0.03, 0);
}

static void test_config_roundtrip(void) {
    DenoiserConfig c = tiny_config(4), d;
    Hparams hp;
    denoiser_config_to_hparams(&c, &hp);
    CHECK(denoiser_config_from_hparams(&d, &hp) == 0 && memcmp(&c, &d, sizeof c) == 0, "config <-> hparams");
    hparams_set_int(&hp, "sec_dim", COND_SEC_DIM + 1);
    CHECK(denoiser_config_from_hparams(&d, &hp) != 0 && strstr(err_msg(), "sec_dim"),
          "a model with another feature layout is refused: %s", err_msg());
    c.width = 10; c.heads = 4;
    CHECK(denoiser_config_check(&c) != 0, "width 10 in 4 heads refused: %s", err_msg());
}

int main(void) {
    nn_set_threads(1);
    test_memory_select();
    test_memory_pool();
    test_section_features();
    test_flow();
    test_config_roundtrip();
    test_gradients(2);
    test_gradients(0);
    test_masking();
    return check_summary("test_diffusion");
}
