#!/usr/bin/env python3
"""flood.py — SIP load from one source address, for the edge tests (t17) and the bench.

  flood.py options HOST PORT SRC RATE SECONDS      OPTIONS at RATE/s from SRC over UDP: counts
                                                   the answers by code and the unanswered
  flood.py tcp-idle HOST PORT SRC N WAIT_S         opens N TCP connections from SRC and says
                                                   nothing: how many the engine accepted and
                                                   kept, and how many it closed within WAIT_S
  flood.py ask HOST PORT SRC [udp|tcp] [METHOD] [USER] [PAI] [AUTH]
                                                   one request (to sip:USER@HOST, default
                                                   probe; PAI a P-Asserted-Identity value;
                                                   AUTH "user:password" answers a 401 once);
                                                   prints code and headers as JSON (an
                                                   INVITE's final answer is ACKed)
  flood.py listen HOST PORT SECONDS [LOGIN]        a SIP gateway: one JSON line per new INVITE
                                                   (its user, Call-ID); answers nothing, or with
                                                   LOGIN "user:password" challenges (401) and
                                                   answers the authorised INVITE 486, others 403
Every line of output is JSON.  Bounded in count and time; loopback addresses only."""
import json
import os
import resource
import select
import socket
import sys
import time
import uuid


def request(method, host, port, src, sport, tp="UDP", extra="", user="probe", tag=None, cseq=1,
            branch=None):
    tag = tag or uuid.uuid4().hex[:10]
    return ("%s sip:%s@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:flood@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n"
            "Call-ID: %s@%s\r\nCSeq: %d %s\r\nContact: <sip:flood@%s:%d>\r\n%sContent-Length: 0\r\n\r\n"
            % (method, user, host, port, tp, src, sport, branch or tag, src, tag, user, host, tag, src,
               cseq, method, src, sport, extra))


def digest_answer(challenge, method, uri, user, password):
    """The Authorization value answering a WWW-Authenticate: Digest challenge (RFC 2617)."""
    import hashlib
    import re
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
    ha1, ha2, cnonce = md5("%s:%s:%s" % (user, p["realm"], password)), md5("%s:%s" % (method, uri)), "c0ffee"
    resp = md5("%s:%s:00000001:%s:auth:%s" % (ha1, p["nonce"], cnonce, ha2))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"' % (user, p["realm"], p["nonce"], uri, resp, cnonce))


def ack_for(invite_tag, resp, host, port, src, sport, user, cseq=1, branch=None):
    """The ACK of a non-2xx final answer to our INVITE (same branch, the answer's To)."""
    to = [l for l in resp.decode("utf-8", "replace").split("\r\n") if l.lower().startswith("to:")]
    return ("ACK sip:%s@%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:flood@%s>;tag=%s\r\n%s\r\nCall-ID: %s@%s\r\n"
            "CSeq: %d ACK\r\nContent-Length: 0\r\n\r\n"
            % (user, host, port, src, sport, branch or invite_tag, src, invite_tag,
               to[0] if to else "To: <sip:%s@%s>" % (user, host), invite_tag, src, cseq))


def parse(resp):
    text = resp.decode("utf-8", "replace")
    head = text.split("\r\n\r\n", 1)[0].split("\r\n")
    parts = head[0].split(" ", 2)
    code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = {}
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return code, headers


def loopback(addr):
    if not addr.startswith("127."):
        sys.exit("flood.py: only loopback addresses (127.0.0.0/8)")


def options_flood(host, port, src, rate, seconds):
    loopback(host); loopback(src)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    sport = s.getsockname()[1]
    total = int(rate * seconds)
    codes, sent, retry_after = {}, 0, set()
    start = time.monotonic()
    while sent < total:
        due = start + sent / rate
        now = time.monotonic()
        if now >= due:
            s.sendto(request("OPTIONS", host, port, src, sport).encode(), (host, port))
            sent += 1
            continue
        r, _, _ = select.select([s], [], [], due - now)
        while r:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                break
            c, h = parse(data)
            codes[c] = codes.get(c, 0) + 1
            if c == 503:
                retry_after.add(h.get("retry-after", ""))
    end = time.monotonic() + 1.0  # late answers
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        if not r:
            break
        c, h = parse(s.recv(65536))
        codes[c] = codes.get(c, 0) + 1
        if c == 503:
            retry_after.add(h.get("retry-after", ""))
    answered = sum(codes.values())
    print(json.dumps({"sent": sent, "codes": {str(k): v for k, v in codes.items()},
                      "unanswered": sent - answered, "seconds": seconds,
                      "retry_after": sorted(retry_after)}))


