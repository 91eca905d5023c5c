-- rules/first_contact_test.lua — table tests of rules/first_contact.lua (首问负责制): the follow-up due time
-- of a case left open, and closing.  Dates in 2026 (rules/calendar.lua has its holidays).
local C = require "first_contact"
local calendar = require "calendar"
local attendance = require "attendance"

local function at(y, m, d, h, min) return hl.time{ year = y, month = m, day = d, hour = h, min = min or 0 } end
local function shown(t) return hl.date("%Y-%m-%d %H:%M", t) end
-- The close of agent hours on a date, from the calendar (not copied).
local function close_on(date)
  local y, m, d = date:match("^(%d+)-(%d+)-(%d+)$")
  local day = { year = tonumber(y), month = tonumber(m), day = tonumber(d) }
  local c = calendar.hours[calendar.season(day)].close
  return string.format("%s %02d:%02d", date, c // 60, c % 60)
end

return {
  { name = C.follow_up.source .. ": left open on a Tuesday: due at the close of Wednesday",
    run = function() return shown(C.follow_up_due(at(2026, 11, 24, 10))) end,
    want = close_on(attendance.next_workday("2026-11-24")) },
  { name = C.follow_up.source .. ": left open on a Friday: due the next Monday (winter hours)",
    run = function() return shown(C.follow_up_due(at(2026, 11, 27, 16))) end, want = close_on("2026-11-30") },
  { name = C.follow_up.source .. ": left open before National Day: due on the first working day after the holidays",
    run = function() return shown(C.follow_up_due(at(2026, 9, 30, 17))) end,
    want = close_on(attendance.next_workday("2026-09-30")) },
  { name = C.follow_up.source .. ": summer hours close later than winter hours",
    run = function() return shown(C.follow_up_due(at(2026, 6, 1, 9))) end, want = close_on("2026-06-02") },
  { name = "首问负责制 四: a case kept open gets a due time; closed, the due time is cleared",
    run = function()
      local now = at(2026, 11, 24, 10)
      local open = C.update({ state = "open" }, { question = "失业金怎么领" }, now)
      local closed = C.update(open, { answer = "到社保窗口办理", state = "closed" }, now + 60)
      return { open.state, open.follow_up_due == C.follow_up_due(now), closed.state, closed.follow_up_due, closed.question }
    end, want = { "open", true, "closed", false, "失业金怎么领" } },
  { name = "首问负责制 二: a case is not closed without the answer given",
    run = function() return select(2, C.update({ state = "open" }, { state = "closed" }, 0)) end,
    want = "首问负责制 二: a case is closed with the answer given" },
  { name = "a state other than open or closed is refused",
    run = function() return select(2, C.update({}, { state = "pending" }, 0)) end,
    want = "state must be open or closed, not 'pending'" },
  { name = "overdue: open and past its due time; closed or not yet due is not",
    run = function()
      local due = C.follow_up_due(at(2026, 11, 24, 10))
      return { C.overdue({ state = "open", follow_up_due = due }, due + 1),
               C.overdue({ state = "open", follow_up_due = due }, due - 1),
               C.overdue({ state = "closed", follow_up_due = due }, due + 1) }
    end, want = { true, false, false } },
}
