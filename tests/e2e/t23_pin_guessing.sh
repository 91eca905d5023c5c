#!/usr/bin/env bash
# t23_pin_guessing — 30 calls at once guess PINs for one ID (issue 7 item 7: 30 parallel
# calls got 65 guesses past the PIN lock, and the right PIN was accepted after it).  The
# shipped scripts/ and rules/ at 10:00 on a summer Wednesday (as t31), the sample
# accounts loaded; the sample ID 220203199001014562 (PIN 111111, examples/sample-data/) has
# already had max_pin_failures - 1 wrong PINs (rules/ivr.lua account; set in the store), so
# the next wrong one locks it.  One SIPp run places 30 calls at once (-l 30) from one number,
# each typing by SIP INFO: 4, the ID and #, during the welcome; a wrong PIN and # while the
# PIN prompt plays; 1.5 s later the right PIN and #; then it hangs up.
# Passes when: no call has the account read (the right PIN never accepted once the lock is
# hit); at most the one remaining PIN is checked across all 30 calls (vars.pin_checks) and
# account_locks.failures is exactly max_pin_failures (no PIN counted past the lock); every
# call ended locked or busy (one call at a time per ID: rules/accounts.lua M.claim); the
# claim is released (account_claims empty); the PINs typed after the lock are masked in
# every CDR's dtmf (x) and none reached the main menu (no call visited a menu after "main").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ivr_lib.sh"
ATTACKER=043888887777
LOCK_ID=220203199001014562
LOCK_PIN=111111
WRONG_PIN=000000
CALLS=30
max=$(sed -nE 's/^ *max_pin_failures *= *([0-9]+).*/\1/p' "$ROOT/rules/ivr.lua")
[ "${max:-0}" -ge 2 ] || fail "rules/ivr.lua max_pin_failures ($max) must be 2 or more for this test"

start_ivr 2026-07-01T10:00:00
HOTLINE=$HOTLINE bash "$ROOT/examples/sample-data/load.sh" "$DATA" > "$WORK/load.txt" 2>&1 ||
  fail "examples/sample-data/load.sh: $(cat "$WORK/load.txt")"
sqlite3 "$DATA/hotline.db" "INSERT INTO account_locks (id_number, failures, locked_until)
                            VALUES ('$LOCK_ID', $((max - 1)), 0)" || fail "cannot seed account_locks"

# welcome ~11.4 s (the keys typed in it are kept: 4 and the ID skip the menu and the ID
# prompt); the PIN prompt from ~11.5 s: the wrong PIN at ~12.7 s, the right one at ~15.2 s
"$PY" "$E2E/ivr/mkscen.py" "$E2E/sipp/ivr_uac.xml" "$WORK/guess.xml" "$ATTACKER" \
  pause:2000 info:4 pause:300 info:"$LOCK_ID#":150 pause:7200 info:"$WRONG_PIN#":150 pause:1500 \
  info:"$LOCK_PIN#":150 pause:1500 bye || fail "mkscen.py failed"
SIPP_LOCAL=$IVR_BASE SIPP_MEDIA=$((IVR_BASE + 40)) \
  sipp_bg guess "$WORK/guess.xml" 12333 -m "$CALLS" -l "$CALLS" -r "$CALLS" -rp 1000
ivr_wait guess "$!" || ivr_done ""

ivr_cdrs_json "$WORK/cdrs.json"
out=$("$PY" - "$WORK/cdrs.json" "$ATTACKER" "$CALLS" "$LOCK_PIN" <<'PYEOF'
import json, sys
cdrs, attacker, calls, pin = json.load(open(sys.argv[1]))["cdrs"], sys.argv[2], int(sys.argv[3]), sys.argv[4]
mine = [c for c in cdrs if c.get("caller") == attacker and c.get("leg_index", 0) == 0]
why = []
if len(mine) != calls:
    why.append("%d CDRs of the attacker's calls, not %d" % (len(mine), calls))
outcomes = {}
for c in mine:
    v = c.get("vars") or {}
    outcomes[v.get("account", "-")] = outcomes.get(v.get("account", "-"), 0) + 1
checked = sum(int((c.get("vars") or {}).get("pin_checks", 0)) for c in mine)
if outcomes.get("read"):
    why.append("the right PIN was accepted in %d calls after the lock" % outcomes["read"])
bad = {k: n for k, n in outcomes.items() if k not in ("locked", "busy")}
if bad:
    why.append("calls that ended neither locked nor busy: %s" % bad)
for c in mine:
    if pin in c.get("dtmf", ""):
        why.append("a CDR's dtmf holds the PIN in clear: %s" % c["dtmf"]); break
    menus = c.get("menus", "")
    menus = " ".join(menus) if isinstance(menus, list) else menus
    if menus.split()[1:2] and menus.split()[1] != "main":
        why.append("a key typed after the lock reached a menu: menus %s" % menus); break
print("checked=%d outcomes=%s" % (checked, json.dumps(outcomes, sort_keys=True)))
for w in why:
    print("WHY " + w)
PYEOF
) || fail "the CDR check failed: $out"
say "$out"
while read -r w; do IVR_WHY="$IVR_WHY ${w#WHY };"; done < <(grep '^WHY ' <<< "$out")
checked=$(sed -nE 's/^checked=([0-9]+).*/\1/p' <<< "$out")
[ "${checked:-99}" -le 1 ] ||
  IVR_WHY="$IVR_WHY $checked PINs checked across the calls; only 1 was left before the lock;"
failures=$(sqlite3 "$DATA/hotline.db" "SELECT failures FROM account_locks WHERE id_number = '$LOCK_ID'")
[ "$failures" = "$max" ] ||
  IVR_WHY="$IVR_WHY account_locks.failures is $failures, not max_pin_failures $max;"
# (the engine's clock is --clock's: its lock ends lock_minutes after the calls, in July)
locked=$(sqlite3 "$DATA/hotline.db" "SELECT locked_until > 0 FROM account_locks WHERE id_number = '$LOCK_ID'")
[ "$locked" = 1 ] || IVR_WHY="$IVR_WHY the ID is not locked after the calls;"
claims=$(sqlite3 "$DATA/hotline.db" "SELECT count(*) FROM account_claims")
[ "$claims" = 0 ] || IVR_WHY="$IVR_WHY $claims account claims left after every call ended;"
ivr_done "$CALLS calls at once on one ID: $checked PIN checked, failures = $max, the right PIN never accepted, keys after the lock masked"
