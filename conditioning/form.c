// form.c — the label vocabulary and the form-string parser: what a user types
// ("intro verse:16 chorus:8b[loud=-12] outro", or Wang et al.'s compact
// "i4A4A4B8b4A4B8o4") becomes a SongForm of consecutive sections with labels,
// occurrences and descriptor targets. See conditioning.h for the notations.
// It owns no timeline JSON and no conditioning vectors.
//
// Every refusal is one err_set() line naming the word (or compact item), its
// 1-based position and what would have been accepted; an unknown label comes
// with the nearest vocabulary entry by Levenshtein distance, because a typo
// ("chrous") is the usual cause. Lengths and targets are checked against the
// ranges in FormOpts and the table below, so nothing absurd reaches the sampler.
#include "conditioning/conditioning.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

// ---- label vocabulary -------------------------------------------------------------
static const char *const NAMED[] = {"none", "intro", "verse", "prechorus", "chorus", "bridge", "solo", "outro"};
#define N_NAMED 8   // ids 0..7; the letters follow
static const char LABEL_HINT[] = "labels are intro, verse, prechorus, chorus, bridge, solo, outro, the letters A..Z, or none";

int cond_label_id(const char *label) {
    if (!label) return -1;
    for (int i = 0; i < N_NAMED; i++)
        if (strcasecmp(label, NAMED[i]) == 0) return i;
    if (label[0] < 'A' || label[0] > 'Z') return -1;
    size_t nd = strspn(label + 1, "0123456789");   // "A", or "A1".."A9999" (module patterns past Z)
    if (label[1 + nd] != 0 || nd > 4) return -1;
    return COND_LABEL_FIRST_LETTER + (label[0] - 'A');
}

const char *cond_label_name(int id) {
    static const char LETTERS[] = "A\0B\0C\0D\0E\0F\0G\0H\0I\0J\0K\0L\0M\0N\0O\0P\0Q\0R\0S\0T\0U\0V\0W\0X\0Y\0Z";
    if (id < 0 || id >= COND_N_LABELS) return NAMED[0];
    if (id < N_NAMED) return NAMED[id];
    return LETTERS + 2 * (id - COND_LABEL_FIRST_LETTER);
}

void cond_default_seconds(float sec[COND_N_LABELS]) {
    for (int i = 0; i < COND_N_LABELS; i++) sec[i] = 12.0f;   // none and the letters
    for (int i = 2; i <= 6; i++) sec[i] = 16.0f;              // verse..solo: 8 bars at 120 bpm
    sec[1] = sec[7] = 8.0f;                                   // intro, outro
}

// ---- options ----------------------------------------------------------------------------
void form_opts_default(FormOpts *o) {
    o->bpm = 120;
    o->beats_per_bar = 4;
    cond_default_seconds(o->default_seconds);
    o->max_sections = FORM_MAX_SECTIONS;
    o->min_seconds = 1;
    o->max_seconds = 600;
}

static int check_opts(const FormOpts *o) {
    if (!(o->bpm >= FORM_BPM_MIN && o->bpm <= FORM_BPM_MAX))
        return err_set("form: bpm %g is outside %g..%g", o->bpm, FORM_BPM_MIN, FORM_BPM_MAX);
    if (o->beats_per_bar < 1 || o->beats_per_bar > 32)
        return err_set("form: beats_per_bar %d is outside 1..32", o->beats_per_bar);
    if (o->max_sections < 1) return err_set("form: max_sections %d must be at least 1", o->max_sections);
    if (!(o->min_seconds > 0 && o->min_seconds <= o->max_seconds && isfinite(o->max_seconds)))
        return err_set("form: section length range %g..%g s is not 0 < min <= max", o->min_seconds, o->max_seconds);
    return 0;
}

