#!/usr/bin/env bash
# bench/run.sh — `make bench`: SIPp load on loopback against build/hotline; prints figures.
# A benchmark, not a test: it asserts nothing, it reports.
#
#   1. call set-ups per second: SIPp UAC at rising rates (answer + BYE, no media), the
#      highest rate with no failed call;
#   2. concurrent calls playing a prompt: N calls held up while the engine streams RTP to
#      each; reports CPU and RSS per call and the RTP send lateness (p50, p99) of the tick.
#   3. the same with media both ways (bench/uac_2way.xml: SIPp streams the welcome prompt
#      to the engine in a loop while the engine plays to SIPp), as in real calls; reports
#      the engine's CPU, RSS per call, lateness and skipped ticks, and SIPp's CPU (SIPp
#      shares the machine, so its load is part of the picture).
#   4. an attack: OPTIONS from one other source at ten times the sustained set-up rate of
#      stage 1 (ATTACK_FLOOD_RATE) while a trunk places ATTACK_CALLS calls at ATTACK_RATE;
#      the engine runs with bench/rules-attack (a site's per-source limit); reports the
#      trunk's failures, how much of the flood was answered 200 / 503 / not at all, bans,
#      CPU and RSS.
#   5. the cost of watching (issue 10): the same set-up burst (OBSERVE_RATE/s, 3000 calls)
#      and OBSERVE_CALLS calls playing a prompt, once with nobody watching and once with
#      an event consumer (`hotline ctl events`), a GET /events reader and a /metrics
#      scraper (every OBSERVE_SCRAPE_S) attached, alternated OBSERVE_ROUNDS times; reports
#      failed set-ups, the engine's CPU and the tick lateness of each.
#   6-8. the ACD (bench/acd.sh): agents registering, callers waiting in a queue with music,
#      bridged and recorded calls between callers and agents' phones (bench/agentfarm.py).
#   9. a month's results (issue 9, bench/month.sh): 500 agents and 300,000 CDRs computed by
#      the engine off its loop while a few calls play; the time, its parts, RTP lateness.
# Tunables (environment): RATES, CONCURRENT, TWOWAY, HOLD_S, ATTACK_RATE, ATTACK_CALLS,
# ATTACK_FLOOD_RATE, OBSERVE_RATE, OBSERVE_CALLS, OBSERVE_SCRAPE_S, OBSERVE_ROUNDS, SIP_PORT,
# RTP_PORTS, bench/acd.sh's AGENTS, WAITING, BRIDGED, ACD_RATE, ACD_HOLD_S, ADD_PARALLEL, PERF,
# and MONTH_AGENTS, MONTH_CDRS, MONTH_CALLS (an empty list skips its stage, e.g.
# RATES= CONCURRENT= bash bench/run.sh runs stage 3 and on).
set -u
cd "$(dirname "$0")/.."
BIN=build/hotline
RATES=${RATES-"100 200 300 400 500"}
CONCURRENT=${CONCURRENT-"250 500 1000"}
TWOWAY=${TWOWAY-"250 500 1000"}
HOLD_S=${HOLD_S:-20}
ATTACK_RATE=${ATTACK_RATE-100}
ATTACK_CALLS=${ATTACK_CALLS:-1000}
OBSERVE_CALLS=${OBSERVE_CALLS-250}
OBSERVE_SCRAPE_S=${OBSERVE_SCRAPE_S:-1}
OBSERVE_ROUNDS=${OBSERVE_ROUNDS:-2}   # Prometheus scrapes every 15 s by default: 1 s is harsh
SIP_PORT=${SIP_PORT:-15060}
RTP_PORTS=${RTP_PORTS:-30000-40000}   # the engine's; stage 7 needs two ports (RTP, RTCP) a leg
SIPP_PORT=$((SIP_PORT + 1))
HTTP_PORT=$((SIP_PORT + 2))
OUT=bench/out
mkdir -p "$OUT"
DATA=$(mktemp -d)
ENGINE_PID=""

