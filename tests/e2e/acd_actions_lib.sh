# acd_actions_lib.sh — what the agent-action tests (t46-t49, t53) add to acd_lib.sh: phones that place calls (agent_actions.py), and who hears
# whom in a stretch of a recording.  Source it after acd_lib.sh.
# shellcheck shell=bash

# acd_dialer TAG NUMBER PASSWORD IP DIALS [agent_actions.py options]: the agent's phone on
# IP:$AUX_PORT places the calls DIALS (comma-separated), one after the other; events in
# $WORK/TAG.jsonl, what it hears in $WORK/TAG.rtp.jsonl; pid in BG_PIDS.
acd_dialer() {
  local tag=$1 num=$2 pw=$3 ip=$4 dial=$5; shift 5
  "$PY" "$E2E/agent_actions.py" --engine "127.0.0.1:$SIP_PORT" --bind "$ip:$AUX_PORT" --user "$num" --password "$pw" \
    --record "$WORK/$tag.rtp.jsonl" --dial "$dial" "$@" > "$WORK/$tag.jsonl" 2> "$WORK/$tag.err" &
  BG_PIDS+=("$!")
}
# acd_hears LABEL REC.jsonl FROM TO SENT.ulaw|music MIN_S [MIN_RATE MAX_RATE]: REC's packets
# in [FROM, TO) hold SENT's stream for MIN_S seconds in order (checkstream.py), or the
# queue's music prompt whole (checkprompt.py); fails naming LABEL, or says what it found.
# The music's packet rate: 30..55 a second unless said (checkprompt.py's own 45..55 checks
# the pacing, which t01 tests; here who hears what is the point, and on this shared 2-core
# machine under load the engine's tick was seen to send 40-44 a second).
acd_hears() {
  local label=$1 rec=$2 from=$3 to=$4 what=$5 min=$6 out=$WORK/$1.check
  "$PY" "$E2E/rtpslice.py" "$rec" "$from" "$to" > "$WORK/$label.jsonl"
  if [ "$what" = music ]; then
    "$PY" "$E2E/checkprompt.py" "$WORK/$label.jsonl" "$PROMPTS/$(acd_rule music).wav" "${7:-30}" "${8:-55}" > "$out" ||
      fail "$label: $(cat "$out")"
  else
    "$PY" "$E2E/checkstream.py" "$WORK/$label.jsonl" "$what" "$min" > "$out" || fail "$label: $(cat "$out")"
  fi
  say "$label: $(cut -c1-100 < "$out")"
}