// ---- helpers --------------------------------------------------------------------------
// Case-insensitive Levenshtein distance (a word is at most compared on its first 63 bytes).
static int edit_distance(const char *a, const char *b) {
    int la = (int)strnlen(a, 63), lb = (int)strnlen(b, 63);
    int row[64];
    for (int j = 0; j <= lb; j++) row[j] = j;
    for (int i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= lb; j++) {
            int up = row[j];
            int sub = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    return row[lb];
}

// The vocabulary entry nearest to word (ties: the lower id).
static const char *nearest_label(const char *word) {
    int best = -1, bd = 1 << 30;
    for (int id = 0; id < COND_N_LABELS; id++) {
        int d = edit_distance(word, cond_label_name(id));
        if (d < bd) { bd = d; best = id; }
    }
    return cond_label_name(best);
}

// A plain decimal: optional sign, digits, at most one '.' between digits
// ("8", "7.5", "-12"); no exponents, hex, inf or nan. Returns 0 and *v, or -1.
static int parse_number(const char *s, size_t len, double *v) {
    char buf[32];
    size_t i = 0, digits = 0, dots = 0;
    if (len == 0 || len >= sizeof buf) return -1;
    if (s[0] == '-' || s[0] == '+') i++;
    for (; i < len; i++) {
        if (isdigit((unsigned char)s[i])) digits++;
        else if (s[i] == '.' && dots == 0 && digits > 0 && i + 1 < len) dots++;
        else return -1;
    }
    if (digits == 0) return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    *v = strtod(buf, NULL);
    return 0;
}

// ---- one section word: LABEL[:LENGTH[b|s]][[key=value,...]] -----------------------------
typedef struct {
    const char *s;   // the word (not terminated)
    int len, pos;    // its length and 1-based position in the form
} Word;

#define WORD_SHOWN 40   // an error quotes at most this much of a word
__attribute__((format(printf, 2, 3))) static int word_err(const Word *w, const char *fmt, ...) {
    char what[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set("form: word %d '%.*s%s': %s", w->pos, w->len > WORD_SHOWN ? WORD_SHOWN : w->len, w->s,
                   w->len > WORD_SHOWN ? "..." : "", what);
}

static const char TARGET_HINT[] = "targets are loud (LUFS, -70..0), bright (Hz, 50..11025), onsets (per second, 0..30)";
static const struct { const char *key; double lo, hi; const char *unit; } TARGETS[3] = {
    {"loud", -70, 0, "LUFS"}, {"bright", 50, 11025, "Hz"}, {"onsets", 0, 30, "per second"}};

// The inside of "[...]": comma-separated key=value. s points just past '['.
static int parse_targets(SectionDescriptors *t, const Word *w, const char *s, size_t len) {
    float *field[3] = {&t->loudness_lufs, &t->brightness_hz, &t->onset_density};
    size_t i = 0;
    for (;;) {
        size_t e = i;
        while (e < len && s[e] != ',') e++;
        size_t a = i, b = e;   // trim the item
        while (a < b && isspace((unsigned char)s[a])) a++;
        while (b > a && isspace((unsigned char)s[b - 1])) b--;
        if (a == b) return word_err(w, "empty target in '[...]'; give key=value items such as [loud=-12,onsets=3]; %s", TARGET_HINT);
        const char *eq = memchr(s + a, '=', b - a);
        size_t klen = eq ? (size_t)(eq - (s + a)) : b - a;
        while (klen > 0 && isspace((unsigned char)s[a + klen - 1])) klen--;
        int k = -1;
        for (int j = 0; j < 3; j++)
            if (strlen(TARGETS[j].key) == klen && strncmp(s + a, TARGETS[j].key, klen) == 0) k = j;
        if (k < 0) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(klen < 40 ? klen : 40), s + a);
            int best = 0;
            for (int j = 1; j < 3; j++)
                if (edit_distance(key, TARGETS[j].key) < edit_distance(key, TARGETS[best].key)) best = j;
            return word_err(w, "unknown target '%s' (did you mean '%s'?); %s", key, TARGETS[best].key, TARGET_HINT);
        }
        if (!eq) return word_err(w, "target '%s' needs a value ('%s=...'); %s", TARGETS[k].key, TARGETS[k].key, TARGET_HINT);
        if (!isnan(*field[k])) return word_err(w, "target '%s' is given twice", TARGETS[k].key);
        const char *v = eq + 1;
        while (v < s + b && isspace((unsigned char)*v)) v++;
        double x;
        if (parse_number(v, (size_t)(s + b - v), &x))
            return word_err(w, "target %s value '%.*s' is not a number; %s", TARGETS[k].key, (int)(s + b - v), v, TARGET_HINT);
        if (x < TARGETS[k].lo || x > TARGETS[k].hi)
            return word_err(w, "target %s=%g is outside %g..%g %s", TARGETS[k].key, x, TARGETS[k].lo, TARGETS[k].hi, TARGETS[k].unit);
        *field[k] = (float)x;
        if (e == len) return 0;
        i = e + 1;
    }
}

