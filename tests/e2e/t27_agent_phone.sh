#!/usr/bin/env bash
# t27_agent_phone — agents' phones calling and being checked (issue 8: items 1, 5 and the
# digest done-when), with the test's own policy (tests/e2e/agents/main.lua: agent_call) and
# rules (few failures lock out, qualify every second):
#  1. an INVITE with an agent's number from a phone that never registered gets 403 and no
#     call; a registered agent's INVITE is challenged (401), answered with the agent's
#     password it becomes a call running agent_call (CDR: caller and call.agent are the
#     agent's number); a REFER from the phone gets 202 and NOTIFY 100 Trying, then 603 (no
#     transfer is wired yet: the call layer declines it); the engine's BYE ends the call;
#     a caller from the trunk (whose call runs main) gets 403 for a REFER: only agents transfer;
#  2. the same Authorization sent again for a new call (same nonce and nc) is refused (401)
#     and logged as a replay;
#  3. a wrong password: challenged again until agent_auth_fail_limit, then 403 — and 403
#     for the right one too (locked out), no call placed;
#  4. qualify: a phone that answers OPTIONS stays; once it falls silent, its registration
#     is removed after agent_qualify_fails unanswered rounds (ctl agents, log, ctl status).
. "$(dirname "$0")/lib.sh"
RULES=$WORK/rules; mkdir -p "$RULES"
cat > "$RULES/engine.lua" <<'EOF2'
-- t27: few failures lock out; qualify every second so that a silent phone goes quickly
return {
  agent_auth_fail_limit    = 3,
  agent_auth_fail_window_s = 60,
  agent_lockout_s          = 60,
  agent_digest_algorithms  = "MD5,SHA-256",
  agent_qualify_s          = 1,
  agent_qualify_fails      = 2,
}
EOF2
cat > "$RULES/trunks.lua" <<'EOF2'
-- trunks.lua (t27): the only trunk is 127.0.0.1; agents' phones are on other addresses
return { trunks = { { name = "local", sources = { "127.0.0.1" }, deliver = { "12333" } } } }
EOF2
tune() { sed -nE "s/^ *$1 *= *([0-9]+).*/\1/p" "$RULES/engine.lua"; }
LIMIT=$(tune agent_auth_fail_limit); QS=$(tune agent_qualify_s); QF=$(tune agent_qualify_fails)
[ -n "$LIMIT" ] && [ -n "$QS" ] && [ -n "$QF" ] || fail "cannot read the tunables from engine.lua"
start_engine --scripts "$E2E/agents" --rules "$RULES"
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }
phone() { "$PY" "$E2E/agentphone.py" 127.0.0.1 "$SIP_PORT" "$@"; }
step() { grep "\"step\": \"$1\"" | head -n 1 | jget "$2"; }
steps() { grep "\"step\": \"$1\"" | "$PY" -c 'import json,sys; print(" ".join(str(eval(sys.argv[1], {}, {"d": json.loads(l)})) for l in sys.stdin))' "$2"; }
contacts() { ctl --json agents | jget "[len(a['contacts']) for a in d['agents'] if a['number'] == '$1'][0]"; }
PW1=t27-pw-one; PW2=t27-pw-two; PW3=t27-pw-three
echo "$PW1" | ctl agent add 1001 --centre 0431 > /dev/null || fail "agent add 1001"
echo "$PW2" | ctl agent add 1002 --centre 0431 > /dev/null || fail "agent add 1002"
echo "$PW3" | ctl agent add 1003 --centre 0431 > /dev/null || fail "agent add 1003"

# 1. a stranger with an agent's number; the agent's own call with a REFER
phone 127.0.0.30 "$AUX_PORT" 1001 "$PW1" call 8001 noreg > "$WORK/stranger.jsonl"
[ "$(step challenge 'd["code"]' < "$WORK/stranger.jsonl")" = 403 ] ||
  fail "an unregistered phone with an agent's number was not refused 403: $(cat "$WORK/stranger.jsonl")"
