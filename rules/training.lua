-- rules/training.lua — training (rule book: 业务培训制度, the chapter on training; SPEC §4):
-- sessions, who attended them, the quarterly test, the half-year report, and what they take
-- off the study part of the monthly sheet (评分表 基础得分 五、政治业务学习, 5 points,
-- rules/scoring.lua: its `study` rows { agent, deduct, reason }).
--
-- The book says how training is assessed (五 效果评估: 1 日常考勤 出席率, 2 季度测试,
-- 3 半年交流 学习报告) but gives no points for it; the points below are the centre's choice,
-- marked so, within the part's 5 (scoring.lua floors the part at 0).  Pure functions over
-- plain rows as the store keeps them (rules/schema/009_backoffice.sql):
--   sessions    { id, date = "YYYY-MM-DD", topic, kind }
--   attendance  { session_id, agent, present = 1|0 } — the 业务培训登记表.  Training is by
--               rotation (一 培训对象: 采取轮班培训方式): an agent is expected only at the
--               sessions the register lists them for; a session with no row is not theirs.
--   marks       { agent, quarter = "YYYY-Qn", mark }
--   reports     { agent, half = "YYYY-H1"|"YYYY-H2", submitted = epoch seconds }
local scoring = require "scoring"

local M = {}

-- 五 1 日常考勤: 每次业务培训均要填写业务培训登记表,考核出席率.  The month's attendance
-- rate (present / listed, in percent) in brackets, as scoring.lua's accuracy: a bracket runs
-- up to and including `upto`.  No session listed: nothing to deduct.
M.attendance = {
  source = "业务培训制度 五 1",
  brackets = {
    { upto = 50, points = -3, row = "出席率 50%及以下" },
    { upto = 80, points = -2, row = "出席率 50.1%-80%" },
    { below = 100, points = -1, row = "出席率 80.1%-99.9%" },
    { upto = 100, points = 0, row = "出席率 100%" },
  },
}

-- 五 2 季度测试: 每季度对培训内容进行书面测评.  A mark (out of `max`) under `pass` — or no mark
-- — deducts in the quarter's last month (when the test is due).
M.quarterly_test = { pass = 60, max = 100, points = -1, source = "业务培训制度 五 2" }

-- 三 培训方式: the kinds of session (授课, 交流, 答疑, 案例, 窗口, 省外培训).
M.session_kinds = { lecture = "授课培训", exchange = "交流培训", qa = "答疑培训", case = "案例培训",
                    window = "窗口培训", outside = "省外培训" }

-- 五 3 半年交流: 每半年中心工作人员上交一篇学习报告.  No report by the end of the half
-- deducts in the half's last month.
M.half_year_report = { points = -1, source = "业务培训制度 五 3" }

-- 四 培训时间: 定期培训每周安排一次,时间安排在每周五下午 (the weekly session's day, for plans).
M.weekly = { wday = 6, source = "业务培训制度 四" }

-- ---- helpers ----------------------------------------------------------------------------------

local function fail(fmt, ...) error(string.format(fmt, ...), 3) end

local function month_parts(month)
  local y, m = tostring(month):match("^(%d%d%d%d)%-(%d%d)$")
  y, m = tonumber(y), tonumber(m)
  if not y or m < 1 or m > 12 then fail("month must be YYYY-MM, got '%s'", tostring(month)) end
  return y, m
end

-- The quarter ("YYYY-Qn") and half ("YYYY-Hn") a month is in, and whether it ends them.
function M.period_of(month)
  local y, m = month_parts(month)
  local q, h = (m - 1) // 3 + 1, (m - 1) // 6 + 1
  return { quarter = string.format("%04d-Q%d", y, q), half = string.format("%04d-H%d", y, h),
           ends_quarter = m % 3 == 0, ends_half = m % 6 == 0 }
end

-- The last moment of a half, in epoch seconds (centre time): a report submitted before it counts.
function M.half_end(half)
  local y, h = tostring(half):match("^(%d%d%d%d)%-H([12])$")
  if not y then fail("half must be YYYY-H1 or YYYY-H2, got '%s'", tostring(half)) end
  y = tonumber(y)
  if h == "1" then return hl.time{ year = y, month = 7, day = 1, hour = 0 } end
  return hl.time{ year = y + 1, month = 1, day = 1, hour = 0 }
end

-- The bracket of an attendance rate in percent: its points (<= 0) and the bracket.
function M.attendance_deduction(pct) return scoring.bracket_of(M.attendance.brackets, pct, "attendance rate") end

-- One agent's attendance in a month: { listed, present, pct } (pct nil when nothing listed).
function M.attendance_rate(agent, month, sessions, attendance)
  local in_month = {}
  for _, s in ipairs(sessions or {}) do
    if tostring(s.date):sub(1, 7) == month then in_month[s.id] = true end
  end
  local listed, present = 0, 0
  for _, a in ipairs(attendance or {}) do
    if a.agent == agent and in_month[a.session_id] then
      listed = listed + 1
      if a.present == 1 or a.present == true then present = present + 1 end
    end
  end
  return { listed = listed, present = present, pct = listed > 0 and present * 100 / listed or nil }
end

-- ---- the study rows of a month ------------------------------------------------------------------

-- The study deductions of one agent's month: scoring.lua's `study` rows
-- { agent, deduct (> 0), reason, source }.
function M.study(agent, month, inp)
  inp = inp or {}
  local out, period = {}, M.period_of(month)
  local function add(points, rule, reason)
    if points < 0 then out[#out + 1] = { agent = agent, deduct = -points, reason = reason, source = rule.source } end
  end
  local rate = M.attendance_rate(agent, month, inp.sessions, inp.attendance)
  if rate.pct then
    local p, b = M.attendance_deduction(rate.pct)
    add(p, M.attendance, string.format("%s: %d of %d sessions (%s)", M.attendance.source, rate.present,
                                       rate.listed, b.row))
  end
  if period.ends_quarter then
    local mark
    for _, m in ipairs(inp.marks or {}) do
      if m.agent == agent and m.quarter == period.quarter then mark = m.mark end
    end
    local t = M.quarterly_test
    if mark == nil then add(t.points, t, string.format("%s: no test mark for %s", t.source, period.quarter))
    elseif mark < t.pass then add(t.points, t, string.format("%s: mark %s under %s in %s", t.source, mark, t.pass, period.quarter)) end
  end
  if period.ends_half then
    local due, done = M.half_end(period.half), false
    for _, r in ipairs(inp.reports or {}) do
      if r.agent == agent and r.half == period.half and r.submitted and r.submitted < due then done = true end
    end
    local h = M.half_year_report
    if not done then add(h.points, h, string.format("%s: no study report for %s", h.source, period.half)) end
  end
  return out
end

-- Every listed agent's study rows for a month (agents: the list to assess).
function M.month_study(month, agents, inp)
  local out = {}
  for _, agent in ipairs(agents) do
    for _, row in ipairs(M.study(agent, month, inp)) do out[#out + 1] = row end
  end
  return out
end

return M
