-- scripts/agent_phone.lua — a call from an agent's own registered phone (main.lua's
-- agent_call, the engine's agent_entry): the feature codes of rules/agent_codes.lua set the
-- agent's ACD state (ready, not ready with a reason: 示忙, log out); a supervisor's code
-- listens to, whispers to or barges in on an agent's talk (supervisors only); any other
-- number is a callback to a caller, through the gateway under the dial rule "callback" of
-- rules/trunks.lua (province numbers only, a cap a day), recorded like every talk.
local P = require "agent_codes"

local M = {}

local function starts(s, prefix) return s:sub(1, #prefix) == prefix end

-- A state code: answered, the state set, a word to say it, hung up.
local function set_state(call, want, reason, prompt)
  call:answer()
  call:set_route("agent-state:" .. want)
  local ok, err = call:agent_state(want, reason)
  if not ok then hl.log("warn", "agent " .. call.agent .. ": " .. want .. " refused: " .. tostring(err)) end
  call:play(ok and prompt or "agent_code_refused")
  call:hangup(ok and want or "refused")
end

local function supervise(call, mode, agent)
  call:answer()
  call:set_route("supervise:" .. mode .. ":" .. agent)
  local me = call:agent_info()
  if not (me and P.supervisor_roles[me.role]) then
    hl.log("warn", "agent " .. call.agent .. " (" .. tostring(me and me.role) .. ") may not " .. mode)
    call:play("agent_code_refused")
    return call:hangup("not-supervisor")
  end
  local ended, why = call:monitor(agent, { mode = mode, keys = P.monitor_keys })
  if not ended then
    call:play("agent_code_refused")
    return call:hangup((why or "refused"):gsub("%s", "-"))
  end
  call:hangup("monitor-ended")
end

local function callback(call, number)
  call:set_route("callback:" .. number)
  call:ring()
  local leg, code = call:dial(string.format(P.callback_uri, number),
                              { purpose = "callback", from = P.callback_from, timeout = P.callback_ring_ms })
  call:answer()
  if not leg then
    call:set_route("callback-failed:" .. number .. ":" .. tostring(code))
    call:play(code == 403 and "callback_refused" or "callback_failed")
    return call:hangup(tostring(code))
  end
  local path = "calls/" .. hl.date("%Y-%m-%d") .. "/" .. call.id:gsub("[^%w_.-]", "_") .. ".wav"
  call:bridge(leg, { record = path })
  call:hangup("callback")
end

function M.call(call)
  local n, c = call.called, P.codes
  if n == c.ready then return set_state(call, "ready", nil, "agent_ready") end
  if n == c.logout then return set_state(call, "logged-out", nil, "agent_logged_out") end
  if starts(n, c.not_ready) then
    local digit = n:sub(#c.not_ready + 1)
    local reason = digit == "" and P.default_reason or P.reasons[digit]
    if reason then return set_state(call, "not-ready", reason, "agent_not_ready") end
  end
  for _, mode in ipairs { "listen", "whisper", "barge" } do
    if starts(n, c[mode]) and #n > #c[mode] then return supervise(call, mode, n:sub(#c[mode] + 1)) end
  end
  if n:match("^%d+$") then return callback(call, n) end
  call:answer()
  call:set_route("agent-code:unknown")
  call:play("agent_code_refused")
  call:hangup("unknown-code")
end

return M
