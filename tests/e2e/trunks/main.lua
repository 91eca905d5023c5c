-- main.lua (t18_trunks) — the fax-to-number service reduced to what the dial rules see
-- (scripts/fax.lua does the same after its menus): the caller keys a number and "#", the
-- script queues a fax job for it; the job dials the number through the fax gateway
-- (fax_gateway.lua: the test's listener) with purpose "fax", once.  Called "whoami", it
-- only writes the caller's number as the engine took it (From or P-Asserted-Identity)
-- into the route, and hangs up without answering.
local gateway = require "fax_gateway"

function main(call)
  if call.called == "whoami" then
    call:set_route("caller-" .. (call.caller ~= "" and call.caller or "none"))
    call:hangup()
    return
  end
  call:answer()
  local number = call:collect{ min = 3, max = 20, timeout = 10000, interdigit = 5000 }
  local id = #number >= 3 and hl.jobs.enqueue("fax", { to = number, file = "doc-1.tif" },
                                              { max_attempts = 1 })
  call:set_route(id and "fax-queued" or "fax-not-queued")
  call:hangup()
end

function job_fax(call, args, job)
  local leg, code = call:dial("sip:" .. args.to .. "@" .. gateway.host,
                              { timeout = gateway.ring_ms, purpose = "fax" })
  if not leg then
    call:set_route("fax-dial-" .. tostring(code))
    return false, "dial " .. tostring(code)
  end
  leg:hangup()
  call:set_route("fax-dialled")
  return true
end
