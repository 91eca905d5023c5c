-- scripts/cases.lua — first-contact cases (rule book chapter 9 首问负责制): the agent who
-- first takes a caller's question owns it while it is open (rules/schema/008_cases.sql).
-- owner(call) before the queue: the agent who owns the caller's open case, for the ACD's
-- owner-first strategy (rules/queues.lua); taken(call, agent) once an agent answers: the
-- caller's open case continues (whoever answered: the owner stays the owner), else a new
-- one is opened, owned by this agent.  An anonymous caller has no cases.
local M = {}

local function known(caller) return caller ~= nil and caller ~= "" and caller ~= "anonymous" end

function M.owner(call)
  if not known(call.caller) then return nil end
  local rows = hl.store.query("SELECT id, owner FROM cases WHERE caller = ? AND state = 'open' " ..
                              "ORDER BY updated DESC LIMIT 1", call.caller)
  local row = rows and rows[1]
  if row then call.vars.case = row.id end
  return row and row.owner or nil
end

function M.taken(call, agent)
  if not known(call.caller) then return end
  local now = hl.now()
  if call.vars.case then
    hl.store.query("UPDATE cases SET calls = calls + 1, updated = ?, last_call_id = ? WHERE id = ?",
                   now, call.id, call.vars.case)
    return
  end
  local rows = hl.store.query("INSERT INTO cases (caller, owner, opened, updated, first_call_id, last_call_id) " ..
                              "VALUES (?, ?, ?, ?, ?, ?) RETURNING id", call.caller, agent, now, now, call.id, call.id)
  if rows and rows[1] then call.vars.case = rows[1].id end
end

return M
