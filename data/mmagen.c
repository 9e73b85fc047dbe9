// mmagen — writes whole pop songs as MMA (Musical MIDI Accompaniment) files
// from a seed, and reads the section markers back from the MIDI file mma
// makes. Rendering (mma, fluidsynth) is scripts/make-data.sh's job; this file
// owns only the text generator, the groove library scan and the SMF reader.
//
// A song: one groove family from MMA's stdlib (a file such as 8beat.mma, in
// 3/4 or 4/4), tempo, key (Transpose from C), one chord progression and one
// melody per section type (so a chorus carries its own tune each time it
// returns), a form from common pop forms with omissions and repeats, and a
// `MidiMark <label>` at every section start, which mma writes as a MIDI
// marker meta event (FF 06) at that tick.
#include "data/corpus.h"
#include "util/rng.h"
#include "util/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MMA_STDLIB "/usr/share/mma/lib/stdlib"

// ---- groove library -------------------------------------------------------------------
typedef struct {
    char file[64];         // "8beat"
    int beats;             // 3 or 4
    char (*main)[48];      // grooves for verses/choruses (no Intro/End/Fill/Break in the name)
    int n_main;
    char (*intro)[48];
    int n_intro;
    char (*end)[48];
    int n_end;
} GrooveFile;

struct MmaLibrary {
    GrooveFile *files;
    int n;
};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_word_ci(const char *s, const char *w) {
    size_t n = strlen(w);
    for (; *s; s++)
        if (strncasecmp(s, w, n) == 0) return 1;
    return 0;
}

static void push_name(char (**arr)[48], int *n, const char *name) {
    *arr = reallocCheck(*arr, (size_t)(*n + 1) * sizeof **arr);
    snprintf((*arr)[*n], 48, "%s", name);
    (*n)++;
}

// Reads one groove file: its single `Time N` and its DefGroove names.
// Returns 1 if usable, 0 if not (no error: the library simply skips it).
static int scan_groove_file(GrooveFile *g, const char *path, const char *stem) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    memset(g, 0, sizeof *g);
    snprintf(g->file, sizeof g->file, "%s", stem);
    char line[1024];
    int n_time = 0, beats = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        char tok[64], name[64];
        if (sscanf(p, "%63s", tok) != 1) continue;
        if (strcasecmp(tok, "Time") == 0) {
            n_time++;
            beats = atoi(p + 4);
        } else if (strcasecmp(tok, "DefGroove") == 0 && sscanf(p + 9, "%63s", name) == 1) {
            if (strlen(name) >= 48) continue;
            if (has_word_ci(name, "intro")) push_name(&g->intro, &g->n_intro, name);
            else if (has_word_ci(name, "end")) push_name(&g->end, &g->n_end, name);
            else if (has_word_ci(name, "fill") || has_word_ci(name, "break")) continue;
            else push_name(&g->main, &g->n_main, name);
        }
    }
    fclose(f);
    g->beats = beats;
    int ok = n_time == 1 && (beats == 3 || beats == 4) && g->n_main >= 1 &&
             strncasecmp(stem, "metronome", 9) != 0 && strcasecmp(stem, "none") != 0;
    if (!ok) { free(g->main); free(g->intro); free(g->end); }
    return ok;
}

int mma_library_load(MmaLibrary **out, const char *libdir) {
    if (!libdir) libdir = MMA_STDLIB;
    DIR *d = opendir(libdir);
    if (!d) return err_set("cannot open MMA groove library %s: %s (is the Debian package 'mma' installed?)",
                           libdir, strerror(errno));
    char **names = NULL;
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t L = strlen(e->d_name);
        if (L < 5 || L > 60 || strcmp(e->d_name + L - 4, ".mma") != 0) continue;
        names = reallocCheck(names, (size_t)(nn + 1) * sizeof *names);
        names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    if (nn > 1) qsort(names, nn, sizeof *names, cmp_str);   // readdir order is not stable
    MmaLibrary *lib = callocCheck(1, sizeof *lib);
    lib->files = callocCheck(nn ? nn : 1, sizeof *lib->files);
    for (int i = 0; i < nn; i++) {
        char path[4096], stem[64];
        snprintf(path, sizeof path, "%s/%s", libdir, names[i]);
        snprintf(stem, sizeof stem, "%.*s", (int)strlen(names[i]) - 4, names[i]);
        if (scan_groove_file(&lib->files[lib->n], path, stem)) lib->n++;
        free(names[i]);
    }
    free(names);
    if (lib->n == 0) {
        mma_library_free(lib);
        return err_set("no usable grooves (3/4 or 4/4 DefGroove) in %s", libdir);
    }
    *out = lib;
    return 0;
}

