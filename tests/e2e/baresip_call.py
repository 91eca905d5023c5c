#!/usr/bin/env python3
"""baresip_call.py — one call from baresip, a real softphone, driven over its ctrl_tcp.

  baresip_call.py --dir DIR --sip-port P --ctrl-port C --rtp-ports LO-HI --target URI
                  --audio IN.wav [--keys 15#] [--timeout 30]

Writes a baresip config in DIR (net_interface 127.0.0.1, no stdio module, aufile audio
from IN.wav, menu for the commands, ctrl_tcp on 127.0.0.1:C), starts `baresip -f DIR`,
dials URI over ctrl_tcp (netstring JSON {"command":"dial","params":URI}), waits for
CALL_ESTABLISHED, sends each key with {"command":"sndcode","params":KEY} (RFC 4733), then
waits for the far end to hang up (CALL_CLOSED) — or hangs up itself at the timeout and
fails.  Prints the events seen; exit 0 when the call was established, the keys were sent
and the far end closed the call.  baresip is stopped in every case.

  baresip_call.py ... --agent USER:PASSWORD --registrar HOST:PORT [--hangup-after S]
                  --audio IN.wav [--timeout 30]

The agent's phone instead (issue 8): the account registers as USER at the registrar
(digest with PASSWORD; fails on REGISTER_FAIL), answers an incoming call by itself
(answermode=auto), waits for CALL_ESTABLISHED, hangs up after S seconds
of talk (default: waits for the far end's BYE), and exits 0 when the call was established
and closed.  In both modes the sndfile module writes what baresip heard to
DIR/dump-*-dec.wav (and what it sent to dump-*-enc.wav): baresip 1.0's aufile has no player."""
import argparse
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

MODULES = "/usr/lib/baresip/modules"


def write_config(a):
    os.makedirs(a.dir, exist_ok=True)
    lo, hi = a.rtp_ports.split("-")
    with open(os.path.join(a.dir, "config"), "w") as f:
        f.write("""# written by tests/e2e/baresip_call.py
poll_method		epoll
sip_listen		127.0.0.1:%(sip)d
sip_transports		udp
net_interface		127.0.0.1
audio_source		aufile,%(audio)s
audio_player		aufile,%(out)s
audio_alert		aufile,%(out2)s
audio_srate		8000
audio_channels		1
rtp_ports		%(lo)s-%(hi)s
rtp_timeout		0
module_path		%(mods)s
module			g711.so
module			aufile.so
module			sndfile.so
snd_path		%(dir)s
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:%(ctrl)d
""" % {"sip": a.sip_port, "audio": a.audio, "out": os.path.join(a.dir, "heard.wav"),
       "out2": os.path.join(a.dir, "alert.wav"), "lo": lo, "hi": hi, "mods": MODULES,
       "ctrl": a.ctrl_port, "dir": a.dir})
    with open(os.path.join(a.dir, "accounts"), "w") as f:
        if a.agent:
            user, pw = a.agent.split(":", 1)
            f.write("<sip:%s@%s>;auth_pass=%s;regint=300;answermode=auto;audio_codecs=PCMU/8000/1\n"
                    % (user, a.registrar, pw))
        else:
            f.write("<sip:e2e@127.0.0.1:%d>;regint=0;audio_codecs=PCMU/8000/1\n" % a.sip_port)
    open(os.path.join(a.dir, "contacts"), "w").close()


