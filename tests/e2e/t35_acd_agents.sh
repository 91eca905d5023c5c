#!/usr/bin/env bash
# t35_acd_agents — the ACD's choices over SIP with several agents' phones (agent_phone.py)
# and the shipped scripts/ (issue 8, second "done when").  A copy of rules/ shortens what a
# test cannot wait for, each change on the queue it tests (queues.lua overrides), and every
# value a check compares is read back from that copy.  Six scenes at once, each on its
# own city's queue (agents serve their own centre's queues only):
#  order (0438.general, ring 3 s): agents 3801 (never answers), 3802, 3803 set ready in that
#     order.  P1 rings 3801 first (longest idle), is skipped after the ring timeout to
#     3802; P2 (5 s later) gets 3803 (3801 became ready again at its miss: idle since
#     then); P3 (10 s after P1) rings 3801 again: its second miss in a row (max_misses)
#     sets it not-ready with reason miss_reason ("no-answer"); P3 then hangs up waiting:
#     queue_outcome abandoned.
#  empty (0433.complaints, key 5): nobody of 0433 logged in -> queue_no_agents, then
#     queue_offer_message (CDR prompts; queue_outcome empty).  A complaints queue: an empty
#     city general queue overflows to province.general at once (the overflow rule).
#  announce (0434.general; announce_every_ms 3000 for all): 3401 registered and set
#     not-ready (the queue is served, nobody free): the caller hears music, then queue_position_a ... (the
#     CDR's prompts, and the prompt's audio in the caller's RTP: checkprompt.py).
#  overflow (0435.general): 3501 registered, not-ready; after overflow.after_ms the caller
#     is in province.general and agent 9001 (centre province) answers: the INVITE's
#     X-Hotline-Queue province.general, CDR queue province.general, vars.overflow_from;
#     9001's phone then holds and resumes (re-INVITEs answered 200; its leg's CDR holds 1).
#  ringall (0436.general, strategy ring_all): 3601 and 3602 rung at once, both answer at
#     the same moment (the loser's 200 crosses the engine's CANCEL: --answer-crosses-cancel);
#     one wins (the caller's CDR agent), the other is ACKed and gets the engine's BYE, and
#     is ready again with no miss counted.
#  abandon (0437.general, ring 15 s): 3701 never answers; the caller hangs up while it
#     rings: the phone gets CANCEL, 3701 is ready again with no miss, queue_outcome
#     abandoned; the phone's leg shows how long it rang (ring_ms), unanswered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
. "$(dirname "$0")/acd_lib.sh"
acd_rules_copy
# overflow.after_ms and announce_every_ms are every queue's, and the policy's own scenarios
# (run at start) must still pass with them: scripts/queue.scenario.lua's "music, then the
# position" caller joins ~16 s into the call and hangs up at announce_every_ms + 40 s still
# waiting, so the overflow must come later than announce_every_ms + ~24 s
acd_set announce_every_ms 3000
acd_set_overflow 27000
acd_override 0438.general 'ring_timeout_ms = 3000'
acd_override 0436.general 'strategy = "ring_all"'
acd_override 0437.general 'ring_timeout_ms = 15000'
RING38=$(acd_rule ring_timeout_ms 0438.general) MAX_MISSES=$(acd_rule max_misses 0438.general)
MISS_REASON=$(acd_rule miss_reason 0438.general) OVERFLOW_MS=$(acd_rule overflow.after_ms)
# the announcement's first and last prompts (announce_position = { "a", "{ahead}", "b" })
POS_FIRST=$(sed -nE 's/^  announce_position = \{ *"([a-z_0-9]+)".*/\1/p' "$QUEUES_LUA")
POS_LAST=$(sed -nE 's/^  announce_position = \{.*"([a-z_0-9]+)" *\},.*/\1/p' "$QUEUES_LUA")
[ -n "$POS_FIRST" ] && [ -n "$POS_LAST" ] || fail "cannot read announce_position from $QUEUES_LUA"
[ "$(acd_rule strategy 0436.general)" = ring_all ] || fail "the override of 0436.general was not read back"
[ "$MAX_MISSES" -eq 2 ] || fail "the scene 'order' is built for max_misses 2, the rules say $MAX_MISSES"
start_ivr "$ACD_CLOCK"
"$PY" "$E2E/mkaudio.py" stream "$WORK/caller.ulaw" 40 pcmu 11 || fail "mkaudio.py stream failed"
"$PY" "$E2E/mkaudio.py" stream "$WORK/agent.ulaw" 10 pcmu 23 || fail "mkaudio.py stream failed"
acd_watch
# the overflow caller first: its scene is the longest (it joins ~16 s into its call, the
# rest of the setup is done well before, and waits overflow.after_ms)
C=$WORK/caller.ulaw
acd_call 5 overflow 043588880001 "$C" pause:1500 info:0 waitbye:60000; PO=$!

