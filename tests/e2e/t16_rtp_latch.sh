#!/usr/bin/env bash
# t16_rtp_latch — media only the caller can reach.  A third party (rtpspray.py) sprays the
# engine's whole RTP range from 127.0.0.1 on a port of its own and from 127.0.0.2: to every
# even port, 25 times a second, an RFC 4733 key 9 and a PCMU frame.  Meanwhile:
#   (a) a caller keys 1 5 # by RFC 4733 (SIPp's captures: needs root) to the dtmf script:
#       the script sees its keys only (route keys-15, CDR dtmf 15#, no 9);
#   (b) as (a), but the caller's SDP names another address (127.0.0.3) than the one its SIP
#       and RTP come from, as linphonec names its default-route address or a phone behind
#       NAT its private one: the engine latches to its packets from the signalling address
#       (the symmetric rule: a move, counted in latch_moves) and its keys arrive; the spray
#       comes from elsewhere (127.0.0.2) only: a sprayer on the caller's own address could
#       win that race before the caller's first packet — the rule's known limit;
#   (c) with rules-timeout (rtp_timeout_ms 2000) a caller sends no RTP at all: the spray
#       does not keep the call alive (BYE after 1.5-8 s, CDR rtp-timeout).
# Each time the sprayer receives nothing (the engine's audio went to the caller only:
# the CDR shows it sent), and `hotline ctl status` counts the spray in
# rtp_dropped.foreign_source; the engine log has the rate-limited line about it.
. "$(dirname "$0")/lib.sh"
need_root "RFC 4733 captures"

SPRAY_PID=""
spray_start() {  # spray_start TAG [SOURCES]: rtpspray.py over the engine's RTP range, in the background
  "$PY" "$E2E/rtpspray.py" "$RTP_LO-$RTP_HI" "$WORK/$1.json" 40 9 "${2:-127.0.0.1,127.0.0.2}" \
    > "$WORK/$1.out" 2>&1 &
  SPRAY_PID=$!; BG_PIDS+=("$SPRAY_PID")
  for _ in $(seq 50); do grep -q ready "$WORK/$1.out" && return 0; sleep 0.1; done
  fail "rtpspray.py did not start: $(cat "$WORK/$1.out")"
}
# spray_check TAG: stops the sprayer; fails when it received anything or sent nothing.
spray_check() {
  stop_pid "$SPRAY_PID" 5
  [ -s "$WORK/$1.json" ] || fail "$1: rtpspray.py wrote no summary: $(cat "$WORK/$1.out")"
  "$PY" - "$WORK/$1.json" "$1" <<'EOF' || fail "$1: the engine sent audio to the sprayer"
import json, sys
s = json.load(open(sys.argv[1]))
print("  [t16_rtp_latch] %s: sprayer sent %d packets in %d rounds, received %d %s"
      % (sys.argv[2], s["sent"], s["rounds"], s["received_total"], s["received"] or ""))
sys.exit(0 if s["received_total"] == 0 and s["sent"] > 0 else 1)
EOF
}
# dropped_check TAG MOVES: `ctl status` counts foreign packets and MOVES symmetric latches
# since the engine started; prints its rtp_dropped.
dropped_check() {
  local st
  st=$(ctl --json status) || fail "$1: ctl status failed"
  echo "$st" > "$WORK/$1.status.json"
  "$PY" - "$WORK/$1.status.json" "$1" "$2" <<'EOF' || fail "$1: ctl status's rtp_dropped is wrong: $st"
import json, sys
d = json.load(open(sys.argv[1]))["rtp_dropped"]
print("  [t16_rtp_latch] %s: ctl status rtp_dropped %s" % (sys.argv[2], json.dumps(d, sort_keys=True)))
sys.exit(0 if d["foreign_source"] >= 100 and d["latch_moves"] == int(sys.argv[3]) else 1)
EOF
}

# (a) keys under the spray
start_engine
spray_start keys
if ! run_sipp keys "$(scen uac_dtmf_4733 BYE_TIMEOUT=15000)" dtmf; then
  cdr_check --where "$(where_call keys)" --wait 3
  fail "keys: $(sipp_why keys $?)"
fi
cdr_check --where "$(where_call keys)" 'dtmf~^15#?$' route=keys-15 hangup_side=engine 'rtp.sent>=20' ||
  fail "keys: a sprayed key reached the call, or the caller's did not"
dropped_check keys 0
spray_check keys
wait_for_log 'WARN +media: dropped [0-9]+ received RTP' 1 || fail "no log line about the dropped RTP"

# (b) symmetric RTP for a caller whose SDP names another address
spray_start nat 127.0.0.2
sc=$(scen uac_dtmf_4733 BYE_TIMEOUT=15000)
sed -i 's/^\([[:space:]]*\)c=IN IP4 127.0.0.1/\1c=IN IP4 127.0.0.3/' "$sc"
if ! run_sipp nat "$sc" dtmf; then
  cdr_check --where "$(where_call nat)" --wait 3
  fail "nat: $(sipp_why nat $?)"
fi
cdr_check --where "$(where_call nat)" 'dtmf~^15#?$' route=keys-15 hangup_side=engine ||
  fail "nat: the keys of a caller behind NAT did not arrive"
wait_for_log "RTP latched to 127.0.0.1:$MEDIA_PORT, the signalling peer's address \(the SDP named 127.0.0.3:$MEDIA_PORT\)" 1 ||
  fail "nat: no log line of the symmetric latch to 127.0.0.1:$MEDIA_PORT"
dropped_check nat 1
spray_check nat
stop_engine

# (c) the spray alone does not keep a silent call alive
start_engine --rules "$E2E/rules-timeout"
spray_start silent
t0=$(date +%s.%N)
run_sipp silent "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=15000)" wait ||
  fail "silent: $(sipp_why silent $?) (the spray kept the call alive?)"
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
cdr_check --where "$(where_call silent)" hangup_cause=rtp-timeout hangup_side=engine 'rtp.received<=0' ||
  fail "silent: CDR of the sprayed silent call"
awk -v s="$secs" 'BEGIN { exit !(s >= 1.5 && s <= 8) }' || fail "silent: BYE after $secs s, expected about 2 s"
dropped_check silent 0
spray_check silent
pass "under a spray of the RTP range: keys 15# only (also latched symmetrically), BYE after $(printf %.1f "$secs") s of silence, nothing sent to the sprayer"
