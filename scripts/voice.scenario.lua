-- scripts/voice.scenario.lua — key 1, voice service (rules/topics.lua): the topic tree, a
-- leaf's answer, # repeat, * back, 0 an agent in hours only.
local FAILS = require("ivr").max_failures
local CAPITAL = require("centres").capital
local CAPITAL_CALLER = CAPITAL .. "62345678"     -- a fixed line of the capital city
local IN, OUT = "2026-01-14T10:00:00", "2026-01-14T20:00:00"

-- the keys `first`, then FAILS copies of the wrong key `wrong`
local function then_wrong(first, wrong)
  for _ = 1, FAILS do first[#first + 1] = wrong end
  return first
end

return {
  {
    name = "1 1 1: pension -> retirement age; the answer plays",
    time = IN, keys = { "1", "1", "1", { hangup = true } },
    expect = {
      prompts = { "main_menu", "voice/menu", "voice/pension_t", "voice/card_t", "voice_hints",
                  "voice/pension", "voice/pension_age_t", "voice/pension_age", "voice_leaf_keys" },
      menus = { "main", "voice", "voice.pension", "voice.pension_age" },
      route = "voice:pension_age", dtmf = "111", ended = "caller",
    },
  },
  {
    name = "# repeats the answer",
    time = IN, keys = { "1", "2", "2", "#", { hangup = true } },
    expect = { prompts = { "voice/medical_offsite", "voice/medical_offsite" },
               menus = { "voice.medical", "voice.medical_offsite", "voice.medical_offsite" },
               route = "voice:medical_offsite" },
  },
  {
    name = "* goes back one level at a time, up to the main menu",
    time = IN, keys = { "1", "6", "3", "*", "*", "*", { hangup = true } },
    expect = {
      prompts = { "voice/labour_arbitration", "voice/labour", "voice/menu", "main_menu" },
      menus = { "main", "voice", "voice.labour", "voice.labour_arbitration", "voice.labour", "voice", "main" },
      route = "voice:labour_arbitration",
    },
  },
  {
    name = "after * another topic: the route is the last answer heard",
    time = IN, keys = { "1", "3", "1", "*", "2", { hangup = true } },
    expect = { prompts = { "voice/unemployment_benefit", "voice/unemployment_apply" },
               route = "voice:unemployment_apply" },
  },
  {
    name = "0 after an answer, in hours: an agent of the caller's centre",
    time = IN, caller = "13904351234", keys = { "1", "4", "1", "0" },
    expect = { prompts = { "voice/injury_recognition", "agent_transfer" },
               route = "queue:0435.general", menus = { "voice.work_injury", "voice.injury_recognition" } },
  },
  {
    name = "0 in a topic menu, in hours: a Changchun caller chooses first",
    time = IN, caller = CAPITAL_CALLER, keys = { "1", "5", "0", "2" },
    expect = { prompts = { "voice/maternity", "changchun_choice", "agent_transfer" },
               menus = { "voice.maternity", "changchun_choice" }, route = "queue:" .. CAPITAL .. ".general" },
  },
  {
    name = "out of hours: the leaf offers no agent, and 0 is a wrong key",
    time = OUT, keys = { "1", "7", "2", "0", { hangup = true } },
    expect = { prompts = { "voice/employment_training", "voice_leaf_keys_out", "invalid_choice",
                           "voice/employment_training" },
               not_prompts = { "voice_leaf_keys", "agent_transfer" }, route = "voice:employment_training" },
  },
  {
    name = "out of hours: topic menus offer no agent either",
    time = OUT, keys = { "1", "0", { hangup = true } },
    expect = { prompts = { "voice_hints_out", "invalid_choice" }, not_prompts = { "voice_hints" } },
  },
  {
    name = "a wrong key in a topic menu replays it",
    time = IN, keys = { "1", "9", "8", "1", { hangup = true } },
    expect = { prompts = { "voice/menu", "invalid_choice", "voice/menu", "voice/card", "voice/card_apply" },
               route = "voice:card_apply" },
  },
  {
    name = "max_failures wrong keys inside the voice tree, out of hours: goodbye (route: the last answer)",
    time = OUT, keys = then_wrong({ "1", "1", "4" }, "5"),     -- a leaf offers # and * only
    expect = { prompts = { "voice/pension_transfer", "invalid_choice", "failure_goodbye" },
               route = "voice:pension_transfer", hangup_cause = "goodbye" },
  },
  {
    name = "max_failures wrong keys inside the voice tree, in hours: an agent",
    time = IN, caller = "043988880000", keys = then_wrong({ "1" }, "9"),
    expect = { prompts = { "failure_agent" }, route = "queue:0439.general" },
  },
}
