#!/usr/bin/env bash
# cli_generate_eval.sh — `refrain generate-eval`'s command line: usage errors
# (a bad list of steps or samplers, a value out of range, no output) exit 2
# before any model or corpus is read, a missing model is one line naming the
# file or where refrain looked (exit 1), and no report is left behind on any
# failure. (The report itself is tested through the library, on tiny models and
# a tiny corpus, in tests/test_generate_eval.c: a model cannot be made here.)
cd "$(dirname "$0")/.." && . tests/lib_cli.sh

"$REFRAIN" generate-eval --help >"$tmp/help" 2>&1 && grep -q -- "--max-seconds" "$tmp/help" && grep -q -- "--samplers" "$tmp/help" \
    && grep -q "default 4,8,16,32" "$tmp/help" && ok "generate-eval --help lists its options and the sweep's defaults" \
    || bad "generate-eval --help: $(head -3 "$tmp/help")"
r="$tmp/r.md"
expect_fail 2 "--steps: '0' is not a step count in 1..1000" "$r" generate-eval -o "$r" --steps 0
expect_fail 2 "--steps: 'x' is not a step count" "$r" generate-eval -o "$r" --steps 4,x
expect_fail 2 "--steps: '512' is one too many" "$r" generate-eval -o "$r" --steps 1,2,4,8,16,32,64,128,512
expect_fail 2 "--steps: an empty list" "$r" generate-eval -o "$r" --steps ,
expect_fail 2 "--samplers: 'rk4' is not euler, heun, ab2 or pingpong" "$r" generate-eval -o "$r" --samplers euler,rk4
expect_fail 2 "--songs" "$r" generate-eval -o "$r" --songs -1
expect_fail 2 "--max-seconds" "$r" generate-eval -o "$r" --max-seconds -5
expect_fail 2 "--boot" "$r" generate-eval -o "$r" --boot -1
expect_fail 2 "--output" - generate-eval --songs 2
expect_fail 2 "unknown option '--bogus'" "$r" generate-eval -o "$r" --bogus
expect_fail nz "md" "$tmp/r.txt" generate-eval -o "$tmp/r.txt"
expect_fail nz "no-such-folder" - generate-eval -o "$tmp/no-such-folder/r.md"
mkdir -p "$tmp/empty" "$tmp/bin"
cp "$REFRAIN" "$tmp/bin/refrain"   # a copy with no assets/ beside it, so nothing is found once a model ships
cd "$tmp/empty"                      # nor in the current folder (assets/ there is the last place looked in)
REFRAIN="$tmp/bin/refrain" REFRAIN_MODEL_DIR="$tmp/empty" \
    expect_fail 1 "no denoiser.rfc found (looked in $tmp/empty/denoiser.rfc" "$r" \
    generate-eval -o "$r" --steps none --samplers none --data "$tmp/empty"
cd - >/dev/null
expect_fail 1 "$tmp/none.rfc" "$r" generate-eval -o "$r" --model "$tmp/none.rfc" --ae "$tmp/none.rfc" --data "$tmp/empty"
# the model file's hash says why it cannot be read (it said only "cannot open 'FILE'")
expect_fail 1 "cannot open '$tmp/none.rfc': No such file or directory" "$r" generate-eval -o "$r" -m "$tmp/none.rfc" --ae "$tmp/none.rfc" --data "$tmp/empty"
expect_fail 1 "cannot read '$tmp/empty': Is a directory" "$r" generate-eval -o "$r" -m "$tmp/empty" --ae "$tmp/none.rfc" --data "$tmp/empty"
[ -z "$(ls "$tmp" | grep -v -e '^empty$' -e '^bin$' -e '^help$' -e '^stdout$' -e '^stderr$')" ] && ok "no report or temporary file left behind" \
    || bad "left behind: $(ls "$tmp")"
finish cli_generate_eval
