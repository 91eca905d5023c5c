-- tests/e2e/rules-edge/engine.lua — t17's edge limits: low enough that a test tool can go
-- over them in a second or two on loopback; the engine's defaults are in engine/core/config.c.
return {
  sip_rate_per_sec           = 50,      -- admitted requests a second per source
  sip_ban_factor             = 10,      -- over 500 in a second: banned
  sip_ban_ms                 = 60000,
  sip_retry_after_s          = 7,
  sip_tcp_max_per_addr       = 16,
  sip_tcp_message_timeout_ms = 1000,
  sip_server_header          = "hotline-edge-test",
  max_calls                  = 1,
}
