-- rules/phrases.lua — what an agent should say at each moment of a call and what must never be
-- said (rule book: 行为规范 第五章 第二十一条 文明服务用语, 第二十二条 文明服务忌语; 服务规范用语
-- (chapter 7); the 服务规范 rows of 班长综合评分及提取录音评分表; 首问负责制 二), as data, and
-- the checker that finds them in a call's text: a transcript (a recogniser's or a reviewer's)
-- or the agent's call summary.
--
-- The checker forgives what speech-to-text and typing change without changing what was said:
-- punctuation, spaces, full-width against half-width forms, letter case, and a few characters
-- inserted, dropped or changed (edit distance, `M.tolerance`).  Each hit names the phrase, its
-- moment, where the phrase comes from, and its position in the text (characters, 1-based).
-- scoring.lua turns hits into the service-conduct items (欢迎词, 结束语, 服务禁语).
local M = {}

-- Edit distance allowed per phrase: `per_chars` characters of the (normalised) phrase buy one
-- edit, and a phrase shorter than `min_chars` must match exactly.  5 and 5: "您好很高兴为您服
-- 务" (9) forgives one slip, "不知道" (3) none — one edit on three characters would match half
-- the language.  The centre's choice, not the book's: change it here and rerun the tests.
M.tolerance = { per_chars = 5, min_chars = 5 }

-- Where the opening and closing moments are looked for: the first and last `window_chars`
-- characters of the agent's normalised text (a greeting in the middle of the call is no
-- greeting).  The centre's choice: the longest greeting or closing phrase below fits twice.
M.window_chars = 40

-- Standard phrases per moment.  `src` is where the words are written; a phrase with a
-- placeholder in the book (转接给XX, *号咨询员) keeps its fixed part only.
M.moments = {
  greeting = {
    title = "应答语 / 欢迎词",
    phrases = {
      { text = "您好,很高兴为您服务", src = "行为规范 第二十一条 1; 服务规范用语 应答语; 评分表 应答礼仪 欢迎词" },
    },
  },
  hold = {
    title = "请对方稍等 / 查询资料",
    phrases = {
      { text = "对不起,请稍等", src = "行为规范 第二十一条 2; 服务规范用语 接待过程中有情况需处理时" },
      { text = "对不起,请您稍等,我给您查阅资料", src = "行为规范 第二十一条 4" },
      { text = "对不起,请您稍等片刻,我立即帮您查询好吗", src = "评分表 查询信息 1" },
    },
  },
  hold_checkin = {
    title = "等待超过30秒时中途联系",
    phrases = {
      { text = "对不起,请您稍等,我正在帮您查询", src = "评分表 查询信息 2" },
    },
  },
  resume = {
    title = "恢复通话",
    phrases = {
      { text = "对不起,让您久等了", src = "评分表 查询信息 3; 评分表 批评电话" },
    },
  },
  transfer = {
    title = "转接",
    phrases = {
      { text = "请稍等,我将您的电话转接给", src = "行为规范 第二十一条 3" },
      { text = "我将您的电话转接给", src = "服务规范用语 一时难以答复或要转接时" },
      { text = "请您不要挂机,我现在将您的电话转给", src = "评分表 转接电话" },
      { text = "请稍等,我将您的电话转给值班班长", src = "行为规范 第二十一条 8" },
    },
  },
  callback = {
    title = "一时难以答复 / 查不到资料",
    phrases = {
      { text = "您的问题我们再作研究,请您留下联系电话", src = "行为规范 第二十一条 5" },
      { text = "请留下您的联系方式,以便尽快回复您", src = "服务规范用语 一时难以答复或要转接时" },
      { text = "我们现在查不到您需要的资料,请留下您的姓名和联系电话", src = "评分表 查询信息 4" },
    },
  },
  thanks_reply = {
    title = "对方致谢",
    phrases = {
      { text = "不客气,这是我们应该做的", src = "行为规范 第二十一条 7; 服务规范用语 来电人致谢时" },
    },
  },
  suggestion = {
    title = "对方提建议",
    phrases = {
      { text = "谢谢您的建议,我们会及时向相关部门反映", src = "服务规范用语 来电人提建议时" },
      { text = "谢谢您提出的宝贵建议,我们会及时向有关部门反映", src = "评分表 建议电话" },
      { text = "我们已将您提出的建议记录在案", src = "行为规范 第二十一条 6" },
    },
  },
  apology_reply = {
    title = "对方致歉",
    phrases = {
      { text = "没关系,我能理解您当时的心情,请不要介意", src = "评分表 致歉电话" },
    },
  },
  complaint = {
    title = "投诉本中心工作人员",
    phrases = {
      { text = "对不起,由于我们服务不周给您添麻烦了,请您原谅", src = "评分表 投诉电话" },
      { text = "对不起,我们将尽快去调查,在最短的时间内给您以满意的答复", src = "服务规范用语 遇到投诉时" },
    },
  },
  closing = {
    title = "结束语",
    phrases = {
      { text = "感谢您的来电,再见", src = "评分表 挂机礼仪 结束语" },
      { text = "请问您还有其他的问题吗", src = "行为规范 第二十一条 11" },
      { text = "您还有其他的问题吗", src = "服务规范用语 结束语" },
      { text = "欢迎您再次使用12333热线服务", src = "服务规范用语 结束语" },
      { text = "很高兴能为您服务,再见", src = "服务规范用语 结束语" },
      { text = "如果您还有其他问题,欢迎您致电12333", src = "评分表 电话外呼 结束通话" },
    },
  },
}

