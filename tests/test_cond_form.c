// test_cond_form.c — the form parser (conditioning/form.c): every notation
// gives the expected labels, ids, occurrences and spans; descriptor targets are
// parsed and NAN when absent; every bad form is refused with one line naming
// the word, its position and what is allowed; the label vocabulary round-trips.
#include <math.h>
#include <string.h>

#include "conditioning/conditioning.h"
#include "tests/check.h"
#include "util/util.h"

typedef struct {
    const char *label;
    int occurrence;
    double seconds;
} Want;

// Parses text with o and checks every section's label, id, occurrence, length
// and that the sections lie end to end from 0.
static void expect_form(const char *text, const FormOpts *o, const Want *want, int n) {
    SongForm f;
    if (!CHECK(form_parse(&f, text, o) == 0, "'%s' parses (%s)", text, err_msg())) return;
    CHECK(f.n == n, "'%s': %d sections, want %d", text, f.n, n);
    double t = 0;
    int bad = 0;
    for (int i = 0; i < n && i < f.n; i++) {
        const SongSection *s = &f.sections[i];
        if (strcmp(s->label, want[i].label) != 0 || cond_label_id(s->label) < 0 ||
            s->occurrence != want[i].occurrence || fabs(s->start - t) > 1e-9 ||
            fabs(s->end - s->start - want[i].seconds) > 1e-9) {
            CHECK(0, "'%s' section %d: got %s id %d (%d) %.6f-%.6f, want %s id %d (%d) %.6f s long from %.6f", text,
                  i + 1, s->label, cond_label_id(s->label), s->occurrence, s->start, s->end, want[i].label,
                  cond_label_id(want[i].label), want[i].occurrence, want[i].seconds, t);
            bad++;
        }
        t += want[i].seconds;
    }
    if (!bad) CHECK(1, "'%s': %d sections, labels, ids, occurrences and spans as expected", text, n);
    song_form_free(&f);
    CHECK(f.sections == NULL && f.n == 0, "song_form_free zeroes the form");
}

// form_parse must refuse text with a message holding every fragment.
static void expect_error(const char *text, const FormOpts *o, const char *frag1, const char *frag2, const char *frag3) {
    SongForm f = {(SongSection *)1, 7, 0, 0};   // garbage: a refusal must leave it zeroed
    err_clear();
    int rc = form_parse(&f, text, o);
    const char *m = err_msg();
    int has = strstr(m, frag1) && (!frag2 || strstr(m, frag2)) && (!frag3 || strstr(m, frag3));
    CHECK(rc == -1 && has && !strchr(m, '\n') && f.sections == NULL && f.n == 0, "'%s' refused: %s", text, m);
}

static void test_vocabulary(void) {
    CHECK(COND_N_LABELS == 34, "34 labels");
    int ok = 1;
    for (int id = 0; id < COND_N_LABELS; id++) ok &= cond_label_id(cond_label_name(id)) == id;
    CHECK(ok, "cond_label_id(cond_label_name(id)) == id for every id");
    const char *named[] = {"none", "intro", "verse", "prechorus", "chorus", "bridge", "solo", "outro"};
    ok = 1;
    for (int id = 0; id < 8; id++) ok &= strcmp(cond_label_name(id), named[id]) == 0;
    CHECK(ok, "ids 0..7 are none, intro, verse, prechorus, chorus, bridge, solo, outro");
    CHECK(strcmp(cond_label_name(8), "A") == 0 && strcmp(cond_label_name(33), "Z") == 0, "ids 8..33 are A..Z (8 '%s', 33 '%s')",
          cond_label_name(8), cond_label_name(33));
    CHECK(cond_label_id("Chorus") == 4 && cond_label_id("VERSE") == 2 && cond_label_id("PreChorus") == 3,
          "named labels are case-insensitive");
    CHECK(cond_label_id("a") == -1 && cond_label_id("z") == -1, "letters are uppercase only");
    CHECK(cond_label_id("A1") == 8 && cond_label_id("B2") == 9 && cond_label_id("Z12") == 33,
          "corpus labels past Z (A1, B2, Z12) map to their letter");
    CHECK(cond_label_id("chrous") == -1 && cond_label_id("") == -1 && cond_label_id("AB") == -1 &&
          cond_label_id("A1x") == -1 && cond_label_id(NULL) == -1 && cond_label_id("1") == -1,
          "unknown labels give -1");
    CHECK(strcmp(cond_label_name(-1), "none") == 0 && strcmp(cond_label_name(34), "none") == 0,
          "an id out of range is named none");
    float sec[COND_N_LABELS];
    cond_default_seconds(sec);
    CHECK(sec[1] == 8 && sec[7] == 8 && sec[2] == 16 && sec[3] == 16 && sec[4] == 16 && sec[5] == 16 && sec[6] == 16 &&
              sec[8] == 12 && sec[33] == 12 && sec[0] == 12,
          "default lengths: intro/outro 8 s, verse..solo 16 s, letters 12 s");
}

