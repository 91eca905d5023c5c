-- accounts_http.lua — the account query's data source over HTTP (contrib/accounts-http/):
-- key 4 (§10.12; SPEC 2.5) asks the site's back end instead of the demo table.
--
-- Install: copy this file into rules/, list the back end's host in http_allow of
-- rules/engine.lua, and end rules/accounts.lua with
--     return require("accounts_http").wrap(M, { url = "http://backend.example:8099/api/v1" })
-- instead of `return M`.  wrap keeps everything else of rules/accounts.lua (the ID check
-- digit, the lock after wrong PINs in the engine's store) and replaces the two functions
-- that read account data:
--   lookup(id)               POST {url}/accounts/lookup  {"id": ID}
--                              → {"found": true} | {"found": false}
--   check_pin(a, id, pin)    POST {url}/accounts/verify  {"id": ID, "pin": PIN}
--                              → {"ok": true, "balance_fen": 1234567, "paid_months": 96,
--                                 "last_paid": "2026-10-15"} | {"ok": false}
-- The PIN is checked by the back end (the engine keeps no PIN or PIN hash); the account's
-- figures come with a right PIN only.  Options of wrap: url (required), token (sent as
-- "Authorization: Bearer TOKEN"), timeout_ms (default http_timeout_ms of rules/engine.lua).
-- The API is served for trying by contrib/accounts-http/backend.py; README.md there.
--
-- Failures: when lookup cannot reach the back end the caller hears "sorry" (the script's
-- own path for a failing source); when check_pin cannot, it raises an error, so the call
-- takes the fallback path instead of counting a wrong PIN the caller never typed.
--
-- Never log or keep an ID or a PIN: they go in request bodies only (not in URLs, which
-- servers log), and no error text here contains them.
local M = {}

-- ---- JSON: the flat objects of this API -------------------------------------------------

local ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function encode_string(s)
  return '"' .. (s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or string.format("\\u%04x", c:byte())
  end)) .. '"'
end

