# bench/acd.sh — stages 6-8 of `make bench` (issue 8): agents, callers waiting in a queue, and
# bridged recorded calls.  Sourced by bench/run.sh after stage 5 (its engine, functions and
# variables: BIN, DATA, OUT, SIP_PORT, SIPP_PORT, HOLD_S, start_engine, cpu_ticks, rss_kb, hz).
#
#   6. agents: AGENTS accounts added through `hotline ctl agent add` (the password on
#      standard input, hashed with Argon2id on the engine's pool: ADD_PARALLEL ctl at once),
#      then one agent farm (bench/agentfarm.py: one process, one SIP socket for every phone,
#      one RTP socket echoing every call) registers them with digest (401, then MD5);
#      reports the REGISTER rate and the engine's CPU while registering, then sets every
#      agent ready by ctl and back to not ready for stage 7.
#   7. WAITING callers (SIPp, called number "acd") waiting in the bench's queue with music,
#      every agent not ready: CPU, RSS per call, tick lateness.  They hang up (abandoned).
#   8. BRIDGED callers (SIPp streaming RTP as in stage 3) reaching agents: the ACD rings an
#      agent's phone, the farm answers (180, 200 with SDP) and echoes the RTP, the engine
#      bridges the two legs and records them (bench/scripts/main.lua).  The ACD gives an
#      agent one call at a time, so N bridged calls need N agents: the stage adds accounts
#      up to the largest of BRIDGED first.  Reports failures, CPU (engine, SIPp, farm), RSS
#      per bridged call, the engine's tick lateness (the relay's: every leg's frame is sent
#      from the tick), the jitter of the relayed RTP as the farm's phones receive it, the
#      recordings written, and agents left in any state but ready.  PERF=1: `perf record -g`
#      on the engine for 5 s of each step, the top functions into $OUT/perf_bridged_N.txt.
# Tunables: AGENTS, WAITING, BRIDGED (lists; empty skips), ACD_RATE (calls/s), ACD_HOLD_S,
# ACD_RECORD, ADD_PARALLEL, PERF.
AGENTS=${AGENTS-200}
WAITING=${WAITING-"1000"}
BRIDGED=${BRIDGED-"250 500 1000"}
ACD_RATE=${ACD_RATE:-100}
ACD_HOLD_S=${ACD_HOLD_S:-30}
ACD_RECORD=${ACD_RECORD:-1}              # 0: bridged calls not recorded (what recording costs)
ADD_PARALLEL=${ADD_PARALLEL:-4}
PERF=${PERF:-}
AGENT_FIRST=7000
FARM_SIP=$((SIP_PORT + 2))
FARM_RTP=$((SIP_PORT + 4))
PW_PREFIX="bench-$RANDOM$RANDOM-"      # this run's passwords: "<prefix><number>"
FARM_PID=""
agents_added=0

json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {"d": d}))' "$1" 2>/dev/null; }
pct() { python3 -c "print('%.1f' % (100.0 * ($2 - $1) / $hz / ($4 - $3)))"; }
max_of() { printf '%s\n' "$@" | sort -n | tail -n 1; }
agents_in() { "$BIN" ctl --data "$DATA" --json agents 2>/dev/null |
  json_get "sum(1 for a in d['agents'] if a['state'] in '$1'.split())"; }

farm_start() {
  coproc FARM { exec python3 bench/agentfarm.py 127.0.0.1 "$SIP_PORT" 127.0.0.1 "$FARM_SIP" "$FARM_RTP" \
                  "${PW_PREFIX}%s" 2>>"$OUT/farm.err"; }
  FARM_PID=$FARM_PID
  FARM_IN=${FARM[1]}; FARM_OUT=${FARM[0]}   # bash unsets FARM when the farm exits
  sleep 0.5
  kill -0 "$FARM_PID" 2>/dev/null || { echo "bench: the agent farm did not start; see $OUT/farm.err"; exit 1; }
}
farm() { echo "$*" >&"$FARM_IN"; }
farm_answer() { local line; read -r -t "${1:-120}" line <&"$FARM_OUT" && echo "$line"; }
farm_stop() {  # also from run.sh's EXIT trap, whatever state the farm is in
  local pid=${FARM_PID:-}
  [ -n "$pid" ] || return 0
  FARM_PID=""
  { farm quit && farm_answer 5 > /dev/null; } 2>/dev/null
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 0
}
# the kernel's UDP receive drops (every socket of the machine: a full buffer somewhere)
udp_drops() { awk '/^Udp:/ && $2 ~ /^[0-9]/ {print $6}' /proc/net/snmp; }
# socket_drops PORT: datagrams the kernel dropped for the UDP socket on 127.0.0.1:PORT
socket_drops() { awk -v p="$(printf '0100007F:%04X' "$1")" '$2 == p {print $NF}' /proc/net/udp; }
# CPU time of every thread of a process, in ns (/proc/PID/stat counts in clock ticks:
# too coarse for a registration that lasts a fraction of a second)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
farm_cpu_ticks() {  # the farm and its RTP child
  local child t
  child=$(pgrep -P "$FARM_PID" | head -n 1)
  t=$(cpu_ticks "$FARM_PID")
  [ -n "$child" ] && t=$((t + $(cpu_ticks "$child")))
  echo "$t"
}

