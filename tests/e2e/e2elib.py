"""e2elib.py — helpers shared by the end-to-end test tools (python3 stdlib only).

G.711 (ITU-T G.711, the classic Sun reference algorithms, so the results match any
standard table implementation), 8 kHz PCM16 WAV reading and writing, RTP header
parsing, pcap reading (Ethernet / Linux cooked / raw IP captures of UDP), and CDR
retrieval from a running engine (`hotline ctl cdr --json`)."""
import json
import os
import struct
import subprocess
import sqlite3
import time
import wave

# ---- G.711 ------------------------------------------------------------------------------
_ULAW_BIAS = 0x84


def _top_bit(v):
    return v.bit_length() - 1


def ulaw_encode_sample(linear):
    """16-bit linear -> u-law byte, as spandsp's linear_to_ulaw (what the engine uses)."""
    if linear < 0:
        linear = _ULAW_BIAS - linear
        mask = 0x7F
    else:
        linear = _ULAW_BIAS + linear
        mask = 0xFF
    seg = _top_bit(linear | 0xFF) - 7
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((linear >> (seg + 3)) & 0xF)) ^ mask


def alaw_encode_sample(linear):
    """16-bit linear -> A-law byte, as spandsp's linear_to_alaw."""
    if linear >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        linear = -linear - 1
    seg = _top_bit(linear | 0xFF) - 7
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((linear >> (seg + 3 if seg else 4)) & 0x0F)) ^ mask


def ulaw_decode_sample(u):
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + _ULAW_BIAS
    t <<= (u & 0x70) >> 4
    return (_ULAW_BIAS - t) if (u & 0x80) else (t - _ULAW_BIAS)


def alaw_decode_sample(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t += 0x108
        t <<= seg - 1
    return t if (a & 0x80) else -t


ULAW_DEC = [ulaw_decode_sample(i) for i in range(256)]
ALAW_DEC = [alaw_decode_sample(i) for i in range(256)]


def encode(samples, codec):
    f = ulaw_encode_sample if codec == "PCMU" else alaw_encode_sample
    return bytes(f(s) for s in samples)


def decode(data, codec):
    table = ULAW_DEC if codec == "PCMU" else ALAW_DEC
    return [table[b] for b in data]


# ---- WAV --------------------------------------------------------------------------------
def read_wav(path):
    """-> (rate, channels, samples) for a PCM16 WAV (other widths: ValueError)."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError("%s: %d-byte samples, want 16-bit PCM" % (path, w.getsampwidth()))
        n = w.getnframes()
        raw = w.readframes(n)
        ch = w.getnchannels()
        rate = w.getframerate()
    samples = list(struct.unpack("<%dh" % (len(raw) // 2), raw))
    if ch > 1:
        samples = samples[::ch]
    return rate, ch, samples


def write_wav(path, samples, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<%dh" % len(samples), *samples))


# ---- RTP and pcap ---------------------------------------------------------------------
def parse_rtp(pkt):
    """-> dict(pt, m, seq, ts, ssrc, payload) or None if not RTP v2."""
    if len(pkt) < 12 or (pkt[0] >> 6) != 2:
        return None
    cc = pkt[0] & 0x0F
    off = 12 + 4 * cc
    if pkt[0] & 0x10:  # header extension
        if len(pkt) < off + 4:
            return None
        off += 4 + 4 * struct.unpack(">H", pkt[off + 2:off + 4])[0]
    end = len(pkt)
    if pkt[0] & 0x20 and end > off:  # padding
        end -= pkt[-1]
    seq, ts, ssrc = struct.unpack(">HII", pkt[2:12])
    return {"pt": pkt[1] & 0x7F, "m": pkt[1] >> 7, "seq": seq, "ts": ts, "ssrc": ssrc,
            "payload": pkt[off:end]}


def read_pcap_udp(path):
    """-> [(time, udp_payload)] for every UDP/IPv4 packet of a classic pcap file."""
    d = open(path, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(e + "I", d[20:24])[0]
    l2 = {1: 14, 113: 16, 101: 0, 228: 0}.get(linktype)
    if l2 is None:
        raise ValueError("%s: link type %d not handled" % (path, linktype))
    off, out = 24, []
    while off + 16 <= len(d):
        ts, tus, incl, _ = struct.unpack(e + "IIII", d[off:off + 16])
        off += 16
        p = d[off:off + incl]
        off += incl
        ip = p[l2:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        out.append((ts + tus / 1e6, ip[ihl + 8:]))
    return out


def read_sink(path):
    """Packets recorded by rtpsink.py: list of dicts with t and the parse_rtp fields."""
    pkts = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            j = json.loads(line)
            j["payload"] = bytes.fromhex(j["payload"])
            pkts.append(j)
    return pkts


# ---- CDRs ---------------------------------------------------------------------------------
def _cdrs_from_ctl_output(out):
    out = out.strip()
    if not out:
        return []
    try:
        j = json.loads(out)
    except ValueError:
        j = [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]
    if isinstance(j, dict):
        j = j.get("cdrs", j.get("cdr", [j]))
    return j


def _cdrs_from_db(data_dir, last):
    """Direct read of DATA/hotline.db, shaped like hl_cdr_to_json (fallback only)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "hotline.db"), uri=True,
                         timeout=5)
    db.row_factory = sqlite3.Row
    rows = db.execute("SELECT * FROM (SELECT * FROM cdr ORDER BY id DESC LIMIT ?) ORDER BY id",
                      (last,)).fetchall()
    db.close()
    out = []
    for r in rows:
        c = dict(r)
        for k in ("start", "answer", "end"):
            c[k + "_epoch"] = c.pop(k + "_time")
            c[k] = c[k + "_epoch"]
        c["prompts"] = c["prompts"].split()
        c["menus"] = c["menus"].split()
        c["rtp"] = {"sent": c.pop("rtp_sent"), "received": c.pop("rtp_received"),
                    "lost": c.pop("rtp_lost"), "jitter_ms": c.pop("rtp_jitter_ms")}
        out.append(c)
    return out


def get_cdrs(hotline, data_dir, last=50):
    """Newest `last` CDRs (oldest first).  Through `hotline ctl` when the engine runs; from
    the database file when it does not (e.g. after it stopped).  -> (cdrs, source)."""
    err = ""
    try:
        p = subprocess.run([hotline, "ctl", "--data", data_dir, "cdr", "--last", str(last),
                            "--json"], capture_output=True, text=True, timeout=10)
        if p.returncode == 0:
            return _cdrs_from_ctl_output(p.stdout), "ctl"
        err = "ctl exit %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[:300])
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        err = "ctl: %s" % e
    if os.path.exists(os.path.join(data_dir, "hotline.db")):
        return _cdrs_from_db(data_dir, last), "db (" + err + ")"
    raise RuntimeError("no CDRs: " + err)


def wait_cdrs(hotline, data_dir, pred, count=1, timeout=8.0, last=200):
    """Polls until at least `count` CDRs satisfy pred; -> (matching, all, source)."""
    deadline = time.time() + timeout
    while True:
        try:
            cdrs, src = get_cdrs(hotline, data_dir, last)
        except RuntimeError as e:
            cdrs, src = [], str(e)
        match = [c for c in cdrs if pred(c)]
        if len(match) >= count or time.time() > deadline:
            return match, cdrs, src
        time.sleep(0.25)
