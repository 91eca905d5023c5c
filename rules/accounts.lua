-- rules/accounts.lua — the data source of key 4, personal account query (§10.12; SPEC 2.5),
-- the lock after wrong PINs, and one call at a time per ID.
--
-- The default source is the table demo_accounts of the engine's store, declared with
-- account_locks in rules/schema/001_accounts.sql (no rows: sample accounts are
-- examples/sample-data/, for `make run`); account_claims in 007_account_claims.sql.
-- account_locks.failures counts PINs checked since the last right one (M.attempt), each
-- counted before it is checked.  pin_hash is hl.pin_hash(id_number .. ":" .. pin)
-- — Argon2id with a salt of its own (docs/lua-api.md): no PIN is stored, and the hash is
-- tied to its ID.  A site with a real back end replaces M.lookup (and keeps its shape): it
-- gets the ID and returns { pin_hash=, balance_fen=, paid_months=, last_paid= } (or
-- M.check_pin is replaced too when the back end checks PINs itself), nil when there is no
-- such account, or nil, "error text" when the back end fails.
--
-- Never log or keep an ID or a PIN (no hl.log, no call.vars): SPEC 2.5 / issue 3.
local ivr = require "ivr"

local M = {}

-- GB 11643 / ISO 7064 MOD 11-2: weights of the 17 digits, and the check character for
-- each remainder of the weighted sum mod 11.
local WEIGHTS = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 }
local CHECK = "10X98765432"

-- Is id (18 characters, X upper-case) a resident ID number with a valid check digit?
function M.id_valid(id)
  if type(id) ~= "string" or not id:match("^" .. string.rep("%d", 17) .. "[%dX]$") then
    return false
  end
  local sum = 0
  for i = 1, 17 do sum = sum + (id:byte(i) - 48) * WEIGHTS[i] end
  local r = sum % 11 + 1
  return CHECK:sub(r, r) == id:sub(18, 18)
end

-- What is hashed for a PIN: the ID with it, so a hash copied to another ID matches nothing.
local function secret(id, pin) return id .. ":" .. pin end

-- The hash to store for id's PIN (waits: the engine hashes it off the call path).
function M.pin_hash(id, pin) return hl.pin_hash(secret(id, pin)) end

-- The account of id, nil (none) or nil, err (the source failed).
function M.lookup(id)
  local rows, err = hl.store.query(
    "SELECT pin_hash, balance_fen, paid_months, last_paid FROM demo_accounts WHERE id_number = ?", id)
  if not rows then return nil, err end
  return rows[1]
end

-- Is pin id's PIN?  (waits, as pin_hash)
function M.check_pin(account, id, pin) return hl.pin_verify(account.pin_hash, secret(id, pin)) end

-- Is id locked now?  Returns true/false (a failing store counts as not locked here: every
-- PIN is counted by M.attempt, which refuses when the store fails).
function M.locked(id)
  local rows = hl.store.query("SELECT locked_until FROM account_locks WHERE id_number = ?", id)
  return rows ~= nil and rows[1] ~= nil and (rows[1].locked_until or 0) > hl.now()
end

-- One PIN about to be checked for id: counted first, in one statement that also refuses it
-- when id is locked (issue 7: calls that had passed a lock check earlier kept guessing).
-- The count is of PINs checked since the last right one; the one that reaches rules/ivr.lua
-- account.max_pin_failures sets the lock for account.lock_minutes, so no PIN after it is
-- checked, whatever calls are at it.  A lock that has ended starts the count again.  ?1 the
-- ID, ?2 max_pin_failures, ?3 now, ?4 the end of the lock it would set.
local COUNT_ATTEMPT = [[
  INSERT INTO account_locks (id_number, failures, locked_until)
       VALUES (?1, 1, CASE WHEN 1 >= ?2 THEN ?4 ELSE 0 END)
  ON CONFLICT (id_number) DO UPDATE SET
       failures = CASE WHEN locked_until > 0 THEN 1 ELSE failures + 1 END,
       locked_until = CASE WHEN (CASE WHEN locked_until > 0 THEN 1 ELSE failures + 1 END) >= ?2
                           THEN ?4 ELSE 0 END
   WHERE locked_until <= ?3
  RETURNING failures]]

-- Returns "ok" (check the PIN), "last" (check it: a wrong one has locked id), "locked" (do
-- not check it), or nil, err when the store fails (the PIN is not checked).
function M.attempt(id)
  local cfg, now = ivr.account, hl.now()
  local rows, err = hl.store.query(COUNT_ATTEMPT, id, cfg.max_pin_failures, now, now + cfg.lock_minutes * 60)
  if not rows then return nil, err end
  if not rows[1] then return "locked" end
  return rows[1].failures >= cfg.max_pin_failures and "last" or "ok"
end

-- A right PIN: forget earlier failures (and the lock its own count set).
function M.right_pin(id)
  hl.store.query("DELETE FROM account_locks WHERE id_number = ?", id)
end

-- One call at a time per ID (rules/ivr.lua account.claim_seconds says why): the claim is
-- one statement, so two calls cannot both take it; a claim past its expiry is taken over.
-- ?1 the ID, ?2 the call, ?3 now, ?4 the claim's expiry.
local CLAIM = [[
  INSERT INTO account_claims (id_number, call_id, expires) VALUES (?1, ?2, ?4)
  ON CONFLICT (id_number) DO UPDATE SET call_id = excluded.call_id, expires = excluded.expires
   WHERE account_claims.expires <= ?3 OR account_claims.call_id = excluded.call_id
  RETURNING call_id]]

-- Does call_id now hold id?  true, false (another call does), or nil, err (the store failed).
function M.claim(id, call_id)
  local now = hl.now()
  local rows, err = hl.store.query(CLAIM, id, call_id, now, now + ivr.account.claim_seconds)
  if not rows then return nil, err end
  return rows[1] ~= nil
end

-- The end of call_id's account flow (or of the call): it holds no ID any more.
function M.release(call_id)
  hl.store.query("DELETE FROM account_claims WHERE call_id = ?", call_id)
end

return M