# add_accounts COUNT: the next COUNT agent accounts, ADD_PARALLEL ctl at once; prints
# "COUNT added in S s (R/s)" (not in a $(...): it counts them in agents_added)
add_accounts() {
  local first=$((AGENT_FIRST + agents_added)) t0 t1 failed
  rm -f "$OUT/agent_add.failed"
  t0=$(date +%s.%N)
  seq "$first" $((first + $1 - 1)) | xargs -P "$ADD_PARALLEL" -I{} sh -c \
    'printf "%s%s\n" "$3" "$1" | "$0" ctl --data "$2" agent add "$1" --centre bench --skills general \
       >/dev/null 2>>"$4.err" || echo "$1" >> "$4"' "$BIN" {} "$DATA" "$PW_PREFIX" "$OUT/agent_add.failed"
  t1=$(date +%s.%N)
  failed=$( [ -e "$OUT/agent_add.failed" ] && wc -l < "$OUT/agent_add.failed" || echo 0)
  agents_added=$((agents_added + $1))
  python3 -c "print('%d added in %.1f s (%.0f/s, %d failed)' % ($1, $t1 - $t0, $1 / ($t1 - $t0), $failed))"
}

# set_states STATE [REASON]: every bench agent, ADD_PARALLEL ctl at once; prints seconds
set_states() {
  local t0 t1
  t0=$(date +%s.%N)
  seq "$AGENT_FIRST" $((AGENT_FIRST + agents_added - 1)) | xargs -P "$ADD_PARALLEL" -I{} \
    "$BIN" ctl --data "$DATA" agent state {} "$@" >/dev/null 2>>"$OUT/agent_state.err"
  t1=$(date +%s.%N)
  python3 -c "print('%.1f' % ($t1 - $t0))"
}

# register COUNT: the farm registers the last COUNT accounts added; prints the figures
register_agents() {
  local first=$((AGENT_FIRST + agents_added - $1)) cpu_a cpu_b t_a t_b ans
  cpu_a=$(cpu_ns "$ENGINE_PID"); t_a=$(date +%s.%N)
  farm register "$first" "$1"
  ans=$(farm_answer 300)
  cpu_b=$(cpu_ns "$ENGINE_PID"); t_b=$(date +%s.%N)
  echo "$ans" > "$OUT/farm_register_$1.json"
  echo "$ans" | json_get '"%d REGISTERs with digest in %.2f s (%.0f/s), %d failed %s" % (d["ok"], d["seconds"], d["rate"], d["failed"], d["codes"])'
  printf '      engine CPU while registering: %s%% of one core (%s ms per agent)\n' \
    "$(python3 -c "print('%.1f' % (100.0 * ($cpu_b - $cpu_a) / 1e9 / ($t_b - $t_a)))")" \
    "$(python3 -c "print('%.3f' % (($cpu_b - $cpu_a) / 1e6 / $1))")"
}

acd_cleanup() { farm_stop; }

acd_stages() {
  local need
  need=$(max_of "$AGENTS" $BRIDGED)
  [ -n "$need" ] || { echo "6-8. ACD stages skipped (AGENTS and BRIDGED are empty)"; return; }
  kill "$ENGINE_PID" 2>/dev/null; wait "$ENGINE_PID" 2>/dev/null
  start_engine bench/rules
  farm_start
  echo "6. agents: accounts, phones registering with digest (one farm, one SIP socket), ready"
  local n=${AGENTS:-$need}
  printf '   accounts (Argon2id, %s ctl at once): ' "$ADD_PARALLEL"; add_accounts "$n"
  printf '   phones: '; register_agents "$n"
  local registered secs
  registered=$("$BIN" ctl --data "$DATA" --json agents | json_get "sum(1 for a in d['agents'] if a['contacts'])")
  secs=$(set_states ready)
  echo "   $registered agents registered; $(agents_in ready) ready (set by ctl in $secs s)"
  secs=$(set_states not-ready bench)
  echo "   set not ready again for stage 7 in $secs s"
  echo
  echo "7. callers waiting in a queue with music (agents not ready; held ${HOLD_S}s)"
  for c in $WAITING; do acd_waiting "$c"; done
  echo
  echo "8. bridged$([ "$ACD_RECORD" = 0 ] && echo ", NOT recorded," || echo " and recorded") calls (caller <-> agent's phone, RTP both ways, held ${ACD_HOLD_S}s from the caller's answer, arriving at ${ACD_RATE}/s)"
  if [ "$need" -gt "$agents_added" ]; then
    n=$((need - agents_added))
    printf '   %s more accounts for one agent per call: ' "$n"; add_accounts "$n"
    printf '   phones: '; register_agents "$n"
  fi
  [ -s "$OUT/bench_2way.ulaw" ] || sox build/prompts/welcome.wav -r 8000 -c 1 -t ul "$OUT/bench_2way.ulaw" 2>"$OUT/sox_2way.err"
  for c in $BRIDGED; do acd_bridged "$c"; done
  farm_stop
}

