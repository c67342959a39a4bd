#!/bin/sh
# ABI checks, run by meson test (see tests/robust/meson.build):
#   test_abi.sh symbols LIB INCLUDE_DIR
#       every defined dynamic symbol of LIB starts with mlops_ (and none with
#       the internal prefix mlops__); every MLOPS_API function declared in
#       the public headers is exported.
#   test_abi.sh c99 OUTDIR SRC INCLUDE_DIR -- CC...
#       <mlops.h>, and each public header alone, compile as strict C99/C11.
#   test_abi.sh cxx OUTDIR SRC INCLUDE_DIR LIB SANITIZE -- CXX...
#       the headers compile as pedantic C++11 and a C++ program links
#       against the shared library and calls into it (extern "C" guards).
set -u
mode=$1
shift

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

case $mode in
symbols)
    lib=$1
    inc=$2
    [ -f "$lib" ] || fail "no library at $lib"
    syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u)
    [ -n "$syms" ] || fail "nm -D found no defined symbols in $lib"
    # Symbols the linker itself defines in every shared object.
    bad=$(printf '%s\n' "$syms" | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' | grep -v '^mlops_')
    internal=$(printf '%s\n' "$syms" | grep '^mlops__')
    status=0
    if [ -n "$bad" ]; then
        echo "exported symbols without the mlops_ prefix:" >&2
        printf '  %s\n' $bad >&2
        status=1
    fi
    if [ -n "$internal" ]; then
        echo "internal mlops__ symbols exported (should be hidden):" >&2
        printf '  %s\n' $internal >&2
        status=1
    fi
    # MLOPS_ABI_SKIP: header file names of modules this build leaves out
    # (meson passes track.h unless -Dtrack=true).
    headers=$(find "$inc" -name '*.h')
    for skip in ${MLOPS_ABI_SKIP:-}; do
        headers=$(printf '%s\n' $headers | grep -v "/$skip\$")
    done
    declared=$(grep -h -E '^MLOPS_API ' $headers |
        sed -E -n 's/^MLOPS_API [^(]*[ *](mlops_[A-Za-z0-9_]+)\(.*/\1/p' | sort -u)
    [ -n "$declared" ] || fail "no MLOPS_API declarations found under $inc"
    for f in $declared; do
        if ! printf '%s\n' "$syms" | grep -q -x "$f"; then
            echo "declared in a public header but not exported: $f" >&2
            status=1
        fi
    done
    n=$(printf '%s\n' "$syms" | grep -c '^mlops_')
    echo "checked $n exported symbols, $(printf '%s\n' $declared | wc -l) declared functions"
    exit $status
    ;;
c99)
    out=$1
    src=$2
    inc=$3
    shift 4 # "--"
    mkdir -p "$out" || exit 1
    strict="-Wall -Wextra -pedantic -Werror"
    "$@" -std=c99 $strict -I"$inc" -c "$src" -o "$out/abi_c99.o" || fail "mlops.h as C99"
    "$@" -std=c11 $strict -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wundef -Wcast-qual \
        -I"$inc" -c "$src" -o "$out/abi_c11.o" || fail "mlops.h as strict C11"
    for h in $(cd "$inc" && find . -name '*.h' | sed 's|^\./||' | sort); do
        printf '#include <%s>\n' "$h" > "$out/alone.c"
        # An empty translation unit is a pedantic warning of its own.
        echo 'typedef int abi_alone_nonempty;' >> "$out/alone.c"
        "$@" -std=c99 $strict -I"$inc" -c "$out/alone.c" -o "$out/alone.o" || fail "$h alone as C99"
    done
    echo "ok: headers compile as C99 and C11"
    ;;
cxx)
    out=$1
    src=$2
    inc=$3
    lib=$4
    san=$5
    shift 6 # "--"
    mkdir -p "$out" || exit 1
    flags=""
    if [ "$san" != "none" ] && [ -n "$san" ]; then
        flags="-fsanitize=$san"
    fi
    "$@" -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$inc" -c "$src" -o "$out/abi_cxx.o" ||
        fail "headers as C++11"
    "$@" $flags "$out/abi_cxx.o" "$lib" -Wl,-rpath,"$(dirname "$lib")" -o "$out/abi_cxx" ||
        fail "linking a C++ program against $lib (extern \"C\" guards?)"
    "$out/abi_cxx" || fail "the C++ program failed"
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
