#!/usr/bin/env bash
# cli_ae.sh — the autoencoder's commands end to end (encode, decode,
# reconstruct). Bad inputs: one "refrain: ..." line naming the problem, a
# nonzero exit, no output file. Happy path with the shipped model
# (assets/ae.rfc): a 3 s tone -> latents of the right size -> audio of the
# same length, and a reconstruction with a PNG.
set -u
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in /*) ;; *) REFRAIN="$PWD/$REFRAIN" ;; esac
MODEL=${REFRAIN_AE_MODEL:-$PWD/assets/ae.rfc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0; failed=0
ok()  { checks=$((checks + 1)); echo "  ok   $*"; }
bad() { checks=$((checks + 1)); failed=$((failed + 1)); echo "  FAIL $*"; }

le16() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))"; }
le32() { le16 $(($1 & 65535)); le16 $((($1 >> 16) & 65535)); }
# make_wav PATH FRAMES: 16-bit mono 22,050 Hz, a 441 Hz square wave at -18 dBFS
make_wav() {
    local bytes=$(($2 * 2)) half="" period
    for ((i = 0; i < 25; i++)); do half+='\x00\x10'; done
    period="$half${half//\\x10/\\xf0}"
    {
        printf 'RIFF'; le32 $((36 + bytes)); printf 'WAVEfmt '; le32 16
        le16 1; le16 1; le32 22050; le32 44100; le16 2; le16 16
        printf 'data'; le32 "$bytes"
        for ((i = 0; i < $2 / 50; i++)); do printf "$period"; done
    } >"$1"
}
make_wav "$tmp/tone.wav" 66150                 # 3 s
echo "this is not a model" >"$tmp/text.rfc"

expect_fail() {   # STATUS FRAGMENT OUTPUT ARGS...
    local want=$1 frag=$2 out=$3; shift 3
    "$REFRAIN" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    local rc=$? lines what="refrain $*"
    lines=$(wc -l <"$tmp/stderr")
    if [ "$want" = nz ] && [ $rc -eq 0 ] || [ "$want" != nz ] && [ $rc -ne "$want" ]; then
        bad "$what: exit $rc, want $want: $(cat "$tmp/stderr")"
    elif [ "$lines" -ne 1 ]; then
        bad "$what: $lines lines on stderr, want 1:"; sed 's/^/       /' "$tmp/stderr"
    elif ! grep -q '^refrain: ' "$tmp/stderr" || ! grep -qF -- "$frag" "$tmp/stderr"; then
        bad "$what: stderr lacks '$frag': $(cat "$tmp/stderr")"
    elif [ "$out" != - ] && ls "$out"* >/dev/null 2>&1; then
        bad "$what: left output behind: $(ls "$out"*)"
    else
        ok "$what -> $rc: $(cat "$tmp/stderr")"
    fi
}

echo "bad inputs:"
expect_fail nz "cannot open checkpoint '$tmp/none.rfc'" "$tmp/o1.bin" encode "$tmp/tone.wav" -o "$tmp/o1.bin" --model "$tmp/none.rfc"
expect_fail nz "is not a refrain checkpoint" "$tmp/o2.wav" reconstruct "$tmp/tone.wav" -o "$tmp/o2.wav" --model "$tmp/text.rfc"
expect_fail nz "not a refrain latent file" "$tmp/o3.wav" decode "$tmp/tone.wav" -o "$tmp/o3.wav" --model "$MODEL"
expect_fail nz "the name must end in .bin or .lat" "$tmp/o4.txt" encode "$tmp/tone.wav" -o "$tmp/o4.txt" --model "$MODEL"
expect_fail 2 "unknown option '--bogus'" "$tmp/o5.wav" reconstruct "$tmp/tone.wav" -o "$tmp/o5.wav" --bogus

echo "shipped model:"
if [ ! -f "$MODEL" ]; then
    bad "the shipped model $MODEL is missing"
else
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

echo "cli_ae: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
