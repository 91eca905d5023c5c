-- rules/queues.lua — the agent queues (SPEC 3): which exist, who serves them, how a caller
-- waits in one, and how the agent who answers is chosen.  The engine's ACD keeps the agents'
-- states and the order of the callers; everything here is the centre's to change, test
-- (rules/queues.scenario.lua, scripts/agent.scenario.lua) and reload.
--
-- Queues are "<centre>.<kind>": a centre of rules/centres.lua (area code, or "province")
-- and a kind: general (key 0, §10.15), complaints (key 5, §10.13), leaders (the shift
-- leader: transfers of complaints about an agent, chapter 6 投诉电话).  An agent serves a
-- queue when the agent's centre is the queue's and the agent has the kind as a skill
-- (`hotline ctl agent add 1001 --centre 0431 --skills general:5,complaints`).
local centres = require "centres"

local M = {}

-- How a caller waits, for every queue unless `overrides` below says otherwise.
M.defaults = {
  -- Chapter 6 (服务规范: 电话铃响3声以下接起) scores an answer within three rings; a
  -- phone that rings 20 s (about four rings of the 5 s cadence) is not being answered:
  -- the caller goes back to the head of the queue and the next agent is rung.
  ring_timeout_ms = 20000,
  -- After this many missed calls in a row the agent is set not ready (示忙) with reason
  -- "no-answer", so callers are not sent to an empty seat; the agent sets ready again (*21).
  max_misses = 2,
  miss_reason = "no-answer",
  -- Wrap-up (整理) after each call: the summary typed (chapter 6: 来电摘要) before the next.
  wrapup_ms = 15000,
  -- SPEC 3: "when no agent can take the call in time, they are offered a message":
  -- after max_wait_ms the caller is offered key 2 (a message) or to keep waiting.
  max_wait_ms = 120000,
  -- Music, and the caller's position and expected wait every announce_every_ms (SPEC 3:
  -- "queue callers hear music and their position").
  music = "queue_music",
  announce_every_ms = 30000,
  announce_position = { "queue_position_a", "{ahead}", "queue_position_b" },
  announce_wait = { "queue_wait_a", "{wait_minutes}", "queue_wait_b" },
  -- Key 2 leaves the queue for a message at any time (the IVR's key-2 flow).
  leave_keys = "2",
  -- After a timeout the caller has offer_timeout_ms to choose 1 (keep waiting) or 2; a
  -- caller who keeps waiting max_rounds times is given the message (no endless waits).
  offer_timeout_ms = 8000,
  max_rounds = 3,
  -- Chapter 6 (查询信息): a hold over 30 s needs the agent to come back to the caller; the
  -- agent hears a reminder every hold_reminder_ms (SPEC 3: every 30 s).
  hold_reminder_ms = 30000,
  -- An attended transfer rings its target this long while the caller holds; then the
  -- agent has the caller back.
  consult_wait_ms = 30000,
  strategy = "longest_idle",
}

-- A city's general queue that nobody answers in overflow_after_ms overflows to the
-- provincial one (the provincial centre backs up the cities, §10.15).
M.overflow = { after_ms = 60000, to = centres.queue(centres.province.code, "general") }

-- Settings of single queues: a queue name -> fields of M.defaults it changes.
M.overrides = {
  -- complaints are few and go to whoever has been idle longest among those trained for them
  ["province.complaints"] = { strategy = "skills" },
}

local kinds = { "general", "complaints", "leaders" }

