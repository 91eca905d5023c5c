#!/usr/bin/env bash
# t03_record — a recording holds the audio that was sent: (a) SIPp streams a known PCMU
# signal (mkaudio.py stream; rtp_stream) while the script records 3 s; (b) a PCMA call
# (ptime 30) plays SIPp's g711a.pcap capture (pcap playback: needs root).  Each recording
# WAV must contain the decoded samples of what was sent, in order (checkrec.py).
# Recordings are private whatever the umask and what was there (issue 7): the engine runs
# with umask 000 over a recordings folder left 0777; it is tightened to 0750 with a log
# line, and each recording is 0640 in a folder 0750.
. "$(dirname "$0")/lib.sh"
mkdir -p "$DATA/recordings" && chmod 0777 "$DATA/recordings"
umask 000
start_engine
umask 022
grep -q "recordings was mode 0777: tightened to 0750" "$ENGINE_LOG" ||
  fail "no log line tightening the 0777 recordings folder"
"$PY" "$E2E/mkaudio.py" stream "$WORK/stream.ulaw" 8 pcmu || fail "mkaudio.py stream failed"
check_recording() {  # check_recording TAG REFERENCE -> prints checkrec's line
  local rel rec f
  rel=$(cdr_check --where "$(where_call "$1")" 'route~^recorded' 'recording?' --get recording) ||
    { echo "CDR of the recording call: $rel"; return 1; }
  rec=""
  for f in "$DATA/$rel" "$DATA/recordings/$rel"; do [ -f "$f" ] && { rec=$f; break; }; done
  [ -n "$rec" ] || rec=$(find "$DATA" -type f -path "*${rel#/}" 2>/dev/null | head -n 1)
  [ -n "$rec" ] && [ -f "$rec" ] || { echo "recording '$rel' not found under $DATA"; return 1; }
  local modes
  modes="$(stat -c %a "$rec") $(stat -c %a "$(dirname "$rec")") $(stat -c %a "$DATA/recordings")"
  [ "$modes" = "640 750 750" ] || { echo "recording, its folder, recordings/ are $modes, not 640 750 750"; return 1; }
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
