// test_util_outtx.c — the output transaction (util.h OutTx) and the cleanup of
// temporaries on SIGINT / SIGTERM (issue 17): every output or none, a failure
// named by the final path and its reason, no temporary left in any case.
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/check.h"
#include "util/util.h"

static char dir[256];

static const char *at(const char *name) { return check_in_dir(dir, name); }
static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }
static int n_files(void) {   // everything in the scratch folder, temporaries included
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}
static void clear(void) {
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') remove(at(e->d_name));
    if (d) closedir(d);
}
static int write_by_path(const char *tmp, const char *text) {   // what a library writer does
    FILE *f = fopen(tmp, "wb");
    if (!f) return err_set("cannot write %s", tmp);
    fputs(text, f);
    return fclose(f) ? err_set("cannot write %s", tmp) : 0;
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/refrain_outtx.XXXXXX");
    if (!mkdtemp(dir)) return 1;

    // 1. all succeed: every file under its name, nothing else
    OutTx tx;
    outtx_begin(&tx);
    FILE *f = outtx_fopen(&tx, at("a.json"));
    const char *tmp = outtx_add(&tx, at("b.png"));
    CHECK(f && tmp && strstr(tmp, ".tmp.") && !exists(at("a.json")), "temporaries first: %s", tmp ? tmp : err_msg());
    fputs("{}\n", f);
    CHECK(write_by_path(tmp, "png") == 0 && outtx_commit(&tx) == 0, "commit (%s)", err_msg());
    CHECK(exists(at("a.json")) && exists(at("b.png")) && n_files() == 2, "both renamed, no temporary (%d files)", n_files());
    clear();

    // 2. the second writer fails: the first is not left, the message names the final path
    outtx_begin(&tx);
    f = outtx_fopen(&tx, at("a.json"));
    fputs("{}\n", f);
    tmp = outtx_add(&tx, at("sub/none.png"));
    CHECK(!tmp && strstr(err_msg(), "does not exist"), "a missing folder is refused at add: %s", err_msg());
    tmp = outtx_add(&tx, at("c.png"));
    err_set("cannot write %s: the encoder failed", tmp);
    outtx_abort(&tx);
    CHECK(n_files() == 0, "abort leaves nothing (%d files)", n_files());
    CHECK(strstr(err_msg(), at("c.png")) && !strstr(err_msg(), ".tmp."), "the message names the final path: %s", err_msg());

    // 3. a stream's write error (a full disk: RLIMIT_FSIZE, SIGXFSZ ignored -> EFBIG) fails the
    //    commit, named by the final path with the reason, and removes the other output too
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &lim);
    outtx_begin(&tx);
    tmp = outtx_add(&tx, at("d.png"));
    write_by_path(tmp, "small");
    f = outtx_fopen(&tx, at("e.json"));
    for (int i = 0; i < 2000; i++) fputs("0123456789", f);
    int rc = outtx_commit(&tx);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK(rc == -1 && strstr(err_msg(), at("e.json")) && strstr(err_msg(), "File too large"),
          "a write error fails the commit: %s", err_msg());
    CHECK(n_files() == 0, "and nothing is left, not even the output that was fine (%d files)", n_files());

    // 4. SIGTERM and SIGINT mid-write: the temporaries are removed, exit 128 + signal
    const int sigs[2] = {SIGTERM, SIGINT};
    for (int k = 0; k < 2; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            // a shell's background job inherits SIGINT ignored (and the cleanup keeps an ignored
            // signal ignored, as a program started with '&' should): the default, as at a terminal
            signal(sigs[k], SIG_DFL);
            tmp_cleanup_on_signals();
            OutTx t;
            outtx_begin(&t);
            FILE *g = outtx_fopen(&t, at("f.ogg"));
            AtomicFile af;
            atomic_open(&af, at("g.rfc"));   // a library's own atomic file is cleaned up too
            fputs("partial", g);
            fflush(g);
            raise(sigs[k]);
            _exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[k] && n_files() == 0,
              "signal %d mid-write: exit %d, %d files left", sigs[k], WIFEXITED(st) ? WEXITSTATUS(st) : -1, n_files());
    }
    clear();

    // 5. SIGKILL mid-write leaves its temporary (nothing can run); the next write of
    // the same path removes it, and leaves a live process's and another file's alone
    pid_t dead = fork();
    if (dead == 0) {
        AtomicFile af;
        atomic_open(&af, at("c.rfc"));
        fputs("partial", af.f);
        fflush(af.f);
        raise(SIGKILL);
        _exit(0);
    }
    waitpid(dead, NULL, 0);
    char live[512], other[512], dead_tmp[512];
    snprintf(dead_tmp, sizeof dead_tmp, "%s.tmp.%ld.rfc", at("c.rfc"), (long)dead);
    snprintf(live, sizeof live, "%s.tmp.%ld.rfc", at("c.rfc"), (long)getppid());   // a live writer
    snprintf(other, sizeof other, "%s.tmp.%ld.rfc", at("d.rfc"), (long)dead);      // another path's
    CHECK(exists(dead_tmp) && write_by_path(live, "x") == 0 && write_by_path(other, "x") == 0 && n_files() == 3,
          "SIGKILL left its temporary %s", dead_tmp);
    AtomicFile af;
    CHECK(atomic_open(&af, at("c.rfc")) == 0 && fputs("whole", af.f) >= 0 && atomic_commit(&af) == 0, "rewrite (%s)",
          err_msg());
    CHECK(!exists(dead_tmp) && exists(live) && exists(other) && exists(at("c.rfc")) && n_files() == 3,
          "the next write removed the dead process's temporary only (%d files)", n_files());
    clear();
    rmdir(dir);
    return check_summary("test_util_outtx");
}
