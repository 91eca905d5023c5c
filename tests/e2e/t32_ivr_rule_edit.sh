#!/usr/bin/env bash
# t32_ivr_rule_edit — an admin edits the 12333 rules while the engine runs (issue 3, "Done
# when"): new calls follow the new rule without a restart, calls in progress finish on the
# version they started with, and an edit that breaks a scenario or does not compile is
# refused.  Two engines, each on its own copy of scripts/ and rules/ (the files edited):
#   A (2026-07-01 10:00, a summer Wednesday, agent hours): every caller is 18704321234, a
#     mobile segment (1870432) rules/centres.lua does not know, and keys 0.
#     before   key 0 during the welcome -> queue:province.general (unknown: the province)
#     across   in the main menu when the admin adds ["1870432"] = "0432" to
#              mobile_segments (a new file renamed over centres.lua, as editors save); it
#              keys 0 after the reload -> still queue:province.general, on the old version
#     after    a new call once `ctl --json version` shows the reload -> queue:0432.general
#     inplace  the admin then rewrites the same file in place (same inode) with the segment
#              moved to "0433" and, after that reload, saves rules/ivr.lua with a syntax
#              error: `hotline ctl reload` exits non-zero naming rules/ivr.lua:2, the
#              version stays; this call, made after that, -> queue:0433.general
#   B (2026-09-22 17:30, a Tuesday: summer hours until 18:00, winter hours until 17:00):
#     the admin moves the summer end to Sep 15 in rules/calendar.lua without touching the
#     scenarios that pin Sep 16-30 as summer: `ctl reload` exits non-zero naming those
#     scenarios, `ctl version` is unchanged, and
#     summer   a new call: key 0 reaches an agent (queue:0432.general), hours in, summer
#     Then the admin updates rules/calendar.scenario.lua as docs/admin-guide.md says (Sep 30
#     and Sep 20 winter, the Sep 15/16 boundary): `ctl reload` accepts, and
#     winter   a new call at the same time hears the hours announcement (hours out, winter),
#              its key 0 reaches no queue
# Passes when every CDR has the route and the script_version (its content hash) above:
# before = across, after and inplace each another one; summer on B's first version, winter
# on a later one.  The engines' clocks run on from --clock: B stays within 17:30-17:31.
# Timing: welcome ~11.4 s (a key typed then is kept: the main menu is skipped), main menu
# 20.5 s, agent_transfer ~4.7 s, hours announcement ~11.9 s (see ivr/README.md).  Nobody
# serves the queues here: each key-0 call hears queue_no_agents and hangs up (a key typed
# ahead at 2 s: 18 s later, after the menu and agent_transfer; a key at 13.5 s: 9 s later).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
CALLER=18704321234
CITY_LINE=043212345678
RELOAD_WAIT=10   # seconds a reload may take to show (debounce 300 ms + build + scenarios)
declare -A PID   # the SIPp pid of each caller, by its tag

A=$WORK/a B=$WORK/b
for d in "$A" "$B"; do
  mkdir -p "$d"
  cp -r "$ROOT/rules" "$ROOT/scripts" "$d/" || fail "could not copy rules/ and scripts/"
  link_build "$d"
done
grep -q '\["1870432"\]' "$A/rules/centres.lua" && fail "rules/centres.lua already maps 1870432: pick another segment"
grep -q '^M.mobile_segments = {$' "$A/rules/centres.lua" || fail "rules/centres.lua: no 'M.mobile_segments = {' line"
grep -q 'to = { month = 9, day = 30 }' "$B/rules/calendar.lua" || fail "rules/calendar.lua: summer does not end Sep 30"

IVR_SCRIPTS=$A/scripts IVR_RULES=$A/rules start_ivr 2026-07-01T10:00:00
IVR_SCRIPTS=$B/scripts IVR_RULES=$B/rules start_ivr2 2026-09-22T17:30:00
"$PY" "$E2E/mkaudio.py" stream "$WORK/talk.ulaw" 4 pcmu || fail "mkaudio.py stream failed"

