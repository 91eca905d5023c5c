#!/usr/bin/env bash
# run-all.sh — every test of `make test`, in order, with one closing count.
# Each stage prints its own "N passed, M failed"; the sum is the last line.
set -u
cd "$(dirname "$0")/.."
total_p=0; total_f=0; failed_stages=()

stage() {  # stage NAME COMMAND...
  local name=$1; shift
  echo "=== $name"
  local log; log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  rm -f "$log"
  if [ -n "$line" ]; then
    line=${line#*: }
    local p=${line%% passed*} f=${line#*passed, }; f=${f%% failed*}
    total_p=$((total_p + p)); total_f=$((total_f + f))
  fi
  if [ "$rc" -ne 0 ]; then
    failed_stages+=("$name")
    [ -z "$line" ] && total_f=$((total_f + 1))
  fi
}

stage layers make -s layers-test
stage unit   make -s unit-test
stage rules  make -s lua-test
stage api    make -s api-docs-test
stage fuzz   make -s fuzz-smoke
stage e2e    make -s e2e-test

echo
[ ${#failed_stages[@]} -gt 0 ] && echo "failed stages: ${failed_stages[*]}"
echo "total: $total_p passed, $total_f failed"
[ ${#failed_stages[@]} -eq 0 ] && [ "$total_f" -eq 0 ]
