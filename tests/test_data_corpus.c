// test_data_corpus — the corpus builder on small inputs this test makes itself:
// the MMA generator is deterministic; a short MMA song renders (mma +
// fluidsynth) and its MIDI markers match the bar arithmetic, also through the
// whole shard build; a tiny ProTracker module made here gives the expected
// repeat labels and start times from its order list; shards and the index
// round-trip; truncated, corrupt and foreign shards are refused with a clear
// message; the split keeps a song's subsongs together; a second build redoes
// nothing and an unreadable source is skipped, not fatal; the trainers' loader
// (songset_load) gives back every song of a split with its sections and
// log-mel, in song-id order, from the shards or from the index, with or
// without the features, and refuses what it should.
#include "audio/audio.h"
#include "data/corpus.h"
#include "tests/check.h"
#include "util/rng.h"
#include "util/util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[128];

static int same_song(const CorpusSong *a, const CorpusSong *b);

static char *gen_text(const MmaLibrary *lib, uint64_t seed, const char *form, const char *groove,
                      int tempo, MmaSongInfo *info, size_t *len) {
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    int rc = mma_generate(m, info, lib, seed, form, groove, tempo);
    fclose(m);
    if (rc) { printf("  mma_generate: %s\n", err_msg()); free(buf); return NULL; }
    return buf;
}

static int write_text(const char *path, const char *s, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fwrite(s, 1, n, f);
    return fclose(f);
}

static int sh(const char *cmd) {
    int rc = system(cmd);
    if (rc != 0) printf("  command failed (%d): %s\n", rc, cmd);
    return rc;
}

// The "{ ... }" note blocks of one section (up to the next "// ----"), concatenated.
static char *note_blocks(const char *sec) {
    const char *end = strstr(sec, "// ----");
    if (!end) end = sec + strlen(sec);
    char *out = calloc(1, (size_t)(end - sec) + 1);
    size_t k = 0;
    int in = 0;
    for (const char *p = sec; p < end; p++) {
        if (*p == '{') in = 1;
        if (in) out[k++] = *p;
        if (*p == '}') in = 0;
    }
    return out;
}

