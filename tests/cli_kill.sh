#!/usr/bin/env bash
# cli_kill.sh — the kill test (issue 17): `make data`'s MMA render step
# (data/render-mma.sh, its whole process group) and corpus builder (`refrain
# corpus`), `train-ae` and `train-diffusion` killed with SIGKILL
# at KILLS random moments each (default 5 in `make test`; `make killtest` runs
# the full 20), each time started again (the trainers with --resume once their
# checkpoint exists), on tiny configurations of a few seconds.
# After every kill: the checkpoint, if there is one yet, loads (`refrain info`
# reads every tensor and its checksum), and the next run is not refused (the
# dead run's <out>.lock must not block it). At the end: the killed series'
# checkpoint, exported model and log rows (all but the wall-clock column) are
# byte for byte those of an uninterrupted run, the corpus index is the one an
# uninterrupted build writes, and no temporary file is left behind.
# A kill moment is uniform over the uninterrupted run's wall time; a run that
# ends before its kill finishes its series (compared like the last one), and a
# new series starts from nothing. KILL_SEED fixes the moments (default 17).
# Then each trainer gets SIGTERM, SIGINT or SIGHUP (a closed terminal) mid-run
# (and train-diffusion two SIGTERMs at once): it finishes the step, saves past
# its last checkpoint and exits 143 / 130 / 129, and the run resumed from there
# ends byte for byte as the uninterrupted one.
set -u
source "$(dirname "$0")/lib_cli.sh"
KILLS=${KILLS:-5}
RANDOM=${KILL_SEED:-17}
BUILD=${BUILD:-build}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
echo "kill test: $KILLS kills per command, seed ${KILL_SEED:-17}"

# ---- inputs: 8 songs of 12 s from the tiny test models, a recording list ----
mkdir -p "$tmp/models"
"$BUILD/tests/test_generate" --write-models "$tmp/models" 2>"$tmp/err" || { bad "tiny models: $(cat "$tmp/err")"; finish cli_kill; exit; }
for k in 1 2 3 4 5 6 7 8; do
    "$REFRAIN" -q generate -f "intro:2 verse:3 chorus:3 verse:2 chorus:2" -o "$tmp/song$k.wav" --seed "$k" --steps 1 \
        --vocoder-iters 2 --model "$tmp/models/denoiser.rfc" --ae "$tmp/models/ae.rfc" 2>"$tmp/err" ||
        { bad "generating the songs: $(cat "$tmp/err")"; finish cli_kill; exit; }
    printf 'recording\tkill\t%s/song%d.wav\n' "$tmp" "$k"
done >"$tmp/list.tsv"

ms() { date +%s%3N; }
# random_delay MAX_MS: sets delay (seconds), uniform in [0, MAX_MS) ms (not in a subshell: RANDOM's sequence)
random_delay() { local r=$(( (RANDOM * 32768 + RANDOM) % $1 )); delay=$(printf '%d.%03d' $((r / 1000)) $((r % 1000))); }
# no_temporaries DIR WHAT
no_temporaries() {
    local left; left=$(ls "$1" | grep '\.tmp\.')
    [ -z "$left" ] && ok "$2: no temporary file left" || bad "$2: temporary files left: $left"
}

# killed_series NAME OUT REF_MS RUN [group]: runs RUN (a function that execs the
# command, given "resume" or "fresh") KILLS times killed with SIGKILL at a
# random moment, then once to the end; after each kill checks that OUT (if
# there is one) loads and that the next run starts. "group": RUN starts its own
# process group (setsid), killed whole, children too. Sets $series (completed series).
killed_series() {
    local name=$1 out=$2 ref_ms=$3 run=$4 group=${5:-} kills=0 early=0 locks=0 pid rc delay mode moments=""
    series=0
    while [ $kills -lt "$KILLS" ]; do
        mode=fresh; [ -f "$out" ] && mode=resume
        random_delay "$ref_ms"
        $run $mode >"$tmp/$name.out" 2>"$tmp/$name.err" &
        pid=$!
        sleep "$delay"
        if [ -n "$group" ]; then kill -KILL -- -$pid 2>/dev/null; else kill -KILL $pid 2>/dev/null; fi
        { wait $pid; } 2>/dev/null   # not bash's "Killed" line
        rc=$?
        if [ $rc -eq 137 ]; then
            kills=$((kills + 1)); moments+=" ${delay}s"
            [ -e "$out.lock" ] && locks=$((locks + 1))   # the dead run's lock file, which the restart must not mind
            if [ -f "$out" ] && [ -z "$group" ] && [ "$name" != corpus ] && ! "$REFRAIN" info "$out" >/dev/null 2>"$tmp/info.err"; then
                bad "$name: after the kill at ${delay}s the checkpoint does not load: $(cat "$tmp/info.err")"
                return 1
            fi
        elif [ $rc -eq 0 ]; then
            early=$((early + 1)); series=$((series + 1))   # finished before its kill: a whole series
            compare_$name "series $series (ended before the kill at ${delay}s)" || return 1
            reset_$name
        else
            bad "$name: a run after $kills kills failed (exit $rc, $mode): $(tail -2 "$tmp/$name.err")"
            return 1
        fi
    done
    mode=fresh; [ -f "$out" ] && mode=resume
    if ! ( $run $mode ) >"$tmp/$name.out" 2>"$tmp/$name.err"; then
        bad "$name: the last run after $kills kills failed: $(tail -2 "$tmp/$name.err")"; return 1
    fi
    series=$((series + 1))
    local lk=""; case $name in ae|den) lk=", $locks times past the dead run's $(basename "$out").lock" ;; esac
    ok "$name: killed $kills times at$moments; every checkpoint loaded and every restart ran$lk ($early runs ended before their kill)"
    compare_$name "series $series"
}

