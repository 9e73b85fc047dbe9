// songs.c — the corpus held in memory for training: every song of a split with
// its metadata, its sections (labels, occurrences, spans, descriptors) and its
// log-mel features, in song-id order, from index.rfi or, while `make data` is
// still running, from the shards present (corpus.h, SongSet).
// Every trainer loads its songs here (train-ae crops the mel; the denoiser also
// needs the section boundaries), so there is one loader and one song order.
// It owns no file formats (data/shards.c) and no sampling of crops (the trainers).
#include "data/corpus.h"
#include "audio/audio.h"
#include "util/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int song_cmp(const void *a, const void *b) {
    return strcmp(((const CorpusSong *)a)->song, ((const CorpusSong *)b)->song);
}

// Every song's metadata and shard name: from index.rfi, or (while the corpus
// is still being built) from the shards present. Sorted by song id either way
// (corpus_index writes the index in that order), so the order is stable.
static int corpus_list(const char *dir, CorpusIndex *ix) {
    char path[4096];
    snprintf(path, sizeof path, "%s/index.rfi", dir);
    struct stat sb;
    memset(ix, 0, sizeof *ix);
    if (stat(path, &sb) == 0) {
        if (index_read(path, ix)) return -1;
    } else {
        snprintf(path, sizeof path, "%s/shards", dir);
        DIR *d = opendir(path);
        if (!d) return err_set("no corpus in '%s': neither index.rfi nor shards/ (build it with 'make data')", dir);
        struct dirent *e;
        int cap = 0;
        while ((e = readdir(d))) {
            size_t L = strlen(e->d_name);
            if (L < 5 || strcmp(e->d_name + L - 4, ".rfs")) continue;
            char sp[4400];
            snprintf(sp, sizeof sp, "%s/shards/%s", dir, e->d_name);
            CorpusSong s;
            if (shard_read(sp, &s, NULL)) continue;   // one being written right now
            snprintf(s.shard, sizeof s.shard, "%s", e->d_name);
            if (ix->n == cap) { cap = cap ? 2 * cap : 256; ix->songs = reallocCheck(ix->songs, sizeof(CorpusSong) * cap); }
            ix->songs[ix->n++] = s;
        }
        closedir(d);
    }
    if (ix->n > 1) qsort(ix->songs, ix->n, sizeof *ix->songs, song_cmp);
    return 0;
}

// The listed song c as a LoadedSong: with_mel reads its shard (metadata and
// checksummed features); without, the listing's metadata is taken over.
static int load_song(LoadedSong *out, CorpusSong *c, const char *dir, int with_mel) {
    char sp[4400];
    snprintf(sp, sizeof sp, "%s/shards/%s", dir, c->shard);
    memset(out, 0, sizeof *out);
    if (with_mel) {
        if (shard_read(sp, &out->meta, &out->mel)) return -1;
        snprintf(out->meta.shard, sizeof out->meta.shard, "%s", c->shard);
    } else {
        out->meta = *c;
        c->sections = NULL;   // now owned by out
    }
    if (out->meta.n_mels != N_MELS) {
        int nm = out->meta.n_mels;
        corpus_song_free(&out->meta);
        free(out->mel);
        memset(out, 0, sizeof *out);
        return err_set("shard '%s' has %d mel bands, expected %d", sp, nm, N_MELS);
    }
    return 0;
}

int songset_load(SongSet *set, const char *dir, int split, int max_songs, int with_mel) {
    memset(set, 0, sizeof *set);
    CorpusIndex ix;
    if (corpus_list(dir, &ix)) return -1;
    set->songs = callocCheck(ix.n ? ix.n : 1, sizeof *set->songs);
    for (int i = 0; i < ix.n && (max_songs <= 0 || set->n < max_songs); i++) {
        CorpusSong *c = &ix.songs[i];
        if (split >= 0 && c->split != split) continue;
        if (load_song(&set->songs[set->n], c, dir, with_mel)) { index_free(&ix); songset_free(set); return -1; }
        set->hours += set->songs[set->n].meta.duration / 3600.0;
        set->n++;
    }
    index_free(&ix);
    if (!set->n) {
        songset_free(set);
        if (split < 0) return err_set("no songs in the corpus '%s'", dir);
        return err_set("no %s songs in the corpus '%s'", corpus_split_name(split), dir);
    }
    return 0;
}

void songset_free(SongSet *set) {
    for (int i = 0; i < set->n; i++) {
        corpus_song_free(&set->songs[i].meta);
        free(set->songs[i].mel);
    }
    free(set->songs);
    memset(set, 0, sizeof *set);
}
