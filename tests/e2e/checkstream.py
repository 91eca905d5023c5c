#!/usr/bin/env python3
"""checkstream.py RECEIVED.jsonl SENT.raw [MIN_SECONDS] — did a G.711 stream arrive byte
for byte?

RECEIVED.jsonl: RTP packets as rtpsink.py / agent_phone.py record them.
SENT.raw: the G.711 bytes the far end sent (mkaudio.py stream), in a loop from its start.
Every received audio payload (payload type 0 or 8) is looked up in the sent bytes (as a
loop: the file twice); the run of payloads found in increasing order (wrapping once at the
loop's end) must cover MIN_SECONDS (default 2.0), and be at least 90% of the packets
received from that source once the first one was found (the rest: what the far end heard
before, e.g. prompts).  Prints one line; exit 0 when it passes."""
import json
import sys


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    need = float(argv[3]) if len(argv) > 3 else 2.0
    sent = open(argv[2], "rb").read()
    loop = sent + sent
    pkts = []
    with open(argv[1]) as f:
        for line in f:
            if line.strip():
                j = json.loads(line)
                if j["pt"] in (0, 8) and j["payload"]:
                    pkts.append(bytes.fromhex(j["payload"]))
    found, first, in_order, last = 0, None, 0, -1
    for i, p in enumerate(pkts):
        at = loop.find(p)
        if at < 0:
            continue
        found += 1
        if first is None:
            first = i
        at %= len(sent)
        if at > last or (last - at) > len(sent) // 2:   # forward, or the loop wrapped
            in_order += 1
        last = at
    after = len(pkts) - first if first is not None else 0
    secs = in_order * 0.02
    ok = first is not None and secs >= need and found >= 0.9 * after
    print("%d audio packets received, %d found byte for byte in the sent stream (%d in order,"
          " %.2f s) of %d from the first one found%s" % (len(pkts), found, in_order, secs, after,
                                                         "" if ok else "; FAILED: need %.1f s, 90%%" % need))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
