-- examples/demo/scripts/demo.scenario.lua — the demo IVR's self-tests (its main.lua), run by
-- `hotline test-rules --scripts examples/demo/scripts --rules examples/demo/rules`.
-- Format: docs/lua-api.md, "Scenario files".
local URI = "sip:demo@127.0.0.1:5070"

return {
  {
    name = "key 1 plays demo_one and reads 10010",
    caller = "043288881234", time = "2026-01-14T16:59:00",
    keys = { "1" },
    expect = {
      prompts = { "welcome", "demo_main", "demo_one",
                  "digit_1", "unit_wan", "digit_0", "digit_1", "unit_shi", "goodbye" },
      not_prompts = { "invalid_choice", "sorry" },
      route = "demo:1", menus = { "demo_main" }, dtmf = "1",
      ended = "engine", answered = true,
    },
  },
  {
    name = "key 2 records a message that # ends",
    keys = { "2", { key = "#", after = 4000 } },
    expect = {
      prompts = { "demo_main", "demo_record", "tone:beep", "goodbye" },
      route = "message", dtmf = "2#", vars = { message_seconds = 4 },
    },
  },
  {
    name = "key 2: silence ends the message",
    keys = { "2" }, record = { duration = 6000, reason = "silence" },
    expect = { route = "message", vars = { message_seconds = 6 } },
  },
  {
    name = "key 2: the message stops at 10 s",
    keys = { "2" }, record = { duration = 60000 },
    expect = { route = "message", vars = { message_seconds = 10 } },
  },
  {
    name = "key 3 bridges to the demo destination until it hangs up",
    keys = { "3" },
    dial = { [URI] = { answer_after = 3000, hangup_after = 20000 } },
    expect = {
      prompts = { "demo_connecting", "goodbye" }, dialled = { URI },
      route = "bridge", vars = { hung_up_first = "callee" }, ended = "engine",
    },
  },
  {
    name = "key 3: a busy destination gets the apology",
    keys = { "3" },
    dial = { default = { fail = 486 } },
    expect = { prompts = { "demo_connecting", "sorry", "goodbye" }, route = "dial-failed",
               vars = { dial_code = 486 } },
  },
  {
    name = "key 3: no answer within the timeout",
    keys = { "3" },
    expect = { route = "dial-failed", vars = { dial_code = 408 } },
  },
  {
    name = "key 9 reads four digits back",
    keys = { "9", "4321" },
    expect = {
      prompts = { "demo_enter_digits", "demo_you_entered",
                  "digit_4", "digit_3", "digit_2", "digit_1", "goodbye" },
      route = "demo:9", dtmf = "94321",
    },
  },
  {
    name = "key 9: too few digits, then back to the menu and 0",
    keys = { "9", "12#", "0" },
    expect = {
      prompts = { "demo_enter_digits", "invalid_choice", "demo_main" },
      menus = { "demo_main", "demo_main" }, route = "queue:demo",
    },
  },
  {
    name = "key 0 goes to the demo queue",
    caller = "043288881234", time = "2026-01-14T16:59:00",
    keys = { "0" },
    expect = { route = "queue:demo", menus = { "demo_main" } },
  },
  {
    name = "a wrong key is refused and the menu replays",
    keys = { "7", "0" },
    expect = {
      prompts = { "demo_main", "invalid_choice", "demo_main" },
      route = "queue:demo", dtmf = "70",
    },
  },
  {
    name = "three timeouts end the call",
    keys = {},
    expect = {
      prompts = { "welcome", "demo_main", "demo_main", "demo_main", "goodbye" },
      not_prompts = { "invalid_choice" }, route = "hangup", ended = "engine",
    },
  },
  {
    name = "two wrong keys and a silence are three failures",
    keys = { "5", "8", { silence = true } },
    expect = { prompts = { "invalid_choice", "invalid_choice", "goodbye" }, route = "hangup" },
  },
  {
    name = "* in the sub-menu goes back to the main menu",
    keys = { "4", "*", "0" },
    expect = { menus = { "demo_main", "demo_more", "demo_main" }, route = "queue:demo" },
  },
  {
    name = "* on the main menu just replays it",
    keys = { "*", "0" },
    expect = { prompts = { "demo_main", "demo_main" }, not_prompts = { "invalid_choice" },
               route = "queue:demo" },
  },
  {
    name = "the sub-menu reads today's date",
    time = "2026-11-28T09:30:00",
    keys = { "4", "1" },
    expect = {
      prompts = { "demo_more", "digit_2", "digit_0", "digit_2", "digit_6", "year",
                  "unit_shi", "digit_1", "month", "digit_2", "unit_shi", "digit_8", "day" },
      route = "demo:date",
    },
  },
  {
    name = "a key typed during the welcome skips the menu prompt (type-ahead)",
    keys = { { at = 500, key = "0" } },
    expect = { prompts = { "welcome", "goodbye" }, not_prompts = { "demo_main" },
               route = "queue:demo", dtmf = "0" },
  },
  {
    name = "the caller hangs up during the welcome",
    hangup_at = 500,
    expect = { not_prompts = { "demo_main" }, ended = "caller", route = "",
               vars = { caller_hung_up = true } },
  },
  {
    name = "the caller hangs up in the menu",
    keys = { { hangup = true, after = 2000 } },
    expect = { prompts = { "demo_main" }, not_prompts = { "goodbye" }, ended = "caller" },
  },
}
