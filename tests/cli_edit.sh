#!/usr/bin/env bash
# cli_edit.sh — `refrain generate`'s editing options (issue 15) with tiny random
# models (test_generate --write-models): usage errors exit 2 before any model or
# file is read, a timeline whose latents are missing or another song's exits 1,
# nothing written on any failure; a re-roll keeps the other sections' latents
# byte for byte outside the seam and says what it sampled; by label; with the
# song's own seed it reproduces the files; --prime twice gives the same bytes;
# --continue starts with the recording's samples; --form-from finds a rendered
# A B A C B song's form. (The rules in depth: tests/test_edit.c.)
cd "$(dirname "$0")/.." && . tests/lib_cli.sh

"$REFRAIN" generate --help >"$tmp/help" 2>&1
for o in --from --latents-in --reroll --seam-strength --repeat-strength --prime --continue --form-from; do
    grep -q -- "$o" "$tmp/help" || missing="$missing $o"
done
[ -z "$missing" ] && ok "generate --help lists the editing options" || bad "generate --help lacks$missing"

# usage errors: one line, exit 2, before any model is looked for (none is set up yet)
expect_fail 2 "--reroll needs --from" "$tmp/s.wav" generate --form "verse" --reroll 2 -o "$tmp/s.wav"
expect_fail 2 "--from needs --reroll" "$tmp/s.wav" generate --from "$tmp/a.json" --latents-in "$tmp/a.lat" -o "$tmp/s.wav"
expect_fail 2 "--from needs --latents-in" "$tmp/s.wav" generate --from "$tmp/a.json" --reroll 2 -o "$tmp/s.wav"
expect_fail 2 "not both" "$tmp/s.wav" generate --form "verse" --form-from "$tmp/r.wav" -o "$tmp/s.wav"
expect_fail 2 "drop --form" "$tmp/s.wav" generate --form "verse" --from "$tmp/a.json" --latents-in "$tmp/a.lat" --reroll 1 -o "$tmp/s.wav"
expect_fail 2 "--prime or --continue" "$tmp/s.wav" generate --form "verse" --prime "$tmp/r.wav" --continue "$tmp/r.wav" -o "$tmp/s.wav"
expect_fail 2 "--form is required" "$tmp/s.wav" generate -o "$tmp/s.wav"
expect_fail 2 "--repeat-strength" "$tmp/s.wav" generate --form "verse" --repeat-strength 0 -o "$tmp/s.wav"
expect_fail 2 "--repeat-strength" "$tmp/s.wav" generate --form "verse" --repeat-strength 1.5 -o "$tmp/s.wav"

models=$tmp/models
mkdir -p "$models"
TESTS_BIN=${BUILD:-build}/tests
if ! "$TESTS_BIN/test_generate" --write-models "$models" 2>"$tmp/err" ||
   ! "$TESTS_BIN/test_edit" --write-recording "$tmp/r.wav" 2>>"$tmp/err"; then
    bad "tiny models / recording: $(cat "$tmp/err")"
    finish cli_edit
    exit 1
fi
export REFRAIN_MODEL_DIR=$models
gen() { "$REFRAIN" generate --steps 3 --vocoder-iters 4 --quiet "$@"; }
# latent frames [A, B) of a latents file (24-byte header, 4 channels of float32 a frame)
frames() { tail -c +$((24 + $2 * 16 + 1)) "$1" | head -c $((($3 - $2) * 16)); }
same() { cmp -s <(frames "$1" "$3" "$4") <(frames "$2" "$3" "$4"); }
# section I's (1-based) start frame in a timeline
start() { sed -n 's/.*"start": *\([0-9.]*\).*/\1/p' "$1" | sed -n "${2}p" | awk '{ printf "%d", $1 * 22050 / 1024 + 0.5 }'; }
seed() { sed -n 's/.*"seed": *\([0-9]*\).*/\1/p' "$1" | sed -n "${2}p"; }

gen --form "intro:3 verse:4 chorus:4 verse:4 chorus:4" --seed 11 -o "$tmp/a.wav" --timeline "$tmp/a.json" \
    --latents "$tmp/a.lat" 2>"$tmp/err" || bad "the song to edit: $(cat "$tmp/err")"
