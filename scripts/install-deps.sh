#!/usr/bin/env bash
# Installs the Debian packages refrain needs, only those missing.
# Build: FFTW, libsndfile, OpenBLAS, stb, libsamplerate.
# Corpus: libopenmpt, mma, fluidsynth + fluid-soundfont-gm.
# Tests/bench references only (never at run time): python3-torch, -torchaudio, -numpy.
set -eu
PKGS="build-essential pkg-config libfftw3-dev libsndfile1-dev libopenblas-dev libstb-dev
      libsamplerate0-dev libopenmpt-dev mma fluidsynth fluid-soundfont-gm
      python3-numpy python3-torch python3-torchaudio unzip"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "refrain: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo; command -v sudo >/dev/null || { echo "refrain: need root to install:$missing" >&2; exit 1; }
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
