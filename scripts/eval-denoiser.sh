#!/usr/bin/env bash
# scripts/eval-denoiser.sh — evaluates the section denoiser and writes
# notebooks_exports/denoiser.md with its PNG (refrain denoiser-eval): on every
# section of the corpus's validation songs, the flow loss at fixed t with
# fixed noise under four conditions (full; memory removed; another song's
# memory; labels removed), by source and for repeats against first
# occurrences, with 95% bootstrap intervals over songs; one table per model
# (COMPARE: more models, e.g. other K or the uncompressed memory); the
# training curve when the log is there. The report names each model file's
# sha256 and FNV-1a-64.
#
# Usage: scripts/eval-denoiser.sh [MODEL]   (default assets/denoiser.rfc; a
#        training checkpoint works too: its EMA weights are evaluated)
#   COMPARE="a.rfc,b.rfc"    more models for the K table
#   REFRAIN_DATA=dir          corpus (default .cache/corpus)
#   REFRAIN_DENOISER_LOG=tsv  training log (default .cache/denoiser/denoiser-train.rfc.tsv)
#   REFRAIN_THREADS=n         threads (default 2)
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
MODEL=${1:-assets/denoiser.rfc}
DATA=${REFRAIN_DATA:-.cache/corpus}
LOG=${REFRAIN_DENOISER_LOG:-.cache/denoiser/denoiser-train.rfc.tsv}
THREADS=${REFRAIN_THREADS:-2}
OUT=notebooks_exports
make -s "$REFRAIN" >&2
mkdir -p .cache/denoiser "$OUT"
cp "$REFRAIN" .cache/denoiser/refrain-eval.bin   # a rebuild during the run must not change it
args=(--model "$MODEL" --data "$DATA" -o "$OUT/denoiser.md" --figs "$OUT")
[ -n "${COMPARE:-}" ] && args+=(--compare "$COMPARE")
[ -f "$LOG" ] && args+=(--log "$LOG")
. bench/cpu.sh
dirty=
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=' with uncommitted changes'
sums=""
for m in "$MODEL" ${COMPARE:+${COMPARE//,/ }}; do
    sums="$sums $(basename "$m") sha256 $(sha256sum "$m" 2>/dev/null | cut -c1-12)...;"
done
note="By scripts/eval-denoiser.sh: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$dirty,$sums $(date -u +%Y-%m-%d), $(cpu_desc)."
OMP_WAIT_POLICY=passive .cache/denoiser/refrain-eval.bin --threads "$THREADS" denoiser-eval "${args[@]}" --note "$note"
echo "wrote $OUT/denoiser.md" >&2
