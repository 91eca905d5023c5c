-- rules/agent_codes.lua — what an agent does from the phone (SPEC 3; the scoring sheet's
-- service conduct, rule book chapter 6): the feature codes an agent dials, the keys used
-- during a call, who may supervise, and where callbacks go.  The agent's guide
-- (docs/agent-guide.md) lists them for the agents; change them here and reload.
return {
  -- Dialled from the agent's phone (a call to the code): the ACD state (示忙 = not ready).
  codes = {
    ready = "*21",
    not_ready = "*22",      -- *22 alone: reason "busy"; *22 + a reason's digit (below)
    logout = "*23",
    listen = "*31",         -- supervisors: *31 + the agent's number: listen (监听)
    whisper = "*32",        -- ... speak to the agent only (耳语)
    barge = "*33",          -- ... join both (强插)
  },
  -- Not-ready reasons by the digit after *22 (attendance and scoring read the reason:
  -- 示忙 outside breaks costs points, chapter 6 示忙操作).
  reasons = { ["1"] = "break", ["2"] = "lunch", ["3"] = "training", ["4"] = "meeting", ["5"] = "paperwork" },
  default_reason = "busy",

  -- Keys during a call with a caller (sent as DTMF by the phone): a code, the target, #.
  -- A target is an agent's number, a queue name's kind ("complaints"), or the leader key.
  during_call = {
    transfer = "*3",        -- blind: the caller goes to the target, the agent is free
    consult = "*4",         -- attended: the agent talks to the target first, then
    complete = "*5",        --   completes (the caller goes to the target) or
    cancel = "*6",          --   cancels (back to the caller)
  },
  leader_target = "0",      -- *30# / *40#: the shift leader (the centre's leaders queue)
  -- While a supervisor listens, its keys switch: listen, whisper, barge.
  monitor_keys = "123",
  -- Who may supervise (listen, whisper, barge): SPEC 3 "allowed only to the supervisor role".
  supervisor_roles = { supervisor = true },

  -- A callback (an agent dials a caller's number): through the centre's gateway, under the
  -- dial rule "callback" of rules/trunks.lua (numbers of the province only; a cap a day).
  callback_uri = "sip:%s@pstn-gateway.12333.jl.invalid",   -- %s: the number dialled
  callback_ring_ms = 45000,      -- about nine rings of the 5 s cadence: the caller is given time
  callback_from = "12333",       -- what the caller's phone shows: the hotline, not the desk
}
