#!/usr/bin/env bash
# bench/month.sh — `make bench` stage 5 (issue 9): a month's results for MONTH_AGENTS agents
# and MONTH_CDRS CDRs, computed by a running engine (`hotline ctl month compute`, on its
# worker thread) while a few calls play prompts; prints the time it took, its parts
# (rules/month.lua phases_ms) and the RTP send lateness of the calls' tick before and while
# it runs.  The rows are generated straight into the engine's database
# (tests/e2e/backoffice_rows.py: agents, shift plans, agent events, CDRs as the ACD writes them).
# A benchmark, not a test.  Run by bench/run.sh; alone: bash bench/month.sh.
set -u
cd "$(dirname "$0")/.."
BIN=build/hotline
MONTH=${MONTH:-2026-03}
MONTH_AGENTS=${MONTH_AGENTS:-500}
MONTH_CDRS=${MONTH_CDRS:-300000}
MONTH_CALLS=${MONTH_CALLS:-20}
SIP_PORT=${SIP_PORT:-15060}
SIPP_PORT=$((SIP_PORT + 1))
OUT=bench/out
mkdir -p "$OUT"
DATA=$(mktemp -d)
ENGINE_PID=""
SIPP_PID=""
cleanup() {
  [ -n "$SIPP_PID" ] && kill "$SIPP_PID" 2>/dev/null && wait "$SIPP_PID" 2>/dev/null
  [ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null
  rm -rf "$DATA"
}
trap cleanup EXIT

# the real scripts and rules: rules/month.lua and the rules it runs
"$BIN" run --sip 127.0.0.1:$SIP_PORT --rtp-ports 30000-40000 --data "$DATA" --scripts scripts --rules rules \
  --prompts build/prompts 2>> "$OUT/engine_month.log" &
ENGINE_PID=$!
for _ in $(seq 100); do "$BIN" ctl --data "$DATA" status > /dev/null 2>&1 && break; sleep 0.1; done
"$BIN" ctl --data "$DATA" status > /dev/null 2>&1 || { echo "   engine did not start; see $OUT/engine_month.log"; exit 1; }

lateness() {
  "$BIN" ctl --data "$DATA" --json status 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d.get("rtp_lateness_us",{}); print("p50 %.0f us, p99 %.0f us, max %.0f us (%s calls up, %s ticks skipped)" % (l.get("p50",0), l.get("p99",0), l.get("max",0), d.get("calls",0), d.get("rtp_ticks_skipped","?")))'
}

rows=$(python3 tests/e2e/backoffice_rows.py --db "$DATA/hotline.db" --month "$MONTH" --agents "$MONTH_AGENTS" --cdrs "$MONTH_CDRS")
echo "   rows: $rows"
sipp -sn uac -s 12333 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r 20 -m "$MONTH_CALLS" -l "$MONTH_CALLS" -d 30000 \
     -timeout 60s >/dev/null 2>"$OUT/sipp_month.err" </dev/null &
SIPP_PID=$!
sleep 3
"$BIN" ctl --data "$DATA" stats-reset > /dev/null
sleep 4
echo "   RTP lateness before, 4 s: $(lateness)"
"$BIN" ctl --data "$DATA" stats-reset > /dev/null
t0=$(date +%s.%N)
"$BIN" ctl --data "$DATA" --json month compute "$MONTH" > "$OUT/month.json" 2>&1
rc=$?
t1=$(date +%s.%N)
during=$(lateness)
python3 - "$OUT/month.json" "$rc" "$t0" "$t1" <<'PY'
import json, sys
path, rc, t0, t1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
try:
    d = json.load(open(path))
except Exception:
    print("   month compute failed (exit %d): %s" % (rc, open(path).read()[:300])); sys.exit(0)
if not d.get("ok"):
    print("   month compute failed: %s" % d.get("error")); sys.exit(0)
ph = d.get("phases_ms", {})
print("   month compute: %d sheets, %d attendance rows, %d agent legs, %d agent events in %.2f s "
      "(engine %d ms, of which %d ms CPU on its worker thread; %d rows written)" % (
          d["sheets"], d["attendance_rows"], d["calls"], d["events"], t1 - t0, d["ms"], d.get("cpu_ms", 0), d["writes"]))
print("   parts (ms): " + ", ".join("%s %d" % (k, ph[k]) for k in
      ("attendance_read", "attendance_rules", "attendance_write", "scoring_read", "scoring_rules", "scoring_write") if k in ph)
      + "; the rest: the policy build and the commit")
PY
echo "   RTP lateness while it ran: $during"
