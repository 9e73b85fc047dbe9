// shards — the corpus's files: one feature shard per song and the index of
// all songs (formats below), plus the split and frame helpers. Sections are
// SongSections in memory (seconds on frame boundaries) and frames on disk.
// It owns no decoding, features or labelling (data/corpus.c does that).
//
// Both files are little-endian and end in an FNV-1a-64 checksum of every byte
// before it:
//   shard: "RFNSHRD1" u32 version u32 meta_bytes | meta | f32 logmel[T*M] | u64 checksum
//   index: "RFNINDX1" u32 version u32 n_songs    | meta, shard name per song | u64 checksum
//   meta:  str song, str package, i32 source, i32 split, f64 duration, i32 T, i32 M,
//          u64 src_size, i64 src_mtime, i32 n_sections, then per section
//          i32 start frame, i32 end frame, str label, i32 occurrence, f32 confidence,
//          f32 loudness_lufs, f32 rms_db, f32 brightness_hz, f32 onset_density
//   str:   u16 length + bytes (no terminator)
#include "data/corpus.h"
#include "audio/audio.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *corpus_source_name(int s) {
    static const char *n[SRC_COUNT] = {"mma", "module", "recording"};
    return s >= 0 && s < SRC_COUNT ? n[s] : "?";
}
const char *corpus_split_name(int s) { return s == SPLIT_VALID ? "valid" : "train"; }

void corpus_song_free(CorpusSong *s) {
    if (!s) return;
    free(s->sections);
    s->sections = NULL;
    s->n_sections = 0;
}

uint64_t corpus_fnv1a(const void *p, size_t n, uint64_t h) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int corpus_split_for(const char *song, int valid_percent) {
    const char *hash = strchr(song, '#');
    size_t n = hash ? (size_t)(hash - song) : strlen(song);
    return corpus_fnv1a(song, n, CORPUS_FNV_INIT) % 100 < (uint64_t)valid_percent ? SPLIT_VALID : SPLIT_TRAIN;
}

double corpus_seconds(int32_t frame) { return frame * ((double)HOP / SAMPLE_RATE); }
int32_t corpus_frame(double seconds) { return (int32_t)floor(seconds * SAMPLE_RATE / HOP + 0.5); }

// ---- byte buffers ------------------------------------------------------------------------
typedef struct {
    uint8_t *p;
    size_t n, cap;
} Buf;

static void put(Buf *b, const void *x, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->p = reallocCheck(b->p, b->cap);
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}
// Little-endian writers (the host is checked to be little-endian in put_u32's caller).
static void put_u16(Buf *b, uint16_t v) { uint8_t t[2] = {v, v >> 8}; put(b, t, 2); }
static void put_u32(Buf *b, uint32_t v) { uint8_t t[4] = {v, v >> 8, v >> 16, v >> 24}; put(b, t, 4); }
static void put_u64(Buf *b, uint64_t v) { put_u32(b, (uint32_t)v); put_u32(b, (uint32_t)(v >> 32)); }
static void put_f32(Buf *b, float f) { uint32_t v; memcpy(&v, &f, 4); put_u32(b, v); }
static void put_f64(Buf *b, double f) { uint64_t v; memcpy(&v, &f, 8); put_u64(b, v); }
static void put_str(Buf *b, const char *s) {
    size_t n = strlen(s);
    put_u16(b, (uint16_t)n);
    put(b, s, n);
}

typedef struct {
    const uint8_t *p;
    size_t n, at;
    int bad;
} Rd;
static const uint8_t *take(Rd *r, size_t n) {
    if (r->bad || r->at + n > r->n) { r->bad = 1; return NULL; }
    const uint8_t *q = r->p + r->at;
    r->at += n;
    return q;
}
static uint32_t get_u32(Rd *r) {
    const uint8_t *q = take(r, 4);
    return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}
static uint16_t get_u16(Rd *r) { const uint8_t *q = take(r, 2); return q ? (uint16_t)(q[0] | q[1] << 8) : 0; }
static uint64_t get_u64(Rd *r) { uint64_t lo = get_u32(r); return lo | (uint64_t)get_u32(r) << 32; }
static float get_f32(Rd *r) { uint32_t v = get_u32(r); float f; memcpy(&f, &v, 4); return f; }
static double get_f64(Rd *r) { uint64_t v = get_u64(r); double f; memcpy(&f, &v, 8); return f; }
static void get_str(Rd *r, char *s, size_t cap) {
    size_t n = get_u16(r);
    const uint8_t *q = take(r, n);
    if (!q || n >= cap) { r->bad = 1; s[0] = 0; return; }
    memcpy(s, q, n);
    s[n] = 0;
}

