#!/usr/bin/env bash
# t45_admin_input — back-office records without the web console (issue 9): `hotline ctl admin`
# against a running engine with the real policy (scripts/, rules/) and its SQLite file, the
# engine's clock at 2026-11-24 10:00 (a Tuesday):
#  1. one record at a time: a shift plan, a leave request that the rules refuse (a day ahead)
#     with its article, one filed by phone, a two-day leave through its chain of approvals
#     (department head, then director; the director first is refused, as is a second
#     approval), a correction without a reason;
#  2. CSV import: a good file is stored; then each bad file — a wrong column, a date out of
#     range, an impossible date, an unknown agent, a row twice in the file, a row already
#     stored, a half-written file (last line without its line end, a line with too few
#     fields, a quote never closed) — is refused with its line and reason, and the tables
#     are byte for byte what they were (nothing stored, nothing changed);
#  3. reviewer scores only for the calls drawn for that reviewer (rules/scoring.lua's draw by
#     hl.hash), transcripts and call notes only for calls with a CDR;
#  4. first-contact cases: `query overdue` lists an open case past its follow-up time; the
#     owner records the question (the case stays open, due the next working day), then closes
#     it with the answer, and it is no longer overdue.
# The CDRs and the case are rows this test writes into the store (the ACD's calls make them in
# production; t27 and the back office's own test place real calls).
. "$(dirname "$0")/lib.sh"
start_engine --scripts "$ROOT/scripts" --rules "$ROOT/rules" --clock 2026-11-24T10:00:00
DB=$DATA/hotline.db
sql() { "$PY" - "$DB" "$1" <<'EOF2'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
db.commit()
EOF2
}
# What every back-office table holds, to compare before and after a refused import.
snapshot() {
  for t in shift_plan leave attendance_corrections reviews transcripts call_notes training_attendance; do
    echo "== $t"; sql "SELECT * FROM $t ORDER BY id"
  done
}
admin_ok() { ctl admin "$@" > "$WORK/out.txt" 2>&1 || fail "admin $*: $(cat "$WORK/out.txt")"; }
# admin_refused WHY ARGS...: refused, and the message names WHY
admin_refused() {
  local why=$1; shift
  if ctl admin "$@" > "$WORK/out.txt" 2>&1; then fail "admin $* was accepted"; fi
  grep -qF -- "$why" "$WORK/out.txt" || fail "admin $*: expected '$why', got: $(cat "$WORK/out.txt")"
}

echo pw-1001 | ctl agent add 1001 --centre 0431 > /dev/null || fail "agent add 1001"
echo pw-1002 | ctl agent add 1002 --centre 0431 --role leader > /dev/null || fail "agent add 1002"
echo pw-1003 | ctl agent add 1003 --centre 0431 --role supervisor > /dev/null || fail "agent add 1003"

# 1. one record at a time
ctl admin > "$WORK/kinds.txt" || fail "admin (the list of kinds)"
grep -q "shift_plan" "$WORK/kinds.txt" || fail "admin does not list shift_plan"
admin_ok shift_plan agent=1001 date=2026-11-25 shift=day
admin_refused "already stored in shift_plan (agent=1001, date=2026-11-25)" shift_plan agent=1001 date=2026-11-25 shift=day
admin_refused "第二章 二: a request is filed 1 day(s) ahead" leave agent=1001 kind=sick from=2026-11-24 to=2026-11-24
admin_ok leave agent=1001 kind=sick from=2026-11-24 to=2026-11-24 channel=phone
admin_ok leave agent=1001 kind=personal from=2026-11-26 to=2026-11-27 reason=family
LEAVE=$(sql "SELECT id FROM leave WHERE kind = 'personal'")
admin_refused "next: department_head, not director" approve id="$LEAVE" by=1003 role=director
admin_ok approve id="$LEAVE" by=1002 role=department_head
[ "$(sql "SELECT state FROM leave WHERE id = $LEAVE")" = requested ] || fail "approved after the head alone"
admin_ok approve id="$LEAVE" by=1003 role=director
[ "$(sql "SELECT state FROM leave WHERE id = $LEAVE")" = approved ] || fail "not approved after head and director"
admin_refused "is approved: nothing to approve" approve id="$LEAVE" by=1003 role=director
admin_refused "第二章 一(六): relative is required" leave agent=1001 kind=bereavement from=2026-11-26 to=2026-11-26
admin_refused "reason is required" correction agent=1001 date=2026-11-23 field=arrival value=08:00 by=1002 reason=
admin_ok correction agent=1001 date=2026-11-23 field=arrival value=08:00 by=1002 reason="the phone failed"
say "single records: stored, or refused with the rule's article"

