#!/usr/bin/env bash
# compare-memory.sh — chooses the memory compressor by measurement (issue 12):
# trains one denoiser per variant on the same data, seed and schedule, then
# evaluates them side by side with refrain denoiser-eval into
# notebooks_exports/denoiser-memory.md (flow loss with/without memory on repeats,
# with intervals, beside each variant's memory tokens and time per example).
#
# Variants (VARIANTS, default all): k4 k8 k16 (K fixed-span tokens per section),
# full (every latent frame, up to 1024 tokens: the uncompressed reference),
# attn8 (K = 8 learned-query attention pooling).
# Each run is resumable: checkpoints under .cache/compare/<variant>.rfc; a run
# stops after MAX_MINUTES (0 = never) and the next invocation continues it,
# so the comparison can span several sessions. The evaluation runs when every
# variant has reached STEPS.
#
# Knobs: STEPS (3000), MAX_MINUTES (0), THREADS (2), EXTRA (more train-diffusion
# options for every variant, e.g. "--width 128 --depth 4" for a cheaper sweep).
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
STEPS=${STEPS:-3000}
MAX_MINUTES=${MAX_MINUTES:-0}
THREADS=${THREADS:-2}
EXTRA=${EXTRA:-}
VARIANTS=${VARIANTS:-k4 k8 k16 full attn8}
DIR=.cache/compare
mkdir -p "$DIR"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
make -s "$REFRAIN" >&2
cp "$REFRAIN" "$DIR/refrain.bin"   # a rebuild during the runs must not change them
t0=$(date +%s)
step_of() { "$DIR/refrain.bin" info --json "$1" 2>/dev/null | sed -n 's/^ *"step": \([0-9]*\),*$/\1/p'; }
opts_of() {
    case $1 in
        k4) echo "--mem-k 4" ;; k8) echo "--mem-k 8" ;; k16) echo "--mem-k 16" ;;
        full) echo "--mem-k 0 --mem-frames 1024" ;; attn8) echo "--mem-k 8 --mem-pool attention" ;;
        *) echo "compare-memory: unknown variant '$1' (k4 k8 k16 full attn8)" >&2; exit 2 ;;
    esac
}
models=()
for v in $VARIANTS; do
    ck=$DIR/$v.rfc
    o=$(opts_of "$v")
    models+=("$ck")
    [ -f "$ck" ] && [ "$(step_of "$ck")" = "$STEPS" ] && continue
    left=0
    if [ "$MAX_MINUTES" != 0 ]; then
        left=$(( MAX_MINUTES - ($(date +%s) - t0) / 60 ))
        [ "$left" -le 0 ] && { echo "compare-memory: time is up; run again to continue ($v next)" >&2; exit 0; }
    fi
    resume=()
    [ -f "$ck" ] && resume=(--resume)
    echo "compare-memory: $v ($o) to step $STEPS" >&2
    # shellcheck disable=SC2086
    "$DIR/refrain.bin" --threads "$THREADS" train-diffusion --out "$ck" --steps "$STEPS" "${resume[@]}" \
        --max-minutes "$left" $o $EXTRA
    [ "$(step_of "$ck")" = "$STEPS" ] || { echo "compare-memory: $v stopped at step $(step_of "$ck"); run again" >&2; exit 0; }
done
first=${models[0]}
rest=$(IFS=,; echo "${models[*]:1}")
. bench/cpu.sh
note="By scripts/compare-memory.sh: variants $VARIANTS, $STEPS steps each, train-diffusion defaults${EXTRA:+ with $EXTRA}; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%d), $(cpu_desc)."
args=(--model "$first" -o notebooks_exports/denoiser-memory.md --note "$note")
[ -n "$rest" ] && args+=(--compare "$rest")
"$DIR/refrain.bin" --threads "$THREADS" denoiser-eval "${args[@]}"
echo "compare-memory: wrote notebooks_exports/denoiser-memory.md" >&2
