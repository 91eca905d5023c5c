-- scripts/agent.scenario.lua — key 0 an agent of the caller's centre (§10.15), key 5
-- complaints (§10.13), key 9 another centre by area code (§10.14).  Numbers, segments and
-- centres: rules/centres.lua.  The SIP addresses dialled come from that file too (require
-- "centres"), so pointing a centre at its real address needs no change here.
local centres = require "centres"
local ivr = require "ivr"
local IN = "2026-01-14T10:00:00"

-- the SIP address rules/centres.lua gives an area code ("0": the provincial centre)
local function sip(code)
  if code == centres.upper_code then return centres.province.sip end
  return (centres.cities[code] or centres.other[code]).sip
end

local function agent_from(caller, queue, what)
  return {
    name = "key 0 from " .. what .. " " .. caller .. " -> queue:" .. queue,
    time = IN, caller = caller, keys = { "0" },
    expect = { prompts = { "main_menu", "agent_transfer" }, not_prompts = { "changchun_choice" },
               route = "queue:" .. queue, ended = "engine", hangup_cause = "message" },
  }
end

local function area(code, route)
  local uri = sip(code)
  return {
    name = "key 9, area code " .. code .. " -> " .. route,
    time = IN, keys = { "9", code .. "#" },
    expect = { prompts = { "transfer_enter_code", "transfer_connecting" }, dialled = { uri },
               route = route, hangup_cause = "transfer" },   -- REFER accepted
  }
end

return {
  -- a mobile number of each Jilin city (7-digit segments)
  agent_from("13804321234", "0432.general", "a Jilin mobile"),
  agent_from("13904331234", "0433.general", "a Yanbian mobile"),
  agent_from("13804341234", "0434.general", "a Siping mobile"),
  agent_from("13904351234", "0435.general", "a Tonghua mobile"),
  agent_from("13804361234", "0436.general", "a Baicheng mobile"),
  agent_from("13904371234", "0437.general", "a Liaoyuan mobile"),
  agent_from("13804381234", "0438.general", "a Songyuan mobile"),
  agent_from("13904391234", "0439.general", "a Baishan mobile"),
  agent_from("15043201234", "0432.general", "a Jilin mobile (150 segment)"),
  -- fixed lines by area code
  agent_from("043288881234", "0432.general", "a Jilin fixed line"),
  agent_from("043988881234", "0439.general", "a Baishan fixed line"),
  agent_from("+8643388881234", "0433.general", "a Yanbian fixed line with +86"),
  -- unknown numbers: the provincial centre
  agent_from("13912345678", "province.general", "a mobile of another province"),
  agent_from("01088881234", "province.general", "a Beijing fixed line"),
  agent_from("anonymous", "province.general", "an anonymous caller"),
  {
    name = "key 0 from a Changchun fixed line: 1 provincial service",
    time = IN, caller = "043188881234", keys = { "0", "1" },
    expect = { prompts = { "changchun_choice", "agent_transfer" }, menus = { "main", "changchun_choice" },
               route = "queue:province.general" },
  },
  {
    name = "key 0 from a Changchun fixed line: 2 Changchun city service",
    time = IN, caller = "043188881234", keys = { "0", "2" },
    expect = { prompts = { "changchun_choice", "agent_transfer" }, route = "queue:0431.general" },
  },
  {
    name = "key 0 from a Changchun mobile: the same choice",
    time = IN, caller = "13804311234", keys = { "0", "2" },
    expect = { prompts = { "changchun_choice" }, route = "queue:0431.general" },
  },
  {
    name = "Changchun choice: * goes back to the main menu, a wrong key replays",
    time = IN, caller = "043188881234", keys = { "0", "*", "0", "3", "1" },
    expect = { prompts = { "changchun_choice", "main_menu", "changchun_choice", "invalid_choice",
                           "changchun_choice", "agent_transfer" },
               menus = { "main", "changchun_choice", "main", "changchun_choice" },
               route = "queue:province.general" },
  },
  {
    name = "key 5 complaints from Jilin: the city's complaints queue",
    time = IN, caller = "043288881234", keys = { "5" },
    expect = { prompts = { "complaints_transfer" }, route = "queue:0432.complaints", hangup_cause = "message" },
  },
  {
    name = "key 5 complaints from Changchun: no choice, the city's queue",
    time = IN, caller = "043188881234", keys = { "5" },
    expect = { prompts = { "complaints_transfer" }, not_prompts = { "changchun_choice" },
               route = "queue:0431.complaints" },
  },
  {
    name = "key 5 complaints from an unknown number: the province's queue",
    time = IN, caller = "13912345678", keys = { "5" },
    expect = { route = "queue:province.complaints" },
  },
  -- key 9
  area("0433", "transfer:0433"),
  area("0431", "transfer:0431"),
  area("0438", "transfer:0438"),
  area("0", "transfer:province"),
  area("010", "transfer:010"),
  area("0451", "transfer:0451"),
  {
    name = "key 9: an area code ended by a pause",
    time = IN, keys = { "9", "0435" },
    expect = { dialled = { sip("0435") }, route = "transfer:0435" },
  },
  {
    name = "key 9: an unknown area code gets an error and a retry",
    time = IN, keys = { "9", "0999#", "0436#" },
    expect = { prompts = { "transfer_enter_code", "transfer_bad_code", "transfer_enter_code", "transfer_connecting" },
               dialled = { sip("0436") }, route = "transfer:0436" },
  },
  {
    name = "key 9: REFER refused, the centre answers a dialled call and is bridged",
    time = IN, keys = { "9", "0434#" }, transfer = false,
    dial = { [sip("0434")] = { answer_after = 2000, hangup_after = 30000 } },
    expect = { dialled = { sip("0434") }, route = "transfer:0434",
               hangup_cause = "transferred" },
  },
  {
    name = "key 9: the centre cannot be reached: apology, back to the main menu",
    time = IN, keys = { "9", "0437#", { hangup = true } }, transfer = false,
    dial = { default = { fail = 503 } },
    expect = { prompts = { "transfer_connecting", "transfer_failed", "other_service", "main_menu" },
               route = "transfer-failed:0437:503", ended = "caller" },
  },
  {
    name = "key 9: the centre's host name does not exist (604): the route says so",
    time = IN, keys = { "9", "0433#", { hangup = true } }, transfer = false,
    dial = { default = { fail = 604 } },
    expect = { prompts = { "transfer_connecting", "transfer_failed", "main_menu" },
               dialled = { sip("0433") }, route = "transfer-failed:0433:604", ended = "caller" },
  },
  {
    name = "key 9: * goes back to the main menu",
    time = IN, keys = { "9", "*", { hangup = true } },
    expect = { prompts = { "transfer_enter_code", "main_menu" }, not_prompts = { "other_service" },
               route = "hangup" },
  },
  (function()
    local keys, heard = { "9" }, {}
    for i = 1, ivr.area_code.max_attempts do   -- codes rules/centres.lua does not know
      keys[#keys + 1] = "0" .. (1000 - i) .. "#"
      heard[i] = "transfer_bad_code"
      assert(not centres.destination("0" .. (1000 - i)), "area code 0" .. (1000 - i) .. " is known")
    end
    heard[#heard + 1] = "failure_agent"
    return {
      name = "key 9: max_attempts unknown codes (rules/ivr.lua area_code) in hours -> an agent",
      time = IN, caller = "043788881234", keys = keys,
      expect = { prompts = heard, route = "queue:0437.general" },
    }
  end)(),
}
