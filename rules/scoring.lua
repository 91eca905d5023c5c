-- rules/scoring.lua — the monthly performance sheet of an agent (咨询员): rule book chapter 6
-- 工作人员考核办法 with its tables 咨询员绩效考核评分表, 班长综合评分及提取录音评分表 and
-- 咨询员考核评分细化表, as data (every item, its points, bracket and weight, with the row it
-- comes from) and small pure functions: the automatic deductions the engine can measure, each
-- with its evidence; the draw of the recordings each reviewer scores; the sheet; the ranking.
--
-- Input rows are plain tables (the caller reads them from the store; nothing here touches it),
-- all for one month and already selected by month:
--   cdrs        agent legs: { id, agent, start, answered, ring_ms, hangup_first = "agent" |
--               "caller", hangup_gap_ms, hold_log = { {start, ["end"], reminders,
--               back_within_ms} } (ms on one clock), recording, summary, kb_lookups,
--               transcript (a string or a list of {speaker, text}) }
--   states      agent states: { agent, state = "not_ready", start, ["end"], reason } (seconds)
--   breaks      planned breaks of the shift plan: { agent, start, ["end"] } (seconds)
--   leader      the duty leader's assessment (班长综合评分), one per agent:
--               { agent, accuracy_pct, analysis, language, conduct = { item id... } }
--   reviews     a reviewer's assessment of one drawn recording (提取录音评分), same fields
--               plus reviewer and call
--   reviewers   the ids of the assessment group (考核小组) who draw recordings this month
--   discipline  incidents of 细化表 三: { agent, item, time, note }
--   summaries   the month's work summary (四): { agent, submitted, plan, deduct }
--   study       deductions of 五 (from training): { agent, deduct, reason }
--   complaints  { agent, valid, call, note }        praise { agent, kind, confirmed, note }
--   suggestions { agent, adopted, note }
local phrases = require "phrases"

local M = {}

-- 考核办法 四 1: 每月考核一次 ... 于考核下月5日前将汇总考核的结果报信息中心.
M.due_day = 5

-- 评分表: 基础得分 扣分制 100; 附加得分 得分制 满分20.
M.base_points = 100
M.bonus_max = 20

-- 班长综合评分及提取录音评分表: 班长综合评分 40%, 提取录音评分 60%; 考核小组成员每人提取三个
-- 电话, 算取平均分.
M.weights = { leader = 0.4, recordings = 0.6 }
M.draw_per_reviewer = 3

-- Scores are kept to this many decimals (0.4 x 0.5 = 0.2: hundredths are exact).  The book's
-- formula ends in "=_分" and names no precision.
M.decimals = 2

-- 一、政策水平 (35): 准确率 brackets by the share of correct answers, in percent.  The book's
-- brackets leave gaps (80%以下, 80.1%-85%, ...): a bracket runs up to and including `upto`
-- (or up to but excluding `below`), so 80 is 80%以下 and 80.05 falls in 80.1%-85%.
M.accuracy = {
  title = "准确率", points = 15,
  brackets = {
    { upto = 80, points = -15, row = "80%以下" },
    { upto = 85, points = -10, row = "80.1%-85%" },
    { upto = 90, points = -6, row = "85.1%-90%" },
    { upto = 94, points = -3, row = "90.1%-94%" },
    { below = 100, points = -1, row = "94.1%-99.9%" },
    { upto = 100, points = 0, row = "100%" },
  },
}
M.analysis = {
  title = "分析总结能力", points = 10,
  levels = {
    { id = "precise", points = 0, row = "完整准确地针对具体情况具体分析问题" },
    { id = "good", points = -3, row = "较好地根据实际情况对问题总结分析" },
    { id = "basic", points = -6, row = "基本将问题分析清楚,能完整地为对方解答问题" },
    { id = "confused", points = -10, row = "思维混乱,无法根据具体情况综合分析问题" },
  },
}
M.language = {
  title = "语言组织能力", points = 10,
  levels = {
    { id = "clear", points = 0, row = "逻辑清晰,用词准确,简明扼要" },
    { id = "good", points = -3, row = "较好地将内容完整地传达给对方,个别用语不得当" },
    { id = "basic", points = -6, row = "基本能将内容表述给对方,出现啰嗦、重复现象" },
    { id = "unclear", points = -10, row = "逻辑不清晰,用词不得当,无法让对方准确理解" },
  },
}

