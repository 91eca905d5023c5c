-- scripts/account.lua — key 4, personal account query (§10.12; SPEC 2.5): the 18-character
-- resident ID number (* stands for X in the last place; the check digit is verified), a
-- 6-digit PIN, then balance, paid months and the last payment read back.  Data, locks and
-- the one call at a time per ID (another call hears account_busy): rules/accounts.lua;
-- limits: rules/ivr.lua account.
--
-- The ID and the PIN live in locals only: never in call.vars, the log or the route; what is
-- read back is said with sensitive = true, so the CDR keeps no figure of the caller's.
-- ("*" as the first key goes back a level, §10.16: an ID never starts with X.)
local accounts = require "accounts"
local ivr = require "ivr"
local ask = require "lib.ask"

local M = {}

-- The ID as typed ("*" -> "X" in the last place), hl.BACK, or nil after max_id_attempts.
local function read_id(call, cfg)
  return ask.entry(call, {
    attempts = cfg.max_id_attempts, wrong_prompt = "account_bad_id",
    collect = { sensitive = true, min = 18, max = 18, terminator = "#", timeout = cfg.id_timeout_ms,
                interdigit = cfg.id_interdigit_ms, prompt = "account_enter_id" },
    check = function(d)
      local id = d:gsub("%*$", "X")
      if accounts.id_valid(id) then return id end
    end,
  })
end

-- The balance, months and last payment, said with sensitive = true: the CDR's prompt list
-- holds "say:x" for each instead of the digits (docs/lua-api.md).
local SENSITIVE = { sensitive = true }

local function read_back(call, a)
  local fen = math.tointeger(a.balance_fen) or 0
  call:play("account_balance")
  call:say_amount(string.format("%d.%02d", fen // 100, fen % 100), SENSITIVE)
  call:play("account_paid_months")
  call:say_number(math.tointeger(a.paid_months) or 0, SENSITIVE)
  call:play("account_months")
  local y, m, d = tostring(a.last_paid or ""):match("^(%d%d%d%d)-(%d%d)-?(%d*)$")
  if y then
    call:play("account_last_paid")
    if d ~= "" then
      call:say_date(a.last_paid, SENSITIVE)
    else                                           -- a month only: 二零二六年十月
      call:say_digits(y, SENSITIVE); call:play("year"); call:say_number(tonumber(m), SENSITIVE)
      call:play("month")
    end
  end
end

local function said(call, outcome, prompt)
  call.vars.account = outcome
  call:play(prompt)
  return "done"
end

-- One PIN entry: "done" once the caller has heard the outcome (the account read back, not
-- found, locked, or the source failed); nil for a wrong or malformed PIN (asked again).
-- Each PIN is counted, and refused when the ID is locked, before it is checked
-- (accounts.attempt): whatever other calls did meanwhile, no PIN is checked past the lock.
-- vars.pin_checks: how many PINs this call had checked (a number, never a PIN).
local function pin_outcome(call, id, pin)
  if #pin ~= 6 or not pin:match("^%d+$") then return nil end
  local a, err = accounts.lookup(id)
  if not err and not a then return said(call, "not_found", "account_not_found") end
  local turn
  if not err then turn, err = accounts.attempt(id) end
  if err then
    hl.log("error", "account source failed: " .. tostring(err))
    call:play("sorry")
    return "done"
  end
  if turn == "locked" then return said(call, "locked", "account_locked") end
  call.vars.pin_checks = (call.vars.pin_checks or 0) + 1
  if accounts.check_pin(a, id, pin) then
    accounts.right_pin(id)
    call.vars.account = "read"
    read_back(call, a)
    return "done"
  end
  if turn == "last" then return said(call, "locked", "account_locked") end
end

-- The PINs for id, which this call holds: "done" (said), hl.BACK, or nil after
-- max_pin_failures wrong or malformed ones.
local function ask_pins(call, id, cfg)
  if accounts.locked(id) then return said(call, "locked", "account_locked") end
  return ask.entry(call, {
    attempts = cfg.max_pin_failures, wrong_prompt = "account_bad_pin", empty_is_wrong = true,
    collect = { sensitive = true, min = 6, max = 6, terminator = "#", timeout = cfg.pin_timeout_ms,
                interdigit = cfg.pin_interdigit_ms, prompt = "account_enter_pin" },
    check = function(pin) return pin_outcome(call, id, pin) end,
  })
end

function M.run(call, after_failures)
  local cfg = ivr.account
  local id = read_id(call, cfg)
  if id == hl.BACK then return hl.BACK end
  if not id then return after_failures(call) end
  call:set_route("account")
  local held, err = accounts.claim(id, call.id)
  if held == nil then
    hl.log("error", "account claim failed: " .. tostring(err))
    call:play("sorry")
    return nil
  end
  if not held then
    said(call, "busy", "account_busy")
    return nil
  end
  local outcome = ask_pins(call, id, cfg)
  accounts.release(call.id)
  if outcome == hl.BACK then return hl.BACK end
  if outcome == nil then return after_failures(call) end
  return nil                                     -- read back, not found, locked or failed: said
end

-- The caller hung up (main.lua's on_hangup): an ID this call held is free again.
function M.on_hangup(call) accounts.release(call.id) end

return M
