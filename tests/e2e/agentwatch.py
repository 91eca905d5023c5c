#!/usr/bin/env python3
"""agentwatch.py HOTLINE DATA OUT.jsonl [INTERVAL_MS] — follows the agents' ACD states of a
running engine (`hotline ctl agents --json` every INTERVAL_MS, default 100) and writes one
JSON line per change: {t (epoch s, this machine's clock), number, state, reason, misses}.
Stops on SIGTERM/SIGINT."""
import json
import signal
import subprocess
import sys
import time


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    hotline, data, out = argv[1:4]
    every = (float(argv[4]) if len(argv) > 4 else 100) / 1000.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    seen = {}
    with open(out, "w") as f:
        while not stop:
            try:
                p = subprocess.run([hotline, "ctl", "--data", data, "agents", "--json"],
                                   capture_output=True, text=True, timeout=5)
                d = json.loads(p.stdout) if p.returncode == 0 else []
            except (OSError, ValueError, subprocess.TimeoutExpired):
                d = []
            for a in d.get("agents", []) if isinstance(d, dict) else d:
                now = (a["state"], a.get("reason", ""))
                if seen.get(a["number"]) != now:
                    seen[a["number"]] = now
                    f.write(json.dumps(dict(t=round(time.time(), 3), number=a["number"], state=now[0],
                                            reason=now[1], misses=a.get("misses"))) + "\n")
                    f.flush()
            time.sleep(every)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
