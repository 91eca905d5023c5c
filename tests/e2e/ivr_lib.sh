# ivr_lib.sh — what the 12333 IVR end-to-end tests (t30-t39) add to lib.sh: the shipped
# scripts/ and rules/ run by the engine at a chosen wall time (--clock), callers made from
# sipp/ivr_uac.xml by ivr/mkscen.py (several at once, each on its own SIP and media
# ports), a rules overlay pointing key-9 centres at loopback, and CDR helpers.
# Source it after lib.sh:  . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/ivr_lib.sh"
# shellcheck shell=bash disable=SC2034,SC2153
# (SC2034: the variables set here are the tests'; SC2153: DATA is lib.sh's)

# The engine runs from the repository's root (any directory would do: folders in rules are
# relative to the rules folder, t13 shows it).
cd "$ROOT" || fail "cannot cd to $ROOT"

# link_build DIR: a copy of rules/ in DIR/rules finds the build's sample fax documents
# (rules/engine.lua's fax_dir "../build/fax") through DIR/build, as rules/ does.
link_build() { ln -sfn "$ROOT/build" "$1/build" || fail "cannot link $1/build"; }

IVR_SCRIPTS=$ROOT/scripts
IVR_RULES=$ROOT/rules
SIPP_TIMEOUT=${SIPP_TIMEOUT_IVR:-60}   # the IVR's prompts are long: calls last up to ~40 s
# A sample account of examples/sample-data/ (load.sh loads them; a new store has none):
# PIN, balance 12345.67 yuan.
DEMO_ID=220102198503151237
DEMO_PIN=123456

# ---- ports for several callers and a second engine ------------------------------------------
# lib.sh's ports give one or two SIPp runs and one engine; the IVR tests place up to
# IVR_SLOTS calls at the same time (prompts last seconds: in parallel the suite stays short)
# and may run a second engine with another wall clock.  In a block of 200 ports chosen from
# the test's number (moved by 2000 until every port binds): slot i has SIP port IVR_BASE+i
# and media ports IVR_BASE+40+4i .. +3; the second engine SIP port IVR_BASE+90 and RTP ports
# IVR_BASE+100 .. +199.
IVR_SLOTS=12
ivr_pick_ports() {
  local try
  for ((try = 0; try < 10; try++)); do
    IVR_BASE=$((20000 + (TNUM % 100) * 200 + try * 2000))
    "$PY" "$E2E/ports.py" "$IVR_BASE-$((IVR_BASE + 199))" 2> /dev/null && return 0
  done
  fail "no free block of 200 ports for the IVR callers (tried 10)"
}

# ---- the engine ------------------------------------------------------------------------------
# ivr_centres_overlay PORT: copies of rules/ and scripts/ in $WORK/rules, $WORK/scripts
# whose key-9 centres point at sip:12333@127.0.0.1:PORT: every `sip:12333@....invalid`
# placeholder (the scenarios read the addresses from rules/centres.lua, so replacing them in
# scripts/ too is harmless).  start_ivr then runs the copies.
ivr_centres_overlay() {
  local uri="sip:12333@127.0.0.1:$1" d
  for d in rules scripts; do
    rm -rf "${WORK:?}/$d"
    cp -r "$ROOT/$d" "$WORK/$d" || fail "could not copy $d/"
    find "$WORK/$d" -name '*.lua' -exec sed -i -E "s#sip:12333@[A-Za-z0-9.-]+\.invalid#$uri#g" {} +
  done
  link_build "$WORK"
  grep -q "\"$uri\"" "$WORK/rules/centres.lua" ||
    fail "the copy of rules/centres.lua has no $uri (its format changed?)"
  if grep -rq 'sip:12333@[A-Za-z0-9.-]*\.invalid' "$WORK/rules" "$WORK/scripts"; then
    fail "placeholder centre addresses left in the copies of rules/ and scripts/"
  fi
  IVR_RULES=$WORK/rules IVR_SCRIPTS=$WORK/scripts
}

# start_ivr CLOCK [more hotline run options]: the engine with the shipped scripts and rules
# (or the overlay's copies) and its wall clock set to CLOCK (centre time, e.g.
# 2026-07-01T10:00:00).
start_ivr() {
  local clock=$1; shift
  start_engine --scripts "$IVR_SCRIPTS" --rules "$IVR_RULES" --clock "$clock" "$@"
}

