#!/usr/bin/env bash
# t34_acd_call — a caller reaches an agent through the 12333 IVR's key 0 (issue 8, first
# "done when"), end to end over loopback, with the shipped scripts/ and a copy of rules/
# whose only change is a shorter wrap-up (queues.lua wrapup_ms; the check reads it back):
#  - agent 4321 of Jilin City (centre 0432, skill general) registers from agent_phone.py
#    (digest) and is set ready with `hotline ctl agent state`;
#  - a SIPp caller from a Jilin City number (043288881234) keys 0 by SIP INFO during the
#    welcome; its media is rtpsink.py, which sends a known PCMU stream (mkaudio.py, seed
#    11) and records what it hears; the agent's phone answers and sends a stream of its
#    own (seed 23), records what it hears, and hangs up after a few seconds of talk;
#  - checks: the agent's INVITE shows the caller's number (From and P-Asserted-Identity) and
#    X-Hotline-Route queue:0432.general, -Queue 0432.general, -Wait, -Call; the caller's
#    audio reaches the phone byte for byte and the agent's audio reaches the caller byte
#    for byte (both PCMU: the relay must not change a byte), each in order for >= 3 s; the
#    recording (the CDR's path under DATA/recordings/) holds both parties: its 20 ms
#    frames are the caller's frame plus the agent's (checkmix.py); the CDRs: caller leg
#    queue 0432.general, queue_outcome answered, queue_wait_ms > 0, agent 4321,
#    recording; agent leg agent 4321, ring_ms > 0, answered, hangup_first agent; `ctl agents
#    --json` shows the agent in wrap-up after the call, then ready after wrapup_ms.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
acd_rules_copy
acd_set wrapup_ms 3000                         # 15 s in the shipped rules: a shorter test
WRAPUP=$(acd_rule wrapup_ms)
start_ivr "$ACD_CLOCK"
"$PY" "$E2E/mkaudio.py" stream "$WORK/caller.ulaw" 30 pcmu 11 || fail "mkaudio.py stream failed"
"$PY" "$E2E/mkaudio.py" stream "$WORK/agent.ulaw" 30 pcmu 23 || fail "mkaudio.py stream failed"
AGENT=4321 PW=t34-secret-4321 CALLER=043288881234 QUEUE=0432.general TALK_MS=7000
acd_agent "$AGENT" 0432 "$PW" general
acd_phone phone "$AGENT" "$PW" 127.0.0.21 "$AUX_PORT" --answer-after 600 --send "$WORK/agent.ulaw" \
  --record "$WORK/phone.rtp.jsonl" --at "$TALK_MS:bye" --duration 90
acd_watch
acd_ready "$AGENT" phone

acd_call 0 caller "$CALLER" "$WORK/caller.ulaw" pause:1500 info:0 waitbye:50000; p=$!
ivr_wait caller "$p" || fail "$IVR_WHY"

# the INVITE the phone got
inv=$(phone_events phone invite | head -n 1)
[ -n "$inv" ] || fail "the agent's phone was never rung: $(cat "$WORK/phone.jsonl")"
for kv in from_user="$CALLER" pai_user="$CALLER" x-hotline-route="queue:$QUEUE" x-hotline-queue="$QUEUE"; do
  got=$(echo "$inv" | jget "d['${kv%%=*}']")
  [ "$got" = "${kv#*=}" ] || fail "the agent's INVITE: ${kv%%=*} is '$got', not '${kv#*=}' ($inv)"
done
echo "$inv" | jget "d['x-hotline-wait']" | grep -qE '^[0-9]+$' || fail "no X-Hotline-Wait in $inv"
[ -n "$(echo "$inv" | jget "d['x-hotline-call']")" ] || fail "no X-Hotline-Call in $inv"
phone_events phone bye | grep -q '"by": "phone"' || fail "the phone did not end the call: $(cat "$WORK/phone.jsonl")"
say "the agent's INVITE: From and PAI $CALLER, X-Hotline-Route queue:$QUEUE, Queue, Wait, Call"

