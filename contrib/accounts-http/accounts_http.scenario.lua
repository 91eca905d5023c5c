-- accounts_http.scenario.lua — key 4 with the HTTP data source (accounts_http.lua): the
-- back end's answers come from the scenarios' http tables (the simulator reaches no
-- network).  Copy it into rules/ with accounts_http.lua, in place of
-- scripts/account.scenario.lua (which tests the demo table), and set URL below to the url
-- given to wrap in rules/accounts.lua.  Locks are kept in the scenario file's store: the
-- lock scenario comes last and uses an ID of its own.
local URL = "http://backend.example:8099/api/v1"
local LOOKUP, VERIFY = "POST " .. URL .. "/accounts/lookup", "POST " .. URL .. "/accounts/verify"
local ID_A, ID_X, ID_LOCK = "220102198503151237", "11010519491231002*", "220203199001014562"
local FOUND = { status = 200, body = '{"found": true}', headers = { ["Content-Type"] = "application/json" } }
local RIGHT = { status = 200, body = '{"ok": true, "balance_fen": 1234567, "paid_months": 96, "last_paid": "2026-10-15"}' }
local WRONG = { status = 200, body = '{"ok": false}' }

return {
  {
    name = "http: ID and PIN right: the back end's figures are read back",
    time = "2026-11-20T21:00:00", keys = { "4", ID_A, "123456", { hangup = true } },
    http = { [LOOKUP] = FOUND, [VERIFY] = RIGHT },
    expect = {
      prompts = { "account_enter_id", "account_enter_pin", "account_balance",
                  "digit_1", "unit_wan", "digit_2", "unit_qian", "yuan", "digit_6", "jiao", "digit_7", "fen",
                  "account_paid_months", "digit_9", "unit_shi", "digit_6", "account_months",
                  "account_last_paid", "digit_2", "digit_6", "year", "unit_shi", "month", "unit_shi", "digit_5", "day" },
      route = "account", vars = { account = "read" }, dtmf = "4" .. string.rep("x", 18 + 6),
    },
  },
  {
    name = "http: * for X; a month-only last payment",
    time = "2026-11-20T21:01:00", keys = { "4", ID_X, "654321#", { hangup = true } },
    http = { [LOOKUP] = FOUND,
             [VERIFY] = { status = 200, body = '{"ok":true,"balance_fen":80005,"paid_months":15,"last_paid":"2026-09"}' } },
    expect = { prompts = { "account_balance", "account_last_paid", "digit_2", "digit_0", "digit_2", "digit_6",
                           "year", "digit_9", "month" }, route = "account", vars = { account = "read" } },
  },
  {
    name = "http: the back end knows no such account",
    time = "2026-11-20T21:02:00", keys = { "4", ID_A, "123456", { hangup = true } },
    http = { [LOOKUP] = { status = 200, body = '{"found": false}' } },
    expect = { prompts = { "account_not_found" }, not_prompts = { "account_balance" },
               route = "account", vars = { account = "not_found" } },
  },
  {
    name = "http: a wrong PIN, then the right one",
    time = "2026-11-20T21:03:00", keys = { "4", ID_A, "000000", "123456", { hangup = true } },
    http = { [LOOKUP] = FOUND, [VERIFY] = { WRONG, RIGHT } },
    expect = { prompts = { "account_enter_pin", "account_bad_pin", "account_enter_pin", "account_balance" },
               route = "account", vars = { account = "read" } },
  },
  {
    name = "http: the back end is down at the lookup: sorry, no read-back",
    time = "2026-11-20T21:04:00", keys = { "4", ID_A, "123456", { hangup = true } },
    http = { [LOOKUP] = { error = "connection refused" } },
    expect = { prompts = { "account_enter_pin", "sorry" }, not_prompts = { "account_balance", "account_bad_pin" },
               route = "account", fallback = false },
  },
  {
    name = "http: the back end answers 500: sorry",
    time = "2026-11-20T21:05:00", keys = { "4", ID_A, "123456", { hangup = true } },
    http = { [LOOKUP] = { status = 500, body = "internal error" } },
    expect = { prompts = { "sorry" }, not_prompts = { "account_balance" }, route = "account" },
  },
  {
    name = "http: the PIN check times out: the fallback path, not a wrong PIN",
    time = "2026-11-20T21:06:00", keys = { "4", ID_A, "123456", { hangup = true } },
    http = { [LOOKUP] = FOUND, [VERIFY] = { delay_ms = 60000 } },
    expect = { not_prompts = { "account_bad_pin", "account_balance" }, fallback = true },
  },
  {
    name = "http: 3 wrong PINs lock the ID (lock in the engine's store)",
    time = "2026-11-20T21:07:00", keys = { "4", ID_LOCK, "000000", "000001", "000002", { hangup = true } },
    http = { [LOOKUP] = FOUND, [VERIFY] = WRONG },
    expect = { prompts = { "account_bad_pin", "account_bad_pin", "account_locked" },
               not_prompts = { "account_balance" }, route = "account", vars = { account = "locked" } },
  },
}
