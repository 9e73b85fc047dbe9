// corpus — the build driver: reads the source list scripts/make-data.sh
// writes, turns every source file into labelled songs (MMA renders + their
// MIDI markers, module subsongs + their order lists, recordings + the
// analyzer's segmentation), computes log-mel features and per-section
// descriptors, and writes one shard per song; then collects the index.
// It owns no file formats (shards.c), no rendering (modules.c, make-data.sh)
// and no segmentation (analyze.c).
#include "data/corpus.h"
#include "audio/audio.h"
#include "data/analyze.h"
#include "util/util.h"

#include <dirent.h>
#include <sndfile.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void corpus_defaults(CorpusOpts *o) {
    memset(o, 0, sizeof *o);
    o->out = ".cache/corpus";
    o->cache = ".cache/";
    o->part = 0;
    o->nparts = 1;
    o->min_seconds = 20;
    o->max_seconds = 900;
    o->valid_percent = CORPUS_VALID_PERCENT;
}

typedef struct {
    int source;
    char package[48];
    char path[1024];
    char aux[1024];
} ListEntry;

static int parse_kind(const char *k) {
    if (strcmp(k, "mma") == 0) return SRC_MMA;
    if (strcmp(k, "module") == 0) return SRC_MODULE;
    if (strcmp(k, "recording") == 0) return SRC_RECORDING;
    return -1;
}

// Reads the list; blank lines and '#' comments are ignored.
static int read_list(const char *path, ListEntry **out, int *n) {
    FILE *f = fopen(path, "r");
    if (!f) return err_set("cannot open source list %s: %s", path, strerror(errno));
    ListEntry *e = NULL;
    int k = 0, lineno = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *fields[4] = {0};
        int nf = 0;
        for (char *p = line, *tab; nf < 4; p = tab + 1) {
            fields[nf++] = p;
            if (!(tab = strchr(p, '\t'))) break;
            *tab = 0;
        }
        int kind = nf >= 3 ? parse_kind(fields[0]) : -1;
        if (kind < 0 || strlen(fields[2]) >= sizeof e->path) {
            fclose(f); free(e);
            return err_set("%s:%d: expected 'mma|module|recording<TAB>package<TAB>path[<TAB>aux]'", path, lineno);
        }
        e = reallocCheck(e, (size_t)(k + 1) * sizeof *e);
        memset(&e[k], 0, sizeof *e);
        e[k].source = kind;
        snprintf(e[k].package, sizeof e[k].package, "%s", fields[1]);
        snprintf(e[k].path, sizeof e[k].path, "%s", fields[2]);
        if (nf >= 4) snprintf(e[k].aux, sizeof e[k].aux, "%s", fields[3]);
        k++;
    }
    fclose(f);
    *out = e;
    *n = k;
    return 0;
}

// Song id: the path with the cache prefix removed, plus "#k" for module subsong k.
static void song_id(char *id, size_t cap, const CorpusOpts *o, const char *path, int subsong) {
    size_t L = o->cache ? strlen(o->cache) : 0;
    const char *p = L && strncmp(path, o->cache, L) == 0 ? path + L : path;
    if (subsong >= 0) snprintf(id, cap, "%s#%d", p, subsong);
    else snprintf(id, cap, "%s", p);
}

static void shard_paths(char *shard, char *skip, char *name, const CorpusOpts *o, const char *id) {
    uint64_t h = corpus_fnv1a(id, strlen(id), CORPUS_FNV_INIT);
    snprintf(name, 64, "%016" PRIx64 ".rfs", h);
    snprintf(shard, 4096, "%s/shards/%s", o->out, name);
    snprintf(skip, 4096, "%s/shards/%016" PRIx64 ".skip", o->out, h);
}

// 1 if the shard exists, reads, and was built from this very source file.
static int shard_fresh(const char *shard, const char *id, uint64_t size, int64_t mtime) {
    struct stat st;
    if (stat(shard, &st) != 0) return 0;
    CorpusSong s;
    if (shard_read(shard, &s, NULL)) return 0;
    int ok = s.src_size == size && s.src_mtime == mtime && s.n_mels == N_MELS && strcmp(s.song, id) == 0;
    corpus_song_free(&s);
    return ok;
}

