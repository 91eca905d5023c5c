-- rules/centres.lua — the centres of the province and beyond: who answers where.
--
-- Jilin province (SPEC; the rule book writes "xs省"): the provincial centre in
-- Changchun and one centre per city, each with its area code.  `sip` is where the
-- caller is connected when they choose that centre with key 9 (§10.14); `queues` are the
-- agent queues of the centre (§10.15: calls go to an idle agent of the caller's city).
-- Other provinces' 12333 centres are examples of key-9 destinations outside Jilin.
--
-- The SIP addresses below are placeholders (.invalid never resolves): each site sets its
-- trunk or Kamailio address here.  Tests copy this file and point them at loopback.
local M = {}

M.province = {
  name = "吉林省",          -- read in the welcome (§10.3 writes "xs省")
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

-- The provincial centre itself is reachable with key 9 as "0" (上级).
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

return M
