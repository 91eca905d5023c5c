-- scripts/fax.scenario.lua — key 3, fax on demand (rules/fax_documents.lua), up to the point
-- of sending (the engine's fax primitive is another issue: until call:fax_send /
-- call:fax_queue exist the caller hears fax_unavailable; the route is fax either way).
-- The gateway's address, the attempts and the documents' files come from the rules this
-- tests, so a site that sets its real gateway in rules/fax_gateway.lua changes nothing here.
local gateway = require "fax_gateway"
local docs = require "fax_documents"
local ivr = require "ivr"
local OUT = "2026-01-14T21:00:00"
local FAX_NO = "043188886666"

local function file_of(number)
  for _, d in ipairs(docs.list) do
    if d.number == number then return d.file end
  end
end

-- max_attempts document numbers that rules/fax_documents.lua does not list, each with #
local function unknown_documents()
  local keys = {}
  for n = 99, 10, -1 do
    if #keys < ivr.fax.max_attempts and not file_of(tostring(n)) then keys[#keys + 1] = n .. "#" end
  end
  return keys
end

-- prompt n times (one per wrong entry), then last
local function times(prompt, n, last)
  local p = {}
  for i = 1, n do p[i] = prompt end
  p[n + 1] = last
  return p
end

return {
  {
    name = "document 2 on this call: press start",
    time = OUT, keys = { "3", "2#", "1", { hangup = true } },
    expect = {
      prompts = { "main_menu_out", "fax_intro", "fax_catalogue", "fax/doc_1", "fax/doc_4",
                  "fax_mode", "fax_press_start" },
      menus = { "main", "fax_mode" }, route = "fax", vars = { fax_document = "2", fax_mode = "here" },
    },
  },
  {
    name = "document 4 to a fax number (queued outbound call)",
    time = OUT, keys = { "3", "4", "2", FAX_NO .. "#", { hangup = true } },
    expect = {
      prompts = { "fax_mode", "fax_enter_number", "fax_queued", "other_service", "main_menu_out" },
      not_prompts = { "fax_unavailable" },
      route = "fax", vars = { fax_document = "4", fax_mode = "number" },
      jobs = { { kind = "fax", args = { to = FAX_NO, file = file_of("4") }, max_attempts = gateway.max_attempts } },
    },
  },
  {
    name = "the queued fax job: the fax machine answers and takes every page",
    job = { kind = "fax", args = { to = FAX_NO, file = file_of("1") } },
    dial = { default = { answer_after = 3000 } },
    expect = { job = "done", route = "fax-sent", vars = { fax_pages = 2 },
               dialled = { string.format(gateway.uri, FAX_NO) } },
  },
  {
    name = "the queued fax job: busy, so the attempt fails and the engine retries it",
    job = { kind = "fax", args = { to = FAX_NO, file = file_of("1") }, attempt = 1 },
    dial = { default = { fail = 486 } },
    expect = { job = "failed", job_error = "dial 486", route = "fax-dial-486" },
  },
  {
    -- rules/trunks.lua's dial rule "fax": the province's numbers only (docs/security.md)
    name = "the queued fax job to a number abroad: the dial rule refuses it, nothing is dialled",
    job = { kind = "fax", args = { to = "00441632960000", file = file_of("1") } },
    dial = { default = { answer_after = 3000 } },
    expect = { job = "failed", job_error = "dial 403", route = "fax-dial-403" },
  },
  {
    name = "an unknown document number: error and retry",
    time = OUT, keys = { "3", unknown_documents()[1], "1#", "1", { hangup = true } },
    expect = { prompts = { "fax_intro", "fax_bad_number", "fax_intro", "fax_mode", "fax_press_start" },
               route = "fax", vars = { fax_document = "1" } },
  },
  {
    name = "a fax number too short: error and retry",
    time = OUT, keys = { "3", "3#", "2", string.rep("1", ivr.fax.number_min - 1) .. "#", "04318888666#",
                         { hangup = true } },
    expect = { prompts = { "fax_enter_number", "fax_number_invalid", "fax_enter_number" },
               route = "fax", vars = { fax_document = "3" } },
  },
  {
    name = "* at the document number: back to the main menu",
    time = OUT, keys = { "3", "*", { hangup = true } },
    expect = { prompts = { "fax_intro", "main_menu_out" }, not_prompts = { "fax_mode", "other_service" },
               route = "hangup" },
  },
  {
    name = "* at the way of sending: back to the main menu",
    time = OUT, keys = { "3", "1#", "*", { hangup = true } },
    expect = { prompts = { "fax_mode", "other_service", "main_menu_out" }, route = "hangup" },
  },
  {
    name = "unknown documents until max_attempts (rules/ivr.lua fax), out of hours: goodbye",
    time = OUT, keys = { "3", table.unpack(unknown_documents()) },
    expect = { prompts = times("fax_bad_number", ivr.fax.max_attempts, "failure_goodbye"),
               route = "hangup", hangup_cause = "goodbye" },
  },
}