-- 服务禁语 (评分表 服务规范: 不得使用服务禁语, -3).  `book = true`: written in the rule book
-- (行为规范 第二十二条 文明服务忌语 1-10, 首问负责制 二); the others are common ones the
-- centre adds (the same refusal in other words), `book = false`.
M.forbidden = {
  { text = "我不知道", book = true, src = "行为规范 第二十二条 1" },
  { text = "我也不清楚", book = true, src = "行为规范 第二十二条 2" },
  { text = "你问别的部门吧", book = true, src = "行为规范 第二十二条 3" },
  { text = "你不要再说了,听我讲", book = true, src = "行为规范 第二十二条 4" },
  { text = "你快讲,不要再罗嗦了", book = true, src = "行为规范 第二十二条 5" },
  { text = "我已经跟你讲了很长时间了,我要挂电话了", book = true, src = "行为规范 第二十二条 6" },
  { text = "这个问题不在我们咨询的范围内", book = true, src = "行为规范 第二十二条 7" },
  { text = "我已经给你讲得很清楚了,可以了吗", book = true, src = "行为规范 第二十二条 8" },
  { text = "你刚才说的什么,我没听清", book = true, src = "行为规范 第二十二条 9" },
  { text = "你怎么还听不懂", book = true, src = "行为规范 第二十二条 10" },
  { text = "不知道", book = true, src = "首问负责制 二" },
  { text = "不清楚", book = true, src = "首问负责制 二" },
  { text = "不归我管", book = true, src = "首问负责制 二" },
  { text = "你去问别人", book = true, src = "首问负责制 二" },
  { text = "这不是我的事", book = false, src = "common: 推诿 (首问负责制 二 forbids refusing in any words)" },
  { text = "我也没办法", book = false, src = "common: 推诿" },
  { text = "你自己去查", book = false, src = "common: 推诿" },
  { text = "有完没完", book = false, src = "common: 不耐烦 (行为规范 第十一条 不得与服务对象争执)" },
  { text = "你听不懂吗", book = false, src = "common: 讽刺 (行为规范 第十八条 不讽刺挖苦他人)" },
}

-- ---- normalising -------------------------------------------------------------------------

local FULLWIDTH_FIRST, FULLWIDTH_LAST, FULLWIDTH_SHIFT = 0xFF01, 0xFF5E, 0xFEE0

local function is_ascii_alnum(c)
  return (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122)
end

-- Punctuation and spacing: everything below 0x80 but letters and digits, general punctuation
-- (U+2000-206F: “” … —), CJK symbols and punctuation (U+3000-303F: 、。「」 and the ideographic
-- space), and the full-width forms that are not letters or digits.
local function is_ignored(c)
  if c < 0x80 then return not is_ascii_alnum(c) end
  return (c >= 0x2000 and c <= 0x206F) or (c >= 0x3000 and c <= 0x303F) or c == 0xB7
      or (c >= 0xFE30 and c <= 0xFE4F) or (c >= 0xFF01 and c <= 0xFF65)
end

-- A full-width letter or digit becomes its ASCII form, ASCII letters lower case.
local function fold(c)
  if c >= FULLWIDTH_FIRST and c <= FULLWIDTH_LAST then c = c - FULLWIDTH_SHIFT end
  if c >= 65 and c <= 90 then c = c + 32 end
  return c
end

