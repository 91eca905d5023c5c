#!/usr/bin/env bash
# run-all.sh — the end-to-end suite (`make e2e-test`): every tests/e2e/tNN_*.sh, each on its
# own ports and data dir, each bounded in time, E2E_JOBS (default 2) at a time except those
# that measure time (E2E_ALONE), which run one by one at the end.  Prints each test's PASS/FAIL
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

passed=0; failed=0; failed_names=()
start=$(date +%s)
RESULTS=$(mktemp -d /tmp/hl-e2e-results.XXXXXX)
trap 'rm -rf "$E2E_CACHE" "$RESULTS"' EXIT

# run_one TEST: runs it bounded in time, its output and "rc seconds" into $RESULTS.
run_one() {
  local t=$1 name t0 rc
  name=$(basename "$t" .sh)
  t0=$(date +%s)
  timeout -k 5 "$PER_TEST_TIMEOUT" bash "$t" > "$RESULTS/$name.out" 2>&1
  rc=$?
  echo "$rc $(($(date +%s) - t0))" > "$RESULTS/$name.rc"
}

# report TEST: its output and verdict, in the order the tests finished.
report() {
  local name rc secs
  name=$(basename "$1" .sh)
  read -r rc secs < "$RESULTS/$name.rc"
  cat "$RESULTS/$name.out"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "FAIL $name: did not finish within ${PER_TEST_TIMEOUT} s"
  elif [ "$rc" -ne 0 ] && ! grep -q "^FAIL $name" "$RESULTS/$name.out"; then
    echo "FAIL $name: exit $rc"
  fi
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=("$name")
  fi
  echo "  ($name: $secs s)"
}

# Tests that measure time (packet pacing, latency under a flood, a crash's timing) run alone,
# after the others; the others run E2E_JOBS at a time (each picks free ports of its own),
# since most of their time is waiting for prompts, rings and timeouts.
ALONE=" ${E2E_ALONE:-t01_prompt t08_dial t15_hostile_scripts t16_rtp_latch t17_sip_edge t22_crash} "
JOBS=${E2E_JOBS:-2}
pool=() alone=()
for t in "${tests[@]}"; do
  if [[ $ALONE == *" $(basename "$t" .sh) "* ]]; then alone+=("$t"); else pool+=("$t"); fi
done
declare -A running=()
for t in "${pool[@]}"; do
  while [ "${#running[@]}" -ge "$JOBS" ]; do
    wait -n 2> /dev/null
    for pid in "${!running[@]}"; do
      kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null; report "${running[$pid]}"; unset "running[$pid]"; }
    done
  done
  run_one "$t" &
  running[$!]=$t
done
for pid in "${!running[@]}"; do wait "$pid" 2> /dev/null; report "${running[$pid]}"; done
for t in "${alone[@]}"; do run_one "$t"; report "$t"; done
echo
echo "e2e: ${#tests[@]} tests in $(($(date +%s) - start)) s${failed_names[*]:+; failed: ${failed_names[*]}}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
