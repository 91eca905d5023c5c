#!/usr/bin/env bash
# build-deb.sh STAGE OUT_DIR — `make deb`: packs a `make install PREFIX=/usr DESTDIR=STAGE`
# tree into OUT_DIR/hotline_VERSION_ARCH.deb with dpkg-deb (no debian/ source package: the
# Makefile already knows how to build and install, and the staged tree is what ships).
# Depends come from dpkg-shlibdeps (the libraries the binary links), plus passwd (useradd in
# postinst) and procps (the unit's ExecReload runs /bin/kill); every file under /etc
# is a conffile, so an upgrade keeps the site's config and policy; the maintainer scripts
# beside this file create the user and the data folder and enable the service.
set -euo pipefail
stage=${1:?usage: build-deb.sh STAGE OUT_DIR}
out=${2:?usage: build-deb.sh STAGE OUT_DIR}
stage=$(cd "$stage" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for tool in dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" > /dev/null || { echo "build-deb: $tool is missing (apt-get install dpkg-dev)" >&2; exit 1; }
done
version=$(sed -n 's/^#define HL_VERSION "\(.*\)"$/\1/p' "$root/engine/version.h")
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "build-deb: no HL_VERSION in engine/version.h" >&2; exit 1; }

# dpkg-shlibdeps wants a debian/control beside it: a throwaway one.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian"
printf 'Source: hotline\n\nPackage: hotline\nArchitecture: any\n' > "$tmp/debian/control"
depends=$( (cd "$tmp" && dpkg-shlibdeps -O -e "$stage/usr/bin/hotline" 2> "$tmp/shlibdeps.err") |
          sed -n 's/^shlibs:Depends=//p' || true)
[ -n "$depends" ] || { cat "$tmp/shlibdeps.err" >&2; echo "build-deb: dpkg-shlibdeps found no Depends" >&2; exit 1; }

# Debian ships binaries stripped (the debug information names the build's folders).
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/hotline"
# Debian's manual pages are compressed; the copyright file is required.
gzip -9nf "$stage/usr/share/man/man8/hotline.8"
install -d "$stage/usr/share/doc/hotline"
install -m 0644 "$here/copyright" "$stage/usr/share/doc/hotline/copyright"
for d in operator-guide.md admin-guide.md; do
  [ -f "$root/docs/$d" ] && install -m 0644 "$root/docs/$d" "$stage/usr/share/doc/hotline/$d"
done
# The data folder belongs to the hotline user, made by postinst: not shipped.
rm -rf "$stage/var"

install -d "$stage/DEBIAN"
(cd "$stage" && find etc -type f | sed 's#^#/#' | sort) > "$stage/DEBIAN/conffiles"
for s in postinst prerm postrm; do
  install -m 0755 "$here/$s" "$stage/DEBIAN/$s"
done
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: hotline
Version: $version
Architecture: $arch
Maintainer: hotline maintainers <hotline@localhost>
Installed-Size: $size
Depends: $depends, passwd, procps
Suggests: sqlite3
Section: comm
Priority: optional
Description: Lua-scriptable telephony engine for hotlines and call centres
 Answers SIP calls and runs them through call scripts in Lua: prompts, keys,
 recordings, queues and agents, transfers, fax on demand; CDRs in SQLite.
 Ships the 12333 hotline IVR as its policy (/etc/hotline) and runs as the
 systemd service hotline.service under its own user.
CONTROL
deb="$out/hotline_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" > /dev/null
echo "deb: $deb ($(du -h "$deb" | cut -f1); Depends: $depends)"
