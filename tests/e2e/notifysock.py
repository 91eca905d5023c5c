#!/usr/bin/env python3
"""notifysock.py PATH OUT [MAX_SECONDS] — stands in for systemd's NOTIFY_SOCKET: a Unix
datagram socket at PATH that writes each sd_notify message it receives to OUT, one line
each (newlines inside a message become spaces), flushed at once.  Prints "ready" once bound;
stops on SIGTERM or after MAX_SECONDS (default 60)."""
import os
import signal
import socket
import sys


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, out = argv[1], argv[2]
    limit = float(argv[3]) if len(argv) > 3 else 60.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(limit)
    print("ready", flush=True)
    with open(out, "a", encoding="utf-8") as f:
        try:
            while True:
                msg = s.recv(4096).decode("utf-8", "replace")
                f.write(msg.replace("\n", " ") + "\n")
                f.flush()
        except socket.timeout:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
