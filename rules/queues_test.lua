-- rules/queues_test.lua — the agent-choosing strategies of rules/queues.lua (SPEC 3:
-- longest idle, round robin, ring all, least talk time, skills, owner first), on agents
-- as the engine's ACD hands them (engine/call/acd_policy.c: acd_choose's agents).
local Q = require "queues"

local function a(number, t)
  t = t or {}
  return { number = number, idle_since = t.idle or 0, last_offer = t.offer or 0, talk_ms = t.talk or 0,
           skill_level = t.level or 1, misses = 0, answered = 0 }
end
local queue = { name = "0431.general", centre = "0431", skill = "general" }
local caller = { number = "043188881234", waited_ms = 0 }

return {
  { name = "longest idle: the agent ready the longest",
    got = Q.strategies.longest_idle({ a("1", { idle = 30 }), a("2", { idle = 10 }), a("3", { idle = 20 }) }),
    want = { 2 } },
  { name = "longest idle: a tie goes to the lower number (stable)",
    got = Q.strategies.longest_idle({ a("1002", { idle = 5 }), a("1001", { idle = 5 }) }), want = { 2 } },
  { name = "round robin: the agent offered a call least recently",
    got = Q.strategies.round_robin({ a("1", { offer = 7 }), a("2", { offer = 3 }), a("3", { offer = 9 }) }),
    want = { 2 } },
  { name = "ring all: every ready agent, longest idle first",
    got = Q.strategies.ring_all({ a("1", { idle = 30 }), a("2", { idle = 10 }), a("3", { idle = 20 }) }),
    want = { 2, 3, 1 } },
  { name = "least talk time: the agent who talked least",
    got = Q.strategies.least_talk({ a("1", { talk = 900 }), a("2", { talk = 100 }), a("3", { talk = 500 }) }),
    want = { 2 } },
  { name = "skills: the highest level of the queue's skill, then longest idle",
    got = Q.strategies.skills({ a("1", { level = 3, idle = 1 }), a("2", { level = 5, idle = 9 }),
                                a("3", { level = 5, idle = 4 }) }),
    want = { 3 } },
  { name = "owner first (chapter 9 首问负责制): the case owner when ready, even if another idled longer",
    got = Q.strategies.owner_first({ a("1", { idle = 1 }), a("2", { idle = 9 }) },
                                   { number = "x", waited_ms = 0, owner = "2", owner_state = "ready" }),
    want = { 2 } },
  { name = "owner first: a busy owner is waited for, up to owner_wait_ms",
    got = Q.strategies.owner_first({ a("1") }, { number = "x", waited_ms = Q.owner_wait_ms - 1, owner = "2",
                                                 owner_state = "talking" }),
    want = {} },
  { name = "owner first: past owner_wait_ms, longest idle",
    got = Q.strategies.owner_first({ a("1") }, { number = "x", waited_ms = Q.owner_wait_ms, owner = "2",
                                                 owner_state = "talking" }),
    want = { 1 } },
  { name = "owner first: an owner not at work (logged out) is not waited for",
    got = Q.strategies.owner_first({ a("1") }, { number = "x", waited_ms = 0, owner = "2", owner_state = "logged-out" }),
    want = { 1 } },
  { name = "choose: the queue's strategy (overrides), owner first whenever the caller has an owner",
    run = function()
      local s = Q.settings("province.complaints").strategy
      assert(s == Q.overrides["province.complaints"].strategy, "override not applied: " .. tostring(s))
      local got = Q.choose(queue, caller, { a("1", { idle = 2 }), a("2", { idle = 1 }) })
      assert(got[1] == 2, "0431.general should be " .. Q.defaults.strategy)
    end },
  { name = "every queue: centre x kind, and a city's general queue overflows to the province",
    run = function()
      local names = {}
      for _, q in ipairs(Q.definitions()) do names[q.name] = q end
      assert(names["0431.general"] and names["province.complaints"] and names["0439.leaders"], "queues missing")
      assert(Q.overflow_of("0431.general") == Q.overflow.to, "city general does not overflow")
      assert(Q.overflow_of("province.general") == nil, "the province overflows nowhere")
      assert(Q.overflow_of("0431.complaints") == nil, "complaints stay in their centre")
      assert(names["0431.general"].wrapup_ms == Q.defaults.wrapup_ms, "wrap-up from the defaults")
    end },
  { name = "property: longest idle picks ring all's first, ties and all (200 random lists)",
    run = function()
      local seed = 12345
      local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
      for _ = 1, 200 do
        local list = {}
        for i = 1, rnd(40) + 1 do list[i] = a(tostring(1000 + rnd(50)), { idle = rnd(5) }) end
        local one, all = Q.strategies.longest_idle(list), Q.strategies.ring_all(list)
        assert(list[one[1]].number == list[all[1]].number and list[one[1]].idle_since == list[all[1]].idle_since,
               "longest idle chose " .. list[one[1]].number .. ", ring all's first is " .. list[all[1]].number)
      end
    end },
}
