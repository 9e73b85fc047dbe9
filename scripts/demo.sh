#!/usr/bin/env bash
# demo.sh (`make demo`): what refrain does, with the shipped models. First it
# writes a song from a form string with the shipped denoiser
# (assets/denoiser.rfc) and autoencoder: out/song.wav, its spectrogram with
# the section boundaries (out/song.png) and its timeline (out/song.json).
# Then, on real music, it takes a 30 s excerpt of a warzone2100 soundtrack
# track (Debian's warzone2100-music, fetched by scripts/fetch-music.sh),
# round-trips it through refrain's 80-band log-mel features and Griffin-Lim
# vocoder and through the shipped mel autoencoder (assets/ae.rfc), draws
# spectrograms of the original and the vocoded audio with an example
# timeline, and finds the whole track's sections with `refrain analyze`.
# Everything goes to out/. DEMO_FORM, DEMO_SEED change the song.
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
REFRAIN=${REFRAIN:-./refrain}
case $REFRAIN in */*) ;; *) REFRAIN=./$REFRAIN ;; esac
bash scripts/fetch-music.sh
TRACK=.cache/pkg/warzone2100-music/usr/share/games/warzone2100/music/albums/original_soundtrack/track1.opus
START=${DEMO_START:-60}
SECONDS_LONG=${DEMO_SECONDS:-30}
TIMELINE=assets/example-timeline.json
if [ ! -f "$TRACK" ]; then
    echo "refrain demo: $TRACK is missing; run 'bash scripts/fetch-music.sh'" >&2
    exit 1
fi
mkdir -p out
FORM=${DEMO_FORM:-intro:6 verse:12 chorus:12 verse:12 chorus:12 bridge:8 chorus:12 outro:6}
song=()
if [ -f assets/denoiser.rfc ]; then
    echo "== generate: \"$FORM\" with the shipped denoiser"
    "$REFRAIN" generate --form "$FORM" --seed "${DEMO_SEED:-1}" -o out/song.wav --png out/song.png \
        --timeline out/song.json
    song=(out/song.wav out/song.png out/song.json)
else
    echo "== (no assets/denoiser.rfc yet: \`make model-denoiser\` trains it; skipping the song)"
fi
echo "== decode: $TRACK as 22,050 Hz mono"
"$REFRAIN" convert "$TRACK" -o out/track.wav
echo "== excerpt: $SECONDS_LONG s from $START s"
"$REFRAIN" convert out/track.wav --start "$START" --duration "$SECONDS_LONG" -o out/original.wav
echo "== vocode: log-mel -> Griffin-Lim (PGHI init, 64 fast iterations)"
"$REFRAIN" vocode out/original.wav -o out/vocoded.wav
echo "== reconstruct: audio -> shipped autoencoder (assets/ae.rfc) latents -> log-mel -> vocoder"
"$REFRAIN" reconstruct out/original.wav -o out/reconstructed.wav --png out/reconstructed.png
echo "== spectrograms with the example timeline $TIMELINE"
"$REFRAIN" spectrogram out/original.wav -o out/original.png --timeline "$TIMELINE"
"$REFRAIN" spectrogram out/vocoded.wav -o out/vocoded.png --timeline "$TIMELINE"
echo "== the whole track's structure, found by refrain analyze"
"$REFRAIN" analyze out/track.wav -o out/track-timeline.json
"$REFRAIN" spectrogram out/track.wav -o out/track.png --timeline out/track-timeline.json
echo "== original"
"$REFRAIN" info out/original.wav
echo "== vocoded"
"$REFRAIN" info out/vocoded.wav
echo
echo "wrote:"
for f in "${song[@]}" out/track.wav out/track-timeline.json out/track.png out/original.wav out/vocoded.wav \
         out/original.png out/vocoded.png out/reconstructed.wav out/reconstructed.png; do
    printf '  %-26s %s\n' "$f" "$(du -h "$f" | cut -f1)"
done
[ ${#song[@]} -gt 0 ] && echo "listen to out/song.wav and look at out/song.png: a song generated section by section from the form;"
echo "listen to out/original.wav, out/vocoded.wav (features + vocoder) and out/reconstructed.wav"
echo "(also through the autoencoder's 32-channel latents); look at their PNGs side by side;"
echo "out/track.png shows the whole track with the sections refrain analyze found."
