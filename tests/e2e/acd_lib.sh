# acd_lib.sh — what the ACD end-to-end tests (t34-t36) add to lib.sh and ivr_lib.sh: agents'
# accounts and phones (agent_phone.py), callers whose media is a python RTP end
# (rtpsink.py given a stream to send: it sends it and records what it hears), a copy of rules/ with
# shorter waits, and readers of `hotline ctl agents --json` and of the rules' values.
# Source it after lib.sh and ivr_lib.sh.
# shellcheck shell=bash disable=SC2034,SC2153

ACD_CLOCK=2026-07-01T10:00:00      # a summer Wednesday in agent hours (as t30)
QUEUES_LUA=$ROOT/rules/queues.lua  # where acd_rule reads; acd_rules_copy moves it

# ---- rules -----------------------------------------------------------------------------------
# acd_rules_copy: the engine runs a copy of rules/ in $WORK/rules (acd_set edits it).  The
# copy's engine.lua gives the policy's build and self-test (300+ scenarios and property
# tests, run at every start) reload_timeout_ms 30000: on a loaded machine (the suite, other
# sessions) the default 10 s was seen to run out, and the engine then refuses to start.
acd_rules_copy() {
  rm -rf "${WORK:?}/rules"
  cp -r "$ROOT/rules" "$WORK/rules" || fail "could not copy rules/"
  link_build "$WORK"
  IVR_RULES=$WORK/rules QUEUES_LUA=$WORK/rules/queues.lua
  acd_engine_set reload_timeout_ms 30000
}
# acd_engine_set KEY VALUE: a tunable in the copy's engine.lua (first in its table).
acd_engine_set() {
  grep -q '^return {$' "$IVR_RULES/engine.lua" || fail "rules/engine.lua does not start its table with 'return {'"
  grep -qE "^ *$1 *=" "$IVR_RULES/engine.lua" && fail "rules/engine.lua sets $1 already: edit it there"
  sed -i "s/^return {\$/return {\n  $1 = $2,   -- $T/" "$IVR_RULES/engine.lua"
}
# acd_set KEY VALUE: sets M.defaults' KEY (a number) in the copy's queues.lua.
acd_set() {
  grep -qE "^  $1 = " "$QUEUES_LUA" || fail "rules/queues.lua has no default $1 (format changed?)"
  sed -i -E "s/^  $1 = [^,]+,/  $1 = $2,/" "$QUEUES_LUA"
}
# acd_set_overflow MS: M.overflow.after_ms in the copy.
acd_set_overflow() {
  grep -qE '^M\.overflow = \{ *after_ms = [0-9]+' "$QUEUES_LUA" || fail "rules/queues.lua: no M.overflow line (format changed?)"
  sed -i -E "s/^(M\.overflow = \{ *after_ms = )[0-9]+/\1$1/" "$QUEUES_LUA"
}
# acd_override QUEUE FIELDS: the copy's queues.lua gets M.overrides[QUEUE] = { FIELDS } (Lua
# fields of M.defaults, e.g. 'ring_timeout_ms = 3000, strategy = "ring_all"'), one line
# before the queue list; acd_rule KEY QUEUE reads them back.
acd_override() {
  grep -q '^local kinds = ' "$QUEUES_LUA" || fail "rules/queues.lua has no 'local kinds' line (format changed?)"
  sed -i "/^local kinds = /i M.overrides[\"$1\"] = { $2 }" "$QUEUES_LUA"
}
# acd_rule KEY [QUEUE]: the value of M.defaults' KEY (numbers, or a quoted word without
# quotes) in the queues.lua the engine runs, or of QUEUE's override when it has one;
# acd_rule overflow.after_ms reads M.overflow.
acd_rule() {
  local v
  if [ -n "${2:-}" ]; then
    v=$(sed -nE "s/^M\.overrides\[\"$2\"\] = \{.*[ ,{]$1 = \"?([A-Za-z0-9_.-]+)\"?[ ,}].*/\1/p" "$QUEUES_LUA")
    [ -n "$v" ] && { echo "$v"; return 0; }
  fi
  case $1 in
    overflow.after_ms) v=$(sed -nE 's/^M\.overflow = \{ *after_ms = ([0-9]+).*/\1/p' "$QUEUES_LUA") ;;
    *) v=$(sed -nE "s/^  $1 = \"?([A-Za-z0-9_.-]+)\"?,.*/\1/p" "$QUEUES_LUA" | head -n 1) ;;
  esac
  [ -n "$v" ] || fail "cannot read $1 from $QUEUES_LUA"
  echo "$v"
}