int mma_library_count(const MmaLibrary *lib) { return lib ? lib->n : 0; }

void mma_library_free(MmaLibrary *lib) {
    if (!lib) return;
    for (int i = 0; i < lib->n; i++) {
        free(lib->files[i].main);
        free(lib->files[i].intro);
        free(lib->files[i].end);
    }
    free(lib->files);
    free(lib);
}

// ---- song material ---------------------------------------------------------------------
// Section types; the label written in the MidiMark is the name.
enum { S_INTRO, S_VERSE, S_PRE, S_CHORUS, S_BRIDGE, S_SOLO, S_OUTRO, S_NTYPES };
static const char *TYPE_NAME[S_NTYPES] = {"intro", "verse", "prechorus", "chorus",
                                          "bridge", "solo", "outro"};

// The type of the len bytes at w, or -1.
static int type_of_word(const char *w, size_t len) {
    for (int t = 0; t < S_NTYPES; t++)
        if (strlen(TYPE_NAME[t]) == len && strncmp(w, TYPE_NAME[t], len) == 0) return t;
    return -1;
}

static int type_of(const char *name) { return type_of_word(name, strlen(name)); }

// The next word of a form after *p (words split at spaces, tabs and newlines):
// its start, with its length in *len and *p moved past it; NULL at the end.
static const char *next_word(const char **p, size_t *len) {
    const char *w = *p + strspn(*p, " \t\n");
    if (!*w) return NULL;
    *len = strcspn(w, " \t\n");
    *p = w + *len;
    return w;
}

// Pop forms (omissions and repeats are drawn on top).
static const char *FORMS[] = {
    "intro verse chorus verse chorus bridge chorus outro",
    "intro verse prechorus chorus verse prechorus chorus bridge chorus outro",
    "verse chorus verse chorus solo chorus outro",
    "intro verse verse chorus verse chorus outro",
    "intro chorus verse chorus verse bridge chorus outro",
    "intro verse prechorus chorus verse prechorus chorus solo bridge chorus outro",
    "intro verse chorus verse chorus solo verse chorus outro",
    "intro verse verse bridge verse outro",
    "verse prechorus chorus verse prechorus chorus bridge chorus chorus",
};
#define N_FORMS (int)(sizeof FORMS / sizeof FORMS[0])

// Chords of C major by scale degree 0..6, and their chord tones (scale steps).
static const char *CHORD[7] = {"C", "Dm", "Em", "F", "G", "Am", "Bdim"};
static const char *CHORD7[7] = {"Cmaj7", "Dm7", "Em7", "Fmaj7", "G7", "Am7", "Bm7b5"};

// Four-chord progressions (scale degrees) per section type.
static const int PROG_VERSE[][4] = {{0, 4, 5, 3}, {5, 3, 0, 4}, {0, 5, 3, 4}, {0, 3, 0, 4},
                                    {5, 4, 3, 4}, {0, 2, 3, 4}, {1, 4, 0, 5}};
static const int PROG_PRE[][4] = {{3, 4, 3, 4}, {1, 2, 3, 4}, {5, 4, 3, 4}, {3, 0, 1, 4}};
static const int PROG_CHORUS[][4] = {{0, 4, 5, 3}, {3, 4, 0, 5}, {0, 3, 4, 3}, {5, 3, 0, 4},
                                     {0, 5, 1, 4}};
static const int PROG_BRIDGE[][4] = {{5, 3, 4, 4}, {1, 4, 2, 5}, {3, 4, 2, 5}, {5, 2, 3, 0}};
#define NP(a) (int)(sizeof a / sizeof a[0])

