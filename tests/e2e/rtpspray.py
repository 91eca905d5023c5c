#!/usr/bin/env python3
"""rtpspray.py LO-HI OUT.json [SECONDS] [KEY] [SOURCES] — a third party spraying an RTP port range.

From sources that are not the caller's — by default 127.0.0.1 on a port of its own and
127.0.0.2 (loopback, so no set-up is needed; SOURCES: a comma-separated list) — sends to every even port of LO-HI, every ROUND_MS, an
RFC 4733 telephone-event for KEY (default 9; payload type 101, each round a new event
with its end bit, so any receiver that takes it reports a key) and a PCMU audio packet.
Meanwhile it counts what comes back to its sockets: a call that latched to the sprayer
would send it its audio.  Writes "ready" to stdout once its sockets are bound, stops on
SIGTERM/SIGINT or after SECONDS (default 30), and writes OUT.json:
{"sent": N, "rounds": R, "received": {"ip:port": n, ...}, "received_total": n}."""
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

SOURCES = "127.0.0.1,127.0.0.2"
ROUND_MS = 40          # each port gets a key and a frame from each source 25 times a second
TE_PT = 101            # the telephone-event payload type the e2e callers offer
PCMU_PT = 0
KEYS = "0123456789*#ABCD"


def rtp(pt, marker, seq, ts, ssrc, payload):
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    lo, hi = (int(x) for x in argv[1].split("-"))
    out = argv[2]
    limit = float(argv[3]) if len(argv) > 3 else 30.0
    event = KEYS.index(argv[4]) if len(argv) > 4 else 9
    sources = (argv[5] if len(argv) > 5 else SOURCES).split(",")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    socks = []
    for addr in sources:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        s.setblocking(False)
        socks.append(s)
    ports = [p for p in range(lo + (lo & 1), hi + 1, 2)]
    ssrcs = [random.getrandbits(32) for _ in socks]
    print("ready", flush=True)
    received, sent, rounds, seq = {}, 0, 0, random.getrandbits(16)
    end = time.time() + limit
    next_round = time.time()
    while not stop and time.time() < end:
        now = time.time()
        if now >= next_round:
            rounds += 1
            seq += 1
            ts = rounds * 160 * (ROUND_MS // 20)
            key = rtp(TE_PT, True, seq, ts, 0, bytes([event, 0x80 | 10, 0x03, 0x20]))
            for s, ssrc in zip(socks, ssrcs):
                pkts = (key[:8] + struct.pack(">I", ssrc) + key[12:],
                        rtp(PCMU_PT, False, seq, ts, ssrc, b"\x55" * 160))
                for port in ports:
                    for p in pkts:
                        try:
                            s.sendto(p, ("127.0.0.1", port))
                            sent += 1
                        except OSError:
                            pass
            next_round += ROUND_MS / 1000.0
        try:
            r, _, _ = select.select(socks, [], [], max(0.0, min(next_round - time.time(), 0.05)))
        except InterruptedError:
            continue
        for s in r:
            while True:
                try:
                    _, src = s.recvfrom(2048)
                except OSError:
                    break
                me = "%s:%d" % s.getsockname()
                received[me] = received.get(me, 0) + 1
    with open(out + ".tmp", "w") as f:
        json.dump({"sent": sent, "rounds": rounds, "received": received,
                   "received_total": sum(received.values())}, f)
    os.replace(out + ".tmp", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
