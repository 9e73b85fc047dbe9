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
//   - rectified-flow mixing and the logit-normal t;
//   - learned-query attention pooling (mem_pool 1): the per-frame keys (every
//     frame, or a uniform subsample beyond the cap) and the section features,
//     the batch layout examples.c fills, the whole-loss finite-difference check
//     with every new tensor sampled, a masked frame changing nothing, a fully
//     masked memory equal to none, and the configuration's refusals.
#include "tests/check.h"
#include "diffusion/diffusion.h"
#include "util/util.h"

#include <float.h>
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

static void test_memory_frames(void) {
    int z = 2, Fp = z + COND_MEM_POS;
    float lat[10 * 2], f[10 * (2 + COND_MEM_POS)];
    for (int t = 0; t < 10; t++) { lat[t * z] = (float)t; lat[t * z + 1] = 100.f + t; }
    int n = cond_memory_frames(f, lat, 5, z, 8);   // under the cap: every frame with its place
    int ok = n == 5;
    for (int i = 0; i < 5 && ok; i++)
        ok = f[i * Fp] == (float)i && f[i * Fp + 1] == 100.f + i && f[i * Fp + z] == ((float)i + 0.5f) / 5.f;
    CHECK(ok, "5 frames, cap 8: every frame, place (t + 0.5) / 5 (%d rows)", n);
    n = cond_memory_frames(f, lat, 10, z, 4);      // over: frames floor((i + 0.5) 10 / 4) = 1 3 6 8
    CHECK(n == 4 && f[0] == 1 && f[Fp] == 3 && f[2 * Fp] == 6 && f[3 * Fp] == 8 && f[3 * Fp + 1] == 108,
          "10 frames, cap 4: frames %.0f %.0f %.0f %.0f", f[0], f[Fp], f[2 * Fp], f[3 * Fp]);
    check_close("a subsampled frame keeps its own place (8.5 / 10)", f[3 * Fp + z], 0.85, 1e-7, 0);
    check_close("sin(pi place)", f[3 * Fp + z + 1], sin(M_PI * 0.85), 1e-6, 0);
    // the section features are the fixed-span tokens' own, so both compressors see the same section
    MemorySource ms = {4, 2, 3, 30.0, 1};
    float tok[2 * (2 + COND_MEM_EXTRA)], sec[COND_MEM_SEC_DIM], pos[COND_MEM_POS];
    for (int drop = 0; drop < 2; drop++) {
        cond_memory_features(tok, lat, 4, z, 2, &ms, drop);
        cond_memory_section_features(sec, &ms, drop);
        cond_memory_position(pos, 1.5f / 2.f);
        const float *t1 = tok + (2 + COND_MEM_EXTRA) + z;   // token 1's extras
        CHECK(memcmp(t1, sec, sizeof sec) == 0 && memcmp(t1 + COND_MEM_SEC_DIM, pos, sizeof pos) == 0,
              "drop %d: a fixed-span token's extras are [section features | place] bit for bit", drop);
    }
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

// Attention pooling over at most crop_frames = 6 frames per remembered section.
static DenoiserConfig tiny_pool(int K) {
    DenoiserConfig c = tiny_config(K);
    c.mem_pool = 1;
    return c;
}

// The songs the tests cut examples from: A B A C; for pooling the first A is
// 9 frames, longer than the 6-frame cap, so its memory is subsampled.
static LatentSong test_song(const DenoiserConfig *c) {
    int lens[4] = {c->mem_pool ? 9 : 5, 4, 6, 4}, labels[4] = {8, 9, 8, 10};
    return synth_song(c->z, lens, labels, 4, 5);
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
    ExampleSpec e = {s, 3, -1, 0.6f, NULL, 0, 0, 0, 0};
    denoiser_fill_example(m, b, 0, &e, &r);
    ExampleSpec e0 = {s, 0, -1, 0.3f, NULL, 0, 0, 0, 0};
    denoiser_fill_example(m, b, 1, &e0, &r);
}

// The pooling layout examples.c fills: example 0 (section 3, C) remembers sections
// 0, 1, 2 in slots 0, 1, 2: 9 frames subsampled to 6, then 4 and 6; their labels
// and distances in the section features; example 1 (section 0) none.
static void test_pool_examples(void) {
    DenoiserConfig c = tiny_pool(2);
    Denoiser m;
    denoiser_create(&m, &c);
    LatentSong s = test_song(&c);
    DenoiserBatch b;
    denoiser_batch_alloc(&b, &c, 2, denoiser_seq(&c), c.mem_tokens);
    CHECK(b.mf == NULL && b.mem_fr && b.mem_fr_mask && b.mem_sec, "a pooling batch carries frames, not tokens");
    fill_two(&m, &b, &s);
    const int Lm = denoiser_mem_lm(&c), Fp = denoiser_fp(&c), Ns = b.ns / c.mem_k, z = c.z;
    int nfr[2][3] = {{0}}, tok[2] = {0};
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < Ns; j++)
            for (int t = 0; t < Lm; t++) nfr[i][j] += b.mem_fr_mask[((long)i * Ns + j) * Lm + t];
        for (int q = 0; q < b.ns; q++) tok[i] += b.mem_mask[i * b.ns + q];
    }
    CHECK(nfr[0][0] == 6 && nfr[0][1] == 4 && nfr[0][2] == 6 && tok[0] == 6,
          "example 0: frames %d %d %d in its 3 slots, %d tokens", nfr[0][0], nfr[0][1], nfr[0][2], tok[0]);
    CHECK(nfr[1][0] + nfr[1][1] + nfr[1][2] == 0 && tok[1] == 0, "example 1 (the first section): no memory");
    // slot 0 row 5: frame floor(5.5 * 9 / 6) = 8 of section 0; slot 1 row 2: frame 2 of section 1 (song frame 11)
    const float *r05 = b.mem_fr + 5L * Fp, *r12 = b.mem_fr + (1L * Lm + 2) * Fp;
    CHECK(memcmp(r05, s.lat + 8L * z, sizeof(float) * z) == 0 && memcmp(r12, s.lat + 11L * z, sizeof(float) * z) == 0,
          "subsampled and whole sections' frames hold their latents");
    check_close("slot 0 row 5's place (8.5 / 9)", r05[z], 8.5 / 9, 1e-7, 0);
    MemorySource ms0 = {8, 1, 3, 19 / COND_FRAME_RATE, 0};   // section 0 (A) seen from section 3 (C, frame 19)
    MemorySource ms2 = {8, 2, 1, 6 / COND_FRAME_RATE, 0};    // section 2 (A again, frames 13..18)
    float want0[COND_MEM_SEC_DIM], want2[COND_MEM_SEC_DIM];
    cond_memory_section_features(want0, &ms0, 0);
    cond_memory_section_features(want2, &ms2, 0);
    CHECK(memcmp(b.mem_sec, want0, sizeof want0) == 0 && memcmp(b.mem_sec + 2 * COND_MEM_SEC_DIM, want2, sizeof want2) == 0,
          "slots 0 and 2: label A, occurrence 1 and 2, 3 and 1 sections back");
    free_song(&s);
    denoiser_batch_free(&b);
    denoiser_free(&m);
}

