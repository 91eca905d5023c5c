#!/usr/bin/env bash
# t15_hostile_scripts — scripts that try to freeze the engine (issue 7 item 5), while
# optping.py sends an OPTIONS every 5 ms and measures every answer:
#  1. calls whose script runs a hostile construct — a __gc finalizer that never ends, a
#     backtracking pattern ('a-b', '.-.-b' on 64 KiB; find, gsub in a pcall loop, gmatch),
#     a __close that never ends, an endless loop — each end in the fallback path (CDR cause
#     fallback, the stop's reason in vars.stopped);
#  2. reloads with a hostile file — an endless loop at the top of a rules file and in
#     main.lua's body, a __gc, a pathological pattern, a scenario that runs on past
#     reload_timeout_ms, a pattern at a scenario file's top, a loop in engine.lua — are each
#     refused with a message naming the cause, the last good version keeps serving, and a
#     good reload afterwards is taken;
#  3. no OPTIONS waited 50 ms or more for its answer, none was lost.
# Works on copies of the test scripts and rules; the hostile flows are appended to the copy.
. "$(dirname "$0")/lib.sh"
cp -r "$E2E/scripts" "$WORK/scripts"
mkdir -p "$WORK/rules"
# a scenario that runs on must be stopped soon: 2 s instead of the shipped 10 s
GOOD_ENGINE='return { reload_timeout_ms = 2000 }'
echo "$GOOD_ENGINE" > "$WORK/rules/engine.lua"
echo 'return {}' > "$WORK/rules/hostile.lua"
sed -i 's/^local TAG = "base"$/&\nlocal hostile = require("hostile")  -- t15 rewrites rules\/hostile.lua/' "$WORK/scripts/main.lua"
cat >> "$WORK/scripts/main.lua" <<'EOF'

-- t15_hostile_scripts: constructs that held the loop before issue 7 (each must be stopped)
local BIG = ("a"):rep(65536)
local function hostile_flow(body)
  return function(call)
    call:answer()
    call:set_route("hostile")
    body(call)
    call:set_route("not-stopped")
    call:hangup()
  end
end
flows.gc = hostile_flow(function()
  setmetatable({}, { __gc = function() while true do end end })
end)
flows.find = hostile_flow(function() return BIG:find("a-b") end)
flows.cube = hostile_flow(function() return BIG:find(".-.-b") end)
flows.gsub = hostile_flow(function() while true do pcall(string.gsub, BIG, ".-.-b", "") end end)
flows.gmatch = hostile_flow(function() for _ in BIG:gmatch(".-.-b") do end end)
flows.close = hostile_flow(function()
  local x <close> = setmetatable({}, { __close = function() while true do end end })
end)
-- spin: each step within the budget, but it never ends (a scenario of it must hit the
-- reload time limit)
function flows.spin(call)
  call:answer()
  while true do
    local x = 0
    for i = 1, 100000 do x = x + i end
    call:sleep(10)
  end
end
-- the stop's reason goes to the CDR (vars.stopped); the engine then ends the call at once
function fallback(call, err)
  call.vars.stopped = tostring(err):sub(1, 200)
end
EOF
start_engine --scripts "$WORK/scripts" --rules "$WORK/rules"
why=""

"$PY" "$E2E/optping.py" 127.0.0.1 "$SIP_PORT" "$AUX_PORT" 5 "$WORK/ping.stop" "$WORK/ping.out" &
PING_PID=$!
BG_PIDS+=("$PING_PID")
sleep 1

# -- 1. hostile calls end in the fallback path, each stopped for its own reason
declare -A reason=(
  [gc]='setmetatable: a __gc metamethod \(finalizer\) is refused'
  [find]='instruction budget' [cube]='instruction budget' [gsub]='instruction budget'
  [gmatch]='instruction budget' [close]='instruction budget' [loop]='instruction budget'
)
for flow in gc find cube gsub gmatch close loop; do
  run_sipp "$flow" "$(scen uac_either WAIT_MS=8000)" "$flow" || why="$why $flow: $(sipp_why "$flow" $?);"
  cdr_check --quiet --where "$(where_call "$flow")" hangup_cause=fallback hangup_side=engine \
    "vars.stopped~${reason[$flow]}" > "$WORK/cdr-$flow.out" 2>&1 ||
    why="$why the $flow call did not end in the fallback stopped by '${reason[$flow]}' ($(tail -c 300 "$WORK/cdr-$flow.out"));"
done
say "hostile calls done"

