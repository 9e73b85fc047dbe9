#!/usr/bin/env bash
# lib_cli.sh — what the CLI tests (tests/cli_*.sh) share; sourced, not run.
# Sets REFRAIN (absolute) and a scratch folder $tmp removed on exit, counts
# checks with ok/bad, writes WAV inputs with printf (make_wav), and checks a
# refused command line (expect_fail). End a test with `finish NAME`.
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in /*) ;; *) REFRAIN="$PWD/$REFRAIN" ;; esac
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
# expect_fail STATUS FRAGMENT OUTPUT ARGS...: STATUS is the exit status wanted
# ("nz" for any nonzero); stderr must be one line holding FRAGMENT; OUTPUT
# (if not "-") must not exist afterwards, nor any temporary file beside it.
expect_fail() {
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

finish() {   # NAME: prints the count, fails the test if any check failed
    echo "$1: $checks checks, $failed failed"
    [ "$failed" -eq 0 ]
}
