-- scripts/ivr/input.lua — keying in numbers (IDs, PINs, area codes, fax numbers).
--
-- A caller who presses # after a full-length entry, as the prompt asks ("以井号键结束"),
-- does not see it land in the next menu: the engine's collect takes a terminator typed
-- within the inter-digit time after a full entry as that entry's end (docs/lua-api.md).
local M = {}

function M.digits(call, opts)
  return call:collect(opts)
end

return M