// ---- MMA -------------------------------------------------------------------------------------
static void test_mma(const MmaLibrary *lib) {
    MmaSongInfo a, b, c;
    size_t la, lb, lc;
    char *ta = gen_text(lib, 42, NULL, NULL, 0, &a, &la);
    char *tb = gen_text(lib, 42, NULL, NULL, 0, &b, &lb);
    char *tc = gen_text(lib, 43, NULL, NULL, 0, &c, &lc);
    CHECK(ta && tb && la == lb && memcmp(ta, tb, la) == 0, "same seed gives the same .mma file twice (%zu bytes)", la);
    CHECK(tc && (la != lc || memcmp(ta, tc, la) != 0), "another seed gives another song");
    CHECK(ta && strstr(ta, "MidiMark ") && strstr(ta, "Groove ") && strstr(ta, "Tempo "),
          "the song has grooves, a tempo and section markers");
    int marks = 0;
    for (const char *p = ta; p && (p = strstr(p, "MidiMark ")); p++) marks++;
    CHECK(marks == a.n_sections && a.n_sections >= 3, "one MidiMark per section (%d marks, %d sections)", marks, a.n_sections);
    // A chorus carries its own tune each time it returns: the note blocks of the
    // first two choruses are identical (bar numbers differ, so compare only {...}).
    const char *c1 = ta ? strstr(ta, "MidiMark chorus\n") : NULL;
    const char *c2 = c1 ? strstr(c1 + 1, "MidiMark chorus\n") : NULL;
    char *n1 = c1 ? note_blocks(c1) : NULL, *n2 = c2 ? note_blocks(c2) : NULL;
    CHECK(n1 && n2 && strlen(n1) > 10 && strcmp(n1, n2) == 0, "the second chorus repeats the first chorus's tune");
    free(n1); free(n2);
    free(ta); free(tb); free(tc);

    // Unknown section names and groove files are refused.
    size_t l;
    MmaSongInfo x;
    char *bad = gen_text(lib, 1, "verse hook", NULL, 0, &x, &l);
    CHECK(!bad && strstr(err_msg(), "hook"), "an unknown section is refused: %s", err_msg());
    free(bad);
    // An empty form and one past MMA_MAX_SECTIONS are refused, not written as an
    // empty song or cut at 22 sections; a form at the limit is written whole.
    bad = gen_text(lib, 1, " \t", NULL, 0, &x, &l);
    CHECK(!bad && strstr(err_msg(), "empty form"), "an empty form is refused: %s", err_msg());
    free(bad);
    char many[512] = "";
    for (int i = 0; i < MMA_MAX_SECTIONS + 1; i++) strcat(many, i % 2 ? "chorus " : "verse ");
    bad = gen_text(lib, 1, many, NULL, 0, &x, &l);
    char want[64];
    snprintf(want, sizeof want, "form of %d sections; a song has at most %d", MMA_MAX_SECTIONS + 1, MMA_MAX_SECTIONS);
    CHECK(!bad && strstr(err_msg(), want), "a form of %d sections is refused: %s", MMA_MAX_SECTIONS + 1, err_msg());
    free(bad);
    many[strlen(many) - strlen("verse ")] = 0;
    bad = gen_text(lib, 1, many, NULL, 0, &x, &l);
    marks = 0;
    for (const char *p = bad; p && (p = strstr(p, "MidiMark ")); p++) marks++;
    CHECK(bad && x.n_sections == MMA_MAX_SECTIONS && marks == MMA_MAX_SECTIONS, "a form of %d sections: %d written",
          MMA_MAX_SECTIONS, marks);
    free(bad);
    // Words far apart are all read (the form was copied into 512 bytes first).
    char spaced[1024];
    snprintf(spaced, sizeof spaced, "verse%700schorus", "");
    bad = gen_text(lib, 1, spaced, NULL, 0, &x, &l);
    CHECK(bad && x.n_sections == 2 && strcmp(x.sections[1].label, "chorus") == 0,
          "a form with 700 spaces between its words: %d sections", bad ? x.n_sections : 0);
    free(bad);
    bad = gen_text(lib, 1, NULL, "no-such-groove", 0, &x, &l);
    CHECK(!bad && strstr(err_msg(), "no-such-groove"), "an unknown groove file is refused: %s", err_msg());
    free(bad);

    // A 3/4 song at an odd tempo: markers through mma's MIDI vs bars * beats * 60 / tempo.
    char mma3[512], mid3[512], cmd[4096];
    snprintf(mma3, sizeof mma3, "%s/waltz.mma", g_dir);
    snprintf(mid3, sizeof mid3, "%s/waltz.mid", g_dir);
    char *t3 = gen_text(lib, 5, "verse chorus bridge chorus", "waltz", 97, &x, &l);
    CHECK(t3 && x.beats_per_bar == 3, "waltz is a 3/4 groove file (%d beats)", t3 ? x.beats_per_bar : 0);
    if (t3) {
        write_text(mma3, t3, l);
        snprintf(cmd, sizeof cmd, "mma -f '%s' '%s' >/dev/null 2>&1", mid3, mma3);
        int ok = sh(cmd) == 0;
        MidiMarker *mk = NULL;
        int nm = 0;
        double end = 0;
        ok = ok && midi_read_markers(mid3, &mk, &nm, &end) == 0;
        CHECK(ok && nm == x.n_sections, "3/4 song: %d markers read, %d sections written", nm, x.n_sections);
        double t = 0, worst = 0;
        for (int i = 0; ok && i < nm && i < x.n_sections; i++) {
            double d = fabs(mk[i].time - t);
            if (d > worst) worst = d;
            if (strcmp(mk[i].text, x.sections[i].label) != 0) ok = 0;
            t += x.sections[i].bars * 3 * 60.0 / 97;
        }
        CHECK(ok && worst < 1e-3, "3/4 at 97 bpm: marker times = bars*3*60/97 (max err %.2g s), labels match", worst);
        free(mk);
        // Every truncation of the MIDI file is read without crashing (run under
        // `make debug` for ASan): refused, or fewer markers than the whole file.
        FILE *f = fopen(mid3, "rb");
        static unsigned char buf[1 << 16];
        size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f) fclose(f);
        char cut[600];
        snprintf(cut, sizeof cut, "%s.cut", mid3);
        int nbad = 0, tries = 0;
        for (size_t L = 0; L < len; L += 1 + L / 8, tries++) {
            write_text(cut, (const char *)buf, L);
            MidiMarker *m2 = NULL;
            int k2 = 0;
            double e2;
            int r2 = midi_read_markers(cut, &m2, &k2, &e2);
            if (r2 == 0 && k2 > nm) nbad++;
            if (L < 14 && r2 == 0) nbad++;
            free(m2);
        }
        // RndSeed in the song: a second render gives the same MIDI bytes.
        char mid3b[600];
        snprintf(mid3b, sizeof mid3b, "%s.again.mid", mid3);
        snprintf(cmd, sizeof cmd, "mma -f '%s' '%s' >/dev/null 2>&1 && cmp -s '%s' '%s'", mid3b, mma3, mid3, mid3b);
        CHECK(system(cmd) == 0, "rendering the same .mma twice gives identical MIDI files");
        CHECK(len > 100 && nbad == 0, "%d truncations of a %zu-byte MIDI file: refused or fewer markers", tries, len);
    }
    free(t3);
}