static void test_notations(void) {
    FormOpts o;
    form_opts_default(&o);
    CHECK(o.bpm == 120 && o.beats_per_bar == 4 && o.max_sections == 64 && o.min_seconds == 1 && o.max_seconds == 600 &&
              o.default_seconds[4] == 16,
          "form_opts_default: 120 bpm, 4/4, 64 sections, 1..600 s, chorus 16 s");

    // 1. named words, each its label's default length
    Want pop[] = {{"intro", 1, 8}, {"verse", 1, 16}, {"prechorus", 1, 16}, {"chorus", 1, 16}, {"verse", 2, 16},
                  {"prechorus", 2, 16}, {"chorus", 2, 16}, {"bridge", 1, 16}, {"chorus", 3, 16}, {"outro", 1, 8}};
    expect_form("intro verse prechorus chorus verse prechorus chorus bridge chorus outro", &o, pop, 10);
    expect_form("  intro\tverse \n prechorus   ", NULL, pop, 3);   // any whitespace; NULL = defaults
    Want letters[] = {{"A", 1, 12}, {"B", 1, 12}, {"A", 2, 12}, {"solo", 1, 16}, {"none", 1, 12}};
    expect_form("A B A Solo none", &o, letters, 5);
    Want corpus[] = {{"A", 1, 12}, {"A1", 1, 12}, {"A", 2, 12}};
    expect_form("A A1 A", &o, corpus, 3);
    Want single[] = {{"A4", 1, 12}};
    expect_form("A4", &o, single, 1);   // a known label, not a compact form

    // per-label defaults come from the options (a model's corpus medians)
    FormOpts med = o;
    med.default_seconds[2] = 21.5f;
    Want medw[] = {{"verse", 1, 21.5}, {"verse", 2, 21.5}};
    expect_form("verse verse", &med, medw, 2);

    // 2. lengths in seconds and bars, mixed with defaults
    Want len[] = {{"intro", 1, 8}, {"verse", 1, 16}, {"chorus", 1, 16}, {"verse", 2, 7.5}, {"chorus", 2, 12}, {"outro", 1, 8}};
    expect_form("intro:8 verse:16 chorus:8b verse:7.5 chorus:12s outro", &o, len, 6);
    FormOpts slow = o;
    slow.bpm = 90;   // 8 bars of 4 beats at 90 bpm = 21.333 s
    Want at90[] = {{"intro", 1, 4 * 4 * 60.0 / 90}, {"verse", 1, 8 * 4 * 60.0 / 90}, {"chorus", 1, 16}, {"outro", 1, 8}};
    expect_form("intro:4b verse:8b chorus:16 outro", &slow, at90, 4);
    FormOpts waltz = o;
    waltz.beats_per_bar = 3;
    Want w3[] = {{"verse", 1, 8 * 3 * 60.0 / 120}};
    expect_form("verse:8b", &waltz, w3, 1);

    // 3. the compact notation
    Want wang[] = {{"intro", 1, 8}, {"A", 1, 8}, {"A", 2, 8}, {"B", 1, 16}, {"bridge", 1, 8},
                   {"A", 3, 8}, {"B", 2, 16}, {"outro", 1, 8}};
    expect_form("i4A4A4B8b4A4B8o4", &o, wang, 8);
    expect_form("  i4A4A4B8b4A4B8o4 ", &o, wang, 8);
    Want wang90[] = {{"A", 1, 16 * 60.0 / 90}, {"B", 1, 12 * 4 * 60.0 / 90}};
    expect_form("A4B12", &slow, wang90, 2);
}

