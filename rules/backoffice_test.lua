-- rules/backoffice_test.lua — table tests of rules/backoffice.lua: the verdicts `hotline ctl
-- admin` gets for records, with a store's rows given as ctx (no store here; t45 runs the same
-- against a running engine).  Refusals name the line and, where a rule refuses, its article
-- (taken from the rule, not copied).
local B = require "backoffice"
local A = require "attendance"
local scoring = require "scoring"
local first_contact = require "first_contact"

local NOW = hl.time{ year = 2026, month = 11, day = 24, hour = 10 }      -- a Tuesday
local AGENTS = { { number = "1001", role = "agent" }, { number = "1002", role = "leader" },
                 { number = "1003", role = "supervisor" } }

local function rows(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = { line = i + 1, values = v } end
  return out
end
local function one(values) return { { line = 0, values = values } } end
local function ctx(extra)
  local c = { agents = AGENTS }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end
local function check(kind, r, c) return B.check(kind, r, ctx(c), NOW, "tester") end
local function why(kind, r, c) local v = check(kind, r, c) return v.error and v.error.reason, v.error and v.error.line end

-- A leave record as the store keeps it.
local function leave(id, days, approvals, state)
  return { id = id, agent = "1001", kind = "personal", from_date = "2026-11-26", days = days,
           to_date = A.add_days("2026-11-26", days - 1), approvals = approvals or "[]", state = state or "requested" }
end

local RECORDED = {}
for i = 1, 8 do RECORDED[i] = { id = "c" .. i, agent = "1001", month = "2026-11", recording = "r.wav" } end
local function drawn_for(reviewer)
  local calls = {}
  for i, c in ipairs(RECORDED) do calls[i] = { id = c.id, recording = c.recording } end
  return scoring.draw("2026-11", reviewer, { "1002", "1003" }, "1001", calls)
end
local function not_drawn(reviewer)
  local d = {}
  for _, c in ipairs(drawn_for(reviewer)) do d[c.id] = true end
  for _, c in ipairs(RECORDED) do if not d[c.id] then return c.id end end
end

return {
  { name = "a good file: every row to insert, with its line, columns as the table names them",
    run = function()
      local v = check("shift_plan", rows{ { agent = "1001", date = "2026-11-25", shift = "day" },
                                          { agent = "1002", date = "2026-11-25", shift = "day" } })
      return { v.table, v.unique, #v.insert, v.insert[2].line, v.insert[2].agent }
    end, want = { "shift_plan", { "agent", "date" }, 2, 3, "1002" } },
  { name = "a wrong column is refused at the header (line 1)",
    run = function() return { why("shift_plan", rows{ { agent = "1001", date = "2026-11-25", shift = "day", colour = "red" } }) } end,
    want = { "unknown column 'colour' for shift_plan (agent, date, shift)", 1 } },
  { name = "a date out of range and a date that does not exist, with their line",
    run = function()
      local reason, line = why("shift_plan", rows{ { agent = "1001", date = "2026-11-25", shift = "day" },
                                                   { agent = "1001", date = "2029-01-01", shift = "day" } })
      return { reason, line, (why("shift_plan", rows{ { agent = "1001", date = "2026-02-29", shift = "day" } })) }
    end,
    want = { "date: date 2029-01-01 is out of range (more than " .. B.window.past_days .. " days from today)", 3,
             "date: '2026-02-29' is not a date YYYY-MM-DD" } },
  { name = "an agent not in the agents table",
    run = function() return { why("shift_plan", rows{ { agent = "7777", date = "2026-11-25", shift = "day" } }) } end,
    want = { "agent: unknown agent '7777' (not in the agents table)", 2 } },
  { name = "a row twice in the file: the second, naming the first",
    run = function()
      local r = { agent = "1001", date = "2026-11-25", shift = "day" }
      return { why("shift_plan", rows{ r, { agent = "1002", date = "2026-11-25", shift = "day" }, r }) }
    end, want = { "duplicate of line 2 (agent=1001, date=2026-11-25)", 4 } },
  { name = "a file with a header and no records",
    run = function() return { why("shift_plan", {}) } end, want = { "the file has a header and no records", 1 } },
  { name = "an unknown kind names the kinds there are",
    run = function() return B.plan("holiday", {}, NOW).error.reason:match("^no kind of record 'holiday'") ~= nil end,
    want = true },

  { name = A.rules.request.source .. ": a request filed on the day itself is refused with the rule",
    run = function() return (why("leave", one{ agent = "1001", kind = "sick", from = "2026-11-24", to = "2026-11-24" })) end,
    want = A.rules.request.source .. ": a request is filed " .. A.rules.request.days_ahead .. " day(s) ahead, or by phone in an emergency" },
  { name = A.rules.request.source .. ": by phone in an emergency it is taken, requested, with its days",
    run = function()
      local r = check("leave", one{ agent = "1001", kind = "sick", from = "2026-11-24", to = "2026-11-25", channel = "phone" }).insert[1]
      return { r.from_date, r.to_date, r.days, r.state, r.approvals, r.channel, r.filed }
    end, want = { "2026-11-24", "2026-11-25", 2, "requested", "[]", "phone", nil } },
  { name = A.rules.bereavement.source .. ": bereavement leave needs a listed relative and at most its days",
    run = function()
      local base = { agent = "1001", kind = "bereavement", from = "2026-11-26", to = A.add_days("2026-11-26", A.rules.bereavement.days) }
      local no_relative = why("leave", one(base))
      base.relative = "father"
      return { no_relative:find("relative is required", 1, true) ~= nil,
               (why("leave", one(base))):find(A.rules.bereavement.source .. ": ", 1, true) == 1 }
    end, want = { true, true } },
  { name = A.rules.maternity.source .. ": twins get the extra days, one day more is refused",
    run = function()
      local days = A.maternity_leave(2)
      local ok = check("leave", one{ agent = "1001", kind = "maternity", babies = "2", from = "2026-11-26", to = A.add_days("2026-11-26", days - 1) })
      local over = why("leave", one{ agent = "1001", kind = "maternity", babies = "2", from = "2026-11-26", to = A.add_days("2026-11-26", days) })
      return { ok.insert ~= nil, over ~= nil }
    end, want = { true, true } },

  { name = A.rules.marriage.source .. ": marriage leave over National Day runs past the holidays, not further",
    run = function()
      local r = A.rules.marriage
      local last = A.leave_dates("marriage", "2026-10-01", r.days + r.late_extra_days)
      local base = { agent = "1001", kind = "marriage", from = "2026-10-01" }
      local NOW_SEPT = hl.time{ year = 2026, month = 9, day = 20, hour = 10 }
      base.to = last[#last]
      local ok = B.check("leave", one(base), ctx(), NOW_SEPT, "t")
      base.to = A.add_days(last[#last], 1)
      local over = B.check("leave", one(base), ctx(), NOW_SEPT, "t")
      return { ok.insert ~= nil, over.error.reason:find(r.source .. ": marriage leave ends by " .. last[#last], 1, true) == 1,
               last[#last] > A.add_days("2026-10-01", r.days + r.late_extra_days - 1) }
    end, want = { true, true, true } },
  { name = A.rules.extension.source .. ": an extension filed less than two days before the leave ends is refused",
    run = function()
      local l = leave(7, 3, "[]", "approved")          -- 2026-11-26 .. 2026-11-28
      local late = why("leave", one{ agent = "1001", kind = "personal", from = "2026-11-29", to = "2026-11-30", extends = "7",
                                     filed = A.add_days(l.to_date, 1 - A.rules.extension.days_before_end) }, { leaves = { l } })
      local ok = check("leave", one{ agent = "1001", kind = "personal", from = "2026-11-29", to = "2026-11-30", extends = "7" },
                       { leaves = { l } })
      return { late, ok.insert[1].extends_id }
    end, want = { A.rules.extension.source .. ": an extension is filed " .. A.rules.extension.days_before_end ..
                  " days before the leave ends", 7 } },
  { name = A.rules.approval.source .. ": a two-day leave goes to the head first; the director first is refused",
    run = function() return (why("approve", one{ id = "7", by = "1003", role = A.rules.approval.director }, { leaves = { leave(7, 2) } })) end,
    want = A.rules.approval.source .. ": a leave of 2 day(s) is approved by " .. table.concat(A.approval_chain(2), " then ") ..
           "; next: " .. A.rules.approval.head .. ", not " .. A.rules.approval.director },
  { name = A.rules.approval.source .. ": the head's approval of a one-day leave approves it; of two days it waits for the director",
    run = function()
      local one_day = check("approve", one{ id = "7", by = "1002", role = A.rules.approval.head }, { leaves = { leave(7, 1) } })
      local two_days = check("approve", one{ id = "8", by = "1002", role = A.rules.approval.head }, { leaves = { leave(8, 2) } })
      return { one_day.update.set.state, two_days.update.set.state, two_days.update.guard.approvals }
    end, want = { "approved", "requested", "[]" } },
  { name = A.rules.approval.source .. ": the director after the head approves; a refusal refuses",
    run = function()
      local after_head = '[{"by":"1002","role":"' .. A.rules.approval.head .. '","time":1,"ok":true}]'
      local v = check("approve", one{ id = "8", by = "1003", role = A.rules.approval.director }, { leaves = { leave(8, 2, after_head) } })
      local no = check("approve", one{ id = "8", by = "1002", role = A.rules.approval.head, ok = "0" }, { leaves = { leave(8, 2) } })
      return { v.update.set.state, select(2, v.update.set.approvals:gsub('"role"', "")), no.update.set.state }
    end, want = { "approved", 2, "refused" } },
  { name = A.rules.approval.source .. ": an agent does not approve their own leave",
    run = function()
      local l = leave(7, 1)
      l.agent = "1002"
      return (why("approve", one{ id = "7", by = "1002", role = A.rules.approval.head }, { leaves = { l } }))
    end, want = A.rules.approval.source .. ": an agent does not approve their own leave" },

  { name = "第二章 一(八)2: a correction without a reason is refused; with one it is kept with who made it",
    run = function()
      local base = { agent = "1001", date = "2026-11-23", field = "arrival", value = "08:00", by = "1002", reason = " " }
      local no_reason = why("correction", one(base))
      base.reason = "the phone failed"
      local r = check("correction", one(base)).insert[1]
      return { no_reason, r.by, r.reason, r.value }
    end, want = { "reason is required", "1002", "the phone failed", "08:00" } },

  { name = "提取录音评分: a reviewer scores the calls drawn for them, not another",
    run = function()
      local c = { drawable = RECORDED, calls = {} }
      for _, r in ipairs(RECORDED) do c.calls[#c.calls + 1] = { call_id = r.id } end
      local good = drawn_for("1002")[1].id
      local ok = check("review", one{ reviewer = "1002", agent = "1001", month = "2026-11", call_id = good, policy = "30", conduct = "28" }, c)
      local bad = why("review", one{ reviewer = "1002", agent = "1001", month = "2026-11", call_id = not_drawn("1002"), policy = "30", conduct = "28" }, c)
      return { ok.insert[1].call_id, bad:match("is not one drawn for reviewer 1002") ~= nil }
    end, want = { drawn_for("1002")[1].id, true } },
  { name = "提取录音评分: scores within the section's points; only the assessment group reviews",
    run = function()
      local c = { drawable = RECORDED, calls = { { call_id = "c1" } } }
      return { (why("review", one{ reviewer = "1002", agent = "1001", month = "2026-11", call_id = "c1",
                                   policy = tostring(scoring.section_by_id.policy.points + 1) }, c)),
               (why("review", one{ reviewer = "1001", agent = "1001", month = "2026-11", call_id = "c1" }, c)):match("assessment group") ~= nil }
    end, want = { "policy: " .. (scoring.section_by_id.policy.points + 1) .. " is outside 0.." .. scoring.section_by_id.policy.points .. " (评分表 一)", true } },

  { name = "首问负责制: a case kept open gets its due time; closing clears it",
    run = function()
      local case = { id = 1, state = "open", question = "", answer = "", updated = 5 }
      local open = check("case", one{ id = "1", question = "失业金" }, { cases = { case } }).update
      local closed = check("case", one{ id = "1", answer = "到窗口", state = "closed" }, { cases = { case } }).update
      return { open.set.follow_up_due == first_contact.follow_up_due(NOW), open.guard.updated, closed.clear, closed.set.state }
    end, want = { true, 5, { "follow_up_due" }, "closed" } },
  { name = "training attendance of a session that does not exist is refused",
    run = function() return (why("training_attendance", one{ session_id = "9", agent = "1001" }, { sessions = {} })) end,
    want = "session_id: no training session 9" },
  { name = "praise of a kind the bonus table does not know is refused",
    run = function() return (why("praise", one{ agent = "1001", kind = "flowers" })):match("^kind: 'flowers' is not one of") ~= nil end,
    want = true },
  { name = "every kind's table and fields as the help lists them",
    run = function()
      local n = 0
      for _ in pairs(B.kinds) do n = n + 1 end
      return #B.plan("help", {}, NOW).reply.kinds == n
    end, want = true },
}
