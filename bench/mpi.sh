#!/usr/bin/env bash
# bench/mpi.sh — data-parallel training (util/dist.h) on this machine: the
# section denoiser at the shipped configuration (width 192, depth 6, K 16,
# context 48 + crop 208, global batch 16) trained for STEPS steps
#   r1t1  one process, 1 thread                 (what one core does)
#   r1t2  one process, 2 threads                (the machine, threaded)
#   r2t1  mpirun -np 2, 1 thread per rank       (the machine, 2 ranks)
#   r2p   the same with REFRAIN_DIST_PROFILE=1: a barrier before each gradient
#         sum, so the sum's own time (the transfer) is told from waiting for the
#         slower rank
# on a synthetic corpus (tests/test_dist --write-corpus: the step's cost does
# not depend on the music, only on the shapes). Throughput is taken from the
# log's clock over steps WARM+1 .. STEPS-1 (the first steps warm up; the last
# one validates). Then a model of N machines: step = compute / N + all-reduce
# of P parameters at a stated bandwidth and latency (assumptions in the report).
# Writes notebooks_exports/bench-mpi.md.
#
# Usage: bash bench/mpi.sh
#   STEPS=12 WARM=2, BATCH=16, WIDTH=192 DEPTH=6 (the denoiser), BUILD=build,
#   OUT=notebooks_exports/bench-mpi.md
# Time it on a quiet machine: the 2-rank runs are the ones background load hurts most.
set -u
cd "$(dirname "$0")/.."
. bench/cpu.sh
BUILD=${BUILD:-build}
STEPS=${STEPS:-12}
WARM=${WARM:-2}
BATCH=${BATCH:-16}
WIDTH=${WIDTH:-192}
DEPTH=${DEPTH:-6}
OUT=${OUT:-notebooks_exports/bench-mpi.md}
REFRAIN=${REFRAIN:-refrain}
MPI_BIN=$BUILD/refrain-mpi
make -s BUILD="$BUILD" REFRAIN="$REFRAIN" "$REFRAIN" "$MPI_BIN" "$BUILD/tests/test_dist" >&2 || exit 1
case $REFRAIN in /*) ;; *) REFRAIN=$PWD/$REFRAIN ;; esac
case $MPI_BIN in /*) ;; *) MPI_BIN=$PWD/$MPI_BIN ;; esac
command -v mpirun >/dev/null || { echo "bench/mpi.sh: no mpirun (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
[ "$STEPS" -ge $((WARM + 3)) ] || { echo "bench/mpi.sh: STEPS must be at least WARM + 3" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive
MPIRUN=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)

C=$tmp/corpus
"$BUILD/tests/test_dist" --write-corpus "$C" || exit 1
ARGS=(train-diffusion --data "$C" --ae "$C/ae.rfc" --latents "$C/lat.rfl" --steps "$STEPS" --batch "$BATCH"
      --width "$WIDTH" --depth "$DEPTH" --val-every 100000000 --ckpt-minutes 1440)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS
run() {   # NAME CMD...: training run, its log in $tmp/NAME.rfc.tsv, stderr in $tmp/NAME.err
    local name=$1; shift
    echo "  running $name: $*" >&2
    "$@" "${ARGS[@]}" --out "$tmp/$name.rfc" 2>"$tmp/$name.err" ||
        { tail -5 "$tmp/$name.err" >&2; echo "bench/mpi.sh: $name failed" >&2; exit 1; }
}
run r1t1 env OMP_NUM_THREADS=1 "$REFRAIN" --threads 1
run r1t2 env OMP_NUM_THREADS=2 "$REFRAIN" --threads 2
run r2t1 "${MPIRUN[@]}" -np 2 -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY "$MPI_BIN" --threads 1
run r2p  "${MPIRUN[@]}" -np 2 -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY -x REFRAIN_DIST_PROFILE=1 "$MPI_BIN" --threads 1
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# seconds per step over rows WARM+1 .. STEPS-1 of a log
per_step() { awk -F'\t' -v w="$WARM" -v s="$STEPS" 'NR > 1 && $1 == w { a = $2 } NR > 1 && $1 == s - 1 { b = $2 }
             END { printf "%.4f", (b - a) / (s - 1 - w) }' "$tmp/$1.rfc.tsv"; }
# the summing line: "took X s of Y s (..%), waiting for the slowest rank W s"
sum_s()  { grep -o 'summing over the ranks took [0-9.]* s' "$tmp/$1.err" | awk '{print $6}'; }
loop_s() { grep -o 'summing over the ranks took [0-9.]* s of [0-9.]* s' "$tmp/$1.err" | awk '{print $9}'; }
wait_s() { grep -o 'waiting for the slowest rank [0-9.]* s' "$tmp/$1.err" | awk '{print $6}'; }
P=$(grep -o 'model [0-9]* parameters' "$tmp/r1t1.err" | awk '{print $2}')
flop=$(grep -o '[0-9.]* GFLOP per step' "$tmp/r1t1.err" | awk '{print $1}')
s11=$(per_step r1t1); s12=$(per_step r1t2); s21=$(per_step r2t1); s2p=$(per_step r2p)
sum21=$(sum_s r2t1); loop21=$(loop_s r2t1); sum2p=$(sum_s r2p); loop2p=$(loop_s r2p); wait2p=$(wait_s r2p)
mpi_version=$(mpirun --version 2>/dev/null | head -1)

awk -v P="$P" -v B="$BATCH" -v flop="$flop" -v steps="$STEPS" -v s11="$s11" -v s12="$s12" -v s21="$s21" -v s2p="$s2p" \
    -v sum21="$sum21" -v loop21="$loop21" -v sum2p="$sum2p" -v loop2p="$loop2p" -v wait2p="$wait2p" \
    -v cpu="$(cpu_desc)" -v mpi="$mpi_version" -v load0="$load0" -v load1="$load1" -v width="$WIDTH" -v depth="$DEPTH" \
    -v warm="$WARM" -v took=$((SECONDS - t_start)) -v date="$(date -u +%Y-%m-%d)" '
function row(name, how, s) { printf "| %s | %s | %.3f | %.2f | %.1f | %.2fx |\n", name, how, s, 1 / s, B / s, s12 / s }
BEGIN {
    mb = 4 * P / 1e6
    # per step: all the sums of a run / its steps (the validation and set-up sums are few and small)
    ar21 = sum21 / steps; ar2p = sum2p / steps; wt2p = wait2p / steps
    printf "# Data-parallel training over MPI: throughput at 1 and 2 ranks\n\n"
    printf "`bash bench/mpi.sh` (%s, %s UTC; %d s). Machine: %s. %s.\n", "STEPS=" steps " WARM=" warm, date, took, cpu, mpi
    printf "Load average before / after: %s / %s (a busy machine slows the 2-rank runs most: each rank waits for the other at every step).\n\n", load0, load1
    printf "The section denoiser at width %d, depth %d (the shipped K 16, context 48 + crop 208 frames), %d parameters (%.1f MB of float32 gradient), global batch %d, %.1f GFLOP per step (forward; a training step is about 3x), on a synthetic corpus (the cost of a step depends on the shapes, not the music). Seconds per step from the training log over steps %d to %d (the first %d warm up, the last validates).\n\n", width, depth, P, mb, B, flop, warm + 1, steps - 1, warm
    printf "| run | how | s / step | steps / s | examples / s | vs 1 process x 2 threads |\n|---|---|---|---|---|---|\n"
    row("r1t1", "1 process, 1 thread", s11)
    row("r1t2", "1 process, 2 threads", s12)
    row("r2t1", "`mpirun -np 2`, 1 thread per rank", s21)
    row("r2p", "the same, `REFRAIN_DIST_PROFILE=1` (a barrier before each sum)", s2p)
    printf "\n## The share of the all-reduce in a step\n\n"
    printf "Timed inside the loop (util/dist.c counts the time in its sums; the trainer prints it at the end). Each step sums the gradient (%d floats, %.1f MB) as reduce-scatter + all-gather, plus two doubles (the loss and its frame count).\n\n", P, mb
    printf "- r2t1: %.3f s of summing per step, %.1f%% of the step (%.2f s over the %.2f s loop). This includes waiting at the sum for the slower rank.\n", ar21, 100 * ar21 / s21, sum21, loop21
    printf "- r2p: waiting for the slower rank %.3f s per step (%.1f%%), the sum itself %.3f s (%.1f%%): %.2f GB/s of gradient summed on this machine (shared memory between two processes).\n", wt2p, 100 * wt2p / s2p, ar2p, 100 * ar2p / s2p, (ar2p > 0 ? mb / 1000 / ar2p : 0)
    printf "- Two ranks against one process with two threads: %.2fx the throughput. Per core, one rank does %.3f s of compute per example against %.3f s for one thread alone.\n\n", s12 / s21, (s21 - ar21) / (B / 2), s11 / B
    # the model
    c1 = s12   # one machine = this one: 2 cores, the threaded single process
    printf "## What it predicts for N machines\n\n"
    printf "A model, not a measurement: step(N) = compute / N + all-reduce(P, N), with\n\n"
    printf "- compute = %.3f s, the step of one machine (this one, 1 process x 2 threads, r1t2), split evenly: global batch %d fixed (strong scaling, so N <= %d), and compute proportional to a rank'"'"'s examples (optimistic for small shares: per core, an example cost %.3f s in a batch of %d and %.3f s in a share of %d here);\n", c1, B, B, s11 / B, B, (s21 - ar21) / (B / 2), B / 2
    printf "- all-reduce = ring: 2 (N-1)/N x %.1f MB / bandwidth + 2 (N-1) x latency, at 10 Gbit/s Ethernet (1.25 GB/s, 50 us) and at 100 Gbit/s (12.5 GB/s, 5 us); no overlap of the sum with the backward pass (refrain sums after it);\n", mb
    printf "- every machine like this one, one rank each. Every rank does the whole AdamW and EMA update over the P parameters, which compute / N splits as if it shrank too: optimistic by that update'"'"'s time (a few ms at these sizes).\n\n"
    printf "| N | compute / N (s) | all-reduce 10 Gb (s) | step 10 Gb (s) | speed-up 10 Gb | all-reduce share | step 100 Gb (s) | speed-up 100 Gb |\n|---|---|---|---|---|---|---|---|\n"
    split("1 2 4 8 16", Ns, " ")
    for (k = 1; k <= 5 && Ns[k] <= B; k++) {
        N = Ns[k]; comp = c1 / N
        a10 = N > 1 ? 2 * (N - 1) / N * mb / 1250 + 2 * (N - 1) * 50e-6 : 0
        a100 = N > 1 ? 2 * (N - 1) / N * mb / 12500 + 2 * (N - 1) * 5e-6 : 0
        printf "| %d | %.3f | %.4f | %.3f | %.2fx | %.1f%% | %.3f | %.2fx |\n", N, comp, a10, comp + a10, c1 / (comp + a10), 100 * a10 / (comp + a10), comp + a100, c1 / (comp + a100)
    }
    printf "\nWith a global batch that grows with N instead (each machine keeps %d examples: weak scaling) the step stays %.3f s plus the same all-reduce, and the throughput is N times one machine'"'"'s, less the all-reduce'"'"'s share of the step.\n", B, c1
}' >"$OUT"
echo "bench/mpi.sh: wrote $OUT" >&2
grep -E '^\| r|^- r2' "$OUT"
