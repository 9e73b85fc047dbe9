// corpus — building refrain's training corpus (design.md, "The corpus"):
// songs with section labels from three sources, cut into log-mel feature
// shards with an index.
//
//   1. MMA songs (data/mmagen.c): a seeded generator writes .mma files (groove
//      from MMA's installed library, tempo, key, chords and a melody per
//      section type, a pop form, `MidiMark` at every section start);
//      scripts/make-data.sh renders them with mma + fluidsynth; the section
//      times come back from the MIDI file's marker events (a small SMF reader
//      here): exact labels.
//   2. Tracker modules (data/modules.c): rendered with libopenmpt; the order
//      list played gives repeat labels ('A' = first pattern seen, ...) and
//      exact start times.
//   3. Soundtrack recordings: sections from the analyzer (data/analyze.h),
//      with its confidence.
// Every section gets descriptors (loudness, brightness, onset density) from
// data/descriptors.c.
//
// Files (data/shards.c), little-endian, versioned, FNV-1a-64 checksummed:
//   <out>/shards/<id>.rfs  one song: metadata, sections, log-mel (T, M) float32
//   <out>/index.rfi        every song's metadata and its shard's name
//   <out>/index.tsv        the same, one line per section, for people
// Trainers hold a split in memory, sections and log-mel, with songset_load (data/songs.c).
// It owns no audio decoding or features (audio/), no segmentation (analyze.c).
// Functions return 0 / -1 with err_set() (util/util.h).
#ifndef REFRAIN_CORPUS_H
#define REFRAIN_CORPUS_H

#include <stdint.h>
#include <stdio.h>

#include "util/song.h"

// ---- songs, sections, split --------------------------------------------------------
typedef enum { SRC_MMA = 0, SRC_MODULE = 1, SRC_RECORDING = 2, SRC_COUNT } CorpusSource;
typedef enum { SPLIT_TRAIN = 0, SPLIT_VALID = 1 } CorpusSplit;

const char *corpus_source_name(int source);   // "mma", "module", "recording"
const char *corpus_split_name(int split);     // "train", "valid"

// A corpus song's sections are the song type (util/song.h) laid on log-mel
// frames: each start and end is a frame boundary, corpus_seconds(frame), so a
// section indexes the features exactly and corpus_frame gives its frame back.
// Labels: MMA "intro", "verse", "chorus", ...; modules and recordings "A", "B",
// ... (at most SHARD_LABEL_MAX bytes); confidence 1 for exact labels (MMA,
// modules), the analyzer's for recordings; descriptors measured for every one.
double corpus_seconds(int32_t frame);    // frame * HOP / SAMPLE_RATE
int32_t corpus_frame(double seconds);    // the nearest frame: floor(seconds * SAMPLE_RATE / HOP + 0.5)

typedef struct {
    char song[256];        // unique id: path under .cache/ ("pkg/hedgewars-data/.../Beach.ogg",
                           // "mma/wav/song_0007.wav"); "#k" appended for module subsong k
    char package[48];      // Debian package, or "mma"
    int32_t source;        // CorpusSource
    int32_t split;         // CorpusSplit
    double duration;       // seconds of audio
    int32_t n_frames;      // log-mel frames T
    int32_t n_mels;        // N_MELS
    uint64_t src_size;     // source file size and mtime when built (incremental rebuilds)
    int64_t src_mtime;
    int32_t n_sections;
    SongSection *sections;     // (n_sections), contiguous, on frames, covering frames [0, n_frames)
    char shard[64];        // shard file name under <out>/shards/ (set by the writer)
} CorpusSong;

void corpus_song_free(CorpusSong *s);   // frees sections

