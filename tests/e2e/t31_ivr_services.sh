#!/usr/bin/env bash
# t31_ivr_services — the main menu's services over SIP (issue 3): three callers at once
# (SIP INFO keys, each streaming known PCMU audio) on one engine running the shipped
# scripts/ and rules/ at 10:00 on a summer Wednesday, with -v (debug logging), from copies
# of rules/ and scripts/ whose key-9 centres are a SIPp UAS on loopback
# (sipp/ivr_uas_centre.xml, standing in for the Yanbian centre).
#   msg   key 2, leave a message: talks ~4 s after the beep, # ends it, 1 keeps it.  Passes
#         when the CDR route is message (intro, beep, confirm, saved); the WAV is under
#         DATA/recordings/messages/ and holds the caller's audio (checkrec.py); `hotline ctl
#         query messages` (rules/queries.lua) lists it (new, the caller's number); `hotline ctl
#         query message_handled ID e2e` marks it (listed as handled, no longer as new).
#   acct  key 4, the account query with a sample account (examples/sample-data/, loaded
#         once the engine has made the policy's tables: the new database itself holds no
#         account, which is checked first) (ID 220102198503151237 and #, PIN 123456 and #:
#         12345.67 yuan, 96 months).  Passes
#         when the CDR route is account, the prompts show say:x (not the digits) for the
#         balance and the months read back (sensitive say_*),
#         the CDR dtmf is 4, 18 x, #, 6 x, #, and neither the ID nor the PIN appears in the
#         JSON of any CDR nor in the engine's debug log.
#   xfer  key 9, area code 0433 and #: the engine says "connecting" and sends REFER, which
#         the caller refuses (501), so it dials the centre and bridges; the caller talks 3 s
#         and hangs up.  Passes when the UAS gets INVITE sip:12333@127.0.0.1:ITS_PORT and the
#         engine's BYE, the CDR route is transfer:0433 and the call has 2 legs, the outbound
#         one answered and fed with the caller's RTP through the bridge.
#   lockA, lockB  key 4 at the same moment, the same sample ID (220203199001014562) and a
#         wrong PIN each.  Passes when one call works on the ID and the other hears
#         account_busy (rules/accounts.lua: one call at a time per ID), and the store counts
#         the one PIN checked (account_locks.failures = 1; t23 guesses with 30 calls).
# Timing (prompts: welcome ~11.4 s, message intro ~11.1 s, PIN ~3.3 s, area code ~12.9 s):
# the menu key is typed during the welcome (kept: the main menu prompt is then skipped);
# the other keys are sent while the prompt that asks for them plays (see ivr/README.md).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
MSG_CALLER=13804321234
LOCK_ID=220203199001014562
ivr_centres_overlay "$SIPP2_PORT"
start_ivr 2026-07-01T10:00:00 -v
# a database made by `hotline run` holds the policy's tables and no sample rows (issue 6)
rows=$(sqlite3 "$DATA/hotline.db" "SELECT (SELECT count(*) FROM demo_accounts) + (SELECT count(*) FROM account_locks)") ||
  fail "the new database has no policy tables (rules/schema/): $rows"
[ "$rows" = 0 ] || fail "a new database holds $rows sample rows"
HOTLINE=$HOTLINE bash "$ROOT/examples/sample-data/load.sh" "$DATA" > "$WORK/load.txt" 2>&1 ||
  fail "examples/sample-data/load.sh: $(cat "$WORK/load.txt")"
"$PY" "$E2E/mkaudio.py" stream "$WORK/talk.ulaw" 32 pcmu || fail "mkaudio.py stream failed"
sipp_uas_bg centre "$(scen ivr_uas_centre BYE_TIMEOUT=45000 PORT="$SIPP2_PORT")"; p_uas=$!
sleep 0.3

# msg: message_intro from ~11.5 s, the beep, recording from ~22.8 s: # at ~27 s, 1 at ~28.5 s
ivr_call 0 msg "$MSG_CALLER" stream:talk.ulaw pause:2000 info:2 pause:25000 info:'#' pause:1200 \
  info:1 pause:2000 bye; p_msg=$!
# acct: the ID and # typed during the welcome too (its prompt is skipped), the PIN at ~13.4 s
# while its prompt plays; the read-back from ~14.5 s: the balance ~10.5 s, then the months
ivr_call 1 acct 043888886677 stream:talk.ulaw pause:2000 info:4 pause:300 info:"$DEMO_ID#":150 \
  pause:8400 info:"$DEMO_PIN#":150 pause:13500 bye; p_acct=$!
