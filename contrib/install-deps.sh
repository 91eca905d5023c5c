#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages hotline needs, only those missing.
# Run as root (or with sudo available). Used by `make run`, `make test` and `make bench`.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config clang libclang-rt-14-dev
  liblua5.4-dev libuv1-dev libortp-dev libbctoolbox-dev libosip2-dev
  libsqlite3-dev sqlite3 libjansson-dev libspandsp-dev libtiff-dev libcurl4-openssl-dev libsodium-dev libsystemd-dev libh2o-dev libssl-dev
  sip-tester baresip-core espeak-ng sox libtiff-tools python3
  chromium python3-websockets
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
