#!/usr/bin/env bash
# bench/generate.sh — what a whole song costs through refrain.h's refrain_generate
# at generate's default settings (bench/bench_generate.c), on THREADS threads:
# (a) a 3-minute song of the ten-section form "intro verse prechorus chorus verse
#     prechorus chorus bridge chorus outro" (8 24 12 24 24 12 24 16 24 12 s): wall
#     time by stage (denoiser, decoder, vocoder), the real-time factor, and the
#     verdict against issue 13's target (at most 10 s, 18x real time);
# (b) songs of LENGTHS minutes, each in its own process (peak RSS per length): time
#     per generated minute, which must stay flat within 15%, and the peak memory;
#     twice: (b1) the sections at their 3-minute lengths, a longer song having more
#     of them (intro, the middle eight in turn, outro: how real long songs grow; the
#     verdict), (b2) the same ten sections stretched to the length (a 1-minute song
#     of 2.7- to 8-second sections: per-section costs weigh more);
# (c) the full-attention baseline: the same denoiser's forward over the whole
#     song's latents at once (one self-attention span over every frame, the same
#     memory tokens), per sampling step against the section-by-section cost, for
#     the same lengths as far as memory allows (MEM_LIMIT_MB);
# (d) where a guided forward's time goes (self-attention, cross-attention, MLP),
#     the forwards a step makes, and what the cheapest changes would save.
# Writes notebooks_exports/bench-generate.md (OUT) and prints the ratios.
#
# Usage: bash bench/generate.sh          (or: make bench)
#   LENGTHS="1 2 5 10" (minutes), SONG_SECONDS=180 (the song of (a)), THREADS=2,
#   MODEL=assets/denoiser.rfc (when absent: a random-initialised model of
#   denoiser_config_default() in a temporary file, which costs the same), AE=assets/ae.rfc,
#   REPS=3 (timed forwards, median), SONG_REPS=3 (each song of (a) and (b) made this
#   many times, the median run's times reported), MEM_LIMIT_MB (default 80% of MemAvailable: the
#   largest full-attention activation arena tried), OUT=notebooks_exports/bench-generate.md,
#   BUILD=build (the make build folder the bench program is built in).
#   A quick check that it runs: SONG_SECONDS=20 LENGTHS="0.5 1" REPS=1 SONG_REPS=1 OUT=/tmp/bg.md bash bench/generate.sh
set -u
cd "$(dirname "$0")/.."
. bench/cpu.sh
BUILD=${BUILD:-build}
BIN=$BUILD/bench/bench_generate
LENGTHS=${LENGTHS:-1 2 5 10}
SONG_SECONDS=${SONG_SECONDS:-180}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
SONG_REPS=${SONG_REPS:-3}   # each whole song made this many times, the median run reported
AE=${AE:-assets/ae.rfc}
OUT=${OUT:-notebooks_exports/bench-generate.md}
TARGET_S=10
TARGET_RTF=18
FLAT=15
if [ -n "${MEM_LIMIT_MB:-}" ]; then mem_note="MEM_LIMIT_MB"
else
    MEM_LIMIT_MB=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
    mem_note="MEM_LIMIT_MB, by default 80% of the memory available when the run started"
