#!/usr/bin/env bash
# install.sh — `make install`: puts a built engine where it runs from any directory.
# Installs nothing from a package registry (that is `make deps`); run after `make all
# prompts fax-docs`.  The Makefile passes the folders (all without DESTDIR, which is added
# here, so the paths written into files are the installed ones):
#   BINDIR/hotline                              the program
#   DATADIR/{prompts,fax}                       the built prompts, the sample fax documents
#   DATADIR/{scripts,rules}                     the shipped policy, as shipped (for diff -r)
#   CONFDIR/{scripts,rules,hotline.conf}        the site's policy and config: written only
#                                               when absent, so an upgrade keeps the site's
#   STATEDIR                                    the data folder (store, recordings, socket)
#   UNITDIR/hotline.service, MANDIR/man8/hotline.8
# rules/engine.lua's fax_dir ("../build/fax" in a checkout) is pointed at DATADIR/fax.
set -euo pipefail
: "${BUILD:=build}" "${DESTDIR:=}" "${BINDIR:?}" "${DATADIR:?}" "${CONFDIR:?}" "${STATEDIR:?}"
: "${UNITDIR:?}" "${MANDIR:?}"
for f in "$BUILD/hotline" "$BUILD/prompts/welcome_1.wav" "$BUILD/fax"; do
  [ -e "$f" ] || { echo "install: $f is missing: run 'make all prompts' first" >&2; exit 1; }
done

# fax_dir = "..." in an installed engine.lua: the installed sample documents.
point_fax_dir() {  # point_fax_dir RULES_DIR
  sed -i -E "s#^([[:space:]]*fax_dir[[:space:]]*=[[:space:]]*)\"[^\"]*\"#\1\"$DATADIR/fax\"#" "$1/engine.lua"
  grep -q "fax_dir *= *\"$DATADIR/fax\"" "$1/engine.lua" ||
    { echo "install: could not set fax_dir in $1/engine.lua (its format changed?)" >&2; exit 1; }
}

# Paths of the package's layout (/usr, /etc, /var/lib) replaced by this install's.
relocate() {  # relocate FILE
  sed -i -e "s#/usr/bin/hotline#$BINDIR/hotline#g" -e "s#/etc/hotline#$CONFDIR#g" \
         -e "s#/var/lib/hotline#$STATEDIR#g" -e "s#/usr/share/hotline#$DATADIR#g" "$1"
}

install -d "$DESTDIR$BINDIR" "$DESTDIR$DATADIR" "$DESTDIR$CONFDIR" "$DESTDIR$UNITDIR" \
           "$DESTDIR$MANDIR/man8"
install -d -m 0750 "$DESTDIR$STATEDIR"
install -m 0755 "$BUILD/hotline" "$DESTDIR$BINDIR/hotline"
for d in prompts fax; do
  rm -rf "${DESTDIR}${DATADIR:?}/$d"
  cp -r "$BUILD/$d" "$DESTDIR$DATADIR/$d"
done
for d in scripts rules; do
  rm -rf "${DESTDIR}${DATADIR:?}/$d"
  cp -r "$d" "$DESTDIR$DATADIR/$d"
done
point_fax_dir "$DESTDIR$DATADIR/rules"
for d in scripts rules; do
  if [ -e "$DESTDIR$CONFDIR/$d" ]; then
    echo "install: kept the site's $CONFDIR/$d; the new shipped one is $DATADIR/$d (diff -r them)"
  else
    cp -r "$DESTDIR$DATADIR/$d" "$DESTDIR$CONFDIR/$d"
  fi
done
if [ -e "$DESTDIR$CONFDIR/hotline.conf" ]; then
  echo "install: kept $CONFDIR/hotline.conf; the shipped one is contrib/hotline.conf"
else
  install -m 0644 contrib/hotline.conf "$DESTDIR$CONFDIR/hotline.conf"
  relocate "$DESTDIR$CONFDIR/hotline.conf"
fi
install -m 0644 contrib/systemd/hotline.service "$DESTDIR$UNITDIR/hotline.service"
relocate "$DESTDIR$UNITDIR/hotline.service"
install -m 0644 docs/hotline.8 "$DESTDIR$MANDIR/man8/hotline.8"
relocate "$DESTDIR$MANDIR/man8/hotline.8"
echo "install: hotline in $DESTDIR$BINDIR, config $DESTDIR$CONFDIR/hotline.conf, data $DESTDIR$STATEDIR"
