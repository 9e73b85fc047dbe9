#!/usr/bin/env bash
# cli_badinput.sh — issue 17's hostile inputs, one check each: samples and
# latents that are NaN, infinite or absurd; a WAV cut short; a latent header
# that claims more than its file holds; a full disk under every PNG writer and
# between two outputs of one command (all or nothing); SIGINT / SIGTERM during
# an OGG write; argument errors that are usage errors (exit 2); messages that
# name the file and the reason, never an internal function.
# Every refusal: one "refrain: ..." line, the exit status wanted, nothing left
# behind (no output, no temporary). Inputs are made here with printf.
set -u
source "$(dirname "$0")/lib_cli.sh"
MODEL=${REFRAIN_AE_MODEL:-$PWD/assets/ae.rfc}

# float_wav PATH FRAMES AT BYTES: 32-bit float mono 22,050 Hz, zeros but the
# 4 little-endian bytes BYTES (printf escapes) at sample AT
float_wav() {
    local bytes=$(($2 * 4))
    {
        printf 'RIFF'; le32 $((36 + bytes)); printf 'WAVEfmt '; le32 16
        le16 3; le16 1; le32 22050; le32 88200; le16 4; le16 32
        printf 'data'; le32 "$bytes"
        head -c $(($3 * 4)) /dev/zero; printf "$4"; head -c $((bytes - $3 * 4 - 4)) /dev/zero
    } >"$1"
}
NAN='\x00\x00\xc0\x7f'; INF='\x00\x00\x80\x7f'; BIG='\xca\xf2\x49\x71'   # 1e30
# latents PATH Z TL T [FLOAT BYTES...]: a latent file (RFNLAT01 header, then the floats)
latents() {
    local p=$1 z=$2 tl=$3 t=$4 v; shift 4
    { printf 'RFNLAT01'; le32 "$z"; le32 "$tl"; le32 "$t"; le32 0; for v in "$@"; do printf "$v"; done; } >"$p"
}
ZERO='\x00\x00\x00\x00'
no_temps() { ! ls "$tmp" | grep -q '\.tmp\.'; }

# noise_wav PATH SECONDS: 16-bit mono 22,050 Hz white noise
noise_wav() {
    local bytes=$(($2 * 44100))
    { printf 'RIFF'; le32 $((36 + bytes)); printf 'WAVEfmt '; le32 16; le16 1; le16 1; le32 22050; le32 44100; le16 2
      le16 16; printf 'data'; le32 "$bytes"; head -c "$bytes" /dev/urandom; } >"$1"
}
make_wav "$tmp/tone.wav" 44100                  # 2 s
noise_wav "$tmp/noise4.wav" 4
make_wav "$tmp/tiny.wav" 100                    # 1 spectrogram frame
head -c 20000 "$tmp/tone.wav" >"$tmp/cut.wav"   # header says 2 s, holds 0.45 s
float_wav "$tmp/nan.wav" 22050 1000 "$NAN"
float_wav "$tmp/inf.wav" 22050 1000 "$INF"
float_wav "$tmp/big.wav" 22050 1000 "$BIG"
Z=$("$REFRAIN" info "$MODEL" 2>/dev/null | awk '$1 == "z" { print $2 }')
Z=${Z:-2}

echo "samples that are NaN, infinite or absurd are refused where they enter (exit 1, file and sample named):"
for k in nan inf big; do
    want="sample 1000 (channel 1, 0.045 s in) is"
    expect_fail 1 "$tmp/$k.wav: $want" - info "$tmp/$k.wav"
    expect_fail 1 "$tmp/$k.wav: $want" "$tmp/a-$k.json" analyze "$tmp/$k.wav" -o "$tmp/a-$k.json"
    expect_fail 1 "$tmp/$k.wav: $want" "$tmp/c-$k.wav" convert "$tmp/$k.wav" -o "$tmp/c-$k.wav"
    expect_fail 1 "$tmp/$k.wav: $want" "$tmp/s-$k.png" spectrogram "$tmp/$k.wav" -o "$tmp/s-$k.png"
    expect_fail 1 "$tmp/$k.wav: $want" "$tmp/v-$k.wav" vocode "$tmp/$k.wav" -o "$tmp/v-$k.wav"
    expect_fail 1 "$tmp/$k.wav: $want" "$tmp/e-$k.bin" encode "$tmp/$k.wav" -o "$tmp/e-$k.bin" --model "$MODEL"
    expect_fail 1 "$tmp/$k.wav: $want" "$tmp/r-$k.wav" reconstruct "$tmp/$k.wav" -o "$tmp/r-$k.wav" --model "$MODEL"
