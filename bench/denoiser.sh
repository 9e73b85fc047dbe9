#!/usr/bin/env bash
# bench/denoiser.sh — the section denoiser (diffusion/denoiser.c) on this machine:
# (a) one training step of the shipped configuration at batch 16 (forward, flow
# loss, backward, AdamW), refrain at 1 and 2 threads against its PyTorch 1.13
# peer (bench/denoiser_peer.py: the module tests/make_denoiser_ref.py checks
# refrain against) at 1 and 2 threads, each with and without
# OPENBLAS_NUM_THREADS=1, the runs interleaved so background load falls on both
# alike; refrain's ratio is taken against PyTorch's fastest run.
# (b) refrain only: the cost of one sampling step of a 3-minute song (10
# sections of 390 latent frames, B 1, memory of the earlier sections), for the
# candidate sizes in SIZES, and what 16 steps x 2 forwards (guidance) make of it.
# Writes notebooks_exports/bench-denoiser.md and prints the ratios.
#
# Usage: bash bench/denoiser.sh
#   ITERS=5 WARMUP=2 (training steps timed / discarded), REPS=3 (song steps timed),
#   SIZES="192x6 256x6 320x6 256x8" (width x depth), STEPS=16 FORWARDS=2,
#   BUILD=build (the make build folder the bench program is built in)
set -u
cd "$(dirname "$0")/.."
. bench/cpu.sh
BUILD=${BUILD:-build}
BIN=$BUILD/bench/bench_denoiser
PY=/usr/bin/python3
ITERS=${ITERS:-5}
WARMUP=${WARMUP:-2}
REPS=${REPS:-3}
SIZES=${SIZES:-192x6 256x6 320x6 256x8}
STEPS=${STEPS:-16}
FORWARDS=${FORWARDS:-2}
BUDGET_S=10
OUT=notebooks_exports/bench-denoiser.md
make -s BUILD="$BUILD" "$BIN" >&2 || exit 1
$PY -c 'import torch' 2>/dev/null || { echo "bench/denoiser.sh: $PY has no torch (apt-get install python3-torch)" >&2; exit 1; }
mkdir -p notebooks_exports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS
run() {   # run NAME CMD...: output to $tmp/NAME
    local name=$1; shift
    echo "  running $name: $*" >&2
    "$@" > "$tmp/$name" || { echo "bench/denoiser.sh: failed: $*" >&2; exit 1; }
}
TARGS=(bench/denoiser_peer.py --iters "$ITERS" --warmup "$WARMUP")
RARGS=(train --iters "$ITERS" --warmup "$WARMUP")
run r1  "$BIN" "${RARGS[@]}" --threads 1
run t1  env -u OPENBLAS_NUM_THREADS "$PY" "${TARGS[@]}" --threads 1
run t1b env OPENBLAS_NUM_THREADS=1 "$PY" "${TARGS[@]}" --threads 1
run r2  "$BIN" "${RARGS[@]}" --threads 2
run t2  env -u OPENBLAS_NUM_THREADS "$PY" "${TARGS[@]}" --threads 2
run t2b env OPENBLAS_NUM_THREADS=1 "$PY" "${TARGS[@]}" --threads 2
# passive waiting (threads sleep at barriers instead of spinning) when other processes hold the cores
run r2p env OMP_WAIT_POLICY=passive "$BIN" "${RARGS[@]}" --threads 2
for sz in $SIZES; do
    w=${sz%x*}; d=${sz#*x}
    run "s1_$sz"  "$BIN" sample --reps "$REPS" --width "$w" --depth "$d" --threads 1
    run "s2_$sz"  "$BIN" sample --reps "$REPS" --width "$w" --depth "$d" --threads 2
    run "s2p_$sz" env OMP_WAIT_POLICY=passive "$BIN" sample --reps "$REPS" --width "$w" --depth "$d" --threads 2
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$((SECONDS - t_start))

get() { awk -v k="$2" '$1 == k { print $2; exit }' "$tmp/$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
read -r tt_best tt_run < <(for r in t1 t1b t2 t2b; do echo "$(get $r train_step_s) $r"; done | sort -g | head -1)
read -r rr_best rr_run < <(for r in r1 r2 r2p; do echo "$(get $r train_step_s) $r"; done | sort -g | head -1)
label() {
    case $1 in
        r1) echo "refrain, 1 thread";; r2) echo "refrain, 2 threads";;
        r2p) echo "refrain, 2 threads, OMP_WAIT_POLICY=passive";;
        t1) echo "PyTorch, 1 thread";; t1b) echo "PyTorch, 1 thread, OPENBLAS_NUM_THREADS=1";;
        t2) echo "PyTorch, 2 threads";; t2b) echo "PyTorch, 2 threads, OPENBLAS_NUM_THREADS=1";;
        s1_*) echo "sampling ${1#s1_}, 1 thread";; s2_*) echo "sampling ${1#s2_}, 2 threads";;
        s2p_*) echo "sampling ${1#s2p_}, 2 threads, OMP_WAIT_POLICY=passive";;
    esac
}
B=$(get r1 batch); T=$(get r1 frames); S=$(get r1 memory_tokens)
fl=$(get r1 train_flops)
{
echo "# Section denoiser: training step vs PyTorch 1.13, and the cost of sampling a song"
echo
echo "Written by \`bash bench/denoiser.sh\` (ITERS=$ITERS, WARMUP=$WARMUP, REPS=$REPS) on $(date -u '+%Y-%m-%d %H:%M UTC'), $elapsed s in all."
echo "Machine: $(cpu_desc);"
echo "load average $load0 before the run, $load1 after (every figure is a median; the"
echo "training runs are interleaved so background load falls on both sides alike)."
echo
if awk -v l="${load0%% *}" -v m="${load1%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2 || m > n / 2) }'; then
    echo "**Measured while other jobs held the machine** (1-minute load ${load0%% *} before, ${load1%% *} after,"
    echo "on $(nproc) CPUs): wall-clock figures measure the scheduler as much as the code, two-thread"
    echo "runs suffer most (their threads wait for each other), and every figure here is slower"
    echo "than a quiet machine gives. The one-thread CPU-time columns are the steadier comparison."
    echo "Rerun \`bash bench/denoiser.sh\` on a quiet machine for the figures that choose the size."
    echo
fi
echo "Model: \`denoiser_config_default()\`: $(awk '$1 == "config" { $1 = ""; print substr($0, 2); exit }' "$tmp/r1")"
echo "(K tokens per remembered section), $(get r1 params) parameters, 32 latent channels, MLP 4x."
echo "The PyTorch peer is \`tests/make_denoiser_ref.py\`'s module (the golden test's reference)"
echo "in float32 with \`torch.optim.AdamW\`; refrain runs plain AdamW too (no clipping, no EMA)."
echo "FLOPs count matmuls and attention products analytically (\`denoiser_flops_forward\`;"
echo "a training step counts 3x the forward)."
echo
echo "## (a) Training step: batch $B, $T frames (48 context + 208 new), $S memory tokens"
echo
echo "Example b remembers b mod 17 sections (b x 8 valid tokens), every fourth example"
echo "ends in 40 padding frames, context frames carry no loss."
echo
echo "| run | step (ms) | frames/s | GFLOP/s | PyTorch best / this |"
echo "| --- | ---: | ---: | ---: | ---: |"
for r in r1 r2 r2p t1 t1b t2 t2b; do
    s=$(get $r train_step_s)
    x=$(calc %.2fx "$tt_best/$s"); case $r in r*) x="**$x**";; esac
    echo "| $(label $r) | $(calc %.0f "$s*1000") | $(calc %.0f "$B*$T/$s") | $(calc %.1f "$fl/$s/1e9") | $x |"
