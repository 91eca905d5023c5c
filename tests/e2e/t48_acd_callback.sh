#!/usr/bin/env bash
# t48_acd_callback — an agent's own phone dials (issue 8, items 2 and 5, the third "done
# when": callback, and a refused callback to a forbidden number), end to end over loopback
# with the shipped scripts/ (agent_phone.lua) and a copy of rules/ whose callback gateway
# (agent_codes.lua callback_uri, trunks.lua's pstn-gateway) is a phone on loopback: agent
# 4321's phone (agent_actions.py: registers, dials, its INVITEs answer the engine's digest
# challenge) dials one after the other, each call ended by the engine:
#  - the feature codes of rules/agent_codes.lua: ready (*21), not ready with reason digit 2
#    (*222: reasons["2"], lunch), log out (*23), ready again — `ctl agents --json` (the
#    watch) shows each state and the reason, and each call's CDR route agent-state:...;
#  - a callback to a Jilin number (within dial rule "callback" of rules/trunks.lua): the
#    gateway (agent_phone.py answering) is INVITEd for that number with From callback_from
#    (12333, the hotline, not the desk); the agent and the callee hear each other byte for
#    byte; the call is recorded (both CDR legs name the file, on disk); route callback:N;
#  - a callback to a number abroad (00...): refused by the dial rule — nothing reaches the
#    gateway, the agent hears callback_refused (its bytes), route callback-failed:N:403, the
#    refusal logged with the rule.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
. "$(dirname "$0")/acd_actions_lib.sh"
acd_rules_copy
GW_IP=127.0.0.50
C=$IVR_RULES/agent_codes.lua
grep -q '^  callback_uri = "sip:%s@pstn-gateway.12333.jl.invalid",' "$C" || fail "agent_codes.lua: callback_uri changed format"
sed -i "s|^  callback_uri = \"sip:%s@pstn-gateway.12333.jl.invalid\",|  callback_uri = \"sip:%s@$GW_IP:$AUX_PORT\",|" "$C"
grep -q '^      hosts = { "pstn-gateway.12333.jl.invalid" },' "$IVR_RULES/trunks.lua" || fail "trunks.lua: the pstn-gateway's hosts changed format"
sed -i "s|^      hosts = { \"pstn-gateway.12333.jl.invalid\" },|      hosts = { \"$GW_IP\" },|" "$IVR_RULES/trunks.lua"
code() { sed -nE "s/^ *$1 = \"([^\"]+)\",.*/\1/p" "$C" | head -n 1; }
READY=$(code ready) NOT_READY=$(code not_ready) LOGOUT=$(code logout) FROM=$(code callback_from)
LUNCH=$(sed -nE 's/^ *reasons = \{.*\["([0-9])"\] = "lunch".*/\1/p' "$C")
[ -n "$READY" ] && [ -n "$NOT_READY" ] && [ -n "$LOGOUT" ] && [ -n "$FROM" ] && [ -n "$LUNCH" ] ||
  fail "cannot read the codes from agent_codes.lua"
start_ivr "$ACD_CLOCK"
"$PY" "$E2E/mkaudio.py" stream "$WORK/agent.ulaw" 40 pcmu 23 || fail "mkaudio.py stream failed"
"$PY" "$E2E/mkaudio.py" stream "$WORK/callee.ulaw" 40 pcmu 31 || fail "mkaudio.py stream failed"
AGENT=4321 PW=t48-secret-4321 GOOD=043288885678 BAD=00441632960000
acd_agent "$AGENT" 0432 "$PW" general
acd_watch
# the gateway: a phone that answers, talks, hangs up after 4 s (agent_actions.py: it flushes
# what it records as it goes; its REGISTER, refused, changes nothing)
"$PY" "$E2E/agent_actions.py" --engine "127.0.0.1:$SIP_PORT" --bind "$GW_IP:$AUX_PORT" --user gateway --password - \
  --answer-after 300 --send "$WORK/callee.ulaw" --record "$WORK/gw.rtp.jsonl" --at 4000:bye --duration 80 \
  > "$WORK/gw.jsonl" 2> "$WORK/gw.err" &
BG_PIDS+=("$!")
DIALS="$READY,$NOT_READY$LUNCH,$LOGOUT,$READY,$GOOD,$BAD"
acd_dialer phone "$AGENT" "$PW" 127.0.0.21 "$DIALS" --send "$WORK/agent.ulaw" --dial-gap 1200 --duration 60
for ((i = 0; i < 600; i++)); do
  [ "$(phone_events phone dialled | grep -c '"stage": "final"')" -ge 6 ] && break
  sleep 0.1
done
sleep 2
[ "$(phone_events phone dialled | grep -c '"stage": "final"')" -ge 6 ] || fail "the phone did not place its six calls: $(cat "$WORK/phone.jsonl") $(cat "$WORK/phone.err")"
phone_events phone dialled | grep -q '"code": 401' || fail "the agent's INVITEs were not challenged"
bad=$(phone_events phone dialled | grep '"stage": "final"' | grep -vc '"code": 200')
[ "$bad" = 0 ] || fail "$bad of the agent's calls were not answered 200: $(phone_events phone dialled)"

