-- bench/rules-attack/engine.lua — stage 4 of `make bench` (a flood while a trunk's calls go
-- on): the bench's settings with the per-source limit a site would set.  A trunk at
-- ATTACK_RATE calls a second sends about three requests a call (INVITE, ACK, BYE), well
-- under this; a flood at ten times the set-up rate is far over it.
return {
  sip_rate_per_sec = 1000,
  max_calls        = 5000,
  rtp_timeout_ms   = 600000,
  rtp_hold_timeout_ms = 600000,
}
