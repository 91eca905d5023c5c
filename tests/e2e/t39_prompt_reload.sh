#!/usr/bin/env bash
# t39_prompt_reload — prompts are part of the policy version (issue 10):
#  1. `hotline ctl reload` with nothing changed is a no-op: {"unchanged": true}, same version.
#  2. e2e_chirp.wav is replaced by a 9 s recording and reloaded: a new version.  A call to
#     `play` starts on it; while it plays, the WAV is replaced again (3 s, other audio) and
#     reloaded.  The call in progress streams the 9 s audio byte for byte to its end, and
#     the next call streams the 3 s one (checkprompt.py: the bytes of the G.711 stream).
#  3. A WAV removed and reloaded is gone from the version: a script naming it is refused by
#     the static check, before the swap.
. "$(dirname "$0")/lib.sh"
cp -r "$E2E/scripts" "$WORK/scripts"
start_engine --scripts "$WORK/scripts"

version() { ctl --json version | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["policy"])'; }
# reload_to OLD: reloads (the file watch may be first: then ctl says unchanged) and waits
# for a version other than OLD; prints it.
reload_to() {
  local old=$1 v
  ctl --json reload > "$WORK/reload.out" 2>&1 || fail "ctl reload: $(cat "$WORK/reload.out")"
  for _ in $(seq 50); do
    v=$(version); [ "$v" != "$old" ] && { echo "$v"; return 0; }
    sleep 0.1
  done
  fail "no new version after the reload (still $old): $(cat "$WORK/reload.out")"
}
sink_start() {  # sink_start FILE
  "$PY" "$E2E/rtpsink.py" "$SINK_PORT" "$1" 40 > "$WORK/sink.out" 2>&1 &
  SINK_PID=$!; BG_PIDS+=("$SINK_PID")
  for _ in $(seq 50); do grep -q ready "$WORK/sink.out" && break; sleep 0.1; done
  grep -q ready "$WORK/sink.out" || fail "rtpsink.py did not start: $(cat "$WORK/sink.out")"
}
put_wav() {  # put_wav SECONDS: a new e2e_chirp.wav, swapped in whole (rename)
  "$PY" "$E2E/mkaudio.py" prompt "$WORK/chirp-$1.wav" "$1" || fail "mkaudio.py prompt $1"
  cp "$WORK/chirp-$1.wav" "$PROMPTS/.e2e_chirp.tmp" && mv "$PROMPTS/.e2e_chirp.tmp" "$PROMPTS/e2e_chirp.wav"
}

# -- 1. nothing changed: no new version
v1=$(version)
out=$(ctl --json reload) || fail "ctl reload with nothing changed: $out"
echo "$out" | grep -q '"unchanged": true' || fail "a reload with nothing changed did not say unchanged: $out"
[ "$(version)" = "$v1" ] || fail "a reload with nothing changed made a new version: $(version), was $v1"
say "no-op reload: unchanged, still $v1"

# -- 2. a call in progress keeps its audio, the next call hears the new one
put_wav 9.0
v_old=$(reload_to "$v1")
sink_start "$WORK/sink-old.jsonl"
sipp_bg old "$(scen uac_prompt)" play -key sink_port "$SINK_PORT"; OLD_SIPP=$!
for _ in $(seq 50); do [ "$(ctl calls | grep -c play)" -ge 1 ] && break; sleep 0.1; done
sleep 1   # the old prompt is playing
put_wav 3.0
v_new=$(reload_to "$v_old")
[ "$(ctl calls | grep -c play)" -ge 1 ] || fail "the first call ended before the reload: the test cannot tell"
say "reloaded to $v_new while the first call plays"
wait "$OLD_SIPP" || fail "the call in progress: $(sipp_why old $?)"
sleep 0.3; stop_pid "$SINK_PID"
out=$("$PY" "$E2E/checkprompt.py" "$WORK/sink-old.jsonl" "$WORK/chirp-9.0.wav") ||
  fail "the call in progress did not keep its version's audio: $out"
say "call in progress: $out"
sink_start "$WORK/sink-new.jsonl"
run_sipp new "$(scen uac_prompt)" play -key sink_port "$SINK_PORT" || fail "$(sipp_why new $?)"
sleep 0.3; stop_pid "$SINK_PID"
out=$("$PY" "$E2E/checkprompt.py" "$WORK/sink-new.jsonl" "$WORK/chirp-3.0.wav") ||
  fail "the next call did not hear the new WAV: $out"
say "next call: $out"
cdr_check --where "$(where_call old)" "script_version=$v_old" > /dev/null || fail "CDR of the first call: not $v_old"
cdr_check --where "$(where_call new)" "script_version=$v_new" > /dev/null || fail "CDR of the next call: not $v_new"

# -- 3. a removed WAV: the static check sees a script that names it, before the swap
rm "$PROMPTS/e2e_chirp.wav"
if ctl reload > "$WORK/reload-missing.out" 2>&1; then
  fail "a reload with e2e_chirp.wav removed (main.lua plays it) was taken: $(cat "$WORK/reload-missing.out")"
fi
grep -q "e2e_chirp" "$WORK/reload-missing.out" || fail "the refusal does not name the prompt: $(cat "$WORK/reload-missing.out")"
[ "$(version)" = "$v_new" ] || fail "the refused reload changed the version"
grep -qE "reload: by .*: (taken|unchanged|refused)" "$ENGINE_LOG" || fail "no one-line reload outcome in the log"
pass "no-op reload unchanged; the call in progress kept $v_old's audio byte for byte, the next call heard $v_new's; a removed prompt refused"
