#!/usr/bin/env python3
"""backoffice_rows.py — writes a month of rows into hotline.db as the engine's ACD and the
back office would (issue 9): agents, shift plans, agent_events (log-in, breaks, log-out),
CDRs (the caller's leg that waited in a queue and the agent's leg the engine dialled, with
ring time, who hung up first, holds), call notes, leader scores, complaints, praise.  For the
month's computation and the reports in tests (tests/e2e/t36_month_reports.sh) and `make bench`
(bench/month.sh): nothing here runs a call; the rows mirror what engine/store writes
(store/cdr.h, store/acd_events.c).  Reproducible: the same --seed, the same rows.

  backoffice_rows.py --db DATA/hotline.db --month 2026-03 --agents 500 --cdrs 300000
  backoffice_rows.py --db ... --only-events --agent 8001 --late 3:10   (late on 3 days by 10 min)
"""
import argparse
import calendar
import json
import random
import sqlite3
import sys
import time

TZ = 8 * 3600  # the centre's time (China Standard Time), as the engine's CDRs use epoch seconds


def epoch(y, m, d, hh=0, mm=0):
    return calendar.timegm((y, m, d, hh, mm, 0)) - TZ


def workdays(y, m):
    return [d for d in range(1, calendar.monthrange(y, m)[1] + 1) if calendar.weekday(y, m, d) < 5]


def agents_of(n, first):
    return [str(first + i) for i in range(n)]


def write_agents(db, agents):
    db.executemany("INSERT OR IGNORE INTO agents (number, name, role) VALUES (?, ?, 'agent')",
                   [(a, "agent " + a) for a in agents])


def write_plan(db, agents, y, m):
    rows = [(a, "%04d-%02d-%02d" % (y, m, d)) for d in workdays(y, m) for a in agents]
    db.executemany("INSERT OR IGNORE INTO shift_plan (created, created_by, agent, date, shift) "
                   "VALUES (0, 'test', ?, ?, 'day')", rows)


def day_events(rng, agent, y, m, d, start, end, late_min=0):
    """Log-in (late_min after the shift start, else 5 min before), a not-ready break, log-out."""
    t_in = epoch(y, m, d, *start) + (late_min * 60 + 30 if late_min else -300)
    t_out = epoch(y, m, d, *end) + 300
    brk = epoch(y, m, d, 12, 0) + rng.randint(0, 1800)
    return [(t_in, agent, "ready", "logged-out", ""),
            (brk, agent, "not-ready", "ready", "lunch"),
            (brk + rng.choice([50, 600, 1800]), agent, "ready", "not-ready", ""),
            (t_out, agent, "logged-out", "ready", "")]


def write_events(db, rng, agents, y, m, start, end, late=None):
    rows = []
    for a in agents:
        for i, d in enumerate(workdays(y, m)):
            late_min = late[1] if late and i < late[0] else 0
            rows += day_events(rng, a, y, m, d, start, end, late_min)
    db.executemany("INSERT INTO agent_events (time, agent, state, prev, reason, changed_by) "
                   "VALUES (?, ?, ?, ?, ?, 'test')", rows)
    return len(rows)


CDR_COLS = ("call_id, leg_id, leg_index, direction, caller, called, start_time, answer_time, end_time, "
            "hangup_side, hangup_cause, route, recording, agent, queue, queue_wait_ms, queue_outcome, ring_ms, "
            "hangup_first, hangup_gap_ms, holds, hold_ms, hold_log")


def one_call(rng, n, agents, y, m, days, start, end):
    """The CDRs of one call: the caller's leg, and the agent's leg when it was answered."""
    d = rng.choice(days)
    t0 = epoch(y, m, d, *start) + rng.randint(0, (end[0] - start[0]) * 3600 - 900)
    cid = "bo-%07d" % n
    caller = "139%08d" % rng.randint(0, 99999999)
    wait_ms = int(rng.expovariate(1 / 25000.0))
    agent = rng.choice(agents)
    if rng.random() < 0.08:  # abandoned while waiting
        return [(cid, "a", 0, "inbound", caller, "12333", t0, t0, t0 + wait_ms / 1000, "caller", "bye",
                 "queue:q1", "", "", "q1", wait_ms, "abandoned", 0, "caller", -1, 0, 0, "")], None
    # a month as a centre sees it: most calls answered within three rings, a few late
    ring_ms = rng.choice([2000, 3000, 4000, 6000, 8000, 11000]) if rng.random() < 0.95 else rng.choice([16000, 21000])
    ta = t0 + wait_ms / 1000 + ring_ms / 1000
    talk = rng.randint(60, 600)
    te = ta + talk
    holds, hold_ms, hold_log = 0, 0, ""
    if rng.random() < 0.06:
        hs = ta + talk / 3
        back = rng.choice([15000, 25000, 45000])
        hold_log = json.dumps([{"start": hs, "end": hs + back / 1000, "reminders": 0, "back_within_ms": back}])
        holds, hold_ms = 1, back
    first = "agent" if rng.random() < 0.03 else "caller"
    gap = rng.choice([500, 4000]) if first == "agent" else -1
    rec = "recordings/%s.wav" % cid
    legs = [(cid, "a", 0, "inbound", caller, "12333", t0, t0, te, first, "bye", "queue:q1", "", agent, "q1",
             wait_ms, "answered", 0, "", -1, 0, 0, ""),
            (cid, "b", 1, "outbound", "12333", agent, ta - ring_ms / 1000, ta, te, first, "bye", "", rec, agent, "q1",
             0, "", ring_ms, first, gap, holds, hold_ms, hold_log)]
    note = None
    if rng.random() < 0.97:
        note = (cid, agent, "question %d answered" % n, 0 if rng.random() < 0.03 else rng.randint(1, 3))
    return legs, note