-- 二、服务规范 (30): every row of the table.  An item deducts its points once per assessment
-- (the table is a list of checks, not a tally).  `auto` names the measurement that finds it
-- by itself (M.auto), `phrase` the moment or list of rules/phrases.lua that feeds it.
M.conduct = {
  { id = "answer_speed", group = "应答礼仪", points = -0.5, auto = "ring", row = "应答速度:电话铃响3声以下接起" },
  { id = "greeting", group = "应答礼仪", points = -0.5, phrase = "greeting", row = "欢迎词:“您好,很高兴为您服务”" },
  { id = "closing", group = "挂机礼仪", points = -0.5, phrase = "closing", row = "结束语:“感谢您的来电,再见。”" },
  { id = "hangup_order", group = "挂机礼仪", points = -0.5, auto = "hangup", row = "由对方先挂断电话,如听不到挂铃音,则默数3秒挂断电话" },
  { id = "busy_misuse", group = "示忙操作", points = -1, auto = "not_ready", row = "非工作状态下“示忙”" },
  { id = "kb_click", group = "数据库点击", points = -1, auto = "kb", row = "每个问题是否都点击政策法规库" },
  { id = "kb_quality", group = "数据库点击", points = -2, row = "政策法规库查询快速准确" },
  { id = "call_summary", group = "来电摘要", points = -1, auto = "summary", row = "简要记录每个来电的主要内容" },
  { id = "query_ask", group = "查询信息", points = -0.5, row = "需较长时间查找资料时,应先征求咨询人员意见" },
  { id = "hold_checkin", group = "查询信息", points = -0.5, auto = "hold", row = "若等待时间超过30秒,在中途取消“等待”与咨询人员联系" },
  { id = "query_resume", group = "查询信息", points = -0.5, row = "找到准确信息后,取消“等待”与咨询人员恢复通话" },
  { id = "query_not_found", group = "查询信息", points = -0.5, row = "暂时找不到准确资料时,请留下姓名和联系电话" },
  { id = "query_contact", group = "查询信息", points = -0.5, row = "记录姓名和联系电话,重复一遍请咨询人员确认" },
  { id = "transfer_ask", group = "转接电话", points = -0.5, row = "告知咨询人员,请求同意" },
  { id = "transfer_brief", group = "转接电话", points = -1, row = "将咨询人员的情况简要告知被转接者" },
  { id = "outbound_identity", group = "电话外呼", points = -0.5, row = "确认对方身份" },
  { id = "outbound_intro", group = "电话外呼", points = -0.5, row = "自我介绍" },
  { id = "outbound_close", group = "电话外呼", points = -0.5, row = "结束通话" },
  { id = "thanks_record", group = "致谢电话", points = -0.5, row = "受表扬时,应认真做好记录" },
  { id = "thanks_long", group = "致谢电话", points = -0.5, row = "致谢电话过长,须示意其挂机时" },
  { id = "apology", group = "致歉电话", points = -0.5, row = "咨询人员向咨询员致歉时" },
  { id = "suggestion_listen", group = "建议电话", points = -0.5, row = "聆听咨询人员长段诉说时要有回应" },
  { id = "suggestion_close", group = "建议电话", points = -0.5, row = "谢谢您提出的宝贵建议" },
  { id = "criticism", group = "批评电话", points = -0.5, row = "咨询人员责怪咨询员业务不熟练时" },
  { id = "soothe", group = "安抚咨询人员", points = -0.5, row = "咨询人员情绪激动时" },
  { id = "soothe_callback", group = "安抚咨询人员", points = -1, row = "若当时无法处理,应记录问题及联系方式" },
  { id = "complaint_transfer", group = "投诉电话", points = -0.5, row = "咨询人员投诉咨询员服务时" },
  { id = "wrong_number", group = "特殊情况", points = -0.5, row = "咨询人员打错电话时" },
  { id = "out_of_scope", group = "特殊情况", points = -0.5, row = "咨询人员问题超出咨询范围时" },
  { id = "privacy", group = "特殊情况", points = -0.5, row = "咨询人员询问其他来电人员信息时" },
  -- The book prints one value after the two rows below (不讲话, 免提): every other row of the
  -- table carries its own, so each is read as -0.5.
  { id = "silent_caller", group = "特殊情况", points = -0.5, row = "咨询人员不讲话时,应主动提醒" },
  { id = "handsfree", group = "特殊情况", points = -0.5, row = "咨询人员使用免提电话或杂音太大时" },
  { id = "slow_caller", group = "特殊情况", points = -0.5, row = "咨询人员讲话较慢或逻辑性较差时" },
  { id = "dialect", group = "特殊情况", points = -0.5, row = "咨询人员只能使用外语或方言时切忌挂断电话" },
  { id = "typing_speed", group = "特殊情况", points = -3, row = "打字速度50字/分钟以上" },
  { id = "mandarin", group = "特殊情况", points = -2, row = "普通话读音准确,吐字清晰" },
  { id = "forbidden", group = "服务禁语", points = -3, phrase = "forbidden", row = "不得使用服务禁语" },
}

