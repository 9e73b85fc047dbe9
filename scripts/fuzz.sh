#!/usr/bin/env bash
# fuzz.sh BUILD SECONDS [RUNS] — `make fuzz`: runs every libFuzzer harness
# built in BUILD (BUILD/fuzz_NAME, from fuzz/fuzz_NAME.c) until RUNS executions
# (default 10 million, the issue's bar) or SECONDS each, whichever comes first,
# FUZZ_JOBS harnesses at a time (default 1: one core, so the machine's other
# core stays free for measurements), and writes notebooks_exports/fuzz.md:
# per harness the executions, executions per second, wall time, coverage
# (libFuzzer's cov: edges and ft: features), corpus size and crashes, with the
# clang version and the git commit fuzzed.
#   fuzz.sh --report BUILD   writes fuzz.md from the logs of an earlier or
#                            still running campaign (BUILD/fuzz-logs), runs nothing
#   FUZZ_ONLY="audio form"   runs only these harnesses (the others' logs stay
#                            and are reported): rerun one after a fix
# Seeds: BUILD/seeds/NAME, written here by BUILD/make_seeds (fuzz/make_seeds.c,
# the library's own writers), and tests/fuzz/NAME/ (inputs that once crashed a
# reader, and older seeds). The growing corpus lives in BUILD/corpus/NAME. An
# input that crashes (or leaks, or hangs past 10 s) is copied to
# tests/fuzz/NAME/crash-<sha1> for tests/test_fuzz_replay (`make test`); fix the
# reader and commit it.
#
# Duration (nice 19, one core, the other busy with training; 15 s per harness
# from the seeds): audio loader 2,035 executions/s (2,900 once fuzz/coverage-ignore.txt
# took the decimator's loop out of the coverage instrumentation), checkpoint
# 11,500, form 20,900, shard 27,700, timeline 33,300, MIDI 34,200, index 44,900,
# latents 55,100. Rates fall as the corpus grows longer inputs (the latent
# reader, capped at 64 kB then, averaged 7,600/s over 10 million under a load
# average of 8 to 10): hence the caps below. 10 million each is then 2 h or
# more on one core, the audio loader about half of it. SECONDS
# (FUZZ_SECONDS, default 7200) caps each harness; FUZZ_SECONDS=20 is a smoke run.
set -u
report_only=0
if [ "${1:-}" = --report ]; then report_only=1; shift; fi
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-7200}
RUNS=${3:-10000000}
JOBS=${FUZZ_JOBS:-1}
OUT=${FUZZ_REPORT:-notebooks_exports/fuzz.md}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# fastest first, so most harnesses have finished early in a long campaign
order="latents index midi timeline shard form checkpoint audio"
names=()
for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; names+=("${n%.c}"); done
for n in "${names[@]}"; do case " $order " in *" $n "*) ;; *) order="$order $n" ;; esac; done
logs="$BUILD/fuzz-logs"
mkdir -p "$logs"

# -max_len: each reader's cost grows with the bytes after its headers (samples,
# floats, CRCs over the whole file) while its parsing ends in the first few
# kB; a 64 kB cap took the latent reader from 55,000 to 7,600 executions/s as
# the corpus grew to it. libFuzzer's default 4 kB, 8 kB for the checkpoint and
# shard readers (their seeds are 4.5 and 2 kB and a few tensors or sections
# more must fit) and 16 kB for the audio loader (every header and chunk layout
# libsndfile parses, and thousands of samples after them).
maxlen() { case $1 in audio) echo 16384 ;; checkpoint|shard) echo 8192 ;; *) echo 4096 ;; esac; }

keep_crashes() {   # NAME: copies BUILD/crashes/NAME/* (not slow-unit-*: under the timeout) to tests/fuzz/NAME/crash-<sha1>; prints the count
    local c k=0
    for c in "$BUILD/crashes/$1"/*; do
        [ -f "$c" ] || continue
        case ${c##*/} in slow-unit-*) continue ;; esac
        cp "$c" "tests/fuzz/$1/crash-$(sha1sum "$c" | cut -c1-16)"
        k=$((k + 1))
    done
    echo $k
}

