#!/usr/bin/env bash
# load.sh DATA_DIR — loads the sample accounts (accounts.sql here) into DATA_DIR/hotline.db
# for `make run` and the end-to-end tests.  The tables are the policy's
# (rules/schema/001_accounts.sql), made by the engine when it activates the policy: so this
# waits (up to 60 s) until an engine on DATA_DIR answers `hotline ctl status`, then inserts
# with the sqlite3 shell (the engine keeps serving: SQLite's WAL lets both in).
#   HOTLINE  the engine binary (default build/hotline)
set -euo pipefail
data=${1:?usage: load.sh DATA_DIR}
here=$(cd "$(dirname "$0")" && pwd)
hotline=${HOTLINE:-build/hotline}
for ((i = 0; i < 600; i++)); do
  "$hotline" ctl --data "$data" --timeout 2 status > /dev/null 2>&1 && break
  sleep 0.1
done
"$hotline" ctl --data "$data" --timeout 2 status > /dev/null 2>&1 ||
  { echo "load.sh: no engine answers on $data; sample accounts not loaded" >&2; exit 1; }
sqlite3 -bail -cmd ".timeout 5000" "$data/hotline.db" < "$here/accounts.sql"
echo "load.sh: sample accounts loaded into $data/hotline.db"
