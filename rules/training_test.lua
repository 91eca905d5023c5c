-- rules/training_test.lua — table tests of rules/training.lua (业务培训制度 五 效果评估) and of
-- its feed into the study part of the monthly sheet (rules/scoring.lua, 评分表 基础得分 五).
-- Each name starts with the article it checks; points, brackets and pass marks come from the
-- rules, never copied.
local T = require "training"
local scoring = require "scoring"

local AGENT = "8001"

-- n sessions in month, the agent present at `present` of them.
local function register(month, n, present)
  local sessions, attendance = {}, {}
  for i = 1, n do
    sessions[i] = { id = i, date = string.format("%s-%02d", month, i), topic = "政策", kind = "lecture" }
    attendance[i] = { session_id = i, agent = AGENT, present = i <= present and 1 or 0 }
  end
  return { sessions = sessions, attendance = attendance }
end

local function deducts(rows)
  local sum = 0
  for _, r in ipairs(rows) do sum = sum + r.deduct end
  return sum
end

local function bracket(pct) return (T.attendance_deduction(pct)) end

-- A study row's points as the rule gives them (a deduction is positive in the row).
local function study_of(month, inp) return deducts(T.study(AGENT, month, inp)) end

local cases = {
  { name = T.attendance.source .. ": every listed session attended: nothing deducted",
    run = function() return T.study(AGENT, "2026-11", register("2026-11", 4, 4)) end, want = {} },
  { name = T.attendance.source .. ": 4 of 5 (80%) is the 80% bracket",
    run = function() return study_of("2026-11", register("2026-11", 5, 4)) end, want = -bracket(80) },
  { name = T.attendance.source .. ": 9 of 10 (90%) is the bracket under 100%",
    run = function() return study_of("2026-11", register("2026-11", 10, 9)) end, want = -bracket(99.9) },
  { name = T.attendance.source .. ": 1 of 2 (50%) is the lowest bracket",
    run = function() return study_of("2026-11", register("2026-11", 2, 1)) end, want = -bracket(0) },
  { name = T.attendance.source .. ": the brackets' edges: 80 and 80.1, 99.9 and 100",
    run = function() return { bracket(80) ~= bracket(80.1), bracket(99.9) ~= bracket(100), bracket(100) } end,
    want = { true, true, 0 } },
  { name = T.attendance.source .. ": sessions of another month, or not listing the agent, do not count",
    run = function()
      local r = register("2026-10", 3, 0)
      r.attendance[#r.attendance + 1] = { session_id = 1, agent = "8002", present = 0 }
      return { T.attendance_rate(AGENT, "2026-11", r.sessions, r.attendance).listed, T.study("8002", "2026-11", r) }
    end, want = { 0, {} } },
  { name = T.attendance.source .. ": a rate outside 0..100 is refused",
    run = function() return T.attendance_deduction(101) end, error = "0..100" },

  { name = T.quarterly_test.source .. ": a mark under the pass mark deducts in the quarter's last month",
    run = function()
      return study_of("2026-12", { marks = { { agent = AGENT, quarter = "2026-Q4", mark = T.quarterly_test.pass - 0.5 } },
                                   reports = { { agent = AGENT, half = "2026-H2", submitted = T.half_end("2026-H2") - 1 } } })
    end, want = -T.quarterly_test.points },
  { name = T.quarterly_test.source .. ": the pass mark itself passes",
    run = function()
      return T.study(AGENT, "2026-09", { marks = { { agent = AGENT, quarter = "2026-Q3", mark = T.quarterly_test.pass } } })
    end, want = {} },
  { name = T.quarterly_test.source .. ": no mark at the quarter's end deducts; in the quarter's other months nothing",
    run = function() return { study_of("2026-03", {}), study_of("2026-02", {}) } end,
    want = { -T.quarterly_test.points, 0 } },

  { name = T.half_year_report.source .. ": no report by the end of June deducts in June (and the quarter's test too)",
    run = function() return study_of("2026-06", { marks = { { agent = AGENT, quarter = "2026-Q2", mark = 90 } } }) end,
    want = -T.half_year_report.points },
  { name = T.half_year_report.source .. ": a report handed in before the half ends counts, one after it does not",
    run = function()
      local marks = { { agent = AGENT, quarter = "2026-Q2", mark = 90 } }
      local due = T.half_end("2026-H1")
      return { study_of("2026-06", { marks = marks, reports = { { agent = AGENT, half = "2026-H1", submitted = due - 60 } } }),
               study_of("2026-06", { marks = marks, reports = { { agent = AGENT, half = "2026-H1", submitted = due } } }) }
    end, want = { 0, -T.half_year_report.points } },
  { name = T.half_year_report.source .. ": the halves end on June 30 and December 31 (centre time)",
    run = function() return { hl.date("%Y-%m-%d %H:%M", T.half_end("2026-H1") - 1), hl.date("%Y-%m-%d", T.half_end("2026-H2") - 1) } end,
    want = { "2026-06-30 23:59", "2026-12-31" } },
  { name = "the months' periods: March ends Q1, June ends Q2 and H1",
    run = function() local a, b = T.period_of("2026-03"), T.period_of("2026-06"); return { a.quarter, a.ends_quarter, a.ends_half, b.half, b.ends_half } end,
    want = { "2026-Q1", true, false, "2026-H1", true } },

  { name = "评分表 基础得分 五: the study rows are the sheet's study part (5 less the deductions, each line with its reason)",
    run = function()
      local inp = register("2026-12", 5, 4)
      local study = T.study(AGENT, "2026-12", inp)
      local sheet = scoring.sheet(AGENT, "2026-12", { study = study })
      local part = sheet.sections[5]
      return { part.id, part.score, #part.lines, part.lines[1].fact ~= nil }
    end,
    want = { "study", scoring.section_by_id.study.points + bracket(80) + T.quarterly_test.points + T.half_year_report.points, 3, true } },
  { name = "评分表 基础得分 五: the part is floored at 0 whatever training takes off",
    run = function()
      local study = T.month_study("2026-12", { AGENT }, register("2026-12", 4, 0))
      study[#study + 1] = { agent = AGENT, deduct = 10, reason = "test" }
      return scoring.sheet(AGENT, "2026-12", { study = study }).sections[5].score
    end, want = 0 },
}

return cases
