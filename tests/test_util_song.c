// test_util_song.c — the song-structure type's timeline writer and what the
// reader makes of it (util/song.c): the exact bytes written (fields that are
// unknown left out, labels escaped), a write-read round trip, occurrences
// numbered when a file has none, the new keys refused when they are not
// numbers, and the helpers. The reader's refusals of bad spans and bad JSON
// are tests/test_audio_png.c's.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "util/song.h"
#include "util/util.h"

static char dir[] = "/tmp/refrain-test-song-XXXXXX";

static void path_in(char *out, const char *name) { snprintf(out, 4096, "%s/%s", dir, name); }

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

// timeline_write's output as a string (malloc'd).
static char *written(const SongForm *f) {
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    int rc = timeline_write(m, f);
    fclose(m);
    CHECK(rc == 0, "timeline_write returns 0");
    return buf;
}

static SongSection section(const char *label, double start, double end) {
    SongSection s;
    memset(&s, 0, sizeof s);
    snprintf(s.label, sizeof s.label, "%s", label);
    s.start = start;
    s.end = end;
    s.confidence = NAN;
    s.desc = SECTION_DESCRIPTORS_NONE;
    return s;
}

static void test_write(void) {
    SongSection s[3] = {section("A", 0, 32.3224), section("chorus", 32.3224, 40.66666666), section("a \"b\"\\\n", 41, 42)};
    s[0].occurrence = 1;
    s[0].confidence = 1;
    s[0].desc = (SectionDescriptors){-19.554f, -17.39f, 722.94f, 2.2891f};
    s[1].occurrence = 2;
    s[1].desc.brightness_hz = 2400;   // the others unknown
    SongForm f = {s, 3, 0, 132.0161};
    char *got = written(&f);
    const char *want =
        "{\"duration\": 132.016, \"sections\": [\n"
        "  {\"label\": \"A\", \"start\": 0.000, \"end\": 32.322, \"occurrence\": 1, \"confidence\": 1.000, "
        "\"loudness_lufs\": -19.55, \"rms_db\": -17.39, \"brightness_hz\": 722.9, \"onset_density\": 2.289},\n"
        "  {\"label\": \"chorus\", \"start\": 32.322, \"end\": 40.667, \"occurrence\": 2, \"brightness_hz\": 2400.0},\n"
        "  {\"label\": \"a \\\"b\\\"\\\\\\u000a\", \"start\": 41.000, \"end\": 42.000}\n"
        "]}\n";
    if (!CHECK(strcmp(got, want) == 0, "the written timeline: unknown fields left out, the label escaped"))
        printf("got:\n%swant:\n%s", got, want);
    free(got);
    f = (SongForm){s, 1, 90, 0};
    got = written(&f);
    CHECK(strncmp(got, "{\"bpm\": 90, \"sections\": [\n", 26) == 0, "bpm when given, no duration when 0: %.24s", got);
    free(got);
    f = (SongForm){NULL, 0, 0, 0};
    got = written(&f);
    CHECK(strcmp(got, "{\"sections\": [\n]}\n") == 0, "an empty form: '{\"sections\": [' and ']}' lines");
    free(got);
}

// A generated section's seed survives the file exactly (the largest seed too).
static void test_seed(void) {
    SongSection s[2] = {section("verse", 0, 10), section("chorus", 10, 20)};
    s[0].seed = SONG_SEED_MAX;
    s[1].seed = 123456789;
    SongForm f = {s, 2, 0, 0}, g;
    char *got = written(&f);
    CHECK(strstr(got, "\"seed\": 999999999") && strstr(got, "\"seed\": 123456789"), "seeds written in full");
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_util_song_seed_%d.json", (int)getpid());
    FILE *fp = fopen(path, "w");
    if (fp) { fputs(got, fp); fclose(fp); }
    int rc = timeline_read(path, &g);
    CHECK(rc == 0 && g.n == 2 && g.sections[0].seed == s[0].seed && g.sections[1].seed == s[1].seed,
          "seeds read back exactly (%s)", rc ? err_msg() : "ok");
    song_form_free(&g);
    remove(path);
    free(got);
}