class Ctrl:
    """ctrl_tcp: netstrings "LEN:JSON," each way."""

    def __init__(self, port, deadline):
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.events = []

    def send(self, command, params=None):
        o = {"command": command, "token": "e2e-%s" % command}
        if params is not None:
            o["params"] = params
        data = json.dumps(o).encode()
        self.s.sendall(b"%d:%s," % (len(data), data))
        print("  -> %s" % json.dumps(o), flush=True)

    def poll(self, secs):
        """Reads what arrives within secs; -> list of decoded messages."""
        out = []
        end = time.time() + secs
        while True:
            left = end - time.time()
            if left <= 0:
                break
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                break
            chunk = self.s.recv(65536)
            if not chunk:
                raise OSError("baresip closed the control connection")
            self.buf += chunk
            while True:
                i = self.buf.find(b":")
                if i <= 0 or not self.buf[:i].isdigit():
                    break
                n = int(self.buf[:i])
                if len(self.buf) < i + 1 + n + 1:
                    break
                msg = self.buf[i + 1:i + 1 + n]
                self.buf = self.buf[i + 1 + n + 1:]
                try:
                    j = json.loads(msg)
                except ValueError:
                    j = {"raw": msg.decode(errors="replace")}
                out.append(j)
                print("  <- %s" % json.dumps(j, ensure_ascii=False)[:300], flush=True)
        self.events.extend(out)
        return out

    def wait_event(self, types, secs):
        end = time.time() + secs
        while time.time() < end:
            for e in self.poll(min(0.2, max(0.0, end - time.time()))):
                if e.get("type") in types:
                    return e
        return None


def agent_call(ctrl, a, start):
    """The agent's phone: registered, rung, answers by itself, talks; -> (ok, why)."""
    # REGISTER_OK may come before the control connection is up: only a failure is awaited
    # (the registrar's own view says whether it took the phone)
    e = ctrl.wait_event(("REGISTER_OK", "REGISTER_FAIL"), 2)
    if e and e.get("type") == "REGISTER_FAIL":
        return False, "not registered (%s)" % e.get("param")
    left = lambda: max(1.0, a.timeout - (time.time() - start))
    e = ctrl.wait_event(("CALL_ESTABLISHED",), left())
    if not e:
        return False, "no call established within %.0f s" % a.timeout
    if a.hangup_after:
        if ctrl.wait_event(("CALL_CLOSED",), a.hangup_after):
            return False, "the call closed before the phone hung up"
        ctrl.send("hangup")
    if not ctrl.wait_event(("CALL_CLOSED",), left()):
        ctrl.send("hangup")
        ctrl.poll(1)
        return False, "the call did not close within %.0f s" % a.timeout
    return True, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--sip-port", type=int, required=True)
    ap.add_argument("--ctrl-port", type=int, required=True)
    ap.add_argument("--rtp-ports", required=True)
    ap.add_argument("--target")
    ap.add_argument("--agent")
    ap.add_argument("--registrar")
    ap.add_argument("--hangup-after", type=float, default=0)
    ap.add_argument("--audio", required=True)
    ap.add_argument("--keys", default="15#")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    write_config(a)
    log = open(os.path.join(a.dir, "baresip.log"), "w")
    proc = subprocess.Popen(["baresip", "-f", a.dir, "-t", str(int(a.timeout) + 10)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    ok = False
    why = ""
    try:
        start = time.time()
        ctrl = Ctrl(a.ctrl_port, start + 10)
        ctrl.poll(0.5)
        if a.agent:
            ok, why = agent_call(ctrl, a, start)
            return 0 if ok else 1
        ctrl.send("dial", a.target)
        e = ctrl.wait_event(("CALL_ESTABLISHED", "CALL_CLOSED"), 10)
        if not e or e.get("type") != "CALL_ESTABLISHED":
            why = "call not established (%s)" % (e and e.get("param") or "no event in 10 s")
            return 1
        ctrl.poll(0.8)  # let media start before the first key
        for k in a.keys:
            ctrl.send("sndcode", k)
            ctrl.poll(0.35)
            # an explicit key release: sndcode with no key ends the tone in some versions
        e = ctrl.wait_event(("CALL_CLOSED",), max(1.0, a.timeout - (time.time() - start)))
        if not e:
            why = "the far end did not hang up within %.0f s" % a.timeout
            ctrl.send("hangup")
            ctrl.poll(1)
            return 1
        ok = True
        return 0
    except OSError as ex:
        why = "ctrl_tcp: %s" % ex
        return 1
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        print("baresip call %s%s" % ("ok" if ok else "FAILED", ": " + why if why else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main())