-- text -> { code points kept, folded }, { for each kept one: its position in text (chars) }
function M.normalise(text)
  local chars, pos, n = {}, {}, 0
  for _, c in utf8.codes(text) do
    n = n + 1
    local f = fold(c)
    if not is_ignored(f) then
      chars[#chars + 1] = f
      pos[#pos + 1] = n
    end
  end
  return chars, pos
end

function M.allowed_edits(length)
  if length < M.tolerance.min_chars then return 0 end
  return length // M.tolerance.per_chars
end

-- ---- matching ----------------------------------------------------------------------------

-- Approximate substring search (Sellers): the best-matching spans of pattern p in text t
-- (both code point lists) with at most k edits.  Returns a list of {first, last, edits}
-- (indexes into t), spans not overlapping, left to right.
local function find_approx(p, t, k)
  local m = #p
  local prev_cost, prev_start = {}, {}
  for i = 0, m do prev_cost[i] = i; prev_start[i] = 1 end
  local ends = {}
  for j = 1, #t do
    local cost, start = { [0] = 0 }, { [0] = j + 1 }
    local tj = t[j]
    for i = 1, m do
      local sub = prev_cost[i - 1] + (p[i] == tj and 0 or 1)
      local c, s = sub, prev_start[i - 1]
      if prev_cost[i] + 1 < c then c, s = prev_cost[i] + 1, prev_start[i] end   -- extra char in t
      if cost[i - 1] + 1 < c then c, s = cost[i - 1] + 1, start[i - 1] end     -- char missing in t
      cost[i], start[i] = c, s
    end
    if cost[m] <= k then ends[#ends + 1] = { first = start[m], last = j, edits = cost[m] } end
    prev_cost, prev_start = cost, start
  end
  -- keep the best of each run of overlapping candidates (fewest edits, then the earliest)
  local spans = {}
  for _, e in ipairs(ends) do
    local last = spans[#spans]
    if last and e.first <= last.last then
      if e.edits < last.edits then spans[#spans] = e end
    else
      spans[#spans + 1] = e
    end
  end
  return spans
end

local function codepoints(s)
  local out = {}
  for _, c in utf8.codes(s) do out[#out + 1] = c end
  return out
end

-- A match with k edits keeps at least #p - k of the phrase's characters, each one present in
-- the text: fewer present, and the search cannot succeed (most phrases, most texts).
local function could_match(p, present, k)
  local n = 0
  for _, c in ipairs(p) do if present[c] then n = n + 1 end end
  return n >= #p - k
end

-- Normalised form of every phrase, computed once.
local compiled = setmetatable({}, { __mode = "k" })
local function pattern_of(phrase)
  local c = compiled[phrase]
  if not c then
    c = M.normalise(phrase.text)
    compiled[phrase] = c
  end
  return c
end

-- Hits of the listed phrases in text, each { text, src, pos (first char, 1-based), last,
-- edits, found (the words as written in text) }.  A hit lying inside a longer one's span
-- (不知道 inside 我不知道) is dropped: one utterance, one hit.
-- from, to: only the normalised characters first..last of text are searched (windows).
function M.find(text, phrases, from, to)
  local chars, pos = M.normalise(text)
  from, to = from or 1, math.min(to or #chars, #chars)
  local t = table.move(chars, from, to, 1, {})
  local present = {}
  for _, c in ipairs(t) do present[c] = true end
  local hits = {}
  for _, ph in ipairs(phrases) do
    local p = pattern_of(ph)
    if #p > 0 and could_match(p, present, M.allowed_edits(#p)) then
      for _, s in ipairs(find_approx(p, t, M.allowed_edits(#p))) do
        local first, last = pos[s.first + from - 1], pos[s.last + from - 1]
        hits[#hits + 1] = { text = ph.text, src = ph.src, book = ph.book, pos = first, last = last,
                            edits = s.edits, found = M.slice(text, first, last) }
      end
    end
  end
  local kept = {}
  for _, h in ipairs(hits) do
    local inside = false
    for _, o in ipairs(hits) do
      if o ~= h and o.pos <= h.pos and o.last >= h.last and (o.last - o.pos > h.last - h.pos) then
        inside = true
        break
      end
    end
    if not inside then kept[#kept + 1] = h end
  end
  table.sort(kept, function(a, b) return a.pos < b.pos or (a.pos == b.pos and a.text < b.text) end)
  return kept
end

-- Characters first..last (1-based, inclusive) of a UTF-8 string.
function M.slice(s, first, last)
  local b = utf8.offset(s, first)
  local e = utf8.offset(s, last + 1)
  return s:sub(b, (e or #s + 1) - 1)
end

-- The agent's words of a transcript: a string is the agent's side already (the agent's
-- channel of a stereo recording, or a summary); a list of turns { speaker = "agent" |
-- "caller", text } keeps the agent's turns, joined by a newline (positions then count in
-- the joined text).
function M.agent_text(transcript)
  if type(transcript) == "string" then return transcript end
  local parts = {}
  for _, turn in ipairs(transcript or {}) do
    if turn.speaker == "agent" then parts[#parts + 1] = turn.text end
  end
  return table.concat(parts, "\n")
end

-- The check of one call: greeting at the start, closing at the end, forbidden phrases
-- anywhere; in the transcript's agent turns and, for forbidden phrases, the summary too.
-- Returns { greeting = hit|nil, closing = hit|nil, forbidden = { hit..., each with .field } }.
function M.check_call(transcript, summary)
  local out = { forbidden = {} }
  local said = M.agent_text(transcript)
  local n = #(M.normalise(said))
  out.greeting = M.find(said, M.moments.greeting.phrases, 1, M.window_chars)[1]
  local closing = M.find(said, M.moments.closing.phrases, math.max(1, n - M.window_chars + 1), n)
  out.closing = closing[#closing]
  for _, h in ipairs(M.find(said, M.forbidden)) do
    h.field = "transcript"
    out.forbidden[#out.forbidden + 1] = h
  end
  for _, h in ipairs(summary and M.find(summary, M.forbidden) or {}) do
    h.field = "summary"
    out.forbidden[#out.forbidden + 1] = h
  end
  return out
end

return M
