#!/usr/bin/env python3
"""bench/agentfarm.py — the agents' phones of `make bench` (stages 5 and 7): one process
that registers many agent accounts with digest auth and answers the calls the engine's ACD
rings them with, echoing their RTP.

  agentfarm.py ENGINE_HOST ENGINE_PORT FARM_HOST SIP_PORT RTP_PORT PASSWORD_FORMAT

One SIP socket carries every phone (each agent's Contact is sip:NUMBER@FARM_HOST:SIP_PORT,
as phones behind one SBC would be): the engine rings an agent at the address its REGISTER
came from.  One phone may hold any number of calls, but the ACD gives an agent one call at
a time, so N calls at once need N agents.  Every call's SDP answer names the one RTP
socket (RTP_PORT, PCMU), served by a child process that sends each packet straight back to
where it came from (the engine's port of that leg) and measures, per leg, how far each
packet's arrival strays from 20 ms after the previous one: the engine's relay jitter as a
phone sees it (the farm's own scheduling included).

Commands on standard input, one a line; each answer is one JSON line on standard output:
  register FIRST COUNT   REGISTER agents FIRST .. FIRST+COUNT-1 (password: PASSWORD_FORMAT
                         % number), at most WINDOW at once, each challenged (401) and
                         answered with MD5 digest; answers when all are done:
                         {"event": "registered", "count", "failed", "seconds", "rate", "codes"}
  reset                  zero the RTP figures (a measurement window starts)
  stats                  {"event": "stats", SIP counters, "rtp": {packets, legs, jitter_us
                         p50/p99/max, over_5ms}}
  quit                   the stats, then exit
Loopback only: a bench tool."""
import ctypes
import hashlib
import json
import os
import re
import select
import signal
import socket
import sys
import time
import uuid

WINDOW = 50                 # REGISTER transactions in flight at once
RETRY_S = 2.0               # an unanswered REGISTER step is sent again after this
TRIES = 5
EXPIRES = 3600              # longer than a bench run: no re-REGISTER needed
FRAME_NS = 20_000_000       # PCMU at 20 ms: one packet per leg per tick
BUCKET_US = 50              # jitter histogram resolution
BUCKETS = 2000              # up to 100 ms; beyond counts in the last bucket
SOCKBUF = 4 * 1024 * 1024
PR_SET_PDEATHSIG = 1        # prctl(2)
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def parse(data):
    """(first line, {lower header: [values]}) of a SIP message."""
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    hdrs = {}
    for line in head[1:]:
        k, sep, v = line.partition(":")
        if sep:
            k = k.strip().lower()
            hdrs.setdefault(COMPACT.get(k, k), []).append(v.strip())
    return head[0], hdrs


