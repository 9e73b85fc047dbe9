#!/usr/bin/env bash
# cli_audio.sh — the refrain CLI's audio subcommands end to end.
# Bad inputs: exactly one "refrain: ..." line on stderr naming the problem, a
# nonzero exit (2 for bad usage), and no output file, partial or temporary.
# Happy paths: info on a generated WAV, spectrogram with a timeline, a vocode
# round trip to .wav. Inputs are made here (a square wave written with printf).
set -u
source "$(dirname "$0")/lib_cli.sh"

make_wav "$tmp/tone.wav" 44100                 # 2 s
make_wav "$tmp/zero.wav" 0                     # a valid header with 0 frames
: >"$tmp/empty.wav"
echo "this is not audio, only text" >"$tmp/text.wav"
printf '{"sections":[{"label":"intro","start":0,"end":0.8},{"label":"verse","start":0.8,"end":2}]}' >"$tmp/good.json"
printf '{"sections":[{"label":"a","start":0,"end":1.2},{"label":"b","start":1.0,"end":2}]}' >"$tmp/overlap.json"
printf '{"sections":[{"label":"a","start":-0.5,"end":1}]}' >"$tmp/negative.json"


echo "bad inputs:"
expect_fail nz "No such file" "$tmp/o1.png" spectrogram "$tmp/missing.wav" -o "$tmp/o1.png"
expect_fail nz "No such file" - info "$tmp/missing.wav"
expect_fail nz "empty" "$tmp/o2.wav" vocode "$tmp/empty.wav" -o "$tmp/o2.wav"
expect_fail nz "not a sound file" "$tmp/o3.wav" vocode "$tmp/text.wav" -o "$tmp/o3.wav"
expect_fail nz "not a sound file" - info "$tmp/text.wav"
expect_fail nz "0 frames" "$tmp/o4.png" spectrogram "$tmp/zero.wav" -o "$tmp/o4.png"
expect_fail nz "0 frames" "$tmp/o4.wav" vocode "$tmp/zero.wav" -o "$tmp/o4.wav"
expect_fail nz "sections[1] (b, 1-2 s) overlaps sections[0]" "$tmp/o5.png" \
    spectrogram "$tmp/tone.wav" -o "$tmp/o5.png" --timeline "$tmp/overlap.json"
expect_fail nz "sections[0] (a) starts at a negative time" "$tmp/o6.png" \
    spectrogram "$tmp/tone.wav" -o "$tmp/o6.png" --timeline "$tmp/negative.json"
expect_fail nz "cannot open timeline" "$tmp/o7.png" \
    spectrogram "$tmp/tone.wav" -o "$tmp/o7.png" --timeline "$tmp/nothere.json"
expect_fail nz "folder '$tmp/nowhere' does not exist" "$tmp/nowhere/o8.wav" vocode "$tmp/tone.wav" -o "$tmp/nowhere/o8.wav"
expect_fail nz "folder '$tmp/nowhere' does not exist" "$tmp/nowhere/o8.png" spectrogram "$tmp/tone.wav" -o "$tmp/nowhere/o8.png"
expect_fail 2 "the name must end in .png" "$tmp/o9.jpg" spectrogram "$tmp/tone.wav" -o "$tmp/o9.jpg"
expect_fail 2 "the name must end in .wav, .flac or .ogg" "$tmp/o13.mp3" vocode "$tmp/tone.wav" -o "$tmp/o13.mp3"
expect_fail 2 "--start 5 s is at or past the end" "$tmp/o10.wav" convert "$tmp/tone.wav" --start 5 -o "$tmp/o10.wav"
echo "bad usage (exit 2):"
expect_fail 2 "unknown option '--bogus'" "$tmp/o11.wav" vocode "$tmp/tone.wav" -o "$tmp/o11.wav" --bogus
expect_fail 2 "unknown option '--bogus'" - --bogus info "$tmp/tone.wav"
expect_fail 2 "--iters must be an integer in 1..10000, got '0'" "$tmp/o12.wav" vocode "$tmp/tone.wav" -o "$tmp/o12.wav" --iters 0
expect_fail 2 "--iters must be an integer in 1..10000, got '2.5'" "$tmp/o12.wav" vocode "$tmp/tone.wav" -o "$tmp/o12.wav" --iters=2.5
expect_fail 2 "--momentum must be a number in 0..0.999, got '1.5'" "$tmp/o12.wav" vocode "$tmp/tone.wav" -o "$tmp/o12.wav" --momentum 1.5
expect_fail 2 "--init must be random, zero or pghi, got 'best'" "$tmp/o12.wav" vocode "$tmp/tone.wav" -o "$tmp/o12.wav" --init best
expect_fail 2 "--threads must be an integer in 0..256" - --threads -1 info "$tmp/tone.wav"
expect_fail 2 "--iters needs a value" - vocode "$tmp/tone.wav" -o "$tmp/o12.wav" --iters
expect_fail 2 "--output is required" - vocode "$tmp/tone.wav"
expect_fail 2 "missing IN" - info
expect_fail 2 "unknown command 'frobnicate'" - frobnicate
expect_fail 2 "no command given" -

