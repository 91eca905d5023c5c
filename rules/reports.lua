-- rules/reports.lua — the back office's reports (issue 9 item 6): `hotline ctl report KIND
-- MONTH --html|--csv` runs M.run on a worker thread of the engine (engine/app/offline.c) with
-- ctx reading the store.  Kinds (M.kinds): the daily and monthly attendance, the score sheets
-- with every automatic deduction's evidence, the ranking, the call statistics, and the month
-- on one page (HTML only).  A sheet and a summary are the latest computed for the month
-- (`hotline ctl month compute`, rules/month.lua): a rule change gives a new one.
--
-- HTML is one self-contained page (no script, no external resource) with inline SVG charts;
-- every bar carries its number (data-label, data-value and a <title>) so that a test compares
-- the charts with the CSV of the same kind (tests/e2e/report_check.py).
local attendance = require "attendance"
local scoring = require "scoring"
local month_job = require "month"

local M = {}

-- The score distribution's bins: this many points wide, from 0 to the most a sheet can reach.
M.score_bin = 10

M.sql = {
  -- the latest row of each agent for the month (the last written: a recomputation replaces
  -- its own version's row, a new version adds one)
  sheets = [[
    SELECT agent, version, computed, base, bonus, total, rank FROM score_sheets s
    WHERE month = :month AND id = (SELECT max(id) FROM score_sheets t WHERE t.month = s.month AND t.agent = s.agent)
    ORDER BY rank, agent]],
  section = [[
    SELECT s.agent, json_extract(e.value, '$.id') AS id, json_extract(e.value, '$.score') AS score
    FROM score_sheets s, json_each(s.sheet, '$.sections') e
    WHERE s.month = :month AND s.id = (SELECT max(id) FROM score_sheets t WHERE t.month = s.month AND t.agent = s.agent)]],
  evidence = [[
    SELECT s.agent, json_extract(e.value, '$.item') AS item, json_extract(e.value, '$.call') AS call,
           json_extract(e.value, '$.time') AS time, json_extract(e.value, '$.fact') AS fact
    FROM score_sheets s, json_each(s.sheet, '$.evidence') e
    WHERE s.month = :month AND s.id = (SELECT max(id) FROM score_sheets t WHERE t.month = s.month AND t.agent = s.agent)
    ORDER BY s.agent, e.key]],
  summaries = [[
    SELECT agent, version, summary FROM attendance_months a
    WHERE month = :month AND id = (SELECT max(id) FROM attendance_months b WHERE b.month = a.month AND b.agent = a.agent)
    ORDER BY agent]],
  summary_fields = [[SELECT a.agent, f.key, f.value FROM attendance_months a, json_each(a.summary) f
    WHERE a.month = :month AND f.type IN ('integer', 'real', 'true', 'false')
      AND a.id = (SELECT max(id) FROM attendance_months b WHERE b.month = a.month AND b.agent = a.agent)]],
  summary_days = [[SELECT a.agent, d.key AS kind, d.value AS days FROM attendance_months a, json_each(a.summary, '$.days') d
    WHERE a.month = :month
      AND a.id = (SELECT max(id) FROM attendance_months b WHERE b.month = a.month AND b.agent = a.agent)]],
  -- the callers' legs that waited in a queue (cdr.h: caller leg), by hour of the centre's day
  calls = [[
    SELECT CAST(((start_time + :offset) % 86400) / 3600 AS INTEGER) AS hour,
           count(*) AS offered,
           sum(queue_outcome = 'answered') AS answered,
           sum(queue_outcome = 'abandoned') AS abandoned,
           avg(queue_wait_ms) AS avg_wait_ms, max(queue_wait_ms) AS max_wait_ms,
           avg(CASE WHEN queue_outcome = 'answered' THEN queue_wait_ms END) AS avg_answer_wait_ms
    FROM cdr WHERE direction = 'inbound' AND queue <> '' AND start_time >= :t0 AND start_time < :t1
    GROUP BY hour ORDER BY hour]],
}

-- ---- text ------------------------------------------------------------------------------------

local function esc(s)
  return (tostring(s == nil and "" or s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                                           ['"'] = "&quot;", ["'"] = "&#39;" }))
end

local function csv_cell(v)
  local s = v == nil and "" or tostring(v)
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- A table {columns = {names}, rows = {{...}}} as CSV (RFC 4180, CRLF).
local function to_csv(t)
  local out = { table.concat(t.columns, ",") }
  for _, r in ipairs(t.rows) do
    local cells = {}
    for i = 1, #t.columns do cells[i] = csv_cell(r[i]) end
    out[#out + 1] = table.concat(cells, ",")
  end
  return table.concat(out, "\r\n") .. "\r\n"
end

local function num(v)
  if type(v) ~= "number" then return v end
  if math.type(v) == "integer" or v == math.floor(v) then return string.format("%d", v) end
  return (string.format("%.2f", v):gsub("0+$", ""):gsub("%.$", ""))
end

local function to_html_table(t, caption)
  local out = { "<table><caption>" .. esc(caption) .. "</caption><thead><tr>" }
  for _, c in ipairs(t.columns) do out[#out + 1] = "<th>" .. esc(c) .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  for _, r in ipairs(t.rows) do
    out[#out + 1] = "<tr>"
    for i = 1, #t.columns do out[#out + 1] = "<td>" .. esc(num(r[i])) .. "</td>" end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

-- ---- charts ----------------------------------------------------------------------------------

local PALETTE = { "#3b6ea5", "#d9822b", "#4e9a5f", "#b5453c", "#7b5ea7", "#8c6d46", "#c5679e", "#6b6b6b", "#a3a339" }

-- A bar chart as inline SVG: items {label, value}; horizontal bars (ranking) when
-- opts.horizontal.  Each bar: <rect data-label data-value><title>label: value</title>.
function M.bar_chart(id, title, items, opts)
  opts = opts or {}
  local max = 0
  for _, it in ipairs(items) do if it.value > max then max = it.value end end
  if opts.max then max = opts.max end
  if max <= 0 then max = 1 end
  local out = {}
  local function bar(i, it, x, y, w, h)
    out[#out + 1] = string.format('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" data-label="%s" data-value="%s"><title>%s: %s</title></rect>',
      x, y, w, h, PALETTE[(i - 1) % #PALETTE + 1], esc(it.label), esc(num(it.value)), esc(it.label), esc(num(it.value)))
  end
  local W, H
  if opts.horizontal then
    local row, left, width = 14, 90, 520
    W, H = left + width + 60, #items * row + 30
    for i, it in ipairs(items) do
      local y = 24 + (i - 1) * row
      local w = width * it.value / max
      bar(i, it, left, y, w, row - 3)
      out[#out + 1] = string.format('<text x="%d" y="%.1f" font-size="10" text-anchor="end">%s</text>', left - 4, y + 9, esc(it.label))
      out[#out + 1] = string.format('<text x="%.1f" y="%.1f" font-size="10">%s</text>', left + w + 3, y + 9, esc(num(it.value)))
    end
  else
    local bottom, col, height = 200, math.max(14, math.min(72, 640 // math.max(1, #items))), 160
    W, H = 40 + #items * col + 20, bottom + 40
    for i, it in ipairs(items) do
      local x = 40 + (i - 1) * col
      local h = height * it.value / max
      bar(i, it, x, bottom - h, col - 4, h)
      out[#out + 1] = string.format('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>', x + (col - 4) / 2, bottom + 14, esc(it.label))
      out[#out + 1] = string.format('<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle">%s</text>', x + (col - 4) / 2, bottom - h - 3, esc(num(it.value)))
    end
  end
  return string.format('<figure><svg xmlns="http://www.w3.org/2000/svg" data-chart="%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>%s</title><text x="4" y="14" font-size="12" font-weight="bold">%s</text>%s</svg></figure>',
    esc(id), W, H, W, H, esc(title), esc(title), table.concat(out))
end

-- ---- the data of each kind -------------------------------------------------------------------

local function sections_of(ctx, month)
  local by = {}
  for _, r in ipairs(ctx.query(M.sql.section, { month = month })) do
    by[r.agent] = by[r.agent] or {}
    by[r.agent][r.id] = r.score
  end
  return by
end

-- scores: one row per sheet, each part's score; evidence: one row per automatic finding.
function M.scores(ctx, month)
  local secs = sections_of(ctx, month)
  local cols = { "agent", "rank", "base", "bonus", "total" }
  for _, s in ipairs(scoring.sections) do cols[#cols + 1] = s.id end
  cols[#cols + 1] = "version"
  local t = { columns = cols, rows = {} }
  for _, s in ipairs(ctx.query(M.sql.sheets, { month = month })) do
    local row = { s.agent, s.rank, s.base, s.bonus, s.total }
    for _, sec in ipairs(scoring.sections) do row[#row + 1] = (secs[s.agent] or {})[sec.id] end
    row[#row + 1] = s.version
    t.rows[#t.rows + 1] = row
  end
  return t
end

local function clock_of(t)
  if type(t) ~= "number" then return t end
  return hl.date("%Y-%m-%d %H:%M:%S", t)
end

function M.evidence(ctx, month)
  local t = { columns = { "agent", "item", "points", "row", "call", "time", "fact" }, rows = {} }
  for _, e in ipairs(ctx.query(M.sql.evidence, { month = month })) do
    local it = scoring.conduct_by_id[e.item] or {}
    t.rows[#t.rows + 1] = { e.agent, e.item, it.points, it.row, e.call, clock_of(e.time), e.fact }
  end
  return t
end

function M.ranking(ctx, month)
  local t = { columns = { "rank", "agent", "total", "base", "bonus" }, rows = {} }
  for _, s in ipairs(ctx.query(M.sql.sheets, { month = month })) do
    t.rows[#t.rows + 1] = { s.rank, s.agent, s.total, s.base, s.bonus }
  end
  return t
end

local SUMMARY_FIELDS = { "late_count", "late_minutes", "early_minutes", "penalty_days", "absent_days",
                         "unpaid_days", "personal_days", "year_absent_days", "contract_flag" }

function M.monthly(ctx, month)
  local cols = { "agent" }
  for _, k in ipairs(attendance.kinds) do cols[#cols + 1] = k.id end
  for _, f in ipairs(SUMMARY_FIELDS) do cols[#cols + 1] = f end
  local by, agents = {}, {}
  local function of(a)
    if not by[a] then by[a] = {}; agents[#agents + 1] = a end
    return by[a]
  end
  for _, r in ipairs(ctx.query(M.sql.summary_days, { month = month })) do of(r.agent)[r.kind] = r.days end
  for _, r in ipairs(ctx.query(M.sql.summary_fields, { month = month })) do of(r.agent)[r.key] = r.value end
  table.sort(agents)
  local t = { columns = cols, rows = {} }
  for _, a in ipairs(agents) do
    local row = { a }
    for i = 2, #cols do row[i] = by[a][cols[i]] end
    t.rows[#t.rows + 1] = row
  end
  return t
end

-- The daily sheets of the month (or of one day, MONTH = YYYY-MM-DD), computed from the rows
-- as the month's job reads them.
function M.daily(ctx, month)
  local day = month:match("^%d%d%d%d%-%d%d%-%d%d$")
  local b = month_job.bounds(day and month:sub(1, 7) or month)
  local input = month_job.attendance_input(ctx, b)
  local rows = attendance.day_rows(input, day or b.first, day or b.last)
  local t = { columns = { "date", "agent", "shift", "kind", "zh", "arrival", "departure", "late_minutes",
                          "early_minutes", "corrected_by", "reason" }, rows = {} }
  for _, r in ipairs(rows) do
    local c = r.corrections[#r.corrections] or {}
    t.rows[#t.rows + 1] = { r.date, r.agent, r.shift, r.kind, r.zh, r.arrival, r.departure, r.late_minutes,
                            r.early_minutes, c.by, c.reason }
  end
  return t
end

-- Seconds to add to epoch seconds for the centre's time of day (hl.time reads dates in the
-- centre's zone: its midnight plus this is a whole number of days).
local function day_offset(month)
  local b = month_job.bounds(month)
  return (-b.t0) % 86400
end

function M.calls(ctx, month)
  local b = month_job.bounds(month)
  local t = { columns = { "hour", "offered", "answered", "abandoned", "answer_rate_pct", "avg_wait_ms",
                          "avg_answer_wait_ms", "max_wait_ms" }, rows = {} }
  for _, r in ipairs(ctx.query(M.sql.calls, { offset = day_offset(month), t0 = b.t0, t1 = b.t1 })) do
    local rate = r.offered > 0 and scoring.round(100 * r.answered / r.offered) or 0
    t.rows[#t.rows + 1] = { r.hour, r.offered, r.answered, r.abandoned, rate, math.floor((r.avg_wait_ms or 0) + 0.5),
                            math.floor((r.avg_answer_wait_ms or 0) + 0.5), r.max_wait_ms }
  end
  return t
end

-- ---- charts of each kind ---------------------------------------------------------------------

local function column(t, name)
  for i, c in ipairs(t.columns) do if c == name then return i end end
end

local function items(t, label, value, fmt)
  local out, li, vi = {}, column(t, label), column(t, value)
  for _, r in ipairs(t.rows) do out[#out + 1] = { label = fmt and fmt(r[li]) or tostring(r[li]), value = r[vi] or 0 } end
  return out
end

-- Totals per bin of M.score_bin points: "0-9", "10-19" ... up to base + bonus at most.
function M.distribution(scores)
  local top = scoring.base_points + scoring.bonus_max
  local bins, out = {}, {}
  for lo = 0, top, M.score_bin do
    bins[#bins + 1] = { lo = lo, hi = lo + M.score_bin, n = 0 }
  end
  local ti = column(scores, "total")
  for _, r in ipairs(scores.rows) do
    local i = math.min(#bins, math.floor(r[ti] / M.score_bin) + 1)
    bins[i].n = bins[i].n + 1
  end
  for _, b in ipairs(bins) do out[#out + 1] = { label = b.lo .. "-" .. (b.hi - 1), value = b.n } end
  return out
end

local function by_kind(monthly)
  local out = {}
  for _, k in ipairs(attendance.kinds) do
    local i, sum = column(monthly, k.id), 0
    for _, r in ipairs(monthly.rows) do sum = sum + (r[i] or 0) end
    out[#out + 1] = { label = k.id, value = sum }
  end
  return out
end

local function hour(h) return string.format("%02d", h) end

local CHARTS = {
  scores = function(d) return { M.bar_chart("score_distribution", "得分分布 score distribution", M.distribution(d.scores)) } end,
  ranking = function(d) return { M.bar_chart("ranking", "排名 ranking (total)", items(d.ranking, "agent", "total"), { horizontal = true }) } end,
  monthly = function(d) return { M.bar_chart("attendance_by_kind", "考勤 attendance by kind (days)", by_kind(d.monthly)) } end,
  daily = function(d) return {} end,
  calls = function(d)
    return { M.bar_chart("calls_per_hour", "每小时来电 calls per hour", items(d.calls, "hour", "offered", hour)),
             M.bar_chart("answer_rate", "接通率 answer rate (%)", items(d.calls, "hour", "answer_rate_pct", hour), { max = 100 }),
             M.bar_chart("waits", "平均等待 average wait (ms)", items(d.calls, "hour", "avg_wait_ms", hour)) }
  end,
}

-- What each kind shows: its tables, computed once.
M.kinds = {
  daily = { title = "日考勤表 daily attendance", tables = { "daily" } },
  monthly = { title = "月考勤汇总表 monthly attendance", tables = { "monthly" } },
  scores = { title = "咨询员绩效考核评分表 score sheets", tables = { "scores", "evidence" } },
  ranking = { title = "排名 ranking", tables = { "ranking" } },
  calls = { title = "来电统计 call statistics", tables = { "calls" } },
  month = { title = "月度报告 the month", tables = { "scores", "ranking", "monthly", "calls" }, html_only = true },
}
local CHARTS_OF = { daily = { "daily" }, monthly = { "monthly" }, scores = { "scores" }, ranking = { "ranking" },
                    calls = { "calls" }, month = { "scores", "ranking", "monthly", "calls" } }

local STYLE = [[body{font-family:sans-serif;margin:16px;color:#222}table{border-collapse:collapse;margin:12px 0;font-size:12px}
th,td{border:1px solid #bbb;padding:2px 6px;text-align:left}caption{font-weight:bold;text-align:left}
figure{margin:12px 0}svg{background:#fafafa;border:1px solid #ddd}]]

local function html(kind, month, data, version)
  local k = M.kinds[kind]
  local out = { '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>' .. esc(k.title .. " " .. month) ..
                '</title><style>' .. STYLE .. '</style></head><body>',
                '<h1>' .. esc(k.title) .. ' — ' .. esc(month) .. '</h1>',
                '<p>policy ' .. esc(version) .. '</p>' }
  for _, c in ipairs(CHARTS_OF[kind]) do
    for _, svg in ipairs(CHARTS[c](data)) do out[#out + 1] = svg end
  end
  for _, name in ipairs(k.tables) do
    if kind ~= "month" then out[#out + 1] = to_html_table(data[name], name) end
  end
  out[#out + 1] = "</body></html>\n"
  return table.concat(out, "\n")
end

-- `report KIND MONTH --html|--csv`: {kind, month, format, text}.  CSV of a kind with two
-- tables (scores) gives the first; `evidence` is a kind of its own for CSV.
function M.run(ctx, kind, month, format)
  local usage = "usage: report daily|monthly|scores|evidence|ranking|calls|month YYYY-MM --html|--csv"
  if not kind or not month then error(usage, 0) end
  format = format == "--csv" and "csv" or format == "--html" and "html" or format
  if format ~= "csv" and format ~= "html" then error(usage, 0) end
  if kind == "evidence" and format == "csv" then
    return { kind = kind, month = month, format = format, text = to_csv(M.evidence(ctx, month)) }
  end
  local k = M.kinds[kind]
  if not k then error("unknown report '" .. tostring(kind) .. "'; " .. usage, 0) end
  if k.html_only and format == "csv" then error("report " .. kind .. " is HTML only: take each kind's CSV", 0) end
  if not (kind == "daily" and month:match("^%d%d%d%d%-%d%d%-%d%d$")) then month_job.bounds(month) end
  local data = {}
  for _, name in ipairs(k.tables) do data[name] = M[name](ctx, month) end
  local text = format == "csv" and to_csv(data[k.tables[1]]) or html(kind, month, data, ctx.version)
  return { kind = kind, month = month, format = format, text = text }
end

return M