. bench/acd.sh

cleanup() {
  [ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null
  acd_cleanup
  rm -rf "$DATA"
}
trap cleanup EXIT

ulimit -n 65536 2>/dev/null || true
start_engine() {  # start_engine [RULES_DIR [more hotline run options]]
  "$BIN" run --sip 127.0.0.1:$SIP_PORT --rtp-ports "$RTP_PORTS" --data "$DATA" \
    --scripts bench/scripts --rules "${1:-bench/rules}" --prompts build/prompts "${@:2}" 2>> "$OUT/engine.log" &
  ENGINE_PID=$!
  for _ in $(seq 50); do
    "$BIN" ctl --data "$DATA" status >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: engine did not start; see $OUT/engine.log"; exit 1
}

cpu_ticks() { awk '{print $14 + $15}' /proc/${1:-$ENGINE_PID}/stat; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$ENGINE_PID/status; }
hz=$(getconf CLK_TCK)

start_engine
echo "hotline bench — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "1. call set-ups per second (answer + BYE, 3000 calls per rate)"
best=0
for r in $RATES; do
  n=$((r * 10 < 3000 ? r * 10 : 3000))
  sipp -sn uac -s setup 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r "$r" -m "$n" -d 0 -l 2000 \
       -timeout 60s -trace_stat -stf "$OUT/setup_$r.csv" >/dev/null 2>"$OUT/sipp_setup_$r.err" </dev/null

  stats=$(tail -n 1 "$OUT/setup_$r.csv")
  ok=$(echo "$stats" | cut -d';' -f 16)   # SuccessfulCall(C)
  fail=$(echo "$stats" | cut -d';' -f 18) # FailedCall(C)
  printf '   %4d/s: %5s ok, %4s failed\n' "$r" "$ok" "$fail"
  [ "${fail:-1}" = "0" ] && [ "${ok:-0}" -gt 0 ] && best=$r
done
echo "   sustained with no failure: $best set-ups/s"
echo
echo "2. concurrent calls playing a prompt (held ${HOLD_S}s)"
for c in $CONCURRENT; do
  rss0=$(rss_kb); cpu0=$(cpu_ticks)
  sipp -sn uac -s media 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r 200 -m "$c" -l "$c" \
       -d $((HOLD_S * 1000)) -timeout $((HOLD_S + 60))s -trace_stat -stf "$OUT/media_$c.csv" \
       >/dev/null 2>"$OUT/sipp_media_$c.err" </dev/null &
  sipp_pid=$!
  # measure once every call is up: ramp time + a few seconds
  sleep $(( c / 200 + 4 ))
  up=$("$BIN" ctl --data "$DATA" --json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("calls",0))')
  "$BIN" ctl --data "$DATA" stats-reset >/dev/null 2>&1
  rss1=$(rss_kb); cpu_a=$(cpu_ticks); t_a=$(date +%s.%N)
  sleep 5
  cpu_b=$(cpu_ticks); t_b=$(date +%s.%N)
  lat=$("$BIN" ctl --data "$DATA" --json status 2>/dev/null | python3 -c 'import json,sys; l=json.load(sys.stdin).get("rtp_lateness_us",{}); print("p50 %.0f us, p99 %.0f us, max %.0f us" % (l.get("p50",0), l.get("p99",0), l.get("max",0)))')
  wait $sipp_pid
  stats=$(tail -n 1 "$OUT/media_$c.csv")
  ok=$(echo "$stats" | cut -d';' -f 16); fail=$(echo "$stats" | cut -d';' -f 18)
  cpu=$(python3 -c "print('%.1f' % (100.0 * ($cpu_b - $cpu_a) / $hz / ($t_b - $t_a)))")
  per_call_kb=$(python3 -c "print('%.1f' % (($rss1 - $rss0) / max(1, $up)))")
  cpu_call=$(python3 -c "print('%.3f' % (float('$cpu') / max(1, $up)))")
  printf '   %4d calls (%s up at once): %s ok, %s failed; CPU %s%% of one core (%s%% per call); RSS +%s KiB per call; send lateness %s\n' \
    "$c" "$up" "$ok" "$fail" "$cpu" "$cpu_call" "$per_call_kb" "$lat"
  sleep 2
done
echo
echo "3. concurrent calls with media both ways (held ${HOLD_S}s; SIPp streams welcome.wav to the engine)"
# SIPp's rtp_stream plays raw 8 kHz mu-law (payload type 0); the scenario names this file,
# relative to SIPp's working directory ($OUT).
if ! sox build/prompts/welcome.wav -r 8000 -c 1 -t ul "$OUT/bench_2way.ulaw" 2>"$OUT/sox_2way.err"; then
  echo "   skipped: sox could not make $OUT/bench_2way.ulaw (see $OUT/sox_2way.err)"
  TWOWAY=""
fi
for c in $TWOWAY; do
  rss0=$(rss_kb)
  (cd "$OUT" && exec sipp -sf ../uac_2way.xml -s media 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r 200 \
       -m "$c" -l "$c" -d $((HOLD_S * 1000)) -timeout $((HOLD_S + 60))s -trace_stat \
       -stf "twoway_$c.csv" >/dev/null 2>"sipp_twoway_$c.err" </dev/null) &
  sipp_pid=$!
  sleep $(( c / 200 + 4 ))
  up=$("$BIN" ctl --data "$DATA" --json status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("calls",0))')
  up=${up:-0}                             # a status that timed out under load: still report
  "$BIN" ctl --data "$DATA" stats-reset >/dev/null 2>&1
  rss1=$(rss_kb); cpu_a=$(cpu_ticks); scpu_a=$(cpu_ticks $sipp_pid); t_a=$(date +%s.%N)
  sleep 5
  cpu_b=$(cpu_ticks); scpu_b=$(cpu_ticks $sipp_pid 2>/dev/null || echo "$scpu_a"); t_b=$(date +%s.%N)
  st=$("$BIN" ctl --data "$DATA" --json status 2>/dev/null)
  lat=$(echo "$st" | python3 -c 'import json,sys; l=json.load(sys.stdin).get("rtp_lateness_us",{}); print("p50 %.0f us, p99 %.0f us, max %.0f us" % (l.get("p50",0), l.get("p99",0), l.get("max",0)))')
  skipped=$(echo "$st" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("rtp_ticks_skipped","?"))')
  wait $sipp_pid
  stats=$(tail -n 1 "$OUT/twoway_$c.csv")
  ok=$(echo "$stats" | cut -d';' -f 16); fail=$(echo "$stats" | cut -d';' -f 18)
  cpu=$(python3 -c "print('%.1f' % (100.0 * ($cpu_b - $cpu_a) / $hz / ($t_b - $t_a)))")
  scpu=$(python3 -c "print('%.1f' % (100.0 * ($scpu_b - $scpu_a) / $hz / ($t_b - $t_a)))")
  per_call_kb=$(python3 -c "print('%.1f' % (($rss1 - $rss0) / max(1, $up)))")
  cpu_call=$(python3 -c "print('%.3f' % (float('$cpu') / max(1, $up)))")
  printf '   %4d calls (%s up at once): %s ok, %s failed; CPU %s%% of one core (%s%% per call); RSS +%s KiB per call; send lateness %s; %s ticks skipped; SIPp CPU %s%%\n' \
    "$c" "$up" "$ok" "$fail" "$cpu" "$cpu_call" "$per_call_kb" "$lat" "$skipped" "$scpu"
  sleep 2
done
echo
echo "4. a flood from one source while a trunk's calls go on"
if [ -n "$ATTACK_RATE" ]; then
  flood_rate=${ATTACK_FLOOD_RATE:-$(( (best > 0 ? best : 100) * 10 ))}
  kill "$ENGINE_PID" 2>/dev/null; wait "$ENGINE_PID" 2>/dev/null
  start_engine bench/rules-attack
  rss0=$(rss_kb); cpu_a=$(cpu_ticks); t_a=$(date +%s.%N)
  secs=$(( ATTACK_CALLS / ATTACK_RATE + 2 ))
  python3 tests/e2e/flood.py options 127.0.0.1 $SIP_PORT 127.0.0.2 "$flood_rate" "$secs" \
    > "$OUT/attack_flood.json" 2>"$OUT/attack_flood.err" &
  flood_pid=$!
  sleep 1
  sipp -sn uac -s setup 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r "$ATTACK_RATE" -m "$ATTACK_CALLS" \
       -d 0 -l 2000 -timeout 60s -trace_stat -stf "$OUT/attack_trunk.csv" >/dev/null \
       2>"$OUT/sipp_attack.err" </dev/null
  wait $flood_pid
  cpu_b=$(cpu_ticks); t_b=$(date +%s.%N); rss1=$(rss_kb)
  stats=$(tail -n 1 "$OUT/attack_trunk.csv")
  ok=$(echo "$stats" | cut -d';' -f 16); fail=$(echo "$stats" | cut -d';' -f 18)
  cpu=$(python3 -c "print('%.1f' % (100.0 * ($cpu_b - $cpu_a) / $hz / ($t_b - $t_a)))")
  fl=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["codes"]; n=max(1,d["sent"]); print("%d sent, %.1f%% answered 200, %.1f%% 503, %.1f%% unanswered" % (d["sent"], 100.0*c.get("200",0)/n, 100.0*c.get("503",0)/n, 100.0*d["unanswered"]/n))' "$OUT/attack_flood.json")
  bans=$("$BIN" ctl --data "$DATA" --json status 2>/dev/null | python3 -c 'import json,sys; e=json.load(sys.stdin).get("sip_edge",{}); print("%s bans, %s refused, %s dropped" % (e.get("bans"), e.get("rate_refused"), e.get("banned_dropped")))')
  printf '   trunk %d calls at %d/s: %s ok, %s failed; flood %d/s of OPTIONS: %s; %s; CPU %s%% of one core; RSS %s -> %s KiB\n' \
    "$ATTACK_CALLS" "$ATTACK_RATE" "$ok" "$fail" "$flood_rate" "$fl" "$bans" "$cpu" "$rss0" "$rss1"
else
  echo "   skipped (ATTACK_RATE is empty)"
fi
echo
echo "5. the cost of watching: an event consumer, a GET /events reader and a /metrics scraper"
if [ -n "$OBSERVE_CALLS" ]; then
  OBSERVE_RATE=${OBSERVE_RATE:-$(( best > 0 ? best : 200 ))}
  kill "$ENGINE_PID" 2>/dev/null; wait "$ENGINE_PID" 2>/dev/null
  start_engine bench/rules --http 127.0.0.1:$HTTP_PORT
  # alternated, OBSERVE_ROUNDS times: the machine's other load (SIPp shares it) drifts
  for mode in $(for _ in $(seq "$OBSERVE_ROUNDS"); do echo none watched; done); do
    watchers=()
    if [ "$mode" = watched ]; then
      rm -f "$OUT/observe_sse.jsonl"
      "$BIN" ctl --data "$DATA" events > "$OUT/observe_events.jsonl" 2>"$OUT/observe_events.err" &
      watchers+=($!)
      python3 tests/e2e/events_client.py sse "http://127.0.0.1:$HTTP_PORT/events" "$OUT/observe_sse.jsonl" 600 \
        > /dev/null 2>&1 &
      watchers+=($!)
      (while sleep "$OBSERVE_SCRAPE_S"; do
         python3 tests/e2e/promparse.py "http://127.0.0.1:$HTTP_PORT/metrics" > "$OUT/observe_scrape.json" || exit 1
       done) 2>"$OUT/observe_scrape.err" &
      watchers+=($!)
      sleep 1
    fi
    cpu_a=$(cpu_ticks); t_a=$(date +%s.%N)
    sipp -sn uac -s setup 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r "$OBSERVE_RATE" -m 3000 -d 0 -l 2000 \
         -timeout 60s -trace_stat -stf "$OUT/observe_setup_$mode.csv" >/dev/null 2>"$OUT/sipp_observe_$mode.err" </dev/null
    cpu_b=$(cpu_ticks); t_b=$(date +%s.%N)
    stats=$(tail -n 1 "$OUT/observe_setup_$mode.csv")
    ok=$(echo "$stats" | cut -d';' -f 16); fail=$(echo "$stats" | cut -d';' -f 18)
    scpu=$(python3 -c "print('%.1f' % (100.0 * ($cpu_b - $cpu_a) / $hz / ($t_b - $t_a)))")
    sipp -sn uac -s media 127.0.0.1:$SIP_PORT -p $SIPP_PORT -r 200 -m "$OBSERVE_CALLS" -l "$OBSERVE_CALLS" \
         -d $((HOLD_S * 1000)) -timeout $((HOLD_S + 60))s >/dev/null 2>"$OUT/sipp_observe_media_$mode.err" </dev/null &
    sipp_pid=$!
    sleep $(( OBSERVE_CALLS / 200 + 4 ))
    "$BIN" ctl --data "$DATA" stats-reset >/dev/null 2>&1
    cpu_a=$(cpu_ticks); t_a=$(date +%s.%N)
    sleep 5
    cpu_b=$(cpu_ticks); t_b=$(date +%s.%N)
    lat=$("$BIN" ctl --data "$DATA" --json status 2>/dev/null | python3 -c 'import json,sys; l=json.load(sys.stdin).get("rtp_lateness_us",{}); print("p50 %.0f us, p99 %.0f us, max %.0f us" % (l.get("p50",0), l.get("p99",0), l.get("max",0)))')
    mcpu=$(python3 -c "print('%.1f' % (100.0 * ($cpu_b - $cpu_a) / $hz / ($t_b - $t_a)))")
    wait $sipp_pid
    extra=""
    if [ "$mode" = watched ]; then
      sleep 1   # the last calls' call_end events reach the readers
      for w in "${watchers[@]}"; do kill "$w" 2>/dev/null; wait "$w" 2>/dev/null; done
      cut=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["series"].get("hotline_event_consumers_cut_total",0)))' "$OUT/observe_scrape.json" 2>/dev/null)
      extra="; $(wc -l < "$OUT/observe_events.jsonl") events to ctl, $(wc -l < "$OUT/observe_sse.jsonl") to /events, consumers cut off: ${cut:-?}"
    fi
    printf '   %-8s set-ups %d/s: %s ok, %s failed, CPU %s%%; %d calls playing: CPU %s%%, send lateness %s%s\n' \
      "$mode" "$OBSERVE_RATE" "$ok" "$fail" "$scpu" "$OBSERVE_CALLS" "$mcpu" "$lat" "$extra"
    sleep 2
  done
else
  echo "   skipped (OBSERVE_CALLS is empty)"
fi

acd_stages

echo "9. a month's results off the loop (${MONTH_AGENTS:-500} agents, ${MONTH_CDRS-300000} CDRs)"
if [ -n "${MONTH_CDRS-300000}" ]; then
  kill "$ENGINE_PID" 2>/dev/null; wait "$ENGINE_PID" 2>/dev/null; ENGINE_PID=""
  SIP_PORT=$SIP_PORT bash bench/month.sh
else
  echo "   skipped (MONTH_CDRS is empty)"
fi
