#!/usr/bin/env python3
"""report_check.py — loads an HTML report of `hotline ctl report month MONTH --html` in
headless Chromium (Debian's `chromium`, driven over the DevTools protocol with
python3-websockets) and checks: the page loads with no console error, no exception and no
failed request; it names no external resource; every chart is there; each chart's numbers
(the bars' data-label / data-value) equal what the CSV reports of the same month say.

  report_check.py --html month.html --scores scores.csv --ranking ranking.csv \
                  --monthly monthly.csv --calls calls.csv
Exit 0 when everything matches; 1 with the differences; 77 when Chromium is missing.
"""
import argparse
import asyncio
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

CHARTS = ["score_distribution", "ranking", "attendance_by_kind", "calls_per_hour", "answer_rate", "waits"]
# the score distribution's bins are this wide (rules/reports.lua M.score_bin: read back from
# the bars' labels, "lo-hi", so the check follows the rule)

READ_CHARTS = """JSON.stringify(Array.from(document.querySelectorAll('svg[data-chart]')).map(s => [
  s.getAttribute('data-chart'),
  Array.from(s.querySelectorAll('rect[data-label]')).map(r => [r.getAttribute('data-label'),
    parseFloat(r.getAttribute('data-value')), r.querySelector('title') ? r.querySelector('title').textContent : ''])]))"""


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def expected(a):
    scores, ranking, monthly, calls = rows(a.scores), rows(a.ranking), rows(a.monthly), rows(a.calls)
    totals = [float(r["total"]) for r in scores]
    exp = {"ranking": {r["agent"]: float(r["total"]) for r in ranking}}
    exp["attendance_by_kind"] = lambda kinds: {k: sum(float(r[k] or 0) for r in monthly)
                                               for k in kinds if monthly and k in monthly[0]}
    exp["calls_per_hour"] = {"%02d" % int(r["hour"]): float(r["offered"]) for r in calls}
    exp["answer_rate"] = {"%02d" % int(r["hour"]): float(r["answer_rate_pct"]) for r in calls}
    exp["waits"] = {"%02d" % int(r["hour"]): float(r["avg_wait_ms"]) for r in calls}
    return exp, totals


def distribution(bars, totals):
    """The score distribution's bars against the totals of scores.csv, bin by bin."""
    out, last = {}, len(bars) - 1
    for i, (label, _, _) in enumerate(bars):
        lo, hi = map(int, label.split("-"))
        out[label] = float(sum(1 for t in totals if lo <= t < hi + 1 or (i == last and t >= lo)))
    return out


async def cdp_load(ws_url, url, wait_s):
    import websockets
    problems, seq = [], 0
    async with websockets.connect(ws_url, max_size=64 * 1024 * 1024) as ws:
        async def send(method, params=None):
            nonlocal seq
            seq += 1
            await ws.send(json.dumps({"id": seq, "method": method, "params": params or {}}))
            return seq

        for m in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
            await send(m)
        await send("Page.navigate", {"url": url})
        deadline, loaded, eval_id, result = time.time() + wait_s, False, None, None
        while time.time() < deadline and result is None:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.time())))
            except asyncio.TimeoutError:
                break
            method, params = msg.get("method"), msg.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems.append("console %s: %s" % (params["type"], params.get("args")))
            elif method == "Runtime.exceptionThrown":
                problems.append("exception: %s" % params.get("exceptionDetails", {}).get("text"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                problems.append("log error: %s" % params["entry"].get("text"))
            elif method == "Network.loadingFailed":
                problems.append("request failed: %s" % params.get("errorText"))
            elif method == "Page.loadEventFired" and not loaded:
                loaded = True
                eval_id = await send("Runtime.evaluate", {"expression": READ_CHARTS, "returnByValue": True})
            elif eval_id is not None and msg.get("id") == eval_id:
                result = json.loads(msg["result"]["result"]["value"])
        if not loaded:
            problems.append("the page did not load within %d s" % wait_s)
        await asyncio.sleep(0.3)  # errors logged right after load
        while True:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.2))
            except (asyncio.TimeoutError, Exception):
                break
            if msg.get("method") in ("Runtime.exceptionThrown",) or (
                    msg.get("method") == "Log.entryAdded" and msg["params"]["entry"].get("level") == "error"):
                problems.append("after load: %s" % msg["method"])
    return result or [], problems


def start_chromium(profile):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        return None, None
    p = subprocess.Popen([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
            return p, int(open(port_file).read().split("\n")[0])
        time.sleep(0.1)
    p.kill()
    return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in ("html", "scores", "ranking", "monthly", "calls"):
        ap.add_argument("--" + f, required=True)
    ap.add_argument("--wait", type=int, default=30)
    a = ap.parse_args()
    page = open(a.html, encoding="utf-8").read()
    problems = []
    external = re.findall(r'(?:src|href)\s*=\s*"[^"#][^"]*"|url\(', page)
    if external:
        problems.append("external resources named: %s" % external[:3])
    profile = tempfile.mkdtemp(prefix="hl-chromium-")
    proc, port = start_chromium(profile)
    if not proc:
        print("report_check: chromium is not installed (contrib/install-deps.sh installs it)")
        return 77
    try:
        req = urllib.request.Request("http://127.0.0.1:%d/json/new?about:blank" % port, method="PUT")
        target = json.load(urllib.request.urlopen(req, timeout=10))
        charts, load_problems = asyncio.run(cdp_load(target["webSocketDebuggerUrl"],
                                                     "file://" + os.path.abspath(a.html), a.wait))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    problems += load_problems
    exp, totals = expected(a)
    got = {name: bars for name, bars in charts}
    for name in CHARTS:
        bars = got.get(name)
        if not bars:
            problems.append("chart %s is missing or has no bars" % name)
            continue
        if name == "score_distribution":
            want = distribution(bars, totals)
        elif name == "attendance_by_kind":  # the kinds are the chart's; each must be a CSV column
            want = exp[name]([label for label, _, _ in bars])
        else:
            want = exp[name]
        have = {label: value for label, value, _ in bars}
        if set(have) != set(want):
            problems.append("%s: bars %s, CSV %s" % (name, sorted(have)[:8], sorted(want)[:8]))
        for label, value in have.items():
            if label in want and abs(want[label] - value) > 0.005 + 1e-9 * abs(value):
                problems.append("%s %s: chart %s, CSV %s" % (name, label, value, want[label]))
        for label, value, title in bars:
            if not title.startswith(label + ":"):
                problems.append("%s %s: its title %r does not give its number" % (name, label, title))
    if problems:
        print("report_check: %d problem(s):\n  %s" % (len(problems), "\n  ".join(problems[:20])))
        return 1
    print("report_check: %d charts, %d bars, all equal to the CSV; no console error" %
          (len(CHARTS), sum(len(got[c]) for c in CHARTS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