def write_calls(db, rng, agents, y, m, start, end, cdrs):
    days = workdays(y, m)
    legs, notes, n = [], [], 0
    while len(legs) < cdrs:
        calls, note = one_call(rng, n, agents, y, m, days, start, end)
        legs += calls
        if note:
            notes.append(note)
        n += 1
    ph = ",".join("?" * len(CDR_COLS.split(",")))
    legs = sorted(legs[:cdrs], key=lambda leg: leg[8])  # the engine writes a CDR when its leg ends
    db.executemany("INSERT INTO cdr (%s) VALUES (%s)" % (CDR_COLS, ph), legs)
    db.executemany("INSERT OR IGNORE INTO call_notes (created, created_by, call_id, agent, summary, kb_lookups) "
                   "VALUES (0, 'test', ?, ?, ?, ?)", notes)
    return len(legs)


def write_assessments(db, rng, agents, y, m):
    month = "%04d-%02d" % (y, m)
    t = epoch(y, m, 10, 10)
    db.executemany("INSERT OR IGNORE INTO leader_scores (created, created_by, agent, month, leader, policy, conduct, note) "
                   "VALUES (0, 'test', ?, ?, 'L1', ?, ?, '')",
                   [(a, month, rng.choice([35, 33, 30, 28]), rng.choice([30, 29, 27])) for a in agents])
    db.executemany("INSERT INTO complaints (created, created_by, agent, call_id, time, valid, text) "
                   "VALUES (0, 'test', ?, '', ?, ?, 'complaint')",
                   [(a, t, rng.choice([0, 1])) for a in agents if rng.random() < 0.1])
    db.executemany("INSERT INTO praise (created, created_by, agent, call_id, time, kind, confirmed, text) "
                   "VALUES (0, 'test', ?, '', ?, ?, 1, 'thanks')",
                   [(a, t, rng.choice(["phone", "letter", "banner"])) for a in agents if rng.random() < 0.1])
    db.executemany("INSERT OR IGNORE INTO work_summaries (created, created_by, agent, month, has_plan, text) "
                   "VALUES (0, 'test', ?, ?, 1, 'summary')", [(a, month) for a in agents if rng.random() < 0.9])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--month", default="2026-03")
    ap.add_argument("--agents", type=int, default=3)
    ap.add_argument("--first-agent", type=int, default=8001)
    ap.add_argument("--cdrs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--shift", default="08:00-17:00", help="the shift's hours (rules/calendar.lua's)")
    ap.add_argument("--only-events", action="store_true", help="only agent_events, for --agent")
    ap.add_argument("--agent", help="the one agent --only-events writes")
    ap.add_argument("--late", default="", help="DAYS:MINUTES: late on the first DAYS days by MINUTES")
    a = ap.parse_args()
    y, m = map(int, a.month.split("-"))
    s, e = a.shift.split("-")
    start, end = tuple(map(int, s.split(":"))), tuple(map(int, e.split(":")))
    late = tuple(map(int, a.late.split(":"))) if a.late else None
    rng = random.Random(a.seed)
    db = sqlite3.connect(a.db, timeout=30)
    t = time.time()
    with db:
        if a.only_events:
            write_plan(db, [a.agent], y, m)
            n = write_events(db, rng, [a.agent], y, m, start, end, late)
            print("%d agent events for %s" % (n, a.agent))
            return 0
        agents = agents_of(a.agents, a.first_agent)
        write_agents(db, agents)
        write_plan(db, agents, y, m)
        ev = write_events(db, rng, agents, y, m, start, end, late)
        cdrs = write_calls(db, rng, agents, y, m, start, end, a.cdrs)
        write_assessments(db, rng, agents, y, m)
    print("%d agents, %d agent events, %d CDRs for %s in %.1f s" % (len(agents), ev, cdrs, a.month, time.time() - t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
