#!/usr/bin/env bash
# t03_record — a recording holds the audio that was sent: (a) SIPp streams a known PCMU
# signal (mkaudio.py stream; rtp_stream) while the script records 3 s; (b) a PCMA call
# (ptime 30) plays SIPp's g711a.pcap capture (pcap playback: needs root).  Each recording
# WAV must contain the decoded samples of what was sent, in order (checkrec.py).
. "$(dirname "$0")/lib.sh"
start_engine
"$PY" "$E2E/mkaudio.py" stream "$WORK/stream.ulaw" 8 pcmu || fail "mkaudio.py stream failed"
check_recording() {  # check_recording TAG REFERENCE -> prints checkrec's line
  local rel rec f
  rel=$(cdr_check --where "$(where_call "$1")" 'route~^recorded' 'recording?' --get recording) ||
    { echo "CDR of the recording call: $rel"; return 1; }
  rec=""
  for f in "$DATA/$rel" "$DATA/recordings/$rel"; do [ -f "$f" ] && { rec=$f; break; }; done
  [ -n "$rec" ] || rec=$(find "$DATA" -type f -path "*${rel#/}" 2>/dev/null | head -n 1)
  [ -n "$rec" ] && [ -f "$rec" ] || { echo "recording '$rel' not found under $DATA"; return 1; }
  "$PY" "$E2E/checkrec.py" "$rec" "$2" 2.0
}
media='<nop><action><exec rtp_stream="stream.ulaw,1,0,PCMU/8000"/></action></nop>'
run_sipp record "$(scen uac_wait_bye BYE_TIMEOUT=15000 "MEDIA=$media")" record ||
  fail "PCMU: $(sipp_why record $?)"
out=$(check_recording record "$WORK/stream.ulaw.wav") || fail "PCMU recording: $out"
say "PCMU: $out"
need_root "pcap playback of g711a.pcap"
pcap=/usr/share/sip-tester/g711a.pcap
media="<nop><action><exec play_pcap_audio=\"$pcap\"/></action></nop>"
run_sipp record_pcma "$(scen uac_wait_bye BYE_TIMEOUT=15000 PT=8 CODEC=PCMA \
  'SDP_EXTRA=\n      a=ptime:30' "MEDIA=$media")" record || fail "PCMA: $(sipp_why record_pcma $?)"
out2=$(check_recording record_pcma "$pcap") || fail "PCMA recording: $out2"
say "PCMA: $out2"
cdr_check --where "$(where_call record_pcma)" codec=PCMA > /dev/null || fail "the PCMA call's CDR codec is not PCMA"
pass "both recordings hold the sent audio (PCMU ${out##*, covering }, PCMA ${out2##*, covering })"
