#!/usr/bin/env bash
# train-model.sh (`make model`): retrains the shipped mel autoencoder
# (assets/ae.rfc) with the run of assets/MODEL_CARD.md: train-ae's defaults
# (z 32, widths 96/128/256, 2 decoder residual blocks per level, 8,000 steps,
# peak lr 7e-4, seed 20261124). Needs the corpus (`make data`, which
# `make model` runs first). The checkpoint under .cache/ae/ lets an interrupted
# run continue exactly: run it again. OUT=path writes somewhere other than
# assets/ae.rfc.
set -eu
cd "$(dirname "$0")/.."
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in */*) ;; *) REFRAIN=./$REFRAIN ;; esac
OUT=${OUT:-assets/ae.rfc}
CKPT=.cache/ae/ae-train.rfc
THREADS=${THREADS:-2}
mkdir -p .cache/ae
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # shared machines: see tests/run.sh
resume=()
[ -f "$CKPT" ] && resume=(--resume)
"$REFRAIN" --threads "$THREADS" train-ae --data .cache/corpus --out "$CKPT" --export "$OUT" "${resume[@]}"
echo "model: wrote $OUT (evaluate with scripts/eval-ae.sh)"