fi
make -s BUILD="$BUILD" "$BIN" >&2 || exit 1
[ -f "$AE" ] || { echo "bench/generate.sh: no autoencoder $AE (AE=...)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "bench/generate.sh: $*" >&2; exit 1; }

if [ -n "${MODEL:-}" ]; then
    model_note="\`$MODEL\` (given as MODEL)"
elif [ -f assets/denoiser.rfc ]; then
    MODEL=assets/denoiser.rfc
    model_note="\`assets/denoiser.rfc\`, the shipped model"
else
    MODEL=$tmp/denoiser-random.rfc
    "$BIN" model "$MODEL" > "$tmp/model" || fail "writing a random-initialised model"
    model_note="**no trained model ships yet** (no \`assets/denoiser.rfc\`): a random-initialised model of \`denoiser_config_default()\` written to a temporary file. It costs what a trained model of that configuration costs (no step depends on the weights' values), but its songs are noise: read this report for speed only"
fi
[ -f "$MODEL" ] || fail "no model $MODEL"

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS
run() {   # run NAME CMD...: output to $tmp/NAME
    local name=$1; shift
    echo "  running $name: $*" >&2
    "$@" > "$tmp/$name" || fail "failed: $*"
}
key() { echo "$1" | tr . _; }   # a length as a file-name part
run song "$BIN" song --seconds "$SONG_SECONDS" --model "$MODEL" --ae "$AE" --threads "$THREADS" --reps "$REPS" --song-reps "$SONG_REPS"
for L in $LENGTHS; do
    s=$(awk -v m="$L" 'BEGIN { print m * 60 }')
    run "song_$(key "$L")" "$BIN" song --seconds "$s" --model "$MODEL" --ae "$AE" --threads "$THREADS" --reps "$REPS" --song-reps "$SONG_REPS"
    run "rsong_$(key "$L")" "$BIN" song --seconds "$s" --model "$MODEL" --ae "$AE" --threads "$THREADS" --reps 1 --song-reps "$SONG_REPS" --layout repeated
done
for L in song $LENGTHS; do
    if [ "$L" = song ]; then s=$SONG_SECONDS; f=full; else s=$(awk -v m="$L" 'BEGIN { print m * 60 }'); f="full_$(key "$L")"; fi
    run "$f" "$BIN" full --seconds "$s" --model "$MODEL" --threads "$THREADS" --reps "$REPS" --mem-limit-mb "$MEM_LIMIT_MB"
done
run profile "$BIN" profile --model "$MODEL" --threads "$THREADS" --reps $((REPS * 5))
load1=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$((SECONDS - t_start))

get() { awk -v k="$2" '$1 == k { $1 = ""; print substr($0, 2); exit }' "$tmp/$1"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit (with uncommitted changes in the tree)"
wait_policy=${OMP_WAIT_POLICY:-"unset (libgomp default)"}

# (a) the 3-minute song
S_song=$(get song song_s); S_gen=$(get song generate_s)
S_den=$(get song denoiser_s); S_dec=$(get song decoder_s); S_voc=$(get song vocoder_s)
S_rtf=$(get song rtf)
evals=$(get song evals_per_chunk); steps=$(get song steps); G=$(get song guidance_batch)
if awk -v t="$S_gen" -v r="$S_rtf" 'BEGIN { exit !(t <= '$TARGET_S' && r >= '$TARGET_RTF') }'; then
    verdict="**meets** the target ($TARGET_S s at most, ${TARGET_RTF}x real time at least)"
    over=0
else
    verdict="**misses** the target ($TARGET_S s at most, ${TARGET_RTF}x real time at least) by $(calc %.1fx "$S_gen/$TARGET_S")"
    over=1
fi
# (b) time per generated minute over LENGTHS
spread() {   # spread FIELD [PREFIX]: (max - min) / min of FIELD / minutes over LENGTHS, in %
    local p=${2:-song}
    for L in $LENGTHS; do calc "%.9g\n" "$(get "${p}_$(key "$L")" "$1") / ($(get "${p}_$(key "$L")" song_s) / 60)"; done |
        awk 'NR == 1 || $1 < mn { mn = $1 } NR == 1 || $1 > mx { mx = $1 } END { printf "%.1f", 100 * (mx - mn) / mn }'
}
sp_total=$(spread generate_s); sp_den=$(spread denoiser_s)
flat=$(awk -v s="$sp_total" 'BEGIN { print (s <= '$FLAT' ? "within" : "**outside**") }')
rsp_total=$(spread generate_s rsong); rsp_den=$(spread denoiser_s rsong)
rflat=$(awk -v s="$rsp_total" 'BEGIN { print (s <= '$FLAT' ? "within" : "**outside**") }')

{
echo "# Generating a song: time by stage, time per minute, and full attention"
echo
echo "Written by \`bash bench/generate.sh\` (THREADS=$THREADS, REPS=$REPS, SONG_REPS=$SONG_REPS, LENGTHS=\"$LENGTHS\", SONG_SECONDS=$SONG_SECONDS)"
echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), $elapsed s in all. Commit $commit."
echo "Machine: $(cpu_desc); $THREADS threads; OMP_WAIT_POLICY $wait_policy;"
echo "load average $load0 before the run, $load1 after."
echo
# busy: half the CPUs loaded before, or after more than the bench's own threads plus half the CPUs
# (the 1-minute load after a run counts the run's own threads)
if awk -v l="${load0%% *}" -v m="${load1%% *}" -v n="$(nproc)" -v t="$THREADS" 'BEGIN { exit !(l > n / 2 || m > t + n / 2) }'; then
    echo "**Measured while other jobs held the machine** (1-minute load ${load0%% *} before, ${load1%% *} after,"
    echo "on $(nproc) CPUs): these figures measure the scheduler as much as the code (two threads"
    echo "that spin at OpenMP barriers while another process holds a core can run ten times slower)."
    echo "Rerun \`bash bench/generate.sh\` on a quiet machine before reading anything into them."
    echo
fi
echo "Denoiser: $model_note."
echo "Model file hash (FNV-1a-64): \`$(get song model_hash)\`; autoencoder \`$AE\`."
echo "Settings: \`refrain_generate_default_params()\`: sampler $(get song sampler), schedule $(get song schedule),"
echo "$steps steps ($evals model evaluations per chunk), cfg $(get song cfg), memory guidance $(get song memory_guidance),"
echo "Griffin-Lim $(get song vocoder_iters) iterations, seed $(get song seed). Each evaluation is one forward of a batch of"
echo "$G examples (with everything, without labels, without memory: sampler/song.c's guidance), 2 for the first section."
echo
echo "## (a) A ${SONG_SECONDS}-second song on $THREADS threads"
echo
echo "Form: \`$(get song form)\`"
echo "($(calc %.1f "$S_song") s of audio, $(get song latent_frames) latent frames, $(get song chunks) chunks of at most"
echo "$(get profile config | awk '{ for (i = 1; i < NF; i++) if ($i == "crop") print $(i + 1) }') new frames)."
echo
echo "| stage | wall (s) | share |"
echo "| --- | ---: | ---: |"
for st in denoiser decoder vocoder; do
    v=$(get song "${st}_s")
    echo "| $st | $(calc %.2f "$v") | $(calc %.0f%% "100*$v/$S_gen") |"
done
echo "| **refrain_generate** | **$(calc %.2f "$S_gen")** | |"
echo
echo "Real-time factor $(calc %.1fx "$S_rtf") (audio seconds per wall second): the song $verdict."
echo "Model load $(calc %.2f "$(get song load_s)") s (once, not counted); peak RSS $(calc %.0f "$(get song max_rss_kb)/1024") MB."
echo
echo "## (b) Time per generated minute"
echo
echo "Each length in its own process (the peak RSS is that length's), each song made $SONG_REPS times, the median run's"
echo "times shown. Spread = (max - min) / min"
echo "over the lengths. Two ways a song gets longer:"
echo
minute_table() {   # minute_table PREFIX
    echo "| length (min) | sections | audio (s) | latent frames | chunks | denoiser (s) | decoder (s) | vocoder (s) | total (s) | s per minute | denoiser s per minute | GFLOP per minute per evaluation | real time | peak RSS (MB) |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for L in $LENGTHS; do
        f="${1}_$(key "$L")"; a=$(get "$f" song_s)
        echo "| $L | $(get "$f" sections) | $(calc %.1f "$a") | $(get "$f" latent_frames) | $(get "$f" chunks) | $(calc %.2f "$(get "$f" denoiser_s)") | $(calc %.2f "$(get "$f" decoder_s)") | $(calc %.2f "$(get "$f" vocoder_s)") | $(calc %.2f "$(get "$f" generate_s)") | $(calc %.2f "$(get "$f" generate_s)/($a/60)") | $(calc %.2f "$(get "$f" denoiser_s)/($a/60)") | $(calc %.1f "$(get "$f" sbs_flops_eval)/($a/60)/1e9") | $(calc %.1fx "$(get "$f" rtf)") | $(calc %.0f "$(get "$f" max_rss_kb)/1024") |"
    done
}
echo "**(b1) More sections** (the verdict): the sections at their lengths in the 3-minute song, a"
echo "longer song having more of them, as real long songs do: intro, then verse prechorus chorus"
echo "verse prechorus chorus bridge chorus in turn (the last one cut), outro. E.g. 1 minute:"
echo "\`$(get rsong_$(key "${LENGTHS%% *}") form)\`."
echo
minute_table rsong
echo
echo "Spread of the time per minute: **$rsp_total%** in all (the denoiser alone $rsp_den%), $FLAT% allowed: $rflat."
echo
echo "**(b2) Longer sections**: the ten sections stretched to the length (a 1-minute song of"
echo "2.7- to 8-second sections, a 10-minute one of 27- to 80-second sections)."
echo
minute_table song
echo
echo "Spread of the time per minute: **$sp_total%** in all (the denoiser alone $sp_den%), $FLAT% allowed: $flat."
echo "The GFLOP column is the work of one velocity evaluation of every chunk at the guidance batch"
echo "(matmuls and attention products, \`denoiser_flops_forward\`): it is what the time per minute follows;"
echo "with the ten sections stretched, short songs pay more per minute because each of the ten sections"
echo "has costs of its own (its memory prepared, its first chunk's $(get profile config | awk '{ for (i = 1; i < NF; i++) if ($i == "ctx") print $(i + 1) }') context frames) that a"
echo "short section spreads over few frames."
echo
echo "## (c) Full attention over the whole song, per sampling step"
echo
echo "Section by section (what generate runs): one velocity evaluation of the song is one forward"
echo "of every chunk (its context frames before it, its section's memory prepared once), B 1 in the"
echo "first column; a sampling step at the defaults makes $evals/$steps evaluations, each a batch of"
echo "$G examples (measured as such). Full attention: one forward of B 1 over all T latent frames with"
echo "the same $(get profile memory_tokens) memory tokens; a step at the defaults is $evals/$steps x $G such"
echo "forwards (cost grows linearly in B; a batch of $G would need $G times the arena). The arena keeps"
echo "every block's (heads, T, T) attention, which is what stops it."
echo
echo "| length (min) | T (frames) | section by section, B 1 (s) | full attention, B 1 (s) | full / sections | FLOP ratio | full's attention core | full arena (MB) | full peak RSS (MB) | sections per step (s) | full per step (s) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
fitpts=""; skipped=""
for L in $LENGTHS; do
    k=$(key "$L"); f="song_$k"; u="full_$k"
    T=$(get "$u" full_frames); sb=$(get "$f" sbs_forward_b1_s); se=$(get "$f" sbs_eval_s)
    sstep=$(calc %.2f "$evals/$steps*$se")
    if [ -n "$(get "$u" full_skipped)" ]; then
        echo "| $L | $T | $(calc %.3f "$sb") | not run | | $(calc %.1fx "$(get "$u" full_flops)/$(get "$f" sbs_flops_b1)") | | $(get "$u" full_arena_mb) | | $sstep | |"
        skipped="$skipped $L"
    else
        fb=$(get "$u" full_forward_s)
        echo "| $L | $T | $(calc %.3f "$sb") | $(calc %.3f "$fb") | $(calc %.1fx "$fb/$sb") | $(calc %.1fx "$(get "$u" full_flops)/$(get "$f" sbs_flops_b1)") | $(calc %.0f%% "100*$(get "$u" full_attn_core_s)/$fb") | $(get "$u" full_arena_mb) | $(calc %.0f "$(get "$u" max_rss_kb)/1024") | $sstep | $(calc %.2f "$evals/$steps*$G*$fb") |"
        fitpts="$fitpts $T:$fb"
    fi
done
echo
# local exponents of the full forward's time in T, and a fit t = a T + b T^2 through the measured points
echo "$fitpts" | tr ' ' '\n' | awk -F: -v ff="$tmp/fit" 'NF == 2 { n++; T[n] = $1; t[n] = $2 }
    END {
        if (n < 2) { print "Fewer than two full-attention lengths ran: no growth to read."; exit }
        printf "Growth of the full forward: "
        for (i = 2; i <= n; i++)
            printf "%s%d -> %d frames: x%.2f time for x%.2f frames (exponent %.2f)", (i > 2 ? "; " : ""),
                   T[i-1], T[i], t[i]/t[i-1], T[i]/T[i-1], log(t[i]/t[i-1])/log(T[i]/T[i-1])
        print ". The exponent tends to 2 as the attention core takes over from the per-frame (linear) work."
        for (i = 1; i <= n; i++) { s11 += T[i]^2; s12 += T[i]^3; s22 += T[i]^4; y1 += T[i]*t[i]; y2 += T[i]^2*t[i] }
        det = s11*s22 - s12*s12   # least squares t = a T + b T^2
        if (det == 0) exit
        a = (y1*s22 - y2*s12)/det; b = (s11*y2 - s12*y1)/det
        printf "Least-squares fit through them: t = %.3g T + %.3g T^2 s (the T^2 term %.0f%% of the time at T = %d).\n",
               a, b, 100*b*T[n]^2/(a*T[n]+b*T[n]^2), T[n]
        printf "FIT %.9g %.9g\n", a, b > ff
    }'
if [ -n "${skipped:-}" ]; then
    fa=""; fb_=""
    [ -f "$tmp/fit" ] && read -r _ fa fb_ < "$tmp/fit"
    for L in $skipped; do
        u="full_$(key "$L")"; T=$(get "$u" full_frames)
        echo
        echo -n "Not run at $L min: its arena would take $(get "$u" full_arena_mb) MB, over the $(get "$u" full_mem_limit_mb) MB allowed"
        echo -n " ($mem_note; $(free -m | awk '/^Mem:/ { print $2 }') MB in the machine)"
        if [ -n "$fa" ] && awk -v a="$fa" -v b="$fb_" 'BEGIN { exit !(a >= 0 && b > 0) }'; then
            echo "; the fit above puts one forward at about $(calc %.1f "$fa*$T+$fb_*$T*$T") s (extrapolated, not measured)."
        else
            echo "; the fit above has a negative term (noisy timings), so no extrapolation."
        fi
    done
fi
if [ -z "$(get full full_skipped)" ]; then
    echo
    echo "The ${SONG_SECONDS}-second song of (a): full attention $(calc %.3f "$(get full full_forward_s)") s per B-1 forward against"
    echo "$(calc %.3f "$(get song sbs_forward_b1_s)") s section by section ($(calc %.1fx "$(get full full_forward_s)/$(get song sbs_forward_b1_s)"))."
fi
echo
echo "Section by section, one B-1 evaluation per generated minute: $(for L in $LENGTHS; do echo -n "$L min $(calc %.3f "$(get "song_$(key "$L")" sbs_forward_b1_s)/($(get "song_$(key "$L")" song_s)/60)") s; "; done)"
echo "spread $(spread sbs_forward_b1_s)% (linear in the length when flat: no chunk sees more than $(get profile frames) frames"
echo "or $(get profile memory_tokens) memory tokens, however long the song)."
echo
echo "## (d) Where the denoiser's time goes"
echo
if [ "$over" = 1 ]; then
    echo "The ${SONG_SECONDS}-second song took $(calc %.1f "$S_gen") s ($(calc %.1fx "$S_rtf") real time) and misses the target ($TARGET_S s, ${TARGET_RTF}x);"
    echo "the denoiser is $(calc %.0f%% "100*$S_den/$S_gen") of it. Where its time goes:"
else
    echo "The ${SONG_SECONDS}-second song met the target; for the record, where the denoiser's share ($(calc %.0f%% "100*$S_den/$S_gen")) goes."
fi
echo
P=profile
fg=$(get $P fwd_guided_s); f1=$(get $P fwd_b1_s); fv=$(get $P fwd_guided_svalid_s); f0=$(get $P fwd_guided_s0_s)
Tp=$(get $P frames); Sp=$(get $P memory_tokens); Sv=$(get $P memory_tokens_valid_mean)
chunks=$(get song chunks)
echo "**Forwards per step.** $(get $P sampler) makes $evals evaluations in $steps steps (two a step, the last step one);"
echo "each evaluation of a chunk is ONE forward of a batch of $G examples (v_c, v_u, v_m: sampler/song.c"
echo "already batches the guided predictions, so there is no batching left to win). The ${SONG_SECONDS}-second song has"
echo "$chunks chunks: $chunks x $evals = $((chunks * evals)) forwards, $((chunks * evals * G)) example-forwards"
echo "($(get song chunk_frames_in) frames through the network per evaluation for $(get song latent_frames) latent frames: the context frames add"
echo "$(calc %.0f%% "100*($(get song chunk_frames_in)/$(get song latent_frames)-1)"))."
echo "Measured: one evaluation of the song $(calc %.3f "$(get song sbs_eval_s)") s, x $evals = $(calc %.1f "$evals*$(get song sbs_eval_s)") s, plus the memory"
echo "preparation $(calc %.2f "$(get song sbs_memory_prepare_s)") s, against the denoiser's $(calc %.1f "$S_den") s in refrain_generate."
echo
echo "**One guided forward** at the chunk shape: B $G, T $Tp ($(get $P config | awk '{ for (i = 1; i < NF; i++) if ($i == "ctx") print $(i + 1) }') context + new), S $Sp memory tokens: **$(calc %.1f "$fg*1000") ms**"
echo "($(calc %.1f "$(get $P fwd_guided_s_flops)/$fg/1e9") GFLOP/s). Group by group (one block's layer calls timed at the same"
echo "shapes, times the depth; the sum $(calc %.1f "$(get $P groups_sum_s)*1000") ms against the whole forward's $(calc %.1f "$fg*1000") ms):"
echo
echo "| group | ms per forward | share | of which |"
echo "| --- | ---: | ---: | --- |"
g() { get $P "$1"; }
D=$(get $P config | awk '{ for (i = 1; i < NF; i++) { if ($i == "width") w = $(i + 1); if ($i == "heads") h = $(i + 1) } print w / h }')
sa=$(calc %.9g "$(g blk_self_norm_s)+$(g blk_self_qkv_s)+$(g blk_self_rope_s)+$(g blk_self_core_s)+$(g blk_self_proj_s)+$(g blk_self_res_s)")
ca=$(calc %.9g "$(g blk_cross_norm_s)+$(g blk_cross_q_s)+$(g blk_cross_core_s)+$(g blk_cross_proj_s)+$(g blk_cross_res_s)")
ml=$(calc %.9g "$(g blk_mlp_norm_s)+$(g blk_mlp_fc1_s)+$(g blk_mlp_gelu_s)+$(g blk_mlp_fc2_s)+$(g blk_mlp_res_s)")
ot=$(calc %.9g "$(g blk_ada_s)+$(g outside_s)")
tot=$(g groups_sum_s)
ms() { calc %.1f "($1)*1000"; }
echo "| self-attention | $(ms "$sa") | $(calc %.0f%% "100*$sa/$tot") | q k v $(ms "$(g blk_self_qkv_s)"), attention core (T x T) $(ms "$(g blk_self_core_s)"), out proj $(ms "$(g blk_self_proj_s)"), norm + rope + residual $(ms "$(g blk_self_norm_s)+$(g blk_self_rope_s)+$(g blk_self_res_s)") |"
echo "| cross-attention | $(ms "$ca") | $(calc %.0f%% "100*$ca/$tot") | q $(ms "$(g blk_cross_q_s)"), attention core (T x $Sp) $(ms "$(g blk_cross_core_s)"), out proj $(ms "$(g blk_cross_proj_s)"), norm + residual $(ms "$(g blk_cross_norm_s)+$(g blk_cross_res_s)") |"
echo "| MLP | $(ms "$ml") | $(calc %.0f%% "100*$ml/$tot") | fc1 $(ms "$(g blk_mlp_fc1_s)"), GELU $(ms "$(g blk_mlp_gelu_s)"), fc2 $(ms "$(g blk_mlp_fc2_s)"), norm + residual $(ms "$(g blk_mlp_norm_s)+$(g blk_mlp_res_s)") |"
echo "| AdaLN, input and output | $(ms "$ot") | $(calc %.0f%% "100*$ot/$tot") | |"
echo
echo "dit.c's own per-op profile of the same forward (wall): $(awk '$1 == "op" { printf "%s%s %.1f ms", n++ ? ", " : "", substr($0, index($0, $4)), $3 * 1000 }' "$tmp/$P")."
echo
echo "**Changes and what they would save** (estimates from the figures above; the song's denoiser $(calc %.1f "$S_den") s):"
echo
sv_frac=$(calc %.9g "1-($fv)/($fg)")
echo "1. *Memory cut to the tokens it holds* (sampler/song.c sets \`b->ns = c->mem_tokens\`, $Sp, for every"
echo "   section; section i of the ten holds min(i, sections) x K, $Sv on average over sections 2..10, the rest"
echo "   masked but still multiplied, and the no-memory example's $Sp are all masked): the guided forward at S $Sv"
echo "   takes $(ms "$fv") ms, $(calc %+.0f%% "-100*($sv_frac)") (the cross-attention core alone $(ms "$(g blk_cross_core_s)") -> $(ms "$(g blk_cross_core_valid_s)") ms; with no memory at all $(ms "$f0") ms)."
echo "   The same math (masked keys have probability exactly 0; examples.c already packs the valid tokens"
echo "   first, so song.c would set b->ns to the section's token count before filling the batch: one line;"
echo "   whether the bits stay identical depends on OpenBLAS's paths for the smaller sgemms, which"
echo "   test_generate's same-seed checks would show): about $(calc %.1f "$S_den*($sv_frac)") s off the song (less the first section, which has no memory)."
echo "2. *Guided forwards already batched*: B $G in one forward $(ms "$fg") ms against $G x B 1 = $(ms "$G*$f1") ms"
echo "   ($(calc %+.0f%% "-100*(1-$fg/($G*$f1))") time): nothing more to win by batching them."
echo "3. *One evaluation a step*: ab2 (Adams-Bashforth 2, second order like Heun) at $steps steps makes $steps"
echo "   evaluations instead of $evals: the denoiser x $steps/$evals, about $(calc %.1f "$S_den*$steps/$evals") s (a quality question: generate.md's"
echo "   sweep decides it)."
echo "4. *No memory-guidance example* (memory guidance 0): B $G -> $((G - 1)), about $(calc %.0f%% "100/$G") of the denoiser (changes the samples)."
Cw=$(get $P config | awk '{ for (i = 1; i < NF; i++) if ($i == "width") print $(i + 1) }')
Ld=$(get $P config | awk '{ for (i = 1; i < NF; i++) if ($i == "depth") print $(i + 1) }')
core_fl=$(calc %.9g "4*$G*$Tp*($Tp+$Sp)*$Cw*$Ld"); core_t=$(calc %.9g "$(g blk_self_core_s)+$(g blk_cross_core_s)")
lin_t=$(calc %.9g "$(g blk_self_qkv_s)+$(g blk_self_proj_s)+$(g blk_cross_q_s)+$(g blk_cross_proj_s)+$(g blk_mlp_fc1_s)+$(g blk_mlp_fc2_s)+$(g blk_ada_s)+$(g outside_s)")
lin_fl=$(calc %.9g "$(get $P fwd_guided_s_flops)-$core_fl")
core_at_lin=$(calc %.9g "$core_fl/($lin_fl/$lin_t)")
echo "5. *The attention cores' speed*: self + cross cores $(ms "$core_t") ms of $(ms "$tot") for $(calc %.0f%% "100*$core_fl/$(get $P fwd_guided_s_flops)") of the FLOPs:"
echo "   $(calc %.1f "$core_fl/$core_t/1e9") GFLOP/s against the linears' $(calc %.1f "$lin_fl/$lin_t/1e9") (per head: two sgemms with K = $D or Tk,"
echo "   and a softmax). At the linears' rate they would take $(ms "$core_at_lin") ms:"
echo "   $(calc %+.0f%% "-100*($core_t-$core_at_lin)/$tot") on the forward (a kernel change in nn/attention.c, same results to rounding)."
echo
est=$(calc %.9g "$S_den*$steps/$evals*(1-($sv_frac))+$S_dec+$S_voc")
echo "1 and 3 together: about **$(calc %.1f "$est") s** for the song ($(calc %.1fx "$S_song/$est") real time), against $(calc %.1f "$S_gen") s now."
echo
echo "## Command"
echo
echo '```'
echo "bash bench/generate.sh        # or: make bench"
echo "THREADS=2 LENGTHS=\"1 2 5 10\" MODEL=assets/denoiser.rfc bash bench/generate.sh   # the knobs"
echo '```'
echo
echo "Raw outputs of this run:"
echo
for f in song $(for L in $LENGTHS; do echo "song_$(key "$L")"; done) full $(for L in $LENGTHS; do echo "full_$(key "$L")"; done) profile; do
    echo "<details><summary>$f</summary>"
    echo
    echo '```'
    cat "$tmp/$f"
    echo '```'
    echo "</details>"
    echo
done
} > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"

echo "generate: ${SONG_SECONDS}-s song $(calc %.2f "$S_gen") s (denoiser $(calc %.2f "$S_den"), decoder $(calc %.2f "$S_dec"), vocoder $(calc %.2f "$S_voc")), $(calc %.1fx "$S_rtf") real time; target $TARGET_S s / ${TARGET_RTF}x: $( [ $over = 0 ] && echo met || echo "missed by $(calc %.1fx "$S_gen/$TARGET_S")")"
echo "generate: time per minute over $LENGTHS min: more sections: spread $rsp_total% (denoiser $rsp_den%); longer sections: spread $sp_total% (denoiser $sp_den%); limit $FLAT%"
for L in $LENGTHS; do
    u="full_$(key "$L")"
    [ -n "$(get "$u" full_skipped)" ] && { echo "generate: full attention at $L min: not run (arena $(get "$u" full_arena_mb) MB > $MEM_LIMIT_MB MB)"; continue; }
    echo "generate: full attention / section by section at $L min: $(calc %.1fx "$(get "$u" full_forward_s)/$(get "song_$(key "$L")" sbs_forward_b1_s)") per forward"
done
echo "generate: guided forward $(calc %.1f "$fg*1000") ms: self-attention $(calc %.0f%% "100*$sa/$tot"), cross-attention $(calc %.0f%% "100*$ca/$tot"), MLP $(calc %.0f%% "100*$ml/$tot"); load $load0 -> $load1; report in $OUT"
