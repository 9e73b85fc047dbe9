// opts.c — option-table parsing, range checks and generated help. See opts.h.
#include "cli/opts.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>   // openblas_set_num_threads
#ifdef _OPENMP
#include <omp.h>
#endif

#include "util/util.h"

static int g_threads = 0;   // 0: the libraries' default (all cores)
static int g_help = 0;
static int g_man = 0;     // --help prints the command's man page section (refrain --man)

// Text for roff: backslashes and hyphens escaped, a leading '.' or '\'' kept literal.
static void roff(const char *s) {
    for (const char *p = s; *p; p++) {
        if (p == s && (*p == '.' || *p == '\'')) fputs("\\&", stdout);
        if (*p == '\\') fputs("\\e", stdout);
        else if (*p == '-') fputs("\\-", stdout);
        else putchar(*p);
    }
}
static void roff_line(const char *s) { roff(s); putchar('\n'); }

static const Opt GLOBAL_OPTS[] = {
    {"threads", 0, OPT_INT, &g_threads, 0, 256, NULL, "N", "worker threads for OpenMP and OpenBLAS; 0 = all cores", 0},
    {"quiet", 'q', OPT_FLAG, &g_quiet, 0, 0, NULL, NULL, "no progress lines on stderr", 0},
    {"help", 'h', OPT_FLAG, &g_help, 0, 0, NULL, NULL, "show this help and exit", 0},
    {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
};

void opts_apply_threads(void) {
    if (g_threads <= 0) return;
#ifdef _OPENMP
    omp_set_num_threads(g_threads);
#endif
    openblas_set_num_threads(g_threads);
}

// ---- help ------------------------------------------------------------------------
static void choices_text(char *buf, size_t cap, const char *choices) {   // "a,b,c" -> "a, b or c"
    int n = 1, k = 0;
    for (const char *p = choices; *p; p++) n += *p == ',';
    size_t o = 0;
    buf[0] = 0;
    for (const char *p = choices; *p && o + 4 < cap; p++) {
        if (*p == ',') {
            k++;
            o += snprintf(buf + o, cap - o, k == n - 1 ? " or " : ", ");
        } else buf[o++] = *p, buf[o] = 0;
    }
}

static const char *choice_name(const char *choices, int index, char *buf, size_t cap) {
    const char *p = choices;
    for (int i = 0; i < index && p; i++) { p = strchr(p, ','); if (p) p++; }
    if (!p) return "?";
    size_t len = strcspn(p, ",");
    snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), p);
    return buf;
}

// The text after an option's name in --help and in the man page: its help, range and default.
static void describe(const Opt *t, char *right, size_t cap) {
    char def[160] = "", range[160] = "";
    switch (t->type) {
    case OPT_FLAG: break;
    case OPT_INT:
        snprintf(range, sizeof range, ", %.0f..%.0f", t->min, t->max);
        snprintf(def, sizeof def, " (default %d)", *(int *)t->value);
        break;
    case OPT_FLOAT:
        if (t->min == OPT_ABOVE_0) snprintf(range, sizeof range, ", above 0, at most %g", t->max);
        else snprintf(range, sizeof range, ", %g..%g", t->min, t->max);
        snprintf(def, sizeof def, " (default %g)", *(double *)t->value);
        break;
    case OPT_STRING:
        if (*(const char **)t->value) snprintf(def, sizeof def, " (default %s)", *(const char **)t->value);
        break;
    case OPT_CHOICE: {
        char all[128], one[64];
        choices_text(all, sizeof all, t->choices);
        snprintf(range, sizeof range, ": %s", all);
        snprintf(def, sizeof def, " (default %s)", choice_name(t->choices, *(int *)t->value, one, sizeof one));
        break;
    }
    }
    snprintf(right, cap, "%s%s%s", t->help, range, t->required ? " (required)" : def);
}