static int put_meta(Buf *b, const CorpusSong *s) {
    for (int i = 0; i < s->n_sections; i++)
        if (strlen(s->sections[i].label) > SHARD_LABEL_MAX)
            return err_set("%s: section %d's label '%s' is longer than a shard's %d bytes", s->song, i,
                           s->sections[i].label, SHARD_LABEL_MAX);
    put_str(b, s->song);
    put_str(b, s->package);
    put_u32(b, (uint32_t)s->source);
    put_u32(b, (uint32_t)s->split);
    put_f64(b, s->duration);
    put_u32(b, (uint32_t)s->n_frames);
    put_u32(b, (uint32_t)s->n_mels);
    put_u64(b, s->src_size);
    put_u64(b, (uint64_t)s->src_mtime);
    put_u32(b, (uint32_t)s->n_sections);
    for (int i = 0; i < s->n_sections; i++) {
        const SongSection *c = &s->sections[i];
        put_u32(b, (uint32_t)corpus_frame(c->start));
        put_u32(b, (uint32_t)corpus_frame(c->end));
        put_str(b, c->label);
        put_u32(b, (uint32_t)c->occurrence);
        put_f32(b, c->confidence);
        put_f32(b, c->desc.loudness_lufs);
        put_f32(b, c->desc.rms_db);
        put_f32(b, c->desc.brightness_hz);
        put_f32(b, c->desc.onset_density);
    }
    return 0;
}

// Reads meta; checks it is self-consistent. Returns 0 or -1 (message names `what`).
static int get_meta(Rd *r, CorpusSong *s, const char *what) {
    memset(s, 0, sizeof *s);
    get_str(r, s->song, sizeof s->song);
    get_str(r, s->package, sizeof s->package);
    s->source = (int32_t)get_u32(r);
    s->split = (int32_t)get_u32(r);
    s->duration = get_f64(r);
    s->n_frames = (int32_t)get_u32(r);
    s->n_mels = (int32_t)get_u32(r);
    s->src_size = get_u64(r);
    s->src_mtime = (int64_t)get_u64(r);
    s->n_sections = (int32_t)get_u32(r);
    if (r->bad) return err_set("%s: truncated song metadata", what);
    if (s->n_sections < 0 || s->n_sections > 100000 || s->n_frames < 0 || s->n_mels <= 0 ||
        s->n_mels > 1024 || s->source < 0 || s->source >= SRC_COUNT)
        return err_set("%s: corrupt song metadata (%d sections, %d frames, %d mels)", what,
                       s->n_sections, s->n_frames, s->n_mels);
    // Each section takes at least SECTION_MIN_BYTES (start, end, an empty label,
    // occurrence, five floats): a count the bytes left cannot hold is refused
    // before allocating it (fuzz/fuzz_shard.c: 100,000 claimed sections cost
    // a 12 MB calloc per read of a 100-byte file).
    enum { SECTION_MIN_BYTES = 4 + 4 + 2 + 4 + 5 * 4 };
    if ((size_t)s->n_sections > (r->n - r->at) / SECTION_MIN_BYTES)
        return err_set("%s: truncated section table (%d sections in %zu bytes)", what, s->n_sections, r->n - r->at);
    s->sections = callocCheck((size_t)s->n_sections + 1, sizeof *s->sections);
    for (int i = 0; i < s->n_sections; i++) {
        SongSection *c = &s->sections[i];
        c->start = corpus_seconds((int32_t)get_u32(r));
        c->end = corpus_seconds((int32_t)get_u32(r));
        get_str(r, c->label, SHARD_LABEL_MAX + 1);
        c->occurrence = (int32_t)get_u32(r);
        c->confidence = get_f32(r);
        c->desc.loudness_lufs = get_f32(r);
        c->desc.rms_db = get_f32(r);
        c->desc.brightness_hz = get_f32(r);
        c->desc.onset_density = get_f32(r);
    }
    if (r->bad) { corpus_song_free(s); return err_set("%s: truncated section table", what); }
    return 0;
}

static int host_is_le(void) {
    uint16_t x = 1;
    uint8_t b;
    memcpy(&b, &x, 1);
    return b == 1;
}

static int write_buf(const char *path, Buf *b) {
    uint64_t h = corpus_fnv1a(b->p, b->n, CORPUS_FNV_INIT);
    put_u64(b, h);
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    fwrite(b->p, 1, b->n, af.f);   // a short write sets the stream's error: atomic_commit names it
    return atomic_commit(&af);
}