# ---- the agents ------------------------------------------------------------------------------
NPHONE=0
phone() {  # phone NUMBER CENTRE [agent_phone.py options]: account + registered phone
  local num=$1 centre=$2; shift 2
  acd_agent "$num" "$centre" "t35-pw-$num" general
  acd_phone "ph$num" "$num" "t35-pw-$num" "127.0.0.$((30 + NPHONE))" "$((IVR_BASE + 130 + 4 * NPHONE))" \
    --send "$WORK/agent.ulaw" --duration 110 "$@"
  NPHONE=$((NPHONE + 1))
}
phone 3801 0438 --no-answer
phone 3802 0438 --answer-after 300 --at 4000:bye
phone 3803 0438 --answer-after 300 --at 4000:bye
phone 3401 0434 --no-answer
phone 3501 0435 --no-answer
phone 9001 province --answer-after 300 --at 800:hold --at 2300:resume --at 3000:bye
phone 3601 0436 --answer-after 300 --at 3000:bye --answer-crosses-cancel
phone 3602 0436 --answer-after 300 --at 3000:bye --answer-crosses-cancel
phone 3701 0437 --no-answer
for n in 3801 3802 3803 3401 3501 9001 3601 3602 3701; do
  wait_registered "$n" 5 || fail "agent $n's phone did not register: $(cat "$WORK/ph$n.jsonl")"
done
for n in 3801 3802 3803 9001 3601 3602 3701; do     # 3401 and 3501 stay as they logged in
  ctl agent state "$n" ready > /dev/null || fail "ctl agent state $n ready"
  sleep 0.2                                      # distinct idle_since: the order is 3801, 3802, 3803
done
for n in 3401 3501; do
  [ "$(agent_field "$n" state)" = not-ready ] || ctl agent state "$n" not-ready break > /dev/null
  wait_agent "$n" state not-ready 3 || fail "agent $n is $(agent_field "$n" state), not not-ready"
done

# ---- the callers -----------------------------------------------------------------------------
# the IVR: the welcome (11.4 s) then key 0's agent_transfer (4.7 s) or key 5's
# complaints_transfer (5.9 s): a caller joins its queue ~16-17.5 s after the answer.
acd_call 0 p1 043888880001 "$C" pause:1500 info:0 waitbye:60000; P1=$!
acd_call 3 empty 043388880001 "$C" pause:1500 info:5 pause:32000 bye; PE=$!
acd_call 4 announce 043488880001 "$C" pause:1500 info:0 pause:26750 bye; PA=$!
acd_call 6 ringall 043688880001 "$C" pause:1500 info:0 waitbye:60000; PR=$!
acd_call 7 abandon 043788880001 "$C" pause:1500 info:0 pause:17500 bye; PB=$!
sleep 5
acd_call 1 p2 043888880002 "$C" pause:1500 info:0 waitbye:60000; P2=$!
sleep 5
acd_call 2 p3 043888880003 "$C" pause:1500 info:0 pause:20000 bye; P3=$!
for t in p1:$P1 empty:$PE announce:$PA overflow:$PO ringall:$PR abandon:$PB p2:$P2 p3:$P3; do
  ivr_wait "${t%%:*}" "${t#*:}"
done
[ -z "$IVR_WHY" ] || fail "callers:$IVR_WHY"
sleep 0.5

