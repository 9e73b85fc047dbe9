#!/usr/bin/env bash
# bench/nn.sh — the DiT block stack (nn/dit.c), refrain vs PyTorch 1.13 on this
# machine, in one run: (a) a training step (forward, MSE, backward, AdamW) at
# batch 8 and (b) a batch-1 forward, for the reference denoiser stack (width
# 256, 6 blocks, 4 heads, T 256, 64 memory tokens). refrain at 1 and 2
# threads; PyTorch at 1 and 2 threads, each with and without
# OPENBLAS_NUM_THREADS=1 (its best setting is the one compared against); both
# also at 2 threads with OMP_WAIT_POLICY=passive.
# Also the machine's sgemm peak and a per-op breakdown of refrain's step.
# Writes notebooks_exports/bench-nn.md and prints the ratios.
#
# Usage: bash bench/nn.sh            (ITERS=10 WARMUP=3 by default)
set -u
cd "$(dirname "$0")/.."
. bench/cpu.sh
BIN=build/bench/bench_nn
PY=/usr/bin/python3
ITERS=${ITERS:-10}
WARMUP=${WARMUP:-3}
OUT=notebooks_exports/bench-nn.md
make -s "$BIN" >&2 || exit 1
$PY -c 'import torch' 2>/dev/null || { echo "bench/nn.sh: $PY has no torch (apt-get install python3-torch)" >&2; exit 1; }
mkdir -p notebooks_exports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

load0=$(cut -d' ' -f1-3 /proc/loadavg)
run() {   # run NAME CMD...: output to $tmp/NAME
    local name=$1; shift
    echo "  running $name: $*" >&2
    "$@" > "$tmp/$name" || { echo "bench/nn.sh: failed: $*" >&2; exit 1; }
}
# interleaved, so background load falls on both sides alike
TARGS=(bench/bench_nn_torch.py --iters "$ITERS" --warmup "$WARMUP")
RARGS=(--iters "$ITERS" --warmup "$WARMUP")
run r1  "$BIN" --threads 1 "${RARGS[@]}"
run t1  env -u OPENBLAS_NUM_THREADS "$PY" "${TARGS[@]}" --threads 1
run t1b env OPENBLAS_NUM_THREADS=1 "$PY" "${TARGS[@]}" --threads 1
run r2  "$BIN" --threads 2 "${RARGS[@]}"
run t2  env -u OPENBLAS_NUM_THREADS "$PY" "${TARGS[@]}" --threads 2
run t2b env OPENBLAS_NUM_THREADS=1 "$PY" "${TARGS[@]}" --threads 2
# OpenMP's passive waiting (threads sleep at barriers instead of spinning) helps
# both sides when other processes hold the cores
run r2p env OMP_WAIT_POLICY=passive "$BIN" --threads 2 "${RARGS[@]}"
run t2p env OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=1 "$PY" "${TARGS[@]}" --threads 2
load1=$(cut -d' ' -f1-3 /proc/loadavg)

