#!/usr/bin/env bash
# make-data.sh — `make data`: builds refrain's training corpus from nothing
# (design.md, "The corpus"), into .cache/ (git-ignored, never committed):
#   1. fetch the Debian packages (data/fetch.sh);
#   2. write MMA songs from a seed (refrain mmagen) and render them with mma +
#      fluidsynth, JOBS at a time (data/render-mma.sh);
#   3. list every source file (.cache/corpus/sources.tsv): MMA renders, the
#      tracker modules of pingus-data and tecnoballz-data, the soundtrack
#      recordings;
#   4. build one feature shard per song, JOBS processes side by side
#      (refrain corpus --part k --parts JOBS), then the index and a summary
#      (.cache/corpus/summary.md).
# Every step is incremental: a second run redoes nothing. Unreadable files are
# reported and skipped. Knobs: REFRAIN (binary), REFRAIN_JOBS (2),
# REFRAIN_MMA_HOURS (3.2), REFRAIN_MMA_SEED (20261124), REFRAIN_CORPUS_PKGS.
# A failure, Ctrl-C or SIGTERM leaves none of this script's temporaries
# (sources.tsv.tmp.PID, summary.md.tmp.PID) behind, and stops the corpus parts
# it started (each removes its own; render-mma.sh and refrain corpus clean up
# after themselves); the next run goes on from what was finished.
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in /*|./*) ;; *) REFRAIN=./$REFRAIN ;; esac
JOBS=${REFRAIN_JOBS:-2}
HOURS=${REFRAIN_MMA_HOURS:-3.2}
SEED=${REFRAIN_MMA_SEED:-20261124}
C=.cache
OUT=$C/corpus
t0=$(date +%s)
stamp() { echo "refrain: data: [$(( $(date +%s) - t0 )) s] $*" >&2; }
list=$OUT/sources.tsv.tmp.$$ summary=$OUT/summary.md.tmp.$$ pids=""
trap 'rm -f "$list" "$summary"' EXIT
trap 'kill $pids 2>/dev/null || true; exit 130' INT   # then the EXIT trap (|| true: set -e holds in traps too)
trap 'kill $pids 2>/dev/null || true; exit 143' TERM

stamp "fetching packages"
bash data/fetch.sh

stamp "writing MMA songs (seed $SEED, $HOURS hours)"
mkdir -p $C/mma/src $C/mma/mid $C/mma/wav $OUT
$REFRAIN mmagen $C/mma/src --seed "$SEED" --hours "$HOURS" --list $C/mma/songs.tsv
stamp "rendering $(wc -l < $C/mma/songs.tsv) MMA songs with mma + fluidsynth ($JOBS at a time)"
cut -f1 $C/mma/songs.tsv | sed "s|^|$C/mma/src/|; s|$|.mma|" |
    xargs -P "$JOBS" -n 1 bash data/render-mma.sh

stamp "listing sources"
P=$C/pkg
{
    cut -f1 $C/mma/songs.tsv | while read -r s; do
        [ -f $C/mma/wav/$s.wav ] && printf 'mma\tmma\t%s\t%s\n' $C/mma/wav/$s.wav $C/mma/mid/$s.mid
    done
    rec() { # package, folder under the package, find tests...
        local pkg=$1 dir=$P/$1/$2; shift 2
        [ -d "$dir" ] && find "$dir" -type f "$@" | LC_ALL=C sort | sed "s|^|recording\t$pkg\t|"
    }
    mod() {
        local pkg=$1 dir=$P/$1/$2
        [ -d "$dir" ] && find "$dir" -type f \( -iname '*.mod' -o -iname '*.it' -o -iname '*.s3m' -o -iname '*.xm' \) |
            LC_ALL=C sort | sed "s|^|module\t$pkg\t|"
    }
    mod pingus-data usr/share/games/pingus/data/music
    mod tecnoballz-data usr/share/games/tecnoballz/musics
    rec warzone2100-music usr/share/games/warzone2100/music -name '*.opus'
    rec nexuiz-music usr/share/games/nexuiz/data -path '*.unzipped/*' -name '*.ogg'
    rec blobwars-data usr/share/games/blobwars/music ! -name '*.tags'
    rec hedgewars-data usr/share/games/hedgewars/Data/Music -name '*.ogg'
    rec supertux-data usr/share/games/supertux2/music -name '*.ogg'
    rec widelands-data usr/share/games/widelands/data/music -name '*.ogg'
} > "$list" || true
if ! cmp -s "$list" $OUT/sources.tsv; then mv "$list" $OUT/sources.tsv; else rm -f "$list"; fi
stamp "$(wc -l < $OUT/sources.tsv) source files; building feature shards ($JOBS processes)"

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1   # parallel across processes, not inside them
for k in $(seq 0 $((JOBS - 1))); do
    $REFRAIN corpus $OUT/sources.tsv --out $OUT --part $k --parts "$JOBS" &
    pids="$pids $!"
done
st=0
for p in $pids; do wait $p || st=1; done
[ $st -eq 0 ] || { echo "refrain: data: a corpus part failed" >&2; exit 1; }
pids=""
$REFRAIN corpus $OUT/sources.tsv --out $OUT --index-only > "$summary"
{
    echo; echo "| package | split | songs | hours | sections |"; echo "| --- | --- | ---: | ---: | ---: |"
    awk -F'\t' 'NR > 1 { k = $2 "\t" $4; if (!($1 in seen)) { seen[$1] = 1; n[k]++; h[k] += $5 } s[k]++ }
        END { for (k in n) { split(k, a, "\t"); printf "| %s | %s | %d | %.2f | %d |\n", a[1], a[2], n[k], h[k] / 3600, s[k] } }' \
        $OUT/index.tsv | LC_ALL=C sort
    skips=$(ls $OUT/shards/*.skip 2>/dev/null | wc -l)
    echo; echo "Skipped source files (unreadable, or shorter than the minimum): $skips"
    for f in $OUT/shards/*.skip; do [ -f "$f" ] && echo "- $(cut -d' ' -f3- "$f")"; done | LC_ALL=C sort
    times > $OUT/.times   # the builtin, in this shell: its second line is the children's CPU
    echo; tail -1 $OUT/.times | awk '{ printf "CPU of every command this run started (user, system): %s %s\n", $1, $2 }'
    echo; echo "This run: $(( $(date +%s) - t0 )) s wall on $(getconf _NPROCESSORS_ONLN) cores; $(du -sh $OUT | cut -f1) in $OUT, $(du -sh $C | cut -f1) in $C."
} >> "$summary"
mv "$summary" $OUT/summary.md
cat $OUT/summary.md
stamp "done: $(du -sh $OUT | cut -f1) in $OUT (shards + index), $(du -sh $C | cut -f1) in $C"
