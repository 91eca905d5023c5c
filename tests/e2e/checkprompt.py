#!/usr/bin/env python3
"""checkprompt.py SINK.jsonl PROMPT.wav [MIN_RATE MAX_RATE [PART_SECONDS]] — did the prompt
arrive as RTP?

Takes the audio packets rtpsink.py recorded (payload type 0 = PCMU or 8 = PCMA), joins
their payloads in arrival order, and looks for the G.711 encoding of the prompt's samples
(encoded as spandsp does, like the engine) in that byte stream.  Passes when the whole
prompt is there in order (at least 99% of its bytes equal, the rest allowing for an
encoder rounding difference) and the packets that carried it arrived at MIN..MAX per
second (default 45..55: 20 ms packets).  With PART_SECONDS, the audio is a stream that was
cut in at an unknown point (a bridge forwarding a caller's audio): then a stretch of at
least PART_SECONDS of it must arrive, in order, instead of the whole.  Prints what it found
either way."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

CODECS = {0: "PCMU", 8: "PCMA"}
PROBE = 160  # bytes looked up exactly to align: one 20 ms frame


def locate(stream, expected):
    """Offset in stream where expected starts, found by exact search of one of its first
    frames (the prompt's first frame may have been mixed or cut); -1 if none."""
    for k in range(0, min(len(expected) - PROBE, 40 * PROBE), PROBE // 2):
        i = stream.find(expected[k:k + PROBE])
        if i >= 0 and i - k >= 0:
            return i - k
    return -1


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    lo = float(argv[3]) if len(argv) > 3 else 45.0
    hi = float(argv[4]) if len(argv) > 4 else 55.0
    pkts = [p for p in e2elib.read_sink(argv[1]) if p["pt"] in CODECS]
    if not pkts:
        allp = e2elib.read_sink(argv[1])
        print("no G.711 packets received (%d RTP packets in all%s)"
              % (len(allp), ", payload types %s" % sorted({p["pt"] for p in allp}) if allp else ""))
        return 1
    codec = CODECS[pkts[0]["pt"]]
    rate, _, samples = e2elib.read_wav(argv[2])
    if rate != 8000:
        print("prompt %s is %d Hz, want 8000" % (argv[2], rate))
        return 1
    expected = e2elib.encode(samples, codec)
    stream = b"".join(p["payload"] for p in pkts)
    # byte offset of each packet's start in the stream
    starts, o = [], 0
    for p in pkts:
        starts.append(o)
        o += len(p["payload"])
    part = float(argv[5]) if len(argv) > 5 else 0.0
    if part > 0:
        # where does the received stream join the reference?  Look a received frame up,
        # then keep the run of frames that goes on matching from there.
        for k in range(0, min(len(stream) - PROBE, 40 * PROBE), PROBE // 2):
            j = expected.find(stream[k:k + PROBE])
            if j >= 0:
                break
        else:
            print("none of the first received frames is in the reference (%d %s packets)"
                  % (len(pkts), codec))
            return 1
        n = 0
        while k + n + PROBE <= len(stream) and j + n + PROBE <= len(expected):
            same = sum(1 for x, y in zip(stream[k + n:k + n + PROBE], expected[j + n:j + n + PROBE])
                       if x == y)
            if same < 0.95 * PROBE:
                break
            n += PROBE
        if n < part * 8000:
            print("only %.2f s of the reference arrived in order, want %.1f s" % (n / 8000, part))
            return 1
        stream, starts = stream[k:k + n], [x - k for x in starts]
        keep = [i for i, x in enumerate(starts) if 0 <= x < n]
        pkts, starts = [pkts[i] for i in keep], [starts[i] for i in keep]
        expected = expected[j:j + n]
    off = locate(stream, expected)
    if off < 0:
        print("prompt not found in %d %s packets (%d bytes); first payload bytes: %s"
              % (len(pkts), codec, len(stream), pkts[0]["payload"][:16].hex()))
        return 1
    got = stream[off:off + len(expected)]
    equal = sum(1 for a, b in zip(got, expected) if a == b)
    short = len(expected) - len(got)
    # the packets carrying the prompt
    first = max([i for i, s in enumerate(starts) if s <= off] or [0])
    last = max(i for i, s in enumerate(starts) if s < off + len(got))
    n = last - first + 1
    dt = pkts[last]["t"] - pkts[first]["t"]
    prate = (n - 1) / dt if dt > 0 else float("inf")
    sizes = sorted({len(p["payload"]) for p in pkts[first:last + 1]})
    seqs = [p["seq"] for p in pkts[first:last + 1]]
    seq_gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if (b - a) & 0xFFFF != 1)
    tss = [p["ts"] for p in pkts[first:last + 1]]
    ts_steps = sorted({(b - a) & 0xFFFFFFFF for a, b in zip(tss, tss[1:])})
    print("%s audio at byte %d of %d: %d/%d bytes equal%s; %d packets (payload %s bytes) "
          "in %.3f s = %.1f packets/s; seq gaps %d; timestamp steps %s"
          % (codec, off, len(stream), equal, len(expected),
             " (%d bytes missing at the end)" % short if short else "", n, sizes, dt, prate,
             seq_gaps, ts_steps[:5]))
    ok = True
    if short > 0 or equal < 0.99 * len(expected):
        print("FAILED: the prompt's bytes did not all arrive in order")
        ok = False
    if not lo <= prate <= hi:
        print("FAILED: packet rate %.1f/s outside %.0f..%.0f" % (prate, lo, hi))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