# ---- make data's render step (data/render-mma.sh: mma, then fluidsynth) ---------------
# killed as a whole process group (mma and fluidsynth with it), as when the
# machine or the OOM killer stops `make data`
mkdir -p "$tmp/mma/src" "$tmp/mma/mid" "$tmp/mma/wav" "$tmp/mma-ref"
"$REFRAIN" -q mmagen "$tmp/mma/src/s1.mma" --seed 5 --form "intro verse chorus" --tempo 160 >/dev/null 2>"$tmp/err" ||
    bad "mmagen: $(cat "$tmp/err")"
t0=$(ms)
bash data/render-mma.sh "$tmp/mma/src/s1.mma" 2>"$tmp/err" && [ -s "$tmp/mma/wav/s1.wav" ] ||
    bad "uninterrupted render: $(cat "$tmp/err")"
render_ms=$(( $(ms) - t0 ))
mv "$tmp/mma/wav/s1.wav" "$tmp/mma/mid/s1.mid" "$tmp/mma-ref/"
render_run() { exec setsid bash data/render-mma.sh "$tmp/mma/src/s1.mma"; }
compare_render() {
    if cmp -s "$tmp/mma/wav/s1.wav" "$tmp/mma-ref/s1.wav" && cmp -s "$tmp/mma/mid/s1.mid" "$tmp/mma-ref/s1.mid" &&
       [ -z "$(ls "$tmp/mma/wav" "$tmp/mma/mid" | grep -v '^s1\.wav$\|^s1\.mid$\|:$\|^$')" ]; then
        ok "render, $1: WAV and MIDI as the uninterrupted render's, nothing else beside them (no temporary, no .failed)"
    else bad "render, $1: $(ls "$tmp/mma/wav" "$tmp/mma/mid" | tr '\n' ' '); WAV $(cmp -s "$tmp/mma/wav/s1.wav" "$tmp/mma-ref/s1.wav" && echo same || echo DIFFERS)"; return 1; fi
}
reset_render() { rm -f "$tmp/mma/wav/"* "$tmp/mma/mid/"*; }
echo "render: uninterrupted $render_ms ms"
killed_series render "$tmp/mma/wav/s1.wav" "$render_ms" render_run group

# ---- the corpus builder -------------------------------------------------------------
corpus_run() {   # fresh|resume: the builder is incremental, the same command either way
    exec "$REFRAIN" -q corpus "$tmp/list.tsv" -o "$tmp/corpus" --cache "$tmp" --min-seconds 5 --valid-percent 30
}
t0=$(ms)
"$REFRAIN" -q corpus "$tmp/list.tsv" -o "$tmp/corpus-ref" --cache "$tmp" --min-seconds 5 --valid-percent 30 >/dev/null 2>"$tmp/err" ||
    { bad "uninterrupted corpus build: $(cat "$tmp/err")"; finish cli_kill; exit; }
corpus_ms=$(( $(ms) - t0 ))
compare_corpus() {
    if cmp -s "$tmp/corpus/index.rfi" "$tmp/corpus-ref/index.rfi" && cmp -s "$tmp/corpus/index.tsv" "$tmp/corpus-ref/index.tsv" &&
       diff -r "$tmp/corpus/shards" "$tmp/corpus-ref/shards" >/dev/null; then
        ok "corpus, $1: index.rfi, index.tsv and every shard as the uninterrupted build's"
    else bad "corpus, $1: the index or the shards differ from the uninterrupted build's"; return 1; fi
}
reset_corpus() { rm -rf "$tmp/corpus"; }
killed_series corpus "$tmp/corpus/index.rfi" "$corpus_ms" corpus_run && no_temporaries "$tmp/corpus" corpus &&
    no_temporaries "$tmp/corpus/shards" "corpus shards"

