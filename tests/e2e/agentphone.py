#!/usr/bin/env python3
"""agentphone.py — an agent's phone for t27 (issue 8): registers with digest, places calls
that must answer the agent's digest challenge, transfers by REFER, answers qualify.

  agentphone.py HOST PORT SRC SPORT USER PASSWORD ACTION [OPTIONS...]

ACTION:
  call DIALED      REGISTER (unless noreg), then INVITE DIALED: the 401's challenge is
                   answered (MD5) and the call taken (a 200 at once: taken as it is); refer=TARGET sends a REFER once the call
                   is up and reads the 202 and the NOTIFYs; the phone then waits for the
                   engine's BYE.  replay: afterwards an INVITE of a new call with the same
                   Authorization (same nonce and nc): it must be refused.  pw=WRONG answers
                   with another password (tries=N times).
  qualify SECONDS  REGISTER, answer OPTIONS for SECONDS, then fall silent (the socket stays
                   open and reads nothing) for silent=S seconds.
Prints one JSON line per step: {"step", "code", ...}.  Requests the engine sends while the
phone waits (OPTIONS, NOTIFY, BYE) get 200.  Loopback only; each wait is bounded."""
import json
import os
import socket
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from register import answer  # noqa: E402

SDP = ("v=0\r\no=agent 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
       "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")


def show(step, **kw):
    print(json.dumps(dict(step=step, **kw)), flush=True)


def headers_of(text):
    hdrs = {}
    for line in text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return hdrs


