#!/usr/bin/env bash
# t07_hold — hold and resume by re-INVITE: with rtp_timeout_ms 2000 and rtp_hold_timeout_ms
# 15000 (rules-timeout/), SIPp sends RTP for 1 s, holds (a=sendonly, its RTP stops) for
# 5 s — longer than the RTP timeout —, resumes (a=sendrecv, RTP again) and hangs up.  The
# call must survive the hold, the 200s must answer recvonly then sendrecv, and the call
# must end normally (caller, bye).
. "$(dirname "$0")/lib.sh"
start_engine --rules "$E2E/rules-timeout"
"$PY" "$E2E/mkaudio.py" stream "$WORK/stream.ulaw" 4 pcmu || fail "mkaudio.py stream failed"
run_sipp hold "$(scen uac_hold HOLD_MS=5000)" wait || fail "$(sipp_why hold $?)"
why=""
o2=$("$PY" "$E2E/sdpcheck.py" "$WORK/hold.msg" 2 recvonly,inactive) || why="$why hold: $o2;"
o3=$("$PY" "$E2E/sdpcheck.py" "$WORK/hold.msg" 3 sendrecv) || why="$why resume: $o3;"
say "$o2"; say "$o3"
[ -z "$why" ] || fail "$why"
cdr_check --where "$(where_call hold)" hangup_side=caller hangup_cause=bye route=waiting \
  'rtp.received>=50' || fail "CDR of the held call"
pass "call survived 5 s of hold (RTP timeout 2 s); 200s answered recvonly/sendrecv; ended by caller"
