#!/usr/bin/env python3
"""events_client.py — consumers of the engine's event stream for t42 and the bench.

  events_client.py sse URL OUT SECONDS     GET /events (server-sent events); each event's
                                           data line (JSON) appended to OUT until the stream
                                           ends or SECONDS pass
  events_client.py stall SOCKET SECONDS    a consumer that falls behind: asks the control
                                           socket for every event, reads the first line,
                                           then reads nothing for SECONDS; then reads what
                                           is left and prints the last line it got"""
import socket
import sys
import time
import urllib.request


def sse(url, out, seconds):
    deadline = time.time() + seconds
    with urllib.request.urlopen(url, timeout=seconds) as r, open(out, "a") as f:
        print("ready", flush=True)
        while time.time() < deadline:
            line = r.readline()
            if not line:
                break
            line = line.decode("utf-8").rstrip("\n")
            if line.startswith("data: "):
                f.write(line[6:] + "\n")
                f.flush()
    return 0


def stall(sock_path, seconds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(sock_path)
    s.sendall(b'{"cmd":"events"}\n')
    f = s.makefile("rb")
    first = f.readline()
    print("ready", first.decode().strip(), flush=True)
    time.sleep(seconds)
    s.settimeout(10)
    last = b""
    try:
        for line in f:
            last = line
    except socket.timeout:
        print("the engine did not close the stream", flush=True)
        return 1
    print(last.decode("utf-8", "replace").strip(), flush=True)
    return 0


def main(argv):
    if len(argv) == 4 and argv[0] == "sse":
        return sse(argv[1], argv[2], float(argv[3]))
    if len(argv) == 3 and argv[0] == "stall":
        return stall(argv[1], float(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
