// make_seeds.c — writes one small valid input per harness into DIR/NAME/
// (fuzz/fuzz_NAME.c), with the library's own writers, so the fuzzers start
// from files that pass the readers' first checks. Made where they are used,
// not committed: scripts/fuzz.sh runs `make_seeds BUILD/seeds` before a
// campaign, and tests/test_fuzz_replay includes this file (with
// FUZZ_SEEDS_NO_MAIN) and replays fuzz_make_seeds()'s files from a scratch
// folder. tests/fuzz/NAME/ keeps the inputs that once crashed a reader.
//   make_seeds DIR
#include "fuzz/fuzz.h"   // first: it defines _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "data/corpus.h"
#include "nn/checkpoint.h"
#include "util/song.h"

static char seed_root[1024];
static const char *at(const char *name, const char *file) {
    static char p[2048];
    snprintf(p, sizeof p, "%s/%s", seed_root, name);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", seed_root, name, file);
    return p;
}
static int text(const char *name, const char *file, const void *bytes, size_t n) {
    FILE *f = fopen(at(name, file), "wb");
    if (!f) return err_set("cannot write %s: %s", at(name, file), strerror(errno));
    size_t w = fwrite(bytes, 1, n, f);
    return fclose(f) != 0 || w != n ? err_set("cannot write %s", at(name, file)) : 0;
}
#define TEXT(name, file, s) text(name, file, s, strlen(s))
#define SEED_CHECK(rc, what) do { if (rc) return err_set("make_seeds: %s: %s", what, err_msg()); } while (0)

// Writes the seeds into root/NAME/seed-*. 0, or -1 with err_set().
static int fuzz_make_seeds(const char *root) {
    snprintf(seed_root, sizeof seed_root, "%s", root);
    mkdir(seed_root, 0755);
    // form strings: words, compact letters, bars, explicit seconds
    SEED_CHECK(TEXT("form", "seed-words", "intro verse prechorus chorus verse chorus bridge chorus outro") ||
                   TEXT("form", "seed-compact", "i4A4B8o4") ||
                   TEXT("form", "seed-lengths", "intro:8b verse:12.5 chorus:16b outro:3"), "form");
    // timeline: every field the writer knows
    SongSection sec[2];
    memset(sec, 0, sizeof sec);
    snprintf(sec[0].label, sizeof sec[0].label, "verse");
    snprintf(sec[1].label, sizeof sec[1].label, "chorus");
    sec[0].start = 0; sec[0].end = 1.5; sec[1].start = 1.5; sec[1].end = 3;
    for (int i = 0; i < 2; i++) {
        sec[i].occurrence = 1; sec[i].confidence = 0.5; sec[i].seed = 7 + i;
        sec[i].desc = (SectionDescriptors){-20, -18, 1500, 2};
    }
    SongForm form = {sec, 2, 120, 3};
    FILE *f = fopen(at("timeline", "seed-full.json"), "wb");
    SEED_CHECK(!f, "timeline");
    int rc = timeline_write(f, &form);
    SEED_CHECK(fclose(f) != 0 || rc, "timeline");
    // checkpoint: the harness's layout, kind "fuzz"
    ParamSet p;
    params_init(&p);
    params_add(&p, "w", 1, 3, 4, 0, 0);
    params_add(&p, "b", 0, 4, 0, 0, 0);
    params_alloc(&p);
    for (long i = 0; i < p.total; i++) p.data[i] = 0.1f * (float)i;
    Hparams hp;
    hparams_init(&hp);
    hparams_set_int(&hp, "width", 4);
    hparams_set_float(&hp, "scale", 0.5);
    rc = checkpoint_save(at("checkpoint", "seed-weights.rfc"), "fuzz", &hp, &p, NULL);
    params_free(&p);
    SEED_CHECK(rc, "checkpoint");
    // shard and index: one song of 6 frames, two sections on frame boundaries
    CorpusSong song;
    memset(&song, 0, sizeof song);
    snprintf(song.song, sizeof song.song, "mma/wav/song_0001.wav");
    snprintf(song.package, sizeof song.package, "mma");
    snprintf(song.shard, sizeof song.shard, "0000000000000001.rfs");
    song.source = SRC_MMA;
    song.n_frames = 6;
    song.n_mels = N_MELS;
    song.duration = corpus_seconds(6);
    song.n_sections = 2;
    SongSection ss[2] = {sec[0], sec[1]};
    ss[0].start = 0; ss[0].end = corpus_seconds(2); ss[1].start = corpus_seconds(2); ss[1].end = corpus_seconds(6);
    song.sections = ss;
    float mel[6 * N_MELS];
    for (int i = 0; i < 6 * N_MELS; i++) mel[i] = -5 + 0.01f * i;
    SEED_CHECK(shard_write(at("shard", "seed-song.rfs"), &song, mel), "shard");
    CorpusIndex ix = {&song, 1};
    SEED_CHECK(index_write(at("index", "seed-one.rfi"), &ix), "index");
    // latents: 2 channels, 16 mel frames -> 4 latent frames
    float lat[8] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f, 0.7f, -0.8f};
    SEED_CHECK(latents_write(at("latents", "seed-small.bin"), lat, 4, 2, 16), "latents");
    // MIDI: format 1, one track, 96 ticks a quarter, a tempo and two markers
    const unsigned char mid[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 1, 0, 96,
                                 'M', 'T', 'r', 'k', 0, 0, 0, 33,
                                 0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,           // 500,000 us a quarter
                                 0x00, 0xFF, 0x06, 0x05, 'v', 'e', 'r', 's', 'e',
                                 0x83, 0x00, 0xFF, 0x06, 0x06, 'c', 'h', 'o', 'r', 'u', 's',   // 384 ticks later
                                 0x00, 0xFF, 0x2F, 0x00};
    SEED_CHECK(text("midi", "seed-markers.mid", mid, sizeof mid), "midi");
    // audio: 200 samples of a decaying tone as 16-bit WAV, float WAV, FLAC, OGG
    float x[2000];
    for (int i = 0; i < 2000; i++) x[i] = 0.5f * expf(-i / 500.0f) * sinf(0.1f * i);
    SEED_CHECK(audio_write(at("audio", "seed-pcm16.wav"), x, 200, 22050, 0), "wav");
    SEED_CHECK(audio_write(at("audio", "seed-float.wav"), x, 200, 44100, 1), "float wav");
    SEED_CHECK(audio_write(at("audio", "seed-tone.flac"), x, 400, 8000, 0), "flac");
    SEED_CHECK(audio_write(at("audio", "seed-tone.ogg"), x, 2000, 22050, 0), "ogg");
    return 0;
}

#ifndef FUZZ_SEEDS_NO_MAIN
int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_seeds DIR\n"); return 2; }
    if (fuzz_make_seeds(argv[1])) { fprintf(stderr, "%s\n", err_msg()); return 1; }
    printf("make_seeds: wrote seeds into %s\n", argv[1]);
    return 0;
}
#endif
