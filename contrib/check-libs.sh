#!/usr/bin/env bash
# check-libs.sh — says in one line what is wrong when a library the engine needs is missing
# or is not the version it is written for; silent when all is well.  Run by the Makefile
# before the first compile (PKGS, CC and CFLAGS from the Makefile's environment).
set -u
cd "$(dirname "$0")/.."
for p in $PKGS; do
  if ! pkg-config --exists "$p" 2>/dev/null; then
    echo "hotline: library '$p' is missing (pkg-config knows no $p): run 'make deps' as root, or contrib/install-deps.sh" >&2
    exit 1
  fi
done
out=$(${CC:-cc} $CFLAGS -E -o /dev/null contrib/check-libs.h 2>&1) && exit 0
line=$(printf '%s\n' "$out" | sed -n 's/.*#error "\(.*\)"/\1/p' | head -n 1)
[ -z "$line" ] && line=$(printf '%s\n' "$out" | grep -m1 -E 'error' || true)
case "$line" in hotline*) echo "$line" >&2 ;; *) echo "hotline: $line" >&2 ;; esac
exit 1
