#!/usr/bin/env bash
# t06_rtp_timeout — a call whose RTP never comes ends by itself: with rtp_timeout_ms 2000
# (rules-timeout/engine.lua), SIPp sends no RTP, the script only waits; the engine must send
# BYE after about 2 s (accepted: 1.5 to 8 s from the start) and the CDR says rtp-timeout.
. "$(dirname "$0")/lib.sh"
start_engine --rules "$E2E/rules-timeout"
t0=$(date +%s.%N)
run_sipp timeout "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=15000)" wait || fail "$(sipp_why timeout $?)"
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
cdr_check --where "$(where_call timeout)" hangup_cause=rtp-timeout hangup_side=engine route=waiting ||
  fail "CDR of the silent call"
awk -v s="$secs" 'BEGIN { exit !(s >= 1.5 && s <= 8) }' || fail "BYE came after $secs s, expected about 2 s"
pass "engine sent BYE after $(printf %.1f "$secs") s without RTP; CDR rtp-timeout"
