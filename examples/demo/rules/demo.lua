-- examples/demo/rules/demo.lua — settings of the engine's demo IVR (examples/demo/scripts/main.lua).
-- The demo's key 3 dials this URI and bridges the caller to it; tests point a SIPp or
-- baresip user agent at it (the simulator answers it per scenario).
return {
  outbound_uri = "sip:demo@127.0.0.1:5070",
  -- ring this long before giving up on the demo destination (ms)
  outbound_timeout_ms = 20000,
}
