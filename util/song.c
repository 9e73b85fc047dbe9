// song.c — the song-structure type's helpers and its timeline JSON (util/song.h):
//   {"sections":[{"label":"verse","start":0.0,"end":12.5}, ...]}
// timeline_read refuses negative, reversed or overlapping sections, naming the
// index; timeline_write writes what it reads. Holds a small JSON tokenizer of
// its own (strict RFC 8259 syntax; tolerant of whitespace, a UTF-8 byte-order
// mark, unknown keys and any key order), private to the reader.
// It owns no drawing (audio/spectrogram.c) and no label vocabulary.
#include "util/song.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

// ---- the type ------------------------------------------------------------------------
void song_form_free(SongForm *f) {
    if (!f) return;
    free(f->sections);
    memset(f, 0, sizeof *f);
}

void song_number_occurrences(SongSection *s, int n) {
    for (int i = 0; i < n; i++) {
        int occ = 1;
        for (int j = 0; j < i; j++)
            if (strcmp(s[j].label, s[i].label) == 0) occ++;
        s[i].occurrence = occ;
    }
}

// ---- JSON tokenizer -------------------------------------------------------------
// The document becomes a flat array of tokens in document order. A container's
// children follow it; `next` is the index just past its whole subtree, so a
// reader skips a value it does not want in one step.
typedef enum { J_OBJECT, J_ARRAY, J_STRING, J_NUMBER, J_TRUE, J_FALSE, J_NULL } JType;
typedef struct {
    JType type;
    int start, end;   // byte span in the text (strings: inside the quotes)
    int size;         // objects: number of keys; arrays: number of items
    int next;         // index of the first token after this value
} JTok;
typedef struct {
    const char *s;
    int n, pos, depth;
    JTok *tok;
    int ntok, cap;
    char err[200];
} JParser;

