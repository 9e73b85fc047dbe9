#!/usr/bin/env bash
# cli_structure.sh — `refrain structure` end to end on a song made here (square
# waves: A = 441 Hz, B = 220.5 Hz, A, B, 3 s each, written with printf): the
# table (AUC 1, the four A-B pairs below the two repeats), --json and --png;
# bad usage exits 2 with one "refrain: ..." line, bad inputs exit nonzero and
# leave no output behind.
set -u
source "$(dirname "$0")/lib_cli.sh"

# square_pcm FRAMES HALF: 16-bit samples of a square wave, HALF samples high then HALF low, -18 dBFS
square_pcm() {
    local hi="" lo="" i
    for ((i = 0; i < $2; i++)); do hi+='\x00\x10'; lo+='\x00\xf0'; done
    for ((i = 0; i < $1 / ($2 * 2); i++)); do printf "$hi$lo"; done
}
sec=66150                                     # 3 s
square_pcm $sec 25 >"$tmp/a.pcm"
square_pcm $sec 50 >"$tmp/b.pcm"
bytes=$((2 * $(stat -c %s "$tmp/a.pcm") + 2 * $(stat -c %s "$tmp/b.pcm")))   # b is 100 bytes shorter than a
{
    printf 'RIFF'; le32 $((36 + bytes)); printf 'WAVEfmt '; le32 16
    le16 1; le16 1; le32 22050; le32 44100; le16 2; le16 16
    printf 'data'; le32 "$bytes"
    cat "$tmp/a.pcm" "$tmp/b.pcm" "$tmp/a.pcm" "$tmp/b.pcm"
} >"$tmp/song.wav"
printf '{"sections":[{"label":"A","start":0,"end":3},{"label":"B","start":3,"end":6},{"label":"A","start":6,"end":9},{"label":"B","start":9,"end":12}]}' >"$tmp/t.json"
printf '{"sections":[{"label":"A","start":0,"end":6},{"label":"B","start":6,"end":15}]}' >"$tmp/late.json"
mkdir -p "$tmp/corpus"

echo "bad usage (exit 2):"
expect_fail 2 "needs its sections: --timeline FILE" - structure "$tmp/song.wav"
expect_fail 2 "missing IN" - structure
expect_fail 2 "unexpected argument" - structure --corpus "$tmp/corpus" "$tmp/song.wav"
expect_fail 2 "--timeline goes with IN, not with --corpus" - structure --corpus "$tmp/corpus" --timeline "$tmp/t.json"
expect_fail 2 "--sources must be a comma-separated list of mma, module and recording, got 'mma,tracker'" - \
    structure --corpus "$tmp/corpus" --sources mma,tracker
expect_fail 2 "--split must be train or valid, got 'test'" - structure --corpus "$tmp/corpus" --split test
expect_fail 2 "--max-lag must be a number in 0..30, got '100'" - structure "$tmp/song.wav" -t "$tmp/t.json" --max-lag 100
expect_fail 2 "--curve-max 2 is below --curve-bin 5" - structure "$tmp/song.wav" -t "$tmp/t.json" --curve-max 2
expect_fail 2 "unknown option '--bogus'" - structure "$tmp/song.wav" -t "$tmp/t.json" --bogus
echo "bad inputs:"
expect_fail nz "No such file" "$tmp/o1.json" structure "$tmp/missing.wav" -t "$tmp/t.json" --json "$tmp/o1.json"
expect_fail nz "cannot open timeline" "$tmp/o2.json" structure "$tmp/song.wav" -t "$tmp/none.json" --json "$tmp/o2.json"
expect_fail 1 "section 1 (B) ends at 15.00 s, past the end of the audio (12.00 s)" "$tmp/o3.png" \
    structure "$tmp/song.wav" -t "$tmp/late.json" --png "$tmp/o3.png"
expect_fail 2 "the name must end in .png" "$tmp/o4.jpg" structure "$tmp/song.wav" -t "$tmp/t.json" --png "$tmp/o4.jpg"
expect_fail 1 "folder '$tmp/nowhere' does not exist" "$tmp/nowhere/o5.json" \
    structure "$tmp/song.wav" -t "$tmp/t.json" --json "$tmp/nowhere/o5.json"