# xfer: 0433# at ~13.5 s while the area-code prompt plays; connecting ~3.5 s, then the REFER
ivr_call 2 xfer 13800138000 stream:talk.ulaw pause:2000 info:9 pause:11500 info:0433# \
  refer:501:30000 pause:3000 bye; p_xfer=$!
# lockA, lockB: as acct, both at once, the same ID and a wrong PIN each; hang up during the
# "wrong PIN" prompt that follows
for n in 0 1; do
  ivr_call $((3 + n)) "lock$n" "04388888100$n" stream:talk.ulaw pause:2000 info:4 pause:300 \
    info:"$LOCK_ID#":150 pause:8400 info:000000#:150 pause:3000 bye
  p_lock[n]=$!
done

ivr_wait msg "$p_msg"
ivr_wait acct "$p_acct"
ivr_wait xfer "$p_xfer"
ivr_wait lock0 "${p_lock[0]}"
ivr_wait lock1 "${p_lock[1]}"
ivr_wait centre "$p_uas"
[ -z "$IVR_WHY" ] || ivr_done ""

# ---- msg ----------------------------------------------------------------------------------
# msgs [new|handled]: `ctl --json query messages` into $WORK/messages.json; msg FIELD: that
# field of the msg call's message there (nothing when the list does not hold it)
msgs() {
  ctl --json query messages "$@" > "$WORK/messages.json" 2>&1 ||
    fail "hotline ctl --json query messages $*: $(head -c 300 "$WORK/messages.json")"
}
msg() {
  "$PY" -c '
import json, sys
for m in json.load(open(sys.argv[1]))["rows"]:
    if m.get("call_id") == sys.argv[2]:
        v = m.get(sys.argv[3])
        print("" if v is None else v)
' "$WORK/messages.json" "$msg_cid" "$1"
}
check_message() {
  ivr_cdr msg route=message 'dtmf=2#1' 'recording~^messages/[^ ]+\.wav$' \
    'menus~^main message_confirm( main)?$' \
    'prompts~ message_intro tone:beep message_confirm message_saved( |$)' || return 1
  local rec wav out id ms
  rec=$(cdr_check --where "$(where_call msg)" --quiet --get recording)
  msg_cid=$(cdr_check --where "$(where_call msg)" --quiet --get call_id)
  wav=$DATA/recordings/$rec
  [[ $rec == messages/*.wav ]] || { why msg "recording $rec is not under recordings/messages/"; return 1; }
  [ -s "$wav" ] || { why msg "the CDR names the recording $rec but $wav does not exist"; return 1; }
  out=$("$PY" "$E2E/checkrec.py" "$wav" "$WORK/talk.ulaw.wav" 2.0) ||
    { why msg "the message does not hold the caller's audio: $out"; return 1; }
  say "msg: $out"

  ctl query messages > "$WORK/messages.txt" 2>&1 ||
    fail "hotline ctl query messages: $(head -c 300 "$WORK/messages.txt")"
  grep -qE "^[0-9]+ +$MSG_CALLER .* new +- " "$WORK/messages.txt" ||
    { why msg "'ctl query messages' lists no new message from $MSG_CALLER: $(head -c 300 "$WORK/messages.txt")"; return 1; }
  msgs
  id=$(msg id)
  [ -n "$id" ] || { why msg "'ctl --json query messages' has no message of call $msg_cid"; return 1; }
  [ "$(msg caller)" = "$MSG_CALLER" ] || why msg "message $id: caller is not $MSG_CALLER"
  [ "$(msg path)" = "$rec" ] || why msg "message $id: path is not the CDR's recording $rec"
  [ "$(msg state)" = new ] || why msg "message $id: state is not new"
  ms=$(msg duration_ms)
  if [ "${ms:-0}" -lt 2000 ] || [ "$ms" -gt 8000 ]; then why msg "message $id lasts $ms ms, expected 2000-8000"; fi
  msgs new
  [ "$(msg id)" = "$id" ] || why msg "message $id is not listed by 'ctl query messages new'"

  ctl query message_handled "$id" e2e > "$WORK/handled.txt" 2>&1 ||
    { why msg "'ctl query message_handled $id e2e': $(head -c 300 "$WORK/handled.txt")"; return 1; }
  msgs handled
  [ "$(msg state)" = handled ] || why msg "message $id is not listed as handled after 'ctl query message_handled $id'"
  [ "$(msg handled_by)" = e2e ] || why msg "message $id: handled_by is not e2e"
  msgs new
  [ -z "$(msg id)" ] || why msg "message $id is still listed by 'ctl query messages new'"
  ctl query messages handled | grep -qE "^$id +$MSG_CALLER .* handled +e2e " ||
    why msg "'ctl query messages handled' (text) does not show message $id handled by e2e"
  say "msg: message $id of $ms ms listed by ctl, then marked handled"
}
why() { local t=$1; shift; IVR_WHY="$IVR_WHY $t: $*;"; }

# ---- acct ---------------------------------------------------------------------------------
check_account() {
  ivr_cdr acct route=account vars.account=read 'dtmf=4xxxxxxxxxxxxxxxxxx#xxxxxx#' 'menus~^main' \
    'prompts~ account_enter_pin account_balance say:x account_paid_months( |$)' \
    || return 1
  ivr_cdrs_json "$WORK/cdrs.json"
  grep -q '"route": "account"' "$WORK/cdrs.json" || { why acct "'ctl --json cdr' does not show the account call"; return 1; }
  # the balance and months read back are said with sensitive = true: none of their words
  if cdr_check --where "$(where_call acct)" --quiet --get prompts | grep -qE '(^| )(digit_|unit_|yuan|jiao|fen)'; then
    why acct "the CDR's prompts spell out what was read back: $(cdr_check --where "$(where_call acct)" --quiet --get prompts)"
  fi
  # The ID anywhere; the PIN as a number of its own (not inside a longer one: the engine's
  # self-test scenarios call from 13912345678, and epoch times have many digits).
  local what re f
  for what in ID PIN; do
    re=$DEMO_ID
    [ "$what" = PIN ] && re="(^|[^0-9])$DEMO_PIN([^0-9]|\$)"
    for f in "$WORK/cdrs.json" "$ENGINE_LOG"; do
      if grep -nE -- "$re" "$f" > "$WORK/leak.txt"; then
        why acct "the demo $what appears in $(basename "$f"): $(head -c 300 "$WORK/leak.txt")"
      fi
    done
  done
  say "acct: balance read back; no ID or PIN in $(grep -c '"call_id"' "$WORK/cdrs.json") CDRs nor in the debug log"
}

# ---- lockA, lockB -------------------------------------------------------------------------
check_locks() {
  local n busy read
  busy=$(lock_outcome busy) read=$(lock_outcome wrong)
  [ "$busy" = 1 ] && [ "$read" = 1 ] ||
    { why lock "two calls at once on one ID: $busy heard account_busy and $read had a PIN checked, not 1 and 1"; return 1; }
  n=$(sqlite3 "$DATA/hotline.db" "SELECT failures FROM account_locks WHERE id_number = '$LOCK_ID'")
  [ "$n" = 1 ] || { why lock "the one wrong PIN checked counted $n, not 1"; return 1; }
  say "lock: two calls at once on one ID: one served (its wrong PIN counted once), one told busy"
}
# lock_outcome busy|wrong: how many of lock0, lock1 heard account_busy / had a PIN checked
lock_outcome() {
  local n=0 t
  for t in lock0 lock1; do
    if [ "$1" = busy ]; then
      cdr_check --wait 1 --where "$(where_call "$t")" vars.account=busy > /dev/null 2>&1 && n=$((n + 1))
    else
      cdr_check --wait 1 --where "$(where_call "$t")" vars.pin_checks=1 > /dev/null 2>&1 && n=$((n + 1))
    fi
  done
  echo "$n"
}

# ---- xfer ---------------------------------------------------------------------------------
check_transfer() {
  ivr_cdr xfer --legs 2 route=transfer:0433 'dtmf=90433#' hangup_side=caller 'menus~^main' \
    'prompts~ transfer_enter_code transfer_connecting$' || return 1
  local cid
  cid=$(cdr_check --where "$(where_call xfer)" --quiet --get call_id)
  cdr_check --where "call_id=$cid" --where leg_index=1 direction=outbound 'answer?' \
    hangup_side=engine 'rtp.sent>=50' > "$WORK/leg1.cdrcheck" 2>&1 ||
    why xfer "outbound leg: $(grep -m1 '^cdrcheck:' "$WORK/leg1.cdrcheck" | cut -c1-400)"
}

check_message
check_account
check_transfer
check_locks
ivr_done "message kept, listed and marked handled by ctl query; two calls at once on one ID: one served, one busy; account read back, no ID/PIN in CDRs or log; key 9 0433# -> REFER refused, dialled the loopback centre, 2 legs"
