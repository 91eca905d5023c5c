#!/usr/bin/env bash
# t13_reload_tunables — a reload applies rules/engine.lua as the table of tunables says
# (`hotline config`), and paths in rules do not depend on where the engine was started:
#  1. The engine starts from another directory ($WORK) with the shipped scripts/ and rules/:
#     fax_dir ("../build/fax") is found below the rules folder, so the fax scenarios of the
#     start-up self-test pass and the engine serves.
#  2. With rtp_timeout_ms OLD, call 1 (SIPp sends no RTP) is placed; engine.lua is changed
#     to NEW (shorter) and `hotline ctl reload` names it among the values of the next call;
#     call 2 then ends after about NEW, while call 1, already up, keeps OLD.
#  3. sip_max_message lowered by a reload refuses, from then on, a message it admitted before.
#  4. An out-of-range value is refused by `ctl reload` with file:line; a change to a
#     restart-only value (rtp_port_lo) is accepted and reported: "takes effect at restart";
#     `ctl config` shows the values in force.
. "$(dirname "$0")/lib.sh"
OLD_MS=8000    # long enough that call 1 is still up when the reload is through
NEW_MS=2000
HOLD_MS=15000  # rtp_hold_timeout_ms: not shorter than rtp_timeout_ms
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
within() { awk -v s="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(s >= lo && s <= hi) }'; }

# -- 1. started elsewhere, the shipped rules find their documents
cd "$WORK" || fail "cannot cd to $WORK"
fax_dir=$("$HOTLINE" config --rules "$ROOT/rules" | awk '$1 == "fax_dir" { gsub(/"/, "", $3); print $3 }')
[ -f "$fax_dir/doc-1.tif" ] || fail "fax_dir of rules/engine.lua is '$fax_dir' from $WORK: no doc-1.tif there"
start_engine --scripts "$ROOT/scripts" --rules "$ROOT/rules"
stop_engine
say "started from $WORK with rules/: fax_dir $fax_dir"

# -- 2. the next call takes the new rtp_timeout_ms; the call already up keeps its own
RULES=$WORK/rules
mkdir -p "$RULES"
# The file watcher waits reload_debounce_ms after a save: at its longest, so that `ctl reload`
# is the reload that applies each change and reports it.
write_rules() {  # write_rules TIMEOUT_MS [MORE LINES]
  printf 'return {\n  rtp_timeout_ms = %s,\n  rtp_hold_timeout_ms = %s,\n  reload_debounce_ms = %s,\n%s}\n' \
    "$1" "$HOLD_MS" "$(debounce_max)" "${2:-}" > "$RULES/engine.lua"
}
debounce_max() { "$HOTLINE" config --defaults | awk '$1 == "reload_debounce_ms" { sub(/.*range [0-9]+-/, ""); print $1 + 0 }'; }
write_rules "$OLD_MS"
start_engine --rules "$RULES"
t1=$(date +%s.%N)
SIPP_LOCAL=$SIPP2_PORT SIPP_MEDIA=$MEDIA2_PORT sipp_bg old "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=20000)" wait
OLD_PID=$!
for _ in $(seq 50); do ctl status 2>/dev/null | grep -q '^calls: 1$' && break; sleep 0.1; done
ctl status | grep -q '^calls: 1$' || fail "call 1 is not up within 5 s"
write_rules "$NEW_MS"
ctl reload > "$WORK/reload1.out" 2>&1 || fail "ctl reload of the shorter timeout: $(cat "$WORK/reload1.out")"
grep -q "next_call: rtp_timeout_ms" "$WORK/reload1.out" ||
  fail "ctl reload does not say rtp_timeout_ms applies from the next call: $(cat "$WORK/reload1.out")"
t2=$(date +%s.%N)
run_sipp new "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=20000)" wait || fail "call 2: $(sipp_why new $?)"
secs_new=$(elapsed "$t2")
wait "$OLD_PID"; rc=$?
secs_old=$(elapsed "$t1")
[ "$rc" -eq 0 ] || fail "call 1: $(sipp_why old "$rc")"
for tag in old new; do
  cdr_check --where "$(where_call $tag)" hangup_cause=rtp-timeout hangup_side=engine route=waiting > /dev/null ||
    fail "call $tag did not end by RTP timeout"
done
within "$secs_new" 1.5 $((NEW_MS / 1000 + 4)) || fail "call 2 ended after $secs_new s, expected about $((NEW_MS / 1000)) s"
within "$secs_old" $((OLD_MS / 1000 - 1)) $((OLD_MS / 1000 + 6)) ||
  fail "call 1 ended after $secs_old s, expected about $((OLD_MS / 1000)) s (its own timeout)"
say "after the reload: new call $secs_new s (rtp_timeout_ms $NEW_MS); call up before: $secs_old s ($OLD_MS)"

# -- 3. the SIP stack takes sip_max_message at the reload: an OPTIONS of OPTIONS_BYTES is
#       answered 200 under the default and refused once the limit is below its size
OPTIONS_BYTES=3000
options_code() {  # the status code the engine answers an OPTIONS of OPTIONS_BYTES with
  "$PY" - "$SIP_PORT" "$AUX_PORT" "$OPTIONS_BYTES" <<'PY'
import socket, sys
port, local, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
head = ("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-t13\r\n"
        "From: <sip:t13@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: t13-%d@127.0.0.1\r\n"
        "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n" % (port, local, size))
pad = "X-Pad: " + "a" * (size - len(head) - len("X-Pad: \r\n\r\n")) + "\r\n\r\n"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", local))
s.settimeout(3)
s.sendto((head + pad).encode(), ("127.0.0.1", port))
try:
    print(s.recv(65536).split(b" ")[1].decode())
except socket.timeout:
    print("none")
PY
}
code=$(options_code)
[ "$code" = 200 ] || fail "OPTIONS of $OPTIONS_BYTES bytes under the default sip_max_message: $code, expected 200"
write_rules "$NEW_MS" "  sip_max_message = $((OPTIONS_BYTES - 1000)),
"
ctl reload > "$WORK/reload-sip.out" 2>&1 || fail "ctl reload of sip_max_message: $(cat "$WORK/reload-sip.out")"
code=$(options_code)
case $code in 400|413|513) ;; *) fail "OPTIONS of $OPTIONS_BYTES bytes after sip_max_message $((OPTIONS_BYTES - 1000)): $code" ;; esac
say "OPTIONS of $OPTIONS_BYTES bytes: 200, then $code after the reload lowered sip_max_message"