-- 细化表 三、日常纪律 (15): each incident recorded deducts the row's points.
M.discipline = {
  { id = "loud", points = -2, row = "工作时间在工作室内大声喧哗,影响他人接听电话" },
  { id = "phone_on", points = -1, row = "工作室内,手机/小灵通未设定为“关机”" },
  { id = "sleeping", points = -1, row = "工作时间睡觉" },
  { id = "off_post", points = -1, row = "工作时间串岗、脱岗" },
  { id = "smoking", points = -1, row = "工作时间吸烟" },
  { id = "reading", points = -1, row = "工作时间看小说、漫画等与工作无关的读物" },
  { id = "gaming", points = -1, row = "工作时间打游戏、上网(与工作无关的内容)" },
  { id = "pc_password", points = -0.5, row = "工作室内计算机设置密码" },
  { id = "ip_change", points = -0.5, row = "擅自更改计算机IP地址" },
  { id = "settings_change", points = -0.5, row = "擅自更改系统设置" },
  { id = "files_change", points = -0.5, row = "擅自删除、修改系统文件及工作用软件" },
  { id = "install", points = -0.5, row = "未经许可私自安装软件" },
  { id = "screensaver", points = -0.5, row = "擅自改换中心统一设置的计算机屏保/桌面" },
  { id = "messy_desk", points = -1, row = "办工桌面杂乱无章,破坏公共卫生" },
  { id = "uniform", points = -1, row = "不着统一工装佩带工牌,服饰不整洁" },
  { id = "duty_cleaning", points = -1, row = "值日当天,不进行卫生打扫;下班后不检查门窗、电源关闭情况" },
  { id = "duty_handover", points = -1, row = "不做值日记录,不与下一位值班人员做好交接工作" },
}

-- The six parts of 基础得分, in the sheet's order.
M.sections = {
  { id = "policy", title = "一、政策水平", points = 35, row = "评分表 基础得分 一 (解答问题准确率, 分析总结能力, 语言组织能力)" },
  { id = "conduct", title = "二、服务规范", points = 30, row = "评分表 基础得分 二" },
  { id = "discipline", title = "三、日常纪律", points = 15, row = "评分表 基础得分 三; 细化表 三" },
  { id = "summary", title = "四、工作总结", points = 5, row = "评分表 基础得分 四: 每月月底做好工作总结,并制定下月工作计划" },
  { id = "study", title = "五、政治业务学习", points = 5, row = "评分表 基础得分 五" },
  { id = "complaints", title = "六、咨询人员投诉", points = 10, row = "评分表 基础得分 六; 细化表 六" },
}

-- 细化表 六: 每被咨询人员有效投诉1人/次,扣去2分 (调取录音确认为事实: valid = true).
M.complaint_points = -2

-- 细化表 附加得分: 被采纳的建议 +1/条; 表扬 电话+2, 传真/信件/email+3, 锦旗+10
-- (调取录音确认事实: a praise marked confirmed = false does not count).
M.suggestion_points = 1
M.praise_points = { phone = 2, fax = 3, letter = 3, email = 3, banner = 10 }

