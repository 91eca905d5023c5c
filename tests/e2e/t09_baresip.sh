#!/usr/bin/env bash
# t09_baresip — a real softphone: baresip (driven over ctrl_tcp by baresip_call.py) calls
# the engine on loopback, sends the keys 1 5 # as RFC 4733 with sndcode, and the script
# must take the keys-15 route and hang up; the CDR shows the keys and the route.
. "$(dirname "$0")/lib.sh"
command -v baresip > /dev/null || fail "baresip is not installed"
start_engine
"$PY" "$E2E/mkaudio.py" stream "$WORK/talk.ulaw" 10 pcmu || fail "mkaudio.py stream failed"
out=$(timeout 60 "$PY" "$E2E/baresip_call.py" --dir "$WORK/baresip" --sip-port "$AUX_PORT" \
  --ctrl-port "$CTRL_PORT" --rtp-ports "$MEDIA2_PORT-$((MEDIA2_PORT + 3))" \
  --target "sip:dtmf@127.0.0.1:$SIP_PORT" --audio "$WORK/talk.ulaw.wav" --keys '15#' --timeout 20)
rc=$?
echo "$out" > "$WORK/baresip_call.out"
if [ "$rc" -ne 0 ]; then
  echo "$out" | tail -n 15 | sed 's/^/  | /'
  [ -f "$WORK/baresip/baresip.log" ] && tail -n 15 "$WORK/baresip/baresip.log" | sed 's/^/  b| /'
  fail "$(echo "$out" | tail -n 1)"
fi
cdr_check --where called=dtmf --where caller=e2e 'dtmf~^15#?$' route=keys-15 hangup_side=engine ||
  fail "CDR of baresip's call"
pass "baresip's keys 1 5 # reached the script (route keys-15)"
