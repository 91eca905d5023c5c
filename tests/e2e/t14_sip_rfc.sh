#!/usr/bin/env bash
# t14_sip_rfc — SIP as the RFCs say (issue 7 item 4), over UDP and TCP: a request missing
# Call-ID, From, To or CSeq gets 400 whose reason phrase names it; a CSeq method that differs
# from the request's, two different Content-Lengths, a single-value header given twice: 400;
# a To tag with no dialog: 481 (an ACK: no answer); an unknown method: 501 in every form;
# SIP/7.0: 505; an unknown Request-URI scheme: 416; Require: 420; a body not SDP: 415
# (sip_rfc.py).  OPTIONS gets 200 after each.  An INVITE offering IPv6 media gets 488 with
# Warning 301, a log line, and a one-leg CDR whose hangup_cause says why.
. "$(dirname "$0")/lib.sh"
start_engine
run_cases sip_rfc sip_rfc.py 127.0.0.1 "$SIP_PORT"
cid=$(echo "$CASES" | sed -n 's/^refused-call-id: //p')
[ -n "$cid" ] || fail "sip_rfc.py printed no Call-ID for the IPv6 offer"
wait_for_log "refused INVITE .*\\($cid\\): 488 488-ipv6: Incompatible network address formats" 5 ||
  fail "no log line for the refused IPv6 offer"
cdr_check --where "leg_id=$cid" direction=inbound hangup_side=engine hangup_cause=488-ipv6 \
  caller=fuzz route= > /dev/null || fail "no CDR naming 488-ipv6 for the refused IPv6 offer"
pass "$(echo "$CASES" | tail -n 1 | sed 's/^sip_rfc: //'); the refused IPv6 offer is logged and has its CDR"
