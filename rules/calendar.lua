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
}

-- Day of the week, 0 = Sunday (Sakamoto's method; no os.* needed).
local function weekday(y, m, d)
  local t = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 }
  if m < 3 then y = y - 1 end
  return (y + y // 4 - y // 100 + y // 400 + t[m] + d) % 7
end
M.weekday = weekday

local function key(d) return string.format("%04d-%02d-%02d", d.year, d.month, d.day) end

-- Sets built once per load, from the lists above.
local holiday, workday = {}, {}
for _, y in pairs(M.years) do
  for _, s in ipairs(y.holidays or {}) do holiday[s] = true end
  for _, s in ipairs(y.workdays or {}) do workday[s] = true end
end

function M.season(d)
  local md = d.month * 100 + d.day
  local from = M.summer.from.month * 100 + M.summer.from.day
  local to = M.summer.to.month * 100 + M.summer.to.day
  return (md >= from and md <= to) and "summer" or "winter"
end

-- Is d (a table with year, month, day) a working day of the centre?
function M.is_workday(d)
  local k = key(d)
  if workday[k] then return true end
  if holiday[k] then return false end
  local wd = weekday(d.year, d.month, d.day)
  return wd ~= 0 and wd ~= 6
end

-- What kind of day d is, for announcements and reports.
function M.day_kind(d)
  local k = key(d)
  if workday[k] then return "makeup_workday" end
  if holiday[k] then return "holiday" end
  local wd = weekday(d.year, d.month, d.day)
  return (wd == 0 or wd == 6) and "weekend" or "workday"
end

-- Are agents answering at d (year, month, day, hour, min)?
function M.agent_hours(d)
  if not M.is_workday(d) then return false end
  local h = M.hours[M.season(d)]
  local minute = d.hour * 60 + d.min
  return minute >= h.open and minute < h.close
end

-- Everything the flow needs to know about the moment t (a table from hl.date("*t")):
-- { season = "summer"|"winter", day = "workday"|"weekend"|"holiday"|"makeup_workday",
--   agents = true when agents answer }.
function M.status(t)
  return { season = M.season(t), day = M.day_kind(t), agents = M.agent_hours(t) }
end

return M
