#!/usr/bin/env bash
# train-model.sh (`make model`): retrains the shipped mel autoencoder
# (assets/ae.rfc) with the procedure of assets/MODEL_CARD.md: 5,000 steps,
# then the same checkpoint resumed with the plan extended to 8,000 steps.
# Needs the corpus (`make data`, which `make model` runs first). The
# checkpoint under .cache/ae/ lets an interrupted run continue: run it again.
# OUT=path writes somewhere other than assets/ae.rfc.
set -eu
cd "$(dirname "$0")/.."
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in */*) ;; *) REFRAIN=./$REFRAIN ;; esac
OUT=${OUT:-assets/ae.rfc}
CKPT=.cache/ae/ae-train.rfc
THREADS=${THREADS:-2}
mkdir -p .cache/ae
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # shared machines: see tests/run.sh
train() {   # STEPS [--resume]
    "$REFRAIN" --threads "$THREADS" train-ae --data .cache/corpus --lr 7e-4 \
        --steps "$1" --out "$CKPT" --export "$OUT" "${@:2}"
}
# Phase 1 (resumes a partial phase 1 if its checkpoint is there).
step=$( [ -f "$CKPT.tsv" ] && awk -F'\t' 'NR>1 && $1 ~ /^[0-9]+$/ {s=$1} END {print s+0}' "$CKPT.tsv" || echo 0)
if [ "$step" -lt 5000 ]; then
    if [ -f "$CKPT" ]; then train 5000 --resume; else train 5000; fi
fi
# Phase 2: the same run, its cosine plan extended to 8,000 steps.
train 8000 --resume
echo "model: wrote $OUT (evaluate with scripts/eval-ae.sh)"
