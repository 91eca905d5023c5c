#!/usr/bin/env bash
# t19_record_key — a recording's stop key has one owner, the call: the keys 1 5 # sent by
# RFC 4733 (SIPp's telephone-event captures; needs root) and by SIP INFO during a
# recording that stops on "#" both end it by the key, and both CDRs show all three keys
# (before, RFC 4733's stop key was swallowed by the media layer and missing from dtmf).
. "$(dirname "$0")/lib.sh"
need_root "RFC 4733 captures"
start_engine
why=$(keys_both_ways record_key 'dtmf=15#' route=recorded-key 'recording?')
[ -z "$why" ] || fail "$why"
pass "a recording stopped by # sent by RFC 4733 and by SIP INFO: the same CDR dtmf 15#"
