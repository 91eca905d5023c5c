#!/usr/bin/env bash
# t40_audit — every reload is audited (issue 10, SPEC section 5), on a copy of the test
# scripts with the file watch slowed down (reload_debounce_ms) so that each reload is the
# one the test asks for:
#  1. `hotline ctl reload` with nothing changed says unchanged and makes no version.
#  2. main.lua's TAG is edited and user nobody reloads (`setpriv`, through the socket made
#     reachable for the test): `hotline ctl audit` shows a reload by "ctl nobody (uid
#     65534)", taken, with the version, and the unified diff of the edit.
#  3. a broken edit reloaded by SIGHUP is audited as refused, with its error and its diff.
#  4. the log has one line per reload with its outcome, each stamped with a zone offset.
. "$(dirname "$0")/lib.sh"
cp -r "$E2E/scripts" "$WORK/scripts"
mkdir -p "$WORK/rules"
cat > "$WORK/rules/engine.lua" <<'LUA'
-- t40: the file watch waits a minute, so the reloads the test asks for are the ones audited
return { reload_debounce_ms = 60000 }
LUA
start_engine --scripts "$WORK/scripts" --rules "$WORK/rules"
audit_json() { ctl --json audit --last "${1:-10}"; }
field() {  # field INDEX KEY: a field of the INDEXth reload (-1 = newest) of audit_json
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reloads"][int(sys.argv[1])][sys.argv[2]])' "$1" "$2"
}

# -- 1. no-op
v1=$(ctl --json version | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["policy"])')
out=$(ctl --json reload) || fail "ctl reload with nothing changed: $out"
echo "$out" | grep -q '"unchanged": true' || fail "not unchanged: $out"
[ "$(audit_json | field -1 result)" = unchanged ] || fail "the no-op reload is not audited as unchanged: $(audit_json)"

# -- 2. a change by a named user
[ "$(id -u)" -eq 0 ] || fail "needs root: reloads as user nobody (setpriv)"
command -v setpriv > /dev/null || fail "setpriv (util-linux) is needed to reload as another user"
chmod o+x "$WORK" "$DATA"; chmod 0666 "$DATA/hotline.sock"
install -m 755 "$HOTLINE" "$WORK/hotline-client"   # the checkout may be in a folder nobody cannot enter
sed -i 's/^local TAG = "base"/local TAG = "audited"/' "$WORK/scripts/main.lua"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$WORK/hotline-client" ctl --data "$DATA" reload > "$WORK/reload2.out" 2>&1 ||
  fail "ctl reload as nobody: $(cat "$WORK/reload2.out")"
audit_json > "$WORK/audit.json"
who=$(field -1 who < "$WORK/audit.json"); result=$(field -1 result < "$WORK/audit.json")
v2=$(field -1 version < "$WORK/audit.json"); diff=$(field -1 diff < "$WORK/audit.json")
[ "$who" = "ctl nobody (uid 65534)" ] || fail "who asked: '$who', want 'ctl nobody (uid 65534)'"
[ "$result" = taken ] && [ "$v2" != "$v1" ] || fail "result $result version $v2 (was $v1)"
echo "$diff" | grep -q '^--- a/scripts/main.lua' && echo "$diff" | grep -q '^+++ b/scripts/main.lua' &&
  echo "$diff" | grep -q '^-local TAG = "base"' && echo "$diff" | grep -q '^+local TAG = "audited"' ||
  fail "the diff does not show the edit: $diff"
ctl audit --last 1 > "$WORK/audit.txt" || fail "ctl audit (text)"
grep -q 'ctl nobody (uid 65534)  taken' "$WORK/audit.txt" && grep -q '^+local TAG = "audited"' "$WORK/audit.txt" ||
  fail "ctl audit's text: $(cat "$WORK/audit.txt")"
say "audited: $(head -n 1 "$WORK/audit.txt")"

# -- 3. a refused reload by SIGHUP, with its error and diff
printf '\nlocal broken = (\n' >> "$WORK/scripts/main.lua"
kill -HUP "$ENGINE_PID"
for _ in $(seq 100); do [ "$(audit_json 1 | field -1 who)" = SIGHUP ] && break; sleep 0.1; done
audit_json 1 > "$WORK/audit3.json"
[ "$(field -1 who < "$WORK/audit3.json")" = SIGHUP ] && [ "$(field -1 result < "$WORK/audit3.json")" = refused ] ||
  fail "the SIGHUP reload is not audited as refused: $(cat "$WORK/audit3.json")"
field -1 detail < "$WORK/audit3.json" | grep -q 'main.lua' || fail "the refusal's error is not in the audit"
field -1 diff < "$WORK/audit3.json" > "$WORK/diff3.txt"
grep -q '^+local broken = ($' "$WORK/diff3.txt" || fail "the refused edit's diff is not in the audit"
[ "$(field -1 version < "$WORK/audit3.json")" = "$v2" ] || fail "the refused reload's version should stay $v2"

# -- 4. the log: one line per reload with its outcome, times with a zone
n=$(grep -cE 'reload: by .*: (taken|unchanged|refused)' "$ENGINE_LOG")
[ "$n" -eq 3 ] || fail "$n reload outcome lines in the log, want 3: $(grep reload "$ENGINE_LOG")"
bad=$(grep -v '^=== ' "$ENGINE_LOG" | grep -vcE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+([+-][0-9]{2}:[0-9]{2}|Z) ')
[ "$bad" -eq 0 ] || fail "$bad log lines without a zoned timestamp: $(grep -vE '^[0-9]{4}-' "$ENGINE_LOG" | head -3)"
grep -q 'hotline-sim' "$ENGINE_LOG" && fail "the scenarios' scratch databases are in the log"
pass "no-op unchanged; nobody's change audited with its diff; SIGHUP's refused edit audited; one log line each"
