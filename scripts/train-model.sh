#!/usr/bin/env bash
# train-model.sh (`make model`): retrains the shipped mel autoencoder
# (assets/ae.rfc) with the run of assets/MODEL_CARD.md: train-ae's defaults
# (z 32, widths 96/128/256, 2 decoder residual blocks per level, peak lr 7e-4,
# seed 20261124) for 50,000 steps in four phases of warm restarts. About 3.2 h
# of training on 2 cores. Needs the corpus (`make data`, which `make model`
# runs first).
#
# PHASES lists the phases' step counts. The default, "8000 16000 40000 50000",
# is the shipped run: train-ae's 8,000-step cosine, then resumes with the plan
# lengthened to 16,000, to 40,000 and to 50,000 steps (at each restart the
# learning rate jumps to where the longer cosine is at that step, and decays
# again). PHASES="8000" is train-ae's single 8,000-step run (about 35 min).
#
# The checkpoint under .cache/ae/ lets an interrupted run continue exactly: run
# it again with the same PHASES, and phases already done are skipped
# (`refrain info` reads the checkpoint's step). OUT=path writes somewhere other
# than assets/ae.rfc.
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in */*) ;; *) REFRAIN=./$REFRAIN ;; esac
OUT=${OUT:-assets/ae.rfc}
CKPT=.cache/ae/ae-train.rfc
THREADS=${THREADS:-2}
PHASES=${PHASES:-8000 16000 40000 50000}
last=${PHASES##* }
prev=0
for end in $PHASES; do   # increasing step counts, or nothing runs
    case $end in ''|*[!0-9]*) echo "model: PHASES=\"$PHASES\": '$end' is not a step count" >&2; exit 2 ;; esac
    [ "$end" -gt "$prev" ] || { echo "model: PHASES=\"$PHASES\" must be increasing step counts above 0" >&2; exit 2; }
    prev=$end
done
mkdir -p .cache/ae
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # shared machines: see tests/run.sh

step_of() {   # the training step a checkpoint holds
    "$REFRAIN" info --json "$1" | sed -n 's/^ *"step": \([0-9]*\),*$/\1/p'
}

for end in $PHASES; do
    resume=()
    if [ -f "$CKPT" ]; then
        step=$(step_of "$CKPT")
        [ -n "$step" ] || { echo "model: cannot read the step of $CKPT (see the message above)" >&2; exit 1; }
        if [ "$step" -gt "$last" ]; then
            echo "model: $CKPT is at step $step, past this plan's end ($last, PHASES=\"$PHASES\");" \
                 "move it away to start over, or give the PHASES it was trained with" >&2
            exit 1
        fi
        # a finished phase is skipped; the last one always runs, so the export happens
        [ "$step" -ge "$end" ] && [ "$end" != "$last" ] && continue
        resume=(--resume)
    fi
    export=()
    [ "$end" = "$last" ] && export=(--export "$OUT")
    echo "model: phase to step $end" >&2
    "$REFRAIN" --threads "$THREADS" train-ae --data .cache/corpus --out "$CKPT" --steps "$end" "${resume[@]}" "${export[@]}"
done
echo "model: wrote $OUT (evaluate with scripts/eval-ae.sh)"
