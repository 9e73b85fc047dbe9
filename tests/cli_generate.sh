#!/usr/bin/env bash
# cli_generate.sh — `refrain generate`'s command line: usage errors exit 2
# before any model is read, a missing model is one line naming where refrain
# looked (exit 1), and nothing is written on any failure; a whole run with tiny
# models, a full disk and an interrupt. (The song's content is tested through
# the library in tests/test_generate.c.)
cd "$(dirname "$0")/.." && . tests/lib_cli.sh

"$REFRAIN" generate --help >"$tmp/help" 2>&1 && grep -q -- "--memory-guidance" "$tmp/help" && grep -q -- "--no-memory" "$tmp/help" \
    && ok "generate --help lists its options" || bad "generate --help: $(head -3 "$tmp/help")"
expect_fail 2 "word 2 'chrous'" "$tmp/s.wav" generate --form "intro chrous" -o "$tmp/s.wav"
expect_fail 2 "form: empty" "$tmp/s.wav" generate --form "  " -o "$tmp/s.wav"
expect_fail 2 "--steps" "$tmp/s.wav" generate --form "verse" -o "$tmp/s.wav" --steps 0
expect_fail 2 "--sampler" "$tmp/s.wav" generate --form "verse" -o "$tmp/s.wav" --sampler rk4
expect_fail 2 "--bpm" "$tmp/s.wav" generate --form "verse:8b" -o "$tmp/s.wav" --bpm 1000
expect_fail 2 "--output" - generate --form "verse"
expect_fail nz "mp3" "$tmp/s.mp3" generate --form "verse" -o "$tmp/s.mp3"
expect_fail nz "no-such-folder" - generate --form "verse" -o "$tmp/no-such-folder/s.wav"
mkdir -p "$tmp/empty" "$tmp/bin"
cp "$REFRAIN" "$tmp/bin/refrain"   # a copy with no assets/ beside it, so nothing is found once a model ships
cd "$tmp/empty"                      # nor in the current folder (assets/ there is the last place looked in)
REFRAIN="$tmp/bin/refrain" REFRAIN_MODEL_DIR="$tmp/empty" \
    expect_fail 1 "no denoiser.rfc found (looked in $tmp/empty/denoiser.rfc" "$tmp/s.wav" \
    generate --form "verse" -o "$tmp/s.wav" --png "$tmp/s.png" --timeline "$tmp/s.json"
cd - >/dev/null
[ ! -e "$tmp/s.png" ] && [ ! -e "$tmp/s.json" ] && ok "no PNG or timeline left behind" || bad "outputs left behind"
expect_fail 1 "$tmp/none.rfc" "$tmp/s.wav" generate --form "verse" -o "$tmp/s.wav" --model "$tmp/none.rfc"

# A whole run with tiny random models (written by the test program), then what
# the issue asks of it: a full disk and an interrupt leave no file behind.
models=$tmp/models
mkdir -p "$models"
TESTS_BIN=${BUILD:-build}/tests
if "$TESTS_BIN/test_generate" --write-models "$models" 2>"$tmp/err"; then
    export REFRAIN_MODEL_DIR=$models
    "$REFRAIN" generate --form "intro:3 verse:4 chorus:4 verse:4 chorus:4" -o "$tmp/g.wav" --png "$tmp/g.png" \
        --timeline "$tmp/g.json" --latents "$tmp/g.lat" --steps 3 --quiet 2>"$tmp/err"
    rc=$?
    [ $rc -eq 0 ] && [ -s "$tmp/g.wav" ] && [ -s "$tmp/g.png" ] && [ -s "$tmp/g.lat" ] &&
        [ "$(grep -c '"label"' "$tmp/g.json")" = 5 ] &&
        ok "a five-section song: WAV, PNG, latents and a timeline of 5 sections" ||
        bad "generate with tiny models: exit $rc, $(cat "$tmp/err")"
    secs=$("$REFRAIN" info "$tmp/g.wav" 2>/dev/null | sed -n 's/.*duration[^0-9]*\([0-9.]*\).*/\1/p' | head -1)
    end=$(sed -n 's/.*"end": *\([0-9.]*\).*/\1/p' "$tmp/g.json" | tail -1)
    awk -v a="$secs" -v b="$end" 'BEGIN { exit !(a != "" && b != "" && a - b < 0.05 && b - a < 0.05) }' &&
        ok "the timeline ends where the audio does ($end s, audio $secs s)" ||
        bad "timeline end '$end' against audio '$secs' s"
    # a full disk: files may grow to 64 kB (EFBIG with SIGXFSZ ignored stands for ENOSPC)
    (trap '' XFSZ; ulimit -f 64; exec "$REFRAIN" generate --form "intro:3 verse:4" -o "$tmp/f.wav" \
        --png "$tmp/f.png" --steps 2 --quiet) 2>"$tmp/err"
    rc=$?
    left=$(ls "$tmp" | grep -c '^f\.\|\.tmp')
    [ $rc -ne 0 ] && [ "$left" = 0 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "f.wav" "$tmp/err" &&
        ok "a full disk: exit $rc, one line naming the file, nothing left ($(cat "$tmp/err"))" ||
        bad "full disk: exit $rc, $left files left, stderr: $(cat "$tmp/err")"
    # an interrupt while generating: nothing written, not even a temporary file
    # (timeout sends SIGINT after 2 s; a background job of this shell would ignore it)
    timeout -s INT -k 20 2 "$REFRAIN" generate --form "verse:60 chorus:60 verse:60 chorus:60" -o "$tmp/i.wav" \
        --timeline "$tmp/i.json" --steps 400 --quiet 2>"$tmp/err"
    rc=$?
    left=$(ls "$tmp" | grep -c '^i\.\|\.tmp')
    [ $rc -ne 0 ] && [ "$left" = 0 ] && ok "Ctrl-C while generating: exit $rc, no file left" ||
        bad "interrupt: exit $rc, $left files left: $(ls "$tmp")"
    unset REFRAIN_MODEL_DIR
else
    bad "tiny models: $(cat "$tmp/err")"
fi
finish cli_generate
