-- bench/rules/engine.lua — `make bench`'s engine settings: only what differs from the
-- engine's defaults (`hotline config --defaults` lists every tunable).
return {
  -- The set-up-rate stage floods from one source address: the per-source SIP rate limit
  -- must not be what it measures.
  sip_rate_per_sec = 100000,
  -- The load stage holds more calls than one site's default admits.
  max_calls        = 5000,
  -- SIPp's built-in UAC sends no RTP: with the default 20 s RTP timeout the engine would
  -- end the held calls itself, racing SIPp's BYE.
  rtp_timeout_ms   = 600000,
  rtp_hold_timeout_ms = 600000,
}
