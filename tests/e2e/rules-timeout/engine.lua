-- rules-timeout/engine.lua — engine settings of the RTP-timeout and hold tests (t06, t07):
-- only what differs from the defaults (`hotline config --defaults` lists every tunable).
return {
  rtp_timeout_ms      = 2000,   -- short, so the RTP-timeout test runs in seconds
  rtp_hold_timeout_ms = 15000,  -- longer than the hold test's 5 s of hold
}
