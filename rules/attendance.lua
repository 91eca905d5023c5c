-- rules/attendance.lua — attendance (rule book chapter 2, 考勤制度; SPEC §4): the nine kinds
-- of record, the leave entitlements, the approval chain of a leave request, lateness and
-- early leaving from the agents' log-in and log-out against the shift plan, the monthly
-- rules, the daily sheet and the monthly summary.
--
-- Policy only: every limit, length and point is data in M.rules with the article it comes
-- from; the functions are pure (plain Lua tables in, plain tables out, no store).  The
-- engine feeds them rows: agent state events as the ACD keeps them
-- ({agent, time, state, prev, reason}, time in epoch seconds), leave records and leaders'
-- corrections.  rules/attendance_test.lua tests every rule; `hotline test-rules` and every
-- reload run it, so a change that breaks a rule is refused.
--
-- Articles: chapter 2 numbers its parts 一 二 三 四 and, inside 一, the kinds (一)…(九) with
-- points 1, 2, 3: "第二章 一(八)3" is part 一, kind (八) 迟到早退, point 3.
-- Dates are "YYYY-MM-DD" strings, times of day "HH:MM" (centre time, rules/calendar.lua).
local calendar = require "calendar"

local M = {}

-- ---- data -------------------------------------------------------------------------------

-- 第二章 一: the nine kinds of record, in the book's order.
M.kinds = {
  { id = "present",     zh = "出勤",     source = "第二章 一(一)" },
  { id = "sick",        zh = "病假",     source = "第二章 一(二)" },
  { id = "personal",    zh = "事假",     source = "第二章 一(三)" },
  { id = "maternity",   zh = "产假",     source = "第二章 一(五)" },
  { id = "marriage",    zh = "婚假",     source = "第二章 一(四)" },
  { id = "bereavement", zh = "丧假",     source = "第二章 一(六)" },
  { id = "home",        zh = "探亲假",   source = "第二章 一(七)" },
  { id = "late_early",  zh = "迟到早退", source = "第二章 一(八)" },
  { id = "absent",      zh = "旷工",     source = "第二章 一(九)" },
}

