#!/usr/bin/env python3
"""agent_phone.py — an agent's SIP phone for the ACD tests (issue 8, t34/t35): registers
with digest, is rung by the engine's ACD, answers (or not), talks RTP and records what it
hears.  UDP on loopback; several instances on different ports are several agents.
(agentphone.py, t27, is the phone that places calls; this one is rung.)

  agent_phone.py --engine 127.0.0.1:PORT --bind 127.0.0.X:SPORT --user NUMBER
                 --password PW [options]

  --rtp-port P         its RTP socket (default SPORT+2)
  --answer-after MS[,MS...]
                       180 at once, 200 after MS (default 300); a list: the n-th call rung
                       waits the n-th (the last for the calls after)
  --answer-after-from CALLER=MS
                       a call from CALLER (its From user) waits MS instead (repeatable)
  --no-answer          180 and nothing more (the engine gives up: CANCEL -> 200 + 487)
  --busy               486 Busy Here
  --answer-crosses-cancel
                       a CANCEL that comes while an answer is due finds the 200 already
                       sent (as when both cross on the wire: two phones of a ring all
                       answering at once): the phone answers, then takes the CANCEL (200)
  --send FILE          raw G.711 bytes (mkaudio.py stream) sent as RTP while a call is up,
                       20 ms a packet from the file's start, in a loop; payload type from the
                       codec the engine offered (0 PCMU / 8 PCMA) — the file must match it
  --record OUT.jsonl   every RTP packet received: one JSON line {t, pt, m, seq, ts, ssrc,
                       payload (hex), src, call} (call = how many calls were answered so far)
  --at [SEL/]MS:ACTION after the answer of each call, or only of the call SEL names: N
                       (the N-th answered) or @CALLER (a call from that From user)
                       (repeatable): bye, hold (re-INVITE
                       a=sendonly), resume (a=sendrecv), refer=TARGET (REFER to
                       sip:TARGET@engine), dtmf=KEYS (RFC 4733, the offered payload type)
  --duration S         run S seconds (default 60), then unregister (Expires 0) and exit;
                       SIGTERM ends it the same way
Prints one JSON line per event on stdout: registered {code}, invite {call_id, from, pai,
x-hotline-route, x-hotline-queue, x-hotline-wait, x-hotline-call, codec}, ringing,
answered, cancelled, cancel-crossed, acked, bye {by: "engine"|"phone", code}, hold/resume {code},
refer {code}, notify {frag}, dtmf {keys}, done.  Requests it does not know get 200."""
import argparse
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentphone import headers_of  # noqa: E402
from register import answer  # noqa: E402

FRAME = 160           # 20 ms of G.711 at 8 kHz
TE_VOLUME = 10


def out(event, **kw):
    print(json.dumps(dict(event=event, t=round(time.time(), 3), **kw)), flush=True)


def body_of(text):
    return text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""


def user_of(value):
    m = re.search(r"sip:([^@;>]+)@", value or "")
    return m.group(1) if m else ""


def sdp_media(sdp):
    """-> (ip, port, first payload type, telephone-event pt or None) of an SDP offer."""
    ip = re.search(r"^c=IN IP4 (\S+)", sdp, re.M)
    m = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)", sdp, re.M)
    te = re.search(r"^a=rtpmap:(\d+) telephone-event/8000", sdp, re.M)
    if not (ip and m):
        return None
    pts = [int(p) for p in m.group(2).split()]
    codec = next((p for p in pts if p in (0, 8)), pts[0])
    return ip.group(1), int(m.group(1)), codec, int(te.group(1)) if te else None


class Call:
    """One dialog in which the phone is the callee (the engine's INVITE)."""

    def __init__(self, invite, local_tag):
        self.invite = invite
        self.h = headers_of(invite)
        self.call_id = self.h["call-id"][0]
        self.local_tag = local_tag
        self.remote_from = self.h["from"][0]            # the engine's side, with its tag
        self.remote_target = self.h.get("contact", ["<sip:engine@127.0.0.1>"])[0]
        self.remote_target = re.sub(r"^.*<|>.*$", "", self.remote_target)
        self.media = sdp_media(body_of(invite))
        self.from_user = user_of(self.h["from"][0])
        self.state = "ringing"     # ringing, up, ended
        self.answer_due = None
        self.up_at = None
        self.cseq = 1
        self.actions = []          # [(due time, action)] once up


