-- rules-timeout/engine.lua — the e2e copy of rules/engine.lua with short RTP timeouts (t06, t07).
-- Read at start and at every reload; the engine refuses a reload whose values are
-- missing their type or out of range, and keeps the old ones.  Each value says where it
-- comes from: a rule-book section (§), or the reason we chose it.
return {
  -- A call whose RTP stops is dead: the caller's phone or network is gone.  20 s is long
  -- enough for a brief network stall, short enough not to hold an agent's line (§6 服务规范:
  -- an agent must not keep a silent line; "稍停挂断").
  rtp_timeout_ms      = 2000,   -- e2e: short, so the RTP-timeout and hold tests run in seconds
  -- On hold the far end may legitimately stop sending; the agent must check in every 30 s
  -- (§6 查询信息: 等待时间超过30秒...), so allow several check-in periods before hanging up.
  rtp_hold_timeout_ms = 15000,  -- e2e: longer than the 5 s hold of the hold test
  -- An outbound leg (another centre, a callback, a fax) that rings this long has failed.
  ring_timeout_ms     = 45000,
  -- Concurrent calls before new ones get 503: what one loop carries (see `make bench`).
  max_calls           = 2000,
  -- Lua instructions a call's script may run between two waits; a menu step needs far
  -- fewer than 1e6, an endless loop hits this in a few ms.
  script_instructions = 5000000,
  -- Memory one call's script may hold (KiB).
  script_memory_kb    = 4096,
  -- Longest recording of any kind (ms); the message flow sets its own, lower limit.
  record_max_ms       = 600000,
  -- Mean absolute sample (of 32767) under which 20 ms of audio counts as silence.
  silence_level       = 300,
  -- Saves of script files closer together than this are coalesced into one reload.
  reload_debounce_ms  = 300,
  -- SIP requests per second one source address may send before it gets 503 (like
  -- Kamailio's pike); a trunk or a Kamailio in front is one source, so keep it high.
  sip_rate_per_sec    = 2000,
  -- Largest SIP message accepted (bytes); bigger ones are refused with 400/513.
  sip_max_message     = 16384,
  -- Length of each DTMF tone we send (RFC 4733), ms.
  dtmf_duration_ms    = 100,
}
