#!/usr/bin/env python3
"""mkscen.py — writes a SIPp caller scenario for the 12333 IVR tests (t30-t39) from
tests/e2e/sipp/ivr_uac.xml and a list of steps, run after the call is answered:

  mkscen.py TEMPLATE OUT.xml CALLER STEP ...

  pause:MS           wait MS milliseconds
  info:KEYS[:GAP]    each key (0-9 * #) as SIP INFO application/dtmf-relay, answered 200,
                     GAP ms apart (default 250)
  rfc:KEYS[:GAP]     each key as RFC 4733 events: SIPp replays its capture
                     /usr/share/sip-tester/dtmf_2833_K.pcap (payload 101; needs root),
                     GAP ms apart (default 600)
  stream:FILE        start sending FILE (raw PCMU bytes) as RTP, in a loop, until the end
  refer:CODE[:MS]    wait up to MS (default 40000) for the engine's REFER and refuse it
                     with CODE (the engine then dials the target and bridges)
  bye                the caller hangs up: BYE, expects 200
  waitbye:MS         wait up to MS for the engine's BYE and answer 200

CALLER is the From user (the caller's number: it decides the caller's centre)."""
import sys

PCAP_DIR = "/usr/share/sip-tester"
PCAP_NAME = {"*": "star", "#": "pound"}
KEYS = "0123456789*#"

IN_DIALOG = """      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "ivr" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70"""

INFO = """  <send retrans="500">
    <![CDATA[
      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{hdrs}
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
"""

BYE = """  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{hdrs}
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

# Answers to the engine's requests: the headers of the request, our Contact.
ANSWER = """  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
"""

REASONS = {405: "Method Not Allowed", 501: "Not Implemented", 603: "Decline", 200: "OK"}


def build(caller, steps):
    out = []
    cseq = 2

    def hdrs(method):
        nonlocal cseq
        h = IN_DIALOG.format(caller=caller, cseq=cseq, method=method)
        cseq += 1
        return h

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "pause":
            out.append('  <pause milliseconds="%d"/>\n' % int(arg))
        elif kind in ("info", "rfc"):
            keys, _, gap = arg.partition(":")
            gap = int(gap or (250 if kind == "info" else 600))
            for i, k in enumerate(keys):
                if k not in KEYS:
                    raise ValueError("not a DTMF key: %r" % k)
                if i:
                    out.append('  <pause milliseconds="%d"/>\n' % gap)
                if kind == "info":
                    out.append(INFO.format(hdrs=hdrs("INFO"), key=k))
                else:
                    pcap = "%s/dtmf_2833_%s.pcap" % (PCAP_DIR, PCAP_NAME.get(k, k))
                    out.append('  <nop><action><exec play_pcap_audio="%s"/></action></nop>\n' % pcap)
        elif kind == "stream":
            out.append('  <nop><action><exec rtp_stream="%s,-1,0"/></action></nop>\n' % arg)
        elif kind == "refer":
            code, _, ms = arg.partition(":")
            code = int(code)
            out.append('  <recv request="REFER" timeout="%d"/>\n' % int(ms or 40000))
            out.append(ANSWER.format(status="%d %s" % (code, REASONS.get(code, "Refused")),
                                     caller=caller))
        elif kind == "bye":
            out.append(BYE.format(hdrs=hdrs("BYE")))
        elif kind == "waitbye":
            out.append('  <recv request="BYE" timeout="%d"/>\n' % int(arg or 40000))
            out.append(ANSWER.format(status="200 OK", caller=caller))
            out.append('  <pause milliseconds="200"/>\n')
        else:
            raise ValueError("unknown step %r" % step)
    return "".join(out)


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    template, dest, caller, steps = argv[1], argv[2], argv[3], argv[4:]
    if not caller or any(c in caller for c in "<>@ \"&"):
        sys.stderr.write("mkscen.py: bad caller %r\n" % caller)
        return 2
    try:
        body = build(caller, steps)
    except ValueError as e:
        sys.stderr.write("mkscen.py: %s\n" % e)
        return 2
    with open(template, encoding="latin-1") as f:
        text = f.read()
    if "@STEPS@" not in text:
        sys.stderr.write("mkscen.py: %s has no @STEPS@ line\n" % template)
        return 2
    text = text.replace("@CALLER@", caller).replace("@STEPS@", body.rstrip("\n"))
    with open(dest, "w", encoding="latin-1") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