class Phone:
    def __init__(self, a):
        host, port = a.engine.rsplit(":", 1)
        src, sport = a.bind.rsplit(":", 1)
        if not host.startswith("127.") or not src.startswith("127."):
            sys.exit("agent_phone.py: loopback addresses only")
        self.engine = (host, int(port))
        self.src, self.sport = src, int(sport)
        self.a = a
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((src, self.sport))
        self.rtp_port = a.rtp_port or self.sport + 2
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.rtp.bind((src, self.rtp_port))
        self.audio = open(a.send, "rb").read() if a.send else b""
        self.rec = open(a.record, "w") if a.record else None
        self.calls = {}
        self.media_call = None     # the call whose RTP flows now
        self.answered = 0
        self.rung = 0              # INVITEs answered with 180 (--answer-after picks by it)
        self.tx = dict(seq=1, ts=0, ssrc=0, off=0, next=0.0, dtmf=[])
        self.pending = {}          # CSeq method -> (callback) for our in-dialog requests
        self.reg = dict(callid=uuid.uuid4().hex, tag=uuid.uuid4().hex[:8], cseq=0)

    # ---- SIP ------------------------------------------------------------------------------
    def send(self, text):
        self.sip.sendto(text.encode(), self.engine)

    def respond(self, req, code, phrase, to_tag=None, body="", contact=True):
        h = headers_of(req)
        to = h["to"][0]
        if to_tag and ";tag=" not in to:
            to += ";tag=" + to_tag
        vias = "".join("Via: %s\r\n" % v for v in h.get("via", []))
        extra = "Contact: <sip:%s@%s:%d>\r\n" % (self.a.user, self.src, self.sport) if contact else ""
        if body:
            extra += "Content-Type: application/sdp\r\n"
        self.send("SIP/2.0 %d %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n%s"
                  "Content-Length: %d\r\n\r\n%s" % (code, phrase, vias, h["from"][0], to,
                                                    h["call-id"][0], h["cseq"][0], extra,
                                                    len(body.encode()), body))

    def sdp(self, direction="sendrecv", pt=0, te=101):
        return ("v=0\r\no=agent 1 %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                "m=audio %d RTP/AVP %d %d\r\na=rtpmap:%d %s/8000\r\n"
                "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\na=%s\r\n"
                % (int(time.time()), self.src, self.src, self.rtp_port, pt, te, pt,
                   "PCMU" if pt == 0 else "PCMA", te, te, direction))

    def register(self, expires):
        uri = "sip:%s:%d" % self.engine
        auth = None
        for _ in range(2):
            self.reg["cseq"] += 1
            self.send("REGISTER %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n"
                      "Call-ID: %s\r\nCSeq: %d REGISTER\r\nContact: <sip:%s@%s:%d>\r\n"
                      "Expires: %d\r\n%sContent-Length: 0\r\n\r\n"
                      % (uri, self.src, self.sport, uuid.uuid4().hex[:12], self.a.user,
                         self.engine[0], self.reg["tag"], self.a.user, self.engine[0],
                         self.reg["callid"], self.reg["cseq"], self.a.user, self.src, self.sport,
                         expires, "Authorization: %s\r\n" % auth if auth else ""))
            code, text = self.wait_response("REGISTER", 5)
            if code != 401:
                break
            ch = [c for c in headers_of(text)["www-authenticate"] if "algorithm=MD5" in c][0]
            auth = answer(ch, "MD5", "REGISTER", uri, self.a.user, self.a.password)
        return code

    def wait_response(self, method, timeout):
        """A final response to our method; requests meanwhile are handled as usual."""
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.sip], [], [], max(0.01, end - time.time()))
            if not r:
                continue
            text = self.sip.recv(65535).decode("utf-8", "replace")
            if text.startswith("SIP/2.0 "):
                code = int(text.split(" ")[1])
                cseq = headers_of(text).get("cseq", ["0 X"])[0].split()[1]
                if cseq == method and code >= 200:
                    return code, text
                continue
            self.on_request(text)
        return None, None

    def in_dialog(self, call, method, extra="", body=""):
        """A request of ours inside a call's dialog (we are its callee)."""
        call.cseq += 1
        to = call.remote_from
        frm = "<sip:%s@%s>;tag=%s" % (self.a.user, self.src, call.local_tag)
        ctype = "Content-Type: application/sdp\r\n" if body else ""
        self.send("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                  "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
                  "Contact: <sip:%s@%s:%d>\r\n%s%sContent-Length: %d\r\n\r\n%s"
                  % (method, call.remote_target, self.src, self.sport, uuid.uuid4().hex[:12], frm,
                     to, call.call_id, 100 + call.cseq, method, self.a.user, self.src, self.sport,
                     extra, ctype, len(body.encode()), body))

    def on_request(self, text):
        method = text.split(" ", 1)[0]
        h = headers_of(text)
        cid = h.get("call-id", [""])[0]
        call = self.calls.get(cid)
        if method == "INVITE" and call is None:
            self.on_invite(text)
        elif method == "INVITE":                      # a re-INVITE from the engine
            self.respond(text, 200, "OK", body=self.sdp(pt=call.media[2] if call.media else 0))
        elif method == "ACK":
            if call and call.state == "up":
                out("acked", call_id=cid)
        elif method == "CANCEL":
            if call and call.state == "ringing" and call.answer_due and self.a.answer_crosses_cancel:
                self.answer_call(call)                # our 200 was on its way: the CANCEL is too late
                out("cancel-crossed", call_id=cid)
            self.respond(text, 200, "OK", contact=False)
            if call and call.state == "ringing":
                self.respond(call.invite, 487, "Request Terminated", to_tag=call.local_tag)
                call.state = "ended"
                out("cancelled", call_id=cid)
        elif method == "BYE":
            self.respond(text, 200, "OK", contact=False)
            if call and call.state != "ended":
                self.end(call, "engine")
        elif method == "NOTIFY":
            self.respond(text, 200, "OK")
            out("notify", call_id=cid, frag=body_of(text).split("\r\n")[0])
        else:
            self.respond(text, 200, "OK")

    def on_invite(self, text):
        h = headers_of(text)
        call = Call(text, "ag" + uuid.uuid4().hex[:8])
        self.calls[call.call_id] = call
        pick = lambda k: h.get(k, [""])[0]
        out("invite", call_id=call.call_id, user=self.a.user, from_user=user_of(pick("from")), **{
            "from": pick("from"), "pai": pick("p-asserted-identity"),
            "pai_user": user_of(pick("p-asserted-identity")),
            "x-hotline-route": pick("x-hotline-route"), "x-hotline-queue": pick("x-hotline-queue"),
            "x-hotline-wait": pick("x-hotline-wait"), "x-hotline-call": pick("x-hotline-call"),
            "codec": call.media[2] if call.media else None})
        self.respond(text, 100, "Trying", contact=False)
        if self.a.busy:
            self.respond(text, 486, "Busy Here", to_tag=call.local_tag)
            call.state = "ended"
            out("busy", call_id=call.call_id)
            return
        self.respond(text, 180, "Ringing", to_tag=call.local_tag)
        out("ringing", call_id=call.call_id)
        if not self.a.no_answer:
            waits = self.a.answer_after
            self.rung += 1
            wait = self.a.answer_after_from.get(call.from_user, waits[min(self.rung, len(waits)) - 1])
            call.answer_due = time.time() + wait / 1000.0

    def answer_call(self, call):
        pt = call.media[2] if call.media else 0
        self.respond(call.invite, 200, "OK", to_tag=call.local_tag, body=self.sdp(pt=pt))
        call.state = "up"
        call.up_at = time.time()
        self.answered += 1
        call.actions = sorted((call.up_at + ms / 1000.0, act) for sel, ms, act in self.a.at
                              if sel is None or sel in (str(self.answered), "@" + call.from_user))
        self.media_call = call
        self.tx.update(ssrc=int(uuid.uuid4().hex[:8], 16), next=time.time(), off=0)
        out("answered", call_id=call.call_id, n=self.answered)

    def end(self, call, by, code=None):
        call.state = "ended"
        if self.media_call is call:
            self.media_call = None
        out("bye", call_id=call.call_id, by=by, code=code)

    # ---- actions --------------------------------------------------------------------------
    def act(self, call, action):
        name, _, arg = action.partition("=")
        if name == "bye":
            self.in_dialog(call, "BYE")
            self.end(call, "phone")
        elif name in ("hold", "resume"):
            pt = call.media[2] if call.media else 0
            self.in_dialog(call, "INVITE", body=self.sdp("sendonly" if name == "hold" else "sendrecv", pt))
            self.pending["INVITE"] = (call, name)
        elif name == "refer":
            self.in_dialog(call, "REFER", extra="Refer-To: <sip:%s@%s>\r\nReferred-By: <sip:%s@%s>\r\n"
                           % (arg, self.engine[0], self.a.user, self.engine[0]))
            self.pending["REFER"] = (call, name)
        elif name == "dtmf":
            self.tx["dtmf"].extend(arg)
            out("dtmf", call_id=call.call_id, keys=arg)
        else:
            out("error", what="unknown action " + action)

    def on_response(self, text):
        h = headers_of(text)
        code = int(text.split(" ")[1])
        method = h.get("cseq", ["0 X"])[0].split()[1]
        if code < 200 or method not in self.pending:
            return
        call, name = self.pending.pop(method)
        if method == "INVITE":
            to_tag = h["to"][0]
            self.send("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\n"
                      "CSeq: %s ACK\r\nContent-Length: 0\r\n\r\n"
                      % (call.remote_target, self.src, self.sport, uuid.uuid4().hex[:12], self.a.user,
                         self.src, call.local_tag, to_tag, call.call_id, h["cseq"][0].split()[0]))
        out(name, call_id=call.call_id, code=code)

    # ---- RTP ------------------------------------------------------------------------------
    def rtp_tick(self, now):
        call = self.media_call
        if not call or not call.media or call.state != "up":
            return
        ip, port, pt, te = call.media
        while self.tx["next"] <= now:
            self.tx["next"] += 0.02
            if self.tx["dtmf"] and te is not None:
                self.send_dtmf(ip, port, te)
            elif self.audio:
                o = self.tx["off"]
                chunk = self.audio[o:o + FRAME]
                if len(chunk) < FRAME:
                    chunk, o = self.audio[:FRAME], 0
                self.tx["off"] = o + FRAME
                self.send_rtp(ip, port, pt, chunk, self.tx["seq"] == 1)
            self.tx["ts"] += FRAME

    def send_rtp(self, ip, port, pt, payload, marker=False):
        hdr = struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, self.tx["seq"] & 0xFFFF,
                          self.tx["ts"] & 0xFFFFFFFF, self.tx["ssrc"])
        self.tx["seq"] += 1
        self.rtp.sendto(hdr + payload, (ip, port))

    def send_dtmf(self, ip, port, te):
        """One key: 5 packets of 20 ms, the last three with the end bit (one event timestamp)."""
        key = self.tx["dtmf"].pop(0)
        ev = "0123456789*#".index(key) if key in "0123456789*#" else 0
        ts0 = self.tx["ts"]
        for i in range(5):
            end = i >= 2
            dur = min(i + 1, 3) * FRAME
            hdr = struct.pack(">BBHII", 0x80, (0x80 if i == 0 else 0) | te, self.tx["seq"] & 0xFFFF,
                              ts0, self.tx["ssrc"])
            self.tx["seq"] += 1
            self.rtp.sendto(hdr + struct.pack(">BBH", ev, (0x80 if end else 0) | TE_VOLUME, dur), (ip, port))
        self.tx["ts"] += 2 * FRAME

    def rtp_in(self):
        data, src = self.rtp.recvfrom(65536)
        if not self.rec or len(data) < 12 or data[0] >> 6 != 2:
            return
        seq, ts, ssrc = struct.unpack(">HII", data[2:12])
        off = 12 + 4 * (data[0] & 0x0F)
        self.rec.write(json.dumps(dict(t=time.time(), pt=data[1] & 0x7F, m=data[1] >> 7, seq=seq, ts=ts,
                                       ssrc=ssrc, payload=data[off:].hex(), src="%s:%d" % src,
                                       call=self.answered)) + "\n")

    # ---- the loop -------------------------------------------------------------------------
    def run(self):
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        out("registered", code=self.register(300), user=self.a.user)
        end = time.time() + self.a.duration
        while not stop and time.time() < end:
            now = time.time()
            try:
                r, _, _ = select.select([self.sip, self.rtp], [], [], 0.005)
            except InterruptedError:
                continue
            if self.sip in r:
                text = self.sip.recv(65535).decode("utf-8", "replace")
                if text.startswith("SIP/2.0 "):
                    self.on_response(text)
                elif text.strip():
                    self.on_request(text)
            if self.rtp in r:
                self.rtp_in()
            now = time.time()
            for call in list(self.calls.values()):
                if call.state == "ringing" and call.answer_due and now >= call.answer_due:
                    self.answer_call(call)
                while call.state == "up" and call.actions and call.actions[0][0] <= now:
                    self.act(call, call.actions.pop(0)[1])
            self.rtp_tick(now)
        if self.rec:
            self.rec.close()
        code = self.register(0)
        out("done", unregistered=code, answered=self.answered)


def at_action(s):
    """[SEL/]MS:ACTION -> (SEL or None, MS, ACTION)."""
    when, _, act = s.partition(":")
    sel, _, ms = when.rpartition("/")
    return (sel or None), int(ms), act


def caller_ms(s):
    caller, _, ms = s.partition("=")
    return caller, int(ms)


def ms_list(s):
    return [int(x) for x in s.split(",")]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--engine", required=True)
    p.add_argument("--bind", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--rtp-port", type=int, default=0)
    p.add_argument("--answer-after", type=ms_list, default=[300])
    p.add_argument("--answer-after-from", type=caller_ms, action="append", default=[])
    p.add_argument("--no-answer", action="store_true")
    p.add_argument("--busy", action="store_true")
    p.add_argument("--answer-crosses-cancel", action="store_true")
    p.add_argument("--send")
    p.add_argument("--record")
    p.add_argument("--at", type=at_action, action="append", default=[])
    p.add_argument("--duration", type=float, default=60)
    a = p.parse_args(argv[1:])
    a.answer_after_from = dict(a.answer_after_from)
    Phone(a).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