// Renders a short 4/4 song with mma + fluidsynth and builds its shard.
static void test_mma_render_and_build(const MmaLibrary *lib) {
    char mmaf[512], mid[512], wav[512], cmd[4096];
    snprintf(mmaf, sizeof mmaf, "%s/song.mma", g_dir);
    snprintf(mid, sizeof mid, "%s/song.mid", g_dir);
    snprintf(wav, sizeof wav, "%s/song.wav", g_dir);
    MmaSongInfo info;
    size_t l;
    const int tempo = 150;
    char *t = gen_text(lib, 9, "intro verse chorus verse chorus", "8beat", tempo, &info, &l);
    if (!CHECK(t != NULL, "8beat song generated")) return;
    write_text(mmaf, t, l);
    free(t);
    snprintf(cmd, sizeof cmd,
             "mma -f '%s' '%s' >/dev/null 2>&1 && fluidsynth -ni -g 0.35 -F '%s' -r 22050 "
             "/usr/share/sounds/sf2/FluidR3_GM.sf2 '%s' >/dev/null 2>&1", mid, mmaf, wav, mid);
    if (!CHECK(sh(cmd) == 0, "mma + fluidsynth render the song")) return;
    MidiMarker *mk = NULL;
    int nm = 0;
    double end = 0;
    int ok = midi_read_markers(mid, &mk, &nm, &end) == 0;
    CHECK(ok && nm == info.n_sections, "%d markers for %d sections", nm, info.n_sections);
    double want[24], tt = 0, worst = 0;
    for (int i = 0; i < info.n_sections; i++) {
        want[i] = tt;
        tt += info.sections[i].bars * info.beats_per_bar * 60.0 / tempo;
    }
    for (int i = 0; ok && i < nm && i < info.n_sections; i++) {
        double d = fabs(mk[i].time - want[i]);
        if (d > worst) worst = d;
    }
    CHECK(ok && worst < 1e-3, "4/4 at %d bpm: marker times = bars*4*60/tempo (max err %.2g s)", tempo, worst);
    CHECK(ok && fabs(end - tt) < 0.5, "MIDI ends at the last bar: %.2f s vs %.2f s", end, tt);
    free(mk);

    // Whole build: list with the song, a corrupt file and a missing one.
    char list[512], bad[512], out[512];
    snprintf(list, sizeof list, "%s/list.tsv", g_dir);
    snprintf(bad, sizeof bad, "%s/corrupt.ogg", g_dir);
    snprintf(out, sizeof out, "%s/corpus", g_dir);
    FILE *f = fopen(bad, "wb");
    for (int i = 0; i < 5000; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    f = fopen(list, "w");
    fprintf(f, "# test list\nmma\tmma\t%s\t%s\nrecording\tbroken\t%s\nrecording\tbroken\t%s/missing.ogg\n",
            wav, mid, bad, g_dir);
    fclose(f);
    CorpusOpts o;
    corpus_defaults(&o);
    o.list = list;
    o.out = out;
    o.cache = g_dir;
    o.min_seconds = 5;
    int built, fresh, skipped;
    // A full disk (files limited to 4 kB, SIGXFSZ ignored: EFBIG) stops the build
    // and records no skip, so the next build retries the song (issue 17).
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &lim);
    int rc = corpus_build(&o, &built, &fresh, &skipped);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    CHECK(rc == -1 && built == 0 && skipped == 0 && strstr(err_msg(), "run again"),
          "a full disk stops the build, nothing recorded: %s", err_msg());
    rc = corpus_build(&o, &built, &fresh, &skipped);
    CHECK(rc == 0 && built == 1 && skipped == 2, "build: a bad and a missing file are skipped, not fatal (%d built, %d skipped)",
          built, skipped);
    rc = corpus_build(&o, &built, &fresh, &skipped);
    CHECK(rc == 0 && built == 0 && fresh == 1 && skipped == 2, "second build redoes nothing (%d built, %d fresh, %d skipped)",
          built, fresh, skipped);
    CorpusIndex ix;
    rc = corpus_index(&o, &ix);
    if (!CHECK(rc == 0 && ix.n == 1, "index holds the one song (%d)", rc == 0 ? ix.n : -1)) return;
    const CorpusSong *s = &ix.songs[0];
    CHECK(strcmp(s->song, "/song.wav") == 0 && s->source == SRC_MMA, "song id '%s' with the cache prefix removed", s->song);
    int frames_ok = s->n_sections == info.n_sections;
    for (int i = 0; frames_ok && i < s->n_sections; i++) {
        int wf = (int)floor(want[i] * SAMPLE_RATE / HOP + 0.5);
        if (abs(corpus_frame(s->sections[i].start) - wf) > 0 || strcmp(s->sections[i].label, info.sections[i].label) != 0)
            frames_ok = 0;
        if (i > 0 && s->sections[i].start != s->sections[i - 1].end) frames_ok = 0;
    }
    CHECK(frames_ok && corpus_frame(s->sections[s->n_sections - 1].end) == s->n_frames,
          "shard sections start at the bar-arithmetic frames, are contiguous and cover the song");
    CHECK(s->sections[1].occurrence == 1 && s->sections[3].occurrence == 2 && s->sections[4].occurrence == 2,
          "occurrences: verse 1, verse 2, chorus 2");
    const SectionDescriptors *d = &s->sections[1].desc;
    CHECK(d->loudness_lufs > -60 && d->brightness_hz > 100 && d->onset_density > 0,
          "verse descriptors filled (%.1f LUFS, %.0f Hz, %.2f onsets/s)", d->loudness_lufs, d->brightness_hz,
          d->onset_density);
    char shard[1024];
    snprintf(shard, sizeof shard, "%s/shards/%s", out, s->shard);
    CorpusSong full;
    float *mel = NULL;
    rc = shard_read(shard, &full, &mel);
    int finite = rc == 0;
    for (long i = 0; finite && i < (long)full.n_frames * full.n_mels; i++) finite = isfinite(mel[i]) && mel[i] >= logf(LOG_FLOOR) - 1e-3f;
    CHECK(rc == 0 && full.n_mels == N_MELS && finite, "shard features: %d x %d finite log-mel", full.n_frames, full.n_mels);
    // The trainers' loader gives back the song with its marker sections and its features.
    SongSet set;
    rc = songset_load(&set, out, -1, 0, 1);
    CHECK(rc == 0 && set.n == 1 && same_song(&set.songs[0].meta, s) && set.songs[0].meta.n_sections == info.n_sections &&
              set.songs[0].mel && mel && memcmp(set.songs[0].mel, mel, sizeof(float) * full.n_frames * N_MELS) == 0,
          "songset_load on the built corpus: the song, its %d sections (labels, frames) and its log-mel (%s)",
          info.n_sections, rc ? err_msg() : "ok");
    if (rc == 0) songset_free(&set);
    free(mel);
    corpus_song_free(&full);
    index_free(&ix);
}

