-- rules/engine.lua — this site's engine settings: only what the 12333 centre sets itself,
-- each with its rule-book section (§) or its reason.  Every other tunable keeps the
-- engine's default: `hotline config` lists them all (name, value, default, range, unit,
-- what a reload does with it), and so does docs/admin-guide.md.
-- Read at start and at every reload.  An unknown name or a value out of range is refused
-- with this file's name and line (a reload then keeps the running settings).  A reload
-- applies a new value at once ("next use") or from the next call; a restart-only one
-- (the RTP port range) is reported by `hotline ctl reload` and waits for the restart.
-- Folders are relative to this rules folder.
return {
  -- A call whose RTP stops is dead: the caller's phone or network is gone.  20 s is long
  -- enough for a brief network stall, short enough not to hold an agent's line (§6 服务规范:
  -- an agent must not keep a silent line; "稍停挂断").  The engine's default is the same;
  -- it is set here because the rule book asks for it.
  rtp_timeout_ms      = 20000,
  -- On hold the far end may legitimately stop sending; the agent must check in every 30 s
  -- (§6 查询信息: 等待时间超过30秒...), so allow several check-in periods before hanging up.
  rtp_hold_timeout_ms = 300000,
  -- Fax on demand (§10.11 索取传真): the folder of the TIFF documents callers can ask for.
  -- The build makes sample documents in build/fax; an installed system points this at its
  -- own documents.
  fax_dir             = "../build/fax",
  -- hl.http.request: the only hosts scripts may reach.  Empty: this site's account data is
  -- the demo table, so no script reaches any machine.  With the HTTP account adapter of
  -- contrib/accounts-http/, list its address, e.g.
  --   http_allow = { "127.0.0.1:8099", "backend.example" },
  http_allow          = {},
  -- Who we are on the line: the caller id of calls the engine dials (a fax job, a
  -- transfer) when the script names none, and the T.30 identity (TSI/CSI) our faxes carry:
  -- the hotline's own number (§10.11).
  sip_from_user       = "12333",
  fax_ident           = "12333",
}