static void print_table(const Opt *t) {
    for (; t->name; t++) {
        char left[64], right[768];
        snprintf(left, sizeof left, "%c%c%c --%s%s%s", t->short_name ? '-' : ' ', t->short_name ? t->short_name : ' ',
                 t->short_name ? ',' : ' ', t->name, t->metavar ? " " : "", t->metavar ? t->metavar : "");
        describe(t, right, sizeof right);
        if (g_man) {
            printf(".TP\n");
            if (t->short_name) printf("\\fB\\-%c\\fR, ", t->short_name);
            printf("\\fB\\-\\-");
            roff(t->name);
            printf("\\fR");
            if (t->metavar) { printf(" \\fI"); roff(t->metavar); printf("\\fR"); }
            printf("\n");
            roff_line(right);
        } else printf("  %-22s %s\n", left, right);
    }
}

// The man page's section for one command: the same usage, summary and table as --help.
static void print_man_section(const OptSpec *spec) {
    printf(".SS ");
    roff_line(spec->name);
    printf(".B refrain ");
    roff_line(spec->name);
    if (spec->args[0]) { printf("\\fI"); roff(spec->args); printf("\\fR\n"); }
    for (const Opt *t = spec->opts; t->name; t++)
        if (t->required) {
            printf("\\fB\\-\\-");
            roff(t->name);
            printf("\\fR \\fI");
            roff(t->metavar ? t->metavar : "");
            printf("\\fR\n");
        }
    printf("[\\fIoptions\\fR]\n.PP\n");
    roff_line(spec->summary);
    print_table(spec->opts);
}

void opts_set_man(int on) { g_man = on; }

void opts_print_help(const OptSpec *spec) {
    if (g_man) { print_man_section(spec); return; }
    printf("usage: refrain %s%s%s", spec->name, spec->args[0] ? " " : "", spec->args);
    for (const Opt *t = spec->opts; t->name; t++)
        if (t->required) printf(" --%s %s", t->name, t->metavar ? t->metavar : "");
    printf(" [options]\n\n%s\n\noptions:\n", spec->summary);
    print_table(spec->opts);
    printf("global options:\n");
    print_table(GLOBAL_OPTS);
}

void opts_print_global_help(void) {
    print_table(GLOBAL_OPTS);
    if (g_man) printf(".TP\n\\fB\\-\\-version\\fR\nprint the version and exit\n");
    else printf("  %-22s %s\n", "    --version", "print the version and exit");
}

// ---- parsing ---------------------------------------------------------------------------
static const Opt *find(const Opt *t, const char *name, size_t len, char short_name) {
    for (; t->name; t++) {
        if (short_name ? t->short_name == short_name : (strlen(t->name) == len && strncmp(t->name, name, len) == 0))
            return t;
    }
    return NULL;
}

// One "refrain: CMD: <what> (see 'refrain CMD --help')" line; returns exit status 2.
__attribute__((format(printf, 2, 3))) static int usage_error(const char *cmd, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (cmd) fprintf(stderr, "refrain: %s: %s (see 'refrain %s --help')\n", cmd, what, cmd);
    else fprintf(stderr, "refrain: %s (see 'refrain --help')\n", what);
    return 2;
}

// Stores text into o's variable after checking it. Returns OPTS_OK or 2.
static int set_value(const char *cmd, const Opt *o, const char *text) {
    char *end;
    if (o->type == OPT_STRING) { *(const char **)o->value = text; return OPTS_OK; }
    if (o->type == OPT_CHOICE) {
        char one[64];
        for (int i = 0; strcmp(choice_name(o->choices, i, one, sizeof one), "?") != 0; i++)
            if (strcmp(one, text) == 0) { *(int *)o->value = i; return OPTS_OK; }
        char all[128];
        choices_text(all, sizeof all, o->choices);
        return usage_error(cmd, "--%s must be %s, got '%s'", o->name, all, text);
    }
    double v = strtod(text, &end);
    int bad = end == text || *end || !isfinite(v) || v < o->min || v > o->max ||
              (o->type == OPT_INT && v != floor(v));
    if (bad && o->type == OPT_FLOAT && o->min == OPT_ABOVE_0)
        return usage_error(cmd, "--%s must be a number above 0 and at most %.15g, got '%s'", o->name, o->max, text);
    if (bad)
        return usage_error(cmd, "--%s must be %s in %.15g..%.15g, got '%s'", o->name,
                           o->type == OPT_INT ? "an integer" : "a number", o->min, o->max, text);
    if (o->type == OPT_INT) *(int *)o->value = (int)v;
    else *(double *)o->value = v;
    return OPTS_OK;
}

