-- main.lua (t20_fax, engine A) — the sending fax: answers any call and sends doc-1.tif
-- from the documents folder (fax_dir) with T.30 over G.711, then hangs up.  The result goes
-- to the log and the CDR route ("fax-sent-PAGES" or "fax-failed-STATUS").
function main(call)
  call:answer()
  local r = call:fax_send{ file = "doc-1.tif" }
  hl.log("info", string.format("e2e-fax: sent ok=%s pages=%d of %s status=%d reason=%s remote=%s",
    tostring(r.ok), r.pages, tostring(r.pages_in_file), r.status, r.reason, r.remote))
  call:set_route(r.ok and ("fax-sent-" .. r.pages) or ("fax-failed-" .. r.status))
  call:sleep(300)
  call:hangup()
end
