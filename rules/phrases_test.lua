-- rules/phrases_test.lua — the phrase checker (rules/phrases.lua) against the rule book's
-- phrases: each case names the article or table row its phrase comes from, and takes the
-- phrase and the tolerance from the rules, never a copy.
local phrases = require "phrases"

local function fail(fmt, ...) error(string.format(fmt, ...), 3) end
local function eq(got, want, what)
  if got ~= want then fail("%s: expected %s, got %s", what, tostring(want), tostring(got)) end
end

-- the phrase of a moment whose source names `src`
local function moment_phrase(moment, src)
  for _, p in ipairs(phrases.moments[moment].phrases) do
    if p.src:find(src, 1, true) then return p end
  end
  error("no " .. moment .. " phrase from " .. src, 2)
end
local function forbidden(src)
  for _, p in ipairs(phrases.forbidden) do
    if p.src == src then return p end
  end
  error("no forbidden phrase from " .. src, 2)
end
local function n_chars(s) return #(phrases.normalise(s)) end

-- Text transforms that must not change what was said.
local FULL = { [","] = "，", ["?"] = "？", ["!"] = "！", ["."] = "。", ["1"] = "１", ["2"] = "２", ["3"] = "３" }
local function to_fullwidth(s) return (s:gsub("[,%?!%.123]", FULL)) end
local function spaced(s)
  local out = {}
  for _, c in utf8.codes(s) do out[#out + 1] = utf8.char(c) end
  return table.concat(out, " ")
end
local function drop_char(s, i)   -- remove the i-th character
  return phrases.slice(s, 1, i - 1) .. phrases.slice(s, i + 1, utf8.len(s))
end
local function replace_char(s, i, c)
  return phrases.slice(s, 1, i - 1) .. c .. phrases.slice(s, i + 1, utf8.len(s))
end
-- first character position (in s) of the k-th normalised character
local function nth_kept(s, k) local _, pos = phrases.normalise(s); return pos[k] end

local greeting = moment_phrase("greeting", "第二十一条 1")
local closing_table = moment_phrase("closing", "评分表 挂机礼仪")
local dont_know = forbidden("行为规范 第二十二条 1")
local cant_hear = forbidden("行为规范 第二十二条 10")

local function hit_of(hits, text)
  for _, h in ipairs(hits) do if h.text == text then return h end end
end

local cases = {}
local function case(name, run) cases[#cases + 1] = { name = name, run = run } end

-- Tolerance edges: each variant of a phrase, and whether it must still be found.
local tolerant = {
  { "第二十一条 1 欢迎词 as written", function(s) return s end, true },
  { "第二十一条 1 欢迎词 without punctuation", function(s) return (s:gsub(",", "")) end, true },
  { "第二十一条 1 欢迎词 in full-width punctuation", to_fullwidth, true },
  { "第二十一条 1 欢迎词 with a space between every character", spaced, true },
  { "第二十一条 1 欢迎词 one character dropped (recogniser slip)", function(s) return drop_char(s, 4) end, true },
  { "第二十一条 1 欢迎词 one character wrong", function(s) return replace_char(s, 5, "搞") end, true },
}
for _, t in ipairs(tolerant) do
  local label, transform, found = t[1], t[2], t[3]
  case(label .. (found and ": found" or ": not found"), function()
    local text = transform(greeting.text)
    local hits = phrases.find("嗯。" .. text .. "请讲。", phrases.moments.greeting.phrases)
    eq(hits[1] ~= nil, found, "hit in '" .. text .. "'")
    if found then eq(hits[1].pos, 3, "position of the hit (characters, after 嗯。)") end
  end)
end

case("tolerance: one edit more than the phrase's allowance is not a match", function()
  local n = n_chars(greeting.text)
  local allowed = phrases.allowed_edits(n)
  local text = greeting.text
  -- change allowed+1 of the phrase's characters, spread out
  local kept = {}
  for k = 1, allowed + 1 do kept[#kept + 1] = nth_kept(text, k * 2) end
  for _, p in ipairs(kept) do text = replace_char(text, p, "乙") end
  eq(#phrases.find(text, phrases.moments.greeting.phrases), 0, "hits with " .. (allowed + 1) .. " edits")
end)

case("tolerance: a phrase shorter than min_chars must match exactly (首问负责制 二 不知道)", function()
  local short = forbidden("首问负责制 二")
  eq(n_chars(short.text) < phrases.tolerance.min_chars, true, "the phrase is a short one")
  eq(phrases.allowed_edits(n_chars(short.text)), 0, "edits allowed")
  local changed = replace_char(short.text, 2, "乙")
  eq(#phrases.find("他说" .. changed .. "了", { short }), 0, "hits of '" .. changed .. "'")
end)

case("positions count characters of the original text, punctuation and spaces included", function()
  local prefix = "喂， 您好！ "
  local text = prefix .. dont_know.text
  local hits = phrases.find(text, { dont_know })
  eq(#hits, 1, "hits")
  eq(hits[1].pos, utf8.len(prefix) + 1, "position")
  eq(hits[1].last, utf8.len(text), "last character")
  eq(hits[1].found, dont_know.text, "the words found")
end)

case("第二十二条 1 我不知道 contains 首问负责制 不知道: one hit, the longer phrase", function()
  local hits = phrases.find("这个" .. dont_know.text .. "。", phrases.forbidden)
  eq(#hits, 1, "hits")
  eq(hits[1].text, dont_know.text, "the phrase reported")
  eq(hits[1].book, true, "from the book")
end)

case("第二十二条 10 你怎么还听不懂 found with a word dropped", function()
  local text = drop_char(cant_hear.text, 4)   -- 你怎么听不懂
  eq(hit_of(phrases.find(text, phrases.forbidden), cant_hear.text) ~= nil, true, "hit in '" .. text .. "'")
end)

case("every forbidden phrase of 第二十二条 and 首问负责制 is in the data, marked from the book", function()
  local book = 0
  for _, p in ipairs(phrases.forbidden) do if p.book then book = book + 1 end end
  local art22, first_q = 0, 0
  for _, p in ipairs(phrases.forbidden) do
    if p.src:find("第二十二条", 1, true) then art22 = art22 + 1 end
    if p.src:find("首问负责制", 1, true) and p.book then first_q = first_q + 1 end
  end
  eq(art22, 10, "第二十二条 lists ten 忌语")
  eq(first_q, 4, "首问负责制 二 names four")
  eq(book, art22 + first_q, "phrases marked book = true")
end)

case("every forbidden phrase is found in a sentence that contains it, at its position", function()
  for _, p in ipairs(phrases.forbidden) do
    local prefix = "好的，"
    local hits = phrases.find(prefix .. p.text .. "。", phrases.forbidden)
    local h = hit_of(hits, p.text)
    if not h then fail("'%s' (%s) not found", p.text, p.src) end
    eq(h.pos, utf8.len(prefix) + 1, "position of " .. p.text)
  end
end)

case("every standard phrase of every moment finds itself", function()
  for name, m in pairs(phrases.moments) do
    for _, p in ipairs(m.phrases) do
      if #phrases.find(p.text, m.phrases) == 0 then fail("%s: '%s' not found", name, p.text) end
    end
  end
end)

case("no standard phrase is taken for a forbidden one", function()
  for name, m in pairs(phrases.moments) do
    for _, p in ipairs(m.phrases) do
      local hits = phrases.find(p.text, phrases.forbidden)
      if #hits > 0 then fail("%s: '%s' hits forbidden '%s'", name, p.text, hits[1].text) end
    end
  end
end)

-- A whole call (评分表 应答礼仪 欢迎词, 挂机礼仪 结束语, 服务禁语).
local function call_text(opening, middle, ending)
  return {
    { speaker = "agent", text = opening },
    { speaker = "caller", text = "我想问一下养老保险怎么转移，我不知道去哪里办。" },
    { speaker = "agent", text = middle },
    { speaker = "caller", text = "好的，谢谢。" },
    { speaker = "agent", text = ending },
  }
end

case("评分表 欢迎词 and 结束语 found at the start and the end of the agent's turns", function()
  local r = phrases.check_call(call_text(greeting.text, "您需要带身份证到社保经办机构办理。", closing_table.text))
  eq(r.greeting and r.greeting.text, greeting.text, "greeting")
  eq(r.closing and r.closing.text, closing_table.text, "closing")
  eq(#r.forbidden, 0, "forbidden hits (the caller's 我不知道 is not the agent's)")
end)

case("评分表 欢迎词 missing: a greeting said only late in the call does not count", function()
  local filler = string.rep("您需要带身份证到社保经办机构办理。", 4)
  local r = phrases.check_call(call_text("喂。", filler .. greeting.text, closing_table.text))
  eq(r.greeting, nil, "greeting")
  eq(n_chars(filler) > phrases.window_chars, true, "the filler is longer than the window")
end)

case("评分表 服务禁语 in the summary is reported with its field", function()
  local r = phrases.check_call(call_text(greeting.text, "好的。", closing_table.text), "来电人问转移，答复：" .. dont_know.text)
  eq(#r.forbidden, 1, "forbidden hits")
  eq(r.forbidden[1].field, "summary", "field")
end)

case("a plain string transcript is the agent's side", function()
  local r = phrases.check_call(greeting.text .. "稍等。" .. cant_hear.text .. closing_table.text)
  eq(r.greeting ~= nil and r.closing ~= nil, true, "greeting and closing")
  eq(r.forbidden[1] and r.forbidden[1].text, cant_hear.text, "forbidden")
end)

return cases