static void test_gradients(int K, int pool) {
    DenoiserConfig c = pool ? tiny_pool(K) : tiny_config(K);
    Denoiser m;
    int created = denoiser_create(&m, &c) == 0;
    CHECK(created, "tiny denoiser (K %d, mem_pool %d) created: %ld parameters", K, pool,
          created ? denoiser_param_count(&m) : 0L);
    random_weights(&m, 7);
    LatentSong s = test_song(&c);
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
    int ns = 0, worst_t = -1, sampled = 0, n_floor = 0;
    // A tensor's own nerr means nothing when its sampled gradient is rounding noise: a
    // difference of two float32 losses resolves about FLT_EPSILON |L| / (2h). (The key
    // half of a cross-attention kv bias has gradient exactly 0, a key bias cancelling in
    // the softmax; the pooling model's draw samples only that half of one.) Such a
    // tensor still counts in the whole nerr, and an analytic gradient above the floor
    // there still fails.
    const float h = 1e-2f;
    const double noise = FLT_EPSILON * fabs(L) / h;
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
            float w0 = w[j];
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
        double e = nerr_of(ta, tn, k), amax = 0;
        for (int q = 0; q < k; q++) amax = fmax(amax, fmax(fabs(ta[q]), fabs(tn[q])));
        if (amax < noise) {
            printf("       %s: sampled gradient at the noise floor (max %.1e < %.1e), own nerr not compared\n",
                   p->specs[i].name, amax, noise);
            n_floor++;
        } else if (e > worst) { worst = e; worst_t = i; }
        if (pool && strncmp(p->specs[i].name, "memory.", 7) == 0)
            printf("       %-12s nerr %.2e over %d coordinates\n", p->specs[i].name, e, k);
        sampled++;
    }
    CHECK(sampled == p->n - 1 && n_floor <= 1, "every network tensor sampled (%d of %d; %d at the noise floor)",
          sampled, p->n - 1, n_floor);
    double tol = 1e-3, e = nerr_of(ana, num, ns);
    CHECK(e < tol, "K %d pool %d: whole flow-loss gradient, %d coordinates: nerr %.2e (tol %.0e); worst tensor %s %.2e",
          K, pool, ns, e, tol, worst_t >= 0 ? p->specs[worst_t].name : "-", worst);
    CHECK(worst < 10 * tol, "K %d pool %d: every tensor's own nerr below %.0e (worst %.2e)", K, pool, 10 * tol, worst);
    double bad[MAXN];
    for (int i = 0; i < ns; i++) bad[i] = ana[i] * (i % 2 ? 1.05 : 0.95);
    CHECK(nerr_of(bad, num, ns) > tol, "self-test: a gradient 5%% off gives nerr %.2e > tol", nerr_of(bad, num, ns));
    free(grad);
    denoiser_acts_free(&a, &m);
    denoiser_batch_free(&b);
    free_song(&s);
    denoiser_free(&m);
}

