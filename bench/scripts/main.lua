-- bench/scripts/main.lua — the call flow `make bench` loads the engine with.
-- Called number "setup": answer and wait for the caller's BYE (call set-up rate).
-- Anything else: answer and play the welcome prompt over and over until the caller hangs
-- up (concurrent calls with media).
function main(call)
  call:answer()
  if call.called == "setup" then
    call:set_route("bench:setup")
    call:sleep(600000)
    return
  end
  call:set_route("bench:media")
  while true do
    call:play({ "welcome" })
  end
end
