#!/usr/bin/env bash
# t44_month_reports — the month's results and the reports (issue 9), on a copy of the real
# scripts/ and rules/ served by a running engine.  The ACD's rows (cdr agent and caller legs,
# agent_events) and the back office's are WRITTEN BY THE TEST (backoffice_rows.py), mirroring
# what the engine writes; no call is placed here.
#  1. `hotline ctl month compute 2026-03` returns with its counts and time; an agent late on
#     the rule's count of days (rules/attendance.lua lateness.count) gets the rule's half day.
#  2. every report as CSV, the month as HTML; headless Chromium loads the page: no console
#     error, every chart there, its numbers equal to the CSV (report_check.py).
#  3. the limit raised by one while the engine runs (saved, reloaded): the next computation
#     is a new policy version and the agent is no longer penalised; the report shows it.
#  4. a change that breaks the rule's tests is refused by the reload, and the next
#     computation still runs on the last good rules (same version, same result).
. "$(dirname "$0")/lib.sh"
cp -r "$ROOT/scripts" "$WORK/scripts"
cp -r "$ROOT/rules" "$WORK/rules"
ln -s "$ROOT/build" "$WORK/build"   # rules/engine.lua's fax_dir is ../build/fax
start_engine --scripts "$WORK/scripts" --rules "$WORK/rules"
ATT=$WORK/rules/attendance.lua
rule() {  # rule FIELD: rules.lateness.FIELD as the file says now
  sed -nE "s/^  lateness = \{.*[ {]$1 = ([0-9.]+),.*/\1/p" "$ATT"
}
COUNT=$(rule count)
ABSENT=$(rule absent_days)
[ -n "$COUNT" ] && [ -n "$ABSENT" ] || fail "cannot read lateness.count/absent_days from $ATT"
MONTH=2026-03
LATE=8901
"$PY" "$E2E/backoffice_rows.py" --db "$DATA/hotline.db" --month $MONTH --agents 6 --cdrs 800 > "$WORK/rows.out" ||
  fail "writing the rows: $(cat "$WORK/rows.out")"
"$PY" "$E2E/backoffice_rows.py" --db "$DATA/hotline.db" --month $MONTH --only-events --agent $LATE \
  --late "$COUNT:10" >> "$WORK/rows.out" || fail "writing the late agent's events"
say "$(tr '\n' ' ' < "$WORK/rows.out")"

compute() {  # compute TAG: month compute, its output in $WORK/TAG.out
  ctl month compute $MONTH > "$WORK/$1.out" 2>&1 || fail "month compute ($1): $(cat "$WORK/$1.out")"
}
field() { sed -nE "s/^$2: (.*)/\1/p" "$WORK/$1.out"; }
penalty() {  # penalty AGENT: penalty_days of the monthly CSV report
  ctl report monthly $MONTH --csv --out "$WORK/monthly.csv" || fail "report monthly"
  "$PY" -c 'import csv,sys; r=[x for x in csv.DictReader(open(sys.argv[1])) if x["agent"]==sys.argv[2]]; print(float(r[0]["penalty_days"]) if r else "none")' \
    "$WORK/monthly.csv" "$1"
}

# -- 1. the month
compute first
V1=$(field first version)
[ "$(field first sheets)" = 7 ] || fail "7 sheets expected: $(cat "$WORK/first.out")"
say "computed in $(field first ms) ms: $(field first sheets) sheets, $(field first calls) calls, version $V1"
p=$(penalty $LATE)
[ "$p" = "$(python3 -c "print(float($ABSENT))")" ] || fail "agent $LATE late on $COUNT days: penalty $p, the rule says $ABSENT"

# -- 2. reports
for k in daily monthly scores evidence ranking calls; do
  ctl report $k $MONTH --csv --out "$WORK/$k.csv" || fail "report $k --csv"
  [ "$(wc -l < "$WORK/$k.csv")" -gt 1 ] || fail "report $k has no rows"
done
grep -q ',answer_speed,.*,bo-[0-9]*,2026-03-' "$WORK/evidence.csv" || fail "no slow answer with its call and time in the evidence"
ctl report month $MONTH --html --out "$WORK/month.html" || fail "report month --html"
"$PY" "$E2E/report_check.py" --html "$WORK/month.html" --scores "$WORK/scores.csv" --ranking "$WORK/ranking.csv" \
  --monthly "$WORK/monthly.csv" --calls "$WORK/calls.csv" > "$WORK/check.out" 2>&1 || fail "$(cat "$WORK/check.out")"
say "$(cat "$WORK/check.out")"

# -- 3. the limit raised by one, saved while the engine runs
sed -i -E "s/^(  lateness = \{ count = )$COUNT,/\1$((COUNT + 1)),/" "$ATT"
[ "$(rule count)" = $((COUNT + 1)) ] || fail "could not edit $ATT"
settle() {  # the file watch reloads too (after reload_debounce_ms): let it finish, then reload
  sleep 1.5
  ctl reload > "$WORK/$1.out" 2>&1
}
settle reload1 || fail "the reload of the raised limit was refused: $(cat "$WORK/reload1.out")"
compute second
V2=$(field second version)
[ "$V2" != "$V1" ] || fail "the computation after the rule change kept version $V1"
p=$(penalty $LATE)
[ "$p" = 0.0 ] || fail "with the limit at $((COUNT + 1)), $COUNT late days still give $p"
say "limit $COUNT -> $((COUNT + 1)): version $V1 -> $V2, agent $LATE's penalty ${ABSENT} -> $p"

# -- 4. a change that breaks the rule's own tests is refused; the month keeps the last good rules
sed -i 's/late = (t.late_count >= late.count/late = (t.late_count > late.count/' "$ATT"
grep -q 't.late_count > late.count' "$ATT" || fail "could not break $ATT"
# A reload asked while another builds gets that build's answer (the older files): ask until
# one built the broken file, which must be refused.
refused=0
for _ in 1 2 3 4; do
  if ! settle reload2; then refused=1; break; fi
  [ "$(field reload2 version | cut -d- -f2)" = "$(echo "$V2" | cut -d- -f2)" ] ||
    fail "a reload that breaks attendance_test was accepted: $(cat "$WORK/reload2.out")"
done
[ "$refused" = 1 ] || fail "no reload built the broken attendance.lua"
grep -q 'attendance' "$WORK/reload2.out" || fail "the refusal does not name the rule: $(head -c 300 "$WORK/reload2.out")"
say "refused: $(grep -m1 FAIL "$WORK/reload2.out" | cut -c1-150)"
compute third
[ "$(field third version | cut -d- -f2)" = "$(echo "$V2" | cut -d- -f2)" ] || fail "after the refused reload the month ran $(field third version), not $V2"
[ "$(penalty $LATE)" = 0.0 ] || fail "after the refused reload the result changed"
engine_alive || fail "the engine died"
pass "month computed ($V1, $(field first ms) ms); 6 charts equal to the CSV in Chromium; limit +1 gave $V2; a breaking edit was refused"