done

echo "latent files holding NaN, infinity or 1e30 are refused (exit 1, value named):"
for v in "$NAN:NaN" "$INF:infinite" "$BIG:too large (1e+30)"; do
    vals=()
    for ((i = 0; i < 4 * Z; i++)); do [ $i -eq $((Z + 1)) ] && vals+=("${v%%:*}") || vals+=("$ZERO"); done
    latents "$tmp/bad.bin" "$Z" 4 16 "${vals[@]}"
    expect_fail 1 "value $((Z + 1)) (frame 1, channel 1) is ${v#*:}" "$tmp/d.wav" decode "$tmp/bad.bin" -o "$tmp/d.wav" --model "$MODEL"
done
latents "$tmp/huge.bin" 4096 1000000 4000000    # claims 16 GB, holds 24 bytes: refused before allocating
expect_fail 1 "is truncated: its header says 1000000 x 4096 floats (16384000024 bytes), the file has 24 bytes" "$tmp/d.wav" \
    decode "$tmp/huge.bin" -o "$tmp/d.wav" --model "$MODEL"
latents "$tmp/long.bin" 1 4 16 "$ZERO" "$ZERO" "$ZERO" "$ZERO" "$ZERO"
expect_fail 1 "is malformed: its header says 4 x 1 floats (40 bytes), the file has 44 bytes" "$tmp/d.wav" \
    decode "$tmp/long.bin" -o "$tmp/d.wav" --model "$MODEL"

echo "a WAV cut short is refused, saying how much is missing:"
expect_fail 1 "cut.wav: the file is cut short: its header declares 88200 bytes of audio, the file holds 19956" - info "$tmp/cut.wav"
expect_fail 1 "the file is cut short" "$tmp/cc.wav" convert "$tmp/cut.wav" -o "$tmp/cc.wav"

echo "argument errors are usage errors (exit 2):"
expect_fail 2 "the name must end in .wav, .flac or .ogg" "$tmp/u1.mp3" convert "$tmp/tone.wav" -o "$tmp/u1.mp3"
expect_fail 2 "the name must end in .png" "$tmp/u2.jpg" spectrogram "$tmp/tone.wav" -o "$tmp/u2.jpg"
expect_fail 2 "the name must end in .bin or .lat" "$tmp/u3.txt" encode "$tmp/tone.wav" -o "$tmp/u3.txt" --model "$MODEL"
expect_fail 2 "the name must end in .png" "$tmp/u4.wav" reconstruct "$tmp/tone.wav" -o "$tmp/u4.wav" --png "$tmp/u4.gif" --model "$MODEL"
expect_fail 2 "--start 9 s is at or past the end of $tmp/tone.wav (2.00 s long)" "$tmp/u5.wav" convert "$tmp/tone.wav" --start 9 -o "$tmp/u5.wav"
expect_fail 2 "--start 2 s is at or past the end" "$tmp/u6.png" spectrogram "$tmp/tone.wav" --start 2 -o "$tmp/u6.png"
expect_fail 2 "--start 5 s is at or past the end" "$tmp/u7.wav" vocode "$tmp/tone.wav" --start 5 -o "$tmp/u7.wav"
expect_fail 2 "--momentum must be a number in 0..0.999, got '1'" "$tmp/u8.wav" vocode "$tmp/tone.wav" -o "$tmp/u8.wav" --momentum 1
"$REFRAIN" -q vocode "$tmp/tone.wav" -o "$tmp/m.wav" --momentum 0.999 --iters 2 2>"$tmp/err" && [ -s "$tmp/m.wav" ] &&
    ok "vocode --momentum 0.999 (the table's maximum) is the library's too" || bad "--momentum 0.999: $(cat "$tmp/err")"

