#!/usr/bin/env bash
# t50_month_from_calls — the month's score sheets from calls the engine really carried (issue
# 9, the end-to-end "done when"): the shipped scripts/ and a copy of rules/ whose only change
# is a shorter wrap-up (queues.lua wrapup_ms), the engine at 2026-07-01 10:00 (--clock: the
# month is known), SIPp callers keying 0 to two agents' phones (agent_phone.py):
#  - agent 8101 (Jilin City, 0432): one call, put on hold a second after the answer and taken
#    back after more than scoring.auto.hold.max_silent_ms;
#  - agent 8102 (Siping, 0434): four callers at once, who wait in its queue: the agent hangs up
#    first while the caller still talks (gap under scoring.auto.hangup.min_gap_ms); the phone
#    answers one ring_cycle_ms x max_rings + 1 s after it rang (ring max_rings+1 of the
#    rule's cadence); two are clean.  Each phone acts by the caller's number, and every call
#    ends with the agent's BYE, in the clean ones after the caller has been silent for long
#    (over the gap: no deduction);
#  - `ctl admin call_note` for some calls: a summary and a knowledge-base lookup for 8101's
#    call and 8102's first two, a summary without lookup for the third, nothing for the
#    fourth; `ctl admin draw` lists the three calls the draw picks for reviewer 9001
#    (a leader) among 8102's four, `ctl admin review` scores them; a leader's score;
#  - `ctl month compute 2026-07`, then checks (monthcheck.py): each agent's evidence is
#    exactly the expected deductions (hold_checkin; hangup_order, answer_speed, kb_click x2,
#    call_summary), each with the agent leg's start time and the CDR's measured number in its
#    fact; 8102's policy and conduct parts equal leader x weight + mean of the three
#    reviews x weight (rules/scoring.lua M.weights, read back); the HTML report loads in
#    headless Chromium with no console error and its charts equal the CSV (report_check.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
acd_rules_copy
acd_set wrapup_ms 1000                         # 15 s in the shipped rules: a shorter test
SC=$IVR_RULES/scoring.lua
srule() {  # srule CHECK FIELD: a number of scoring.lua's M.auto.CHECK (as the engine runs it)
  local v
  v=$(sed -nE "s/^  $1 = \{.*[ ,{]$2 = ([0-9.]+)[ ,}].*/\1/p" "$SC")
  [ -n "$v" ] || fail "cannot read M.auto.$1.$2 from $SC"
  echo "$v"
}
RINGS=$(srule ring max_rings) CYCLE=$(srule ring ring_cycle_ms)
HOLD_LIMIT=$(srule hold max_silent_ms) GAP=$(srule hangup min_gap_ms)
QUIET=$((GAP + 1500))   # a silent caller's talk the agent ends after the rule's gap (silence counts from the talk's start)
W_LEADER=$(sed -nE 's/^M\.weights = \{ leader = ([0-9.]+), recordings = ([0-9.]+) \}.*/\1/p' "$SC")
W_REC=$(sed -nE 's/^M\.weights = \{ leader = ([0-9.]+), recordings = ([0-9.]+) \}.*/\2/p' "$SC")
[ -n "$W_LEADER" ] && [ -n "$W_REC" ] || fail "cannot read M.weights from $SC"
LATE_MS=$((RINGS * CYCLE + 1000))              # during ring RINGS+1
HOLD_MS=$((HOLD_LIMIT + 1500))
RING_TIMEOUT=$(acd_rule ring_timeout_ms)
[ "$RING_TIMEOUT" -gt $((LATE_MS + 2000)) ] || fail "ring_timeout_ms $RING_TIMEOUT leaves no time to answer at $LATE_MS ms"

start_ivr "$ACD_CLOCK"
MONTH=${ACD_CLOCK:0:7}
"$PY" "$E2E/mkaudio.py" stream "$WORK/voiced.ulaw" 90 pcmu 11 || fail "mkaudio.py stream failed"
A=8101 B=8102 REVIEWER=9001
acd_agent $A 0432 t50-secret-a general
acd_agent $B 0434 t50-secret-b general
echo t50-secret-r | ctl agent add $REVIEWER --centre 0432 --role leader > "$WORK/reviewer.out" 2>&1 ||
  fail "ctl agent add $REVIEWER: $(cat "$WORK/reviewer.out")"
# The callers: ${CALLER[TAG]}.  Every call ends with the agent's BYE; the agent-first one while
# the caller still talks (voiced.ulaw, looped), the others after the caller has been silent
# for long (quiet.ulaw: voiced during the IVR's first 2 s, then PCMU silence).
declare -A CALLER=([hold]=043288881001 [agentbye]=043488882001 [late]=043488882002
                   [clean1]=043488882003 [clean2]=043488882004)