int shard_write(const char *path, const CorpusSong *song, const float *logmel) {
    if (!host_is_le()) return err_set("shard_write: big-endian hosts are not supported");
    Buf meta = {0}, b = {0};
    if (put_meta(&meta, song)) { free(meta.p); return -1; }
    put(&b, SHARD_MAGIC, 8);
    put_u32(&b, SHARD_VERSION);
    put_u32(&b, (uint32_t)meta.n);
    put(&b, meta.p, meta.n);
    free(meta.p);
    put(&b, logmel, (size_t)song->n_frames * song->n_mels * sizeof(float));   // LE host: floats as is
    int rc = write_buf(path, &b);
    free(b.p);
    return rc;
}

// Reads the first `want` bytes of a file (or all when want == 0).
static int read_file(const char *path, uint8_t **data, size_t *n, size_t want, size_t *file_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0) { fclose(f); return err_set("cannot read %s", path); }
    *file_size = (size_t)size;
    size_t k = want && want < (size_t)size ? want : (size_t)size;
    *data = mallocCheck(k + 1);
    if (fread(*data, 1, k, f) != k) { fclose(f); free(*data); return err_set("read error in %s", path); }
    fclose(f);
    *n = k;
    return 0;
}

static int check_head(const char *path, const uint8_t *p, size_t n, const char *magic, const char *kind) {
    if (n < 16) return err_set("%s: truncated %s (%zu bytes, the header alone is 16); rebuild it with `make data`", path, kind, n);
    if (memcmp(p, magic, 8) != 0)
        return err_set("%s: not a refrain %s (magic '%.8s', expected '%s')", path, kind, (const char *)p, magic);
    uint32_t v = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
    if (v != SHARD_VERSION)
        return err_set("%s: %s version %u, this build reads version %d; rebuild it with `make data`", path, kind, v, SHARD_VERSION);
    return 0;
}

int shard_read(const char *path, CorpusSong *song, float **logmel) {
    memset(song, 0, sizeof *song);
    if (logmel) *logmel = NULL;
    if (!host_is_le()) return err_set("shard_read: big-endian hosts are not supported");
    uint8_t *d;
    size_t n, fsize;
    // Metadata only: the first 1 MiB holds any realistic section table.
    if (read_file(path, &d, &n, logmel ? 0 : (1u << 20), &fsize)) return -1;
    if (check_head(path, d, n, SHARD_MAGIC, "feature shard")) { free(d); return -1; }
    Rd r = {d, n, 8, 0};
    (void)get_u32(&r);
    uint32_t meta_bytes = get_u32(&r);
    if (16 + (size_t)meta_bytes > n) {
        free(d);
        return err_set("%s: truncated feature shard (%zu bytes, metadata alone needs %u); rebuild it with `make data`",
                       path, fsize, 16 + meta_bytes);
    }
    Rd m = {d + 16, meta_bytes, 0, 0};
    if (get_meta(&m, song, path)) { free(d); return -1; }
    size_t feat = (size_t)song->n_frames * song->n_mels * sizeof(float);
    size_t want = 16 + (size_t)meta_bytes + feat + 8;
    if (fsize != want) {
        free(d);
        corpus_song_free(song);
        return err_set("%s: %s feature shard: %zu bytes, its header says %zu (%d frames x %d mels); rebuild it with `make data`",
                       path, fsize < want ? "truncated" : "oversized", fsize, want, song->n_frames, song->n_mels);
    }
    if (logmel) {
        uint64_t h = corpus_fnv1a(d, want - 8, CORPUS_FNV_INIT);
        Rd c = {d, want, want - 8, 0};
        if (get_u64(&c) != h) {
            free(d);
            corpus_song_free(song);
            return err_set("%s: checksum mismatch: the feature shard is corrupt; rebuild it with `make data`", path);
        }
        *logmel = mallocCheck(feat ? feat : 1);
        memcpy(*logmel, d + 16 + meta_bytes, feat);
    }
    free(d);
    return 0;
}

// ---- index -------------------------------------------------------------------------------
int index_write(const char *path, const CorpusIndex *ix) {
    if (!host_is_le()) return err_set("index_write: big-endian hosts are not supported");
    Buf b = {0};
    put(&b, INDEX_MAGIC, 8);
    put_u32(&b, SHARD_VERSION);
    put_u32(&b, (uint32_t)ix->n);
    for (int i = 0; i < ix->n; i++) {
        if (put_meta(&b, &ix->songs[i])) { free(b.p); return -1; }
        put_str(&b, ix->songs[i].shard);
    }
    int rc = write_buf(path, &b);
    free(b.p);
    return rc;
}