static int check_length(const Word *w, double sec, double bars, const FormOpts *o) {
    if (sec >= o->min_seconds && sec <= o->max_seconds) return 0;
    if (bars >= 0)
        return word_err(w, "length %g bars is %.1f s at %g bpm; must be between %g and %g seconds", bars, sec, o->bpm,
                        o->min_seconds, o->max_seconds);
    return word_err(w, "length must be between %g and %g seconds", o->min_seconds, o->max_seconds);
}

static int parse_word(SongSection *sec, double *seconds, const Word *w, const FormOpts *o) {
    const char *s = w->s;
    size_t n = (size_t)w->len;
    size_t lab = 0;   // the label runs up to ':', '[' or ']' (the word is not terminated)
    while (lab < n && !strchr(":[]", s[lab])) lab++;
    if (lab < n && s[lab] == ']') return word_err(w, "']' without '['; targets go in brackets: chorus[loud=-12]");
    if (lab == 0) return word_err(w, "missing label before '%c'; %s", s[0], LABEL_HINT);
    char label[64];
    snprintf(label, sizeof label, "%.*s", (int)(lab < 63 ? lab : 63), s);
    int id = lab < 63 ? cond_label_id(label) : -1;
    if (id < 0) return word_err(w, "unknown label (did you mean '%s'?); %s", nearest_label(label), LABEL_HINT);
    snprintf(sec->label, sizeof sec->label, "%.15s", id < N_NAMED ? cond_label_name(id) : label);   // fits: "A9999" at most

    size_t i = lab;
    double len_s = o->default_seconds[id], bars = -1;
    if (i < n && s[i] == ':') {   // the length, up to '[' or the end
        size_t a = ++i;
        while (i < n && s[i] != '[' && s[i] != ']') i++;
        if (i == a) return word_err(w, "missing length after ':'; give seconds (':16', ':7.5') or bars (':8b')");
        size_t b = i;
        char unit = s[b - 1];
        if (unit == 'b' || unit == 's') b--;
        double v;
        if (parse_number(s + a, b - a, &v))
            return word_err(w, "length '%.*s' is not a number; give seconds (':16', ':7.5') or bars (':8b')", (int)(i - a), s + a);
        if (unit == 'b') { bars = v; len_s = v * o->beats_per_bar * 60.0 / o->bpm; }
        else len_s = v;
        if (i < n && s[i] == ']') return word_err(w, "']' without '['; targets go in brackets: chorus:8b[loud=-12]");
    } else if (!(len_s >= o->min_seconds && len_s <= o->max_seconds)) {
        return word_err(w, "the default length of '%s', %g s, is outside %g..%g s; give one (':16')", sec->label, len_s,
                        o->min_seconds, o->max_seconds);
    }
    if (check_length(w, len_s, bars, o)) return -1;
    *seconds = len_s;

    if (i < n) {   // s[i] == '['
        const char *close = memchr(s + i + 1, ']', n - i - 1);
        const char *open = memchr(s + i + 1, '[', n - i - 1);
        if (!close) return word_err(w, "'[' without ']'; write targets as [loud=-12,bright=2400,onsets=3.5]");
        if (open && open < close) return word_err(w, "'[' inside '[...]'; write targets as [loud=-12,bright=2400,onsets=3.5]");
        if (close != s + n - 1)
            return word_err(w, "text '%.*s' after ']'; the length goes before the targets (chorus:8b[loud=-12])",
                            (int)(s + n - 1 - close), close + 1);
        if (parse_targets(&sec->desc, w, s + i + 1, (size_t)(close - (s + i + 1)))) return -1;
    }
    return 0;
}

// ---- the compact notation (Wang et al. 2024): i4A4A4B8b4A4B8o4 ----------------------------
static int is_compact(const Word *w) {
    if (w->len < 2 || !isalpha((unsigned char)w->s[0]) || !isdigit((unsigned char)w->s[1])) return 0;
    for (int i = 0; i < w->len; i++)
        if (!isalnum((unsigned char)w->s[i])) return 0;
    char label[64];
    snprintf(label, sizeof label, "%.*s", w->len < 63 ? w->len : 63, w->s);
    return w->len >= 63 || cond_label_id(label) < 0;
}

static int compact_count(const Word *w) {
    int k = 0;
    for (int i = 0; i < w->len; i++) k += isalpha((unsigned char)w->s[i]) != 0;
    return k;
}

__attribute__((format(printf, 5, 6))) static int item_err(const Word *w, int item, const char *s, int len,
                                                          const char *fmt, ...) {
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set("form: item %d '%.*s' of '%.*s%s': %s", item, len, s, w->len > WORD_SHOWN ? WORD_SHOWN : w->len, w->s,
                   w->len > WORD_SHOWN ? "..." : "", what);
}

