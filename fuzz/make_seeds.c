// make_seeds.c — writes one small valid input per harness into DIR/NAME/
// (fuzz/fuzz_NAME.c), with the library's own writers, so the fuzzers start
// from files that pass the readers' first checks. Run once; its output is
// committed as tests/fuzz/NAME/seed-* (scripts/fuzz.sh uses those).
//   make_seeds DIR
#include "fuzz/fuzz.h"   // first: it defines _GNU_SOURCE

#include <math.h>
#include <sys/stat.h>

#include "audio/audio.h"
#include "autoencoder/autoencoder.h"
#include "data/corpus.h"
#include "nn/checkpoint.h"
#include "util/song.h"

static char root[1024];
static const char *at(const char *name, const char *file) {
    static char p[2048];
    snprintf(p, sizeof p, "%s/%s", root, name);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", root, name, file);
    return p;
}
static void text(const char *name, const char *file, const char *s) {
    FILE *f = fopen(at(name, file), "wb");
    if (!f) { perror(file); exit(1); }
    fputs(s, f);
    fclose(f);
}
static void check(int rc, const char *what) {
    if (rc) { fprintf(stderr, "make_seeds: %s: %s\n", what, err_msg()); exit(1); }
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_seeds DIR\n"); return 2; }
    snprintf(root, sizeof root, "%s", argv[1]);
    mkdir(root, 0755);
    // form strings: words, compact letters, bars, explicit seconds
    text("form", "seed-words", "intro verse prechorus chorus verse chorus bridge chorus outro");
    text("form", "seed-compact", "i4A4B8o4");
    text("form", "seed-lengths", "intro:8b verse:12.5 chorus:16b outro:3");
    // timeline: every field the writer knows
    SongSection sec[2] = {{0}, {0}};
    snprintf(sec[0].label, sizeof sec[0].label, "verse");
    snprintf(sec[1].label, sizeof sec[1].label, "chorus");
    sec[0].start = 0; sec[0].end = 1.5; sec[1].start = 1.5; sec[1].end = 3;
    for (int i = 0; i < 2; i++) {
        sec[i].occurrence = 1; sec[i].confidence = 0.5; sec[i].seed = 7 + i;
        sec[i].desc = (SectionDescriptors){-20, -18, 1500, 2};
    }
    SongForm form = {sec, 2, 120, 3};
    FILE *f = fopen(at("timeline", "seed-full.json"), "wb");
    check(timeline_write(f, &form), "timeline");
    fclose(f);
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
    check(checkpoint_save(at("checkpoint", "seed-weights.rfc"), "fuzz", &hp, &p, NULL), "checkpoint");
    params_free(&p);
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
    check(shard_write(at("shard", "seed-song.rfs"), &song, mel), "shard");
    CorpusIndex ix = {&song, 1};
    check(index_write(at("index", "seed-one.rfi"), &ix), "index");
    // latents: 2 channels, 16 mel frames -> 4 latent frames
    float lat[8] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f, 0.7f, -0.8f};
    check(latents_write(at("latents", "seed-small.bin"), lat, 4, 2, 16), "latents");
    // MIDI: format 1, one track, 96 ticks a quarter, a tempo and two markers
    const unsigned char mid[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 1, 0, 96,
                                 'M', 'T', 'r', 'k', 0, 0, 0, 33,
                                 0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,           // 500,000 us a quarter
                                 0x00, 0xFF, 0x06, 0x05, 'v', 'e', 'r', 's', 'e',
                                 0x83, 0x00, 0xFF, 0x06, 0x06, 'c', 'h', 'o', 'r', 'u', 's',   // 384 ticks later
                                 0x00, 0xFF, 0x2F, 0x00};
    f = fopen(at("midi", "seed-markers.mid"), "wb");
    fwrite(mid, 1, sizeof mid, f);
    fclose(f);
    // audio: 200 samples of a decaying tone as 16-bit WAV, float WAV, FLAC, OGG
    float x[2000];
    for (int i = 0; i < 2000; i++) x[i] = 0.5f * expf(-i / 500.0f) * sinf(0.1f * i);
    check(audio_write(at("audio", "seed-pcm16.wav"), x, 200, 22050, 0), "wav");
    check(audio_write(at("audio", "seed-float.wav"), x, 200, 44100, 1), "float wav");
    check(audio_write(at("audio", "seed-tone.flac"), x, 400, 8000, 0), "flac");
    check(audio_write(at("audio", "seed-tone.ogg"), x, 2000, 22050, 0), "ogg");
    printf("make_seeds: wrote seeds into %s\n", root);
    return 0;
}