static void test_round_trip(void) {
    SongSection s[3] = {section("intro", 0, 8), section("v\xC3\xA9rse \"1\"", 8, 21.3333333), section("intro", 21.3333333, 30)};
    s[0].occurrence = 1;
    s[1].occurrence = 1;
    s[2].occurrence = 2;
    s[1].confidence = 0.75f;
    s[1].desc = (SectionDescriptors){-12.5f, -10.25f, 1500.5f, 3.125f};
    s[2].desc.onset_density = 0;
    SongForm f = {s, 3, 120, 30};
    char p[4096];
    path_in(p, "rt.json");
    FILE *fp = fopen(p, "w");
    CHECK(timeline_write(fp, &f) == 0, "written to a file");
    fclose(fp);
    SongForm g;
    int rc = timeline_read(p, &g);
    if (!CHECK(rc == 0 && g.n == 3, "read back (%s)", rc ? err_msg() : "3 sections")) return;
    CHECK(g.bpm == 120 && g.duration == 30, "bpm %g and duration %g", g.bpm, g.duration);
    int same = 1;
    for (int i = 0; i < 3; i++) {
        const SongSection *a = &s[i], *b = &g.sections[i];
        same &= strcmp(a->label, b->label) == 0 && a->occurrence == b->occurrence &&
                fabs(a->start - b->start) <= 5e-4 && fabs(a->end - b->end) <= 5e-4;
    }
    CHECK(same, "labels (escapes and UTF-8 included), occurrences and spans to the millisecond");
    const SongSection *b = &g.sections[1];
    CHECK(b->confidence == 0.75f && b->desc.loudness_lufs == -12.5f && b->desc.rms_db == -10.25f &&
              b->desc.brightness_hz == 1500.5f && b->desc.onset_density == 3.125f,
          "confidence and descriptors come back");
    b = &g.sections[0];
    CHECK(isnan(b->confidence) && isnan(b->desc.loudness_lufs) && isnan(b->desc.rms_db) && isnan(b->desc.brightness_hz) &&
              isnan(b->desc.onset_density),
          "fields not written read as NAN");
    CHECK(g.sections[2].desc.onset_density == 0 && isnan(g.sections[2].desc.loudness_lufs), "a zero is written, NAN is not");
    song_form_free(&g);
    CHECK(g.sections == NULL && g.n == 0 && g.bpm == 0 && g.duration == 0, "song_form_free zeroes the form");
    song_form_free(&g);   // twice is safe
}

static void test_read(void) {
    char p[4096];
    path_in(p, "occ.json");
    write_text(p, "{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1},{\"label\":\"b\",\"start\":1,\"end\":2},"
                  "{\"label\":\"a\",\"start\":2,\"end\":3},{\"label\":\"a\",\"start\":3,\"end\":4,\"occurrence\":7}]}");
    SongForm f;
    int rc = timeline_read(p, &f);
    CHECK(rc == 0 && f.n == 4 && f.sections[0].occurrence == 1 && f.sections[1].occurrence == 1 &&
              f.sections[2].occurrence == 2 && f.sections[3].occurrence == 7,
          "occurrences not given are counted over the sections before; a given one is kept (%s)", rc ? err_msg() : "ok");
    CHECK(rc == 0 && f.bpm == 0 && f.duration == 0, "no bpm or duration: 0");
    song_form_free(&f);

    const char *bad[][2] = {
        {"{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1,\"occurrence\":0}]}", "sections[0].occurrence 0 is not a whole number from 1"},
        {"{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1,\"occurrence\":1.5}]}", "sections[0].occurrence 1.5"},
        {"{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1,\"seed\":0}]}", "sections[0].seed 0 is not a whole number from 1 to 999999999"},
        {"{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1,\"seed\":2.5}]}", "sections[0].seed 2.5"},
        {"{\"sections\":[{\"label\":\"a\",\"start\":0,\"end\":1,\"occurrence\":\"1\"}]}", "sections[0].occurrence is not a number"},
        {"{\"sections\":[{\"start\":0,\"end\":1,\"confidence\":null}]}", "sections[0].confidence is not a number"},
        {"{\"sections\":[{\"start\":0,\"end\":1},{\"start\":1,\"end\":2,\"brightness_hz\":\"x\"}]}", "sections[1].brightness_hz is not a number"},
        {"{\"bpm\":\"fast\",\"sections\":[]}", "bpm is not a number"},
        {"{\"duration\":-3,\"sections\":[]}", "a negative bpm or duration"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(p, bad[i][0]);
        f = (SongForm){(SongSection *)1, 7, 1, 1};
        rc = timeline_read(p, &f);
        CHECK(rc == -1 && strstr(err_msg(), bad[i][1]) && f.sections == NULL && f.n == 0, "refused (%s): %s", bad[i][1],
              err_msg());
    }
}

static void test_occurrences(void) {
    SongSection s[5] = {section("A", 0, 1), section("B", 1, 2), section("A", 2, 3), section("A1", 3, 4), section("A", 4, 5)};
    song_number_occurrences(s, 5);
    CHECK(s[0].occurrence == 1 && s[1].occurrence == 1 && s[2].occurrence == 2 && s[3].occurrence == 1 && s[4].occurrence == 3,
          "song_number_occurrences: A1 B1 A2 A1(1) A3");
}

int main(void) {
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_write();
    test_round_trip();
    test_read();
    test_occurrences();
    test_seed();
    char p[4096];
    const char *names[] = {"rt.json", "occ.json"};
    for (int i = 0; i < 2; i++) { path_in(p, names[i]); unlink(p); }
    rmdir(dir);
    return check_summary("test_util_song");
}
