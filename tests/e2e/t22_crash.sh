#!/usr/bin/env bash
# t22_crash — nothing lost when the engine dies (issue 7, item 6): kill -9, then a restart on
# the same data directory.  The shipped scripts/ and rules/ (copies in $WORK, which the test
# edits) at 10:00 on a summer Wednesday, callers from sipp/ivr_uac.xml as in t31.
#   msg    key 2, talks after the beep and never presses #: the engine is killed (-9) while
#          it records (its messages row is 'recording' by then).  After the restart
#          `hotline ctl query messages` lists the message as new, with the caller's number,
#          a length of what was said, and a WAV under recordings/ that holds the caller's
#          audio (checkrec.py); the call has a CDR with hangup_cause engine_restart.
#   disk   rules/engine.lua's record_min_free_mb is set above the disk's free space and
#          reloaded: key 2 is refused before the beep, the caller hears message_disk_full,
#          the log says why, no message row is made, and the call goes on to other_service.
#   broken a syntax error in a rules file: `hotline ctl reload` refuses it; kill -9; the
#          restart starts on the last good policy (kept in DATA/last-good when it passed),
#          with an ERROR line, and `hotline ctl status` says policy_source: last-good and
#          its version; a call is served; fixing the file and reloading says files again.
#   200    200 calls up (tests/e2e/scripts' wait flow: answered, then silent), kill -9,
#          restart: every call has one CDR with hangup_cause engine_restart, hangup_side
#          engine, its caller and called, the route its script set (waiting), its start, and
#          an end between its start and the kill (the last heartbeat, live_call_stamp_ms).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
command -v sqlite3 > /dev/null || fail "needs the sqlite3 command-line tool"
MSG_CALLER=13804321234
ivr_centres_overlay "$SIPP2_PORT"   # copies of rules/ and scripts/ in $WORK, which we edit
"$PY" "$E2E/mkaudio.py" stream "$WORK/talk.ulaw" 32 pcmu || fail "mkaudio.py stream failed"
db() { sqlite3 "$DATA/hotline.db" "$@"; }

# kill9: the engine dies at once: no BYE, no CDR written, no header finished.
kill9() {
  kill -KILL "$ENGINE_PID" 2> /dev/null
  wait "$ENGINE_PID" 2> /dev/null
  ENGINE_PID=""
}
# wait_sql SQL SECONDS: until the query prints something other than 0 or nothing.
wait_sql() {
  local i v
  for ((i = 0; i < $2 * 10; i++)); do
    v=$(db "$1" 2> /dev/null)
    [ -n "$v" ] && [ "$v" != 0 ] && return 0
    sleep 0.1
  done
  return 1
}
status_field() { ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }

# ---- msg: kill -9 mid-message ---------------------------------------------------------------
start_ivr 2026-07-01T10:00:00
[ -f "$DATA/last-good/VERSION" ] || fail "a policy that passed at start-up was not kept in DATA/last-good"
ivr_call 0 msg "$MSG_CALLER" stream:talk.ulaw pause:2000 info:2 pause:60000 bye; p_msg=$!
wait_sql "SELECT count(*) FROM messages WHERE state = 'recording' AND caller = '$MSG_CALLER'" 40 ||
  fail "the message's row was not written when its recording started"
