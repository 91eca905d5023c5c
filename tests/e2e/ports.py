#!/usr/bin/env python3
"""ports.py PORT|LO-HI ... — exit 0 if every port can be bound on 127.0.0.1 for both UDP
and TCP right now (the e2e tests' check that the ports they picked are free)."""
import socket
import sys


def free(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        if kind == socket.SOCK_STREAM:  # as servers do: a TIME_WAIT left over is no conflict
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def main(args):
    for a in args:
        lo, _, hi = a.partition("-")
        for p in range(int(lo), int(hi or lo) + 1):
            if not free(p):
                sys.stderr.write("ports.py: %d is in use\n" % p)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
