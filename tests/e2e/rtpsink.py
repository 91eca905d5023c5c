#!/usr/bin/env python3
"""rtpsink.py PORT OUT.jsonl [MAX_SECONDS] [SEND.raw] — a UDP sink for RTP on 127.0.0.1:PORT.

Writes one JSON line per packet received: t (arrival time, epoch seconds), pt, m, seq,
ts, ssrc, payload (hex), src ("ip:port").  Writes "ready" to stdout once bound, and stops
on SIGTERM/SIGINT or after MAX_SECONDS (default 60), flushing what it has.

With SEND.raw it is also a caller's RTP end (the ACD tests: SIPp signals, its SDP names
this port): once the first packet arrives (the engine's first prompt) it sends SEND.raw
(raw PCMU, mkaudio.py stream) back to that packet's source from the same socket (so the
engine's latch takes it: the SDP's address and port), 20 ms a packet from the file's
start, in a loop."""
import json
import os
import select
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

FRAME = 160          # 20 ms of PCMU
SSRC = 0x5EED0001


class Sender:
    """SEND.raw as RTP to the first packet's source, paced 20 ms a packet."""

    def __init__(self, path):
        self.audio = open(path, "rb").read()
        self.peer, self.next, self.seq, self.ts, self.off = None, 0.0, 1, 0, 0

    def heard(self, src):
        if self.peer is None:
            self.peer, self.next = src, time.time()

    def send_due(self, s):
        now = time.time()
        while self.peer and self.next <= now:
            chunk = self.audio[self.off:self.off + FRAME]
            if len(chunk) < FRAME:
                chunk, self.off = self.audio[:FRAME], 0
            self.off += FRAME
            hdr = struct.pack(">BBHII", 0x80, 0x80 if self.seq == 1 else 0, self.seq & 0xFFFF,
                              self.ts & 0xFFFFFFFF, SSRC)
            s.sendto(hdr + chunk, self.peer)
            self.seq, self.ts, self.next = self.seq + 1, self.ts + FRAME, self.next + 0.02


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    port, out = int(argv[1]), argv[2]
    limit = float(argv[3]) if len(argv) > 3 else 60.0
    sender = Sender(argv[4]) if len(argv) > 4 else None
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
                r, _, _ = select.select([s], [], [], 0.005 if sender else 0.1)
            except InterruptedError:
                continue
            if sender:
                sender.send_due(s)
            if not r:
                continue
            data, src = s.recvfrom(65536)
            t = time.time()
            p = e2elib.parse_rtp(data)
            if p is None:
                continue
            if sender:
                sender.heard(src)
            p["payload"] = p["payload"].hex()
            p["t"] = t
            p["src"] = "%s:%d" % src
            f.write(json.dumps(p) + "\n")
            f.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
