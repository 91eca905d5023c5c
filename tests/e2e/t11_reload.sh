#!/usr/bin/env bash
# t11_reload — reloads under load and runaway scripts, on a copy of the test scripts:
#  1. 50 calls in progress (SIPp, 8 s each) when main.lua's TAG is edited: the engine
#     reloads (file watch, else `hotline ctl reload`); a new call runs the new version
#     (route tag-new, another script_version) while the 50 finish on the old one.
#  2. `hotline ctl reload` with a syntax error is refused (non-zero exit, a message naming
#     the file) and calls are still served, on the last good version.
#  3. An endless loop and a script that eats memory each end in the fallback path (CDR
#     hangup_cause fallback), and the next call is answered.
. "$(dirname "$0")/lib.sh"
cp -r "$E2E/scripts" "$WORK/scripts"
start_engine --scripts "$WORK/scripts"
why=""

# -- 1. reload with 50 calls up
SIPP_TIMEOUT=60 SIPP_LOCAL=$SIPP2_PORT SIPP_MEDIA=$MEDIA2_PORT sipp_bg load "$(scen uac_bye MEDIA=)" version -d 8000 -m 50 -l 50 -r 50 -rp 1000; LOAD_PID=$!
for _ in $(seq 100); do
  [ "$(grep -c 'route tag-base' "$ENGINE_LOG")" -ge 50 ] && break
  sleep 0.1
done
up=$(grep -c 'route tag-base' "$ENGINE_LOG")
[ "$up" -ge 50 ] || fail "only $up of 50 calls reached the script within 10 s"
sed -i 's/^local TAG = "base"/local TAG = "new"/' "$WORK/scripts/main.lua"
watched=0
for _ in $(seq 50); do
  if grep -qE 'v2-[0-9a-f]+' "$ENGINE_LOG"; then watched=1; break; fi
  sleep 0.1
done
if [ "$watched" -ne 1 ]; then
  why="$why the file watcher did not reload within 5 s of the edit (used ctl reload);"
  ctl reload > "$WORK/reload1.out" 2>&1 || fail "ctl reload of a good script failed: $(cat "$WORK/reload1.out")"
fi
run_sipp new "$(scen uac_bye MEDIA=)" version -d 300 || fail "call after the reload: $(sipp_why new $?)"
wait "$LOAD_PID"; rc=$?
[ "$rc" -eq 0 ] || why="$why the 50 calls across the reload: $(sipp_why load "$rc");"
cdr_check --where "$(where_call new)" route=tag-new > /dev/null || fail "the call after the reload did not run the new script"
v_new=$(cdr_check --where "$(where_call new)" --get script_version)
cdr_check --where route=tag-base --count 50 --wait 10 --quiet hangup_side=caller hangup_cause=bye \
  "script_version!=$v_new" || fail "the 50 calls did not all finish on the old version"
v_old=$(cdr_check --where route=tag-base --count 50 --get script_version)
say "50 calls finished on $v_old; the new call ran $v_new"

# -- 2. a broken script is refused, calls go on
cp "$WORK/scripts/main.lua" "$WORK/main.lua.good"
printf '\nlocal broken = (\n' >> "$WORK/scripts/main.lua"
sleep 1  # let the file watcher try (and refuse) first
if ctl reload > "$WORK/reload2.out" 2>&1; then
  fail "ctl reload accepted a script with a syntax error: $(cat "$WORK/reload2.out")"
fi
grep -q 'main.lua' "$WORK/reload2.out" || why="$why the refused reload's message does not name main.lua ($(head -c 200 "$WORK/reload2.out"));"
say "refused: $(head -n 2 "$WORK/reload2.out" | tr '\n' ' ' | cut -c1-160)"
run_sipp broken "$(scen uac_bye MEDIA=)" version -d 300 || fail "call after the refused reload: $(sipp_why broken $?)"
cdr_check --where "$(where_call broken)" route=tag-new "script_version=$v_new" > /dev/null ||
  fail "the call after the refused reload did not run the last good version $v_new"
cp "$WORK/main.lua.good" "$WORK/scripts/main.lua"
sleep 0.5

# -- 3. runaway scripts take the fallback path (the apology prompt "sorry" lasts ~8 s, so
#       both calls run at once, and SIPp waits up to 15 s for the engine's BYE)
sipp_bg loop "$(scen uac_either WAIT_MS=15000)" loop; LOOP_PID=$!
SIPP_LOCAL=$SIPP2_PORT SIPP_MEDIA=$MEDIA2_PORT sipp_bg eatmem "$(scen uac_either WAIT_MS=15000)" eatmem
EAT_PID=$!
wait "$LOOP_PID"; rc_loop=$?
wait "$EAT_PID"; rc_eat=$?
[ "$rc_loop" -eq 0 ] || why="$why loop: $(sipp_why loop "$rc_loop");"
[ "$rc_eat" -eq 0 ] || why="$why eatmem: $(sipp_why eatmem "$rc_eat");"
for flow in loop eatmem; do
  cdr_check --where "$(where_call "$flow")" hangup_cause=fallback hangup_side=engine ||
    why="$why the $flow call did not end in the fallback path;"
done
run_sipp next "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=10000)" hangup || why="$why the call after the runaway scripts: $(sipp_why next $?);"
engine_alive || fail "the engine died"
[ -z "$why" ] || fail "$why"
pass "50 calls kept $v_old while new calls ran $v_new; broken reload refused; loop and memory hog fell back"
