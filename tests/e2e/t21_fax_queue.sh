#!/usr/bin/env bash
# t21_fax_queue — fax on demand by a queued outbound call (issue 3 item 5): the caller of
# engine B keys a fax number (SIP INFO keys) and hangs up; B's script queues a fax job
# (hl.jobs.enqueue); B's job runner dials the number through its fax gateway — engine A,
# standing in for the caller's fax machine (scripts fax/queue-recv: answer, fax_receive) —
# and sends build/fax/doc-1.tif with call:fax_send on the dialled leg.  The first attempt
# finds A not listening yet (no answer: it fails with 408 and is retried after
# fax_retry_delay_ms); A is started meanwhile and the second attempt goes through.
# Passes when the job is 'done' after 2 attempts (the first one's failure logged by B),
# A received as many pages as were sent with the same pixels (tiffcmp),
# `hotline ctl jobs` lists it, and the CDRs show the caller's call (route fax-queued) and
# the job's call (leg 0 origin "engine", leg 1 the dialled fax machine).
. "$(dirname "$0")/lib.sh"
DOC=$ROOT/build/fax/doc-1.tif
[ -s "$DOC" ] || fail "no $DOC (make fax-docs)"
command -v tiffinfo > /dev/null || fail "no tiffinfo (apt-get install libtiff-tools)"
pages_of() { tiffinfo "$1" 2>/dev/null | grep -c '^TIFF Directory'; }
SENT=$(pages_of "$DOC")
FAXNO=043188886666

# Engine B keeps the lower half of the RTP range, A takes the upper half.
A_RTP="$((RTP_LO + 100))-$RTP_HI"
RTP_HI=$((RTP_LO + 99))
RULES_B=$WORK/rules-b; mkdir -p "$RULES_B"
cat > "$RULES_B/engine.lua" <<EOF
return { fax_dir = "$ROOT/build/fax", fax_max_ms = 90000, jobs_poll_ms = 200,
         fax_retry_delay_ms = 4000 }
EOF
# B's fax gateway is engine A; a short ring time so the failed first attempt is quick.
printf 'return { host = "127.0.0.1:%s", ring_ms = 3000 }\n' "$AUX_PORT" > "$RULES_B/fax_gateway.lua"
RULES_A=$WORK/rules-a; mkdir -p "$RULES_A"
printf 'return { fax_max_ms = 90000 }\n' > "$RULES_A/engine.lua"

start_engine --scripts "$E2E/fax/queue" --rules "$RULES_B"

# The caller keys the fax number and # by SIP INFO, then hangs up when the engine does.
"$PY" "$E2E/ivr/mkscen.py" "$E2E/sipp/ivr_uac.xml" "$WORK/keyfax.xml" 13800138000 \
  pause:500 "info:$FAXNO#:150" waitbye:10000 || fail "mkscen.py"
run_sipp caller "$WORK/keyfax.xml" 12333 || fail "caller: $(sipp_why caller $?)"
cdr_check --where "$(where_call caller)" route=fax-queued || fail "CDR of the caller's call"

# Attempt 1: nobody listens at A's port yet.
wait_for_log 'job 1 \(fax\) attempt 1 failed' 20 || fail "the first attempt did not fail as expected"
grep -E 'job 1 \(fax\) attempt 1 failed' "$ENGINE_LOG" | tail -n 1 | sed 's/^/  | /'
ctl jobs --json > "$WORK/jobs1.json" || fail "hotline ctl jobs"
grep -q '"state": "queued"' "$WORK/jobs1.json" || fail "after attempt 1 the job is not queued again: $(cat "$WORK/jobs1.json")"

# Now the fax machine (engine A, by hand: its own port, data dir and log).
DATA_A=$WORK/data-a; LOG_A=$WORK/engine-a.log; mkdir -p "$DATA_A"
"$HOTLINE" run --sip "127.0.0.1:$AUX_PORT" --rtp-ports "$A_RTP" --data "$DATA_A" \
  --scripts "$E2E/fax/queue-recv" --rules "$RULES_A" --prompts "$PROMPTS" >> "$LOG_A" 2>&1 &
A_PID=$!; BG_PIDS+=("$A_PID")
for ((i = 0; i < 100; i++)); do
  kill -0 "$A_PID" 2>/dev/null || fail "engine A exited at start: $(tail -n 5 "$LOG_A")"
  "$HOTLINE" ctl --data "$DATA_A" --timeout 2 status > /dev/null 2>&1 && break
  sleep 0.1
done

# Attempt 2 (after fax_retry_delay_ms): A answers and receives the document.
wait_for_log 'job 1 \(fax\) (done|attempt 2 failed)' 90 ||
  { echo "  --- engine A log"; tail -n 15 "$LOG_A" | sed 's/^/  | /'; fail "the second attempt did not end"; }
grep -q 'job 1 (fax) done on attempt 2' "$ENGINE_LOG" ||
  { echo "  --- engine A log"; tail -n 15 "$LOG_A" | sed 's/^/  | /'; fail "the second attempt failed"; }
grep -q 'e2e-fax-queue: received ok=true' "$LOG_A" || fail "engine A: the receive did not succeed"
GOT=$DATA_A/recordings/fax/queued-in.tif
[ -s "$GOT" ] || fail "engine A wrote no $GOT"
RECEIVED=$(pages_of "$GOT")
[ "$RECEIVED" -eq "$SENT" ] || fail "pages received $RECEIVED, pages sent $SENT"
tiffcmp "$DOC" "$GOT" > "$WORK/tiffcmp.out" 2>&1 || fail "received image differs: $(head -n 3 "$WORK/tiffcmp.out")"
grep -q "to=$FAXNO" "$LOG_A" || fail "engine A was not called at the fax number $FAXNO"

# The queue as an admin sees it, and the job's CDRs (leg 0 the origin, leg 1 the fax machine).
ctl jobs --json > "$WORK/jobs2.json" || fail "hotline ctl jobs"
"$PY" - "$WORK/jobs2.json" "$FAXNO" <<'EOF' || fail "hotline ctl jobs: $(cat "$WORK/jobs2.json")"
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
j = [x for x in jobs if x["id"] == 1][0]
assert j["kind"] == "fax" and j["state"] == "done" and j["attempts"] == 2, j
assert json.loads(j["args"]) == {"to": sys.argv[2], "file": "doc-1.tif"}, j["args"]
assert j["call_id"] and j["source_call"], j
EOF
ctl jobs > "$WORK/jobs2.txt" && grep -q 'done' "$WORK/jobs2.txt" || fail "hotline ctl jobs (text): $(cat "$WORK/jobs2.txt")"
JOBCALL=$("$PY" -c 'import json,sys; print([x for x in json.load(open(sys.argv[1]))["jobs"] if x["id"]==1][0]["call_id"])' "$WORK/jobs2.json")
cdr_check --where "call_id=$JOBCALL" --where leg_index=0 route=fax-sent direction=outbound caller=engine called=job_fax ||
  fail "CDR leg 0 of the job's call"
cdr_check --where "call_id=$JOBCALL" --where leg_index=1 direction=outbound "called=$FAXNO" answer? "hangup_side~^(engine|callee)$" ||
  fail "CDR leg 1 of the job's call"
pass "caller keyed $FAXNO; job 1 failed once (no answer), then sent doc-1 ($SENT pages) to engine A: $RECEIVED pages, same pixels"
