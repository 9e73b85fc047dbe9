// latents.c — the latent corpus the denoiser trains on: every song of the
// corpus encoded once by the shipped autoencoder into unit-scale latents,
// with its sections moved to latent frames (start / 4, rounded), and kept in
// a cache file that is rebuilt when the autoencoder file or the corpus
// changes. Encoding 15 hours takes a few minutes; reading the cache seconds.
//
// Cache file (host byte order, little-endian on every machine refrain runs on):
//   "RFNLATC1" | u32 version | u32 z | u64 ae_hash | u64 corpus_hash | u32 songs | u32 0
//   per song: char song[256] | i32 source, split, T, n_sections
//             | n_sections x (i32 start, end, label_id, occurrence, f32 loudness, brightness, onsets)
//             | f32 latents (T, z)
//   u64 FNV-1a-64 of every byte before it
// It owns no encoder (autoencoder/) and no shard format (data/).
#include "diffusion/diffusion.h"
#include "autoencoder/autoencoder.h"
#include "data/corpus.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LATC_MAGIC "RFNLATC1"
#define LATC_VERSION 1u

int file_hash(const char *path, uint64_t *h) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open '%s': %s", path, strerror(errno));
    uint64_t x = CORPUS_FNV_INIT;
    unsigned char buf[1 << 16];
    size_t n;
    errno = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) x = corpus_fnv1a(buf, n, x);
    int bad = ferror(f), e = errno;
    fclose(f);
    if (bad) return err_set("cannot read '%s': %s", path, e ? strerror(e) : "read error");
    *h = x;
    return 0;
}

// What the latent corpus depends on in the corpus: every song's id, length and
// source file, and its sections.
static uint64_t corpus_hash(const SongSet *set) {
    uint64_t h = CORPUS_FNV_INIT;
    for (int i = 0; i < set->n; i++) {
        const CorpusSong *s = &set->songs[i].meta;
        h = corpus_fnv1a(s->song, strlen(s->song), h);
        int32_t v[3] = {s->n_frames, s->split, s->n_sections};
        h = corpus_fnv1a(v, sizeof v, h);
        h = corpus_fnv1a(&s->src_size, sizeof s->src_size, h);
        h = corpus_fnv1a(&s->src_mtime, sizeof s->src_mtime, h);
        for (int k = 0; k < s->n_sections; k++) {
            const SongSection *c = &s->sections[k];
            int32_t start = corpus_frame(c->start);
            h = corpus_fnv1a(&start, sizeof start, h);
            h = corpus_fnv1a(c->label, strlen(c->label), h);
        }
    }
    return h;
}

void latent_corpus_free(LatentCorpus *lc) {
    for (int i = 0; i < lc->n; i++) { free(lc->songs[i].sec); free(lc->songs[i].lat); }
    free(lc->songs);
    memset(lc, 0, sizeof *lc);
}

// Sections at the mel rate -> latent frames; a section that rounds to nothing
// is dropped (its neighbour takes its frames).
static void latent_sections(LatentSong *out, const CorpusSong *s) {
    out->sec = callocCheck(s->n_sections ? s->n_sections : 1, sizeof *out->sec);
    int n = 0;
    for (int k = 0; k < s->n_sections; k++) {
        const SongSection *c = &s->sections[k];
        int32_t a = (int32_t)lround(corpus_frame(c->start) / (double)AE_DOWN);
        int32_t e = k + 1 < s->n_sections ? (int32_t)lround(corpus_frame(s->sections[k + 1].start) / (double)AE_DOWN)
                                          : out->T;
        if (k == 0) a = 0;
        if (e > out->T) e = out->T;
        if (e <= a) continue;
        LatentSection *x = &out->sec[n++];
        x->start = a;
        x->end = e;
        x->label_id = cond_label_id(c->label);
        if (x->label_id < 0) x->label_id = 0;
        x->targets.loudness_lufs = c->desc.loudness_lufs;
        x->targets.brightness_hz = c->desc.brightness_hz;
        x->targets.onset_density = c->desc.onset_density;
    }
    if (n) out->sec[n - 1].end = out->T;
    for (int k = 0; k + 1 < n; k++) out->sec[k].end = out->sec[k + 1].start;
    // occurrences after the merge
    for (int k = 0; k < n; k++) {
        int occ = 1;
        for (int j = 0; j < k; j++) occ += out->sec[j].label_id == out->sec[k].label_id;
        out->sec[k].occurrence = occ;
    }
    out->n_sections = n;
}

