#!/usr/bin/env bash
# t52_acd_ctl — a supervisor's two ctl commands on a talk (issue 8 item 5: "by ctl"):
#   `hotline ctl monitor SUP AGENT listen`: the engine rings the supervisor's phone and joins
#     it to the agent's talk — it hears the talk, nobody hears it (the caller and the agent
#     keep getting each other's audio byte for byte although the supervisor sends its own);
#   a non-supervisor asked to monitor is refused (its phone is never rung);
#   `hotline ctl transfer CALL AGENT_B`: a blind transfer as the agent's keys would do it —
#     A's leg ends (A to wrap-up), B's phone rings and the caller then hears B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
acd_rules_copy
acd_set wrapup_ms 2000
start_ivr "$ACD_CLOCK"
for who in caller a b sup; do
  seed=$(( ${#who} * 7 + 3 ))
  "$PY" "$E2E/mkaudio.py" stream "$WORK/$who.ulaw" 40 pcmu $seed || fail "mkaudio.py stream failed"
done
A=4361 B=4362 S=4369 CALLER=043288881234
acd_agent "$A" 0432 pw-4361-t52 general
acd_agent "$B" 0432 pw-4362-t52 general
echo pw-4369-t52 | ctl agent add "$S" --centre 0432 --role supervisor > /dev/null || fail "ctl agent add $S"
acd_phone pa "$A" pw-4361-t52 127.0.0.21 "$AUX_PORT" --answer-after 400 --send "$WORK/a.ulaw" \
  --record "$WORK/pa.rtp.jsonl" --duration 90
acd_phone pb "$B" pw-4362-t52 127.0.0.22 "$((AUX_PORT + 10))" --answer-after 400 --send "$WORK/b.ulaw" \
  --record "$WORK/pb.rtp.jsonl" --duration 90
acd_phone ps "$S" pw-4369-t52 127.0.0.23 "$((AUX_PORT + 20))" --answer-after 300 --send "$WORK/sup.ulaw" \
  --record "$WORK/ps.rtp.jsonl" --at 6000:bye --duration 90
for n in $A $B $S; do wait_registered "$n" 5 || fail "agent $n's phone did not register"; done
ctl agent state "$A" ready > /dev/null || fail "ctl agent state $A ready"
wait_agent "$A" state ready 3 || fail "agent $A not ready"

acd_call 0 caller "$CALLER" "$WORK/caller.ulaw" pause:1500 info:0 waitbye:60000; p=$!
wait_agent "$A" state talking 30 || fail "agent $A never talked: $(agent_field "$A" state)"
CALL_ID=$(agent_field "$A" call_id)
[ -n "$CALL_ID" ] || fail "ctl agents shows no call for $A"
ctl agent state "$B" ready > /dev/null || fail "ctl agent state $B ready"
sleep 2

# a non-supervisor may not monitor: nothing rings
ctl monitor "$B" "$A" listen > /dev/null 2>&1 || true
sleep 1
[ -z "$(phone_events pb invite)" ] || fail "agent $B, not a supervisor, was rung to monitor"

# the supervisor listens for 6 s (its phone hangs up then)
ctl monitor "$S" "$A" listen > "$WORK/monitor.out" 2>&1 || fail "ctl monitor: $(cat "$WORK/monitor.out")"
for _ in $(seq 50); do phone_events ps bye > /dev/null && break; sleep 0.2; done
phone_events ps answered > /dev/null || fail "the supervisor's phone was not rung: $(cat "$WORK/ps.jsonl")"
"$PY" - "$WORK/ps.rtp.jsonl" "$E2E" <<'PY' || fail "the supervisor heard nothing of the talk"
import json, sys
sys.path.insert(0, sys.argv[2])
from e2elib import decode
loud = 0
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j["pt"] in (0, 8) and j["payload"]:
        s = decode(bytes.fromhex(j["payload"]), "PCMU" if j["pt"] == 0 else "PCMA")
        loud += sum(abs(x) for x in s) / len(s) > 300
sys.exit(0 if loud >= 100 else 1)   # 2 s of speech-level frames
PY

# blind transfer by ctl: the caller goes to B
ctl transfer "$CALL_ID" "$B" > "$WORK/transfer.out" 2>&1 || fail "ctl transfer: $(cat "$WORK/transfer.out")"
wait_agent "$B" state talking 30 || fail "agent $B never took the transferred caller: $(agent_field "$B" state)"
wait_agent "$A" state ready 10 || fail "agent $A is $(agent_field "$A" state) after the transfer, not ready"
sleep 4
ctl hangup "$CALL_ID" > /dev/null 2>&1
ivr_wait caller "$p" || true

# nobody heard the supervisor: each side got the other's stream byte for byte
"$PY" "$E2E/checkstream.py" "$WORK/pa.rtp.jsonl" "$WORK/caller.ulaw" 3 > "$WORK/to_a.check" ||
  fail "the caller's audio at A (the supervisor must not be mixed in): $(cat "$WORK/to_a.check")"
"$PY" "$E2E/checkstream.py" "$WORK/caller.rtp.jsonl" "$WORK/a.ulaw" 3 > "$WORK/to_caller_a.check" ||
  fail "A's audio at the caller: $(cat "$WORK/to_caller_a.check")"
"$PY" "$E2E/checkstream.py" "$WORK/caller.rtp.jsonl" "$WORK/b.ulaw" 2 > "$WORK/to_caller_b.check" ||
  fail "B's audio at the caller after the transfer: $(cat "$WORK/to_caller_b.check")"
cdr_check --where "call_id=$CALL_ID" --where leg_index=1 agent="$A" 'transfers~blind' > "$WORK/cdr.check" 2>&1 ||
  { cat "$WORK/cdr.check"; fail "A's leg CDR has no blind transfer"; }
pass "ctl monitor: supervisor $S heard the talk, nobody heard it, a non-supervisor refused; ctl transfer: the caller went from $A to $B (audio both), $A freed"
