#!/usr/bin/env python3
"""badsip.py HOST PORT — malformed SIP at a running engine, over UDP and TCP.

Each case is sent from a fresh socket (so late retransmissions of one answer never count
for the next) and gets 0.3 s to be answered.  A case passes when it gets no answer or one
of the status codes it allows (400 for broken syntax; a few cases also allow the more
specific code RFC 3261 names, e.g. 505 for a wrong version, 513 for a message too large).
After each case an OPTIONS must still get 200, so a case that wedges the engine is named.
Prints one line per case; exit 0 when every case passed."""
import random
import re
import socket
import sys
import time

WAIT = 0.3
CALL = [0]


def headers(method="INVITE", uri=None, port=5060, cseq=None, callid=None, extra="", skip=(),
            body="", clen=None, proto="UDP"):
    CALL[0] += 1
    n = CALL[0]
    uri = uri or "sip:bad@127.0.0.1:%d" % port
    h = [
        ("Via", "SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bKbad%d" % (proto, n)),
        ("From", "<sip:fuzz@127.0.0.1>;tag=bad%d" % n),
        ("To", "<%s>" % uri),
        ("Call-ID", callid if callid is not None else "bad-%d-%d@127.0.0.1" % (n, time.time())),
        ("CSeq", cseq if cseq is not None else "1 %s" % method),
        ("Max-Forwards", "70"),
        ("Contact", "<sip:fuzz@127.0.0.1:9>"),
    ]
    lines = ["%s %s SIP/2.0" % (method, uri)]
    lines += ["%s: %s" % (k, v) for k, v in h if k not in skip]
    if extra:
        lines.append(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %s" % (clen if clen is not None else len(body.encode())))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def cases(port, proto):
    rnd = random.Random(12333)
    sdp_bad = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio notaport RTP/AVP 0\r\n"
    H = lambda **kw: headers(port=port, proto=proto, **kw)  # noqa: E731
    return [
        # name, bytes, allowed answers (None = no answer)
        ("garbage start line", b"HELLO WORLD\r\n\r\n", {400}),
        ("start line without URI", b"INVITE\r\n\r\n", {400}),
        ("start line without version", H().replace(b" SIP/2.0\r\n", b"\r\n", 1), {400}),
        ("wrong SIP version", H().replace(b" SIP/2.0\r\n", b" SIP/3.0\r\n", 1), {400, 505}),
        ("request URI not a URI", H(uri="not a uri"), {400, 416}),
        ("header without colon", H(extra="Subject this has no colon"), {400}),
        ("missing Call-ID", H(skip=("Call-ID",)), {400}),
        ("empty Call-ID", H(callid=""), {400}),
        ("missing CSeq", H(skip=("CSeq",)), {400}),
        ("non-numeric CSeq", H(cseq="abc INVITE"), {400}),
        ("CSeq method mismatch", H(cseq="1 BYE"), {400}),
        ("huge CSeq number", H(cseq="99999999999999999999 INVITE"), {400}),
        ("missing Via", H(skip=("Via",)), {400}),
        ("garbage Via", H(extra="Via: garbage!!").replace(b"Via: SIP", b"X-Old-Via: SIP", 1), {400}),
        ("missing From", H(skip=("From",)), {400}),
        ("missing To", H(skip=("To",)), {400}),
        # RFC 3261 20.22: 1*DIGIT; the engine refuses it as malformed (sip_msg.c)
        ("Max-Forwards not a number", H(extra="Max-Forwards: lots").replace(b"Max-Forwards: 70\r\n", b"", 1), {400}),
        ("Content-Length larger than body", H(body=sdp_bad, clen=5000), {400}),
        ("Content-Length negative", H(body=sdp_bad, clen=-5), {400}),
        ("Content-Length not a number", H(body=sdp_bad, clen="ten"), {400}),
        ("two different Content-Lengths", H(body="", extra="Content-Length: 77"), {400}),
        ("bad SDP (port not a number)", H(body=sdp_bad), {400, 415, 488, 606}),
        ("SDP that is binary junk", H(body=bytes(rnd.randrange(256) for _ in range(300)).decode("latin-1")), {400, 415, 488, 606}),
        ("NUL bytes in a header", H(extra="Subject: a\x00b\x00c"), {400}),
        ("NUL bytes everywhere", bytes(200), {400}),
        ("invalid UTF-8 in From", H().replace(b"<sip:fuzz@", b"\xff\xfe\xc3(<sip:fuzz@", 1), {400}),
        ("binary junk", bytes(rnd.randrange(256) for _ in range(1400)), {400}),
        ("CR only line ends", H().replace(b"\r\n", b"\r"), {400}),
        ("no blank line after headers", H()[:-4], {400}),
        ("very long start line", H(uri="sip:" + "a" * 10000 + "@127.0.0.1"), {400, 413, 414, 513}),
        ("huge header", H(extra="Subject: " + "A" * 60000), {400, 413, 513}),
        ("thousands of headers", H(extra="\r\n".join("X-H%d: y" % i for i in range(3000))), {400, 413, 513}),
        ("stray response", b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKstray\r\n"
                            b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: stray\r\n"
                            b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", set()),
        ("unknown method", H(method="FROBNICATE"), {400, 405, 501}),
        ("BYE for no dialog", H(method="BYE"), {400, 481}),
    ]


def options(port, proto):
    return headers(method="OPTIONS", port=port, proto=proto)


def exchange_text(host, port, proto, data, wait=WAIT):
    """Sends data from a fresh socket; -> the bytes answered within wait (it stops at the
    first final answer), or an error text (str) when it could not be sent."""
    if proto == "UDP":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        try:
            s.sendto(data[:65507], (host, port))
        except OSError as e:
            return "send error %s" % e
    else:
        s = socket.create_connection((host, port), timeout=2)
        try:
            s.sendall(data)
        except OSError:
            pass  # the engine may close on us mid-send: that is an answer too
    s.settimeout(0.05)
    got = b""
    end = time.time() + wait
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        got += chunk
        if any(int(c) >= 200 for c in re.findall(rb"^SIP/2\.0 (\d{3})", got, re.M)):
            break  # a final answer: done (a no-answer case waits the whole time)
    s.close()
    return got


def exchange(host, port, proto, data, wait=WAIT):
    """Sends data from a fresh socket; -> list of status codes answered within wait."""
    got = exchange_text(host, port, proto, data, wait)
    if isinstance(got, str):
        return [got]
    return [int(c) for c in re.findall(rb"^SIP/2\.0 (\d{3})", got, re.M)]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    host, port = argv[1], int(argv[2])
    bad = 0
    total = 0
    for proto in ("UDP", "TCP"):
        for name, data, allowed in cases(port, proto):
            total += 1
            try:
                codes = exchange(host, port, proto, data)
            except OSError as e:
                codes = ["connect error %s" % e]
            # provisional answers (100 Trying) say nothing; a final one must be allowed
            wrong = [c for c in codes if not (isinstance(c, int) and (c < 200 or c in allowed))]
            alive = exchange(host, port, proto, options(port, proto), wait=1.0)
            ok = not wrong and 200 in alive
            if not ok:
                bad += 1
            print("  %s %s %-34s -> %-12s%s" % ("ok  " if ok else "FAIL", proto, name,
                                               ",".join(map(str, codes)) or "no answer",
                                               "" if 200 in alive else
                                               "  OPTIONS afterwards got %s" % (alive or "no answer")))
    print("badsip: %d of %d cases handled well" % (total - bad, total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