get() { awk -v k="$2" '$1 == k { print $2; exit }' "$tmp/$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
best() {  # best KEY: smallest value of KEY over the torch runs, and which run
    for r in t1 t1b t2 t2b t2p; do echo "$(get $r "$1") $r"; done | sort -g | head -1
}
read -r tt_best tt_run < <(best train_step_s)
read -r tf_best tf_run < <(best fwd1_s)
label() {
    case $1 in
        r1) echo "refrain, 1 thread";; r2) echo "refrain, 2 threads";;
        t1) echo "PyTorch, 1 thread";; t1b) echo "PyTorch, 1 thread, OPENBLAS_NUM_THREADS=1";;
        t2) echo "PyTorch, 2 threads";; t2b) echo "PyTorch, 2 threads, OPENBLAS_NUM_THREADS=1";;
        r2p) echo "refrain, 2 threads, OMP_WAIT_POLICY=passive";;
        t2p) echo "PyTorch, 2 threads, OPENBLAS_NUM_THREADS=1, OMP_WAIT_POLICY=passive";;
    esac
}
B=8; T=256
{
echo "# DiT block stack: refrain vs PyTorch 1.13"
echo
echo "Written by \`bash bench/nn.sh\` (ITERS=$ITERS, WARMUP=$WARMUP) on $(date -u '+%Y-%m-%d %H:%M UTC')."
echo "Machine: $(cpu_desc);"
echo "load average $load0 before the run, $load1 after (other processes share the cores;"
echo "every figure is a median, and the runs are interleaved so load falls on both sides)."
echo
echo "Model: the reference denoiser stack of \`nn/dit.c\` — width 256, 6 blocks, 4 heads,"
echo "MLP 4x, conditioning 256, 32 latent channels in and out, sequence 256, 64 memory"
echo "tokens (the last 16 masked in every other batch item), $(get r1 params) parameters."
echo "The PyTorch peer is the module in \`tests/make_dit_ref.py\` (the golden test's"
echo "reference), float32, \`torch.optim.AdamW\`, forward under \`torch.inference_mode\`."
echo "FLOPs count the matmuls and attention products analytically"
echo "(\`dit_flops_forward\`; a training step counts 3x the forward)."
echo
if awk -v l="${load0%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
    echo "**The machine was busy** (1-minute load ${load0%% *} on $(nproc) CPUs): the wall-clock"
    echo "tables measure the scheduler as much as the code — a process got a fraction of a"
    echo "core, and two-thread runs suffer most (their threads wait for each other). The"
    echo "one-thread CPU-time table below is the steady comparison; rerun on a quiet"
    echo "machine for wall-clock and two-thread figures."
    echo
fi
echo "## (a) Training step, batch 8 (forward, MSE, backward, AdamW)"
echo
echo "| run | step (ms) | tokens/s | GFLOP/s | of sgemm peak | PyTorch best / this |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for r in r1 r2 r2p; do
    s=$(get $r train_step_s)
    echo "| $(label $r) | $(calc %.0f "$s*1000") | $(calc %.0f "$B*$T/$s") | $(get $r train_gflops | xargs printf %.1f) | $(calc %.0f%% "100*$(get $r train_peak_frac)") | **$(calc %.2fx "$tt_best/$s")** |"
done
fl=$(get r1 train_flops)
for r in t1 t1b t2 t2b t2p; do
    s=$(get $r train_step_s)
    echo "| $(label $r) | $(calc %.0f "$s*1000") | $(calc %.0f "$B*$T/$s") | $(calc %.1f "$fl/$s/1e9") | | $(calc %.2fx "$tt_best/$s") |"
done
echo
echo "## (b) Forward, batch 1"
echo
echo "| run | forward (ms) | tokens/s | GFLOP/s | of sgemm peak | PyTorch best / this |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for r in r1 r2 r2p; do
    s=$(get $r fwd1_s)
    echo "| $(label $r) | $(calc %.1f "$s*1000") | $(calc %.0f "$T/$s") | $(get $r fwd1_gflops | xargs printf %.1f) | $(calc %.0f%% "100*$(get $r fwd1_peak_frac)") | **$(calc %.2fx "$tf_best/$s")** |"
done
fl1=$(get r1 fwd1_flops)
for r in t1 t1b t2 t2b t2p; do
    s=$(get $r fwd1_s)
    echo "| $(label $r) | $(calc %.1f "$s*1000") | $(calc %.0f "$T/$s") | $(calc %.1f "$fl1/$s/1e9") | | $(calc %.2fx "$tf_best/$s") |"
done
echo
echo "PyTorch's fastest: training step $(label "$tt_run") ($(calc %.0f "$tt_best*1000") ms);"
echo "batch-1 forward $(label "$tf_run") ($(calc %.1f "$tf_best*1000") ms)."
echo
echo "## One thread, CPU time"
echo
echo "Process CPU time per step (all threads of the process summed). At one thread"
echo "it is what the work costs even while other processes hold the cores, so"
echo "it is the steadier comparison on a busy machine."
echo
echo "| run | training step CPU (ms) | batch-1 forward CPU (ms) |"
echo "| --- | ---: | ---: |"
for r in r1 t1 t1b; do
    echo "| $(label $r) | $(calc %.0f "$(get $r train_step_cpu_s)*1000") | $(calc %.1f "$(get $r fwd1_cpu_s)*1000") |"
done
read -r tc_best _ < <(for r in t1 t1b; do echo "$(get $r train_step_cpu_s) $r"; done | sort -g | head -1)
read -r fc_best _ < <(for r in t1 t1b; do echo "$(get $r fwd1_cpu_s) $r"; done | sort -g | head -1)
echo "| **PyTorch best / refrain** | **$(calc %.2fx "$tc_best/$(get r1 train_step_cpu_s)")** | **$(calc %.2fx "$fc_best/$(get r1 fwd1_cpu_s)")** |"
echo
echo "## Machine peak (OpenBLAS cblas_sgemm, best of repeated calls, same run)"
echo
echo "| shape (M x N x K) | 1 thread GFLOP/s | 2 threads GFLOP/s |"
echo "| --- | ---: | ---: |"
for k in 1024x256x256 2048x768x256 2048x1024x256; do
    echo "| $k | $(calc %.1f "$(get r1 sgemm_$k)/1e9") | $(calc %.1f "$(get r2 sgemm_$k)/1e9") |"
done
echo "| **peak used above** | $(calc %.1f "$(get r1 sgemm_peak)/1e9") | $(calc %.1f "$(get r2 sgemm_peak)/1e9") |"
echo
for r in r1 r2 r2p; do
    echo "## Where refrain's training step goes ($(label $r))"
    echo
    st=$(get $r train_step_s)
    echo "| phase (wall clock) | ms | share |"
    echo "| --- | ---: | ---: |"
    for ph in zero fwd loss bwd adamw; do
        v=$(get $r step_${ph}_s)
        name=$ph; [ $ph = zero ] && name="zero gradients"; [ $ph = fwd ] && name=forward
        [ $ph = bwd ] && name=backward; [ $ph = loss ] && name="MSE loss"; [ $ph = adamw ] && name="AdamW (nn/optim.c)"
        echo "| $name | $(calc %.1f "$v*1000") | $(calc %.0f%% "100*$v/$st") |"
    done
    echo
    echo "Per op (profiled passes, \`dit_profile\`, $(get $r profile_clock) time):"
    echo
    echo "| op | forward ms | backward ms | share of fwd+bwd | batch-1 forward ms |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    tot=$(awk '$1 == "op" { s += $3 + $4 } END { print s }' "$tmp/$r")
    awk -v tot="$tot" 'FNR == NR { if ($1 == "op1") f1[$2] = $3; next }
        $1 == "op" { name = $5; for (i = 6; i <= NF; i++) name = name " " $i;
                     printf "| %s | %.1f | %.1f | %.0f%% | %.1f |\n", name, $3 * 1000, $4 * 1000,
                            100 * ($3 + $4) / tot, f1[$2] * 1000 }' "$tmp/$r" "$tmp/$r"
    echo
done
echo "## Command"
echo
echo '```'
echo "make build/bench/bench_nn && bash bench/nn.sh"
echo '```'
echo
echo "Raw outputs of this run:"
echo
for r in r1 r2 r2p t1 t1b t2 t2b t2p; do
    echo "<details><summary>$(label $r)</summary>"
    echo
    echo '```'
    cat "$tmp/$r"
    echo '```'
    echo "</details>"
    echo
done
} > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"

