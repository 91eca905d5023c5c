#!/usr/bin/env python3
"""sip_rfc.py HOST PORT — the answers RFC 3261 asks for, class by class (our own messages
after RFC 4475's classes), over UDP and TCP, at a running engine.

Each case names the exact status it must get (None: no answer at all) and, for a 400, the
reason phrase that names what was wrong.  After each case an OPTIONS must still get 200.
Then an INVITE offering IPv6 media (c=IN IP6) must get 488 with a Warning of code 301
(RFC 3261 20.43); its Call-ID is printed as "refused-call-id: ID" for the CDR check.
Prints one line per case; exit 0 when every case passed."""
import re
import sys

import badsip

SDP6 = ("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0 8\r\n")
ODD_METHOD = "!interesting-Method0123456789_*+`.%indeed'~"  # RFC 4475 3.1.1.2's token chars


def with_to_tag(msg):
    return re.sub(rb"^(To: <[^>]*>)", rb"\1;tag=nosuchdialog", msg, count=1, flags=re.M)


def cases(port, proto):
    H = lambda **kw: badsip.headers(port=port, proto=proto, **kw)  # noqa: E731
    return [
        # name, bytes, status, reason phrase (None: any)
        ("INVITE missing Call-ID", H(skip=("Call-ID",)), 400, "Missing Call-ID"),
        ("INVITE missing From", H(skip=("From",)), 400, "Missing From"),
        ("INVITE missing To", H(skip=("To",)), 400, "Missing To"),
        ("INVITE missing CSeq", H(skip=("CSeq",)), 400, "Missing CSeq"),
        ("INVITE with CSeq of BYE", H(cseq="1 BYE"), 400, "CSeq Method Mismatch"),
        ("OPTIONS with CSeq of INVITE", H(method="OPTIONS", cseq="1 INVITE"), 400,
         "CSeq Method Mismatch"),
        ("two different Content-Lengths", H(extra="Content-Length: 77"), 400,
         "Conflicting Content-Length"),
        ("Call-ID given twice", H(extra="Call-ID: another@127.0.0.1"), 400, "Duplicate Call-ID"),
        ("INVITE with a To tag, no dialog", with_to_tag(H()), 481, None),
        ("BYE with a To tag, no dialog", with_to_tag(H(method="BYE")), 481, None),
        ("ACK with a To tag, no dialog", with_to_tag(H(method="ACK")), None, None),
        ("unknown method", H(method="NEWMETHOD"), 501, None),
        ("unknown method, CSeq of INVITE", H(method="NEWMETHOD", cseq="1 INVITE"), 501, None),
        ("unknown method with a To tag", with_to_tag(H(method="NEWMETHOD")), 501, None),
        ("unknown method, Max-Forwards 0",
         H(method="NEWMETHOD").replace(b"Max-Forwards: 70", b"Max-Forwards: 0"), 501, None),
        ("lower-case invite", H(method="invite"), 501, None),
        ("43-character method", H(method=ODD_METHOD), 501, None),
        # what the engine cannot do at all (RFC 3261 8.2.2, 8.2.3, 21.5.6)
        ("SIP version 7.0", H().replace(b" SIP/2.0\r\n", b" SIP/7.0\r\n", 1), 505,
         "Version Not Supported"),
        ("OPTIONS to an unknown URI scheme", H(method="OPTIONS", uri="nobodyknows:opaque"), 416,
         None),
        ("INVITE requiring an extension", H(extra="Require: nobodyknows"), 420, None),
        ("INVITE with a body of another type", H(body="hello").replace(
            b"Content-Type: application/sdp", b"Content-Type: text/x-nobody-knows"), 415, None),
    ]


def status_line(data):
    m = re.search(rb"^SIP/2\.0 ([2-6]\d\d) ([^\r\n]*)", data, re.M)
    return (int(m.group(1)), m.group(2).decode("latin-1")) if m else (None, None)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    host, port = argv[1], int(argv[2])
    bad = total = 0
    for proto in ("UDP", "TCP"):
        for name, data, want, phrase in cases(port, proto):
            total += 1
            # a case with no answer waits the whole time; a final answer ends the wait
            text = badsip.exchange_text(host, port, proto, data, 1.0 if want is None else 2.0)
            code, reason = status_line(text) if isinstance(text, bytes) else (None, text)
            ok = code == want and (phrase is None or reason == phrase)
            if want in (400, 505) and ok:
                ok = b"\r\nWarning: 399 hotline \"" in text  # and says exactly what
            alive = badsip.exchange(host, port, proto, badsip.options(port, proto), wait=1.0)
            ok = ok and 200 in alive
            bad += not ok
            print("  %s %s %-34s -> %s%s" % ("ok  " if ok else "FAIL", proto, name,
                                             "%s %s" % (code, reason) if code else "no answer",
                                             "" if 200 in alive else "  (then OPTIONS: %s)" % alive))
    total += 1
    data = badsip.headers(port=port, body=SDP6)
    text = badsip.exchange_text(host, port, "UDP", data, 3.0)
    code, reason = status_line(text)
    warn = re.search(rb"^Warning: 301 [^\r\n]*", text, re.M)
    cid = re.search(rb"^Call-ID: ([^\r\n]*)", data, re.M).group(1).decode()
    ok = code == 488 and warn is not None
    bad += not ok
    print("  %s UDP %-34s -> %s %s%s" % ("ok  " if ok else "FAIL", "INVITE offering IPv6 media",
                                         code, reason, " | " + warn.group(0).decode() if warn else
                                         "  (no Warning 301)"))
    print("refused-call-id: %s" % cid)
    print("sip_rfc: %d of %d cases answered as the RFCs say" % (total - bad, total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
