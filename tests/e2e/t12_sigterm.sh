#!/usr/bin/env bash
# t12_sigterm — SIGTERM with a call up: SIPp's call is answered and waiting; the engine gets
# SIGTERM, must send BYE (SIPp answers 200), exit 0, and the call's CDR must be in the
# store when the engine starts again on the same data dir.
. "$(dirname "$0")/lib.sh"
start_engine
sipp_bg term "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=15000)" wait; SIPP_PID=$!
wait_for_log 'route waiting' 10 || fail "the call did not reach the script"
sleep 0.5
stop_engine 0
wait "$SIPP_PID"; rc=$?
[ "$rc" -eq 0 ] || fail "the caller did not get a BYE at shutdown: $(sipp_why term "$rc")"
start_engine
cdr_check --wait 5 --where "$(where_call term)" hangup_side=engine route=waiting 'answer?' 'end?' ||
  fail "the call's CDR is not in the store after the restart"
pass "SIGTERM: caller got BYE, engine exited 0, CDR ($(cdr_check --where "$(where_call term)" --get hangup_cause)) kept"
