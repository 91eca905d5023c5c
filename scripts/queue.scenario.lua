-- scripts/queue.scenario.lua — the agent queues (SPEC 3, rules/queues.lua) with simulated
-- agents: who is rung, what the caller hears while waiting, overflow, a message when no
-- agent can take the call, and the agents' states after.  Every wait and limit is taken
-- from rules/queues.lua, so a changed rule is checked as it is.
local queues = require "queues"
local IN = "2026-01-14T10:00:00"
local D = queues.defaults
-- Jilin fixed lines (queue 0432.general); each scenario its own caller, since the first
-- call of a caller opens a case that the next one's owner-first choice would read
local n = 0
local function jilin() n = n + 1; return string.format("04328888%04d", n) end

local function agent(number, centre, t)
  t = t or {}
  t.number, t.centre = number, centre
  t.skills = t.skills or "general"
  return t
end

return {
  {
    name = "key 0: the ready agent of the caller's city answers; the call is bridged and recorded",
    time = IN, caller = jilin(), keys = { "0" },
    agents = { agent("8001", "0432", { answer_after = 3000, hangup_after = 20000 }) },
    expect = { prompts = { "agent_transfer" }, dialled = { "agent:8001" }, route = "queue:0432.general",
               cdr = { agent = "8001", queue = "0432.general", queue_outcome = "answered",
                       recording = { match = "^calls/" }, hangup_first = "agent" },
               agent_states = { ["8001"] = "wrap-up" } },
  },
  {
    -- the engine hangs up the agent's leg itself: its talk must end too (seen stuck in
    -- "talking" under `make bench`)
    name = "the caller hangs up while talking: the agent goes to wrap-up, not left talking",
    time = IN, caller = jilin(), keys = { "0" }, hangup_at = 90000,
    agents = { agent("8001", "0432", { answer_after = 2000, hangup_after = 600000 }) },
    expect = { dialled = { "agent:8001" }, cdr = { agent = "8001", queue_outcome = "answered" },
               agent_states = { ["8001"] = "wrap-up" } },
  },
  {
    name = "an agent of another city does not serve the caller's queue: overflow, then a message",
    time = IN, caller = jilin(), keys = { "0" }, hangup_at = 30000,
    agents = { agent("8101", "0433", { answer_after = 1000 }) },
    expect = { prompts = { "queue_no_agents", "queue_offer_message" }, not_prompts = { "queue_music" },
               cdr = { queue = queues.overflow.to, queue_outcome = "empty" } },
  },
  {
    name = "the first agent does not answer: after the ring timeout the next one is rung",
    time = IN, caller = jilin(), keys = { "0" },
    agents = { agent("8001", "0432", { ready_at = 0, no_answer = true }),
               agent("8002", "0432", { ready_at = 1000, answer_after = 2000, hangup_after = 5000 }) },
    expect = { dialled = { "agent:8001", "agent:8002" }, cdr = { agent = "8002", queue_outcome = "answered" },
               agent_states = { ["8001"] = "ready" } },
  },
  {
    name = "longest idle: of two ready agents the one ready longer is rung",
    time = IN, caller = jilin(), keys = { "0" },
    agents = { agent("8002", "0432", { ready_at = 0, answer_after = 1000, hangup_after = 3000 }),
               agent("8001", "0432", { ready_at = 500, answer_after = 1000, hangup_after = 3000 }) },
    expect = { dialled = { "agent:8002" }, cdr = { agent = "8002" } },
  },
  {
    name = "nobody serves the queue: the caller hears so and is offered a message (2)",
    time = IN, caller = jilin(), keys = { "0", { key = "2", after = 500 } },
    expect = { prompts = { "agent_transfer", "queue_no_agents", "queue_offer_message", "message_intro" },
               route = "queue:0432.general", cdr = { queue_outcome = "empty" } },
  },
  {
    name = "key 2 while waiting leaves the queue for a message",
    time = IN, caller = jilin(), keys = { "0", { key = "2", after = 5000 } },
    agents = { agent("8001", "0432", { state = "not-ready" }) },
    expect = { prompts = { "agent_transfer", "message_intro" }, not_prompts = { "queue_offer_message" },
               cdr = { queue = "0432.general", queue_outcome = "key" } },
  },
  {
    name = "music, then the position every announce_every_ms while nobody is ready",
    time = IN, caller = jilin(), keys = { "0" }, hangup_at = D.announce_every_ms + 40000,
    agents = { agent("8001", "0432", { state = "not-ready" }) },
    expect = { prompts = { "agent_transfer", D.music, D.announce_position[1] },
               cdr = { queue_outcome = "abandoned" } },
  },
  {
    name = "overflow: a city queue nobody answers goes to the province after overflow.after_ms",
    time = IN, caller = jilin(), keys = { "0" },
    agents = { agent("8001", "0432", { state = "not-ready" }),
               agent("9001", "province", { answer_after = 2000, hangup_after = 5000 }) },
    expect = { dialled = { "agent:9001" }, route = "queue:0432.general",
               cdr = { agent = "9001", queue = queues.overflow.to, queue_outcome = "answered" },
               vars = { overflow_from = "0432.general" } },
  },
  {
    name = "the caller hangs up while the agent's phone rings: abandoned, the agent is ready again",
    time = IN, caller = jilin(), keys = { "0" }, hangup_at = 25000,
    agents = { agent("8001", "0432", { no_answer = true }) },
    expect = { dialled = { "agent:8001" }, cdr = { queue_outcome = "abandoned" },
               agent_states = { ["8001"] = "ready" } },
  },
  {
    name = "complaints (key 5) ring only an agent with the complaints skill",
    time = IN, caller = jilin(), keys = { "5" },
    agents = { agent("8001", "0432", { answer_after = 500 }),
               agent("8003", "0432", { skills = "general,complaints", answer_after = 1000, hangup_after = 3000 }) },
    expect = { dialled = { "agent:8003" }, cdr = { agent = "8003", queue = "0432.complaints" } },
  },
  {
    name = "the caller hangs up during the talk: the agent goes to wrap-up, the CDR says the caller ended it",
    time = IN, caller = jilin(), keys = { "0" }, hangup_at = 30000,
    agents = { agent("8001", "0432", { answer_after = 1000 }) },
    expect = { dialled = { "agent:8001" }, agent_states = { ["8001"] = "wrap-up" },
               cdr = { agent = "8001", queue_outcome = "answered", hangup_first = "caller" } },
  },
  {
    name = "owner first (chapter 9): the caller's open case goes to its owner, not to the agent idle longest",
    time = IN, caller = "043288889901", keys = { "0" },
    store = { { "INSERT INTO cases (caller, owner, state, opened, updated) VALUES (?, '8002', 'open', 0, 0)",
                "043288889901" } },
    agents = { agent("8001", "0432", { ready_at = 0, answer_after = 1000, hangup_after = 3000 }),
               agent("8002", "0432", { ready_at = 500, answer_after = 1000, hangup_after = 3000 }) },
    expect = { dialled = { "agent:8002" }, cdr = { agent = "8002" } },
  },
  {
    name = "owner first: an owner not at work (not ready) is not waited for",
    time = IN, caller = "043288889902", keys = { "0" },
    store = { { "INSERT INTO cases (caller, owner, state, opened, updated) VALUES (?, '8002', 'open', 0, 0)",
                "043288889902" } },
    agents = { agent("8001", "0432", { answer_after = 1000, hangup_after = 3000 }),
               agent("8002", "0432", { state = "not-ready" }) },
    expect = { dialled = { "agent:8001" }, cdr = { agent = "8001" } },
  },
}
