#!/usr/bin/env bash
# t49_acd_supervise — a supervisor listens to, whispers to and barges in on an agent's talk
# (issue 8, item 5 and the third "done when": who hears whom), end to end over loopback with
# the shipped scripts/ (agent_phone.lua: *31 + the agent, keys 1/2/3 switch the mode;
# rules/agent_codes.lua) and a copy of rules/:
#  - a Jilin City caller keys 0 and talks to agent 4321; supervisor 4399 (role supervisor)
#    dials listen + 4321 from its phone (agent_actions.py), then keys whisper's key, then
#    barge's, then hangs up; agent 4322 (role agent) dials the same code first;
#  - the three parties send streams made so that a mix can be taken apart (rtpparty.py: the
#    caller's bytes at places 0, the agent's at 1, the supervisor's at 2 of every packet),
#    so each listener's recording shows, byte for byte, which parties it hears:
#      listen:  the supervisor hears the caller and the agent; neither hears the supervisor;
#      whisper: the agent hears the supervisor (and the caller); the caller does not;
#      barge:   the caller and the agent both hear the supervisor;
#    the caller and the agent hear each other all along;
#  - the non-supervisor's code is refused: it hears agent_code_refused, its call's CDR route
#    supervise:listen:4321 with hangup cause not-supervisor, and the talk is untouched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
. "$(dirname "$0")/acd_actions_lib.sh"
acd_rules_copy
C=$IVR_RULES/agent_codes.lua
LISTEN=$(sed -nE 's/^ *listen = "([^"]+)",.*/\1/p' "$C") KEYS=$(sed -nE 's/^ *monitor_keys = "([^"]+)",.*/\1/p' "$C")
grep -qE '^ *supervisor_roles = \{ supervisor = true \},' "$C" || fail "agent_codes.lua: supervisor_roles changed (the test adds a 'supervisor')"
[ -n "$LISTEN" ] && [ ${#KEYS} = 3 ] || fail "cannot read listen and monitor_keys from agent_codes.lua"
WHISPER_KEY=${KEYS:1:1} BARGE_KEY=${KEYS:2:1}
start_ivr "$ACD_CLOCK"
for p in caller:11:0 agent:23:1 sup:31:2; do
  IFS=: read -r who seed k <<< "$p"
  "$PY" "$E2E/mkaudio.py" stream "$WORK/$who.raw" 40 pcmu "$seed" || fail "mkaudio.py stream failed"
  "$PY" "$E2E/rtpparty.py" make "$WORK/$who.raw" "$WORK/$who.ulaw" "$k" || fail "rtpparty.py make failed"
done
AGENT=4321 OTHER=4322 SUP=4399 CALLER=043288881234
acd_agent "$AGENT" 0432 pw-$AGENT general
acd_agent "$OTHER" 0432 pw-$OTHER general
echo pw-$SUP | ctl agent add "$SUP" --centre 0432 --role supervisor > "$WORK/sup_add.out" 2>&1 || fail "ctl agent add $SUP: $(cat "$WORK/sup_add.out")"
acd_phone phone "$AGENT" pw-$AGENT 127.0.0.21 "$AUX_PORT" --answer-after 400 --send "$WORK/agent.ulaw" \
  --record "$WORK/phone.rtp.jsonl" --at 40000:bye --duration 90
acd_ready "$AGENT" phone
acd_call 0 caller "$CALLER" "$WORK/caller.ulaw" pause:1500 info:0 waitbye:70000; p=$!
for ((i = 0; i < 300; i++)); do phone_events phone answered > /dev/null && break; sleep 0.1; done
phone_events phone answered > /dev/null || fail "agent $AGENT was never reached: $(cat "$WORK/phone.jsonl")"
sleep 1

# a mere agent's *31: refused
acd_dialer other "$OTHER" pw-$OTHER 127.0.0.22 "$LISTEN$AGENT" --duration 12
for ((i = 0; i < 100; i++)); do phone_events other bye > /dev/null && break; sleep 0.1; done
phone_events other bye | grep -q '"by": "engine"' || fail "the agent's $LISTEN was not ended by the engine: $(cat "$WORK/other.jsonl")"
"$PY" "$E2E/checkprompt.py" "$WORK/other.rtp.jsonl" "$PROMPTS/agent_code_refused.wav" 30 55 > "$WORK/other.check" ||
  fail "agent $OTHER did not hear agent_code_refused: $(cat "$WORK/other.check")"
cdr_check --where caller="$OTHER" "route=supervise:listen:$AGENT" hangup_cause=not-supervisor > "$WORK/other.cdr" 2>&1 ||
  { cat "$WORK/other.cdr"; fail "the refused supervision's CDR"; }
say "agent $OTHER (role agent) dialled $LISTEN$AGENT: refused (agent_code_refused heard; route supervise:listen:$AGENT, cause not-supervisor)"

# the supervisor: listen 5 s, whisper 5 s, barge 5 s
acd_dialer sup "$SUP" pw-$SUP 127.0.0.23 "$LISTEN$AGENT" --send "$WORK/sup.ulaw" \
  --at "5000:dtmf=$WHISPER_KEY" --at "10000:dtmf=$BARGE_KEY" --at 15000:bye --duration 40
for ((i = 0; i < 300; i++)); do phone_events sup bye > /dev/null && break; sleep 0.1; done
phone_events sup bye > /dev/null || fail "the supervisor's call did not end: $(cat "$WORK/sup.jsonl")"
sleep 0.5
t0=$(phone_events sup answered | jget "d['t']")
t1=$(phone_events sup dtmf | sed -n 1p | jget "d['t']")
t2=$(phone_events sup dtmf | sed -n 2p | jget "d['t']")
t3=$(phone_events sup bye | jget "d['t']")
[ -n "$t0" ] && [ -n "$t2" ] && [ -n "$t3" ] || fail "the supervisor's events: $(cat "$WORK/sup.jsonl")"
REC_OF=([0]=caller.rtp.jsonl [1]=phone.rtp.jsonl [2]=sup.rtp.jsonl)
NAME_OF=([0]=caller [1]=agent [2]=supervisor)
FILE_OF=([0]=caller.ulaw [1]=agent.ulaw [2]=sup.ulaw)
# hears LISTENER SPEAKER yes|no FROM TO MODE
hears() {
  local l=$1 s=$2 want=$3 from=$4 to=$5 mode=$6 tag=$6-$1-$2
  "$PY" "$E2E/rtpslice.py" "$WORK/${REC_OF[$l]}" "$(echo "$from + 0.5" | bc)" "$to" > "$WORK/$tag.slice"
  if [ "$want" = yes ]; then
    "$PY" "$E2E/rtpparty.py" project "$WORK/$tag.slice" "$s" > "$WORK/$tag.jsonl"
    "$PY" "$E2E/checkstream.py" "$WORK/$tag.jsonl" "$WORK/${FILE_OF[$s]}" 2.5 > "$WORK/$tag.check" ||
      fail "$mode: the ${NAME_OF[$l]} does not hear the ${NAME_OF[$s]}: $(cat "$WORK/$tag.check")"
  else
    "$PY" "$E2E/rtpparty.py" silent "$WORK/$tag.slice" "$s" > "$WORK/$tag.check" ||
      fail "$mode: the ${NAME_OF[$l]} hears the ${NAME_OF[$s]}: $(cat "$WORK/$tag.check")"
  fi
}
for m in "listen $t0 $t1" "whisper $t1 $t2" "barge $t2 $t3"; do
  read -r mode from to <<< "$m"
  hears 0 1 yes "$from" "$to" "$mode"; hears 1 0 yes "$from" "$to" "$mode"     # their own talk
  hears 2 0 yes "$from" "$to" "$mode"; hears 2 1 yes "$from" "$to" "$mode"     # the supervisor hears both
  case $mode in
    listen)  hears 1 2 no "$from" "$to" "$mode"; hears 0 2 no "$from" "$to" "$mode" ;;
    whisper) hears 1 2 yes "$from" "$to" "$mode"; hears 0 2 no "$from" "$to" "$mode" ;;
    barge)   hears 1 2 yes "$from" "$to" "$mode"; hears 0 2 yes "$from" "$to" "$mode" ;;
  esac
  say "$mode: $(cd "$WORK" && for f in "$mode"-*.check; do printf '%s: %s; ' "${f%.check}" "$(cut -c1-40 < "$f")"; done)"
done
# after the supervisor left: nobody hears it
hears 0 2 no "$t3" 9999999999 after; hears 1 2 no "$t3" 9999999999 after
cdr_check --where caller="$SUP" "route=supervise:listen:$AGENT" hangup_side=caller "dtmf=$WHISPER_KEY$BARGE_KEY" > "$WORK/sup.cdr" 2>&1 ||
  { cat "$WORK/sup.cdr"; fail "the supervisor's CDR"; }
grep -q "supervisor $SUP: whisper agent $AGENT" "$ENGINE_LOG" && grep -q "supervisor $SUP: barge agent $AGENT" "$ENGINE_LOG" ||
  fail "the mode changes are not logged"
pass "listen, whisper ($WHISPER_KEY), barge ($BARGE_KEY): who hears whom byte for byte at each step; a non-supervisor refused"
