// trainer.c — the training loop harness (trainer.h): the order of a run's
// steps, its clock, its log file and its messages. It owns no model, data,
// loss or checkpoint contents (the hooks') and no command-line parsing.
// Split out of train-ae's loop so every trainer logs, checkpoints, stops and
// resumes the same way; train-ae's log, messages and checkpoints are
// byte-for-byte what its own loop wrote.
// Under mpirun (util/dist.h) every rank runs this loop and calls every hook
// (the step and validation hooks sum over the ranks inside); rank 0 alone
// holds the lock, writes the log, the progress and the checkpoints, and its
// clock decides the time limit for all.
#include "nn/trainer.h"
#include "util/dist.h"
#include "util/util.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

void trainer_cat(char *buf, size_t cap, const char *fmt, ...) {
    size_t n = strnlen(buf, cap);
    if (n + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void fmt_time(char *buf, size_t cap, double s) {
    if (s < 0 || !isfinite(s)) snprintf(buf, cap, "?");
    else if (s < 3600) snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

// The training log <out>.tsv, one row per step, opened for appending. A
// resumed run (resume_step >= 0) first drops the rows after its checkpoint's
// step: those steps are about to be redone, and the log should read as one
// uninterrupted run. NULL when it cannot be written (not fatal).
static FILE *open_log(const char *path, const char *header, long resume_step) {
    FILE *in = resume_step >= 0 ? fopen(path, "r") : NULL;
    AtomicFile af;
    if (atomic_open(&af, path)) { if (in) fclose(in); err_clear(); return NULL; }
    char *line = NULL;
    size_t cap = 0;
    if (!in || getline(&line, &cap, in) < 0) fprintf(af.f, "step\tseconds\t%s\n", header);
    else {
        fputs(line, af.f);   // the header
        while (getline(&line, &cap, in) >= 0) {
            char *end;
            long step = strtol(line, &end, 10);
            if (end != line && step <= resume_step) fputs(line, af.f);
        }
    }
    free(line);
    if (in) fclose(in);
    if (atomic_commit(&af)) { err_clear(); return NULL; }
    return fopen(path, "a");
}

// One run per checkpoint: an exclusive lock on <out>.lock, held until the run
// ends (the kernel drops it if the process dies). A second run on the same
// checkpoint would rewrite its log and overwrite its checkpoint with its own
// state. Returns the lock's descriptor, or -1 with err_set().
static int lock_run(const char *name, const char *out) {
    char path[4200];
    snprintf(path, sizeof path, "%s.lock", out);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return -2;   // a folder we cannot write: the checkpoint save will say so
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    close(fd);
    return err_set("%s: another run is training %s now (it holds %s); stop it first", name, out, path);
}

static int trainer_loop(const TrainerOpts *o, const TrainerHooks *h, const long *step, long resume_step) {
    char tsv[4200];
    snprintf(tsv, sizeof tsv, "%s.tsv", o->out);
    int lead = dist_rank() == 0;   // rank 0 logs, shows progress and saves
    if (lead && h->begin) h->begin(h->ctx);
    FILE *log = lead ? open_log(tsv, o->log_header ? o->log_header : "", resume_step) : NULL;
    double tstart = now_seconds(), t0 = o->started > 0 ? o->started : tstart;
    double tlast_ckpt = tstart, tlast_prog = 0;
    long step0 = *step;
    int rc = 0, stopped = 0, sig = 0;   // sig: the SIGINT, SIGTERM or SIGHUP that stopped the run
    double red0, wait0;   // time summing over the ranks before the loop (set-up), not counted
    dist_timing(&red0, &wait0, NULL);
    char row[TRAINER_ROW_CAP], prog[TRAINER_PROG_CAP], msg[TRAINER_MSG_CAP];
    while (*step < o->steps) {
        // the step
        long before = *step;
        row[0] = prog[0] = 0;
        if (h->step(h->ctx, row, sizeof row, prog, sizeof prog)) { rc = -1; break; }
        if (*step != before + 1) {
            rc = err_set("%s: the step hook moved the step from %ld to %ld (it must advance it by one)", o->name,
                         before, *step);
            break;
        }
        double now = now_seconds(), el = now - tstart;
        double sps = (*step - step0) / (el > 1e-9 ? el : 1e-9);
        // validation
        if (h->validate && ((o->val_every > 0 && *step % o->val_every == 0) || *step == o->steps)) {
            msg[0] = 0;
            if (h->validate(h->ctx, row, sizeof row, msg, sizeof msg)) { rc = -1; break; }
            progress_done();
            if (!o->quiet && lead) fprintf(stderr, "%s: step %ld: %s\n", o->name, *step, msg);
        }
        // log and progress
        if (log) { fprintf(log, "%ld\t%.2f\t%s\n", *step, el, row); fflush(log); }
        if (lead && now - tlast_prog > 1.0) {
            char left[32];
            fmt_time(left, sizeof left, (o->steps - *step) / (sps > 0 ? sps : 1e-9));
            progress("%s: step %ld/%ld  %s  %.2f steps/s  %s left", o->name, *step, o->steps, prog, sps, left);
            tlast_prog = now;
        }
        // checkpoint, time limit and signals
        int out_of_time = o->max_minutes > 0 && now - t0 > 60 * o->max_minutes;
        sig = stop_signal();
        if (dist_size() > 1) {   // rank 0's clock decides, and a signal to any rank stops every rank
            double flag[4] = {lead ? out_of_time : 0, sig == SIGINT, sig == SIGTERM, sig == SIGHUP};
            if (dist_allreduce_sum_double(flag, 4)) { rc = -1; break; }
            out_of_time = flag[0] > 0;
            sig = flag[2] > 0 ? SIGTERM : flag[3] > 0 ? SIGHUP : flag[1] > 0 ? SIGINT : 0;
            if (sig) stop_signal_agree(sig);
        }
        if (lead && (now - tlast_ckpt > 60 * o->ckpt_minutes || *step == o->steps || out_of_time || sig)) {
            if (h->save(h->ctx)) { rc = -1; break; }
            tlast_ckpt = now;
        }
        if (sig) break;
        if (out_of_time) {
            progress_done();
            if (lead) fprintf(stderr, "%s: --max-minutes %.1f reached at step %ld; checkpoint %s (resume with --resume)\n",
                    o->name, o->max_minutes, *step, o->out);
            stopped = 1;
            break;
        }
    }
    progress_done();
    if (log) fclose(log);
    // a signal during the last step's validation or save: that checkpoint is the run's end, so report it as stopped
    if (!rc && !sig && dist_size() == 1) sig = stop_signal();
    if (rc && dist_size() > 1) {   // the other ranks may be waiting in a sum this rank will never join
        fprintf(stderr, "refrain: %s: rank %d of %d: %s\n", o->name, dist_rank(), dist_size(), err_msg());
        dist_abort(1);
    }
    double wall = now_seconds() - tstart;
    if (!rc && lead && dist_size() > 1) {
        double red, wait;
        long calls;
        dist_timing(&red, &wait, &calls);
        red -= red0, wait -= wait0;
        fprintf(stderr, "%s: %d ranks (%s): summing over the ranks took %.2f s of %.2f s (%.1f%%)", o->name,
                dist_size(), dist_backend(), red, wall, 100 * red / (wall > 0 ? wall : 1));
        if (wait > 0) fprintf(stderr, ", waiting for the slowest rank %.2f s (%.1f%%)", wait, 100 * wait / (wall > 0 ? wall : 1));
        fprintf(stderr, "\n");
    }
    if (!rc && lead)
        fprintf(stderr, "%s: %s at step %ld after %.1f min; checkpoint %s\n", o->name, stopped || sig ? "stopped" : "done",
                *step, wall / 60, o->out);
    if (!rc && sig)
        rc = err_set("%s: stopped by %s after step %ld of %ld; checkpoint %s saved (resume with --resume)", o->name,
                     stop_signal_name(sig), *step, o->steps, o->out);
    return rc;
}

int trainer_run(const TrainerOpts *o, const TrainerHooks *h, const long *step, long resume_step) {
    int lock = dist_rank() == 0 ? lock_run(o->name, o->out) : -2;
    if (dist_size() > 1) {   // every rank learns whether rank 0 may run
        double refused = lock == -1;
        if (dist_allreduce_sum_double(&refused, 1)) return -1;
        if (refused > 0 && lock != -1) return err_set("%s: rank 0 could not start the run", o->name);
    }
    if (lock == -1) return -1;
    stop_signals_defer(1);   // SIGINT / SIGTERM / SIGHUP: finish the step, save, return
    int rc = trainer_loop(o, h, step, resume_step);
    stop_signals_defer(0);
    if (lock >= 0) close(lock);
    return rc;
}
