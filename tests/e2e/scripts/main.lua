-- main.lua — call scripts for the end-to-end tests (tests/e2e) only, never for production.
--
-- One folder serves every test: the called number (the Request-URI user part SIPp or
-- baresip dials) chooses what the call does, and every flow leaves its mark in the CDR
-- (route, dtmf, prompts, recording) for the test to check.  The reload test copies this
-- folder and edits the TAG line of its copy, so new calls must show the new tag.
local TAG = "base"

local flows = {}

-- play: answer, play the test prompt (tests/e2e/mkaudio.py), hang up.
function flows.play(call)
  call:answer()
  call:play("e2e_chirp")
  call:set_route("played")
  call:sleep(300)
  call:hangup()
end

-- dtmf: what the script does depends on the keys: "15" then "#" takes one route (and
-- reads the number back), anything else another.
function flows.dtmf(call)
  call:answer()
  local digits, reason = call:collect{ min = 1, max = 4, timeout = 10000, interdigit = 5000,
                                       terminator = "#" }
  if digits == "15" then
    call:set_route("keys-15")
    call:say_number(15)
  else
    call:set_route("other-" .. (digits ~= "" and digits or "none") .. "-" .. tostring(reason))
  end
  call:sleep(200)
  call:hangup()
end

-- record: records what the caller sends for 3 s (no beep, no stop key), then hangs up.
function flows.record(call)
  call:answer()
  local id = tostring(call.id):gsub("[^%w_%-]", "_")
  local r = call:record{ path = "e2e/rec-" .. id, max = 3000, silence = 0, beep = false,
                         stop_keys = "" }
  call:set_route("recorded-" .. tostring(r and r.reason))
  call:hangup()
end

-- record_key: records until the stop key "#" (t13: keys 1 5 # by RFC 4733 and by SIP
-- INFO); the keys before it do not stop it.  Every key, the stop key too, is in the CDR's
-- dtmf whichever way it came.
function flows.record_key(call)
  call:answer()
  local id = tostring(call.id):gsub("[^%w_%-]", "_")
  local r = call:record{ path = "e2e/key-" .. id, max = 20000, beep = false, stop_keys = "#" }
  call:set_route("recorded-" .. tostring(r and r.reason))
  call:sleep(1000) -- SIPp waits for the answer to its last INFO before it takes a BYE
  call:hangup()
end

-- ring: rings for 5 s before answering (the CANCEL test cancels during the ringing).
function flows.ring(call)
  call:ring()
  call:sleep(5000)
  call:answer()
  call:set_route("answered-after-ring")
  call:sleep(1000)
  call:hangup()
end

-- wait: answers and waits for the caller (or a timeout, or shutdown) to end the call.
function flows.wait(call)
  call:answer()
  call:set_route("waiting")
  call:sleep(120000)
  call:hangup()
end

-- hangup: answers, waits 1 s, and the script hangs up (the engine sends BYE).
function flows.hangup(call)
  call:answer()
  call:set_route("script-hangup")
  call:sleep(1000)
  call:hangup()
end

-- dialNNNNN: dials a far end at 127.0.0.1:NNNNN and bridges the caller to it; (t24)
-- dialnameNNNNN the same at localhost:NNNNN (a name, resolved from /etc/hosts), dialnx a
-- name that never resolves (RFC 6761: .invalid).  A failed dial is the route.
local function dial(call, hostport)
  call:answer()
  local leg, code = call:dial("sip:far@" .. hostport, { timeout = 10000 })
  if not leg then
    call:set_route("dial-failed-" .. tostring(code))
    call:hangup()
    return
  end
  call:set_route("bridged")
  call:bridge(leg)
  call:hangup()
end

-- version: answers, notes the script's TAG as the route and waits for the caller.
function flows.version(call)
  call:answer()
  call:set_route("tag-" .. TAG)
  call:sleep(120000)
  call:hangup()
end

-- loop: a script that never yields; the instruction budget must stop it.
function flows.loop(call)
  call:answer()
  call:set_route("looping")
  local n = 0
  while true do n = n + 1 end
end

-- eatmem: a script that keeps allocating; the memory cap must stop it.
function flows.eatmem(call)
  call:answer()
  call:set_route("eating")
  local t = {}
  local chunk = string.rep("x", 1000)
  for i = 1, 100000000 do
    t[i] = chunk .. i
  end
end

function main(call)
  local called = call.called or ""
  hl.log("info", "e2e: call " .. tostring(call.id) .. " to '" .. called .. "' (tag " .. TAG .. ")")
  local port = called:match("^dial(%d+)$")
  if port then return dial(call, "127.0.0.1:" .. port) end
  port = called:match("^dialname(%d+)$")
  if port then return dial(call, "localhost:" .. port) end
  if called == "dialnx" then return dial(call, "nowhere.invalid") end
  local flow = flows[called]
  if not flow then
    call:answer()
    call:set_route("unknown-" .. TAG)
    call:sleep(500)
    call:hangup()
    return
  end
  return flow(call)
end
