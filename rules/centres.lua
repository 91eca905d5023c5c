-- rules/centres.lua — the centres of the province and beyond: who answers where.
--
-- Jilin province (SPEC; the rule book writes "xs省"): the provincial centre in
-- Changchun and one centre per city, each with its area code.  `sip` is where the
-- caller is connected when they choose that centre with key 9 (§10.14); agent queues are
-- named "<area code>.<kind>" ("province.<kind>" for the provincial centre), kind being
-- "general" (key 0, §10.15) or "complaints" (key 5, §10.13).
-- Other provinces' 12333 centres are examples of key-9 destinations outside Jilin.
--
-- The SIP addresses below are placeholders (.invalid never resolves): each site sets its
-- trunk or Kamailio address here.  Tests copy this file and point them at loopback.
local M = {}

M.province = {
  name = "吉林省",          -- read in the welcome (§10.3 writes "xs省"; see rules/ivr.lua)
  code = "province",
  sip = "sip:12333@province.12333.jl.invalid",
}

-- area code -> centre
M.cities = {
  ["0431"] = { name = "长春", sip = "sip:12333@0431.12333.jl.invalid" },
  ["0432"] = { name = "吉林", sip = "sip:12333@0432.12333.jl.invalid" },
  ["0433"] = { name = "延边", sip = "sip:12333@0433.12333.jl.invalid" },
  ["0434"] = { name = "四平", sip = "sip:12333@0434.12333.jl.invalid" },
  ["0435"] = { name = "通化", sip = "sip:12333@0435.12333.jl.invalid" },
  ["0436"] = { name = "白城", sip = "sip:12333@0436.12333.jl.invalid" },
  ["0437"] = { name = "辽源", sip = "sip:12333@0437.12333.jl.invalid" },
  ["0438"] = { name = "松原", sip = "sip:12333@0438.12333.jl.invalid" },
  ["0439"] = { name = "白山", sip = "sip:12333@0439.12333.jl.invalid" },
}

-- Centres outside the province a caller may reach with key 9 (examples).
M.other = {
  ["010"]  = { name = "北京", sip = "sip:12333@010.12333.invalid" },
  ["021"]  = { name = "上海", sip = "sip:12333@021.12333.invalid" },
  ["024"]  = { name = "沈阳", sip = "sip:12333@024.12333.invalid" },
  ["0451"] = { name = "哈尔滨", sip = "sip:12333@0451.12333.invalid" },
}

-- The provincial centre itself is reachable with key 9 as "0" (上级, §10.14).
M.upper_code = "0"

-- Mobile numbers: the first seven digits (号段) name the city that issued the number.
-- Sample segments for each city; the operator's full table replaces these.
M.mobile_segments = {
  ["1380431"] = "0431", ["1390431"] = "0431", ["1504310"] = "0431",
  ["1380432"] = "0432", ["1390432"] = "0432", ["1504320"] = "0432",
  ["1380433"] = "0433", ["1390433"] = "0433",
  ["1380434"] = "0434", ["1390434"] = "0434",
  ["1380435"] = "0435", ["1390435"] = "0435",
  ["1380436"] = "0436", ["1390436"] = "0436",
  ["1380437"] = "0437", ["1390437"] = "0437",
  ["1380438"] = "0438", ["1390438"] = "0438",
  ["1380439"] = "0439", ["1390439"] = "0439",
}

-- The city whose callers first choose provincial (1) or city (2) service (§10.15).
M.capital = "0431"

-- The caller's number without a country prefix or a trunk's leading "+".
-- (+86 431 8888 1234 -> 043188881234; +86 138... -> 138...)
local function national(number)
  local n = tostring(number or ""):gsub("^%+", ""):gsub("^0086", "86")
  if n:match("^86%d%d%d%d%d%d%d%d%d%d") then
    n = n:sub(3)
    if not n:match("^[01]") then n = "0" .. n end
  end
  return n
end

-- The centre that owns a caller's number: an area code of M.cities, or "province"
-- (unknown numbers, other provinces, anonymous callers: SPEC 2.5 key 0).
function M.centre_of(number)
  local n = national(number)
  if n:match("^01%d%d%d%d%d%d%d%d%d$") then n = n:sub(2) end  -- a mobile dialled with 0
  if n:match("^1%d%d%d%d%d%d%d%d%d%d$") then                  -- 11-digit mobile
    return M.mobile_segments[n:sub(1, 7)] or M.province.code
  end
  for len = 4, 3, -1 do                                         -- fixed line: 0 + area code
    local code = n:sub(1, len)
    if #n > len and M.cities[code] then return code end
  end
  return M.province.code
end

-- The queue of a centre for a kind of call: "0432.general", "province.complaints".
function M.queue(centre, kind) return centre .. "." .. kind end

-- Key 9: the centre an area code names, or nil.  Returns {name=, sip=} and the word used
-- in the route (transfer:<code>, transfer:province for the upper level).
function M.destination(code)
  if code == M.upper_code then return M.province, M.province.code end
  local c = M.cities[code] or M.other[code]
  if c then return c, code end
  return nil
end

return M