# ---- train-ae -----------------------------------------------------------------------
AE_ARGS=(--data "$tmp/corpus-ref" --steps 500 --batch 2 --crop 32 --z 32 --ch0 16 --ch1 16 --ch2 16 --enc-res 0
         --dec-res 0 --val-every 50 --ckpt-minutes 0.01 --stats-crops 16 --threads 1)
ae_run() {   # fresh|resume
    local r=(); [ "$1" = resume ] && r=(--resume)
    exec "$REFRAIN" -q train-ae "${AE_ARGS[@]}" --out "$tmp/ae/ae.rfc" --export "$tmp/ae/export.rfc" "${r[@]}"
}
mkdir -p "$tmp/ae-ref" "$tmp/ae"
t0=$(ms)
"$REFRAIN" -q train-ae "${AE_ARGS[@]}" --out "$tmp/ae-ref/ae.rfc" --export "$tmp/ae-ref/export.rfc" 2>"$tmp/err" ||
    { bad "uninterrupted train-ae: $(tail -2 "$tmp/err")"; finish cli_kill; exit; }
ae_ms=$(( $(ms) - t0 ))
rows() { cut -f1,3- "$1"; }   # the log without its wall-clock column
compare_trainer() {   # NAME DIR REF WHAT
    if cmp -s "$2/$1.rfc" "$3/$1.rfc" && cmp -s "$2/export.rfc" "$3/export.rfc" &&
       [ "$(rows "$2/$1.rfc.tsv")" = "$(rows "$3/$1.rfc.tsv")" ]; then
        ok "$1, $4: checkpoint and exported model byte for byte, $(($(wc -l <"$2/$1.rfc.tsv") - 1)) log rows as the uninterrupted run's"
    else
        bad "$1, $4: differs from the uninterrupted run: checkpoint $(cmp -s "$2/$1.rfc" "$3/$1.rfc" && echo same || echo DIFFERS), export $(cmp -s "$2/export.rfc" "$3/export.rfc" && echo same || echo DIFFERS), log rows $([ "$(rows "$2/$1.rfc.tsv")" = "$(rows "$3/$1.rfc.tsv")" ] && echo same || echo DIFFER)"
        return 1
    fi
}
compare_ae() { compare_trainer ae "$tmp/ae" "$tmp/ae-ref" "$1"; }
reset_ae() { rm -rf "$tmp/ae"; mkdir -p "$tmp/ae"; }
echo "train-ae: uninterrupted run $ae_ms ms"
killed_series ae "$tmp/ae/ae.rfc" "$ae_ms" ae_run && no_temporaries "$tmp/ae" train-ae

# ---- train-diffusion ----------------------------------------------------------------
# on the uninterrupted run's autoencoder; the killed series builds its own latent cache
DEN_ARGS=(--data "$tmp/corpus-ref" --ae "$tmp/ae-ref/export.rfc" --steps 5000 --batch 2 --width 16 --depth 1 --heads 2
          --mem-k 2 --crop 16 --context 4 --val-every 500 --ckpt-minutes 0.01 --threads 1)
den_run() {   # fresh|resume
    local r=(); [ "$1" = resume ] && r=(--resume)
    exec "$REFRAIN" -q train-diffusion "${DEN_ARGS[@]}" --latents "$tmp/den/latents.rfl" --out "$tmp/den/den.rfc" \
        --export "$tmp/den/export.rfc" "${r[@]}"
}
mkdir -p "$tmp/den-ref" "$tmp/den"
t0=$(ms)
"$REFRAIN" -q train-diffusion "${DEN_ARGS[@]}" --latents "$tmp/den-ref/latents.rfl" --out "$tmp/den-ref/den.rfc" \
    --export "$tmp/den-ref/export.rfc" 2>"$tmp/err" || { bad "uninterrupted train-diffusion: $(tail -2 "$tmp/err")"; finish cli_kill; exit; }
den_ms=$(( $(ms) - t0 ))
compare_den() {
    compare_trainer den "$tmp/den" "$tmp/den-ref" "$1" || return 1
    cmp -s "$tmp/den/latents.rfl" "$tmp/den-ref/latents.rfl" && ok "den, $1: latent cache as the uninterrupted run's" ||
        { bad "den, $1: the latent cache differs"; return 1; }
}
reset_den() { rm -rf "$tmp/den"; mkdir -p "$tmp/den"; }
echo "train-diffusion: uninterrupted run $den_ms ms"
killed_series den "$tmp/den/den.rfc" "$den_ms" den_run && no_temporaries "$tmp/den" train-diffusion

