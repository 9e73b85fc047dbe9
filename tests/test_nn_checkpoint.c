// test_nn_checkpoint.c — checkpoint files: a bit-exact save/load round trip of
// weights and training state, and a refusal that names the problem for each
// kind of wrong file (truncated, flipped byte, other version, other magic,
// other kind, other shape, missing or extra tensor, other hyperparameter).
// A failed write leaves no temporary file and keeps the previous checkpoint.
#include "tests/check.h"
#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "util/rng.h"
#include "util/util.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char dir[256];

static const char *in_dir(const char *name) { return check_in_dir(dir, name); }

// The model under test: a few tensors of different ranks, one big enough to
// span many write buffers. big_cols lets a test build a model whose shape differs.
static void build_model(ParamSet *p, int enc_out, int with_extra, int with_dec) {
    params_init(p);
    params_add(p, "enc.w", 1, 8, enc_out, 0, 0);
    params_add(p, "enc.b", 0, enc_out, 0, 0, 0);
    if (with_dec) params_add(p, "dec.conv.w", 1, 16, 4, 3, 0);
    params_add(p, "big.w", 1, 64, 300, 0, 0);
    params_add(p, "norm.g", 0, 7, 0, 0, 0);
    if (with_extra) params_add(p, "extra.w", 1, 2, 2, 0, 0);
    params_alloc(p);
}

static void model_hparams(Hparams *h, int dim) {
    hparams_init(h);
    hparams_set_int(h, "dim", dim);
    hparams_set_int(h, "layers", 2);
    hparams_set_float(h, "rope_base", 10000.0);
    hparams_set_float(h, "dropout", 0.1f);     // a float value that is not exact in binary
}

static int tensors_equal(const ParamSet *p, const float *a, const float *b) {
    for (int i = 0; i < p->n; i++)
        if (memcmp(a + p->specs[i].offset, b + p->specs[i].offset, (size_t)p->specs[i].size * sizeof(float)))
            return 0;
    return 1;
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}
static unsigned char *slurp(const char *path, long *n) {
    *n = file_size(path);
    FILE *f = fopen(path, "rb");
    unsigned char *b = mallocCheck((size_t)(*n > 0 ? *n : 1));
    if (f) { if (fread(b, 1, (size_t)*n, f) != (size_t)*n) *n = -1; fclose(f); }
    return b;
}
static void spit(const char *path, const unsigned char *b, long n) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(b, 1, (size_t)n, f); fclose(f); }
}

// Count of entries in the test folder (temp files would show up here).
static int dir_entries(void) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}
static int dir_has_tmp(void) {
    DIR *d = opendir(dir);
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) found |= strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return found;
}

