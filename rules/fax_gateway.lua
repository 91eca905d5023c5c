-- rules/fax_gateway.lua — how documents reach a fax number a caller keyed (key 3 → 2).
--
-- The engine dials the number through the centre's SIP gateway to the telephone network
-- and sends the document when the fax machine answers.  A failed attempt (busy, no
-- answer, T.30 failure) is retried by the engine's job queue after fax_retry_delay_ms
-- (rules/engine.lua), up to max_attempts.  The gateway address is a placeholder
-- (.invalid never resolves): each site sets its own; tests write their own copy.
return {
  uri = "sip:%s@fax-gateway.12333.jl.invalid",  -- %s: the number the caller keyed
  ring_ms = 60000,       -- a fax machine answers within a few rings; a minute is plenty
  max_attempts = 3,      -- then the job is marked failed and staff see it in `ctl jobs`
}