// Bar rhythms in eighth notes (sum = 8 for 4/4, 6 for 3/4).
static const int RHY4[][8] = {{2, 2, 2, 2}, {4, 2, 2}, {3, 1, 2, 2}, {1, 1, 2, 2, 2}, {4, 4},
                              {2, 1, 1, 4}, {8}, {2, 2, 4}, {1, 1, 1, 1, 2, 2}};
static const int RHY3[][8] = {{2, 2, 2}, {4, 2}, {3, 1, 2}, {6}, {1, 1, 2, 2}, {2, 4}};

static const char *SOLO_VOICES[] = {"Flute", "Clarinet", "Trumpet", "AltoSax", "Violin",
                                    "Oboe", "Vibraphone", "Piano1", "SopranoSax", "Harmonica"};
static const char *LEAD_VOICES[] = {"TenorSax", "OverDriveGuitar", "Trumpet", "JazzGuitar",
                                    "Organ1", "DistortionGuitar", "SquareWave"};
#define NV(a) (int)(sizeof a / sizeof a[0])

#define MAX_BARS 32
#define MAX_NOTES 8
typedef struct {
    int chord[MAX_BARS];           // scale degree per bar
    int nn[MAX_BARS];              // notes per bar
    int dur[MAX_BARS][MAX_NOTES];  // eighths
    int step[MAX_BARS][MAX_NOTES]; // scale step, 0 = C of the solo octave; -99 = rest
} Part;

static int pick(Rng *r, int n) { return (int)(rng_u64(r) % (uint64_t)n); }

static void chord_tones(int deg, int tones[3]) {
    for (int i = 0; i < 3; i++) tones[i] = (deg + 2 * i) % 7;
}

// Nearest step to `from` whose pitch class is a chord tone of deg.
static int nearest_chord_tone(int from, int deg, int lo, int hi) {
    int tones[3], best = from, bd = 99;
    chord_tones(deg, tones);
    for (int s = lo; s <= hi; s++)
        for (int i = 0; i < 3; i++)
            if (((s % 7) + 7) % 7 == tones[i] && abs(s - from) < bd) { bd = abs(s - from); best = s; }
    return best;
}

// A melody over a chord progression: chord tones on the first note of each bar,
// steps and small leaps in between, the last note on the tonic.
static void make_part(Part *p, Rng *r, const int prog[4], int bars, int beats, int density) {
    memset(p, 0, sizeof *p);
    int cur = 4 + pick(r, 5);   // around G..D+
    // One rhythm per bar of a 4-bar phrase, reused in the phrase repeat.
    int rh[4];
    for (int i = 0; i < 4; i++) {
        int nr = beats == 3 ? NP(RHY3) : NP(RHY4);
        rh[i] = pick(r, nr);
        if (density && rh[i] < nr - 3) rh[i] = nr - 1 - pick(r, 2);   // busier for solos
    }
    for (int b = 0; b < bars && b < MAX_BARS; b++) {
        p->chord[b] = prog[b % 4];
        const int *R = beats == 3 ? RHY3[rh[b % 4]] : RHY4[rh[b % 4]];
        int total = beats == 3 ? 6 : 8, sum = 0, k = 0;
        while (sum < total && k < MAX_NOTES) {
            int d = R[k];
            if (d <= 0) break;
            p->dur[b][k] = d;
            if (k == 0) cur = nearest_chord_tone(cur, p->chord[b], 0, 11);
            else {
                int mv = pick(r, 7) - 3;   // -3..3 scale steps
                cur += mv;
                if (cur < 0) cur = 1;
                if (cur > 11) cur = 10;
            }
            p->step[b][k] = (k > 0 && pick(r, 10) == 0) ? -99 : cur;
            sum += d;
            k++;
        }
        p->nn[b] = k;
    }
    // Phrase repeats: an 8-bar section plays its 4-bar tune twice, ending on the tonic.
    for (int b = 4; b < bars && b < MAX_BARS; b++) {
        if (b % 4 == 3 && b == bars - 1) break;
        p->nn[b] = p->nn[b - 4];
        memcpy(p->dur[b], p->dur[b - 4], sizeof p->dur[b]);
        memcpy(p->step[b], p->step[b - 4], sizeof p->step[b]);
    }
    int last = bars - 1 < MAX_BARS - 1 ? bars - 1 : MAX_BARS - 1;
    if (p->chord[last] == 0 || p->chord[last] == 5 || p->chord[last] == 3) {
        int k = p->nn[last] - 1;
        p->step[last][k] = nearest_chord_tone(p->step[last][k] < 0 ? 7 : p->step[last][k], 0, 0, 11);
    }
}

