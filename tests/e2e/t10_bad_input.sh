#!/usr/bin/env bash
# t10_bad_input — malformed SIP (badsip.py: broken start lines, bad and missing headers,
# huge headers, wrong Content-Length, binary junk, NUL bytes, ...) over UDP and TCP: each
# gets 400 (or the specific code it allows) or no answer, OPTIONS still gets 200 after
# each, the engine stays up, and a normal call right after succeeds.
. "$(dirname "$0")/lib.sh"
start_engine
run_cases badsip badsip.py 127.0.0.1 "$SIP_PORT"
run_sipp after "$(scen uac_bye MEDIA=)" wait -d 500 || fail "normal call after the bad input: $(sipp_why after $?)"
cdr_check --where "$(where_call after)" hangup_side=caller hangup_cause=bye > /dev/null ||
  fail "CDR of the normal call after the bad input"
pass "$(echo "$CASES" | tail -n 1 | sed 's/^badsip: //'); a normal call succeeded after"
