-- scripts/ivr/input.lua — keying in numbers (IDs, PINs, area codes, fax numbers).
--
-- call:collect stops at `max` keys; a caller who then presses # as the prompt asked ("以井
-- 号键结束") would have that # land in the next menu as a wrong key.  M.digits swallows a #
-- typed within rules/ivr.lua hash_grace_ms after a full-length entry.
local ivr = require "ivr"

local M = {}

function M.digits(call, opts)
  local d, why = call:collect(opts)
  if why == "max" and (opts.terminator or "#") == "#" then
    local k = call:collect{ min = 1, max = 1, terminator = "#", timeout = ivr.hash_grace_ms,
                            sensitive = opts.sensitive }
    if k ~= "" and k ~= "#" then
      hl.log("debug", "a key after a full entry was not a #: ignored")
    end
  end
  return d, why
end

return M