expect_fail 1 "no corpus in '$tmp/corpus'" - structure --corpus "$tmp/corpus"

echo "happy path:"
if "$REFRAIN" structure "$tmp/song.wav" -t "$tmp/t.json" --json "$tmp/s.json" --png "$tmp/s.png" -q \
    >"$tmp/out" 2>"$tmp/err"; then
    ok "structure song.wav --timeline --json --png exits 0"
else
    bad "structure: exit $?: $(cat "$tmp/err")"
fi
sed 's/^/       /' "$tmp/out"
grep -q "4 sections (4 long enough), 6 pairs: 2 same-label, 4 different-label" "$tmp/out" \
    && ok "6 pairs, 2 same-label" || bad "pair counts"
awk '$1 == "combined" && $5 == "1.000" && $4 > 0.5 {f = 1} END {exit !f}' "$tmp/out" \
    && ok "combined: AUC 1.000, gap > 0.5" || bad "combined line"
awk '$5 == "yes" && $8 > 0.99 {y++} $5 == "no" && $8 < 0.5 {n++} END {exit !(y == 2 && n == 4)}' "$tmp/out" \
    && ok "pair table: the 2 repeats > 0.99, the 4 others < 0.5" || bad "pair table"
grep -q "SI(8,15) [0-9.]*" "$tmp/out" && ok "structureness printed" || bad "no SI"
[ -s "$tmp/err" ] && bad "-q: stderr not empty: $(cat "$tmp/err")" || ok "-q: nothing on stderr"
grep -q '"auc": {"chroma": 1.0000, "timbre": 1.0000, "combined": 1.0000}' "$tmp/s.json" && grep -c '"label_a"' "$tmp/s.json" | grep -qx 6 \
    && ok "--json: the AUCs and 6 pairs" || bad "--json: $(head -c 600 "$tmp/s.json")"
[ "$(head -c 8 "$tmp/s.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] && ok "--png writes a PNG" || bad "--png"
ls "$tmp"/*.tmp.* >/dev/null 2>&1 && bad "temporary files left" || ok "no temporary files left"
# both outputs or neither (cli/common.c commit_outputs): under a file size limit between
# the two outputs' sizes the larger one fails and names itself, and the other is not left
small=json big=png; [ "$(stat -c %s "$tmp/s.png")" -lt "$(stat -c %s "$tmp/s.json")" ] && small=png big=json
a=$(stat -c %s "$tmp/s.$small") b=$(stat -c %s "$tmp/s.$big"); kb=$(((a + b) / 2 / 1024))
if [ "$a" -lt $((kb * 1024)) ] && [ $((kb * 1024)) -lt "$b" ]; then
    { (trap '' XFSZ; ulimit -f "$kb"; exec "$REFRAIN" -q structure "$tmp/song.wav" -t "$tmp/t.json" --json "$tmp/f.json" \
        --png "$tmp/f.png") 2>&1 >/dev/null; } | cat >"$tmp/stderr"
    rc=${PIPESTATUS[0]}
    [ "$rc" = 1 ] && grep -qx "refrain: cannot write $tmp/f.$big: File too large" "$tmp/stderr" && ! ls "$tmp"/f.* >/dev/null 2>&1 &&
        ! ls "$tmp"/*.tmp.* >/dev/null 2>&1 && ok "limit $kb kB: the $big fails (exit 1), no $small and no temporary left" ||
        bad "limit $kb kB: exit $rc, left $(ls "$tmp" | grep "^f\.\|\.tmp\." | tr '\n' ' '): $(cat "$tmp/stderr")"
else bad "no kB limit between the $small ($a bytes) and the $big ($b bytes)"; fi
"$REFRAIN" structure "$tmp/song.wav" -t "$tmp/t.json" --no-si -q >"$tmp/out2" 2>&1 \
    && grep -q "SI(8,15) nan" "$tmp/out2" && ok "--no-si skips the structureness" || bad "--no-si: $(cat "$tmp/out2")"
"$REFRAIN" structure --help >"$tmp/help" 2>&1 && grep -q -- "--max-lag SEC.*0..30 (default 2)" "$tmp/help" \
    && ok "--help shows ranges and defaults" || bad "--help: $(cat "$tmp/help")"

finish cli_structure.sh
