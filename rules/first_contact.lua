-- rules/first_contact.lua — first-contact cases (rule book: 首问负责制, the chapter on first-contact
-- responsibility; issue 9 item 4): the agent who first takes a caller's question owns it
-- (rules/schema/008_cases.sql; the ACD's owner-first strategy reads the owner), with the
-- question, the answer given and a state.  A case the call did not close gets a follow-up
-- due time; `hotline ctl query overdue` (rules/queries.lua) lists the open cases past it.
--
-- The book asks the owner to finish what can be finished at once (二: 凡是能够一次解答的事项,
-- 必须一次办结) and to follow up what cannot (四: 对暂时无法办理的,要讲明原因及应补充事项),
-- but sets no delay: the next working day's close of agent hours (rules/calendar.lua) is the
-- centre's choice, data here.  Pure functions; `hotline ctl admin case` (rules/backoffice.lua)
-- calls them to fill the row it writes.
local calendar = require "calendar"
local attendance = require "attendance"

local M = {}

M.states = { open = true, closed = true }

-- A case left open is due for follow-up by the close of agent hours, `workdays` working days
-- after the day it was last handled.
M.follow_up = { workdays = 1, source = "首问负责制 四 (the delay: the centre's choice)" }

-- The follow-up due time (epoch seconds) of a case left open at t (epoch seconds).
function M.follow_up_due(t)
  local date = hl.date("%Y-%m-%d", t)
  for _ = 1, M.follow_up.workdays do date = attendance.next_workday(date) end
  local y, m, d = date:match("^(%d+)-(%d+)-(%d+)$")
  local day = { year = tonumber(y), month = tonumber(m), day = tonumber(d) }
  local close = calendar.hours[calendar.season(day)].close
  return hl.time{ year = day.year, month = day.month, day = day.day, hour = close // 60, min = close % 60 }
end

-- The fields to write when a case is handled at `now`: { question, answer, state } as given
-- (nil keeps the stored value) merged over the stored case; -> the row's new { question,
-- answer, state, follow_up_due, updated } or nil, reason.
function M.update(case, change, now)
  local state = change.state or case.state or "open"
  if not M.states[state] then return nil, "state must be open or closed, not '" .. tostring(state) .. "'" end
  local out = { question = change.question or case.question or "", answer = change.answer or case.answer or "",
                state = state, updated = now }
  if state == "closed" then
    if out.answer == "" then return nil, "首问负责制 二: a case is closed with the answer given" end
    out.follow_up_due = false                        -- cleared: stored as NULL
  else
    out.follow_up_due = M.follow_up_due(now)
  end
  return out
end

-- Is an open case overdue at `now`? (The query `overdue` does the same in SQL.)
function M.overdue(case, now)
  return case.state == "open" and case.follow_up_due ~= nil and case.follow_up_due < now
end

return M
