#!/usr/bin/env bash
# run-unit.sh BIN... — runs each unit-test binary and sums their "N passed, M failed" lines.
set -u
passed=0; failed=0; broken=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    printf '%s\n' "$out" | tail -n 20
    broken+=("$(basename "$t") (exit $rc, no summary)"); failed=$((failed + 1)); continue
  fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
    printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed' | tail -n 30
    broken+=("$(basename "$t")")
  fi
  printf 'unit %-24s %s\n' "$(basename "$t")" "$line"
done
[ ${#broken[@]} -gt 0 ] && echo "unit: failing: ${broken[*]}"
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
