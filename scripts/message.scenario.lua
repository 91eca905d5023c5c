-- scripts/message.scenario.lua — key 2, leave a message (rules/ivr.lua message): beep,
-- record, # or silence ends it, 1 keep / 2 again, * discards; kept messages go to the
-- store's messages table (vars.message_ms says one was saved) and recordings/messages/.
-- Limits come from rules/ivr.lua message; times into a prompt from prompt_ms (the WAVs of
-- the prompt library), so studio recordings can replace the synthesised prompts.
local ivr = require "ivr"
local IN, OUT = "2026-01-14T10:00:00", "2026-01-14T22:30:00"
local BEEP = prompt_ms("tone:beep")   -- the recording starts after it
-- an out-of-hours call reaches the main menu after these (scripts/main.lua)
local BEFORE_MENU_OUT = prompt_ms("welcome_1", ivr.province.prompt, "welcome_2", "hours_info")
local KEY_AFTER = 1000                -- the menu key is typed this long into the main menu

return {
  {
    name = "out of hours: # ends the message, 1 keeps it",
    time = OUT, caller = "13804321234",
    keys = { "2", { key = "#", after = 8000 }, "1", { hangup = true } },
    expect = {
      prompts = { "main_menu_out", "message_intro", "tone:beep", "message_confirm", "message_saved",
                  "other_service", "main_menu_out" },
      menus = { "main", "message_confirm", "main" },
      route = "message", vars = { message_ms = 8000 },
      recording = { match = "^messages/.+%.wav$" },
    },
  },
  {
    name = "silence ends the message",
    time = IN, keys = { "2", { silence = true }, "1", { hangup = true } },
    record = { duration = 12000, reason = "silence" },
    expect = { route = "message", vars = { message_ms = 12000 } },
  },
  {
    name = "the message stops at the limit (rules/ivr.lua message.max_ms)",
    time = IN, keys = { "2", { silence = true }, "1", { hangup = true } },
    record = { duration = 10 * ivr.message.max_ms },
    expect = { route = "message", vars = { message_ms = ivr.message.max_ms } },
  },
  {
    name = "2 records again, then 1 keeps the second take",
    time = OUT, keys = { "2", { key = "#", after = 3000 }, "2", { key = "#", after = 5000 }, "1", { hangup = true } },
    expect = { prompts = { "message_intro", "message_confirm", "message_intro", "message_confirm", "message_saved" },
               route = "message", vars = { message_ms = 5000 } },
  },
  {
    name = "* at the confirmation discards the message: back to the main menu",
    time = OUT, keys = { "2", { key = "#", after = 3000 }, "*", { hangup = true } },
    expect = { prompts = { "message_confirm", "main_menu_out" }, not_prompts = { "message_saved" },
               route = "hangup" },
  },
  {
    name = "no answer at the confirmation keeps the message",
    -- max_failures unanswered confirmations; a menu awaits keys during its prompt and after it
    time = OUT, keys = (function()
      local k = { "2", { key = "#", after = 3000 } }
      for _ = 1, 2 * ivr.max_failures do k[#k + 1] = { silence = true } end
      k[#k + 1] = { hangup = true }
      return k
    end)(),
    expect = { prompts = { "message_confirm", "message_confirm", "message_saved" },
               route = "message", vars = { message_ms = 3000 } },
  },
  {
    name = "a message too short is asked for again",
    time = OUT, keys = { "2", { key = "#", after = 300 }, { key = "#", after = 4000 }, "1", { hangup = true } },
    expect = { prompts = { "message_intro", "message_too_short", "message_intro", "message_saved" },
               route = "message", vars = { message_ms = 4000 } },
  },
  {
    name = "the caller hangs up while recording: the message is kept",
    time = OUT, keys = { "2", { hangup = true, after = 9000 } },
    -- (counted from the beep, which plays before the recording starts)
    expect = { route = "message", ended = "caller", vars = { message_ms = 9000 + BEEP } },
  },
  {
    name = "the caller hangs up at \"1 keep / 2 again\": the message is kept",
    time = OUT, keys = { "2", { key = "#", after = 6000 }, { hangup = true, after = 500 } },
    expect = { prompts = { "message_intro", "tone:beep", "message_confirm" }, not_prompts = { "message_saved" },
               route = "message", ended = "caller", vars = { message_ms = 6000 } },
  },
  {
    name = "no room on the disk (record_min_free_mb): the caller is told, no beep, other services",
    time = OUT, record = { disk_free_mb = 0 },
    keys = { "2", { silence = true }, { hangup = true } },
    expect = { prompts = { "message_intro", "message_disk_full", "other_service" },
               not_prompts = { "tone:beep", "message_saved" }, route = "hangup" },
  },
  {
    name = "the caller hangs up before the beep: no message",
    time = OUT, keys = { { key = "2", after = KEY_AFTER } },
    hangup_at = BEFORE_MENU_OUT + KEY_AFTER + prompt_ms("message_intro") // 2,   -- halfway through it
    expect = { prompts = { "main_menu_out", "message_intro" }, not_prompts = { "tone:beep", "message_saved" },
               route = "hangup", ended = "caller" },
  },
}
