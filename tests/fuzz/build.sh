#!/bin/bash
# build.sh — builds libFuzzer targets: tests/fuzz/build.sh [OUTDIR] [tests/fuzz/fuzz_X.c ...]
# (default: every tests/fuzz/fuzz_*.c into build/fuzz/).  Each target declares what it links
# in comment lines of its own:
#   // sources: engine/sip/sdp.c engine/core/log.c     (engine files compiled with it)
#   // pkgs: libuv libosip2                             (pkg-config packages, optional)
# so a target never needs the whole library.  Needs clang with libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-build/fuzz}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(tests/fuzz/fuzz_*.c)
CC=${FUZZ_CC:-clang}
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -Iengine"
mkdir -p "$OUT"
for t in "${TARGETS[@]}"; do
    name=$(basename "$t" .c)
    srcs=$(sed -n 's|^// sources:||p' "$t" | head -1)
    pkgs=$(sed -n 's|^// pkgs:||p' "$t" | head -1)
    pflags=""
    [ -n "${pkgs// }" ] && pflags=$(pkg-config --cflags --libs $pkgs)
    echo "fuzz build: $name ($srcs${pkgs:+; $pkgs})"
    # shellcheck disable=SC2086
    $CC $FLAGS -o "$OUT/$name" "$t" $srcs $pflags -lm
done
