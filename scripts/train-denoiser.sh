#!/usr/bin/env bash
# train-denoiser.sh (part of `make model`): trains the section denoiser
# (assets/denoiser.rfc) on the latent corpus with train-diffusion's defaults,
# in resumable phases: each run continues the checkpoint under
# .cache/denoiser/ exactly and stops after MAX_MINUTES (0 = run to the end),
# so a machine that is only lent for a few hours at a time gets there in
# several runs. The export happens when the checkpoint reaches STEPS, or after
# every phase with PHASE_EXPORT=1 (a usable model from an unfinished run: its
# step is in the model file, `refrain info`).
# Ctrl-C, SIGTERM or SIGHUP also ends a phase cleanly: the trainer finishes its
# step and saves the checkpoint (exit 130 / 143 / 129; SIGHUP from commit
# fe1a3c5 on), and the next run continues it.
# Needs the corpus (`make data`) and assets/ae.rfc.
#
# Knobs: STEPS (train-diffusion's default), MAX_MINUTES (0), THREADS (2),
# OUT (assets/denoiser.rfc), PHASE_EXPORT (0), EXTRA (more train-diffusion
# options, the same on every run: they are part of the checkpoint's record and
# a change is refused).
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in */*) ;; *) REFRAIN=./$REFRAIN ;; esac
OUT=${OUT:-assets/denoiser.rfc}
CKPT=${CKPT:-.cache/denoiser/denoiser-train.rfc}
THREADS=${THREADS:-2}
MAX_MINUTES=${MAX_MINUTES:-0}
EXTRA=${EXTRA:-}
steps=()
[ -n "${STEPS:-}" ] && steps=(--steps "$STEPS")
mkdir -p "$(dirname "$CKPT")"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}   # shared machines: see tests/run.sh
resume=()
[ -f "$CKPT" ] && resume=(--resume)
# shellcheck disable=SC2086
"$REFRAIN" --threads "$THREADS" train-diffusion --out "$CKPT" "${steps[@]}" "${resume[@]}" \
    --max-minutes "$MAX_MINUTES" $EXTRA
step=$("$REFRAIN" info --json "$CKPT" | sed -n 's/^ *"step": \([0-9]*\),*$/\1/p')
total=$("$REFRAIN" info --json "$CKPT" | sed -n 's/^ *"total_steps": \([0-9]*\),*$/\1/p')
done=0
[ -n "$step" ] && [ "$step" = "$total" ] && done=1
if [ "$done" = 1 ] || [ "${PHASE_EXPORT:-0}" = 1 ]; then
    # --stop-at the step it is at: no training, only the export of its EMA weights
    "$REFRAIN" train-diffusion --out "$CKPT" "${steps[@]}" --resume --stop-at "$step" --export "$OUT" $EXTRA
    echo "model: wrote $OUT at step ${step:-?} of ${total:-?} (evaluate with scripts/eval-denoiser.sh)"
fi
[ "$done" = 1 ] || echo "model: the denoiser is at step ${step:-?} of ${total:-?}; run this again to continue" >&2