done
echo
echo "PyTorch's fastest: $(label "$tt_run"), $(calc %.0f "$tt_best*1000") ms. refrain's fastest: $(label "$rr_run"),"
echo "$(calc %.0f "$rr_best*1000") ms: **$(calc %.2fx "$tt_best/$rr_best")** PyTorch's best (the issue asks at least 1.5x, aims at 2x)."
echo
echo "One thread, process CPU time per step (what the work costs while other processes hold the cores):"
echo
echo "| run | CPU per step (ms) |"
echo "| --- | ---: |"
for r in r1 t1 t1b; do echo "| $(label $r) | $(calc %.0f "$(get $r train_step_cpu_s)*1000") |"; done
read -r tc_best _ < <(for r in t1 t1b; do echo "$(get $r train_step_cpu_s) $r"; done | sort -g | head -1)
echo "| **PyTorch best / refrain** | **$(calc %.2fx "$tc_best/$(get r1 train_step_cpu_s)")** |"
echo
echo "Where refrain's step goes (wall clock; backward = loss step - a separately timed forward):"
echo
echo "| run | zero grads (ms) | forward (ms) | loss + backward (ms) | AdamW (ms) |"
echo "| --- | ---: | ---: | ---: | ---: |"
for r in r1 r2 r2p; do
    echo "| $(label $r) | $(calc %.1f "$(get $r step_zero_s)*1000") | $(calc %.0f "$(get $r step_fwd_s)*1000") | $(calc %.0f "($(get $r step_loss_s)-$(get $r step_fwd_s))*1000") | $(calc %.1f "$(get $r step_adamw_s)*1000") |"
