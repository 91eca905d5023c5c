-- scripts/lib/ask.lua — owns "ask for an entry up to N times, check it, say what was wrong":
-- the one loop behind every keyed entry of the flow (IDs, PINs, document and fax numbers,
-- area codes).  The limits are data in rules/ivr.lua; what counts as right is the caller's
-- check function; this file only owns the asking.
--
--   local v = ask.entry(call, {
--     attempts = n,                -- entries before giving up (rules/ivr.lua, with its source)
--     collect = { ... },           -- call:collect's options (prompt, min, max, timeouts, ...)
--     check = function(entry) end, -- values: the answer; nil: a wrong entry, ask again
--     wrong_prompt = "x",          -- played after a wrong entry
--     empty_is_wrong = false,      -- true: no entry at all also hears wrong_prompt
--   })
--   -> what check returned, hl.BACK when the entry starts with "*" (§10.16: back one
--      level; no entry the flow asks for starts with *), or nil after `attempts` tries.
--
-- A caller who presses # after a full-length entry, as the prompts ask ("以井号键结束"),
-- does not see it land in the next menu: the engine's collect takes a terminator typed
-- within the inter-digit time after a full entry as that entry's end (docs/lua-api.md).
local M = {}

function M.entry(call, q)
  for _ = 1, q.attempts do
    local entry = call:collect(q.collect)
    if entry:sub(1, 1) == "*" then return hl.BACK end
    if entry ~= "" or q.empty_is_wrong then
      local answer = table.pack(q.check(entry))
      if answer[1] ~= nil then return table.unpack(answer, 1, answer.n) end
      call:play(q.wrong_prompt)
    end
  end
end

return M
