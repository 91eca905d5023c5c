#!/usr/bin/env bash
# t41_metrics — GET /metrics on --http (issue 10): after N SIPp calls (answered by the
# engine, ended by the caller's BYE) the page, read by a Prometheus text-format parser
# (promparse.py), counts exactly those calls: set-ups, answers, ends by route and cause
# (as their CDRs say), SIP 200s (one for each INVITE and each BYE); the tick lateness is
# a valid histogram.  Then who may read it: an address not in http_metrics_allow gets 403,
# also with a wrong token; the token from http_token_file opens it, and is never logged.
. "$(dirname "$0")/lib.sh"
CALLS=5
HTTP_PORT=$CTRL_PORT
mkdir -p "$WORK/rules"
cp "$E2E/rules/engine.lua" "$WORK/rules/engine.lua"
start_engine --rules "$WORK/rules" --http "127.0.0.1:$HTTP_PORT"
URL=http://127.0.0.1:$HTTP_PORT/metrics

scrape() {  # scrape NAME [--token T]: the page parsed, into $WORK/NAME.json
  local name=$1; shift
  "$PY" "$E2E/promparse.py" "$URL" "$@" > "$WORK/$name.json" || fail "/metrics ($name): $(cat "$WORK/$name.json")"
}
value() {  # value NAME SERIES: the series' value in that scrape (0 when absent)
  "$PY" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["series"].get(sys.argv[2], 0)))' \
    "$WORK/$1.json" "$2"
}
delta() { echo $(( $(value after "$1") - $(value before "$1") )); }

scrape before
(cd "$WORK" && timeout 60 sipp -sn uac -s wait 127.0.0.1:$SIP_PORT -i 127.0.0.1 -p "$SIPP_PORT" \
   -m $CALLS -r 10 -d 300 -nostdin -timeout 40s -timeout_error -trace_err -error_file "$WORK/uac.err" \
   > "$WORK/uac.out" 2>&1) || fail "SIPp: $(sipp_why uac $?)"
cdr_check --where called=wait --count $CALLS --quiet route=waiting || fail "the calls' CDRs"
scrape after

[ "$(delta hotline_calls_started_total)" -eq $CALLS ] || fail "calls started: $(delta hotline_calls_started_total), made $CALLS"
[ "$(delta hotline_calls_answered_total)" -eq $CALLS ] || fail "calls answered: $(delta hotline_calls_answered_total)"
[ "$(value after hotline_calls_up)" -eq 0 ] || fail "calls up after they ended: $(value after hotline_calls_up)"
# ends by route class and cause: as many as the CDRs of these calls say, cause by cause
causes=$(ctl --json cdr --last 100 | "$PY" -c '
import collections, json, sys
c = collections.Counter(r["hangup_cause"] for r in json.load(sys.stdin)["cdrs"]
                        if r["called"] == "wait" and r["leg_index"] == 0)
print(" ".join(f"{k}={v}" for k, v in sorted(c.items())))')
for kv in $causes; do
  got=$(delta "hotline_calls_ended_total{cause=\"${kv%%=*}\",route=\"waiting\"}")
  [ "$got" -eq "${kv#*=}" ] || fail "calls ended with cause ${kv%%=*}: /metrics $got, CDRs ${kv#*=}"
done
[ -n "$causes" ] || fail "no CDRs of the calls"
sip200=$(delta 'hotline_sip_responses_total{code="200"}')
[ "$sip200" -eq $((2 * CALLS)) ] || fail "SIP 200 sent: $sip200, expected $((2 * CALLS)) (INVITE and BYE of each call)"
total=$(ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["calls_total"])')
[ "$(value after hotline_calls_started_total)" -eq "$total" ] || fail "calls started differs from ctl status ($total)"
[ "$(value after hotline_tick_lateness_seconds_count)" -gt 0 ] || fail "no tick lateness recorded"
[ "$(value after 'hotline_policy_info{source="files",version="'"$(ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["policy"])')"'"}')" -eq 1 ] ||
  fail "policy_info does not name the policy serving"
say "after $CALLS calls: started +$CALLS, answered +$CALLS, ended $causes, SIP 200 +$sip200"

# who may read it: only 192.0.2.1 (TEST-NET, never us) by address; the token otherwise
TOKEN=t41-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" > "$WORK/token"; chmod 600 "$WORK/token"
printf 'return { http_metrics_allow = "192.0.2.1", http_token_file = "%s" }\n' "$WORK/token" > "$WORK/rules/engine.lua"
ctl reload > /dev/null || fail "reload with the new access settings"
st=$("$PY" "$E2E/promparse.py" "$URL"); [ "$st" = 403 ] || fail "without the token: $st, expected 403"
st=$("$PY" "$E2E/promparse.py" "$URL" --token wrong); [ "$st" = 403 ] || fail "with a wrong token: $st, expected 403"
scrape token --token "$TOKEN"
[ "$(value token hotline_reloads_total{outcome=\"ok\"})" -ge 1 ] || fail "the reload is not counted"
! grep -q "$TOKEN" "$ENGINE_LOG" || fail "the token is in the engine log"
stop_engine
pass "/metrics counted the $CALLS calls as made; 403 without the token, 200 with it"