// Bitwise CRC-32 (zlib's), the slow textbook form, to check the file's trailer.
static uint32_t crc32_naive(const unsigned char *p, long n) {
    uint32_t c = 0xFFFFFFFFu;
    for (long i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static int msg_has(const char *a, const char *b, const char *c) {
    const char *m = err_msg();
    return strstr(m, a) && (!b || strstr(m, b)) && (!c || strstr(m, c));
}

// Loads `path` into a fresh copy of the reference model and expects a refusal
// whose message contains the given words; also checks the weights were not touched.
static void expect_refused(const char *what, const char *path, const char *kind, const Hparams *hp,
                           const char *w1, const char *w2, const char *w3) {
    ParamSet q;
    build_model(&q, 16, 0, 1);
    for (long i = 0; i < q.total; i++) q.data[i] = -7.0f;
    err_clear();
    int rc = checkpoint_load(path, kind, hp, &q, NULL);
    int untouched = 1;
    for (long i = 0; i < q.total; i++) untouched &= q.data[i] == -7.0f;
    CHECK(rc == -1 && msg_has(w1, w2, w3) && untouched, "%s refused: \"%s\"", what, err_msg());
    params_free(&q);
}

// ---- float16 storage -----------------------------------------------------------------------
static uint16_t bits16(float f) { return ckpt_f32_to_f16(f); }

static void test_half_convert(void) {
    // exact values, the largest, ties to even (1 + 2^-11 is halfway between 1 and 1 + 2^-10)
    struct { float f; uint16_t h; } want[] = {
        {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000}, {0.5f, 0x3800}, {65504.0f, 0x7bff},
        {0x1p-14f, 0x0400}, {0x1p-24f, 0x0001}, {0x1p-25f, 0x0000}, {0x3p-25f, 0x0002}, {0x1.8p-24f, 0x0002},
        {1.0f + 0x1p-11f, 0x3c00}, {1.0f + 0x3p-11f, 0x3c02}, {1.0f + 0x1p-11f + 0x1p-20f, 0x3c01},
        {0x1.ffcp-15f, 0x0400}, {2046.5f, 0x67fe}, {2047.5f, 0x6800}, {2048.5f, 0x6800}, {0.1f, 0x2e66}, {-3.14159265f, 0xc248},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (bits16(want[i].f) != want[i].h) {
            ok = 0;
            printf("    %a -> %04x, want %04x\n", (double)want[i].f, bits16(want[i].f), want[i].h);
        }
    CHECK(ok, "float16 rounding: %zu exact, tie and subnormal cases", sizeof want / sizeof want[0]);
    // every finite half converts to float32 and back unchanged
    long bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if (((h >> 10) & 31) == 31) continue;
        if (bits16(ckpt_f16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECK(bad == 0, "every finite float16 survives float32 and back (%ld do not)", bad);
    CHECK(ckpt_f16_to_f32(0x3c00) == 1.0f && ckpt_f16_to_f32(0x0001) == 0x1p-24f && ckpt_f16_to_f32(0xfbff) == -65504.0f,
          "float16 to float32: 1, 2^-24, -65504");
    // the nearest: on random floats the error is at most half a float16 step, and no float16 neighbour is nearer
    Rng r;
    rng_seed(&r, 7);
    double worst = 0;
    long farther = 0;
    for (int i = 0; i < 200000; i++) {
        float x = rng_normal(&r) * (i % 3 == 0 ? 1e-3f : i % 3 == 1 ? 1.0f : 300.0f);
        uint16_t h = bits16(x);
        float y = ckpt_f16_to_f32(h);
        double e = fabs((double)y - x), rel = fabs(x) >= 0x1p-14f ? e / fabs(x) : e / 0x1p-14;
        if (rel > worst) worst = rel;
        for (int d = -1; d <= 1; d += 2) {
            uint16_t n2 = (uint16_t)(h + d);
            if ((n2 & 0x7fff) < 0x7c00 && (n2 >> 15) == (h >> 15) && fabs((double)ckpt_f16_to_f32(n2) - x) < e) farther++;
        }
    }
    CHECK(worst <= 0x1p-11 && farther == 0, "random floats: relative error at most 2^-11 (worst %.3g), never a nearer "
          "float16 neighbour (%ld)", worst, farther);
}

// A weights-only file in float16: half the payload, each weight the nearest float16;
// training state refused; a weight past 65504 refused; a damaged half (infinity) refused.
static void test_half(const ParamSet *p, const Hparams *hp, const TrainState *st) {
    test_half_convert();
    char w32[512], w16[512];   // in_dir's buffers are reused
    snprintf(w32, sizeof w32, "%s", in_dir("w32.rfc"));
    snprintf(w16, sizeof w16, "%s", in_dir("w16.rfc"));
    int rc = checkpoint_save_ema_as(w32, "dit", hp, p, st, CKPT_F32) || checkpoint_save_ema_as(w16, "dit", hp, p, st, CKPT_F16);
    if (!CHECK(rc == 0, "EMA weights saved as float32 and float16: %s", rc ? err_msg() : "ok")) return;
    long n32 = file_size(w32), n16 = file_size(w16);
    CHECK(n16 < n32 && n32 - 4096 - p->n * 136 - 8 > 0 && (double)(n16 - 4096 - p->n * 136) / (n32 - 4096 - p->n * 136) < 0.52,
          "the float16 file is about half the float32 one's payload: %ld against %ld bytes", n16, n32);
    ParamSet q;
    build_model(&q, 16, 0, 1);
    rc = checkpoint_load(w16, "dit", hp, &q, NULL);
    long exact = 0, off = 0, all = 0;
    for (int t = 0; t < q.n && rc == 0; t++)
        for (long i = q.specs[t].offset; i < q.specs[t].offset + q.specs[t].size; i++, all++) {
            exact += q.data[i] == ckpt_f16_to_f32(bits16(st->ema[i]));
            off += q.data[i] != st->ema[i];
        }
    CHECK(rc == 0 && exact == all && off > all / 2, "float16 file loads: every weight the float16 nearest the EMA "
          "weight (%ld of %ld; %ld differ from float32)", exact, all, off);
    rc = checkpoint_save_ema_as(w16, "dit", hp, p, st, 7);
    CHECK(rc == -1 && strstr(err_msg(), "dtype 7"), "an unknown dtype refused: %s", err_msg());
    rc = checkpoint_save_weights(in_dir("t16.rfc"), "dit", hp, p, CKPT_F16) == 0 ? 0 : -1;
    CHECK(rc == 0 && checkpoint_load(in_dir("t16.rfc"), "dit", hp, &q, NULL) == 0 && q.data[0] == ckpt_f16_to_f32(bits16(p->data[0])),
          "checkpoint_save_weights: a float16 file of the weights themselves");
    remove(in_dir("t16.rfc"));
    float keep = p->data[3];
    p->data[3] = 70000.0f;
    rc = checkpoint_save_weights(in_dir("big.rfc"), "dit", hp, p, CKPT_F16);
    p->data[3] = keep;
    CHECK(rc == -1 && strstr(err_msg(), "beyond float16's range") && access(in_dir("big.rfc"), F_OK) != 0,
          "a weight of 70000 refused for float16, nothing written: %s", err_msg());
    // an infinity written into the payload (with the checksum fixed) is refused on loading
    long n;
    unsigned char *b = slurp(w16, &n);
    if (!CHECK(n > 4096 + 136 + 8, "the float16 file reads back (%ld bytes)", n)) { free(b); params_free(&q); return; }
    uint64_t off0 = 0;
    for (int k = 0; k < 8; k++) off0 |= (uint64_t)b[4096 + 128 + k] << (8 * k);   // first tensor's payload
    b[off0] = 0x00; b[off0 + 1] = 0x7c;
    uint32_t crc = crc32_naive(b, (size_t)n - 8);
    for (int k = 0; k < 8; k++) b[n - 8 + k] = k < 4 ? (unsigned char)(crc >> (8 * k)) : 0;
    FILE *f = fopen(w16, "wb");
    fwrite(b, 1, (size_t)n, f);
    fclose(f);
    free(b);
    rc = checkpoint_load(w16, "dit", hp, &q, NULL);
    CHECK(rc == -1 && strstr(err_msg(), "infinite at index 0"), "a float16 infinity refused on loading: %s", err_msg());
    params_free(&q);
    remove(w32); remove(w16);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/refrain_test_ckpt_XXXXXX");
    if (!mkdtemp(dir)) { printf("cannot make a temp folder\n"); return 1; }

    // ---- a model and a training state with every field away from its default ----
    ParamSet p;
    build_model(&p, 16, 0, 1);
    Rng r;
    rng_seed(&r, 99);
    rng_fill_normal(&r, p.data, p.total, 0.5f);
    Hparams hp;
    model_hparams(&hp, 16);
    OptimConfig cfg = optim_config_default();
    cfg.lr = 1.234e-3f; cfg.lr_min = 5e-6f; cfg.warmup_steps = 77; cfg.total_steps = 9999;
    cfg.beta2 = 0.95f; cfg.weight_decay = 0.05f; cfg.clip_norm = 0.5f; cfg.ema_decay = 0.9995f;
    TrainState st;
    train_state_init(&st, &p, &cfg, 4242);
    rng_fill_normal(&r, st.m, st.total, 0.1f);
    rng_fill_normal(&r, st.v, st.total, 0.01f);
    rng_fill_normal(&r, st.ema, st.total, 0.5f);
    st.step = 123456;
    for (int i = 0; i < 5; i++) rng_normal(&st.rng);     // leaves a Box-Muller spare pending
    CHECK(st.rng.has_spare, "the saved RNG has a pending spare normal");

    char ck[512];
    snprintf(ck, sizeof ck, "%s", in_dir("model.ckpt"));
    int rc = checkpoint_save(ck, "dit", &hp, &p, &st);
    CHECK(rc == 0, "save with training state: %s", rc ? err_msg() : "ok");
    CHECK(dir_entries() == 1 && !dir_has_tmp(), "only the checkpoint is in the folder (no temp file)");

    // ---- round trip: bit-exact ----
    {
        ParamSet q;
        build_model(&q, 16, 0, 1);
        OptimConfig other = optim_config_default();
        other.ema_decay = 0;                                    // load must allocate the EMA
        TrainState s2;
        train_state_init(&s2, &q, &other, 1);
        rc = checkpoint_load(ck, "dit", &hp, &q, &s2);
        CHECK(rc == 0, "load with training state: %s", rc ? err_msg() : "ok");
        CHECK(tensors_equal(&p, p.data, q.data), "weights bit-identical after load");
        CHECK(tensors_equal(&p, st.m, s2.m), "Adam m bit-identical after load");
        CHECK(tensors_equal(&p, st.v, s2.v), "Adam v bit-identical after load");
        CHECK(s2.ema && tensors_equal(&p, st.ema, s2.ema), "EMA bit-identical after load");
        CHECK(s2.step == st.step, "step restored (%ld)", s2.step);
        CHECK(memcmp(s2.rng.s, st.rng.s, sizeof st.rng.s) == 0 && s2.rng.has_spare == st.rng.has_spare &&
              s2.rng.spare == st.rng.spare, "RNG state restored, spare included");
        Rng a = st.rng, b = s2.rng;
        int same = 1;
        for (int i = 0; i < 9; i++) same &= rng_normal(&a) == rng_normal(&b);
        CHECK(same, "restored RNG continues the same stream");
        CHECK(memcmp(&s2.cfg, &st.cfg, sizeof cfg) == 0, "optimizer configuration restored (lr %g, warm-up %ld, total %ld)",
              (double)s2.cfg.lr, s2.cfg.warmup_steps, s2.cfg.total_steps);

        ParamSet e;
        build_model(&e, 16, 0, 1);
        rc = checkpoint_load_ema(ck, "dit", &hp, &e);
        CHECK(rc == 0 && tensors_equal(&p, st.ema, e.data), "checkpoint_load_ema gives the EMA weights");
        params_free(&e);
        train_state_free(&s2);
        params_free(&q);
    }
    {
        Hparams got;
        int64_t dim = 0;
        double drop = 0;
        rc = checkpoint_read_hparams(ck, "dit", &got);
        int got_dim = rc == 0 && hparams_get_int(&got, "dim", &dim) == 0;
        int got_drop = rc == 0 && hparams_get_float(&got, "dropout", &drop) == 0;
        CHECK(rc == 0 && got.n == hp.n && got_dim && dim == 16 && got_drop && drop == (double)0.1f,
              "read_hparams: %d keys, dim %lld, dropout %.9g (training fields not among them)",
              got.n, (long long)dim, drop);
        CHECK(hparams_get_int(&got, "dropout", &dim) == -1 && strstr(err_msg(), "is a float"),
              "asking for a float as an integer is refused: \"%s\"", err_msg());
    }
    {   // saving the same thing twice gives the same bytes
        const char *ck2 = in_dir("again.ckpt");
        checkpoint_save(ck2, "dit", &hp, &p, &st);
        long n1, n2;
        unsigned char *a = slurp(ck, &n1), *b = slurp(ck2, &n2);
        CHECK(n1 == n2 && n1 > 0 && memcmp(a, b, (size_t)n1) == 0, "saving twice gives identical files (%ld bytes)", n1);
        free(a); free(b);
        remove(ck2);
    }
    {   // weights only: loads as weights, refuses to resume
        const char *w = in_dir("weights.ckpt");
        rc = checkpoint_save(w, "dit", &hp, &p, NULL);
        ParamSet q;
        build_model(&q, 16, 0, 1);
        CHECK(rc == 0 && checkpoint_load(w, "dit", &hp, &q, NULL) == 0 && tensors_equal(&p, p.data, q.data),
              "weights-only round trip bit-exact (%ld bytes vs %ld with state)", file_size(w), file_size(ck));
        TrainState s2;
        train_state_init(&s2, &q, &cfg, 1);
        rc = checkpoint_load(w, "dit", &hp, &q, &s2);
        CHECK(rc == -1 && strstr(err_msg(), "weights only"), "resuming from weights only refused: \"%s\"", err_msg());
        rc = checkpoint_load_ema(w, "dit", &hp, &q);
        CHECK(rc == -1 && strstr(err_msg(), "no EMA weights"), "EMA from weights only refused: \"%s\"", err_msg());
        rc = checkpoint_save_ema(w, "dit", &hp, &p, &st);
        int loaded = rc == 0 && checkpoint_load(w, "dit", &hp, &q, NULL) == 0;
        CHECK(loaded && tensors_equal(&p, st.ema, q.data), "checkpoint_save_ema: a weights-only file of the EMA weights");
        train_state_free(&s2);
        params_free(&q);
        remove(w);
    }
    test_half(&p, &hp, &st);

    // ---- damaged and foreign files ----
    long n;
    unsigned char *good = slurp(ck, &n);
    unsigned char *bad = mallocCheck((size_t)n);
    char bp[512];
    snprintf(bp, sizeof bp, "%s", in_dir("bad.ckpt"));

    CHECK(crc32_naive((const unsigned char *)"123456789", 9) == 0xCBF43926u, "reference CRC-32 of \"123456789\" is cbf43926");
    {
        uint64_t stored = 0;
        for (int i = 0; i < 8; i++) stored |= (uint64_t)good[n - 8 + i] << (8 * i);
        uint32_t want = crc32_naive(good, n - 8);
        CHECK(stored == want, "file trailer is the CRC-32 of everything before it (%08llx, reference %08x)",
              (unsigned long long)stored, want);
        CHECK(memcmp(good, "RFRN", 4) == 0 && good[4] == CKPT_VERSION && good[5] == 0 && good[8] == 0 && good[9] == 0x10,
              "header starts with RFRN, version %d and a 4096-byte header size, little-endian", CKPT_VERSION);
    }
    spit(bp, good, n - 100);
    expect_refused("truncated file (100 bytes short)", bp, "dit", &hp, "truncated", "header says", NULL);
    spit(bp, good, 1000);
    expect_refused("truncated inside the header", bp, "dit", &hp, "truncated", NULL, NULL);
    spit(bp, good, 0);
    expect_refused("empty file", bp, "dit", &hp, "not a refrain checkpoint", "empty", NULL);

    memcpy(bad, good, (size_t)n);
    bad[n / 2] ^= 0x10;                                   // one bit in the payload
    spit(bp, bad, n);
    expect_refused("flipped bit in the payload", bp, "dit", &hp, "corrupted", "checksum", NULL);
    memcpy(bad, good, (size_t)n);
    bad[4096 + 3] ^= 0x01;                                // a tensor name in the table
    spit(bp, bad, n);
    expect_refused("flipped bit in the tensor table", bp, "dit", &hp, "checksum", NULL, NULL);

    memcpy(bad, good, (size_t)n);
    bad[4] = 2;                                           // format version 2
    spit(bp, bad, n);
    expect_refused("other format version", bp, "dit", &hp, "version 2", "reads version 1", NULL);

    memcpy(bad, good, (size_t)n);
    memcpy(bad, "RIFF", 4);
    spit(bp, bad, n);
    expect_refused("other magic", bp, "dit", &hp, "not a refrain checkpoint", "RFRN", NULL);
    expect_refused("a missing file", in_dir("nope.ckpt"), "dit", &hp, "cannot open", "nope.ckpt", NULL);

    expect_refused("other kind", ck, "autoencoder", &hp, "'dit'", "expected kind 'autoencoder'", NULL);

    Hparams hp2;
    model_hparams(&hp2, 32);
    expect_refused("other hyperparameter value", ck, "dit", &hp2, "hyperparameter mismatch", "'dim'", "is 16 in the file, the model expects 32");
    model_hparams(&hp2, 16);
    hparams_set_float(&hp2, "dropout", 0.2);
    expect_refused("other float hyperparameter", ck, "dit", &hp2, "'dropout'", "0.100000001", "0.2");
    model_hparams(&hp2, 16);
    hparams_set_int(&hp2, "heads", 4);
    expect_refused("hyperparameter the file lacks", ck, "dit", &hp2, "lacks hyperparameter 'heads'", NULL, NULL);
    hparams_init(&hp2);
    hparams_set_int(&hp2, "dim", 16);
    expect_refused("hyperparameter the model lacks", ck, "dit", &hp2, "'layers'", "does not know", NULL);

    {   // shapes: checked with hp NULL so that the tensor check itself speaks
        ParamSet q;
        build_model(&q, 12, 0, 1);
        for (long i = 0; i < q.total; i++) q.data[i] = -7.0f;
        rc = checkpoint_load(ck, "dit", NULL, &q, NULL);
        int untouched = 1;
        for (long i = 0; i < q.total; i++) untouched &= q.data[i] == -7.0f;
        CHECK(rc == -1 && msg_has("'enc.w'", "shape [8, 16]", "expects [8, 12]") && untouched,
              "tensor of another shape refused, weights untouched: \"%s\"", err_msg());
        params_free(&q);
        build_model(&q, 16, 1, 1);
        rc = checkpoint_load(ck, "dit", NULL, &q, NULL);
        CHECK(rc == -1 && msg_has("no tensor 'extra.w'", "[2, 2]", NULL), "missing tensor refused: \"%s\"", err_msg());
        params_free(&q);
        build_model(&q, 16, 0, 0);
        rc = checkpoint_load(ck, "dit", NULL, &q, NULL);
        CHECK(rc == -1 && msg_has("'dec.conv.w'", "does not have", NULL), "tensor the model lacks refused: \"%s\"", err_msg());
        params_free(&q);
        // training state made for another model
        build_model(&q, 16, 0, 1);
        ParamSet small;
        build_model(&small, 4, 0, 0);
        TrainState s2;
        train_state_init(&s2, &small, &cfg, 1);
        rc = checkpoint_load(ck, "dit", &hp, &q, &s2);
        CHECK(rc == -1 && strstr(err_msg(), "not made for this model"), "state of another layout refused: \"%s\"", err_msg());
        train_state_free(&s2);
        params_free(&small);
        params_free(&q);
    }
    free(bad);
    remove(bp);

    // ---- failed writes ----
    rc = checkpoint_save("/nonexistent-refrain-folder/sub/model.ckpt", "dit", &hp, &p, &st);
    CHECK(rc == -1 && strstr(err_msg(), "does not exist"), "save into a missing folder refused: \"%s\"", err_msg());
    {
        Hparams h3;
        hparams_init(&h3);
        for (int i = 0; i < HP_MAX + 1; i++) { char k[16]; snprintf(k, sizeof k, "k%d", i); hparams_set_int(&h3, k, i); }
        rc = checkpoint_save(in_dir("x.ckpt"), "dit", &h3, &p, NULL);
        CHECK(rc == -1 && strstr(err_msg(), "more than"), "too many hyperparameters refused: \"%s\"", err_msg());
        hparams_init(&h3);
        hparams_set_int(&h3, "train.step", 1);
        rc = checkpoint_save(in_dir("x.ckpt"), "dit", &h3, &p, NULL);
        CHECK(rc == -1 && strstr(err_msg(), "reserved"), "reserved key refused: \"%s\"", err_msg());
    }
    {   // the disk fills up mid-write (simulated with a file-size limit): the
        // error is reported, the temp file is removed, the old checkpoint stays.
        struct rlimit old, lim;
        getrlimit(RLIMIT_FSIZE, &old);
        signal(SIGXFSZ, SIG_IGN);
        lim = old;
        lim.rlim_cur = 40000;                 // the checkpoint is several times bigger
        int entries = dir_entries();
        if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
            rc = checkpoint_save(ck, "dit", &hp, &p, &st);
            setrlimit(RLIMIT_FSIZE, &old);
            CHECK(rc == -1 && strstr(err_msg(), "cannot write checkpoint"), "write that runs out of room reported: \"%s\"", err_msg());
            CHECK(!dir_has_tmp() && dir_entries() == entries, "no temp file left behind after the failed write");
            long n2;
            unsigned char *still = slurp(ck, &n2);
            CHECK(n2 == n && memcmp(still, good, (size_t)n) == 0, "the previous checkpoint is intact");
            free(still);
        } else {
            CHECK(0, "setrlimit(RLIMIT_FSIZE) failed; cannot simulate a full disk");
        }
    }
    free(good);

    // ---- a NaN or infinite weight saved by a diverged run: refused at load, naming it ----
    {
        char nanck[600];
        snprintf(nanck, sizeof nanck, "%s/nan.rfc", dir);
        long last = p.specs[p.n - 1].offset + p.specs[p.n - 1].size - 1;   // the last tensor's last value (not padding)
        float keep[2] = {p.data[3], p.data[last]};
        p.data[3] = NAN;
        int rc1 = checkpoint_save(nanck, "dit", &hp, &p, NULL);
        p.data[3] = keep[0];
        ParamSet q;
        build_model(&q, 16, 0, 1);
        CHECK(rc1 == 0 && checkpoint_load(nanck, "dit", &hp, &q, NULL) == -1 && strstr(err_msg(), "holds NaN at index 3") &&
              strstr(err_msg(), "diverged"), "a NaN weight is refused: %s", err_msg());
        p.data[last] = INFINITY;
        rc1 = checkpoint_save(nanck, "dit", &hp, &p, NULL);
        p.data[last] = keep[1];
        int rc2 = rc1 == 0 ? checkpoint_load(nanck, "dit", &hp, &q, NULL) : 0;
        CHECK(rc1 == 0 && rc2 == -1 && strstr(err_msg(), "holds infinite"), "an infinite weight is refused (save %d): %s",
              rc1, err_msg());
        params_free(&q);
        remove(nanck);
    }

    remove(ck);
    CHECK(dir_entries() == 0, "test folder empty at the end");
    rmdir(dir);
    train_state_free(&st);
    params_free(&p);
    return check_summary("test_nn_checkpoint");
}