static const char *dur_text(int eighths) {
    switch (eighths) {
    case 1: return "8";
    case 2: return "4";
    case 3: return "4.";
    case 4: return "2";
    case 6: return "2.";
    case 8: return "1";
    default: return "4";
    }
}

static void write_note(FILE *f, int step, int eighths) {
    if (step == -99) { fprintf(f, "%sr;", dur_text(eighths)); return; }
    static const char names[] = "cdefgab";
    int oct = step >= 0 ? step / 7 : -1 - (-step - 1) / 7;
    int pc = step - 7 * oct;
    fprintf(f, "%s%c", dur_text(eighths), names[pc]);
    for (int i = 0; i < oct; i++) fputc('+', f);
    for (int i = 0; i > oct; i--) fputc('-', f);
    fputc(';', f);
}

// out: MMA_MAX_SECTIONS names. A given form is one mma_form_check passed, so it
// fits; a drawn one has at most 12 sections.
static void draw_form(Rng *r, char out[][16], int *n, const char *form) {
    const char *p = form ? form : FORMS[pick(r, N_FORMS)], *w;
    size_t len;
    *n = 0;
    while ((w = next_word(&p, &len)) && *n < MMA_MAX_SECTIONS) snprintf(out[(*n)++], 16, "%.*s", (int)len, w);
    if (form) return;
    // Omissions and repeats.
    if (*n > 4 && strcmp(out[0], "intro") == 0 && pick(r, 5) == 0) {
        memmove(out[0], out[1], (size_t)(*n - 1) * 16);
        (*n)--;
    }
    if (*n > 4 && strcmp(out[*n - 1], "outro") == 0 && pick(r, 6) == 0) (*n)--;
    if (*n < MMA_MAX_SECTIONS && pick(r, 3) == 0) {   // double the last chorus
        for (int i = *n - 1; i >= 0; i--)
            if (strcmp(out[i], "chorus") == 0) {
                memmove(out[i + 1], out[i], (size_t)(*n - i) * 16);
                (*n)++;
                break;
            }
    }
}

int mma_form_check(const char *form) {
    const char *p = form, *w;
    size_t len;
    int n = 0;
    for (; (w = next_word(&p, &len)); n++)
        if (type_of_word(w, len) < 0)
            return err_set("unknown section '%.*s' in form (known: intro verse prechorus chorus bridge solo outro)",
                           (int)len, w);
    if (n == 0) return err_set("empty form (give section names such as \"intro verse chorus outro\")");
    if (n > MMA_MAX_SECTIONS) return err_set("form of %d sections; a song has at most %d", n, MMA_MAX_SECTIONS);
    return 0;
}