# --repeat-strength: one range for generate, ablate and ablate's sweep, the library's (above 0, at most 1);
# generate took 0.001..1 and ablate 0.01..1. A value that passes meets the bad form next (exit 2, the form's message)
for c in "generate -o $tmp/rs.wav --repeat-strength" "ablate -o $tmp/rs.md --repeat-strength" "ablate -o $tmp/rs.md --repeat-strength-sweep"; do
    o=${c##* }
    expect_fail 2 "word 2 'chrous'" - $c 0.0005 --form "verse chrous"
    if [ "$o" = --repeat-strength ]; then
        expect_fail 2 "$o must be a number above 0 and at most 1, got '0'" - $c 0 --form verse
        expect_fail 2 "$o must be a number above 0 and at most 1, got '1.01'" - $c 1.01 --form verse
        "$REFRAIN" ${c%% *} --help | grep -q -- "$o X .*, above 0, at most 1 (default " && ok "${c%% *} --help: $o above 0, at most 1" ||
            bad "${c%% *} --help: $("$REFRAIN" ${c%% *} --help | grep -- "$o ")"
    else
        expect_fail 2 "$o: '0' is not a repeat strength above 0 and at most 1" - $c 0.5,0 --form verse
        expect_fail 2 "$o: '1.01' is not a repeat strength above 0 and at most 1" - $c 1.01 --form verse
    fi
done

# --stop-at past --steps: train-diffusion ran to --steps and ignored it (train-ae: cli_train_refused.sh)
expect_fail 2 "train-diffusion: --stop-at 300 is past --steps 200" - train-diffusion --steps 200 --stop-at 300 --data "$tmp/none" \
    --out "$tmp/td/den.rfc" --latents "$tmp/td/lat.rfl"
[ ! -e "$tmp/td" ] && ok "train-diffusion --stop-at past --steps: no folder made" || bad "train-diffusion made $(ls -R "$tmp/td")"

expect_fail 2 "--split needs a value (SPLIT)" - structure --corpus "$tmp/none" --split
# mmagen's options for one song (OUT.mma) and for a folder were ignored in the other mode, an unknown section too
mkdir "$tmp/mg"
expect_fail 2 "mmagen: --form is for one song (OUT.mma); $tmp/mg is a folder" "$tmp/mg/song_0000.mma" \
    mmagen "$tmp/mg" --count 1 --form "verse nosuch"
expect_fail 2 "mmagen: --tempo is for one song" "$tmp/mg/song_0000.mma" mmagen "$tmp/mg" --count 1 --tempo 90
expect_fail 2 "mmagen: --count is for a folder of songs; $tmp/one.mma is one song" "$tmp/one.mma" mmagen "$tmp/one.mma" --count 2
expect_fail 2 "mmagen: --list is for a folder of songs" "$tmp/one.mma" mmagen "$tmp/one.mma" --list "$tmp/one.tsv"
# an unknown section in one song's --form is a usage error, as `refrain form` makes it (it exited 1)
expect_fail 2 "mmagen: unknown section 'nosuch' in form (known: intro verse" "$tmp/one.mma" mmagen "$tmp/one.mma" --form "verse nosuch"
expect_fail 2 "word 2 'nosuch'" - form "verse nosuch"
# an empty form wrote a song with no sections (exit 0), one of 25 sections was cut at 22;
# every command that takes --form refuses an empty one
expect_fail 2 "mmagen: empty form (give section names" "$tmp/one.mma" mmagen "$tmp/one.mma" --form " "
expect_fail 2 "mmagen: form of 25 sections; a song has at most 24" "$tmp/one.mma" mmagen "$tmp/one.mma" \
    --form "$(printf 'verse %.0s' $(seq 25))"
for c in generate ablate; do expect_fail 2 "form: empty (give section words" - $c --form " " -o "$tmp/e.wav"; done

echo "every command's --help: a usage line with one space between its words, a metavar on every option that takes a value:"
for c in $("$REFRAIN" --help | awk '/^commands:/ {on = 1; next} /^$/ {on = 0} on {print $1}'); do
    "$REFRAIN" "$c" --help >"$tmp/help" 2>&1 || bad "$c --help: exit $?"
    usage=$(head -1 "$tmp/help")
    case $usage in "usage: refrain $c"*"  "*) bad "$c: usage line with a double space: '$usage'" ;;
                   "usage: refrain $c "*) ok "$c: $usage" ;; *) bad "$c: usage line '$usage'" ;; esac
    # an option with a default or required but no metavar: "--split            --corpus: ... (default valid)"
    grep -E '^  (-., |    )--[a-z0-9-]+  .*\((default|required)' "$tmp/help" | while read -r line; do
        echo "  FAIL $c: an option that takes a value shows no metavar: $line"; done | grep . && bad "$c: metavars" || true
