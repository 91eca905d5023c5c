-- scripts/message.lua — key 2, leave a message (§10.10; SPEC 2.5): a beep, a recording up to
-- rules/ivr.lua message.max_ms that # or silence ends, then 1 keep / 2 record again.  A kept
-- message is a row of the store's messages table (rules/schema/002_messages.sql; state
-- 'new'; `hotline ctl query messages` lists them, `hotline ctl query message_handled ID`
-- marks one: rules/queries.lua) and a WAV under the data
-- directory's recordings/messages/.  A caller who hangs up while recording keeps the
-- message (people hang up instead of pressing #).
local menu = require "ivr.menu"
local ivr = require "ivr"

local M = {}

local confirm = menu.define{
  name = "message_confirm",
  prompt = "message_confirm",
  offers = "12",
  keys = { ["1"] = "keep", ["2"] = "again" },
  on_failure = "keep",          -- no answer to "1 keep / 2 again": keep what was said
}
M.confirm = confirm

local function save(call, path, duration_ms)
  call.vars._message_pending = nil
  call:set_route("message")
  local ok, err = hl.store.query(
    "INSERT INTO messages (caller, called, created, duration_ms, path, state, call_id) " ..
    "VALUES (?, ?, ?, ?, ?, 'new', ?)",
    call.caller, call.called, hl.now(), math.floor(duration_ms), path, call.id)
  if not ok then hl.log("error", "message not saved: " .. tostring(err)) end
  call.vars.message_ms = math.floor(duration_ms)
  return ok ~= nil
end

-- on_hangup bookkeeping (main.lua): a message being recorded when the caller hung up.
function M.on_hangup(call)
  local started = call.vars._message_pending
  if started then save(call, call.vars._message_path, (hl.now() - started) * 1000) end
end

function M.run(call)
  local cfg = ivr.message
  local path = "messages/" .. call.id:gsub("[^%w_.-]", "_") .. ".wav"
  for take = 1, cfg.max_takes do
    call:play("message_intro")
    call.vars._message_path = path
    call.vars._message_pending = hl.now()
    local rec = call:record{ path = path, max = cfg.max_ms, silence = cfg.silence_ms,
                             stop_keys = "#", beep = true }
    call.vars._message_pending = nil
    if not rec then call:play("sorry"); return nil end
    local ms = rec.duration * 1000
    if ms < cfg.min_ms then
      call:play("message_too_short")
    else
      local choice = take < cfg.max_takes and menu.run(call, confirm) or "keep"
      if choice == hl.BACK then return hl.BACK end            -- * : discarded
      if choice ~= "again" then
        if save(call, rec.path, ms) then call:play("message_saved") else call:play("sorry") end
        return nil                                             -- other services (§10.10)
      end
    end
  end
  return nil
end

return M