static int encode_all(LatentCorpus *lc, const SongSet *set, const char *corpus_dir, const char *ae_path,
                      int progress_on) {
    Ae ae;
    if (ae_load(&ae, ae_path, NULL)) return -1;
    lc->z = ae.cfg.z;
    lc->songs = callocCheck(set->n ? set->n : 1, sizeof *lc->songs);
    double t0 = now_seconds();
    for (int i = 0; i < set->n; i++) {
        const CorpusSong *s = &set->songs[i].meta;
        char path[4400];
        snprintf(path, sizeof path, "%s/shards/%s", corpus_dir, s->shard);
        CorpusSong meta;
        float *mel = NULL;
        memset(&meta, 0, sizeof meta);
        if (shard_read(path, &meta, &mel)) { ae_free(&ae); return -1; }
        LatentSong *o = &lc->songs[lc->n];
        snprintf(o->song, sizeof o->song, "%s", s->song);
        o->source = s->source;
        o->split = s->split;
        o->T = (int32_t)ae_latent_frames(meta.n_frames);
        o->lat = mallocCheck(sizeof(float) * (size_t)o->T * lc->z);
        int rc = ae_encode(&ae, mel, meta.n_frames, o->lat, 1);
        free(mel);
        corpus_song_free(&meta);
        if (rc) { free(o->lat); ae_free(&ae); return -1; }
        latent_sections(o, s);
        lc->hours += o->T / COND_FRAME_RATE / 3600.0;
        lc->n++;
        if (progress_on)
            progress("latents: encoded %d/%d songs (%.1f h) in %.0f s", lc->n, set->n, lc->hours, now_seconds() - t0);
    }
    if (progress_on) progress_done();
    ae_free(&ae);
    return 0;
}

#define W(ptr, size) do { if (fwrite((ptr), 1, (size), af.f) != (size)) goto io; \
                          h = corpus_fnv1a((ptr), (size), h); } while (0)
static int cache_write(const LatentCorpus *lc, const char *path) {
    AtomicFile af;
    if (atomic_open(&af, path)) return -1;
    uint64_t h = CORPUS_FNV_INIT;
    uint32_t hd[2] = {LATC_VERSION, (uint32_t)lc->z}, tail[2] = {(uint32_t)lc->n, 0};
    W(LATC_MAGIC, 8); W(hd, sizeof hd); W(&lc->ae_hash, 8); W(&lc->corpus_hash, 8); W(tail, sizeof tail);
    for (int i = 0; i < lc->n; i++) {
        const LatentSong *s = &lc->songs[i];
        int32_t v[4] = {s->source, s->split, s->T, s->n_sections};
        W(s->song, sizeof s->song); W(v, sizeof v);
        for (int k = 0; k < s->n_sections; k++) {
            const LatentSection *x = &s->sec[k];
            int32_t iv[4] = {x->start, x->end, x->label_id, x->occurrence};
            float fv[3] = {x->targets.loudness_lufs, x->targets.brightness_hz, x->targets.onset_density};
            W(iv, sizeof iv); W(fv, sizeof fv);
        }
        W(s->lat, sizeof(float) * (size_t)s->T * lc->z);
    }
    if (fwrite(&h, 8, 1, af.f) != 1) goto io;
    return atomic_commit(&af);
io:
    atomic_abort(&af);
    return err_set("cannot write the latent cache '%s' (disk full?)", path);
}
#undef W

