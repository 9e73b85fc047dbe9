#!/usr/bin/env bash
# cli_generate.sh — `refrain generate`'s command line: usage errors exit 2
# before any model is read, a missing model is one line naming where refrain
# looked (exit 1), and nothing is written on any failure. (The song itself is
# tested through the library in tests/test_generate.c.)
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
mkdir -p "$tmp/empty"
REFRAIN_MODEL_DIR="$tmp/empty" expect_fail 1 "no denoiser.rfc found (looked in $tmp/empty/denoiser.rfc" "$tmp/s.wav" \
    generate --form "verse" -o "$tmp/s.wav" --png "$tmp/s.png" --timeline "$tmp/s.json"
[ ! -e "$tmp/s.png" ] && [ ! -e "$tmp/s.json" ] && ok "no PNG or timeline left behind" || bad "outputs left behind"
expect_fail 1 "$tmp/none.rfc" "$tmp/s.wav" generate --form "verse" -o "$tmp/s.wav" --model "$tmp/none.rfc"
finish cli_generate
