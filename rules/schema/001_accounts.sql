-- rules/schema/001_accounts.sql — the account query's demo data source (key 4, §10.12;
-- SPEC 2.5; rules/accounts.lua) and the lock after wrong PINs.  A site with a real back end
-- answers lookups from it instead (contrib/accounts-http/) and keeps only the locks here.
--   pin_hash   hl.pin_hash(id_number .. ":" .. PIN): Argon2id with its own salt (no PIN kept)
--   failures   wrong PINs in a row; at rules/ivr.lua account.max_pin_failures the ID is
--              locked until locked_until (epoch seconds) and the count starts again
-- Applied once by the engine when the policy is activated (docs/admin-guide.md, "The
-- policy's tables"); never edited once applied: a change is a new file.  IF NOT EXISTS:
-- databases made before issue 6 got these tables from the engine and keep them.
-- No rows: sample accounts are examples/sample-data/, loaded only by `make run`.
CREATE TABLE IF NOT EXISTS demo_accounts (
  id_number   TEXT PRIMARY KEY,
  pin_hash    TEXT NOT NULL,
  name        TEXT NOT NULL DEFAULT '',
  balance_fen INTEGER NOT NULL DEFAULT 0,
  paid_months INTEGER NOT NULL DEFAULT 0,
  last_paid   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS account_locks (
  id_number    TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL DEFAULT 0,
  locked_until REAL NOT NULL DEFAULT 0
);
