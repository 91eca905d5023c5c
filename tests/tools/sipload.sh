#!/bin/bash
# sipload.sh — SIP stack load figures: SIPp's basic UAC (INVITE/200/ACK/BYE) against sipecho
# on loopback, reporting calls/s, failures, sipecho's CPU per call and its RSS.
#
#   tests/tools/sipload.sh [RATE] [CALLS] [SIPECHO] [TRANSPORT u1|t1]
#   e.g. tests/tools/sipload.sh 500 10000 build/tests/sipecho
# Loopback only; SIPp stops by itself after CALLS calls (and after -timeout at worst).
set -uo pipefail
RATE=${1:-300}
CALLS=${2:-6000}
ECHO=${3:-build/tests/sipecho}
TRANS=${4:-u1}
PORT=${SIPLOAD_PORT:-15060}
SIPP_PORT=${SIPLOAD_SIPP_PORT:-15070}
OUT=$(mktemp -d /tmp/sipload.XXXXXX)
HZ=$(getconf CLK_TCK)

"$ECHO" -p "$PORT" >"$OUT/echo.log" 2>&1 &
epid=$!
sleep 0.3
cpu() { awk '{print $14 + $15}' "/proc/$epid/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$epid/status"; }
rss0=$(rss); c0=$(cpu); t0=$(date +%s.%N)
# -l caps concurrent calls so a stalled server shows as failures, not unbounded memory
sipp -sn uac "127.0.0.1:$PORT" -p "$SIPP_PORT" -t "$TRANS" -r "$RATE" -m "$CALLS" -l 20000 \
     -timeout $((CALLS / RATE + 90))s -trace_stat -stf "$OUT/stat.csv" -fd 1 -nostdin \
     >/dev/null 2>"$OUT/sipp.err" </dev/null
c1=$(cpu); t1=$(date +%s.%N); rss1=$(rss)
sleep 1
kill -TERM "$epid"; wait "$epid"
last=$(tail -n 1 "$OUT/stat.csv")
# columns (SIPp 3.6): 16 SuccessfulCall(C), 18 FailedCall(C)
ok=$(echo "$last" | cut -d';' -f 16)
fail=$(echo "$last" | cut -d';' -f 18)
python3 - "$RATE" "$CALLS" "$ok" "$fail" "$c0" "$c1" "$t0" "$t1" "$HZ" "$rss0" "$rss1" "$TRANS" <<'EOF'
import sys
rate, calls, ok, fail, c0, c1, t0, t1, hz, r0, r1, tr = sys.argv[1:]
el = float(t1) - float(t0)
cpu = (float(c1) - float(c0)) / float(hz)
ok = int(ok or 0)
print(f"sipload: {tr} asked {rate}/s x {calls}: ok={ok} failed={fail} elapsed={el:.1f}s "
      f"achieved={ok/el:.0f} calls/s sipecho_cpu={100*cpu/el:.0f}% "
      f"cpu_per_call={1e6*cpu/max(ok,1):.0f}us rss_before={r0}kB rss_after={r1}kB")
EOF
tail -n 2 "$OUT/echo.log"
rm -rf "$OUT"
