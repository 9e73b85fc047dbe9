#!/usr/bin/env bash
# cli_install.sh — refrain as a package (issue 16): the example program
# (examples/generate.c) runs against the build tree's shared library; `make
# install` into a temporary PREFIX puts every file where it belongs; the example
# compiles against the installed refrain.h and library through pkg-config, shared
# and static, and runs; the installed man page holds exactly what each
# `refrain CMD --help` prints; the installed binary finds its models in its
# ../share/refrain from another folder, REFRAIN_MODEL_DIR and --model before
# them; `make uninstall` leaves the prefix empty. Tiny random models
# ($BUILD/tests/test_generate --write-models) keep it to seconds.
. "$(dirname "$0")/lib_cli.sh"
BUILD=${BUILD:-build}
export OMP_NUM_THREADS=1
models=$tmp/models
mkdir -p "$models" "$tmp/elsewhere"
"$BUILD/tests/test_generate" --write-models "$models" 2>"$tmp/err" || { bad "tiny models: $(cat "$tmp/err")"; finish cli_install; exit; }
version=$("$REFRAIN" --version | sed -n 's/^refrain //p')

# run_example NAME PROGRAM: the example with the tiny models makes a 2-section song
run_example() {
    REFRAIN_MODEL_DIR=$models "$2" -f "verse:2 chorus:2" -s 2 "$tmp/ex.wav" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -eq 0 ] && grep -q "^refrain $version: 2 sections" "$tmp/out" && grep -q "^  chorus " "$tmp/out" &&
        [ "$(stat -c %s "$tmp/ex.wav")" -gt 44 ] && grep -q "section 2/2" "$tmp/err" && grep -q vocoder "$tmp/err"; then
        ok "$1: a 2-section song, progress on stderr, $(stat -c %s "$tmp/ex.wav") bytes of WAV"
    else
        bad "$1: exit $rc: $(cat "$tmp/out" "$tmp/err")"
    fi
    rm -f "$tmp/ex.wav"
}

# ---- the example against the build tree ------------------------------------------------
ex=$BUILD/examples/generate
run_example "examples/generate (build tree)" "$ex"
REFRAIN_MODEL_DIR=$models "$ex" -f "verse chrous" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "chrous" "$tmp/err" && ok "example: a bad form exits 2 with refrain's message: $(cat "$tmp/err")" ||
    bad "example bad form: exit $rc: $(cat "$tmp/err")"
"$ex" -d "$tmp/none.rfc" -a "$models/ae.rfc" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "none.rfc" "$tmp/err" && ok "example: a missing model exits 1 naming it" ||
    bad "example missing model: exit $rc: $(cat "$tmp/err")"

# ---- make install into a temporary prefix --------------------------------------------------
prefix=$tmp/prefix
make -s --no-print-directory install PREFIX="$prefix" BUILD="$BUILD" REFRAIN="$REFRAIN" >"$tmp/make" 2>&1 ||
    bad "make install PREFIX=$prefix: $(tail -5 "$tmp/make")"
want="bin/refrain lib/librefrain.a lib/librefrain.so.$version include/refrain.h lib/pkgconfig/refrain.pc
      share/man/man1/refrain.1 share/doc/refrain/MODEL_CARD.md"
for m in ae.rfc denoiser.rfc; do [ -f "assets/$m" ] && want="$want share/refrain/$m"; done
missing=""
for f in $want; do [ -f "$prefix/$f" ] || missing="$missing $f"; done
[ -z "$missing" ] && ok "installed:$(echo $want | sed 's/ /, /g')" || bad "not installed:$missing"
[ "$(readlink "$prefix/lib/librefrain.so.${version%%.*}")" = "librefrain.so.$version" ] &&
    [ "$(readlink "$prefix/lib/librefrain.so")" = "librefrain.so.${version%%.*}" ] &&
    readelf -d "$prefix/lib/librefrain.so.$version" | grep -q "SONAME.*\[librefrain.so.${version%%.*}\]" &&
    ok "librefrain.so -> .so.${version%%.*} (the soname) -> .so.$version (refrain --version)" ||
    bad "soname links: $(ls -l "$prefix/lib")"
[ -x "$prefix/bin/refrain" ] && [ "$("$prefix/bin/refrain" --version)" = "refrain $version" ] &&
    ok "the installed binary says refrain $version" || bad "installed binary --version"
installed=$(cd "$prefix" && find . -mindepth 1 | sort)

# ---- the example against the installed copy, through pkg-config -------------------------------
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cp examples/generate.c "$tmp/elsewhere/generate.c"   # no refrain.h beside it
[ "$(pkg-config --modversion refrain)" = "$version" ] && ok "pkg-config --modversion refrain: $version" ||
    bad "pkg-config --modversion: $(pkg-config --modversion refrain 2>&1)"