acd_waiting() {
  local c=$1 rss0 rss1 cpu_a cpu_b t_a t_b up waiting lat sipp_pid stats ok fail
  rss0=$(rss_kb)
  sipp -sn uac -s acd 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r 200 -m "$c" -l "$c" \
       -d $((HOLD_S * 1000)) -timeout $((HOLD_S + 60))s -trace_stat -stf "$OUT/waiting_$c.csv" \
       >/dev/null 2>"$OUT/sipp_waiting_$c.err" </dev/null &
  sipp_pid=$!
  sleep $(( c / 200 + 4 ))
  up=$("$BIN" ctl --data "$DATA" --json status | json_get 'd.get("calls", 0)')
  waiting=$("$BIN" ctl --data "$DATA" --json queues | json_get 'sum(q["waiting"] for q in d["queues"])')
  "$BIN" ctl --data "$DATA" stats-reset >/dev/null 2>&1
  rss1=$(rss_kb); cpu_a=$(cpu_ticks); t_a=$(date +%s.%N)
  sleep 5
  cpu_b=$(cpu_ticks); t_b=$(date +%s.%N)
  lat=$("$BIN" ctl --data "$DATA" --json status | json_get '"p50 %.0f us, p99 %.0f us, max %.0f us; %s ticks skipped" % (d["rtp_lateness_us"]["p50"], d["rtp_lateness_us"]["p99"], d["rtp_lateness_us"]["max"], d.get("rtp_ticks_skipped", "?"))')
  wait $sipp_pid
  stats=$(tail -n 1 "$OUT/waiting_$c.csv")
  ok=$(echo "$stats" | cut -d';' -f 16); fail=$(echo "$stats" | cut -d';' -f 18)
  local cpu; cpu=$(pct "$cpu_a" "$cpu_b" "$t_a" "$t_b")
  printf '   %4d callers (%s up, %s waiting in the queue): %s ok, %s failed; CPU %s%% of one core (%s%% per call); RSS +%s KiB per call; send lateness %s\n' \
    "$c" "${up:-?}" "${waiting:-?}" "$ok" "$fail" "$cpu" "$(python3 -c "print('%.3f' % ($cpu / max(1, ${up:-0})))")" \
    "$(python3 -c "print('%.1f' % (($rss1 - $rss0) / max(1, ${up:-0})))")" "$lat"
  sleep 2
}

