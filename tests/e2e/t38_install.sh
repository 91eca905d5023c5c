#!/usr/bin/env bash
# t38_install — `make install` gives an engine that runs from anywhere (issue 10 item 1).
#   stage   make install DESTDIR=$WORK/stage PREFIX=/usr (what `make deb` packs): the binary,
#           config, the site's and the shipped scripts/rules, prompts, fax documents, unit and
#           man page where docs/operator-guide.md says; no file names this machine's folders
#           (the work dir or the checkout), fax_dir points at /usr/share/hotline/fax
#   prefix  make install PREFIX=$WORK/opt (a self-contained tree: its config's folders are
#           real here), then from another directory (/): `hotline test-rules --config` passes
#           on the installed policy, and the installed binary runs with only
#           `--config` (plus test ports and a fixed wall clock) as the unit's ExecStart does,
#           with NOTIFY_SOCKET set: READY=1 after it listens; a SIPp call to 12333 hears the
#           welcome (welcome_1's bytes in order); `hotline ctl --config` finds it; SIGTERM
#           sends STOPPING=1 and exits 0
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/install_lib.sh"
make_install() {  # make_install LOG [make variables]
  local log=$1; shift
  make -C "$ROOT" --no-print-directory install "$@" > "$WORK/$log" 2>&1 ||
    fail "make install $*: $(tail -n 3 "$WORK/$log")"
  ! grep -qE 'apt-get|install-deps' "$WORK/$log" || fail "make install ran the package installer"
}

# ---- stage ---------------------------------------------------------------------------------
S=$WORK/stage
make_install stage.log DESTDIR="$S" PREFIX=/usr
for f in usr/bin/hotline etc/hotline/hotline.conf etc/hotline/scripts/main.lua \
         etc/hotline/rules/engine.lua usr/share/hotline/rules/engine.lua \
         usr/share/hotline/prompts/welcome_1.wav usr/share/hotline/fax/doc-1.tif \
         usr/lib/systemd/system/hotline.service usr/share/man/man8/hotline.8 var/lib/hotline; do
  [ -e "$S/$f" ] || fail "make install DESTDIR: /$f missing"
done
if grep -rlI -e "$WORK" -e "$ROOT" "$S" > "$WORK/leaks"; then
  fail "installed files name this machine's folders: $(head -n 3 "$WORK/leaks" | tr '\n' ' ')"
fi
grep -q '^ *fax_dir *= *"/usr/share/hotline/fax"' "$S/etc/hotline/rules/engine.lua" ||
  fail "installed engine.lua: fax_dir is not /usr/share/hotline/fax"
grep -q '^ExecStart=/usr/bin/hotline run --config /etc/hotline/hotline.conf$' \
  "$S/usr/lib/systemd/system/hotline.service" || fail "hotline.service: ExecStart"
say "stage: the package's layout under $S"

# ---- prefix: run the installed engine from / -------------------------------------------------
P=$WORK/opt
make_install prefix.log PREFIX="$P"
CONF=$P/etc/hotline/hotline.conf
INSTALLED=$P/bin/hotline
[ -x "$INSTALLED" ] || fail "no $INSTALLED"
(cd / && "$INSTALLED" test-rules --config "$CONF" > "$WORK/test-rules.out" 2>&1) ||
  fail "hotline test-rules --config on the installed policy: $(tail -n 3 "$WORK/test-rules.out")"
NOTIFY=$WORK/notify.sock
notify_listen "$NOTIFY"
(cd / && NOTIFY_SOCKET=$NOTIFY exec "$INSTALLED" run --config "$CONF" --sip "127.0.0.1:$SIP_PORT" \
   --rtp-ports "$RTP_LO-$RTP_HI" --clock 2026-07-01T10:00:00 >> "$ENGINE_LOG" 2>&1) &
ENGINE_PID=$!
notify_wait_ready 30
grep -q "listening on 127.0.0.1:$SIP_PORT" "$WORK/notify.log" || fail "READY's STATUS: $(cat "$WORK/notify.log")"
(cd / && "$INSTALLED" ctl --config "$CONF" status > "$WORK/status.out" 2>&1) ||
  fail "hotline ctl --config: $(head -c 300 "$WORK/status.out")"
[ -S "$P/var/lib/hotline/hotline.sock" ] || fail "the control socket is not in the installed data folder"

hear_prompt welcome "$P/share/hotline/prompts/welcome_1.wav"; say "$HEARD"
cdr_check --data "$P/var/lib/hotline" --where called=12333 'prompts~^welcome_1' hangup_side=caller ||
  fail "CDR of the call"

stop_engine 0
grep -q '^STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1 on NOTIFY_SOCKET at SIGTERM"
pass "DESTDIR layout has no build paths; the installed engine ran from / on its config, said READY/STOPPING, and a call heard the welcome"
