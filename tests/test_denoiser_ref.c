// test_denoiser_ref — golden test of the whole section denoiser
// (diffusion/denoiser.c: conditioning MLP, memory-token map, nn/dit's stack
// with the memory and self-attention masks, the flow loss and its backward)
// against the PyTorch 1.13 reference written by tests/make_denoiser_ref.py:
// v_hat on the valid frames, the loss and every parameter gradient. The
// reference batch has a gap in one item's memory, one item's memory fully
// masked, padding at the end of one item, and context frames (w = 0).
// A second reference (tests/data/denoiser_ref_pool.bin) does the same for the
// learned-query attention pooling memory (mem_pool 1): its batch has a whole
// section, a short one with a masked frame inside, an empty slot, and a
// section whose tokens are masked (pooled, but no key of the DiT).
//
// Tolerance: float32 refrain vs a float64 reference stored as float32,
//   max |got - want| <= REL_TOL * max |want| over each tensor (test_nn_dit's).
// v_hat is compared on valid frames only: padded frames' outputs are
// meaningless (nn/dit.h) and carry no loss (w = 0).
// Refrain's worst tensor sits at 1/7 of the tolerance (dit.blocks.1.cross.kv.w;
// v_hat at 1/23), while a wrong wiring fails (tried on mutated copies of
// denoiser.c linked ahead of the library): the conditioning MLP without its
// SiLU, the self mask or the memory mask not passed fail 44 of 55 checks; the
// loss averaged over frames instead of frames x channels 43; SiLU's backward
// given its output instead of its input 2 (cond.fc1.w and .b).
// Pooling reference: the worst tensor is dit.blocks.0.cross.q.b at 0.64 of the
// tolerance, a gradient small by cancellation where PyTorch's own float32 run
// is 2.0e-6 (0.41 of it) off the float64 (make_denoiser_ref.py prints that
// figure); the next is at 0.18, v_hat at 1/19. Mutations of the pooling: the
// frame mask not passed, the pooled vectors not added or the token's place
// left out fail 47 of its 61 checks; the queries' or the values' gradient
// dropped 1 (that tensor); the key gradient scratch not zeroed 2.
#include "tests/check.h"
#include "tests/refdata.h"
#include "diffusion/diffusion.h"
#include "util/util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REL_TOL 5e-6
#define SCRIPT "tests/make_denoiser_ref.py"

static RefSet g_ref;

static RefTensor *ref(const char *name) { return refset_find(&g_ref, name); }

