#!/bin/bash
# sipscen.sh — runs the SIPp scenarios tests/sip/*.xml against sipecho, over UDP and TCP,
# plus SIPp's built-in UAC (a few calls), and prints "N passed, M failed".
#   tests/tools/sipscen.sh [SIPECHO]      (default build/tests/sipecho)
# Loopback only; every SIPp run is bounded by -m, -timeout and timeout(1).
set -uo pipefail
cd "$(dirname "$0")/../.."
ECHO=${1:-build/tests/sipecho}
PORT=${SIPSCEN_PORT:-15160}
SIPP_PORT=${SIPSCEN_SIPP_PORT:-15170}
OUT=$(mktemp -d /tmp/sipscen.XXXXXX)
pass=0; fail=0

# run NAME TRANSPORT SIPECHO_FLAGS SIPP_ARGS...
run() {
    local name=$1 tr=$2 flags=$3; shift 3
    "$ECHO" -p "$PORT" $flags >"$OUT/echo-$name-$tr.log" 2>&1 &
    local epid=$!
    sleep 0.3
    if timeout 90 sipp "127.0.0.1:$PORT" -p "$SIPP_PORT" -t "$tr" -m 1 -timeout 30s -nostdin "$@" \
            >/dev/null 2>"$OUT/sipp-$name-$tr.err" </dev/null; then
        pass=$((pass + 1)); echo "ok   $name ($tr)"
    else
        fail=$((fail + 1)); echo "FAIL $name ($tr)"; tail -5 "$OUT/sipp-$name-$tr.err"
    fi
    kill -TERM "$epid" 2>/dev/null; wait "$epid" 2>/dev/null
}

for tr in u1 t1; do
    run cancel    "$tr" "-g 2000" -sf tests/sip/cancel.xml
    run errors    "$tr" ""        -sf tests/sip/errors.xml
    run hold      "$tr" ""        -sf tests/sip/hold.xml
    # over TCP a message without its blank line is never complete (it waits for more bytes,
    # then the connection is dropped at the size limit): malformed.xml is for UDP
    [ "$tr" = u1 ] && run malformed "$tr" "-m 4096" -sf tests/sip/malformed.xml
    run uac       "$tr" ""        -sn uac -m 20 -r 10
done
rm -rf "$OUT"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
