#!/usr/bin/env python3
"""cdrcheck.py — waits for CDRs of a running (or stopped) engine and checks their fields.

  cdrcheck.py --hotline BIN --data DIR [--where F=V ...] [--count N] [--wait S]
              [--legs N] [--quiet] CHECK ...

Selects the CDRs matching every --where F=V (equal) or F~REGEX (leg 0 only unless a
--where names leg_index),
waits up to --wait seconds (default 8: CDRs are written when a call ends) until --count of
them exist (default 1), then applies every CHECK to each selected CDR:

  field=value   equal (lists such as prompts compare as space-joined words)
  field!=value  not equal
  field~regex   re.search matches
  field>number  field<number  field>=number  field<=number
  field?        present and not empty / zero / null

Fields may be dotted (rtp.received).  --get F prints only field F of the last selected
CDR (when every check passed), for the shell.  --legs N: the call of each selected CDR has N legs.
Prints one line per CDR checked; on failure the CDR itself and exit 1."""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

OPS = ("!=", ">=", "<=", "=", "~", ">", "<")


def field(cdr, path):
    v = cdr
    for part in path.split("."):
        if not isinstance(v, dict) or part not in v:
            return None
        v = v[part]
    return v


def as_text(v):
    if v is None:
        return ""
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return str(v)


def check_one(cdr, expr):
    """-> None if ok, else a message."""
    if expr.endswith("?"):
        v = field(cdr, expr[:-1])
        return None if v not in (None, "", 0, [], {}) else "%s is empty (%r)" % (expr[:-1], v)
    for op in OPS:
        i = expr.find(op)
        if i > 0:
            name, want = expr[:i], expr[i + len(op):]
            break
    else:
        return "bad check '%s'" % expr
    v = field(cdr, name)
    got = as_text(v)
    if op == "=":
        ok = got == want
    elif op == "!=":
        ok = got != want
    elif op == "~":
        ok = re.search(want, got) is not None
    else:
        try:
            x, y = float(v), float(want)
        except (TypeError, ValueError):
            return "%s=%r is not a number" % (name, v)
        ok = {">": x > y, "<": x < y, ">=": x >= y, "<=": x <= y}[op]
    return None if ok else "%s is %r, expected %s %s" % (name, got, op, want)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hotline", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--where", action="append", default=[])
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--wait", type=float, default=8.0)
    ap.add_argument("--legs", type=int)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--get", help="print only this field of the (last) selected CDR")
    ap.add_argument("checks", nargs="*")
    a = ap.parse_args()

    where = []
    for w in a.where:
        i = min([j for j in (w.find("="), w.find("~")) if j > 0] or [len(w)])
        where.append((w[:i], w[i:i + 1], w[i + 1:]))
    if not any(k == "leg_index" for k, _, _ in where):
        where.append(("leg_index", "=", "0"))

    def pred(c):
        return all(as_text(field(c, k)) == v if op == "=" else re.search(v, as_text(field(c, k)))
                   for k, op, v in where)

    sel, every, src = e2elib.wait_cdrs(a.hotline, a.data, pred, a.count, a.wait)
    if len(sel) < a.count:
        print("cdrcheck: %d CDR(s) with %s after %.0f s, expected %d (source: %s; %d CDRs in all)"
              % (len(sel), " ".join(k + op + v for k, op, v in where), a.wait, a.count, src,
                 len(every)))
        for c in every[-5:]:
            print("  " + json.dumps(c, ensure_ascii=False))
        return 1
    bad = 0
    for c in sel:
        errs = [e for e in (check_one(c, x) for x in a.checks) if e]
        if a.legs is not None:
            legs = [d for d in every if d.get("call_id") == c.get("call_id")]
            if len(legs) != a.legs:
                errs.append("call %s has %d leg CDR(s), expected %d" % (c.get("call_id"), len(legs), a.legs))
                for d in legs:
                    errs.append("  leg: " + json.dumps(d, ensure_ascii=False))
        if errs:
            bad += 1
            print("cdrcheck: " + "; ".join(errs))
            print("  CDR: " + json.dumps(c, ensure_ascii=False))
        elif a.get:
            pass
        elif not a.quiet:
            print("  cdr %s: called=%s side=%s cause=%s route=%s dtmf=%s version=%s rtp=%s"
                  % (c.get("call_id"), c.get("called"), c.get("hangup_side"), c.get("hangup_cause"),
                     c.get("route"), c.get("dtmf"), c.get("script_version"),
                     json.dumps(c.get("rtp"))))
    if a.get and not bad:
        print(as_text(field(sel[-1], a.get)))
    elif src != "ctl":
        print("  (CDRs read from the database: %s)" % src)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
