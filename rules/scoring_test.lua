-- rules/scoring_test.lua — the monthly sheet (rules/scoring.lua) against chapter 6 of the rule
-- book and its tables: table-driven cases, each naming the table row it checks, with inputs
-- at the edges and expected values taken from the rule data; then property tests over random
-- months (base within 0..100, bonus within 0..20, the same sheet from the same rows in any
-- order, the total equal to what the evidence rows add up to).
local scoring = require "scoring"
local phrases = require "phrases"

local function fail(fmt, ...) error(string.format(fmt, ...), 3) end
local function eq(got, want, what)
  if got ~= want then fail("%s: expected %s, got %s", what, tostring(want), tostring(got)) end
end
local function near(got, want, what)
  if math.abs(got - want) > 1e-9 then fail("%s: expected %s, got %s", what, tostring(want), tostring(got)) end
end

local cases = {}
local function case(name, run) cases[#cases + 1] = { name = name, run = run } end

local section = scoring.section_by_id
local auto = scoring.auto
local item = scoring.conduct_by_id
local function points_of(check) return item[auto[check].item].points end
local function sheet_section(sheet, id)
  for _, s in ipairs(sheet.sections) do if s.id == id then return s end end
end
local function findings_of(row, check)
  local n = 0
  for _, f in ipairs(scoring.call_findings(row)) do if f.item == auto[check].item then n = n + 1 end end
  return n
end
-- a call with nothing to deduct
local function good_call(id, over)
  local row = { id = id, agent = "1001", start = "2026-11-03T09:00:00", answered = true, ring_ms = 0,
                hangup_first = "caller", hangup_gap_ms = 0, hold_log = {}, recording = "rec/" .. id .. ".wav",
                summary = "养老保险转移", kb_lookups = 1 }
  for k, v in pairs(over or {}) do row[k] = v end
  return row
end

-- ---- the data itself ------------------------------------------------------------------------

case("评分表 and 细化表: every item deducts (points < 0) and names its table row", function()
  for _, list in ipairs({ scoring.conduct, scoring.discipline }) do
    for _, it in ipairs(list) do
      if type(it.points) ~= "number" or it.points >= 0 then fail("item %s: points %s", it.id, tostring(it.points)) end
      if type(it.row) ~= "string" or it.row == "" then fail("item %s: no row", it.id) end
    end
  end
end)
case("评分表 服务规范: every measured item exists, and every phrase-fed one has its phrases", function()
  for name, check in pairs(scoring.auto) do
    if not item[check.item] then fail("auto.%s names item %s, not in the table", name, tostring(check.item)) end
  end
  for _, it in ipairs(scoring.conduct) do
    if it.auto and not auto[it.auto] then fail("item %s: no check auto.%s", it.id, it.auto) end
    if it.phrase and not (phrases.moments[it.phrase] or it.phrase == "forbidden") then
      fail("item %s: no phrases for %s", it.id, it.phrase)
    end
  end
end)

-- ---- 一、政策水平: 准确率 brackets at both edges of each --------------------------------------

local brackets = scoring.accuracy.brackets
for i, b in ipairs(brackets) do
  local edge = b.upto or b.below
  local inside = b.upto and edge or edge - 0.1
  case(string.format("政策水平 准确率 %s: %g%% deducts %g", b.row, inside, b.points), function()
    local p, got = scoring.accuracy_deduction(inside)
    eq(p, b.points, inside .. "%")
    eq(got.row, b.row, "bracket")
  end)
  local nextb = brackets[i + 1]
  if nextb then
    local beyond = b.upto and edge + 0.1 or edge
    case(string.format("政策水平 准确率 %s: %g%% is past it, in %s", b.row, beyond, nextb.row), function()
      eq(scoring.accuracy_deduction(beyond), nextb.points, beyond .. "%")
    end)
  end
end
case("政策水平 准确率: 80.05% lies in the book's gap and counts as 80.1%-85%", function()
  local first, second = brackets[1], brackets[2]
  eq(scoring.accuracy_deduction((first.upto + first.upto + 0.1) / 2), second.points, "between the brackets")
end)
case("政策水平 准确率: 0% deducts the whole 15", function()
  eq(scoring.accuracy_deduction(0), -scoring.accuracy.points, "0%")
end)
case("政策水平 准确率: a share over 100% is refused with what was given", function()
  local ok, err = pcall(scoring.accuracy_deduction, 100.5)
  eq(ok, false, "accepted")
  eq(err:find("100.5", 1, true) ~= nil, true, "error names the value: " .. tostring(err))
end)
for _, scale in ipairs({ scoring.analysis, scoring.language }) do
  for _, l in ipairs(scale.levels) do
    case(string.format("政策水平 %s %s: %g", scale.title, l.row, l.points), function()
      eq(scoring.level_deduction(scale, l.id), l.points, l.id)
    end)
  end
end
case("政策水平: the worst of all three is 0, not below (35 = 15 + 10 + 10)", function()
  local worst = { accuracy_pct = 0, analysis = scoring.analysis.levels[#scoring.analysis.levels].id,
                  language = scoring.language.levels[#scoring.language.levels].id }
  eq(scoring.policy_score(worst), 0, "score")
  eq(scoring.accuracy.points + scoring.analysis.points + scoring.language.points, section.policy.points, "parts")
end)

-- ---- 二、服务规范: the automatic checks at their edges ---------------------------------------

local cycle, max_rings = auto.ring.ring_cycle_ms, auto.ring.max_rings
local edge_cases = {
  { "应答速度 铃响3声以下接起: answered at the last ms of ring 3", "ring", { ring_ms = max_rings * cycle - 1 }, 0 },
  { "应答速度 铃响3声以下接起: answered as ring 4 starts", "ring", { ring_ms = max_rings * cycle }, 1 },
  { "应答速度: answered at once", "ring", { ring_ms = 0 }, 0 },
  { "挂机礼仪 默数3秒: the agent hangs up 1 ms early", "hangup", { hangup_first = "agent", hangup_gap_ms = auto.hangup.min_gap_ms - 1 }, 1 },
  { "挂机礼仪 默数3秒: the agent hangs up after the full wait", "hangup", { hangup_first = "agent", hangup_gap_ms = auto.hangup.min_gap_ms }, 0 },
  { "挂机礼仪 由对方先挂断: the caller hangs up first", "hangup", { hangup_first = "caller", hangup_gap_ms = 0 }, 0 },
  { "查询信息 等待超过30秒: back exactly at the limit", "hold", { hold_log = { { start = 1000, ["end"] = 90000, reminders = 1, back_within_ms = auto.hold.max_silent_ms } } }, 0 },
  { "查询信息 等待超过30秒: back 1 ms late", "hold", { hold_log = { { start = 1000, ["end"] = 90000, reminders = 1, back_within_ms = auto.hold.max_silent_ms + 1 } } }, 1 },
  { "查询信息 等待超过30秒: a silent hold 1 ms too long", "hold", { hold_log = { { start = 0, ["end"] = auto.hold.max_silent_ms + 1, reminders = 0 } } }, 1 },
  { "查询信息 等待超过30秒: a short hold needs no check-in", "hold", { hold_log = { { start = 0, ["end"] = auto.hold.max_silent_ms, reminders = 0 } } }, 0 },
  { "查询信息: two late holds are two findings", "hold", { hold_log = { { start = 0, ["end"] = 60000 }, { start = 70000, ["end"] = 140000 } } }, 2 },
  { "来电摘要 简要记录每个来电: no summary", "summary", { summary = false }, 1 },
  { "来电摘要: a summary of spaces only", "summary", { summary = "  \t" }, 1 },
  { "来电摘要: written", "summary", {}, 0 },
  { "数据库点击 每个问题是否都点击政策法规库: no lookup", "kb", { kb_lookups = 0 }, 1 },
  { "数据库点击: one lookup", "kb", { kb_lookups = 1 }, 0 },
}
for _, c in ipairs(edge_cases) do
  local name, check, over, want = c[1], c[2], c[3], c[4]
  case(name .. ": " .. want .. " finding(s)", function()
    local row = good_call("c1", over)
    if row.summary == false then row.summary = nil end   -- false stands for "no summary" here
    eq(findings_of(row, check), want, check .. " findings")
  end)
end
case("a missed call (not answered) is not the agent's answer: no finding", function()
  eq(#scoring.call_findings(good_call("c1", { answered = false, ring_ms = 10 * cycle, kb_lookups = 0 })), 0, "findings")
end)
case("each finding carries its evidence: the call, the time, the fact", function()
  local row = good_call("c7", { ring_ms = max_rings * cycle })
  local f = scoring.call_findings(row)[1]
  eq(f.call, "c7", "call")
  eq(f.time, row.start, "time")
  eq(f.fact:find(tostring(row.ring_ms), 1, true) ~= nil, true, "fact names the ring time: " .. f.fact)
end)

local slack = auto.not_ready.slack_s
local nr_cases = {
  { "示忙操作 非工作状态下示忙: not ready inside a planned break", { start = 1000, ["end"] = 1900 }, "break", 0 },
  { "示忙操作: running over the break by the slack", { start = 1000, ["end"] = 1900 + slack }, "break", 0 },
  { "示忙操作: running over the break by the slack and 1 s", { start = 1000, ["end"] = 1901 + slack }, "break", 1 },
  { "示忙操作: not ready with no break planned", { start = 5000, ["end"] = 5000 + slack + 1 }, "personal", 1 },
}
for _, c in ipairs(nr_cases) do
  case(c[1] .. ": " .. c[4] .. " finding(s)", function()
    local s = { agent = "1001", state = "not_ready", start = c[2].start, ["end"] = c[2]["end"], reason = c[3] }
    eq(#scoring.not_ready_findings({ s }, { { agent = "1001", start = 1000, ["end"] = 1900 } }), c[4], "findings")
  end)
end
case("示忙操作: every excused reason (training, meetings) deducts nothing", function()
  for reason in pairs(auto.not_ready.excused_reasons) do
    local s = { state = "not_ready", start = 0, ["end"] = 7200, reason = reason }
    eq(#scoring.not_ready_findings({ s }, {}), 0, reason)
  end
end)

-- ---- the sheet -----------------------------------------------------------------------------

case("服务规范: an item deducts once however many calls fail it, with every call as evidence", function()
  local inp = { cdrs = { good_call("a", { kb_lookups = 0 }), good_call("b", { kb_lookups = 0 }), good_call("c") } }
  local s = scoring.sheet("1001", "2026-11", inp)
  local conduct = sheet_section(s, "conduct")
  eq(conduct.score, section.conduct.points + points_of("kb"), "conduct score")
  eq(#conduct.lines, 1, "lines")
  eq(#conduct.lines[1].evidence, 2, "evidence rows")
  eq(#s.evidence, 2, "the sheet's evidence")
end)

case("班长综合评分 40% + 提取录音 60%: each part weighted, recordings averaged", function()
  local calls = {}
  for i = 1, 6 do calls[i] = good_call("c" .. i) end
  calls[1].ring_ms = max_rings * cycle              -- an automatic finding on call c1
  local reviewers = { "r1", "r2" }
  local inp = { cdrs = calls, reviewers = reviewers, reviews = {},
                leader = { accuracy_pct = 100, analysis = "precise", language = "clear", conduct = { "mandarin" } } }
  -- each reviewer scores the calls drawn for them
  local s0 = scoring.sheet("1001", "2026-11", inp)
  local acc = brackets[3]
  for _, r in ipairs(reviewers) do
    for _, call in ipairs(s0.sample[r]) do
      table.insert(inp.reviews, { reviewer = r, call = call, accuracy_pct = acc.upto, analysis = "good", language = "clear" })
    end
  end
  local s = scoring.sheet("1001", "2026-11", inp)
  eq(#s.recordings, 2 * scoring.draw_per_reviewer, "recordings scored")
  local rec_policy = section.policy.points + acc.points + scoring.level_deduction(scoring.analysis, "good")
  near(sheet_section(s, "policy").score,
       scoring.round(scoring.weights.leader * section.policy.points + scoring.weights.recordings * rec_policy), "policy")
  -- conduct: leader loses mandarin and the month's ring finding; recordings lose the ring
  -- finding on the call that had it
  local leader_c = section.conduct.points + item.mandarin.points + points_of("ring")
  local sum = 0
  for _, r in ipairs(s.recordings) do
    sum = sum + section.conduct.points + (r.call == "c1" and points_of("ring") or 0)
  end
  near(sheet_section(s, "conduct").score,
       scoring.round(scoring.weights.leader * leader_c + scoring.weights.recordings * sum / #s.recordings), "conduct")
end)

case("提取录音: a review of a call not drawn for that reviewer is ignored, with a note", function()
  local calls = { good_call("c1"), good_call("c2"), good_call("c3"), good_call("c4") }
  local s0 = scoring.sheet("1001", "2026-11", { cdrs = calls, reviewers = { "r1" } })
  local drawn = {}
  for _, c in ipairs(s0.sample.r1) do drawn[c] = true end
  local other
  for _, c in ipairs(calls) do if not drawn[c.id] then other = c.id end end
  local s = scoring.sheet("1001", "2026-11", { cdrs = calls, reviewers = { "r1" },
    reviews = { { reviewer = "r1", call = other, accuracy_pct = 0 } } })
  eq(#s.recordings, 0, "recordings")
  eq(sheet_section(s, "policy").score, section.policy.points, "policy")
  eq(#s.notes >= 1, true, "a note")
end)

case("班长综合评分及提取录音评分表: the weights 40% and 60% make the whole", function()
  near(scoring.weights.leader + scoring.weights.recordings, 1, "weights")
end)

case("提取录音: two reviews of one call by one reviewer are refused, naming the call", function()
  local calls = { good_call("c1") }
  local rv = { reviewer = "r1", call = "c1", accuracy_pct = 100 }
  local ok, err = pcall(scoring.sheet, "1001", "2026-11", { cdrs = calls, reviewers = { "r1" }, reviews = { rv, rv } })
  eq(ok, false, "accepted")
  eq(err:find("c1", 1, true) ~= nil, true, "error names the call: " .. tostring(err))
end)

case("提取录音 每人提取三个电话: three per reviewer, recorded calls only, reproducible", function()
  local calls = {}
  for i = 1, 10 do calls[i] = good_call(string.format("c%02d", i), { recording = i % 2 == 0 and "r.wav" or nil }) end
  local reviewers = { "r2", "r1" }
  local a = scoring.draw("2026-11", "r1", reviewers, "1001", calls)
  local b = scoring.draw("2026-11", "r1", reviewers, "1001", calls)
  eq(#a, scoring.draw_per_reviewer, "drawn")
  for i, c in ipairs(a) do
    eq(c.recording ~= nil, true, "call " .. c.id .. " has a recording")
    eq(c.id, b[i].id, "the same draw twice")
  end
end)

case("提取录音: with key = false (no hash), reviewers get different calls when there are enough", function()
  local calls = {}
  for i = 1, 3 * scoring.draw_per_reviewer do calls[i] = good_call("c" .. i) end
  local reviewers = { "r1", "r2", "r3" }
  local seen = {}
  for _, r in ipairs(reviewers) do
    local drawn, random = scoring.draw("2026-11", r, reviewers, "1001", calls, false)
    eq(random, false, "random")
    for _, c in ipairs(drawn) do
      if seen[c.id] then fail("call %s drawn for %s and %s", c.id, seen[c.id], r) end
      seen[c.id] = r
    end
  end
end)

case("提取录音: with a key function, the draw follows the key of (month, reviewer, agent, call)", function()
  local calls = {}
  for i = 1, 8 do calls[i] = good_call("c" .. i) end
  -- a test key: the call id reversed for r1, as is for r2
  local function key(month, reviewer, agent, id) return reviewer == "r1" and id:reverse() .. month or id end
  local d1, random = scoring.draw("2026-11", "r1", { "r1", "r2" }, "1001", calls, key)
  eq(random, true, "random")
  local want = {}
  for i = 1, #calls do want[i] = calls[i].id end
  table.sort(want, function(x, y) return key("2026-11", "r1", "1001", x) < key("2026-11", "r1", "1001", y) end)
  for i, c in ipairs(d1) do eq(c.id, want[i], "draw " .. i) end
end)

case("提取录音: by default the draw is at random by hl.hash of (month, reviewer, agent, call), the same every time", function()
  local calls = {}
  for i = 1, 12 do calls[i] = good_call("c" .. i) end
  local d, random = scoring.draw("2026-11", "r1", { "r1", "r2" }, "1001", calls)
  eq(random, true, "random")
  local want = {}
  for i = 1, #calls do want[i] = calls[i].id end
  local function k(id) return hl.hash("2026-11\nr1\n1001\n" .. id) end
  table.sort(want, function(x, y) return k(x) < k(y) end)
  eq(#d, scoring.draw_per_reviewer, "drawn")
  for i, c in ipairs(d) do eq(c.id, want[i], "draw " .. i) end
  eq(scoring.hash_key("2026-11", "r1", "1001", "c1"), k("c1"), "hash_key")
end)

case("hl.hash is FNV-1a 64: the published test vectors", function()
  eq(hl.hash(""), "cbf29ce484222325", "empty")
  eq(hl.hash("a"), "af63dc4c8601ec8c", "a")
  eq(hl.hash("foobar"), "85944171f73967e8", "foobar")
end)

case("提取录音: fewer recorded calls than three: all of them", function()
  local d = scoring.draw("2026-11", "r1", { "r1" }, "1001", { good_call("x"), good_call("y", { recording = "" }) })
  eq(#d, 1, "drawn")
end)

case("服务规范 欢迎词, 结束语, 服务禁语 from the transcript of a call", function()
  local bad = phrases.forbidden[1].text
  local row = good_call("t1", { transcript = "喂，你说。" .. bad .. "。" })
  local got = {}
  for _, f in ipairs(scoring.phrase_findings(row)) do got[f.item] = (got[f.item] or 0) + 1 end
  eq(got.greeting, 1, "greeting missing")
  eq(got.closing, 1, "closing missing")
  eq(got.forbidden, 1, "forbidden")
  local s = scoring.sheet("1001", "2026-11", { cdrs = { row } })
  eq(sheet_section(s, "conduct").score,
     section.conduct.points + item.greeting.points + item.closing.points + item.forbidden.points, "conduct")
end)

-- 六、咨询人员投诉: -2 each, floored at 0 (the 5th and 6th complaint are the edge)
local per = scoring.complaint_points
local floor_at = section.complaints.points // -per
for _, n in ipairs({ 0, 1, floor_at - 1, floor_at, floor_at + 1 }) do
  case(string.format("细化表 六 咨询人员投诉 -2/次, 满分10: %d valid complaint(s)", n), function()
    local list = {}
    for i = 1, n do list[i] = { agent = "1001", valid = true, call = "c" .. i } end
    list[#list + 1] = { agent = "1001", valid = false, call = "cx" }   -- not confirmed: no deduction
    local s = scoring.sheet("1001", "2026-11", { complaints = list })
    eq(sheet_section(s, "complaints").score, math.max(0, section.complaints.points + n * per), "complaints")
  end)
end

-- 附加得分: praise by kind, adopted suggestions, capped at 20
for kind, pts in pairs(scoring.praise_points) do
  case("细化表 附加得分 咨询人员表扬 by " .. kind .. ": +" .. pts, function()
    eq(scoring.sheet("1001", "2026-11", { praise = { { kind = kind } } }).bonus, pts, "bonus")
  end)
end
case("细化表 附加得分 配合咨询中心工作: adopted suggestions count, others not", function()
  local s = scoring.sheet("1001", "2026-11", { suggestions = { { adopted = true }, { adopted = false }, { adopted = true } } })
  eq(s.bonus, 2 * scoring.suggestion_points, "bonus")
end)
case("评分表 附加得分 满分20: banners past the cap give 20", function()
  local banner = scoring.praise_points.banner
  local list = {}
  for i = 1, scoring.bonus_max // banner + 1 do list[i] = { kind = "banner" } end
  local s = scoring.sheet("1001", "2026-11", { praise = list })
  eq(s.bonus, scoring.bonus_max, "bonus")
  eq(s.total, s.base + scoring.bonus_max, "total")
end)
case("评分表 附加得分: exactly 20 by suggestions is 20, one more is still 20", function()
  for _, n in ipairs({ scoring.bonus_max, scoring.bonus_max + 1 }) do
    local list = {}
    for i = 1, n do list[i] = { adopted = true } end
    eq(scoring.sheet("1001", "2026-11", { suggestions = list }).bonus, scoring.bonus_max, n .. " suggestions")
  end
end)
case("附加得分: praise not confirmed by the recording does not count; an unknown kind is refused", function()
  eq(scoring.sheet("1001", "2026-11", { praise = { { kind = "phone", confirmed = false } } }).bonus, 0, "bonus")
  local ok, err = pcall(scoring.sheet, "1001", "2026-11", { praise = { { kind = "pigeon" } } })
  eq(ok, false, "accepted")
  eq(err:find("pigeon", 1, true) ~= nil, true, "error names the kind: " .. tostring(err))
end)

case("三、日常纪律 (细化表): incidents add up, floored at 0", function()
  local loud = scoring.discipline_by_id.loud
  local one = scoring.sheet("1001", "2026-11", { discipline = { { item = "loud" } } })
  eq(sheet_section(one, "discipline").score, section.discipline.points + loud.points, "one incident")
  local many = {}
  for i = 1, section.discipline.points // -loud.points + 1 do many[i] = { item = "loud" } end
  eq(sheet_section(scoring.sheet("1001", "2026-11", { discipline = many }), "discipline").score, 0, "many")
end)

case("四、工作总结: missing, no plan, or done", function()
  local full = section.summary.points
  local function score(rows) return sheet_section(scoring.sheet("1001", "2026-11", { summaries = rows }), "summary").score end
  eq(score(nil), 0, "no summary recorded")
  eq(score({ { submitted = true, plan = false } }), 0, "no plan")
  eq(score({ { submitted = true, plan = true } }), full, "done")
  eq(score({ { submitted = true, plan = true, deduct = 2 } }), full - 2, "done, leader deducts 2")
end)

case("考核办法 四 1: results due before the 5th of the next month", function()
  eq(scoring.due_date("2026-11"), string.format("2026-12-%02d", scoring.due_day), "November")
  eq(scoring.due_date("2026-12"), string.format("2027-01-%02d", scoring.due_day), "December")
  eq(pcall(scoring.due_date, "2026-13"), false, "month 13")
end)

case("ranking: by total; equal totals share a rank, the next skips", function()
  local sheets = scoring.rank({ { agent = "b", total = 90, base = 90 }, { agent = "a", total = 95, base = 95 },
                                { agent = "c", total = 90, base = 88 }, { agent = "d", total = 80, base = 80 } })
  local got = {}
  for _, s in ipairs(sheets) do got[#got + 1] = s.agent .. s.rank end
  eq(table.concat(got, " "), "a1 b2 c2 d4", "ranking")
end)

case("the month: rows grouped by agent, every agent ranked", function()
  local input = { cdrs = { good_call("a1", { agent = "1001" }), good_call("b1", { agent = "1002", kb_lookups = 0 }) },
                  complaints = { { agent = "1003", valid = true } } }
  local sheets = scoring.month("2026-11", input)
  eq(#sheets, 3, "sheets")
  eq(sheets[1].agent, "1001", "first")
  eq(sheets[#sheets].agent, "1003", "last")
end)

-- ---- property tests ------------------------------------------------------------------------

local function pick(list) return list[math.random(#list)] end
local function ids(list) local out = {} for _, v in ipairs(list) do out[#out + 1] = v.id end return out end
local CONDUCT_IDS, DISC_IDS = ids(scoring.conduct), ids(scoring.discipline)
local PRAISE = {}
for k in pairs(scoring.praise_points) do PRAISE[#PRAISE + 1] = k end
table.sort(PRAISE)
local function levels(scale) return ids(scale.levels) end

local function random_assessment(extra)
  local a = extra or {}
  if math.random() < 0.9 then a.accuracy_pct = math.random(0, 1000) / 10 end
  if math.random() < 0.9 then a.analysis = pick(levels(scoring.analysis)) end
  if math.random() < 0.9 then a.language = pick(levels(scoring.language)) end
  a.conduct = {}
  for _ = 1, math.random(0, 8) do a.conduct[#a.conduct + 1] = pick(CONDUCT_IDS) end
  return a
end

local function random_month(agent)
  local inp = { cdrs = {}, reviewers = { "r1", "r2", "r3" }, reviews = {}, states = {}, breaks = {},
                discipline = {}, study = {}, complaints = {}, praise = {}, suggestions = {} }
  for i = 1, math.random(0, 25) do
    local holds = {}
    for h = 1, math.random(0, 2) do
      local start = h * 100000
      holds[h] = { start = start, ["end"] = start + math.random(0, 90000), reminders = math.random(0, 2) }
    end
    inp.cdrs[i] = good_call("c" .. i, {
      agent = agent, ring_ms = math.random(0, 30000), hold_log = holds,
      hangup_first = pick({ "agent", "caller" }), hangup_gap_ms = math.random(0, 6000),
      recording = math.random() < 0.8 and "r.wav" or nil, kb_lookups = math.random(0, 2),
      summary = math.random() < 0.9 and "摘要" or nil,
      transcript = math.random() < 0.2 and (pick({ "", phrases.moments.greeting.phrases[1].text }) ..
        "请稍等。" .. pick({ "", phrases.forbidden[math.random(#phrases.forbidden)].text }) ..
        pick({ "", phrases.moments.closing.phrases[1].text })) or nil,
    })
  end
  if math.random() < 0.9 then inp.leader = random_assessment({ agent = agent }) end
  for _, r in ipairs(inp.reviewers) do
    for _, c in ipairs(scoring.draw("2026-11", r, inp.reviewers, agent, inp.cdrs)) do
      if math.random() < 0.9 then inp.reviews[#inp.reviews + 1] = random_assessment({ reviewer = r, call = c.id }) end
    end
  end
  for i = 1, math.random(0, 4) do
    local start = i * 10000
    inp.states[i] = { agent = agent, state = "not_ready", start = start, ["end"] = start + math.random(0, 3600),
                      reason = pick({ "break", "training", "personal" }) }
    inp.breaks[i] = { agent = agent, start = start, ["end"] = start + 900 }
  end
  for i = 1, math.random(0, 20) do inp.discipline[i] = { agent = agent, item = pick(DISC_IDS), time = i } end
  for i = 1, math.random(0, 3) do inp.study[i] = { agent = agent, deduct = math.random(1, 4), reason = "quiz " .. i } end
  for i = 1, math.random(0, 8) do inp.complaints[i] = { agent = agent, valid = math.random() < 0.7 } end
  for i = 1, math.random(0, 6) do inp.praise[i] = { agent = agent, kind = pick(PRAISE), confirmed = math.random() < 0.9 } end
  for i = 1, math.random(0, 12) do inp.suggestions[i] = { agent = agent, adopted = math.random() < 0.5 } end
  inp.summaries = math.random() < 0.8 and { { agent = agent, submitted = math.random() < 0.9, plan = math.random() < 0.9 } } or nil
  return inp
end

-- A canonical text of a value (keys sorted), to compare two sheets.
local function dump(v)
  if type(v) ~= "table" then return type(v) == "string" and string.format("%q", v) or tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. dump(v[k]) end
  return "{" .. table.concat(out, ",") .. "}"
end
local function shuffled(list)
  if not list then return nil end
  local t = table.move(list, 1, #list, 1, {})
  for i = #t, 2, -1 do local j = math.random(i); t[i], t[j] = t[j], t[i] end
  return t
end

local RUNS = 50
case("property: base within 0..100, bonus within 0..20, total = base + bonus (" .. RUNS .. " random months)", function()
  math.randomseed(12333)
  for run = 1, RUNS do
    local s = scoring.sheet("1001", "2026-11", random_month("1001"))
    if s.base < 0 or s.base > scoring.base_points then fail("run %d: base %s", run, s.base) end
    if s.bonus < 0 or s.bonus > scoring.bonus_max then fail("run %d: bonus %s", run, s.bonus) end
    near(s.total, scoring.round(s.base + s.bonus), "run " .. run .. ": total")
    local sum = 0
    for _, sec in ipairs(s.sections) do
      if sec.score < 0 or sec.score > sec.points then fail("run %d: %s %s of %s", run, sec.id, sec.score, sec.points) end
      sum = sum + sec.points
    end
    eq(sum, scoring.base_points, "the sections' points")
  end
end)

case("property: the same rows in any order give the same sheet (" .. RUNS .. " random months)", function()
  math.randomseed(2007)
  for run = 1, RUNS do
    local inp = random_month("1001")
    local again = {}
    for k, v in pairs(inp) do again[k] = type(v) == "table" and k ~= "leader" and shuffled(v) or v end
    local a, b = dump(scoring.sheet("1001", "2026-11", inp)), dump(scoring.sheet("1001", "2026-11", again))
    if a ~= b then fail("run %d: the sheets differ", run) end
  end
end)

case("property: each part's score is what its evidence rows add up to (" .. RUNS .. " random months)", function()
  math.randomseed(333)
  local function lines_sum(lines) local s = 0 for _, l in ipairs(lines) do s = s + l.points end return s end
  for run = 1, RUNS do
    local s = scoring.sheet("1001", "2026-11", random_month("1001"))
    for _, sec in ipairs(s.sections) do
      local want
      if sec.id == "policy" or sec.id == "conduct" then
        -- leader's lines and each recording's lines, weighted as the table says
        local leader = math.max(0, sec.points + lines_sum(sec.lines))
        local recs, n = 0, 0
        for _, r in ipairs(s.recordings) do
          recs = recs + math.max(0, sec.points + lines_sum(r[sec.id .. "_lines"]))
          n = n + 1
        end
        want = n == 0 and leader or scoring.weights.leader * leader + scoring.weights.recordings * recs / n
      else
        want = math.max(0, sec.points + lines_sum(sec.lines))
      end
      near(sec.score, scoring.round(want), string.format("run %d: %s", run, sec.id))
    end
    local bonus = lines_sum(s.bonus_lines)
    near(s.bonus, math.min(bonus, scoring.bonus_max), "run " .. run .. ": bonus")
    -- every evidence row is one of the month's findings, and each conduct line with evidence lists them
    for _, l in ipairs(sheet_section(s, "conduct").lines) do
      for _, ev in ipairs(l.evidence or {}) do eq(ev.item, l.item, "evidence of " .. l.item) end
    end
  end
end)

return cases