// A skip record: "size mtime reason". 1 if one matches this source file.
static int skip_known(const char *skip, uint64_t size, int64_t mtime, char *reason, size_t cap) {
    FILE *f = fopen(skip, "r");
    if (!f) return 0;
    unsigned long long sz = 0;
    long long mt = 0;
    int ok = fscanf(f, "%llu %lld ", &sz, &mt) == 2 && sz == size && mt == mtime;
    if (ok && !fgets(reason, (int)cap, f)) reason[0] = 0;
    reason[strcspn(reason, "\n")] = 0;
    fclose(f);
    return ok;
}

static void skip_record(const char *skip, uint64_t size, int64_t mtime, const char *reason) {
    AtomicFile af;
    if (atomic_open(&af, skip)) return;
    fprintf(af.f, "%llu %lld %s\n", (unsigned long long)size, (long long)mtime, reason);
    atomic_commit(&af);
}

static void fill_descriptors(SongSection *c, const float *x, long n) {
    if (section_descriptors(&c->desc, x, n, c->start, c->end))   // a span under 0.1 s: no meaningful descriptors
        c->desc = (SectionDescriptors){-70, -120, 0, 0};
}

// MMA: one section per MidiMark, up to the next; the last runs to the end of the
// audio (fluidsynth's release tail included).
static int mma_sections(SongSection **out, int *nout, const char *mid, int T) {
    MidiMarker *mk;
    int nm;
    double end;
    if (midi_read_markers(mid, &mk, &nm, &end)) return -1;
    if (nm == 0) { free(mk); return err_set("%s: no MidiMark markers", mid); }
    SongSection *s = callocCheck((size_t)nm, sizeof *s);
    int k = 0;
    for (int i = 0; i < nm; i++) {
        int a = i == 0 ? 0 : corpus_frame(mk[i].time);
        int b = i + 1 < nm ? corpus_frame(mk[i + 1].time) : T;
        if (b > T) b = T;
        if (b <= a) continue;
        snprintf(s[k].label, sizeof s[k].label, "%.*s", SHARD_LABEL_MAX, mk[i].text);
        s[k].start = corpus_seconds(a);
        s[k].end = corpus_seconds(b);
        s[k].confidence = 1;
        k++;
    }
    free(mk);
    if (k == 0) { free(s); return err_set("%s: markers lie beyond the audio", mid); }
    s[k - 1].end = corpus_seconds(T);
    song_number_occurrences(s, k);
    *out = s;
    *nout = k;
    return 0;
}

static int recording_sections(SongSection **out, int *nout, const float *x, long n, int T) {
    Analysis an;
    if (analyze_audio(&an, x, n, NULL)) return -1;
    const SongForm *form = &an.form;
    SongSection *s = callocCheck((size_t)form->n + 1, sizeof *s);
    int k = 0;
    for (int i = 0; i < form->n; i++) {   // the analyzer's sections, moved to frame boundaries
        const SongSection *a = &form->sections[i];
        int fa = i == 0 ? 0 : corpus_frame(a->start);
        int fb = i + 1 < form->n ? corpus_frame(form->sections[i + 1].start) : T;
        if (fb > T) fb = T;
        if (fb <= fa) continue;
        SongSection *c = &s[k++];
        *c = *a;
        c->start = corpus_seconds(fa);
        c->end = corpus_seconds(fb);
    }
    analysis_free(&an);
    if (k == 0) { free(s); return err_set("the analyzer found no sections"); }
    s[k - 1].end = corpus_seconds(T);
    *out = s;
    *nout = k;
    return 0;
}


