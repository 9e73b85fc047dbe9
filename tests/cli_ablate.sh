#!/usr/bin/env bash
# cli_ablate.sh — `refrain ablate`'s command line: usage errors (no form, no
# output, a bad form, too few songs, a bad guidance sweep, an unknown option)
# exit 2 before any model or corpus is read; an output that is not .md exits 2,
# a missing folder or model 1; nothing is left behind. (The report itself, the
# reuse of stored songs and the control are tested through the library on tiny
# models and a tiny corpus in tests/test_ablate.c.)
cd "$(dirname "$0")/.." && . tests/lib_cli.sh

"$REFRAIN" ablate --help >"$tmp/help" 2>&1 && grep -q -- "--memory-guidance-sweep" "$tmp/help" && grep -q -- "--work" "$tmp/help" \
    && grep -q "default 0,1,2,4" "$tmp/help" && ok "ablate --help lists its options and the sweep's default" \
    || bad "ablate --help: $(head -3 "$tmp/help")"
r="$tmp/r.md"
F="verse chorus verse chorus"
expect_fail 2 "--form" "$r" ablate -o "$r" --songs 2
expect_fail 2 "--output" - ablate --form "$F" --songs 2
expect_fail 2 "--songs" "$r" ablate --form "$F" -o "$r" --songs 1
expect_fail 2 "--memory-guidance-sweep: 'x' is not a guidance in -5..20" "$r" ablate --form "$F" -o "$r" --memory-guidance-sweep 0,x
expect_fail 2 "--memory-guidance-sweep: '30' is not a guidance" "$r" ablate --form "$F" -o "$r" --memory-guidance-sweep 30
expect_fail 2 "is one too many" "$r" ablate --form "$F" -o "$r" --memory-guidance-sweep 0,1,2,3,4,5,6,7,8
expect_fail 2 "an empty list" "$r" ablate --form "$F" -o "$r" --memory-guidance-sweep ,
expect_fail 2 "missing length after ':'" "$r" ablate --form "verse: chorus" -o "$r"
expect_fail 2 "unknown option '--bogus'" "$r" ablate --form "$F" -o "$r" --bogus
expect_fail 2 "md" "$tmp/r.txt" ablate --form "$F" -o "$tmp/r.txt"
expect_fail 1 "no-such-folder" - ablate --form "$F" -o "$tmp/no-such-folder/r.md"
mkdir -p "$tmp/empty"
expect_fail 1 "$tmp/none.rfc" "$r" ablate --form "$F" -o "$r" --model "$tmp/none.rfc" --ae "$tmp/none.rfc" --data "$tmp/empty" --work "$tmp/empty"
# the model file's hash says why it cannot be read (it said only "cannot open 'FILE'")
expect_fail 1 "cannot open '$tmp/none.rfc': No such file or directory" "$r" ablate --form "$F" -o "$r" -m "$tmp/none.rfc" --ae "$tmp/none.rfc" \
    --data "$tmp/empty" --work "$tmp/empty"
[ -z "$(ls "$tmp" | grep -v -e '^empty$' -e '^help$' -e '^stdout$' -e '^stderr$')" ] && [ -z "$(ls "$tmp/empty")" ] \
    && ok "no report, song or temporary file left behind" || bad "left behind: $(ls -R "$tmp")"
finish cli_ablate