// ---- a tiny ProTracker module: 2 patterns, order list 0 1 0 0 1 ----------------------------------
static void put16be(unsigned char *p, int v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }

static int write_tiny_mod(const char *path, const int *orders, int norders) {
    const int npat = 2, slen = 64;   // sample: 64 bytes of square wave, looped
    size_t size = 20 + 31 * 30 + 2 + 128 + 4 + (size_t)npat * 1024 + slen;
    unsigned char *m = calloc(1, size);
    memcpy(m, "refrain test", 12);
    unsigned char *smp = m + 20;   // sample 1 header
    memcpy(smp, "square", 6);
    put16be(smp + 22, slen / 2);
    smp[25] = 64;                  // volume
    put16be(smp + 26, 0);
    put16be(smp + 28, slen / 2);   // loop the whole sample
    unsigned char *ord = m + 20 + 31 * 30;
    ord[0] = (unsigned char)norders;
    ord[1] = 127;
    for (int i = 0; i < norders; i++) ord[2 + i] = (unsigned char)orders[i];
    memcpy(ord + 130, "M.K.", 4);
    unsigned char *pat = ord + 134;
    for (int p = 0; p < npat; p++) {
        unsigned char *row0 = pat + p * 1024;       // row 0, channel 0
        int period = p == 0 ? 428 : 285;            // C-2 or G-2
        row0[0] = (unsigned char)((period >> 8) & 0x0f);
        row0[1] = (unsigned char)(period & 0xff);
        row0[2] = 0x1f;                             // sample 1, effect F
        row0[3] = 0x01;                             // speed 1: 64 rows * 20 ms = 1.28 s
    }
    signed char *data = (signed char *)(pat + npat * 1024);
    for (int i = 0; i < slen; i++) data[i] = i < slen / 2 ? 100 : -100;
    FILE *f = fopen(path, "wb");
    if (!f) { free(m); return -1; }
    fwrite(m, 1, size, f);
    fclose(f);
    free(m);
    return 0;
}