# ---- SIGTERM, SIGINT, SIGHUP: the trainers finish the step, save, exit 143 / 130 / 129 ---------
# A phase (--stop-at P) leaves a checkpoint at step P; the run resumed from it
# with no periodic checkpoint (--ckpt-minutes 1440) gets the signal once its log
# passes step A. Its checkpoint must then be at the log's last step (past P),
# nothing exported, no temporary left, and the run resumed to the end byte for
# byte the uninterrupted one. "TERM TERM": a second SIGTERM right after the
# first (during the step or the save) still ends the run at once, exit 143,
# with a checkpoint that loads (P's or the saved one) and nothing corrupted.
ckpt_step() { "$REFRAIN" info "$1" 2>/dev/null | sed -n 's/^training  step \([0-9]*\) of.*/\1/p'; }
last_step() { local s; s=$(tail -n 1 "$1" 2>/dev/null | cut -f1); case $s in ''|*[!0-9]*) echo 0 ;; *) echo "$s" ;; esac; }
# signal_stop NAME (ae|den) SIGNALS WANT_RC P A ARGS...
signal_stop() {
    local name=$1 sigs=$2 want=$3 phase=$4 at=$5 d="$tmp/$1-sig" pid rc step t0 s; shift 5
    rm -rf "$d"; mkdir -p "$d"
    local cmd=train-ae extra=(); [ "$name" = den ] && { cmd=train-diffusion; extra=(--latents "$tmp/den-ref/latents.rfl"); }   # the uninterrupted run's cache, read
    "$REFRAIN" -q $cmd "$@" "${extra[@]}" --out "$d/$name.rfc" --stop-at "$phase" 2>"$tmp/err" ||
        { bad "$name, $sigs: the phase to step $phase failed: $(tail -2 "$tmp/err")"; return 1; }
    # '&' in a script starts the job with SIGINT ignored (POSIX), nohup SIGHUP: env gives them the default back
    env --default-signal=INT,TERM,HUP "$REFRAIN" -q $cmd "$@" "${extra[@]}" --out "$d/$name.rfc" --export "$d/export.rfc" \
        --resume --ckpt-minutes 1440 2>"$tmp/sig.err" &
    pid=$!
    t0=$SECONDS
    while kill -0 $pid 2>/dev/null && [ "$(last_step "$d/$name.rfc.tsv")" -lt "$at" ] && [ $((SECONDS - t0)) -lt 120 ]; do sleep 0.02; done
    for s in $sigs; do kill -$s $pid 2>/dev/null; done
    wait $pid; rc=$?
    step=$(ckpt_step "$d/$name.rfc")
    local what="$name, SIG${sigs// /+SIG} after step $at (phase $phase)"
    if [ $rc -ne "$want" ]; then bad "$what: exit $rc, want $want: $(tail -2 "$tmp/sig.err")"; return 1; fi
    if [ -z "$step" ]; then bad "$what: the checkpoint does not load"; return 1; fi
    if [ "$sigs" = "TERM TERM" ]; then
        [ "$step" -ge "$phase" ] && ok "$what: exit $rc, the checkpoint loads at step $step" ||
            { bad "$what: checkpoint at step $step, before the phase's $phase"; return 1; }
    elif [ "$step" -gt "$phase" ] && [ "$step" -eq "$(last_step "$d/$name.rfc.tsv")" ] &&
         grep -q "stopped by SIG$sigs after step $step of .*(resume with --resume)" "$tmp/sig.err" && [ ! -e "$d/export.rfc" ]; then
        ok "$what: exit $rc, checkpoint at step $step (the log's last row), nothing exported: $(grep '^refrain:' "$tmp/sig.err")"
    else
        bad "$what: checkpoint at step $step, log's last step $(last_step "$d/$name.rfc.tsv"), export $([ -e "$d/export.rfc" ] && echo written || echo none): $(tail -2 "$tmp/sig.err")"
        return 1
    fi
    no_temporaries "$d" "$what"
    "$REFRAIN" -q $cmd "$@" "${extra[@]}" --out "$d/$name.rfc" --export "$d/export.rfc" --resume 2>"$tmp/err" ||
        { bad "$what: the resumed run failed: $(tail -2 "$tmp/err")"; return 1; }
    compare_trainer "$name" "$d" "$tmp/$name-ref" "SIG${sigs// /+SIG}, resumed"
}
signal_stop ae TERM 143 50 100 "${AE_ARGS[@]}"
signal_stop ae INT 130 50 100 "${AE_ARGS[@]}"
signal_stop ae HUP 129 50 100 "${AE_ARGS[@]}"
signal_stop den TERM 143 1000 1500 "${DEN_ARGS[@]}"
signal_stop den INT 130 1000 1500 "${DEN_ARGS[@]}"
signal_stop den HUP 129 1000 1500 "${DEN_ARGS[@]}"
signal_stop den "TERM TERM" 143 1000 1500 "${DEN_ARGS[@]}"

finish cli_kill
