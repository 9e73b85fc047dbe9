#!/usr/bin/env bash
# cli_analyze_output.sh — `refrain analyze`'s outputs are one transaction
# (issue 17, util.h OutTx): the JSON (-o) and the PNG (--png) are written under
# temporary names and renamed only when both succeeded. A full disk under the
# PNG (files limited to 4 kB: the JSON fits, the PNG does not) and a JSON name
# that cannot be renamed into place (a folder holds the name) each exit 1 with
# one line naming the file, and leave neither output nor any temporary; before
# the transaction the JSON stayed behind when the PNG failed. Then both written,
# and examples/analyze.c (built here: refrain.h and librefrain.so alone) writes
# the same JSON and PNG.
set -u
source "$(dirname "$0")/lib_cli.sh"

no_temps() { ! ls "$tmp" | grep -q '\.tmp\.'; }
# noise_wav PATH SECONDS: 16-bit mono 22,050 Hz white noise
noise_wav() {
    local bytes=$(($2 * 44100))
    { printf 'RIFF'; le32 $((36 + bytes)); printf 'WAVEfmt '; le32 16; le16 1; le16 1; le32 22050; le32 44100; le16 2
      le16 16; printf 'data'; le32 "$bytes"; head -c "$bytes" /dev/urandom; } >"$1"
}
noise_wav "$tmp/noise.wav" 12

echo "both outputs, or neither:"
(trap '' XFSZ; ulimit -f 4; exec "$REFRAIN" -q analyze "$tmp/noise.wav" -o "$tmp/a.json" --png "$tmp/a.png") \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qF "cannot write $tmp/a.png" "$tmp/err" &&
   [ ! -e "$tmp/a.json" ] && [ ! -e "$tmp/a.png" ] && no_temps; then
    ok "a full disk under the PNG: exit 1, no JSON and no PNG left: $(cat "$tmp/err")"
else
    bad "a full disk under the PNG: exit $rc, left: $(ls "$tmp" | grep 'a\.\|\.tmp\.' | tr '\n' ' ') stderr: $(cat "$tmp/err")"
fi
mkdir "$tmp/b.json"   # a folder holds the JSON's name: its rename fails after both were written
"$REFRAIN" -q analyze "$tmp/noise.wav" -o "$tmp/b.json" --png "$tmp/b.png" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qF "$tmp/b.json" "$tmp/err" && [ ! -e "$tmp/b.png" ] &&
   [ -d "$tmp/b.json" ] && [ -z "$(ls -A "$tmp/b.json")" ] && no_temps; then
    ok "the JSON cannot be put in place: exit 1, no PNG left: $(cat "$tmp/err")"
else
    bad "the JSON cannot be put in place: exit $rc, left: $(ls "$tmp" | grep 'b\.\|\.tmp\.' | tr '\n' ' ') stderr: $(cat "$tmp/err")"
fi
expect_fail 2 "past the end" "$tmp/c.json" analyze "$tmp/noise.wav" --start 100 -o "$tmp/c.json" --png "$tmp/c.png"
[ ! -e "$tmp/c.png" ] && ok "no PNG left either" || bad "c.png left behind"

if "$REFRAIN" -q analyze "$tmp/noise.wav" -o "$tmp/d.json" --png "$tmp/d.png" >"$tmp/out" 2>"$tmp/err" &&
   [ -s "$tmp/d.json" ] && [ -s "$tmp/d.png" ] && no_temps; then
    ok "room for both: both written, no temporary"
else
    bad "room for both: $(cat "$tmp/err"), left: $(ls "$tmp" | tr '\n' ' ')"
fi
grep -q '^form: [A-Z]* *([0-9]* sections\?, 12\.0 s)$' "$tmp/out" && ok "the table on stdout: $(head -1 "$tmp/out")" ||
    bad "stdout: $(head -2 "$tmp/out")"
grep -q '"sections"' "$tmp/d.json" && ok "d.json is a timeline" || bad "d.json: $(head -c 200 "$tmp/d.json")"

echo "examples/analyze.c, built here against the build tree's librefrain.so (refrain.h alone):"
lib=${BUILD:-build}/librefrain.so
case $lib in /*) ;; *) lib="$PWD/$lib" ;; esac
if [ ! -e "$lib" ]; then
    bad "no $lib (make lib)"
elif cc -std=c11 -O2 -Wall -Wextra -Werror ${SANITIZE:-} -I. -o "$tmp/analyze" examples/analyze.c -L"$(dirname "$lib")" -lrefrain \
        -Wl,-rpath,"$(dirname "$lib")" 2>"$tmp/err"; then
    if "$tmp/analyze" -j "$tmp/e.json" -p "$tmp/e.png" "$tmp/noise.wav" >"$tmp/out" 2>"$tmp/err" &&
       cmp -s "$tmp/e.json" "$tmp/d.json" && cmp -s "$tmp/e.png" "$tmp/d.png"; then
        ok "the example's timeline and picture are refrain analyze's, byte for byte: $(head -1 "$tmp/out")"
    else
        bad "the example: $(cat "$tmp/err"); JSON and PNG the same as refrain analyze's: $(cmp "$tmp/e.json" "$tmp/d.json" 2>&1; cmp "$tmp/e.png" "$tmp/d.png" 2>&1)"
    fi
    "$tmp/analyze" "$tmp/none.wav" >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "none.wav" "$tmp/err" && ok "the example on a missing file: exit 1: $(cat "$tmp/err")" ||
        bad "the example on a missing file: exit $rc: $(cat "$tmp/err")"
else
    bad "examples/analyze.c does not build: $(cat "$tmp/err")"
fi

finish cli_analyze_output
