#!/usr/bin/env python3
"""checkrec.py RECORDING.wav SENT [MIN_SECONDS] — does a recording hold the audio sent?

SENT is either a WAV of the exact samples the sent G.711 decodes to (mkaudio.py stream
writes one beside the raw file) or a pcap of the RTP that was sent (its PCMU/PCMA payloads
are decoded).  The recording is cut into 10 ms windows; every window that is not silence
must appear exactly (sample for sample: G.711 decoding is exact) in the sent audio, in
increasing order (gaps are allowed: a jitter buffer may drop a packet).  Passes when at
least 90% of the recording's sound windows are found and they cover MIN_SECONDS (default
2.0).  Failing that, a correlation of at least 0.95 at the best alignment (a level change)
still passes, and says so."""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

WIN = 80            # samples per window: 10 ms
SILENT_MEAN = 50    # mean |sample| under which a window is silence (not compared)
MIN_CORR = 0.95     # when not sample-exact: the correlation that still counts as the same audio


def sent_samples(path):
    if path.endswith(".wav"):
        rate, _, s = e2elib.read_wav(path)
        return s
    out = []
    for _, udp in e2elib.read_pcap_udp(path):
        p = e2elib.parse_rtp(udp)
        if p and p["pt"] in (0, 8):
            out.extend(e2elib.decode(p["payload"], "PCMU" if p["pt"] == 0 else "PCMA"))
    return out


def pack(samples):
    return struct.pack("<%dh" % len(samples), *samples)


def exact_windows(rec, ref):
    """-> (sound windows, found in order, found at all)."""
    refb = pack(ref)
    sound = found = in_order = 0
    last = -1
    for i in range(0, len(rec) - WIN + 1, WIN):
        w = rec[i:i + WIN]
        if sum(abs(x) for x in w) / WIN < SILENT_MEAN:
            continue
        sound += 1
        wb = pack(w)
        j = refb.find(wb)
        while j >= 0 and j % 2:
            j = refb.find(wb, j + 1)
        if j < 0:
            continue
        found += 1
        # prefer an occurrence after the last one (the signal does not repeat, but be safe)
        k = j
        while k >= 0 and k // 2 <= last:
            k = refb.find(wb, k + 2)
            while k >= 0 and k % 2:
                k = refb.find(wb, k + 1)
        if k >= 0:
            in_order += 1
            last = k // 2
    return sound, in_order, found


def features(s, n=WIN):
    """Per 10 ms window: RMS level and zero-crossing count (a chirp's ZCR marks time)."""
    rms, zcr = [], []
    for i in range(0, len(s) - n + 1, n):
        w = s[i:i + n]
        rms.append(math.sqrt(sum(x * x for x in w) / n))
        zcr.append(sum(1 for a, b in zip(w, w[1:]) if (a < 0) != (b < 0)))
    return rms, zcr


def corr(a, b):
    n = min(len(a), len(b))
    if n == 0:
        return 0.0
    a, b = a[:n], b[:n]
    ma, mb = sum(a) / n, sum(b) / n
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    da = math.sqrt(sum((x - ma) ** 2 for x in a))
    db = math.sqrt(sum((y - mb) ** 2 for y in b))
    return num / (da * db) if da and db else 0.0


def best_correlation(rec, ref):
    """Coarse lag from 10 ms features of the recording's sound part, refined on samples;
    -> (correlation, lag in sent samples, recording offset)."""
    start = 0
    while start < len(rec) - WIN and sum(abs(x) for x in rec[start:start + WIN]) / WIN < SILENT_MEAN:
        start += WIN
    body = rec[start:]
    rr, rz = features(body)
    fr, fz = features(ref)
    span = min(len(rr), 150)
    if span < 10 or len(fr) < span:
        return 0.0, 0, start
    best = (-2.0, 0)
    for lag in range(0, len(fr) - span + 1):
        c = corr(rr[:span], fr[lag:lag + span]) + corr(rz[:span], fz[lag:lag + span])
        if c > best[0]:
            best = (c, lag)
    base = best[1] * WIN
    seg = body[:min(len(body), 2000)]
    top = (-2.0, base)
    for lag in range(max(0, base - WIN * 2), min(len(ref) - len(seg), base + WIN * 2) + 1):
        c = corr(seg, ref[lag:lag + len(seg)])
        if c > top[0]:
            top = (c, lag)
    return top[0], top[1], start


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    need_s = float(argv[3]) if len(argv) > 3 else 2.0
    rate, ch, rec = e2elib.read_wav(argv[1])
    ref = sent_samples(argv[2])
    info = "recording %s: %d Hz, %d channel(s), %.2f s; sent audio %.2f s" % (
        os.path.basename(argv[1]), rate, ch, len(rec) / max(rate, 1), len(ref) / 8000)
    if rate != 8000:
        print(info + "; FAILED: want 8 kHz")
        return 1
    sound, in_order, found = exact_windows(rec, ref)
    covered = in_order * WIN / 8000
    print("%s; %d sound windows of 10 ms, %d found exactly in the sent audio (%d in order),"
          " covering %.2f s" % (info, sound, found, in_order, covered))
    if sound and in_order >= 0.9 * sound and covered >= need_s:
        return 0
    c, lag, at = best_correlation(rec, ref)
    if c >= MIN_CORR and (len(rec) - at) / 8000 >= need_s:
        print("not sample-exact, but correlation %.3f with the sent audio (recording sample %d ="
              " sent sample %d): accepted" % (c, at, lag))
        return 0
    print("FAILED: exact match too poor; best correlation %.3f (recording sample %d = sent"
          " sample %d), need %.2f" % (c, at, lag, MIN_CORR))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
