// trainer — the loop every refrain trainer shares (train-ae, train-diffusion):
// call the model's step, validate at intervals, write one log row per step,
// show progress, checkpoint on a timer, at the last step and at the time limit,
// and say how the run ended. The model, its data, its loss and its checkpoint
// contents stay with the caller, behind three hooks; the harness owns the
// order of those steps, the clock and the log file.
//
// The log <out>.tsv: a header "step\tseconds\t<log_header>", then per step
// "<step>\t<seconds since trainer_run began>\t<step hook's columns>" plus the
// validation hook's columns on validation steps. A resumed run first drops the
// rows past its checkpoint's step, so the log reads as one uninterrupted run.
// A log that cannot be written is not fatal (training goes on without it).
//
// stderr: progress at most once a second ("<name>: step N/total  <prog>
// X steps/s  T left", util's progress(), silenced by g_quiet), a line per
// validation ("<name>: step N: <msg>"), a line when the time limit stops the
// run, and the closing "<name>: done|stopped at step N after M min; checkpoint <out>".
//
// Signals: during the run the first SIGINT, SIGTERM or SIGHUP (util.h
// stop_signals_defer) lets the current step finish, be logged and saved, and
// trainer_run returns -1 with "<name>: stopped by SIGTERM after step N of M;
// checkpoint <out> saved (resume with --resume)" (stop_signal() names it: the
// CLI exits 130 / 143 / 129);
// the resumed run is bit-identical to an uninterrupted one. A second signal
// ends the process at once (exit 128 + it), the checkpoint's temporary removed
// and the last complete checkpoint kept.
//
// Data-parallel runs (util/dist.h): every rank calls trainer_run and every
// step and validation hook (those sum over the ranks inside); only rank 0
// takes the lock, writes the log, prints and calls the save hook, and its
// clock decides --max-minutes for all; a signal to any rank stops every rank after the step. A hook failing on one rank of several
// prints "refrain: <name>: rank R of N: <error>" and ends every rank. With
// several ranks the closing lines add the time spent summing over them.
#ifndef REFRAIN_TRAINER_H
#define REFRAIN_TRAINER_H

#include <stddef.h>

typedef struct {
    const char *name;          // "train-ae", used in messages: "train-ae: step 250: ..."
    const char *out;           // training checkpoint path; the log is <out>.tsv
    const char *log_header;    // TSV header columns after "step\tseconds" (e.g. "loss\trec\tkl\tlr\tgnorm\tval_rec\tval_kl")
    long steps;                // planned total steps
    int val_every;             // validate when step % val_every == 0 and at the last step (<= 0: last step only)
    double ckpt_minutes;       // checkpoint interval (also at the last step and when stopping)
    double max_minutes;        // stop with a checkpoint after this much wall time since trainer_run started; 0 never
    double started;            // now_seconds() from which max_minutes counts; 0: when trainer_run starts
                               // (train-ae passes the time before it loaded the corpus, so its limit covers loading)
    int quiet;                 // 1: no validation lines (progress() follows g_quiet)
} TrainerOpts;

typedef struct {
    void *ctx;
    // One optimizer step: advances *step (the TrainState's step) by one. Writes the log columns of
    // this step (tab-separated, no leading tab) into row, and a short progress fragment
    // ("loss 0.1234  rec ...  |g| 0.5") into prog. Returns 0, or -1 with err_set() (NaN guard etc.:
    // the harness then stops and returns -1 with that error for the caller to print; it does NOT save).
    int (*step)(void *ctx, char *row, size_t row_cap, char *prog, size_t prog_cap);
    // Validation (EMA weights): row holds the step's columns; appends its own, each after a tab
    // (trainer_cat(row, row_cap, "\t%.5f", v)), and writes a one-line summary into msg
    // (printed as "<name>: step N: <msg>"). NULL: no validation.
    int (*validate)(void *ctx, char *row, size_t row_cap, char *msg, size_t msg_cap);
    // Writes the training checkpoint to opts.out. Returns 0, or -1 with err_set() (the run stops).
    int (*save)(void *ctx);
    // Called once on rank 0 when the run holds its lock, before the log and the first step: the
    // run's own files beside the checkpoint (train-ae's song list), which a refused run (another
    // holds the lock) must leave alone. NULL: none.
    void (*begin)(void *ctx);
} TrainerHooks;

// Capacity of the row, prog and msg buffers the hooks are given (bytes, with the NUL).
#define TRAINER_ROW_CAP 2048
#define TRAINER_PROG_CAP 256
#define TRAINER_MSG_CAP 512

// Runs until *step reaches opts->steps or max_minutes passes: step hook, validation at intervals,
// one log row per step in <out>.tsv (a resumed run, resume_step >= 0, first drops the rows past
// its checkpoint's step; resume_step < 0 starts a new log), progress on stderr at most once a second
// with steps/s and time left, checkpoints every ckpt_minutes, at the last step, at the time limit
// (with the "resume with --resume" message) and on SIGINT / SIGTERM / SIGHUP (then -1, see above), and the closing line
// "<name>: done|stopped at step N after M min; checkpoint <out>". *step is read, never written:
// the step hook advances it (a hook that does not is an error). Returns 0, or -1 with err_set().
int trainer_run(const TrainerOpts *opts, const TrainerHooks *hooks, const long *step, long resume_step);

// Appends printf-formatted text to the NUL-terminated buf of cap bytes (cut to fit).
void trainer_cat(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
