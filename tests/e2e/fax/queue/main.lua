-- main.lua (t21_fax_queue, engine B) — fax on demand by a queued call (issue 3 item 5,
-- SPEC §10.11): the caller keys a fax number and "#", the script queues a fax job and
-- hangs up; the engine later runs job_fax, which dials the number through the fax gateway
-- (rules/fax_gateway.lua: the test points it at engine A) and sends the document on the
-- dialled leg.  A failed attempt (no answer, busy, T.30 error) returns false and a reason:
-- the engine retries it after fax_retry_delay_ms, up to max_attempts.
local gateway = require "fax_gateway"

function main(call)
  call:answer()
  local number = call:collect{ min = 5, max = 20, timeout = 10000, interdigit = 5000 }
  if #number < 5 then
    call:set_route("fax-bad-number")
    call:hangup()
    return
  end
  local id, err = hl.jobs.enqueue("fax", { to = number, file = "doc-1.tif" }, { max_attempts = 3 })
  call.vars.fax_job = id or -1
  call:set_route(id and "fax-queued" or "fax-queue-failed")
  if not id then hl.log("warn", "fax job not queued: " .. tostring(err)) end
  call:hangup()
end

-- The job: args = { to = "043188886666", file = "doc-1.tif" }, job = { id, attempt, ... }.
function job_fax(call, args, job)
  local uri = "sip:" .. args.to .. "@" .. gateway.host
  local leg, code = call:dial(uri, { timeout = gateway.ring_ms, purpose = "fax" })
  if not leg then
    call:set_route("fax-dial-" .. tostring(code))
    return false, "dial " .. uri .. ": " .. tostring(code)
  end
  local r = call:fax_send{ leg = leg, file = args.file }
  hl.log("info", string.format("e2e-fax-queue: job %d attempt %d sent ok=%s pages=%d of %s reason=%s",
    job.id, job.attempt, tostring(r.ok), r.pages, tostring(r.pages_in_file), r.reason))
  leg:hangup()
  call.vars.fax_pages = r.pages
  call:set_route(r.ok and "fax-sent" or "fax-failed")
  if not r.ok then return false, "fax: " .. r.reason end
  return true
end
