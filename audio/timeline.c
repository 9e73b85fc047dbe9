// timeline.c — reads a song's section timeline from JSON:
//   {"sections":[{"label":"verse","start":0.0,"end":12.5}, ...]}
// and refuses negative, reversed or overlapping sections, naming the index.
// Holds a small JSON tokenizer of its own (strict RFC 8259 syntax; tolerant
// of whitespace, a UTF-8 byte-order mark, unknown keys and any key order).
// It is self-contained so it can move to util/ when a second user needs it.
// It owns no drawing (spectrogram.c) and no timeline writing.
#include "audio/audio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

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

static int get_time(const JParser *p, int obj, const char *key, double *out, const char *path, int i) {
    int v = json_get(p, obj, key);
    if (v < 0) return err_set("timeline %s: sections[%d] has no \"%s\"", path, i, key);
    if (p->tok[v].type != J_NUMBER) return err_set("timeline %s: sections[%d].%s is not a number", path, i, key);
    *out = strtod(p->s + p->tok[v].start, NULL);
    if (!(*out < 1e9)) return err_set("timeline %s: sections[%d].%s is too large", path, i, key);
    return 0;
}

typedef struct { double start; int index; } StartAt;   // for the overlap check
static int by_start(const void *a, const void *b) {
    const StartAt *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

int timeline_read(const char *path, Timeline *tl) {
    memset(tl, 0, sizeof *tl);
    int n;
    char *text = read_text(path, &n);
    if (!text) return -1;
    JParser p;
    int rc = -1;
    if (json_parse(&p, text, n)) { err_set("timeline %s: malformed JSON: %s", path, p.err); goto done; }
    if (p.tok[0].type != J_OBJECT) { err_set("timeline %s: expected a JSON object {\"sections\": [...]}", path); goto done; }
    int arr = json_get(&p, 0, "sections");
    if (arr < 0 || p.tok[arr].type != J_ARRAY) { err_set("timeline %s: expected a \"sections\" array", path); goto done; }
    tl->n = p.tok[arr].size;
    tl->sections = callocCheck(tl->n ? tl->n : 1, sizeof(Section));
    int t = arr + 1;
    for (int i = 0; i < tl->n; i++, t = p.tok[t].next) {
        Section *s = &tl->sections[i];
        if (p.tok[t].type != J_OBJECT) { err_set("timeline %s: sections[%d] is not an object", path, i); goto done; }
        int lab = json_get(&p, t, "label");
        if (lab >= 0) {
            if (p.tok[lab].type != J_STRING) { err_set("timeline %s: sections[%d].label is not a string", path, i); goto done; }
            if (json_string(&p, lab, s->label, sizeof s->label) >= (int)sizeof s->label) {
                err_set("timeline %s: sections[%d].label is longer than %d bytes", path, i, (int)sizeof s->label - 1);
                goto done;
            }
        }
        if (get_time(&p, t, "start", &s->start, path, i) || get_time(&p, t, "end", &s->end, path, i)) goto done;
        if (s->start < 0) { err_set("timeline %s: sections[%d] (%s) starts at a negative time %g", path, i, s->label, s->start); goto done; }
        if (s->end <= s->start) {
            err_set("timeline %s: sections[%d] (%s) ends at %g, not after its start %g", path, i, s->label, s->end, s->start);
            goto done;
        }
    }
    // overlaps: sort indices by start, then each must start at or after the previous end
    StartAt *order = mallocCheck((tl->n ? tl->n : 1) * sizeof *order);
    for (int i = 0; i < tl->n; i++) order[i] = (StartAt){tl->sections[i].start, i};
    qsort(order, tl->n, sizeof *order, by_start);
    for (int k = 1; k < tl->n; k++) {
        int ia = order[k - 1].index, ib = order[k].index;
        const Section *a = &tl->sections[ia], *b = &tl->sections[ib];
        if (b->start < a->end) {
            err_set("timeline %s: sections[%d] (%s, %g-%g s) overlaps sections[%d] (%s, %g-%g s)", path,
                    ib, b->label, b->start, b->end, ia, a->label, a->start, a->end);
            free(order);
            goto done;
        }
    }
    free(order);
    rc = 0;
done:
    free(p.tok);
    free(text);
    if (rc) timeline_free(tl);
    return rc;
}

void timeline_free(Timeline *tl) {
    free(tl->sections);
    tl->sections = NULL;
    tl->n = 0;
}