# ---- order ----------------------------------------------------------------------------------
rung() {  # rung: "agent<caller-suffix>" for every INVITE to the 0438 phones, in time order
  cat "$WORK"/ph380[123].jsonl | grep '"event": "invite"' | "$PY" -c '
import json, sys
rows = sorted((j["t"], j["x-hotline-queue"], j["from_user"][-1], j["user"]) for j in map(json.loads, sys.stdin))
print(" ".join("%s:P%s" % (r[3], r[2]) for r in rows))'
}
order=$(rung)
[ "$order" = "3801:P1 3802:P1 3803:P2 3801:P3" ] ||
  fail "0438 rang '$order', not '3801:P1 3802:P1 3803:P2 3801:P3' (longest idle, skip, idle since the miss)"
ring=$(cdr_check --where caller=043888880001 --where leg_index=1 --where agent=3801 --get ring_ms 2> /dev/null)
[ -n "$ring" ] && [ "$ring" -ge $((RING38 - 200)) ] && [ "$ring" -le $((RING38 + 1500)) ] ||
  fail "3801's missed leg rang '$ring' ms; ring_timeout_ms is $RING38"
[ "$(agent_field 3801 state)" = not-ready ] && [ "$(agent_field 3801 reason)" = "$MISS_REASON" ] ||
  fail "after $MAX_MISSES misses 3801 is $(agent_field 3801 state) ($(agent_field 3801 reason)), not not-ready ($MISS_REASON)"
ivr_cdr p1 queue=0438.general queue_outcome=answered agent=3802
ivr_cdr p2 queue=0438.general queue_outcome=answered agent=3803
ivr_cdr p3 queue=0438.general queue_outcome=abandoned 'queue_wait_ms>0' 'agent='
say "order: $order; 3801's miss after $ring ms (ring_timeout_ms $RING38); after $MAX_MISSES misses not-ready ($MISS_REASON); P3 abandoned"

# ---- empty -----------------------------------------------------------------------------------
ivr_cdr empty route=queue:0433.complaints queue=0433.complaints queue_outcome=empty \
  'prompts~ complaints_transfer queue_no_agents queue_offer_message'
say "empty: queue_no_agents, queue_offer_message"

# ---- announce --------------------------------------------------------------------------------
ivr_cdr announce queue=0434.general queue_outcome=abandoned \
  "prompts~ agent_transfer ${POS_FIRST}( [^ ]+)* ${POS_LAST}( |\$)"
"$PY" "$E2E/checkprompt.py" "$WORK/announce.rtp.jsonl" "$PROMPTS/$POS_FIRST.wav" > "$WORK/announce.heard" ||
  fail "announce: $POS_FIRST did not reach the caller: $(cat "$WORK/announce.heard")"
say "announce: $POS_FIRST heard: $(tail -n 1 "$WORK/announce.heard")"
say "announce: $(cdr_check --where "$(where_call announce)" --get prompts 2> /dev/null | sed 's/.*agent_transfer/agent_transfer/')"

# ---- overflow --------------------------------------------------------------------------------
inv=$(phone_events ph9001 invite | head -n 1)
[ "$(echo "$inv" | jget "d['x-hotline-queue']")" = province.general ] && [ "$(echo "$inv" | jget "d['from_user']")" = 043588880001 ] ||
  fail "9001's INVITE: $inv"
ivr_cdr overflow route=queue:0435.general queue=province.general queue_outcome=answered agent=9001 \
  vars.overflow_from=0435.general
