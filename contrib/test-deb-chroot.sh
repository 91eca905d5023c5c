#!/usr/bin/env bash
# test-deb-chroot.sh CHROOT [DEB] — the Debian package on a fresh Debian 12 where systemd
# does not run (a chroot): installs DEB (default: the newest build/hotline_*.deb of `make deb`)
# with apt, which fetches its Depends; checks what postinst made (the hotline user, the data
# folder it owns, the unit's enable link, `systemd-analyze verify` of the unit); starts the engine as hotline.service would (the
# unit's ExecStart, as its User=, cwd /, NOTIFY_SOCKET set) on test ports written into the
# chroot's /etc/hotline/hotline.conf; waits for READY=1; asks `hotline ctl --config` inside
# the chroot for its status; makes a SIPp call from outside (the chroot shares the network)
# that must hear the welcome prompt's bytes; stops it with SIGTERM (STOPPING=1, exit 0).
#
# Needs root, a network path to Debian's archive and minutes: not part of `make test`.
# CHROOT that does not exist is made with `debootstrap --variant=minbase bookworm`.  The
# chroot's /proc, /sys and /dev are mounted for the run and unmounted at the end; the host's
# /etc/resolv.conf and /etc/apt/sources.list.d/debian.sources are copied in.  What the unit
# Then, when the host has systemd-nspawn (package systemd-container), the tree is booted with
# systemd as its init (sharing the host's network): the enabled unit must be active,
# `systemctl start hotline` (after a stop) must give an engine that answers a second call with
# the welcome, `systemctl reload` must reach it as SIGHUP, it must run as the hotline user, and
# `systemctl stop` must end it with SIGTERM; the box is then powered off.
E2E_TEST_NAME=t90_deb_chroot
. "$(dirname "$0")/../tests/e2e/lib.sh"
. "$(dirname "$0")/../tests/e2e/install_lib.sh"
C=${1:-}
[ -n "$C" ] || fail "usage: contrib/test-deb-chroot.sh CHROOT [DEB]"
[ "$(id -u)" -eq 0 ] || fail "needs root (chroot, mount, apt)"
DEB=${2:-$(ls -t "$ROOT"/build/hotline_*.deb 2>/dev/null | head -n 1)}
[ -f "$DEB" ] || fail "no package: run 'make deb' first (or name one)"
C=$(realpath -m "$C")

MOUNTED=()
unmount_all() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTED[$i]}" 2>/dev/null; done
  MOUNTED=()
}
trap 'unmount_all; e2e_cleanup' EXIT
mount_in() {  # mount_in WHAT TARGET [mount options]
  local what=$1 target=$C$2; shift 2
  mountpoint -q "$target" && return 0
  mount "$@" "$what" "$target" || fail "mount $what on $target"
  MOUNTED+=("$target")
}

if [ ! -d "$C" ]; then
  say "making a minbase Debian 12 in $C (debootstrap)"
  debootstrap --variant=minbase bookworm "$C" http://deb.debian.org/debian > "$WORK/debootstrap.log" 2>&1 ||
    fail "debootstrap: $(tail -n 3 "$WORK/debootstrap.log")"
fi
[ -f "$C/etc/debian_version" ] || fail "$C is not a Debian tree"
say "chroot $C: Debian $(cat "$C/etc/debian_version"); package $(basename "$DEB")"
mount_in proc /proc -t proc
mount_in sysfs /sys -t sysfs
mount_in /dev /dev --bind
cp /etc/resolv.conf "$C/etc/resolv.conf"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$C/etc/apt/sources.list.d/debian.sources"
  rm -f "$C/etc/apt/sources.list"   # debootstrap's, the same archive: apt warns of duplicates
