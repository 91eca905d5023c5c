#!/usr/bin/env bash
# t46_acd_hold — an agent holds a caller and takes the call back (issue 8, item 5 and the
# third "done when": hold with the 30 s reminders), end to end over loopback with the
# shipped scripts/ and a copy of rules/ whose hold_reminder_ms is shorter (queues.lua; the
# check reads it back from the copy):
#  - agent 4321 (0432, general) answers a Jilin City caller who keyed 0; both send known
#    PCMU streams; after a few seconds the agent's phone holds (re-INVITE a=sendonly), stays
#    on hold for several reminder intervals, resumes (a=sendrecv), talks again and hangs up;
#  - during the hold: the caller hears the queue's music (queues.lua music: the prompt's
#    bytes in the caller's RTP, checkprompt.py), not the agent; the engine sends the
#    holding phone nothing (it answered our recvonly: RFC 3264 — so the reminder tones are
#    played on the agent's leg but cannot reach a phone that holds with sendonly; the
#    engine counts them, and that count is what scoring reads);
#  - the agent leg's CDR: holds 1, hold_log one record whose reminders are the hold's length
#    over hold_reminder_ms (one less allowed for timing), its length and back_within_ms the time between
#    the phone's re-INVITEs; `ctl agents` showed the agent on-hold, then talking again;
#  - after the resume the audio flows both ways again, byte for byte.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
. "$(dirname "$0")/acd_actions_lib.sh"
acd_rules_copy
acd_set hold_reminder_ms 1500                  # 30 s in the shipped rules (SPEC 3)
acd_set wrapup_ms 2000
REMIND=$(acd_rule hold_reminder_ms); MUSIC=$(acd_rule music)
start_ivr "$ACD_CLOCK"
"$PY" "$E2E/mkaudio.py" stream "$WORK/caller.ulaw" 40 pcmu 11 || fail "mkaudio.py stream failed"
"$PY" "$E2E/mkaudio.py" stream "$WORK/agent.ulaw" 40 pcmu 23 || fail "mkaudio.py stream failed"
AGENT=4321 PW=t46-secret-4321 CALLER=043288881234
HOLD_AT=3500 HOLD_MS=$((REMIND * 3 + REMIND / 3)) TALK_AFTER=4500
RESUME_AT=$((HOLD_AT + HOLD_MS)); BYE_AT=$((RESUME_AT + TALK_AFTER))
acd_agent "$AGENT" 0432 "$PW" general
acd_phone phone "$AGENT" "$PW" 127.0.0.21 "$AUX_PORT" --answer-after 400 --send "$WORK/agent.ulaw" \
  --record "$WORK/phone.rtp.jsonl" --at "$HOLD_AT:hold" --at "$RESUME_AT:resume" --at "$BYE_AT:bye" --duration 90
acd_watch
acd_ready "$AGENT" phone

acd_call 0 caller "$CALLER" "$WORK/caller.ulaw" pause:1500 info:0 waitbye:50000; p=$!
ivr_wait caller "$p" || fail "$IVR_WHY"

# the phone's hold and resume, answered
t_hold=$(phone_events phone hold | head -n 1 | jget "d['t'] if d['code'] == 200 else ''")
t_resume=$(phone_events phone resume | head -n 1 | jget "d['t'] if d['code'] == 200 else ''")
[ -n "$t_hold" ] && [ -n "$t_resume" ] || fail "the hold or resume was not answered 200: $(cat "$WORK/phone.jsonl")"
t_bye=$(phone_events phone bye | head -n 1 | jget "d['t']")
say "the phone held at $t_hold, resumed at $t_resume (both answered 200)"

# during the hold: the caller hears the music, not the agent; the phone is sent nothing
acd_hears "hold:music->caller" "$WORK/caller.rtp.jsonl" "$t_hold" "$t_resume" music 0
"$PY" "$E2E/checkstream.py" "$WORK/hold:music->caller.jsonl" "$WORK/agent.ulaw" 0.3 > "$WORK/hold_agent.check" &&
  fail "the caller heard the agent during the hold: $(cat "$WORK/hold_agent.check")"
quiet=$("$PY" -c 'import sys; print(sum(1 for l in sys.stdin if l.strip()))' \
  < <("$PY" "$E2E/rtpslice.py" "$WORK/phone.rtp.jsonl" "$(echo "$t_hold + 0.3" | bc)" "$t_resume"))
[ "$quiet" -le 2 ] || fail "the engine sent $quiet RTP packets to a phone that holds with sendonly (RFC 3264: it answered recvonly)"
say "during the hold: the caller heard $MUSIC, not the agent; the holding phone was sent nothing"

# after the resume: both ways again, byte for byte
acd_hears "resumed:caller->agent" "$WORK/phone.rtp.jsonl" "$t_resume" "$t_bye" "$WORK/caller.ulaw" 2.5
acd_hears "resumed:agent->caller" "$WORK/caller.rtp.jsonl" "$t_resume" "$t_bye" "$WORK/agent.ulaw" 2.5

# the agent leg's CDR: one hold, its reminders
W="$(where_call caller)"
CALL_ID=$(cdr_check --where "$W" --get call_id 2> /dev/null) || fail "no CDR for the caller"
cdr_check --where "call_id=$CALL_ID" --where leg_index=1 agent="$AGENT" holds=1 "hold_ms>=$((HOLD_MS - 700))" \
  > "$WORK/cdr1.check" 2>&1 || { cat "$WORK/cdr1.check"; fail "the agent leg's CDR (its hold)"; }
log=$(cdr_check --where "call_id=$CALL_ID" --where leg_index=1 --get hold_log 2> /dev/null)
echo "$log" > "$WORK/hold_log.json"
"$PY" - "$WORK/hold_log.json" "$t_hold" "$t_resume" "$REMIND" <<'PYEOF' > "$WORK/hold_log.check" || { cat "$WORK/hold_log.check"; fail "the hold_log"; }
import ast, json, sys
text = open(sys.argv[1]).read().strip()
try:
    log = json.loads(text)
except ValueError:
    log = ast.literal_eval(text)
log = [log] if isinstance(log, dict) else log
held, every = float(sys.argv[3]) - float(sys.argv[2]), int(sys.argv[4])
if len(log) != 1:
    print("hold_log has %d records, not 1: %s" % (len(log), text))
    sys.exit(1)
h = log[0]
want = int(held * 1000) // every
# the engine's times are its clock's (--clock): the length is what compares
length = h["end"] - h["start"]
ok = want - 1 <= h["reminders"] <= want and abs(length - held) < 0.5 and abs(h["back_within_ms"] / 1000.0 - held) < 0.5
print(("ok" if ok else "WRONG") + ": reminders %d (hold %.2f s / %d ms = %d), length %.2f s, back_within_ms %d"
      % (h["reminders"], held, every, want, length, h["back_within_ms"]))
sys.exit(0 if ok else 1)
PYEOF
say "hold_log: $(cat "$WORK/hold_log.check")"

# the states: on-hold while held, talking again, wrap-up, ready
wait_agent "$AGENT" state ready 8 || fail "agent $AGENT is $(agent_field "$AGENT" state) after the call, not ready"
sleep 0.3
seq=$(states_of "$AGENT")
echo "$seq" | grep -qE 'talking on-hold talking wrap-up ready$' || fail "agent $AGENT went through '$seq'"
say "agent $AGENT: $seq"
pass "hold: music to the caller, nothing to the holding phone, $REMIND ms reminders counted in hold_log; audio both ways after the resume"
