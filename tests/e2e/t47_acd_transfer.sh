#!/usr/bin/env bash
# t47_acd_transfer — an agent hands a caller to another agent (issue 8, item 5 and the third
# "done when": blind and attended transfer; the "bad input" bullet: an agent who hangs up
# during a transfer), end to end over loopback with the shipped scripts/ and a copy of
# rules/ (shorter wrap-up).  Seven scenes run at once, each in a city of its own (a caller of
# that city keys 0; agent A of the city answers; agent B of the city is set ready only once
# A talks, so that the caller reaches A first); every party sends a known PCMU stream
# (callers seed 11, A 23, B 29) and records what it hears, so each check is "who hears whom"
# byte for byte (checkstream.py) or the queue's music (checkprompt.py):
#  1. 0432 blind by REFER from A's phone (Refer-To B): 202 + NOTIFY 200; the caller talks
#     to B (both ways); A's leg CDR transfers [blind, B, handed-over]; A to wrap-up;
#  2. 0433 blind by keys: A keys *3 B # (rules/agent_codes.lua during_call.transfer): the same;
#  3. 0434 attended: A keys *4 B # (consult): B is rung; while A and B talk (both ways) the
#     caller hears the music; A keys *5 (complete): the caller and B talk (both ways); A's
#     leg CDR transfers [attended consulting, attended completed];
#  4. 0435 attended, cancelled: *4 B #, then *6: B's phone is hung up by the engine, the
#     caller and A talk again (both ways); A's transfers end "cancelled";
#  5. 0436 attended, and A hangs up during the consultation: that completes it (as a PBX
#     does): the caller and B talk (both ways); A's transfers end "completed";
#  6. 0437 attended, and B hangs up during the consultation: the caller is back with A
#     (both ways); A's transfers end "cancelled";
#  7. 0438 attended, and the caller hangs up during the consultation: the engine hangs up
#     both agents' phones, the caller's CDR is written (hung up by the caller, agent A).
# Every caller's CDR is written (answered, agent = the agent it talked to last — A after a
# cancel — and the recording of the talk after the transfer, its second, on disk), and every
# agent ends in wrap-up then ready (`ctl agents --json`), none stuck.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
. "$(dirname "$0")/acd_actions_lib.sh"
acd_rules_copy
acd_set wrapup_ms 2000
WRAPUP=$(acd_rule wrapup_ms)
start_ivr "$ACD_CLOCK"
for who in caller:11 a:23 b:29; do
  "$PY" "$E2E/mkaudio.py" stream "$WORK/${who%%:*}.ulaw" 40 pcmu "${who#*:}" || fail "mkaudio.py stream failed"
done
code() { sed -nE "s/^ *$1 = \"([^\"]+)\",.*/\1/p" "$IVR_RULES/agent_codes.lua" | head -n 1; }
XFER=$(code transfer) CONSULT=$(code consult) COMPLETE=$(code complete) CANCEL=$(code cancel)
[ -n "$XFER" ] && [ -n "$CONSULT" ] && [ -n "$COMPLETE" ] && [ -n "$CANCEL" ] || fail "cannot read the during-call codes from agent_codes.lua"
SCENES="refer keys complete cancel hangup gone caller"
declare -A CITY=([refer]=0432 [keys]=0433 [complete]=0434 [cancel]=0435 [hangup]=0436 [gone]=0437 [caller]=0438)
declare -A IP=([refer]=31 [keys]=33 [complete]=35 [cancel]=37 [hangup]=39 [gone]=41 [caller]=43)
a_of() { echo "${CITY[$1]#0}1"; }           # 4321, 4331, ...
b_of() { echo "${CITY[$1]#0}2"; }
declare -A A_ACTS B_ACTS
A_ACTS[refer]="--at 3000:refer=$(b_of refer)"
A_ACTS[keys]="--at 3000:dtmf=$XFER$(b_of keys)#"
A_ACTS[complete]="--at 3000:dtmf=$CONSULT$(b_of complete)# --at 10000:dtmf=$COMPLETE"
A_ACTS[cancel]="--at 3000:dtmf=$CONSULT$(b_of cancel)# --at 10000:dtmf=$CANCEL --at 15000:bye"
A_ACTS[hangup]="--at 3000:dtmf=$CONSULT$(b_of hangup)# --at 9500:bye"
A_ACTS[gone]="--at 3000:dtmf=$CONSULT$(b_of gone)# --at 14000:bye"
A_ACTS[caller]="--at 3000:dtmf=$CONSULT$(b_of caller)# --at 60000:bye"
for s in refer keys; do B_ACTS[$s]="--at 5000:bye"; done
B_ACTS[complete]="--at 13000:bye" B_ACTS[cancel]="--at 40000:bye" B_ACTS[hangup]="--at 12000:bye"
B_ACTS[gone]="--at 4500:bye" B_ACTS[caller]="--at 60000:bye"
# every caller waits for the engine's BYE, but scene 7's, which hangs up ~10 s into the
# consultation (the IVR takes ~17 s to reach A, A consults 3 s after answering)
declare -A STEPS=([caller]="pause:1500 info:0 pause:30000 bye")

