#!/usr/bin/env bash
# cli_make_data.sh — scripts/make-data.sh (`make data`) leaves none of its
# temporaries (.cache/corpus/sources.tsv.tmp.PID, summary.md.tmp.PID) behind
# when a step fails, on SIGTERM, or on Ctrl-C (SIGINT to its process group),
# and stops the corpus parts it started in the background. Runs the script in
# a copy of the scripts under $tmp with its own .cache and stand-ins for
# refrain, data/fetch.sh and data/render-mma.sh (no packages, no audio): the
# real cache is never touched. STUB says where the stand-in refrain stops:
# "fail" (the index step fails after writing part of the summary), "parts"
# (the corpus parts hang), "index" (the index step hangs).
set -u
source "$(dirname "$0")/lib_cli.sh"

T=$tmp/tree
mkdir -p "$T/scripts" "$T/data" "$T/.cache"
cp scripts/make-data.sh scripts/cache.sh "$T/scripts/"
printf 'exit 0\n' >"$T/data/fetch.sh"
printf 'exit 0\n' >"$T/data/render-mma.sh"
cat >"$T/refrain" <<'EOF'
#!/usr/bin/env bash
# the stand-in: mmagen lists one song; corpus parts and the index per $STUB
case $1 in
    mmagen) printf 's1\t60\n' >"${@: -1}" ;;
    corpus)
        if [[ " $* " == *" --index-only "* ]]; then
            echo "# partial summary"
            printf 'song\tsource\tfile\tsplit\tseconds\n' >.cache/corpus/index.tsv
            case $STUB in
                fail) echo "stub: the index failed" >&2; exit 1 ;;
                index) echo $$ >"$MARK/index.pid"; exec sleep 60 ;;
            esac
        elif [ "$STUB" = parts ]; then
            echo $$ >"$MARK/part.$BASHPID.pid"; exec sleep 60
        fi ;;
esac
exit 0
EOF
chmod +x "$T/refrain"
export MARK=$tmp/mark REFRAIN_JOBS=2
mkdir -p "$MARK"

# temporaries: the script's leftovers in .cache/corpus
temporaries() { ls -a "$T/.cache/corpus" 2>/dev/null | grep '\.tmp\.'; }
# wait_for PATTERN N: until N files match $MARK/PATTERN (10 s at most)
wait_for() { for _ in $(seq 200); do [ "$(ls "$MARK"/$1 2>/dev/null | wc -l)" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
alive() { local p n=0; for p in $(cat "$MARK"/*.pid 2>/dev/null); do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo $n; }
reset() { rm -rf "$T/.cache/corpus" "$MARK"/*; }

echo "a failing step:"
reset
STUB=fail REFRAIN=./refrain bash "$T/scripts/make-data.sh" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "the index failed" "$tmp/err" && [ -z "$(temporaries)" ]; then
    ok "the index step fails: exit $rc, no temporary left"
else bad "the index step fails: exit $rc, left: $(temporaries | tr '\n' ' ')$(tail -1 "$tmp/err")"; fi

echo "SIGTERM to the script while its corpus parts run:"
reset
STUB=parts REFRAIN=./refrain bash "$T/scripts/make-data.sh" >/dev/null 2>"$tmp/err" &
pid=$!
if wait_for 'part.*.pid' 2; then
    kill -TERM $pid; wait $pid; rc=$?
    sleep 0.2
    if [ $rc -eq 143 ] && [ "$(alive)" -eq 0 ] && [ -z "$(temporaries)" ]; then
        ok "exit $rc, both corpus parts stopped, no temporary left"
    else bad "exit $rc (want 143), $(alive) corpus parts still running, left: $(temporaries | tr '\n' ' ')"; fi
else bad "the corpus parts never started: $(tail -2 "$tmp/err")"; kill $pid; fi
kill $(cat "$MARK"/*.pid 2>/dev/null) 2>/dev/null

echo "Ctrl-C (SIGINT to the process group) during the index step:"
reset
# '&' in a script starts the job with SIGINT ignored (POSIX): env gives it the default back
STUB=index REFRAIN=./refrain setsid env --default-signal=INT bash "$T/scripts/make-data.sh" >/dev/null 2>"$tmp/err" &
pid=$!
if wait_for index.pid 1; then
    left=$(temporaries)
    kill -INT -- -$pid; wait $pid; rc=$?
    if [ -n "$left" ] && [ $rc -eq 130 ] && [ -z "$(temporaries)" ]; then
        ok "exit $rc, $left removed"
    else bad "exit $rc (want 130); before the signal: ${left:-no temporary}; after: $(temporaries | tr '\n' ' ')"; fi
else bad "the index step never started: $(tail -2 "$tmp/err")"; kill -- -$pid; fi
kill $(cat "$MARK"/*.pid 2>/dev/null) 2>/dev/null

finish cli_make_data
