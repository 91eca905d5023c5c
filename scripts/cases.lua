-- scripts/cases.lua — first-contact cases (rule book chapter 9 首问负责制): the agent who
-- first takes a caller's question owns it while it is open (rules/schema/008_cases.sql).
-- owner(call) before the queue: the agent who owns the caller's open case, for the ACD's
-- owner-first strategy (rules/queues.lua); taken(call, agent) once an agent answers: the
-- caller's open case continues (whoever answered: the owner stays the owner), else a new
-- one is opened, owned by this agent.  An anonymous caller has no cases.  Either way the case
-- is open when the call ends, so it is due for follow-up (rules/first_contact.lua) until the
-- owner closes it (`hotline ctl admin case`).
local first_contact = require "first_contact"

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
    hl.store.query("UPDATE cases SET calls = calls + 1, updated = ?, last_call_id = ?, follow_up_due = ? WHERE id = ?",
                   now, call.id, first_contact.follow_up_due(now), call.vars.case)
    return
  end
  local rows = hl.store.query("INSERT INTO cases (caller, owner, opened, updated, first_call_id, last_call_id, " ..
                              "follow_up_due) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id", call.caller, agent, now, now,
                              call.id, call.id, first_contact.follow_up_due(now))
  if rows and rows[1] then call.vars.case = rows[1].id end
end

return M
