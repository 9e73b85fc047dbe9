#!/usr/bin/env bash
# make bench: runs every bench/*.sh in name order. Each writes its report under
# notebooks_exports/ and prints its ratios. Benchmarks never gate tests.
set -u
cd "$(dirname "$0")/.."
mkdir -p notebooks_exports
status=0
for b in bench/*.sh; do
    [ "$b" = bench/run.sh ] && continue
    echo "== $b"
    bash "$b" || { echo "benchmark $b failed" >&2; status=1; }
done
exit $status