acd_phone phoneA $A t50-secret-a 127.0.0.21 "$AUX_PORT" --answer-after 300 \
  --at "1/1000:hold" --at "1/$((1000 + HOLD_MS)):resume" --at "1/$((3000 + HOLD_MS)):bye" --duration 150
acd_phone phoneB $B t50-secret-b 127.0.0.22 "$AUX_PORT" --answer-after 300 \
  --answer-after-from "${CALLER[late]}=$LATE_MS" --at "@${CALLER[agentbye]}/2500:bye" \
  --at "@${CALLER[late]}/$QUIET:bye" --at "@${CALLER[clean1]}/$QUIET:bye" --at "@${CALLER[clean2]}/$QUIET:bye" --duration 150
for ag in $A $B; do
  wait_registered $ag 5 || fail "agent $ag's phone did not register"
  ctl agent state $ag ready > /dev/null || fail "ctl agent state $ag ready failed"
  wait_agent $ag state ready 3 || fail "agent $ag is $(agent_field $ag state), not ready"
done
say "agents $A (0432) and $B (0434) ready; late answer $LATE_MS ms (${RINGS} rings of $CYCLE ms), hold $HOLD_MS ms (limit $HOLD_LIMIT)"

# -- the calls, all at once: 8102's four wait in its queue and reach it one after another
"$PY" - "$WORK/voiced.ulaw" "$WORK/quiet.ulaw" <<'PY' || fail "making the callers' audio"
import sys
voiced = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(voiced[:16000] + b"\xff" * (8000 * 88))
PY
slot=0 pids=()
for t in hold agentbye late clean1 clean2; do
  audio=$WORK/quiet.ulaw
  [ $t = agentbye ] && audio=$WORK/voiced.ulaw
  acd_call $slot $t "${CALLER[$t]}" "$audio" pause:1500 info:0 waitbye:90000; pids+=("$!")
  slot=$((slot + 1))
  sleep 0.7
done
slot=0
for t in hold agentbye late clean1 clean2; do
  ivr_wait $t "${pids[$slot]}" || fail "$IVR_WHY"
  slot=$((slot + 1))
done
for ag in $A $B; do
  wait_agent $ag state ready 5 || fail "agent $ag is $(agent_field $ag state) after the calls"
done
sleep 0.5                                      # the wrap-up's CDR update
call_of() {  # call_of TAG: the engine's call id of that caller
  cdr_check --where "$(where_call "$1")" --get call_id 2> /dev/null || fail "no CDR for $1"
}
declare -A CALL
for t in hold agentbye late clean1 clean2; do CALL[$t]=$(call_of $t); done
cdr_check --where "call_id=${CALL[late]}" --where leg_index=1 agent=$B "ring_ms>=$((RINGS * CYCLE))" \
  > "$WORK/late.check" 2>&1 || { cat "$WORK/late.check"; fail "the late call's agent leg"; }
cdr_check --where "call_id=${CALL[agentbye]}" --where leg_index=1 agent=$B hangup_first=agent "hangup_gap_ms<$GAP" \
  > "$WORK/agentbye.check" 2>&1 || { cat "$WORK/agentbye.check"; fail "the agent-first call's agent leg"; }
cdr_check --where "call_id=${CALL[hold]}" --where leg_index=1 agent=$A holds=1 hangup_first=agent "hold_ms>$HOLD_LIMIT" \
  > "$WORK/hold.check" 2>&1 || { cat "$WORK/hold.check"; fail "the hold call's agent leg"; }
say "CDRs: ${CALL[*]}"

# -- the back office: notes, the draw, reviews, the leader's score
admin() { ctl admin "$@" > "$WORK/admin.out" 2>&1 || fail "ctl admin $*: $(cat "$WORK/admin.out")"; }
admin call_note call_id="${CALL[hold]}" agent=$A summary=养老保险转移 kb_lookups=2
admin call_note call_id="${CALL[agentbye]}" agent=$B summary=失业金 kb_lookups=1
admin call_note call_id="${CALL[late]}" agent=$B summary=工伤认定 kb_lookups=1
admin call_note call_id="${CALL[clean1]}" agent=$B summary=社保卡
ctl --json admin draw reviewer=$REVIEWER agent=$B month="$MONTH" > "$WORK/draw.json" 2>&1 ||
  fail "ctl admin draw: $(cat "$WORK/draw.json")"
