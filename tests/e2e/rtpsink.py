#!/usr/bin/env python3
"""rtpsink.py PORT OUT.jsonl [MAX_SECONDS] — a UDP sink for RTP on 127.0.0.1:PORT.

Writes one JSON line per packet received: t (arrival time, epoch seconds), pt, m, seq,
ts, ssrc, payload (hex), src ("ip:port").  Writes "ready" to stdout once bound, and stops
on SIGTERM/SIGINT or after MAX_SECONDS (default 60), flushing what it has."""
import json
import os
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    port, out = int(argv[1]), argv[2]
    limit = float(argv[3]) if len(argv) > 3 else 60.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", port))
    print("ready", flush=True)
    end = time.time() + limit
    with open(out, "w") as f:
        while not stop and time.time() < end:
            try:
                r, _, _ = select.select([s], [], [], 0.1)
            except InterruptedError:
                continue
            if not r:
                continue
            data, src = s.recvfrom(65536)
            t = time.time()
            p = e2elib.parse_rtp(data)
            if p is None:
                continue
            p["payload"] = p["payload"].hex()
            p["t"] = t
            p["src"] = "%s:%d" % src
            f.write(json.dumps(p) + "\n")
            f.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
