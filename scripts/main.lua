-- scripts/main.lua — the 12333 hotline's caller flow: rule book chapter 10, SPEC section 2.
--
--   welcome (§10.3) -> agent hours? (§10.4, rules/calendar.lua)
--     in hours:  main menu 1 2 3 4 5 9 0 (§10.5)
--     out:       hours announcement (§10.6), then main menu 1 2 3 4 (§10.7)
--   1 voice service      scripts/voice.lua   (topics: rules/topics.lua)     voice:<topic>
--   2 leave a message    scripts/message.lua                                message
--   3 fax on demand      scripts/fax.lua     (rules/fax_documents.lua)      fax
--   4 account query      scripts/account.lua (rules/accounts.lua)           account
--   5 complaints         scripts/agent.lua                                  queue:<centre>.complaints
--   9 another centre     scripts/agent.lua   (rules/centres.lua)            transfer:<code> (transfer-failed:<code>:<status>)
--   0 an agent           scripts/agent.lua   (rules/centres.lua)            queue:<centre>.general
-- A wrong key: "选择错误,请重新输入" and the menu again (§10.8); * one level back (§10.16);
-- no key: the menu again; after rules/ivr.lua max_failures: an agent in hours, else goodbye.
-- After a service the main menu offers the others again (§10.9-10.12); hanging up ends it.
-- Menus are declared with scripts/ivr/menu.lua and linted when the policy loads.
local menu = require "ivr.menu"
local ivr = require "ivr"
local calendar = require "calendar"
local agent = require "agent"
local voice = require "voice"
local message = require "message"
local fax = require "fax"
local account = require "account"

-- A service that ends with nil (or hl.BACK) comes back to the main menu, with a word
-- between the two the first time (§10.9: "选择其他服务或挂机").
local function service(run)
  return function(call)
    local r = run(call, agent.after_failures)
    if r == nil then call:play("other_service") end
    if r == nil or r == hl.BACK then return nil end
    return r
  end
end

local main_menu = menu.define{
  name = "main",
  prompt = "main_menu",          -- §10.5
  prompt_out = "main_menu_out",  -- §10.7
  offers = "1234590",
  offers_out = "1234",
  on_failure = agent.after_failures,
  keys = {
    ["1"] = voice.root,
    ["2"] = service(message.run),
    ["3"] = service(fax.run),
    ["4"] = service(account.run),
    ["5"] = agent.complaints,
    ["9"] = service(agent.other_centre),
    ["0"] = agent.to_agent,
  },
  leads_to = { agent.changchun_choice, message.confirm, fax.mode },
}

menu.finish(main_menu)
calendar.check_year(hl.date("*t").year)   -- this year's holidays, or the policy is refused

local welcome = { "welcome_1", ivr.province.prompt, "welcome_2" }

function main(call)
  call:on_hangup(function(c)
    message.on_hangup(c)
    account.on_hangup(c)
    if c.route == "" then c:set_route("hangup") end
  end)
  call:answer()
  local now = calendar.status(hl.date("*t"))
  call.vars.hours = now.agents and "in" or "out"   -- decided once, when the call arrives (§10.4)
  call.vars.season = now.season
  call.vars.day = now.day
  call:play(welcome)
  if not now.agents then call:play("hours_info") end
  local result = call:menu(menu.enter(call, main_menu))
  if call.route == "" then call:set_route("hangup") end
  call:hangup(type(result) == "string" and result or "script")
end

-- A queued fax (key 3 → 2): the engine runs this after the caller's call, with retries.
function job_fax(call, args, job)
  return fax.job(call, args)
end

-- A call from an agent's own phone (the engine's agent_entry): feature codes, supervision,
-- callbacks (scripts/agent_phone.lua).
local agent_phone = require "agent_phone"
function agent_call(call) return agent_phone.call(call) end

-- The ACD's questions (engine/call/acd_policy.c): the queues, and who answers a caller.
local queues = require "queues"
function acd_queues() return queues.definitions() end
function acd_choose(queue, caller, agents) return queues.choose(queue, caller, agents) end

-- Back-office records entered with `hotline ctl admin` (engine/app/admin.c): what they are
-- and when they are refused, rules/backoffice.lua.
local backoffice = require "backoffice"
function admin_plan(kind, rows, now) return backoffice.plan(kind, rows, now) end
function admin_check(kind, rows, ctx, now, by) return backoffice.check(kind, rows, ctx, now, by) end

-- The menu convention of these flows (offers), checked on every build: scripts/ivr/check.lua.
check_sources = require("ivr.check").sources

function fallback(call, err)
  if call.route == "" then call:set_route("fallback") end
  call:play("sorry")
  call:hangup("fallback")
end
