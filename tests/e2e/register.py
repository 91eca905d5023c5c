#!/usr/bin/env python3
"""register.py — an agent's phone registering with digest auth, for t26 (issue 8 item 1).

  register.py HOST PORT SRC SPORT USER PASSWORD EXPIRES [OPTIONS...]

Sends REGISTER for sip:USER@HOST with Contact <sip:USER@SRC:SPORT> and Expires EXPIRES,
answers the 401 with the challenge of the algorithm asked (MD5 or SHA-256), and prints one
JSON line per exchange: {"step", "code", "headers"}.  Options:
  alg=SHA-256|MD5   which of the offered challenges to answer (default MD5)
  replay            after the answered REGISTER, send the same Authorization again (a new
                    transaction with the same nonce and nc): it must be refused
  star              Contact: * (with Expires 0: remove every binding)
  noauth            only the first REGISTER (the challenge)
Loopback addresses only; each wait is bounded."""
import hashlib
import json
import re
import socket
import sys
import uuid


def challenges(text):
    return [v.strip() for k, v in (l.split(":", 1) for l in text.split("\r\n")[1:] if ":" in l)
            if k.strip().lower() == "www-authenticate"]


def parse(data):
    text = data.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    code = int(lines[0].split(" ")[1])
    hdrs = {}
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return code, hdrs, head


def answer(challenge, alg, method, uri, user, password, nc="00000001"):
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    h = (lambda t: hashlib.sha256(t.encode()).hexdigest()) if alg == "SHA-256" else \
        (lambda t: hashlib.md5(t.encode()).hexdigest())
    ha1, ha2, cnonce = h("%s:%s:%s" % (user, p["realm"], password)), h("%s:%s" % (method, uri)), uuid.uuid4().hex[:8]
    resp = h("%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], nc, cnonce, ha2))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, qop=auth, nc=%s, cnonce="%s"' % (user, p["realm"], p["nonce"], uri, resp, alg, nc, cnonce))


def main(argv):
    host, port, src, sport, user, password, expires = argv[1:8]
    opts = argv[8:]
    if not host.startswith("127.") or not src.startswith("127."):
        sys.exit("register.py: loopback addresses only")
    port, sport = int(port), int(sport)
    alg = next((o.split("=", 1)[1] for o in opts if o.startswith("alg=")), "MD5")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, sport))
    s.settimeout(3)
    callid, tag, uri = uuid.uuid4().hex, uuid.uuid4().hex[:8], "sip:%s:%d" % (host, port)
    contact = "*" if "star" in opts else "<sip:%s@%s:%d>" % (user, src, sport)

    def register(cseq, auth=None):
        req = ("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n"
               "Call-ID: %s\r\nCSeq: %d REGISTER\r\nContact: %s\r\nExpires: %s\r\n%s"
               "Content-Length: 0\r\n\r\n"
               % (uri, src, sport, uuid.uuid4().hex[:12], user, host, tag, user, host, callid, cseq,
                  contact, expires, "Authorization: %s\r\n" % auth if auth else ""))
        s.sendto(req.encode(), (host, port))
        code, hdrs, head = parse(s.recv(65535))
        return code, hdrs

    def show(step, code, hdrs):
        print(json.dumps({"step": step, "code": code, "headers": hdrs}), flush=True)

    code, hdrs = register(1)
    show("challenge", code, hdrs)
    if code != 401 or "noauth" in opts:
        return 0
    ch = [c for c in hdrs.get("www-authenticate", []) if ("algorithm=%s" % alg) in c]
    if not ch:
        show("no-challenge-for-" + alg, 0, {})
        return 1
    auth = answer(ch[0], alg, "REGISTER", uri, user, password)
    code, hdrs = register(2, auth)
    show("answer", code, hdrs)
    if "replay" in opts:
        code, hdrs = register(3, auth)
        show("replay", code, hdrs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
