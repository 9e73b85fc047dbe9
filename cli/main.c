// main.c — `refrain`: global options, then dispatch to a subcommand.
// To add a subcommand: write cli/cmd_<name>.c defining `const Command cmd_<name>`
// (its option table, summary and run function) and add its name to COMMANDS.
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/util.h"

#define COMMANDS(X) X(info) X(spectrogram) X(vocode) X(convert) X(mmagen) X(corpus) X(analyze) X(form) \
    X(train_ae) X(encode) X(decode) X(reconstruct) X(ae_eval) X(train_diffusion) X(denoiser_eval) X(generate) X(structure) \
    X(generate_eval) X(ablate)

#define DECLARE(name) extern const Command cmd_##name;
#define ENTRY(name) &cmd_##name,
COMMANDS(DECLARE)
static const Command *const commands[] = {COMMANDS(ENTRY)};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void print_help(void) {
    printf("refrain %s — writes whole songs with a latent-diffusion model, on the CPU\n\n", REFRAIN_VERSION);
    printf("usage: refrain [global options] COMMAND [options] ARGS\n\ncommands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        printf("  %-16s %s\n", commands[i]->spec->name, commands[i]->spec->summary);
    printf("\nglobal options (also accepted after COMMAND):\n");
    opts_print_global_help();
    printf("\n'refrain COMMAND --help' shows a command's options and their defaults.\n");
}

// The hidden `refrain --man`: refrain(1) in roff, built from the option tables
// that print --help (each command's run is called with --help in man mode, so its
// live defaults are the ones --help shows); `make install` writes it to
// share/man/man1/refrain.1, and tests/cli_install.sh checks it lists every option.
static int print_man(void) {
    printf(".TH REFRAIN 1 \"\" \"refrain %s\" \"User Commands\"\n", REFRAIN_VERSION);
    printf(".SH NAME\nrefrain \\- writes whole songs with a latent\\-diffusion model, on the CPU\n");
    printf(".SH SYNOPSIS\n.B refrain\n[\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR] \\fIARGS\\fR\n");
    printf(".SH DESCRIPTION\n"
           "refrain generates a song one section at a time from a form such as\n"
           ".IR \"intro verse chorus verse chorus outro\" ;\n"
           "each section remembers the sections made before it, so a chorus can come back as the chorus.\n"
           "Every command prints its options and their defaults with\n.BR \"refrain COMMAND \\-\\-help\" .\n");
    printf(".SH COMMANDS\n");
    opts_set_man(1);
    for (int i = 0; i < NCOMMANDS; i++) {
        char *av[] = {(char *)commands[i]->spec->name, "--help", NULL};
        if (commands[i]->run(2, av) != 0) return 1;
    }
    printf(".SH GLOBAL OPTIONS\nThese go before or after COMMAND.\n");
    opts_print_global_help();
    printf(".SH ENVIRONMENT\n.TP\n.B REFRAIN_MODEL_DIR\n"
           "a folder holding denoiser.rfc and ae.rfc, looked in first by every command that takes a model "
           "(a \\-\\-model or \\-\\-ae option overrides it)\n"
           ".SH FILES\n.TP\n.I PREFIX/share/refrain/denoiser.rfc, PREFIX/share/refrain/ae.rfc\n"
           "the shipped models, the default of every command that takes a model (generate, generate\\-eval, ablate, encode, "
           "decode, reconstruct, ae\\-eval, denoiser\\-eval, train\\-diffusion): looked for in $REFRAIN_MODEL_DIR, then in "
           "\\fIassets/\\fR and \\fI../share/refrain\\fR beside the binary, then in \\fIassets/\\fR in the current folder "
           "(a binary in a build folder run from the source tree); a program linking librefrain.so looks beside the library "
           "instead of the current folder\n"
           ".SH EXIT STATUS\n0 success, 1 a failure (one \"refrain: ...\" line on stderr), 2 bad usage,\n"
           "130, 143 or 129 a signal: SIGINT, SIGTERM or SIGHUP (train\\-ae and train\\-diffusion finish the step and save their checkpoint first).\n");
    return 0;
}

int main(int argc, char **argv) {
    tmp_cleanup_on_signals();   // Ctrl-C, SIGTERM or SIGHUP mid-write leaves no temporary file
    if (argc == 2 && strcmp(argv[1], "--man") == 0) return print_man();
    int cmd = argc, version = 0;
    int st = opts_parse_global(argc, argv, &cmd, &version);
    if (st != OPTS_OK) return st;
    if (version) { printf("refrain %s\n", REFRAIN_VERSION); return 0; }
    if (opts_help_requested()) { print_help(); return 0; }
    if (cmd >= argc) {
        fprintf(stderr, "refrain: no command given (see 'refrain --help')\n");
        return 2;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[cmd], commands[i]->spec->name) == 0) return commands[i]->run(argc - cmd, argv + cmd);
    fprintf(stderr, "refrain: unknown command '%s' (see 'refrain --help')\n", argv[cmd]);
    return 2;
}
