-- bench/scripts/main.lua — the call flow `make bench` loads the engine with.
-- Called number "setup": answer and wait for the caller's BYE (call set-up rate).
-- Called number "acd" (stages 6 and 7): answer, wait in the bench's one queue with music
-- until an agent's phone answers, then bridge the two and record the call until one hangs
-- up — the path of a real caller after the IVR (scripts/agent.lua), without its prompts.
-- "acd-norec": the same without the recording (ACD_RECORD=0: what recording costs).
-- Anything else: answer and play the welcome prompt over and over until the caller hangs
-- up (concurrent calls with media).
local QUEUE = { name = "bench.general", centre = "bench", skill = "general" }

-- Only the bench's agents serve it (bench/run.sh adds them with --centre bench --skills
-- general); no wrap-up, so a freed agent is offered again at once.
function acd_queues()
  return { { name = QUEUE.name, centre = QUEUE.centre, skill = QUEUE.skill, wrapup_ms = 0,
             max_misses = 3, miss_reason = "no-answer" } }
end

-- Longest idle, as rules/queues.lua's default strategy, in one pass over the ready agents.
function acd_choose(queue, caller, agents)
  local best = 1
  for i = 2, #agents do
    if agents[i].idle_since < agents[best].idle_since then best = i end
  end
  return { best }
end

local function queue_and_bridge(call, record)
  call:set_route("bench:acd")
  local outcome, leg = call:queue(QUEUE.name, { music = "queue_music", if_empty = false })
  if outcome ~= "answered" then
    call:hangup("queue-" .. tostring(outcome))
    return
  end
  call:bridge(leg, { record = record and "bench/" .. call.id:gsub("[^%w_.-]", "_") .. ".wav" or nil })
  call:hangup("bridged")
end

function main(call)
  call:answer()
  if call.called == "setup" then
    call:set_route("bench:setup")
    call:sleep(600000)
    return
  end
  if call.called == "acd" or call.called == "acd-norec" then
    queue_and_bridge(call, call.called == "acd")
    return
  end
  call:set_route("bench:media")
  while true do
    call:play({ "welcome" })
  end
end
