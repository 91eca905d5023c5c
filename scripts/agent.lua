-- scripts/agent.lua — the ways out of the IVR to people: key 0 an agent of the caller's
-- centre (§10.15), key 5 complaints (§10.13), key 9 another centre (§10.14), and the path
-- after too many failures (SPEC 2.4).  Centres, area codes and number segments are data in
-- rules/centres.lua; limits in rules/ivr.lua; queues, waits and strategies in
-- rules/queues.lua.
--
-- A queue route (queue:0432.general, queue:0431.complaints, ...) puts the caller in that
-- queue of the engine's ACD (call:queue): music and the position every so often, key 2
-- for a message at any time; a city's general queue overflows to the province's after
-- rules/queues.lua overflow.after_ms; when no agent can take the call in time, or nobody
-- serves the queue, the caller is offered a message (2) or to keep waiting (1).  An agent
-- who answers is bridged to the caller and the call recorded (recordings/calls/).
local menu = require "ivr.menu"
local centres = require "centres"
local ivr = require "ivr"
local ask = require "lib.ask"
local queues = require "queues"
local message = require "message"
local cases = require "cases"
local codes = require "agent_codes"

local M = {}

-- call:queue's options from a queue's settings; quiet: no announcements, no keys (a
-- consultation's ring, while the caller holds).
local function wait_options(s, max_wait, owner, quiet)
  return { owner = owner, ring_timeout = s.ring_timeout_ms, max_wait = max_wait,
           announce_every = not quiet and s.announce_every_ms or 0, music = s.music,
           announce_position = s.announce_position, announce_wait = s.announce_wait,
           keys = not quiet and s.leave_keys or "" }
end

-- Waits in queue `name` (and its overflow); returns the outcome and, when answered, the leg
-- and the agent.
local function wait_in(call, name)
  local s = queues.settings(name)
  local owner = call.vars._owner
  local overflow = queues.overflow_of(name)
  call.vars.queue = name
  local outcome, leg, agent = call:queue(name, wait_options(s, overflow and queues.overflow.after_ms or s.max_wait_ms, owner))
  if overflow and (outcome == "timeout" or outcome == "empty") then
    -- the route stays the IVR's choice; the CDR's queue is where the caller waited last
    call.vars.overflow_from = name
    call.vars.queue = overflow
    outcome, leg, agent = call:queue(overflow, wait_options(s, s.max_wait_ms, owner))
  end
  return outcome, leg, agent
end

-- Where a transfer goes: the shift leader (the agent's centre's leaders queue), an agent
-- (that agent's centre's general queue, the agent first: owner), or a queue by name.
-- Returns the queue and the agent to prefer, or nil for a target that is none of these.
local function transfer_target(call, target, agent)
  local me = call:agent_info(agent)
  if target == codes.leader_target then
    return centres.queue(me and me.centre or centres.province.code, "leaders")
  end
  local who = call:agent_info(target)
  if who then return centres.queue(who.centre, "general"), target end
  for _, q in ipairs(queues.list()) do
    if q.name == target then return target end
  end
  return nil
end

local function bridge_options(call, s)
  call.vars._talks = (call.vars._talks or 0) + 1
  local path = string.format("calls/%s/%s-%d.wav", hl.date("%Y-%m-%d"), call.id:gsub("[^%w_.-]", "_"),
                             call.vars._talks)
  return { record = path, hold_music = s.music, reminder = "hold_reminder", reminder_every = s.hold_reminder_ms,
           transfer = codes.during_call.transfer, consult = codes.during_call.consult }
end

-- The caller and the agent who answered, recorded; a transfer (blind, or attended after a
-- consultation) hands the caller to the next agent.  The route keeps the queue.
local function talk(call, leg, agent)
  while true do
    call.vars.agent = agent
    cases.taken(call, agent)
    local s = queues.settings(call.vars.queue)
    local outcome, target = call:bridge(leg, bridge_options(call, s))
    if outcome ~= "transfer" and outcome ~= "consult" then return "answered" end
    local queue, prefer = transfer_target(call, target, agent)
    call.vars.transfer_to = target
    if outcome == "transfer" then                 -- blind: the agent is gone
      local r, next_leg, next_agent = call:queue(queue or call.vars.queue,
                                                 wait_options(s, s.max_wait_ms, prefer))
      if r ~= "answered" then return M.leave_message(call, call.vars.queue) end
      leg, agent = next_leg, next_agent
    elseif queue then                             -- attended: ring the target, consult
      local r, tleg, tagent = call:queue(queue, wait_options(s, s.consult_wait_ms, prefer, true))
      if r == "answered" then
        local how = call:consult(leg, tleg, { complete = codes.during_call.complete,
                                               cancel = codes.during_call.cancel, music = s.music })
        if how == "complete" then
          leg:hangup("transferred")
          leg, agent = tleg, tagent
        else
          tleg:hangup("consult-" .. how)          -- cancel, or already gone: back to the agent
        end
      end
    end
  end
end

-- A message instead of an agent; the route stays the queue's (its CDR's queue_outcome says
-- why: empty, timeout, key).
function M.leave_message(call, name)
  message.run(call, nil, true)
  return "message"
end

-- Ends the IVR part of the call in queue `name`: an agent, or a message.
function M.queue(call, name, prompt)
  call:set_route("queue:" .. name)
  call:play(prompt or "agent_transfer")
  call.vars._owner = cases.owner(call)
  for _ = 1, queues.defaults.max_rounds do
    local outcome, leg, agent = wait_in(call, name)
    if outcome == "answered" then return talk(call, leg, agent) end
    if outcome == "key" then break end                           -- key 2: a message now
    if outcome == "empty" then call:play("queue_no_agents") end
    local key = call:collect{ prompt = "queue_offer_message", max = 1, timeout = queues.defaults.offer_timeout_ms }
    if key ~= "1" then break end                                 -- 2, or nothing: a message
  end
  return M.leave_message(call, name)
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