# ---- agents ----------------------------------------------------------------------------------
# acd_agent NUMBER CENTRE PASSWORD [SKILLS]: an account (`hotline ctl agent add`).
acd_agent() {
  echo "$3" | ctl agent add "$1" --centre "$2" --skills "${4:-general}" > "$WORK/agent_add_$1.out" 2>&1 ||
    fail "ctl agent add $1: $(cat "$WORK/agent_add_$1.out")"
}
# acd_phone TAG NUMBER PASSWORD IP PORT [agent_phone.py options]: the agent's phone in the
# background; its events in $WORK/TAG.jsonl; pid in $! and BG_PIDS.
acd_phone() {
  local tag=$1 num=$2 pw=$3 ip=$4 port=$5; shift 5
  "$PY" "$E2E/agent_phone.py" --engine "127.0.0.1:$SIP_PORT" --bind "$ip:$port" --user "$num" \
    --password "$pw" "$@" > "$WORK/$tag.jsonl" 2> "$WORK/$tag.err" &
  BG_PIDS+=("$!")
}
# acd_ready NUMBER TAG: waits for the agent's phone (events in $WORK/TAG.jsonl) to register,
# then sets the agent ready (`ctl agent state`) and waits until `ctl agents` says so.
acd_ready() {
  wait_registered "$1" 5 || fail "agent $1's phone did not register: $(cat "$WORK/$2.jsonl")"
  ctl agent state "$1" ready > /dev/null || fail "ctl agent state $1 ready failed"
  wait_agent "$1" state ready 3 || fail "agent $1 is $(agent_field "$1" state), not ready"
}
# jq-like reading of JSON on stdin with a python expression over d.
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }
# agent_field NUMBER FIELD: a field of that agent in `ctl agents --json`.
agent_field() {
  ctl agents --json 2> /dev/null | jget "next((a.get('$2') for a in (d['agents'] if isinstance(d, dict) else d) if a['number'] == '$1'), None)"
}
# wait_agent NUMBER FIELD VALUE SECONDS: until the agent's FIELD is VALUE.
wait_agent() {
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    [ "$(agent_field "$1" "$2")" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
# wait_registered NUMBER SECONDS: until the agent has a registered phone (ctl agents' contacts).
wait_registered() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ "$(agent_field "$1" contacts | tr -d '[]')" != "" ] && return 0
    sleep 0.1
  done
  return 1
}
# phone_events TAG EVENT: that phone's events of one kind, one JSON line each.
phone_events() { grep "\"event\": \"$2\"" "$WORK/$1.jsonl" 2> /dev/null; }

# ---- callers ---------------------------------------------------------------------------------
# acd_call SLOT TAG CALLER SEND.ulaw STEP...: ivr_call whose SDP names rtpsink.py (sending SEND.ulaw) on
# 127.0.0.1:$((IVR_BASE + 100 + 2 * SLOT)) (it sends SEND.ulaw and records into
# $WORK/TAG.rtp.jsonl); the SIPp pid in $! and BG_PIDS (collect it with ivr_wait).
acd_call() {
  local slot=$1 tag=$2 caller=$3 send=$4; shift 4
  local rport=$((IVR_BASE + 100 + 2 * slot))
  "$PY" "$E2E/rtpsink.py" "$rport" "$WORK/$tag.rtp.jsonl" 90 "$send" > "$WORK/$tag.peer.out" 2>&1 &
  BG_PIDS+=("$!")
  local sc=$WORK/$tag.xml
  "$PY" "$E2E/ivr/mkscen.py" "$E2E/sipp/ivr_uac.xml" "$sc" "$caller" "$@" || fail "mkscen.py failed for $tag"
  sed -i "s/^\( *\)m=audio \[media_port\]/\1m=audio $rport/" "$sc"
  grep -q "m=audio $rport " "$sc" || fail "could not point $tag's SDP at its RTP end"
  SIPP_LOCAL=$((IVR_BASE + slot)) SIPP_MEDIA=$((IVR_BASE + 40 + 4 * slot)) sipp_bg "$tag" "$sc" 12333
}

# ---- states over time ------------------------------------------------------------------------
# acd_watch: agentwatch.py in the background writes every agent's state changes to
# $WORK/states.jsonl.
acd_watch() {
  "$PY" "$E2E/agentwatch.py" "$HOTLINE" "$DATA" "$WORK/states.jsonl" 100 2> "$WORK/agentwatch.err" &
  BG_PIDS+=("$!")
}
# states_of NUMBER: that agent's states in order, "a b c" (each change once).
states_of() {
  "$PY" -c 'import json,sys
print(" ".join(j["state"] for j in map(json.loads, open(sys.argv[1])) if j["number"] == sys.argv[2]))' \
    "$WORK/states.jsonl" "$1"
}
# state_span NUMBER STATE: ms the agent spent in STATE the last time (from the watch).
state_span() {
  "$PY" -c 'import json,sys
rows = [j for j in map(json.loads, open(sys.argv[1])) if j["number"] == sys.argv[2]]
span = -1
for a, b in zip(rows, rows[1:]):
    if a["state"] == sys.argv[3]:
        span = int((b["t"] - a["t"]) * 1000)
print(span)' "$WORK/states.jsonl" "$1" "$2"
}
