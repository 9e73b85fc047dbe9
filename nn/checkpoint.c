// checkpoint.c — writing and checking refrain checkpoint files. The format is
// documented in checkpoint.h. Byte order is explicit (put_/get_ helpers), so the
// files are little-endian on any host. No model knowledge here.
#include "nn/checkpoint.h"
#include "util/util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 4096
#define KV_SLOTS 64
#define KV_BYTES 48
#define KV_AT 48
#define ENTRY_BYTES 136
#define NAME_BYTES 96
#define FLAG_TRAIN 1u
#define TRAIN_PREFIX "train."

static const char MAGIC[4] = {'R', 'F', 'R', 'N'};
static const char *const STATE_PREFIX[3] = {"adam.m/", "adam.v/", "ema/"};

// ---- little-endian bytes and the checksum ---------------------------------------------
static void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static uint64_t dbl_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static double bits_dbl(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

// CRC-32 as zlib's crc32() (reflected polynomial 0xEDB88320), chained the
// same way: crc32_update(crc32_update(0, a), b) == crc32 of a followed by b.
// Slicing-by-8 (eight tables) does eight bytes per step.
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    pthread_once(&crc_once, crc_init);
    uint32_t c = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = c ^ get_u32(p), hi = get_u32(p + 4);
        c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
            crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    }
    for (; n > 0; n--, p++) c = crc_table[0][(c ^ *p) & 0xff] ^ (c >> 8);
    return ~c;
}

// ---- hyperparameters --------------------------------------------------------------------
void hparams_init(Hparams *h) { memset(h, 0, sizeof *h); }

static HparamEntry *hp_slot(Hparams *h, const char *key) {
    if (h->bad[0]) return NULL;
    if (strlen(key) == 0 || strlen(key) >= HP_KEY_MAX) {
        snprintf(h->bad, sizeof h->bad, "hyperparameter key '%.40s' must be 1 to %d characters", key, HP_KEY_MAX - 1);
        return NULL;
    }
    if (strncmp(key, TRAIN_PREFIX, strlen(TRAIN_PREFIX)) == 0) {
        snprintf(h->bad, sizeof h->bad, "hyperparameter key '%s' uses the reserved prefix 'train.'", key);
        return NULL;
    }
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->e[i].key, key) == 0) return &h->e[i];
    if (h->n == HP_MAX) {
        snprintf(h->bad, sizeof h->bad, "more than %d hyperparameters (at '%s')", HP_MAX, key);
        return NULL;
    }
    HparamEntry *e = &h->e[h->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    return e;
}
void hparams_set_int(Hparams *h, const char *key, int64_t v) {
    HparamEntry *e = hp_slot(h, key);
    if (e) { e->is_float = 0; e->i = v; e->f = 0; }
}
void hparams_set_float(Hparams *h, const char *key, double v) {
    HparamEntry *e = hp_slot(h, key);
    if (e) { e->is_float = 1; e->f = v; e->i = 0; }
}
static const HparamEntry *hp_find(const Hparams *h, const char *key) {
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->e[i].key, key) == 0) return &h->e[i];
    return NULL;
}
int hparams_get_int(const Hparams *h, const char *key, int64_t *out) {
    const HparamEntry *e = hp_find(h, key);
    if (!e) return err_set("hyperparameter '%s' not found (expected an integer)", key);
    if (e->is_float) return err_set("hyperparameter '%s' is a float (%.9g), expected an integer", key, e->f);
    *out = e->i;
    return 0;
}
int hparams_get_float(const Hparams *h, const char *key, double *out) {
    const HparamEntry *e = hp_find(h, key);
    if (!e) return err_set("hyperparameter '%s' not found (expected a float)", key);
    if (!e->is_float) return err_set("hyperparameter '%s' is an integer (%lld), expected a float", key, (long long)e->i);
    *out = e->f;
    return 0;
}
static void hp_str(char *buf, size_t cap, const HparamEntry *e) {
    if (e->is_float) snprintf(buf, cap, "%.9g", e->f);
    else snprintf(buf, cap, "%lld", (long long)e->i);
}

// The training fields stored beside the model's hyperparameters. They go
// through the same key/value table as raw integers or doubles.
typedef struct { const char *key; int is_float; } TrainField;
static const TrainField TRAIN_FIELDS[] = {
    {"train.step", 0}, {"train.rng0", 0}, {"train.rng1", 0}, {"train.rng2", 0}, {"train.rng3", 0},
    {"train.rng_has_spare", 0}, {"train.rng_spare", 1},
    {"train.lr", 1}, {"train.lr_min", 1}, {"train.warmup_steps", 0}, {"train.total_steps", 0},
    {"train.beta1", 1}, {"train.beta2", 1}, {"train.eps", 1}, {"train.weight_decay", 1},
    {"train.clip_norm", 1}, {"train.ema_decay", 1}, {"train.ema_warmup", 0},
};
#define N_TRAIN_FIELDS ((int)(sizeof TRAIN_FIELDS / sizeof TRAIN_FIELDS[0]))

