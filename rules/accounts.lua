-- rules/accounts.lua — the data source of key 4, personal account query (§10.12; SPEC 2.5),
-- and the lock after wrong PINs.
--
-- The default source is the demo table demo_accounts of the engine's store:
--   demo_accounts(id_number TEXT PRIMARY KEY, pin_hash TEXT, name TEXT,
--                 balance_fen INTEGER, paid_months INTEGER, last_paid TEXT)
--   account_locks(id_number TEXT PRIMARY KEY, failures INTEGER, locked_until REAL)
-- pin_hash is sha256(id_number .. ":" .. pin) in lowercase hex: no PIN is stored.
-- A site with a real back end replaces M.lookup (and keeps its shape): it gets the ID and
-- returns { pin_hash=, balance_fen=, paid_months=, last_paid= } (or M.check_pin is replaced
-- too when the back end checks PINs itself), nil when there is no such account, or
-- nil, "error text" when the back end fails.
--
-- Never log or keep an ID or a PIN (no hl.log, no call.vars): SPEC 2.5 / issue 3.
local ivr = require "ivr"
local sha256 = require "sha256"

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

function M.pin_hash(id, pin) return sha256.hex(id .. ":" .. pin) end

-- The account of id, nil (none) or nil, err (the source failed).
function M.lookup(id)
  local rows, err = hl.store.query(
    "SELECT pin_hash, balance_fen, paid_months, last_paid FROM demo_accounts WHERE id_number = ?", id)
  if not rows then return nil, err end
  return rows[1]
end

function M.check_pin(account, id, pin) return account.pin_hash == M.pin_hash(id, pin) end

-- Is id locked now?  Returns true/false (a failing store counts as not locked: the PIN is
-- still checked).
function M.locked(id)
  local rows = hl.store.query("SELECT locked_until FROM account_locks WHERE id_number = ?", id)
  return rows ~= nil and rows[1] ~= nil and (rows[1].locked_until or 0) > hl.now()
end

-- A wrong PIN for id: counts it; at rules/ivr.lua account.max_pin_failures the ID is locked
-- for account.lock_minutes (and the count starts again).  Returns true when now locked.
function M.wrong_pin(id)
  local cfg = ivr.account
  local rows = hl.store.query("SELECT failures FROM account_locks WHERE id_number = ?", id)
  local n = ((rows and rows[1] and rows[1].failures) or 0) + 1
  local until_t = 0
  if n >= cfg.max_pin_failures then
    until_t = hl.now() + cfg.lock_minutes * 60
    n = 0
  end
  hl.store.query("INSERT INTO account_locks (id_number, failures, locked_until) VALUES (?, ?, ?) " ..
                 "ON CONFLICT(id_number) DO UPDATE SET failures = excluded.failures, " ..
                 "locked_until = excluded.locked_until", id, n, until_t)
  return until_t > 0
end

-- A right PIN: forget earlier failures.
function M.right_pin(id)
  hl.store.query("DELETE FROM account_locks WHERE id_number = ?", id)
end

return M
