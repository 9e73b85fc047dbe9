// opts — the CLI's option tables: one table per subcommand, holding each
// option's name, type, where its value goes, its allowed range and its help.
// Parsing, range checks and --help are generated from the table, so help
// always shows the live defaults (whatever the variable holds before parsing).
// It owns no subcommand logic. Errors print one "refrain: ..." line.
#ifndef REFRAIN_CLI_OPTS_H
#define REFRAIN_CLI_OPTS_H

#include <float.h>

// A FLOAT's min meaning "above 0" (the smallest positive float: every value
// that stays above 0 as a float passes); help and errors say "above 0".
#define OPT_ABOVE_0 FLT_TRUE_MIN

typedef enum { OPT_FLAG, OPT_INT, OPT_FLOAT, OPT_STRING, OPT_CHOICE } OptType;

typedef struct {
    const char *name;       // long name without dashes: "iters"; NULL ends a table
    char short_name;        // 'o', or 0
    OptType type;
    void *value;            // int* (FLAG, INT, CHOICE index), double* (FLOAT), const char ** (STRING)
    double min, max;        // INT and FLOAT: allowed range, inclusive (FLOAT min OPT_ABOVE_0: any value above 0)
    const char *choices;    // CHOICE: "pghi,random,zero"
    const char *metavar;    // "N", "FILE"
    const char *help;
    int required;
} Opt;

typedef struct {
    const char *name;       // "vocode"
    const char *args;       // positional arguments in the usage line: "IN"
    int nargs;              // exactly this many positional arguments
    const char *summary;    // one line, also shown by `refrain --help`
    const Opt *opts;        // the subcommand's table
} OptSpec;

// Status of a parse: go on, or stop and exit with 0 (help shown) or 2 (bad usage).
enum { OPTS_OK = -1 };

// Parses argv[1..argc) (argv[0] is the subcommand's name) against spec->opts and
// the global options (--threads, --quiet, --help). Positional arguments go to
// args[0..spec->nargs). Returns OPTS_OK, or the exit status to return now.
int opts_parse(const OptSpec *spec, int argc, char **argv, char **args);
// Top level: parses the global options (and --version) before the subcommand;
// *cmd is the index of the subcommand's name in argv (argc when none).
// Returns OPTS_OK or the exit status for bad usage.
int opts_parse_global(int argc, char **argv, int *cmd, int *version);
int opts_help_requested(void);   // --help was given
void opts_print_help(const OptSpec *spec);
void opts_print_global_help(void);
// Man page mode (the hidden `refrain --man`): --help and opts_print_global_help
// print roff (a .SS section per command, a .TP per option) from the same tables
// and the same live defaults instead of plain text.
void opts_set_man(int on);
// Applies --threads to OpenMP and OpenBLAS.
void opts_apply_threads(void);

#endif