static void test_masking(int pool) {
    DenoiserConfig c = pool ? tiny_pool(2) : tiny_config(2);
    Denoiser m;
    denoiser_create(&m, &c);
    random_weights(&m, 11);
    LatentSong s = test_song(&c);
    printf("-- masking, mem_pool %d\n", pool);
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
    if (pool) {
        // a masked frame is no key of the pooling: what it holds changes nothing; without
        // the mask the same frame changes the output
        const int Lm = denoiser_mem_lm(&c), Fp = denoiser_fp(&c);
        float *fr1 = b.mem_fr + 1L * Lm * Fp;        // example 0, slot 1 (section 1, 4 frames)
        int nf = 0;
        while (nf < Lm && b.mem_fr_mask[Lm + nf]) nf++;
        b.mem_fr_mask[Lm + 1] = 0;
        denoiser_loss(&m, &m.params, &a, &b, NULL, &L0);
        memcpy(out0, a.dit.out, sizeof(float) * 2 * T * Z);
        for (int t = 1; t < Lm; t++)
            if (!b.mem_fr_mask[Lm + t])
                for (int k = 0; k < Fp; k++) fr1[(long)t * Fp + k] = 37.f * (k + 1);
        denoiser_loss(&m, &m.params, &a, &b, NULL, &L1);
        d = 0;
        for (long i = 0; i < 2L * T * Z; i++) d = fmax(d, fabs(out0[i] - a.dit.out[i]));
        CHECK(nf == 4 && d == 0, "pooling: a masked frame and the unused rows of a %d-frame section change nothing "
              "(max diff %.3g)", nf, d);
        b.mem_fr_mask[Lm + 1] = 1;
        denoiser_loss(&m, &m.params, &a, &b, NULL, &L1);
        d = 0;
        for (long i = 0; i < (long)T * Z; i++) d = fmax(d, fabs(out0[i] - a.dit.out[i]));
        CHECK(d > 1e-3, "pooling: the same frame unmasked changes the output (max diff %.3g)", d);
    }
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
    int64_t v;
    CHECK(hparams_get_int(&hp, "mem_pool", &v) != 0 && d.mem_pool == 0,
          "fixed spans: no mem_pool key (files as before it existed), and a file without it loads as 0");
    DenoiserConfig cp = tiny_pool(4);
    Hparams hq;
    denoiser_config_to_hparams(&cp, &hq);
    CHECK(denoiser_config_from_hparams(&d, &hq) == 0 && memcmp(&cp, &d, sizeof cp) == 0 &&
          hparams_get_int(&hq, "mem_pool", &v) == 0 && v == 1, "attention pooling: config <-> hparams, mem_pool 1");
    cp.mem_k = 0; cp.mem_tokens = 24;
    CHECK(denoiser_config_check(&cp) != 0 && strstr(err_msg(), "K >= 1"), "pooling with K 0 refused: %s", err_msg());
    cp = tiny_pool(4); cp.mem_tokens = 10;
    CHECK(denoiser_config_check(&cp) != 0, "pooling with 10 tokens of K 4 refused: %s", err_msg());
    cp = tiny_pool(4); cp.mem_pool = 2;
    CHECK(denoiser_config_check(&cp) != 0, "mem_pool 2 refused: %s", err_msg());
    hparams_set_int(&hp, "sec_dim", COND_SEC_DIM + 1);
    CHECK(denoiser_config_from_hparams(&d, &hp) != 0 && strstr(err_msg(), "sec_dim"),
          "a model with another feature layout is refused: %s", err_msg());
    c.width = 10; c.heads = 4;
    CHECK(denoiser_config_check(&c) != 0, "width 10 in 4 heads refused: %s", err_msg());
}

