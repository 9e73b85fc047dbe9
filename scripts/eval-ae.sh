#!/usr/bin/env bash
# scripts/eval-ae.sh — evaluates the mel autoencoder and writes
# notebooks_exports/autoencoder.md with its PNGs (refrain ae-eval):
#   - on the corpus's validation split, log-mel MAE and SNR of the
#     reconstruction against the linear baseline of the same size (4x average
#     pooling + PCA to Z components fitted on the training split), per source;
#   - spectrograms (original, reconstruction, baseline) of one validation song
#     per source;
#   - the training curve, when the training log is there;
#   - encode + decode of a 3-minute song: wall time, CPU time, real-time factor.
#
# Usage: scripts/eval-ae.sh [MODEL]   (default assets/ae.rfc)
#   REFRAIN_DATA=dir     corpus (default .cache/corpus)
#   REFRAIN_AE_LOG=tsv   training log to plot (default .cache/ae/ae-train.rfc.tsv)
#   REFRAIN_THREADS=n    threads (default 2)
# OMP_WAIT_POLICY=passive: on this shared 2-core machine, OpenMP threads that
# spin at barriers while another process holds the other core made training
# steps 4x slower (0.57 vs 2.3 steps/s measured back to back); passive waits.
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
MODEL=${1:-assets/ae.rfc}
DATA=${REFRAIN_DATA:-.cache/corpus}
LOG=${REFRAIN_AE_LOG:-.cache/ae/ae-train.rfc.tsv}
THREADS=${REFRAIN_THREADS:-2}
OUT=notebooks_exports
make -s "$REFRAIN" >&2
mkdir -p .cache/ae "$OUT"
cp "$REFRAIN" .cache/ae/refrain-eval.bin   # a rebuild during the run must not change it
args=(--model "$MODEL" --data "$DATA" -o "$OUT/autoencoder.md" --figs "$OUT")
[ -f "$LOG" ] && args+=(--log "$LOG")
. bench/cpu.sh
# the commit alone does not name the model when the tree has uncommitted changes
# (a newly trained assets/ae.rfc is evaluated before it is committed): the
# model file's checksum does
dirty=
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=' with uncommitted changes'
sum=$(sha256sum "$MODEL" 2>/dev/null | cut -c1-12)   # a missing model: ae-eval says so
note="Commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$dirty, model sha256 $sum..., $(date -u +%Y-%m-%d), $(cpu_desc)."
OMP_WAIT_POLICY=passive .cache/ae/refrain-eval.bin --threads "$THREADS" ae-eval "${args[@]}" --note "$note"