# start_ivr2 CLOCK: a second engine, at another wall time, on 127.0.0.1:$IVR2_SIP with its
# own data dir $DATA2 (log $WORK/engine2.log); call after start_ivr (it shares its prompts).
# Its CDRs: IVR_ENGINE=2 before ivr_call / ivr_cdr.  Stopped at exit like the callers.
start_ivr2() {
  IVR2_SIP=$((IVR_BASE + 90)); DATA2=$WORK/data2
  mkdir -p "$DATA2"
  "$HOTLINE" run --sip "127.0.0.1:$IVR2_SIP" --rtp-ports "$((IVR_BASE + 100))-$((IVR_BASE + 199))" \
    --data "$DATA2" --scripts "$IVR_SCRIPTS" --rules "$IVR_RULES" --prompts "$PROMPTS" \
    --clock "$1" >> "$WORK/engine2.log" 2>&1 &
  IVR2_PID=$!; BG_PIDS+=("$IVR2_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$IVR2_PID" 2> /dev/null || fail "second engine exited at start: $(tail -n 2 "$WORK/engine2.log")"
    "$HOTLINE" ctl --data "$DATA2" --timeout 2 status > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "second engine did not answer 'hotline ctl status' within 10 s"
}

# ---- callers ---------------------------------------------------------------------------------
# ivr_call SLOT TAG CALLER STEP...: one call from CALLER to 12333 (of the second engine
# when IVR_ENGINE=2), in the background, on slot SLOT's ports; what the caller does after
# the answer: ivr/mkscen.py's STEPs.  The pid is in $! and BG_PIDS; collect it with
# ivr_wait.  Logs: $WORK/TAG.xml (the scenario), TAG.out, .err, .msg
ivr_call() {
  local slot=$1 tag=$2 caller=$3; shift 3
  [ "$slot" -lt "$IVR_SLOTS" ] || fail "ivr_call: slot $slot (at most $((IVR_SLOTS - 1)))"
  local sc=$WORK/$tag.xml
  "$PY" "$E2E/ivr/mkscen.py" "$E2E/sipp/ivr_uac.xml" "$sc" "$caller" "$@" ||
    fail "mkscen.py failed for $tag"
  local port=$SIP_PORT
  [ "${IVR_ENGINE:-1}" = 2 ] && port=$IVR2_SIP
  SIP_PORT=$port SIPP_LOCAL=$((IVR_BASE + slot)) SIPP_MEDIA=$((IVR_BASE + 40 + 4 * slot)) \
    sipp_bg "$tag" "$sc" 12333
}

# ivr_wait TAG PID: waits for that SIPp run; on failure adds a reason to $IVR_WHY.
IVR_WHY=""
ivr_wait() {
  local rc
  wait "$2"; rc=$?
  [ "$rc" -eq 0 ] || IVR_WHY="$IVR_WHY $1: $(sipp_why "$1" "$rc");"
  return "$rc"
}

# ivr_cdr TAG CHECK...: the CDR of that caller's call (leg 0; of the second engine when
# IVR_ENGINE=2) passes every cdrcheck.py check; on failure adds a reason to $IVR_WHY.
ivr_cdr() {
  local tag=$1 data=$DATA; shift
  [ "${IVR_ENGINE:-1}" = 2 ] && data=$DATA2
  DATA=$data cdr_check --where "$(where_call "$tag")" "$@" > "$WORK/$tag.cdrcheck" 2>&1 && return 0
  IVR_WHY="$IVR_WHY $tag: $(grep -m1 '^cdrcheck:' "$WORK/$tag.cdrcheck" | cut -c1-400);"
  sed 's/^/  | /' "$WORK/$tag.cdrcheck" | head -n 40
  return 1
}

# ivr_cdrs_json FILE: every CDR of the run (all legs, newest 200) as `hotline ctl --json cdr`
# prints them, into FILE.
ivr_cdrs_json() {
  ctl --json cdr --last 200 > "$1" 2> "$1.err" || fail "hotline ctl --json cdr: $(head -c 300 "$1.err")"
}

# ivr_done MESSAGE: PASS with MESSAGE when no check added to $IVR_WHY, else FAIL with the
# reasons (and the second engine's log, when there is one).
ivr_done() {
  if [ -z "$IVR_WHY" ]; then pass "$1"; fi
  if [ -s "$WORK/engine2.log" ]; then
    echo "  --- second engine log (last 20 lines of $WORK/engine2.log)"
    tail -n 20 "$WORK/engine2.log" | sed 's/^/  | /'
  fi
  fail "${IVR_WHY# }"
}

ivr_pick_ports
