-- scripts/account.lua — key 4, personal account query (§10.12; SPEC 2.5): the 18-character
-- resident ID number (* stands for X in the last place; the check digit is verified), a
-- 6-digit PIN, then balance, paid months and the last payment read back.  Data and locks:
-- rules/accounts.lua; limits: rules/ivr.lua account.
--
-- The ID and the PIN live in locals only: never in call.vars, the log or the route.
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

local function read_back(call, a)
  local fen = math.tointeger(a.balance_fen) or 0
  call:play("account_balance")
  call:say_amount(string.format("%d.%02d", fen // 100, fen % 100))
  call:play("account_paid_months")
  call:say_number(math.tointeger(a.paid_months) or 0)
  call:play("account_months")
  local y, m, d = tostring(a.last_paid or ""):match("^(%d%d%d%d)-(%d%d)-?(%d*)$")
  if y then
    call:play("account_last_paid")
    if d ~= "" then
      call:say_date(a.last_paid)
    else                                           -- a month only: 二零二六年十月
      call:say_digits(y); call:play("year"); call:say_number(tonumber(m)); call:play("month")
    end
  end
end

-- One PIN entry: "done" once the caller has heard the outcome (the account read back, not
-- found, locked now, or the source failed); nil for a wrong or malformed PIN (asked again).
local function pin_outcome(call, id, pin)
  if #pin ~= 6 or not pin:match("^%d+$") then return nil end
  local a, err = accounts.lookup(id)
  if err then
    hl.log("error", "account source failed: " .. tostring(err))
    call:play("sorry")
    return "done"
  end
  if not a then
    call.vars.account = "not_found"
    call:play("account_not_found")
    return "done"
  end
  if accounts.check_pin(a, id, pin) then
    accounts.right_pin(id)
    call.vars.account = "read"
    read_back(call, a)
    return "done"
  end
  if accounts.wrong_pin(id) then
    call.vars.account = "locked"
    call:play("account_locked")
    return "done"
  end
end

function M.run(call, after_failures)
  local cfg = ivr.account
  local id = read_id(call, cfg)
  if id == hl.BACK then return hl.BACK end
  if not id then return after_failures(call) end
  call:set_route("account")
  if accounts.locked(id) then
    call.vars.account = "locked"
    call:play("account_locked")
    return nil
  end
  local outcome = ask.entry(call, {
    attempts = cfg.max_pin_failures, wrong_prompt = "account_bad_pin", empty_is_wrong = true,
    collect = { sensitive = true, min = 6, max = 6, terminator = "#", timeout = cfg.pin_timeout_ms,
                interdigit = cfg.pin_interdigit_ms, prompt = "account_enter_pin" },
    check = function(pin) return pin_outcome(call, id, pin) end,
  })
  if outcome == hl.BACK then return hl.BACK end
  if outcome == nil then return after_failures(call) end
  return nil                                     -- read back, not found, locked or failed: said
end

return M