-- Every queue: centre x kind.
function M.list()
  local out = {}
  local codes = { centres.province.code }
  for code in pairs(centres.cities) do codes[#codes + 1] = code end
  table.sort(codes)
  for _, code in ipairs(codes) do
    for _, kind in ipairs(kinds) do
      out[#out + 1] = { name = centres.queue(code, kind), centre = code, skill = kind }
    end
  end
  return out
end

-- A queue's settings: the defaults with its overrides.
function M.settings(name)
  local s = {}
  for k, v in pairs(M.defaults) do s[k] = v end
  for k, v in pairs(M.overrides[name] or {}) do s[k] = v end
  return s
end

-- Where a queue overflows to, or nil (a city's general queue only).
function M.overflow_of(name)
  local centre, kind = name:match("^(.-)%.(%a+)$")
  if kind == "general" and centre ~= centres.province.code then return M.overflow.to end
  return nil
end

-- ---- strategies: strategy(agents, caller, queue) -> indexes into agents, ring order -----
-- agents[i] = { number, idle_since, last_offer, talk_ms, skill_level, misses, ... } (the
-- ready agents who serve the queue); caller = { number, waited_ms, owner }.
local function order_by(agents, better)
  local idx = {}
  for i = 1, #agents do idx[i] = i end
  table.sort(idx, function(a, b)
    local x, y = agents[a], agents[b]
    local r = better(x, y)
    if r == nil then return x.number < y.number end   -- ties: the lower number, so it is stable
    return r
  end)
  return idx
end

-- The one best agent: a single pass (a queue offered a caller at a time has hundreds of
-- ready agents at a busy hour; sorting them all per caller would hold the engine's loop).
local function best(agents, better)
  local b
  for i = 1, #agents do
    if not b then b = i
    else
      local x, y = agents[i], agents[b]
      local r = better(x, y)
      if r == nil then r = x.number < y.number end       -- ties: the lower number, as order_by
      if r then b = i end
    end
  end
  return { b }
end

local function cmp(a, b) if a == b then return nil end return a < b end

M.strategies = {}

-- The agent who has been ready longest.
function M.strategies.longest_idle(agents)
  return best(agents, function(x, y) return cmp(x.idle_since, y.idle_since) end)
end

-- Each agent in turn: the one offered a call least recently.
function M.strategies.round_robin(agents)
  return best(agents, function(x, y) return cmp(x.last_offer, y.last_offer) end)
end

-- Every ready agent's phone rings; the first to answer takes the call.
function M.strategies.ring_all(agents)
  return order_by(agents, function(x, y) return cmp(x.idle_since, y.idle_since) end)
end

-- The agent who has talked least since the engine started.
function M.strategies.least_talk(agents)
  return best(agents, function(x, y) return cmp(x.talk_ms, y.talk_ms) end)
end

-- The highest level of the queue's skill, then longest idle.
function M.strategies.skills(agents)
  return best(agents, function(x, y)
    if x.skill_level ~= y.skill_level then return x.skill_level > y.skill_level end
    return cmp(x.idle_since, y.idle_since)
  end)
end

-- First-contact responsibility (chapter 9 首问负责制): the agent who owns the caller's
-- open case, when ready; while that agent is on a call (busy_states) the caller waits for
-- them up to owner_wait_ms, then longest idle.  An owner not at work (not ready, logged
-- out) is not waited for.
M.owner_wait_ms = 30000
M.busy_states = { reserved = true, ringing = true, talking = true, ["on-hold"] = true, ["wrap-up"] = true }
function M.strategies.owner_first(agents, caller)
  if caller.owner then
    for i, a in ipairs(agents) do
      if a.number == caller.owner then return { i } end
    end
    if M.busy_states[caller.owner_state] and caller.waited_ms < M.owner_wait_ms then return {} end
  end
  return M.strategies.longest_idle(agents)
end

-- The queue's strategy; owner_first whenever the caller has an open case.
function M.choose(queue, caller, agents)
  local name = caller.owner and "owner_first" or M.settings(queue.name).strategy
  local s = M.strategies[name]
  if not s then error("queue " .. queue.name .. ": no strategy '" .. tostring(name) .. "'") end
  return s(agents, caller, queue)
end

-- What the engine's ACD keeps per queue.
function M.definitions()
  local out = {}
  for _, q in ipairs(M.list()) do
    local s = M.settings(q.name)
    out[#out + 1] = { name = q.name, centre = q.centre, skill = q.skill, wrapup_ms = s.wrapup_ms,
                      max_misses = s.max_misses, miss_reason = s.miss_reason }
  end
  return out
end

return M