acd_bridged() {
  local c=$1 rss0 rss1 cpu_a cpu_b scpu_a scpu_b fcpu_a fcpu_b t_a t_b up talking st lat jit sipp_pid
  local stats ok fail rec stuck farm_st edge drops0 load
  local recdir="$DATA/recordings/bench"
  rm -rf "$recdir"
  secs=$(set_states ready)
  echo "   $(agents_in ready) agents ready (set by ctl in $secs s)"
  rss0=$(rss_kb); drops0=$(udp_drops)
  (cd "$OUT" && exec sipp -sf ../uac_2way.xml -s "$([ "$ACD_RECORD" = 0 ] && echo acd-norec || echo acd)" 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r "$ACD_RATE" \
       -m "$c" -l "$c" -d $((ACD_HOLD_S * 1000)) -timeout $((ACD_HOLD_S + 90))s -trace_stat \
       -stf "bridged_$c.csv" >/dev/null 2>"sipp_bridged_$c.err" </dev/null) &
  sipp_pid=$!
  sleep $(( c / ACD_RATE + 5 ))
  up=$("$BIN" ctl --data "$DATA" --json status | json_get 'd.get("calls", 0)')
  talking=$(agents_in talking)
  "$BIN" ctl --data "$DATA" stats-reset >/dev/null 2>&1
  farm reset; farm_answer 5 > /dev/null
  load=$(cut -d' ' -f 1 /proc/loadavg)   # the machine is shared: how busy it was
  rss1=$(rss_kb); cpu_a=$(cpu_ticks); scpu_a=$(cpu_ticks $sipp_pid); fcpu_a=$(farm_cpu_ticks); t_a=$(date +%s.%N)
  sleep 5
  cpu_b=$(cpu_ticks); scpu_b=$(cpu_ticks $sipp_pid 2>/dev/null || echo "$scpu_a"); fcpu_b=$(farm_cpu_ticks)
  t_b=$(date +%s.%N)
  st=$("$BIN" ctl --data "$DATA" --json status)
  lat=$(echo "$st" | json_get '"p50 %.0f us, p99 %.0f us, max %.0f us; %s ticks skipped" % (d["rtp_lateness_us"]["p50"], d["rtp_lateness_us"]["p99"], d["rtp_lateness_us"]["max"], d.get("rtp_ticks_skipped", "?"))')
  farm stats; farm_st=$(farm_answer 10)
  echo "$farm_st" > "$OUT/farm_bridged_$c.json"
  jit=$(echo "$farm_st" | json_get '"p50 %d us, p99 %d us, max %d us over %d intervals of %d legs (%d over 5 ms)" % (d["rtp"]["jitter_us"]["p50"], d["rtp"]["jitter_us"]["p99"], d["rtp"]["jitter_us"]["max"], d["rtp"]["intervals"], d["rtp"]["legs"], d["rtp"]["over_5ms"])')
  if [ -n "$PERF" ]; then
    perf record -g -p "$ENGINE_PID" -o "$OUT/perf_bridged_$c.data" -- sleep 5 >/dev/null 2>&1
    perf report -i "$OUT/perf_bridged_$c.data" --no-children --sort symbol --stdio -g none --percent-limit 0.5 \
      2>/dev/null | grep -v '^#' | grep -v '^$' > "$OUT/perf_bridged_$c.txt"
  fi
  wait $sipp_pid
  stats=$(tail -n 1 "$OUT/bridged_$c.csv")
  ok=$(echo "$stats" | cut -d';' -f 16); fail=$(echo "$stats" | cut -d';' -f 18)
  sleep 2                                  # the last BYEs, the recordings closed
  farm stats; farm_st=$(farm_answer 10)
  edge=$("$BIN" ctl --data "$DATA" --json status | json_get '"SIP edge: %d overload 503s, %d rate-refused, %d dropped by bans; worst loop lag %.0f ms" % (d["sip_edge"]["overload_refused"], d["sip_edge"]["rate_refused"], d["sip_edge"]["banned_dropped"], d["sip_edge"]["worst_lag_ms"])')
  stuck=$(agents_in "reserved ringing talking on-hold wrap-up not-ready logged-out")
  rec=$(find "$recdir" -name '*.wav' -printf '%s\n' 2>/dev/null | python3 -c 'import sys; s=[int(l) for l in sys.stdin]; print("%d files, %.1f MiB, %.0f-%.0f KiB each" % (len(s), sum(s)/1048576.0, min(s or [0])/1024.0, max(s or [0])/1024.0))')
  farm_st=$(echo "$farm_st" | json_get '"%d rung, %d answered, %d BYEs" % (d["invites"], d["answered"], d["byes"])')
  local cpu; cpu=$(pct "$cpu_a" "$cpu_b" "$t_a" "$t_b")
  printf '   %4d calls (%s up, %s agents talking): %s ok, %s failed; CPU %s%% of one core (%s%% per call); RSS +%s KiB per bridged call; machine load %s\n' \
    "$c" "${up:-?}" "${talking:-?}" "$ok" "$fail" "$cpu" "$(python3 -c "print('%.3f' % ($cpu / max(1, ${up:-0})))")" \
    "$(python3 -c "print('%.1f' % (($rss1 - $rss0) / max(1, ${up:-0})))")" "$load"
  printf '        relay (tick) lateness %s; jitter at the agents'"'"' phones %s\n' "$lat" "$jit"
  printf '        SIPp CPU %s%%, farm CPU %s%%; farm: %s; recordings: %s; agents not ready after: %s\n' \
    "$(pct "$scpu_a" "$scpu_b" "$t_a" "$t_b")" "$(pct "$fcpu_a" "$fcpu_b" "$t_a" "$t_b")" "$farm_st" "$rec" "$stuck"
  printf '        %s; UDP receive drops: engine SIP socket %s, farm SIP %s, farm RTP %s (whole machine %s)\n' "$edge" \
    "$(socket_drops "$SIP_PORT")" "$(socket_drops "$FARM_SIP")" "$(socket_drops "$FARM_RTP")" "$(( $(udp_drops) - drops0 ))"
  if [ -n "$PERF" ] && [ -s "$OUT/perf_bridged_$c.txt" ]; then
    echo "        perf, engine, top functions (self): $(head -n 8 "$OUT/perf_bridged_$c.txt" |
      awk '{printf "%s%s %s", (NR > 1 ? "; " : ""), $1, $3}')"
  fi
  sleep 2
}