// Handles argv[*i] (an option); advances *i past a separate value; *matched is
// the table entry it set. Returns OPTS_OK or 2.
static int parse_one(const char *cmd, const Opt *const tables[], int argc, char **argv, int *i, const Opt **matched) {
    const char *a = argv[*i], *name, *inline_val = NULL;
    size_t len;
    char short_name = 0;
    if (a[1] == '-') {
        name = a + 2;
        const char *eq = strchr(name, '=');
        len = eq ? (size_t)(eq - name) : strlen(name);
        if (eq) inline_val = eq + 1;
    } else {
        if (a[2]) return usage_error(cmd, "unknown option '%s'", a);
        name = a + 1;
        len = 1;
        short_name = a[1];
    }
    const Opt *o = NULL;
    for (int k = 0; tables[k] && !o; k++) o = find(tables[k], name, len, short_name);
    if (!o) return usage_error(cmd, "unknown option '%s'", a);
    *matched = o;
    if (o->type == OPT_FLAG) {
        if (inline_val) return usage_error(cmd, "--%s takes no value", o->name);
        *(int *)o->value = 1;
        return OPTS_OK;
    }
    if (!inline_val) {
        if (*i + 1 >= argc) return usage_error(cmd, "--%s needs a value (%s)", o->name, o->metavar ? o->metavar : "?");
        inline_val = argv[++*i];
    }
    return set_value(cmd, o, inline_val);
}

int opts_parse(const OptSpec *spec, int argc, char **argv, char **args) {
    const Opt *const tables[] = {spec->opts, GLOBAL_OPTS, NULL};
    int nargs = 0, only_args = 0;
    unsigned char seen[64] = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_args && strcmp(a, "--") == 0) { only_args = 1; continue; }
        if (!only_args && a[0] == '-' && a[1]) {
            const Opt *o = NULL;
            int st = parse_one(spec->name, tables, argc, argv, &i, &o);
            if (st != OPTS_OK) return st;
            for (int k = 0; spec->opts[k].name && k < 64; k++)   // given, for `required`
                if (&spec->opts[k] == o) seen[k] = 1;
            continue;
        }
        if (nargs == spec->nargs)
            return usage_error(spec->name, "unexpected argument '%s'", a);
        args[nargs++] = argv[i];
    }
    if (g_help) { opts_print_help(spec); return 0; }
    if (nargs < spec->nargs) return usage_error(spec->name, "missing %s", spec->args);
    for (int k = 0; spec->opts[k].name && k < 64; k++)
        if (spec->opts[k].required && !seen[k])
            return usage_error(spec->name, "--%s is required", spec->opts[k].name);
    opts_apply_threads();
    return OPTS_OK;
}

int opts_parse_global(int argc, char **argv, int *cmd, int *version) {
    const Opt top_only[] = {   // --version makes sense only before a command
        {"version", 0, OPT_FLAG, version, 0, 0, NULL, NULL, "print the version and exit", 0},
        {NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0},
    };
    const Opt *const tables[] = {GLOBAL_OPTS, top_only, NULL};
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--") == 0) { i++; break; }
        const Opt *o;
        int st = parse_one(NULL, tables, argc, argv, &i, &o);
        if (st != OPTS_OK) return st;
    }
    *cmd = i;
    opts_apply_threads();
    return OPTS_OK;
}

int opts_help_requested(void) { return g_help; }