grep -q "403 to INVITE from agent 1001 at 127.0.0.30" "$ENGINE_LOG" || fail "the refusal is not logged"
phone 127.0.0.2 "$AUX_PORT" 1001 "$PW1" call 8001 refer=0431.general replay > "$WORK/call.jsonl"
[ "$(step register 'd["code"]' < "$WORK/call.jsonl")" = 200 ] || fail "1001 did not register: $(cat "$WORK/call.jsonl")"
[ "$(step challenge 'd["code"]' < "$WORK/call.jsonl")" = 401 ] || fail "the agent's INVITE was not challenged"
[ "$(step answer 'd["code"]' < "$WORK/call.jsonl")" = 200 ] || fail "the answered INVITE was not taken: $(cat "$WORK/call.jsonl")"
[ "$(step refer 'd["code"]' < "$WORK/call.jsonl")" = 202 ] || fail "the REFER was not accepted: $(cat "$WORK/call.jsonl")"
frags=$(steps notify 'd["frag"].replace(" ", "_") + "/" + d["state"].split(";")[0]' < "$WORK/call.jsonl")
[ "$frags" = "SIP/2.0_100_Trying/active SIP/2.0_603_Decline/terminated" ] ||
  fail "the REFER's NOTIFYs were: $frags"
[ "$(step bye 'd["got"]' < "$WORK/call.jsonl")" = True ] || fail "the engine did not end the agent's call"
cdr_check --where caller=1001 'route=agent:1001:caller:1001' called=8001 > /dev/null ||
  fail "the agent's call did not run agent_call with call.agent 1001"
grep -q "asks to transfer to sip:0431.general@127.0.0.1: declined" "$ENGINE_LOG" || fail "the declined REFER is not logged"
phone 127.0.0.1 "$AUX_PORT" 13904310000 - call 12333 noreg refer=1001 > "$WORK/caller.jsonl"
[ "$(step challenge 'd["code"]' < "$WORK/caller.jsonl")" = 200 ] &&
  [ "$(step refer 'd["code"]' < "$WORK/caller.jsonl")" = 403 ] ||
  fail "a trunk caller's REFER was not refused 403: $(cat "$WORK/caller.jsonl")"
cdr_check --where caller=13904310000 route=main > /dev/null || fail "the trunk caller's call did not run main"
say "an unregistered phone gets 403; the agent's call is challenged, runs agent_call, its REFER gets 202 + NOTIFY 100/603; a caller's REFER 403"

# 2. the replay
[ "$(step replay 'd["code"]' < "$WORK/call.jsonl")" = 401 ] || fail "a replayed Authorization was not refused"
grep -q "INVITE 1001 from 127.0.0.2:$AUX_PORT/udp: a nonce answered again (replay) refused" "$ENGINE_LOG" ||
  fail "the replay is not logged"
[ "$(cdr_check --where caller=1001 --count 1 --wait 1 | grep -c '^  cdr ')" = 1 ] || fail "the replay placed a call"
say "a replayed Authorization gets 401 and places no call"

# 3. wrong passwords lock out
phone 127.0.0.3 "$AUX_PORT" 1002 "$PW2" call 8002 pw=wrong tries="$LIMIT" > "$WORK/wrong.jsonl"
codes=$(steps answer 'd["code"]' < "$WORK/wrong.jsonl")
want=$(for i in $(seq $((LIMIT - 1))); do printf '401 '; done; printf '403')
[ "$codes" = "$want" ] || fail "wrong passwords got '$codes', not '$want'"
phone 127.0.0.3 "$AUX_PORT" 1002 "$PW2" call 8002 noreg > "$WORK/locked.jsonl"
[ "$(step challenge 'd["code"]' < "$WORK/locked.jsonl")" = 403 ] || fail "a locked-out phone was not refused 403"
cdr_check --where caller=1002 --count 1 --wait 1 --quiet > /dev/null 2>&1 && fail "a refused agent placed a call"
say "wrong passwords: challenged again, then 403 after $LIMIT; locked out even with the right one"

# 4. qualify
phone 127.0.0.4 "$AUX_PORT" 1003 "$PW3" qualify 3 silent=$((QS * (QF + 3))) > "$WORK/qualify.jsonl" &
QPID=$!
BG_PIDS+=("$QPID")
sleep 2
[ "$(contacts 1003)" = 1 ] || fail "1003 is not registered while it answers OPTIONS"
wait "$QPID"
[ "$(step answered 'd["count"]' < "$WORK/qualify.jsonl")" -ge 2 ] || fail "the phone got too few OPTIONS: $(cat "$WORK/qualify.jsonl")"
[ "$(contacts 1003)" = 0 ] || fail "a silent phone is still registered"
grep -q "agent 1003: sip:1003@127.0.0.4:$AUX_PORT did not answer OPTIONS $QF times in a row" "$ENGINE_LOG" ||
  fail "the removal is not logged"
[ "$(ctl --json status | jget 'd["agents"]["qualify_removed"]')" -ge 1 ] || fail "ctl status does not count it"
pass "stranger 403, agent's call by digest runs agent_call, REFER 202/NOTIFY, replay 401, lockout 403, qualify removal"
