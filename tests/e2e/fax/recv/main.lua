-- main.lua (t20_fax, engine B) — the receiving fax: a call to "recvNNNNN" (from SIPp) is
-- answered, the script dials engine A at 127.0.0.1:NNNNN and receives A's fax on that
-- dialled leg into recordings/fax/in-e2e.tif; the result goes to the log and the CDR
-- route ("fax-received-PAGES" or "fax-failed-STATUS").
function main(call)
  call:answer()
  local port = (call.called or ""):match("^recv(%d+)$")
  if not port then
    call:set_route("bad-number")
    call:hangup()
    return
  end
  local leg, code = call:dial("sip:fax@127.0.0.1:" .. port, { timeout = 10000 })
  if not leg then
    call:set_route("dial-failed-" .. tostring(code))
    call:hangup()
    return
  end
  local r = call:fax_receive{ leg = leg, path = "fax/in-e2e" }
  hl.log("info", string.format("e2e-fax: received ok=%s pages=%d status=%d reason=%s remote=%s path=%s",
    tostring(r.ok), r.pages, r.status, r.reason, r.remote, r.path))
  call:set_route(r.ok and ("fax-received-" .. r.pages) or ("fax-failed-" .. r.status))
  leg:hangup()
  call:hangup()
end
