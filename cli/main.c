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

int main(int argc, char **argv) {
    tmp_cleanup_on_signals();   // Ctrl-C or SIGTERM mid-write leaves no temporary file
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
