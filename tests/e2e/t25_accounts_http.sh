#!/usr/bin/env bash
# t25_accounts_http — key 4, the account query, with the HTTP data source of
# contrib/accounts-http/ (issue 3 item 6): the sample back end backend.py on a loopback port
# with its sample accounts.json; the engine with copies of scripts/ and rules/ in which
# rules/accounts.lua ends with `return require("accounts_http").wrap(M, {url = ...})`,
# http_allow of rules/engine.lua lists only the back end's address, and the adapter's own
# scenarios (accounts_http.scenario.lua, with that URL) replace scripts/account.scenario.lua
# (the demo table's) in the start-up self-test.  10:00 on a summer Wednesday; the engine
# logs at debug level (-v).
#   acct   (SIP INFO) keys 4, the demo ID and # during the welcome (type-ahead), the PIN and #
#          while the PIN prompt plays, listens to the balance and the months, hangs up.
# Passes when: the CDR route is account (vars.account read) and the prompts show the
# balance, then the paid months, read back (each as say:x: the CDR keeps no figure of the
# caller's, issue 7; scripts/account.scenario.lua checks the words); the back end logged a lookup
# (found) and a verify (ok) — it got the ID and the PIN by POST; neither the ID nor the PIN
# appears in the CDRs, the engine's debug log or the back end's log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
CONTRIB=$ROOT/contrib/accounts-http
API="http://127.0.0.1:$AUX_PORT/api/v1"
BACKEND_LOG=$WORK/backend.log

# ---- the rules and scripts the engine runs ------------------------------------------------
R=$WORK/rules; S=$WORK/scripts
cp -r "$ROOT/rules" "$R" || fail "could not copy rules/"
link_build "$WORK"
cp -r "$ROOT/scripts" "$S" || fail "could not copy scripts/"
rm -f "$S/account.scenario.lua"
cp "$CONTRIB/accounts_http.lua" "$R/" || fail "no $CONTRIB/accounts_http.lua"
sed "s#http://backend.example:8099/api/v1#$API#" "$CONTRIB/accounts_http.scenario.lua" \
  > "$R/accounts_http.scenario.lua"
grep -q "$API" "$R/accounts_http.scenario.lua" || fail "the adapter's scenarios have no URL to replace"
sed -i "s#^return M\$#return require(\"accounts_http\").wrap(M, { url = \"$API\" })#" "$R/accounts.lua"
grep -q 'require("accounts_http")' "$R/accounts.lua" || fail "rules/accounts.lua does not end with 'return M'"
sed -i -E "s#^( *http_allow *= *)\{\},#\1{ \"127.0.0.1:$AUX_PORT\" },#" "$R/engine.lua"
grep -q "\"127.0.0.1:$AUX_PORT\"" "$R/engine.lua" || fail "rules/engine.lua has no 'http_allow = {},' line"

# ---- the back end ------------------------------------------------------------------------------
"$PY" "$CONTRIB/backend.py" --listen "127.0.0.1:$AUX_PORT" --accounts "$CONTRIB/accounts.json" \
  --log "$BACKEND_LOG" 2> "$WORK/backend.err" &
BG_PIDS+=("$!")
backend_up() {
  "$PY" - "$API/health" <<'EOF'
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}
for ((i = 0; i < 50; i++)); do backend_up && break; sleep 0.1; done
backend_up || fail "backend.py did not answer on $API/health: $(head -c 300 "$WORK/backend.err")"

# ---- the call --------------------------------------------------------------------------------
start_engine --scripts "$S" --rules "$R" --clock 2026-07-01T10:00:00 -v
"$PY" "$E2E/mkaudio.py" stream "$WORK/talk.ulaw" 4 pcmu || fail "mkaudio.py stream failed"
# as t32: the welcome lasts ~11.4 s; the keys typed during it skip the menu and the ID
# prompt; the PIN prompt plays from ~12 s: PIN at 13 s; two requests on loopback take a few
# ms; the balance takes ~10.5 s, then the paid months: hang up at ~27.5 s.
ivr_call 0 acct 043212345678 stream:talk.ulaw pause:2000 info:4 pause:300 info:"$DEMO_ID#":150 \
  pause:7400 info:"$DEMO_PIN#":150 pause:13500 bye; p=$!
ivr_wait acct "$p"
ivr_cdr acct route=account vars.account=read 'dtmf=4xxxxxxxxxxxxxxxxxx#xxxxxx#' \
  'prompts~ account_enter_pin account_balance say:x account_paid_months( |$)'
[ -z "$IVR_WHY" ] || ivr_done ""

# ---- what the back end saw, and privacy ----------------------------------------------------------
grep -q 'POST /api/v1/accounts/lookup 200 found$' "$BACKEND_LOG" ||
  fail "the back end logged no lookup of an existing account: $(tail -n 5 "$BACKEND_LOG" | tr '\n' ' ')"
grep -q 'POST /api/v1/accounts/verify 200 ok$' "$BACKEND_LOG" ||
  fail "the back end logged no right-PIN verify: $(tail -n 5 "$BACKEND_LOG" | tr '\n' ' ')"
ivr_cdrs_json "$WORK/cdrs.json"
for secret in "$DEMO_ID" "$DEMO_PIN"; do
  what=ID; [ "$secret" = "$DEMO_PIN" ] && what=PIN
  for f in "$WORK/cdrs.json" "$ENGINE_LOG" "$BACKEND_LOG"; do
    # as a number of its own: the PIN 123456 is also inside the caller's number 043212345678
    grep -nE -- "(^|[^0-9])$secret([^0-9]|\$)" "$f" > "$WORK/leak.txt" &&
      fail "the demo $what appears in $(basename "$f"): $(head -c 300 "$WORK/leak.txt")"
  done
done
grep -q 'scenarios passed' "$ENGINE_LOG" || fail "the engine did not log its self-test"
pass "account read back from the HTTP back end (lookup + verify by POST, 12345.67, months); route account; no ID or PIN in CDRs or logs"
