#!/usr/bin/env python3
"""mkaudio.py — deterministic test audio for the end-to-end tests.

  mkaudio.py prompt OUT.wav [SECONDS]      an 8 kHz PCM16 prompt (chirp + noise, never
                                           silent, never periodic: aligns unambiguously)
  mkaudio.py stream OUT.ulaw SECONDS [pcmu|pcma] [SEED]
                                           raw G.711 bytes for SIPp's rtp_stream, plus
                                           OUT.ulaw.wav: the exact samples they decode to
                                           (SEED, default 11: another seed, another signal,
                                           e.g. the two parties of a call)
The signals come from a fixed-seed generator so every run produces the same bytes."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

RATE = 8000


def signal(seconds, seed, amp=9000):
    """Chirp 300->3000 Hz plus LCG noise, with a slowly varying envelope."""
    n = int(seconds * RATE)
    x = seed
    out = []
    for i in range(n):
        t = i / RATE
        f = 300 + 2700 * (t / max(seconds, 0.1))
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        noise = ((x >> 8) % 2001 - 1000) / 1000.0
        env = 0.6 + 0.4 * math.sin(2 * math.pi * 1.3 * t + seed)
        v = amp * env * (0.7 * math.sin(2 * math.pi * f * t * 0.5) + 0.3 * noise)
        out.append(max(-32768, min(32767, int(v))))
    return out


def main(argv):
    if len(argv) >= 3 and argv[1] == "prompt":
        secs = float(argv[3]) if len(argv) > 3 else 2.0
        e2elib.write_wav(argv[2], signal(secs, 7))
    elif len(argv) >= 4 and argv[1] == "stream":
        codec = {"pcmu": "PCMU", "pcma": "PCMA"}[(argv[4] if len(argv) > 4 else "pcmu").lower()]
        seed = int(argv[5]) if len(argv) > 5 else 11
        data = e2elib.encode(signal(float(argv[3]), seed, amp=12000), codec)
        with open(argv[2], "wb") as f:
            f.write(data)
        e2elib.write_wav(argv[2] + ".wav", e2elib.decode(data, codec))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
