#!/usr/bin/env bash
# t53_acd_vanish — an agent's phone that vanishes in the middle of a call (issue 8, "bad
# input": a phone that vanishes mid-call; the agent's state stays consistent, nothing
# crashes, the CDRs are written), end to end over loopback with the shipped scripts/ and a
# copy of rules/ whose engine.lua has a short rtp_timeout_ms and qualify (agent_qualify_s,
# agent_qualify_fails), and a short wrap-up; the checks take the values from that copy:
#  - agent 4321 answers a Jilin City caller who keyed 0; they talk; then the phone goes
#    silent (agent_actions.py vanish: no RTP, no answer to BYE, OPTIONS or anything, no
#    unregistering) — as a phone unplugged;
#  - the engine ends the agent's leg by its RTP timeout (about rtp_timeout_ms after the
#    last packet), the caller's call ends too (the caller gets a BYE, not silence for ever);
#    the CDRs: the agent leg hangup_cause rtp-timeout, the caller leg answered by 4321;
#  - the agent goes to wrap-up, and, its phone no longer answering OPTIONS, its registration
#    is removed after agent_qualify_fails rounds and the agent is logged out (`ctl agents`:
#    no contacts) — never stuck in talking; the engine is still up and answers ctl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
. "$(dirname "$0")/acd_actions_lib.sh"
acd_rules_copy
grep -qE '^  rtp_timeout_ms += [0-9]+,' "$IVR_RULES/engine.lua" || fail "rules/engine.lua: rtp_timeout_ms changed format"
sed -i -E 's/^(  rtp_timeout_ms += )[0-9]+,/\12000,/' "$IVR_RULES/engine.lua"
acd_engine_set agent_qualify_s 2
acd_engine_set agent_qualify_fails 3
acd_set wrapup_ms 2000
tune() { sed -nE "s/^ *$1 *= *([0-9]+).*/\1/p" "$IVR_RULES/engine.lua" | head -n 1; }
RTP_TIMEOUT=$(tune rtp_timeout_ms) QS=$(tune agent_qualify_s) QF=$(tune agent_qualify_fails) WRAPUP=$(acd_rule wrapup_ms)
[ -n "$RTP_TIMEOUT" ] && [ -n "$QS" ] && [ -n "$QF" ] || fail "cannot read the tunables back from engine.lua"
start_ivr "$ACD_CLOCK"
"$PY" "$E2E/mkaudio.py" stream "$WORK/caller.ulaw" 40 pcmu 11 || fail "mkaudio.py stream failed"
"$PY" "$E2E/mkaudio.py" stream "$WORK/agent.ulaw" 40 pcmu 23 || fail "mkaudio.py stream failed"
AGENT=4321 PW=t50-secret-4321 CALLER=043288881234
acd_agent "$AGENT" 0432 "$PW" general
"$PY" "$E2E/agent_actions.py" --engine "127.0.0.1:$SIP_PORT" --bind "127.0.0.21:$AUX_PORT" --user "$AGENT" --password "$PW" \
  --answer-after 400 --send "$WORK/agent.ulaw" --record "$WORK/phone.rtp.jsonl" --at 3000:vanish --duration 60 \
  > "$WORK/phone.jsonl" 2> "$WORK/phone.err" &
BG_PIDS+=("$!")
acd_watch
acd_ready "$AGENT" phone
acd_call 0 caller "$CALLER" "$WORK/caller.ulaw" pause:1500 info:0 waitbye:60000; p=$!
ivr_wait caller "$p" || fail "the caller was not ended with a BYE: $IVR_WHY"
t_gone=$(phone_events phone vanished | jget "d['t']")
[ -n "$t_gone" ] || fail "the phone never vanished: $(cat "$WORK/phone.jsonl")"
phone_events phone bye > /dev/null && fail "the vanished phone saw a BYE (it should not answer anything)"

# the CDRs
W="$(where_call caller)"
CALL_ID=$(cdr_check --where "$W" --get call_id 2> /dev/null) || fail "no CDR for the caller"
cdr_check --where "$W" queue_outcome=answered agent="$AGENT" hangup_side=engine --legs 2 > "$WORK/cdr0.check" 2>&1 ||
  { cat "$WORK/cdr0.check"; fail "the caller's CDR"; }
cdr_check --where "call_id=$CALL_ID" --where leg_index=1 agent="$AGENT" hangup_cause=rtp-timeout > "$WORK/cdr1.check" 2>&1 ||
  { cat "$WORK/cdr1.check"; fail "the agent leg's CDR"; }
end=$(cdr_check --where "call_id=$CALL_ID" --where leg_index=1 --get end_epoch 2> /dev/null)
ans=$(cdr_check --where "call_id=$CALL_ID" --where leg_index=1 --get answer_epoch 2> /dev/null)
# the engine's clock is --clock's: the talk's length compares (answer + 3 s, then the timeout)
talk_ms=$(echo "($end - $ans) * 1000 / 1" | bc)
[ "$talk_ms" -ge $((3000 + RTP_TIMEOUT - 300)) ] && [ "$talk_ms" -le $((3000 + RTP_TIMEOUT + 2500)) ] ||
  fail "the agent's leg lasted $talk_ms ms; it talked 3000 ms then vanished (rtp_timeout_ms $RTP_TIMEOUT)"
say "the agent's leg ended by the RTP timeout after $talk_ms ms (3000 ms of talk + rtp_timeout_ms $RTP_TIMEOUT); the caller got a BYE; both CDRs written"

# the agent: wrap-up, then logged out once qualify gives the phone up
wait_agent "$AGENT" state logged-out $((QS * (QF + 2) + WRAPUP / 1000 + 5)) ||
  fail "agent $AGENT is $(agent_field "$AGENT" state) long after its phone vanished, not logged-out"
[ "$(agent_field "$AGENT" contacts | tr -d '[] ')" = "" ] || fail "agent $AGENT still has contacts: $(agent_field "$AGENT" contacts)"
sleep 0.3
seq=$(states_of "$AGENT")
echo "$seq" | grep -qE 'ringing talking wrap-up (ready )?logged-out$' || fail "agent $AGENT went through '$seq'"
grep -qiE "qualify|OPTIONS" "$ENGINE_LOG" || fail "the removal of the registration is not logged"
engine_alive || fail "the engine died"
ctl status > /dev/null || fail "ctl status failed"
say "agent $AGENT: $seq; its registration removed after $QF unanswered qualify rounds of $QS s; the engine is up"
pass "a phone that vanishes mid-call: its leg ends by rtp_timeout_ms, the caller is hung up, CDRs written; the agent wraps up and is logged out by qualify"
