// test_nn_trainer — the training loop harness (nn/trainer.h) driven by a fake
// model whose step is a counter: it runs N steps, validates at the multiples
// of val_every and at the last step, writes one log row per step (validation
// columns on validation steps only), checkpoints on its timer, at the last
// step and at the time limit, stops at max_minutes (counted from `started`,
// or from its own start), cuts a resumed run's log rows past resume_step, and
// stops without saving when a hook fails, and on SIGINT / SIGTERM / SIGHUP finishes the
// step, saves and returns the stop (a second signal ends the process at once,
// 128 + the signal). Its stderr lines are checked too.
#include "nn/trainer.h"
#include "tests/check.h"
#include "util/util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXN 64
typedef struct {
    long step;                 // the "TrainState" step the hooks advance
    int tag;                   // written in every row, to tell runs apart in one log
    long fail_at;              // the step hook fails on reaching this step (0: never)
    long stall_at;             // the step hook does not advance on this step (0: never)
    int save_fails;            // the save hook fails
    int sleep_us;              // per step
    long signal_at;            // the step hook raises `sig` in this step (0: never)
    int sig;
    int save_signal;           // the save hook raises `sig` (a second signal while saving)
    int saves, vals;
    int begins;                // begin hook calls
    long begin_step;           // the step when it was called
    long saved_at[MAXN], val_at[MAXN];
} Fake;

static int fake_step(void *ctx, char *row, size_t row_cap, char *prog, size_t prog_cap) {
    Fake *f = ctx;
    if (f->sleep_us) usleep(f->sleep_us);
    if (f->fail_at && f->step + 1 == f->fail_at) return err_set("fake: loss is NaN at step %ld", f->fail_at);
    if (f->signal_at && f->step + 1 == f->signal_at) raise(f->sig);   // arrives mid-step
    if (!(f->stall_at && f->step + 1 == f->stall_at)) f->step++;
    snprintf(row, row_cap, "%d\t%ld", f->tag, 10 * f->step);
    snprintf(prog, prog_cap, "count %ld", f->step);
    return 0;
}

static int fake_validate(void *ctx, char *row, size_t row_cap, char *msg, size_t msg_cap) {
    Fake *f = ctx;
    if (f->vals < MAXN) f->val_at[f->vals++] = f->step;
    trainer_cat(row, row_cap, "\t%ld", -f->step);
    snprintf(msg, msg_cap, "validated at %ld", f->step);
    return 0;
}

static int fake_save(void *ctx) {
    Fake *f = ctx;
    if (f->saves < MAXN) f->saved_at[f->saves++] = f->step;
    if (f->save_signal) raise(f->sig);
    return f->save_fails ? err_set("fake: cannot write the checkpoint") : 0;
}

static void fake_begin(void *ctx) {
    Fake *f = ctx;
    f->begins++;
    f->begin_step = f->step;
}

static char g_dir[64], g_out[128], g_log[160], g_err[160];

static TrainerOpts opts(long steps) {
    TrainerOpts o = {.name = "fake", .out = g_out, .log_header = "tag\tcount\tval", .steps = steps, .val_every = 3,
                     .ckpt_minutes = 1e6};
    return o;
}