static void test_module(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.mod", g_dir);
    const int orders[5] = {0, 1, 0, 0, 1};
    write_tiny_mod(path, orders, 5);
    int nsub = 0;
    int rcs = module_count_subsongs(path, &nsub);
    CHECK(rcs == 0 && nsub == 1, "tiny module: %d subsong", nsub);
    float *x = NULL;
    long n = 0;
    ModuleSpan *sp = NULL;
    int ns = 0;
    int rc = module_render(path, 0, 60, &x, &n, &sp, &ns);
    if (!CHECK(rc == 0, "tiny module renders: %s", rc ? err_msg() : "ok")) return;
    CHECK((double)n / SAMPLE_RATE >= 6.4 && (double)n / SAMPLE_RATE < 6.6, "plays once: %.3f s (5 orders x 1.28 s)", (double)n / SAMPLE_RATE);
    CHECK(ns == 5, "5 order spans played (%d)", ns);
    double worst = 0;
    for (int i = 0; i < ns && i < 5; i++) {
        double d = fabs(sp[i].start - 1.28 * i);
        if (d > worst) worst = d;
    }
    CHECK(worst <= 32.0 / SAMPLE_RATE + 1e-9, "span starts at k * 1.28 s within 32 samples (max err %.4f s)", worst);
    int T = (int)stft_frames(n);
    SongSection *s = NULL;
    int nsec = 0;
    rc = module_sections(&s, &nsec, sp, ns, T);
    const char *want_label[5] = {"A", "B", "A", "A", "B"};
    const int want_occ[5] = {1, 1, 2, 3, 2};
    int ok = rc == 0 && nsec == 5;
    for (int i = 0; ok && i < 5; i++)
        ok = strcmp(s[i].label, want_label[i]) == 0 && s[i].occurrence == want_occ[i];
    CHECK(ok, "order list 0 1 0 0 1 -> labels A B A A B, occurrences 1 1 2 3 2");
    CHECK(ok && s[0].start == 0 && corpus_frame(s[4].end) == T && corpus_frame(s[2].start) == (int)floor(2.56 * SAMPLE_RATE / HOP + 0.5) &&
              s[2].start == corpus_seconds(corpus_frame(s[2].start)),
          "sections cover the song; the third starts at frame %d", ok ? corpus_frame(s[2].start) : -1);
    free(s);
    free(x);
    free(sp);
    // A file libopenmpt cannot read is refused with its name.
    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.mod", g_dir);
    FILE *f = fopen(bad, "wb");
    fputs("not a module", f);
    fclose(f);
    rc = module_render(bad, 0, 60, &x, &n, &sp, &ns);
    CHECK(rc != 0 && strstr(err_msg(), "bad.mod"), "an unreadable module is refused: %s", err_msg());
}

// ---- shards, index, split ----------------------------------------------------------------------
static void make_song(CorpusSong *s, const char *id, int nsec, int T, int source) {
    memset(s, 0, sizeof *s);
    snprintf(s->song, sizeof s->song, "%s", id);
    snprintf(s->package, sizeof s->package, "pkg-%d", source);
    s->source = source;
    s->split = corpus_split_for(id, CORPUS_VALID_PERCENT);
    s->duration = T * (double)HOP / SAMPLE_RATE;
    s->n_frames = T;
    s->n_mels = N_MELS;
    s->src_size = 123456789012ull;
    s->src_mtime = -5;
    s->n_sections = nsec;
    s->sections = calloc(nsec, sizeof *s->sections);
    for (int i = 0; i < nsec; i++) {
        SongSection *c = &s->sections[i];
        c->start = corpus_seconds(i * T / nsec);
        c->end = corpus_seconds((i + 1) * T / nsec);
        snprintf(c->label, sizeof c->label, "%s", i % 2 ? "chorus" : "verse");
        c->confidence = 0.25f * i;
        c->desc = (SectionDescriptors){-20.5f + i, -18.25f, 1500.0f + i, 3.5f};
    }
    song_number_occurrences(s->sections, nsec);
    snprintf(s->shard, sizeof s->shard, "%s.rfs", id[0] == 'a' ? "aaaa" : "bbbb");
}

