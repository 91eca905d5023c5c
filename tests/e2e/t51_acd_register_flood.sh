#!/usr/bin/env bash
# t51_acd_register_flood — a REGISTER flood while an agent talks (issue 8, "bad input"):
# from another address, wrong passwords for the talking agent's number and for numbers that
# are no account, as fast as the engine answers.  The talk goes on untouched (audio byte for
# byte both ways), the agent's states stay consistent (ready ringing talking wrap-up ready),
# the flood is refused (401, then 403 once locked out) and the lockouts show in ctl status,
# and the engine answers a new REGISTER of an unrelated agent afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
acd_rules_copy
acd_set wrapup_ms 2000
start_ivr "$ACD_CLOCK"
"$PY" "$E2E/mkaudio.py" stream "$WORK/caller.ulaw" 30 pcmu 11 || fail "mkaudio.py stream failed"
"$PY" "$E2E/mkaudio.py" stream "$WORK/agent.ulaw" 30 pcmu 23 || fail "mkaudio.py stream failed"
AGENT=4351 PW=t51-secret-4351 CALLER=043288881234 TALK_MS=9000
acd_agent "$AGENT" 0432 "$PW" general
acd_agent 4352 0432 t51-other-4352 general
acd_phone phone "$AGENT" "$PW" 127.0.0.21 "$AUX_PORT" --answer-after 600 --send "$WORK/agent.ulaw" \
  --record "$WORK/phone.rtp.jsonl" --at "$TALK_MS:bye" --duration 90
acd_watch
acd_ready "$AGENT" phone

acd_call 0 caller "$CALLER" "$WORK/caller.ulaw" pause:1500 info:0 waitbye:50000; p=$!
wait_agent "$AGENT" state talking 30 || fail "agent $AGENT never talked: $(agent_field "$AGENT" state)"
(cd "$E2E" && "$PY" regflood.py 127.0.0.1 "$SIP_PORT" 127.0.0.40 "$AGENT,9999,8888" 4) > "$WORK/flood.out" 2>&1 ||
  fail "regflood.py: $(cat "$WORK/flood.out")"
say "flood: $(cat "$WORK/flood.out")"
ivr_wait caller "$p" || fail "$IVR_WHY"

# the flood got nothing: no 200; refused, then locked out (403)
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d["answers"]
sys.exit(0 if "200" not in a and a.get("403", 0) > 0 and d["sent"] > 50 else 1)' "$WORK/flood.out" ||
  fail "the flood was not refused and locked out: $(cat "$WORK/flood.out")"
ctl --json status > "$WORK/status.json" 2>&1 || fail "ctl status: $(cat "$WORK/status.json")"
grep -q '127.0.0.40' "$WORK/status.json" || fail "ctl status lists no lockout of the flooding source"

# the talk was untouched
"$PY" "$E2E/checkstream.py" "$WORK/phone.rtp.jsonl" "$WORK/caller.ulaw" 3 > "$WORK/to_agent.check" ||
  fail "the caller's audio at the agent's phone during the flood: $(cat "$WORK/to_agent.check")"
"$PY" "$E2E/checkstream.py" "$WORK/caller.rtp.jsonl" "$WORK/agent.ulaw" 3 > "$WORK/to_caller.check" ||
  fail "the agent's audio at the caller during the flood: $(cat "$WORK/to_caller.check")"
wait_agent "$AGENT" state ready 10 || fail "agent $AGENT is $(agent_field "$AGENT" state) after the call, not ready"
sleep 0.3
seq=$(states_of "$AGENT")
echo "$seq" | grep -qE 'ready (reserved )?ringing talking wrap-up ready$' ||
  fail "agent $AGENT went through '$seq' during the flood"
cdr_check --where "$(where_call caller)" queue_outcome=answered agent="$AGENT" > "$WORK/cdr.check" 2>&1 ||
  { cat "$WORK/cdr.check"; fail "the caller's CDR"; }

# the registrar still serves others
"$PY" "$E2E/register.py" 127.0.0.1 "$SIP_PORT" 127.0.0.22 "$((AUX_PORT + 10))" 4352 t51-other-4352 300 \
  > "$WORK/reg.out" 2>&1 || true
grep -q '"code": 200' "$WORK/reg.out" || fail "agent 4352 could not register after the flood: $(cat "$WORK/reg.out")"
pass "REGISTER flood during a talk: $(cut -c1-120 "$WORK/flood.out"); the talk's audio intact both ways; $AGENT: $seq; another agent registers after"
