-- scripts/message.lua — key 2, leave a message (§10.10; SPEC 2.5): a beep, a recording up to
-- rules/ivr.lua message.max_ms that # or silence ends, then 1 keep / 2 record again.  A kept
-- message is a row of the store's messages table (rules/schema/002_messages.sql; state
-- 'new'; `hotline ctl query messages` lists them, `hotline ctl query message_handled ID`
-- marks one: rules/queries.lua) and a WAV under the data
-- directory's recordings/messages/.  A caller who hangs up while recording, or while
-- asked "1 keep / 2 record again", keeps the message (people hang up instead of pressing #).
-- The row is written when the first take starts (state 'recording') and finished when the
-- message is kept (state 'new'); a take again records over the same file and row.  So a
-- message the engine dies during is not lost: at start-up the engine repairs its WAV and
-- rules/queries.lua's message_recovered / messages_unfinished finish its row.  When the
-- disk is too full to record (call:record's nil, "disk_full") the caller is told so.
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

-- The row of this call's message, state 'recording', written before its first take.
local function open_row(call, path)
  if call.vars._message_id then return true end
  local rows, err = hl.store.query(
    "INSERT INTO messages (caller, called, created, duration_ms, path, state, call_id) " ..
    "VALUES (?, ?, ?, 0, ?, 'recording', ?) RETURNING id",
    call.caller, call.called, hl.now(), path, call.id)
  if not rows then hl.log("error", "message row not written: " .. tostring(err)); return false end
  call.vars._message_id = rows[1].id
  return true
end

local function forget(call)
  call.vars._message_pending, call.vars._message_ms = nil, nil
end

-- The message is kept: its row becomes 'new' with the take's length.
local function save(call, duration_ms)
  local id = call.vars._message_id
  forget(call)
  call.vars._message_id = nil
  -- a message left from an agent queue keeps the queue's route (its CDR's queue_outcome
  -- says "message"): the queue's statistics count it
  if not call.vars._message_keeps_route then call:set_route("message") end
  local ok, err = hl.store.query("UPDATE messages SET state = 'new', duration_ms = ? WHERE id = ?",
                                 math.floor(duration_ms), id)
  if not ok then hl.log("error", "message not saved: " .. tostring(err)) end
  call.vars.message_ms = math.floor(duration_ms)
  return ok ~= nil
end

-- No message after all (discarded with *, no usable take, the recording failed).
local function drop(call)
  local id = call.vars._message_id
  forget(call)
  call.vars._message_id = nil
  if id then hl.store.query("DELETE FROM messages WHERE id = ? AND state = 'recording'", id) end
end

-- on_hangup bookkeeping (main.lua): a message being recorded, or waiting for "1 keep /
-- 2 again", when the caller hung up is kept; a row with no usable take is dropped.
function M.on_hangup(call)
  if not call.vars._message_id then return end
  local started, ms = call.vars._message_pending, call.vars._message_ms
  if started then save(call, (hl.now() - started) * 1000)
  elseif ms then save(call, ms)
  else drop(call) end
end

-- keeps_route: the caller came from an agent queue (scripts/agent.lua): the route stays.
function M.run(call, _, keeps_route)
  call.vars._message_keeps_route = keeps_route or nil
  local cfg = ivr.message
  local path = "messages/" .. call.id:gsub("[^%w_.-]", "_") .. ".wav"
  for take = 1, cfg.max_takes do
    call:play("message_intro")
    if not open_row(call, path) then call:play("sorry"); return nil end
    call.vars._message_ms = nil
    call.vars._message_pending = hl.now()
    local rec, why = call:record{ path = path, max = cfg.max_ms, silence = cfg.silence_ms,
                                  stop_keys = "#", beep = true }
    call.vars._message_pending = nil
    if not rec then
      drop(call)
      call:play(why == "disk_full" and "message_disk_full" or "sorry")
      return nil                                               -- other services (§10.10)
    end
    local ms = rec.duration * 1000
    if ms < cfg.min_ms then
      call:play("message_too_short")
    else
      call.vars._message_ms = ms                               -- kept if the caller hangs up now
      local choice = take < cfg.max_takes and menu.run(call, confirm) or "keep"
      if choice == hl.BACK then drop(call); return hl.BACK end -- * : discarded
      if choice ~= "again" then
        if save(call, ms) then call:play("message_saved") else call:play("sorry") end
        return nil                                             -- other services (§10.10)
      end
    end
  end
  drop(call)
  return nil
end

return M