echo "happy paths:"
"$REFRAIN" --help >"$tmp/help" 2>&1 && grep -q "vocode" "$tmp/help" && ok "--help lists the commands" || bad "--help"
"$REFRAIN" vocode --help >"$tmp/help" 2>&1 && grep -q -- "--iters N.*1..10000 (default 64)" "$tmp/help" \
    && ok "vocode --help shows ranges and live defaults" || bad "vocode --help: $(cat "$tmp/help")"
"$REFRAIN" --version | grep -q '^refrain [0-9]' && ok "--version" || bad "--version"

out=$("$REFRAIN" info "$tmp/tone.wav" 2>&1)
if echo "$out" | grep -q "22050 Hz" && echo "$out" | grep -q "duration  2.000 s" && echo "$out" | grep -q "RMS       -18.1 dBFS"; then
    ok "info on a generated WAV: 22050 Hz, 2.000 s, RMS -18.1 dBFS"
else bad "info: $out"; fi
out=$("$REFRAIN" info --json "$tmp/tone.wav" 2>&1)
echo "$out" | grep -q '"sample_rate": 22050,' && echo "$out" | grep -q '"peak": 0.125,' \
    && ok "info --json" || bad "info --json: $out"

if "$REFRAIN" -q spectrogram "$tmp/tone.wav" -o "$tmp/spec.png" --timeline "$tmp/good.json" 2>"$tmp/stderr" &&
   [ "$(head -c 4 "$tmp/spec.png" | tail -c 3)" = PNG ] && [ ! -s "$tmp/stderr" ]; then
    ok "spectrogram with timeline writes a PNG, silent with -q"
else bad "spectrogram: $(cat "$tmp/stderr")"; fi

if "$REFRAIN" vocode "$tmp/tone.wav" -o "$tmp/round.wav" --iters 8 --threads 1 2>"$tmp/stderr" &&
   "$REFRAIN" info "$tmp/round.wav" >"$tmp/info" 2>&1 && grep -q "22050 Hz" "$tmp/info" &&
   grep -Eq "duration  (1\.99|2\.00)" "$tmp/info" && grep -Eq "vocode: wrote .*spectral convergence against IN 0\.[0-9]{3}$" "$tmp/stderr"; then
    ok "vocode round trip writes a 2 s WAV; stderr reports spectral convergence < 1"
else bad "vocode round trip: $(cat "$tmp/stderr" "$tmp/info" 2>/dev/null | tail -3)"; fi

# Reproducible output: two separate processes, same input, seed and threads,
# must write the same bytes (FFTW plans by ESTIMATE, fixed work chunks).
rep=1
for init in pghi random; do
    for k in 1 2; do
        "$REFRAIN" -q vocode "$tmp/tone.wav" -o "$tmp/rep$k.wav" --iters 16 --threads 2 --init $init --seed 7 || rep=0
    done
    cmp -s "$tmp/rep1.wav" "$tmp/rep2.wav" || rep=0
done
[ $rep -eq 1 ] && ok "vocode twice in two processes gives identical files (pghi and random init)" \
              || bad "vocode output differs between two identical runs"

if "$REFRAIN" -q convert "$tmp/tone.wav" --start 0.5 --duration 1 -o "$tmp/cut.flac" &&
   "$REFRAIN" info "$tmp/cut.flac" | grep -q "duration  1.000 s"; then
    ok "convert cuts a 1 s excerpt to FLAC"
else bad "convert excerpt"; fi
ls "$tmp" | grep -q '\.tmp\.' && bad "temporary files left in $tmp: $(ls "$tmp" | grep '\.tmp\.')" || ok "no temporary files left"

finish cli_audio
