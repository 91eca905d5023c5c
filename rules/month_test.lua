-- rules/month_test.lua — table tests of rules/month.lua (rows into the rules' inputs) and
-- rules/reports.lua (tables into CSV and charts), run by `hotline test-rules` and at every
-- reload.  The store is a fake ctx answering each of M.sql's statements with rows written
-- here as the ACD and the back office would; every limit is read from the rules.
local month = require "month"
local reports = require "reports"
local scoring = require "scoring"
local training = require "training"

local cases = {}
local function case(name, t) t.name = name; cases[#cases + 1] = t end

-- A ctx whose query/each answer each statement of M.sql from rows[name]; writes are kept.
local function fake_ctx(rows, sql_of)
  local by_sql = {}
  for name, text in pairs(sql_of) do by_sql[text] = name end
  local ctx = { version = "v1-test", now = 0, writes = {} }
  function ctx.query(sql)
    local name = by_sql[sql] or error("fake ctx: unknown statement " .. sql:sub(1, 60))
    local out = {}
    for i, r in ipairs(rows[name] or {}) do
      local copy = {}
      for k, v in pairs(r) do copy[k] = v end
      out[i] = copy
    end
    return out
  end
  function ctx.each(sql, params, fn)
    local list = ctx.query(sql, params)
    for _, r in ipairs(list) do fn(r) end
    return #list
  end
  function ctx.write(sql, params) ctx.writes[#ctx.writes + 1] = { sql = sql, params = params } end
  function ctx.json() return nil end
  return ctx
end

case("bounds: March 2026 is 31 days of the centre's time", {
  run = function()
    local b = month.bounds("2026-03")
    return { b.first, b.last, (b.t1 - b.t0) // 86400 }
  end,
  want = { "2026-03-01", "2026-03-31", 31 },
})
case("bounds: December runs to the next year's January 1", {
  run = function() local b = month.bounds("2026-12"); return { b.last, (b.t1 - b.t0) // 86400 } end,
  want = { "2026-12-31", 31 },
})
case("bounds: a month that is not YYYY-MM is refused", { run = function() month.bounds("2026-13") end, error = "YYYY-MM" })

case("assessment: the table's scores, and items given in the note", {
  got = month.assessment({ agent = "8001", policy = 30, conduct = 28, discipline = 14, summary = 5, study = 4.5,
                           note = "accuracy_pct=92.5; analysis=good;language=clear;conduct=greeting, closing" }),
  want = { agent = "8001", scores = { policy = 30, conduct = 28, discipline = 14, summary = 5, study = 4.5 },
           accuracy_pct = 92.5, analysis = "good",
           language = "clear", conduct = { "greeting", "closing" } },
})
case("hold_log: the CDR's wall seconds become the rules' milliseconds", {
  got = month.hold_log({ { start = 100.5, ["end"] = 140.25, reminders = 0, back_within_ms = 39750 } }),
  want = { { start = 100500, ["end"] = 140250, reminders = 0, back_within_ms = 39750 } },
})
case("not_ready_states: a not-ready stretch ends at the agent's next event, never another's", {
  got = month.not_ready_states({
    { agent = "8001", time = 10, state = "not-ready", reason = "lunch" },
    { agent = "8001", time = 70, state = "ready", reason = "" },
    { agent = "8001", time = 90, state = "not-ready", reason = "" },
    { agent = "8002", time = 95, state = "ready", reason = "" },
  }),
  want = { { agent = "8001", state = "not_ready", start = 10, ["end"] = 70, reason = "lunch" } },
})

case("events: the engine's times (wall seconds with ms) are taken down to the second", {
  got = month.events({ { agent = "8001", time = 1782871204.792, state = "ready" } }),
  want = { { agent = "8001", time = 1782871204, state = "ready" } },
})
case("run: an agent's day from events stamped with ms (as the engine writes them) is computed", {
  run = function()
    local b = month.bounds("2026-07")
    local day = b.t0 + 86400   -- 2026-07-02
    local ctx = fake_ctx({ plan = { { agent = "8001", date = "2026-07-02", shift = "day" } },
                           events = { { agent = "8001", time = day + 9 * 3600 + 0.25, state = "ready", prev = "logged-out", reason = "" },
                                      { agent = "8001", time = day + 9 * 3600 + 1500.5, state = "not-ready", prev = "ready", reason = "busy" },
                                      { agent = "8001", time = day + 9 * 3600 + 1700.75, state = "ready", prev = "not-ready", reason = "" } } },
                         month.sql)
    local counts = month.run(ctx, "2026-07")
    return { counts.sheets, counts.attendance_rows }
  end,
  want = { 1, 1 },
})

-- One agent, one day's plan, one call answered a ring too late: the sheet shows it with its
-- call, and both rows are written with the version.
local function one_month()
  local b = month.bounds("2026-03")
  local late_ms = scoring.auto.ring.max_rings * scoring.auto.ring.ring_cycle_ms
  local rows = {
    plan = { { agent = "8001", date = "2026-03-02", shift = "day" } },
    events = { { agent = "8001", time = b.t0, state = "ready", prev = "logged-out", reason = "" } },
    calls = { { id = "c1", agent = "8001", start = b.t0 + 86400 + 3600, answer_time = b.t0 + 86400 + 3620,
                ring_ms = late_ms, hangup_first = "caller", recording = "r.wav", summary = "s", kb_lookups = 1 } },
  }
  local ctx = fake_ctx(rows, month.sql)
  local counts = month.run(ctx, "2026-03")
  local sheet = ctx.writes[#ctx.writes].params.sheet
  return ctx, counts, sheet
end
case("run: a sheet and a summary per planned agent, stamped with the version", {
  run = function()
    local ctx, counts = one_month()
    return { counts.sheets, counts.attendance_rows, #ctx.writes, ctx.writes[1].params.version }
  end,
  want = { 1, 1, 2, "v1-test" },
})
case("run: the late answer is on the sheet with its call (scoring.auto.ring)", {
  run = function()
    local _, _, sheet = one_month()
    local e = sheet.evidence[1]
    return { #sheet.evidence, e.item, e.call }
  end,
  want = { 1, scoring.auto.ring.item, "c1" },
})

-- 评分表 五 政治业务学习 fed by training (业务培训制度 五 1 日常考勤): an agent listed for two
-- sessions of the month and present at one loses the attendance bracket's points on the
-- study part of the sheet, with the rule as the line's fact.
case("run: training rows feed the study part (业务培训制度 五 1 出席率 via training.month_study)", {
  run = function()
    local rows = {
      plan = { { agent = "8001", date = "2026-07-02", shift = "day" } },
      sessions = { { id = 1, date = "2026-07-03", topic = "policy", kind = "lecture" },
                   { id = 2, date = "2026-07-10", topic = "cases", kind = "case" } },
      session_attendance = { { session_id = 1, agent = "8001", present = 1 }, { session_id = 2, agent = "8001", present = 0 } },
    }
    local ctx = fake_ctx(rows, month.sql)
    month.run(ctx, "2026-07")
    local sheet = ctx.writes[#ctx.writes].params.sheet
    local study
    for _, s in ipairs(sheet.sections) do if s.id == "study" then study = s end end
    return { study.score, study.lines[1].fact:find(training.attendance.source, 1, true) ~= nil }
  end,
  want = { scoring.section_by_id.study.points + training.attendance_deduction(50), true },
})
case("study_rows: the quarter's last month with no test mark deducts (业务培训制度 五 2)", {
  run = function()
    local ctx = fake_ctx({ marks = {} }, month.sql)
    local r = month.study_rows(ctx, month.bounds("2026-09"), "2026-09", { "8001" })
    return { #r, r[1].deduct, r[1].source }
  end,
  want = { 1, -training.quarterly_test.points, training.quarterly_test.source },
})

-- 班长综合评分及提取录音评分表 (每人提取三个电话): the month's draw is the one `admin review`
-- checks (scoring.draw with its default key, hl.hash): a review of a call drawn there counts.
case("run: the sheet's sample is scoring.draw's, and a review of a drawn call enters the recordings", {
  run = function()
    local b = month.bounds("2026-07")
    local calls, list = {}, {}
    for i = 1, 6 do
      calls[i] = { id = "k" .. i, agent = "8001", start = b.t0 + 86400 + i * 600, answer_time = b.t0 + 86400 + i * 600 + 3,
                   ring_ms = 1000, hangup_first = "caller", recording = "r" .. i .. ".wav", summary = "s", kb_lookups = 1 }
      list[i] = { id = calls[i].id, recording = calls[i].recording }
    end
    local drawn = scoring.draw("2026-07", "9001", { "9001" }, "8001", list)
    local ctx = fake_ctx({ plan = { { agent = "8001", date = "2026-07-02", shift = "day" } }, calls = calls,
                           reviews = { { reviewer = "9001", agent = "8001", call_id = drawn[2].id, policy = 30, conduct = 25 } } },
                         month.sql)
    month.run(ctx, "2026-07")
    local sheet = ctx.writes[#ctx.writes].params.sheet
    return { sheet.sample["9001"], #sheet.recordings, sheet.recordings[1].call }
  end,
  want = (function()
    local list = {}
    for i = 1, 6 do list[i] = { id = "k" .. i, recording = "r" .. i .. ".wav" } end
    local ids = {}
    for i, c in ipairs(scoring.draw("2026-07", "9001", { "9001" }, "8001", list)) do ids[i] = c.id end
    return { ids, 1, ids[2] }
  end)(),
})

-- ---- reports -----------------------------------------------------------------------------

case("distribution: bins of M.score_bin points up to base + bonus, every sheet in one", {
  run = function()
    local top = scoring.base_points + scoring.bonus_max
    local t = { columns = { "agent", "total" }, rows = { { "a", 0 }, { "b", reports.score_bin - 0.5 }, { "c", top } } }
    local bins = reports.distribution(t)
    local n = 0
    for _, b in ipairs(bins) do n = n + b.value end
    return { n, bins[1].value, bins[#bins].value, bins[1].label }
  end,
  want = { 3, 2, 1, "0-" .. (reports.score_bin - 1) },
})
case("bar_chart: each bar carries its label and number, as attributes and as a title", {
  run = function()
    local svg = reports.bar_chart("x", "X", { { label = "08", value = 12 }, { label = "a<b", value = 2.5 } })
    assert(svg:find('data-chart="x"', 1, true), "chart id")
    assert(svg:find('data-label="08" data-value="12"><title>08: 12</title>', 1, true), svg)
    assert(svg:find('data-label="a&lt;b" data-value="2.5"', 1, true), "escaped label")
  end,
})
case("run: the ranking as CSV, a text with a comma quoted", {
  run = function()
    local ctx = fake_ctx({ sheets = { { agent = "8,1", rank = 1, total = 99.5, base = 99.5, bonus = 0 } } }, reports.sql)
    return reports.run(ctx, "ranking", "2026-03", "--csv").text
  end,
  want = 'rank,agent,total,base,bonus\r\n1,"8,1",99.5,99.5,0\r\n',
})
case("run: an unknown report is refused with the usage", {
  run = function() reports.run(fake_ctx({}, reports.sql), "nope", "2026-03", "--csv") end,
  error = "usage: report",
})

return cases