static int same_song(const CorpusSong *a, const CorpusSong *b) {
    if (strcmp(a->song, b->song) || strcmp(a->package, b->package) || a->source != b->source ||
        a->split != b->split || a->duration != b->duration || a->n_frames != b->n_frames ||
        a->n_mels != b->n_mels || a->src_size != b->src_size || a->src_mtime != b->src_mtime ||
        a->n_sections != b->n_sections)
        return 0;
    for (int i = 0; i < a->n_sections; i++) {
        const SongSection *x = &a->sections[i], *y = &b->sections[i];
        if (x->start != y->start || x->end != y->end || strcmp(x->label, y->label) || x->occurrence != y->occurrence ||
            x->confidence != y->confidence || x->desc.loudness_lufs != y->desc.loudness_lufs ||
            x->desc.rms_db != y->desc.rms_db || x->desc.brightness_hz != y->desc.brightness_hz ||
            x->desc.onset_density != y->desc.onset_density)
            return 0;
    }
    return 1;
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void test_shards(void) {
    CorpusSong a, b;
    make_song(&a, "a/song.ogg", 5, 300, SRC_RECORDING);
    make_song(&b, "b/mod.it#2", 3, 120, SRC_MODULE);
    Rng r;
    rng_seed(&r, 1);
    float *mel = malloc(sizeof(float) * 300 * N_MELS);
    rng_fill_normal(&r, mel, 300L * N_MELS, 2.0f);
    char path[512];
    snprintf(path, sizeof path, "%s/a.rfs", g_dir);
    CHECK(shard_write(path, &a, mel) == 0, "shard written");
    CorpusSong back;
    float *mb = NULL;
    int rc = shard_read(path, &back, &mb);
    CHECK(rc == 0 && same_song(&a, &back), "shard metadata round-trips");
    if (rc == 0) check_max_diff("shard features round-trip", mb, mel, 300L * N_MELS, 0);
    free(mb);
    corpus_song_free(&back);
    // Sections are seconds in memory and frames on disk: every frame comes back.
    int exact = 1;
    for (int32_t f = 0; f <= 4000000 && exact; f++) exact = corpus_frame(corpus_seconds(f)) == f;
    CHECK(exact, "corpus_frame(corpus_seconds(f)) == f for every frame up to 4,000,000 (12.9 h)");
    // A label longer than a shard holds is refused, not cut.
    snprintf(a.sections[0].label, sizeof a.sections[0].label, "%s", "fifteen-bytes-x");
    CHECK(shard_write(path, &a, mel) == 0, "a %d-byte label is written", SHARD_LABEL_MAX);
    snprintf(a.sections[0].label, sizeof a.sections[0].label, "%s", "sixteen-bytes-xx");
    rc = shard_write(path, &a, mel);
    CHECK(rc != 0 && strstr(err_msg(), "'sixteen-bytes-xx' is longer than a shard's 15 bytes"), "a longer one is refused: %s",
          err_msg());
    snprintf(a.sections[0].label, sizeof a.sections[0].label, "%s", "verse");
    CHECK(shard_write(path, &a, mel) == 0, "shard written again");

    // Truncated: refused, by the metadata-only reader too, naming the problem.
    long full = file_size(path);
    char tpath[512], cmd[4096];
    snprintf(tpath, sizeof tpath, "%s/trunc.rfs", g_dir);
    snprintf(cmd, sizeof cmd, "head -c %ld '%s' > '%s'", full - 1000, path, tpath);
    sh(cmd);
    rc = shard_read(tpath, &back, &mb);
    CHECK(rc != 0 && strstr(err_msg(), "truncated") && strstr(err_msg(), "trunc.rfs"),
          "truncated shard refused: %s", err_msg());
    rc = shard_read(tpath, &back, NULL);
    CHECK(rc != 0 && strstr(err_msg(), "truncated"), "truncated shard refused without reading features: %s", err_msg());
    snprintf(cmd, sizeof cmd, "head -c 10 '%s' > '%s'", path, tpath);
    sh(cmd);
    rc = shard_read(tpath, &back, &mb);
    CHECK(rc != 0 && strstr(err_msg(), "truncated"), "a shard cut inside its header is refused: %s", err_msg());
    // One flipped byte in the features: checksum.
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && printf 'X' | dd of='%s' bs=1 seek=%ld conv=notrunc status=none",
             path, tpath, tpath, full / 2);
    sh(cmd);
    rc = shard_read(tpath, &back, &mb);
    CHECK(rc != 0 && strstr(err_msg(), "checksum"), "corrupt shard refused: %s", err_msg());
    // Not a shard at all, and a future version.
    snprintf(cmd, sizeof cmd, "head -c 4000 /dev/zero > '%s'", tpath);
    sh(cmd);
    rc = shard_read(tpath, &back, &mb);
    CHECK(rc != 0 && strstr(err_msg(), "not a refrain feature shard"), "foreign file refused: %s", err_msg());
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && printf '\\011' | dd of='%s' bs=1 seek=8 conv=notrunc status=none",
             path, tpath, tpath);
    sh(cmd);
    rc = shard_read(tpath, &back, &mb);
    CHECK(rc != 0 && strstr(err_msg(), "version 9"), "other version refused: %s", err_msg());

    // Index round trip.
    CorpusIndex ix = {calloc(2, sizeof(CorpusSong)), 2}, iy;
    ix.songs[0] = a;
    ix.songs[1] = b;
    char ipath[512];
    snprintf(ipath, sizeof ipath, "%s/index.rfi", g_dir);
    rc = index_write(ipath, &ix) || index_read(ipath, &iy);
    CHECK(rc == 0 && iy.n == 2 && same_song(&a, &iy.songs[0]) && same_song(&b, &iy.songs[1]) &&
          strcmp(iy.songs[0].shard, a.shard) == 0 && strcmp(iy.songs[1].shard, b.shard) == 0,
          "index round-trips (2 songs, every field)");
    if (rc == 0) index_free(&iy);
    snprintf(cmd, sizeof cmd, "head -c %ld '%s' > '%s'", file_size(ipath) - 3, ipath, tpath);
    sh(cmd);
    rc = index_read(tpath, &iy);
    CHECK(rc != 0 && (strstr(err_msg(), "truncated") || strstr(err_msg(), "checksum")), "truncated index refused: %s", err_msg());
    index_free(&ix);
    free(mel);
}

