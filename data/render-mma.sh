#!/usr/bin/env bash
# data/render-mma.sh SONG.mma — renders one generated song: mma -> MIDI
# (.cache/mma/mid/), fluidsynth with the GM soundfont -> 22,050 Hz WAV
# (.cache/mma/wav/). Skips songs whose WAV is newer than the .mma; a song that
# fails is reported, marked (.failed) and skipped next time, never fatal.
# Outputs appear atomically (temp name, then mv).
set -u
src=$1
C=$(dirname "$(dirname "$src")")          # .cache/mma
name=$(basename "$src" .mma)
mid=$C/mid/$name.mid wav=$C/wav/$name.wav fail=$C/wav/$name.failed
SF2=${REFRAIN_SF2:-/usr/share/sounds/sf2/FluidR3_GM.sf2}
[ -f "$wav" ] && [ "$wav" -nt "$src" ] && exit 0
[ -f "$fail" ] && [ "$fail" -nt "$src" ] && { echo "refrain: data: skipped before: $src (see $fail)" >&2; exit 0; }
tmpm=$mid.tmp.$$.mid tmpw=$wav.tmp.$$.wav
# A render killed outright (SIGKILL, a power cut) leaves its temporaries, the
# WAV one megabytes long: remove those of this song whose process is gone
# (tests/cli_kill.sh's reasoning, util.c's tmp_path_for does the same), and
# our own on an interrupt.
for t in "$mid".tmp.*.mid "$wav".tmp.*.wav; do
    [ -e "$t" ] || continue
    p=${t%.*}; p=${p##*.tmp.}
    case $p in ''|*[!0-9]*) continue ;; esac
    [ -d "/proc/$p" ] || rm -f "$t"   # not kill -0: another user's live render answers EPERM
done
trap 'rm -f "$tmpm" "$tmpw"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if ! mma -f "$tmpm" "$src" >"$fail.log" 2>&1 || [ ! -s "$tmpm" ]; then
    echo "refrain: data: mma failed on $src: $(grep -m1 -i error "$fail.log")" >&2
    mv "$fail.log" "$fail"; rm -f "$tmpm"; exit 0
fi
# -g 0.35: the default gain (0.2) leaves songs near -30 LUFS; 0.35 keeps peaks below full scale.
if ! fluidsynth -ni -g 0.35 -F "$tmpw" -r 22050 "$SF2" "$tmpm" >>"$fail.log" 2>&1 || [ ! -s "$tmpw" ]; then
    echo "refrain: data: fluidsynth failed on $src" >&2
    mv "$fail.log" "$fail"; rm -f "$tmpm" "$tmpw"; exit 0
fi
mv "$tmpm" "$mid" && mv "$tmpw" "$wav" && rm -f "$fail.log" "$fail"