fi
in_chroot() { chroot "$C" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

# ---- install ---------------------------------------------------------------------------------
cp "$DEB" "$C/tmp/hotline.deb"
in_chroot apt-get update -qq > "$WORK/apt.log" 2>&1 || fail "apt-get update: $(tail -n 3 "$WORK/apt.log")"
# A Debian 12 machine has systemd (minbase does not): with it postinst enables the unit
# (offline: the links; nothing runs it in a chroot) and systemd-analyze can check the unit.
in_chroot apt-get install -y -qq --no-install-recommends systemd >> "$WORK/apt.log" 2>&1 ||
  fail "apt-get install systemd: $(tail -n 3 "$WORK/apt.log")"
# A run after a run: the package goes first, so that its postinst runs again.
if in_chroot dpkg-query -W -f='${Status}' hotline 2>/dev/null | grep -q 'install ok installed'; then
  in_chroot dpkg -r hotline >> "$WORK/apt.log" 2>&1 || fail "dpkg -r hotline: $(tail -n 3 "$WORK/apt.log")"
fi
before=$(in_chroot dpkg-query -W -f='${Package}\n' | sort)
in_chroot apt-get install -y -qq --no-install-recommends /tmp/hotline.deb >> "$WORK/apt.log" 2>&1 ||
  fail "apt-get install: $(tail -n 5 "$WORK/apt.log")"
added=$(comm -13 <(echo "$before") <(in_chroot dpkg-query -W -f='${Package}\n' | sort) | tr '\n' ' ')
say "apt installed: $added"
in_chroot dpkg-query -W -f='${Status}' hotline | grep -q 'install ok installed' || fail "hotline not installed"
in_chroot getent passwd hotline > /dev/null || fail "postinst made no hotline user"
owner=$(in_chroot stat -c %U:%G /var/lib/hotline 2>/dev/null)
[ "$owner" = hotline:hotline ] || fail "/var/lib/hotline is owned by '$owner', not hotline:hotline"
UNIT=$C/usr/lib/systemd/system/hotline.service
[ -f "$UNIT" ] || fail "no /usr/lib/systemd/system/hotline.service"
[ -L "$C/etc/systemd/system/multi-user.target.wants/hotline.service" ] || fail "postinst did not enable the unit"
in_chroot systemd-analyze verify --man=no /usr/lib/systemd/system/hotline.service > "$WORK/verify.out" 2>&1 ||
  fail "systemd-analyze verify hotline.service: $(head -c 400 "$WORK/verify.out")"
[ -s "$WORK/verify.out" ] && say "systemd-analyze verify: $(head -c 300 "$WORK/verify.out" | tr '\n' ' ')"
say "enabled (multi-user.target.wants), and systemd-analyze verify passes"

# ---- start it as the unit would ------------------------------------------------------------------
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
user=$(sed -n 's/^User=//p' "$UNIT")
[ -n "$exec_start" ] && [ -n "$user" ] || fail "the unit has no ExecStart or User"
CONF=/etc/hotline/hotline.conf
sed -i -E -e "s/^sip *=.*/sip = 127.0.0.1:$SIP_PORT/" -e "s/^rtp-ports *=.*/rtp-ports = $RTP_LO-$RTP_HI/" "$C$CONF"
NOTIFY=/run/hotline-test-notify.sock
notify_listen "$C$NOTIFY"
chmod 0777 "$C$NOTIFY"   # the engine's user sends to it
say "starting: $exec_start (as $user, cwd /)"
# shellcheck disable=SC2086 # ExecStart's words
chroot "$C" /usr/bin/env -i PATH=/usr/bin:/bin NOTIFY_SOCKET=$NOTIFY \
  setpriv --reuid="$user" --regid="$user" --init-groups $exec_start >> "$ENGINE_LOG" 2>&1 &
ENGINE_PID=$!
notify_wait_ready 60
say "engine said: $(head -n 1 "$WORK/notify.log")"
in_chroot hotline ctl --config "$CONF" status > "$WORK/status.out" 2>&1 ||
  fail "hotline ctl --config $CONF status: $(head -c 300 "$WORK/status.out")"
say "ctl status: $(head -n 2 "$WORK/status.out" | tr '\n' ' ')"

# ---- a call ----------------------------------------------------------------------------------------
welcome=$C/usr/share/hotline/prompts/welcome_1.wav
hear_prompt welcome "$welcome"; say "$HEARD"
in_chroot hotline ctl --config "$CONF" --json cdr --last 1 > "$WORK/cdr.out" 2>&1 || fail "ctl cdr: $(head -c 300 "$WORK/cdr.out")"
grep -q 'welcome_1' "$WORK/cdr.out" || fail "the CDR does not list welcome_1: $(head -c 400 "$WORK/cdr.out")"
stop_engine 0
grep -q '^STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1 at SIGTERM"
say "ExecStart as $user: READY, a call that heard the welcome, STOPPING, exit 0"

# ---- under systemd: boot the tree with systemd-nspawn (when the host has it) -----------------------
if ! command -v systemd-nspawn > /dev/null; then
  pass "the .deb and its Depends installed on Debian $(cat "$C/etc/debian_version"); the unit's ExecStart answered a call (no systemd-nspawn here: the unit itself was not run under systemd)"
fi
unmount_all
systemd-nspawn -D "$C" --boot --register=no --keep-unit > "$WORK/nspawn.log" 2>&1 &
NSPAWN_PID=$!; BG_PIDS+=("$NSPAWN_PID")
INIT=""
for _ in $(seq 100); do
  INIT=$(pgrep -P "$NSPAWN_PID" | head -n 1)
  [ -n "$INIT" ] && break
  sleep 0.1
done
[ -n "$INIT" ] || fail "systemd-nspawn did not boot: $(tail -n 5 "$WORK/nspawn.log")"
in_box() { nsenter -t "$INIT" -m -u -i -p -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
state=""
for _ in $(seq 120); do
  state=$(in_box systemctl is-active hotline.service 2>/dev/null)
  [ "$state" = active ] && break
  sleep 0.5
done
[ "$state" = active ] || fail "hotline.service is '$state' after boot: $(in_box journalctl -u hotline --no-pager 2>&1 | tail -n 5)"
# The package's own start at boot is the enabled unit; `systemctl start` is the operator's:
in_box systemctl stop hotline.service
in_box systemctl start hotline.service || fail "systemctl start hotline: $(in_box journalctl -u hotline --no-pager | tail -n 5)"
say "under systemd: systemctl start hotline -> $(in_box systemctl is-active hotline.service)"
hear_prompt welcome2 "$welcome"; say "under systemd: $HEARD"
in_box systemctl reload hotline.service || fail "systemctl reload hotline"
for _ in $(seq 50); do in_box journalctl -u hotline --no-pager | grep -q 'SIGHUP' && break; sleep 0.2; done
in_box journalctl -u hotline --no-pager | grep -q 'SIGHUP' || fail "systemctl reload: no SIGHUP in the journal"
main_pid=$(in_box systemctl show -p MainPID --value hotline.service)
in_box journalctl -u hotline --no-pager > "$WORK/journal.log" 2>&1
user_now=$(in_box ps -o user= -p "$main_pid" 2>/dev/null | tr -d ' ')
say "under systemd: reload took SIGHUP; the engine runs as '$user_now' (pid $main_pid in the box)"
[ "$user_now" = hotline ] || fail "the service runs as '$user_now', not hotline"
in_box systemctl stop hotline.service
[ "$(in_box systemctl is-active hotline.service)" = inactive ] || fail "systemctl stop: $(in_box systemctl is-active hotline.service)"
in_box journalctl -u hotline --no-pager > "$WORK/journal.log" 2>&1
grep -q 'SIGTERM' "$WORK/journal.log" || fail "systemctl stop: no SIGTERM in the journal"
kill -TERM "$NSPAWN_PID"   # powers the box off
for _ in $(seq 300); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
pass "apt installed the .deb and its Depends on Debian $(cat "$C/etc/debian_version"); the unit's ExecStart as $user answered a call; booted with systemd-nspawn, systemctl start/reload/stop hotline worked and a call heard the welcome"
