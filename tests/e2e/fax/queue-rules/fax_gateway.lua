-- fax_gateway.lua (t21_fax_queue) — where fax numbers are dialled: a SIP gateway to the
-- telephone network.  The scenarios use this one; the end-to-end test writes its own,
-- pointing at engine A (the caller's fax machine).
return { host = "127.0.0.1:5099", ring_ms = 5000 }