mapfile -t DRAWN < <(jget "'\n'.join(d['calls'])" < "$WORK/draw.json")
[ "${#DRAWN[@]}" = 3 ] || fail "the draw for $REVIEWER gave ${#DRAWN[@]} calls: $(cat "$WORK/draw.json")"
for c in "${DRAWN[@]}"; do
  [[ " ${CALL[agentbye]} ${CALL[late]} ${CALL[clean1]} ${CALL[clean2]} " == *" $c "* ]] || fail "drawn call $c is not one of $B's"
done
# a call of B's not drawn is refused
for c in ${CALL[agentbye]} ${CALL[late]} ${CALL[clean1]} ${CALL[clean2]}; do
  [[ " ${DRAWN[*]} " == *" $c "* ]] && continue
  ! ctl admin review reviewer=$REVIEWER agent=$B month="$MONTH" call_id="$c" policy=30 conduct=20 > "$WORK/undrawn.out" 2>&1 ||
    fail "a review of $c, not drawn for $REVIEWER, was stored"
  grep -q "not one drawn" "$WORK/undrawn.out" || fail "the refusal does not say why: $(cat "$WORK/undrawn.out")"
done
POLICY=(30 31 32) CONDUCT=(20 22 24)          # under any call's item score: the given ones count
for i in 0 1 2; do
  admin review reviewer=$REVIEWER agent=$B month="$MONTH" call_id="${DRAWN[$i]}" policy="${POLICY[$i]}" conduct="${CONDUCT[$i]}"
done
admin leader_score agent=$B month="$MONTH" leader=$REVIEWER policy=33 conduct=25
say "drawn for $REVIEWER: ${DRAWN[*]}; reviews and the leader's score stored"

# -- the month
ctl month compute "$MONTH" > "$WORK/compute.out" 2>&1 || fail "month compute: $(cat "$WORK/compute.out")"
say "$(tr '\n' ' ' < "$WORK/compute.out" | cut -c1-200)"
for k in scores evidence ranking monthly calls; do
  ctl report $k "$MONTH" --csv --out "$WORK/$k.csv" || fail "report $k --csv"
done
want() { python3 -c "print(round($1, 2))"; }
# 8101: no leader's score, no review: the parts are the items' (the hold's points off conduct)
part_points() { sed -nE "s/^  \{ id = \"$1\", title = .*points = ([0-9]+),.*/\1/p" "$SC"; }
item_points() { sed -nE "s/^  \{ id = \"$1\", .*points = (-?[0-9.]+),.*/\1/p" "$SC"; }
A_POL=$(part_points policy) A_CON=$(want "$(part_points conduct) + $(item_points hold_checkin)")
[ -n "$A_POL" ] && [ "$A_CON" != "" ] || fail "cannot read the parts' points from $SC"
POL=$(want "$W_LEADER * 33 + $W_REC * (${POLICY[0]} + ${POLICY[1]} + ${POLICY[2]}) / 3")
CON=$(want "$W_LEADER * 25 + $W_REC * (${CONDUCT[0]} + ${CONDUCT[1]} + ${CONDUCT[2]}) / 3")
"$PY" "$E2E/monthcheck.py" --db "$DATA/hotline.db" --evidence "$WORK/evidence.csv" --scores "$WORK/scores.csv" \
  --agent $A --agent $B \
  --expect "$A:${CALL[hold]}:hold_checkin" \
  --expect "$B:${CALL[agentbye]}:hangup_order" --expect "$B:${CALL[late]}:answer_speed" \
  --expect "$B:${CALL[clean1]}:kb_click" --expect "$B:${CALL[clean2]}:kb_click" \
  --expect "$B:${CALL[clean2]}:call_summary" \
  --part "$B:policy:$POL" --part "$B:conduct:$CON" --part "$A:policy:$A_POL" --part "$A:conduct:$A_CON" > "$WORK/month.check" 2>&1 ||
  fail "the month's sheets: $(cat "$WORK/month.check")"
sed 's/^/  /' "$WORK/month.check"
ctl report month "$MONTH" --html --out "$WORK/month.html" || fail "report month --html"
"$PY" "$E2E/report_check.py" --html "$WORK/month.html" --scores "$WORK/scores.csv" --ranking "$WORK/ranking.csv" \
  --monthly "$WORK/monthly.csv" --calls "$WORK/calls.csv" --wait 60 > "$WORK/report.check" 2>&1 || fail "$(cat "$WORK/report.check")"
say "$(cat "$WORK/report.check")"
engine_alive || fail "the engine died"
pass "5 real calls to 2 agents: each deduction on the sheet with its call, time and CDR fact; 3 drawn recordings at weight $W_REC (policy $POL, conduct $CON); the HTML report in Chromium equals the CSV"