def tcp_idle(host, port, src, n, wait_s):
    loopback(host); loopback(src)
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
    socks, refused = [], 0
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((src, 0))
        c.setblocking(False)
        try:
            c.connect((host, port))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            c.close()
            continue
        socks.append(c)
    # the engine closes what it will not keep: EOF (or a reset) on those
    ep = select.epoll()
    for c in socks:
        ep.register(c.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    by_fd = {c.fileno(): c for c in socks}

    def closed_now(timeout):
        gone = set()
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(gone) < len(socks):
            for fd, _ in ep.poll(0.05):
                try:
                    eof = by_fd[fd].recv(1) == b""
                except BlockingIOError:
                    eof = False
                except OSError:
                    eof = True
                if eof:
                    gone.add(fd)
                    ep.unregister(fd)
        return gone
    first = closed_now(0.5)
    kept = len(socks) - len(first)
    print(json.dumps({"phase": "connected", "opened": len(socks), "refused": refused,
                      "kept": kept}), flush=True)
    later = closed_now(wait_s)
    print(json.dumps({"phase": "waited", "kept_after": kept - len(later - first)}), flush=True)
    for c in socks:
        c.close()


def final_answer(s):
    data = b""
    try:
        while not data or parse(data)[0] < 200:   # a final answer, past 100 Trying
            data = s.recv(65536)
    except socket.timeout:
        pass
    return data


def ask(host, port, src, tp="udp", method="OPTIONS", user="probe", pai="", auth=""):
    loopback(host); loopback(src)
    extra = "P-Asserted-Identity: %s\r\n" % pai if pai else ""
    tag = uuid.uuid4().hex[:10]
    if tp == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.settimeout(3)
        sport = s.getsockname()[1]
        s.sendto(request(method, host, port, src, sport, "UDP", extra, user, tag).encode(), (host, port))
        data = final_answer(s)
        if not data:
            print(json.dumps({"code": 0}))
            return
        if method == "INVITE" and parse(data)[0] >= 300:
            s.sendto(ack_for(tag, data, host, port, src, sport, user).encode(), (host, port))
        if parse(data)[0] == 401 and auth:   # answer the challenge once, as a trunk does
            name, password = auth.split(":", 1)
            uri = "sip:%s@%s:%d" % (user, host, port)
            answer = digest_answer(parse(data)[1].get("www-authenticate", ""), method, uri, name, password)
            branch = uuid.uuid4().hex[:10]
            s.sendto(request(method, host, port, src, sport, "UDP", extra + "Authorization: %s\r\n" % answer,
                             user, tag, 2, branch).encode(), (host, port))
            data = final_answer(s)
            if not data:
                print(json.dumps({"code": 0}))
                return
            if method == "INVITE" and parse(data)[0] >= 300:
                s.sendto(ack_for(tag, data, host, port, src, sport, user, 2, branch).encode(), (host, port))
    else:
        s = socket.create_connection((host, port), timeout=3, source_address=(src, 0))
        s.sendall(request(method, host, port, src, s.getsockname()[1], "TCP", extra, user, tag).encode())
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
    code, headers = parse(data) if data else (0, {})
    print(json.dumps({"code": code, "headers": headers}))


def respond(s, addr, text, code, reason, extra=""):
    """A response to the request text: its Via, From, To (tagged), Call-ID and CSeq."""
    lines = text.split("\r\n")
    keep = [l for l in lines if l.split(":", 1)[0].strip().lower() in ("via", "from", "call-id", "cseq")]
    to = [l for l in lines if l.lower().startswith("to:")]
    to = to[0] if to else "To: <sip:x@x>"
    if ";tag=" not in to:
        to += ";tag=gw%s" % uuid.uuid4().hex[:8]
    s.sendto(("SIP/2.0 %d %s\r\n%s\r\n%s\r\n%sContent-Length: 0\r\n\r\n"
              % (code, reason, "\r\n".join(keep), to, extra)).encode(), addr)


def digest_ok(auth, method, user, password):
    import hashlib
    import re
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', auth))
    md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731
    if p.get("username") != user:
        return False
    ha1, ha2 = md5("%s:%s:%s" % (user, p.get("realm"), password)), md5("%s:%s" % (method, p.get("uri")))
    if p.get("qop"):
        want = md5("%s:%s:%s:%s:%s:%s" % (ha1, p.get("nonce"), p.get("nc"), p.get("cnonce"), p["qop"], ha2))
    else:
        want = md5("%s:%s:%s" % (ha1, p.get("nonce"), ha2))
    return want == p.get("response")


def listen(host, port, seconds, login=""):
    """A gateway that answers nothing, or with login "user:password" challenges each INVITE
    (401) and answers the one that comes back authorised with 486 (busy), a wrong one 403."""
    loopback(host)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    seen = set()
    print(json.dumps({"listening": port}), flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.monotonic()))
        if not r:
            continue
        data, addr = s.recvfrom(65536)
        text = data.decode("utf-8", "replace")
        first = text.split("\r\n", 1)[0].split(" ")
        headers = {}
        for l in text.split("\r\n")[1:]:
            if ":" in l:
                headers.setdefault(l.split(":", 1)[0].strip().lower(), l.split(":", 1)[1].strip())
        cid = headers.get("call-id", "")
        if first[0] != "INVITE" or not cid:
            continue
        user = first[1].split(":", 1)[-1].split("@", 1)[0] if len(first) > 1 else ""
        if login:
            name, password = login.split(":", 1)
            auth = headers.get("authorization", "")
            if not auth:
                respond(s, addr, text, 401, "Unauthorized",
                        'WWW-Authenticate: Digest realm="gw", nonce="%s", algorithm=MD5, qop="auth"\r\n'
                        % uuid.uuid4().hex)
                continue
            ok = digest_ok(auth, "INVITE", name, password)
            respond(s, addr, text, 486 if ok else 403, "Busy Here" if ok else "Forbidden")
            if cid not in seen:
                seen.add(cid)
                print(json.dumps({"invite": user, "call_id": cid, "authorized": ok}), flush=True)
        elif cid not in seen:
            seen.add(cid)
            print(json.dumps({"invite": user, "call_id": cid}), flush=True)


def main(argv):
    if len(argv) >= 6 and argv[1] == "options":
        options_flood(argv[2], int(argv[3]), argv[4], float(argv[5]), float(argv[6]))
    elif len(argv) >= 7 and argv[1] == "tcp-idle":
        tcp_idle(argv[2], int(argv[3]), argv[4], int(argv[5]), float(argv[6]))
    elif len(argv) >= 5 and argv[1] == "ask":
        ask(argv[2], int(argv[3]), argv[4], *argv[5:10])
    elif len(argv) >= 5 and argv[1] == "listen":
        listen(argv[2], int(argv[3]), float(argv[4]), *argv[5:6])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
