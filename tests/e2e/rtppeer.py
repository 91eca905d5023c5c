#!/usr/bin/env python3
"""rtppeer.py PORT SEND.ulaw OUT.jsonl [MAX_SECONDS] — a caller's RTP end for SIPp callers
whose SDP names 127.0.0.1:PORT (SIPp does the signalling, this does the media).

Records every RTP packet received as rtpsink.py does (one JSON line: t, pt, m, seq, ts,
ssrc, payload hex, src).  Once the first packet arrives (the engine's first prompt), it
sends SEND.ulaw (raw PCMU, mkaudio.py stream) back to that packet's source from the same
socket (so the engine's latch takes it: the SDP's address and port), 20 ms a packet from
the file's start, in a loop.  Writes "ready" once bound; stops on SIGTERM/SIGINT or after
MAX_SECONDS (default 60)."""
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

FRAME = 160


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    port, audio, out = int(argv[1]), open(argv[2], "rb").read(), argv[3]
    limit = float(argv[4]) if len(argv) > 4 else 60.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", port))
    print("ready", flush=True)
    end = time.time() + limit
    peer, nxt, seq, ts, off = None, 0.0, 1, 0, 0
    with open(out, "w") as f:
        while not stop and time.time() < end:
            try:
                r, _, _ = select.select([s], [], [], 0.005)
            except InterruptedError:
                continue
            if r:
                data, src = s.recvfrom(65536)
                p = e2elib.parse_rtp(data)
                if p is not None:
                    p["payload"] = p["payload"].hex()
                    p["t"] = time.time()
                    p["src"] = "%s:%d" % src
                    f.write(json.dumps(p) + "\n")
                    if peer is None:
                        peer, nxt = src, time.time()
            now = time.time()
            while peer and nxt <= now:
                chunk = audio[off:off + FRAME]
                if len(chunk) < FRAME:
                    chunk, off = audio[:FRAME], 0
                off += FRAME
                hdr = struct.pack(">BBHII", 0x80, (0x80 if seq == 1 else 0), seq & 0xFFFF, ts, 0x5EED0001)
                s.sendto(hdr + chunk, peer)
                seq, ts, nxt = seq + 1, ts + FRAME, nxt + 0.02
        f.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
