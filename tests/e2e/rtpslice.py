#!/usr/bin/env python3
"""rtpslice.py IN.jsonl FROM TO [SRC] — the RTP packets rtpsink.py / agent_phone.py recorded
whose arrival time t lies in [FROM, TO) (epoch seconds, e.g. a phone's hold and resume
events), and with SRC only those from that "ip:port"; JSON lines on stdout, for
checkstream.py and checkprompt.py to look at one stretch of a call."""
import json
import sys


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    lo, hi = float(argv[2]), float(argv[3])
    src = argv[4] if len(argv) > 4 else None
    with open(argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            j = json.loads(line)
            if lo <= j["t"] < hi and (src is None or j.get("src") == src):
                sys.stdout.write(line if line.endswith("\n") else line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
