#!/usr/bin/env bash
# t05_bye — BYE from either side: (a) the caller (SIPp) hangs up after 1.5 s and gets 200;
# the CDR says hangup_side caller, cause bye; (b) the script hangs up after 1 s: SIPp
# receives the engine's BYE and answers 200; the CDR says hangup_side engine; (c) as (a),
# with SIP over TCP.
. "$(dirname "$0")/lib.sh"
start_engine
run_sipp caller_bye "$(scen uac_bye MEDIA=)" wait -d 1500 || fail "caller BYE: $(sipp_why caller_bye $?)"
cdr_check --where "$(where_call caller_bye)" hangup_side=caller hangup_cause=bye route=waiting \
  'answer?' || fail "CDR of the call the caller ended"
run_sipp engine_bye "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=10000)" hangup ||
  fail "engine BYE: $(sipp_why engine_bye $?)"
cdr_check --where "$(where_call engine_bye)" hangup_side=engine route=script-hangup 'answer?' ||
  fail "CDR of the call the script ended"
run_sipp tcp_bye "$(scen uac_bye)" wait -d 1000 -t t1 || fail "caller BYE over TCP: $(sipp_why tcp_bye $?)"
cdr_check --where "$(where_call tcp_bye)" hangup_side=caller hangup_cause=bye route=waiting \
  'answer?' || fail "CDR of the TCP call"
pass "caller BYE answered 200 (UDP and TCP); script hangup sent BYE; CDRs name the side"
