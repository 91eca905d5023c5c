#!/usr/bin/env python3
"""agent_actions.py — agent_phone.py's phone, and also the caller of its own calls (issue 8,
t48/t49/t50): it registers, then dials a number from the agent's phone (an INVITE the engine
challenges; the digest is answered with the agent's password), talks RTP on the call the
engine answers (sends a stream, records what it hears, keys by RFC 4733) — a feature code,
a callback, a supervisor's *31 — and can vanish in the middle of a call it was rung for.
agent_phone.py itself is left as t34-t36 use it; this file only adds to its Phone.

  agent_actions.py [agent_phone.py's options] [--dial NUMBER [--dial-after MS]]

  --dial N1,N2,...  after registering (and --dial-after MS), INVITE sip:N1@engine with
                    an SDP offer (PCMU, telephone-event); a 401 is answered (MD5) once; 1xx
                    are shown; a 200 is ACKed and the call is up like an answered one
                    (--send, --record and --at apply to it, times from its 200); once it
                    has ended (either side's BYE, or refused), --dial-gap MS (default
                    1000), then N2 ...
  --at MS:vanish    (on any call) the phone falls silent: no RTP, no answer to anything (BYE,
                    OPTIONS, re-INVITE), no unregistering at the end — a phone unplugged
Events as agent_phone.py's, plus: dialled {code, stage: "challenge"|"final"}, progress {code},
vanished."""
import argparse
import os
import re
import select
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_phone  # noqa: E402
from agent_phone import Call, Phone, body_of, out, sdp_media  # noqa: E402
from agentphone import headers_of  # noqa: E402
from register import answer  # noqa: E402


class ActionPhone(Phone):
    def __init__(self, a):
        super().__init__(a)
        self.vanished = False
        self.dials = list(a.dial)
        self.dial_at = time.time() + a.dial_after / 1000.0

    # ---- vanishing ------------------------------------------------------------------------
    def act(self, call, action):
        if action == "vanish":
            self.vanished = True
            self.media_call = None
            out("vanished", call_id=call.call_id)
            return
        super().act(call, action)

    def on_request(self, text):
        if not self.vanished:
            super().on_request(text)

    def on_response(self, text):
        if not self.vanished:
            super().on_response(text)

    def register(self, expires):
        if self.vanished:
            return None
        return super().register(expires)

    # ---- placing a call -------------------------------------------------------------------
    def invite(self, ruri, callid, tag, cseq, auth):
        sdp = self.sdp()
        self.send("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\n"
                  "CSeq: %d INVITE\r\nContact: <sip:%s@%s:%d>\r\n%sContent-Type: application/sdp\r\n"
                  "Content-Length: %d\r\n\r\n%s"
                  % (ruri, self.src, self.sport, uuid.uuid4().hex[:12], self.a.user, self.engine[0], tag,
                     ruri, callid, cseq, self.a.user, self.src, self.sport,
                     "Authorization: %s\r\n" % auth if auth else "", len(sdp.encode()), sdp))

    def wait_final(self, callid, timeout):
        """The final response to our INVITE; 1xx shown; requests meanwhile handled."""
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.sip], [], [], 0.05)
            if not r:
                continue
            text = self.sip.recv(65535).decode("utf-8", "replace")
            if not text.startswith("SIP/2.0 "):
                self.on_request(text)
                continue
            h = headers_of(text)
            if h.get("call-id", [""])[0] != callid or not h.get("cseq", ["0 X"])[0].endswith("INVITE"):
                self.on_response(text)
                continue
            code = int(text.split(" ")[1])
            if code < 200:
                out("progress", code=code)
                continue
            return code, text
        return None, None

    def ack(self, target, callid, tag, to, cseq):
        self.send("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
                  "From: <sip:%s@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\n"
                  "Content-Length: 0\r\n\r\n"
                  % (target, self.src, self.sport, uuid.uuid4().hex[:12], self.a.user, self.engine[0], tag,
                     to, callid, cseq))

    def dial(self, number):
        ruri = "sip:%s@%s:%d" % (number, self.engine[0], self.engine[1])
        callid, tag = uuid.uuid4().hex + "@" + self.src, uuid.uuid4().hex[:8]
        cseq, auth = 1, None
        self.invite(ruri, callid, tag, cseq, None)
        code, text = self.wait_final(callid, 10)
        if code and code >= 300:
            self.ack(ruri, callid, tag, headers_of(text)["to"][0], cseq)
        out("dialled", code=code, stage="challenge" if code == 401 else "final", number=number)
        if code == 401:
            ch = [c for c in headers_of(text)["www-authenticate"] if "algorithm=MD5" in c][0]
            auth = answer(ch, "MD5", "INVITE", ruri, self.a.user, self.a.password)
            cseq += 1
            self.invite(ruri, callid, tag, cseq, auth)
            code, text = self.wait_final(callid, 70)
            if code and code >= 300:
                self.ack(ruri, callid, tag, headers_of(text)["to"][0], cseq)
            out("dialled", code=code, stage="final", number=number)
        if code != 200:
            return
        h = headers_of(text)
        target = re.sub(r"^.*<|>.*$", "", h.get("contact", [ruri])[0])
        self.ack(target, callid, tag, h["to"][0], cseq)
        call = Call.__new__(Call)
        call.invite, call.h, call.call_id, call.local_tag = text, h, callid, tag
        call.remote_from, call.remote_target = h["to"][0], target
        call.media = sdp_media(body_of(text))
        call.state, call.answer_due, call.cseq = "ringing", None, cseq
        self.calls[callid] = call
        self.go_up(call)

    def go_up(self, call):
        """The call is up: answer_call's bookkeeping (actions, media, the answered event),
        minus its 200 — here the engine answered our INVITE."""
        self.respond = lambda *args, **kw: None
        try:
            self.answer_call(call)
        finally:
            del self.respond             # the class's own again

    def rtp_in(self):
        super().rtp_in()
        if self.rec:                 # the test reads the file while the phone runs
            self.rec.flush()

    def next_dial(self, now):
        """From run()'s loop: the next number, --dial-gap after the last call ended."""
        if not self.dials or any(c.state != "ended" for c in self.calls.values()):
            self.dial_at = None if self.calls else self.dial_at
            return
        if self.dial_at is None:
            self.dial_at = now + self.a.dial_gap / 1000.0
        elif now >= self.dial_at:
            self.dial_at = None
            self.dial(self.dials.pop(0))

    def rtp_tick(self, now):             # run() calls it every turn of its loop
        if self.vanished:
            return
        self.next_dial(now)
        super().rtp_tick(now)


def main(argv):
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--dial", type=lambda v: v.split(","), default=[])
    p.add_argument("--dial-after", type=int, default=0)
    p.add_argument("--dial-gap", type=int, default=1000)
    ours, rest = p.parse_known_args(argv[1:])

    class Phone(ActionPhone):
        def __init__(self, a):
            a.dial, a.dial_after, a.dial_gap = ours.dial, ours.dial_after, ours.dial_gap
            super().__init__(a)
    agent_phone.Phone = Phone         # agent_phone.main() builds its Phone by that name
    return agent_phone.main([argv[0]] + rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
