#!/usr/bin/env bash
# cli_train_refused.sh — `refrain train-ae` refuses a bad command line or a
# checkpoint it cannot continue before it writes anything: no checkpoint, no
# log, no <out>.songs.tsv, no lock or temporary beside --out, and a run's files
# that are already there (its songs list, log and checkpoint) byte for byte as
# they were, also when another run holds the checkpoint's lock. Each refusal:
# the exit status wanted and a last stderr line "refrain: ..." naming the reason.
# On the tiny corpus of tests/test_dist (8 songs of synthetic mel frames).
set -u
source "$(dirname "$0")/lib_cli.sh"
BUILD=${BUILD:-build}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

C=$tmp/corpus
"$BUILD/tests/test_dist" --write-corpus "$C" 2>"$tmp/err" || { bad "cannot write the tiny corpus: $(cat "$tmp/err")"; finish cli_train_refused; exit; }
ARGS=(--data "$C" --steps 4 --batch 2 --crop 32 --z 8 --ch0 16 --ch1 16 --ch2 16 --enc-res 0 --dec-res 0 --threads 1)

# state DIR: every file in DIR with its checksum (what must not change)
state() { (cd "$1" && find . -type f | sort | xargs -r md5sum); }
# refused STATUS FRAGMENT DIR ARGS...: train-ae with --out DIR/ae.rfc and ARGS
# exits STATUS, its last stderr line is "refrain: ...FRAGMENT...", and DIR is as before
refused() {
    local want=$1 frag=$2 d=$3 before after rc last; shift 3
    before=$(state "$d")
    "$REFRAIN" -q train-ae "${ARGS[@]}" --out "$d/ae.rfc" "$@" >/dev/null 2>"$tmp/stderr"
    rc=$?
    after=$(state "$d")
    last=$(tail -n 1 "$tmp/stderr")
    if [ $rc -ne "$want" ]; then bad "train-ae $*: exit $rc, want $want: $(cat "$tmp/stderr")"
    elif [[ $last != "refrain: "* ]] || [[ $last != *"$frag"* ]]; then bad "train-ae $*: last stderr line lacks '$frag': $last"
    elif [ "$before" != "$after" ]; then bad "train-ae $*: wrote into $(basename "$d"): $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')"
    else ok "train-ae $* -> $rc, $(basename "$d") untouched: $last"; fi
}

echo "a new run (empty folder):"
mkdir -p "$tmp/new"
refused 1 "cannot open checkpoint" "$tmp/new" --resume
refused 1 "cannot open checkpoint" "$tmp/new" --init "$tmp/none.rfc"
refused 1 "GroupNorm" "$tmp/new" --ch0 8
refused 2 "multiple of 4" "$tmp/new" --crop 30
refused 2 "must end in .rfc" "$tmp/new" --export "$tmp/new/ae.txt"
refused 2 "--z must be" "$tmp/new" --z 300
refused 2 "train-ae: --stop-at 5 is past --steps 4" "$tmp/new" --stop-at 5   # it ran to step 4, --stop-at ignored

echo "a run to continue (checkpoint, log and song list there):"
mkdir -p "$tmp/run"
# (--stop-at equal to --steps is allowed)
"$REFRAIN" -q train-ae "${ARGS[@]}" --out "$tmp/run/ae.rfc" --stop-at 4 2>"$tmp/err" && [ -s "$tmp/run/ae.rfc.songs.tsv" ] ||
    { bad "the run to continue: $(cat "$tmp/err")"; finish cli_train_refused; exit; }
refused 1 "was trained with --gain-db" "$tmp/run" --resume --gain-db 3
refused 1 "'z' is 8 in the file" "$tmp/run" --resume --z 4
refused 1 "cannot open checkpoint" "$tmp/run" --init "$tmp/none.rfc"
refused 2 "train-ae: --stop-at 9 is past --steps 8" "$tmp/run" --resume --steps 8 --stop-at 9
# another run holds the lock (a sleep holding it with flock(1) stands for it): its song list stays its own
( exec 9>"$tmp/run/ae.rfc.lock"; flock 9 && exec sleep 30 ) &
holder=$!
for _ in $(seq 100); do flock -n "$tmp/run/ae.rfc.lock" true || break; sleep 0.05; done
refused 1 "another run is training" "$tmp/run" --resume --steps 8
kill $holder 2>/dev/null; wait $holder 2>/dev/null
# and once it is free the same command runs (the check above refused for the lock alone)
if "$REFRAIN" -q train-ae "${ARGS[@]}" --out "$tmp/run/ae.rfc" --resume --steps 8 2>"$tmp/err" &&
   [ "$(tail -n 1 "$tmp/run/ae.rfc.tsv" | cut -f1)" = 8 ]; then ok "with the lock free the same command continues to step 8"
else bad "with the lock free: $(tail -2 "$tmp/err")"; fi

finish cli_train_refused
