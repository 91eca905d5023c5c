#!/usr/bin/env bash
# t17_sip_edge — the SIP edge under floods (issue 7 item 3), with the limits of
# tests/e2e/rules-edge/engine.lua (50 requests/s per source, ban over 10x that):
#  1. a source at twice the limit still gets its admitted share (refusals cost it nothing);
#  2. a source far over it is banned and dropped, shown by `ctl ban list`, while a call from
#     another address goes through; `ctl ban remove` lifts the ban;
#  3. 5,000 idle TCP connections from one address: the engine keeps only its per-address
#     cap, closes those that complete no message within the deadline, and another client
#     is served over TCP meanwhile;
#  4. at max_calls a new call gets 503 with Retry-After, and after the call ends one is
#     taken again (the engine recovers by itself);
#  5. the Server header is the configured one (no version), and ctl status counts it all.
. "$(dirname "$0")/lib.sh"
RULES=$E2E/rules-edge
start_engine --rules "$RULES"
rule() { sed -nE "s/^ *$1 *= *\"?([^\",]*)\"?,.*/\1/p" "$RULES/engine.lua"; }
LIMIT=$(rule sip_rate_per_sec); FACTOR=$(rule sip_ban_factor); RETRY=$(rule sip_retry_after_s)
PER_ADDR=$(rule sip_tcp_max_per_addr); SERVER=$(rule sip_server_header)
DEADLINE_MS=$(rule sip_tcp_message_timeout_ms)
flood() { "$PY" "$E2E/flood.py" "$@"; }
# jget EXPR [LINE]: EXPR over the JSON on stdin (d), or over its LINE-th line (0-based)
jget() { "$PY" -c 'import json,sys; t=sys.stdin.read(); d=json.loads(t.splitlines()[int(sys.argv[2])] if len(sys.argv)>2 else t); print(eval(sys.argv[1], {}, {"d": d}))' "$@"; }

# 1. twice the limit for 4 s: about the burst plus LIMIT a second are admitted, the rest 503
secs=4
out=$(flood options 127.0.0.1 "$SIP_PORT" 127.0.0.2 $((LIMIT * 2)) $secs) || fail "flood.py options: $out"
ok=$(echo "$out" | jget 'd["codes"].get("200", 0)'); busy=$(echo "$out" | jget 'd["codes"].get("503", 0)')
lost=$(echo "$out" | jget 'd["unanswered"]')
want=$((LIMIT * secs))
say "2x the limit: $ok admitted, $busy refused (503), $lost unanswered; share $want"
[ "$ok" -ge $((want * 8 / 10)) ] && [ "$ok" -le $((want + LIMIT + LIMIT / 5)) ] ||
  fail "a source at twice the limit got $ok answers, not its share of about $want"
[ "$busy" -gt 0 ] && [ "$lost" -eq 0 ] || fail "over the limit: $busy 503s and $lost unanswered (want 503s, no silence)"
ra=$(echo "$out" | jget '" ".join(d["retry_after"])')

# 2. far over the limit: banned; a call from 127.0.0.1 meanwhile succeeds
flood options 127.0.0.1 "$SIP_PORT" 127.0.0.3 $((LIMIT * FACTOR * 3)) 2 > "$WORK/ban.json" &
fpid=$!; BG_PIDS+=("$fpid")
run_sipp during "$(scen uac_bye MEDIA=)" wait -d 500 || fail "a call during the flood: $(sipp_why during $?)"
wait "$fpid"
lost=$(jget 'd["unanswered"]' < "$WORK/ban.json")
[ "$lost" -gt 0 ] || fail "the flood from 127.0.0.3 was answered in full: $(cat "$WORK/ban.json")"
ctl ban list --json > "$WORK/bans.json" || fail "ctl ban list failed"
grep -q '"127.0.0.3"' "$WORK/bans.json" || fail "ctl ban list does not show 127.0.0.3: $(cat "$WORK/bans.json")"
grep -q '"127.0.0.2"' "$WORK/bans.json" && fail "127.0.0.2 (twice the limit) was banned"
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.3 udp | jget 'd["code"]')
[ "$code" = 0 ] || fail "a banned source got an answer ($code)"
ctl ban remove 127.0.0.3 > /dev/null || fail "ctl ban remove 127.0.0.3 failed"
ctl ban remove 127.0.0.3 > /dev/null 2>&1 && fail "ctl ban remove of an unbanned address succeeded"
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.3 udp | jget 'd["code"]')
[ "$code" = 200 ] || fail "after ctl ban remove, 127.0.0.3 got $code, not 200"

# 3. 5,000 idle TCP connections from one address; another client is served meanwhile
flood tcp-idle 127.0.0.1 "$SIP_PORT" 127.0.0.4 5000 $((DEADLINE_MS / 1000 + 2)) > "$WORK/tcp.json" &
tpid=$!; BG_PIDS+=("$tpid")
for _ in $(seq 100); do grep -q connected "$WORK/tcp.json" 2>/dev/null && break; sleep 0.1; done
kept=$(jget 'd["kept"]' 0 < "$WORK/tcp.json") || fail "flood.py tcp-idle: $(cat "$WORK/tcp.json")"
[ "$kept" -le "$PER_ADDR" ] || fail "one address kept $kept idle TCP connections (cap $PER_ADDR)"
tcp=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.1 tcp | jget 'd["code"]')
[ "$tcp" = 200 ] || fail "another client over TCP got '$tcp' while 5,000 idle connections were tried"
wait "$tpid"
after=$(jget 'd["kept_after"]' 1 < "$WORK/tcp.json")
[ "$after" -eq 0 ] || fail "$after idle TCP connections outlived the ${DEADLINE_MS} ms message deadline"

# 4. overload: max_calls reached -> 503 with Retry-After; it recovers when the call ends
sipp_bg held "$(scen uac_bye MEDIA=)" wait -d 3000
for _ in $(seq 50); do [ "$(ctl status --json | jget 'd["calls"]')" -ge 1 ] && break; sleep 0.1; done
inv=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.1 udp INVITE)
[ "$(echo "$inv" | jget 'd["code"]')" = 503 ] || fail "an INVITE over max_calls got $(echo "$inv" | jget 'd["code"]'), not 503"
[ "$(echo "$inv" | jget 'd["headers"].get("retry-after", "")')" = "$RETRY" ] ||
  fail "the 503 at max_calls has no Retry-After $RETRY: $inv"
wait "${BG_PIDS[-1]}"
run_sipp after "$(scen uac_bye MEDIA=)" wait -d 200 || fail "a call after the overload: $(sipp_why after $?)"

# 5. the Server header and what ctl status counts
srv=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.1 udp | jget 'd["headers"].get("server", "")')
[ "$srv" = "$SERVER" ] || fail "Server header '$srv', configured '$SERVER'"
[ "$ra" = "$RETRY" ] || fail "the rate limit's 503 carries Retry-After '$ra', configured $RETRY"
ctl status --json > "$WORK/status.json"
edge=$(jget 'd["sip_edge"]' < "$WORK/status.json")
for k in rate_refused banned_dropped bans tcp_refused tcp_timed_out; do
  v=$(jget "d['sip_edge']['$k']" < "$WORK/status.json")
  [ "$v" -gt 0 ] || fail "ctl status sip_edge.$k is $v: $edge"
done
engine_alive || fail "the engine died"
pass "2x limit: $ok/$want admitted; flood banned and lifted; TCP: $kept of 5000 idle kept, all closed by the deadline; 503 Retry-After $RETRY at max_calls, recovered; Server '$SERVER'"
