# install_lib.sh — what the tests of an installed engine share (t38_install.sh and
# contrib/test-deb-chroot.sh): a stand-in for systemd's NOTIFY_SOCKET, and a call that must
# hear a given prompt.  Source it after lib.sh.
# shellcheck shell=bash

# notify_listen PATH: notifysock.py on PATH, writing each message as a line to
# $WORK/notify.log; returns once it is bound.
notify_listen() {
  "$PY" "$E2E/notifysock.py" "$1" "$WORK/notify.log" 300 > "$WORK/notify.out" 2>&1 &
  BG_PIDS+=("$!")
  for _ in $(seq 50); do grep -q ready "$WORK/notify.out" && break; sleep 0.1; done
  grep -q ready "$WORK/notify.out" || fail "notifysock.py did not start: $(cat "$WORK/notify.out")"
}

# notify_wait_ready SECONDS: until READY=1 arrives (fails if the engine, $ENGINE_PID, exits).
notify_wait_ready() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    grep -q '^READY=1' "$WORK/notify.log" 2>/dev/null && return 0
    kill -0 "$ENGINE_PID" 2>/dev/null || { ENGINE_PID=""; fail "the engine exited at start"; }
    sleep 0.1
  done
  fail "no READY=1 on NOTIFY_SOCKET within $1 s"
}

# hear_prompt TAG WAV: a SIPp call to 12333 whose SDP sends the engine's RTP to rtpsink.py;
# it lasts the prompt's length plus 1.5 s, then hangs up.  Fails unless WAV's G.711 bytes
# arrived whole and in order; checkprompt.py's finding is in HEARD (not printed: a fail in a
# $(...) subshell would not end the test).
hear_prompt() {
  local tag=$1 wav=$2 sink sc ms
  "$PY" "$E2E/rtpsink.py" "$SINK_PORT" "$WORK/$tag.sink.jsonl" 30 > "$WORK/$tag.sink.out" 2>&1 &
  sink=$!; BG_PIDS+=("$sink")
  for _ in $(seq 50); do grep -q ready "$WORK/$tag.sink.out" && break; sleep 0.1; done
  grep -q ready "$WORK/$tag.sink.out" || fail "rtpsink.py did not start: $(cat "$WORK/$tag.sink.out")"
  sc=$(scen uac_bye)
  sed -i 's/m=audio \[media_port\]/m=audio [sink_port]/' "$sc"
  ms=$("$PY" -c "import wave,sys; w=wave.open(sys.argv[1]); print(int(1000*w.getnframes()/w.getframerate()))" "$wav") ||
    fail "cannot read $wav"
  run_sipp "$tag" "$sc" 12333 -key sink_port "$SINK_PORT" -d $((ms + 1500)) || fail "$(sipp_why "$tag" $?)"
  sleep 0.3
  stop_pid "$sink"
  HEARD=$("$PY" "$E2E/checkprompt.py" "$WORK/$tag.sink.jsonl" "$wav" 45 55) ||
    fail "$tag: prompt audio: $HEARD"
}
