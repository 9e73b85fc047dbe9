#!/usr/bin/env bash
# cli_form.sh — `refrain form` end to end: the three notations and descriptor
# targets print the right lines and timeline JSON (which `refrain spectrogram
# --timeline` reads back); a bad form or --bpm is a usage error: exit status 2
# and exactly one "refrain: ..." line on stderr.
set -u
source "$(dirname "$0")/lib_cli.sh"

# expect_out WHAT WANT ARGS...: stdout of `refrain ARGS` must equal WANT, exit 0, stderr empty
expect_out() {
    local what=$1 want=$2; shift 2
    "$REFRAIN" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    local rc=$?
    if [ $rc -ne 0 ] || [ -s "$tmp/stderr" ]; then
        bad "$what: exit $rc: $(cat "$tmp/stderr")"
    elif [ "$(cat "$tmp/stdout")" != "$want" ]; then
        bad "$what: got:"; sed 's/^/       /' "$tmp/stdout"; echo "       want:"; echo "$want" | sed 's/^/       /'
    else
        ok "$what"
    fi
}

echo "good forms:"
expect_out "named sections with defaults" "1  intro  (1)  0.0-8.0 s  8.0 s
2  verse  (1)  8.0-24.0 s  16.0 s
3  chorus  (1)  24.0-40.0 s  16.0 s
4  verse  (2)  40.0-56.0 s  16.0 s
5  chorus  (2)  56.0-72.0 s  16.0 s
6  outro  (1)  72.0-80.0 s  8.0 s" form "intro verse chorus verse chorus outro"
expect_out "seconds, bars and targets" "1  intro  (1)  0.0-8.0 s  8.0 s
2  verse  (1)  8.0-15.5 s  7.5 s
3  chorus  (1)  15.5-31.5 s  16.0 s  loud -12 LUFS  bright 2400 Hz  onsets 3.5/s" \
    form "intro:8 verse:7.5 chorus:8b[loud=-12,bright=2400,onsets=3.5]"
expect_out "bars at --bpm 90" "1  verse  (1)  0.0-21.3 s  21.3 s" form "verse:8b" --bpm 90
expect_out "compact notation as JSON" \
    '{"bpm": 120, "duration": 56.000, "sections": [
  {"label": "intro", "start": 0.000, "end": 8.000, "occurrence": 1},
  {"label": "A", "start": 8.000, "end": 16.000, "occurrence": 1},
  {"label": "A", "start": 16.000, "end": 24.000, "occurrence": 2},
  {"label": "B", "start": 24.000, "end": 40.000, "occurrence": 1},
  {"label": "bridge", "start": 40.000, "end": 48.000, "occurrence": 1},
  {"label": "outro", "start": 48.000, "end": 56.000, "occurrence": 1}
]}' \
    form i4A4A4B8b4o4 --json
expect_out "JSON keeps given targets, omits the others, bpm from --bpm" \
    '{"bpm": 90, "duration": 26.667, "sections": [
  {"label": "verse", "start": 0.000, "end": 10.667, "occurrence": 1, "loudness_lufs": -20.00},
  {"label": "chorus", "start": 10.667, "end": 26.667, "occurrence": 1}
]}' \
    form --json --bpm 90 "verse:4b[loud=-20] chorus"

# the JSON is a timeline the spectrogram command reads (its labels drawn on a 2 s tone)
make_wav "$tmp/tone.wav" 44100
"$REFRAIN" form --json "A:1 B:1[onsets=2]" >"$tmp/form.json" 2>"$tmp/stderr" &&
    "$REFRAIN" -q spectrogram "$tmp/tone.wav" -o "$tmp/tone.png" --timeline "$tmp/form.json" 2>>"$tmp/stderr" &&
    [ -s "$tmp/tone.png" ] && [ ! -s "$tmp/stderr" ] &&
    ok "form --json is a timeline spectrogram --timeline reads" || bad "form JSON as a timeline: $(cat "$tmp/stderr")"

echo "bad forms (exit 2, one line):"
expect_fail 2 "form: empty (give section words" - form ""
expect_fail 2 "form: empty" - form "   "
expect_fail 2 "form: word 3 'chrous': unknown label (did you mean 'chorus'?)" - form "intro verse chrous"
expect_fail 2 "form: word 2 'verse:0': length must be between 1 and 600 seconds" - form "intro verse:0"
expect_fail 2 "form: word 1 'verse:abc': length 'abc' is not a number" - form "verse:abc"
expect_fail 2 "length 400 bars is 800.0 s at 120 bpm" - form "verse:400b"
expect_fail 2 "form: word 1 'chorus[loud=-12': '[' without ']'" - form "chorus[loud=-12"
expect_fail 2 "unknown target 'lod' (did you mean 'loud'?)" - form "chorus[lod=-12]"
expect_fail 2 "target loud=5 is outside -70..0 LUFS" - form "chorus[loud=5]"
expect_fail 2 "form: item 3 'B' of 'i4A4B': a letter needs a bar count" - form "i4A4B"
expect_fail 2 "form: 65 sections; at most 64" - form "$(printf 'A %.0s' $(seq 65))"
expect_fail 2 "--bpm must be a number in 20..400, got '10'" - form "verse" --bpm 10
expect_fail 2 "--bpm must be a number in 20..400, got '401'" - form "verse" --bpm 401
expect_fail 2 "missing FORM" - form

echo "help:"
"$REFRAIN" form --help >"$tmp/help" 2>&1 && grep -q "usage: refrain form FORM" "$tmp/help" &&
    grep -q -- "--bpm N.*20..400 (default 120)" "$tmp/help" && ok "form --help shows usage and --bpm's range and default" ||
    bad "form --help: $(cat "$tmp/help")"
"$REFRAIN" --help 2>&1 | grep -q "^  form " && ok "refrain --help lists form" || bad "refrain --help lacks form"

finish cli_form
