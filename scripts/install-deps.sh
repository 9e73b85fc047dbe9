#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only those missing:
#   bash scripts/install-deps.sh [build|test|demo|data|bench|mpi|all]   (default all)
# build, demo  the compiler, pkg-config and the libraries refrain links (FFTW,
#              libsndfile, OpenBLAS, stb, libsamplerate, libopenmpt); the demo's
#              music comes with apt-get download, no package installed
# test         build + mma, fluidsynth, fluid-soundfont-gm: test_data_corpus and
#              test_data_structure render MMA songs with them; in CI (CI=true)
#              or with MPI=1 also OpenMPI, for tests/cli_mpi.sh (elsewhere that
#              test says "skipped" when OpenMPI is not installed)
# mpi          build + openmpi-bin, libopenmpi-dev: `make MPI=1`, data-parallel
#              training with mpirun (util/dist.h)
# data         build + mma, fluidsynth, fluid-soundfont-gm (rendering the corpus's
#              MMA songs) and unzip (nexuiz-music's .pk3 archives)
# bench        build + python3-numpy, python3-torch, python3-torchaudio: the peers
#              the benchmarks time, and the tests/make_*_ref.py reference scripts;
#              never needed to build, test or run refrain; and OpenMPI (bench/mpi.sh)
# all          everything above (`make deps`)
set -eu
BUILD_PKGS="build-essential pkg-config libfftw3-dev libsndfile1-dev libopenblas-dev libstb-dev
            libsamplerate0-dev libopenmpt-dev"
MMA_PKGS="mma fluidsynth fluid-soundfont-gm"
PEER_PKGS="python3-numpy python3-torch python3-torchaudio"
MPI_PKGS="openmpi-bin libopenmpi-dev"
TEST_MPI_PKGS=""
[ "${CI:-}" = true ] || [ "${MPI:-}" = 1 ] && TEST_MPI_PKGS="$MPI_PKGS"
case ${1:-all} in
    build | demo) PKGS="$BUILD_PKGS" ;;
    test) PKGS="$BUILD_PKGS $MMA_PKGS $TEST_MPI_PKGS" ;;
    mpi) PKGS="$BUILD_PKGS $MPI_PKGS" ;;
    data) PKGS="$BUILD_PKGS $MMA_PKGS unzip" ;;
    bench) PKGS="$BUILD_PKGS $PEER_PKGS $MPI_PKGS" ;;
    all) PKGS="$BUILD_PKGS $MMA_PKGS $PEER_PKGS $MPI_PKGS unzip" ;;
    *) echo "usage: $0 [build|test|demo|data|bench|mpi|all]" >&2; exit 2 ;;
esac
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
