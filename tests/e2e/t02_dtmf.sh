#!/usr/bin/env bash
# t02_dtmf — DTMF reaches the script and changes what it does, by RFC 4733 (SIPp plays
# its telephone-event captures, payload type 101; needs root) and by SIP INFO
# (application/dtmf-relay): the keys 1 5 # make the script take the route keys-15 (and
# read the number back) instead of other-...; the CDR shows the keys and the route.
. "$(dirname "$0")/lib.sh"
need_root "RFC 4733 captures"
start_engine
why=$(keys_both_ways dtmf 'dtmf~^15#?$' route=keys-15 hangup_side=engine)
[ -z "$why" ] || fail "$why"
pass "keys 1 5 # by RFC 4733 and by SIP INFO reached the script (route keys-15)"