// Train/validation split by whole song: FNV-1a-64 of the song id with any
// "#subsong" suffix removed (so a module's subsongs stay together); VALID when
// hash % 100 < valid_percent. Deterministic across machines.
int corpus_split_for(const char *song, int valid_percent);
uint64_t corpus_fnv1a(const void *p, size_t n, uint64_t h);   // h = CORPUS_FNV_INIT to start
#define CORPUS_FNV_INIT 0xcbf29ce484222325ull
#define CORPUS_VALID_PERCENT 10

// ---- shards and index (data/shards.c) ------------------------------------------------
#define SHARD_MAGIC "RFNSHRD1"     // 8 bytes
#define INDEX_MAGIC "RFNINDX1"
#define SHARD_VERSION 1
#define SHARD_LABEL_MAX 15         // bytes of a section label in a shard (its reader's limit)

// Writes song + features (T = song->n_frames, M = song->n_mels) atomically to
// path. The checksum covers every byte before it.
int shard_write(const char *path, const CorpusSong *song, const float *logmel);
// Reads a shard. logmel != NULL: reads the features ((T, M), malloc'd) and
// verifies the checksum; NULL: metadata only, checks the file size. Refuses a
// wrong magic, version, truncated or corrupt file with a message naming the
// file and what was expected.
int shard_read(const char *path, CorpusSong *song, float **logmel);

typedef struct {
    CorpusSong *songs;
    int n;
} CorpusIndex;
int index_write(const char *path, const CorpusIndex *ix);
int index_read(const char *path, CorpusIndex *ix);
void index_free(CorpusIndex *ix);
// One line per section: song, package, source, split, duration, frames, section, label,
// occurrence, start/end frame, confidence, descriptors. Written atomically.
int index_write_tsv(const char *path, const CorpusIndex *ix);
// Hours and sections per source and split, as a Markdown table.
void index_summary(FILE *f, const CorpusIndex *ix);

// ---- the corpus in memory, for training (data/songs.c) -----------------------------------
// One song of the corpus held in memory: its metadata with sections (on the mel
// frames, see corpus_frame) and its log-mel features.
typedef struct {
    CorpusSong meta;      // id, package, source, split, n_frames, sections (owned)
    float *mel;           // (T, M) log-mel, T = meta.n_frames, M = N_MELS (NULL when loaded without features)
} LoadedSong;
typedef struct {
    LoadedSong *songs;    // (n), sorted by song id
    int n;
    double hours;         // total audio
} SongSet;
// Loads every song of `split` (SPLIT_TRAIN / SPLIT_VALID; -1 = both) from a corpus folder: from
// index.rfi, or while the corpus is still being built, from the shards present. max_songs <= 0: all.
// with_mel = 0 reads metadata and sections only. Refuses a shard whose mel band count is not N_MELS.
// Returns 0, or -1 with err_set() (no corpus: says to run `make data`; no song in the split: says so).
int songset_load(SongSet *set, const char *corpus_dir, int split, int max_songs, int with_mel);
void songset_free(SongSet *set);

// ---- MMA songs (data/mmagen.c) --------------------------------------------------------
// A section of an MMA song as planned, before it has a time: its label and
// length in bars. The rendered song's sections (SongSection) come back from the
// MIDI file's markers (midi_read_markers).
typedef struct {
    char label[16];
    int bars;
} MmaSection;
#define MMA_MAX_SECTIONS 24   // sections in one song

typedef struct {
    char groove_file[64];  // stdlib file the grooves come from, e.g. "8beat"
    char groove[48];       // main groove (verses)
    int beats_per_bar;     // the groove file's `Time`
    int tempo;             // quarter notes per minute
    int transpose;         // semitones from C
    int n_sections;
    MmaSection sections[MMA_MAX_SECTIONS];
    double est_seconds;    // bars * beats * 60 / tempo
} MmaSongInfo;

// MMA's groove library: the DefGroove names of /usr/share/mma/lib/stdlib (or
// libdir), files in sorted order, in 3/4 or 4/4 with one `Time` line.
typedef struct MmaLibrary MmaLibrary;
int mma_library_load(MmaLibrary **lib, const char *libdir);   // libdir NULL: the stdlib
int mma_library_count(const MmaLibrary *lib);                 // groove files usable
void mma_library_free(MmaLibrary *lib);

