#!/usr/bin/env bash
# run-all.sh — the end-to-end suite (`make e2e-test`): every tests/e2e/tNN_*.sh in order,
# each on its own ports and data dir, each bounded in time.  Prints each test's PASS/FAIL
# line and ends with "N passed, M failed"; exits non-zero when any test failed.
#
#   tests/e2e/run-all.sh              every test
#   tests/e2e/run-all.sh t03 t07      only those (by number or name prefix)
#   E2E_KEEP=1 tests/e2e/run-all.sh   keep every work dir (failing ones are always kept)
set -u
E2E=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E/../.." && pwd)
PER_TEST_TIMEOUT=${E2E_TEST_TIMEOUT:-120}   # seconds; the slowest test takes about 25

cd "$ROOT" || exit 1
tests=()
for t in "$E2E"/t[0-9][0-9]_*.sh; do
  name=$(basename "$t" .sh)
  if [ $# -gt 0 ]; then
    want=0
    for w in "$@"; do [[ $name == "$w"* ]] && want=1; done
    [ "$want" -eq 1 ] || continue
  fi
  tests+=("$t")
done

missing=()
for tool in sipp timeout; do command -v "$tool" > /dev/null || missing+=("$tool"); done
[ -x /usr/bin/python3 ] || command -v python3 > /dev/null || missing+=(python3)
[ -x "${HOTLINE:-$ROOT/build/hotline}" ] || missing+=("build/hotline (make build/hotline)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e: missing ${missing[*]}"
  echo "0 passed, ${#tests[@]} failed"
  exit 1
fi

E2E_CACHE=$(mktemp -d /tmp/hl-e2e-cache.XXXXXX)
export PYTHONDONTWRITEBYTECODE=1
export E2E_CACHE
trap 'rm -rf "$E2E_CACHE"' EXIT

passed=0; failed=0; failed_names=()
start=$(date +%s)
for t in "${tests[@]}"; do
  name=$(basename "$t" .sh)
  t0=$(date +%s)
  out=$(mktemp)
  timeout -k 5 "$PER_TEST_TIMEOUT" bash "$t" > "$out" 2>&1
  rc=$?
  cat "$out"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "FAIL $name: did not finish within ${PER_TEST_TIMEOUT} s"
  elif [ "$rc" -ne 0 ] && ! grep -q "^FAIL $name" "$out"; then
    echo "FAIL $name: exit $rc"
  fi
  rm -f "$out"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=("$name")
  fi
  echo "  ($name: $(($(date +%s) - t0)) s)"
done
echo
echo "e2e: ${#tests[@]} tests in $(($(date +%s) - start)) s${failed_names[*]:+; failed: ${failed_names[*]}}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