class Phone:
    def __init__(self, host, port, src, sport, user, password):
        self.host, self.port, self.src, self.sport = host, port, src, sport
        self.user, self.password = user, password
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, sport))
        self.requests = []       # requests the engine sent (method, text)

    def send(self, text):
        self.s.sendto(text.encode(), (self.host, self.port))

    def respond(self, req, code, phrase):
        h = headers_of(req)
        to = h["to"][0] if ";tag=" in h["to"][0] else h["to"][0] + ";tag=ph" + uuid.uuid4().hex[:6]
        vias = "".join("Via: %s\r\n" % v for v in h.get("via", []))
        self.send("SIP/2.0 %d %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                  "Content-Length: 0\r\n\r\n" % (code, phrase, vias, h["from"][0], to,
                                                 h["call-id"][0], h["cseq"][0]))

    def recv(self, timeout):
        """The next message within timeout: (text), or None."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(65535).decode("utf-8", "replace")
        except socket.timeout:
            return None

    def wait(self, want, timeout=5.0):
        """Waits for a response whose CSeq method is want (a final one) or for a request
        of method want; other requests get 200 (when answering) and are kept."""
        end = time.time() + timeout
        while time.time() < end:
            text = self.recv(max(0.05, end - time.time()))
            if text is None:
                continue
            if text.startswith("SIP/2.0 "):
                code = int(text.split(" ")[1])
                cseq = headers_of(text).get("cseq", ["0 X"])[0].split()[1]
                if cseq == want and code >= 200:
                    return code, text
                continue
            method = text.split(" ", 1)[0]
            self.requests.append((method, text))
            if method == want:
                return 0, text
            if method != "ACK":
                self.respond(text, 200, "OK")
        return None, None

    def request(self, method, ruri, callid, ftag, cseq, to_tag=None, extra="", body="",
                branch=None):
        branch = branch or "z9hG4bK" + uuid.uuid4().hex[:12]
        ctype = "Content-Type: application/sdp\r\n" if body else ""
        self.send("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n"
                  "From: <sip:%s@%s>;tag=%s\r\nTo: <%s>%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
                  "Contact: <sip:%s@%s:%d>\r\n%s%sContent-Length: %d\r\n\r\n%s"
                  % (method, ruri, self.src, self.sport, branch, self.user, self.host, ftag,
                     ruri if method != "REGISTER" else "sip:%s@%s" % (self.user, self.host),
                     ";tag=" + to_tag if to_tag else "", callid, cseq, method, self.user, self.src,
                     self.sport, extra, ctype, len(body), body))
        return branch

    def register(self, expires=300):
        uri, callid, tag = "sip:%s:%d" % (self.host, self.port), uuid.uuid4().hex, uuid.uuid4().hex[:8]
        self.request("REGISTER", uri, callid, tag, 1, extra="Expires: %d\r\n" % expires)
        code, text = self.wait("REGISTER")
        if code == 401:
            ch = [c for c in headers_of(text)["www-authenticate"] if "algorithm=MD5" in c][0]
            auth = answer(ch, "MD5", "REGISTER", uri, self.user, self.password)
            self.request("REGISTER", uri, callid, tag, 2,
                         extra="Expires: %d\r\nAuthorization: %s\r\n" % (expires, auth))
            code, text = self.wait("REGISTER")
        show("register", code=code)
        return code

    def ack(self, ruri, callid, ftag, cseq, to_tag, branch=None):
        self.request("ACK", ruri, callid, ftag, cseq, to_tag=to_tag, branch=branch)

    def invite(self, ruri, callid, ftag, cseq, auth=None):
        """One INVITE; its final code, the response, and (for a non-2xx) the ACK sent."""
        body = SDP.format(ip=self.src, port=self.sport + 2)
        extra = "Authorization: %s\r\n" % auth if auth else ""
        branch = self.request("INVITE", ruri, callid, ftag, cseq, extra=extra, body=body)
        code, text = self.wait("INVITE", 8)
        if code and code >= 300:
            to_tag = headers_of(text)["to"][0].split(";tag=")[1]
            self.ack(ruri, callid, ftag, cseq, to_tag, branch=branch)
        return code, text


def challenge_of(text):
    return [c for c in headers_of(text)["www-authenticate"] if "algorithm=MD5" in c][0]


def place_call(p, dialed, opts):
    ruri = "sip:%s@%s:%d" % (dialed, p.host, p.port)
    callid, ftag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
    code, text = p.invite(ruri, callid, ftag, 1)
    show("challenge", code=code, stale="stale=true" in (text or ""))
    if code not in (200, 401):
        return
    pw = opts.get("pw", p.password)
    cseq, auth = 1, None
    for _ in range(int(opts.get("tries", "1")) if code == 401 else 0):   # 200: a trunk's caller
        cseq += 1
        auth = answer(challenge_of(text), "MD5", "INVITE", ruri, p.user, pw)
        code, text = p.invite(ruri, callid, ftag, cseq, auth)
        show("answer", code=code)
        if code != 401:
            break
    if code != 200:
        return
    h = headers_of(text)
    to_tag = h["to"][0].split(";tag=")[1]
    target = h["contact"][0].strip("<>")
    p.ack(target, callid, ftag, cseq, to_tag)
    if "refer" in opts:
        time.sleep(0.5)
        cseq += 1
        p.request("REFER", target, callid, ftag, cseq, to_tag=to_tag,
                  extra="Refer-To: <sip:%s@%s>\r\n" % (opts["refer"], p.host))
        code, _ = p.wait("REFER")
        show("refer", code=code)
        for _ in range(2 if code == 202 else 0):
            _, note = p.wait("NOTIFY")
            if not note:
                break
            p.respond(note, 200, "OK")
            show("notify", frag=note.split("\r\n\r\n", 1)[1].split("\r\n")[0],
                 state=headers_of(note).get("subscription-state", [""])[0])
    _, bye = p.wait("BYE", 15)
    if bye:
        p.respond(bye, 200, "OK")
    show("bye", got=bool(bye))
    if "replay" in opts:   # a new call with the answer already used
        code, _ = p.invite(ruri, uuid.uuid4().hex, uuid.uuid4().hex[:8], 1, auth)
        show("replay", code=code)


def qualify(p, seconds, silent):
    answered, end = 0, time.time() + seconds
    while time.time() < end:
        text = p.recv(0.2)
        if text and text.startswith("OPTIONS "):
            p.respond(text, 200, "OK")
            answered += 1
    show("answered", count=answered)
    end = time.time() + silent
    heard = 0
    while time.time() < end:
        text = p.recv(0.2)
        heard += bool(text and text.startswith("OPTIONS "))
    show("silent", heard=heard)


def main(argv):
    host, port, src, sport, user, password, action = argv[1:8]
    rest = argv[8:]
    if not host.startswith("127.") or not src.startswith("127."):
        sys.exit("agentphone.py: loopback addresses only")
    p = Phone(host, int(port), src, int(sport), user, password)
    if action == "call":
        dialed, opts = rest[0], dict(o.split("=", 1) if "=" in o else (o, "") for o in rest[1:])
        if "noreg" not in opts and p.register() != 200:
            return 1
        place_call(p, dialed, opts)
    elif action == "qualify":
        opts = dict(o.split("=", 1) for o in rest[1:] if "=" in o)
        if p.register() != 200:
            return 1
        qualify(p, float(rest[0]), float(opts.get("silent", "5")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
