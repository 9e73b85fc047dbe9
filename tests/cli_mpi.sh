#!/usr/bin/env bash
# cli_mpi.sh — data-parallel training under mpirun (util/dist.h), on a tiny
# corpus and tiny models (seconds): for train-diffusion and train-ae,
#   - mpirun -np 1 of the MPI build is the serial binary, byte for byte;
#   - 2 ranks (and 3, whose shares of the batch of 4 are uneven) at the same
#     global batch train as one process: at step 1 (same weights, same
#     examples) every logged value (loss, its parts, gradient norm) equals the
#     single process's within one unit of its last printed digit, and at every
#     step of 6 (validation too) within REL = 1e-3 relative. Measured: at most
#     1.3e-4 (float sums in another order, which AdamW's division by the
#     gradient's RMS amplifies where a gradient nearly cancels); weighting each
#     rank's gradient 1/N instead of by its share of the batch gives a 3.5%
#     gradient norm at step 1 and 1e-3 to 5e-3 in the losses after;
#   - a run stopped at step 3 under 2 ranks and resumed under 1 continues it:
#     its log matches the uninterrupted runs' the same way;
#   - rank 0 alone writes the log and the closing lines;
#   - a SIGTERM to rank 1, or a SIGHUP to rank 0, stops both ranks: exit 143 /
#     129, one stop line (rank 0's), the checkpoint at the log's last step.
# The weights' largest difference is printed too (about 1e-6 to 2e-3 after 6
# steps of lr 3e-3, the same amplification).
# Needs mpirun and $BUILD/refrain-mpi (make $BUILD/refrain-mpi; `make test`
# builds it when OpenMPI is installed, and CI installs it); without them it
# prints "skipped: ..." and passes.
set -u
source "$(dirname "$0")/lib_cli.sh"
BUILD=${BUILD:-build}
MPI_BIN=${REFRAIN_MPI:-$BUILD/refrain-mpi}
case $MPI_BIN in /*) ;; *) MPI_BIN="$PWD/$MPI_BIN" ;; esac
if ! command -v mpirun >/dev/null; then
    echo "skipped: mpirun not found (apt-get install openmpi-bin libopenmpi-dev, or make deps; CI installs it)"; exit 0
fi
if [ ! -x "$MPI_BIN" ]; then
    echo "skipped: $MPI_BIN not built (make BUILD=$BUILD $BUILD/refrain-mpi)"; exit 0
fi
REL=1e-3
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
# One machine: more ranks than cores, no binding; root needs the two flags;
# no single-copy transfers (containers often forbid the ptrace they use).
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
# make debug (ASan): what OpenMPI leaves allocated at exit is not refrain's leak
MPIRUN+=(-x "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")

C=$tmp/corpus
"$BUILD/tests/test_dist" --write-corpus "$C" || { bad "cannot write the tiny corpus"; finish cli_mpi; exit; }

# same_log A B: A's and B's <ckpt>.tsv, every column but the time: at step 1
# (the same weights) equal within one unit of the last printed digit; at every
# step within REL (relative) plus that unit; numbers in e-notation (lr) exactly.
same_log() {
    awk -F'\t' -v rel="$REL" 'NR == FNR { if (FNR > 1) a[FNR] = $0; n = FNR; next }
        FNR > 1 { m = FNR; split(a[FNR], x, "\t")
            for (i = 1; i <= NF; i++) {
                if (i == 2) continue
                if ($i ~ /e/ || x[i] !~ /\./) { if ($i != x[i]) bad++; continue }
                dec = length(x[i]) - index(x[i], "."); unit = 10 ^ -dec
                d = $i - x[i]; if (d < 0) d = -d; ax = x[i] < 0 ? -x[i] : x[i]
                if (FNR == 2 && d > 1.0001 * unit) bad++
                if (d > rel * ax + 1.0001 * unit) bad++
                r = ax > 0 ? d / ax : 0; if (r > worst) { worst = r; wrow = FNR - 1; wcol = i }
            } }
        END { if (m != n) bad++
              printf "%d log rows, step 1 equal as printed, worst relative difference %.2g (step %d, column %d; tolerance %g)", m - 1, worst, wrow, wcol, rel
              exit bad > 0 }' "$1.tsv" "$2.tsv"
}
# same_weights A B: the largest weight difference (printed; only finite is required).
same_weights() { "$BUILD/tests/test_dist" --compare "$1" "$2" 1; }

check_pair() {   # WHAT A B: logs and weights of two runs
    local what=$1 l="" w=""
    if l=$(same_log "$2" "$3") && w=$(same_weights "$2" "$3"); then ok "$what: $l; $w"
    else bad "$what: log: $l; weights: $w"; fi
}

run_cmd() {   # NAME CMD ARGS...: one tiny training run, its stderr in $tmp/NAME.err
    local name=$1 kind=$2; shift 2
    local args
    if [ "$kind" = diffusion ]; then
        args=(train-diffusion --data "$C" --ae "$C/ae.rfc" --latents "$C/lat.rfl" --steps 6 --batch 4 --width 16
              --depth 1 --heads 2 --mem-k 2 --mem-sections 4 --context 4 --crop 16 --val-every 3 --lr 3e-3 --warmup 2)
    else
        args=(train-ae --data "$C" --steps 6 --batch 4 --crop 32 --z 4 --ch0 16 --ch1 16 --ch2 16 --enc-res 1
              --dec-res 1 --val-every 3 --lr 3e-3 --warmup 2)
    fi
    "$@" "${args[@]}" --out "$tmp/$name.rfc" $EXTRA >"$tmp/$name.out" 2>"$tmp/$name.err"
}

for kind in diffusion ae; do
    echo "train-$kind:"
    EXTRA=""
    if ! run_cmd $kind-1 $kind "$REFRAIN"; then bad "one process: $(tail -2 "$tmp/$kind-1.err")"; continue; fi
    if run_cmd $kind-mpi1 $kind "${MPIRUN[@]}" -np 1 "$MPI_BIN" && cmp -s "$tmp/$kind-1.rfc" "$tmp/$kind-mpi1.rfc" &&
       cmp -s <(cut -f1,3- "$tmp/$kind-1.rfc.tsv") <(cut -f1,3- "$tmp/$kind-mpi1.rfc.tsv"); then
        ok "mpirun -np 1 of the MPI build: the serial binary's log and checkpoint, byte for byte"
    else bad "mpirun -np 1: $(tail -3 "$tmp/$kind-mpi1.err")"; fi
    if run_cmd $kind-2 $kind "${MPIRUN[@]}" -np 2 "$MPI_BIN"; then
        check_pair "2 ranks against one process" "$tmp/$kind-1.rfc" "$tmp/$kind-2.rfc"
        n=$(grep -c "done at step 6" "$tmp/$kind-2.err"); rows=$(($(wc -l <"$tmp/$kind-2.rfc.tsv") - 1))
        sum=$(grep -o "summing over the ranks took .*" "$tmp/$kind-2.err")
        [ "$n" = 1 ] && [ "$rows" = 6 ] && [ -n "$sum" ] &&
            ok "rank 0 alone logs: 6 rows, one closing line ($sum)" ||
            bad "2 ranks: $n closing lines, $rows log rows, want 1 and 6"
    else bad "2 ranks: $(tail -3 "$tmp/$kind-2.err")"; fi
    if run_cmd $kind-3 $kind "${MPIRUN[@]}" -np 3 "$MPI_BIN"; then
        check_pair "3 ranks (shares 1, 1, 2 of 4) against one process" "$tmp/$kind-1.rfc" "$tmp/$kind-3.rfc"
    else bad "3 ranks: $(tail -3 "$tmp/$kind-3.err")"; fi
    EXTRA="--stop-at 3"
    run_cmd $kind-r $kind "${MPIRUN[@]}" -np 2 "$MPI_BIN" && EXTRA="--resume" && run_cmd $kind-r $kind "$REFRAIN"
    if [ "$EXTRA" = --resume ] && grep -q "resumed from .* at step 3" "$tmp/$kind-r.err"; then
        check_pair "2 ranks to step 3, resumed under 1 to 6, against one process" "$tmp/$kind-1.rfc" "$tmp/$kind-r.rfc"
        check_pair "the same against 2 ranks uninterrupted" "$tmp/$kind-2.rfc" "$tmp/$kind-r.rfc"
    else bad "stop and resume: $(tail -3 "$tmp/$kind-r.err")"; fi
done

# A signal to one rank stops every rank after the step: rank 0 saves at the log's
# last step and alone prints the stop line (every rank printed it), and every rank
# exits 128 + the signal (one the signal did not reach exited 1, and printed it).
rank_pid() {   # OUT RANK: the pid of that rank of the run writing OUT
    local p
    for p in $(pgrep -f -- "--out $1"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$p"
    done
}
echo "a signal to one rank of 2:"
for case in "TERM 1" "HUP 0"; do
    set -- $case
    sig=$1 rank=$2 name=diffusion-$1 want=$([ $1 = TERM ] && echo 143 || echo 129)
    EXTRA="--steps 100000000 --val-every 1000000"
    run_cmd $name diffusion env --default-signal=TERM,HUP "${MPIRUN[@]}" -np 2 "$MPI_BIN" &
    pid=$! t0=$SECONDS rp=""
    while kill -0 $pid 2>/dev/null && [ $((SECONDS - t0)) -lt 60 ]; do
        [ -z "$rp" ] && rp=$(rank_pid "$tmp/$name.rfc" "$rank")
        [ -n "$rp" ] && [ "$(wc -l <"$tmp/$name.rfc.tsv" 2>/dev/null || echo 0)" -gt 20 ] && break
        sleep 0.05
    done
    [ -n "$rp" ] && kill -"$sig" "$rp"
    wait $pid; rc=$?
    lines=$(grep -c "^refrain: train-diffusion: stopped by SIG$sig after step" "$tmp/$name.err")
    step=$("$REFRAIN" info "$tmp/$name.rfc" 2>/dev/null | sed -n 's/^training  step \([0-9]*\) of.*/\1/p')
    last=$(tail -n 1 "$tmp/$name.rfc.tsv" | cut -f1)
    if [ -n "$rp" ] && [ $rc -eq "$want" ] && [ "$lines" = 1 ] && [ -n "$step" ] && [ "$step" = "$last" ]; then
        ok "SIG$sig to rank $rank: exit $rc, one stop line, checkpoint at the log's last step $step"
    else
        bad "SIG$sig to rank $rank (pid ${rp:-not found}): exit $rc (want $want), $lines stop lines (want 1), checkpoint step ${step:-none}, log's last $last: $(tail -3 "$tmp/$name.err")"
    fi
done

finish cli_mpi