if cc -std=c11 -Wall -Werror -o "$tmp/ex-shared" "$tmp/elsewhere/generate.c" $(pkg-config --cflags --libs refrain) \
    2>"$tmp/err"; then
    readelf -d "$tmp/ex-shared" | grep -q "NEEDED.*librefrain.so.${version%%.*}" &&
        ok "shared: cc \$(pkg-config --cflags --libs refrain) links librefrain.so.${version%%.*}" || bad "shared: no NEEDED librefrain"
    LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/ex-shared" | grep -q "librefrain.so.${version%%.*} => $prefix/lib/" &&
        ok "shared: the loader finds the installed library" || bad "ldd: $(LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/ex-shared")"
    LD_LIBRARY_PATH=$prefix/lib run_example "examples/generate (installed, shared)" "$tmp/ex-shared"
else
    bad "shared build against the installed copy: $(cat "$tmp/err")"
fi
libdir=$(pkg-config --variable=libdir refrain)
static_libs=$(pkg-config --static --libs refrain | sed "s|-lrefrain|$libdir/librefrain.a|")
if cc -std=c11 -Wall -Werror -o "$tmp/ex-static" "$tmp/elsewhere/generate.c" $(pkg-config --cflags refrain) \
    $static_libs 2>"$tmp/err"; then
    readelf -d "$tmp/ex-static" | grep -q "NEEDED.*librefrain" && bad "static: still needs librefrain.so" ||
        ok "static: librefrain.a with pkg-config --static --libs ($static_libs)"
    run_example "examples/generate (installed, static)" "$tmp/ex-static"
else
    bad "static build against the installed copy: $(cat "$tmp/err")"
fi

