// test_fuzz_replay.c — replays every input under tests/fuzz/NAME/ through the
// libFuzzer harness fuzz/fuzz_NAME.c (included here under another name), so
// an input that once crashed a reader stays a regression test (crash-*, oom-*,
// ubsan-*, ... that were fixed), and the seeds fuzz/make_seeds.c writes (valid
// files, made here in a scratch folder: they are not committed). A crash fails the test by crashing it; `make debug` replays
// them under ASan and UBSan as the fuzzers ran. An oom-* input (libFuzzer's
// out-of-memory: an allocation of what a header claimed) runs in a child under
// a 1 GB address-space limit, outside ASan (whose shadow memory needs more), so
// the regression fails here too. Cheap: well under a second.
#include "fuzz/fuzz.h"   // first: it defines _GNU_SOURCE

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/check.h"

#define FUZZ_SEEDS_NO_MAIN
#include "fuzz/make_seeds.c"

#define LLVMFuzzerTestOneInput fuzz_audio
#include "fuzz/fuzz_audio.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_checkpoint
#include "fuzz/fuzz_checkpoint.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_form
#include "fuzz/fuzz_form.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_index
#include "fuzz/fuzz_index.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_latents
#include "fuzz/fuzz_latents.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_midi
#include "fuzz/fuzz_midi.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_shard
#include "fuzz/fuzz_shard.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_timeline
#include "fuzz/fuzz_timeline.c"
#undef LLVMFuzzerTestOneInput

static const struct {
    const char *name;
    int (*run)(const uint8_t *, size_t);
} HARNESS[] = {{"audio", fuzz_audio}, {"checkpoint", fuzz_checkpoint}, {"form", fuzz_form},   {"index", fuzz_index},
               {"latents", fuzz_latents}, {"midi", fuzz_midi},        {"shard", fuzz_shard}, {"timeline", fuzz_timeline}};

static int replay_dir(const char *root, const char *name, int (*run)(const uint8_t *, size_t), int *seeds) {
    char dir[1536];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        uint8_t *buf = malloc(1 << 20);
        size_t len = fread(buf, 1, 1 << 20, f);
        fclose(f);
#if !defined(__SANITIZE_ADDRESS__)
        if (strncmp(e->d_name, "oom-", 4) == 0) {
            pid_t pid = fork();
            if (pid == 0) {
                struct rlimit lim = {1L << 30, 1L << 30};
                setrlimit(RLIMIT_AS, &lim);
                run(buf, len);   // mallocCheck exits 1 when the limit refuses an allocation
                _exit(0);
            }
            int st = 0;
            waitpid(pid, &st, 0);
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: runs within 1 GB of address space", path);
        }
#endif
        run(buf, len);   // a regression crashes here (and ASan names it in `make debug`)
        free(buf);
        n++;
        *seeds += strncmp(e->d_name, "seed-", 5) == 0;
    }
    closedir(d);
    return n;
}

int main(void) {
    char seeds_dir[] = "/tmp/refrain-fuzz-seeds-XXXXXX";
    if (!CHECK(mkdtemp(seeds_dir) && fuzz_make_seeds(seeds_dir) == 0, "fuzz/make_seeds.c wrote the seeds (%s)", err_msg()))
        return check_summary("test_fuzz_replay");
    for (size_t h = 0; h < sizeof HARNESS / sizeof HARNESS[0]; h++) {
        int seeds = 0;
        int n = replay_dir(seeds_dir, HARNESS[h].name, HARNESS[h].run, &seeds);
        n += replay_dir("tests/fuzz", HARNESS[h].name, HARNESS[h].run, &seeds);
        CHECK(n > 0 && seeds > 0, "%s: %d inputs replayed (%d seeds, %d earlier crashes) without a crash", HARNESS[h].name,
              n, seeds, n - seeds);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", seeds_dir);
    if (system(cmd) != 0) printf("  could not remove %s\n", seeds_dir);
    return check_summary("test_fuzz_replay");
}
