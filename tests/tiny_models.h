// tiny_models.h — the tiny random models the generation tests run on: a 4-channel
// autoencoder and a width-16 denoiser (2 blocks, K 2, 6 context frames, crop 40),
// every denoiser weight drawn N(0, 0.2^2) (AdaLN-Zero's zero start would make
// v = 0), seed 3. Header-only, for test_generate, test_edit, test_generate_eval
// (and tests/cli_*.sh through `test_generate --write-models DIR`).
#ifndef REFRAIN_TESTS_TINY_MODELS_H
#define REFRAIN_TESTS_TINY_MODELS_H

#include "autoencoder/autoencoder.h"
#include "diffusion/diffusion.h"
#include "util/rng.h"
#include "util/util.h"

#include <stdio.h>

#define TINY_CTX 6   // the tiny denoiser's context frames (a re-roll's seam)

static int tiny_models_write(const char *den_path, const char *ae_path) {
    AeConfig ac = ae_config_default();
    ac.z = 4; ac.ch[0] = 8; ac.ch[1] = 8; ac.ch[2] = 8; ac.groups = 4; ac.enc_res = 1; ac.dec_res = 1;
    Ae ae;
    if (ae_create(&ae, &ac)) return -1;
    Rng r;
    rng_seed(&r, 3);
    ae_init(&ae, &r);
    ae.has_stats = 1;
    int rc = ae_save(&ae, ae_path);
    ae_free(&ae);
    DenoiserConfig c = denoiser_config_default();
    c.z = 4; c.width = 16; c.depth = 2; c.heads = 2; c.cond_dim = 16; c.t_dim = 8;
    c.mem_k = 2; c.mem_sections = 4; c.mem_tokens = 8; c.ctx_frames = TINY_CTX; c.crop_frames = 40;
    Denoiser d;
    if (rc || denoiser_create(&d, &c)) return -1;
    denoiser_init(&d, &r);
    for (int i = 0; i < d.params.n; i++) {
        if (i == d.med_s) continue;
        float *w = params_get(&d.params, i);
        for (long j = 0; j < d.params.specs[i].size; j++) w[j] = 0.2f * rng_normal(&r);
    }
    rc = denoiser_save(&d, den_path);
    denoiser_free(&d);
    return rc;
}

// A whole file as a NUL-terminated string (reports the tests read back); NULL if unreadable.
static inline char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = mallocCheck(n + 1);
    s[fread(s, 1, n, f)] = 0;
    fclose(f);
    return s;
}
#endif
