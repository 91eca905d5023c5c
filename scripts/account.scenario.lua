-- scripts/account.scenario.lua — key 4, account query (rules/accounts.lua): the ID's check
-- digit, * for X, the PIN, the read-back (masked in the CDR), the lock after 3 wrong PINs,
-- keys typed on after it (dropped), and one call at a time per ID (claims).  One store per
-- file: the lock set by one scenario is seen by the next ones (times are in order).
--
-- Demo accounts, the rows of examples/sample-data/accounts.sql (pin_hash = hl.pin_hash of
-- "ID:PIN"; the tables are rules/schema/001_accounts.sql, made in every scenario store):
--   220102198503151237  PIN 123456   balance 12345.67, 96 months, last paid 2026-10-15
--   11010519491231002X  PIN 654321   balance 800.05, 15 months, last paid 2026-09
--   220203199001014562  PIN 111111   (the lock tests)
-- 222401197806120013 has a valid check digit but no account.
local ROW = "INSERT OR REPLACE INTO demo_accounts VALUES (?, ?, ?, ?, ?, ?)"
local SCHEMA = {
  { ROW, "220102198503151237",
    "$argon2id$v=19$m=19456,t=2,p=1$20qCyIqAP3Usm/nGipfRBA$YbE5WyeguBLQmwmyc0ae76nhDw+wmetesVL2NcUJ9FM",
    "张三", 1234567, 96, "2026-10-15" },
  { ROW, "11010519491231002X",
    "$argon2id$v=19$m=19456,t=2,p=1$htUboDcSDq8yL5nMs5M1GQ$Z1icWoSoNK+lz1OKFnbdGVsyXHKD26UVnTgf28daR5c",
    "李四", 80005, 15, "2026-09" },
  { ROW, "220203199001014562",
    "$argon2id$v=19$m=19456,t=2,p=1$vS18Ujk69esn2NGrxrebgw$nFdzwFtBvg/WoFggMRm+RieLTsI8v5hHPrgdfZ4iw0M",
    "王五", 500000, 120, "2026-11-01" },
}
local ID_A, ID_X, ID_LOCK = "220102198503151237", "11010519491231002*", "220203199001014562"
-- The lock's limits come from rules/ivr.lua account.
local limits = require("ivr").account
local LOCKED_AT = 21 * 60 + 10                -- 21:10, minutes of the day, when ID_LOCK locks
local function at_minute(m) return string.format("2026-11-20T%02d:%02d:00", m // 60, m % 60) end
local function wrong_pins()                   -- max_pin_failures wrong PINs, then hang up
  local k = { "4", ID_LOCK }
  for i = 1, limits.max_pin_failures do k[#k + 1] = string.format("%06d", i) end
  k[#k + 1] = { hangup = true }
  return k
end

-- scen(t [, statements]): t on the sample accounts, with more statements run first.
local function scen(t, more)
  t.store = table.move(more or {}, 1, #(more or {}), #SCHEMA + 1, table.move(SCHEMA, 1, #SCHEMA, 1, {}))
  return t
end

-- Another call holding ID_A's claim (rules/accounts.lua M.claim) until `untill` (centre time).
local function claimed_until(untill)
  return { { "INSERT OR REPLACE INTO account_claims VALUES (?, 'another-call', strftime('%s', ?))",
             ID_A, untill .. "+08:00" } }
end
-- What the CDR's prompts show of a read-back: one say:x for each sensitive say_*.
local READ_BACK_MASKED = "account_balance say:x account_paid_months say:x account_months "
                      .. "account_last_paid say:x"

return {
  scen{
    name = "ID and PIN right: balance, months and last payment are read back",
    time = "2026-11-20T21:00:00", keys = { "4", ID_A, "123456", { hangup = true } },
    expect = {
      prompts = { "account_enter_id", "account_enter_pin", "account_balance",
                  "digit_1", "unit_wan", "digit_2", "unit_qian", "yuan", "digit_6", "jiao", "digit_7", "fen",
                  "account_paid_months", "digit_9", "unit_shi", "digit_6", "account_months",
                  "account_last_paid", "digit_2", "digit_6", "year", "unit_shi", "month", "unit_shi", "digit_5", "day",
                  "other_service", "main_menu_out" },
      not_prompts = { "account_bad_pin", "account_bad_id" },
      route = "account", vars = { account = "read", pin_checks = 1 },
      -- no ID or PIN in the CDR: only the menu key survives
      dtmf = "4" .. string.rep("x", 18 + 6),
      -- nor the balance, months or date read back (sensitive say_*)
      cdr = { prompts = { match = READ_BACK_MASKED } },
    },
  },
  scen{
    name = "* stands for X; a month-only last payment is read as year and month",
    time = "2026-11-20T21:01:00", keys = { "4", ID_X, "654321#", { hangup = true } },
    expect = { prompts = { "account_balance", "account_last_paid", "digit_2", "digit_0", "digit_2", "digit_6",
                           "year", "digit_9", "month" },
               -- the # after a full PIN ends the PIN; it is not a wrong key of the next menu
               not_prompts = { "account_bad_id", "invalid_choice" }, route = "account",
               vars = { account = "read" }, dtmf = "4" .. string.rep("x", 18 + 6) .. "#" },
  },
  scen{
    name = "a wrong check digit: error and retry",
    time = "2026-11-20T21:02:00", keys = { "4", "220102198503151238", ID_A, "123456", { hangup = true } },
    expect = { prompts = { "account_enter_id", "account_bad_id", "account_enter_id", "account_balance" },
               route = "account" },
  },
  scen{
    name = "an ID too short (# early): error and retry",
    time = "2026-11-20T21:03:00", keys = { "4", "2201021985#", ID_A, "123456", { hangup = true } },
    expect = { prompts = { "account_bad_id", "account_balance" }, route = "account" },
  },
  scen{
    name = "a valid ID with no account",
    time = "2026-11-20T21:04:00", keys = { "4", "222401197806120013", "123456", { hangup = true } },
    expect = { prompts = { "account_not_found", "main_menu_out" }, not_prompts = { "account_balance" },
               route = "account", vars = { account = "not_found" } },
  },
  scen{
    name = "a wrong PIN, then the right one",
    time = "2026-11-20T21:05:00", keys = { "4", ID_A, "000000", "123456", { hangup = true } },
    expect = { prompts = { "account_enter_pin", "account_bad_pin", "account_enter_pin", "account_balance" },
               route = "account", vars = { account = "read" } },
  },
  scen{
    name = "* at the ID: back to the main menu",
    time = "2026-11-20T21:06:00", keys = { "4", "*", { hangup = true } },
    expect = { prompts = { "account_enter_id", "main_menu_out" }, not_prompts = { "other_service" },
               route = "hangup" },
  },
  scen{
    name = "* at the PIN: back to the main menu",
    time = "2026-11-20T21:07:00", keys = { "4", ID_A, "*", { hangup = true } },
    expect = { prompts = { "account_enter_pin", "main_menu_out" }, not_prompts = { "account_balance" } },
  },
  scen{
    name = "the last wrong PIN of max_pin_failures locks the ID",
    time = at_minute(LOCKED_AT), keys = wrong_pins(),
    expect = { prompts = { "account_bad_pin", "account_locked", "main_menu_out" },
               not_prompts = { "account_balance" }, route = "account", vars = { account = "locked" } },
  },
  scen{
    name = "before lock_minutes have passed the ID is still locked, even with the right PIN",
    time = at_minute(LOCKED_AT + limits.lock_minutes - 1), keys = { "4", ID_LOCK, { hangup = true } },
    expect = { prompts = { "account_enter_id", "account_locked" }, not_prompts = { "account_enter_pin" },
               route = "account", vars = { account = "locked" } },
  },
  scen{
    name = "other IDs are not locked meanwhile",
    time = at_minute(LOCKED_AT + limits.lock_minutes - 1), keys = { "4", ID_A, "123456", { hangup = true } },
    expect = { prompts = { "account_balance" }, vars = { account = "read" } },
  },
  scen{
    name = "after lock_minutes the right PIN works again",
    time = at_minute(LOCKED_AT + limits.lock_minutes + 5), keys = { "4", ID_LOCK, "111111", { hangup = true } },
    expect = { prompts = { "account_balance" }, not_prompts = { "account_locked" }, vars = { account = "read" } },
  },
  (function()
    -- the last wrong PIN locks the ID; the caller types on (a PIN, #) during "account
    -- locked": those keys are x in the CDR and dropped, not a choice of the main menu
    local keys = wrong_pins()
    keys[#keys - 1] = keys[#keys - 1] .. "123456#"
    return scen{
      name = "keys typed on after the lock are masked and dropped, not taken by the main menu",
      time = at_minute(LOCKED_AT + 2 * limits.lock_minutes), keys = keys,
      expect = { prompts = { "account_locked", "other_service", "main_menu_out" },
                 not_prompts = { "account_balance", "invalid_choice" }, menus = { "main" },
                 vars = { account = "locked" },
                 dtmf = "4" .. string.rep("x", 18 + 6 * limits.max_pin_failures + 6) .. "#" },
    }
  end)(),
  scen({
    name = "another call works on the ID: busy, no PIN is asked",
    time = "2026-11-20T22:00:00", keys = { "4", ID_A, { hangup = true } },
    expect = { prompts = { "account_busy", "other_service" }, not_prompts = { "account_enter_pin" },
               route = "account", vars = { account = "busy" } },
  }, claimed_until("2026-11-20 22:01:00")),
  scen({
    name = "a claim past its expiry (its call or engine gone) is taken over",
    time = "2026-11-20T22:02:00", keys = { "4", ID_A, "123456", { hangup = true } },
    expect = { prompts = { "account_enter_pin", "account_balance" }, vars = { account = "read" } },
  }, claimed_until("2026-11-20 22:01:00")),
  scen{
    name = "the end of the account flow releases the ID (a call within claim_seconds is served)",
    time = "2026-11-20T22:03:00", keys = { "4", ID_A, "*", { hangup = true } },
    expect = { prompts = { "account_enter_pin", "main_menu_out" }, not_prompts = { "account_busy" } },
  },
  scen{
    name = "the caller hangs up at the PIN ...",
    time = "2026-11-20T22:04:00", keys = { "4", ID_A, { hangup = true } },
    expect = { prompts = { "account_enter_pin" }, not_prompts = { "account_busy" } },
  },
  scen{
    name = "... and the ID is free at once (on_hangup released it)",
    time = "2026-11-20T22:05:00", keys = { "4", ID_A, "123456", { hangup = true } },
    expect = { prompts = { "account_balance" }, not_prompts = { "account_busy" }, vars = { account = "read" } },
  },
  (function()
    local keys, heard = { "4" }, {}
    for i = 1, limits.max_id_attempts do      -- 111...1, 222...2: wrong check digits
      keys[#keys + 1] = string.rep(tostring(i % 10), 18)
      heard[i] = "account_bad_id"
    end
    heard[#heard + 1] = "failure_agent"
    return scen{
      name = "max_id_attempts malformed IDs in hours: an agent",
      time = "2026-11-20T10:00:00", caller = "043688881234", keys = keys,
      expect = { prompts = heard, route = "queue:0436.general" },
    }
  end)(),
}