// The sampling path: memory prepared once, then forwards that reuse it, equal bit
// for bit to the plain forward (also after x and t change, as between steps).
static void test_prepared(int pool) {
    DenoiserConfig c = pool ? tiny_pool(2) : tiny_config(2);
    Denoiser m;
    denoiser_create(&m, &c);
    random_weights(&m, 13);
    LatentSong s = test_song(&c);
    int T = denoiser_seq(&c), Z = c.z;
    DenoiserBatch b;
    denoiser_batch_alloc(&b, &c, 2, T, c.mem_tokens);
    DenoiserActs a;
    denoiser_acts_alloc(&a, &m, 2, T, c.mem_tokens, 0);
    fill_two(&m, &b, &s);
    DitMemory dm;
    int rc = denoiser_memory_prepare(&m, &m.params, &a, &b, &dm);
    double worst = 0;
    float *want = mallocCheck(sizeof(float) * 2 * T * Z);
    for (int step = 0; step < 2 && rc == 0; step++) {
        if (step) {   // the next sampling step: new x in the rows, a new time
            for (long i = 0; i < 2L * T * denoiser_cin(&c); i += 7) b.x[i] *= 0.5f;
            denoiser_set_time(&c, &b, 0, 0.25f);
        }
        rc |= denoiser_forward(&m, &m.params, &a, &b);
        memcpy(want, a.dit.out, sizeof(float) * 2 * T * Z);
        rc |= denoiser_forward_prepared(&m, &m.params, &a, &b, &dm);
        for (long i = 0; i < 2L * T * Z; i++) worst = fmax(worst, fabs(want[i] - a.dit.out[i]));
    }
    CHECK(rc == 0 && worst == 0, "%s: the prepared memory's forwards equal the plain forward (max diff %.3g, %s)",
          pool ? "attention pooling" : "fixed spans", worst, rc ? err_msg() : "ok");
    free(want);
    dit_memory_free(&dm);
    denoiser_acts_free(&a, &m);
    denoiser_batch_free(&b);
    free(s.sec); free(s.lat);
    denoiser_free(&m);
}

int main(void) {
    nn_set_threads(1);
    test_memory_select();
    test_memory_pool();
    test_section_features();
    test_flow();
    test_config_roundtrip();
    test_memory_frames();
    test_pool_examples();
    test_gradients(2, 0);
    test_gradients(0, 0);
    test_gradients(2, 1);
    test_masking(0);
    test_masking(1);
    test_prepared(0);
    test_prepared(1);
    return check_summary("test_diffusion");
}
