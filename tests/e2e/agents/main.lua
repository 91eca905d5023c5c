-- main.lua — the policy of t27 (agents' phones) only, never for production: a caller's call
-- runs main; a registered agent's own call runs agent_call (the tunable agent_entry), which
-- leaves the agent's number in the route for the test to check.

-- a caller's call: answered, up long enough for the test's REFER, which is refused
function main(call)
  call:answer()
  call:set_route("main")
  call:sleep(1500)
  call:hangup()
end

-- answers, plays the test prompt and hangs up after a while (time for the phone's REFER)
function agent_call(call)
  call:answer()
  call:set_route("agent:" .. tostring(call.agent) .. ":caller:" .. call.caller)
  call:play("e2e_chirp")
  call:sleep(2500)
  call:hangup()
end
