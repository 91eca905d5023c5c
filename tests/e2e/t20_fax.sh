#!/usr/bin/env bash
# t20_fax — fax on demand end to end (issue 3 item 5): two engines on loopback.  Engine A
# (scripts fax/send) answers and sends build/fax/doc-1.tif with call:fax_send; engine B
# (scripts fax/recv) is called by SIPp, dials A and receives the fax with call:fax_receive
# on the dialled leg: T.30 over G.711 RTP between the two engines.  Passes when both ends
# report T.30 OK, the TIFF B wrote has as many pages as the document (tiffinfo) with the
# same size and pixels (tiffcmp), and B's CDR route says so.
. "$(dirname "$0")/lib.sh"
DOC=$ROOT/build/fax/doc-1.tif
[ -s "$DOC" ] || fail "no $DOC (make fax-docs)"
command -v tiffinfo > /dev/null || fail "no tiffinfo (apt-get install libtiff-tools)"
pages_of() { tiffinfo "$1" 2>/dev/null | grep -c '^TIFF Directory'; }
SENT=$(pages_of "$DOC")

# Engine B keeps the lower half of the RTP range, A takes the upper half.
A_RTP="$((RTP_LO + 100))-$RTP_HI"
RTP_HI=$((RTP_LO + 99))
# A fax takes ~25 s and SIPp's leg to B carries no RTP: B must not time it out.
RULES_B=$WORK/rules-b; mkdir -p "$RULES_B"
printf 'return { rtp_timeout_ms = 120000, rtp_hold_timeout_ms = 300000 }\n' > "$RULES_B/engine.lua"
RULES_A=$WORK/rules-a; mkdir -p "$RULES_A"
printf 'return { fax_dir = "%s", fax_max_ms = 90000 }\n' "$ROOT/build/fax" > "$RULES_A/engine.lua"

# Engine A, by hand (lib.sh runs one engine): its own port, data dir and log.
make_prompts
DATA_A=$WORK/data-a; LOG_A=$WORK/engine-a.log; mkdir -p "$DATA_A"
"$HOTLINE" run --sip "127.0.0.1:$AUX_PORT" --rtp-ports "$A_RTP" --data "$DATA_A" \
  --scripts "$E2E/fax/send" --rules "$RULES_A" --prompts "$PROMPTS" >> "$LOG_A" 2>&1 &
A_PID=$!; BG_PIDS+=("$A_PID")
for ((i = 0; i < 100; i++)); do
  kill -0 "$A_PID" 2>/dev/null || fail "engine A exited at start: $(tail -n 5 "$LOG_A")"
  "$HOTLINE" ctl --data "$DATA_A" --timeout 2 status > /dev/null 2>&1 && break
  sleep 0.1
done
start_engine --scripts "$E2E/fax/recv" --rules "$RULES_B"

SIPP_TIMEOUT=100
run_sipp caller "$(scen uac_wait_bye MEDIA= BYE_TIMEOUT=90000)" "recv$AUX_PORT" ||
  { echo "  --- engine A log"; tail -n 15 "$LOG_A" | sed 's/^/  | /'; fail "caller: $(sipp_why caller $?)"; }

GOT=$DATA/recordings/fax/in-e2e.tif
grep -q 'e2e-fax: sent ok=true' "$LOG_A" || { tail -n 15 "$LOG_A"; fail "engine A: the send did not succeed"; }
grep -q 'e2e-fax: received ok=true' "$ENGINE_LOG" || fail "engine B: the receive did not succeed"
[ -s "$GOT" ] || fail "engine B wrote no $GOT"
# a received fax is private, as recordings (issue 7): the file 0640, its folder 0750
modes="$(stat -c %a "$GOT") $(stat -c %a "$(dirname "$GOT")")"
[ "$modes" = "640 750" ] || fail "the received fax and its folder are $modes, not 640 750"
RECEIVED=$(pages_of "$GOT")
[ "$RECEIVED" -eq "$SENT" ] || fail "pages received $RECEIVED, pages sent $SENT"
tiffcmp "$DOC" "$GOT" > "$WORK/tiffcmp.out" 2>&1 || fail "received image differs: $(head -n 3 "$WORK/tiffcmp.out")"
cdr_check --where "$(where_call caller)" route="fax-received-$SENT" || fail "CDR of B's call"
pass "engine A sent doc-1 ($SENT pages) over G.711 to engine B: $RECEIVED pages received, same pixels"