int mma_generate(FILE *f, MmaSongInfo *info, const MmaLibrary *lib, uint64_t seed,
                 const char *form, const char *groove_file, int tempo) {
    if (!lib || lib->n == 0) return err_set("mma_generate: empty groove library");
    if (form && mma_form_check(form)) return -1;
    Rng r;
    rng_seed(&r, seed);
    const GrooveFile *g = NULL;
    if (groove_file) {
        for (int i = 0; i < lib->n; i++)
            if (strcasecmp(lib->files[i].file, groove_file) == 0) g = &lib->files[i];
        if (!g) return err_set("groove file '%s' is not in the MMA library (3/4 or 4/4 files with DefGroove)",
                               groove_file);
    } else g = &lib->files[pick(&r, lib->n)];
    MmaSongInfo in;
    memset(&in, 0, sizeof in);
    snprintf(in.groove_file, sizeof in.groove_file, "%s", g->file);
    in.beats_per_bar = g->beats;
    int bpb = g->beats;
    in.tempo = tempo > 0 ? tempo : (bpb == 3 ? 90 + pick(&r, 71) : 78 + pick(&r, 71));
    in.transpose = pick(&r, 12) - 5;   // -5..6 semitones: all twelve keys

    // Grooves: verse, chorus (another main groove when there is one), bridge.
    const char *gv = g->main[pick(&r, g->n_main)];
    const char *gc = g->main[pick(&r, g->n_main)];
    for (int t = 0; t < 4 && strcmp(gc, gv) == 0 && g->n_main > 1; t++) gc = g->main[pick(&r, g->n_main)];
    const char *gb = g->main[pick(&r, g->n_main)];
    const char *gi = g->n_intro ? g->intro[pick(&r, g->n_intro)] : gv;
    const char *ge = g->n_end ? g->end[pick(&r, g->n_end)] : NULL;
    snprintf(in.groove, sizeof in.groove, "%s", gv);
    const char *type_groove[S_NTYPES] = {gi, gv, pick(&r, 2) ? gv : gc, gc, gb, gc, gc};

    // One progression and one tune per section type.
    const int *prog[S_NTYPES];
    prog[S_VERSE] = PROG_VERSE[pick(&r, NP(PROG_VERSE))];
    prog[S_PRE] = PROG_PRE[pick(&r, NP(PROG_PRE))];
    prog[S_CHORUS] = PROG_CHORUS[pick(&r, NP(PROG_CHORUS))];
    prog[S_BRIDGE] = PROG_BRIDGE[pick(&r, NP(PROG_BRIDGE))];
    prog[S_SOLO] = pick(&r, 2) ? prog[S_VERSE] : prog[S_CHORUS];
    prog[S_INTRO] = prog[S_CHORUS];
    prog[S_OUTRO] = prog[S_CHORUS];
    int type_bars[S_NTYPES] = {4, pick(&r, 5) ? 8 : 16, 4, 8, pick(&r, 3) ? 8 : 4, 8, 4};
    int use7 = pick(&r, 3) == 0;
    Part *part = callocCheck(S_NTYPES, sizeof *part);
    for (int t = 0; t < S_NTYPES; t++)
        make_part(&part[t], &r, prog[t], type_bars[t], bpb, t == S_SOLO);
    const char *voice = SOLO_VOICES[pick(&r, NV(SOLO_VOICES))];
    const char *lead = LEAD_VOICES[pick(&r, NV(LEAD_VOICES))];

    char names[MMA_MAX_SECTIONS][16];
    int n = 0;
    draw_form(&r, names, &n, form);   // a given form is checked above, a drawn one is known

    fprintf(f, "// refrain mmagen song, seed %llu. Regenerate with `refrain mmagen`.\n",
            (unsigned long long)seed);
    fprintf(f, "// groove file %s, %d/4, tempo %d, transpose %d\n", g->file, bpb, in.tempo, in.transpose);
    // RndSeed: MMA's grooves jitter timing and velocity with Python's random;
    // seeding it makes the MIDI (and fluidsynth's audio) bit-reproducible too.
    fprintf(f, "RndSeed %u\nTempo %d\nTranspose %d\n\n", (unsigned)(seed % 2147483647u), in.tempo,
            in.transpose);
    int bar = 1;
    double sec_per_bar = bpb * 60.0 / in.tempo;
    for (int i = 0; i < n; i++) {
        int t = type_of(names[i]);
        int bars = type_bars[t];
        const Part *p = &part[t];
        snprintf(in.sections[in.n_sections].label, 16, "%.15s", names[i]);
        in.sections[in.n_sections].bars = bars;
        in.n_sections++;
        in.est_seconds += bars * sec_per_bar;
        fprintf(f, "// ---- %s\n", names[i]);
        fprintf(f, "Groove %s\n", type_groove[t]);
        fprintf(f, "Solo Voice %s\nSolo Octave 5\nSolo Articulate 90\nSolo Volume %s\n",
                t == S_SOLO ? lead : voice, t == S_INTRO ? "m" : "f");
        fprintf(f, "MidiMark %s\n", names[i]);
        for (int b = 0; b < bars; b++) {
            int deg = p->chord[b];
            if (t == S_OUTRO && b == bars - 1) {
                deg = 0;
                if (ge) fprintf(f, "Groove %s\n", ge);
            }
            fprintf(f, "%-3d %-6s", bar++, use7 && (b % 2) ? CHORD7[deg] : CHORD[deg]);
            if (t != S_INTRO || b >= bars / 2) {   // intros: chords first, tune later
                fprintf(f, " { ");
                for (int k = 0; k < p->nn[b]; k++) write_note(f, p->step[b][k], p->dur[b][k]);
                fprintf(f, " }");
            }
            fputc('\n', f);
        }
        fputc('\n', f);
    }
    free(part);
    if (ferror(f)) return err_set("writing the MMA song failed: %s", strerror(errno));
    if (info) *info = in;
    return 0;
}

