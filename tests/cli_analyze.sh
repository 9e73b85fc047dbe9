#!/usr/bin/env bash
# cli_analyze.sh — `refrain analyze` on a tracker module made here (a
# ProTracker file written with printf: two patterns of 7.68 s, a square-wave
# C arpeggio and a pulse-wave tune an octave lower, played in the order
# 0 1 0 1 0): the module is read as audio,
# and one playing 0 1 1 0 1 at the pattern level (--level patterns: one
# section per order entry, the back-to-back pattern's too, within 0.5 s),
# --ref with the same module scores against its order list (every played order
# entry a section labelled by its pattern), and the form found is the order
# list's; --subsong past the module's one subsong and an unreadable module
# exit 1 with one line; --help says that --threshold moves boundaries.
set -u
source "$(dirname "$0")/lib_cli.sh"

be16() { printf "\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $(($1 & 255)))"; }
zeros() { head -c "$1" /dev/zero; }
# cell SAMPLE PERIOD EFFECT PARAM: one channel's 4 bytes of a row
cell() {
    printf "\\x$(printf %02x $(((($1 >> 4) << 4) | (($2 >> 8) & 15))))\\x$(printf %02x $(($2 & 255)))"
    printf "\\x$(printf %02x $(((($1 & 15) << 4) | $3)))\\x$(printf %02x $4)"
}
# pattern SAMPLE PERIODS...: 64 rows x 4 channels x 4 bytes; channel 0 plays
# SAMPLE at the eight PERIODS on rows 0, 8, ..., 56; row 0 sets speed 6 (F06:
# 64 rows x 6 ticks x 20 ms = 7.68 s per pattern)
pattern() {
    local s=$1 r
    shift
    for ((r = 0; r < 8; r++)); do
        [ $r -eq 0 ] && cell "$s" "$1" 15 6 || cell "$s" "$1" 0 0
        shift
        zeros $((8 * 16 - 4))
    done
}
# sample NAME: header of a 64-byte looped sample at volume 64
sample() { printf '%s' "$1"; zeros $((22 - ${#1})); be16 32; printf '\x00\x40'; be16 0; be16 32; }
# module ORDERS...: the two patterns played in the order given (5 orders)
module() {
    printf 'refrain test'; zeros 8                      # title, 20 bytes
    sample square; sample pulse                         # samples 1 and 2
    zeros $((29 * 30))                                  # samples 3..31
    printf '\x05\x7f'                                   # 5 orders, then the order list (128 bytes)
    for o in "$@"; do printf "\\x0$o"; done; zeros 123
    printf 'M.K.'
    pattern 1 428 339 285 214 285 339 428 339           # square: C-2 E-2 G-2 C-3 ..., a C arpeggio
    pattern 2 762 906 720 508 720 906 762 604           # pulse, an octave lower: D-1 B-0 F-1 A-1 ...
    for ((i = 0; i < 64; i++)); do [ $i -lt 32 ] && printf '\x64' || printf '\x9c'; done   # square
    for ((i = 0; i < 64; i++)); do [ $i -lt 8 ] && printf '\x64' || printf '\x9c'; done    # 1/8 pulse
}
module 0 1 0 1 0 >"$tmp/t.mod"
module 0 1 1 0 1 >"$tmp/t2.mod"
printf 'not a module at all' >"$tmp/bad.xm"

echo "a module as audio and as its own reference:"
if "$REFRAIN" analyze -q "$tmp/t.mod" --ref "$tmp/t.mod" >"$tmp/out" 2>"$tmp/err"; then
    ok "analyze t.mod --ref t.mod exits 0"
else
    bad "analyze t.mod --ref t.mod failed: $(cat "$tmp/err")"
fi
form=$(head -1 "$tmp/out")
case $form in
    "form: ABABA "*"(5 sections, 38."*) ok "form found: $form" ;;
    *) bad "form found: '$form', want ABABA over 38.4 s" ;;
esac
score=$(grep '^score' "$tmp/out")
refform=$(echo "$score" | tr '\t' '\n' | sed -n 's/^ref //p')
[ "$refform" = ababa ] && ok "reference from the order list: $refform" || bad "reference '$refform', want ababa"
pw=$(echo "$score" | tr '\t' '\n' | sed -n 's/^pairwise //p')
f3=$(echo "$score" | tr '\t' '\n' | sed -n 's/^F@3s //p')
awk -v x="$pw" 'BEGIN { exit !(x > 0.9) }' && ok "pairwise F $pw" || bad "pairwise F '$pw', want > 0.9 (boundaries within a second)"
[ "$f3" = 1.000 ] && ok "boundary F at 3 s $f3" || bad "boundary F at 3 s '$f3', want 1.000"

orc=$(echo "$score" | tr '\t' '\n' | sed -n 's/^oracle-F@3s //p')
[ "$orc" = 1.000 ] && ok "oracle at the found granularity: F@3s $orc" || bad "oracle F@3s '$orc', want 1.000"

echo "the pattern level (an order list with a pattern played twice in a row):"
"$REFRAIN" analyze -q "$tmp/t2.mod" --ref "$tmp/t2.mod" --level patterns >"$tmp/out3" 2>"$tmp/err" ||
    bad "analyze t2.mod --level patterns failed: $(cat "$tmp/err")"
form=$(head -1 "$tmp/out3")
case $form in
    "form: ABBAB "*"(5 sections, 38."*) ok "pattern level: one section per order entry: $form" ;;
    *) bad "pattern level form '$form', want ABBAB over 38.4 s" ;;
esac
f5=$(grep '^score' "$tmp/out3" | tr '\t' '\n' | sed -n 's/^F@0.5s //p')
[ "$f5" = 1.000 ] && ok "pattern boundaries within 0.5 s: F $f5" || bad "pattern level F@0.5s '$f5', want 1.000"

echo "refusals:"
expect_fail 1 "no subsong 3" - analyze "$tmp/t.mod" --subsong 3
expect_fail 1 "bad.xm" - analyze "$tmp/bad.xm"
expect_fail 1 "bad.xm" - analyze "$tmp/t.mod" --ref "$tmp/bad.xm"

echo "help:"
"$REFRAIN" analyze --help >"$tmp/help" 2>&1
tr -s ' \n' ' ' <"$tmp/help" | grep -q 'it moves boundaries too' && ok "--threshold's help says it moves boundaries" ||
    bad "--threshold's help does not say it moves boundaries"
grep -q -- '--fixed-scale' "$tmp/help" && ok "--fixed-scale listed" || bad "--fixed-scale missing from --help"

finish cli_analyze