static void test_split(void) {
    CHECK(corpus_split_for("pkg/x/a.it#0", 10) == corpus_split_for("pkg/x/a.it#7", 10) &&
              corpus_split_for("pkg/x/a.it", 10) == corpus_split_for("pkg/x/a.it#3", 10),
          "a module's subsongs share one side of the split");
    int nval = 0;
    char id[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "mma/wav/song_%04d.wav", i);
        nval += corpus_split_for(id, 10) == SPLIT_VALID;
    }
    CHECK(nval > 140 && nval < 260, "about 10%% of 2000 songs in validation (%d)", nval);
    CHECK(corpus_split_for("anything", 0) == SPLIT_TRAIN && corpus_split_for("anything", 100) == SPLIT_VALID,
          "0%% and 100%% validation");
    // Known value, so the split never changes silently across builds.
    CHECK(corpus_fnv1a("a", 1, CORPUS_FNV_INIT) == 0xaf63dc4c8601ec8cull, "FNV-1a-64 of \"a\"");
}

// ---- the corpus in memory (songset_load) ---------------------------------------------------------
// Song k of the test corpus: T frames, 2 + k sections, features k * 1e4 + index (exact in float).
#define SONGSET_N 5
static float *song_mel(int k, int T) {
    float *m = malloc(sizeof(float) * T * N_MELS);
    for (long i = 0; i < (long)T * N_MELS; i++) m[i] = (float)(k * 10000 + i % 10000);
    return m;
}

static int mel_is(const LoadedSong *s, int k) {
    float *want = song_mel(k, s->meta.n_frames);
    int ok = s->mel && memcmp(s->mel, want, sizeof(float) * s->meta.n_frames * N_MELS) == 0;
    free(want);
    return ok;
}

// ids[k] of the written song k, or -1: which written song a loaded one is.
static int which(const LoadedSong *s, CorpusSong *w) {
    for (int k = 0; k < SONGSET_N; k++) if (strcmp(s->meta.song, w[k].song) == 0) return k;
    return -1;
}

// The loaded set holds exactly the written songs with want[k] set, in id order, each
// with its metadata and sections, and its features when with_mel (NULL otherwise).
static int set_is(const SongSet *set, CorpusSong *w, const int *want, int with_mel) {
    int n = 0;
    double hours = 0;
    for (int k = 0; k < SONGSET_N; k++) if (want[k]) { n++; }
    if (set->n != n) return 0;
    for (int i = 0; i < set->n; i++) {
        const LoadedSong *s = &set->songs[i];
        int k = which(s, w);
        if (k < 0 || !want[k] || !same_song(&s->meta, &w[k])) return 0;
        if (i > 0 && strcmp(set->songs[i - 1].meta.song, s->meta.song) >= 0) return 0;
        if (with_mel ? !mel_is(s, k) : s->mel != NULL) return 0;
        hours += s->meta.duration / 3600;
    }
    return fabs(hours - set->hours) < 1e-12;
}