acd_watch
slot=0
for s in $SCENES; do
  A=$(a_of "$s") B=$(b_of "$s") ip=${IP[$s]}
  acd_agent "$A" "${CITY[$s]}" "pw-$A" general
  acd_agent "$B" "${CITY[$s]}" "pw-$B" general
  # shellcheck disable=SC2086
  acd_phone "a_$s" "$A" "pw-$A" "127.0.0.$ip" "$AUX_PORT" --answer-after 400 --send "$WORK/a.ulaw" \
    --record "$WORK/a_$s.rtp.jsonl" ${A_ACTS[$s]} --duration 90
  # shellcheck disable=SC2086
  acd_phone "b_$s" "$B" "pw-$B" "127.0.0.$((ip + 1))" "$AUX_PORT" --answer-after 400 --send "$WORK/b.ulaw" \
    --record "$WORK/b_$s.rtp.jsonl" ${B_ACTS[$s]} --duration 90
done
for s in $SCENES; do
  for x in a b; do
    n=$($x"_of" "$s"); wait_registered "$n" 5 || fail "agent $n's phone did not register: $(cat "$WORK/${x}_$s.jsonl")"
  done
  ctl agent state "$(a_of "$s")" ready > /dev/null || fail "ctl agent state $(a_of "$s") ready failed"
done
declare -A PID
for s in $SCENES; do
  # shellcheck disable=SC2086
  acd_call "$slot" "c_$s" "${CITY[$s]}88881234" "$WORK/caller.ulaw" ${STEPS[$s]:-pause:1500 info:0 waitbye:60000}
  PID[$s]=$!; slot=$((slot + 1))
done
# B is made ready once A talks: the caller reaches A first
for s in $SCENES; do
  for ((i = 0; i < 300; i++)); do phone_events "a_$s" answered > /dev/null && break; sleep 0.1; done
  phone_events "a_$s" answered > /dev/null || fail "$s: agent $(a_of "$s") was never reached: $(cat "$WORK/a_$s.jsonl")"
  ctl agent state "$(b_of "$s")" ready > /dev/null || fail "ctl agent state $(b_of "$s") ready failed"
done
for s in $SCENES; do ivr_wait "c_$s" "${PID[$s]}" || fail "$s: $IVR_WHY"; done

# helpers: the time of a phone's event; who hears whom in a stretch [from, to)
t_of() { phone_events "$1" "$2" | sed -n "${3:-1}p" | jget "d['t']"; }
# hears WHAT LISTENER.rtp.jsonl FROM TO WHOSE.ulaw|music LABEL
hears() {
  if [ "$5" = music ]; then acd_hears "$6" "$WORK/$2" "$3" "$4" music 0
  else acd_hears "$6" "$WORK/$2" "$3" "$4" "$WORK/$5" 2; fi
}
END=9999999999
transfers_of() {  # transfers_of CALL_ID AGENT: A's leg's transfers field (repr words)
  cdr_check --where "call_id=$1" --where "agent=$2" --where leg_index=1 --get transfers 2> /dev/null
}
rec() { printf "'kind': '%s', 'target': '%s', 'time': [0-9.]+, 'result': '%s'" "$1" "$2" "$3"; }

