#!/usr/bin/env bash
# data/fetch.sh — fetches the corpus's Debian packages into .cache/pkg/<pkg>/
# (apt-get download + dpkg -x, via scripts/fetch-music.sh, one package at a
# time) and unpacks nexuiz-music's .pk3 zips (ogg inside). A package that
# cannot be fetched is reported and left out; the corpus goes on without it.
# A second run redoes nothing. Never committed: .cache/ is git-ignored.
set -u
cd "$(dirname "$0")/.."
. scripts/cache.sh
SOUNDTRACKS="warzone2100-music nexuiz-music blobwars-data hedgewars-data supertux-data widelands-data"
MODULES="pingus-data tecnoballz-data"
missing=""
for p in ${REFRAIN_CORPUS_PKGS:-$SOUNDTRACKS $MODULES}; do
    REFRAIN_MUSIC_PKG=$p bash scripts/fetch-music.sh || missing="$missing $p"
done
[ -n "$missing" ] && echo "refrain: data: could not fetch:$missing (left out of the corpus)" >&2
# nexuiz-music keeps its tracks in zip files named .pk3.
find .cache/pkg/nexuiz-music -name '*.pk3' 2>/dev/null | sort | while read -r z; do
    d=${z%.pk3}.unzipped
    [ -f "$d/.ok" ] && continue
    rm -rf "$d" && mkdir -p "$d"
    if unzip -q -o "$z" -d "$d"; then touch "$d/.ok"
    else echo "refrain: data: cannot unzip $z (left out)" >&2; fi
done
exit 0
