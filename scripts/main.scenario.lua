-- scripts/main.scenario.lua — the welcome, the main menu in and out of agent hours, wrong
-- keys, *, timeouts and the failure path (§10.3-10.8, §10.16; SPEC 2.4).
-- Format: docs/lua-api.md "Scenario files".  Times are centre time (+08:00).
-- The failure limit and the province's prompt come from rules/ivr.lua; times into the
-- welcome from prompt_ms (the recordings' lengths).
local ivr = require "ivr"
local CAPITAL = require("centres").capital
local CAPITAL_CALLER = CAPITAL .. "62345678"     -- a fixed line of the capital city
local FAILS = ivr.max_failures
local WELCOME_1_MS = prompt_ms("welcome_1")
local WINTER_IN = "2026-01-14T10:00:00"   -- a winter Wednesday morning
local WINTER_OUT = "2026-01-14T20:00:00"
local SUMMER_IN = "2026-07-15T10:00:00"   -- a summer Wednesday morning

-- n copies of v, then the items of ... (a list of keys or of prompts)
local function rep(v, n, ...)
  local t = {}
  for i = 1, n do t[i] = v end
  for _, x in ipairs({ ... }) do t[#t + 1] = x end
  return t
end
-- n wrong keys of the main menu in hours (keys it does not offer), as one string
local function wrong_keys(n) return ("678#"):sub(1, n) end
local function each_key(s)
  local t = {}
  for k in s:gmatch(".") do t[#t + 1] = k end
  return t
end

return {
  {
    name = "in hours: welcome with the province's name, then the full main menu",
    time = WINTER_IN, keys = { { hangup = true } },
    expect = {
      prompts = { "welcome_1", ivr.province.prompt, "welcome_2", "main_menu" },
      not_prompts = { "hours_info", "main_menu_out" },
      menus = { "main" }, route = "hangup", vars = { hours = "in", season = "winter", day = "workday" },
      answered = true, fallback = false,
    },
  },
  {
    name = "out of hours: the hours announcement, then keys 1-4 only",
    time = WINTER_OUT, keys = { { hangup = true } },
    expect = {
      prompts = { "welcome_1", ivr.province.prompt, "welcome_2", "hours_info", "main_menu_out" },
      not_prompts = { "main_menu" },
      menus = { "main" }, route = "hangup", vars = { hours = "out" },
    },
  },
  {
    name = "a wrong key: 选择错误,请重新输入 and the menu again",
    time = WINTER_IN, keys = { "7", { hangup = true } },
    expect = { prompts = { "main_menu", "invalid_choice", "main_menu" }, menus = { "main" },
               route = "hangup", dtmf = "7" },
  },
  {
    name = "out of hours key 5 is a wrong key (§10.7)",
    time = WINTER_OUT, keys = { "5", { hangup = true } },
    expect = { prompts = { "main_menu_out", "invalid_choice", "main_menu_out" },
               not_prompts = { "complaints_transfer" }, route = "hangup" },
  },
  {
    name = "out of hours key 9 is a wrong key",
    time = WINTER_OUT, keys = { "9", { hangup = true } },
    expect = { prompts = { "invalid_choice" }, not_prompts = { "transfer_enter_code" }, route = "hangup" },
  },
  {
    name = "out of hours key 0 is a wrong key",
    time = WINTER_OUT, keys = { "0", { hangup = true } },
    expect = { prompts = { "invalid_choice" }, not_prompts = { "agent_transfer", "changchun_choice" },
               route = "hangup" },
  },
  {
    name = "* at the main menu replays it",
    time = WINTER_IN, keys = { "*", { hangup = true } },
    expect = { prompts = { "main_menu", "main_menu" }, not_prompts = { "invalid_choice" },
               route = "hangup", dtmf = "*" },
  },
  {
    name = "no input replays the menu; the caller then chooses",
    time = WINTER_IN, caller = "043288881234",
    keys = { { silence = true }, { silence = true }, "0" },  -- (a menu awaits keys during its prompt and after it)
    expect = { prompts = { "main_menu", "main_menu", "agent_transfer" },
               route = "queue:0432.general", hangup_cause = "message" },
  },
  {
    name = "in hours: max_failures timeouts -> an agent of the caller's centre",
    time = WINTER_IN, caller = "043388881234",
    keys = rep({ silence = true }, FAILS),
    expect = { prompts = rep("main_menu", FAILS, "failure_agent"),
               route = "queue:0433.general", ended = "engine", hangup_cause = "message" },
  },
  {
    name = "out of hours: max_failures timeouts -> a polite goodbye",
    time = WINTER_OUT,
    keys = rep({ silence = true }, FAILS),
    expect = { prompts = rep("main_menu_out", FAILS, "failure_goodbye"),
               not_prompts = { "failure_agent" }, route = "hangup", ended = "engine",
               hangup_cause = "goodbye" },
  },
  {
    name = "in hours: max_failures wrong keys -> an agent (a Changchun caller: the city queue)",
    time = SUMMER_IN, caller = CAPITAL_CALLER, keys = each_key(wrong_keys(FAILS)),
    expect = { prompts = rep("invalid_choice", FAILS - 1, "failure_agent"),
               not_prompts = { "changchun_choice" }, route = "queue:" .. CAPITAL .. ".general",
               dtmf = wrong_keys(FAILS) },
  },
  {
    name = "out of hours: wrong keys and timeouts in turn, max_failures of them -> goodbye",
    time = WINTER_OUT, keys = (function()
      local t = {}
      for i = 1, FAILS do t[i] = i % 2 == 1 and "5" or { silence = true } end   -- 5: not offered
      return t
    end)(),
    expect = { prompts = { "invalid_choice", "failure_goodbye" }, route = "hangup" },
  },
  {
    name = "a valid key resets the failure count",
    time = WINTER_IN,
    keys = rep("7", FAILS - 1, "1", "*", "7", { hangup = true }),
    expect = { prompts = rep("invalid_choice", FAILS - 1, "voice/menu", "main_menu", "invalid_choice", "main_menu"),
               not_prompts = { "failure_agent" }, menus = { "main", "voice", "main" }, route = "hangup" },
  },
  {
    name = "a key typed during the welcome is kept for the menu (type-ahead)",
    time = WINTER_IN, caller = "043488881234", keys = { { at = WELCOME_1_MS // 2, key = "0" } },
    expect = { prompts = { "welcome_2", "agent_transfer" }, route = "queue:0434.general" },
  },
  {
    name = "the caller hangs up during the welcome",
    time = WINTER_IN, hangup_at = WELCOME_1_MS // 2,
    expect = { route = "hangup", ended = "caller", not_prompts = { "main_menu" } },
  },
}
