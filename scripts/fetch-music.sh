#!/usr/bin/env bash
# Fetches one real soundtrack package from Debian (apt-get download + dpkg -x)
# into .cache/ for tests, benchmarks and the demo. Never committed.
# Prints nothing when the cache is already there (a second run redoes nothing).
set -eu
cd "$(dirname "$0")/.."
. scripts/cache.sh
PKG=${REFRAIN_MUSIC_PKG:-warzone2100-music}
DEST=.cache/pkg/$PKG
if [ -f "$DEST/.ok" ]; then exit 0; fi
mkdir -p .cache/debs "$DEST"
echo "refrain: fetching $PKG from Debian into $DEST" >&2
( cd .cache/debs && ls ${PKG}_*.deb >/dev/null 2>&1 || apt-get download "$PKG" >/dev/null 2>&1 ) || {
    echo "refrain: apt-get download $PKG failed (run 'apt-get update' as root?)" >&2; exit 1; }
dpkg -x .cache/debs/${PKG}_*.deb "$DEST"
touch "$DEST/.ok"
