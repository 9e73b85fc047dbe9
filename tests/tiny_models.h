// tiny_models.h — the tiny random models the generation tests run on: a 4-channel
// autoencoder and a width-16 denoiser (2 blocks, K 2, 6 context frames, crop 40),
// every denoiser weight drawn N(0, 0.2^2) (AdaLN-Zero's zero start would make
// v = 0), seed 3. Header-only, for test_generate, test_edit, test_generate_eval
// (and tests/cli_*.sh through `test_generate --write-models DIR`).
// Also the tiny corpora the training tests write (test_ae, test_diffusion_train,
// test_dist and through `test_dist --write-corpus DIR` cli_mpi.sh,
// cli_train_refused.sh and bench/mpi.sh): shards of synthetic log-mel named
// song0, song1, ..., the hash split choosing each one's side.
#ifndef REFRAIN_TESTS_TINY_MODELS_H
#define REFRAIN_TESTS_TINY_MODELS_H

#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "data/corpus.h"
#include "diffusion/diffusion.h"
#include "util/rng.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TINY_CTX 6   // the tiny denoiser's context frames (a re-roll's seam)

// The tiny autoencoder's shape with z latent channels: widths 8, 4 groups, one residual block a level.
static inline AeConfig tiny_ae_config(int z) {
    AeConfig c = ae_config_default();   // 80 bands (the corpus's)
    c.z = z; c.ch[0] = 8; c.ch[1] = 8; c.ch[2] = 8; c.groups = 4; c.enc_res = 1; c.dec_res = 1;
    return c;
}

static inline int tiny_models_write(const char *den_path, const char *ae_path) {
    AeConfig ac = tiny_ae_config(4);
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

// ---- tiny corpora ---------------------------------------------------------------------------
// DIR/shards/ID.rfs: T frames of N_MELS-band log-mel (T x N_MELS) from package
// "test", source MMA, its split by the hash of ID (corpus_split_for), with
// n_sec sections (NULL, 0: none). Returns 0, or -1 with err_set().
static inline int tiny_shard_write(const char *dir, const char *id, long T, const float *mel, SongSection *sec, int n_sec) {
    CorpusSong s;
    memset(&s, 0, sizeof s);
    snprintf(s.song, sizeof s.song, "%s", id);
    snprintf(s.package, sizeof s.package, "test");
    s.source = SRC_MMA;
    s.split = corpus_split_for(id, CORPUS_VALID_PERCENT);
    s.n_frames = (int32_t)T;
    s.n_mels = N_MELS;
    s.duration = T * (double)HOP / SAMPLE_RATE;
    s.n_sections = n_sec;
    s.sections = sec;
    char path[512];
    snprintf(path, sizeof path, "%s/shards/%s.rfs", dir, id);
    return shard_write(path, &s, mel);
}

// Song i of a verse-chorus corpus: 320 + 16 (i mod 5) frames in four equal
// sections verse chorus verse chorus, each label its own spectral shape plus
// noise (seed 900 + i): a chorus is like the other chorus.
static inline int tiny_verse_chorus_song(const char *dir, const char *id, int i) {
    long T = 320 + 16 * (i % 5);
    const char *lab[4] = {"verse", "chorus", "verse", "chorus"};
    SongSection sec[4];
    memset(sec, 0, sizeof sec);
    for (int k = 0; k < 4; k++) {
        sec[k].start = corpus_seconds((int32_t)(T * k / 4));
        sec[k].end = corpus_seconds((int32_t)(T * (k + 1) / 4));
        snprintf(sec[k].label, sizeof sec[k].label, "%s", lab[k]);
        sec[k].confidence = 1;
        sec[k].desc = (SectionDescriptors){-14, 0, 1500, 2};
    }
    song_number_occurrences(sec, 4);
    Rng r;
    rng_seed(&r, 900 + (uint64_t)i);
    float *mel = mallocCheck(sizeof(float) * T * N_MELS);
    for (long t = 0; t < T; t++) {
        int chorus = (t * 4 / T) % 2;
        for (int k = 0; k < N_MELS; k++)
            mel[t * N_MELS + k] = -6.f + 3.f * sinf((chorus ? 0.3f : 0.11f) * k + 0.05f * t) + 0.3f * rng_normal(&r);
    }
    int rc = tiny_shard_write(dir, id, T, mel, sec, 4);
    free(mel);
    return rc;
}

// Makes DIR/shards and writes songs song0, song1, ... with write_song(DIR, id, i),
// skipping each song whose side of the split (corpus_split_for) is already
// full, until there are ntrain training and nvalid validation songs (400 ids at
// most). Returns 0, or -1 with err_set().
static inline int tiny_corpus_write(const char *dir, int ntrain, int nvalid,
                                    int (*write_song)(const char *dir, const char *id, int i)) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/shards'", dir);
    if (system(cmd)) return err_set("cannot make %s/shards", dir);
    int nt = 0, nv = 0;
    for (int i = 0; i < 400 && (nt < ntrain || nv < nvalid); i++) {
        char id[32];
        snprintf(id, sizeof id, "song%d", i);
        int valid = corpus_split_for(id, CORPUS_VALID_PERCENT) == SPLIT_VALID;
        if (valid ? nv >= nvalid : nt >= ntrain) continue;
        if (write_song(dir, id, i)) return -1;
        *(valid ? &nv : &nt) += 1;
    }
    return nt == ntrain && nv == nvalid ? 0 : err_set("%s: %d training and %d validation songs in 400 ids", dir, nt, nv);
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