static void train_fields_get(const TrainState *st, int64_t *iv, double *fv) {
    const OptimConfig *c = &st->cfg;
    int64_t ints[] = {st->step, (int64_t)st->rng.s[0], (int64_t)st->rng.s[1], (int64_t)st->rng.s[2],
                      (int64_t)st->rng.s[3], st->rng.has_spare, 0, 0, 0, c->warmup_steps, c->total_steps,
                      0, 0, 0, 0, 0, 0, c->ema_warmup};
    double flts[] = {0, 0, 0, 0, 0, 0, st->rng.spare, c->lr, c->lr_min, 0, 0,
                     c->beta1, c->beta2, c->eps, c->weight_decay, c->clip_norm, c->ema_decay, 0};
    memcpy(iv, ints, sizeof ints);
    memcpy(fv, flts, sizeof flts);
}
static void train_fields_set(TrainState *st, const int64_t *iv, const double *fv) {
    OptimConfig *c = &st->cfg;
    st->step = (long)iv[0];
    for (int k = 0; k < 4; k++) st->rng.s[k] = (uint64_t)iv[1 + k];
    st->rng.has_spare = (int)iv[5];
    st->rng.spare = (float)fv[6];
    c->lr = (float)fv[7]; c->lr_min = (float)fv[8];
    c->warmup_steps = (long)iv[9]; c->total_steps = (long)iv[10];
    c->beta1 = (float)fv[11]; c->beta2 = (float)fv[12]; c->eps = (float)fv[13];
    c->weight_decay = (float)fv[14]; c->clip_norm = (float)fv[15]; c->ema_decay = (float)fv[16];
    c->ema_warmup = (int)iv[17];
}

// ---- writing --------------------------------------------------------------------------------
typedef struct {
    AtomicFile af;
    uint32_t crc;
    uint64_t pos;
    int err;              // errno of the first failed write, 0 if none
    uint64_t err_at;      // bytes written before it
} Writer;

static void w_bytes(Writer *w, const void *p, size_t n) {
    uint64_t at = w->pos;
    w->pos += n;                 // advances even after an error, so loops end
    if (w->err || n == 0) return;
    w->crc = crc32_update(w->crc, p, n);
    size_t put = fwrite(p, 1, n, w->af.f);
    if (put != n) { w->err = errno ? errno : EIO; w->err_at = at + put; }
}
static void w_zeros(Writer *w, uint64_t upto) {
    static const uint8_t z[64];
    while (w->pos < upto) {
        uint64_t k = upto - w->pos < 64 ? upto - w->pos : 64;
        w_bytes(w, z, (size_t)k);
    }
}
// float32 payload, little-endian: written as is on a little-endian host,
// byte-swapped through a buffer elsewhere.
static void w_floats(Writer *w, const float *x, long n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w_bytes(w, x, (size_t)n * 4);
#else
    uint8_t buf[16384];
    long per = (long)(sizeof buf / 4);
    for (long i = 0; i < n; i += per) {
        long k = n - i < per ? n - i : per;
        for (long j = 0; j < k; j++) { uint32_t u; memcpy(&u, &x[i + j], 4); put_u32(buf + 4 * j, u); }
        w_bytes(w, buf, (size_t)(4 * k));
    }
#endif
}

static uint64_t align64(uint64_t x) { return (x + 63) & ~(uint64_t)63; }

// ---- float16 (IEEE binary16) ---------------------------------------------------------------------
// Round to nearest, ties to even, as a hardware conversion does. |f| must be
// below 65520 (checked before writing: larger values would become infinity).
uint16_t ckpt_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, a = x & 0x7fffffff;
    if (a >= 0x7f800000) return (uint16_t)(sign | 0x7c00 | (a > 0x7f800000 ? 0x200 : 0));   // inf, NaN
    if (a >= 0x477ff000) return (uint16_t)(sign | 0x7c00);                                 // rounds past 65504
    if (a < 0x38800000) {   // below 2^-14: a subnormal half, |f| / 2^-24 rounded (exact product, lrintf ties to even)
        float v;
        memcpy(&v, &a, 4);
        return (uint16_t)(sign | (uint32_t)lrintf(v * 16777216.0f));   // 0x400 is the smallest normal: still right
    }
    uint32_t h = ((((a >> 23) - 127 + 15) << 10) | ((a & 0x7fffff) >> 13)), rest = a & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;   // a carry into the exponent is right too
    return (uint16_t)(sign | h);
}

