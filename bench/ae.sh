#!/usr/bin/env bash
# bench/ae.sh — the shipped mel autoencoder (assets/ae.rfc) on a real
# three-minute excerpt: encode then decode (the issue's aim: under one second
# for both on two cores), refrain at 1 and 2 threads against its PyTorch 1.13
# peer (bench/bench_ae_torch.py: the same network from torch.nn.functional ops
# with the weights read from the model file, the same windows) at 1 and 2
# threads, each with and without OPENBLAS_NUM_THREADS=1; the runs interleaved
# so background load falls on both alike. The peer's latents and log-mel are
# compared with refrain's (the whole-model reference check).
# Writes notebooks_exports/bench-ae.md and prints the ratios.
#
# Usage: bash bench/ae.sh      (REPEATS=3 best-of; START=60 DUR=180; MODEL=assets/ae.rfc)
set -u
cd "$(dirname "$0")/.."
. scripts/cache.sh
. bench/cpu.sh
BIN=build/bench/bench_ae
PY=/usr/bin/python3
REPEATS=${REPEATS:-3}
START=${START:-60}
DUR=${DUR:-180}
MODEL=${MODEL:-assets/ae.rfc}
MUSIC=.cache/pkg/warzone2100-music/usr/share/games/warzone2100/music
TRACK=${TRACK:-$MUSIC/albums/original_soundtrack/track1.opus}
DIR=.cache/bench-ae
MD=notebooks_exports/bench-ae.md
fail() { echo "bench/ae.sh: $*" >&2; exit 1; }
make -s "$BIN" || exit 1
$PY -c 'import torch' 2>/dev/null || fail "$PY has no torch (apt-get install python3-torch)"
[ -f "$MODEL" ] || fail "no model at $MODEL"
bash scripts/fetch-music.sh || exit 1
mkdir -p "$DIR" notebooks_exports
"$BIN" prep "$TRACK" "$START" "$DUR" "$DIR" || fail "prep"
read -r T M < "$DIR/shape.txt"
RES=$DIR/results.tsv
: > "$RES"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS
for th in 1 2; do
    echo "  refrain, $th thread(s)" >&2
    "$BIN" time "$DIR" "$MODEL" "$th" "$REPEATS" | sed 's/$/\tdefault/' >> "$RES" || fail "refrain"
    for v in default blas1; do
        echo "  torch, $th thread(s), $v" >&2
        if [ $v = default ]; then env -u OPENBLAS_NUM_THREADS $PY bench/bench_ae_torch.py "$DIR" "$MODEL" --threads "$th" --repeats "$REPEATS"
        else env OPENBLAS_NUM_THREADS=1 $PY bench/bench_ae_torch.py "$DIR" "$MODEL" --threads "$th" --repeats "$REPEATS"; fi |
            sed "s/\$/\t-\t$v/" >> "$RES" || fail "torch"
    done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
dlat=$("$BIN" diff "$DIR/refrain_lat.f32" "$DIR/torch_lat.f32") || fail "diff"
dout=$("$BIN" diff "$DIR/refrain_out.f32" "$DIR/torch_out.f32") || fail "diff"
gflop=$(awk -F'\t' '$1 == "refrain" { print $6; exit }' "$RES")
secs=$(awk -v t="$T" 'BEGIN { printf "%.1f", t * 256 / 22050 }')
best_torch=$(awk -F'\t' '$1 == "torch" { s = $3 + $4; if (b == "" || s < b) b = s } END { print b }' "$RES")
{
    echo "# Mel autoencoder: encode + decode speed, refrain vs PyTorch 1.13"
    echo
    echo "Written by \`bash bench/ae.sh\` (REPEATS=$REPEATS, best of) on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Model \`$MODEL\`; excerpt \`$TRACK\` from $START s, $secs s of audio = $T log-mel frames x $M bands."
    echo "Both encode to unit-scale latents and decode back to log-mel with the same windows"
    echo "(256 frames + 32 of context each side); the log-mel front end and the vocoder are excluded."
    echo "Convolutions: $gflop GFLOP for encode + decode (context included). Both run with the OpenMP settings of the environment."
    echo
    echo "| run | encode s | decode s | together s | real-time factor | GFLOP/s | CPU s | PyTorch best / this |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    awk -F'\t' -v g="$gflop" -v secs="$secs" -v bt="$best_torch" '{
        s = $3 + $4
        name = ($1 == "refrain" ? "refrain" : "PyTorch") ", " $2 " thread" ($2 > 1 ? "s" : "") ($7 == "blas1" ? ", OPENBLAS_NUM_THREADS=1" : "")
        r = bt / s
        printf "| %s | %.3f | %.3f | %.3f | %.0fx | %.1f | %.3f | %s%.2fx%s |\n", name, $3, $4, s, secs / s, g / s, $5,
               ($1 == "refrain" ? "**" : ""), r, ($1 == "refrain" ? "**" : "")
    }' "$RES"
    echo
    echo "PyTorch against refrain on this excerpt (the last runs of each, 2 threads): latents $dlat;"
    echo "decoded log-mel $dout (log-mel units)."
    echo
    echo "## Machine and conditions"
    echo
    echo "- CPU: $(cpu_desc)"
    echo "- torch $($PY -c 'import torch; print(torch.__version__)')"
    echo "- Load average before / after: $load0 / $load1 (the machine is shared; the runs are interleaved)."
    echo "- Whole benchmark: $((SECONDS - t_start)) s."
    echo
    echo "Reproduce: \`bash bench/ae.sh\` (or \`make bench\`, which runs every bench/*.sh)."
} > "$MD.tmp" && mv "$MD.tmp" "$MD"
echo "bench/ae.sh: wrote $MD"
grep '^| refrain' "$MD"
