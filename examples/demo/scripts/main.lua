-- examples/demo/scripts/main.lua — the engine's demo IVR: small but real, for the engine's
-- own tests (`hotline test-rules --scripts examples/demo/scripts --rules examples/demo/rules`).
-- The 12333 flow of SPEC section 2 is scripts/main.lua.
--
--   welcome, then the menu demo_main:
--     1  demo_one, then 10010 read as a number              route demo:1
--     2  leave a message: beep, up to 10 s, # ends it        route message
--     3  dial rules/demo.lua's outbound_uri and bridge       route bridge
--     4  a sub-menu (demo_more): 1 reads today's date; * goes back
--     9  key four digits (# ends early); they are read back  route demo:9
--     0  the demo queue                                      route queue:demo
--   3 failures (wrong key or no key) end the call           route hangup
local demo = require "demo"   -- examples/demo/rules/demo.lua

local MESSAGE_MAX_MS = 10000  -- the demo's message limit (the real flow sets its own)

local more_menu = {
  name = "demo_more",
  prompt = "demo_more",
  keys = {
    ["1"] = function(call)
      call:say_date(hl.now())
      call:set_route("demo:date")
      return "done"
    end,
  },
}

local function leave_message(call)
  call:play("demo_record")
  local rec = call:record{ path = "messages/" .. call.id .. ".wav", max = MESSAGE_MAX_MS,
                           stop_keys = "#", beep = true }
  if rec then call.vars.message_seconds = rec.duration end
  call:set_route("message")
  return "done"
end

local function connect(call)
  call:play("demo_connecting")
  local leg, code = call:dial(demo.outbound_uri, { timeout = demo.outbound_timeout_ms })
  if not leg then
    call.vars.dial_code = code
    call:set_route("dial-failed")
    call:play("sorry")
    return "done"
  end
  call:set_route("bridge")
  call.vars.hung_up_first = call:bridge(leg)
  return "done"
end

local function read_back(call)
  local digits, why = call:collect{ min = 4, max = 4, terminator = "#", timeout = 5000,
                                    prompt = "demo_enter_digits" }
  if #digits < 4 then
    call:play("invalid_choice")
    return nil -- back to the menu
  end
  call:play("demo_you_entered")
  call:say_digits(digits)
  call:set_route("demo:9")
  return "done"
end

local main_menu = {
  name = "demo_main",
  prompt = "demo_main",
  timeout = 5000,
  max_failures = 3,
  invalid_prompt = "invalid_choice",
  on_failure = function(call)
    call:set_route("hangup")
    return "failed"
  end,
  keys = {
    ["1"] = function(call)
      call:play("demo_one")
      call:say_number(10010)
      call:set_route("demo:1")
      return "done"
    end,
    ["2"] = leave_message,
    ["3"] = connect,
    ["4"] = more_menu,
    ["9"] = read_back,
    ["0"] = function(call)
      call:set_route("queue:demo")
      return "done"
    end,
  },
}

function main(call)
  call:on_hangup(function(c) c.vars.caller_hung_up = true end)
  call:answer()
  call:play("welcome")
  call:menu(main_menu)
  call:play("goodbye")
  call:hangup()
end