# ---- the man page: every command's options, as --help prints them -----------------------------
man=$prefix/share/man/man1/refrain.1
deroff() { sed -e 's/\\f[BIR]//g' -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\e/\\/g'; }
# help_opts CMD: the option lines of `refrain CMD --help` before "global options:", spaces collapsed
help_opts() {
    "$REFRAIN" "$1" --help | awk '/^options:/ { on = 1; next } /^global options:/ { on = 0 } on && /^  / ' |
        sed -e 's/^ *//' -e 's/  */ /g'
}
# man_opts CMD: the .TP entries of CMD's .SS section, "NAMES DESCRIPTION" the same way
man_opts() {
    awk -v cmd="$(printf '%s' "$1" | sed 's/-/\\\\-/g')" '
        /^\.S[SH]/ { on = ($0 == ".SS " cmd); next }
        on && /^\.TP/ { getline names; getline text; print names " " text }' "$man" | deroff | sed 's/  */ /g'
}
commands=$("$REFRAIN" --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }')
ncmd=0; nopt=0; drift=""
for c in $commands; do
    ncmd=$((ncmd + 1))
    h=$(help_opts "$c"); m=$(man_opts "$c")
    nopt=$((nopt + $(printf '%s\n' "$h" | grep -c -- '--')))
    [ "$h" = "$m" ] || drift="$drift $c"
    [ "$h" = "$m" ] || diff <(echo "$h") <(echo "$m") | head -6 | sed 's/^/       /'
done
[ "$ncmd" -ge 19 ] && [ "$nopt" -ge 150 ] && [ -z "$drift" ] &&
    ok "man page: the $nopt options of all $ncmd commands, each line as 'refrain CMD --help' prints it" ||
    bad "man page differs from --help for:$drift ($ncmd commands)"
g_help=$("$REFRAIN" --help | awk '/^global options/ { on = 1; next } /^$/ { on = 0 } on' | sed -e 's/^ *//' -e 's/  */ /g')
g_man=$(awk '/^\.SH/ { on = ($0 == ".SH GLOBAL OPTIONS"); next } on && /^\.TP/ { getline n; getline t; print n " " t }' \
    "$man" | deroff | sed 's/  */ /g')
[ -n "$g_help" ] && [ "$g_help" = "$g_man" ] && ok "man page: the global options, --version included" ||
    bad "global options: help '$g_help' man '$g_man'"
grep -q "^\.TH REFRAIN 1 .*refrain $version" "$man" && grep -q "^\.SH ENVIRONMENT" "$man" && grep -q REFRAIN_MODEL_DIR "$man" &&
    ok "man page: .TH with the version, ENVIRONMENT names REFRAIN_MODEL_DIR" || bad "man page header: $(head -2 "$man")"

# ---- the installed binary finds its models in ../share/refrain ----------------------------------
mkdir -p "$prefix/share/refrain"
cp "$models/denoiser.rfc" "$models/ae.rfc" "$prefix/share/refrain/"   # tiny ones in place of the shipped
printf 'not a model' > "$tmp/elsewhere/denoiser.rfc"                   # the current folder is never looked in
( cd "$tmp/elsewhere" && env -u REFRAIN_MODEL_DIR "$prefix/bin/refrain" generate --form "verse:2 chorus:2" \
    -o song.wav --steps 2 --quiet ) 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/elsewhere/song.wav" ] &&
    ok "installed refrain generate from another folder, no option: models from $prefix/share/refrain" ||
    bad "installed binary with models in share/refrain: exit $rc: $(cat "$tmp/err")"
mkdir -p "$tmp/envdir" && printf 'not a model' > "$tmp/envdir/denoiser.rfc"
( cd "$tmp/elsewhere" && REFRAIN_MODEL_DIR=$tmp/envdir "$prefix/bin/refrain" generate --form verse:2 -o e.wav --quiet ) \
    2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$tmp/envdir/denoiser.rfc" "$tmp/err" && [ ! -e "$tmp/elsewhere/e.wav" ] &&
    ok "REFRAIN_MODEL_DIR comes before share/refrain ($(cat "$tmp/err"))" ||
    bad "REFRAIN_MODEL_DIR: exit $rc: $(cat "$tmp/err")"
( cd "$tmp/elsewhere" && env -u REFRAIN_MODEL_DIR "$prefix/bin/refrain" generate --form verse:2 -o e.wav --quiet \
    --model "$tmp/envdir/denoiser.rfc" ) 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$tmp/envdir/denoiser.rfc" "$tmp/err" && ok "--model comes before share/refrain" ||
    bad "--model: exit $rc: $(cat "$tmp/err")"
# every command that takes a model finds its default as generate does: encode, decode,
# reconstruct, ae-eval, denoiser-eval and train-diffusion read ./assets/*.rfc only
# (so an installed one failed from any other folder and ignored REFRAIN_MODEL_DIR)
make_wav "$tmp/tone.wav" 22050
mkdir -p "$tmp/elsewhere/assets" && printf 'not a model' > "$tmp/elsewhere/assets/ae.rfc"   # after beside the binary
( cd "$tmp/elsewhere" && env -u REFRAIN_MODEL_DIR "$prefix/bin/refrain" -q encode "$tmp/tone.wav" -o t.bin &&
    env -u REFRAIN_MODEL_DIR "$prefix/bin/refrain" -q decode t.bin -o t.wav --iters 2 &&
    env -u REFRAIN_MODEL_DIR "$prefix/bin/refrain" -q reconstruct "$tmp/tone.wav" -o r.wav --iters 2 ) 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/elsewhere/t.bin" ] && [ -s "$tmp/elsewhere/t.wav" ] && [ -s "$tmp/elsewhere/r.wav" ] &&
    ok "installed refrain encode, decode, reconstruct from another folder, no option: ae.rfc from share/refrain" ||
    bad "installed encode / decode / reconstruct: exit $rc: $(cat "$tmp/err")"
printf 'not a model' > "$tmp/envdir/ae.rfc"
( cd "$tmp/elsewhere" && REFRAIN_MODEL_DIR=$tmp/envdir "$prefix/bin/refrain" -q encode "$tmp/tone.wav" -o e.bin ) 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$tmp/envdir/ae.rfc" "$tmp/err" && [ ! -e "$tmp/elsewhere/e.bin" ] &&
    ok "encode: REFRAIN_MODEL_DIR comes before share/refrain" || bad "encode with REFRAIN_MODEL_DIR: exit $rc: $(cat "$tmp/err")"
mv "$tmp/elsewhere/t.bin" "$tmp/t.bin"
rm -rf "$tmp/elsewhere/assets" "$tmp/elsewhere/t.wav" "$tmp/elsewhere/r.wav"
# a copy with no models beside it, nothing in REFRAIN_MODEL_DIR nor in ./assets: each command
# names every place it looked in, before reading its corpus; then assets/ in the current
# folder is the last place (a build folder's binary run from the source tree)
mkdir -p "$tmp/copy" "$tmp/nomodels" "$tmp/cwd/assets"
cp "$REFRAIN" "$tmp/copy/refrain"
for c in "encode $tmp/tone.wav -o x.bin:ae" "decode $tmp/t.bin -o x.wav:ae" "reconstruct $tmp/tone.wav -o x.wav:ae" \
    "ae-eval -o x.md --data $tmp/nomodels:ae" "train-diffusion --data $tmp/nomodels --out x.rfc --steps 1:ae" \
    "denoiser-eval -o x.md --data $tmp/nomodels:denoiser" "generate --form verse -o x.wav:denoiser" \
    "generate-eval -o x.md --data $tmp/nomodels:denoiser" "ablate --form verse -o x.md --data $tmp/nomodels:denoiser"; do
    m=${c##*:}.rfc; c=${c%:*}
    # shellcheck disable=SC2086
    ( cd "$tmp/cwd" && REFRAIN_MODEL_DIR=$tmp/nomodels "$tmp/copy/refrain" -q $c ) >/dev/null 2>"$tmp/err"
    rc=$?
    want="no $m found (looked in $tmp/nomodels/$m, $tmp/copy/assets/$m, $tmp/copy/../share/refrain/$m, assets/$m in the current folder)"
    [ $rc -eq 1 ] && grep -qF "$want" "$tmp/err" && [ "$(wc -l <"$tmp/err")" = 1 ] && ok "${c%% *} without a model: $(cat "$tmp/err")" ||
        bad "${c%% *} without a model: exit $rc: $(cat "$tmp/err")"
done
cp "$models/ae.rfc" "$tmp/cwd/assets/"
( cd "$tmp/cwd" && env -u REFRAIN_MODEL_DIR "$tmp/copy/refrain" -q encode "$tmp/tone.wav" -o c.bin ) 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/cwd/c.bin" ] && ok "a copy run from a folder with assets/ae.rfc: encode finds it there" ||
    bad "copy with ./assets: exit $rc: $(cat "$tmp/err")"
# a program linked with the installed librefrain.so, in a folder of its own: the models beside the
# library (lib/../share/refrain); the same program linked statically has only its own folder to look in
if [ -x "$tmp/ex-shared" ] && [ -x "$tmp/ex-static" ]; then
    mkdir -p "$tmp/progs"
    cp "$tmp/ex-shared" "$tmp/ex-static" "$tmp/progs/"
    ( cd "$tmp/elsewhere" && env -u REFRAIN_MODEL_DIR LD_LIBRARY_PATH=$prefix/lib "$tmp/progs/ex-shared" \
        -f "verse:2 chorus:2" -s 2 -q lib.wav ) >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq 0 ] && [ -s "$tmp/elsewhere/lib.wav" ] &&
        ok "a program linked with librefrain.so, from another folder, no option: models beside the library ($prefix/share/refrain)" ||
        bad "shared program with models beside the library: exit $rc: $(cat "$tmp/err")"
    ( cd "$tmp/elsewhere" && env -u REFRAIN_MODEL_DIR "$tmp/progs/ex-static" -f "verse:2" -s 2 -q st.wav ) >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "no denoiser.rfc found (looked in $tmp/progs/assets/denoiser.rfc, $tmp/progs/../share/refrain/denoiser.rfc)" "$tmp/err" &&
        [ ! -e "$tmp/elsewhere/st.wav" ] &&
        ok "the same program linked with librefrain.a looks only beside itself: $(cat "$tmp/err")" ||
        bad "static program: exit $rc: $(cat "$tmp/err")"
    rm -f "$tmp/elsewhere/lib.wav"
fi
# put back what install wrote (a tiny denoiser.rfc where none was shipped goes)
(cd "$prefix" && find . -mindepth 1 -type f | sort) | while read -r f; do
    printf '%s\n' "$installed" | grep -qxF "$f" || rm -f "$prefix/$f"
done

# ---- make uninstall ------------------------------------------------------------------------
make -s --no-print-directory uninstall PREFIX="$prefix" BUILD="$BUILD" REFRAIN="$REFRAIN" >"$tmp/make" 2>&1 ||
    bad "make uninstall: $(tail -5 "$tmp/make")"
left=$(find "$prefix" -mindepth 1 2>/dev/null)
[ -d "$prefix" ] && [ -z "$left" ] && ok "make uninstall leaves $prefix empty ($(echo "$installed" | wc -l) entries removed)" ||
    bad "make uninstall left: $left"

# ---- DESTDIR: staged under it, the .pc and man page name PREFIX ----------------------------------
stage=$tmp/stage
make -s --no-print-directory install DESTDIR="$stage" PREFIX=/usr/local BUILD="$BUILD" REFRAIN="$REFRAIN" \
    >"$tmp/make" 2>&1 || bad "make install DESTDIR: $(tail -5 "$tmp/make")"
[ -x "$stage/usr/local/bin/refrain" ] && grep -qx "prefix=/usr/local" "$stage/usr/local/lib/pkgconfig/refrain.pc" &&
    ok "make install DESTDIR=$stage PREFIX=/usr/local: staged, refrain.pc says prefix=/usr/local" ||
    bad "DESTDIR install: $(find "$stage" | head -5)"
make -s --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr/local BUILD="$BUILD" REFRAIN="$REFRAIN" \
    >"$tmp/make" 2>&1
left=$(find "$stage" -mindepth 1 ! -type d)
[ -z "$left" ] && ok "make uninstall DESTDIR=$stage: no file left" || bad "DESTDIR uninstall left: $left"
finish cli_install