// Seed of song i in a set: a splitmix-style mix of (seed, i).
static uint64_t song_seed(uint64_t seed, int i) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// 1 if the file at path holds exactly these bytes.
static int same_file(const char *path, const char *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int same = 1;
    char tmp[4096];
    size_t off = 0, got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (off + got > n || memcmp(tmp, buf + off, got) != 0) { same = 0; break; }
        off += got;
    }
    fclose(f);
    return same && off == n;
}

int mma_generate_set(const char *dir, const MmaLibrary *lib, uint64_t seed, double hours,
                     int count, FILE *list) {
    double total = 0;
    for (int i = 0; count > 0 ? i < count : total < hours * 3600.0; i++) {
        if (i >= 100000) return err_set("mma_generate_set: too many songs");
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m) return err_set("open_memstream failed");
        MmaSongInfo info;
        if (mma_generate(m, &info, lib, song_seed(seed, i), NULL, NULL, 0)) { fclose(m); free(buf); return -1; }
        fclose(m);
        char path[4096];
        snprintf(path, sizeof path, "%s/song_%04d.mma", dir, i);
        if (!same_file(path, buf, len)) {
            AtomicFile af;
            if (atomic_open(&af, path)) { free(buf); return -1; }
            fwrite(buf, 1, len, af.f);
            if (atomic_commit(&af)) { free(buf); return -1; }
        }
        free(buf);
        total += info.est_seconds;
        if (list) {
            fprintf(list, "song_%04d\t%s/%s\t%d\t%.1f\t", i, info.groove_file, info.groove, info.tempo,
                    info.est_seconds);
            for (int s = 0; s < info.n_sections; s++)
                fprintf(list, "%s%s", s ? " " : "", info.sections[s].label);
            fputc('\n', list);
        }
    }
    return 0;
}

// ---- Standard MIDI File markers ------------------------------------------------------------
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

typedef struct { long tick; uint32_t usq; } TempoEv;

// Variable-length quantity; returns -1 past the end.
static long read_vlq(const uint8_t *p, long end, long *pos) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        if (*pos >= end) return -1;
        uint8_t c = p[(*pos)++];
        v = (v << 7) | (c & 0x7f);
        if (!(c & 0x80)) return v;
    }
    return -1;
}

static int cmp_tempo(const void *a, const void *b) {
    long x = ((const TempoEv *)a)->tick, y = ((const TempoEv *)b)->tick;
    return (x > y) - (x < y);
}
static int cmp_marker(const void *a, const void *b) {
    long x = ((const MidiMarker *)a)->tick, y = ((const MidiMarker *)b)->tick;
    return (x > y) - (x < y);
}

// Seconds at tick through a sorted tempo map (120 bpm before the first event).
static double tick_seconds(long tick, const TempoEv *tm, int ntm, int division) {
    double s = 0;
    long last = 0;
    uint32_t usq = 500000;
    for (int i = 0; i < ntm && tm[i].tick <= tick; i++) {
        s += (double)(tm[i].tick - last) * usq / (1e6 * division);
        last = tm[i].tick;
        usq = tm[i].usq;
    }
    return s + (double)(tick - last) * usq / (1e6 * division);
}

