#!/usr/bin/env bash
# cache.sh — sourced by every script that reads or writes .cache/: makes sure
# .cache exists. A fresh checkout gets .cache as a link to
# ${REFRAIN_CACHE:-$HOME/.cache/refrain}, outside the work tree, so the corpus
# (hours to build) and long training checkpoints survive a work tree that is
# laid anew. An existing .cache (folder or link) is left as it is. Paths inside
# stay ".cache/..." so song ids in the corpus index do not change.
if [ ! -e .cache ] && [ ! -L .cache ]; then
    _rc_dir=${REFRAIN_CACHE:-${HOME:-/tmp}/.cache/refrain}
    mkdir -p "$_rc_dir" && ln -s "$_rc_dir" .cache ||
        { echo "refrain: cannot create the cache folder $_rc_dir (set REFRAIN_CACHE)" >&2; exit 1; }
    unset _rc_dir
elif [ -L .cache ] && [ ! -d .cache ]; then
    mkdir -p "$(readlink .cache)" ||
        { echo "refrain: .cache links to $(readlink .cache), which cannot be created" >&2; exit 1; }
fi