joined=$(grep -m1 "joined queue 0435.general" "$ENGINE_LOG" | cut -c12-23)
rang=$(grep -m1 "ringing agent 9001 " "$ENGINE_LOG" | cut -c12-23)
waited=$("$PY" -c 'import sys
s = lambda t: sum(float(x) * m for x, m in zip(t.split(":"), (3600, 60, 1)))
print(int((s(sys.argv[2]) - s(sys.argv[1])) * 1000))' "$joined" "$rang")
[ "$waited" -ge $((OVERFLOW_MS - 200)) ] && [ "$waited" -le $((OVERFLOW_MS + 2000)) ] ||
  fail "the overflow came $waited ms after joining 0435.general; overflow.after_ms is $OVERFLOW_MS"
# the agent's phone's own actions in that call: a key, a hold and the resume
for ev in hold resume; do
  phone_events ph9001 "$ev" | grep -q '"code": 200' || fail "9001's $ev re-INVITE was not answered 200: $(cat "$WORK/ph9001.jsonl")"
done
cdr_check --where caller=043588880001 --where leg_index=1 agent=9001 holds=1 'hold_ms>1000' \
  > "$WORK/overflow1.check" 2>&1 || { cat "$WORK/overflow1.check"; fail "overflow: 9001's leg (its hold)"; }
say "overflow: 0435.general -> province.general after $waited ms (after_ms $OVERFLOW_MS), agent 9001; its hold and resume answered, the hold in its CDR"

# ---- ring all --------------------------------------------------------------------------------
n1=$(phone_events ph3601 invite | wc -l) n2=$(phone_events ph3602 invite | wc -l)
[ "$n1" = 1 ] && [ "$n2" = 1 ] || fail "ring all: 3601 rung $n1 times, 3602 $n2 times"
a1=$(phone_events ph3601 answered | wc -l) a2=$(phone_events ph3602 answered | wc -l)
[ "$a1" = 1 ] && [ "$a2" = 1 ] || fail "ring all: both phones should answer (3601 $a1, 3602 $a2)"
win=$(cdr_check --where "$(where_call ringall)" --get agent 2> /dev/null)
case $win in 3601) lose=3602 ;; 3602) lose=3601 ;; *) fail "ring all: the caller's agent is '$win'" ;; esac
phone_events "ph$lose" bye | grep -q '"by": "engine"' || fail "ring all: the loser $lose was not hung up by the engine"
phone_events "ph$win" bye | grep -q '"by": "phone"' || fail "ring all: the winner $win did not talk until its own BYE"
ivr_cdr ringall queue=0436.general queue_outcome=answered agent="$win" --legs 3
cdr_check --where caller=043688880001 --where leg_index~^[12]$ --where agent="$lose" 'ring_ms>0' \
  > "$WORK/ringall_lose.check" 2>&1 || { cat "$WORK/ringall_lose.check"; fail "ring all: the loser's leg"; }
for n in "$win" "$lose"; do
  [ "$(agent_field "$n" misses)" = 0 ] || fail "ring all: $n counts $(agent_field "$n" misses) misses"
done
seq_lose=$(states_of "$lose")
echo "$seq_lose" | grep -qE 'ringing ready$' || fail "ring all: the loser $lose went '$seq_lose'"
echo "$(states_of "$win")" | grep -q 'talking wrap-up' || fail "ring all: the winner $win went '$(states_of "$win")'"
say "ring all: both answered, $win won, $lose hung up by the engine and ready ($seq_lose)"

# ---- abandon ---------------------------------------------------------------------------------
phone_events ph3701 cancelled | grep -q . || fail "abandon: 3701's phone got no CANCEL: $(cat "$WORK/ph3701.jsonl")"
ivr_cdr abandon queue=0437.general queue_outcome=abandoned 'agent='
RING37=$(acd_rule ring_timeout_ms 0437.general)
cdr_check --where caller=043788880001 --where leg_index=1 agent=3701 'ring_ms>0' "ring_ms<$RING37" \
  'answer_epoch=' > "$WORK/abandon1.check" 2>&1 || { cat "$WORK/abandon1.check"; fail "abandon: 3701's leg"; }
[ "$(agent_field 3701 state)" = ready ] && [ "$(agent_field 3701 misses)" = 0 ] ||
  fail "abandon: 3701 is $(agent_field 3701 state) with $(agent_field 3701 misses) misses, not ready with 0"
say "abandon: CANCEL to the ringing phone, 3701 ready with no miss, queue_outcome abandoned"
ivr_done "longest idle, skip on no answer, not-ready after max_misses, empty queue's offer, position announcement, overflow to province.general, ring all, abandon while ringing"