-- What the engine measures by itself (SPEC §4), each feeding one conduct item.
M.auto = {
  -- 应答速度: 电话铃响3声以下接起.  The book counts rings; the CDR has ms.  A ring cycle of
  -- Chinese exchanges is 1 s of ringing and 4 s of silence: ring n starts at (n-1) x 5 s, so
  -- answering at 15.0 s is during the 4th ring.  Set the cycle to the PBX's if it differs.
  ring = { item = "answer_speed", max_rings = 3, ring_cycle_ms = 5000 },
  -- 由对方先挂断电话,如听不到挂铃音,则默数3秒挂断电话: the agent may hang up first only
  -- after 3 s of silence (hangup_gap_ms: from the caller's last sound to the agent's hang-up).
  hangup = { item = "hangup_order", min_gap_ms = 3000 },
  -- 若等待时间超过30秒,在中途取消“等待”与咨询人员联系: the agent comes back (a check-in or
  -- the end of the hold) within 30 s.
  hold = { item = "hold_checkin", max_silent_ms = 30000 },
  -- 非工作状态下“示忙”: not ready while logged in is for breaks of the shift plan; reasons
  -- the centre excuses besides (业务培训 制度 四: weekly training; meetings), and a minute of
  -- slack for the button and the clock (the centre's choice).
  not_ready = { item = "busy_misuse", excused_reasons = { training = true, meeting = true }, slack_s = 60 },
  -- 来电摘要: 简要记录每个来电的主要内容.
  summary = { item = "call_summary" },
  -- 数据库点击: 每个问题是否都点击政策法规库 (kb_lookups: lookups during the call).
  kb = { item = "kb_click" },
}

-- ---- small helpers -----------------------------------------------------------------------

local function round(x)
  local f = 10 ^ M.decimals
  return math.floor(x * f + 0.5) / f
end
M.round = round

local function clamp(x, lo, hi) return math.max(lo, math.min(hi, x)) end

local function index_by(list, key)
  local t = {}
  for _, v in ipairs(list) do t[v[key]] = v end
  return t
end
local conduct_by_id = index_by(M.conduct, "id")
local discipline_by_id = index_by(M.discipline, "id")
local section_by_id = index_by(M.sections, "id")
M.conduct_by_id, M.discipline_by_id, M.section_by_id = conduct_by_id, discipline_by_id, section_by_id

local function fail(fmt, ...) error(string.format(fmt, ...), 3) end

-- Lines and evidence in one order whatever the order of the rows: by time, call, item, fact.
local function line_key(l)
  return table.concat({ tostring(l.time), tostring(l.call), tostring(l.item), tostring(l.fact),
                        tostring(l.points) }, "\n")
end
local function sort_lines(lines)
  local keys = {}
  for _, l in ipairs(lines) do keys[l] = line_key(l) end
  table.sort(lines, function(a, b) return keys[a] < keys[b] end)
  return lines
end

-- A part's score: its points less the lines' deductions, within 0..points.
local function part_score(id, lines)
  local points, total = section_by_id[id].points, 0
  for _, l in ipairs(lines) do total = total + l.points end
  return clamp(points + total, 0, points)
end

-- ---- 一、政策水平 ---------------------------------------------------------------------------

-- The bracket of a percentage `pct` (named `what` in errors) among `brackets` (each up to
-- and including `upto`, or up to but excluding `below`): its points and the bracket.
function M.bracket_of(brackets, pct, what)
  if type(pct) ~= "number" or pct ~= pct or pct < 0 or pct > 100 then
    fail("%s must be a percentage 0..100, got %s", what, tostring(pct))
  end
  for _, b in ipairs(brackets) do
    if (b.upto and pct <= b.upto) or (b.below and pct < b.below) then return b.points, b end
  end
end

-- The bracket of an accuracy in percent: its points (<= 0) and the bracket.
function M.accuracy_deduction(pct) return M.bracket_of(M.accuracy.brackets, pct, "accuracy_pct") end

local function level_deduction(scale, id)
  for _, l in ipairs(scale.levels) do
    if l.id == id then return l.points, l end
  end
  local ids = {}
  for _, l in ipairs(scale.levels) do ids[#ids + 1] = l.id end
  fail("%s: unknown level '%s' (one of: %s)", scale.title, tostring(id), table.concat(ids, ", "))
end
M.level_deduction = level_deduction

-- The policy-level score of one assessment (leader's or a recording's): 35 less the three
-- deductions; a part not assessed deducts nothing.  Returns score, lines.
function M.policy_score(a)
  local lines = {}
  if a and a.accuracy_pct then
    local p, b = M.accuracy_deduction(a.accuracy_pct)
    lines[#lines + 1] = { item = "accuracy", points = p, row = M.accuracy.title .. " " .. b.row,
                          fact = a.accuracy_pct .. "%" }
  end
  for _, part in ipairs({ { "analysis", M.analysis }, { "language", M.language } }) do
    local id = a and a[part[1]]
    if id then
      local p, l = level_deduction(part[2], id)
      lines[#lines + 1] = { item = part[1], points = p, row = part[2].title .. " " .. l.row }
    end
  end
  return part_score("policy", lines), lines
end

-- ---- 二、服务规范 ---------------------------------------------------------------------------

-- The conduct score of a set of failed items { [id] = { evidence... } | true }: 30 less each
-- item's points once.  Returns score, lines (in the table's order; each line's evidence as
-- given, sorted by the caller).
function M.conduct_score(failed)
  local lines = {}
  for id in pairs(failed) do
    if not conduct_by_id[id] then fail("unknown 服务规范 item '%s'", tostring(id)) end
  end
  for _, item in ipairs(M.conduct) do
    local ev = failed[item.id]
    if ev then
      lines[#lines + 1] = { item = item.id, points = item.points, row = item.group .. " " .. item.row,
                            evidence = type(ev) == "table" and #ev > 0 and ev or nil }
    end
  end
  return part_score("conduct", lines), lines
end

-- ---- automatic deductions ------------------------------------------------------------------

-- Which ring was sounding ring_ms after the phone began to ring (the first from 0).
function M.ring_number(ring_ms)
  return ring_ms // M.auto.ring.ring_cycle_ms + 1
end

local function finding(check, row, fact)
  return { item = M.auto[check].item, call = row.id, time = row.start, fact = fact }
end

-- Findings of one answered call, each { item, call, time, fact }.
function M.call_findings(row)
  local out = {}
  if row.answered == false then return out end
  if row.ring_ms and M.ring_number(row.ring_ms) > M.auto.ring.max_rings then
    out[#out + 1] = finding("ring", row, string.format("answered after %d ms, during ring %d (limit %d rings)",
      row.ring_ms, M.ring_number(row.ring_ms), M.auto.ring.max_rings))
  end
  if row.hangup_first == "agent" and (row.hangup_gap_ms or 0) < M.auto.hangup.min_gap_ms then
    out[#out + 1] = finding("hangup", row, string.format("the agent hung up first, %d ms after the caller's last sound (%d ms required)",
      row.hangup_gap_ms or 0, M.auto.hangup.min_gap_ms))
  end
  for i, h in ipairs(row.hold_log or {}) do
    local back = h.back_within_ms
    if back == nil then back = (h.reminders or 0) > 0 and 0 or ((h["end"] or h.start) - h.start) end
    if back > M.auto.hold.max_silent_ms then
      out[#out + 1] = finding("hold", row, string.format("hold %d at %d ms: no word to the caller for %d ms (limit %d ms)",
        i, h.start, back, M.auto.hold.max_silent_ms))
    end
  end
  if row.summary == nil or not row.summary:find("%S") then
    out[#out + 1] = finding("summary", row, "no call summary")
  end
  if (row.kb_lookups or 0) == 0 then
    out[#out + 1] = finding("kb", row, "no lookup in the policy knowledge base")
  end
  return out
end

-- The conduct item each phrase check feeds (the table's `phrase` column).
local phrase_item = {}
for _, it in ipairs(M.conduct) do
  if it.phrase then phrase_item[it.phrase] = it.id end
end

-- Phrase findings of one call with a transcript (rules/phrases.lua): a missing greeting or
-- closing, each forbidden phrase (with where it was found).
function M.phrase_findings(row)
  local out = {}
  if row.transcript == nil then return out end
  local r = phrases.check_call(row.transcript, row.summary)
  local function add(check, fact)
    out[#out + 1] = { item = phrase_item[check], call = row.id, time = row.start, fact = fact }
  end
  if not r.greeting then add("greeting", "no greeting in the first words of the transcript") end
  if not r.closing then add("closing", "no closing phrase in the last words of the transcript") end
  for _, h in ipairs(r.forbidden) do
    add("forbidden", string.format("%s, character %d: “%s” (%s)", h.field, h.pos, h.found, h.src))
  end
  return out
end

-- Overlap in seconds of [a, b) with the union of intervals (sorted, not overlapping).
local function covered(a, b, intervals)
  local s = 0
  for _, iv in ipairs(intervals) do
    local lo, hi = math.max(a, iv[1]), math.min(b, iv[2])
    if hi > lo then s = s + hi - lo end
  end
  return s
end

local function merged(breaks)
  local iv = {}
  for _, b in ipairs(breaks) do iv[#iv + 1] = { b.start, b["end"] } end
  table.sort(iv, function(x, y) return x[1] < y[1] end)
  local out = {}
  for _, v in ipairs(iv) do
    local last = out[#out]
    if last and v[1] <= last[2] then last[2] = math.max(last[2], v[2]) else out[#out + 1] = { v[1], v[2] } end
  end
  return out
end

-- Not-ready time outside the agent's breaks and the excused reasons, each interval over the
-- slack a finding { item, time, fact }.  states and breaks: the agent's rows.
function M.not_ready_findings(states, breaks)
  local cfg, out = M.auto.not_ready, {}
  local iv = merged(breaks or {})
  for _, s in ipairs(states or {}) do
    if s.state == "not_ready" and s["end"] and not cfg.excused_reasons[s.reason or ""] then
      local outside = (s["end"] - s.start) - covered(s.start, s["end"], iv)
      if outside > cfg.slack_s then
        out[#out + 1] = { item = cfg.item, time = s.start,
                          fact = string.format("not ready (%s) for %d s outside breaks", s.reason or "no reason", outside) }
      end
    end
  end
  return out
end

-- ---- the draw of recordings ----------------------------------------------------------------

-- The recorded calls a reviewer scores for an agent: M.draw_per_reviewer of them, at random
-- but the same every time for the same month, reviewer, agent and calls.  key(month,
-- reviewer, agent, call id) orders the calls: by default M.hash_key, the engine's hl.hash
-- (FNV-1a 64, stable across machines and versions) of the four joined by newlines, so the
-- draw is random and anyone can redo it.  With key = false the calls are taken in the order
-- of their ids, reviewer by reviewer (the k-th reviewer of the sorted list takes the next
-- three): reproducible and spread over the reviewers, but not random — the sheet says so
-- (sample.random = false).  Returns the calls, random.
function M.draw(month, reviewer, reviewers, agent, calls, key)
  return M.draw_from(month, reviewer, reviewers, agent, M.recorded(calls), key)
end

-- The calls that can be drawn: answered, with a recording; in the order of their ids.
function M.recorded(calls)
  local out = {}
  for _, c in ipairs(calls) do
    if c.answered ~= false and c.recording and c.recording ~= "" then out[#out + 1] = c end
  end
  table.sort(out, function(a, b) return tostring(a.id) < tostring(b.id) end)
  return out
end

-- The draw's default order: hl.hash (engine/core/hash.h) of month, reviewer, agent, call id.
function M.hash_key(...) return hl.hash(table.concat({ ... }, "\n")) end

-- M.draw over M.recorded(calls), computed once per agent for all reviewers.
function M.draw_from(month, reviewer, reviewers, agent, recorded, key)
  if key == nil then key = M.hash_key end
  local n = math.min(M.draw_per_reviewer, #recorded)
  if key then
    local order, k = table.move(recorded, 1, #recorded, 1, {}), {}
    for _, c in ipairs(order) do k[c] = key(month, reviewer, agent, tostring(c.id)) end
    table.sort(order, function(a, b)
      if k[a] ~= k[b] then return k[a] < k[b] end
      return tostring(a.id) < tostring(b.id)
    end)
    return table.move(order, 1, n, 1, {}), true
  end
  local sorted = table.move(reviewers, 1, #reviewers, 1, {})
  table.sort(sorted)
  local rank = 1
  for i, r in ipairs(sorted) do if r == reviewer then rank = i end end
  local out = {}
  for i = 1, n do out[i] = recorded[((rank - 1) * M.draw_per_reviewer + i - 1) % #recorded + 1] end
  return out, false
end

-- ---- the sheet -----------------------------------------------------------------------------

local function add_set(set, item, ev)
  set[item] = set[item] or {}
  if ev then table.insert(set[item], ev) end
end

-- Weighted score of a part (政策水平 or 服务规范): leader x 40% + mean of recordings x 60%.
-- With no scored recording the leader's score stands alone (noted on the sheet).
local function weighted(leader, recordings)
  if #recordings == 0 then return leader end
  local sum = 0
  for _, r in ipairs(recordings) do sum = sum + r end
  return M.weights.leader * leader + M.weights.recordings * (sum / #recordings)
end

-- Every finding of the agent's month (calls, their text, not-ready time), in one order; and
-- the failed items of the month and of each call: { [item] = { finding... } }.
local function findings(inp)
  local evidence = {}
  for _, row in ipairs(inp.cdrs or {}) do
    for _, f in ipairs(M.call_findings(row)) do evidence[#evidence + 1] = f end
    for _, f in ipairs(M.phrase_findings(row)) do evidence[#evidence + 1] = f end
  end
  for _, f in ipairs(M.not_ready_findings(inp.states, inp.breaks)) do evidence[#evidence + 1] = f end
  sort_lines(evidence)
  local month_failed, call_failed = {}, {}
  for _, f in ipairs(evidence) do
    add_set(month_failed, f.item, f)
    if f.call ~= nil then
      call_failed[f.call] = call_failed[f.call] or {}
      add_set(call_failed[f.call], f.item, f)
    end
  end
  return evidence, month_failed, call_failed
end

-- Conduct items failed: the measured ones and those an assessment lists.
local function failed_items(measured, assessment)
  local failed = {}
  for item, ev in pairs(measured or {}) do failed[item] = ev end
  for _, id in ipairs(assessment and assessment.conduct or {}) do add_set(failed, id) end
  return failed
end

-- Each reviewer's draw: sample { [reviewer] = { call id... } }, drawn { ["reviewer\ncall"] =
-- true }, and whether the draw was random.
local function draw_all(agent, month, inp, key)
  local sample, drawn, random = {}, {}, true
  local recorded = (inp.reviewers and #inp.reviewers > 0) and M.recorded(inp.cdrs or {}) or {}
  for _, reviewer in ipairs(inp.reviewers or {}) do
    local calls, r = M.draw_from(month, reviewer, inp.reviewers, agent, recorded, key)
    random = random and r
    sample[reviewer] = {}
    for _, c in ipairs(calls) do
      table.insert(sample[reviewer], c.id)
      drawn[reviewer .. "\n" .. tostring(c.id)] = true
    end
  end
  return sample, drawn, random
end

-- The scored recordings: reviews of drawn calls, each with the call's own findings.  A review
-- of a call not drawn for its reviewer is left out (noted); two of one call are refused.
local function score_recordings(inp, drawn, call_failed, notes)
  local recordings, seen = {}, {}
  for _, rv in ipairs(inp.reviews or {}) do
    local key = tostring(rv.reviewer) .. "\n" .. tostring(rv.call)
    if seen[key] then fail("two reviews of call %s by %s", tostring(rv.call), tostring(rv.reviewer)) end
    seen[key] = true
    if drawn[key] then
      local p, pl = M.policy_score(rv)
      local c, cl = M.conduct_score(failed_items(call_failed[rv.call], rv))
      recordings[#recordings + 1] = { reviewer = rv.reviewer, call = rv.call, policy = p, conduct = c,
                                      policy_lines = pl, conduct_lines = cl }
    else
      notes[#notes + 1] = string.format("review of call %s by %s left out: not in that reviewer's draw",
        tostring(rv.call), tostring(rv.reviewer))
    end
  end
  table.sort(recordings, function(a, b)
    if a.reviewer ~= b.reviewer then return tostring(a.reviewer) < tostring(b.reviewer) end
    return tostring(a.call) < tostring(b.call)
  end)
  return recordings
end

local function scores_of(recordings, part)
  local out = {}
  for _, r in ipairs(recordings) do out[#out + 1] = r[part] end
  return out
end

-- 三 to 六: lines from the rows, each part's score the sum of its lines, floored at 0.
local function discipline_lines(inp, agent)
  local lines = {}
  for _, d in ipairs(inp.discipline or {}) do
    local item = discipline_by_id[d.item]
    if not item then fail("unknown 日常纪律 item '%s' (agent %s)", tostring(d.item), tostring(agent)) end
    lines[#lines + 1] = { item = d.item, points = item.points, row = item.row, time = d.time, fact = d.note }
  end
  return sort_lines(lines)
end

local function summary_lines(inp, agent)
  local rows = inp.summaries or {}
  if #rows > 1 then fail("%d work summaries for agent %s (one a month)", #rows, tostring(agent)) end
  local s = rows[1]
  if not (s and s.submitted and s.plan) then
    local fact = not s and "no summary recorded" or not s.submitted and "not submitted" or "no plan for next month"
    return { { item = "summary", points = -section_by_id.summary.points, fact = fact } }
  end
  if s.deduct and s.deduct > 0 then return { { item = "summary", points = -s.deduct, fact = s.note } } end
  return {}
end

local function study_lines(inp, agent)
  local lines = {}
  for _, s in ipairs(inp.study or {}) do
    if type(s.deduct) ~= "number" then fail("study row without a number to deduct (agent %s)", tostring(agent)) end
    lines[#lines + 1] = { item = "study", points = -math.abs(s.deduct), fact = s.reason }
  end
  return sort_lines(lines)
end

local function complaint_lines(inp)
  local lines = {}
  for _, c in ipairs(inp.complaints or {}) do
    if c.valid then lines[#lines + 1] = { item = "complaint", points = M.complaint_points, call = c.call, fact = c.note } end
  end
  return sort_lines(lines)
end

-- 附加得分: adopted suggestions and confirmed praise; returns lines, the capped bonus.
local function bonus_of(inp, agent)
  local lines, bonus = {}, 0
  for _, s in ipairs(inp.suggestions or {}) do
    if s.adopted then lines[#lines + 1] = { item = "suggestion", points = M.suggestion_points, fact = s.note } end
  end
  for _, p in ipairs(inp.praise or {}) do
    local pts = M.praise_points[p.kind]
    if not pts then fail("praise kind '%s' unknown (agent %s)", tostring(p.kind), tostring(agent)) end
    if p.confirmed ~= false then lines[#lines + 1] = { item = "praise_" .. p.kind, points = pts, fact = p.note } end
  end
  sort_lines(lines)
  for _, l in ipairs(lines) do bonus = bonus + l.points end
  return lines, math.min(bonus, M.bonus_max)
end

local function section(id, score, lines, extra)
  local s = { id = id, title = section_by_id[id].title, points = section_by_id[id].points,
              score = round(score), lines = lines }
  s.deduction = round(s.points - s.score)
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

-- The sheet of one agent for one month; inp holds that agent's rows (see the top of the file)
-- and opts.key the draw's ordering key.  Everything on it follows from the rows, in any order.
function M.sheet(agent, month, inp, opts)
  opts = opts or {}
  local notes = {}
  local evidence, month_failed, call_failed = findings(inp)
  -- the leader's part: the leader's assessment and every item the month's calls failed
  local leader = inp.leader
  if not leader then notes[#notes + 1] = "no leader's assessment (班长综合评分): only the measured items deduct" end
  local lp, lp_lines = M.policy_score(leader)
  local lc, lc_lines = M.conduct_score(failed_items(month_failed, leader))
  local sample, drawn, random = draw_all(agent, month, inp, opts.key)
  if not random then notes[#notes + 1] = "recordings drawn in call order, not at random (no hash key)" end
  local recordings = score_recordings(inp, drawn, call_failed, notes)
  if #recordings == 0 then notes[#notes + 1] = "no scored recording: the leader's score counts alone" end

  local sections = {
    section("policy", weighted(lp, scores_of(recordings, "policy")), lp_lines, { leader = lp }),
    section("conduct", weighted(lc, scores_of(recordings, "conduct")), lc_lines, { leader = lc }),
  }
  for _, part in ipairs({ { "discipline", discipline_lines }, { "summary", summary_lines },
                          { "study", study_lines }, { "complaints", complaint_lines } }) do
    local lines = part[2](inp, agent)
    sections[#sections + 1] = section(part[1], part_score(part[1], lines), lines)
  end
  local bonus_lines, bonus = bonus_of(inp, agent)
  local base = 0
  for _, s in ipairs(sections) do base = base + s.score end
  base = round(base)
  table.sort(notes)
  return {
    agent = agent, month = month, due = M.due_date(month),
    base = base, bonus = bonus, total = round(base + bonus),
    sections = sections, bonus_lines = bonus_lines, recordings = recordings,
    sample = sample, evidence = evidence, notes = notes,
  }
end

-- ---- the month -----------------------------------------------------------------------------

local GROUPED = { "cdrs", "states", "breaks", "reviews", "discipline", "summaries", "study",
                  "complaints", "praise", "suggestions" }

-- Every agent's sheet for a month (input: the lists named at the top of the file, every row
-- carrying its agent) and the ranking.  Rows are grouped by agent once: a month of 300,000
-- calls is one pass.  Agents: every agent any row names.
function M.month(month, input, opts)
  local per = {}
  local function of(agent)
    if agent == nil then fail("a row without an agent") end
    per[agent] = per[agent] or { reviewers = input.reviewers }
    return per[agent]
  end
  for _, list in ipairs(GROUPED) do
    for _, row in ipairs(input[list] or {}) do
      local p = of(row.agent)
      p[list] = p[list] or {}
      table.insert(p[list], row)
    end
  end
  for _, row in ipairs(input.leader or {}) do
    local p = of(row.agent)
    if p.leader then fail("two leader's assessments for agent %s", tostring(row.agent)) end
    p.leader = row
  end
  local sheets = {}
  for agent, inp in pairs(per) do sheets[#sheets + 1] = M.sheet(agent, month, inp, opts) end
  return M.rank(sheets)
end

-- Sorts sheets by total, then base, then agent, and sets each sheet's rank: equal totals
-- share a rank, the next rank skips (1, 1, 3).
function M.rank(sheets)
  table.sort(sheets, function(a, b)
    if a.total ~= b.total then return a.total > b.total end
    if a.base ~= b.base then return a.base > b.base end
    return tostring(a.agent) < tostring(b.agent)
  end)
  for i, s in ipairs(sheets) do
    local prev = sheets[i - 1]
    s.rank = (prev and prev.total == s.total) and prev.rank or i
  end
  return sheets
end

-- The day a month's results are due: the M.due_day of the next month ("2026-12" -> "2027-01-05").
function M.due_date(month)
  local y, m = month:match("^(%d%d%d%d)%-(%d%d)$")
  if not y then fail("month must be YYYY-MM, got '%s'", tostring(month)) end
  y, m = tonumber(y), tonumber(m)
  if m < 1 or m > 12 then fail("month must be YYYY-MM, got '%s'", month) end
  if m == 12 then y, m = y + 1, 1 else m = m + 1 end
  return string.format("%04d-%02d-%02d", y, m, M.due_day)
end

return M