static int j_fail(JParser *p, const char *what) {
    int line = 1, col = 1;
    for (int i = 0; i < p->pos && i < p->n; i++) {
        if (p->s[i] == '\n') { line++; col = 1; } else col++;
    }
    if (p->pos >= p->n) snprintf(p->err, sizeof p->err, "%s at end of file", what);
    else snprintf(p->err, sizeof p->err, "%s at line %d, column %d", what, line, col);
    return -1;
}
static void j_space(JParser *p) {
    while (p->pos < p->n && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos]) p->pos++;
}
static int j_push(JParser *p, JType t, int start) {
    if (p->ntok == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->tok = reallocCheck(p->tok, (size_t)p->cap * sizeof *p->tok);
    }
    p->tok[p->ntok] = (JTok){t, start, start, 0, 0};
    return p->ntok++;
}
static int j_value(JParser *p);
static int j_string(JParser *p) {   // at the opening quote
    int t = j_push(p, J_STRING, ++p->pos);
    while (p->pos < p->n && p->s[p->pos] != '"') {
        unsigned char ch = (unsigned char)p->s[p->pos];
        if (ch < 0x20) return j_fail(p, "control character inside a string");
        if (ch == '\\') {
            p->pos++;
            if (p->pos >= p->n) break;
            char e = p->s[p->pos];
            if (e == 'u') {
                for (int k = 1; k <= 4; k++)
                    if (p->pos + k >= p->n || !strchr("0123456789abcdefABCDEF", p->s[p->pos + k]) ||
                        !p->s[p->pos + k])
                        return j_fail(p, "bad \\u escape");
                p->pos += 4;
            } else if (!strchr("\"\\/bfnrt", e) || !e) {
                return j_fail(p, "bad escape in a string");
            }
        }
        p->pos++;
    }
    if (p->pos >= p->n) return j_fail(p, "unterminated string");
    p->tok[t].end = p->pos++;
    p->tok[t].next = p->ntok;
    return 0;
}
static int j_number(JParser *p) {
    int t = j_push(p, J_NUMBER, p->pos), i = p->pos;
    if (i < p->n && p->s[i] == '-') i++;
    if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') return j_fail(p, "bad number");
    if (p->s[i] == '0') i++;
    else while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    if (i < p->n && p->s[i] == '.') {
        i++;
        if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') { p->pos = i; return j_fail(p, "bad number"); }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') { p->pos = i; return j_fail(p, "bad number"); }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    p->pos = i;
    p->tok[t].end = i;
    p->tok[t].next = p->ntok;
    return 0;
}
static int j_word(JParser *p, const char *w, JType type) {
    int len = (int)strlen(w);
    if (p->n - p->pos < len || strncmp(p->s + p->pos, w, len) != 0) return j_fail(p, "unexpected character");
    int t = j_push(p, type, p->pos);
    p->pos += len;
    p->tok[t].end = p->pos;
    p->tok[t].next = p->ntok;
    return 0;
}
static int j_container(JParser *p, int is_obj) {
    if (++p->depth > 64) return j_fail(p, "nesting deeper than 64");
    int t = j_push(p, is_obj ? J_OBJECT : J_ARRAY, p->pos++);
    char close = is_obj ? '}' : ']';
    j_space(p);
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            j_space(p);
            if (is_obj) {
                if (p->pos >= p->n || p->s[p->pos] != '"') return j_fail(p, "expected a \"key\"");
                if (j_string(p)) return -1;
                j_space(p);
                if (p->pos >= p->n || p->s[p->pos] != ':') return j_fail(p, "expected ':'");
                p->pos++;
            }
            if (j_value(p)) return -1;
            p->tok[t].size++;
            j_space(p);
            if (p->pos < p->n && p->s[p->pos] == ',') { p->pos++; continue; }
            if (p->pos < p->n && p->s[p->pos] == close) { p->pos++; break; }
            return j_fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    p->tok[t].end = p->pos;
    p->tok[t].next = p->ntok;
    p->depth--;
    return 0;
}
static int j_value(JParser *p) {
    j_space(p);
    if (p->pos >= p->n) return j_fail(p, "expected a value");
    switch (p->s[p->pos]) {
    case '{': return j_container(p, 1);
    case '[': return j_container(p, 0);
    case '"': return j_string(p);
    case 't': return j_word(p, "true", J_TRUE);
    case 'f': return j_word(p, "false", J_FALSE);
    case 'n': return j_word(p, "null", J_NULL);
    default:  return j_number(p);
    }
}
// Tokenizes s[0..n). On failure returns -1 with p->err set.
static int json_parse(JParser *p, const char *s, int n) {
    memset(p, 0, sizeof *p);
    p->s = s;
    p->n = n;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) p->pos = 3;   // byte-order mark
    if (j_value(p)) return -1;
    j_space(p);
    if (p->pos < p->n) return j_fail(p, "unexpected text after the JSON value");
    return 0;
}
// Key token k of an object equals `key`? (keys with escapes never match)
static int json_key_is(const JParser *p, int k, const char *key) {
    int len = p->tok[k].end - p->tok[k].start;
    return (int)strlen(key) == len && strncmp(p->s + p->tok[k].start, key, len) == 0;
}
// Value of `key` in object token obj, or -1.
static int json_get(const JParser *p, int obj, const char *key) {
    int k = obj + 1;
    for (int i = 0; i < p->tok[obj].size; i++) {
        int v = p->tok[k].next;
        if (json_key_is(p, k, key)) return v;
        k = p->tok[v].next;
    }
    return -1;
}
static void utf8_put(char *out, int *o, int cap, unsigned cp) {
    char b[4];
    int n;
    if (cp < 0x80) { b[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { b[0] = (char)(0xC0 | cp >> 6); b[1] = (char)(0x80 | (cp & 63)); n = 2; }
    else { b[0] = (char)(0xE0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 63)); b[2] = (char)(0x80 | (cp & 63)); n = 3; }
    for (int i = 0; i < n; i++) { if (*o < cap) out[*o] = b[i]; (*o)++; }
}
// Decodes string token t into out (cap bytes with the NUL); returns its length
// in bytes (which may exceed cap-1: the caller decides whether that is an error).
static int json_string(const JParser *p, int t, char *out, int cap) {
    int o = 0;
    for (int i = p->tok[t].start; i < p->tok[t].end; i++) {
        char ch = p->s[i];
        if (ch == '\\') {
            char e = p->s[++i];
            if (e == 'u') {
                unsigned cp = (unsigned)strtoul((char[5]){p->s[i + 1], p->s[i + 2], p->s[i + 3], p->s[i + 4], 0}, NULL, 16);
                i += 4;
                if (cp >= 0xD800 && cp < 0xE000) cp = '?';   // surrogate halves: not worth pairing here
                utf8_put(out, &o, cap - 1, cp);
                continue;
            }
            ch = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
        }
        if (o < cap - 1) out[o] = ch;
        o++;
    }
    out[o < cap - 1 ? o : cap - 1] = 0;
    return o;
}

// ---- timeline -------------------------------------------------------------------------
static char *read_text(const char *path, int *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { err_set("cannot open timeline %s: %s", path, strerror(errno)); return NULL; }
    int cap = 4096, len = 0;
    char *buf = mallocCheck(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += (int)got;
        if (len == cap) {
            if (cap >= (1 << 24)) { fclose(f); free(buf); err_set("timeline %s: larger than 16 MiB", path); return NULL; }
            cap *= 2;
            buf = reallocCheck(buf, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); err_set("cannot read timeline %s", path); return NULL; }
    *n = len;
    return buf;
}

// The number at `key` in object obj: 1 and *out when present, 0 when absent,
// -1 (err_set) when it is not a number or not below 1e9. at: "sections[2]." or "".
static int get_number(const JParser *p, int obj, const char *key, double *out, const char *path, const char *at) {
    int v = json_get(p, obj, key);
    if (v < 0) return 0;
    if (p->tok[v].type != J_NUMBER) return err_set("timeline %s: %s%s is not a number", path, at, key);
    *out = strtod(p->s + p->tok[v].start, NULL);
    if (!(*out < 1e9)) return err_set("timeline %s: %s%s is too large", path, at, key);
    return 1;
}

// Reads sections[i] (object token t) into s.
static int get_section(const JParser *p, int t, SongSection *s, const char *path, int i) {
    char at[32];
    snprintf(at, sizeof at, "sections[%d].", i);
    if (p->tok[t].type != J_OBJECT) return err_set("timeline %s: sections[%d] is not an object", path, i);
    int lab = json_get(p, t, "label");
    if (lab >= 0) {
        if (p->tok[lab].type != J_STRING) return err_set("timeline %s: sections[%d].label is not a string", path, i);
        if (json_string(p, lab, s->label, sizeof s->label) >= (int)sizeof s->label)
            return err_set("timeline %s: sections[%d].label is longer than %d bytes", path, i, (int)sizeof s->label - 1);
    }
    for (int k = 0; k < 2; k++) {
        const char *key = k ? "end" : "start";
        int got = get_number(p, t, key, k ? &s->end : &s->start, path, at);
        if (got < 0) return -1;
        if (got == 0) return err_set("timeline %s: sections[%d] has no \"%s\"", path, i, key);
    }
    if (s->start < 0) return err_set("timeline %s: sections[%d] (%s) starts at a negative time %g", path, i, s->label, s->start);
    if (s->end <= s->start)
        return err_set("timeline %s: sections[%d] (%s) ends at %g, not after its start %g", path, i, s->label, s->end, s->start);
    double occ = 0;
    int got = get_number(p, t, "occurrence", &occ, path, at);
    if (got < 0) return -1;
    if (got && !(occ >= 1 && occ == floor(occ)))
        return err_set("timeline %s: sections[%d].occurrence %g is not a whole number from 1", path, i, occ);
    s->occurrence = (int)occ;   // 0: numbered by the caller
    double seed = 0;
    if ((got = get_number(p, t, "seed", &seed, path, at)) < 0) return -1;
    if (got && !(seed >= 1 && seed <= (double)SONG_SEED_MAX && seed == floor(seed)))
        return err_set("timeline %s: sections[%d].seed %g is not a whole number from 1 to %llu", path, i, seed,
                       SONG_SEED_MAX);
    s->seed = (uint64_t)seed;
    static const char *const KEYS[5] = {"confidence", "loudness_lufs", "rms_db", "brightness_hz", "onset_density"};
    float *field[5] = {&s->confidence, &s->desc.loudness_lufs, &s->desc.rms_db, &s->desc.brightness_hz,
                       &s->desc.onset_density};
    for (int k = 0; k < 5; k++) {
        double v = NAN;
        if (get_number(p, t, KEYS[k], &v, path, at) < 0) return -1;
        *field[k] = (float)v;
    }
    return 0;
}

typedef struct { double start; int index; } StartAt;   // for the overlap check
static int by_start(const void *a, const void *b) {
    const StartAt *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

// Each section must start at or after the end of the one before it in time.
static int check_overlaps(const SongForm *f, const char *path) {
    StartAt *order = mallocCheck((f->n ? f->n : 1) * sizeof *order);
    for (int i = 0; i < f->n; i++) order[i] = (StartAt){f->sections[i].start, i};
    qsort(order, f->n, sizeof *order, by_start);
    int rc = 0;
    for (int k = 1; k < f->n && rc == 0; k++) {
        int ia = order[k - 1].index, ib = order[k].index;
        const SongSection *a = &f->sections[ia], *b = &f->sections[ib];
        if (b->start < a->end)
            rc = err_set("timeline %s: sections[%d] (%s, %g-%g s) overlaps sections[%d] (%s, %g-%g s)", path, ib,
                         b->label, b->start, b->end, ia, a->label, a->start, a->end);
    }
    free(order);
    return rc;
}

int timeline_read(const char *path, SongForm *f) {
    memset(f, 0, sizeof *f);
    int n;
    char *text = read_text(path, &n);
    if (!text) return -1;
    JParser p;
    int rc = -1;
    if (json_parse(&p, text, n)) { err_set("timeline %s: malformed JSON: %s", path, p.err); goto done; }
    if (p.tok[0].type != J_OBJECT) { err_set("timeline %s: expected a JSON object {\"sections\": [...]}", path); goto done; }
    int arr = json_get(&p, 0, "sections");
    if (arr < 0 || p.tok[arr].type != J_ARRAY) { err_set("timeline %s: expected a \"sections\" array", path); goto done; }
    if (get_number(&p, 0, "bpm", &f->bpm, path, "") < 0 || get_number(&p, 0, "duration", &f->duration, path, "") < 0)
        goto done;
    if (f->bpm < 0 || f->duration < 0) { err_set("timeline %s: a negative bpm or duration", path); goto done; }
    f->n = p.tok[arr].size;
    f->sections = callocCheck(f->n ? f->n : 1, sizeof *f->sections);
    int t = arr + 1;
    for (int i = 0; i < f->n; i++, t = p.tok[t].next)
        if (get_section(&p, t, &f->sections[i], path, i)) goto done;
    for (int i = 0; i < f->n; i++) {   // occurrences not given: counted over the sections before
        SongSection *s = &f->sections[i];
        if (s->occurrence) continue;
        s->occurrence = 1;
        for (int j = 0; j < i; j++) s->occurrence += strcmp(f->sections[j].label, s->label) == 0;
    }
    rc = check_overlaps(f, path);
done:
    free(p.tok);
    free(text);
    if (rc) song_form_free(f);
    return rc;
}

static void put_string(FILE *fp, const char *s) {
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
        else if (c < 0x20) fprintf(fp, "\\u%04x", c);
        else fputc(c, fp);
    }
    fputc('"', fp);
}

int timeline_write(FILE *fp, const SongForm *f) {
    fputc('{', fp);
    if (f->bpm > 0) fprintf(fp, "\"bpm\": %g, ", f->bpm);
    if (f->duration > 0) fprintf(fp, "\"duration\": %.3f, ", f->duration);
    fprintf(fp, "\"sections\": [\n");
    for (int i = 0; i < f->n; i++) {
        const SongSection *s = &f->sections[i];
        const SectionDescriptors *d = &s->desc;
        fprintf(fp, "  {\"label\": ");
        put_string(fp, s->label);
        fprintf(fp, ", \"start\": %.3f, \"end\": %.3f", s->start, s->end);
        if (s->occurrence >= 1) fprintf(fp, ", \"occurrence\": %d", s->occurrence);
        if (isfinite(s->confidence)) fprintf(fp, ", \"confidence\": %.3f", s->confidence);
        if (s->seed) fprintf(fp, ", \"seed\": %llu", (unsigned long long)s->seed);
        if (isfinite(d->loudness_lufs)) fprintf(fp, ", \"loudness_lufs\": %.2f", d->loudness_lufs);
        if (isfinite(d->rms_db)) fprintf(fp, ", \"rms_db\": %.2f", d->rms_db);
        if (isfinite(d->brightness_hz)) fprintf(fp, ", \"brightness_hz\": %.1f", d->brightness_hz);
        if (isfinite(d->onset_density)) fprintf(fp, ", \"onset_density\": %.3f", d->onset_density);
        fprintf(fp, "}%s\n", i + 1 < f->n ? "," : "");
    }
    fprintf(fp, "]}\n");
    return ferror(fp) ? err_set("writing the timeline failed: %s", errno == ENOSPC ? "disk full" : strerror(errno)) : 0;
}

void timeline_print(FILE *fp, const SongForm *form) {
    fprintf(fp, "form: ");
    for (int i = 0; i < form->n; i++) fprintf(fp, "%s", form->sections[i].label);
    fprintf(fp, "   (%d sections, %.1f s)\n", form->n, form->duration);
    fprintf(fp, "  #  label     start      end   conf   LUFS  bright Hz  onsets/s\n");
    for (int i = 0; i < form->n; i++) {
        const SongSection *s = &form->sections[i];
        fprintf(fp, "%3d  %s%-3d  %8.2f %8.2f   %.2f  %6.1f  %9.0f  %8.2f\n", i + 1, s->label, s->occurrence,
                s->start, s->end, s->confidence, s->desc.loudness_lufs, s->desc.brightness_hz,
                s->desc.onset_density);
    }
}