// Builds one song's shard. Returns 0; -1 with err_set() when the song cannot
// be used (the caller records a permanent skip); SHARD_NOT_WRITTEN when its
// shard could not be written (a full disk, an I/O error): the song is fine and
// a later run must retry it, so no skip is recorded and the build stops.
#define SHARD_NOT_WRITTEN (-2)
static int build_song(const CorpusOpts *o, const ListEntry *e, int subsong, const char *id,
                      const char *shard, const char *name, uint64_t size, int64_t mtime) {
    float *x = NULL, *mel = NULL;
    long n = 0, T = 0;
    ModuleSpan *spans = NULL;
    int nspans = 0, rc = -1;
    CorpusSong song;
    memset(&song, 0, sizeof song);
    if (e->source == SRC_MODULE) {
        if (module_render(e->path, subsong, o->max_seconds, &x, &n, &spans, &nspans)) goto done;
    } else if (audio_read(e->path, SAMPLE_RATE, &x, &n)) goto done;   // 44.1 kHz: audio_decimate2
    if (n > (long)(o->max_seconds * SAMPLE_RATE)) n = (long)(o->max_seconds * SAMPLE_RATE);
    if (n < (long)(o->min_seconds * SAMPLE_RATE)) {
        err_set("too short: %.1f s (the corpus keeps songs of %.0f s or more)", (double)n / SAMPLE_RATE, o->min_seconds);
        goto done;
    }
    if (logmel_from_audio(&mel, &T, x, n)) goto done;
    if (e->source == SRC_MMA) {
        if (mma_sections(&song.sections, &song.n_sections, e->aux, (int)T)) goto done;
    } else if (e->source == SRC_MODULE) {
        if (module_sections(&song.sections, &song.n_sections, spans, nspans, (int)T)) goto done;
    } else if (recording_sections(&song.sections, &song.n_sections, x, n, (int)T)) goto done;
    if (e->source != SRC_RECORDING)   // the analyzer already filled its own sections' descriptors
        for (int i = 0; i < song.n_sections; i++) fill_descriptors(&song.sections[i], x, n);
    snprintf(song.song, sizeof song.song, "%s", id);
    snprintf(song.package, sizeof song.package, "%s", e->package);
    snprintf(song.shard, sizeof song.shard, "%s", name);
    song.source = e->source;
    song.split = corpus_split_for(id, o->valid_percent);
    song.duration = (double)n / SAMPLE_RATE;
    song.n_frames = (int32_t)T;
    song.n_mels = N_MELS;
    song.src_size = size;
    song.src_mtime = mtime;
    rc = shard_write(shard, &song, mel) ? SHARD_NOT_WRITTEN : 0;
done:
    free(x);
    free(mel);
    free(spans);
    corpus_song_free(&song);
    return rc;
}

static int ensure_dir(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return err_set("cannot create %s: %s", path, strerror(errno));
    return 0;
}