int midi_read_markers(const char *path, MidiMarker **markers, int *n, double *end_time) {
    *markers = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set("cannot open MIDI file %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 14 || size > (64l << 20)) { fclose(f); return err_set("%s: not a MIDI file (size %ld)", path, size); }
    uint8_t *d = mallocCheck((size_t)size);
    if (fread(d, 1, (size_t)size, f) != (size_t)size) { fclose(f); free(d); return err_set("%s: read error", path); }
    fclose(f);
    if (memcmp(d, "MThd", 4) != 0 || be32(d + 4) < 6) { free(d); return err_set("%s: no MThd header: not a Standard MIDI File", path); }
    int ntracks = (int)be16(d + 10), division = (int)be16(d + 12);
    if (division & 0x8000) { free(d); return err_set("%s: SMPTE time division is not supported", path); }
    if (division == 0) { free(d); return err_set("%s: zero ticks per quarter note", path); }
    TempoEv *tm = NULL;
    int ntm = 0;
    MidiMarker *mk = NULL;
    int nmk = 0;
    long last_tick = 0;
    long pos = 8 + (long)be32(d + 4);
    for (int tr = 0; tr < ntracks; tr++) {
        if (pos + 8 > size || memcmp(d + pos, "MTrk", 4) != 0) {
            free(d); free(tm); free(mk);
            return err_set("%s: track %d missing or truncated", path, tr);
        }
        long len = (long)be32(d + pos + 4), p = pos + 8, end = p + len;
        if (end > size) { free(d); free(tm); free(mk); return err_set("%s: track %d truncated", path, tr); }
        long tick = 0;
        uint8_t status = 0;
        while (p < end) {
            long dt = read_vlq(d, end, &p);
            if (dt < 0) break;
            tick += dt;
            if (p >= end) break;
            uint8_t c = d[p];
            if (c & 0x80) { status = c; p++; }
            if (status == 0xFF) {
                if (p >= end) break;
                uint8_t type = d[p++];
                long ml = read_vlq(d, end, &p);
                if (ml < 0 || p + ml > end) break;
                if (type == 0x51 && ml == 3) {
                    tm = reallocCheck(tm, (size_t)(ntm + 1) * sizeof *tm);
                    tm[ntm++] = (TempoEv){tick, (uint32_t)d[p] << 16 | d[p + 1] << 8 | d[p + 2]};
                } else if (type == 0x06) {
                    mk = reallocCheck(mk, (size_t)(nmk + 1) * sizeof *mk);
                    MidiMarker *m = &mk[nmk++];
                    memset(m, 0, sizeof *m);
                    m->tick = tick;
                    int L = ml < (long)sizeof m->text - 1 ? (int)ml : (int)sizeof m->text - 1;
                    memcpy(m->text, d + p, (size_t)L);
                }
                p += ml;
                status = 0;   // meta events cancel running status
            } else if (status == 0xF0 || status == 0xF7) {
                long ml = read_vlq(d, end, &p);
                if (ml < 0 || p + ml > end) break;
                p += ml;
                status = 0;
            } else if (status >= 0x80) {
                int hi = status & 0xF0;
                p += (hi == 0xC0 || hi == 0xD0) ? 1 : 2;
            } else {
                free(d); free(tm); free(mk);
                return err_set("%s: track %d: data byte without a status at byte %ld", path, tr, p);
            }
            if (tick > last_tick) last_tick = tick;
        }
        pos = end;
    }
    free(d);
    if (ntm > 1) qsort(tm, ntm, sizeof *tm, cmp_tempo);   // NULL when the file has none (UBSan)
    if (nmk > 1) qsort(mk, nmk, sizeof *mk, cmp_marker);   // qsort is not stable, but markers have distinct ticks
    for (int i = 0; i < nmk; i++) mk[i].time = tick_seconds(mk[i].tick, tm, ntm, division);
    if (end_time) *end_time = tick_seconds(last_tick, tm, ntm, division);
    free(tm);
    *markers = mk;
    *n = nmk;
    return 0;
}