static int parse_compact(SongSection *secs, double *seconds, const Word *w, const FormOpts *o) {
    int k = 0;
    for (int i = 0; i < w->len; k++) {
        const char *it = w->s + i;
        char c = *it;
        int nd = 0;
        while (i + 1 + nd < w->len && isdigit((unsigned char)it[1 + nd])) nd++;
        int len = 1 + nd;
        i += len;
        int id = c == 'i' ? 1 : c == 'o' ? 7 : c == 'b' ? 5 : isupper((unsigned char)c) ? cond_label_id((char[]){c, 0}) : -1;
        if (id < 0)
            return item_err(w, k + 1, it, len, "unknown letter '%c'; compact forms use i (intro), o (outro), b (bridge) and A..Z", c);
        if (nd == 0) return item_err(w, k + 1, it, len, "a letter needs a bar count after it ('%c4')", c);
        double bars = 0;
        for (int j = 1; j <= nd; j++) bars = 10 * bars + (it[j] - '0');
        double sec = bars * o->beats_per_bar * 60.0 / o->bpm;
        if (!(sec >= o->min_seconds && sec <= o->max_seconds))
            return item_err(w, k + 1, it, len, "%g bars is %.1f s at %g bpm; length must be between %g and %g seconds", bars,
                            sec, o->bpm, o->min_seconds, o->max_seconds);
        SongSection *s = &secs[k];
        snprintf(s->label, sizeof s->label, "%s", cond_label_name(id));
        seconds[k] = sec;
    }
    return 0;
}

// ---- the whole form -----------------------------------------------------------------------
// Splits text into words at whitespace outside brackets ("chorus[loud=-12, onsets=3]"
// stays one word). Returns the number of words; fills at most cap of them.
static int split_words(const char *text, Word *words, int cap) {
    int n = 0;
    const char *p = text;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *a = p;
        int depth = 0;
        for (; *p && (depth > 0 || !isspace((unsigned char)*p)); p++) {
            if (*p == '[') depth++;
            else if (*p == ']' && depth > 0) depth--;
        }
        if (n < cap) words[n] = (Word){a, (int)(p - a), n + 1};
        n++;
    }
    return n;
}

int form_parse(SongForm *f, const char *text, const FormOpts *o) {
    FormOpts def;
    if (!o) { form_opts_default(&def); o = &def; }
    *f = (SongForm){NULL, 0, o->bpm, 0};
    if (check_opts(o)) return -1;
    if (!text) text = "";
    int nw = split_words(text, NULL, 0);
    if (nw == 0) return err_set("form: empty (give section words such as \"intro verse chorus outro\")");
    Word *words = mallocCheck((size_t)nw * sizeof *words);
    split_words(text, words, nw);
    int compact = nw == 1 && is_compact(&words[0]);
    int n = compact ? compact_count(&words[0]) : nw;
    if (n > o->max_sections) {
        free(words);
        return err_set("form: %d sections; at most %d", n, o->max_sections);
    }
    SongSection *secs = callocCheck((size_t)n, sizeof *secs);
    double *seconds = callocCheck((size_t)n, sizeof *seconds);
    for (int i = 0; i < n; i++) {
        secs[i].confidence = NAN;
        secs[i].desc = SECTION_DESCRIPTORS_NONE;
    }
    int rc = 0;
    if (compact) rc = parse_compact(secs, seconds, &words[0], o);
    else
        for (int i = 0; i < n && rc == 0; i++) rc = parse_word(&secs[i], &seconds[i], &words[i], o);
    if (rc == 0) {
        double t = 0;
        for (int i = 0; i < n; i++) {
            secs[i].start = t;
            t += seconds[i];
            secs[i].end = t;
        }
        song_number_occurrences(secs, n);
        f->sections = secs;
        f->n = n;
        f->duration = t;
    } else free(secs);
    free(seconds);
    free(words);
    return rc;
}

void form_describe(const SongForm *f, char *buf, size_t cap) {
    if (cap == 0) return;
    buf[0] = 0;
    size_t o = 0;
    for (int i = 0; i < f->n && o < cap; i++) {
        const SongSection *s = &f->sections[i];
        int k = snprintf(buf + o, cap - o, "%s%s %.1fs", i ? " | " : "", s->label, s->end - s->start);
        if (k < 0) break;
        o += (size_t)k;
    }
}