sleep 5                                  # ~4 s of the caller's audio after the beep
kill9
kill "$p_msg" 2> /dev/null; wait "$p_msg" 2> /dev/null
msg_leg=$(sipp_callid msg)
start_ivr 2026-07-01T10:01:00
grep -q 'repaired unfinished recording' "$ENGINE_LOG" || fail "the restart repaired no recording"
ctl --json query messages new > "$WORK/messages.json" 2>&1 || fail "ctl query messages: $(head -c 300 "$WORK/messages.json")"
read -r m_caller m_state m_ms m_path < <("$PY" -c '
import json, sys
rows = [m for m in json.load(open(sys.argv[1]))["rows"] if m["caller"] == sys.argv[2]]
m = rows[-1] if rows else {}
print(m.get("caller", "-"), m.get("state", "-"), m.get("duration_ms", 0), m.get("path", "-"))
' "$WORK/messages.json" "$MSG_CALLER")
[ "$m_caller" = "$MSG_CALLER" ] || fail "no message from $MSG_CALLER listed after the restart: $(head -c 400 "$WORK/messages.json")"
[ "$m_state" = new ] || fail "the message is $m_state, not new"
{ [ "$m_ms" -ge 2000 ] && [ "$m_ms" -le 9000 ]; } || fail "the message lasts $m_ms ms, expected ~4000"
out=$("$PY" "$E2E/checkrec.py" "$DATA/recordings/$m_path" "$WORK/talk.ulaw.wav" 2.0) ||
  fail "the message's WAV $m_path does not hold the caller's audio: $out"
say "msg: listed new, $m_ms ms, $out"
cdr_check --where "leg_id~^${msg_leg%%@*}(@|\$)" hangup_cause=engine_restart hangup_side=engine \
  "caller=$MSG_CALLER" 'start?' 'end?' > "$WORK/msg.cdrcheck" 2>&1 ||
  fail "the message call has no engine_restart CDR: $(head -c 300 "$WORK/msg.cdrcheck")"

# ---- disk: below record_min_free_mb no recording starts --------------------------------------
avail=$(df -Pm "$DATA" | awk 'NR == 2 { print $4 }')
limit=$((avail * 2 + 1024))
[ "$limit" -le 10000000 ] || fail "the disk has too much free space ($avail MiB) for record_min_free_mb's range"
sed -i "s/^return {/return {\n  record_min_free_mb = $limit,   -- t22: above the $avail MiB free/" "$WORK/rules/engine.lua"
ctl reload > "$WORK/reload-disk.txt" 2>&1 || fail "reload with record_min_free_mb: $(cat "$WORK/reload-disk.txt")"
before=$(db "SELECT count(*) FROM messages")
ivr_call 1 disk 13804320000 stream:talk.ulaw pause:2000 info:2 pause:32000 bye; p_disk=$!
ivr_wait disk "$p_disk"
ivr_cdr disk 'prompts~ message_intro message_disk_full other_service' \
  'prompts~^(?!.*tone:beep)' || true
grep -qE "recording .* refused: [0-9]+ MiB free .* below record_min_free_mb $limit" "$ENGINE_LOG" ||
  IVR_WHY="$IVR_WHY disk: no log line for the refused recording;"
[ "$(db "SELECT count(*) FROM messages")" = "$before" ] || IVR_WHY="$IVR_WHY disk: a message row was made;"
[ -z "$IVR_WHY" ] || ivr_done ""
say "disk: refused at $avail MiB free (limit $limit): message_disk_full played, logged, no row"

# ---- broken: a refused edit, then kill -9 ------------------------------------------------------
good=$(status_field policy)
echo 'return { oops = }' > "$WORK/rules/zz_broken.lua"
if ctl reload > "$WORK/reload-broken.txt" 2>&1; then fail "the broken rules file was not refused"; fi
grep -q 'zz_broken.lua' "$WORK/reload-broken.txt" || fail "the refusal does not name the file: $(head -c 300 "$WORK/reload-broken.txt")"
kill9
start_ivr 2026-07-01T10:02:00 || fail "the engine did not start on the last good policy"
grep -qE 'ERROR .*STARTED ON THE LAST GOOD POLICY' "$ENGINE_LOG" || fail "no ERROR line says the engine runs the last good policy"
[ "$(status_field policy_source)" = last-good ] || fail "ctl status: policy_source is $(status_field policy_source)"
lg=$(status_field last_good_version)
[ "${lg#*-}" = "${good#*-}" ] || fail "the last good version $lg is not the one that served ($good)"
ctl status | grep -q '^policy_source: *last-good' || fail "'hotline ctl status' does not print policy_source: last-good"
ivr_call 2 after 13804321111 pause:2000 info:1 pause:3000 bye; p_after=$!
ivr_wait after "$p_after" || ivr_done ""
rm -f "$WORK/rules/zz_broken.lua"
ctl reload > "$WORK/reload-fixed.txt" 2>&1 || fail "reload after the fix: $(cat "$WORK/reload-fixed.txt")"
[ "$(status_field policy_source)" = files ] || fail "after a good reload policy_source is $(status_field policy_source)"
say "broken: refused, kill -9, started on last-good $lg (loudly), served a call, files again after the fix"
stop_engine 0

# ---- 200: kill -9 with 200 calls up -------------------------------------------------------------
N=200
DATA=$WORK/data200
"$PY" "$E2E/ports.py" "$((RTP_HI + 1))-$((RTP_HI + 2 * N + 100))" ||
  fail "no free RTP ports $((RTP_HI + 1))-$((RTP_HI + 2 * N + 100)) for $N calls"
start_engine --rtp-ports "$((RTP_HI + 1))-$((RTP_HI + 2 * N + 100))"
stamp_ms=$(ctl --json config | "$PY" -c '
import json, sys
print(next(s["value"] for s in json.load(sys.stdin)["settings"] if s["name"] == "live_call_stamp_ms"))')
sipp_bg many "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=120000)" wait -m "$N" -l "$N" -r 100; p_many=$!
for ((i = 0; i < 300; i++)); do
  [ "$(status_field calls)" -ge "$N" ] 2> /dev/null && break
  sleep 0.1
done
[ "$(status_field calls)" -ge "$N" ] || fail "only $(status_field calls) of $N calls came up"
wait_sql "SELECT count(*) >= $N FROM live_calls" 10 || fail "the store holds $(db 'SELECT count(*) FROM live_calls') of $N calls up"
sleep "$(( stamp_ms / 1000 + 1 ))"      # one heartbeat at least
killed=$(date +%s.%N)
kill9
kill "$p_many" 2> /dev/null; wait "$p_many" 2> /dev/null
[ "$(db "SELECT count(*) FROM cdr")" = 0 ] || fail "CDRs before the restart: the calls were not cut"
start_engine --rtp-ports "$((RTP_HI + 1))-$((RTP_HI + 2 * N + 100))"
res=$(db "SELECT count(*), count(DISTINCT leg_id), sum(hangup_side = 'engine'), sum(route = 'waiting'),
             sum(caller = '13800138000' AND called = 'wait'),
             sum(end_time >= start_time AND end_time <= $killed + 1 AND end_time >= $killed - $stamp_ms / 1000.0 - 2)
            FROM cdr WHERE hangup_cause = 'engine_restart'")
[ "$res" = "$N|$N|$N|$N|$N|$N" ] ||
  fail "engine_restart CDRs (count|legs|side engine|route so far|caller/called|end within a heartbeat of the kill): $res, expected all $N"
[ "$(db "SELECT count(*) FROM live_calls")" = 0 ] || fail "rows left in live_calls after the restart"
grep -q "$N call(s) were up when the last run ended" "$ENGINE_LOG" || fail "the restart does not log the calls it closed"
say "200: $N CDRs engine_restart, ends within $stamp_ms ms of the kill"
pass "kill -9 mid-message: listed with its audio; disk below the threshold: refused with a prompt; broken edit + kill -9: started on last-good, loudly; $N calls up: $N engine_restart CDRs"