static void test_targets(void) {
    SongForm f;
    int rc = form_parse(&f, "intro chorus:8b[loud=-12,bright=2400,onsets=3.5] verse[ loud = -20 ] outro[onsets=0]", NULL);
    if (!CHECK(rc == 0 && f.n == 4, "a form with targets parses (%s)", err_msg())) return;
    const SectionDescriptors *t = &f.sections[1].desc;
    CHECK(t->loudness_lufs == -12.0f && t->brightness_hz == 2400.0f && t->onset_density == 3.5f,
          "chorus targets: loud %g bright %g onsets %g", t->loudness_lufs, t->brightness_hz, t->onset_density);
    CHECK(f.sections[1].end - f.sections[1].start == 16, "chorus:8b[...] keeps its 16 s length");
    t = &f.sections[2].desc;
    CHECK(t->loudness_lufs == -20.0f && isnan(t->brightness_hz) && isnan(t->onset_density),
          "verse[ loud = -20 ]: loud -20 (spaces allowed), the others NAN");
    t = &f.sections[0].desc;
    CHECK(isnan(t->loudness_lufs) && isnan(t->brightness_hz) && isnan(t->onset_density), "intro: no targets, all NAN");
    CHECK(isnan(f.sections[1].desc.rms_db) && isnan(f.sections[1].confidence), "no rms_db target, no confidence");
    CHECK(f.duration == f.sections[3].end && f.duration > 0, "the form's duration is its last end (%g s)", f.duration);
    CHECK(f.sections[3].desc.onset_density == 0.0f && isnan(f.sections[3].desc.loudness_lufs), "outro[onsets=0]");
    song_form_free(&f);
    rc = form_parse(&f, "chorus[loud=-12, onsets=3]", NULL);
    CHECK(rc == 0 && f.n == 1 && f.sections[0].desc.onset_density == 3.0f,
          "a space after a comma inside the brackets keeps one word (%d sections)", f.n);
    song_form_free(&f);
    rc = form_parse(&f, "i4A4o4", NULL);
    CHECK(rc == 0 && isnan(f.sections[1].desc.loudness_lufs), "compact sections have NAN targets");
    song_form_free(&f);
}

