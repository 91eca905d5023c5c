-- scripts/ivr/check.lua — the 12333 flows' source convention for menus, checked when the
-- policy is built (`hotline test-rules` and every reload): scripts/main.lua hands M.sources
-- to the engine as its check_sources hook (docs/lua-api.md, "The policy's own checks").
--
-- A menu literal — a table constructor with a literal `name = "..."` and a `keys = ...`
-- field — must say which keys its prompt offers: `offers = "1234590"` (and `offers_out`
-- for out of hours).  When offers and the keys table are literal, every key offered must
-- have a branch (`["5"] = ...`) and every branch must be offered.  A menu literal assigned
-- to a local (`local m = {...}` or `local m = menu.define{...}`) that the file never
-- mentions again is unreachable.  Checks that need every menu at once (reachability from
-- the main menu, out-of-hours keys against rules/ivr.lua) are menu.lua's lint.
-- Scenario files are not modules, so they are never handed here (their `keys` are what a
-- caller types).  The engine checks that prompts exist itself (engine/lua/check.c).
local M = {}

-- ---- a small Lua tokenizer: names, strings, single characters, with line numbers --------

local function newlines(s) local _, n = s:gsub("\n", ""); return n end

-- The level of a long bracket "[==[" starting at i, or nil.
local function long_level(src, i)
  local eq = src:match("^%[(=*)%[", i)
  return eq and #eq
end

-- Skips a long bracket of level at i; returns its contents and the index after it.
local function skip_long(src, i, level)
  local open = i + level + 2
  local close = "]" .. string.rep("=", level) .. "]"
  local j = src:find(close, open, true)
  if not j then return src:sub(open), #src + 1 end
  return src:sub(open, j - 1), j + #close
end