-- Leave records of these kinds are days of leave; "errand" (差遣、学习 approved by the
-- centre's leaders) counts as present (第二章 一(一)).
M.leave_kinds = { sick = true, personal = true, maternity = true, marriage = true,
                  bereavement = true, home = true }
M.errand = { kind = "present", source = "第二章 一(一)" }

M.rules = {
  -- 年事假累计不得超过15天,超过15天的部分,考核以旷工对待.  Days: scheduled working days.
  personal_leave = { days_per_year = 15, source = "第二章 一(三)2" },
  -- 3 days; a late first marriage (男满25周岁,女满23周岁) 3 + 7 = 10; 不包括法定节假日:
  -- the public holidays of rules/calendar.lua are skipped (weekends count: the book says
  -- 法定节假日, the statutory holidays; add weekend = true to skip them too).
  marriage = { days = 3, late_extra_days = 7, late_age = { male = 25, female = 23 },
               skip = { holiday = true }, source = "第二章 一(四)" },
  -- 90 days; 多胞胎 +15 per baby beyond the first.
  maternity = { days = 90, per_extra_baby = 15, source = "第二章 一(五)" },
  -- 怀孕不满4个月: 15 to 30 days; 满4个月以上: 42.
  miscarriage = { months = 4, before = { min = 15, max = 30 }, after = 42, source = "第二章 一(五)" },
  -- 直系亲属(双方父母、配偶、子女): 3 days.
  bereavement = { days = 3, source = "第二章 一(六)",
                  relatives = { father = true, mother = true, father_in_law = true,
                                mother_in_law = true, spouse = true, child = true } },
  -- 在本中心工作满一年, living apart from parents or spouse and unable to meet on rest days.
  home_leave = { service_years = 1, source = "第二章 一(七)1" },
  -- 已婚探望配偶 10 days a year; 未婚探望父母 7 a year; 已婚探望父母 20 every 4 years.
  home_leave_length = { source = "第二章 一(七)2",
                        spouse = { days = 10, every_years = 1 },
                        parents_unmarried = { days = 7, every_years = 1 },
                        parents_married = { days = 20, every_years = 4 } },
  -- 每月迟到达三次及以上或迟到时间累计超过二个小时的,按旷工半天处理.  Lateness counts in
  -- whole minutes (a log-in within the first minute of the shift is on time).
  lateness = { count = 3, minutes = 120, absent_days = 0.5, unit_seconds = 60,
               source = "第二章 一(八)3" },
  -- 每月早退累计满三小时,按旷工半天处理.
  early_leaving = { minutes = 180, absent_days = 0.5, unit_seconds = 60, source = "第二章 一(八)4" },
  -- 旷工期间不发工资; 一年内旷工累计两天的,解除劳动合同 (a calendar year).
  absence = { paid = false, contract_days = 2, source = "第二章 一(九)" },
  -- 请假一天由部长审批;两天及两天以上由部长签字同意后,报主任审批.
  approval = { head_max_days = 1, head = "department_head", director = "director",
               source = "第二章 二" },
  -- 提前一天填写请(休)假单; 确有急事: 电话请假或委托他人请假,事后补办 (by the first
  -- working day back: the book gives no limit).
  request = { days_ahead = 1, emergency = { phone = true, proxy = true }, source = "第二章 二" },
  -- 应于假期期满前两天办理续假手续.
  extension = { days_before_end = 2, source = "第二章 二" },
  -- 值班班长 keeps the daily sheet; 月考勤汇总表于月末(30日)前报 (the last day of a shorter month).
  summary = { due_day = 30, keeper = "shift_leader", source = "第二章 三" },
}

-- Shifts: minutes of the day [start, finish).  "day" follows the agent hours of the season
-- (§3 工作时间规定, rules/calendar.lua); a shift with start/finish is fixed.
M.shifts = {
  day = { hours = "calendar", source = "§3 工作时间规定" },
}

-- ---- dates ------------------------------------------------------------------------------

local function parse_date(s, what)
  local y, m, d = tostring(s):match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
  if not y then error(string.format("%s: '%s' is not a date YYYY-MM-DD", what, tostring(s)), 3) end
  return { year = tonumber(y), month = tonumber(m), day = tonumber(d) }
end

-- Normalised through the engine's civil calendar (month 13 is next January, day 0 the
-- month before's last): from the month's first day at noon, a whole number of days on.
local DAY_SECONDS = 24 * 3600
local function date_of(y, m, d)
  y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
  local t = hl.date("*t", hl.time{ year = y, month = m, day = 1 } + (d - 1) * DAY_SECONDS)
  return { year = t.year, month = t.month, day = t.day }
end

local function key(d) return string.format("%04d-%02d-%02d", d.year, d.month, d.day) end

function M.add_days(date, n)
  local d = parse_date(date, "add_days")
  return key(date_of(d.year, d.month, d.day + n))
end

local function last_day(year, month) return date_of(year, month + 1, 0).day end

-- Whole years from `from` to `on` (dates): an age, a length of service.
function M.full_years(from, on)
  local a, b = parse_date(from, "full_years"), parse_date(on, "full_years")
  local years = b.year - a.year
  if b.month < a.month or (b.month == a.month and b.day < a.day) then years = years - 1 end
  return years
end

-- ---- leave entitlements ------------------------------------------------------------------

local function need(p, field, what)
  if p[field] == nil then error(string.format("%s: %s is missing", what, field), 3) end
  return p[field]
end

-- Marriage leave in days: {sex = "male"|"female", age = years at the wedding (or birth and
-- wedding dates), first = true for a first marriage}.
function M.marriage_leave(p)
  local r = M.rules.marriage
  local sex = need(p, "sex", "marriage_leave")
  local late = r.late_age[sex]
  if not late then error("marriage_leave: sex must be male or female, not " .. tostring(sex), 2) end
  local age = p.age or M.full_years(need(p, "birth", "marriage_leave"), need(p, "wedding", "marriage_leave"))
  if p.first and age >= late then return r.days + r.late_extra_days end
  return r.days
end

local function at_least(value, min, what)
  if type(value) ~= "number" or value < min then
    error(string.format("%s must be a number of at least %s, not %s", what, min, tostring(value)), 3)
  end
end

-- Maternity leave in days for `babies` born at once.
function M.maternity_leave(babies)
  local r = M.rules.maternity
  at_least(babies, 1, "maternity_leave: babies")
  return r.days + r.per_extra_baby * (babies - 1)
end

-- Leave after a miscarriage at `months` of pregnancy: {min, max} days (a doctor's note picks
-- within the range; from the 4th full month on both are 42).
function M.miscarriage_leave(months)
  local r = M.rules.miscarriage
  at_least(months, 0, "miscarriage_leave: months")
  if months < r.months then return { min = r.before.min, max = r.before.max } end
  return { min = r.after, max = r.after }
end

-- Bereavement leave for the death of `relative` (a key of rules.bereavement.relatives); 0 for
-- a relative the book does not list (第二章 四(一): national or provincial rules then apply).
function M.bereavement_leave(relative)
  local r = M.rules.bereavement
  return r.relatives[relative] and r.days or 0
end

-- Home leave: {hired = date, on = date (or service_years), lives_apart = true when apart from
-- the family visited and unable to meet on rest days, married, visiting = "spouse"|"parents",
-- last_year = the year it was last taken for that visit (nil: never), year}.
-- -> {eligible, days, every_years, why}.
function M.home_leave(p)
  local service = p.service_years or M.full_years(need(p, "hired", "home_leave"), need(p, "on", "home_leave"))
  local visiting = need(p, "visiting", "home_leave")
  local lengths = M.rules.home_leave_length
  local which = visiting == "spouse" and "spouse" or (p.married and "parents_married" or "parents_unmarried")
  if visiting ~= "spouse" and visiting ~= "parents" then
    error("home_leave: visiting must be spouse or parents, not " .. tostring(visiting), 2)
  end
  local len = lengths[which]
  local no = function(why) return { eligible = false, days = 0, every_years = len.every_years, why = why } end
  if service < M.rules.home_leave.service_years then return no("service under the required years") end
  if not p.lives_apart then return no("not living apart") end
  if visiting == "spouse" and not p.married then return no("not married") end
  if p.last_year and p.year and p.year - p.last_year < len.every_years then
    return no("already taken in this period")
  end
  return { eligible = true, days = len.days, every_years = len.every_years, why = which }
end

-- Personal leave: of `days` more, after `before` days already taken this year, how many are
-- leave and how many count as absence.
function M.personal_leave_split(before, days)
  local limit = M.rules.personal_leave.days_per_year
  local leave = math.max(0, math.min(days, limit - before))
  return { leave = leave, absent = days - leave }
end

-- The dates of a leave of `days` days from `from`, skipping the day kinds the rule of `kind`
-- skips (marriage: public holidays).  -> list of dates (the last is the last day of leave).
function M.leave_dates(kind, from, days)
  local skip = (M.rules[kind] or {}).skip or {}
  local d, dates = parse_date(from, "leave_dates"), {}
  local i = 0
  while #dates < days do
    if i > days + 366 then error("leave_dates: rules." .. kind .. ".skip leaves no day to count", 2) end
    local day = date_of(d.year, d.month, d.day + i)
    if not skip[calendar.day_kind(day)] then dates[#dates + 1] = key(day) end
    i = i + 1
  end
  return dates
end

-- ---- leave requests -----------------------------------------------------------------------

-- Who approves a leave of `days` days, in order.
function M.approval_chain(days)
  local r = M.rules.approval
  if days <= r.head_max_days then return { r.head } end
  return { r.head, r.director }
end

local function days_between(a, b)
  local x, y = parse_date(a, "leave request"), parse_date(b, "leave request")
  return (hl.time(y) - hl.time(x)) // DAY_SECONDS
end

-- A leave request: {from, to, filed = the date it was handed in, emergency = "phone" |
-- "proxy" (nil: in writing, ahead), extends = {from, to} of the leave it extends (nil: new)}.
-- -> {days (the whole leave, an extension included), chain, ok, problems = {{rule, source}},
--     paperwork_due (an emergency request: the first working day after the leave)}.
function M.check_request(req)
  local from, to, filed = need(req, "from", "check_request"), need(req, "to", "check_request"),
                          need(req, "filed", "check_request")
  if days_between(from, to) < 0 then error("check_request: to (" .. to .. ") is before from (" .. from .. ")", 2) end
  local first = req.extends and need(req.extends, "from", "check_request extends") or from
  local out = { days = days_between(first, to) + 1, problems = {} }
  local function problem(rule, text) out.problems[#out.problems + 1] = { rule = text, source = rule.source } end
  local rq, ext = M.rules.request, M.rules.extension
  if req.extends then
    if days_between(filed, need(req.extends, "to", "check_request extends")) < ext.days_before_end then
      problem(ext, "an extension is filed " .. ext.days_before_end .. " days before the leave ends")
    end
  elseif req.emergency then
    if not rq.emergency[req.emergency] then
      error("check_request: emergency must be phone or proxy, not " .. tostring(req.emergency), 2)
    end
    out.paperwork_due = M.next_workday(to)
  elseif days_between(filed, from) < rq.days_ahead then
    problem(rq, "a request is filed " .. rq.days_ahead .. " day(s) ahead, or by phone in an emergency")
  end
  out.chain = M.approval_chain(out.days)
  out.ok = #out.problems == 0
  return out
end

-- The first working day after `date` (rules/calendar.lua).
function M.next_workday(date)
  local d = M.add_days(date, 1)
  while not calendar.is_workday(parse_date(d, "next_workday")) do d = M.add_days(d, 1) end
  return d
end

-- ---- the day: lateness and early leaving ---------------------------------------------------

-- A shift's [start, finish) on `date`, in epoch seconds, and the date's midnight.
function M.shift_times(shift_id, date)
  local s = M.shifts[shift_id]
  if not s then error("shift_times: no shift '" .. tostring(shift_id) .. "' in rules/attendance.lua M.shifts", 2) end
  local d = parse_date(date, "shift_times")
  local start, finish = s.start, s.finish
  if s.hours == "calendar" then
    local h = calendar.hours[calendar.season(d)]
    start, finish = h.open, h.close
  end
  local midnight = hl.time{ year = d.year, month = d.month, day = d.day, hour = 0 }
  return midnight + start * 60, midnight + finish * 60, midnight
end

-- Minutes late for an arrival at `arrival` (epoch s) to a shift starting at `start`; 0 if on time.
function M.late_minutes(arrival, start)
  return math.max(0, (arrival - start) // M.rules.lateness.unit_seconds)
end

-- Minutes left early for a departure at `departure` from a shift ending at `finish`.
function M.early_minutes(departure, finish)
  return math.max(0, (finish - departure) // M.rules.early_leaving.unit_seconds)
end

-- A time of the day as "HH:MM:SS", from the day's midnight (no DST in the centre's zone).
local function clock(t, midnight)
  if not t then return nil end
  local s = t - midnight
  return string.format("%02d:%02d:%02d", s // 3600, s % 3600 // 60, s % 60)
end

-- From one agent's events (sorted by time), from cursor {i, state} on: arrival and departure
-- within [start, finish).  Logged in at the start = on time; still logged in at the end = no
-- early leaving; else the first log-in and the last log-out inside the shift (a log-out
-- followed by a new log-in is no departure).  The cursor moves to the shift's end.
local function presence(events, cur, start, finish)
  while events[cur.i] and events[cur.i].time < start do
    cur.state = events[cur.i].state
    cur.i = cur.i + 1
  end
  local arrival = cur.state ~= "logged-out" and start or nil
  local departure
  while events[cur.i] and events[cur.i].time < finish do
    local e = events[cur.i]
    local was_in, is_in = cur.state ~= "logged-out", e.state ~= "logged-out"
    if is_in and not was_in and not arrival then arrival = e.time end
    if was_in and not is_in then departure = e.time end
    if is_in then departure = nil end
    cur.state = e.state
    cur.i = cur.i + 1
  end
  return arrival, departure
end

-- ---- the daily sheet ------------------------------------------------------------------------

-- Plan rows {agent, date, shift} for every working day of a month (rules/calendar.lua).
function M.plan_workdays(agents, year, month, shift)
  local plan = {}
  for day = 1, last_day(year, month) do
    local d = { year = year, month = month, day = day }
    if calendar.is_workday(d) then
      for _, agent in ipairs(agents) do plan[#plan + 1] = { agent = agent, date = key(d), shift = shift or "day" } end
    end
  end
  return plan
end

local kind_zh = {}
for _, k in ipairs(M.kinds) do kind_zh[k.id] = k.zh end

local function by_agent(list, what)
  local out = {}
  for _, row in ipairs(list or {}) do
    local a = need(row, "agent", what)
    out[a] = out[a] or {}
    out[a][#out[a] + 1] = row
  end
  return out
end

-- The leave record covering `date` for one agent's records, or nil.
local function leave_on(records, date)
  for _, l in ipairs(records or {}) do
    if l.from <= date and date <= l.to then return l end
  end
end

local function hhmm_on(date, text, what)
  local h, m = tostring(text):match("^(%d%d?):(%d%d)$")
  if not h then error(string.format("%s: '%s' is not a time HH:MM", what, tostring(text)), 0) end
  local d = parse_date(date, what)
  return hl.time{ year = d.year, month = d.month, day = d.day, hour = tonumber(h), min = tonumber(m), sec = 0 }
end

local correctable = { arrival = true, departure = true, kind = true }

-- A leader's corrections of one row: {agent, date, set = {arrival = "HH:MM", departure =
-- "HH:MM", kind = id}, by, reason}; by and reason are required and kept on the row.
local function check_corrections(list, agent, date)
  for _, c in ipairs(list or {}) do
    if not c.by or not c.reason or c.reason == "" then
      error(string.format("attendance correction for %s on %s: by and reason are required", agent, date), 0)
    end
    if type(c.set) ~= "table" then
      error(string.format("attendance correction for %s on %s: set = {arrival|departure|kind = ...} is missing", agent, date), 0)
    end
    for field in pairs(c.set) do
      if not correctable[field] then
        error(string.format("attendance correction for %s on %s: '%s' cannot be corrected (arrival, departure, kind)",
                            agent, date, field), 0)
      end
    end
  end
  return list or {}
end

local function note(row, rule, text) row.notes[#row.notes + 1] = { source = rule.source, text = text } end

-- The kind of a day with leave record l (approved or not), updating personal-leave use.
local function leave_day(row, l, used)
  if not l.approved then
    row.kind = "absent"
    note(row, M.rules.absence, "leave not approved")
  elseif l.false_claim then
    row.kind = "absent"
    note(row, M.rules.absence, "leave found to be false")
  elseif l.kind == "errand" then
    row.kind = M.errand.kind
  elseif l.kind == "personal" then
    local split = M.personal_leave_split(used.personal, 1)
    used.personal = used.personal + split.leave
    row.kind = split.absent > 0 and "absent" or "personal"
    if split.absent > 0 then note(row, M.rules.personal_leave, "personal leave over the year's limit") end
  else
    row.kind = l.kind
  end
end

-- One row of the daily sheet.
local function day_row(p, times, events, cur, leaves, corrections, used)
  local start, finish, midnight = times[1], times[2], times[3]
  local arrival, departure = presence(events, cur, start, finish)
  local row = { agent = p.agent, date = p.date, shift = p.shift, notes = {}, corrections = {} }
  local fixes = check_corrections(corrections, p.agent, p.date)
  for _, c in ipairs(fixes) do
    if c.set.arrival then arrival = hhmm_on(p.date, c.set.arrival, "attendance correction") end
    if c.set.departure then departure = hhmm_on(p.date, c.set.departure, "attendance correction") end
  end
  local l = leave_on(leaves, p.date)
  row.arrival, row.departure = clock(arrival, midnight), clock(departure, midnight)
  row.late_minutes = arrival and M.late_minutes(arrival, start) or 0
  row.early_minutes = departure and M.early_minutes(departure, finish) or 0
  if l then
    leave_day(row, l, used)
    row.late_minutes, row.early_minutes = 0, 0
  elseif not arrival then
    row.kind = "absent"
    note(row, M.rules.absence, "no log-in and no leave")
  else
    row.kind = (row.late_minutes > 0 or row.early_minutes > 0) and "late_early" or "present"
  end
  for _, c in ipairs(fixes) do
    if c.set.kind then
      if not kind_zh[c.set.kind] then
        error(string.format("attendance correction for %s on %s: unknown kind '%s'", p.agent, p.date, c.set.kind), 0)
      end
      row.kind = c.set.kind
      if c.set.kind ~= "late_early" then row.late_minutes, row.early_minutes = 0, 0 end
    end
    row.corrections[#row.corrections + 1] = { by = c.by, reason = c.reason, set = c.set }
  end
  row.zh = kind_zh[row.kind]
  row.absent_days = row.kind == "absent" and 1 or 0
  row.paid = row.kind ~= "absent" or M.rules.absence.paid
  return row
end

-- A leave record: {agent, kind (a leave kind or "errand"), from, to, approved, false_claim}.
local function check_leave(l)
  local what = "leave record of " .. tostring(l.agent)
  if not M.leave_kinds[l.kind] and l.kind ~= "errand" then
    error(string.format("%s: unknown kind '%s' (sick, personal, maternity, marriage, bereavement, home, errand)",
                        what, tostring(l.kind)), 0)
  end
  parse_date(l.from, what .. " from")
  parse_date(l.to, what .. " to")
  if l.to < l.from then error(string.format("%s: to %s is before from %s", what, l.to, l.from), 0) end
end

-- Corrections by agent, then date.
local function by_day(list)
  local out = {}
  for _, c in ipairs(list or {}) do
    local a = need(c, "agent", "attendance correction")
    out[a] = out[a] or {}
    out[a][c.date] = out[a][c.date] or {}
    table.insert(out[a][c.date], c)
  end
  return out
end

-- Rows from the store usually come in order already: a check costs less than a sort.
local function sort_if_needed(list, less)
  for i = 2, #list do
    if less(list[i], list[i - 1]) then
      table.sort(list, less)
      return
    end
  end
end

local function sorted_events(list)
  local out = {}
  for _, e in ipairs(list) do
    if type(e.time) ~= "number" then
      error(string.format("agent event of %s: time must be epoch seconds, not %s", tostring(e.agent), tostring(e.time)), 0)
    end
    out[#out + 1] = e
  end
  sort_if_needed(out, function(a, b) return a.time < b.time end)
  return out
end

-- Rows for the plan rows dated first..to (kept: from..to), and each agent's personal leave
-- used by then.  carry[agent].personal_days: used before `first`.
local function compute(input, first, from, to, carry)
  local plan = {}
  for _, p in ipairs(input.plan or {}) do
    if p.date >= first and p.date <= to then plan[#plan + 1] = p end
  end
  sort_if_needed(plan, function(a, b) return a.date < b.date or (a.date == b.date and a.agent < b.agent) end)
  for _, l in ipairs(input.leaves or {}) do check_leave(l) end
  local events, leaves = by_agent(input.events, "agent event"), by_agent(input.leaves, "leave record")
  local fixes = by_day(input.corrections)
  for a, list in pairs(events) do events[a] = sorted_events(list) end
  local cursor, used, rows, times = {}, {}, {}, {}
  for _, p in ipairs(plan) do
    local a = p.agent
    used[a] = used[a] or { personal = carry and carry[a] and carry[a].personal_days or 0 }
    cursor[a] = cursor[a] or { i = 1, state = "logged-out" }
    times[p.shift] = times[p.shift] or {}
    local t = times[p.shift][p.date] or { M.shift_times(p.shift, p.date) }  -- once per shift and day
    times[p.shift][p.date] = t
    local row = day_row(p, t, events[a] or {}, cursor[a], leaves[a], (fixes[a] or {})[p.date], used[a])
    if p.date >= from then rows[#rows + 1] = row end
  end
  return rows, used
end

local function year_start(date) return string.format("%04d-01-01", parse_date(date, "attendance").year) end

-- Rows of the daily sheet for every plan row dated from..to, in date then agent order.
-- input = {plan = {{agent, date, shift}}, events = {{agent, time, state, prev, reason}},
--          leaves = {{agent, kind, from, to, approved, false_claim}}, corrections = {...},
--          carry = {[agent] = {personal_days, absent_days}} (optional)}.
-- Personal leave is counted from January 1 (the plan's rows before from), or, with carry
-- (the year so far, from the previous month's summary: M.carry), from `from` on top of it.
function M.day_rows(input, from, to)
  return (compute(input, input.carry and from or year_start(from), from, to, input.carry))
end

-- The daily sheet (日考勤表) of `date`.
function M.daily_sheet(input, date)
  return { date = date, keeper = M.rules.summary.keeper, source = M.rules.summary.source,
           rows = M.day_rows(input, date, date) }
end

-- ---- the month ------------------------------------------------------------------------------

-- The month's penalties from its totals {late_count, late_minutes, early_minutes}:
-- {late = days of absence for lateness, early = ... for early leaving}.
function M.month_penalties(t)
  local late, early = M.rules.lateness, M.rules.early_leaving
  return {
    late = (t.late_count >= late.count or t.late_minutes > late.minutes) and late.absent_days or 0,
    early = t.early_minutes >= early.minutes and early.absent_days or 0,
  }
end

-- Does a year's absence (days) end the contract?
function M.contract_flag(absent_days)
  return absent_days >= M.rules.absence.contract_days
end

-- When the monthly summary is due: the 30th, or the last day of a shorter month.
function M.summary_due(year, month)
  return key({ year = year, month = month, day = math.min(M.rules.summary.due_day, last_day(year, month)) })
end

local function month_key(date) return date:sub(1, 7) end

local function totals_of(rows)
  local t = { days = {}, late_count = 0, late_minutes = 0, early_minutes = 0, absent_days = 0 }
  for _, k in ipairs(M.kinds) do t.days[k.id] = 0 end
  for _, r in ipairs(rows) do
    t.days[r.kind] = t.days[r.kind] + 1
    if r.late_minutes > 0 then t.late_count = t.late_count + 1 end
    t.late_minutes = t.late_minutes + r.late_minutes
    t.early_minutes = t.early_minutes + r.early_minutes
    t.absent_days = t.absent_days + r.absent_days
  end
  return t
end

local function month_row(agent, rows, before_absent, personal_days)
  local t = totals_of(rows)
  local pen = M.month_penalties(t)
  t.agent = agent
  t.penalty_days = pen.late + pen.early
  t.absent_days = t.absent_days + t.penalty_days
  t.unpaid_days = M.rules.absence.paid and 0 or t.absent_days
  t.year_absent_days = before_absent + t.absent_days
  t.contract_flag = M.contract_flag(t.year_absent_days)
  t.personal_days = personal_days
  return t
end

-- The monthly summary (月考勤汇总表) of year-month, one row per agent planned that month:
-- days of each kind, lateness and early leaving, the half days of absence they bring, unpaid
-- days, and the year so far (personal_days of leave, year_absent_days with the contract
-- flag).  The year so far is computed from January's rows, or taken from input.carry (the
-- previous month's summary through M.carry): the same figures, for a month's work.
function M.monthly_summary(input, year, month)
  local first = string.format("%04d-%02d-01", year, month)
  local last = M.add_days(string.format("%04d-%02d-01", year + month // 12, month % 12 + 1), -1)
  local carry = input.carry
  local start = carry and first or year_start(first)
  local rows, used = compute(input, start, start, last, carry)
  -- this month's rows by agent; without carry, the earlier months' by agent and month
  local mine, agents, earlier = {}, {}, {}
  for _, r in ipairs(rows) do
    local a = r.agent
    if r.date >= first then
      if not mine[a] then mine[a] = {}; agents[#agents + 1] = a end
      table.insert(mine[a], r)
    else
      local m = month_key(r.date)
      earlier[a] = earlier[a] or {}
      earlier[a][m] = earlier[a][m] or {}
      table.insert(earlier[a][m], r)
    end
  end
  local before = {}
  for a, months in pairs(earlier) do  -- their absence, penalties included
    before[a] = { absent_days = 0 }
    for _, m_rows in pairs(months) do
      before[a].absent_days = before[a].absent_days + month_row(a, m_rows, 0, 0).absent_days
    end
  end
  table.sort(agents)
  local out = { year = year, month = month, due = M.summary_due(year, month),
                source = M.rules.summary.source, rows = {} }
  for _, a in ipairs(agents) do
    local b = before[a] or (carry or {})[a] or {}
    out.rows[#out.rows + 1] = month_row(a, mine[a], b.absent_days or 0, used[a].personal)
  end
  return out
end

-- The carry into the next month from a monthly summary: {[agent] = {personal_days, absent_days}}.
function M.carry(summary)
  local out = {}
  for _, r in ipairs(summary.rows) do
    out[r.agent] = { personal_days = r.personal_days, absent_days = r.year_absent_days }
  end
  return out
end

return M