why() { local t=$1; shift; IVR_WHY="$IVR_WHY $t: $*;"; }
ctlx() { "$HOTLINE" ctl --data "$1" --timeout 30 "${@:2}"; }   # ctlx DATA_DIR COMMAND...
# pver DATA: the policy version the engine serves (vN-HASH)
pver() { ctlx "$1" --json version 2> /dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("policy", ""))'; }
# wait_pver DATA OLD: waits up to RELOAD_WAIT s for a policy version other than OLD; prints it
wait_pver() {
  local v i
  for ((i = 0; i < RELOAD_WAIT * 10; i++)); do
    v=$(pver "$1")
    [ -n "$v" ] && [ "$v" != "$2" ] && { echo "$v"; return 0; }
    sleep 0.1
  done
  return 1
}
# wait_calls DATA N: waits up to 5 s until N calls are up (they hold their policy from then on)
wait_calls() {
  local i n
  for ((i = 0; i < 50; i++)); do
    n=$(ctlx "$1" --json status 2> /dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("calls", 0))')
    [ "${n:-0}" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "$2 calls were not up within 5 s (engine $1 has ${n:-?})"
}
hash_of() { echo "${1#v*-}"; }   # the content hash of a version (the vN load counter aside)

vA0=$(pver "$DATA"); vB0=$(pver "$DATA2")
{ [ -n "$vA0" ] && [ -n "$vB0" ]; } || fail "hotline ctl --json version gave no policy version"
say "A serves $vA0, B serves $vB0"

# ---- A: two calls up, then the segment added (temp file renamed over centres.lua) ----------
ivr_call 0 before "$CALLER" stream:talk.ulaw pause:2000 info:0 pause:18000 bye; PID[before]=$!
ivr_call 1 across "$CALLER" stream:talk.ulaw pause:13500 info:0 pause:9000 bye; PID[across]=$!
t_across=$(date +%s%N)

# ---- B: the summer end moved to Sep 15 alone, written in place: refused --------------------
sed 's/to = { month = 9, day = 30 }/to = { month = 9, day = 15 }/' "$B/rules/calendar.lua" > "$WORK/calendar.lua"
cat "$WORK/calendar.lua" > "$B/rules/calendar.lua"
if ctlx "$DATA2" reload > "$WORK/reload_b1.out" 2>&1; then
  why refused "ctl reload accepted summer ending Sep 15 although calendar scenarios pin Sep 16-30 as summer: $(head -c 300 "$WORK/reload_b1.out")"
else
  grep -qE 'calendar\.scenario\.lua: .*Sep (1[6-9]|2[0-9]|30)' "$WORK/reload_b1.out" ||
    why refused "the refused reload does not name a calendar scenario of Sep 16-30: $(head -c 400 "$WORK/reload_b1.out")"
  say "B refused: $(grep -m1 -E 'FAIL|failed' "$WORK/reload_b1.out" | cut -c1-150)"
fi
sleep 0.5   # the file watcher's own attempt (debounced) is refused too
[ "$(pver "$DATA2")" = "$vB0" ] || why refused "ctl version changed from $vB0 to $(pver "$DATA2") after a refused edit"
IVR_ENGINE=2 ivr_call 4 summer "$CITY_LINE" stream:talk.ulaw pause:2000 info:0 pause:18000 bye; PID[summer]=$!

wait_calls "$DATA" 2
sed 's/^M.mobile_segments = {$/M.mobile_segments = {\n  ["1870432"] = "0432",/' "$A/rules/centres.lua" \
  > "$A/rules/.centres.lua.new"
mv "$A/rules/.centres.lua.new" "$A/rules/centres.lua"
vA1=$(wait_pver "$DATA" "$vA0") || fail "A: no reload within $RELOAD_WAIT s of adding a mobile segment (still $(pver "$DATA"))"
say "A reloaded on its own after the rename: $vA1"
# the across call keys 0 13.5 s after its answer: the new version must be live well before
[ $(( ($(date +%s%N) - t_across) / 1000000 )) -lt 11000 ] ||
  why across "the reload came too late (over 11 s after the call began) to be crossed by it"
ivr_call 2 after "$CALLER" stream:talk.ulaw pause:2000 info:0 pause:18000 bye; PID[after]=$!

# ---- B: the scenarios updated to the new rule (as the admin guide says): accepted ----------
wait_calls "$DATA2" 1
"$PY" - "$B/rules/calendar.scenario.lua" << 'EOF' || fail "could not update calendar.scenario.lua"
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
edits = [
    ('at("Sep 30 17:30 is still summer", "2026-09-30T17:30:00", "in", "workday", "summer"),',
     'at("Sep 30 17:30 is winter", "2026-09-30T17:30:00", "out", "workday", "winter"),\n'
     '  at("Sep 15 17:30 is still summer", "2026-09-15T17:30:00", "in", "workday", "summer"),\n'
     '  at("Sep 16 17:30 is winter", "2026-09-16T17:30:00", "out", "workday", "winter"),'),
    ('at("Sep 20 (a Sunday, make-up working day): summer hours", "2026-09-20T17:30:00", "in", "makeup_workday", "summer"),',
     'at("Sep 20 (a Sunday, make-up working day): winter hours", "2026-09-20T17:30:00", "out", "makeup_workday", "winter"),'),
]
for old, new in edits:
    if old not in s:
        sys.exit("calendar.scenario.lua has no line " + old)
    s = s.replace(old, new)
with open(p, "w", encoding="utf-8") as f:
    f.write(s)
EOF
if ctlx "$DATA2" reload > "$WORK/reload_b2.out" 2>&1; then
  vB1=$(pver "$DATA2")
  say "B accepted: $(head -n 1 "$WORK/reload_b2.out" | cut -c1-150)"
else
  fail "ctl reload refused the summer end moved with its scenarios: $(head -c 400 "$WORK/reload_b2.out")"
fi
[ "$vB1" != "$vB0" ] || fail "B: ctl reload succeeded but ctl version still shows $vB0"
IVR_ENGINE=2 ivr_call 5 winter "$CITY_LINE" stream:talk.ulaw pause:2000 info:0 pause:14000 bye; PID[winter]=$!

# ---- A: the segment moved to 0433 by a plain in-place write; then a syntax error ----------
wait_calls "$DATA" 3
inode=$(stat -c %i "$A/rules/centres.lua")
sed 's/^  \["1870432"\] = "0432",$/  ["1870432"] = "0433",/' "$A/rules/centres.lua" > "$WORK/centres.lua"
grep -q '"1870432"\] = "0433"' "$WORK/centres.lua" || fail "could not move segment 1870432 to 0433"
cat "$WORK/centres.lua" > "$A/rules/centres.lua"
[ "$(stat -c %i "$A/rules/centres.lua")" = "$inode" ] || fail "centres.lua was not rewritten in place"
vA2=$(wait_pver "$DATA" "$vA1") || fail "A: no reload within $RELOAD_WAIT s of an in-place write (still $(pver "$DATA"))"
say "A reloaded on its own after the in-place write: $vA2"

awk 'NR == 2 { print "local broken = = 1" } { print }' "$A/rules/ivr.lua" > "$WORK/ivr.lua"
cat "$WORK/ivr.lua" > "$A/rules/ivr.lua"
if ctlx "$DATA" reload > "$WORK/reload_a.out" 2>&1; then
  why syntax "ctl reload accepted rules/ivr.lua with a syntax error: $(head -c 300 "$WORK/reload_a.out")"
else
  grep -q 'ivr\.lua:2:' "$WORK/reload_a.out" ||
    why syntax "the refused reload does not say ivr.lua:2: $(head -c 300 "$WORK/reload_a.out")"
  say "A refused: $(head -n 1 "$WORK/reload_a.out" | cut -c1-150)"
fi
sleep 0.5   # the file watcher's attempt: refused too
vA3=$(pver "$DATA")
[ "$vA3" = "$vA2" ] || why syntax "ctl version changed from $vA2 to $vA3 after a syntax error"
ivr_call 3 inplace "$CALLER" stream:talk.ulaw pause:2000 info:0 pause:18000 bye; PID[inplace]=$!

for c in before across after inplace summer winter; do
  ivr_wait "$c" "${PID[$c]}"
done
engine_alive || fail "engine A died"

# ---- the CDRs -------------------------------------------------------------------------------
h0=$(hash_of "$vA0") h1=$(hash_of "$vA1") h2=$(hash_of "$vA2")
ivr_cdr before route=queue:province.general dtmf=0 hangup_side=caller vars.hours=in \
  "script_version~-$h0\$"
ivr_cdr across route=queue:province.general dtmf=0 hangup_side=caller menus=main \
  'prompts~ main_menu agent_transfer queue_no_agents' "script_version~-$h0\$"
ivr_cdr after route=queue:0432.general dtmf=0 hangup_side=caller "script_version~-$h1\$"
ivr_cdr inplace route=queue:0433.general dtmf=0 hangup_side=caller "script_version~-$h2\$"
IVR_ENGINE=2 ivr_cdr summer route=queue:0432.general hangup_side=caller vars.hours=in \
  vars.season=summer "script_version=$vB0" 'prompts~ agent_transfer queue_no_agents'
IVR_ENGINE=2 ivr_cdr winter route=hangup hangup_side=caller vars.hours=out vars.season=winter \
  "script_version!=$vB0" 'prompts~ welcome_2 hours_info'
{ [ "$h0" != "$h1" ] && [ "$h1" != "$h2" ] && [ "$h0" != "$h2" ]; } ||
  why versions "the three policies of A do not differ: $vA0 $vA1 $vA2"
ivr_done "segment added by rename: new calls queue:0432.general ($vA1) while a call across the edit kept province.general ($vA0); in-place write -> 0433 ($vA2); syntax error refused (ivr.lua:2); summer end Sep 15 refused until its scenarios changed, then 17:30 on Sep 22 is out of hours"
