#!/usr/bin/env bash
# fuzz.sh BUILD SECONDS [RUNS] — `make fuzz`: runs every libFuzzer harness
# built in BUILD (BUILD/fuzz_NAME, from fuzz/fuzz_NAME.c) until RUNS executions
# (default 10 million, the issue's bar) or SECONDS, whichever comes first, two
# harnesses at a time (one per core), and writes notebooks_exports/fuzz.md: executions,
# executions per second, coverage (libFuzzer's cov: edges and ft: features),
# corpus size, and crashes. Seeds: tests/fuzz/NAME/ (fuzz/make_seeds.c wrote
# the seed-* files; earlier crashes stay there as regression inputs, replayed
# by tests/test_fuzz_replay in `make test`). The growing corpus lives in
# BUILD/corpus/NAME. An input that crashes (or leaks, or hangs past 10 s) is
# copied to tests/fuzz/NAME/crash-<sha1> for the replay test; commit it.
#
# Duration: two rounds of 20 s smoke runs on this machine WHILE THE DENOISER
# TRAINED on both cores (nice 12, so lower bounds that moved by 2x between
# rounds) gave per core: audio loader 2,000-3,600 executions/s, checkpoint
# 3,900-7,300, form 6,300-9,200, timeline 10,000, shard 8,500-20,000, MIDI
# 12,000-18,000, latents 13,000-20,000, index 15,000-20,000. 10 million each is
# then 8,300-13,500 core-seconds: 1 h 10 min to 2 h on two cores under that
# load (the audio loader alone 46-83 min), less on a quiet machine. SECONDS
# (FUZZ_SECONDS, default 7200) caps each harness. FUZZ_SECONDS=20 is a smoke run.
set -u
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-7200}
RUNS=${3:-10000000}
OUT=${FUZZ_REPORT:-notebooks_exports/fuzz.md}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
names=()
for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; names+=("${n%.c}"); done
logs="$BUILD/fuzz-logs"
mkdir -p "$logs"

run_one() {   # NAME
    local n=$1 bin="$BUILD/fuzz_$1" corpus="$BUILD/corpus/$1" crashes="$BUILD/crashes/$1"
    mkdir -p "$corpus" "$crashes" "tests/fuzz/$n"
    "$bin" -runs="$RUNS" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "tests/fuzz/$n" >"$logs/$n.log" 2>&1
    echo $? >"$logs/$n.rc"
}

t0=$SECONDS
# two workers (one per core) take the next harness as each finishes, slowest
# first (the audio loader, then the checkpoint loader)
export -f run_one
export BUILD SECONDS_EACH RUNS logs
printf '%s\n' audio checkpoint $(printf '%s\n' "${names[@]}" | grep -vx 'audio\|checkpoint') |
    xargs -P 2 -I{} bash -c 'echo "fuzz: {} (up to $RUNS executions or $SECONDS_EACH s)"; run_one {}'


{
    echo "# Fuzzing"
    echo
    echo "Written by \`make fuzz\` (scripts/fuzz.sh) on $(date -u +%Y-%m-%d): each libFuzzer harness in \`fuzz/\`"
    echo "(clang $(clang --version | sed -n 's/.*clang version \([0-9.]*\).*/\1/p' | head -1), ASan + UBSan + LeakSanitizer,"
    echo "-timeout=10 s, -rss_limit_mb=2048, -max_len=65536) ran to $RUNS executions or $SECONDS_EACH s, two at a time"
    echo "(wall time $(( (SECONDS - t0) / 60 )) min). Seeds: \`tests/fuzz/NAME/\`. The issue asks for at least"
    echo "10 million executions each with no crash, hang or sanitizer report."
    echo
    echo "| harness | reads | executions | exec/s | coverage (edges) | features | corpus | crashes | verdict |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$OUT.tmp"
declare -A what=([form]="form string (form_parse)" [timeline]="timeline JSON (timeline_read)"
                 [checkpoint]="checkpoint (info, hparams, load, load_ema)" [shard]="feature shard (shard_read)"
                 [index]="corpus index (index_read)" [latents]="latent file (latents_read)"
                 [midi]="MIDI markers (midi_read_markers)" [audio]="audio file (audio_read: libsndfile)")
total_crashes=0
for n in "${names[@]}"; do
    log="$logs/$n.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    ncrash=0
    for c in "$BUILD/crashes/$n"/*; do
        [ -f "$c" ] || continue
        ncrash=$((ncrash + 1))
        cp "$c" "tests/fuzz/$n/crash-$(sha1sum "$c" | cut -c1-16)"
    done
    total_crashes=$((total_crashes + ncrash))
    rc=$(cat "$logs/$n.rc" 2>/dev/null || echo "?")
    verdict="ok"
    [ "$ncrash" -gt 0 ] || [ "$rc" != 0 ] && verdict="**FAILED** (exit $rc; see $log)"
    [ "$verdict" = ok ] && [ "${execs:-0}" -lt 10000000 ] && verdict="clean, but under 10 M executions"
    echo "| $n | ${what[$n]:-$n} | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $ncrash | $verdict |" >>"$OUT.tmp"
done
{
    echo
    if [ "$total_crashes" -gt 0 ]; then
        echo "Crashing inputs were copied to \`tests/fuzz/NAME/crash-*\`: fix the reader, then commit them;"
        echo "\`tests/test_fuzz_replay\` (in \`make test\`) replays every file there."
    else
        echo "No crash, leak, hang or sanitizer report."
    fi
    echo
    echo "Reproduce: \`make fuzz FUZZ_SECONDS=$SECONDS_EACH FUZZ_RUNS=$RUNS\`; one input: \`$BUILD/fuzz_NAME FILE\`."
} >>"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "fuzz: wrote $OUT ($total_crashes crashing input(s))"
[ "$total_crashes" -eq 0 ]