-- {name = string | number | boolean} as a JSON object (names sorted: stable bodies)
local function encode(t)
  local names = {}
  for k in pairs(t) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do
    local v = t[k]
    parts[#parts + 1] = encode_string(k) .. ":" .. (type(v) == "string" and encode_string(v) or tostring(v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local UNESCAPE = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' }
local MAX_DEPTH = 16   -- deeper nesting is not an account record

local function bad(why) error({ json = why }, 0) end
local function skip(s, i) return s:find("[^ \t\r\n]", i) or #s + 1 end

local function parse_string(s, i)   -- s:sub(i, i) == '"'
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then bad("unterminated string") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      if e == "u" then
        local hex = s:sub(j + 2, j + 5)
        if not hex:match("^%x%x%x%x$") then bad("bad \\u escape") end
        out[#out + 1] = utf8.char(tonumber(hex, 16))
        j = j + 6
      elseif UNESCAPE[e] then
        out[#out + 1] = UNESCAPE[e]
        j = j + 2
      else
        bad("bad escape")
      end
    else
      local k = s:find('["\\]', j) or #s + 1
      out[#out + 1] = s:sub(j, k - 1)
      j = k
    end
  end
end

local parse_value

local function parse_number(s, i)
  local int = s:match("^-?%d+", i)
  if not int then bad("unexpected character at " .. i) end
  local j = i + #int
  local frac = s:match("^%.%d+", j) or ""
  j = j + #frac
  local exp = s:match("^[eE][-+]?%d+", j) or ""
  j = j + #exp
  local n = tonumber(int .. frac .. exp)
  return math.tointeger(n) or n, j
end

local LITERALS = { ["true"] = true, ["false"] = false }

function parse_value(s, i, depth)
  if depth > MAX_DEPTH then bad("nested too deeply") end
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" or c == "[" then
    local t, close, n = {}, c == "{" and "}" or "]", 0
    i = skip(s, i + 1)
    if s:sub(i, i) == close then return t, i + 1 end
    while true do
      local k
      if close == "}" then
        if s:sub(i, i) ~= '"' then bad("expected a name at " .. i) end
        k, i = parse_string(s, i)
        i = skip(s, i)
        if s:sub(i, i) ~= ":" then bad("expected ':' at " .. i) end
        i = i + 1
      else
        n = n + 1
        k = n
      end
      local v
      v, i = parse_value(s, i, depth + 1)
      t[k] = v
      i = skip(s, i)
      local sep = s:sub(i, i)
      if sep == close then return t, i + 1 end
      if sep ~= "," then bad("expected ',' or '" .. close .. "' at " .. i) end
      i = skip(s, i + 1)
    end
  elseif c == '"' then
    return parse_string(s, i)
  elseif s:sub(i, i + 3) == "true" or s:sub(i, i + 4) == "false" then
    local word = s:match("^%a+", i)
    return LITERALS[word], i + #word
  elseif s:sub(i, i + 3) == "null" then
    return nil, i + 4
  end
  return parse_number(s, i)
end

-- A JSON text as a Lua value (null is nil), or nil, "why" when it is not JSON.
local function decode(s)
  local ok, v, i = pcall(parse_value, s, 1, 0)
  if not ok then
    if type(v) == "table" and v.json then return nil, v.json end
    error(v, 0)                    -- not ours (the budget, memory): let it through
  end
  if skip(s, i) <= #s then return nil, "text after the value" end
  return v
end

M.encode, M.decode = encode, decode   -- for the scenarios and for other adapters

-- ---- the data source -------------------------------------------------------------------------

-- POSTs obj as JSON to url .. path; returns the decoded answer object and the HTTP status,
-- or nil, "error text" (no ID or PIN in it: the client's errors name only the host).
local function post(opts, path, obj)
  local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  if opts.token then headers["Authorization"] = "Bearer " .. opts.token end
  local r, err = hl.http.request{ method = "POST", url = opts.url .. path, headers = headers,
                                  body = encode(obj), timeout_ms = opts.timeout_ms }
  if not r then return nil, "account back end: " .. err end
  if r.status ~= 200 and r.status ~= 404 then
    return nil, string.format("account back end: %s answered HTTP %d", path, r.status)
  end
  local v, why = decode(r.body)
  if type(v) ~= "table" then
    return nil, string.format("account back end: %s answered something that is not a JSON object (%s)",
                              path, why or type(v))
  end
  return v, r.status
end

-- base: the module of rules/accounts.lua (its lookup and check_pin are replaced).
function M.wrap(base, opts)
  assert(type(opts) == "table" and type(opts.url) == "string" and opts.url:match("^https?://[^/]"),
         "accounts_http.wrap: opts.url must be the back end's API URL (http://host:port/api/v1)")
  assert(opts.token == nil or (type(opts.token) == "string" and not opts.token:find("[\r\n]")),
         "accounts_http.wrap: opts.token must be a string")
  local o = { url = (opts.url:gsub("/+$", "")), token = opts.token, timeout_ms = opts.timeout_ms }

  -- nil (no such account), nil, err (the back end failed) or a table that check_pin fills
  function base.lookup(id)
    local v, status = post(o, "/accounts/lookup", { id = id })
    if not v then return nil, status end
    if v.found ~= true then return nil end
    return { found = true }
  end

  -- true (and the account's figures copied into a) or false; raises when the back end fails
  function base.check_pin(a, id, pin)
    local v, status = post(o, "/accounts/verify", { id = id, pin = pin })
    if not v then error(status) end
    if v.ok ~= true then return false end
    a.balance_fen = math.tointeger(v.balance_fen) or 0
    a.paid_months = math.tointeger(v.paid_months) or 0
    a.last_paid = type(v.last_paid) == "string" and v.last_paid or ""
    return true
  end

  return base
end

return M