done

echo "messages name the problem, not a function:"
expect_fail 1 "too little audio to vocode: 1 spectrogram frame (0 ms); at least 4 (35 ms) are needed" "$tmp/t.wav" \
    -q vocode "$tmp/tiny.wav" -o "$tmp/t.wav"
grep -q "vocode_logmel\|griffin_lim" "$tmp/stderr" && bad "the message names an internal function" || ok "no function named"

echo "nothing to sort (UBSan's qsort(NULL, 0) in corpus_index; the MIDI marker reader's is tests/fuzz/midi/ubsan-no-markers.mid):"
: >"$tmp/empty.tsv"
if "$REFRAIN" -q corpus "$tmp/empty.tsv" -o "$tmp/corpus" >"$tmp/stdout" 2>"$tmp/err" && grep -q ": 0 songs" "$tmp/stdout" &&
   [ -s "$tmp/corpus/index.rfi" ]; then ok "an empty source list builds an empty index"
else bad "empty source list: $(cat "$tmp/err")"; fi
rm -rf "$tmp/corpus"

echo "a full disk (files limited to 4 kB; SIGXFSZ ignored, EFBIG stands for ENOSPC): exit 1, the file and the reason, nothing left:"
full_disk() {   # KB FRAGMENT OUT ARGS...: like expect_fail 1 under ulimit -f KB
    local kb=$1 frag=$2 out=$3; shift 3
    # stderr through a pipe (not limited), so KB may be 0
    { (trap '' XFSZ; ulimit -f "$kb"; exec "$REFRAIN" -q "$@") 2>&1 >/dev/null; } | cat >"$tmp/stderr"
    local rc=${PIPESTATUS[0]}
    if [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/stderr")" = 1 ] && grep -qF -- "$frag" "$tmp/stderr" &&
       ! ls "$out"* >/dev/null 2>&1 && no_temps; then
        ok "refrain $* (limit $kb kB) -> 1: $(cat "$tmp/stderr")"
    else
        bad "refrain $* (limit $kb kB): exit $rc, left: $(ls "$tmp" | grep -c "$(basename "$out")\|\.tmp\.") stderr: $(cat "$tmp/stderr")"
    fi
}
full_disk 4 "cannot write $tmp/f1.png: File too large" "$tmp/f1.png" spectrogram "$tmp/tone.wav" -o "$tmp/f1.png"
full_disk 4 "cannot write $tmp/f2.wav: File too large" "$tmp/f2.wav" convert "$tmp/tone.wav" -o "$tmp/f2.wav"
# the reason, not libsndfile's "Unspecified internal error." (its Vorbis writer) or "No error defined"
full_disk 4 "cannot write $tmp/f5.ogg: File too large" "$tmp/f5.ogg" convert "$tmp/tone.wav" -o "$tmp/f5.ogg"
full_disk 0 "cannot write $tmp/f5.ogg: File too large" "$tmp/f5.ogg" convert "$tmp/tone.wav" -o "$tmp/f5.ogg"
full_disk 4 "cannot write $tmp/f6.flac: File too large" "$tmp/f6.flac" convert "$tmp/tone.wav" -o "$tmp/f6.flac"
# a JSON that cannot be written names its path and the reason
"$REFRAIN" form "A:1 B:1" --json >"$tmp/form.json"
full_disk 0 "cannot write $tmp/f7.json: File too large" "$tmp/f7.json" structure "$tmp/tone.wav" -t "$tmp/form.json" --json "$tmp/f7.json"
full_disk 1 "cannot write $tmp/f3.png: File too large" "$tmp/f3.png" analyze "$tmp/noise4.wav" --png "$tmp/f3.png"
# Two outputs of one command, the limit between their sizes: the second (the
# PNG, larger for noise than its OGG) fails, and the first is not left behind
# (it was, before issue 17). The sizes are measured first.
between() {   # OUT_PREFIX CMD ARGS...: runs it whole, prints a kB limit between the .ogg and the .png
    local p=$1; shift
    "$REFRAIN" -q "$@" -o "$p.ogg" --png "$p.png" --iters 2 --model "$MODEL" 2>"$tmp/err" || { echo 0; return; }
    local a b; a=$(stat -c %s "$p.ogg"); b=$(stat -c %s "$p.png"); rm -f "$p.ogg" "$p.png"
    local kb=$(((a + b) / 2 / 1024))
    [ "$a" -lt $((kb * 1024)) ] && [ $((kb * 1024)) -lt "$b" ] && echo "$kb" || echo 0
}
"$REFRAIN" -q encode "$tmp/noise4.wav" -o "$tmp/z.bin" --model "$MODEL" 2>"$tmp/err" || bad "encode: $(cat "$tmp/err")"
for c in "reconstruct $tmp/noise4.wav" "decode $tmp/z.bin"; do
    kb=$(between "$tmp/m" $c)
    if [ "$kb" -gt 0 ]; then
        full_disk "$kb" "cannot write $tmp/f4.png: File too large" "$tmp/f4" $c -o "$tmp/f4.ogg" --png "$tmp/f4.png" --iters 2 --model "$MODEL"
    else bad "$c: no limit between the OGG and the PNG sizes ($(cat "$tmp/err"))"; fi
