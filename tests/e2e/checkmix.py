#!/usr/bin/env python3
"""checkmix.py RECORDING.wav A.wav B.wav [MIN_SECONDS] — does a mixed recording hold both
parties of a call?

A.wav and B.wav: the exact samples each party sent (mkaudio.py stream writes them beside
the raw G.711), sent from their start in a loop, 20 ms (160 samples) a packet.  The
engine's mixed-mono recorder writes, per 20 ms frame, the sum (saturated) of the two
legs' current decoded packets, so every frame of the recording is 0, one party's frame,
or the sum of one frame of each.  Each frame that is not silence is explained that way
(the last pair's successors are tried first, then every pair); passes when at least 90% of
the sound frames are explained and the frames with both parties cover MIN_SECONDS
(default 2.0).  Prints one line; exit 0 when it passes."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

N = 160
SILENT_MEAN = 50


def frames(samples):
    return [tuple(samples[i:i + N]) for i in range(0, len(samples) - N + 1, N)]


def sat(v):
    return 32767 if v > 32767 else -32768 if v < -32768 else v


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    need = float(argv[4]) if len(argv) > 4 else 2.0
    rate, ch, rec = e2elib.read_wav(argv[1])
    if rate != 8000 or ch != 1:
        print("FAILED: %s is %d Hz, %d channels; want 8 kHz mono" % (argv[1], rate, ch))
        return 1
    fa, fb = frames(e2elib.read_wav(argv[2])[2]), frames(e2elib.read_wav(argv[3])[2])
    ia = {f: i for i, f in reversed(list(enumerate(fa)))}
    ib = {f: i for i, f in reversed(list(enumerate(fb)))}
    sound = only_a = only_b = both = 0
    last = None
    for r in frames(rec):
        if sum(abs(x) for x in r) / N < SILENT_MEAN:
            continue
        sound += 1
        if r in ia:
            only_a += 1
            continue
        if r in ib:
            only_b += 1
            continue
        tries = []
        if last:
            tries = [(last[0] + da) % len(fa) for da in (1, 0, 2)]
        tries += range(len(fa))
        for ka in tries:
            d = tuple(x - y for x, y in zip(r, fa[ka]))
            if d in ib and tuple(sat(x + y) for x, y in zip(fa[ka], fb[ib[d]])) == r:
                both += 1
                last = (ka, ib[d])
                break
    explained = only_a + only_b + both
    ok = sound and explained >= 0.9 * sound and both * 0.02 >= need
    print("%s: %d sound frames of 20 ms: %d both parties (%.2f s), %d only A, %d only B, %d"
          " unexplained%s" % (os.path.basename(argv[1]), sound, both, both * 0.02, only_a, only_b,
                              sound - explained, "" if ok else "; FAILED: need 90%% and %.1f s of both" % need))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
