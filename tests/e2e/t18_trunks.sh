#!/usr/bin/env bash
# t18_trunks — who may call in, and where the engine may call out (issue 7 item 2), with the
# test's own rules/trunks.lua: trunk "local" is 127.0.0.1 only (From trusted, PAI not),
# trunk "carrier" 127.0.0.3 (PAI trusted, a request limit of its own); the dial rule fax
# allows Jilin fixed lines and mobiles, per_caller_day a day per caller.
#  1. an INVITE from 127.0.0.2 (no trunk) gets 403 and a log line; one to a number the trunk
#     does not deliver gets 404;
#  2. P-Asserted-Identity from "local" is ignored (call.caller is the From), from "carrier"
#     it is the caller's number; trunk "authed" (127.0.0.4) must answer a digest challenge;
#  3. the fax-to-number service (tests/e2e/trunks: key a number, a fax job dials it through
#     the gateway) refuses an international number and a premium one: the gateway (a
#     listener that answers nothing) receives no INVITE, each refusal is logged with its
#     rule, and the job fails at once instead of being retried;
#  4. the cap: one caller's per_caller_day + 1th placed call is refused, and after a restart
#     the next one is still refused (counted in the store); the calls placed answer the
#     gateway's digest challenge with trunk local's login;
#  5. the carrier's own rate_per_sec replaces sip_rate_per_sec for its source;
#  6. `ctl status` counts it all under "trunks";
#  7. a reload re-reads trunks.lua: a bad address is refused with file:line, an added source
#     is a trunk for the next INVITE.
. "$(dirname "$0")/lib.sh"
RULES=$WORK/rules; mkdir -p "$RULES"
cat > "$RULES/engine.lua" <<EOF
return { fax_dir = "$ROOT/build/fax", jobs_poll_ms = 200 }
EOF
printf 'return { host = "127.0.0.1:%s", ring_ms = 1500 }\n' "$AUX_PORT" > "$RULES/fax_gateway.lua"
cat > "$RULES/trunks.lua" <<'EOF'
-- trunks.lua (t18_trunks)
return {
  trunks = {
    { name = "local", sources = { "127.0.0.1" }, deliver = { "12333", "whoami" },
      login = { user = "hotline", password = "t18-gateway-only" } },
    { name = "carrier", sources = { "127.0.0.3" }, deliver = { "whoami" }, trust_pai = true,
      rate_per_sec = 20 },
    { name = "authed", sources = { "127.0.0.4" }, deliver = { "whoami" },
      digest = { user = "t18", password = "t18-test-only", realm = "hotline-t18" } },
  },
  dial = {
    fax = {
      numbers = { "043[1-9]XXXXXXX", "043[1-9]XXXXXXXX", "1[3-9]XXXXXXXXX" },
      per_caller_day = 2,
      reason = "t18: Jilin fixed lines and mobiles only",
    },
  },
}
EOF
field() { sed -nE "s/^ *$1 *= *([0-9]+).*/\1/p; s/.*[{,] *$1 *= *([0-9]+).*/\1/p" "$RULES/trunks.lua" | head -n 1; }
CAP=$(field per_caller_day); CARRIER_RATE=$(field rate_per_sec)
[ -n "$CAP" ] && [ -n "$CARRIER_RATE" ] || fail "cannot read per_caller_day / rate_per_sec from trunks.lua"
start_engine --scripts "$E2E/trunks" --rules "$RULES"
flood() { "$PY" "$E2E/flood.py" "$@"; }
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1"; }
# the fax gateway: challenges every INVITE (401) and answers the authorised one busy (486)
LOGIN=$(sed -nE 's/.*login = \{ user = "([^"]*)", password = "([^"]*)".*/\1:\2/p' "$RULES/trunks.lua")
"$PY" "$E2E/flood.py" listen 127.0.0.1 "$AUX_PORT" 200 "$LOGIN" > "$WORK/gateway.jsonl" &
BG_PIDS+=("$!")
for _ in $(seq 50); do grep -q listening "$WORK/gateway.jsonl" 2>/dev/null && break; sleep 0.1; done
invites() { grep -c '"invite"' "$WORK/gateway.jsonl"; }

