-- rules/attendance_test.lua — table tests of rules/attendance.lua (rule book chapter 2,
-- 考勤制度), run by `hotline test-rules` and at every reload (docs/lua-api.md, "Table tests").
-- Each case's name starts with the article of the rule it checks (the rule's own `source`),
-- and every limit, length and point is read from the rule, never copied: a change of a rule
-- moves its edges here with it.  Dates are in 2026 (rules/calendar.lua has its holidays).
local A = require "attendance"
local calendar = require "calendar"
local R = A.rules

local cases = {}
local function case(rule, text, t)
  t.name = rule.source .. ": " .. text
  cases[#cases + 1] = t
end

-- ---- helpers: one agent's month, built from the plan and the shift ----------------------------

local AGENT = "8001"

-- The plan of AGENT's working days in year-month, and the shift times of each of them.
local function month_plan(year, month)
  local plan = A.plan_workdays({ AGENT }, year, month)
  for _, p in ipairs(plan) do p.start, p.finish = A.shift_times(p.shift, p.date) end
  return plan
end

-- Log-in `late` seconds after the shift starts, log-out `early` seconds before it ends.
local function day_events(p, late, early)
  return { { agent = AGENT, time = p.start + (late or 0), state = "not-ready", prev = "logged-out", reason = "login" },
           { agent = AGENT, time = p.finish - (early or 0), state = "logged-out", prev = "ready", reason = "" } }
end

-- Events for every planned day: on time except the days listed in late[date] / early[date]
-- (seconds) and the days in absent[date] (no log-in at all).
local function month_events(plan, late, early, absent)
  local events = {}
  for _, p in ipairs(plan) do
    if not (absent or {})[p.date] then
      for _, e in ipairs(day_events(p, (late or {})[p.date], (early or {})[p.date])) do events[#events + 1] = e end
    end
  end
  return events
end

local function row_of(rows, date)
  for _, r in ipairs(rows) do if r.date == date then return r end end
end

local function only(list, field)
  local out = {}
  for i, x in ipairs(list) do out[i] = x[field] end
  return out
end

-- The first n planned dates of a plan.
local function first_dates(plan, n)
  local out = {}
  for i = 1, n do out[i] = plan[i].date end
  return out
end

local MINUTE = R.lateness.unit_seconds

-- ---- 第二章 一: the nine kinds ------------------------------------------------------------------

case({ source = "第二章 一" }, "every kind has its Chinese name and article, and the ids are distinct", {
  run = function()
    local seen, bad = {}, {}
    for _, k in ipairs(A.kinds) do
      if seen[k.id] or not k.zh or not k.source then bad[#bad + 1] = k.id end
      seen[k.id] = true
    end
    for id in pairs(A.leave_kinds) do if not seen[id] then bad[#bad + 1] = id end end
    for _, id in ipairs({ "present", "late_early", "absent", A.errand.kind }) do
      if not seen[id] then bad[#bad + 1] = id end
    end
    return bad
  end,
  want = {},
})

-- ---- 第二章 一(三) personal leave --------------------------------------------------------------

local limit = R.personal_leave.days_per_year
case(R.personal_leave, "the 15th day of personal leave in a year is leave", {
  got = A.personal_leave_split(limit - 1, 1), want = { leave = 1, absent = 0 } })
case(R.personal_leave, "the 16th day of personal leave in a year counts as absence", {
  got = A.personal_leave_split(limit, 1), want = { leave = 0, absent = 1 } })
case(R.personal_leave, "one leave across the limit: the days past it are absence", {
  got = A.personal_leave_split(limit - 2, 5), want = { leave = 2, absent = 3 } })
case(R.personal_leave, "the daily sheet: day 15 of a long personal leave is 事假, day 16 旷工, unpaid", {
  run = function()
    local plan = A.plan_workdays({ AGENT }, 2026, 1)
    local days = first_dates(plan, limit + 1)
    local rows = A.day_rows({ plan = plan, leaves = { { agent = AGENT, kind = "personal", approved = true,
                                                       from = days[1], to = days[#days] } } },
                            days[1], days[#days])
    local r15, r16 = rows[limit], rows[limit + 1]
    return { r15.kind, r15.paid, r16.kind, r16.zh, r16.paid, r16.absent_days, r16.notes[1].source }
  end,
  want = { "personal", true, "absent", "旷工", R.absence.paid, 1, R.personal_leave.source },
})
case(R.personal_leave, "the count starts again on January 1", {
  run = function()
    local dec = A.plan_workdays({ AGENT }, 2026, 12)
    local jan = A.plan_workdays({ AGENT }, 2027, 1)
    local plan = {}
    for _, p in ipairs(dec) do plan[#plan + 1] = p end
    for _, p in ipairs(jan) do plan[#plan + 1] = p end
    local leaves = { { agent = AGENT, kind = "personal", approved = true, from = "2026-12-01", to = "2026-12-31" },
                     { agent = AGENT, kind = "personal", approved = true, from = jan[1].date, to = jan[1].date } }
    local dec_rows = A.day_rows({ plan = plan, leaves = leaves }, dec[1].date, dec[#dec].date)
    return { dec_rows[#dec_rows].kind, A.day_rows({ plan = plan, leaves = leaves }, jan[1].date, jan[1].date)[1].kind }
  end,
  want = { #A.plan_workdays({ AGENT }, 2026, 12) > limit and "absent" or "personal", "personal" },
})

-- ---- 第二章 一(四) marriage leave -------------------------------------------------------------

local M = R.marriage
case(M, "a groom of 25 at his first marriage: the late-marriage leave", {
  got = A.marriage_leave{ sex = "male", age = M.late_age.male, first = true }, want = M.days + M.late_extra_days })
case(M, "a groom of 24: the plain leave", {
  got = A.marriage_leave{ sex = "male", age = M.late_age.male - 1, first = true }, want = M.days })
case(M, "a bride of 23 at her first marriage: the late-marriage leave", {
  got = A.marriage_leave{ sex = "female", age = M.late_age.female, first = true }, want = M.days + M.late_extra_days })
case(M, "a bride of 22: the plain leave", {
  got = A.marriage_leave{ sex = "female", age = M.late_age.female - 1, first = true }, want = M.days })
case(M, "a second marriage at any age: the plain leave", {
  got = A.marriage_leave{ sex = "male", age = M.late_age.male + 10, first = false }, want = M.days })
case(M, "the age is counted in full years: the day before the 25th birthday is 24", {
  run = function()
    local birth = string.format("%04d-07-16", 2026 - M.late_age.male)
    return { A.marriage_leave{ sex = "male", birth = birth, wedding = "2026-07-15", first = true },
             A.marriage_leave{ sex = "male", birth = birth, wedding = "2026-07-16", first = true } }
  end,
  want = { M.days, M.days + M.late_extra_days },
})
case(M, "the sex is required", { run = function() return A.marriage_leave{ age = 30 } end, error = "sex" })
case(M, "public holidays are not counted: a leave from Sep 30 resumes after National Day", {
  run = function()
    local days = A.marriage_leave{ sex = "female", age = M.late_age.female, first = true }
    local dates = A.leave_dates("marriage", "2026-09-30", days)
    local holidays = 0
    for _, d in ipairs(dates) do
      local y, m, dd = d:match("(%d+)-(%d+)-(%d+)")
      if calendar.day_kind{ year = tonumber(y), month = tonumber(m), day = tonumber(dd) } == "holiday" then
        holidays = holidays + 1
      end
    end
    return { count = #dates, holidays = holidays, first = dates[1], second = dates[2] }
  end,
  want = { count = M.days + M.late_extra_days, holidays = 0, first = "2026-09-30", second = "2026-10-08" },
})
case(R.maternity, "other leave runs through public holidays", {
  got = A.leave_dates("maternity", "2026-09-30", 2), want = { "2026-09-30", "2026-10-01" } })

-- ---- 第二章 一(五) maternity leave ------------------------------------------------------------

local P = R.maternity
case(P, "one baby", { got = A.maternity_leave(1), want = P.days })
case(P, "twins: one extra baby's days", { got = A.maternity_leave(2), want = P.days + P.per_extra_baby })
case(P, "triplets: two extra babies' days", { got = A.maternity_leave(3), want = P.days + 2 * P.per_extra_baby })
case(P, "no baby is an error", { run = function() return A.maternity_leave(0) end, error = "babies" })
local X = R.miscarriage
case(X, "a miscarriage before the 4th month: the range", {
  got = A.miscarriage_leave(X.months - 0.1), want = { min = X.before.min, max = X.before.max } })
case(X, "a miscarriage at 4 full months: the 42-day case", {
  got = A.miscarriage_leave(X.months), want = { min = X.after, max = X.after } })
case(X, "later still: the same", { got = A.miscarriage_leave(X.months + 3), want = { min = X.after, max = X.after } })

-- ---- 第二章 一(六) bereavement leave ----------------------------------------------------------

local B = R.bereavement
local relatives = {}
for relative in pairs(B.relatives) do relatives[#relatives + 1] = relative end
table.sort(relatives)
for _, relative in ipairs(relatives) do
  case(B, "a listed relative (" .. relative .. ")", { got = A.bereavement_leave(relative), want = B.days })
end
case(B, "a relative the book does not list (a grandparent): none under this chapter", {
  got = A.bereavement_leave("grandparent"), want = 0 })

-- ---- 第二章 一(七) home leave -----------------------------------------------------------------

local H, L = R.home_leave, R.home_leave_length
local hired = string.format("%04d-07-16", 2026 - H.service_years)
case(H, "one day short of a year's service: no home leave", {
  run = function() return A.home_leave{ hired = hired, on = "2026-07-15", lives_apart = true, married = true,
                                         visiting = "spouse" }.eligible end,
  want = false })
case(H, "a full year's service, living apart: eligible", {
  run = function() return A.home_leave{ hired = hired, on = "2026-07-16", lives_apart = true, married = true,
                                         visiting = "spouse" }.eligible end,
  want = true })
case(H, "not living apart (or able to meet on rest days): no home leave", {
  run = function() return A.home_leave{ service_years = 5, lives_apart = false, married = true,
                                         visiting = "spouse" }.eligible end,
  want = false })
for _, v in ipairs({ { married = true, visiting = "spouse", length = "spouse" },
                     { married = false, visiting = "parents", length = "parents_unmarried" },
                     { married = true, visiting = "parents", length = "parents_married" } }) do
  local want = L[v.length]
  case(L, string.format("%s, visiting the %s: %d days every %d year(s)", v.married and "married" or "unmarried",
                        v.visiting, want.days, want.every_years), {
    run = function()
      local h = A.home_leave{ service_years = 3, lives_apart = true, married = v.married, visiting = v.visiting }
      return { h.days, h.every_years }
    end,
    want = { want.days, want.every_years } })
end
case(L, "married, parents visited 3 years ago: not yet; 4 years ago: again", {
  run = function()
    local every = L.parents_married.every_years
    local p = { service_years = 9, lives_apart = true, married = true, visiting = "parents", year = 2026 }
    p.last_year = 2026 - (every - 1)
    local early = A.home_leave(p).eligible
    p.last_year = 2026 - every
    return { early, A.home_leave(p).eligible }
  end,
  want = { false, true } })
case(L, "unmarried: no leave to visit a spouse", {
  run = function() return A.home_leave{ service_years = 3, lives_apart = true, married = false,
                                         visiting = "spouse" }.eligible end,
  want = false })

-- ---- 第二章 一(八) lateness and early leaving --------------------------------------------------

local T, E = R.lateness, R.early_leaving
local function pen(count, late_min, early_min)
  return A.month_penalties{ late_count = count, late_minutes = late_min, early_minutes = early_min or 0 }
end
case(T, "the 2nd late arrival in a month: no penalty", { got = pen(T.count - 1, T.count - 1).late, want = 0 })
case(T, "the 3rd late arrival in a month: half a day's absence", { got = pen(T.count, T.count).late, want = T.absent_days })
case(T, "2 h 00 min late in total: no penalty", { got = pen(1, T.minutes).late, want = 0 })
case(T, "2 h 01 min late in total: half a day's absence", { got = pen(1, T.minutes + 1).late, want = T.absent_days })
case(T, "both at once: still half a day", { got = pen(T.count, T.minutes + 1).late, want = T.absent_days })
case(E, "2 h 59 min of early leaving in a month: no penalty", { got = pen(0, 0, E.minutes - 1).early, want = 0 })
case(E, "3 h 00 min of early leaving: half a day's absence", { got = pen(0, 0, E.minutes).early, want = E.absent_days })
case(T, "a log-in within the shift's first minute is on time; one minute on is late", {
  got = { A.late_minutes(1000 + MINUTE - 1, 1000), A.late_minutes(1000 + MINUTE, 1000), A.late_minutes(900, 1000) },
  want = { 0, 1, 0 } })

case(T, "the day: log-in 5 min late, log-out 10 min early = 迟到早退", {
  run = function()
    local plan = month_plan(2026, 7)
    local p = plan[1]
    local row = A.day_rows({ plan = plan, events = day_events(p, 5 * MINUTE, 10 * MINUTE) }, p.date, p.date)[1]
    return { row.kind, row.zh, row.late_minutes, row.early_minutes, row.paid }
  end,
  want = { "late_early", "迟到早退", 5, 10, true } })
case(T, "the day: logged in before the shift, out after it = 出勤", {
  run = function()
    local plan = month_plan(2026, 7)
    local p = plan[1]
    local row = A.day_rows({ plan = plan, events = day_events(p, -600, -600) }, p.date, p.date)[1]
    return { row.kind, row.late_minutes, row.early_minutes }
  end,
  want = { "present", 0, 0 } })
case(T, "the day: a log-out and a new log-in before the end is no early leaving", {
  run = function()
    local plan = month_plan(2026, 7)
    local p = plan[1]
    local ev = day_events(p, 0, 0)
    table.insert(ev, 2, { agent = AGENT, time = p.start + 3600, state = "logged-out", prev = "ready", reason = "" })
    table.insert(ev, 3, { agent = AGENT, time = p.start + 4000, state = "ready", prev = "logged-out", reason = "" })
    local row = A.day_rows({ plan = plan, events = ev }, p.date, p.date)[1]
    return { row.kind, row.early_minutes }
  end,
  want = { "present", 0 } })
case(T, "the day: logged in since the day before = on time", {
  run = function()
    local plan = month_plan(2026, 7)
    local ev = { { agent = AGENT, time = plan[1].start, state = "ready", prev = "logged-out", reason = "" } }
    local row = A.day_rows({ plan = plan, events = ev }, plan[2].date, plan[2].date)[1]
    return { row.kind, row.late_minutes }
  end,
  want = { "present", 0 } })
case(T, "the winter shift starts and ends with the season's agent hours (rules/calendar.lua)", {
  run = function()
    local s, f = A.shift_times("day", "2026-01-14")
    local midnight = hl.time{ year = 2026, month = 1, day = 14, hour = 0 }
    return { (s - midnight) // 60, (f - midnight) // 60 }
  end,
  want = { calendar.hours.winter.open, calendar.hours.winter.close } })

-- The month, from events: N late days of one minute each.
local function summary_with_lates(n, minutes_each)
  local plan = month_plan(2026, 3)
  local late = {}
  for i = 1, n do late[plan[i].date] = minutes_each * MINUTE end
  return A.monthly_summary({ plan = plan, events = month_events(plan, late) }, 2026, 3).rows[1]
end
case(T, "the month from log-ins: two late arrivals, no absence", {
  run = function() local r = summary_with_lates(T.count - 1, 1); return { r.late_count, r.absent_days } end,
  want = { T.count - 1, 0 } })
case(T, "the month from log-ins: the 3rd late arrival makes half a day's absence, unpaid", {
  run = function()
    local r = summary_with_lates(T.count, 1)
    return { r.late_count, r.penalty_days, r.absent_days, r.unpaid_days, r.days.late_early }
  end,
  want = { T.count, T.absent_days, T.absent_days, T.absent_days, T.count } })
case(T, "the month from log-ins: one arrival 2 h 00 min late, no absence; 2 h 01 min, half a day", {
  run = function() return { summary_with_lates(1, T.minutes).absent_days, summary_with_lates(1, T.minutes + 1).absent_days } end,
  want = { 0, T.absent_days } })
case(E, "the month from log-outs: early leaving adds up to 3 hours over two days", {
  run = function()
    local plan = month_plan(2026, 3)
    local half = E.minutes // 2
    local early = { [plan[1].date] = half * MINUTE, [plan[2].date] = (E.minutes - half) * MINUTE }
    local r = A.monthly_summary({ plan = plan, events = month_events(plan, nil, early) }, 2026, 3).rows[1]
    return { r.early_minutes, r.penalty_days }
  end,
  want = { E.minutes, E.absent_days } })

-- 第二章 一(八)2: the recorder notes the time and the reason; a leader's correction keeps both.
local C = { source = "第二章 一(八)2" }
case(C, "a leader corrects a late log-in (the phone failed): on time, the correction kept", {
  run = function()
    local plan = month_plan(2026, 7)
    local p = plan[1]
    local fix = { agent = AGENT, date = p.date, set = { arrival = hl.date("%H:%M", p.start) },
                  by = "leader 9001", reason = "the phone did not register" }
    local row = A.day_rows({ plan = plan, events = day_events(p, 30 * MINUTE), corrections = { fix } }, p.date, p.date)[1]
    return { row.kind, row.late_minutes, row.corrections[1].by, row.corrections[1].reason }
  end,
  want = { "present", 0, "leader 9001", "the phone did not register" } })
case(C, "a correction without a reason is refused", {
  run = function()
    local plan = month_plan(2026, 7)
    local fix = { agent = AGENT, date = plan[1].date, set = { kind = "present" }, by = "leader 9001" }
    return A.day_rows({ plan = plan, corrections = { fix } }, plan[1].date, plan[1].date)
  end,
  error = "by and reason are required" })
case(C, "a correction of a field that is not correctable is refused", {
  run = function()
    local plan = month_plan(2026, 7)
    local fix = { agent = AGENT, date = plan[1].date, set = { paid = true }, by = "l", reason = "r" }
    return A.day_rows({ plan = plan, corrections = { fix } }, plan[1].date, plan[1].date)
  end,
  error = "cannot be corrected" })

-- ---- 第二章 一(九) absence ----------------------------------------------------------------------

local Z = R.absence
case(Z, "no log-in and no leave: 旷工, unpaid", {
  run = function()
    local plan = month_plan(2026, 7)
    local row = A.day_rows({ plan = plan }, plan[1].date, plan[1].date)[1]
    return { row.kind, row.paid, row.absent_days }
  end,
  want = { "absent", Z.paid, 1 } })
-- The kind of the first July working day under one leave record of that day.
local function kind_with_leave(kind, approved, false_claim)
  local plan = month_plan(2026, 7)
  local d = plan[1].date
  local leave = { agent = AGENT, kind = kind, from = d, to = d, approved = approved, false_claim = false_claim }
  return A.day_rows({ plan = plan, leaves = { leave } }, d, d)[1].kind
end
case(Z, "leave not approved: 旷工", { run = function() return kind_with_leave("sick", false) end, want = "absent" })
case(Z, "leave found to be false: 旷工", { run = function() return kind_with_leave("sick", true, true) end, want = "absent" })
case({ source = A.errand.source }, "an approved errand or study day counts as 出勤", {
  run = function() return kind_with_leave("errand", true) end, want = A.errand.kind })
case({ source = A.errand.source }, "an errand not approved is no errand: 旷工", {
  run = function() return kind_with_leave("errand", false) end, want = "absent" })
case(Z, "a leave record of an unknown kind, or with a bad date, is refused naming the agent", {
  run = function()
    local plan = month_plan(2026, 7)
    local d = plan[1].date
    local errors = {}
    for _, l in ipairs({ { agent = AGENT, kind = "holiday", from = d, to = d, approved = true },
                         { agent = AGENT, kind = "sick", from = "2026-7-1", to = d, approved = true },
                         { agent = AGENT, kind = "sick", from = d, to = "2026-01-01", approved = true } }) do
      local ok, err = pcall(A.day_rows, { plan = plan, leaves = { l } }, d, d)
      errors[#errors + 1] = not ok and err:find("leave record of " .. AGENT, 1, true) ~= nil
    end
    return errors
  end,
  want = { true, true, true } })
case(Z, "the contract flag: just under the year's limit, and at it", {
  got = { A.contract_flag(Z.contract_days - T.absent_days), A.contract_flag(Z.contract_days) },
  want = { false, true } })
case(Z, "a year's absence adds up across months: a day in January and a day in February flag February", {
  run = function()
    local jan, feb = month_plan(2026, 1), month_plan(2026, 2)
    local plan, events = {}, {}
    for _, p in ipairs(jan) do plan[#plan + 1] = p end
    for _, p in ipairs(feb) do plan[#plan + 1] = p end
    local absent = { [jan[1].date] = true, [feb[1].date] = true }
    events = month_events(plan, nil, nil, absent)
    local input = { plan = plan, events = events }
    local j, f = A.monthly_summary(input, 2026, 1).rows[1], A.monthly_summary(input, 2026, 2).rows[1]
    return { j.absent_days, j.contract_flag, f.absent_days, f.year_absent_days, f.contract_flag }
  end,
  want = { 1, 1 >= Z.contract_days, 1, 2, 2 >= Z.contract_days } })

-- March of one agent, late on some days, absent on others, on personal leave from February
-- into March past the year's limit: computed month by month with the carry, and directly.
local function march_both_ways()
  local plan, late, absent = {}, {}, {}
  for m = 1, 3 do
    for i, p in ipairs(month_plan(2026, m)) do
      plan[#plan + 1] = p
      if i % 5 == m then late[p.date] = (i * 7) * MINUTE end
      if i == 2 * m then absent[p.date] = true end
    end
  end
  local leaves = { { agent = AGENT, kind = "personal", approved = true, from = "2026-02-02", to = "2026-03-13" } }
  local events = month_events(plan, late, nil, absent)
  local function input(carry) return { plan = plan, events = events, leaves = leaves, carry = carry } end
  local jan = A.monthly_summary(input(), 2026, 1)
  local feb = A.monthly_summary(input(A.carry(jan)), 2026, 2)
  return A.monthly_summary(input(A.carry(feb)), 2026, 3).rows[1], A.monthly_summary(input(), 2026, 3).rows[1]
end
local carried, direct = march_both_ways()
case(R.summary, "property: a month computed with the carry of the month before equals the month computed from January", {
  got = carried, want = direct })
case(R.personal_leave, "the summary carries the year's personal leave: at the limit, the days past it absence", {
  got = { direct.personal_days, direct.days.absent > 0 }, want = { limit, true } })

-- ---- 第二章 二: requests and approval -----------------------------------------------------------

local AP, RQ, EX = R.approval, R.request, R.extension
case(AP, "one day: the department head alone", { got = A.approval_chain(AP.head_max_days), want = { AP.head } })
case(AP, "two days: the head, then the director", { got = A.approval_chain(AP.head_max_days + 1), want = { AP.head, AP.director } })
case(RQ, "a request a day ahead is in order", {
  run = function()
    local r = A.check_request{ from = "2026-07-16", to = "2026-07-16", filed = A.add_days("2026-07-16", -RQ.days_ahead) }
    return { r.ok, r.days, r.chain }
  end,
  want = { true, 1, { AP.head } } })
case(RQ, "a request on the day itself, in writing, is not", {
  run = function()
    local r = A.check_request{ from = "2026-07-16", to = "2026-07-17", filed = "2026-07-16" }
    return { r.ok, r.problems[1].source, r.chain }
  end,
  want = { false, RQ.source, { AP.head, AP.director } } })
case(RQ, "an emergency by phone on the day: in order, paperwork due the first working day after", {
  run = function()
    local r = A.check_request{ from = "2026-07-16", to = "2026-07-17", filed = "2026-07-16", emergency = "phone" }
    return { r.ok, r.paperwork_due }
  end,
  want = { true, "2026-07-20" } })  -- Jul 17 2026 is a Friday
case(RQ, "an emergency by some other way is an error", {
  run = function() return A.check_request{ from = "2026-07-16", to = "2026-07-16", filed = "2026-07-16", emergency = "email" } end,
  error = "emergency" })
case(EX, "an extension filed two days before the leave ends: in order, approved as the whole leave", {
  run = function()
    local r = A.check_request{ from = "2026-07-18", to = "2026-07-20", extends = { from = "2026-07-16", to = "2026-07-17" },
                               filed = A.add_days("2026-07-17", -EX.days_before_end) }
    return { r.ok, r.days }
  end,
  want = { true, 5 } })
case(EX, "an extension filed the day before the end: late", {
  run = function()
    local r = A.check_request{ from = "2026-07-18", to = "2026-07-18", extends = { from = "2026-07-17", to = "2026-07-17" },
                               filed = A.add_days("2026-07-17", -(EX.days_before_end - 1)) }
    return { r.ok, r.problems[1].source }
  end,
  want = { false, EX.source } })

-- ---- 第二章 三: the sheets ---------------------------------------------------------------------

local S = R.summary
case(S, "the monthly summary is due the 30th", { got = A.summary_due(2026, 1), want = string.format("2026-01-%02d", S.due_day) })
case(S, "in February, the last day of the month", { got = A.summary_due(2026, 2), want = string.format("2026-02-%02d", math.min(S.due_day, 28)) })
case(S, "the daily sheet is kept by the shift leader, one row per planned agent", {
  run = function()
    local plan = A.plan_workdays({ "8001", "8002" }, 2026, 7)
    local sheet = A.daily_sheet({ plan = plan }, plan[1].date)
    return { sheet.keeper, only(sheet.rows, "agent") }
  end,
  want = { S.keeper, { "8001", "8002" } } })

-- ---- properties ---------------------------------------------------------------------------------

case(T, "property: a month's penalties are 0 or the half day, and never fall as lateness grows", {
  run = function()
    local bad = {}
    for count = 0, T.count + 3 do
      local before = 0
      for minutes = 0, T.minutes + 60 do
        local p = pen(count, minutes, minutes * 2)
        if (p.late ~= 0 and p.late ~= T.absent_days) or p.late < before then bad[#bad + 1] = count .. "/" .. minutes end
        if p.early ~= 0 and p.early ~= E.absent_days then bad[#bad + 1] = "early " .. minutes end
        before = p.late
      end
    end
    return bad
  end,
  want = {} })
case(R.personal_leave, "property: leave + absence = the days asked, and the year's leave never passes the limit", {
  run = function()
    local bad = {}
    for before = 0, limit + 5 do
      for days = 0, limit + 5 do
        local s = A.personal_leave_split(before, days)
        if s.leave + s.absent ~= days or s.leave < 0 or s.absent < 0 or (before <= limit and before + s.leave > limit) then
          bad[#bad + 1] = before .. "+" .. days
        end
      end
    end
    return bad
  end,
  want = {} })
case(S, "property: a month's summary counts every planned day once, in one of the nine kinds", {
  run = function()
    local plan = month_plan(2026, 3)
    local late, early, absent = {}, {}, {}
    for i, p in ipairs(plan) do
      if i % 3 == 0 then late[p.date] = i * MINUTE end
      if i % 4 == 0 then early[p.date] = i * MINUTE end
      if i % 7 == 0 then absent[p.date] = true end
    end
    local r = A.monthly_summary({ plan = plan, events = month_events(plan, late, early, absent) }, 2026, 3).rows[1]
    local total = 0
    for _, k in ipairs(A.kinds) do total = total + r.days[k.id] end
    return { total = total, absent = r.days.absent >= 0 and r.absent_days >= r.days.absent }
  end,
  want = { total = #month_plan(2026, 3), absent = true } })

return cases