# -- 2. hostile reloads are refused; the good version keeps serving
policy_hash() { ctl status 2>/dev/null | grep -oE 'v[0-9]+-[0-9a-f]{8}' | head -n 1 | sed 's/^v[0-9]*-//'; }
good=$(policy_hash)
[ -n "$good" ] || fail "no policy version in 'ctl status': $(ctl status 2>&1 | head -c 300)"
cp "$WORK/scripts/main.lua" "$WORK/main.lua.good"
restore() {
  echo 'return {}' > "$WORK/rules/hostile.lua"
  rm -f "$WORK/rules/hostile.scenario.lua"
  echo "$GOOD_ENGINE" > "$WORK/rules/engine.lua"
  cp "$WORK/main.lua.good" "$WORK/scripts/main.lua"
}
# refused NAME EXPECTED_REGEX: `ctl reload` must fail with a message matching it, within the
# time limit and a margin, and the engine must still serve the good version.
refused() {
  local name=$1 want=$2 t0 secs
  # The file watch reloads too, and a `ctl reload` that arrives while a build runs gets that
  # build's outcome: the first one drains what runs, the second reports the files as written.
  sleep 0.5
  ctl --timeout 60 reload > /dev/null 2>&1
  t0=$(date +%s.%N)
  if ctl --timeout 60 reload > "$WORK/reload-$name.out" 2>&1; then
    why="$why reload '$name' was accepted;"
  elif ! grep -qE "$want" "$WORK/reload-$name.out"; then
    why="$why reload '$name' refused without '$want': $(head -c 300 "$WORK/reload-$name.out");"
  fi
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  say "reload $name refused after ${secs}s: $(grep -m1 -oE "$want.{0,60}" "$WORK/reload-$name.out" | head -c 120)"
  awk -v s="$secs" 'BEGIN { exit !(s < 6) }' || why="$why reload '$name' took ${secs}s (limit 2 s);"
  [ "$(policy_hash)" = "$good" ] || why="$why after reload '$name' the engine no longer serves $good;"
  restore
}
printf 'while true do end\n' > "$WORK/rules/hostile.lua"
refused rules-loop 'hostile.lua:1: instruction budget'
printf 'setmetatable({}, { __gc = function() while true do end end })\nreturn {}\n' > "$WORK/rules/hostile.lua"
refused rules-gc 'hostile.lua:1: setmetatable: a __gc'
printf 'local x = ("a"):rep(65536):find(".-.-b")\nreturn {}\n' > "$WORK/rules/hostile.lua"
refused rules-pattern 'hostile.lua:1: instruction budget'
printf '\nwhile true do end\n' >> "$WORK/scripts/main.lua"
refused main-loop 'main.lua:[0-9]+: instruction budget'
printf 'return { { name = "spins", called = "spin", expect = {} } }\n' > "$WORK/rules/hostile.scenario.lua"
refused scenario-spin 'reload_timeout_ms \(2000 ms'
printf 'local x = ("a"):rep(65536):find(".-.-b")\nreturn {}\n' > "$WORK/rules/hostile.scenario.lua"
refused scenario-pattern 'string.find: pattern needs more than'
printf 'while true do end\n' > "$WORK/rules/engine.lua"
refused engine-loop 'engine.lua:1: runs too long'
sleep 1
ctl reload > "$WORK/reload-good.out" 2>&1 || why="$why the good reload after the hostile ones was refused: $(head -c 300 "$WORK/reload-good.out");"
run_sipp after "$(scen uac_either WAIT_MS=3000)" version || why="$why the call after the reloads: $(sipp_why after $?);"
cdr_check --quiet --where "$(where_call after)" route=tag-base > /dev/null || why="$why the call after the reloads did not run the script;"

# -- 3. SIP was answered throughout
touch "$WORK/ping.stop"
wait "$PING_PID"
read -r _ sent _ answered _ max_ms _ p99_ms _ worst_at < "$WORK/ping.out" || fail "optping.py wrote no summary"
say "OPTIONS: $sent sent, $answered answered, longest ${max_ms} ms (p99 ${p99_ms} ms, at ${worst_at} s)"
[ "$sent" -gt 1000 ] || why="$why only $sent OPTIONS were sent;"
[ "$answered" -eq "$sent" ] || why="$why $((sent - answered)) of $sent OPTIONS were not answered;"
awk -v m="$max_ms" 'BEGIN { exit !(m < 50) }' || why="$why an OPTIONS waited ${max_ms} ms for its answer (limit 50 ms);"
engine_alive || fail "the engine died"
[ -z "$why" ] || fail "$why"
pass "7 hostile calls fell back, 7 hostile reloads refused, OPTIONS answered in at most ${max_ms} ms ($sent sent)"