float ckpt_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 0x3ff, bits;
    if (e == 0) {   // zero or subnormal: m 2^-24
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    bits = e == 31 ? sign | 0x7f800000 | (m << 13) : sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// float16 payload, little-endian (the host's order does not matter: put_u16 by bytes).
static void w_halves(Writer *w, const float *x, long n) {
    uint8_t buf[16384];
    long per = (long)(sizeof buf / 2);
    for (long i = 0; i < n; i += per) {
        long k = n - i < per ? n - i : per;
        for (long j = 0; j < k; j++) {
            uint16_t h = ckpt_f32_to_f16(x[i + j]);
            buf[2 * j] = (uint8_t)(h & 0xff);
            buf[2 * j + 1] = (uint8_t)(h >> 8);
        }
        w_bytes(w, buf, (size_t)(2 * k));
    }
}

static int save_as(const char *path, const char *kind, const Hparams *hp, const ParamSet *params,
                   const TrainState *st, int dtype) {
    if (!kind || !kind[0] || strlen(kind) >= CKPT_KIND_MAX)
        return err_set("checkpoint kind '%s' must be 1 to %d characters", kind ? kind : "(null)", CKPT_KIND_MAX - 1);
    if (hp && hp->bad[0]) return err_set("cannot save checkpoint '%s': %s", path, hp->bad);
    if (!params->data) return err_set("cannot save checkpoint '%s': parameters are not allocated (call params_alloc)", path);
    if (st && (st->total != params->total || !st->m || !st->v))
        return err_set("cannot save checkpoint '%s': training state has %ld floats per arena, the model %ld "
                       "(make it with train_state_init for this ParamSet)", path, st->total, params->total);
    for (int i = 0; i < params->n; i++)
        if (strlen(params->specs[i].name) + 8 > NAME_BYTES)
            return err_set("tensor name '%s' too long for a checkpoint (at most %d characters)",
                           params->specs[i].name, NAME_BYTES - 8);

    if (dtype != CKPT_F32 && (dtype != CKPT_F16 || st))
        return err_set("cannot save checkpoint '%s': dtype %d (float16 is for weights-only files)", path, dtype);
    if (dtype == CKPT_F16)   // a weight float16 cannot hold would load as infinity
        for (int i = 0; i < params->n; i++) {
            const ParamSpec *sp = &params->specs[i];
            long b = first_bad_value(params->data + sp->offset, (size_t)sp->size, 65504.0f);
            if (b >= 0)
                return err_set("cannot save '%s' as float16: tensor '%s' holds %g at index %ld, beyond float16's "
                               "range (65504); save it as float32", path, sp->name, params->data[sp->offset + b], b);
        }
    const uint64_t esize = dtype == CKPT_F16 ? 2 : 4;
    int nkv = hp ? hp->n : 0;
    int with_ema = st && st->ema;
    int copies = st ? (with_ema ? 4 : 3) : 1;          // weights, m, v, ema
    int ntensor = params->n * copies;
    uint64_t table_bytes = (uint64_t)ntensor * ENTRY_BYTES;

    uint8_t *head = callocCheck(1, HEADER_BYTES + table_bytes);
    uint8_t *kv = head + KV_AT;
    int k = 0;
    for (int i = 0; i < nkv; i++, k++) {
        const HparamEntry *e = &hp->e[i];
        memcpy(kv + k * KV_BYTES, e->key, strlen(e->key));
        put_u32(kv + k * KV_BYTES + 32, e->is_float ? 2 : 1);
        put_u64(kv + k * KV_BYTES + 40, e->is_float ? dbl_bits(e->f) : (uint64_t)e->i);
    }
    if (st) {
        int64_t iv[N_TRAIN_FIELDS];
        double fv[N_TRAIN_FIELDS];
        train_fields_get(st, iv, fv);
        for (int i = 0; i < N_TRAIN_FIELDS; i++, k++) {
            memcpy(kv + k * KV_BYTES, TRAIN_FIELDS[i].key, strlen(TRAIN_FIELDS[i].key));
            put_u32(kv + k * KV_BYTES + 32, TRAIN_FIELDS[i].is_float ? 2 : 1);
            put_u64(kv + k * KV_BYTES + 40, TRAIN_FIELDS[i].is_float ? dbl_bits(fv[i]) : (uint64_t)iv[i]);
        }
    }

    uint64_t off = align64(HEADER_BYTES + table_bytes);
    for (int c = 0; c < copies; c++)
        for (int i = 0; i < params->n; i++) {
            const ParamSpec *s = &params->specs[i];
            uint8_t *e = head + HEADER_BYTES + (uint64_t)(c * params->n + i) * ENTRY_BYTES;
            snprintf((char *)e, NAME_BYTES, "%s%s", c ? STATE_PREFIX[c - 1] : "", s->name);
            put_u32(e + 96, (uint32_t)dtype);
            put_u32(e + 100, (uint32_t)s->ndim);
            for (int d = 0; d < s->ndim; d++) put_u32(e + 104 + 4 * d, (uint32_t)s->shape[d]);
            put_u64(e + 120, (uint64_t)s->size * esize);
            put_u64(e + 128, off);
            off = align64(off + (uint64_t)s->size * esize);
        }
    uint64_t file_bytes = off + 8;

    memcpy(head, MAGIC, 4);
    put_u32(head + 4, CKPT_VERSION);
    put_u32(head + 8, HEADER_BYTES);
    put_u32(head + 12, (uint32_t)k);
    put_u32(head + 16, (uint32_t)ntensor);
    put_u32(head + 20, st ? FLAG_TRAIN : 0);
    put_u64(head + 24, file_bytes);
    memcpy(head + 32, kind, strlen(kind));

    Writer w;
    memset(&w, 0, sizeof w);
    if (atomic_open(&w.af, path)) {
        free(head);
        return err_set("cannot save checkpoint: %s", err_msg());
    }
    w.crc = 0;
    w_bytes(&w, head, HEADER_BYTES + table_bytes);
    const float *arena[4] = {params->data, st ? st->m : NULL, st ? st->v : NULL, with_ema ? st->ema : NULL};
    for (int c = 0; c < copies; c++)
        for (int i = 0; i < params->n; i++) {
            const ParamSpec *s = &params->specs[i];
            w_zeros(&w, get_u64(head + HEADER_BYTES + (uint64_t)(c * params->n + i) * ENTRY_BYTES + 128));
            if (dtype == CKPT_F16) w_halves(&w, arena[c] + s->offset, s->size);
            else w_floats(&w, arena[c] + s->offset, s->size);
        }
    w_zeros(&w, off);
    uint8_t sum[8];
    put_u64(sum, w.crc);
    w_bytes(&w, sum, 8);
    free(head);
    if (w.err) {
        int e = w.err;
        atomic_abort(&w.af);
        return err_set("cannot write checkpoint '%s': %s (after %llu of %llu bytes); nothing was saved "
                       "under that name — free some space or choose another folder",
                       path, e == ENOSPC ? "disk full" : strerror(e),
                       (unsigned long long)w.err_at, (unsigned long long)file_bytes);
    }
    if (atomic_commit(&w.af)) return -1;   // names the path; "disk full" on ENOSPC
    return 0;
}

int checkpoint_save(const char *path, const char *kind, const Hparams *hp,
                    const ParamSet *params, const TrainState *st) {
    return save_as(path, kind, hp, params, st, CKPT_F32);
}

int checkpoint_save_weights(const char *path, const char *kind, const Hparams *hp, const ParamSet *params, int dtype) {
    return save_as(path, kind, hp, params, NULL, dtype);
}

int checkpoint_save_ema_as(const char *path, const char *kind, const Hparams *hp,
                           const ParamSet *params, const TrainState *st, int dtype) {
    if (!st || !st->ema || st->total != params->total)
        return err_set("cannot save EMA weights to '%s': the training state has no EMA for this model "
                       "(EMA off, or made for another ParamSet)", path);
    ParamSet view = *params;           // same tensors and layout, the EMA arena as data
    view.data = st->ema;
    return save_as(path, kind, hp, &view, NULL, dtype);
}

int checkpoint_save_ema(const char *path, const char *kind, const Hparams *hp,
                        const ParamSet *params, const TrainState *st) {
    return checkpoint_save_ema_as(path, kind, hp, params, st, CKPT_F32);
}

// ---- reading and checking ---------------------------------------------------------------------
typedef struct {
    const char *path;
    uint8_t *buf;
    uint64_t size;
    uint32_t nkv, ntensor, flags;
    char kind[CKPT_KIND_MAX];
    Hparams hp;                       // the model's entries
    int has_train;
    int64_t train_i[N_TRAIN_FIELDS];
    double train_f[N_TRAIN_FIELDS];
} Ckpt;

static void ckpt_free(Ckpt *c) { free(c->buf); c->buf = NULL; }

static const char *shape_str(char *buf, size_t cap, int ndim, const int *shape) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && n < cap; d++) n += (size_t)snprintf(buf + n, cap - n, d ? ", %d" : "%d", shape[d]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

// Reads the file and runs every check that does not need the model.
static int ckpt_open(Ckpt *c, const char *path, const char *kind) {
    memset(c, 0, sizeof *c);
    c->path = path;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open checkpoint '%s': %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return err_set("cannot read checkpoint '%s': not a seekable file", path);
    }
    c->size = (uint64_t)size;
    c->buf = mallocCheck((size_t)size + 1);
    size_t got = fread(c->buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) { ckpt_free(c); return err_set("cannot read checkpoint '%s': read %zu of %ld bytes", path, got, size); }

    const uint8_t *b = c->buf;
    if (c->size < 4 || memcmp(b, MAGIC, 4) != 0) {
        char found[32] = "an empty file";
        if (c->size >= 4) snprintf(found, sizeof found, "bytes %02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
        ckpt_free(c);
        return err_set("'%s' is not a refrain checkpoint: expected magic \"RFRN\" (52 46 52 4e), found %s; "
                       "pass a file saved by refrain's training commands", path, found);
    }
    if (c->size < 8) { ckpt_free(c); return err_set("checkpoint '%s' is truncated: only %llu bytes; use another checkpoint", path, (unsigned long long)c->size); }
    uint32_t version = get_u32(b + 4);
    if (version != CKPT_VERSION) {
        ckpt_free(c);
        return err_set("checkpoint '%s' has format version %u, this build reads version %u; "
                       "use a refrain build of that version or re-save the checkpoint", path, version, CKPT_VERSION);
    }
    if (c->size < HEADER_BYTES + 8) {
        ckpt_free(c);
        return err_set("checkpoint '%s' is truncated: %llu bytes, shorter than the %d-byte header; "
                       "the save or the copy was interrupted — use another checkpoint",
                       path, (unsigned long long)c->size, HEADER_BYTES);
    }
    uint64_t want = get_u64(b + 24);
    if (c->size < want) {
        ckpt_free(c);
        return err_set("checkpoint '%s' is truncated: %llu bytes on disk, the header says %llu; "
                       "the save or the copy was interrupted — use another checkpoint",
                       path, (unsigned long long)c->size, (unsigned long long)want);
    }
    if (c->size > want) {
        ckpt_free(c);
        return err_set("checkpoint '%s' has %llu bytes, the header says %llu: extra bytes at the end; "
                       "the file was appended to or is not a refrain checkpoint",
                       path, (unsigned long long)c->size, (unsigned long long)want);
    }
    uint64_t stored = get_u64(b + c->size - 8);
    uint64_t computed = crc32_update(0, b, (size_t)(c->size - 8));
    if (stored != computed) {
        ckpt_free(c);
        return err_set("checkpoint '%s' is corrupted: checksum mismatch (stored CRC-32 %08llx, computed %08llx "
                       "over %llu bytes); the file changed after it was written — use another copy",
                       path, (unsigned long long)stored, (unsigned long long)computed,
                       (unsigned long long)(c->size - 8));
    }
    // From here the bytes are what refrain wrote; still check the layout.
    c->nkv = get_u32(b + 12);
    c->ntensor = get_u32(b + 16);
    c->flags = get_u32(b + 20);
    memcpy(c->kind, b + 32, CKPT_KIND_MAX - 1);
    uint32_t header_bytes = get_u32(b + 8);
    if (header_bytes != HEADER_BYTES || c->nkv > KV_SLOTS ||
        (uint64_t)HEADER_BYTES + (uint64_t)c->ntensor * ENTRY_BYTES > c->size - 8) {
        ckpt_free(c);
        return err_set("checkpoint '%s' is malformed: header of %u bytes, %u entries, %u tensors in %llu bytes",
                       path, header_bytes, c->nkv, c->ntensor, (unsigned long long)c->size);
    }
    for (uint32_t t = 0; t < c->ntensor; t++) {
        const uint8_t *e = b + HEADER_BYTES + (uint64_t)t * ENTRY_BYTES;
        uint32_t ndim = get_u32(e + 100);
        uint64_t elems = 1, nbytes = get_u64(e + 120), off = get_u64(e + 128);
        for (uint32_t d = 0; d < ndim && d < PARAM_MAX_DIMS; d++) elems *= get_u32(e + 104 + 4 * d);
        uint32_t dt = get_u32(e + 96);
        if (e[NAME_BYTES - 1] != 0 || (dt != CKPT_F32 && dt != CKPT_F16) || ndim > PARAM_MAX_DIMS ||
            nbytes != (dt == CKPT_F16 ? 2 : 4) * elems ||
            off > c->size - 8 || nbytes > c->size - 8 - off) {
            err_set("checkpoint '%s' is malformed: tensor entry %u ('%.40s') has a bad type, shape or offset",
                    path, t, (const char *)e);
            ckpt_free(c);
            return -1;
        }
    }
    if (kind && strcmp(c->kind, kind) != 0) {
        char found[CKPT_KIND_MAX];
        snprintf(found, sizeof found, "%s", c->kind);
        ckpt_free(c);
        return err_set("checkpoint '%s' holds a '%s' model, expected kind '%s'; pass a checkpoint of kind '%s'",
                       path, found, kind, kind);
    }
    hparams_init(&c->hp);
    int ntrain = 0;
    for (uint32_t i = 0; i < c->nkv; i++) {
        const uint8_t *e = b + KV_AT + i * KV_BYTES;
        char key[HP_KEY_MAX];
        memcpy(key, e, HP_KEY_MAX);
        key[HP_KEY_MAX - 1] = 0;
        uint32_t type = get_u32(e + 32);
        uint64_t v = get_u64(e + 40);
        if (type != 1 && type != 2) {
            ckpt_free(c);
            return err_set("checkpoint '%s' is malformed: entry '%s' has type %u (expected 1 or 2)", path, key, type);
        }
        if (strncmp(key, TRAIN_PREFIX, strlen(TRAIN_PREFIX)) == 0) {
            for (int f2 = 0; f2 < N_TRAIN_FIELDS; f2++)
                if (strcmp(key, TRAIN_FIELDS[f2].key) == 0) {
                    c->train_i[f2] = (int64_t)v;
                    c->train_f[f2] = bits_dbl(v);
                    ntrain++;
                }
        } else if (c->hp.n < HP_MAX) {
            HparamEntry *h = &c->hp.e[c->hp.n++];
            snprintf(h->key, sizeof h->key, "%s", key);
            h->is_float = type == 2;
            if (h->is_float) h->f = bits_dbl(v); else h->i = (int64_t)v;
        }
    }
    c->has_train = (c->flags & FLAG_TRAIN) != 0;
    if (c->has_train && ntrain != N_TRAIN_FIELDS) {
        ckpt_free(c);
        return err_set("checkpoint '%s' is malformed: training state has %d of its %d fields", path, ntrain, N_TRAIN_FIELDS);
    }
    return 0;
}

static int ckpt_check_hparams(const Ckpt *c, const Hparams *want) {
    char a[40], b[40];
    for (int i = 0; i < want->n; i++) {
        const HparamEntry *w = &want->e[i];
        const HparamEntry *f = hp_find(&c->hp, w->key);
        hp_str(a, sizeof a, w);
        if (!f)
            return err_set("checkpoint '%s' lacks hyperparameter '%s' (the model expects %s); "
                           "it was saved by a different version of the model", c->path, w->key, a);
        hp_str(b, sizeof b, f);
        int same = f->is_float == w->is_float &&
                   (w->is_float ? dbl_bits(f->f) == dbl_bits(w->f) : f->i == w->i);
        if (!same)
            return err_set("hyperparameter mismatch in checkpoint '%s': '%s' is %s in the file, the model expects %s; "
                           "build the model with the checkpoint's configuration (checkpoint_read_hparams) "
                           "or pass a matching checkpoint", c->path, w->key, b, a);
    }
    for (int i = 0; i < c->hp.n; i++)
        if (!hp_find(want, c->hp.e[i].key)) {
            hp_str(b, sizeof b, &c->hp.e[i]);
            return err_set("hyperparameter mismatch in checkpoint '%s': it has '%s' = %s, which the model does not know; "
                           "it was saved by a different version of the model", c->path, c->hp.e[i].key, b);
        }
    return 0;
}

static const uint8_t *ckpt_find(const Ckpt *c, const char *name) {
    for (uint32_t t = 0; t < c->ntensor; t++) {
        const uint8_t *e = c->buf + HEADER_BYTES + (uint64_t)t * ENTRY_BYTES;
        if (strcmp((const char *)e, name) == 0) return e;
    }
    return NULL;
}

// rnnoise find_array_check: the tensor must exist with the model's shape and byte size.
static int ckpt_check_tensor(const Ckpt *c, const char *prefix, const ParamSpec *s, const uint8_t **out) {
    char name[NAME_BYTES + 8], want[64], found[64];
    snprintf(name, sizeof name, "%s%s", prefix, s->name);
    shape_str(want, sizeof want, s->ndim, s->shape);
    const uint8_t *e = ckpt_find(c, name);
    if (!e)
        return err_set("checkpoint '%s' has no tensor '%s' (the model expects shape %s); "
                       "it was saved from a different model configuration", c->path, name, want);
    int ndim = (int)get_u32(e + 100), shape[PARAM_MAX_DIMS] = {0};
    for (int d = 0; d < ndim; d++) shape[d] = (int)get_u32(e + 104 + 4 * d);
    const int half = get_u32(e + 96) == CKPT_F16;
    int same = ndim == s->ndim && get_u64(e + 120) == (uint64_t)s->size * (half ? 2 : 4);
    for (int d = 0; same && d < ndim; d++) same = shape[d] == s->shape[d];
    if (!same)
        return err_set("tensor '%s' in checkpoint '%s' has shape %s (%llu bytes), the model expects %s (%ld bytes); "
                       "the checkpoint was saved with a different configuration", name, c->path,
                       shape_str(found, sizeof found, ndim, shape), (unsigned long long)get_u64(e + 120),
                       want, s->size * (half ? 2 : 4));
    if (half) {   // float16: infinity and NaN are exponent 31 (nothing finite was written that way)
        const uint8_t *src = c->buf + get_u64(e + 128);
        for (long j = 0; j < s->size; j++) {
            uint16_t h = (uint16_t)(src[2 * j] | src[2 * j + 1] << 8);
            if (((h >> 10) & 31) == 31)
                return err_set("tensor '%s' in checkpoint '%s' holds %s at index %ld: the run that saved it diverged; "
                               "use an earlier checkpoint", name, c->path, h & 0x3ff ? "NaN" : "infinite", j);
        }
        *out = e;
        return 0;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // The one finite check of numbers from a file (util.h): the checksum passed,
    // so a NaN or infinity was saved that way, by a run that diverged; loaded,
    // it would turn every output into NaN (silence).
    float first = 0;
    const uint8_t *src = c->buf + get_u64(e + 128);
    long bad = -1;
    for (long j = 0; j < s->size && bad < 0; j += 4096) {   // memcpy'd: the offset is only 4-byte aligned in principle
        float tmp[4096];
        long k = s->size - j < 4096 ? s->size - j : 4096;
        memcpy(tmp, src + 4 * j, (size_t)k * 4);
        long b = first_bad_value(tmp, (size_t)k, FLT_MAX);
        if (b >= 0) { bad = j + b; first = tmp[b]; }
    }
    if (bad >= 0)
        return err_set("tensor '%s' in checkpoint '%s' holds %s at index %ld: the run that saved it diverged; "
                       "use an earlier checkpoint", name, c->path, bad_value_kind(first), bad);
#endif
    *out = e;
    return 0;
}

static void ckpt_copy(const Ckpt *c, const uint8_t *e, float *dst, long n) {
    const uint8_t *src = c->buf + get_u64(e + 128);
    if (get_u32(e + 96) == CKPT_F16) {
        for (long j = 0; j < n; j++) dst[j] = ckpt_f16_to_f32((uint16_t)(src[2 * j] | src[2 * j + 1] << 8));
        return;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, (size_t)n * 4);
#else
    for (long j = 0; j < n; j++) { uint32_t u = get_u32(src + 4 * j); memcpy(&dst[j], &u, 4); }
#endif
}

// Checks every tensor of params under `prefix` and, when that all passes, copies.
// Refuses tensors in the file that the model lacks (weights only: names
// without a training-state prefix).
static int ckpt_load_tensors(const Ckpt *c, const ParamSet *params, const char *prefix, float *arena, int copy) {
    const uint8_t **ent = mallocCheck((size_t)(params->n ? params->n : 1) * sizeof *ent);
    for (int i = 0; i < params->n; i++)
        if (ckpt_check_tensor(c, prefix, &params->specs[i], &ent[i])) { free(ent); return -1; }
    if (!prefix[0])
        for (uint32_t t = 0; t < c->ntensor; t++) {
            const char *name = (const char *)(c->buf + HEADER_BYTES + (uint64_t)t * ENTRY_BYTES);
            int state = 0;
            for (int k = 0; k < 3; k++) state |= strncmp(name, STATE_PREFIX[k], strlen(STATE_PREFIX[k])) == 0;
            if (!state && params_find(params, name) < 0) {
                free(ent);
                return err_set("checkpoint '%s' has tensor '%s', which the model does not have; "
                               "it was saved from a different model configuration", c->path, name);
            }
        }
    if (copy)
        for (int i = 0; i < params->n; i++) ckpt_copy(c, ent[i], arena + params->specs[i].offset, params->specs[i].size);
    free(ent);
    return 0;
}

static int ckpt_prepare(Ckpt *c, const char *path, const char *kind, const Hparams *hp, const ParamSet *params) {
    if (!params->data) return err_set("cannot load checkpoint '%s': parameters are not allocated (call params_alloc)", path);
    if (ckpt_open(c, path, kind)) return -1;
    if (hp && ckpt_check_hparams(c, hp)) { ckpt_free(c); return -1; }
    return 0;
}

int checkpoint_load(const char *path, const char *kind, const Hparams *hp, ParamSet *params, TrainState *st) {
    Ckpt c;
    if (ckpt_prepare(&c, path, kind, hp, params)) return -1;
    int rc = 0, file_ema = 0;
    if (st) {
        if (st->total != params->total || !st->m || !st->v)
            rc = err_set("cannot resume from '%s': the training state was not made for this model "
                         "(%ld floats per arena, model %ld); call train_state_init first", path, st->total, params->total);
        else if (!c.has_train)
            rc = err_set("checkpoint '%s' holds weights only, no training state; resuming needs a checkpoint "
                         "saved with its training state", path);
        else if (params->n > 0) {     // EMA tensors are present iff the run had EMA on
            char name[NAME_BYTES + 8];
            snprintf(name, sizeof name, "%s%s", STATE_PREFIX[2], params->specs[0].name);
            file_ema = ckpt_find(&c, name) != NULL;
        }
    }
    // validate everything, then copy
    if (!rc) rc = ckpt_load_tensors(&c, params, "", params->data, 0);
    if (!rc && st) rc = ckpt_load_tensors(&c, params, STATE_PREFIX[0], st->m, 0);
    if (!rc && st) rc = ckpt_load_tensors(&c, params, STATE_PREFIX[1], st->v, 0);
    if (!rc && st && file_ema) rc = ckpt_load_tensors(&c, params, STATE_PREFIX[2], st->ema, 0);
    if (!rc) {
        ckpt_load_tensors(&c, params, "", params->data, 1);
        if (st) {
            ckpt_load_tensors(&c, params, STATE_PREFIX[0], st->m, 1);
            ckpt_load_tensors(&c, params, STATE_PREFIX[1], st->v, 1);
            if (file_ema && !st->ema) st->ema = optim_arena_alloc(params);
            if (!file_ema) { free(st->ema); st->ema = NULL; }
            if (file_ema) ckpt_load_tensors(&c, params, STATE_PREFIX[2], st->ema, 1);
            train_fields_set(st, c.train_i, c.train_f);
            if (!file_ema) st->cfg.ema_decay = 0;
        }
    }
    ckpt_free(&c);
    return rc;
}

int checkpoint_load_ema(const char *path, const char *kind, const Hparams *hp, ParamSet *params) {
    Ckpt c;
    if (ckpt_prepare(&c, path, kind, hp, params)) return -1;
    int rc = 0;
    if (params->n > 0) {
        char name[NAME_BYTES + 8];
        snprintf(name, sizeof name, "ema/%s", params->specs[0].name);
        if (!ckpt_find(&c, name))
            rc = err_set("checkpoint '%s' has no EMA weights (no tensor '%s'); it was saved without training state "
                         "or with EMA off — load its plain weights with checkpoint_load", path, name);
    }
    if (!rc) rc = ckpt_load_tensors(&c, params, STATE_PREFIX[2], params->data, 0);
    if (!rc) ckpt_load_tensors(&c, params, STATE_PREFIX[2], params->data, 1);
    ckpt_free(&c);
    return rc;
}

int checkpoint_read_hparams(const char *path, const char *kind, Hparams *out) {
    Ckpt c;
    if (ckpt_open(&c, path, kind)) return -1;
    *out = c.hp;
    ckpt_free(&c);
    return 0;
}

int checkpoint_info(const char *path, CkptInfo *out) {
    Ckpt c;
    if (ckpt_open(&c, path, NULL)) return -1;
    memset(out, 0, sizeof *out);
    snprintf(out->kind, sizeof out->kind, "%s", c.kind);
    out->hp = c.hp;
    out->n_tensors = (int)c.ntensor;
    out->has_train = c.has_train;
    out->step = out->total_steps = -1;
    for (int f = 0; f < N_TRAIN_FIELDS && c.has_train; f++) {
        if (strcmp(TRAIN_FIELDS[f].key, "train.step") == 0) out->step = c.train_i[f];
        if (strcmp(TRAIN_FIELDS[f].key, "train.total_steps") == 0) out->total_steps = c.train_i[f];
    }
    ckpt_free(&c);
    return 0;
}