int corpus_build(const CorpusOpts *o, int *built, int *fresh, int *skipped) {
    *built = *fresh = *skipped = 0;
    if (o->nparts < 1 || o->part < 0 || o->part >= o->nparts)
        return err_set("corpus: part %d of %d is out of range", o->part, o->nparts);
    ListEntry *list;
    int nl;
    if (read_list(o->list, &list, &nl)) return -1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/shards", o->out);
    if (ensure_dir(o->out) || ensure_dir(dir)) { free(list); return -1; }
    double t0 = now_seconds();
    for (int i = o->part; i < nl; i += o->nparts) {
        const ListEntry *e = &list[i];
        struct stat st;
        if (stat(e->path, &st) != 0) {
            fprintf(stderr, "refrain corpus: skipping %s: %s\n", e->path, strerror(errno));
            (*skipped)++;
            continue;
        }
        uint64_t size = (uint64_t)st.st_size;
        int64_t mtime = (int64_t)st.st_mtime;
        if (e->source == SRC_MMA && e->aux[0]) {   // the markers are part of the source
            struct stat sm;
            if (stat(e->aux, &sm) == 0 && (int64_t)sm.st_mtime > mtime) mtime = (int64_t)sm.st_mtime;
        }
        int nsub = 1;
        if (e->source == SRC_MODULE && module_count_subsongs(e->path, &nsub)) nsub = 1;
        for (int k = 0; k < nsub; k++) {
            char id[1100], shard[4096], skip[4096], name[64], reason[512];
            song_id(id, sizeof id, o, e->path, e->source == SRC_MODULE ? k : -1);
            shard_paths(shard, skip, name, o, id);
            if (shard_fresh(shard, id, size, mtime)) { (*fresh)++; continue; }
            if (skip_known(skip, size, mtime, reason, sizeof reason)) {
                fprintf(stderr, "refrain corpus: skipped before: %s: %s\n", id, reason);
                (*skipped)++;
                continue;
            }
            progress("corpus part %d/%d: [%d/%d] %s (%.0f s)", o->part + 1, o->nparts, i + 1, nl, id,
                     now_seconds() - t0);
            int brc = build_song(o, e, k, id, shard, name, size, mtime);
            if (brc == SHARD_NOT_WRITTEN) {   // every later song would fail the same way
                progress_done();
                free(list);
                return err_set("%s (building %s; nothing recorded: run again to continue)", err_msg(), id);
            }
            if (brc) {
                progress_done();
                fprintf(stderr, "refrain corpus: skipping %s: %s\n", id, err_msg());
                char line[1400];
                snprintf(line, sizeof line, "%s: %s", id, err_msg());
                skip_record(skip, size, mtime, line);
                (*skipped)++;
                continue;
            }
            (*built)++;
        }
    }
    progress_done();
    free(list);
    return 0;
}

static int cmp_song(const void *a, const void *b) {
    return strcmp(((const CorpusSong *)a)->song, ((const CorpusSong *)b)->song);
}

int corpus_index(const CorpusOpts *o, CorpusIndex *ix) {
    memset(ix, 0, sizeof *ix);
    ListEntry *list;
    int nl;
    if (read_list(o->list, &list, &nl)) return -1;
    // Ids of listed files (subsong suffix excluded), so shards of sources no
    // longer listed stay out of the index.
    char (*ids)[1100] = callocCheck((size_t)nl + 1, sizeof *ids);
    for (int i = 0; i < nl; i++) song_id(ids[i], sizeof ids[i], o, list[i].path, -1);
    free(list);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/shards", o->out);
    DIR *d = opendir(dir);
    if (!d) { free(ids); return err_set("cannot open %s: %s (build the shards first)", dir, strerror(errno)); }
    struct dirent *de;
    int cap = 0;
    while ((de = readdir(d))) {
        size_t L = strlen(de->d_name);
        if (L < 5 || strcmp(de->d_name + L - 4, ".rfs") != 0 || strstr(de->d_name, ".tmp.")) continue;
        char path[4096 + 256];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        CorpusSong s;
        if (shard_read(path, &s, NULL)) {
            fprintf(stderr, "refrain corpus: leaving out %s\n", err_msg());
            continue;
        }
        size_t idl = strcspn(s.song, "#");
        int listed = 0;
        for (int i = 0; i < nl && !listed; i++)
            listed = strlen(ids[i]) == idl && strncmp(ids[i], s.song, idl) == 0;
        if (!listed) { corpus_song_free(&s); continue; }
        snprintf(s.shard, sizeof s.shard, "%s", de->d_name);
        if (ix->n == cap) {
            cap = cap ? cap * 2 : 256;
            ix->songs = reallocCheck(ix->songs, (size_t)cap * sizeof *ix->songs);
        }
        ix->songs[ix->n++] = s;
    }
    closedir(d);
    free(ids);
    if (ix->n > 1) qsort(ix->songs, ix->n, sizeof *ix->songs, cmp_song);   // songs is NULL when empty (UBSan)
    char path[4096 + 32];
    snprintf(path, sizeof path, "%s/index.rfi", o->out);
    if (index_write(path, ix)) return -1;
    snprintf(path, sizeof path, "%s/index.tsv", o->out);
    return index_write_tsv(path, ix);
}
