#!/usr/bin/env python3
"""regflood.py — a REGISTER flood from one source (issue 8, "bad input"): digest answers
with a wrong password for USERS (cycled), as fast as the engine answers, for SECONDS.

  regflood.py HOST PORT SRC USERS SECONDS

Each REGISTER is challenged (401), then answered with the challenge and a wrong password.
Prints one JSON line: {"sent", "answers": {code: n}, "unanswered"}.  Loopback only."""
import json
import socket
import sys
import time
import uuid

from register import answer, challenges, parse


def main(argv):
    host, port, src, users, secs = argv[1], int(argv[2]), argv[3], argv[4].split(","), float(argv[5])
    if not host.startswith("127.") or not src.startswith("127."):
        sys.exit("regflood.py: loopback addresses only")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(0.2)
    sport = s.getsockname()[1]
    uri = "sip:%s:%d" % (host, port)
    sent, codes, unanswered, n = 0, {}, 0, 0
    end = time.time() + secs
    while time.time() < end:
        user = users[n % len(users)]
        n += 1
        callid, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
        auth = None
        for cseq in (1, 2):
            req = ("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n"
                   "Call-ID: %s\r\nCSeq: %d REGISTER\r\nContact: <sip:%s@%s:%d>\r\nExpires: 300\r\n%s"
                   "Content-Length: 0\r\n\r\n"
                   % (uri, src, sport, uuid.uuid4().hex[:12], user, host, tag, user, host, callid, cseq,
                      user, src, sport, "Authorization: %s\r\n" % auth if auth else ""))
            s.sendto(req.encode(), (host, port))
            sent += 1
            try:
                code, hdrs, head = parse(s.recv(65535))
            except socket.timeout:
                unanswered += 1
                break
            codes[str(code)] = codes.get(str(code), 0) + 1
            ch = challenges(head)
            if code != 401 or not ch or auth:
                break
            auth = answer(ch[0], "MD5", "REGISTER", uri, user, "not-the-password")
    print(json.dumps({"sent": sent, "answers": codes, "unanswered": unanswered}), flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