done

echo "SIGTERM / SIGINT during an OGG write: exit 128 + signal, no temporary left:"
noise_wav "$tmp/noise.wav" 120
# The signal goes once the temporary exists (the write has begun). timeout runs
# refrain with default signal dispositions (a background job of this shell
# would ignore SIGINT) and passes the signal on.
for sig in TERM INT; do
    timeout --preserve-status -s $sig 60 "$REFRAIN" -q convert "$tmp/noise.wav" -o "$tmp/k.ogg" 2>"$tmp/err" &
    pid=$!
    for ((i = 0; i < 1000; i++)); do ls "$tmp" | grep -q '^k\.ogg\.tmp\.' && break; sleep 0.01; done
    kill -$sig $pid 2>/dev/null
    wait $pid
    rc=$?; want=$([ $sig = TERM ] && echo 143 || echo 130)
    if [ $rc -eq "$want" ] && [ ! -e "$tmp/k.ogg" ] && no_temps; then ok "SIG$sig while the OGG is written: exit $rc, nothing left"
    else bad "SIG$sig: exit $rc (want $want), left: $(ls "$tmp" | grep 'k\.ogg\|\.tmp\.')"; fi
done
no_temps && ok "no temporary file anywhere in the scratch folder" || bad "temporaries left: $(ls "$tmp" | grep '\.tmp\.')"

finish cli_badinput
