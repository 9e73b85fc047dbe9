// check.h — the tiny test harness every tests/test_*.c uses.
// Each check prints one line; check_summary() returns nonzero if any failed,
// so a test program can never pass while broken (unlike llm.c's CPU test).
#ifndef REFRAIN_CHECK_H
#define REFRAIN_CHECK_H
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int check_failures = 0, check_count = 0;

// CHECK(cond, "what, with %d numbers", ...): one named assertion.
#define CHECK(cond, ...) check_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
static inline int check_report(int ok, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    check_count++;
    if (!ok) check_failures++;
    printf("%s ", ok ? "  ok  " : "  FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok) printf("   (%s:%d)", file, line);
    printf("\n");
    fflush(stdout);
    return ok;
}

// DIR/NAME in one of 8 rotating buffers (so a call can pass a few at once):
// the tests' paths inside their temporary folder.
static inline const char *check_in_dir(const char *dir, const char *name) {
    static char buf[8][512];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

// Absolute-or-relative closeness: |got-want| <= atol + rtol*|want|.
static inline int check_close(const char *what, double got, double want, double atol, double rtol) {
    double err = fabs(got - want);
    return CHECK(err <= atol + rtol * fabs(want) && !isnan(got),
                 "%s: got %.6g want %.6g (err %.3g, tol %.3g)", what, got, want, err,
                 atol + rtol * fabs(want));
}

// Max abs difference between two float arrays, compared to a stated tolerance.
static inline int check_max_diff(const char *what, const float *got, const float *want, long n, double tol) {
    double m = 0;
    long at = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d > m || isnan(d)) { m = isnan(d) ? INFINITY : d; at = i; }
    }
    return CHECK(m <= tol, "%s: max |diff| %.3g at %ld (tol %.3g, n %ld)", what, m, at, tol, n);
}

static inline int check_summary(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}
#endif
