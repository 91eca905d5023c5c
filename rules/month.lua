-- rules/month.lua — a month's results (issue 9): every agent's attendance summary (rules/
-- attendance.lua) and score sheet (rules/scoring.lua), from the store's rows, written to
-- attendance_months and score_sheets stamped with the policy version.  `hotline ctl month
-- compute YYYY-MM` runs M.run on a worker thread of the engine (engine/app/offline.c): ctx
-- reads the store (query, each) and queues writes (write).
--
-- This file only turns rows into the rules' input tables and their output into rows: every
-- point and limit stays in attendance.lua and scoring.lua.  What SQL does for speed (a month
-- is 300,000 calls): it selects the month and joins each call's note and transcript; it does
-- not judge.  Rows: the ACD's (cdr agent legs, agent_events) and the back office's
-- (rules/schema/009_backoffice.sql).
local attendance = require "attendance"
local scoring = require "scoring"
local training = require "training"

local M = {}

-- Agent legs of the month with what the automatic deductions read: the leg the engine
-- dialled to the agent (cdr.h: "agent leg"), its note and its transcript (a reviewer's
-- typed one before a recogniser's).
M.sql = {
  calls = [[
    SELECT c.call_id AS id, c.agent, c.start_time AS start, c.answer_time, c.ring_ms,
           c.hangup_first, c.hangup_gap_ms, c.recording,
           CASE WHEN c.holds > 0 THEN c.hold_log END AS hold_log,
           n.summary, n.kb_lookups, COALESCE(tr.text, tt.text) AS transcript
    FROM cdr c
    LEFT JOIN call_notes n ON n.call_id = c.call_id
    LEFT JOIN transcripts tr ON tr.call_id = c.call_id AND tr.source = 'reviewer'
    LEFT JOIN transcripts tt ON tt.call_id = c.call_id AND tt.source = 'recogniser'
    WHERE c.direction = 'outbound' AND c.agent <> '' AND c.start_time >= :t0 AND c.start_time < :t1]],
  -- each agent's last state before from, then every change up to the month's end
  events = [[
    SELECT agent, time, state, prev, reason FROM agent_events
    WHERE id IN (SELECT max(id) FROM agent_events WHERE time < :from GROUP BY agent)
       OR (time >= :from AND time < :t1)
    ORDER BY agent, time, id]],
  agents = [[SELECT number AS agent FROM agents WHERE role = 'agent' ORDER BY number]],
  plan = [[SELECT agent, date, shift FROM shift_plan WHERE date >= :first AND date <= :last ORDER BY date, agent]],
  leaves = [[
    SELECT agent, kind, from_date, to_date, state FROM leave
    WHERE state IN ('requested', 'approved') AND to_date >= :first AND from_date <= :last]],
  corrections = [[SELECT agent, date, field, value, by, reason FROM attendance_corrections
                  WHERE date >= :first AND date <= :last ORDER BY id]],
  -- the previous month's latest summary of each agent: the year so far
  carry = [[
    SELECT agent, json_extract(summary, '$.personal_days') AS personal_days,
           json_extract(summary, '$.year_absent_days') AS absent_days
    FROM attendance_months a WHERE month = :month
      AND id = (SELECT max(id) FROM attendance_months b WHERE b.agent = a.agent AND b.month = a.month)]],
  leader = [[SELECT agent, leader, policy, conduct, discipline, summary, study, note FROM leader_scores WHERE month = :month]],
  reviews = [[SELECT reviewer, agent, call_id, policy, conduct, note FROM reviews WHERE month = :month]],
  complaints = [[SELECT agent, call_id, valid, text FROM complaints WHERE time >= :t0 AND time < :t1]],
  praise = [[SELECT agent, kind, confirmed, text FROM praise WHERE time >= :t0 AND time < :t1]],
  suggestions = [[SELECT agent, adopted, text FROM suggestions WHERE time >= :t0 AND time < :t1]],
  summaries = [[SELECT agent, has_plan, text FROM work_summaries WHERE month = :month]],
  -- training (rules/training.lua): the month's sessions and who was listed for them, the
  -- quarter's test marks, the half's study reports
  sessions = [[SELECT id, date, topic, kind FROM training_sessions WHERE date >= :first AND date <= :last]],
  session_attendance = [[
    SELECT a.session_id, a.agent, a.present FROM training_attendance a
      JOIN training_sessions s ON s.id = a.session_id WHERE s.date >= :first AND s.date <= :last]],
  marks = [[SELECT agent, quarter, mark FROM test_marks WHERE quarter = :quarter]],
  reports = [[SELECT agent, half, submitted FROM half_year_reports WHERE half = :half]],
  write_summary = [[
    INSERT OR REPLACE INTO attendance_months (created, created_by, agent, month, computed, version, summary)
    VALUES (:now, 'month', :agent, :month, :now, :version, :summary)]],
  write_sheet = [[
    INSERT OR REPLACE INTO score_sheets (created, created_by, agent, month, computed, version, base, bonus, total, rank, sheet)
    VALUES (:now, 'month', :agent, :month, :now, :version, :base, :bonus, :total, :rank, :sheet)]],
}

-- ---- the month's bounds -------------------------------------------------------------------

-- "YYYY-MM" -> {year, month, first, last (dates), t0, t1 (epoch: the month's first midnight
-- and the next month's, centre time)}.
function M.bounds(month)
  local y, m = tostring(month):match("^(%d%d%d%d)%-(%d%d)$")
  y, m = tonumber(y), tonumber(m)
  if not y or m < 1 or m > 12 then error("month must be YYYY-MM, got '" .. tostring(month) .. "'", 2) end
  local ny, nm = y + m // 12, m % 12 + 1
  local first = string.format("%04d-%02d-01", y, m)
  return { year = y, month = m, first = first,
           last = attendance.add_days(string.format("%04d-%02d-01", ny, nm), -1),
           t0 = hl.time{ year = y, month = m, day = 1, hour = 0 },
           t1 = hl.time{ year = ny, month = nm, day = 1, hour = 0 } }
end

local function previous(b)
  if b.month == 1 then return nil end
  return string.format("%04d-%02d", b.year, b.month - 1)
end

local function group(rows)
  local out = {}
  for _, r in ipairs(rows) do
    out[r.agent] = out[r.agent] or {}
    table.insert(out[r.agent], r)
  end
  return out
end

-- ---- attendance -----------------------------------------------------------------------------

-- The events' not-ready stretches as scoring's states ({agent, state = "not_ready", start,
-- end, reason}); events sorted by agent, then time.
function M.not_ready_states(events)
  local out = {}
  for i, e in ipairs(events) do
    local nxt = events[i + 1]
    if e.state == "not-ready" and nxt and nxt.agent == e.agent then
      out[#out + 1] = { agent = e.agent, state = "not_ready", start = e.time, ["end"] = nxt.time,
                        reason = e.reason ~= "" and e.reason or nil }
    end
  end
  return out
end

-- agent_events rows as the rules read them: the engine stamps an event with wall seconds
-- and ms (agent_events.time REAL); attendance and scoring count whole seconds (a clock
-- "HH:MM:SS", minutes late), so the time is taken down to its second.
function M.events(rows)
  for _, e in ipairs(rows) do e.time = math.floor(e.time) end
  return rows
end

-- The attendance input for the month: the year so far comes from the previous month's
-- summaries when they are stored (attendance.carry), else the rows from January 1.
function M.attendance_input(ctx, b)
  local prev = previous(b)
  local carry
  if prev then
    local rows = ctx.query(M.sql.carry, { month = prev })
    if #rows > 0 then
      carry = {}
      for _, r in ipairs(rows) do carry[r.agent] = { personal_days = r.personal_days or 0, absent_days = r.absent_days or 0 } end
    end
  end
  local first = carry and b.first or string.format("%04d-01-01", b.year)
  local from = carry and b.t0 or hl.time{ year = b.year, month = 1, day = 1, hour = 0 }
  local span = { first = first, last = b.last }
  local plan = ctx.query(M.sql.plan, span)
  if #plan == 0 then  -- no shift plan entered: every agent on every working day
    local agents = {}
    for _, a in ipairs(ctx.query(M.sql.agents)) do agents[#agents + 1] = a.agent end
    plan = attendance.plan_workdays(agents, b.year, b.month)
  end
  local leaves = {}
  for _, l in ipairs(ctx.query(M.sql.leaves, span)) do
    leaves[#leaves + 1] = { agent = l.agent, kind = l.kind, from = l.from_date, to = l.to_date,
                            approved = l.state == "approved" }
  end
  local corrections = {}
  for _, c in ipairs(ctx.query(M.sql.corrections, span)) do
    corrections[#corrections + 1] = { agent = c.agent, date = c.date, set = { [c.field] = c.value },
                                      by = c.by, reason = c.reason }
  end
  local events = M.events(ctx.query(M.sql.events, { from = from, t1 = b.t1 }))
  return { plan = plan, events = events, leaves = leaves, corrections = corrections, carry = carry }
end

-- ---- scoring --------------------------------------------------------------------------------

local function bool(v) return v ~= nil and v ~= 0 and v ~= false end

-- An assessment row (leader_scores, reviews) as scoring's: the scores written on the table
-- (plain numbers; a review has no discipline, summary or study),
-- and, when note holds them, the items (accuracy_pct, analysis, language, conduct ids) as
-- "key=value" pairs separated by ';' (conduct=a,b).
function M.assessment(row)
  local a = { agent = row.agent, scores = { policy = row.policy, conduct = row.conduct, discipline = row.discipline,
                                            summary = row.summary, study = row.study } }
  for k, v in tostring(row.note or ""):gmatch("([%w_]+)%s*=%s*([^;]*)") do
    v = v:match("^%s*(.-)%s*$")
    if k == "accuracy_pct" then a.accuracy_pct = tonumber(v)
    elseif k == "analysis" or k == "language" then a[k] = v
    elseif k == "conduct" then
      a.conduct = {}
      for id in v:gmatch("[%w_]+") do a.conduct[#a.conduct + 1] = id end
    end
  end
  return a
end

-- cdr.hold_log (store/cdr.h: wall seconds) as scoring's hold_log (ms on one clock).
function M.hold_log(list)
  local out = {}
  local function ms(v) return v and math.floor(v * 1000 + 0.5) end
  for i, h in ipairs(type(list) == "table" and list or {}) do
    out[i] = { start = ms(h.start), ["end"] = ms(h["end"]), reminders = h.reminders, back_within_ms = h.back_within_ms }
  end
  return out
end

-- The study rows of the month (评分表 五, from training: rules/training.lua month_study) for
-- the agents to assess.
function M.study_rows(ctx, b, month, agents)
  local period = training.period_of(month)
  local span = { first = b.first, last = b.last }
  return training.month_study(month, agents, {
    sessions = ctx.query(M.sql.sessions, span),
    attendance = ctx.query(M.sql.session_attendance, span),
    marks = ctx.query(M.sql.marks, { quarter = period.quarter }),
    reports = ctx.query(M.sql.reports, { half = period.half }),
  })
end

local function scoring_input(ctx, b, month, events, agents)
  local t = { t0 = b.t0, t1 = b.t1 }
  local cdrs = {}
  ctx.each(M.sql.calls, t, function(c)
    c.answered = (c.answer_time or 0) > 0
    c.hold_log = c.hold_log and M.hold_log(ctx.json(c.hold_log))
    c.answer_time = nil
    if c.hangup_gap_ms and c.hangup_gap_ms < 0 then c.hangup_gap_ms = nil end
    cdrs[#cdrs + 1] = c
  end)
  local leader, reviews, reviewers, seen = {}, {}, {}, {}
  for _, r in ipairs(ctx.query(M.sql.leader, { month = month })) do leader[#leader + 1] = M.assessment(r) end
  for _, r in ipairs(ctx.query(M.sql.reviews, { month = month })) do
    local a = M.assessment(r)
    a.reviewer, a.call = r.reviewer, r.call_id
    reviews[#reviews + 1] = a
    if not seen[r.reviewer] then seen[r.reviewer] = true; reviewers[#reviewers + 1] = r.reviewer end
  end
  table.sort(reviewers)
  local function rows(name, f)
    local out = {}
    for _, r in ipairs(ctx.query(M.sql[name], name == "summaries" and { month = month } or t)) do out[#out + 1] = f(r) end
    return out
  end
  return {
    cdrs = cdrs, states = M.not_ready_states(events), breaks = {}, leader = leader, reviews = reviews,
    reviewers = reviewers, study = M.study_rows(ctx, b, month, agents),
    complaints = rows("complaints", function(r) return { agent = r.agent, valid = bool(r.valid), call = r.call_id, note = r.text } end),
    praise = rows("praise", function(r) return { agent = r.agent, kind = r.kind, confirmed = bool(r.confirmed), note = r.text } end),
    suggestions = rows("suggestions", function(r) return { agent = r.agent, adopted = bool(r.adopted), note = r.text } end),
    summaries = rows("summaries", function(r) return { agent = r.agent, submitted = true, plan = bool(r.has_plan) } end),
  }
end

-- The agents of the attendance plan: each gets a sheet, also with no scored row (a missing
-- work summary still deducts, 评分表 四).
local function planned_agents(plan)
  local named, list = {}, {}
  for _, p in ipairs(plan) do
    if not named[p.agent] then named[p.agent] = true; list[#list + 1] = p.agent end
  end
  return list
end

-- ---- the job --------------------------------------------------------------------------------

-- `hotline ctl month compute YYYY-MM`: computes and queues the rows; returns the counts.
function M.run(ctx, month)
  local b = M.bounds(month)
  local phases, t = {}, hl.now()
  local function phase(name)  -- wall ms of each part, for the bench
    local now = hl.now()
    phases[name] = math.floor((now - t) * 1000 + 0.5)
    t = now
  end
  local att_in = M.attendance_input(ctx, b)
  phase("attendance_read")
  local summary = attendance.monthly_summary(att_in, b.year, b.month)
  phase("attendance_rules")
  for _, row in ipairs(summary.rows) do
    ctx.write(M.sql.write_summary, { now = ctx.now, agent = row.agent, month = month, version = ctx.version,
                                     summary = row })
  end
  phase("attendance_write")
  local sc_in = scoring_input(ctx, b, month, att_in.events, planned_agents(att_in.plan))
  phase("scoring_read")
  -- the draw's default key (scoring.hash_key, hl.hash): the same draw `hotline ctl admin
  -- review` and `admin draw` make (rules/backoffice.lua), so an accepted review is counted
  local sheets = scoring.month(month, sc_in)
  local have = {}
  for _, s in ipairs(sheets) do have[s.agent] = true end
  local extra = {}
  for _, agent in ipairs(planned_agents(att_in.plan)) do
    if not have[agent] then
      extra[#extra + 1] = scoring.sheet(agent, month, { reviewers = sc_in.reviewers })
    end
  end
  if #extra > 0 then
    for _, s in ipairs(sheets) do extra[#extra + 1] = s end
    sheets = scoring.rank(extra)
  end
  phase("scoring_rules")
  for _, s in ipairs(sheets) do
    ctx.write(M.sql.write_sheet, { now = ctx.now, agent = s.agent, month = month, version = ctx.version,
                                   base = s.base, bonus = s.bonus, total = s.total, rank = s.rank, sheet = s })
  end
  phase("scoring_write")
  return { month = month, agents = #sheets, attendance_rows = #summary.rows, sheets = #sheets,
           calls = #sc_in.cdrs, events = #att_in.events, phases_ms = phases }
end

return M