# the audio both ways
"$PY" "$E2E/checkstream.py" "$WORK/phone.rtp.jsonl" "$WORK/caller.ulaw" 3 > "$WORK/to_agent.check" ||
  fail "the caller's audio at the agent's phone: $(cat "$WORK/to_agent.check")"
"$PY" "$E2E/checkstream.py" "$WORK/caller.rtp.jsonl" "$WORK/agent.ulaw" 3 > "$WORK/to_caller.check" ||
  fail "the agent's audio at the caller: $(cat "$WORK/to_caller.check")"
say "caller -> agent: $(cat "$WORK/to_agent.check")"
say "agent -> caller: $(cat "$WORK/to_caller.check")"

# the CDRs
W="$(where_call caller)"
cdr_check --where "$W" route="queue:$QUEUE" queue="$QUEUE" queue_outcome=answered 'queue_wait_ms>0' \
  agent="$AGENT" hangup_first=agent 'recording?' --legs 2 > "$WORK/cdr0.check" 2>&1 || { cat "$WORK/cdr0.check"; fail "the caller's CDR"; }
REC=$(cdr_check --where "$W" --get recording 2> /dev/null)
CALL_ID=$(cdr_check --where "$W" --get call_id 2> /dev/null)
cdr_check --where "call_id=$CALL_ID" --where leg_index=1 agent="$AGENT" 'ring_ms>0' 'answer_epoch>0' \
  direction=outbound hangup_first=agent called="$AGENT" "recording=$REC" > "$WORK/cdr1.check" 2>&1 ||
  { cat "$WORK/cdr1.check"; fail "the agent leg's CDR"; }
say "CDRs: caller leg queue $QUEUE answered after $(cdr_check --where "$W" --get queue_wait_ms) ms by $AGENT; agent leg ring $(cdr_check --where "call_id=$CALL_ID" --where leg_index=1 --get ring_ms) ms"

# the recording holds both parties
[ -f "$DATA/recordings/$REC" ] || fail "no recording at DATA/recordings/$REC"
"$PY" "$E2E/checkmix.py" "$DATA/recordings/$REC" "$WORK/caller.ulaw.wav" "$WORK/agent.ulaw.wav" 2 \
  > "$WORK/mix.check" || fail "the recording: $(cat "$WORK/mix.check")"
say "recording: $(cat "$WORK/mix.check")"

# wrap-up, then ready (the watch saw every state)
wait_agent "$AGENT" state ready $((WRAPUP / 1000 + 5)) || fail "agent $AGENT is $(agent_field "$AGENT" state) well after wrapup_ms, not ready"
sleep 0.3
seq=$(states_of "$AGENT")
echo "$seq" | grep -qE 'ready (reserved )?ringing talking wrap-up ready$' ||
  fail "agent $AGENT went through '$seq', not ready ringing talking wrap-up ready"
span=$(state_span "$AGENT" wrap-up)
[ "$span" -ge $((WRAPUP - 300)) ] && [ "$span" -le $((WRAPUP + 1500)) ] ||
  fail "agent $AGENT's wrap-up lasted $span ms; wrapup_ms is $WRAPUP"
say "agent $AGENT: $seq; wrap-up $span ms (wrapup_ms $WRAPUP)"
sleep 0.3   # the CDR's wrap-up is written when the agent leaves it
cdr_check --where "call_id=$CALL_ID" --where leg_index=1 "wrapup_ms>=$((WRAPUP - 300))" \
  "wrapup_ms<=$((WRAPUP + 1500))" > "$WORK/cdr2.check" 2>&1 || { cat "$WORK/cdr2.check"; fail "the agent leg's CDR wrapup_ms"; }
pass "key 0 -> agent $AGENT of $QUEUE: caller's number and X-Hotline headers at the phone; audio byte-exact both ways; recording holds both; CDRs; wrap-up then ready"