s2=$(start "$tmp/a.json" 2); s3=$(start "$tmp/a.json" 3); s4=$(start "$tmp/a.json" 4); s5=$(start "$tmp/a.json" 5)
T=$((($(stat -c %s "$tmp/a.lat") - 24) / 16))

# re-roll section 2 (the first verse) with another seed
"$REFRAIN" generate --from "$tmp/a.json" --latents-in "$tmp/a.lat" --reroll 2 --seed 5 --steps 3 --vocoder-iters 4 \
    -o "$tmp/b.wav" --timeline "$tmp/b.json" --latents "$tmp/b.lat" 2>"$tmp/err"
rc=$?
line=$(grep '^reroll:' "$tmp/err")
[ $rc -eq 0 ] && same "$tmp/a.lat" "$tmp/b.lat" 0 "$s2" && ! same "$tmp/a.lat" "$tmp/b.lat" "$s2" "$s3" &&
    ! same "$tmp/a.lat" "$tmp/b.lat" "$s3" $((s3 + 6)) && same "$tmp/a.lat" "$tmp/b.lat" $((s3 + 6)) "$T" &&
    ok "--reroll 2: frames 0..$s2 and $((s3 + 6))..$T identical, the verse ($s2..$s3) and the seam ($s3..$((s3 + 6))) new" ||
    bad "--reroll 2: exit $rc, $(cat "$tmp/err")"
echo "$line" | grep -q "section 2 (verse) of 5" && echo "$line" | grep -q "1 section and $((s3 - s2 + 6)) of $T latent frames" &&
    ok "it says what it sampled: $line" || bad "the report: $line"
[ "$(seed "$tmp/b.json" 2)" != "$(seed "$tmp/a.json" 2)" ] && [ "$(seed "$tmp/b.json" 3)" = "$(seed "$tmp/a.json" 3)" ] &&
    [ "$(seed "$tmp/b.json" 1)" = "$(seed "$tmp/a.json" 1)" ] &&
    ok "the timeline records the re-rolled section's new seed ($(seed "$tmp/a.json" 2) -> $(seed "$tmp/b.json" 2)), the others' kept" ||
    bad "seeds: $(cat "$tmp/b.json")"

# by label: both choruses, the seam into the second verse
gen --from "$tmp/a.json" --latents-in "$tmp/a.lat" --reroll chorus --seed 5 -o "$tmp/c.wav" --latents "$tmp/c.lat" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && same "$tmp/a.lat" "$tmp/c.lat" 0 "$s3" && ! same "$tmp/a.lat" "$tmp/c.lat" "$s3" "$s4" &&
    same "$tmp/a.lat" "$tmp/c.lat" $((s4 + 6)) "$s5" && ! same "$tmp/a.lat" "$tmp/c.lat" "$s5" "$T" &&
    ok "--reroll chorus: both choruses new, the rest identical outside the seam" || bad "--reroll chorus: exit $rc, $(cat "$tmp/err")"

# the song's own seed: the same files
gen --from "$tmp/a.json" --latents-in "$tmp/a.lat" --reroll verse --seed 11 -o "$tmp/d.wav" --timeline "$tmp/d.json" \
    --latents "$tmp/d.lat" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/a.lat" "$tmp/d.lat" && cmp -s "$tmp/a.wav" "$tmp/d.wav" && cmp -s "$tmp/a.json" "$tmp/d.json" &&
    ok "--reroll verse --seed 11 (the song's own): latents, WAV and timeline byte-identical" ||
    bad "same-seed re-roll: exit $rc, $(cat "$tmp/err")"

# bad re-rolls and bad files
expect_fail 2 "give 1..5" "$tmp/e.wav" generate --from "$tmp/a.json" --latents-in "$tmp/a.lat" --reroll 6 -o "$tmp/e.wav"
expect_fail 2 "give 1..5" "$tmp/e.wav" generate --from "$tmp/a.json" --latents-in "$tmp/a.lat" --reroll 0 -o "$tmp/e.wav"
expect_fail 2 "labels are intro, verse, chorus" "$tmp/e.wav" generate --from "$tmp/a.json" --latents-in "$tmp/a.lat" --reroll bridge -o "$tmp/e.wav"
expect_fail 1 "$tmp/none.lat" "$tmp/e.wav" generate --from "$tmp/a.json" --latents-in "$tmp/none.lat" --reroll 2 -o "$tmp/e.wav"
gen --form "verse:3 chorus:3" -o "$tmp/o.wav" --latents "$tmp/o.lat" 2>/dev/null
expect_fail 1 "do not belong to timeline" "$tmp/e.wav" generate --from "$tmp/a.json" --latents-in "$tmp/o.lat" --reroll 2 \
    -o "$tmp/e.wav" --timeline "$tmp/e.json"