// trainer_run with stderr captured into g_err.
static int run(const TrainerOpts *o, Fake *f, int validate, long resume_step) {
    TrainerHooks h = {f, fake_step, validate ? fake_validate : NULL, fake_save, fake_begin};
    fflush(stderr);
    int saved = dup(2), fd = open(g_err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    int rc = trainer_run(o, &h, &f->step, resume_step);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    return rc;
}

static int err_has(const char *s) {
    static char buf[8192];
    FILE *f = fopen(g_err, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return strstr(buf, s) != NULL;
}

// The log's rows: step, seconds, tag, count and val (-1 when the row has no
// validation column). Returns the row count, -1 when the header is not the expected one.
typedef struct { long step; double sec; int tag; long count, val; int ncol; } Row;
static int read_log(Row *rows, int cap) {
    FILE *f = fopen(g_log, "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    if (!fgets(line, sizeof line, f) || strcmp(line, "step\tseconds\ttag\tcount\tval\n")) { fclose(f); return -1; }
    while (n < cap && fgets(line, sizeof line, f)) {
        Row *r = &rows[n++];
        r->val = -1;
        r->ncol = sscanf(line, "%ld\t%lf\t%d\t%ld\t%ld", &r->step, &r->sec, &r->tag, &r->count, &r->val);
    }
    fclose(f);
    return n;
}

static int same_list(const long *got, int n, const long *want, int m) {
    if (n != m) return 0;
    for (int i = 0; i < n; i++) if (got[i] != want[i]) return 0;
    return 1;
}

static void test_run(void) {
    TrainerOpts o = opts(7);
    Fake f = {.tag = 1};
    int rc = run(&o, &f, 1, -1);
    CHECK(rc == 0 && f.step == 7, "7 steps run (%s, step %ld)", rc ? err_msg() : "ok", f.step);
    const long val[] = {3, 6, 7}, save[] = {7};
    CHECK(same_list(f.val_at, f.vals, val, 3), "validation at steps 3, 6 and the last, 7 (%d validations)", f.vals);
    CHECK(same_list(f.saved_at, f.saves, save, 1), "one checkpoint, at the last step (%d saves, first at %ld)", f.saves,
          f.saves ? f.saved_at[0] : -1L);
    Row r[MAXN];
    int n = read_log(r, MAXN), ok = n == 7;
    for (int i = 0; ok && i < n; i++) {
        long s = i + 1;
        int is_val = s == 3 || s == 6 || s == 7;
        ok = r[i].step == s && r[i].tag == 1 && r[i].count == 10 * s && r[i].sec >= 0 &&
             (i == 0 || r[i].sec >= r[i - 1].sec) && r[i].ncol == (is_val ? 5 : 4) && (!is_val || r[i].val == -s);
    }
    CHECK(ok, "the log: its header, then 7 rows, step/seconds then the step's columns, the validation column on "
          "rows 3, 6, 7 only (%d rows)", n);
    CHECK(err_has("fake: step 3: validated at 3\n") && err_has("fake: step 7: validated at 7\n") &&
          err_has("fake: done at step 7 after 0.0 min; checkpoint ") && !err_has("--max-minutes"),
          "stderr: a line per validation and the closing 'done' line");

    // resumed from a checkpoint at step 4 (the first run went on to 7): rows 5..7 are redone
    Fake g = {.step = 4, .tag = 2};
    o = opts(9);
    rc = run(&o, &g, 1, 4);
    n = read_log(r, MAXN);
    ok = rc == 0 && n == 9;
    for (int i = 0; ok && i < n; i++) ok = r[i].step == i + 1 && r[i].tag == (i < 4 ? 1 : 2);
    CHECK(ok, "a run resumed at step 4 keeps rows 1-4 of the first run, drops its rows 5-7, and appends 5-9 (%d rows)", n);
    const long val2[] = {6, 9};
    CHECK(same_list(g.val_at, g.vals, val2, 2), "the resumed run validates at 6 and at its last step 9");

    // a new run (resume_step -1) over an old log starts the log anew
    Fake h = {.tag = 3};
    o = opts(2);
    rc = run(&o, &h, 0, -1);
    n = read_log(r, MAXN);
    CHECK(rc == 0 && n == 2 && r[0].tag == 3 && r[1].tag == 3 && r[1].ncol == 4,
          "a new run replaces an old log; without a validation hook, no validation column (%d rows)", n);
}

static void test_checkpoints_and_limits(void) {
    TrainerOpts o = opts(5);
    o.ckpt_minutes = 1e-9;   // every step: a 200 us step outlasts 60 ns
    Fake f = {.sleep_us = 200};
    int rc = run(&o, &f, 0, -1);
    const long every[] = {1, 2, 3, 4, 5};
    CHECK(rc == 0 && same_list(f.saved_at, f.saves, every, 5), "ckpt_minutes shorter than a step: a checkpoint after "
          "every step (%d saves)", f.saves);

    // the limit counted from `started`: two minutes ago, with a one-minute limit
    o = opts(100);
    o.max_minutes = 1;
    o.started = now_seconds() - 120;
    Fake g = {0};
    rc = run(&o, &g, 1, -1);
    Row r[MAXN];
    int n = read_log(r, MAXN);
    CHECK(rc == 0 && g.step == 1 && g.saves == 1 && g.saved_at[0] == 1 && n == 1,
          "past max_minutes (from `started`): stops after step 1 with a checkpoint (%ld steps, %d saves, %d rows)",
          g.step, g.saves, n);
    CHECK(err_has("fake: --max-minutes 1.0 reached at step 1; checkpoint ") && err_has("(resume with --resume)") &&
          err_has("fake: stopped at step 1 after "), "stderr: the time-limit line and the closing 'stopped' line");

    // started 0: from trainer_run's own start; 0.6 ms against 2 ms steps
    o = opts(100);
    o.max_minutes = 1e-5;
    Fake h = {.sleep_us = 2000};
    rc = run(&o, &h, 0, -1);
    CHECK(rc == 0 && h.step == 1 && h.saves == 1, "a tiny max_minutes from the run's start stops after one step with a "
          "checkpoint (%ld steps, %d saves)", h.step, h.saves);
    o.max_minutes = 0;
    o.steps = 3;
    Fake k = {.sleep_us = 2000};
    rc = run(&o, &k, 0, -1);
    CHECK(rc == 0 && k.step == 3 && k.saves == 1, "max_minutes 0 never stops early (%ld steps)", k.step);
}

static void test_failures(void) {
    TrainerOpts o = opts(10);
    Fake f = {.fail_at = 3};
    int rc = run(&o, &f, 1, -1);
    Row r[MAXN];
    int n = read_log(r, MAXN);
    CHECK(rc != 0 && strstr(err_msg(), "NaN at step 3") && f.saves == 0 && n == 2 && f.step == 2,
          "a failing step stops the run with its error and saves nothing (%s; %d saves, %d rows)", err_msg(), f.saves, n);
    CHECK(!err_has("done at step") && !err_has("stopped at step"), "no closing line after a failure");

    Fake g = {.stall_at = 4};
    rc = run(&o, &g, 1, -1);
    CHECK(rc != 0 && strstr(err_msg(), "advance") && g.saves == 0, "a step hook that does not advance the step is an "
          "error, not an endless loop: %s", err_msg());

    o.ckpt_minutes = 1e-9;
    Fake h = {.save_fails = 1, .sleep_us = 200};
    rc = run(&o, &h, 1, -1);
    CHECK(rc != 0 && strstr(err_msg(), "cannot write the checkpoint") && h.step == 1 && h.saves == 1,
          "a failing save stops the run at once: %s", err_msg());
}

// A second run on the same checkpoint is refused while the first holds its lock
// (another process: flock locks belong to the open file, so a second open here
// stands for it), leaving the first run's log as it was; once released it runs.
static void test_lock(void) {
    TrainerOpts o = opts(4);
    Fake f = {.tag = 1};
    run(&o, &f, 0, -1);
    Row before[MAXN];
    int nb = read_log(before, MAXN);
    char path[600];
    snprintf(path, sizeof path, "%s.lock", g_out);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "the test holds the lock");
    Fake g = {.tag = 2};
    int rc = run(&o, &g, 0, 2);
    Row after[MAXN];
    int na = read_log(after, MAXN);
    CHECK(rc != 0 && strstr(err_msg(), "another run is training") && strstr(err_msg(), path) && g.step == 0 &&
          g.saves == 0 && g.begins == 0 && na == nb && nb == 4, "a second run is refused (%s), no step, no begin hook, "
          "the log untouched (%d rows)", err_msg(), na);
    close(fd);
    Fake k = {.tag = 3};
    rc = run(&o, &k, 0, -1);
    CHECK(rc == 0 && k.step == 4 && k.begins == 1 && k.begin_step == 0, "with the lock released the run goes ahead, "
          "the begin hook called once before the first step (%d calls)", k.begins);
}

// SIGINT / SIGTERM / SIGHUP mid-step: the step ends, is logged and saved, and the run
// returns -1 with "stopped by SIG... after step N" (stop_signal() says which,
// for the CLI's 130 / 143 / 129); the handlers are put back and the next run goes on.
// A second signal (here during the save) ends the process at once with 128 +
// it; an ignored SIGINT stays ignored.
static void test_signals(void) {
    TrainerOpts o = opts(10);
    const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    signal(SIGINT, SIG_DFL);   // a test started with '&' without job control inherits SIGINT ignored
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);   // and one started with nohup SIGHUP
    for (int i = 0; i < 3; i++) {
        Fake f = {.signal_at = 4, .sig = sigs[i]};
        int rc = run(&o, &f, 1, -1);
        Row r[MAXN];
        int n = read_log(r, MAXN);
        const char *name = stop_signal_name(sigs[i]);
        char want[64];
        snprintf(want, sizeof want, "stopped by %s after step 4 of 10", name);
        CHECK(rc != 0 && strstr(err_msg(), want) && strstr(err_msg(), "resume with --resume") && f.step == 4 &&
              f.saves == 1 && f.saved_at[0] == 4 && n == 4 && r[3].step == 4 && stop_signal() == sigs[i],
              "%s in step 4: the step finishes, is logged (%d rows) and saved (%d saves, at %ld); %s", name, n,
              f.saves, f.saves ? f.saved_at[0] : -1L, err_msg());
        CHECK(err_has("fake: stopped at step 4 after"), "%s: the closing line says stopped", name);
        struct sigaction now;
        sigaction(sigs[i], NULL, &now);
        CHECK(now.sa_handler == SIG_DFL, "%s: the handler before the run is put back", name);
    }
    Fake g = {0};
    int rc = run(&o, &g, 0, -1);
    CHECK(rc == 0 && g.step == 10 && stop_signal() == 0, "the next run is not stopped by the last one's signal");

    signal(SIGINT, SIG_IGN);   // as in a job started with '&'
    Fake h = {.signal_at = 2, .sig = SIGINT};
    rc = run(&o, &h, 0, -1);
    CHECK(rc == 0 && h.step == 10, "an ignored SIGINT stays ignored: the run goes to its end (%ld steps)", h.step);
    signal(SIGINT, SIG_DFL);

    for (int i = 0; i < 3; i++) {   // a second signal during the step's save: the process ends at once
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            Fake k = {.signal_at = 2, .sig = sigs[i], .save_signal = 1};
            run(&o, &k, 0, -1);
            _exit(0);   // not reached
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[i], "a second %s while saving ends the process with %d "
              "(status %d)", stop_signal_name(sigs[i]), 128 + sigs[i], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/refrain-test-trainer-XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    snprintf(g_out, sizeof g_out, "%s/run.rfc", g_dir);
    snprintf(g_log, sizeof g_log, "%s.tsv", g_out);
    snprintf(g_err, sizeof g_err, "%s/stderr.txt", g_dir);
    g_quiet = 1;   // progress lines off; the validation and closing lines are the harness's own
    test_run();
    test_checkpoints_and_limits();
    test_failures();
    test_lock();
    test_signals();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) printf("  could not remove %s\n", g_dir);
    return check_summary("test_nn_trainer");
}
