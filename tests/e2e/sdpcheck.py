#!/usr/bin/env python3
"""sdpcheck.py TRACE.msg CSEQ DIRECTION[,DIRECTION...] — checks the SDP direction of the 200
OK that SIPp received for the INVITE with CSeq CSEQ (from `sipp -trace_msg`).  DIRECTION
"sendrecv" also accepts an SDP with no direction attribute (sendrecv is the default)."""
import re
import sys

DIRS = ("sendrecv", "sendonly", "recvonly", "inactive")


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    text = open(argv[1], errors="replace").read()
    want = argv[3].split(",")
    # messages are separated by lines of dashes with a timestamp, then "... message received"
    for block in re.split(r"\n-{10,}[^\n]*\n", text):
        if "received" not in block.split("\n", 1)[0]:
            continue
        body = block.split("\n", 1)[1].lstrip() if "\n" in block else ""
        if not body.startswith("SIP/2.0 200"):
            continue
        if not re.search(r"^CSeq:\s*%s\s+INVITE" % re.escape(argv[2]), body, re.M | re.I):
            continue
        found = [d for d in DIRS if re.search(r"^a=%s\s*$" % d, body, re.M)]
        got = found[0] if found else "(none)"
        ok = got in want or (not found and "sendrecv" in want)
        print("200 for INVITE CSeq %s: direction %s, expected %s" % (argv[2], got, "/".join(want)))
        return 0 if ok else 1
    print("no 200 OK for INVITE CSeq %s in %s" % (argv[2], argv[1]))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
