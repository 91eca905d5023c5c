#!/usr/bin/env python3
"""promparse.py — a small parser of the Prometheus text exposition format (0.0.4), strict
enough to fail on what a real scraper would refuse, for the metrics test (t41) and the bench.

  promparse.py URL [--token TOKEN]   fetches URL; prints {"series": {...}, "types": {...}}
                                     as JSON; exit 1 with the reason on a parse error,
                                     exit 3 printing the HTTP status when it is not 200.
  promparse.py --file PATH           the same for a saved page

A series is named as Prometheus shows it: name{label="value",...} with the labels sorted.
Checks: every sample belongs to a family declared by # TYPE before it; names and label
names are valid; label values escape only \\\\, \\" and \\n; no series appears twice;
counters and histogram buckets are not negative; a histogram's buckets rise with le, end
at le="+Inf" and that bucket equals _count.  (prometheus_client's own parser, when
installed, reads the page too.)"""
import json
import re
import sys
import urllib.error
import urllib.request

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class ParseError(Exception):
    pass


def parse_labels(text, lineno):
    """'a="x",b="y\\"z"' -> {"a": "x", "b": 'y"z'}"""
    labels, i = {}, 0
    while i < len(text):
        eq = text.find("=", i)
        if eq < 0:
            raise ParseError(f"line {lineno}: label without '='")
        name = text[i:eq].strip()
        if not LABEL.match(name):
            raise ParseError(f"line {lineno}: bad label name {name!r}")
        if eq + 1 >= len(text) or text[eq + 1] != '"':
            raise ParseError(f"line {lineno}: label value not quoted")
        j, value = eq + 2, []
        while True:
            if j >= len(text):
                raise ParseError(f"line {lineno}: unterminated label value")
            c = text[j]
            if c == "\\":
                nxt = text[j + 1:j + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ParseError(f"line {lineno}: bad escape \\{nxt}")
                value.append("\n" if nxt == "n" else nxt)
                j += 2
            elif c == '"':
                break
            else:
                value.append(c)
                j += 1
        if name in labels:
            raise ParseError(f"line {lineno}: label {name} twice")
        labels[name] = "".join(value)
        i = j + 1
        if i < len(text):
            if text[i] != ",":
                raise ParseError(f"line {lineno}: expected ',' between labels")
            i += 1
    return labels


def series_key(name, labels):
    if not labels:
        return name
    inner = ",".join(f'{k}="{labels[k]}"' for k in sorted(labels))
    return f"{name}{{{inner}}}"


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            return base
    return None


def parse(text):
    types, series, buckets = {}, {}, {}
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] == "TYPE":
                if len(parts) != 4 or parts[3] not in TYPES or not NAME.match(parts[2]):
                    raise ParseError(f"line {lineno}: bad TYPE line")
                if parts[2] in types:
                    raise ParseError(f"line {lineno}: TYPE of {parts[2]} twice")
                types[parts[2]] = parts[3]
            continue
        m = re.match(r"([^{\s]+)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$", line)
        if not m:
            raise ParseError(f"line {lineno}: not a sample: {line!r}")
        name, ltext, value = m.group(1), m.group(2) or "", m.group(3)
        if not NAME.match(name):
            raise ParseError(f"line {lineno}: bad metric name {name!r}")
        fam = family_of(name, types)
        if fam is None:
            raise ParseError(f"line {lineno}: {name} has no # TYPE before it")
        try:
            v = float(value)
        except ValueError:
            raise ParseError(f"line {lineno}: bad value {value!r}")
        labels = parse_labels(ltext, lineno)
        key = series_key(name, labels)
        if key in series:
            raise ParseError(f"line {lineno}: series {key} twice")
        if types[fam] in ("counter", "histogram") and v < 0:
            raise ParseError(f"line {lineno}: {key} is negative")
        series[key] = v
        if name.endswith("_bucket") and types[fam] == "histogram":
            le = labels.pop("le", None)
            if le is None:
                raise ParseError(f"line {lineno}: a bucket without le")
            buckets.setdefault((fam, series_key(fam, labels)), []).append((float(le), v))
    check_histograms(buckets, series)
    return {"series": series, "types": types}


def check_histograms(buckets, series):
    for (fam, base), bs in buckets.items():
        les = [le for le, _ in bs]
        if les != sorted(les) or les[-1] != float("inf"):
            raise ParseError(f"{fam}: buckets not in rising le order ending at +Inf")
        counts = [c for _, c in bs]
        if counts != sorted(counts):
            raise ParseError(f"{fam}: bucket counts fall as le rises")
        count_key = base.replace(fam, fam + "_count", 1)
        if series.get(count_key) != counts[-1]:
            raise ParseError(f"{fam}: +Inf bucket {counts[-1]} differs from {count_key}")


def cross_check(text):
    """prometheus_client's parser, when installed, must read the page as well."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return
    for _ in text_string_to_metric_families(text):
        pass


def fetch(url, token):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def main(argv):
    if len(argv) >= 2 and argv[0] == "--file":
        with open(argv[1], encoding="utf-8") as f:
            text, status = f.read(), 200
    elif argv:
        token = argv[argv.index("--token") + 1] if "--token" in argv else None
        status, text = fetch(argv[0], token)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if status != 200:
        print(status)
        return 3
    try:
        out = parse(text)
        cross_check(text)
    except ParseError as e:
        print(f"not valid Prometheus text: {e}")
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
