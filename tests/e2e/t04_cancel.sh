#!/usr/bin/env bash
# t04_cancel — CANCEL before answer: the script rings (180) and waits 5 s before answering;
# SIPp cancels after 0.8 s and must get 200 (CANCEL) and 487 (INVITE); the CDR says
# hangup_cause cancel, from the caller's side, never answered.
. "$(dirname "$0")/lib.sh"
start_engine
run_sipp cancel "$(scen uac_cancel)" ring || fail "$(sipp_why cancel $?)"
cdr_check --where "$(where_call cancel)" hangup_cause=cancel hangup_side=caller "answer=" ||
  fail "CDR of the cancelled call"
engine_alive || fail "engine died"
pass "CANCEL got 200 + 487; CDR hangup_cause cancel"