echo "nn: training step refrain 2 threads $(calc %.0f "$(get r2 train_step_s)*1000") ms (passive wait $(calc %.0f "$(get r2p train_step_s)*1000") ms), 1 thread $(calc %.0f "$(get r1 train_step_s)*1000") ms; PyTorch best $(calc %.0f "$tt_best*1000") ms ($(label "$tt_run")): $(calc %.2fx "$tt_best/$(get r2 train_step_s)") (2 thr), $(calc %.2fx "$tt_best/$(get r1 train_step_s)") (1 thr)"
echo "nn: batch-1 forward refrain 2 threads $(calc %.1f "$(get r2 fwd1_s)*1000") ms (passive wait $(calc %.1f "$(get r2p fwd1_s)*1000") ms), 1 thread $(calc %.1f "$(get r1 fwd1_s)*1000") ms; PyTorch best $(calc %.1f "$tf_best*1000") ms ($(label "$tf_run")): $(calc %.2fx "$tf_best/$(get r2 fwd1_s)") (2 thr), $(calc %.2fx "$tf_best/$(get r1 fwd1_s)") (1 thr)"
echo "nn: 1-thread CPU time: step refrain $(calc %.0f "$(get r1 train_step_cpu_s)*1000") ms vs PyTorch $(calc %.0f "$(get t1b train_step_cpu_s)*1000") ms (OPENBLAS_NUM_THREADS=1); batch-1 forward $(calc %.1f "$(get r1 fwd1_cpu_s)*1000") vs $(calc %.1f "$(get t1b fwd1_cpu_s)*1000") ms"
echo "nn: report in $OUT"