# 2. CSV import: all or nothing
printf 'agent,date,shift\r\n1001,2026-11-26,day\r\n1002,2026-11-26,day\r\n"1003",2026-11-26,day\r\n' > "$WORK/good.csv"
ctl admin import shift_plan "$WORK/good.csv" > "$WORK/out.txt" || fail "good import: $(cat "$WORK/out.txt")"
grep -q "stored: 3" "$WORK/out.txt" || fail "good import did not store 3: $(cat "$WORK/out.txt")"
[ "$(sql "SELECT count(*) FROM shift_plan WHERE date = '2026-11-26'")" = 3 ] || fail "good import: rows missing"
BEFORE=$(snapshot)
bad() {  # bad NAME EXPECTED_MESSAGE CONTENT
  printf '%b' "$3" > "$WORK/$1.csv"
  if ctl admin import shift_plan "$WORK/$1.csv" > "$WORK/out.txt" 2>&1; then fail "$1: the import was accepted"; fi
  grep -qF -- "$2" "$WORK/out.txt" || fail "$1: expected '$2', got: $(cat "$WORK/out.txt")"
  [ "$(snapshot)" = "$BEFORE" ] || fail "$1: the store changed after a refused import"
}
bad wrong_column "line 1: unknown column 'colour'" 'agent,date,shift,colour\n1001,2026-11-27,day,red\n'
bad missing_column "line 1: column 'shift' is required" 'agent,date\n1001,2026-11-27\n'
bad out_of_range "line 3: date: date 2029-11-27 is out of range" 'agent,date,shift\n1001,2026-11-27,day\n1002,2029-11-27,day\n'
bad no_such_date "line 2: date: '2026-02-30' is not a date" 'agent,date,shift\n1001,2026-02-30,day\n'
bad unknown_agent "line 3: agent: unknown agent '7777'" 'agent,date,shift\n1001,2026-11-27,day\n7777,2026-11-27,day\n'
bad dup_in_file "line 4: duplicate of line 2" 'agent,date,shift\n1001,2026-11-28,day\n1002,2026-11-28,day\n1001,2026-11-28,day\n'
bad dup_in_store "line 3: already stored in shift_plan (agent=1002, date=2026-11-26)" 'agent,date,shift\n1003,2026-11-29,day\n1002,2026-11-26,day\n'
bad no_line_end "line 3: the last line has no line end" 'agent,date,shift\n1001,2026-11-30,day\n1002,2026-11-30,d'
bad few_fields "line 3: 2 fields, the header names 3" 'agent,date,shift\n1001,2026-11-30,day\n1002,2026-11-30\n'
bad open_quote "line 2: a quoted field is not closed" 'agent,date,shift\n1001,2026-11-30,"day\n'
bad header_only "line 1: the file has a header and no records" 'agent,date,shift\n'
say "CSV import: a good file stored; every bad file refused with its line, the store unchanged"

# 3. reviews of drawn calls only; transcripts and notes of known calls
for i in 1 2 3 4 5 6 7 8; do   # 2026-11-10 10:00 +08:00 and on, agent 1001, recorded
  sql "INSERT INTO cdr (call_id, leg_index, agent, start_time, answer_time, end_time, recording)
       VALUES ('t45-$i', 1, '1001', 1794967200 + $i * 600, 1794967205 + $i * 600, 1794967400 + $i * 600, 'rec/t45-$i.wav')"
done
drawn=0
for i in 1 2 3 4 5 6 7 8; do
  if ctl admin review reviewer=1002 agent=1001 month=2026-11 call_id="t45-$i" policy=30 conduct=27 > "$WORK/out.txt" 2>&1; then
    drawn=$((drawn + 1))
  else
    grep -q "is not one drawn for reviewer 1002" "$WORK/out.txt" || fail "review t45-$i: $(cat "$WORK/out.txt")"
  fi
done
[ "$drawn" = 3 ] || fail "reviewer 1002 could score $drawn calls of agent 1001, not the 3 drawn"
admin_refused "is not in the assessment group" review reviewer=1001 agent=1001 month=2026-11 call_id=t45-1 policy=30 conduct=27
admin_refused "unknown call 't45-99'" transcript call_id=t45-99 source=reviewer text=x
admin_ok transcript call_id=t45-1 source=reviewer text="您好，很高兴为您服务"
admin_ok call_note call_id=t45-1 agent=1001 summary="失业金" kb_lookups=2
say "reviews: 3 drawn calls scored, the others refused; transcripts and notes of known calls"

# 4. first-contact cases: overdue, then handled
sql "INSERT INTO cases (caller, owner, opened, updated, follow_up_due) VALUES ('13800000000', '1001', 1794967200, 1794967200, 1795000000)"
ctl query overdue > "$WORK/overdue.txt" || fail "query overdue"
grep -q 13800000000 "$WORK/overdue.txt" || fail "the overdue case is not listed: $(cat "$WORK/overdue.txt")"
admin_ok case id=1 question="失业金怎么领"
[ "$(sql "SELECT strftime('%Y-%m-%d', follow_up_due, 'unixepoch', '+8 hours') FROM cases WHERE id = 1")" = 2026-11-25 ] ||
  fail "a case kept open on Tuesday is not due on Wednesday"
ctl query overdue | grep -q 13800000000 && fail "a case with a new due time is still overdue"
admin_refused "首问负责制 二: a case is closed with the answer given" case id=1 state=closed
admin_ok case id=1 state=closed answer="到社保窗口办理"
[ "$(sql "SELECT state || '|' || ifnull(follow_up_due, 'none') FROM cases WHERE id = 1")" = "closed|none" ] ||
  fail "a closed case keeps a due time"
say "cases: overdue listed, kept open with a new due time, closed with its answer"
pass "admin records one by one and from CSV (all or nothing), drawn reviews, cases"