run_one() {   # NAME
    local n=$1 bin="$BUILD/fuzz_$1" corpus="$BUILD/corpus/$1" crashes="$BUILD/crashes/$1"
    mkdir -p "$corpus" "$crashes" "tests/fuzz/$n"
    keep_crashes "$n" >/dev/null   # an earlier run's, before this run's are counted
    rm -f "$crashes"/* "$logs/$n.rc" "$logs/$n.end"
    date +%s >"$logs/$n.start"
    # the commit the harnesses were built at (the campaign's start), not HEAD now
    echo "$RUNS $SECONDS_EACH $(maxlen "$n") $(sed -n 's/^commit \([0-9a-f]*\).*/\1/p' "$logs/campaign")" >"$logs/$n.args"
    "$bin" -runs="$RUNS" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len="$(maxlen "$n")" \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "$BUILD/seeds/$n" "tests/fuzz/$n" >"$logs/$n.log" 2>&1
    echo $? >"$logs/$n.rc"
    date +%s >"$logs/$n.end"
}

if [ $report_only = 0 ]; then
    "$BUILD/make_seeds" "$BUILD/seeds" || exit 1
    {
        echo "commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- fuzz $(echo util audio nn data conditioning autoencoder diffusion sampler) 2>/dev/null || echo ' (with uncommitted changes to the fuzzed code)')"
        echo "clang $(clang --version | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -1)"
        echo "started $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "jobs $JOBS"
    } >"$logs/campaign"
    export -f run_one maxlen keep_crashes
    export BUILD SECONDS_EACH RUNS logs
    run=$order
    [ -n "${FUZZ_ONLY:-}" ] && run=$FUZZ_ONLY
    printf '%s\n' $run | xargs -P "$JOBS" -I{} bash -c 'echo "fuzz: {} (up to $RUNS executions or $SECONDS_EACH s)"; run_one {}'
fi

