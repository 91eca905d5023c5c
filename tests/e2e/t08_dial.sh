#!/usr/bin/env bash
# t08_dial — an outbound leg: the script dials a SIPp UAS (its own port; its SDP sends the
# leg's RTP to rtpsink.py) and bridges the caller to it.  The caller streams a known PCMU
# signal for 3 s and hangs up.  The caller's audio must reach the far end through the
# bridge (at least 2 s of it, byte for byte, at ~50 packets/s), the engine must end the
# far leg with BYE, and the call's CDRs are 2 legs: the caller's (route bridged) and the
# outbound one.
. "$(dirname "$0")/lib.sh"
start_engine
"$PY" "$E2E/mkaudio.py" stream "$WORK/stream.ulaw" 6 pcmu || fail "mkaudio.py stream failed"
"$PY" "$E2E/rtpsink.py" "$SINK_PORT" "$WORK/sink.jsonl" 40 > "$WORK/sink.out" 2>&1 &
SINK_PID=$!; BG_PIDS+=("$SINK_PID")
sipp_uas_bg uas "$(scen uas_sink BYE_TIMEOUT=15000)" -key sink_port "$SINK_PORT"; UAS_PID=$!
for _ in $(seq 50); do grep -q ready "$WORK/sink.out" && break; sleep 0.1; done
sleep 0.2
media='<nop><action><exec rtp_stream="stream.ulaw,1,0,PCMU/8000"/></action></nop>'
run_sipp caller "$(scen uac_bye "MEDIA=$media")" "dial$SIPP2_PORT" -d 3000 ||
  fail "caller: $(sipp_why caller $?)"
wait "$UAS_PID"; rc=$?
[ "$rc" -eq 0 ] || fail "far end: $(sipp_why uas "$rc")"
stop_pid "$SINK_PID"
out=$("$PY" "$E2E/checkprompt.py" "$WORK/sink.jsonl" "$WORK/stream.ulaw.wav" 45 55 2.0) ||
  fail "the caller's audio at the far end: $out"
say "$out"
cdr_check --where "$(where_call caller)" --legs 2 route=bridged hangup_side=caller 'answer?' ||
  fail "CDR of the caller's leg"
cid=$(cdr_check --where "$(where_call caller)" --get call_id)
cdr_check --where "call_id=$cid" --where leg_index=1 direction=outbound hangup_side=engine 'answer?' \
  'rtp.sent>=100' || fail "CDR of the outbound leg"
pass "dialled and bridged: the caller's audio reached the far end; far leg got BYE; 2 CDR legs"
