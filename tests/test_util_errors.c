// test_util_errors.c — the error convention: err_set returns -1 and keeps one
// line, truncated to its buffer; wrapping the previous message with
// err_set("context: %s", err_msg()) keeps it intact (the buffer it reads is
// the one it writes). The checked aligned allocation hands back zeroed,
// 64-byte aligned memory, and on failure exits naming the file and line.
#include "tests/check.h"
#include "util/util.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_aligned_check(void) {
    int aligned = 1, zeroed = 1;
    size_t sizes[] = {0, 1, 63, 64, 65, 1000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *p = alignedCheck(sizes[i]);
        aligned &= ((uintptr_t)p % 64) == 0;
        for (size_t j = 0; j < sizes[i]; j++) zeroed &= p[j] == 0;
        free(p);
    }
    CHECK(aligned && zeroed, "alignedCheck: 64-byte aligned and zeroed for 0..1000 bytes");
    float *q = aligned_alloc_check(32, 5 * sizeof(float), __FILE__, __LINE__);
    CHECK(((uintptr_t)q % 32) == 0, "aligned_alloc_check(32, 20 bytes) is 32-byte aligned");
    free(q);

    // Out of memory: the child exits 1 with "out of memory ... at FILE:LINE" on stderr.
    // (AddressSanitizer aborts on an impossible size before aligned_alloc can return NULL.)
#ifdef __SANITIZE_ADDRESS__
    printf("  note the out-of-memory exit is not checked under AddressSanitizer\n");
    return;
#endif
    char path[] = "/tmp/test_util_errors_XXXXXX";
    int fd = mkstemp(path);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        aligned_alloc_check(64, SIZE_MAX / 2, "somefile.c", 42);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    char msg[256] = {0};
    ssize_t got = pread(fd, msg, sizeof msg - 1, 0);
    close(fd);
    unlink(path);
    CHECK(got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 1 && strstr(msg, "somefile.c:42"),
          "an impossible aligned allocation exits 1 naming the file and line: %.*s",
          (int)strcspn(msg, "\n"), msg);
}

int main(void) {
    err_clear();
    CHECK(strcmp(err_msg(), "") == 0, "no message after err_clear");
    CHECK(err_set("cannot read %s: %s", "a.wav", "no such file") == -1, "err_set returns -1");
    CHECK(strcmp(err_msg(), "cannot read a.wav: no such file") == 0, "message: '%s'", err_msg());

    err_set("cannot use model '%s': %s (hint)", "m.rfc", err_msg());
    const char *want = "cannot use model 'm.rfc': cannot read a.wav: no such file (hint)";
    CHECK(strcmp(err_msg(), want) == 0, "wrapped message: '%s'", err_msg());

    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    err_set("%s", big);
    size_t n = strlen(err_msg());
    CHECK(n > 500 && n < sizeof big - 1, "a long message is truncated, not overrun (%zu chars kept)", n);
    err_set("outer: %s", err_msg());
    CHECK(strncmp(err_msg(), "outer: xxx", 10) == 0 && strlen(err_msg()) == n,
          "wrapping a full buffer keeps the prefix and stays within it");
    test_aligned_check();
    return check_summary("test_util_errors");
}
