# lib.sh — what every end-to-end test shares; sourced by tests/e2e/tNN_*.sh.
# shellcheck shell=bash
#
# Gives each test: its own work dir ($WORK, data dir $DATA), its own ports (chosen from
# the test's number and checked free by binding them), an engine started on 127.0.0.1
# with the test scripts, rules and prompts (start_engine / stop_engine), SIPp runs with
# their logs in $WORK (run_sipp / sipp_bg), CDR checks (cdr_check), and pass/fail lines.
# Everything started is stopped by the EXIT trap, by process id, also when a test fails.
# Set E2E_KEEP=1 to keep the work dir of passing tests too (failing ones are always kept).
set -u

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E/../.." && pwd)
HOTLINE=${HOTLINE:-$ROOT/build/hotline}
PROMPTS_SRC=${PROMPTS_SRC:-$ROOT/build/prompts}
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
export PYTHONWARNINGS=ignore PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the tree

T=${E2E_TEST_NAME:-$(basename "$0" .sh)}  # the test's name, e.g. t01_prompt (a script outside tests/e2e names itself)
TNUM=$((10#$(echo "$T" | sed -E 's/^t([0-9]+).*/\1/')))
WORK=$(mktemp -d "/tmp/hl-e2e-$T.XXXXXX")
DATA=$WORK/data
ENGINE_PID=""
ENGINE_LOG=$WORK/engine.log
BG_PIDS=()
E2E_RESULT=""

say() { echo "  [$T] $*"; }

# ---- ending ------------------------------------------------------------------------------
# Stops one process we started: TERM, then KILL after a grace period.
stop_pid() {  # stop_pid PID [GRACE_SECONDS]
  local pid=$1 grace=${2:-3} i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

e2e_cleanup() {
  local rc=$?
  local p
  for p in "${BG_PIDS[@]}"; do stop_pid "$p" 2; done
  if [ -n "$ENGINE_PID" ]; then stop_pid "$ENGINE_PID" 10; ENGINE_PID=""; fi
  if [ -z "$E2E_RESULT" ]; then
    echo "FAIL $T: test script ended unexpectedly (exit $rc)"
    rc=1
  fi
  if [ "$rc" -eq 0 ] && [ "${E2E_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "  [$T] work dir kept: $WORK"
  fi
  exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
  local f
  if [ -s "$ENGINE_LOG" ]; then
    echo "  --- engine log (last 30 lines of $ENGINE_LOG)"
    tail -n 30 "$ENGINE_LOG" | sed 's/^/  | /'
  fi
  for f in "$WORK"/*.err; do
    [ -s "$f" ] || continue
    echo "  --- $(basename "$f") (first 20 lines)"
    head -n 20 "$f" | sed 's/^/  | /'
  done
}

fail() { E2E_RESULT=fail; echo "FAIL $T: $*"; show_logs; exit 1; }
pass() { E2E_RESULT=pass; echo "PASS $T${1:+: $1}"; exit 0; }

# ---- prerequisites -----------------------------------------------------------------------
need_engine() {
  [ -x "$HOTLINE" ] || fail "no engine binary at $HOTLINE (run 'make build/hotline')"
}
need_root() {  # SIPp's pcap playback sends with a raw socket
  [ "$(id -u)" -eq 0 ] || fail "needs root (or CAP_NET_RAW) for SIPp pcap playback: $*"
}

# ---- ports -------------------------------------------------------------------------------
# SIP_PORT engine SIP (UDP+TCP); SIPP_PORT, SIPP2_PORT SIPp's own SIP ports; AUX_PORT and
# CTRL_PORT for other tools (baresip's SIP and control; AUX_PORT+1 stays free: baresip
# binds SIP TLS there); MEDIA_PORT, MEDIA2_PORT SIPp media (each uses 4 ports);
# SINK_PORT the RTP sink; RTP_LO-RTP_HI the engine's RTP range.  Chosen from the test
# number, moved by 1000 until every one binds.
PORT_TRY=0
pick_ports() {  # pick_ports [FIRST_TRY]
  local try base rbase
  for ((try = ${1:-0}; try < 10; try++)); do
    PORT_TRY=$try
    base=$((15000 + TNUM * 40 + try * 1000))
    rbase=$((30000 + TNUM * 200 + try * 3000))
    SIP_PORT=$base; SIPP_PORT=$((base + 1)); SIPP2_PORT=$((base + 2))
    AUX_PORT=$((base + 3)); CTRL_PORT=$((base + 5))
    MEDIA_PORT=$((base + 20)); MEDIA2_PORT=$((base + 26)); SINK_PORT=$((base + 34))
    RTP_LO=$rbase; RTP_HI=$((rbase + 199))
    if "$PY" "$E2E/ports.py" "$SIP_PORT" "$SIPP_PORT" "$SIPP2_PORT" "$AUX_PORT-$CTRL_PORT" \
         "$MEDIA_PORT-$((MEDIA_PORT + 3))" "$MEDIA2_PORT-$((MEDIA2_PORT + 3))" \
         "$SINK_PORT-$((SINK_PORT + 1))" "$RTP_LO-$RTP_HI"; then
      return 0
    fi
  done
  fail "no free set of ports found (tried 10 offsets)"
}

# ---- prompts -----------------------------------------------------------------------------
# The engine's prompts for the tests: build/prompts (linked) plus e2e_chirp.wav, made by
# mkaudio.py (cached in $E2E_CACHE when run-all.sh runs the suite).
make_prompts() {
  PROMPTS=$WORK/prompts
  mkdir -p "$PROMPTS"
  if [ -d "$PROMPTS_SRC" ]; then
    local f
    for f in "$PROMPTS_SRC"/*; do
      [ -e "$f" ] && ln -sf "$f" "$PROMPTS/$(basename "$f")"
    done
  fi
  local cache=${E2E_CACHE:-$WORK}
  mkdir -p "$cache"
  if [ ! -s "$cache/e2e_chirp.wav" ]; then   # made aside, then renamed: tests run side by side
    "$PY" "$E2E/mkaudio.py" prompt "$cache/.chirp.$$.wav" 2.0 || fail "mkaudio.py prompt failed"
    mv -f "$cache/.chirp.$$.wav" "$cache/e2e_chirp.wav"
  fi
  rm -f "$PROMPTS/e2e_chirp.wav"
  cp "$cache/e2e_chirp.wav" "$PROMPTS/e2e_chirp.wav"
}

# ---- the engine --------------------------------------------------------------------------
# start_engine [--scripts DIR] [--rules DIR] [more hotline run options]: starts it in the
# background (log: $ENGINE_LOG) and waits until `hotline ctl status` answers.  If its SIP
# port was taken between pick_ports and now (other programs run on this machine too), it
# moves every port to the next offset and tries again: call it before starting the rest.
start_engine() {
  for _ in 1 2 3; do
    start_engine_once "$@" && return 0
    grep -q 'in use' <(tail -n 3 "$ENGINE_LOG") || break
    say "SIP port $SIP_PORT was taken; moving to other ports"
    pick_ports $((PORT_TRY + 1))
  done
  fail "engine exited at start: $(tail -n 1 "$ENGINE_LOG")"
}
start_engine_once() {
  local scripts=$E2E/scripts rules=$E2E/rules
  while [ $# -gt 0 ]; do
    case $1 in
      --scripts) scripts=$2; shift 2 ;;
      --rules) rules=$2; shift 2 ;;
      *) break ;;
    esac
  done
  need_engine
  [ -n "${PROMPTS:-}" ] || make_prompts
  mkdir -p "$DATA"
  echo "=== $(date +%T.%N) hotline run --sip 127.0.0.1:$SIP_PORT --rtp-ports $RTP_LO-$RTP_HI" \
    "--scripts $scripts --rules $rules $*" >> "$ENGINE_LOG"
  "$HOTLINE" run --sip "127.0.0.1:$SIP_PORT" --rtp-ports "$RTP_LO-$RTP_HI" --data "$DATA" \
    --scripts "$scripts" --rules "$rules" --prompts "$PROMPTS" "$@" >> "$ENGINE_LOG" 2>&1 &
  ENGINE_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    if ! kill -0 "$ENGINE_PID" 2>/dev/null; then
      wait "$ENGINE_PID"
      ENGINE_PID=""
      return 1
    fi
    if "$HOTLINE" ctl --data "$DATA" --timeout 2 status > /dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "engine did not answer 'hotline ctl status' within 10 s"
}

# stop_engine [EXPECTED_RC]: SIGTERM, wait up to 10 s; fails unless it exits with the rc.
stop_engine() {
  local want=${1:-0} i rc
  [ -n "$ENGINE_PID" ] || return 0
  kill -TERM "$ENGINE_PID" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$ENGINE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$ENGINE_PID" 2>/dev/null; then
    kill -KILL "$ENGINE_PID" 2>/dev/null; wait "$ENGINE_PID" 2>/dev/null
    ENGINE_PID=""
    fail "engine did not exit within 10 s of SIGTERM"
  fi
  wait "$ENGINE_PID"; rc=$?
  ENGINE_PID=""
  [ "$rc" -eq "$want" ] || fail "engine exited $rc after SIGTERM, expected $want"
}

engine_alive() { [ -n "$ENGINE_PID" ] && kill -0 "$ENGINE_PID" 2>/dev/null; }

ctl() { "$HOTLINE" ctl --data "$DATA" "$@"; }

# ---- SIPp --------------------------------------------------------------------------------
# scen NAME [KEY=VALUE ...]: prints $WORK/NAME.XXXXXX.xml, made from sipp/NAME.xml with
# @KEY@ replaced (for values SIPp cannot take as -key, such as timeouts and file names in
# attributes);
# @PT@ @CODEC@ default to 0 PCMU, @SDP_EXTRA@ and @MEDIA@ to nothing.
scen() {
  local name=$1; shift
  local out  # a file of its own: two SIPp runs may start from the same scenario at once
  out=$(mktemp --suffix=.xml "$WORK/$name.XXXXXX")
  cp "$E2E/sipp/$name.xml" "$out"
  local kv
  for kv in "$@"; do
    sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
  done
  # defaults: PCMU, nothing extra
  sed -i 's|@PT@|0|g; s|@CODEC@|PCMU|g; s|@SDP_EXTRA@||g; s|@MEDIA@||g' "$out"
  echo "$out"
}

# run_sipp TAG SCENARIO_XML SERVICE [sipp options]: one SIPp UAC run, in $WORK, against the
# engine; logs $WORK/TAG.out, .err (unexpected messages), .msg (every message).  Returns
# SIPp's exit code (0 = every call succeeded).
SIPP_TIMEOUT=${SIPP_TIMEOUT:-40}
# SIPp's own ports: $SIPP_PORT and $MEDIA_PORT unless SIPP_LOCAL / SIPP_MEDIA say otherwise
# (a second SIPp running at the same time needs others: SIPP2_PORT, MEDIA2_PORT).
sipp_args() {  # sipp_args TAG SCENARIO SERVICE
  echo "127.0.0.1:$SIP_PORT -sf $2 -s $3 -i 127.0.0.1 -p ${SIPP_LOCAL:-$SIPP_PORT}" \
       "-mp ${SIPP_MEDIA:-$MEDIA_PORT} -m 1" \
       "-nostdin -timeout ${SIPP_TIMEOUT}s -timeout_error -trace_err -error_file $WORK/$1.err" \
       "-trace_msg -message_file $WORK/$1.msg -key caller 13800138000"
}
run_sipp() {
  local tag=$1 sc=$2 svc=$3; shift 3
  # shellcheck disable=SC2046
  (cd "$WORK" && timeout $((SIPP_TIMEOUT + 20)) sipp $(sipp_args "$tag" "$sc" "$svc") "$@" \
     > "$WORK/$tag.out" 2>&1)
}
# sipp_bg TAG SCENARIO SERVICE [options]: the same in the background; the pid is in $!
# and in BG_PIDS (stopped at exit); collect its result with `wait $pid`.
sipp_bg() {
  local tag=$1 sc=$2 svc=$3; shift 3
  # shellcheck disable=SC2046
  (cd "$WORK" && exec timeout $((SIPP_TIMEOUT + 20)) sipp $(sipp_args "$tag" "$sc" "$svc") "$@" \
     > "$WORK/$tag.out" 2>&1) &
  BG_PIDS+=("$!")
}
# sipp_uas_bg TAG SCENARIO [sipp options]: a SIPp UAS for one call (SCENARIO "-sn uas" is
# SIPp's built-in one) on 127.0.0.1:$SIPP2_PORT, media $MEDIA2_PORT, in the background:
# pid in $! and BG_PIDS.
sipp_uas_bg() {
  local tag=$1 sc=$2; shift 2
  local how=(-sf "$sc")
  [ "$sc" = "-sn uas" ] && how=(-sn uas)
  (cd "$WORK" && exec timeout $((SIPP_TIMEOUT + 20)) sipp "${how[@]}" -i 127.0.0.1 -p "$SIPP2_PORT" \
     -mp "$MEDIA2_PORT" -m 1 -nostdin -timeout "${SIPP_TIMEOUT}s" -timeout_error -trace_err \
     -error_file "$WORK/$tag.err" -trace_msg -message_file "$WORK/$tag.msg" "$@" \
     > "$WORK/$tag.out" 2>&1) &
  BG_PIDS+=("$!")
}
# Why a SIPp run failed, in one line: the last events of its error log, else its exit code.
sipp_why() {  # sipp_why TAG RC
  local e=""
  if [ -s "$WORK/$1.err" ]; then
    e=$(grep -v -e '^[[:space:]]*$' -e 'following events occurred' "$WORK/$1.err" |
        tail -n 2 | sed -E 's/^[0-9-]+[[:space:]]+[0-9:.]+[[:space:]]+[0-9.]+: //' | tr '\n' ' ')
  fi
  [ -z "$e" ] && [ -s "$WORK/$1.out" ] &&
    e=$(grep -E 'Unable|Abort|rror:|No such|cannot|Usage' "$WORK/$1.out" | tail -n 2 | tr '\n' ' ')
  echo "SIPp '$1' exit $2${e:+: ${e:0:400}}"
}

# The SIP Call-ID of a SIPp run's (first) call, from its message trace: a CDR's leg_id.
sipp_callid() {  # sipp_callid TAG
  grep -m1 -i '^Call-ID:' "$WORK/$1.msg" 2>/dev/null | sed -E 's/^[^:]*:[[:space:]]*//; s/[[:space:]]+$//'
}
# A --where selecting that call's CDR (leg_id equals the Call-ID, with or without @host).
where_call() {  # where_call TAG
  local id; id=$(sipp_callid "$1")
  echo "leg_id~^${id%%@*}(@|\$)"
}

# ---- CDRs --------------------------------------------------------------------------------
# cdr_check [cdrcheck.py options and checks]: see cdrcheck.py.
cdr_check() { "$PY" "$E2E/cdrcheck.py" --hotline "$HOTLINE" --data "$DATA" "$@"; }

# run_cases TAG SCRIPT [ARGS...]: runs a case-by-case checker (badsip.py, sip_rfc.py: one
# "ok"/"FAIL" line per case, a summary last) at the engine; its output goes to $WORK/TAG.out
# and into CASES.  Fails, naming the failed cases, when it fails or the engine died.
run_cases() {
  local tag=$1 script=$2 rc; shift 2
  CASES=$("$PY" "$E2E/$script" "$@"); rc=$?
  echo "$CASES" > "$WORK/$tag.out"
  engine_alive || { echo "$CASES" | sed 's/^/  | /'; fail "the engine died during $script"; }
  if [ "$rc" -ne 0 ]; then
    echo "$CASES" | grep -E 'FAIL' | sed 's/^/  | /'
    fail "$(echo "$CASES" | tail -n 1)"
  fi
}

# keys_both_ways SERVICE CHECK...: calls SERVICE twice, sending the keys 1 5 # by RFC 4733
# (uac_dtmf_4733) and by SIP INFO (uac_dtmf_info), and checks each call's CDR; prints
# what went wrong ("" when both calls passed).
keys_both_ways() {
  local svc=$1 kind why=""; shift
  for kind in rfc4733 info; do
    if run_sipp "$kind" "$(scen "uac_dtmf_${kind/rfc/}" BYE_TIMEOUT=15000)" "$svc"; then
      cdr_check --where "$(where_call "$kind")" "$@" >&2 || why="$why $kind: CDR wrong;"
    else
      why="$why $kind: $(sipp_why "$kind" $?);"
      cdr_check --where "$(where_call "$kind")" --wait 3 >&2
    fi
  done
  echo "$why"
}

# wait_for_log REGEX SECONDS: waits until the engine log has a matching line.
wait_for_log() {
  local re=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    grep -qE "$re" "$ENGINE_LOG" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

pick_ports
