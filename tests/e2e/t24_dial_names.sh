#!/usr/bin/env bash
# t24_dial_names — host names in dialled URIs, resolved off the loop (issue 7 item 4), with
# the test's own rules/trunks.lua (loopback in; "localhost" and *.invalid dialled through it):
#  1. the script dials sip:far@localhost:PORT (a name: getaddrinfo finds 127.0.0.1 in
#     /etc/hosts): the SIPp UAS gets the INVITE, its Request-URI still naming localhost, the
#     caller is bridged (route bridged) and the far leg gets BYE;
#  2. it dials sip:far@nowhere.invalid (RFC 6761: never resolves): the dial fails with 604
#     (the route says dial-failed-604), the outbound leg's CDR has the cause dns-not-found,
#     and the log names the host.
# (The lookups run on libuv's pool; tests/unit/test_dns.c covers SRV on canned answers.)
. "$(dirname "$0")/lib.sh"
RULES=$WORK/rules; mkdir -p "$RULES"
cp "$E2E/rules/engine.lua" "$RULES/"
cat > "$RULES/trunks.lua" <<'EOT'
-- trunks.lua (t24_dial_names)
return {
  trunks = {
    { name = "loopback", sources = { "127.0.0.0/8" }, hosts = { "localhost", "*.invalid" },
      deliver = { "!" }, reason = "t24: SIPp calls in; names on this machine are dialled" },
  },
  dial = {
    dial = { numbers = { "!" }, per_caller_day = 0, reason = "t24: the script's own dials" },
  },
}
EOT
start_engine --rules "$RULES"

# 1. a name that resolves
sipp_uas_bg uas "$(scen uas_sink BYE_TIMEOUT=15000)" -key sink_port "$SINK_PORT"; UAS_PID=$!
sleep 0.3
run_sipp caller "$(scen uac_bye)" "dialname$SIPP2_PORT" -d 2000 || fail "caller: $(sipp_why caller $?)"
wait "$UAS_PID"; rc=$?
[ "$rc" -eq 0 ] || fail "far end: $(sipp_why uas "$rc")"
grep -q "^INVITE sip:far@localhost:$SIPP2_PORT SIP/2.0" "$WORK/uas.msg" ||
  fail "the UAS got no INVITE whose Request-URI keeps the name localhost"
grep -q "localhost is 127.0.0.1:$SIPP2_PORT" "$ENGINE_LOG" || fail "no log line of the name's address"
cdr_check --where "$(where_call caller)" --legs 2 route=bridged || fail "CDR of the caller's leg (localhost)"
say "sip:far@localhost:$SIPP2_PORT reached the UAS (Request-URI kept the name), bridged"

# 2. a name that never resolves
run_sipp nx "$(scen uac_wait_bye BYE_TIMEOUT=15000)" dialnx || fail "caller (dialnx): $(sipp_why nx $?)"
cdr_check --where "$(where_call nx)" --legs 2 route=dial-failed-604 || fail "the route of the failed dial"
cid=$(cdr_check --where "$(where_call nx)" --get call_id)
cdr_check --where "call_id=$cid" --where leg_index=1 direction=outbound hangup_cause=dns-not-found ||
  fail "CDR of the outbound leg to nowhere.invalid"
grep -q "host name 'nowhere.invalid' does not exist" "$ENGINE_LOG" || fail "no log line naming the host"
say "sip:far@nowhere.invalid: 604, route dial-failed-604, CDR cause dns-not-found, logged"

pass "names resolved off the loop: localhost dialled and bridged, .invalid failed with its reason"
