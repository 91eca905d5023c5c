#!/usr/bin/env bash
# t15_hostile_scripts — scripts that try to freeze the engine (issue 7 item 5), while
# optping.py sends an OPTIONS every 5 ms and measures every answer:
#  1. calls whose script runs a hostile construct — a __gc finalizer that never ends, a
#     backtracking pattern ('a-b', '.-.-b' on 64 KiB; find, gsub in a pcall loop, gmatch),
#     loops of C-side work (upper of 64 KiB, load of 800 KB), a __close that never ends, an
#     endless loop — each end in the fallback path (CDR cause fallback, the stop's reason
#     in vars.stopped);
#  2. reloads with a hostile file — an endless loop at the top of a rules file and in
#     main.lua's body, a __gc, a pathological pattern, a scenario that runs on past
#     reload_timeout_ms, a pattern at a scenario file's top, a loop in engine.lua — are each
#     refused with a message naming the cause, the last good version keeps serving, and a
#     good reload afterwards is taken;
#  3. during each of these steps no OPTIONS waited 50 ms or more for its answer (a step over
#     it is tried again, up to 3 times: the machine is shared), and none was lost.
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
flows.copy = hostile_flow(function() while true do local s = BIG:upper() end end)
flows.parse = hostile_flow(function()
  local src = ("x=1 "):rep(200000)
  while true do load(src) end
end)
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

PING_LOG=$WORK/ping.log
"$PY" "$E2E/optping.py" 127.0.0.1 "$SIP_PORT" "$AUX_PORT" 5 "$WORK/ping.stop" "$WORK/ping.out" "$PING_LOG" &
PING_PID=$!
BG_PIDS+=("$PING_PID")
sleep 1

# Each hostile step is timed by the OPTIONS sent while it runs.  The machine is shared (other
# builds and tests run beside this one), so a step whose slowest answer is over the limit is
# tried again, up to 3 times: a construct that holds the loop does so on every try, a
# descheduled engine only now and then.
LIMIT_MS=50   # issue 7: SIP is answered within 50 ms while a script runs away
window_max() {  # window_max FROM TO: the slowest answer (ms) to an OPTIONS sent in between
  awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 > m { m = $2 } END { printf "%.1f", m + 0 }' "$PING_LOG"
}
steps=0
calm() {  # calm NAME CMD...: runs CMD until the OPTIONS meanwhile were all answered in time
  local name=$1 try t0 slowest=""
  shift
  for try in 1 2 3; do
    t0=$(date +%s.%N)
    "$@" "$try"
    sleep 0.1  # the answers to the last requests
    slowest=$(window_max "$t0" "$(date +%s.%N)")
    awk -v m="$slowest" -v l="$LIMIT_MS" 'BEGIN { exit !(m < l) }' && break
    say "$name, try $try: an OPTIONS waited $slowest ms"
    slowest="$slowest ms on try $try"
  done
  case $slowest in
    *try*) why="$why $name: an OPTIONS waited over $LIMIT_MS ms on each of 3 tries ($slowest);" ;;
    *) steps=$((steps + 1)) ;;
  esac
}

# -- 1. hostile calls end in the fallback path, each stopped for its own reason
declare -A reason=(
  [gc]='setmetatable: a __gc metamethod \(finalizer\) is refused'
  [find]='instruction budget' [cube]='instruction budget' [gsub]='instruction budget'
  [gmatch]='instruction budget' [close]='instruction budget' [loop]='instruction budget'
  [copy]='instruction budget' [parse]='instruction budget'
)
hostile_call() {  # hostile_call FLOW TRY
  local flow=$1 tag=$1-$2
  run_sipp "$tag" "$(scen uac_either WAIT_MS=8000)" "$flow" || why="$why $tag: $(sipp_why "$tag" $?);"
  cdr_check --quiet --where "$(where_call "$tag")" hangup_cause=fallback hangup_side=engine \
    "vars.stopped~${reason[$flow]}" > "$WORK/cdr-$tag.out" 2>&1 ||
    why="$why the $tag call did not end in the fallback stopped by '${reason[$flow]}' ($(tail -c 300 "$WORK/cdr-$tag.out"));"
}
for flow in gc find cube gsub gmatch copy parse close loop; do
  calm "call $flow" hostile_call "$flow"
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
# hostile_reload NAME EXPECTED_REGEX FILE write|append CONTENT TRY: puts the hostile file in
# place (CONTENT with \n for new lines) and expects the reload to be refused
hostile_reload() {
  if [ "$4" = append ]; then printf '%b\n' "$5" >> "$3"; else printf '%b\n' "$5" > "$3"; fi
  refused "$1" "$2"
}
# name | what the refusal must say | the file | write or append | what goes in
reloads=(
  'rules-loop|hostile.lua:1: instruction budget|rules/hostile.lua|write|while true do end'
  'rules-gc|hostile.lua:1: setmetatable: a __gc|rules/hostile.lua|write|setmetatable({}, { __gc = function() while true do end end })\nreturn {}'
  'rules-pattern|hostile.lua:1: instruction budget|rules/hostile.lua|write|local x = ("a"):rep(65536):find(".-.-b")\nreturn {}'
  'main-loop|main.lua:[0-9]+: instruction budget|scripts/main.lua|append|while true do end'
  'scenario-spin|reload_timeout_ms \(2000 ms|rules/hostile.scenario.lua|write|return { { name = "spins", called = "spin", expect = {} } }'
  'scenario-pattern|string.find: pattern needs more than|rules/hostile.scenario.lua|write|local x = ("a"):rep(65536):find(".-.-b")\nreturn {}'
  'engine-loop|engine.lua:1: runs too long|rules/engine.lua|write|while true do end'
)
for r in "${reloads[@]}"; do
  IFS='|' read -r name want file mode content <<< "$r"
  calm "reload $name" hostile_reload "$name" "$want" "$WORK/$file" "$mode" "$content"
done
sleep 1
ctl reload > "$WORK/reload-good.out" 2>&1 || why="$why the good reload after the hostile ones was refused: $(head -c 300 "$WORK/reload-good.out");"
run_sipp after "$(scen uac_either WAIT_MS=3000)" version || why="$why the call after the reloads: $(sipp_why after $?);"
cdr_check --quiet --where "$(where_call after)" route=tag-base > /dev/null || why="$why the call after the reloads did not run the script;"

# -- 3. SIP was answered throughout
touch "$WORK/ping.stop"
wait "$PING_PID"
read -r _ sent _ answered _ max_ms _ p99_ms _ worst_at < "$WORK/ping.out" || fail "optping.py wrote no summary"
say "OPTIONS: $sent sent, $answered answered, slowest ${max_ms} ms over the whole test (p99 ${p99_ms} ms)"
[ "$sent" -gt 1000 ] || why="$why only $sent OPTIONS were sent;"
[ "$answered" -eq "$sent" ] || why="$why $((sent - answered)) of $sent OPTIONS were not answered;"
engine_alive || fail "the engine died"
[ -z "$why" ] || fail "$why"
pass "9 hostile calls fell back, ${#reloads[@]} hostile reloads refused, each with every OPTIONS answered within $LIMIT_MS ms ($steps steps; $sent OPTIONS, p99 ${p99_ms} ms)"