void index_free(CorpusIndex *ix) {
    for (int i = 0; i < ix->n; i++) corpus_song_free(&ix->songs[i]);
    free(ix->songs);
    ix->songs = NULL;
    ix->n = 0;
}

int index_read(const char *path, CorpusIndex *ix) {
    memset(ix, 0, sizeof *ix);
    uint8_t *d;
    size_t n, fsize;
    if (read_file(path, &d, &n, 0, &fsize)) return -1;
    if (check_head(path, d, n, INDEX_MAGIC, "corpus index")) { free(d); return -1; }
    if (n < 24) { free(d); return err_set("%s: truncated corpus index (%zu bytes)", path, n); }
    Rd c = {d, n, n - 8, 0};
    if (get_u64(&c) != corpus_fnv1a(d, n - 8, CORPUS_FNV_INIT)) {
        free(d);
        return err_set("%s: checksum mismatch: the corpus index is truncated or corrupt; rebuild it with `make data`", path);
    }
    Rd r = {d, n - 8, 12, 0};
    uint32_t count = get_u32(&r);
    if (count > 10000000u) { free(d); return err_set("%s: corrupt index (%u songs)", path, count); }
    ix->songs = callocCheck(count ? count : 1, sizeof *ix->songs);
    for (uint32_t i = 0; i < count; i++) {
        if (get_meta(&r, &ix->songs[i], path)) { free(d); index_free(ix); return -1; }
        ix->n = (int)i + 1;
        get_str(&r, ix->songs[i].shard, sizeof ix->songs[i].shard);
        if (r.bad) { free(d); index_free(ix); return err_set("%s: truncated corpus index at song %u", path, i); }
    }
    free(d);
    return 0;
}

int index_write_tsv(const char *path, const CorpusIndex *ix) {
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    FILE *f = af.f;
    fprintf(f, "song\tpackage\tsource\tsplit\tduration_s\tframes\tshard\tsection\tlabel\toccurrence\t"
               "start_frame\tend_frame\tstart_s\tend_s\tconfidence\tloudness_lufs\trms_db\tbrightness_hz\tonset_density\n");
    for (int i = 0; i < ix->n; i++) {
        const CorpusSong *s = &ix->songs[i];
        for (int k = 0; k < s->n_sections; k++) {
            const SongSection *c = &s->sections[k];
            fprintf(f, "%s\t%s\t%s\t%s\t%.2f\t%d\t%s\t%d\t%s\t%d\t%d\t%d\t%.2f\t%.2f\t%.3f\t%.2f\t%.2f\t%.0f\t%.2f\n",
                    s->song, s->package, corpus_source_name(s->source), corpus_split_name(s->split),
                    s->duration, s->n_frames, s->shard, k, c->label, c->occurrence, corpus_frame(c->start),
                    corpus_frame(c->end), c->start, c->end, c->confidence, c->desc.loudness_lufs, c->desc.rms_db,
                    c->desc.brightness_hz, c->desc.onset_density);
        }
    }
    return atomic_commit(&af);
}

void index_summary(FILE *f, const CorpusIndex *ix) {
    double hours[SRC_COUNT][2] = {{0}};
    int songs[SRC_COUNT][2] = {{0}}, secs[SRC_COUNT][2] = {{0}};
    for (int i = 0; i < ix->n; i++) {
        const CorpusSong *s = &ix->songs[i];
        int a = s->source >= 0 && s->source < SRC_COUNT ? s->source : 0, b = s->split ? 1 : 0;
        hours[a][b] += s->duration / 3600.0;
        songs[a][b]++;
        secs[a][b] += s->n_sections;
    }
    fprintf(f, "| source | split | songs | hours | sections | mean section (s) |\n");
    fprintf(f, "| --- | --- | ---: | ---: | ---: | ---: |\n");
    double th[2] = {0}; int ts[2] = {0}, tc[2] = {0};
    for (int a = 0; a < SRC_COUNT; a++)
        for (int b = 0; b < 2; b++) {
            fprintf(f, "| %s | %s | %d | %.2f | %d | %.1f |\n", corpus_source_name(a), corpus_split_name(b),
                    songs[a][b], hours[a][b], secs[a][b], secs[a][b] ? hours[a][b] * 3600 / secs[a][b] : 0.0);
            th[b] += hours[a][b]; ts[b] += songs[a][b]; tc[b] += secs[a][b];
        }
    for (int b = 0; b < 2; b++)
        fprintf(f, "| all | %s | %d | %.2f | %d | %.1f |\n", corpus_split_name(b), ts[b], th[b], tc[b],
                tc[b] ? th[b] * 3600 / tc[b] : 0.0);
}
