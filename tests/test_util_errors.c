// test_util_errors.c — the error convention: err_set returns -1 and keeps one
// line, truncated to its buffer; wrapping the previous message with
// err_set("context: %s", err_msg()) keeps it intact (the buffer it reads is
// the one it writes).
#include "tests/check.h"
#include "util/util.h"
#include <string.h>

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
    return check_summary("test_util_errors");
}
