#!/usr/bin/env bash
# t01_prompt — a call is answered and its prompt arrives as RTP: SIPp's SDP points the
# engine's RTP at rtpsink.py; the script plays e2e_chirp and hangs up.  The G.711 bytes of
# the prompt must arrive in order at about 50 packets/s, and the CDR must say so.
. "$(dirname "$0")/lib.sh"
start_engine
"$PY" "$E2E/rtpsink.py" "$SINK_PORT" "$WORK/sink.jsonl" 40 > "$WORK/sink.out" 2>&1 &
SINK_PID=$!; BG_PIDS+=("$SINK_PID")
for _ in $(seq 50); do grep -q ready "$WORK/sink.out" && break; sleep 0.1; done
grep -q ready "$WORK/sink.out" || fail "rtpsink.py did not start: $(cat "$WORK/sink.out")"

run_sipp prompt "$(scen uac_prompt)" play -key sink_port "$SINK_PORT" || fail "$(sipp_why prompt $?)"
sleep 0.3
stop_pid "$SINK_PID"
out=$("$PY" "$E2E/checkprompt.py" "$WORK/sink.jsonl" "$PROMPTS/e2e_chirp.wav" 45 55) ||
  fail "prompt audio: $out"
say "$out"
cdr_check --where called=play route=played hangup_side=engine 'prompts~e2e_chirp' codec=PCMU \
  'rtp.sent>=100' || fail "CDR of the prompt call"
pass "prompt bytes arrived in order; ${out##*= }"