static void test_errors(void) {
    FormOpts o;
    form_opts_default(&o);
    // empty
    expect_error("", &o, "form: empty (give section words such as", NULL, NULL);
    expect_error("   \t\n ", &o, "form: empty", NULL, NULL);
    expect_error(NULL, &o, "form: empty", NULL, NULL);
    // unknown labels, with the nearest one
    expect_error("intro verse chrous outro", &o, "form: word 3 'chrous': unknown label (did you mean 'chorus'?)",
                 "labels are intro, verse, prechorus", NULL);
    expect_error("intro pre-chorus", &o, "word 2 'pre-chorus'", "did you mean 'prechorus'?", NULL);
    expect_error("vers:8b", &o, "word 1 'vers:8b'", "did you mean 'verse'?", NULL);
    expect_error("verse2", &o, "word 1 'verse2'", "did you mean 'verse'?", NULL);
    expect_error("intro a", &o, "word 2 'a'", "did you mean 'A'?", NULL);
    expect_error("outor", &o, "word 1 'outor'", "did you mean 'outro'?", NULL);
    // lengths
    expect_error("intro verse:0", &o, "form: word 2 'verse:0': length must be between 1 and 600 seconds", NULL, NULL);
    expect_error("verse:-4", &o, "word 1 'verse:-4'", "length must be between 1 and 600 seconds", NULL);
    expect_error("verse:0.5", &o, "word 1", "between 1 and 600 seconds", NULL);
    expect_error("verse:100000", &o, "word 1 'verse:100000'", "between 1 and 600 seconds", NULL);
    expect_error("verse:400b", &o, "word 1 'verse:400b'", "400 bars is 800.0 s at 120 bpm", "between 1 and 600 seconds");
    expect_error("verse:0b", &o, "word 1 'verse:0b'", "0 bars is 0.0 s", NULL);
    expect_error("intro verse:abc", &o, "word 2 'verse:abc'", "length 'abc' is not a number", "bars (':8b')");
    expect_error("verse:1e3", &o, "word 1", "length '1e3' is not a number", NULL);
    expect_error("verse:inf", &o, "word 1", "length 'inf' is not a number", NULL);
    expect_error("verse:nan", &o, "word 1", "length 'nan' is not a number", NULL);
    expect_error("verse:8.", &o, "word 1", "length '8.' is not a number", NULL);
    expect_error("verse:8bars", &o, "word 1", "length '8bars' is not a number", NULL);
    expect_error("verse: chorus", &o, "word 1 'verse:'", "missing length after ':'", NULL);
    expect_error("verse :8", &o, "word 2 ':8'", "missing label before ':'", NULL);
    // brackets and targets
    expect_error("chorus[loud=-12", &o, "word 1 'chorus[loud=-12'", "'[' without ']'", NULL);
    expect_error("chorus loud=-12]", &o, "word 2 'loud=-12]'", "']' without '['", NULL);
    expect_error("chorus:8b]", &o, "word 1", "']' without '['", NULL);
    expect_error("chorus[loud=-12]:8b", &o, "word 1", "text ':8b' after ']'", "length goes before the targets");
    expect_error("chorus[[loud=-12]]", &o, "word 1", "'[' inside '[...]'", NULL);
    expect_error("chorus[]", &o, "word 1 'chorus[]'", "empty target", "targets are loud");
    expect_error("chorus[loud=-12,]", &o, "word 1", "empty target", NULL);
    expect_error("intro chorus[lod=-12]", &o, "word 2 'chorus[lod=-12]'", "unknown target 'lod' (did you mean 'loud'?)",
                 "targets are loud (LUFS, -70..0), bright (Hz, 50..11025), onsets (per second, 0..30)");
    expect_error("chorus[loud]", &o, "word 1", "target 'loud' needs a value", NULL);
    expect_error("chorus[loud=-12,loud=-10]", &o, "word 1", "target 'loud' is given twice", NULL);
    expect_error("chorus[loud=5]", &o, "word 1", "target loud=5 is outside -70..0 LUFS", NULL);
    expect_error("chorus[bright=20000]", &o, "word 1", "target bright=20000 is outside 50..11025 Hz", NULL);
    expect_error("chorus[onsets=-1]", &o, "word 1", "target onsets=-1 is outside 0..30", NULL);
    expect_error("chorus[onsets=fast]", &o, "word 1", "target onsets value 'fast' is not a number", NULL);
    expect_error("[loud=-3]", &o, "word 1", "missing label before '['", NULL);
    // the compact notation
    expect_error("i4A4B", &o, "form: item 3 'B' of 'i4A4B'", "a letter needs a bar count after it ('B4')", NULL);
    expect_error("i4AA4", &o, "item 2 'A' of 'i4AA4'", "bar count", NULL);
    expect_error("i4x4o4", &o, "item 2 'x4' of 'i4x4o4'", "unknown letter 'x'", "i (intro), o (outro), b (bridge) and A..Z");
    expect_error("i4A0", &o, "item 2 'A0' of 'i4A0'", "0 bars is 0.0 s at 120 bpm", "between 1 and 600 seconds");
    expect_error("i4A400", &o, "item 2 'A400'", "400 bars is 800.0 s", NULL);
    // too many sections
    char big[80 * 6 + 1] = "";
    for (int i = 0; i < 80; i++) strcat(big, "verse ");
    expect_error(big, &o, "form: 80 sections; at most 64", NULL, NULL);
    char wide[65 * 2 + 1] = "";
    for (int i = 0; i < 65; i++) strcat(wide, "A1");
    expect_error(wide, &o, "form: 65 sections; at most 64", NULL, NULL);
    SongForm f;
    CHECK(form_parse(&f, big + 16 * 6, &o) == 0 && f.n == 64, "64 sections are allowed");
    song_form_free(&f);
    // bad options are refused too
    FormOpts fast = o;
    fast.bpm = 1000;
    expect_error("verse", &fast, "form: bpm 1000 is outside 20..400", NULL, NULL);
    // a long word is quoted shortened, and the message stays one line
    expect_error("verseverseverseverseverseverseverseverseverseverseverse", &o,
                 "word 1 'verseverseverseverseverseverseverseverse...'", "unknown label", NULL);
}

static void test_describe(void) {
    SongForm f;
    if (!CHECK(form_parse(&f, "intro verse:8b chorus:7.5", NULL) == 0, "describe's form parses")) return;
    char buf[128];
    form_describe(&f, buf, sizeof buf);
    CHECK(strcmp(buf, "intro 8.0s | verse 16.0s | chorus 7.5s") == 0, "form_describe: '%s'", buf);
    char small[12];
    form_describe(&f, small, sizeof small);
    CHECK(strcmp(small, "intro 8.0s ") == 0, "form_describe truncates to its buffer: '%s'", small);
    song_form_free(&f);
    song_form_free(&f);   // twice is safe
}

int main(void) {
    test_vocabulary();
    test_notations();
    test_targets();
    test_errors();
    test_describe();
    return check_summary("test_cond_form");
}