// Reads the cache when it was built from this autoencoder and corpus; *fresh = 0 otherwise.
static int cache_read(LatentCorpus *lc, const char *path, uint64_t ae_hash, uint64_t c_hash, int *fresh) {
    *fresh = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = size > 48 ? malloc((size_t)size) : NULL;
    int ok = buf && fread(buf, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok) { free(buf); return 0; }
    uint64_t want, h = corpus_fnv1a(buf, (size_t)size - 8, CORPUS_FNV_INIT);
    memcpy(&want, buf + size - 8, 8);
    uint32_t ver, z, n;
    uint64_t ah, ch;
    memcpy(&ver, buf + 8, 4); memcpy(&z, buf + 12, 4); memcpy(&ah, buf + 16, 8); memcpy(&ch, buf + 24, 8);
    memcpy(&n, buf + 32, 4);
    if (memcmp(buf, LATC_MAGIC, 8) || ver != LATC_VERSION || h != want || ah != ae_hash || ch != c_hash) {
        free(buf);
        return 0;   // stale or damaged: rebuilt
    }
    const unsigned char *p = buf + 40, *end = buf + size - 8;
    lc->z = (int)z;
    lc->songs = callocCheck(n ? n : 1, sizeof *lc->songs);
    for (uint32_t i = 0; i < n; i++) {
        LatentSong *s = &lc->songs[i];
        int32_t v[4];
        if (p + sizeof s->song + sizeof v > end) goto bad;
        memcpy(s->song, p, sizeof s->song); p += sizeof s->song;
        memcpy(v, p, sizeof v); p += sizeof v;
        s->source = v[0]; s->split = v[1]; s->T = v[2]; s->n_sections = v[3];
        lc->n = (int)i + 1;
        size_t need = (size_t)s->n_sections * 28 + sizeof(float) * (size_t)s->T * z;
        if (s->T < 0 || s->n_sections < 0 || (size_t)(end - p) < need) goto bad;
        s->sec = callocCheck(s->n_sections ? s->n_sections : 1, sizeof *s->sec);
        for (int k = 0; k < s->n_sections; k++) {
            int32_t iv[4];
            float fv[3];
            memcpy(iv, p, 16); memcpy(fv, p + 16, 12); p += 28;
            LatentSection *x = &s->sec[k];
            x->start = iv[0]; x->end = iv[1]; x->label_id = iv[2]; x->occurrence = iv[3];
            x->targets.loudness_lufs = fv[0]; x->targets.brightness_hz = fv[1]; x->targets.onset_density = fv[2];
        }
        s->lat = mallocCheck(sizeof(float) * (size_t)s->T * z + 1);
        memcpy(s->lat, p, sizeof(float) * (size_t)s->T * z);
        p += sizeof(float) * (size_t)s->T * z;
        lc->hours += s->T / COND_FRAME_RATE / 3600.0;
    }
    free(buf);
    lc->ae_hash = ae_hash;
    lc->corpus_hash = c_hash;
    *fresh = 1;
    return 0;
bad:
    free(buf);
    latent_corpus_free(lc);
    return 0;
}

int latent_corpus_load(LatentCorpus *lc, const char *corpus_dir, const char *ae_path, const char *cache_path,
                       int progress_on) {
    memset(lc, 0, sizeof *lc);
    SongSet set;
    if (songset_load(&set, corpus_dir, -1, 0, 0)) return -1;
    uint64_t ah;
    if (file_hash(ae_path, &ah)) { songset_free(&set); return -1; }
    uint64_t ch = corpus_hash(&set);
    int fresh;
    if (cache_read(lc, cache_path, ah, ch, &fresh)) { songset_free(&set); return -1; }
    if (fresh) { songset_free(&set); return 0; }
    if (progress_on) fprintf(stderr, "latents: encoding %d songs with %s into %s\n", set.n, ae_path, cache_path);
    int rc = encode_all(lc, &set, corpus_dir, ae_path, progress_on);
    songset_free(&set);
    if (rc) { latent_corpus_free(lc); return -1; }
    lc->ae_hash = ah;
    lc->corpus_hash = ch;
    if (cache_write(lc, cache_path)) { latent_corpus_free(lc); return -1; }
    return 0;
}
