#!/usr/bin/env bash
# t42_events — the event stream (issue 10): `hotline ctl events --filter call` and GET
# /events (server-sent events) carry a SIPp call's events in order: call_start,
# call_answer, call_key 1, 5, # (SIP INFO), call_route keys-15, call_end.  A consumer that
# stops reading is cut off with a reason once it is events_buffer_bytes behind, while the
# engine goes on answering every call and the other consumer gets every event.  An agent's
# state changes (ctl agent state, its phone registered) reach `ctl events --filter agent`.
. "$(dirname "$0")/lib.sh"
HTTP_PORT=$CTRL_PORT
mkdir -p "$WORK/rules"
cat > "$WORK/rules/engine.lua" <<'EOF2'
return {
  events_buffer_bytes = 4096,            -- the smallest: a few calls overrun it
  agent_digest_algorithms = "MD5,SHA-256",  -- agentphone.py answers MD5
}
EOF2
start_engine --rules "$WORK/rules" --http "127.0.0.1:$HTTP_PORT"

ctl events --filter bogus > /dev/null 2> "$WORK/bogus.err" && fail "ctl events took an unknown kind"
grep -q "no event kind 'bogus'" "$WORK/bogus.err" || fail "unknown kind: $(cat "$WORK/bogus.err")"
st=$("$PY" "$E2E/promparse.py" "http://127.0.0.1:$HTTP_PORT/events?filter=bogus")
[ "$st" = 400 ] || fail "GET /events?filter=bogus: $st, expected 400"

ctl events --filter call > "$WORK/events.jsonl" 2> "$WORK/events.err" &
BG_PIDS+=("$!")
"$PY" "$E2E/events_client.py" sse "http://127.0.0.1:$HTTP_PORT/events?filter=call" "$WORK/sse.jsonl" 60 \
  > "$WORK/sse.out" 2>&1 &
BG_PIDS+=("$!")
for _ in $(seq 50); do grep -q ready "$WORK/sse.out" && break; sleep 0.1; done
grep -q ready "$WORK/sse.out" || fail "GET /events: $(cat "$WORK/sse.out")"
wait_for_log 'events: a consumer attached' 5 || fail "ctl events did not attach"

run_sipp info "$(scen uac_dtmf_info BYE_TIMEOUT=15000)" dtmf || say "SIPp: $(sipp_why info $?) (the events are what this test checks)"
callid=$(cdr_check --where "$(where_call info)" --get call_id) || fail "no CDR of the call"

order() {  # order FILE: the call's events as "kind[:key|route]" words
  "$PY" -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
evs = [e for e in evs if e.get("call_id") == sys.argv[2]]
seqs = [e["seq"] for e in evs]
assert seqs == sorted(seqs), "seq not rising"
print(" ".join(e["event"] + (":" + e["key"] if "key" in e else "") +
               (":" + e["route"] if e["event"] == "call_route" else "") for e in evs))' "$1" "$callid"
}
want="call_start call_answer call_key:1 call_key:5 call_key:# call_route:keys-15 call_end"
for _ in $(seq 30); do grep -q call_end "$WORK/sse.jsonl" 2>/dev/null && grep -q call_end "$WORK/events.jsonl" && break; sleep 0.1; done
got=$(order "$WORK/events.jsonl") || fail "ctl events: $got"
[ "$got" = "$want" ] || fail "ctl events: got '$got', expected '$want'"
got=$(order "$WORK/sse.jsonl") || fail "GET /events: $got"
[ "$got" = "$want" ] || fail "GET /events: got '$got', expected '$want'"
say "ctl events and GET /events: $got"

# a consumer that stops reading, while 40 calls come in
CALLS=40
"$PY" "$E2E/events_client.py" stall "$DATA/hotline.sock" 8 > "$WORK/stall.out" 2>&1 &
STALL=$!; BG_PIDS+=("$STALL")
for _ in $(seq 50); do grep -q ready "$WORK/stall.out" && break; sleep 0.1; done
(cd "$WORK" && timeout 60 sipp -sn uac -s wait 127.0.0.1:$SIP_PORT -i 127.0.0.1 -p "$SIPP_PORT" \
   -m $CALLS -r 20 -d 100 -nostdin -timeout 40s -timeout_error -trace_err -error_file "$WORK/load.err" \
   > "$WORK/load.out" 2>&1) || fail "SIPp while a consumer stalls: $(sipp_why load $?)"
wait "$STALL"
last=$(tail -n 1 "$WORK/stall.out")
echo "$last" | grep -q '"event":"cut_off"' || fail "the stalled consumer was not cut off: $last"
echo "$last" | grep -q 'events_buffer_bytes' || fail "the cut-off gives no reason: $last"
for _ in $(seq 30); do [ "$(grep -c '"call_end"' "$WORK/events.jsonl")" -ge $((CALLS + 1)) ] && break; sleep 0.1; done
ends=$(grep -c '"event":"call_end"' "$WORK/events.jsonl")
[ "$ends" -eq $((CALLS + 1)) ] || fail "the reading consumer got $ends call_end events, expected $((CALLS + 1))"
cut=$("$PY" "$E2E/promparse.py" "http://127.0.0.1:$HTTP_PORT/metrics" | "$PY" -c \
  'import json,sys; print(int(json.load(sys.stdin)["series"]["hotline_event_consumers_cut_total"]))')
[ "$cut" -eq 1 ] || fail "hotline_event_consumers_cut_total $cut, expected 1"
say "stalled consumer: $last"
# an agent's state changes: its phone registers, then ctl moves it
ctl events --filter agent > "$WORK/agent.jsonl" 2> "$WORK/agent.err" &
BG_PIDS+=("$!")
echo t42-pw-one | ctl agent add 1001 --centre 0431 > /dev/null || fail "agent add 1001"
"$PY" "$E2E/agentphone.py" 127.0.0.1 "$SIP_PORT" 127.0.0.1 "$AUX_PORT" 1001 t42-pw-one qualify 4 silent=0 \
  > "$WORK/phone.jsonl" 2>&1 &
BG_PIDS+=("$!")
for _ in $(seq 30); do [ "$(ctl --json agents | grep -c '"source"')" -ge 1 ] && break; sleep 0.1; done
ctl agent state 1001 ready > /dev/null || fail "agent state 1001 ready: $(ctl agent state 1001 ready 2>&1)"
ctl agent state 1001 not-ready lunch > /dev/null || fail "agent state 1001 not-ready"
for _ in $(seq 30); do grep -q '"not-ready"' "$WORK/agent.jsonl" && break; sleep 0.1; done
states=$("$PY" -c '
import json, sys
print(" ".join(e["prev"] + ">" + e["state"] for e in map(json.loads, open(sys.argv[1])) if e["agent"] == "1001"))' \
  "$WORK/agent.jsonl") || fail "agent events: $(cat "$WORK/agent.jsonl")"
echo "$states" | grep -q 'ready>not-ready' || fail "agent_state events: '$states'"
grep -qv '"event":"agent_state"' "$WORK/agent.jsonl" && fail "--filter agent let other kinds through"
say "agent 1001: $states"
stop_engine
pass "a call's events in order on both streams; a stalled consumer cut off with a reason, $CALLS calls answered meanwhile; agent states"