// Writes one song's .mma text to f from a seed: same library + seed -> same bytes.
// form: NULL draws a pop form; else a space-separated list of section names
// ("intro verse chorus outro"). groove_file: NULL draws one; else that file's grooves.
int mma_generate(FILE *f, MmaSongInfo *info, const MmaLibrary *lib, uint64_t seed,
                 const char *form, const char *groove_file, int tempo);
// mma_generate's check of a given form, with no library: 0, or -1 with err_set()
// naming the first unknown section, an empty form, or more than MMA_MAX_SECTIONS.
int mma_form_check(const char *form);
// Writes songs song_0000.mma ... into dir until est. duration reaches hours
// (or count songs when count > 0), seed for song i derived from (seed, i).
// Existing identical files are left alone (incremental). Prints one line per song
// to list (may be NULL): "name<TAB>groove<TAB>tempo<TAB>est_seconds<TAB>form".
int mma_generate_set(const char *dir, const MmaLibrary *lib, uint64_t seed, double hours,
                     int count, FILE *list);

// ---- MIDI markers (data/mmagen.c) -------------------------------------------------------
typedef struct {
    double time;           // seconds, through the tempo map
    long tick;
    char text[32];
} MidiMarker;
// Reads a Standard MIDI File (format 0 or 1, ticks-per-quarter division):
// tempo map from every track, marker (FF 06) events; *markers malloc'd, sorted
// by time. *end_time: seconds of the last event.
int midi_read_markers(const char *path, MidiMarker **markers, int *n, double *end_time);

// ---- tracker modules (data/modules.c) ---------------------------------------------------
typedef struct {
    double start;          // seconds
    int order, pattern;    // order position and its pattern
} ModuleSpan;
int module_count_subsongs(const char *path, int *n);
// Renders subsong k of a module (any libopenmpt format) once, mono, at
// SAMPLE_RATE, capped at max_seconds; records the played order positions and
// their start times (polled every 32 samples, 1.5 ms: well inside one frame).
// *x, *spans malloc'd.
int module_render(const char *path, int subsong, double max_seconds, float **x, long *n,
                  ModuleSpan **spans, int *nspans);
// Spans -> sections: label 'A', 'B', ... per distinct pattern in order of first
// appearance; consecutive spans of one pattern stay separate sections.
// sections malloc'd; n_frames the song's log-mel frames.
int module_sections(SongSection **sections, int *nsec, const ModuleSpan *spans, int nspans,
                    int n_frames);


// ---- the corpus build (data/corpus.c) ---------------------------------------------------
// A source list has one line per file: "kind<TAB>package<TAB>path[<TAB>aux]", kind one
// of mma / module / recording; for mma, aux is the .mid holding the markers.
typedef struct {
    const char *list;      // source list (scripts/make-data.sh writes it)
    const char *out;       // output folder (shards/ and index files inside)
    const char *cache;     // prefix stripped from paths to make song ids (".cache/")
    int part, nparts;      // process lines with line_index % nparts == part
    double min_seconds;    // shorter songs are skipped (default 20)
    double max_seconds;    // longer are cut (default 900)
    int valid_percent;     // CORPUS_VALID_PERCENT
} CorpusOpts;
void corpus_defaults(CorpusOpts *o);
// Builds every missing or stale shard for this part. A file that cannot be
// read is reported on stderr and recorded (<id>.skip) so the next run skips it
// too; never fatal. Counts out: built, up to date, skipped.
int corpus_build(const CorpusOpts *o, int *built, int *fresh, int *skipped);
// Collects the shards of every song in the list into index.rfi and index.tsv.
int corpus_index(const CorpusOpts *o, CorpusIndex *ix);

#endif