# -- 4. out of range refused with file:line; restart-only reported
write_rules 5
if ctl reload > "$WORK/reload2.out" 2>&1; then
  fail "ctl reload accepted rtp_timeout_ms = 5: $(cat "$WORK/reload2.out")"
fi
grep -q "engine.lua:2: rtp_timeout_ms must be a whole number" "$WORK/reload2.out" ||
  fail "the refusal does not name engine.lua:2 and rtp_timeout_ms: $(cat "$WORK/reload2.out")"
write_rules "$NEW_MS" "  rtp_port_lo = $((RTP_LO + 2)),
"
ctl reload > "$WORK/reload3.out" 2>&1 || fail "ctl reload with a new rtp_port_lo: $(cat "$WORK/reload3.out")"
grep -q "takes effect at restart: rtp_port_lo" "$WORK/reload3.out" ||
  fail "ctl reload does not report the restart-only change: $(cat "$WORK/reload3.out")"
grep -q "takes effect at restart: rtp_port_lo" "$ENGINE_LOG" || fail "the log does not report it either"
ctl config > "$WORK/config.out" 2>&1 || fail "ctl config: $(cat "$WORK/config.out")"
grep -Eq "rtp_port_lo +$RTP_LO " "$WORK/config.out" || fail "ctl config does not show the running rtp_port_lo $RTP_LO"
grep -Eq "rtp_timeout_ms +$NEW_MS " "$WORK/config.out" || fail "ctl config does not show rtp_timeout_ms $NEW_MS"
run_sipp after "$(scen uac_bye MEDIA=)" version -d 300 || fail "call after the reloads: $(sipp_why after $?)"
engine_alive || fail "the engine died"
pass "fax_dir found from another directory; next call took rtp_timeout_ms $NEW_MS ($secs_new s), the call up kept $OLD_MS ($secs_old s); sip_max_message applied; range refusal and restart-only change reported"
