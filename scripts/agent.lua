-- scripts/agent.lua — the ways out of the IVR to people: key 0 an agent of the caller's
-- centre (§10.15), key 5 complaints (§10.13), key 9 another centre (§10.14), and the path
-- after too many failures (SPEC 2.4).  Centres, area codes and number segments are data in
-- rules/centres.lua; limits in rules/ivr.lua.
--
-- Queues: the ACD comes with a later issue.  Until then a queue route is the result: the
-- route is set (queue:0432.general, queue:0431.complaints, ...), "agent_transfer" plays,
-- and the menu returns "queued"; main.lua then hangs up with cause "queued".  The ACD will
-- replace M.queue's body with the hand-over to the queue.
local menu = require "ivr.menu"
local centres = require "centres"
local ivr = require "ivr"
local ask = require "lib.ask"

local M = {}

-- Ends the IVR part of the call in queue `name`.
function M.queue(call, name, prompt)
  call:set_route("queue:" .. name)
  call:play(prompt or "agent_transfer")
  return "queued"
end

-- §10.15: Changchun callers choose the provincial (1) or the city (2) service.
M.changchun_choice = menu.define{
  name = "changchun_choice",
  prompt = "changchun_choice",
  offers = "12", offers_out = "",   -- only reached in agent hours
  keys = {
    ["1"] = function(call) return M.queue(call, centres.queue(centres.province.code, "general")) end,
    ["2"] = function(call) return M.queue(call, centres.queue(centres.capital, "general")) end,
  },
}

-- Key 0 (and 0 in the voice service): the caller's centre decides the queue.
function M.to_agent(call)
  local owner = centres.open_case_owner(call.caller)     -- hook for the ACD issue (§9)
  if owner then return M.queue(call, owner) end
  local centre = centres.centre_of(call.caller)
  call.vars.centre = centre
  if centre == centres.capital then return menu.enter(call, M.changchun_choice) end
  return M.queue(call, centres.queue(centre, "general"))
end

-- Key 5: the complaints queue of the caller's centre (Changchun callers: the city's).
function M.complaints(call)
  local centre = centres.centre_of(call.caller)
  call.vars.centre = centre
  return M.queue(call, centres.queue(centre, "complaints"), "complaints_transfer")
end

-- After max_failures (wrong keys, no keys) anywhere: in agent hours the caller's centre
-- (without the Changchun question: the caller is not answering menus), else goodbye.
function M.after_failures(call)
  if call.vars.hours == "in" then
    call.vars.centre = centres.centre_of(call.caller)
    return M.queue(call, centres.queue(call.vars.centre, "general"), "failure_agent")
  end
  if call.route == "" then call:set_route("hangup") end
  call:play("failure_goodbye")
  return "goodbye"
end

-- Key 9: the caller keys an area code (# or a pause ends it; 0 = the provincial centre).
function M.other_centre(call)
  local cfg = ivr.area_code
  local centre, word = ask.entry(call, {
    attempts = cfg.max_attempts, wrong_prompt = "transfer_bad_code", check = centres.destination,
    collect = { min = 1, max = 4, terminator = "#", timeout = cfg.timeout_ms,
                interdigit = cfg.interdigit_ms, prompt = "transfer_enter_code" },
  })
  if centre == hl.BACK then return hl.BACK end                         -- §10.16
  if not centre then return M.after_failures(call) end
  call:set_route("transfer:" .. word)
  call:play("transfer_connecting")
  local ok, code = call:transfer(centre.sip)
  if ok then return "transferred" end
  -- the route keeps why: the area code and the SIP status (604: the centre's name does not
  -- resolve, 503: no answer from DNS or the centre, 403: a dial rule refused it)
  call:set_route("transfer-failed:" .. word .. ":" .. tostring(code))
  call:play("transfer_failed")
  return nil                                                           -- back to the menu
end

return M