[ ! -e "$tmp/e.json" ] && ok "no timeline left behind" || bad "a timeline was left behind"
expect_fail 1 "not a refrain latent file" "$tmp/e.wav" generate --from "$tmp/a.json" --latents-in "$tmp/a.json" --reroll 2 -o "$tmp/e.wav"
expect_fail 1 "$tmp/none.json" "$tmp/e.wav" generate --from "$tmp/none.json" --latents-in "$tmp/a.lat" --reroll 2 -o "$tmp/e.wav"

# --form-from: the rendered A B A C B song (10 s sections)
gen --form-from "$tmp/r.wav" -o "$tmp/f.wav" --timeline "$tmp/f.json" 2>"$tmp/err"
rc=$?
labels=$(sed -n 's/.*"label": *"\([^"]*\)".*/\1/p' "$tmp/f.json" | tr -d '\n')
lens=$(sed -n 's/.*"start": *\([0-9.]*\), "end": *\([0-9.]*\).*/\1 \2/p' "$tmp/f.json" |
    awk '{ d = $2 - $1 - 10; if (d < 0) d = -d; if (d > 1.5) bad++ } END { print bad + 0 }')
[ $rc -eq 0 ] && [ "$labels" = ABACB ] && [ "$lens" = 0 ] &&
    ok "--form-from an A B A C B recording: labels $labels, every length within 1.5 s of 10 s" ||
    bad "--form-from: exit $rc, labels '$labels', $lens lengths off: $(cat "$tmp/err")"

# --prime: changes the song, twice the same bytes
gen --form "verse:3 chorus:3" --seed 4 -o "$tmp/n.wav" 2>/dev/null
gen --form "verse:3 chorus:3" --seed 4 --prime "$tmp/r.wav" -o "$tmp/p1.wav" 2>"$tmp/err" &&
    gen --form "verse:3 chorus:3" --seed 4 --prime "$tmp/r.wav" -o "$tmp/p2.wav" 2>>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && cmp -s "$tmp/p1.wav" "$tmp/p2.wav" && ! cmp -s "$tmp/n.wav" "$tmp/p1.wav" &&
    ok "--prime: another song than unprimed; primed twice, the same bytes" || bad "--prime: exit $rc, $(cat "$tmp/err")"

# --continue: the recording's samples first, up to the crossfade. Through 16-bit WAVs a sample
# comes back within one step, not exactly: libsndfile reads PCM16 as v / 32768 and writes
# round(x * 32767) (test_edit checks the library's samples bit for bit). 44-byte headers.
gen --form "verse:3 chorus:3" --continue "$tmp/r.wav" -o "$tmp/k.wav" --timeline "$tmp/k.json" 2>"$tmp/err"
rc=$?
n=$((($(stat -c %s "$tmp/r.wav") - 44) / 2))
keep=$(((n - 2205) * 2))
off=$(paste <(od -An -v -td2 -w2 -j44 -N$keep "$tmp/r.wav") <(od -An -v -td2 -w2 -j44 -N$keep "$tmp/k.wav") |
    awk '{ d = $1 - $2; if (d > 1 || d < -1) bad++ } END { print bad + 0 }')
[ $rc -eq 0 ] && [ "$off" = 0 ] &&
    [ "$(stat -c %s "$tmp/k.wav")" -gt "$(stat -c %s "$tmp/r.wav")" ] &&
    [ "$(sed -n 's/.*"label": *"\([^"]*\)".*/\1/p' "$tmp/k.json" | tr '\n' ' ')" = "A B A C B verse chorus " ] &&
    ok "--continue: the recording's $((n - 2205)) samples unchanged (within a 16-bit step) before the crossfade, then verse chorus after its 5 sections" ||
    bad "--continue: exit $rc, $off samples off, $(cat "$tmp/err") $(cat "$tmp/k.json")"
unset REFRAIN_MODEL_DIR
finish cli_edit
