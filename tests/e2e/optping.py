#!/usr/bin/env python3
"""optping.py — how long the engine takes to answer SIP while something else goes on.

  optping.py HOST PORT LOCAL_PORT INTERVAL_MS STOP_FILE SUMMARY_FILE [LOG_FILE]

Sends an OPTIONS over UDP every INTERVAL_MS from 127.0.0.1:LOCAL_PORT until STOP_FILE
exists, waits a second for the last answers, then writes a one-line summary to
SUMMARY_FILE: "sent N answered N max_ms F p99_ms F worst_at S" (worst_at: seconds after the
start when the slowest answer's request was sent).  LOG_FILE gets a line per answer as it
arrives, "SENT_AT RTT_MS" (SENT_AT: the system clock, as `date +%s.%N`), so that a test can
look at the answers of one time window.  Every request has its own Call-ID, so
each answer is matched to its request; an unanswered request counts as lost.  Standard
library only."""
import os
import select
import socket
import sys
import time


def options(host, port, lport, n):
    return ("OPTIONS sip:ping@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ping-%d\r\n"
            "From: <sip:ping@127.0.0.1:%d>;tag=ping\r\n"
            "To: <sip:ping@%s:%d>\r\n"
            "Call-ID: ping-%d@optping\r\n"
            "CSeq: %d OPTIONS\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n" % (host, port, lport, n, lport, host, port, n, n)).encode()


def call_id_number(data):
    for line in data.split(b"\r\n"):
        if line.lower().startswith(b"call-id:") and b"ping-" in line:
            try:
                return int(line.split(b"ping-")[1].split(b"@")[0])
            except ValueError:
                return None
    return None


def main():
    host, port, lport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    interval = int(sys.argv[4]) / 1000.0
    stop_file, summary = sys.argv[5], sys.argv[6]
    log = open(sys.argv[7], "w", buffering=1) if len(sys.argv) > 7 else None
    wall_offset = time.time() - time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", lport))
    start = time.monotonic()
    sent = {}      # n -> send time
    rtt = {}       # n -> seconds
    n = 0
    next_send = start
    stop_at = None
    while True:
        now = time.monotonic()
        if stop_at is None and os.path.exists(stop_file):
            stop_at = now + 1.0
        if stop_at is not None and now >= stop_at:
            break
        if stop_at is None and now >= next_send:
            n += 1
            sent[n] = now
            s.sendto(options(host, port, lport, n), (host, port))
            next_send += interval
            if next_send < now:          # we were descheduled: do not burst to catch up
                next_send = now + interval
        wait = max(0.0, min(next_send, stop_at or next_send) - time.monotonic())
        r, _, _ = select.select([s], [], [], wait)
        if r:
            data = s.recv(65535)
            got = time.monotonic()
            k = call_id_number(data)
            if k in sent and k not in rtt and data.startswith(b"SIP/2.0 200"):
                rtt[k] = got - sent[k]
                if log:
                    log.write("%.4f %.2f\n" % (sent[k] + wall_offset, rtt[k] * 1000))
    times = sorted(rtt.values())
    worst = max(rtt, key=rtt.get) if rtt else 0
    p99 = times[int(len(times) * 0.99) - 1] if len(times) >= 100 else (times[-1] if times else 0)
    with open(summary, "w") as f:
        f.write("sent %d answered %d max_ms %.1f p99_ms %.1f worst_at %.1f\n" % (
            n, len(rtt), (times[-1] if times else 0) * 1000, p99 * 1000,
            (sent[worst] - start) if rtt else 0))


if __name__ == "__main__":
    main()