# 1. strangers and numbers nobody delivers
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.2 udp INVITE 12333 | jget 'd["code"]')
[ "$code" = 403 ] || fail "an INVITE from 127.0.0.2 (no trunk) got $code, not 403"
grep -q "403 to INVITE sip:12333@127.0.0.1:$SIP_PORT from 127.0.0.2" "$ENGINE_LOG" ||
  fail "no log line for the 403 to 127.0.0.2"
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.1 udp INVITE 99999 | jget 'd["code"]')
[ "$code" = 404 ] || fail "an INVITE to 99999 (not delivered by trunk local) got $code, not 404"
say "127.0.0.2 got 403, 99999 got 404"

# 2. caller ID: PAI only from a trunk marked trust_pai
PAI="<sip:13911112222@carrier.example>"
flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.1 udp INVITE whoami "$PAI" > /dev/null
cdr_check --where route~^caller- --where called=whoami caller=flood route=caller-flood ||
  fail "PAI from trunk local (not trust_pai) was not ignored"
flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.3 udp INVITE whoami "$PAI" > /dev/null
cdr_check --where route=caller-13911112222 caller=13911112222 ||
  fail "PAI from trunk carrier (trust_pai) is not the caller's number"
say "PAI ignored from local, taken from carrier"

# 2b. a trunk with digest credentials: challenged (401), let in with the right answer only
DIGEST_USER=$(sed -nE 's/.*digest = \{ user = "([^"]*)", password = "([^"]*)".*/\1:\2/p' "$RULES/trunks.lua")
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.4 udp INVITE whoami | jget 'd["code"]')
[ "$code" = 401 ] || fail "an INVITE from trunk authed without credentials got $code, not 401"
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.4 udp INVITE whoami "" "${DIGEST_USER%%:*}:wrong" | jget 'd["code"]')
[ "$code" = 401 ] || fail "a wrong digest password got $code, not 401"
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.4 udp INVITE whoami "" "$DIGEST_USER" | jget 'd["code"]')
case $code in 0|401|403|404) fail "the right digest answer got $code: not let in" ;; esac
cdr_check --where called=whoami --where route=caller-flood --count 2 > /dev/null ||
  fail "the authenticated call from trunk authed has no CDR"
say "trunk authed: 401 without and with a wrong password, let in with the right one ($code from the script)"

# queue_fax TAG CALLER NUMBER: the caller keys NUMBER# and the script queues a fax job
queue_fax() {
  "$PY" "$E2E/ivr/mkscen.py" "$E2E/sipp/ivr_uac.xml" "$WORK/$1.xml" "$2" \
    pause:300 "info:$3#:100" waitbye:10000 || fail "mkscen.py"
  run_sipp "$1" "$WORK/$1.xml" 12333 || fail "$1: $(sipp_why "$1" $?)"
  cdr_check --where "$(where_call "$1")" route=fax-queued > /dev/null || fail "$1: no fax job queued"
}
# job_end ID: waits for job ID to end (done, failed for good, or its only attempt failed)
job_end() {
  wait_for_log "job $1 \(fax\) (done|failed for good|attempt 1 failed)" 20 || fail "job $1 did not end"
}

# 3. abroad and premium: refused by the dial rule, nothing sent, not retried
ABROAD=00441632960000; PREMIUM=16812345
queue_fax abroad 13900000000 "$ABROAD"; job_end 1
queue_fax premium 13900000000 "$PREMIUM"; job_end 2
for n in "$ABROAD" "$PREMIUM"; do
  grep -q "refused sip:$n@127.0.0.1:$AUX_PORT (purpose fax, caller '13900000000'): number '$n' is not in dial rule 'fax' ($RULES/trunks.lua:[0-9]*" \
    "$ENGINE_LOG" || fail "no refusal of $n naming the dial rule in the log"
