-- rules/backoffice.lua — what a back-office record is and when it is refused (issue 9): the
-- kinds `hotline ctl admin` enters (one on the command line, or a CSV file of them), their
-- fields (= the CSV columns), the table each goes to (rules/schema/009_backoffice.sql), and
-- the checks, most of them the rules of rules/attendance.lua, scoring.lua, training.lua and
-- first_contact.lua, named by their article.  The web console will send the same records.
--
-- The engine (engine/app/admin.c) calls two globals scripts/main.lua sets from here:
--   admin_plan(kind, rows, now)           what to read from the store first (M.plan)
--   admin_check(kind, rows, ctx, now, by) the verdict: the rows to write, or the first
--                                         refusal { line, reason } (M.check)
-- rows: { {line = N (0: the command line), values = { field = "text" }} }.  The engine then
-- refuses a row whose UNIQUE key is stored already (the kind's `unique`) and writes the rest
-- in one statement: a file is stored whole or not at all.  Nothing here touches the store.
local attendance = require "attendance"
local scoring = require "scoring"
local training = require "training"
local first_contact = require "first_contact"

local M = {}

-- Dates, months and times a record may carry: within this many days of today.  A wider gap
-- is a typing mistake (2062 for 2026) more often than a record: the centre's choice.
M.window = { past_days = 400, future_days = 400 }

-- Who draws and scores recordings (考核办法 五: 考核小组): agents of these roles.  The book
-- names the group's members; the accounts say who they are by role.
M.reviewer_roles = { leader = true, supervisor = true }

-- Longest free text kept (a transcript of a long call included).
M.text_max = 20000

-- ---- reading one value --------------------------------------------------------------------------
-- A type: function(text, ctx, now, spec) -> value, or nil, why.

local DAY = 24 * 3600

local function within_window(t, now, what)
  if t < now - M.window.past_days * DAY or t > now + M.window.future_days * DAY then
    return nil, string.format("%s is out of range (more than %d days from today)", what, M.window.past_days)
  end
  return true
end

local function real_date(y, m, d)
  if m < 1 or m > 12 or d < 1 or d > 31 then return nil end
  local t = hl.time{ year = y, month = m, day = d, hour = 12 }
  local back = hl.date("*t", t)
  if back.year ~= y or back.month ~= m or back.day ~= d then return nil end
  return t
end

local types = {}

function types.text(s, ctx, now, spec)
  if #s > (spec.max or M.text_max) then return nil, "is longer than " .. (spec.max or M.text_max) .. " bytes" end
  return s
end

function types.date(s, ctx, now)
  local y, m, d = s:match("^(%d%d%d%d)-(%d%d?)-(%d%d?)$")
  local t = y and real_date(tonumber(y), tonumber(m), tonumber(d))
  if not t then return nil, "'" .. s .. "' is not a date YYYY-MM-DD" end
  local ok, why = within_window(t, now, "date " .. s)
  if not ok then return nil, why end
  return string.format("%04d-%02d-%02d", tonumber(y), tonumber(m), tonumber(d))
end

function types.month(s, ctx, now)
  local y, m = s:match("^(%d%d%d%d)-(%d%d?)$")
  local t = y and real_date(tonumber(y), tonumber(m), 1)
  if not t then return nil, "'" .. s .. "' is not a month YYYY-MM" end
  local ok, why = within_window(t, now, "month " .. s)
  if not ok then return nil, why end
  return string.format("%04d-%02d", tonumber(y), tonumber(m))
end

local function period(s, now, pattern, what, first_month)
  local y, n = s:match(pattern)
  if not y then return nil, "'" .. s .. "' is not a " .. what end
  local ok, why = within_window(real_date(tonumber(y), first_month(tonumber(n)), 1), now, what .. " " .. s)
  if not ok then return nil, why end
  return s
end

function types.quarter(s, ctx, now)
  return period(s, now, "^(%d%d%d%d)%-Q([1-4])$", "quarter YYYY-Qn", function(q) return 3 * q - 2 end)
end

function types.half(s, ctx, now)
  return period(s, now, "^(%d%d%d%d)%-H([12])$", "half year YYYY-H1 or YYYY-H2", function(h) return 6 * h - 5 end)
end

-- A moment: "YYYY-MM-DD HH:MM[:SS]" (centre time) or epoch seconds.
function types.time(s, ctx, now)
  local t = tonumber(s)
  if not t then
    local y, m, d, hh, mm, ss = s:match("^(%d%d%d%d)-(%d%d?)-(%d%d?)[ T](%d%d?):(%d%d):?(%d*)$")
    if y and real_date(tonumber(y), tonumber(m), tonumber(d)) and tonumber(hh) < 24 and tonumber(mm) < 60 then
      t = hl.time{ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = tonumber(hh),
                   min = tonumber(mm), sec = tonumber(ss ~= "" and ss or 0) }
    end
  end
  if not t then return nil, "'" .. s .. "' is not a time YYYY-MM-DD HH:MM" end
  local ok, why = within_window(t, now, "time " .. s)
  if not ok then return nil, why end
  return t
end

function types.clock(s)
  local h, m = s:match("^(%d%d?):(%d%d)$")
  if not h or tonumber(h) > 23 or tonumber(m) > 59 then return nil, "'" .. s .. "' is not a time of day HH:MM" end
  return string.format("%02d:%02d", tonumber(h), tonumber(m))
end

function types.number(s, ctx, now, spec)
  local v = tonumber(s)
  if not v or v ~= v then return nil, "'" .. s .. "' is not a number" end
  if (spec.lo and v < spec.lo) or (spec.hi and v > spec.hi) then
    return nil, string.format("%s is outside %s..%s%s", s, spec.lo or "", spec.hi or "", spec.source and " (" .. spec.source .. ")" or "")
  end
  return v
end

function types.int(s, ctx, now, spec)
  local v = s:match("^%-?%d+$") and math.tointeger(tonumber(s))
  if not v then return nil, "'" .. s .. "' is not a whole number" end
  local ok, why = types.number(s, ctx, now, spec)
  if ok == nil then return nil, why end
  return v
end

local yes = { ["1"] = 1, yes = 1, ["true"] = 1, y = 1, ["0"] = 0, no = 0, ["false"] = 0, n = 0 }
function types.bool(s)
  local v = yes[s:lower()]
  if not v then return nil, "'" .. s .. "' is not 1 or 0 (yes or no)" end
  return v
end

function types.enum(s, ctx, now, spec)
  if spec.values[s] then return s end
  local list = {}
  for k in pairs(spec.values) do list[#list + 1] = k end
  table.sort(list)
  return nil, "'" .. s .. "' is not one of " .. table.concat(list, ", ") .. (spec.source and " (" .. spec.source .. ")" or "")
end

-- An agent of the agents table (ctx.agents, read first).
function types.agent(s, ctx)
  if not (ctx.agent_roles and ctx.agent_roles[s]) then return nil, "unknown agent '" .. s .. "' (not in the agents table)" end
  return s
end

-- A call the engine recorded (ctx.calls, read first: the calls the rows name).
function types.call(s, ctx)
  if not (ctx.known_calls and ctx.known_calls[s]) then return nil, "unknown call '" .. s .. "' (no CDR has this call id)" end
  return s
end

-- ---- the kinds -------------------------------------------------------------------------------
-- fields: { name, type, required, default = function(now) or value, column (default: name),
--           and the type's own: lo, hi, values, max, source }.

local function keys(t) local o = {} for k in pairs(t) do o[k] = true end return o end
local leave_kinds = keys(attendance.leave_kinds)
leave_kinds.errand = true
local R = attendance.rules
local points = function(id) return scoring.section_by_id[id].points end
local today = function(now) return hl.date("%Y-%m-%d", now) end
local this_moment = function(now) return now end

M.kinds = {
  shift_plan = {
    table = "shift_plan", unique = { "agent", "date" }, source = "第二章 三 (值班班长 keeps the daily sheet)",
    fields = { { "agent", "agent", true }, { "date", "date", true },
               { "shift", "enum", true, values = keys(attendance.shifts), source = "rules/attendance.lua M.shifts" } },
  },
  leave = {
    table = "leave", source = "第二章 一, 二",
    fields = { { "agent", "agent", true }, { "kind", "enum", true, values = leave_kinds, source = "第二章 一" },
               { "from", "date", true, column = "from_date" }, { "to", "date", true, column = "to_date" },
               { "reason", "text" }, { "filed", "date", default = today },
               { "channel", "enum", default = "paper", values = { paper = true, phone = true, proxy = true }, source = "第二章 二" },
               { "extends", "int", column = "extends_id", lo = 1 },
               { "relative", "enum", values = R.bereavement.relatives, source = R.bereavement.source },
               { "babies", "int", lo = 1, hi = 10 }, { "months", "int", lo = 0, hi = 10 } },
  },
  approve = {
    table = "leave", source = R.approval.source,
    fields = { { "id", "int", true, lo = 1 }, { "by", "agent", true },
               { "role", "enum", true, values = { [R.approval.head] = true, [R.approval.director] = true }, source = R.approval.source },
               { "ok", "bool", default = 1 } },
  },
  correction = {
    table = "attendance_corrections", source = "第二章 一(八)2",
    fields = { { "agent", "agent", true }, { "date", "date", true },
               { "field", "enum", true, values = { arrival = true, departure = true, kind = true } },
               { "value", "text", true, max = 40 }, { "by", "agent", true }, { "reason", "text", true } },
  },
  complaint = {
    table = "complaints", source = "细化表 六",
    fields = { { "agent", "agent", true }, { "call_id", "call" }, { "time", "time", default = this_moment },
               { "valid", "bool", default = 0 }, { "text", "text" } },
  },
  praise = {
    table = "praise", source = "细化表 附加得分",
    fields = { { "agent", "agent", true }, { "call_id", "call" }, { "time", "time", default = this_moment },
               { "kind", "enum", true, values = keys(scoring.praise_points), source = "细化表 附加得分" },
               { "confirmed", "bool", default = 1 }, { "text", "text" } },
  },
  suggestion = {
    table = "suggestions", source = "细化表 附加得分",
    fields = { { "agent", "agent", true }, { "time", "time", default = this_moment }, { "text", "text", true },
               { "adopted", "bool", default = 0 } },
  },
  leader_score = {
    table = "leader_scores", unique = { "agent", "month" }, source = "班长综合评分及提取录音评分表 (班长综合评分 40%)",
    fields = { { "agent", "agent", true }, { "month", "month", true }, { "leader", "agent", true },
               { "policy", "number", lo = 0, hi = points("policy"), source = "评分表 一" },
               { "conduct", "number", lo = 0, hi = points("conduct"), source = "评分表 二" },
               { "discipline", "number", lo = 0, hi = points("discipline"), source = "评分表 三" },
               { "summary", "number", lo = 0, hi = points("summary"), source = "评分表 四" },
               { "study", "number", lo = 0, hi = points("study"), source = "评分表 五" },
               { "note", "text" } },
  },
  review = {
    table = "reviews", unique = { "reviewer", "call_id" }, source = "班长综合评分及提取录音评分表 (提取录音评分 60%)",
    fields = { { "reviewer", "agent", true }, { "agent", "agent", true }, { "month", "month", true },
               { "call_id", "call", true },
               { "policy", "number", lo = 0, hi = points("policy"), source = "评分表 一" },
               { "conduct", "number", lo = 0, hi = points("conduct"), source = "评分表 二" },
               { "note", "text" } },
  },
  transcript = {
    table = "transcripts", unique = { "call_id", "source" }, source = "行为规范 第二十一、二十二条; 服务规范用语",
    fields = { { "call_id", "call", true },
               { "source", "enum", true, values = { recogniser = true, reviewer = true } },
               { "text", "text", true } },
  },
  call_note = {
    table = "call_notes", unique = { "call_id" }, source = "评分表 服务规范 来电摘要, 数据库点击",
    fields = { { "call_id", "call", true }, { "agent", "agent", true }, { "summary", "text" },
               { "kb_lookups", "int", default = 0, lo = 0, hi = 1000 } },
  },
  work_summary = {
    table = "work_summaries", unique = { "agent", "month" }, source = "评分表 四",
    fields = { { "agent", "agent", true }, { "month", "month", true }, { "has_plan", "bool", default = 0 },
               { "text", "text" } },
  },
  training_session = {
    table = "training_sessions", source = "业务培训制度 三, 四",
    fields = { { "date", "date", true }, { "topic", "text", true },
               { "kind", "enum", true, values = keys(training.session_kinds), source = "业务培训制度 三" } },
  },
  training_attendance = {
    table = "training_attendance", unique = { "session_id", "agent" }, source = training.attendance.source,
    fields = { { "session_id", "int", true, lo = 1 }, { "agent", "agent", true }, { "present", "bool", default = 1 } },
  },
  test_mark = {
    table = "test_marks", unique = { "agent", "quarter" }, source = training.quarterly_test.source,
    fields = { { "agent", "agent", true }, { "quarter", "quarter", true },
               { "mark", "number", true, lo = 0, hi = training.quarterly_test.max } },
  },
  half_year_report = {
    table = "half_year_reports", unique = { "agent", "half" }, source = training.half_year_report.source,
    fields = { { "agent", "agent", true }, { "half", "half", true }, { "submitted", "time", default = this_moment } },
  },
  case = {
    table = "cases", source = "首问负责制",
    fields = { { "id", "int", true, lo = 1 }, { "question", "text" }, { "answer", "text" },
               { "state", "enum", values = first_contact.states } },
  },
}

-- ---- what to read first ----------------------------------------------------------------------

local function has_type(kind, t)
  for _, f in ipairs(kind.fields) do if f[2] == t then return true end end
  return false
end

-- The agents the rows name (every field of type agent) and the assessment group: not the
-- whole table, which may be larger than a script query's rows (store.h).
local function agents_need(kind)
  local picks, roles = {}, {}
  for _, f in ipairs(kind.fields) do
    if f[2] == "agent" then
      picks[#picks + 1] = "SELECT trim(json_extract(value, '$.values." .. f[1] .. "')) FROM json_each(?1)"
    end
  end
  for role in pairs(M.reviewer_roles) do roles[#roles + 1] = "'" .. role .. "'" end
  table.sort(roles)
  return "SELECT number, role FROM agents WHERE number IN (" .. table.concat(picks, " UNION ") ..
         ") OR role IN (" .. table.concat(roles, ", ") .. ")"
end

-- The store's rows a kind's checks need; rows travel as ?1 (JSON), the SQL picks its values.
local function needs_of(name, kind, rows)
  local needs = {}
  if has_type(kind, "agent") then needs.agents = { params = { rows }, sql = agents_need(kind) } end
  if has_type(kind, "call") then
    needs.calls = { params = { rows }, sql = [[
      SELECT DISTINCT call_id FROM cdr
       WHERE call_id IN (SELECT json_extract(value, '$.values.call_id') FROM json_each(?1))]] }
  end
  if name == "review" then
    -- the recorded calls each (agent, month) of the file can be drawn from (scoring.draw)
    needs.drawable = { params = { rows }, sql = [[
      SELECT call_id AS id, agent, recording, answer_time,
             strftime('%Y-%m', start_time, 'unixepoch', '+8 hours') AS month
        FROM cdr
       WHERE agent <> '' AND recording <> '' AND answer_time > 0
         AND EXISTS (SELECT 1 FROM json_each(?1) j
                      WHERE json_extract(j.value, '$.values.agent') = cdr.agent
                        AND printf('%04d-%02d', CAST(substr(json_extract(j.value, '$.values.month'), 1, 4) AS INTEGER),
                                   CAST(substr(json_extract(j.value, '$.values.month'), 6) AS INTEGER))
                            = strftime('%Y-%m', start_time, 'unixepoch', '+8 hours'))]] }
  end
  if name == "approve" or name == "leave" then
    needs.leaves = { params = { rows }, sql = [[
      SELECT * FROM leave WHERE id IN (SELECT json_extract(value, '$.values.id') FROM json_each(?1)
                                       UNION SELECT json_extract(value, '$.values.extends') FROM json_each(?1))]] }
  end
  if name == "training_attendance" then
    needs.sessions = { params = { rows }, sql = [[
      SELECT id, date FROM training_sessions
       WHERE id IN (SELECT json_extract(value, '$.values.session_id') FROM json_each(?1))]] }
  end
  if name == "case" then
    needs.cases = { params = { rows }, sql = [[
      SELECT * FROM cases WHERE id IN (SELECT json_extract(value, '$.values.id') FROM json_each(?1))]] }
  end
  return needs
end

local function refused(line, reason) return { error = { line = line, reason = reason } } end

-- Every kind with its fields, for `hotline ctl admin` without a kind.
local function help()
  local list = {}
  for name, k in pairs(M.kinds) do
    local f = {}
    for _, spec in ipairs(k.fields) do f[#f + 1] = spec[1] .. (spec[3] and "*" or "") end
    list[#list + 1] = { kind = name, table = k.table, fields = table.concat(f, " "), rule = k.source }
  end
  table.sort(list, function(a, b) return a.kind < b.kind end)
  return { reply = { kinds = list, note = "* required; `hotline ctl admin KIND FIELD=VALUE ...` or `hotline ctl admin import KIND FILE.csv`" } }
end

local function kind_of(name)
  local k = M.kinds[name]
  if k then return k end
  local names = {}
  for n in pairs(M.kinds) do names[#names + 1] = n end
  table.sort(names)
  return nil, "no kind of record '" .. tostring(name) .. "' (" .. table.concat(names, ", ") .. ")"
end

function M.plan(name, rows, now)
  if name == "help" then return help() end
  local kind, why = kind_of(name)
  if not kind then return refused(0, why) end
  return { needs = needs_of(name, kind, rows) }
end

-- ---- reading the rows ------------------------------------------------------------------------

local function field_index(kind)
  local by = {}
  for _, spec in ipairs(kind.fields) do by[spec[1]] = spec end
  return by
end

-- The columns a row names must be the kind's (CSV: the header, line 1).
local function check_columns(name, kind, row)
  local by = field_index(kind)
  local line = row.line > 0 and 1 or 0
  local word = row.line > 0 and "column" or "field"
  for col in pairs(row.values) do
    if not by[col] then
      local all = {}
      for _, spec in ipairs(kind.fields) do all[#all + 1] = spec[1] end
      return refused(line, string.format("unknown %s '%s' for %s (%s)", word, col, name, table.concat(all, ", ")))
    end
  end
  for _, spec in ipairs(kind.fields) do
    if spec[3] and row.values[spec[1]] == nil then
      return refused(line, string.format("%s '%s' is required for %s", word, spec[1], name))
    end
  end
end

-- A row's values read by their types: { field = value } or nil, why.
local function read_row(kind, row, ctx, now)
  local out = {}
  for _, spec in ipairs(kind.fields) do
    local s = row.values[spec[1]]
    if s ~= nil then s = s:match("^%s*(.-)%s*$") end
    if s == nil or s == "" then
      if spec[3] then return nil, spec[1] .. " is required" end
      local d = spec.default
      if type(d) == "function" then d = d(now) end
      out[spec[1]] = d
    else
      local v, why = types[spec[2]](s, ctx, now, spec)
      if v == nil then return nil, spec[1] .. ": " .. why end
      out[spec[1]] = v
    end
  end
  return out
end

-- The row to store: columns named as the table does.
local function stored(kind, v, line)
  local out = { line = line }
  for _, spec in ipairs(kind.fields) do
    if v[spec[1]] ~= nil then out[spec.column or spec[1]] = v[spec[1]] end
  end
  return out
end

local function lookup(ctx)
  ctx.agent_roles = {}
  for _, a in ipairs(ctx.agents or {}) do ctx.agent_roles[a.number] = a.role end
  ctx.known_calls = {}
  for _, c in ipairs(ctx.calls or {}) do ctx.known_calls[c.call_id] = true end
  ctx.leave_by_id = {}
  for _, l in ipairs(ctx.leaves or {}) do ctx.leave_by_id[l.id] = l end
  ctx.session_ids = {}
  for _, s in ipairs(ctx.sessions or {}) do ctx.session_ids[s.id] = s end
  ctx.case_by_id = {}
  for _, c in ipairs(ctx.cases or {}) do ctx.case_by_id[c.id] = c end
  return ctx
end

-- ---- the kinds' own checks: row values -> the stored row, or nil, why -------------------------

local checks = {}

local function days_of(from, to)
  local function t(d) local y, m, dd = d:match("^(%d+)-(%d+)-(%d+)$") return hl.time{ year = tonumber(y), month = tonumber(m), day = tonumber(dd) } end
  return (t(to) - t(from)) // DAY + 1
end

-- 第二章 一, 二: a request as the rules allow it (its entitlement and how it was filed).
function checks.leave(v, ctx, now, row)
  if v.to < v.from then return nil, "to " .. v.to .. " is before from " .. v.from end
  local days = days_of(v.from, v.to)
  local ext
  if v.extends then
    ext = ctx.leave_by_id[v.extends]
    if not ext then return nil, "extends: no leave record " .. v.extends end
    if ext.agent ~= v.agent then return nil, "extends: leave " .. v.extends .. " is another agent's" end
    if ext.state ~= "approved" then return nil, "extends: leave " .. v.extends .. " is " .. ext.state .. ", not approved" end
  end
  local req = attendance.check_request{ from = v.from, to = v.to, filed = v.filed,
                                        emergency = v.channel ~= "paper" and v.channel or nil,
                                        extends = ext and { from = ext.from_date, to = ext.to_date } }
  if not req.ok then
    local p = req.problems[1]
    return nil, p.source .. ": " .. p.rule
  end
  if v.kind == "bereavement" then
    if not v.relative then return nil, R.bereavement.source .. ": relative is required (the relatives the rule lists)" end
    if days > attendance.bereavement_leave(v.relative) then
      return nil, string.format("%s: %d days of bereavement leave, the rule gives %d", R.bereavement.source, days,
                                attendance.bereavement_leave(v.relative))
    end
  elseif v.kind == "marriage" then
    -- the longest the rule gives (a late first marriage), public holidays not counted: whether
    -- the agent qualifies for the late-marriage days is the approvers' to check on the papers
    local r = R.marriage
    local dates = attendance.leave_dates("marriage", v.from, r.days + r.late_extra_days)
    if v.to > dates[#dates] then
      return nil, string.format("%s: marriage leave ends by %s (%d days, public holidays not counted)", r.source,
                                dates[#dates], r.days + r.late_extra_days)
    end
  elseif v.kind == "maternity" then
    local max = v.months and attendance.miscarriage_leave(v.months).max or attendance.maternity_leave(v.babies or 1)
    local rule = v.months and R.miscarriage or R.maternity
    if days > max then return nil, string.format("%s: %d days of maternity leave, the rule gives at most %d", rule.source, days, max) end
  end
  local out = stored(M.kinds.leave, v, row.line)
  out.filed = nil
  out.days, out.requested, out.state, out.approvals = days, now, "requested", "[]"
  return out
end

-- 第二章 二: the approvers in the chain's order; a refusal ends it.
function checks.approve(v, ctx, now)
  local l = ctx.leave_by_id[v.id]
  if not l then return nil, "no leave record " .. v.id end
  if l.state ~= "requested" then return nil, "leave " .. v.id .. " is " .. l.state .. ": nothing to approve" end
  local chain = attendance.approval_chain(l.days)
  local done = {}
  for a in tostring(l.approvals):gmatch('"role"%s*:%s*"([^"]+)"') do done[#done + 1] = a end
  local next_role = chain[#done + 1]
  if v.role ~= next_role then
    return nil, string.format("%s: a leave of %g day(s) is approved by %s; next: %s, not %s", R.approval.source,
                              l.days, table.concat(chain, " then "), tostring(next_role), v.role)
  end
  if v.by == l.agent then return nil, R.approval.source .. ": an agent does not approve their own leave" end
  local entry = string.format('{"by":"%s","role":"%s","time":%d,"ok":%s}', v.by, v.role, math.floor(now),
                              v.ok == 1 and "true" or "false")
  local list = tostring(l.approvals):gsub("%]%s*$", "")
  local approvals = list .. (#done > 0 and "," or "") .. entry .. "]"
  local state = v.ok == 0 and "refused" or (#done + 1 == #chain and "approved" or "requested")
  return { update = { id = v.id, set = { approvals = approvals, state = state },
                      guard = { approvals = l.approvals, state = l.state } } }
end

-- 第二章 一(八)2: a correction keeps who made it and why.
function checks.correction(v)
  if v.field == "kind" then
    local ok = false
    for _, k in ipairs(attendance.kinds) do ok = ok or k.id == v.value end
    if not ok then return nil, "value: '" .. v.value .. "' is not a kind of record (第二章 一)" end
  elseif not types.clock(v.value) then
    return nil, "value: '" .. v.value .. "' is not a time of day HH:MM"
  end
  if v.reason == "" then return nil, "第二章 一(八)2: the reason is required" end
  return true
end

-- 提取录音评分: only a call drawn for this reviewer (scoring.draw).
function checks.review(v, ctx)
  if not M.reviewer_roles[ctx.agent_roles[v.reviewer] or ""] then
    return nil, string.format("reviewer %s is not in the assessment group (考核办法 五: roles %s)", v.reviewer, "leader, supervisor")
  end
  local reviewers, calls = {}, {}
  for number, role in pairs(ctx.agent_roles) do if M.reviewer_roles[role] then reviewers[#reviewers + 1] = number end end
  table.sort(reviewers)
  for _, c in ipairs(ctx.drawable or {}) do
    if c.agent == v.agent and c.month == v.month then calls[#calls + 1] = { id = c.id, recording = c.recording } end
  end
  local drawn = scoring.draw(v.month, v.reviewer, reviewers, v.agent, calls)
  local ids = {}
  for _, c in ipairs(drawn) do
    if c.id == v.call_id then return true end
    ids[#ids + 1] = c.id
  end
  return nil, string.format("班长综合评分及提取录音评分表: call %s is not one drawn for reviewer %s (agent %s, %s: %s)",
                            v.call_id, v.reviewer, v.agent, v.month, #ids > 0 and table.concat(ids, ", ") or "no recorded call")
end

function checks.leader_score(v, ctx)
  if not M.reviewer_roles[ctx.agent_roles[v.leader] or ""] then
    return nil, "leader " .. v.leader .. " is not a leader or supervisor in the agents table"
  end
  return true
end

function checks.training_attendance(v, ctx)
  if not ctx.session_ids[v.session_id] then return nil, "session_id: no training session " .. v.session_id end
  return true
end

-- 首问负责制: the case's new question, answer and state; an open one gets its due time.
function checks.case(v, ctx, now)
  local c = ctx.case_by_id[v.id]
  if not c then return nil, "no case " .. v.id end
  local new, why = first_contact.update(c, { question = v.question, answer = v.answer, state = v.state }, now)
  if not new then return nil, why end
  local set = { question = new.question, answer = new.answer, state = new.state, updated = new.updated }
  local clear = {}
  if new.follow_up_due then set.follow_up_due = new.follow_up_due else clear[1] = "follow_up_due" end
  return { update = { id = v.id, set = set, clear = clear, guard = { updated = c.updated } } }
end

-- ---- the verdict -----------------------------------------------------------------------------

local function key_of(kind, row)
  local parts = {}
  for _, col in ipairs(kind.unique) do parts[#parts + 1] = col .. "=" .. tostring(row[col]) end
  return table.concat(parts, ", ")
end

function M.check(name, rows, ctx, now, by)
  local kind, why = kind_of(name)
  if not kind then return refused(0, why) end
  lookup(ctx)
  if #rows == 0 then return refused(1, "the file has a header and no records") end
  local seen, insert = {}, {}
  for _, row in ipairs(rows) do
    local bad = check_columns(name, kind, row)
    if bad then return bad end
    local v, err = read_row(kind, row, ctx, now)
    if not v then return refused(row.line, err) end
    local result = true
    if checks[name] then result, err = checks[name](v, ctx, now, row) end
    if not result then return refused(row.line, err) end
    if type(result) == "table" and result.update then
      if #rows > 1 then return refused(row.line, name .. " changes one record at a time") end
      result.table = kind.table
      return result
    end
    local out = type(result) == "table" and result or stored(kind, v, row.line)
    if kind.unique then
      local k = key_of(kind, out)
      if seen[k] then return refused(row.line, string.format("duplicate of line %d (%s)", seen[k], k)) end
      seen[k] = row.line
    end
    insert[#insert + 1] = out
  end
  local unique = kind.unique and table.move(kind.unique, 1, #kind.unique, 1, {}) or nil   -- a copy: rules are read-only
  return { table = kind.table, unique = unique, insert = insert }
end

return M
