-- scripts/fax.lua — key 3, fax on demand (§10.11; SPEC 2.5), up to the point of sending.
-- The caller picks a document of rules/fax_documents.lua by number, then 1: the caller's
-- own fax machine takes it on this call ("press start now"), or 2: keys a fax number and
-- the document goes out later on an outbound call.  Sending is the engine's fax primitive
-- (spandsp T.30): call:fax_send{file=} on this call, or a "fax" job queued with
-- hl.jobs.enqueue that the engine runs later (M.job, called as job_fax from main.lua).
-- Route: fax.
local menu = require "ivr.menu"
local ivr = require "ivr"
local ask = require "lib.ask"
local docs = require "fax_documents"
local gateway = require "fax_gateway"

local M = {}

local mode = menu.define{
  name = "fax_mode",
  prompt = "fax_mode",
  offers = "12",
  keys = { ["1"] = "here", ["2"] = "number" },
}
M.mode = mode

local function find(number)
  for _, d in ipairs(docs.list) do
    if d.number == number then return d end
  end
end

local function catalogue()
  local p = { "fax_intro", "fax_catalogue" }
  for _, d in ipairs(docs.list) do p[#p + 1] = d.title_prompt end
  return p
end

local function unavailable(call, what)
  hl.log("warn", "fax: the engine has no " .. what .. " yet; document not sent")
  call:play("fax_unavailable")
end

-- The document the caller keys, hl.BACK, or nil after max_attempts.
local function pick(call, cfg)
  return ask.entry(call, {
    attempts = cfg.max_attempts, wrong_prompt = "fax_bad_number", check = find,
    collect = { min = 1, max = 2, terminator = "#", timeout = cfg.timeout_ms,
                interdigit = cfg.interdigit_ms, prompt = catalogue() },
  })
end

-- The fax number the caller keys, hl.BACK, or nil after max_attempts.
local function fax_number(call, cfg)
  return ask.entry(call, {
    attempts = cfg.max_attempts, wrong_prompt = "fax_number_invalid",
    collect = { min = cfg.number_min, max = cfg.number_max, terminator = "#",
                timeout = cfg.timeout_ms, interdigit = cfg.interdigit_ms, prompt = "fax_enter_number" },
    check = function(n)
      if n:match("^%d+$") and #n >= cfg.number_min then return n end
    end,
  })
end

function M.run(call, after_failures)
  local cfg = ivr.fax
  local doc = pick(call, cfg)
  if doc == hl.BACK then return hl.BACK end
  if not doc then return after_failures(call) end
  call.vars.fax_document = doc.number
  local how, why = menu.run(call, mode)
  if how == hl.BACK then return nil end          -- back: the main menu again
  if how == nil then return after_failures(call) end
  call:set_route("fax")
  local file = doc.file                           -- under the engine's documents folder
  if how == "here" then
    call.vars.fax_mode = "here"
    call:play("fax_press_start")
    if call.fax_send then
      local r = call:fax_send{ file = file }
      call.vars.fax_result = r.ok and "sent" or tostring(r.reason)
      call.vars.fax_pages = r.pages
      return "fax"                                -- the line carried fax tones: end the call
    end
    unavailable(call, "call:fax_send")
    return nil
  end
  local to = fax_number(call, cfg)
  if to == hl.BACK then return nil end
  if not to then return after_failures(call) end
  call.vars.fax_mode = "number"                   -- the number itself is not kept in the CDR
  -- Queued: the engine places the call after this one, with retries (job_fax in main.lua).
  local id, err = hl.jobs.enqueue("fax", { to = to, file = file },
                                  { max_attempts = gateway.max_attempts })
  if not id then
    hl.log("warn", "fax: not queued: " .. tostring(err))
    call:play("fax_unavailable")
    return nil
  end
  call.vars.fax_job = id
  call:play("fax_queued")
  return nil
end

-- The queued job: dial the number through the gateway and send the document.  Returns
-- true when sent; false and a reason make the engine retry it later.
function M.job(call, args)
  -- purpose "fax": the engine dials only what rules/trunks.lua's dial rule fax allows
  local leg, code = call:dial(string.format(gateway.uri, args.to),
                              { timeout = gateway.ring_ms, purpose = "fax" })
  if not leg then
    call:set_route("fax-dial-" .. tostring(code))
    return false, "dial " .. tostring(code)
  end
  local r = call:fax_send{ leg = leg, file = args.file }
  leg:hangup()
  call.vars.fax_pages = r.pages
  call:set_route(r.ok and "fax-sent" or "fax-failed")
  if not r.ok then return false, "fax: " .. tostring(r.reason) end
  return true
end

return M
