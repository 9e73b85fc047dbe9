#!/usr/bin/env bash
# scripts/eval-analyzer.sh — evaluates `refrain analyze` and writes
# notebooks_exports/analyzer.md with its figures.
#
# 1. MMA songs from `refrain mmagen --seed S` (data/mmagen.c), rendered with
#    mma + fluidsynth (FluidR3_GM, 22,050 Hz); the reference form is the MIDI
#    file's MidiMark markers, read by `refrain analyze --ref SONG.mid`.
#    Scores: boundary F at 0.5 s and 3 s (interior boundaries, one-to-one
#    matching) and pairwise frame label F (0.1 s frames).
# 2. A few warzone2100-music recordings (scripts/fetch-music.sh): no reference;
#    the form found and the self-similarity PNG.
#
# Usage: scripts/eval-analyzer.sh [SEEDS...]   (default: the 20 evaluation seeds)
#   EVAL_OUT=folder   where songs and figures go (default .cache/eval-analyzer)
#   EVAL_TUNE=1       score only, print the mean line, write no report (tuning)
# Tuning used seeds 5000-5011. Seeds 9001-9020 were the first evaluation set;
# after the change that splits back-to-back repeats (tuned on 5000-5011 only)
# the default is the fresh set 9101-9120, never looked at before.
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
OUT=${EVAL_OUT:-.cache/eval-analyzer}
SF2=${REFRAIN_SF2:-/usr/share/sounds/sf2/FluidR3_GM.sf2}
REPORT=notebooks_exports/analyzer.md
FIG=notebooks_exports/analyzer
TUNE=${EVAL_TUNE:-0}
if [ $# -gt 0 ]; then SEEDS=("$@"); else SEEDS=($(seq 9101 9120)); fi

make -s "$REFRAIN" >&2
mkdir -p "$OUT/mma"
# a private copy: a rebuild of ./refrain during the run must not change it
cp "$REFRAIN" "$OUT/refrain.bin"
REFRAIN=$OUT/refrain.bin
[ "$TUNE" = 1 ] || mkdir -p "$FIG"

# ---- MMA songs ----------------------------------------------------------------------
scores=$OUT/scores.tsv
: > "$scores"
for s in "${SEEDS[@]}"; do
    b=$OUT/mma/song_$s
    if [ ! -s "$b.wav" ]; then
        "$REFRAIN" mmagen "$b.mma" --seed "$s" > "$b.info"
        mma -f "$b.mid" "$b.mma" > "$b.mma.log" 2>&1 || { echo "mma failed on seed $s" >&2; continue; }
        fluidsynth -ni -g 0.35 -r 22050 -F "$b.tmp.wav" "$SF2" "$b.mid" > /dev/null 2>&1
        mv "$b.tmp.wav" "$b.wav"
    fi
    png=()
    if [ "$TUNE" != 1 ] && [ "$s" = "${SEEDS[0]}" -o "$s" = "${SEEDS[1]:-x}" -o "$s" = "${SEEDS[2]:-x}" ]; then
        png=(--png "$FIG/mma_$s.png")
    fi
    line=$("$REFRAIN" analyze -q "$b.wav" --ref "$b.mid" -o "$b.json" "${png[@]}" | grep '^score')
    groove=$(cut -f2 "$b.info")
    echo -e "$s\t$groove\t$line" >> "$scores"
    [ "$TUNE" = 1 ] || echo "seed $s: $line" >&2
done
# columns: 1 seed, 2 groove, 3 "score", 4 F05, 5 P, 6 R, 7 F3, 8 P, 9 R, 10 pw, 11 P, 12 R, 13 ref, 14 est
num() { sed 's/^[^ ]* //'; }
summary=$(awk -F'\t' '{ split($4,a," "); split($7,b," "); split($10,c," "); f05+=a[2]; f3+=b[2]; pw+=c[2]; n++ }
    END { printf "songs %d  boundary F@0.5s %.3f  F@3s %.3f  pairwise F %.3f\n", n, f05/n, f3/n, pw/n }' "$scores")
echo "$summary"
[ "$TUNE" = 1 ] && exit 0

# ---- recordings ---------------------------------------------------------------------------
bash scripts/fetch-music.sh
mapfile -t recs < <(find .cache/pkg/warzone2100-music \( -name '*.ogg' -o -name '*.opus' \) | sort | head -3)
rec_rows=""
for r in "${recs[@]}"; do
    name=$(basename "$r"); name=${name%.*}
    # CPU seconds on one thread (the machine is shared, so wall time says little)
    TIMEFORMAT=%U
    { time "$REFRAIN" analyze -q --threads 1 "$r" -o "$OUT/$name.json" --png "$FIG/wz_$name.png" > "$OUT/$name.txt"; } 2> "$OUT/$name.cpu"
    form=$(head -1 "$OUT/$name.txt" | sed 's/^form: //')
    rec_rows+="| $name | $form | $(cat "$OUT/$name.cpu") |"$'\n'
done

# ---- report ------------------------------------------------------------------------------------
{
    echo "# Structure analysis (\`refrain analyze\`): evaluation"
    echo
    echo "Written by \`scripts/eval-analyzer.sh\` on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD)."
    echo
    echo "## MMA songs with exact section labels"
    echo
    echo "${#SEEDS[@]} songs from \`refrain mmagen --seed S\` for S in ${SEEDS[0]}..${SEEDS[${#SEEDS[@]}-1]}"
    echo "(data/mmagen.c: a groove from MMA's library, tempo, key, chords and a melody per"
    echo "section type, \`MidiMark\` at each section start), rendered by mma and fluidsynth with"
    echo "FluidR3_GM at 22,050 Hz. The reference is the MIDI markers (\`--ref SONG.mid\`)."
    echo "Parameters were tuned on seeds 5000-5011 only."
    echo
    echo "History, so the numbers can be weighed: the first version (commit 8390825) scored"
    echo "F@0.5s 0.552, F@3s 0.870, pairwise 0.887 on the first evaluation set, seeds 9001-9020."
    echo "Its forms there showed back-to-back repeats (\"chorus chorus\") merged into one"
    echo "section; the split of such runs was then added and tuned on seeds 5000-5011 alone"
    echo "(F@3s 0.846 -> 0.889 there). On 9001-9020 that version scores F@0.5s 0.589, F@3s 0.900,"
    echo "pairwise 0.887, but that set is no longer unseen, so the table below uses a fresh"
    echo "set, run once."
    echo
    echo "Measures: boundary hit rate F at 0.5 s and 3 s tolerance over interior boundaries"
    echo "(start and end excluded; one-to-one matching, as mir_eval's \`detection\` with"
    echo "\`trim=True\`); pairwise frame label F (Levy & Sandler; 0.1 s frames; precision and"
    echo "recall of the pairs of frames that share a label). Labels are compared by name"
    echo "(\"verse\" = \"verse\"), so an intro that reuses the verse's chords counts against us."
    echo
    echo "**Mean over songs: $summary**"
    echo
    echo "| seed | groove | F@0.5s | F@3s (P / R) | pairwise F (P / R) | reference form | found form |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    awk -F'\t' '{ split($4,a," "); split($7,b," "); split($8,bp," "); split($9,br," ");
                  split($10,c," "); split($11,cp," "); split($12,cr," "); split($13,rf," "); split($14,es," ");
                  printf "| %s | %s | %.2f | %.2f (%.2f / %.2f) | %.2f (%.2f / %.2f) | %s | %s |\n",
                         $1, $2, a[2], b[2], bp[2], br[2], c[2], cp[2], cr[2], rf[2], es[2] }' "$scores"
    echo
    echo "Reference forms use lower-case letters by first appearance of a section name;"
    echo "found forms the analyzer's repeat labels."
    echo
    echo "Reproduce: \`scripts/eval-analyzer.sh\` (or one song:"
    echo "\`refrain mmagen s.mma --seed 9001 && mma -f s.mid s.mma && fluidsynth -ni -g 0.35 -r 22050 -F s.wav $SF2 s.mid && refrain analyze s.wav --ref s.mid --png s.png\`)."
    echo
    for s in "${SEEDS[@]:0:3}"; do
        echo "### seed $s: $(cut -f2- "$OUT/mma/song_$s.info" | cut -f1,3,5 | tr '\t' ' ')"
        echo
        echo "![self-similarity, seed $s](analyzer/mma_$s.png)"
        echo
    done
    echo "## warzone2100-music recordings (no reference)"
    echo
    echo "| track | form found (sections, length) | CPU seconds to decode and analyse, one thread |"
    echo "| --- | --- | --- |"
    printf "%s" "$rec_rows"
    echo
    for r in "${recs[@]}"; do
        name=$(basename "$r"); name=${name%.*}
        echo "### $name"
        echo
        echo '```'
        cat "$OUT/$name.txt"
        echo '```'
        echo
        echo "![self-similarity, $name](analyzer/wz_$name.png)"
        echo
    done
    echo "## Method (data/analyze.c) and parameters"
    echo
    echo "- Frames of 16 STFT hops (0.186 s; the hop grows past 3000 frames, about 9 minutes)."
    echo "  Chroma: STFT power folded to 12 pitch classes (100 Hz-4 kHz, Gaussian per bin as wide"
    echo "  as the bin in semitones), L1-normalised, square-root compressed. Timbre: DCT of the"
    echo "  mean 80-band log-mel, coefficients 0-19, standardised over the song."
    echo "- Each stream time-delay embedded over 1.5 s, L2-normalised; cosine self-similarity;"
    echo "  combined 50/50 (the matrix in the figures)."
    echo "- Novelty: Foote checkerboard (Gaussian taper, half-width 5 s) on chroma and on timbre,"
    echo "  plus structure features (Serra et al. 2014): mutual 4 % nearest-neighbour recurrence,"
    echo "  circular time-lag matrix blurred 2 s x 0.5 s, novelty = distance between lag columns"
    echo "  2 s apart. Half checkerboard, half structure features."
    echo "- Peaks: the largest within +-3 s, above the local mean + 0.3 sd, 6 s apart, strongest"
    echo "  first; each then moves to the peak of a sharper structure-feature novelty (0.6 s blur)"
    echo "  within 1 s. Leading and trailing silence (60 dB down) is cut first."
    echo "- Labels: segment similarity = best diagonal-path mean of the path-enhanced recurrence"
    echo "  matrix (shorter segment slid along the longer, +-1 s), times sqrt(length ratio);"
    echo "  average-linkage clustering while similarity >= 0.5; neighbours with one label merge."
    echo "- Confidence = mean of the boundary's novelty height and the label margin (own-cluster"
    echo "  minus best other-cluster similarity, mapped to 0..1)."
    echo
    echo "Tuning (seeds 5000-5011 of the same generator, means over 12 songs):"
    echo
    echo "| version | F@0.5s | F@3s | pairwise F |"
    echo "| --- | --- | --- | --- |"
    echo "| checkerboard novelty only (structure-feature weight 0) | 0.14 | 0.68 | 0.67 |"
    echo "| + structure features, recurrence label similarity, merge | 0.56 | 0.85 | 0.88 |"
    echo "| + boundary refinement (sharp structure novelty, +-1 s) | 0.67 | 0.85 | 0.90 |"
    echo "| + split of back-to-back repeats (the version evaluated) | 0.70 | 0.89 | 0.90 |"
    echo
    echo "## Known limits"
    echo
    echo "- Back-to-back occurrences of one section (\"chorus chorus\") are split again only when"
    echo "  the label also occurs alone elsewhere (that occurrence gives the length); a label"
    echo "  that only ever comes doubled stays one long section."
    echo "- Sections shorter than 6 s (2 bars at most tempos) are not found."
    echo "- A steady texture with nothing repeating inside it is still cut: 30 s of white noise"
    echo "  comes out as two sections with different labels. The novelty is scaled to its own"
    echo "  maximum, so some peak always passes, and the path-based label similarity sees no"
    echo "  repeated paths in noise. A floor on the unscaled checkerboard novelty is the fix to try."
    echo "- Boundaries land within 0.5 s only about half the time: the features are 0.19 s"
    echo "  frames embedded over 1.5 s and there is no beat tracking to snap to bar lines."
    echo "- On the recordings there is no reference; long through-composed tracks get many"
    echo "  single-occurrence labels, which is what the corpus's confidence field is for."
    echo
    echo "## How to read the figures"
    echo
    echo "Each figure is the combined (chroma and timbre) self-similarity matrix of the"
    echo "time-delay-embedded features, time running right and down; light is similar."
    echo "Cyan lines are the boundaries found; the coloured strips along the top and left"
    echo "carry each section's repeat label."
} > "$REPORT.tmp.$$"
mv "$REPORT.tmp.$$" "$REPORT"
echo "wrote $REPORT" >&2