local function tokenize(src)
  local toks, i, line, n = {}, 1, 1, #src
  local function add(kind, v) toks[#toks + 1] = { kind = kind, v = v, line = line } end
  while i <= n do
    local c = src:sub(i, i)
    if c == "\n" then
      line, i = line + 1, i + 1
    elseif c:find("^%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local lvl = long_level(src, i + 2)
      if lvl then
        local body, after = skip_long(src, i + 2, lvl)
        line, i = line + newlines(body), after
      else
        i = (src:find("\n", i, true) or n + 1)
      end
    elseif c == "[" and long_level(src, i) then
      local body, after = skip_long(src, i, long_level(src, i))
      add("string", body)
      line, i = line + newlines(body), after
    elseif c == '"' or c == "'" then
      local j, buf = i + 1, {}
      while j <= n do
        local d = src:sub(j, j)
        if d == c or d == "\n" then break end
        if d == "\\" then j = j + 1; d = src:sub(j, j) end
        buf[#buf + 1] = d
        j = j + 1
      end
      add("string", table.concat(buf))
      i = j + 1
    elseif c:find("^[%a_]") then
      local name = src:match("^[%w_]+", i)
      add("name", name)
      i = i + #name
    else
      add("char", c)
      i = i + 1
    end
  end
  toks[#toks + 1] = { kind = "end", line = line }
  return toks
end

local function is_char(t, c) return t.kind == "char" and t.v == c end

-- Lua's block keywords, so that `x = 1` in a function body is not taken for a field.
local BLOCK = { ["function"] = 1, ["if"] = 1, ["do"] = 1, ["repeat"] = 1, ["end"] = -1, ["until"] = -1 }
local function block_delta(t) return t.kind == "name" and BLOCK[t.v] or 0 end

-- ---- the offers/keys agreement, shared with menu.lua's lint -----------------------------

-- Problems of a menu whose prompts offer the keys of the string `offered` and whose
-- branches are the keys of the list `handled`: a list of messages (empty when they agree).
function M.keys_agree(name, offered, handled)
  local problems, has = {}, {}
  for _, k in ipairs(handled) do has[k] = true end
  for k in offered:gmatch(".") do
    if not has[k] then
      problems[#problems + 1] = string.format("menu '%s' offers key %s but no branch handles it (keys has no [\"%s\"])",
                                              name, k, k)
    end
  end
  for _, k in ipairs(handled) do
    if not offered:find(k, 1, true) then
      problems[#problems + 1] = string.format("menu '%s' handles key %s but its prompt never offers it (add it to offers)",
                                              name, k)
    end
  end
  return problems
end

-- ---- menu literals ----------------------------------------------------------------------

local scan_table

-- A field value that is one string literal (not followed by "..", a call or an index).
local function literal_value(toks, p)
  local t, nxt = toks[p], toks[p + 1]
  if t.kind ~= "string" then return nil end
  for _, c in ipairs({ ".", "(", ":", "[" }) do
    if is_char(nxt, c) then return nil end
  end
  return t.v
end

-- After `keys = {` at p: the literal keys (["1"] = ...) into m.keys; returns the index
-- after the closing brace.
local function scan_keys(s, p, m)
  local blocks = 0
  while true do
    local t = s.toks[p]
    if t.kind == "end" then return p end
    blocks = math.max(0, blocks + block_delta(t))
    if is_char(t, "{") then
      p = scan_table(s, p + 1)
    elseif is_char(t, "}") and blocks == 0 then
      return p + 1
    elseif is_char(t, "[") and blocks == 0 then
      local k, close = s.toks[p + 1], s.toks[p + 2]
      if k.kind == "string" and #k.v == 1 and is_char(close, "]") then
        m.keys[#m.keys + 1] = k.v
        p = p + 3
      else
        m.keys_literal = false
        p = p + 1
      end
    else
      p = p + 1
    end
  end
end

local function judge(s, m)
  if not m.offers then
    s.report(m.line, "menu '%s' does not say which keys its prompt offers (add offers = \"...\", " ..
             "and offers_out for out of hours)", m.name)
    return
  end
  if not (m.offers_literal and m.keys_literal) then return end
  for _, problem in ipairs(M.keys_agree(m.name, m.offers, m.keys)) do s.report(m.line, "%s", problem) end
end

-- After a '{' at p (p is the token after it): scans the constructor up to its '}'.
-- Returns the index after it, and the menu literal found (nil when it is not one).
function scan_table(s, p)
  local toks = s.toks
  local m = { line = toks[p - 1].line, keys = {}, keys_literal = true, offers_literal = true }
  local blocks = 0
  while toks[p].kind ~= "end" do
    local t = toks[p]
    blocks = math.max(0, blocks + block_delta(t))
    if is_char(t, "{") then
      p = scan_table(s, p + 1)
    elseif is_char(t, "}") and blocks == 0 then
      p = p + 1
      break
    elseif t.kind == "name" and blocks == 0 and is_char(toks[p + 1], "=") and not is_char(toks[p + 2], "=") then
      local field, v = t.v, toks[p + 2]
      p = p + 2
      if field == "name" then
        m.name = literal_value(toks, p)
      elseif field == "offers" or field == "offers_out" then
        local keys = literal_value(toks, p)
        m.offers = (m.offers or "") .. (keys or "")
        m.offers_literal = m.offers_literal and keys ~= nil
      elseif field == "keys" then
        m.has_keys = true
        if is_char(v, "{") then
          p = scan_keys(s, p + 1, m)
          goto continue
        end
        m.keys_literal = false
      end
      -- the value's first token may open a table or a block
      if is_char(v, "{") then
        p = scan_table(s, p + 1)
      else
        blocks = blocks + block_delta(v)
        p = p + 1
      end
    else
      p = p + 1
    end
    ::continue::
  end
  if m.name and m.has_keys then
    judge(s, m)
    return p, m
  end
  return p, nil
end

local function count_name(toks, name)
  local n = 0
  for _, t in ipairs(toks) do
    if t.kind == "name" and t.v == name then n = n + 1 end
  end
  return n
end

-- The problems of one file: a list of "file:line: ..." strings.
function M.menus(file, src)
  local problems = {}
  local s = { toks = tokenize(src) }
  function s.report(line, fmt, ...)
    problems[#problems + 1] = string.format("%s:%d: " .. fmt, file, line, ...)
  end
  local toks, locals = s.toks, {}
  local pending, state = nil, 0  -- 1 after local, 2 after local NAME, 3 after '='
  local p = 1
  while toks[p].kind ~= "end" do
    local t = toks[p]
    if is_char(t, "{") then
      local menu
      p, menu = scan_table(s, p + 1)
      if menu and state == 3 then locals[#locals + 1] = { var = pending, menu = menu } end
      state = 0
    else
      if t.kind == "name" and t.v == "local" then
        state = 1
      elseif state == 1 and t.kind == "name" then
        pending, state = t.v, 2
      elseif state == 2 and is_char(t, "=") then
        state = 3
      elseif not (state == 3 and (t.kind == "name" or is_char(t, ".") or is_char(t, "("))) then
        state = 0  -- (local m = menu.define{ ... } / menu.define({ ... }) is still the value)
      end
      p = p + 1
    end
  end
  for _, l in ipairs(locals) do
    if count_name(toks, l.var) <= 1 then
      s.report(l.menu.line, "menu '%s' (local %s) is never used in this file: no key or function " ..
               "leads to it (unreachable)", l.menu.name, l.var)
    end
  end
  return problems
end

-- The engine's check_sources hook: files = { ["scripts/x.lua"] = source, ... }; returns
-- every problem found, in file order.
function M.sources(files)
  local names, problems = {}, {}
  for file in pairs(files) do names[#names + 1] = file end
  table.sort(names)
  for _, file in ipairs(names) do
    for _, problem in ipairs(M.menus(file, files[file])) do problems[#problems + 1] = problem end
  end
  return problems
end

return M
