// cli — what the subcommands share: the Command record the dispatch table in
// main.c lists, error printing, and reading an input excerpt.
// Exit status: 0 success, 1 a failure (one "refrain: ..." line), 2 bad usage,
// 130 / 143 / 129 a trainer stopped by SIGINT / SIGTERM / SIGHUP (after saving).
#ifndef REFRAIN_CLI_H
#define REFRAIN_CLI_H

#include "cli/opts.h"

typedef struct {
    const OptSpec *spec;    // name, usage, summary and options
    int (*run)(int argc, char **argv);   // argv[0] is the subcommand's name
} Command;

#include "refrain.h"   // REFRAIN_VERSION: the one version (--version, the shared library's name)

// Prints "refrain: <err_msg()>" and returns 1 (for `return fail();`), or 2
// when read_excerpt or check_output found the command line at fault, or
// 128 + the signal when a SIGINT, SIGTERM or SIGHUP stopped a trainer (130,
// 143, 129: it saved its checkpoint first; util.h stop_signal); under MPI every
// rank returns that stop and rank 0 alone prints it.
int fail(void);
// Reads IN as mono SAMPLE_RATE audio and keeps [start, start + duration)
// seconds (duration 0: to the end). Returns 0, or -1 with err_set() (a start
// past the end makes the next fail() exit 2).
int read_excerpt(const char *path, double start, double duration, float **x, long *n);
// Checks that the output's folder exists and its extension is one of exts
// ("wav,flac,ogg"), before any long work. Returns 0, or -1 with err_set() (an
// unknown extension makes the next fail() exit 2; a missing folder exits 1).
int check_output(const char *path, const char *exts);
// The model file a command reads: given (an explicit --model / --ae) as is, or
// else the shipped NAME ("ae.rfc", "denoiser.rfc") where every command looks for
// it: $REFRAIN_MODEL_DIR, beside the binary (assets/, ../share/refrain), then
// assets/ in the current folder (util.h model_file), its path kept in buf.
// NULL with err_set() naming the places looked in.
const char *cli_model(const char *given, const char *name, char *buf, size_t cap);
// train-ae's and train-diffusion's --stop-at N (0: none) against --steps M: N past M
// is a usage error (the trainers ran to M and ignored it). 2 after printing it, or 0.
int check_stop_at(const char *cmd, int stop_at, int steps);

// The sampling options generate, ablate and generate-eval share, one range and
// one help each (refrain.h's generate checks the same ranges: sampler/generate.c).
// v: the variable (int for INT and CHOICE, double for FLOAT); OPT_BPM needs
// conditioning/conditioning.h (FORM_BPM_MIN, FORM_BPM_MAX).
#define OPT_STEPS(v) {"steps", 0, OPT_INT, &(v), 1, 1000, NULL, "N", "sampling steps", 0}
#define OPT_SAMPLER(v) {"sampler", 0, OPT_CHOICE, &(v), 0, 0, "euler,heun,ab2,pingpong", "NAME", "ODE sampler", 0}
#define OPT_SCHEDULE(v) {"schedule", 0, OPT_CHOICE, &(v), 0, 0, "linear,logsnr,sao", "NAME", "time schedule", 0}
#define OPT_CFG(v) {"cfg", 0, OPT_FLOAT, &(v), 0, 20, NULL, "F", "guidance on the section labels and targets (1 = none)", 0}
#define OPT_MEMORY_GUIDANCE(v, help) {"memory-guidance", 0, OPT_FLOAT, &(v), -5, 20, NULL, "F", help, 0}
#define OPT_BPM(v) {"bpm", 0, OPT_FLOAT, &(v), FORM_BPM_MIN, FORM_BPM_MAX, NULL, "BPM", "tempo for lengths given in bars", 0}
#define OPT_STYLE(v) \
    {"style", 0, OPT_CHOICE, &(v), 0, 0, "none,mma,module,recording", "STYLE", "which part of the corpus to sound like", 0}
// refrain.h's rule for repeat_strength (sampler/generate.c): above 0, at most 1; ablate's sweep too.
#define REPEAT_STRENGTH_MAX 1
#define OPT_REPEAT_STRENGTH(v, help) {"repeat-strength", 0, OPT_FLOAT, &(v), OPT_ABOVE_0, REPEAT_STRENGTH_MAX, NULL, "X", help, 0}
#define OPT_VOCODER_ITERS(v) {"vocoder-iters", 0, OPT_INT, &(v), 1, 1000, NULL, "N", "Griffin-Lim iterations", 0}

// One output of a command: its final path (NULL: not asked for, skipped) and
// what to write there, one of: audio (format by the extension; float32 applies
// to .wav), the spectrogram PNG of mel_png (with timeline's boundaries when not
// NULL), a latent file, a timeline's JSON (json), an analysis's self-similarity
// PNG (ssm_png); or anything else a library function writes, given ctx: to a
// stream (to_stream(f, ctx), e.g. a JSON report) or by path (to_path(path, ctx),
// e.g. a PNG), each returning 0 or -1 with err_set().
typedef struct {
    const char *path;
    const refrain_audio *audio;
    int float32;
    const refrain_logmel *mel_png;
    const refrain_timeline *timeline;
    const refrain_latents *latents;
    const refrain_timeline *json;
    const refrain_analysis *ssm_png;
    int (*to_stream)(FILE *f, const void *ctx);
    int (*to_path)(const char *path, const void *ctx);
    const void *ctx;
} CliOutput;
// Writes out[0..n) all together or not at all (util.h OutTx): each under a
// temporary name beside its path, renamed into place once every one was
// written; on a failure every temporary is removed and err_msg() names the
// final path and the reason. Returns 0, or -1 with err_set() (for fail()).
int commit_outputs(const CliOutput *out, int n);

// refrain_vocode_params.progress for the commands: "griffin-lim i/n" lines (util.h progress).
void vocoder_progress(void *user, const char *stage, int section, int n, int step, int steps);

// A report's figures go beside it: the folder of report ("." when it has
// none), in buf (cap bytes). Returns buf.
const char *report_folder(char *buf, size_t cap, const char *report);

#endif
