-- main.lua (t21_fax_queue, engine A) — the caller's fax machine: answers a call from engine
-- B's fax job and receives the document into recordings/fax/queued-in.tif; the result goes
-- to the log and the CDR route ("fax-received-PAGES" or "fax-failed-STATUS").
function main(call)
  call:answer()
  local r = call:fax_receive{ path = "fax/queued-in" }
  hl.log("info", string.format("e2e-fax-queue: received ok=%s pages=%d status=%d reason=%s to=%s",
    tostring(r.ok), r.pages, r.status, r.reason, call.called))
  call:set_route(r.ok and ("fax-received-" .. r.pages) or ("fax-failed-" .. r.status))
  call:hangup()
end
