-- rules/calendar.scenario.lua — agent hours at their boundaries (§3, §10.4; rules/calendar.lua):
-- seasons, closing times, weekends, public holidays and make-up working days.
-- Each call hangs up at the main menu; vars.hours says what the flow decided.
local calendar = require "calendar"
local function at(name, time, hours, day, season)
  return {
    name = name, time = time, keys = { { hangup = true } },
    expect = {
      vars = { hours = hours, day = day, season = season },
      prompts = hours == "in" and { "welcome_2", "main_menu" } or { "welcome_2", "hours_info", "main_menu_out" },
      not_prompts = hours == "in" and { "hours_info" } or { "main_menu" },
    },
  }
end

return {
  at("summer 17:59: agents answer", "2026-07-15T17:59:00", "in", "workday", "summer"),
  at("summer 18:00: closed", "2026-07-15T18:00:00", "out", "workday", "summer"),
  at("summer 08:00: open", "2026-07-15T08:00:00", "in", "workday", "summer"),
  at("summer 07:59: not yet", "2026-07-15T07:59:59", "out", "workday", "summer"),
  at("winter 16:59: agents answer", "2026-01-14T16:59:00", "in", "workday", "winter"),
  at("winter 17:00: closed", "2026-01-14T17:00:00", "out", "workday", "winter"),
  at("Sep 30 17:30 is still summer", "2026-09-30T17:30:00", "in", "workday", "summer"),
  at("Oct 8 17:30 is winter", "2026-10-08T17:30:00", "out", "workday", "winter"),
  at("May 6 17:30 is summer", "2026-05-06T17:30:00", "in", "workday", "summer"),
  at("Apr 30 17:30 is winter", "2026-04-30T17:30:00", "out", "workday", "winter"),
  at("a Saturday: closed", "2026-07-18T10:00:00", "out", "weekend", "summer"),
  at("a Sunday: closed", "2026-01-18T10:00:00", "out", "weekend", "winter"),
  at("May 1 (劳动节, a Friday): closed", "2026-05-01T10:00:00", "out", "holiday", "summer"),
  at("Oct 1 (国庆节, a Thursday): closed", "2026-10-01T10:00:00", "out", "holiday", "winter"),
  at("Feb 17 (春节): closed", "2026-02-17T10:00:00", "out", "holiday", "winter"),
  at("May 9 (a Saturday, make-up working day): open", "2026-05-09T10:00:00", "in", "makeup_workday", "summer"),
  at("Feb 14 (a Saturday, make-up working day): open", "2026-02-14T10:00:00", "in", "makeup_workday", "winter"),
  at("Sep 20 (a Sunday, make-up working day): summer hours", "2026-09-20T17:30:00", "in", "makeup_workday", "summer"),
  at("a make-up working day closes like any other", "2026-05-09T18:00:00", "out", "makeup_workday", "summer"),
  at("UTC offset given: 09:59Z is 17:59 in the centre", "2026-07-15T09:59:00Z", "in", "workday", "summer"),
  (function()
    -- A year M.years lacks fails the policy check when it is the current one (tests/unit/
    -- test_scenario.c); a call in it (no reload since New Year) is still served, the error
    -- logged, the day counted by its weekday.  3:00 is out of hours on any day.
    local missing = 0
    for y in pairs(calendar.years) do missing = math.max(missing, y + 1) end
    return {
      name = "a year without holidays (" .. missing .. "): the call is served, the flow does not fail",
      time = string.format("%04d-01-05T03:00:00", missing), keys = { { hangup = true } },
      expect = { vars = { hours = "out" }, fallback = false, not_prompts = { "sorry" } },
    }
  end)(),
}