# ---- the report, from the logs ----------------------------------------------------------------
[ -f "$logs/campaign" ] || { echo "fuzz: no campaign in $logs" >&2; exit 1; }
camp() { sed -n "s/^$1 //p" "$logs/campaign"; }
declare -A what=([form]="form string (form_parse)" [timeline]="timeline JSON (timeline_read)"
                 [checkpoint]="checkpoint (info, hparams, load, load_ema)" [shard]="feature shard (shard_read)"
                 [index]="corpus index (index_read)" [latents]="latent file (latents_read)"
                 [midi]="MIDI markers (midi_read_markers)" [audio]="audio file (audio_read: libsndfile)")
{
    echo "# Fuzzing"
    echo
    echo "Written by \`make fuzz\` (scripts/fuzz.sh) from its logs (the last run begun $(camp started) at commit"
    echo "$(camp commit); each harness's commit is in the table): each libFuzzer harness in \`fuzz/\` (clang $(camp clang), ASan + UBSan + LeakSanitizer,"
    echo "-timeout=10 s, -rss_limit_mb=2048) ran to its executions or its time cap, $(camp jobs) at a time, at nice 19 on a"
    echo "2-core machine shared with training runs and other builds and tests (load average $(cut -d' ' -f1-3 /proc/loadavg) when"
    echo "this was written), so the rates are lower bounds. Seeds: \`fuzz/make_seeds.c\` and \`tests/fuzz/NAME/\`. The issue"
    echo "asks for at least 10 million executions each with no crash, hang or sanitizer report."
    echo
    echo "| harness | reads | executions | exec/s | wall time | coverage (edges) | features | corpus | max_len | commit | crashes | verdict |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"
} >"$OUT.tmp"
total_crashes=0 unfinished=0
for n in $order; do
    log="$logs/$n.log"
    [ -f "$log" ] || { echo "| $n | ${what[$n]:-$n} | not run | | | | | | | | | |" >>"$OUT.tmp"; unfinished=1; continue; }
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    [ -n "$rate" ] || rate=$(echo "$last" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    t0=$(cat "$logs/$n.start" 2>/dev/null || echo 0)
    t1=$(cat "$logs/$n.end" 2>/dev/null || date +%s)
    wall=$(( t1 - t0 ))
    wall_s=$(printf '%d:%02d:%02d' $((wall / 3600)) $((wall / 60 % 60)) $((wall % 60)))
    ml=$(awk '{print $3}' "$logs/$n.args" 2>/dev/null)
    at=$(awk '{print $4}' "$logs/$n.args" 2>/dev/null)
    ncrash=$(keep_crashes "$n")
    total_crashes=$((total_crashes + ncrash))
    rc=$(cat "$logs/$n.rc" 2>/dev/null || echo running)
    verdict="ok"
    if [ "$rc" = running ]; then verdict="still running"; unfinished=1
    elif [ "$ncrash" -gt 0 ] || [ "$rc" != 0 ]; then verdict="**FAILED** (exit $rc; see $log)"
    elif [ "${execs:-0}" -lt 10000000 ]; then verdict="clean, but under 10 M executions"; fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "${what[$n]:-$n}" \
        "$(printf "%'d" "${execs:-0}" 2>/dev/null || echo "$execs")" "${rate:-?}" "$wall_s" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "${ml:-?}" "${at:-?}" "$ncrash" "$verdict" >>"$OUT.tmp"
done
{
    echo
    if [ "$total_crashes" -gt 0 ]; then
        echo "Crashing inputs were copied to \`tests/fuzz/NAME/crash-*\`: fix the reader, then commit them;"
        echo "\`tests/test_fuzz_replay\` (in \`make test\`) replays every file there."
    elif [ $unfinished = 1 ]; then
        echo "The campaign had not finished when this was written; no crash, leak, hang or sanitizer report so far."
    else
        echo "No crash, leak, hang or sanitizer report."
    fi
    kept=$(ls tests/fuzz/*/crash-* tests/fuzz/*/timeout-* tests/fuzz/*/oom-* tests/fuzz/*/ubsan-* 2>/dev/null)
    if [ -n "$kept" ]; then
        echo
        echo "Inputs kept from earlier runs (what each was is in the commit that added it, \`git log -- FILE\`), replayed by"
        echo "\`tests/test_fuzz_replay\` in \`make test\`: $(echo $kept | sed 's/\([^ ]*\)/`\1`/g; s/ /, /g')."
    fi
    echo
    echo "Inputs are capped (\`-max_len\`, per harness in the table) at libFuzzer's default 4 kB, 8 kB for the checkpoint and shard readers and"
    echo "16 kB for the audio loader: each reader's cost grows with the bytes after its headers (samples, floats, a CRC"
    echo "over the whole file) while its parsing ends in the first few kB (the latent reader fell from 55,000 to 7,600"
    echo "executions/s as its corpus grew to a 64 kB cap). \`fuzz/coverage-ignore.txt\` leaves the 2:1 decimator's"
    echo "inner loop out of the coverage instrumentation (not out of ASan and UBSan): its per-tap bounds test took 58% of"
    echo "the audio harness's time and depends only on the input's length."
    echo
    echo "Reproduce: \`nice -n 19 make fuzz FUZZ_SECONDS=$SECONDS_EACH FUZZ_RUNS=$RUNS\` (FUZZ_JOBS=2 for both cores);"
    echo "the report alone from the logs: \`bash scripts/fuzz.sh --report $BUILD\`; one input: \`$BUILD/fuzz_NAME FILE\`."
} >>"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "fuzz: wrote $OUT ($total_crashes crashing input(s))"
[ "$total_crashes" -eq 0 ]
