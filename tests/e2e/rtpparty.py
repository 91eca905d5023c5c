#!/usr/bin/env python3
"""rtpparty.py — who hears whom when the engine mixes (issue 8, t49: a supervisor's listen,
whisper and barge).  A mixed G.711 frame is not any one party's bytes; so each party sends
a stream whose samples are silent (µ-law 0xFF = 0) except those at its own place in every
20 ms packet: byte j of a packet belongs to party j % 3.  The engine's mix of such frames
(a sum in linear, encoded again) keeps each party's bytes exactly where that party is heard
and 0xFF where it is not, so a listener's recording can be taken apart by party.

  rtpparty.py make IN.ulaw OUT.ulaw K     IN (mkaudio.py stream) with only party K's places
                                          kept (0x7F, µ-law's other zero, becomes 0x7E)
  rtpparty.py project REC.jsonl K         REC's packets with only party K's places (others
                                          0xFF), JSON lines on stdout, for checkstream.py;
                                          packets where K is not heard at all are left out:
                                          the mix takes each source's frame of its 20 ms
                                          tick, so a sender that stalls (a loaded machine)
                                          and then sends a burst is missed for a while —
                                          checkstream.py still wants its seconds in order
  rtpparty.py silent REC.jsonl K          exit 0 when party K is heard in (almost) none of
                                          REC's packets: at most 2% of them carry a byte
                                          of K's that is not 0xFF; prints the count"""
import json
import sys

FRAME = 160


def keep(payload, k):
    return bytes(b if (j % FRAME) % 3 == k else 0xFF for j, b in enumerate(payload))


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    cmd, k = argv[1], int(argv[-1])
    if cmd == "make":
        data = bytes(0x7E if b == 0x7F else b for b in open(argv[2], "rb").read())
        open(argv[3], "wb").write(keep(data, k))
        return 0
    pkts = [json.loads(l) for l in open(argv[2]) if l.strip()]
    pkts = [p for p in pkts if p["pt"] in (0, 8)]
    if cmd == "project":
        for p in pkts:
            mine = keep(bytes.fromhex(p["payload"]), k)
            if any(b != 0xFF for b in mine):
                p["payload"] = mine.hex()
                sys.stdout.write(json.dumps(p) + "\n")
        return 0
    if cmd == "silent":
        heard = sum(1 for p in pkts if any(b != 0xFF for b in keep(bytes.fromhex(p["payload"]), k)))
        print("party %d heard in %d of %d packets" % (k, heard, len(pkts)))
        return 0 if pkts and heard <= 0.02 * len(pkts) else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