static void test_songset(void) {
    char dir[512], path[1024], cmd[4096];
    snprintf(dir, sizeof dir, "%s/songs", g_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/shards'", dir);
    if (!CHECK(sh(cmd) == 0, "corpus folder %s", dir)) return;
    // 3 training and 2 validation songs (the id's hash picks the side), written in
    // reverse id order under shard names that sort the other way.
    CorpusSong w[SONGSET_N];
    int is_train[SONGSET_N], is_valid[SONGSET_N], all[SONGSET_N], ntr = 0, nva = 0, k = 0;
    for (int i = 0; i < 300 && k < SONGSET_N; i++) {
        char id[64];
        snprintf(id, sizeof id, "pkg/set/song%03d.ogg", i);
        int valid = corpus_split_for(id, CORPUS_VALID_PERCENT) == SPLIT_VALID;
        if (valid ? nva == 2 : ntr == 3) continue;
        *(valid ? &nva : &ntr) += 1;
        int T = 120 + 37 * k;
        make_song(&w[k], id, 2 + k, T, k % SRC_COUNT);
        snprintf(w[k].shard, sizeof w[k].shard, "%c.rfs", 'z' - k);
        is_train[k] = !valid; is_valid[k] = valid; all[k] = 1;
        k++;
    }
    if (!CHECK(k == SONGSET_N, "%d songs for the test corpus", k)) return;
    int bad = 0;
    for (int j = SONGSET_N - 1; j >= 0; j--) {
        float *m = song_mel(j, w[j].n_frames);
        snprintf(path, sizeof path, "%s/shards/%s", dir, w[j].shard);
        bad |= shard_write(path, &w[j], m);
        free(m);
    }
    if (!CHECK(!bad, "5 shards written")) return;
    CHECK(strcmp(w[1].sections[1].label, "chorus") == 0 && w[4].n_sections == 6 && w[4].sections[2].occurrence == 2,
          "the songs have 2 to 6 sections, verse/chorus labels with occurrences");

    // from the shards (no index yet)
    SongSet set;
    int rc = songset_load(&set, dir, SPLIT_TRAIN, 0, 1);
    CHECK(rc == 0 && set_is(&set, w, is_train, 1), "shards: the 3 training songs, in id order, with their sections "
          "(labels, frames, occurrences, descriptors) and log-mel (%s)", rc ? err_msg() : "ok");
    if (!rc) songset_free(&set);
    rc = songset_load(&set, dir, SPLIT_VALID, 0, 1);
    CHECK(rc == 0 && set_is(&set, w, is_valid, 1), "shards: the 2 validation songs only");
    if (!rc) songset_free(&set);
    rc = songset_load(&set, dir, -1, 0, 0);
    CHECK(rc == 0 && set_is(&set, w, all, 0), "split -1 gives all 5; with_mel 0: sections and no features (mel NULL)");
    if (!rc) songset_free(&set);
    rc = songset_load(&set, dir, SPLIT_TRAIN, 2, 1);
    int first2[SONGSET_N] = {0}, seen = 0;
    for (int i = 0; i < SONGSET_N; i++) {   // the first two training songs in id order
        int best = -1;
        for (int j = 0; j < SONGSET_N; j++)
            if (is_train[j] && !first2[j] && (best < 0 || strcmp(w[j].song, w[best].song) < 0)) best = j;
        if (best >= 0 && seen < 2) { first2[best] = 1; seen++; }
    }
    CHECK(rc == 0 && set_is(&set, w, first2, 1), "max_songs 2: the first two training songs by id");
    if (!rc) songset_free(&set);

    // from index.rfi, which lists 4 of the 5 (the loader reads the index, not the folder)
    int listed[SONGSET_N];
    CorpusIndex ix = {calloc(SONGSET_N, sizeof(CorpusSong)), 0};
    for (int j = 0; j < SONGSET_N; j++) {
        listed[j] = j != 3;
        if (listed[j]) ix.songs[ix.n++] = w[j];
    }
    snprintf(path, sizeof path, "%s/index.rfi", dir);
    rc = index_write(path, &ix);
    free(ix.songs);   // the sections stay w's
    CHECK(rc == 0, "index.rfi written with 4 songs");
    rc = songset_load(&set, dir, -1, 0, 1);
    CHECK(rc == 0 && set_is(&set, w, listed, 1), "index: the 4 songs it lists, with sections and log-mel");
    if (!rc) songset_free(&set);
    rc = songset_load(&set, dir, -1, 0, 0);
    CHECK(rc == 0 && set_is(&set, w, listed, 0), "index, with_mel 0: the 4 songs, sections only");
    if (!rc) songset_free(&set);

    // refusals
    snprintf(path, sizeof path, "%s/nothing-here", g_dir);
    rc = songset_load(&set, path, SPLIT_TRAIN, 0, 1);
    CHECK(rc != 0 && strstr(err_msg(), "make data") && set.n == 0 && !set.songs, "no corpus: refused, saying to run "
          "make data: %s", err_msg());
    char one[512];
    snprintf(one, sizeof one, "%s/one", g_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/shards' && cp '%s/shards/%s' '%s/shards/'", one, dir, w[0].shard, one);
    sh(cmd);
    int other = is_train[0] ? SPLIT_VALID : SPLIT_TRAIN;
    rc = songset_load(&set, one, other, 0, 1);
    CHECK(rc != 0 && strstr(err_msg(), corpus_split_name(other)) && strstr(err_msg(), "no "),
          "a split with no song is refused: %s", err_msg());
    CorpusSong narrow;
    make_song(&narrow, "pkg/narrow.ogg", 2, 50, SRC_RECORDING);
    narrow.n_mels = 8;
    float *m8 = calloc(50 * 8, sizeof(float));
    snprintf(path, sizeof path, "%s/shards/narrow.rfs", one);
    shard_write(path, &narrow, m8);
    free(m8);
    corpus_song_free(&narrow);
    rc = songset_load(&set, one, -1, 0, 1);
    CHECK(rc != 0 && strstr(err_msg(), "8 mel bands") && strstr(err_msg(), "narrow.rfs"),
          "a shard of 8 mel bands is refused: %s", err_msg());
    rc = songset_load(&set, one, -1, 0, 0);
    CHECK(rc != 0 && strstr(err_msg(), "8 mel bands"), "also without reading the features: %s", err_msg());
    for (int j = 0; j < SONGSET_N; j++) corpus_song_free(&w[j]);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/refrain-test-corpus-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    g_quiet = 1;
    MmaLibrary *lib = NULL;
    int rc = mma_library_load(&lib, NULL);
    if (CHECK(rc == 0 && mma_library_count(lib) > 50, "MMA groove library: %d usable files%s%s",
              rc ? 0 : mma_library_count(lib), rc ? " — " : "", rc ? err_msg() : "")) {
        test_mma(lib);
        test_mma_render_and_build(lib);
    }
    mma_library_free(lib);
    test_module();
    test_shards();
    test_split();
    test_songset();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (getenv("KEEP")) printf("  kept %s\n", g_dir); else if (system(cmd) != 0) printf("  could not remove %s\n", g_dir);
    return check_summary("test_data_corpus");
}