def digest(challenge, method, uri, user, password):
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    h = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
    ha1, ha2, cnonce, nc = h("%s:%s:%s" % (user, p["realm"], password)), h("%s:%s" % (method, uri)), \
        uuid.uuid4().hex[:8], "00000001"
    resp = h("%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], nc, cnonce, ha2))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=MD5, qop=auth, nc=%s, cnonce="%s"' % (user, p["realm"], p["nonce"], uri, resp, nc, cnonce))


# ---- the RTP echo (a child process: the packets never wait for SIP work) ----------------

def percentile(hist, total, q):
    if not total:
        return 0
    want, seen = q * total, 0
    for i, n in enumerate(hist):
        seen += n
        if seen >= want:
            return i * BUCKET_US
    return (len(hist) - 1) * BUCKET_US


def rtp_echo(sock, report_w):
    buf = bytearray(2048)
    view = memoryview(buf)
    st = {"hist": [0] * BUCKETS, "last": {}, "packets": 0, "errors": 0}

    def reset(*_):
        st["hist"], st["last"], st["packets"], st["errors"] = [0] * BUCKETS, {}, 0, 0

    def report(*_):
        hist, n = st["hist"], sum(st["hist"])
        over = sum(hist[5000 // BUCKET_US:])
        os.write(report_w, (json.dumps({
            "packets": st["packets"], "errors": st["errors"], "legs": len(st["last"]), "intervals": n,
            "jitter_us": {"p50": percentile(hist, n, 0.50), "p99": percentile(hist, n, 0.99),
                          "max": max((i for i, c in enumerate(hist) if c), default=0) * BUCKET_US},
            "over_5ms": over}) + "\n").encode())

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)   # the farm gone, however: the echo too
    if os.getppid() == 1:
        os._exit(0)                              # it went before prctl took
    signal.signal(signal.SIGUSR1, reset)
    signal.signal(signal.SIGUSR2, report)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    recv, send, now = sock.recvfrom_into, sock.sendto, time.monotonic_ns
    while True:
        try:
            n, addr = recv(buf)
        except InterruptedError:
            continue
        t = now()
        try:
            send(view[:n], addr)
        except OSError:
            st["errors"] += 1
        last = st["last"]
        prev = last.get(addr)
        last[addr] = t
        st["packets"] += 1
        if prev is not None:
            d = abs(t - prev - FRAME_NS) // (BUCKET_US * 1000)
            st["hist"][d if d < BUCKETS else BUCKETS - 1] += 1


# ---- SIP ----------------------------------------------------------------------------------

class Farm:
    def __init__(self, engine, host, sip_port, rtp_port, pw_format):
        self.engine, self.host, self.sip_port, self.rtp_port = engine, host, sip_port, rtp_port
        self.pw_format = pw_format
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKBUF)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKBUF)
        self.s.bind((host, sip_port))
        self.s.setblocking(False)
        self.reg_uri = "sip:%s:%d" % engine
        self.pending, self.flight = [], {}       # numbers to register; call-id -> transaction
        self.reg = None                          # the running `register` command's figures
        self.dialogs = {}                        # call-id -> our 200 to its INVITE
        self.c = dict(invites=0, answered=0, retransmits=0, acks=0, byes=0, cancels=0, options=0,
                      other=0, unmatched=0)
        self.sdp = ("v=0\r\no=farm 1 1 IN IP4 {h}\r\ns=-\r\nc=IN IP4 {h}\r\nt=0 0\r\n"
                    "m=audio {p} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n").format(h=host, p=rtp_port)
        self.child, self.report_r = None, None

    def send(self, text, addr=None):
        try:
            self.s.sendto(text.encode(), addr or self.engine)
        except BlockingIOError:
            pass                                 # the engine retransmits; so do we

    # -- registering --

    def register_cmd(self, first, count):
        self.pending = [str(n) for n in range(first, first + count)][::-1]
        self.reg = dict(count=count, ok=0, failed=0, codes={}, start=time.monotonic())
        self.fill_window()

    def send_register(self, t, auth=None):
        t["cseq"] += 1
        t["sent"] = time.monotonic()
        user, h = t["user"], self.engine[0]
        self.send("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\n"
                  "CSeq: %d REGISTER\r\nContact: <sip:%s@%s:%d>\r\nExpires: %d\r\n%sUser-Agent: hotline-bench-farm\r\n"
                  "Content-Length: 0\r\n\r\n"
                  % (self.reg_uri, self.host, self.sip_port, uuid.uuid4().hex[:16], user, h, t["tag"], user, h,
                     t["callid"], t["cseq"], user, self.host, self.sip_port, EXPIRES,
                     "Authorization: %s\r\n" % auth if auth else ""))

    def fill_window(self):
        while self.pending and len(self.flight) < WINDOW:
            user = self.pending.pop()
            t = dict(user=user, callid="reg-%s-%s" % (user, uuid.uuid4().hex[:10]), tag=uuid.uuid4().hex[:8],
                     cseq=0, tries=1)
            self.flight[t["callid"]] = t
            self.send_register(t)
        if self.reg and not self.pending and not self.flight:
            r, secs = self.reg, time.monotonic() - self.reg["start"]
            out({"event": "registered", "count": r["count"], "ok": r["ok"], "failed": r["failed"],
                 "seconds": round(secs, 3), "rate": round(r["ok"] / secs, 1) if secs > 0 else 0, "codes": r["codes"]})
            self.reg = None

    def register_done(self, t, ok, code):
        del self.flight[t["callid"]]
        self.reg["ok" if ok else "failed"] += 1
        self.reg["codes"][str(code)] = self.reg["codes"].get(str(code), 0) + 1
        self.fill_window()

    def on_response(self, first, h):
        callid = h.get("call-id", [""])[0]
        t = self.flight.get(callid)
        if not t or not h.get("cseq", [""])[0].endswith("REGISTER"):
            self.c["unmatched"] += 1
            return
        code = int(first.split(" ", 2)[1])
        if int(h["cseq"][0].split()[0]) != t["cseq"] or code < 200:
            return                               # a late answer to a step sent again
        if code == 401 and "auth" not in t:
            ch = [c for c in h.get("www-authenticate", []) if "algorithm=MD5" in c or "algorithm" not in c]
            if not ch:
                self.register_done(t, False, "no-md5-challenge")
                return
            t["auth"] = digest(ch[0], "REGISTER", self.reg_uri, t["user"], self.pw_format % t["user"])
            self.send_register(t, t["auth"])
        else:
            self.register_done(t, code == 200, code)

    def retry_registers(self):
        now = time.monotonic()
        for t in list(self.flight.values()):
            if now - t["sent"] > RETRY_S:
                if t["tries"] >= TRIES:
                    self.register_done(t, False, "timeout")
                    continue
                t["tries"] += 1
                t.pop("auth", None)              # start again: the nonce may be stale by now
                self.send_register(t)

    # -- answering --

    def response(self, h, code, phrase, to_tag=None, extra="", body=""):
        to = h["to"][0]
        if to_tag and ";tag=" not in to:
            to += ";tag=" + to_tag
        vias = "".join("Via: %s\r\n" % v for v in h.get("via", []))
        return ("SIP/2.0 %d %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n%s"
                "Content-Length: %d\r\n\r\n%s" % (code, phrase, vias, h["from"][0], to, h["call-id"][0],
                                                  h["cseq"][0], extra, len(body), body))

    def on_request(self, first, h, addr):
        method, uri = first.split(" ", 2)[:2]
        callid = h.get("call-id", [""])[0]
        if method == "INVITE":
            ok = self.dialogs.get(callid)
            if ok:                               # the INVITE again (or a re-INVITE): the same answer
                self.c["retransmits"] += 1
                self.send(ok, addr)
                return
            self.c["invites"] += 1
            user = uri[4:].split("@", 1)[0]
            tag = uuid.uuid4().hex[:10]
            self.send(self.response(h, 180, "Ringing", tag), addr)
            ok = self.response(h, 200, "OK", tag,
                               "Contact: <sip:%s@%s:%d>\r\nContent-Type: application/sdp\r\n" % (user, self.host, self.sip_port),
                               self.sdp)
            self.dialogs[callid] = ok
            self.c["answered"] += 1
            self.send(ok, addr)
        elif method == "ACK":
            self.c["acks"] += 1
        elif method == "BYE":
            self.c["byes" if self.dialogs.pop(callid, None) else "retransmits"] += 1
            self.send(self.response(h, 200, "OK"), addr)
        elif method == "CANCEL":
            self.c["cancels"] += 1
            self.send(self.response(h, 200, "OK"), addr)
        else:
            self.c["options" if method == "OPTIONS" else "other"] += 1
            self.send(self.response(h, 200, "OK"), addr)

    def on_packet(self, data, addr):
        try:
            first, h = parse(data)
            if first.startswith("SIP/2.0 "):
                self.on_response(first, h)
            elif "call-id" in h and "cseq" in h and "via" in h:
                self.on_request(first, h, addr)
        except (ValueError, IndexError, KeyError):
            self.c["other"] += 1

    # -- the RTP child --

    def start_rtp(self):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKBUF)
        rtp.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKBUF)
        rtp.bind((self.host, self.rtp_port))
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            self.s.close()
            os.close(r)
            try:
                rtp_echo(rtp, w)
            finally:
                os._exit(0)
        rtp.close()
        os.close(w)
        self.child, self.report_r = pid, r

    def rtp_stats(self):
        os.kill(self.child, signal.SIGUSR2)
        ready, _, _ = select.select([self.report_r], [], [], 3.0)
        if not ready:
            return {"error": "the RTP echo did not answer"}
        line = b""
        while not line.endswith(b"\n"):
            line += os.read(self.report_r, 65536)
        return json.loads(line.decode())

    def command(self, line):
        words = line.split()
        if not words:
            return True
        if words[0] == "register" and len(words) == 3:
            self.register_cmd(int(words[1]), int(words[2]))
        elif words[0] == "reset":
            os.kill(self.child, signal.SIGUSR1)
            out({"event": "reset"})
        elif words[0] in ("stats", "quit"):
            out(dict(event="stats", rtp=self.rtp_stats(), calls_open=len(self.dialogs), rtp_pid=self.child, **self.c))
            return words[0] != "quit"
        else:
            out({"event": "error", "line": line})
        return True

    def run(self):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))   # through `finally`: the child goes
        self.start_rtp()
        stdin = sys.stdin.fileno()
        running, typed = True, b""
        try:                                     # the child goes whatever ends the loop
            while running:
                ready, _, _ = select.select([self.s, stdin], [], [], 0.2)
                if self.s in ready:
                    for _ in range(256):
                        try:
                            data, addr = self.s.recvfrom(65535)
                        except BlockingIOError:
                            break
                        self.on_packet(data, addr)
                if stdin in ready:
                    chunk = os.read(stdin, 4096)
                    typed += chunk
                    while running and b"\n" in typed:
                        line, typed = typed.split(b"\n", 1)
                        running = self.command(line.decode())
                    running = running and bool(chunk)
                if self.flight:
                    self.retry_registers()
        finally:
            os.kill(self.child, signal.SIGTERM)
            os.waitpid(self.child, 0)


def main(argv):
    if len(argv) != 7:
        sys.exit(__doc__)
    ehost, eport, host, sport, rport, pw_format = argv[1:]
    if not ehost.startswith("127.") or not host.startswith("127."):
        sys.exit("agentfarm.py: loopback addresses only")
    Farm((ehost, int(eport)), host, int(sport), int(rport), pw_format).run()


if __name__ == "__main__":
    main(sys.argv)