done
ctl jobs --json > "$WORK/jobs1.json" || fail "ctl jobs"
"$PY" - "$WORK/jobs1.json" <<'EOF' || fail "refused jobs: $(cat "$WORK/jobs1.json")"
import json, sys
jobs = {j["id"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
for i in (1, 2):
    assert jobs[i]["state"] == "failed" and jobs[i]["attempts"] == 1 and "403" in jobs[i]["last_error"], jobs[i]
EOF
[ "$(invites)" -eq 0 ] || fail "the gateway received INVITEs for refused numbers: $(cat "$WORK/gateway.jsonl")"
say "$ABROAD and $PREMIUM refused by dial rule fax: no INVITE, jobs failed without retry"

# 4. the cap per caller and day, also across a restart
FAXNO=043188886666
for ((i = 1; i <= CAP + 1; i++)); do
  queue_fax "cap$i" 13800138000 "$FAXNO"; job_end $((2 + i))
done
[ "$(invites)" -eq "$CAP" ] || fail "the gateway received $(invites) INVITEs, not the cap $CAP: $(cat "$WORK/gateway.jsonl")"
[ "$(grep -c '"authorized": true' "$WORK/gateway.jsonl")" -eq "$CAP" ] ||
  fail "the engine did not answer the gateway's challenge with trunk local's login: $(cat "$WORK/gateway.jsonl")"
grep -q "refused sip:$FAXNO@.*caller '13800138000'.*per_caller_day" "$ENGINE_LOG" ||
  fail "the call over the cap was not refused with the rule named"
stop_engine
start_engine --scripts "$E2E/trunks" --rules "$RULES"
queue_fax after-restart 13800138000 "$FAXNO"; job_end $((CAP + 4))
[ "$(invites)" -eq "$CAP" ] || fail "after a restart the cap was reset: $(invites) INVITEs"
[ "$(grep -c "refused sip:$FAXNO@.*per_caller_day" "$ENGINE_LOG")" -eq 2 ] ||
  fail "after a restart the caller's call over the cap was not refused"
say "caller 13800138000: $CAP calls placed (each answered the gateway's 401), the next refused, also after a restart"

# 5. the carrier's own limit: twice its rate_per_sec for 2 s from 127.0.0.3
out=$(flood options 127.0.0.1 "$SIP_PORT" 127.0.0.3 $((CARRIER_RATE * 2)) 2) || fail "flood.py options: $out"
ok=$(echo "$out" | jget 'd["codes"].get("200", 0)'); busy=$(echo "$out" | jget 'd["codes"].get("503", 0)')
[ "$ok" -le $((CARRIER_RATE * 3 + CARRIER_RATE / 5)) ] && [ "$busy" -gt 0 ] ||
  fail "trunk carrier's rate_per_sec $CARRIER_RATE was not applied: $out"
say "carrier at twice its rate_per_sec $CARRIER_RATE: $ok admitted, $busy refused"

# 6. what ctl status counts (the restart began the counters again: the 403 once more)
flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.2 udp INVITE 12333 > /dev/null
flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.1 udp INVITE 99999 > /dev/null
flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.1 udp INVITE whoami "$PAI" > /dev/null
flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.4 udp INVITE whoami > /dev/null
ctl status --json > "$WORK/status.json" || fail "ctl status"
for k in refused_source refused_number pai_ignored challenged dial_refused; do
  v=$(jget "d['trunks']['$k']" < "$WORK/status.json")
  [ "$v" -ge 1 ] || fail "ctl status trunks.$k is $v: $(cat "$WORK/status.json")"
done
# 7. a reload changes the trunks: a wrong edit is refused with its line, a good one applies
sed 's|sources = { "127.0.0.1" }|sources = { "127.0.0.1/33" }|' "$RULES/trunks.lua" > "$WORK/bad.lua"
cp "$RULES/trunks.lua" "$WORK/good.lua"
cat "$WORK/bad.lua" > "$RULES/trunks.lua"
bad_line=$(grep -n '127.0.0.1/33' "$RULES/trunks.lua" | cut -d: -f1)
if ctl reload > "$WORK/reload-bad.out" 2>&1; then fail "a trunks.lua with 127.0.0.1/33 was accepted"; fi
grep -q "trunks.lua:$bad_line: trunk 'local': sources\[1\] '127.0.0.1/33'" "$WORK/reload-bad.out" ||
  fail "the refused reload does not name trunks.lua:$bad_line: $(cat "$WORK/reload-bad.out")"
sed 's|sources = { "127.0.0.1" }|sources = { "127.0.0.1", "127.0.0.2" }|' "$WORK/good.lua" > "$RULES/trunks.lua"
ctl reload > "$WORK/reload-good.out" 2>&1 || fail "reload of a good trunks.lua: $(cat "$WORK/reload-good.out")"
code=$(flood ask 127.0.0.1 "$SIP_PORT" 127.0.0.2 udp INVITE 99999 | jget 'd["code"]')
[ "$code" = 404 ] || fail "after 127.0.0.2 was added to trunk local it got $code (want 404: a trunk, not that number)"
say "reload: a bad source refused with trunks.lua:$bad_line; 127.0.0.2 added and taken as trunk local"

pass "403 for a stranger, 404 for an undelivered number, PAI only from a trusted trunk, digest for a trunk with credentials; abroad and premium never dialled; the cap ($CAP a day) holds across a restart; a trunk's own rate limit"
