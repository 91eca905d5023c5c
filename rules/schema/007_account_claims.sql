-- rules/schema/007_account_claims.sql — one call at a time per ID in the account query
-- (key 4; rules/accounts.lua M.claim, issue 7): parallel calls guessing PINs for one ID
-- got around the lock.  A row is the call (call_id, the engine's call.id) working on that
-- ID until expires (epoch seconds): a call that ends without releasing it (an engine that
-- died mid-flow) holds it no longer than rules/ivr.lua account.claim_seconds.
-- (Numbered 007, for the issue, so that another branch's 004-006 cannot collide with it.)
CREATE TABLE IF NOT EXISTS account_claims (
  id_number TEXT PRIMARY KEY,
  call_id   TEXT NOT NULL,
  expires   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS account_claims_call ON account_claims(call_id);
