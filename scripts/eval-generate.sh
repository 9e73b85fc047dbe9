#!/usr/bin/env bash
# scripts/eval-generate.sh — the generation quality report: writes
# notebooks_exports/generate.md with its PNGs (refrain generate-eval). For N
# validation songs, a song with each one's form, source and seed i + 1, at
# generate's default setting and at every steps x sampler of the sweep; Fréchet
# distance and KAD against every validation song over (a) latent and (b)
# log-mel statistics per 1-second window, beside the floors (training songs;
# validation songs through the autoencoder and vocoder) and the ceiling
# (Gaussian latents); quality against seconds per minute of audio; three
# spectrograms. The report names the model files' hashes and the command line.
#
# Usage: scripts/eval-generate.sh [MODEL]   (default assets/denoiser.rfc; a
#        training checkpoint works too: its EMA weights generate)
#   SONGS=16 MAX_SECONDS=60      songs and seconds of each (0 = all / whole)
#   STEPS=4,8,16,32 SAMPLERS=euler,heun,ab2,pingpong   the sweep ("none": no sweep)
#   BOOT=200                     bootstrap resamples (0: no intervals)
#   REFRAIN_DATA=dir             corpus (default .cache/corpus)
#   REFRAIN_THREADS=n            threads (default 2)
# Time at the defaults on 2 quiet cores: about an hour (16 songs x 60 s, the
# headline setting and 16 sweep cells; the denoiser dominates); run it when the
# machine is otherwise idle, since the report prints seconds per minute.
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
MODEL=${1:-assets/denoiser.rfc}
AE=${REFRAIN_AE:-assets/ae.rfc}
DATA=${REFRAIN_DATA:-.cache/corpus}
THREADS=${REFRAIN_THREADS:-2}
OUT=notebooks_exports
make -s "$REFRAIN" >&2
mkdir -p "$OUT"
bin=$(mktemp /tmp/refrain-eval-generate.XXXXXX)
trap 'rm -f "$bin"' EXIT
cp "$REFRAIN" "$bin" && chmod 755 "$bin"   # a rebuild during the run must not change it (mktemp makes it 0600)
. bench/cpu.sh
dirty=
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=' with uncommitted changes'
note="By scripts/eval-generate.sh: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$dirty, $(basename "$MODEL") sha256 $(sha256sum "$MODEL" 2>/dev/null | cut -c1-12)..., $(date -u +%Y-%m-%d), $(cpu_desc)."
OMP_WAIT_POLICY=passive "$bin" --threads "$THREADS" generate-eval --model "$MODEL" --ae "$AE" --data "$DATA" \
    -o "$OUT/generate.md" --figs "$OUT" --songs "${SONGS:-16}" --max-seconds "${MAX_SECONDS:-60}" \
    --steps "${STEPS:-4,8,16,32}" --samplers "${SAMPLERS:-euler,heun,ab2,pingpong}" --boot "${BOOT:-200}" --note "$note"
echo "wrote $OUT/generate.md" >&2
