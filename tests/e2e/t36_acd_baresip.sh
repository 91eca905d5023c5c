#!/usr/bin/env bash
# t36_acd_baresip — a real softphone as the agent's phone (issue 8, first "done when": "in
# one test, baresip"), with the shipped scripts/ and a copy of rules/ whose engine.lua
# challenges agents with MD5 only (what baresip 1.0 answers):
#  - agent 4391 of Jilin City (0432) is baresip (baresip_call.py --agent: its account
#    registers with digest, answermode=auto, aufile plays the agent's stream (mkaudio.py,
#    seed 23), the sndfile module writes what it hears to dump-*-dec.wav), set ready with
#    `hotline ctl agent state`;
#  - a SIPp caller from 043288884391 keys 0 by SIP INFO; its media is rtpsink.py, sending a
#    known PCMU stream (seed 11) and recording what it hears; baresip answers, hangs up
#    after a few seconds of talk;
#  - checks: baresip heard the caller's audio (its dump-*-dec.wav holds the caller's samples
#    in order, checkrec.py), the caller heard baresip's byte for byte (baresip re-encodes
#    the decoded samples of the agent's stream: the same bytes; checkstream.py); the CDRs: caller leg queue
#    0432.general answered by 4391 with a recording, agent leg ring_ms > 0, hangup_first
#    agent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
command -v baresip > /dev/null || fail "baresip is not installed"
# baresip 1.0 answers only MD5 challenges and gives up on SHA-256 ("Register: Function not
# implemented"): its centre would set agent_digest_algorithms "MD5" (rules/engine.lua)
acd_rules_copy
acd_engine_set agent_digest_algorithms '"MD5"'
start_ivr "$ACD_CLOCK"
"$PY" "$E2E/mkaudio.py" stream "$WORK/caller.ulaw" 40 pcmu 11 || fail "mkaudio.py stream failed"
"$PY" "$E2E/mkaudio.py" stream "$WORK/agent.ulaw" 40 pcmu 23 || fail "mkaudio.py stream failed"
AGENT=4391 PW=t36-secret-4391 CALLER=043288884391 QUEUE=0432.general TALK_S=6
acd_agent "$AGENT" 0432 "$PW" general
"$PY" "$E2E/baresip_call.py" --dir "$WORK/baresip" --sip-port "$AUX_PORT" --ctrl-port "$CTRL_PORT" \
  --rtp-ports "$MEDIA2_PORT-$((MEDIA2_PORT + 3))" --agent "$AGENT:$PW" --registrar "127.0.0.1:$SIP_PORT" \
  --audio "$WORK/agent.ulaw.wav" --hangup-after "$TALK_S" --timeout 50 > "$WORK/baresip.out" 2>&1 &
BARESIP=$!; BG_PIDS+=("$BARESIP")
wait_registered "$AGENT" 10 || fail "baresip did not register as $AGENT: $(tail -n 5 "$WORK/baresip.out")"
ctl agent state "$AGENT" ready > /dev/null || fail "ctl agent state $AGENT ready failed"
wait_agent "$AGENT" state ready 3 || fail "agent $AGENT is $(agent_field "$AGENT" state), not ready"

acd_call 0 caller "$CALLER" "$WORK/caller.ulaw" pause:1500 info:0 waitbye:50000; p=$!
ivr_wait caller "$p" || fail "$IVR_WHY"
wait "$BARESIP" || { tail -n 20 "$WORK/baresip/baresip.log" | sed 's/^/  b| /'; fail "baresip: $(tail -n 1 "$WORK/baresip.out")"; }

# the audio: the caller's at baresip, baresip's at the caller
HEARD=$(ls "$WORK"/baresip/dump-*-dec.wav 2> /dev/null | head -n 1)
[ -s "$HEARD" ] || fail "baresip's sndfile module wrote no dump-*-dec.wav"
"$PY" "$E2E/checkrec.py" "$HEARD" "$WORK/caller.ulaw.wav" 3 > "$WORK/at_baresip.check" ||
  fail "the caller's audio at baresip: $(cat "$WORK/at_baresip.check")"
say "caller -> baresip: $(cat "$WORK/at_baresip.check")"
"$PY" "$E2E/checkstream.py" "$WORK/caller.rtp.jsonl" "$WORK/agent.ulaw" 3 > "$WORK/to_caller.check" ||
  fail "baresip's audio at the caller: $(cat "$WORK/to_caller.check")"
say "baresip -> caller: $(cat "$WORK/to_caller.check")"

# the CDRs
W="$(where_call caller)"
cdr_check --where "$W" route="queue:$QUEUE" queue="$QUEUE" queue_outcome=answered 'queue_wait_ms>0' \
  agent="$AGENT" hangup_first=agent 'recording?' --legs 2 > "$WORK/cdr0.check" 2>&1 ||
  { cat "$WORK/cdr0.check"; fail "the caller's CDR"; }
CALL_ID=$(cdr_check --where "$W" --get call_id 2> /dev/null)
cdr_check --where "call_id=$CALL_ID" --where leg_index=1 agent="$AGENT" 'ring_ms>0' 'answer_epoch>0' \
  direction=outbound hangup_side=callee hangup_first=agent > "$WORK/cdr1.check" 2>&1 ||
  { cat "$WORK/cdr1.check"; fail "the agent leg's CDR"; }
pass "key 0 -> baresip as agent $AGENT: audio both ways, CDRs (queue $QUEUE answered, ring time, agent hung up first)"
