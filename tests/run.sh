#!/usr/bin/env bash
# Runs every test program given, then the CLI tests, and prints the closing
# line "N passed, N failed". Exit status is nonzero if anything failed.
set -u
# Shared 2-core machines: OpenMP's default spin-wait burns the other core's
# time (measured 2.5x slower steps at load 12). Passive waiting is read only at
# runtime start, so it is set here, before any test starts.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
pass=0; fail=0; failed=()
run_one() {
    local name=$1; shift
    local log; log=$(mktemp)
    local t0=$SECONDS
    if "$@" >"$log" 2>&1; then
        pass=$((pass+1)); echo "PASS $name ($((SECONDS-t0))s)"; grep -h '^skipped:' "$log" | sed 's/^/    /'   # a test that could not run says why
    else
        fail=$((fail+1)); failed+=("$name"); echo "FAIL $name ($((SECONDS-t0))s)"; sed 's/^/    /' "$log" | tail -40
    fi
    rm -f "$log"
}
for t in "$@"; do run_one "$(basename "$t")" "$t"; done
for s in tests/cli_*.sh; do [ -f "$s" ] && run_one "$(basename "$s")" bash "$s"; done
echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