done
echo
echo "## (b) Sampling: one step over a 3-minute song, refrain"
echo
echo "One sampling step = one forward of each of 10 sections of 390 new latent frames"
echo "(3,900 frames, 181 s), B 1, sections 2..10 with 48 clean context frames before them"
echo "(438 frames), section i remembering its i - 1 earlier sections (8 tokens each, up to 72)."
echo "\"prepared\" is the sampler's way: each section's memory keys/values made once"
echo "(\`dit_memory_prepare\`, its cost over the whole song in the last column) and"
echo "\`dit_forward_prepared\` per step; \"full\" is \`denoiser_forward\` as it is. A song"
echo "takes $STEPS steps x $FORWARDS forwards (guidance): the projection is"
echo "$((STEPS * FORWARDS)) x the prepared step + the memory preparation; the next issue's budget is $BUDGET_S s on 2 cores."
echo
echo "| width x depth | params | GFLOP / step | 1 thread s/step (CPU s) | 2 threads s/step | 2 threads, passive, s/step | song at 2 threads (s) | song at 1-thread CPU / 2 (s) | memory prep (s) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for sz in $SIZES; do
    p1=$(get "s1_$sz" step_prepared_s); c1=$(get "s1_$sz" step_prepared_cpu_s)
    p2=$(get "s2_$sz" step_prepared_s); p2p=$(get "s2p_$sz" step_prepared_s)
    best2=$(awk -v a="$p2" -v b="$p2p" 'BEGIN { print (a < b ? a : b) }')
    mp=$(get "s2_$sz" memory_prepare_s)
    echo "| $sz | $(get "s1_$sz" params) | $(calc %.1f "$(get "s1_$sz" song_flops_prepared)/1e9") | $(calc %.2f "$p1") ($(calc %.2f "$c1")) | $(calc %.2f "$p2") | $(calc %.2f "$p2p") | $(calc %.1f "$STEPS*$FORWARDS*$best2+$mp") | $(calc %.1f "$STEPS*$FORWARDS*$c1/2+$mp") | $(calc %.3f "$mp") |"
done
echo
echo "Full path (memory mapped and its keys/values made on every forward), s/step:"
echo
echo "| width x depth | 1 thread | 2 threads | 2 threads, passive |"
echo "| --- | ---: | ---: | ---: |"
for sz in $SIZES; do
    echo "| $sz | $(calc %.2f "$(get "s1_$sz" step_full_s)") | $(calc %.2f "$(get "s2_$sz" step_full_s)") | $(calc %.2f "$(get "s2p_$sz" step_full_s)") |"
done
echo
echo "\"song at 1-thread CPU / 2\" is what two cores would give at perfect scaling with the"
echo "one-thread work rate; the \"song at 2 threads\" column takes the faster of the two 2-thread runs."
echo
echo "## Command"
echo
echo '```'
echo "bash bench/denoiser.sh        # or: make bench"
echo '```'
echo
echo "Raw outputs of this run:"
echo
for f in r1 r2 r2p t1 t1b t2 t2b $(for sz in $SIZES; do echo "s1_$sz s2_$sz s2p_$sz"; done); do
    echo "<details><summary>$(label "$f")</summary>"
    echo
    echo '```'
    cat "$tmp/$f"
    echo '```'
    echo "</details>"
    echo
done
} > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"

echo "denoiser: training step refrain $(calc %.0f "$rr_best*1000") ms ($(label "$rr_run")) vs PyTorch best $(calc %.0f "$tt_best*1000") ms ($(label "$tt_run")): $(calc %.2fx "$tt_best/$rr_best"); 1-thread CPU $(calc %.2fx "$tc_best/$(get r1 train_step_cpu_s)")"
for sz in $SIZES; do
    echo "denoiser: sampling $sz: $(calc %.2f "$(get "s2_$sz" step_prepared_s)") s/step at 2 threads ($(calc %.2f "$(get "s2p_$sz" step_prepared_s)") passive), $(calc %.2f "$(get "s1_$sz" step_prepared_cpu_s)") CPU s at 1 thread"
done
echo "denoiser: load $load0 -> $load1; report in $OUT"