static double max_abs(const float *x, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

// The reference tensor `name` with exactly n values (a failed check when not).
static const float *want(const char *name, long n) {
    RefTensor *t = ref(name);
    if (t && t->n == n) return t->data;
    CHECK(0, "%s in the reference with %ld values (has %ld; rerun /usr/bin/python3 " SCRIPT ")", name, n,
          t ? t->n : -1);
    return NULL;
}

// Compares got to the reference tensor `name`, printing the max difference.
static void compare(const char *name, const float *got, long n) {
    const float *w = want(name, n);
    if (w) check_max_diff(name, got, w, n, REL_TOL * max_abs(w, n));
}

// One reference file: 17 config values (mem_pool 0), or 19 (+ mem_pool, COND_MEM_POS).
static void check_file(const char *path, int pool) {
    printf("-- %s\n", path);
    if (refset_load(&g_ref, path, "DITREF01", SCRIPT)) {
        CHECK(0, "reference file loads: %s", err_msg());
        return;
    }
    const int ncfg = pool ? 19 : 17;
    const float *cv = want("config", ncfg);
    if (!cv) { refset_free(&g_ref); return; }
    DenoiserConfig c;
    memset(&c, 0, sizeof c);
    c.z = (int)cv[0]; c.width = (int)cv[1]; c.depth = (int)cv[2]; c.heads = (int)cv[3];
    c.cond_dim = (int)cv[4]; c.t_dim = (int)cv[5]; c.mem_k = (int)cv[6]; c.mem_sections = (int)cv[7];
    c.mem_tokens = (int)cv[8]; c.ctx_frames = (int)cv[9]; c.crop_frames = (int)cv[10];
    c.mem_pool = pool ? (int)cv[17] : 0;
    const int B = (int)cv[11], T = (int)cv[12], S = (int)cv[13];
    printf("config: z %d width %d depth %d heads %d cond %d t_dim %d K %d sections %d tokens %d "
           "context %d crop %d pool %d; B %d T %d S %d\n", c.z, c.width, c.depth, c.heads, c.cond_dim, c.t_dim,
           c.mem_k, c.mem_sections, c.mem_tokens, c.ctx_frames, c.crop_frames, c.mem_pool, B, T, S);
    CHECK(c.mem_pool == pool, "the reference is for mem_pool %d (file says %d)", pool, c.mem_pool);
    // the feature widths the script hardcodes must be this build's
    const int file_dims[4] = {(int)cv[14], (int)cv[15], (int)cv[16], pool ? (int)cv[18] : COND_MEM_POS};
    const int build_dims[4] = {COND_SEC_DIM, COND_MEM_EXTRA, COND_FRAME_DIM, COND_MEM_POS};
    const char *dim_names[4] = {"COND_SEC_DIM", "COND_MEM_EXTRA", "COND_FRAME_DIM", "COND_MEM_POS"};
    int dims_ok = 1;
    for (int i = 0; i < 4; i++)
        dims_ok &= CHECK(file_dims[i] == build_dims[i],
                         "%s: the reference was made with %d, this build has %d%s", dim_names[i], file_dims[i],
                         build_dims[i], file_dims[i] == build_dims[i] ? ""
                         : " (update the COND_* numbers in " SCRIPT " and rerun it with /usr/bin/python3)");
    if (!dims_ok) { refset_free(&g_ref); return; }

    Denoiser m;
    if (!CHECK(denoiser_create(&m, &c) == 0, "denoiser_create accepts the config %s", err_msg())) {
        refset_free(&g_ref);
        return;
    }
    ParamSet *p = &m.params;
    CHECK(T == denoiser_seq(&c) && S == c.mem_tokens,
          "the batch is the config's: T %d = context + crop, S %d = memory tokens", T, S);

    // weights by name: every network tensor from the file, and nothing in the file left over
    int nparam_ref = 0, loaded = 0;
    for (int i = 0; i < g_ref.n; i++) nparam_ref += strncmp(g_ref.t[i].name, "param:", 6) == 0;
    for (int i = 0; i < p->n; i++) {
        if (i == m.med_s) continue;   // form defaults, not part of the network
        char key[160];
        snprintf(key, sizeof key, "param:%s", p->specs[i].name);
        const float *w = want(key, p->specs[i].size);
        if (!w) continue;
        memcpy(params_get(p, i), w, sizeof(float) * p->specs[i].size);
        loaded++;
    }
    CHECK(loaded == p->n - 1 && nparam_ref == loaded, "all %d network tensors loaded (reference has %d)",
          p->n - 1, nparam_ref);

    // the batch
    const int Ci = denoiser_cin(&c), Fc = denoiser_fc(&c), Fm = denoiser_fm(&c), Z = c.z;
    DenoiserBatch b;
    denoiser_batch_alloc(&b, &c, B, T, S);
    b.nb = B; b.nt = T; b.ns = S;
    const float *x = want("x", (long)B * T * Ci), *cf = want("cf", (long)B * Fc);
    const float *v = want("v", (long)B * T * Z), *w = want("w", (long)B * T);
    const float *mm = want("mem_mask", (long)B * S), *sm = want("self_mask", (long)B * T);
    const float *vh = want("v_hat", (long)B * T * Z), *rl = want("loss", 1);
    // the memory in the compressor's layout
    const long Ns = pool ? S / c.mem_k : 0, Lm = denoiser_mem_lm(&c), Fp = denoiser_fp(&c);
    const float *mf = pool ? NULL : want("mf", (long)B * S * Fm);
    const float *fr = pool ? want("mem_fr", B * Ns * Lm * Fp) : NULL;
    const float *frm = pool ? want("mem_fr_mask", B * Ns * Lm) : NULL;
    const float *sec = pool ? want("mem_sec", B * Ns * COND_MEM_SEC_DIM) : NULL;
    if (!x || !cf || !v || !w || !mm || !sm || !vh || !rl || (pool ? !fr || !frm || !sec : !mf)) {
        denoiser_batch_free(&b);
        denoiser_free(&m);
        refset_free(&g_ref);
        return;
    }
    memcpy(b.x, x, sizeof(float) * B * T * Ci);
    memcpy(b.cf, cf, sizeof(float) * B * Fc);
    int n_fr0 = 0;
    if (pool) {
        memcpy(b.mem_fr, fr, sizeof(float) * B * Ns * Lm * Fp);
        memcpy(b.mem_sec, sec, sizeof(float) * B * Ns * COND_MEM_SEC_DIM);
        for (long i = 0; i < B * Ns * Lm; i++) { b.mem_fr_mask[i] = frm[i] != 0; n_fr0 += !b.mem_fr_mask[i]; }
        CHECK(n_fr0 > 0, "the reference masks frames of remembered sections (%d)", n_fr0);
    } else {
        memcpy(b.mf, mf, sizeof(float) * B * S * Fm);
    }
    memcpy(b.v, v, sizeof(float) * B * T * Z);
    memcpy(b.w, w, sizeof(float) * B * T);
    int n_mem0 = 0, n_pad = 0;
    for (int i = 0; i < B * S; i++) { b.mem_mask[i] = mm[i] != 0; n_mem0 += !b.mem_mask[i]; }
    for (int i = 0; i < B * T; i++) { b.self_mask[i] = sm[i] != 0; n_pad += !b.self_mask[i]; }
    CHECK(n_mem0 > 0 && n_pad > 0, "the reference masks memory (%d tokens) and pads frames (%d)", n_mem0, n_pad);

    // loss with backward
    DenoiserActs a;
    denoiser_acts_alloc(&a, &m, B, T, S, 1);
    float *grad = callocCheck(p->total, sizeof(float));
    double loss = NAN;
    CHECK(denoiser_loss(&m, p, &a, &b, grad, &loss) == 0, "denoiser_loss runs %s", err_msg());

    // v_hat on the valid frames
    long nv = 0;
    float *got_v = mallocCheck(sizeof(float) * B * T * Z), *want_v = mallocCheck(sizeof(float) * B * T * Z);
    for (long r = 0; r < (long)B * T; r++) {
        if (!b.self_mask[r]) continue;
        memcpy(got_v + nv, a.dit.out + r * Z, sizeof(float) * Z);
        memcpy(want_v + nv, vh + r * Z, sizeof(float) * Z);
        nv += Z;
    }
    check_max_diff("v_hat (valid frames)", got_v, want_v, nv, REL_TOL * max_abs(want_v, nv));
    check_close("loss", loss, rl[0], 0, REL_TOL);

    // every gradient; the form defaults get none
    for (int i = 0; i < p->n; i++) {
        if (i == m.med_s) {
            CHECK(max_abs(grad + p->specs[i].offset, p->specs[i].size) == 0, "%s gets no gradient",
                  p->specs[i].name);
            continue;
        }
        char key[160];
        snprintf(key, sizeof key, "grad:%s", p->specs[i].name);
        compare(key, grad + p->specs[i].offset, p->specs[i].size);
    }

    // without grad: the same loss; with grad again: the gradients accumulate (+=)
    double loss2 = NAN;
    float *grad1 = mallocCheck(sizeof(float) * p->total);
    memcpy(grad1, grad, sizeof(float) * p->total);
    int rc = denoiser_loss(&m, p, &a, &b, NULL, &loss2);
    CHECK(rc == 0 && loss2 == loss, "loss without backward is the same bits (%.9g vs %.9g)", loss2, loss);
    denoiser_loss(&m, p, &a, &b, grad, &loss2);
    double worst = 0;
    for (long i = 0; i < p->total; i++) {
        double d = fabs(grad[i] - 2.0 * grad1[i]);
        worst = d > worst ? d : worst;
    }
    CHECK(worst <= 1e-6 * max_abs(grad1, p->total), "backward accumulates (+=): max |g2 - 2 g1| %.3g", worst);

    denoiser_acts_free(&a, &m);
    denoiser_batch_free(&b);
    denoiser_free(&m);
    free(grad); free(grad1); free(got_v); free(want_v);
    refset_free(&g_ref);
}

int main(void) {
    nn_set_threads(2);
    check_file("tests/data/denoiser_ref.bin", 0);
    check_file("tests/data/denoiser_ref_pool.bin", 1);
    return check_summary("test_denoiser_ref");
}
