-- rules/accounts.lua — the data source of key 4, personal account query (§10.12; SPEC 2.5),
-- and the lock after wrong PINs.
--
-- The default source is the table demo_accounts of the engine's store, declared with
-- account_locks in rules/schema/001_accounts.sql (no rows: sample accounts are
-- examples/sample-data/, for `make run`).  pin_hash is hl.pin_hash(id_number .. ":" .. pin)
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

-- Is id locked now?  Returns true/false (a failing store counts as not locked: the PIN is
-- still checked).
function M.locked(id)
  local rows = hl.store.query("SELECT locked_until FROM account_locks WHERE id_number = ?", id)
  return rows ~= nil and rows[1] ~= nil and (rows[1].locked_until or 0) > hl.now()
end

-- A wrong PIN for id: counts it; at rules/ivr.lua account.max_pin_failures the ID is locked
-- for account.lock_minutes (and the count starts again).  Returns true when now locked.
-- One statement reads and writes the count, so two calls with wrong PINs for the same ID
-- at once both count (a read, then a write, would lose one).  failures = 0 after it only
-- when this PIN locked the ID (otherwise it is at least 1).  ?1 the ID, ?2 the wrong PINs
-- that lock it, ?3 the end of the lock it would set.
local COUNT_WRONG_PIN = [[
  INSERT INTO account_locks (id_number, failures, locked_until)
       VALUES (?1, CASE WHEN 1 >= ?2 THEN 0 ELSE 1 END, CASE WHEN 1 >= ?2 THEN ?3 ELSE 0 END)
  ON CONFLICT (id_number) DO UPDATE SET
       failures = CASE WHEN failures + 1 >= ?2 THEN 0 ELSE failures + 1 END,
       locked_until = CASE WHEN failures + 1 >= ?2 THEN ?3 ELSE locked_until END
  RETURNING failures]]

function M.wrong_pin(id)
  local cfg = ivr.account
  local rows = hl.store.query(COUNT_WRONG_PIN, id, cfg.max_pin_failures,
                              hl.now() + cfg.lock_minutes * 60)
  return rows ~= nil and rows[1] ~= nil and rows[1].failures == 0
end

-- A right PIN: forget earlier failures.
function M.right_pin(id)
  hl.store.query("DELETE FROM account_locks WHERE id_number = ?", id)
end

return M
