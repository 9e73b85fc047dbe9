#!/usr/bin/env bash
# cli_ae.sh — the autoencoder's commands end to end (encode, decode,
# reconstruct). Bad inputs: one "refrain: ..." line naming the problem, a
# nonzero exit, no output file. Happy path with the shipped model
# (assets/ae.rfc): a 3 s tone -> latents of the right size -> audio of the
# same length, and a reconstruction with a PNG.
set -u
source "$(dirname "$0")/lib_cli.sh"
MODEL=${REFRAIN_AE_MODEL:-$PWD/assets/ae.rfc}

make_wav "$tmp/tone.wav" 66150                 # 3 s
echo "this is not a model" >"$tmp/text.rfc"


echo "bad inputs:"
expect_fail nz "cannot open checkpoint '$tmp/none.rfc'" "$tmp/o1.bin" encode "$tmp/tone.wav" -o "$tmp/o1.bin" --model "$tmp/none.rfc"
expect_fail nz "is not a refrain checkpoint" "$tmp/o2.wav" reconstruct "$tmp/tone.wav" -o "$tmp/o2.wav" --model "$tmp/text.rfc"
expect_fail nz "not a refrain latent file" "$tmp/o3.wav" decode "$tmp/tone.wav" -o "$tmp/o3.wav" --model "$MODEL"
expect_fail 2 "the name must end in .bin or .lat" "$tmp/o4.txt" encode "$tmp/tone.wav" -o "$tmp/o4.txt" --model "$MODEL"
expect_fail 2 "unknown option '--bogus'" "$tmp/o5.wav" reconstruct "$tmp/tone.wav" -o "$tmp/o5.wav" --bogus
[ -f "$MODEL" ] && head -c 6000 "$MODEL" >"$tmp/cut.rfc"
[ -f "$MODEL" ] && expect_fail nz "cut.rfc" - info "$tmp/cut.rfc"

echo "shipped model:"
if [ ! -f "$MODEL" ]; then
    bad "the shipped model $MODEL is missing"
else
    "$REFRAIN" info "$MODEL" >"$tmp/info" 2>&1
    if grep -q "^model     autoencoder" "$tmp/info" && grep -q "^training  none" "$tmp/info" &&
       z=$(awk '$1 == "z" {print $2}' "$tmp/info") && [ "${z:-0}" -ge 16 ] && [ "$z" -le 32 ]; then
        ok "info on the model: an autoencoder, weights only, z $z"
    else bad "info on the model: $(head -4 "$tmp/info")"; fi
    if "$REFRAIN" -q encode "$tmp/tone.wav" -o "$tmp/tone.bin" --model "$MODEL"; then
        # header 24 bytes + Tl x Z floats; T = 1 + 66150/256 = 259 frames -> Tl = 65
        z=$(od -An -tu4 -j8 -N4 "$tmp/tone.bin" | tr -d ' ')
        size=$(stat -c %s "$tmp/tone.bin")
        [ "$size" -eq $((24 + 65 * z * 4)) ] && ok "encode: 259 mel frames -> 65 x $z latents ($size bytes)" ||
            bad "encode: latent file of $size bytes, want $((24 + 65 * z * 4))"
    else bad "encode failed"; fi
    if "$REFRAIN" -q decode "$tmp/tone.bin" -o "$tmp/dec.wav" --iters 8 --model "$MODEL" &&
       "$REFRAIN" info "$tmp/dec.wav" | grep -Eq "duration  (2\.9[0-9]|3\.00)"; then
        ok "decode writes a 3 s WAV"
    else bad "decode: $("$REFRAIN" info "$tmp/dec.wav" 2>&1 | tail -2)"; fi
    if "$REFRAIN" reconstruct "$tmp/tone.wav" -o "$tmp/rec.wav" --png "$tmp/rec.png" --iters 8 --model "$MODEL" 2>"$tmp/stderr" &&
       [ -s "$tmp/rec.png" ] && grep -Eq "log-mel MAE [0-9.]+; wrote" "$tmp/stderr"; then
        ok "reconstruct writes audio and a PNG: $(grep -o 'log-mel MAE [0-9.]*' "$tmp/stderr")"
    else bad "reconstruct: $(tail -2 "$tmp/stderr")"; fi
fi
ls "$tmp" | grep -q '\.tmp\.' && bad "temporary files left: $(ls "$tmp" | grep '\.tmp\.')" || ok "no temporary files left"

finish cli_ae
