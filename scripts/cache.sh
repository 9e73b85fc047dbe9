#!/usr/bin/env bash
# cache.sh — sourced by every script that reads or writes .cache/: makes sure
# .cache exists. A fresh checkout gets .cache as a link to
# ${REFRAIN_CACHE:-$HOME/.cache/refrain}, outside the work tree, so the corpus
# (hours to build) and long training checkpoints survive a work tree that is
# laid anew. An existing .cache (folder or link) is left as it is. Paths inside
# stay ".cache/..." so song ids in the corpus index do not change.
if [ ! -e .cache ] && [ ! -L .cache ]; then
    _rc_dir=${REFRAIN_CACHE:-${HOME:-/tmp}/.cache/refrain}
    if ! { mkdir -p "$_rc_dir" 2>/dev/null && ln -s "$_rc_dir" .cache 2>/dev/null; }; then
        # an unwritable home (some CI runners): a plain folder here still works
        echo "refrain: cannot use $_rc_dir for the cache (set REFRAIN_CACHE); using .cache/ in the work tree" >&2
        mkdir -p .cache || exit 1
    fi
    unset _rc_dir
elif [ -L .cache ] && [ ! -d .cache ]; then
    mkdir -p "$(readlink .cache)" ||
        { echo "refrain: .cache links to $(readlink .cache), which cannot be created" >&2; exit 1; }
fi
