-- rules/calendar.lua — when agents answer (§3 工作时间规定, §10.4).
--
-- The automatic voice service runs 24 hours, 365 days a year.  Agent service runs on
-- working days: in summer 8:00-18:00, in winter 8:00-17:00.  Working days are Monday to
-- Friday, except public holidays, plus the make-up working days (调休) the State Council
-- moves onto weekends.  Everything here is data an admin edits; `hotline test-rules`
-- checks the scenarios in rules/scenarios/ before a change goes live.
--
-- Times are the centre's local time (Asia/Shanghai, UTC+8, no daylight saving).
local M = {}

-- Summer runs from `summer.from` to `summer.to` inclusive (month, day); the rest is winter.
M.summer = { from = { month = 5, day = 1 }, to = { month = 9, day = 30 } }

-- Agent hours per season, as minutes of the day: [open, close).
M.hours = {
  summer = { open = 8 * 60, close = 18 * 60 },
  winter = { open = 8 * 60, close = 17 * 60 },
}

-- Public holidays (closed) and make-up working days (open although a weekend), per year.
-- 2026: the State Council's notice on the 2026 holidays (sample data: check each year's
-- notice and add the next year before December).
M.years = {
  [2026] = {
    holidays = {
      "2026-01-01", "2026-01-02", "2026-01-03",                               -- 元旦
      "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
      "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",                 -- 春节
      "2026-04-04", "2026-04-05", "2026-04-06",                               -- 清明节
      "2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05",   -- 劳动节
      "2026-06-19", "2026-06-20", "2026-06-21",                               -- 端午节
      "2026-09-25", "2026-09-26", "2026-09-27",                               -- 中秋节
      "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
      "2026-10-06", "2026-10-07",                                             -- 国庆节
    },
    workdays = { "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10" },
  },
  -- 2027, provisional: only the statutory days of 《全国年节及纪念日放假办法》 (2024 revision:
  -- New Year 1 day, Spring Festival 4 from its eve, Qingming 1, Labour Day 2, Dragon Boat 1,
  -- Mid-Autumn 1, National Day 3) on 2027's lunar dates (春节 Feb 6, 端午 Jun 9, 中秋
  -- Sep 15).  The State Council's 2027 notice adds the bridging days and their make-up
  -- working days: replace this entry with it when it is published.
  [2027] = {
    holidays = {
      "2027-01-01",                                                           -- 元旦
      "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08",                 -- 春节
      "2027-04-05",                                                           -- 清明节
      "2027-05-01", "2027-05-02",                                             -- 劳动节
      "2027-06-09",                                                           -- 端午节
      "2027-09-15",                                                           -- 中秋节
      "2027-10-01", "2027-10-02", "2027-10-03",                               -- 国庆节
    },
    workdays = {},
  },
}

-- Sunday or Saturday?  The engine owns the civil calendar: hl.time reads the date as the
-- centre's noon, hl.date gives its weekday (wday 1 = Sunday, 7 = Saturday).
local function weekend(d)
  local wday = hl.date("*t", hl.time{ year = d.year, month = d.month, day = d.day }).wday
  return wday == 1 or wday == 7
end

local function key(d) return string.format("%04d-%02d-%02d", d.year, d.month, d.day) end

-- Sets built once per load, from the lists above.
local holiday, workday = {}, {}
for _, y in pairs(M.years) do
  for _, s in ipairs(y.holidays or {}) do holiday[s] = true end
  for _, s in ipairs(y.workdays or {}) do workday[s] = true end
end

local function missing_year(year)
  return string.format("rules/calendar.lua: M.years has no entry for %d, so none of its public "
                       .. "holidays is known; add [%d] = { holidays = {...}, workdays = {...} } from "
                       .. "the State Council's notice", year, year)
end

-- The policy check (scripts/main.lua runs it when the policy loads: `hotline test-rules` and
-- every reload): the current year must have its holidays, else every holiday of it would
-- silently count as a working day.
function M.check_year(year)
  if not M.years[year] then error(missing_year(year), 0) end
end

-- A call in a year the table lacks (the engine ran past New Year without a reload): logged
-- as an error at every call; the day counts by its weekday alone until the year is added.
local function known_year(d)
  if M.years[d.year] then return true end
  hl.log("error", missing_year(d.year))
  return false
end

function M.season(d)
  local md = d.month * 100 + d.day
  local from = M.summer.from.month * 100 + M.summer.from.day
  local to = M.summer.to.month * 100 + M.summer.to.day
  return (md >= from and md <= to) and "summer" or "winter"
end

-- What kind of day d (a table with year, month, day) is, for announcements and reports.
function M.day_kind(d)
  local k = key(d)
  if workday[k] then return "makeup_workday" end
  if holiday[k] then return "holiday" end
  known_year(d)
  return weekend(d) and "weekend" or "workday"
end

local function open_on(kind) return kind == "workday" or kind == "makeup_workday" end

-- Is d a working day of the centre?
function M.is_workday(d) return open_on(M.day_kind(d)) end

local function in_hours(d, kind)
  if not open_on(kind) then return false end
  local h = M.hours[M.season(d)]
  local minute = d.hour * 60 + d.min
  return minute >= h.open and minute < h.close
end

-- Are agents answering at d (year, month, day, hour, min)?
function M.agent_hours(d) return in_hours(d, M.day_kind(d)) end

-- Everything the flow needs to know about the moment t (a table from hl.date("*t")):
-- { season = "summer"|"winter", day = "workday"|"weekend"|"holiday"|"makeup_workday",
--   agents = true when agents answer }.
function M.status(t)
  local kind = M.day_kind(t)
  return { season = M.season(t), day = kind, agents = in_hours(t, kind) }
end

return M