for s in $SCENES; do
  A=$(a_of "$s") B=$(b_of "$s")
  W="$(where_call "c_$s")"
  CALL_ID=$(cdr_check --where "$W" --get call_id 2> /dev/null) || fail "$s: no CDR for the caller"
  tb=$(t_of "b_$s" answered)
  case $s in
    refer|keys)
      [ -n "$tb" ] || fail "$s: B ($B) never answered: $(cat "$WORK/b_$s.jsonl")"
      if [ "$s" = refer ]; then
        phone_events a_refer refer | grep -q '"code": 202' || fail "refer: the REFER was not accepted 202: $(cat "$WORK/a_refer.jsonl")"
        phone_events a_refer notify | grep -q "200" || fail "refer: no NOTIFY 200 to A: $(cat "$WORK/a_refer.jsonl")"
      fi
      phone_events "a_$s" bye | grep -q '"by": "engine"' || fail "$s: the engine did not hang up A's phone"
      hears caller "b_$s.rtp.jsonl" "$tb" $END caller.ulaw "$s:caller->B"
      hears B "c_$s.rtp.jsonl" "$tb" $END b.ulaw "$s:B->caller"
      transfers_of "$CALL_ID" "$A" | grep -qE "$(rec blind "$B" handed-over)" ||
        fail "$s: A's leg transfers: $(transfers_of "$CALL_ID" "$A")"
      ;;
    complete|hangup)
      [ -n "$tb" ] || fail "$s: B ($B) never answered: $(cat "$WORK/b_$s.jsonl")"
      if [ "$s" = complete ]; then tdone=$(t_of a_complete dtmf 2); else tdone=$(t_of a_hangup bye); fi
      hears A "b_$s.rtp.jsonl" "$tb" "$tdone" a.ulaw "$s:A->B(consult)"
      hears B "a_$s.rtp.jsonl" "$tb" "$tdone" b.ulaw "$s:B->A(consult)"
      hears music "c_$s.rtp.jsonl" "$tb" "$tdone" music "$s:music->caller(consult)"
      hears caller "b_$s.rtp.jsonl" "$tdone" $END caller.ulaw "$s:caller->B"
      hears B "c_$s.rtp.jsonl" "$tdone" $END b.ulaw "$s:B->caller"
      transfers_of "$CALL_ID" "$A" | grep -qE "$(rec attended "$B" consulting).*$(rec attended "$B" completed)" ||
        fail "$s: A's leg transfers: $(transfers_of "$CALL_ID" "$A")"
      ;;
    cancel|gone)
      [ -n "$tb" ] || fail "$s: B ($B) never answered: $(cat "$WORK/b_$s.jsonl")"
      if [ "$s" = cancel ]; then
        tdone=$(t_of a_cancel dtmf 2)
        phone_events b_cancel bye | grep -q '"by": "engine"' || fail "cancel: the engine did not hang up B: $(cat "$WORK/b_cancel.jsonl")"
      else
        tdone=$(t_of b_gone bye)
      fi
      tend=$(t_of "a_$s" bye)
      hears A "b_$s.rtp.jsonl" "$tb" "$tdone" a.ulaw "$s:A->B(consult)"
      hears caller "a_$s.rtp.jsonl" "$tdone" "$tend" caller.ulaw "$s:caller->A(after cancel)"
      hears A "c_$s.rtp.jsonl" "$tdone" "$tend" a.ulaw "$s:A->caller(after cancel)"
      transfers_of "$CALL_ID" "$A" | grep -qE "$(rec attended "$B" consulting).*$(rec attended "$B" cancelled)" ||
        fail "$s: A's leg transfers: $(transfers_of "$CALL_ID" "$A")"
      ;;
    caller)
      [ -n "$tb" ] || fail "$s: B ($B) never answered (the caller hung up too soon?): $(cat "$WORK/b_$s.jsonl")"
      tend=$(t_of b_caller bye)
      for x in a b; do
        phone_events "${x}_caller" bye | grep -q '"by": "engine"' || fail "caller: the engine did not hang up $x: $(cat "$WORK/${x}_caller.jsonl")"
      done
      hears A "b_$s.rtp.jsonl" "$tb" "$tend" a.ulaw "$s:A->B(consult)"
      hears B "a_$s.rtp.jsonl" "$tb" "$tend" b.ulaw "$s:B->A(consult)"
      cdr_check --where "$W" hangup_side=caller queue_outcome=answered agent="$A" --legs 3 > "$WORK/cdr_$s.check" 2>&1 ||
        { cat "$WORK/cdr_$s.check"; fail "$s: the caller's CDR"; }
      say "$s: the caller hung up during the consultation: both phones hung up by the engine, the caller's CDR written"
      continue
      ;;
  esac
  last=$B; case $s in cancel|gone) last=$A ;; esac
  cdr_check --where "$W" queue_outcome=answered agent="$last" 'recording~-2\.wav$' > "$WORK/cdr_$s.check" 2>&1 ||
    { cat "$WORK/cdr_$s.check"; fail "$s: the caller's CDR"; }
  rec=$(cdr_check --where "$W" --get recording 2> /dev/null)
  [ -s "$DATA/recordings/$rec" ] || fail "$s: the second talk's recording $rec is not there"
  say "$s: transfers on A's leg: $(transfers_of "$CALL_ID" "$A" | cut -c1-160)"
done

# every agent: wrap-up, then ready
for s in $SCENES; do
  for n in "$(a_of "$s")" "$(b_of "$s")"; do
    wait_agent "$n" state ready $((WRAPUP / 1000 + 8)) || fail "agent $n is $(agent_field "$n" state) after the scenes, not ready"
    states_of "$n" | grep -qE 'talking wrap-up ready$' || fail "agent $n went through '$(states_of "$n")'"
  done
  say "$s: A $(states_of "$(a_of "$s")"); B $(states_of "$(b_of "$s")")"
done
pass "blind (REFER, $XFER), attended ($CONSULT then $COMPLETE / $CANCEL / A hangs up / B hangs up / the caller hangs up): who hears whom at each step, A's transfers in its CDR, every agent back to ready"
