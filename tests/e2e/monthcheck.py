#!/usr/bin/env python3
"""monthcheck.py — checks a month's score sheets (t50) against the calls the engine really
carried: the evidence CSV of `hotline ctl report evidence MONTH --csv` holds, for each agent
named, exactly the automatic deductions expected (agent, item, call), each with its evidence:
the time is the agent leg's start (centre time), the fact names what the CDR measured
(ring_ms, hangup_gap_ms, the hold's back_within_ms); parts of the scores CSV equal a figure.

  monthcheck.py --db DATA/hotline.db --evidence evidence.csv --scores scores.csv
                --agent A [--agent B] --expect AGENT:CALL_ID:ITEM ... --part AGENT:SECTION:VALUE ...
Prints what it checked; exit 1 with every difference."""
import argparse
import csv
import json
import sqlite3
import sys
import time

CENTRE_OFFSET_S = 8 * 3600   # China Standard Time: the centre's clock (rules' hl.date)


def agent_legs(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT * FROM cdr WHERE direction = 'outbound' AND agent <> ''").fetchall()
    return {r["call_id"]: dict(r) for r in rows}


def measured(item, leg):
    """The number the fact must name for an item, from the CDR (None: a fixed text)."""
    if item == "answer_speed":
        return str(leg["ring_ms"])
    if item == "hangup_order":
        return str(leg["hangup_gap_ms"])
    if item == "hold_checkin":
        return str(json.loads(leg["hold_log"])[0]["back_within_ms"])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--evidence", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--agent", action="append", default=[])
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--part", action="append", default=[])
    a = ap.parse_args()
    legs = agent_legs(a.db)
    bad, said = [], []
    want = set(tuple(e.split(":", 2)) for e in a.expect)
    got = {}
    for r in csv.DictReader(open(a.evidence, encoding="utf-8")):
        if r["agent"] in a.agent:
            got[(r["agent"], r["call"], r["item"])] = r
    for k in sorted(want - set(got)):
        bad.append("missing deduction %s" % ":".join(k))
    for k in sorted(set(got) - want):
        bad.append("unexpected deduction %s (%s)" % (":".join(k), got[k]["fact"]))
    for k in sorted(want & set(got)):
        r, leg = got[k], legs.get(k[1])
        if not leg:
            bad.append("%s: no agent leg %s in the CDRs" % (":".join(k), k[1]))
            continue
        t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(leg["start_time"]) + CENTRE_OFFSET_S))
        if r["time"] != t:
            bad.append("%s: time %s, the agent leg started %s" % (":".join(k), r["time"], t))
        n = measured(k[2], leg)
        if n is not None and n not in r["fact"]:
            bad.append("%s: the fact '%s' does not name the CDR's %s" % (":".join(k), r["fact"], n))
        if r["agent"] != leg["agent"]:
            bad.append("%s: the call's agent leg is %s's" % (":".join(k), leg["agent"]))
        said.append("%s %s %s @%s: %s" % (k[0], k[2], k[1], r["time"], r["fact"]))
    scores = {r["agent"]: r for r in csv.DictReader(open(a.scores, encoding="utf-8"))}
    for p in a.part:
        agent, section, value = p.split(":")
        v = scores.get(agent, {}).get(section)
        if v is None or abs(float(v) - float(value)) > 0.005:
            bad.append("agent %s %s is %s, expected %s" % (agent, section, v, value))
        else:
            said.append("agent %s %s = %s" % (agent, section, v))
    print("\n".join(said))
    if bad:
        print("\n".join("FAIL " + b for b in bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