# the states, in order, with the reason
seq=$("$PY" -c 'import json,sys
print(" ".join(j["state"] + ("(" + j["reason"] + ")" if j.get("reason") else "")
               for j in map(json.loads, open(sys.argv[1])) if j["number"] == sys.argv[2]))' "$WORK/states.jsonl" "$AGENT")
echo "$seq" | grep -qE "ready not-ready\(lunch\) logged-out ready" || fail "agent $AGENT went through '$seq'"
for r in ready not-ready logged-out; do
  cdr_check --where caller="$AGENT" --where "route=agent-state:$r" > /dev/null 2>&1 || fail "no CDR with route agent-state:$r"
done
say "feature codes $READY, $NOT_READY$LUNCH, $LOGOUT, $READY: $seq; each call's route agent-state:..."

# the callback
inv=$(phone_events gw invite)
[ "$(echo "$inv" | grep -c .)" = 1 ] || fail "the gateway got $(echo "$inv" | grep -c .) INVITEs, not one: $inv"
to=$(echo "$inv" | jget "d['from_user']")
[ "$to" = "$FROM" ] || fail "the callback's From is '$to', not callback_from $FROM ($inv)"
grep -q "INVITE sip:$GOOD@$GW_IP:$AUX_PORT" "$ENGINE_LOG" || fail "the engine's log has no INVITE to $GOOD at the gateway"
n_cb=$(phone_events phone answered | sed -n 5p | jget "d['n']")
"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    if json.loads(l)["call"] == int(sys.argv[2]): sys.stdout.write(l)' "$WORK/phone.rtp.jsonl" "$n_cb" > "$WORK/phone.cb.jsonl"
"$PY" "$E2E/checkstream.py" "$WORK/gw.rtp.jsonl" "$WORK/agent.ulaw" 2.5 > "$WORK/cb1.check" || fail "agent -> callee: $(cat "$WORK/cb1.check")"
"$PY" "$E2E/checkstream.py" "$WORK/phone.cb.jsonl" "$WORK/callee.ulaw" 2.5 > "$WORK/cb2.check" || fail "callee -> agent: $(cat "$WORK/cb2.check")"
cdr_check --where caller="$AGENT" --where "route=callback:$GOOD" 'recording?' --legs 2 > "$WORK/cb.cdr" 2>&1 || { cat "$WORK/cb.cdr"; fail "the callback's CDR"; }
REC=$(cdr_check --where caller="$AGENT" --where "route=callback:$GOOD" --get recording 2> /dev/null)
CB_ID=$(cdr_check --where caller="$AGENT" --where "route=callback:$GOOD" --get call_id 2> /dev/null)
cdr_check --where "call_id=$CB_ID" --where leg_index=1 "called=$GOOD" "recording=$REC" > "$WORK/cb1.cdr" 2>&1 || { cat "$WORK/cb1.cdr"; fail "the callback's gateway leg CDR"; }
[ -s "$DATA/recordings/$REC" ] || fail "the callback's recording $REC is not on disk"
"$PY" "$E2E/checkmix.py" "$DATA/recordings/$REC" "$WORK/agent.ulaw.wav" "$WORK/callee.ulaw.wav" 2 > "$WORK/cbmix.check" ||
  fail "the callback's recording: $(cat "$WORK/cbmix.check")"
say "callback $GOOD: the gateway got one INVITE, From $FROM; agent -> callee $(cut -c1-60 < "$WORK/cb1.check"); callee -> agent $(cut -c1-60 < "$WORK/cb2.check"); recording $REC holds both"

# the forbidden callback
cdr_check --where caller="$AGENT" --where "route=callback-failed:$BAD:403" --legs 1 > "$WORK/bad.cdr" 2>&1 || { cat "$WORK/bad.cdr"; fail "the refused callback's CDR"; }
grep -q "refused sip:$BAD@$GW_IP:$AUX_PORT (purpose callback" "$ENGINE_LOG" || fail "the refusal is not logged with its rule"
n_bad=$(phone_events phone answered | sed -n 6p | jget "d['n']")
"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    if json.loads(l)["call"] == int(sys.argv[2]): sys.stdout.write(l)' "$WORK/phone.rtp.jsonl" "$n_bad" > "$WORK/phone.bad.jsonl"
"$PY" "$E2E/checkprompt.py" "$WORK/phone.bad.jsonl" "$PROMPTS/callback_refused.wav" 30 55 > "$WORK/refused.check" ||
  fail "the agent did not hear callback_refused: $(cat "$WORK/refused.check")"
say "callback $BAD: refused 403 by the dial rule (logged), nothing dialled, the agent heard callback_refused"
pass "feature codes set ready / not-ready(lunch) / logged-out; a callback reaches the gateway From $FROM, both ways, recorded; one abroad is refused"
