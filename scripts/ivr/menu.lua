-- scripts/ivr/menu.lua — how the 12333 flow declares its menus, and the build-time lint.
--
-- A menu is declared once with menu.define{...} as data:
--   name        goes into the CDR's menus list at every visit
--   prompt      the playlist in agent hours; prompt_out the one out of hours (default prompt)
--   offers      the keys the prompt offers in agent hours, as a string ("1234590")
--   offers_out  the keys offered out of hours (default: offers)
--   keys        key -> a menu declared with define (entered; '*' comes back), a function
--               f(call, key, menu) or a value (see call:menu in docs/lua-api.md)
--   leads_to    menus a key's function may enter (with menu.enter), for the lint
--   on_failure, timeout, max_failures, invalid_prompt, timeout_prompt, back: as call:menu
-- For every declared menu two call:menu tables are built when the policy loads: one for
-- agent hours holding only the keys `offers` names, one for out of hours holding only the
-- keys of `offers_out` — a key not offered is a wrong key, and counts as a failure.
--
-- menu.finish(root) builds them and runs the lint; any problem fails the policy build (so
-- `hotline test-rules` and every reload refuse it):
--   * a key offered that no branch handles, or a key handled that no prompt offers;
--   * a menu not reachable from the main menu (through keys or leads_to);
--   * out of hours: the main menu offering a key outside rules/ivr.lua's
--     out_of_hours_main_keys, or any menu offering the agent key.
-- scripts/ivr/check.lua checks the same offers/keys agreement on every menu literal of the
-- sources, with its file and line (the build's check_sources hook); engine/lua/check.c that
-- every prompt named in them exists.
local ivr = require "ivr"
local check = require "ivr.check"

local M = {}
local declared, order = {}, {}
local built = {}          -- def -> { ["in"] = menu table, out = menu table }
local finished = false

-- Modules hand tables out as read-only views (docs/lua-api.md), so a menu is known by its
-- name: canon(v) is the declared table for v (itself or a view of it), else nil.
local function canon(v)
  if type(v) == "table" and type(v.name) == "string" and type(v.keys) == "table" then
    return declared[v.name]
  end
end
local function is_def(v) return canon(v) ~= nil end

function M.define(def)
  if finished then error("menu.define after menu.finish: declare menus when the policy loads", 2) end
  if type(def.name) ~= "string" or def.name == "" then error("menu.define: a menu needs a name", 2) end
  if declared[def.name] then error("menu '" .. def.name .. "' is declared twice", 2) end
  if type(def.offers) ~= "string" then error("menu '" .. def.name .. "': offers must list its keys", 2) end
  declared[def.name] = def
  order[#order + 1] = def
  return def
end

local function offers_of(def, hours)
  if hours == "out" then return def.offers_out or def.offers end
  return def.offers
end

local function build(def, hours)
  built[def] = built[def] or {}
  if built[def][hours] then return built[def][hours] end
  local m = {
    name = def.name,
    prompt = hours == "out" and def.prompt_out or def.prompt,
    timeout = def.timeout or ivr.menu_timeout_ms,
    max_failures = def.max_failures or ivr.max_failures,
    invalid_prompt = def.invalid_prompt, timeout_prompt = def.timeout_prompt,
    on_failure = def.on_failure, back = def.back,
    keys = {},
  }
  built[def][hours] = m
  for k in offers_of(def, hours):gmatch(".") do
    local a = def.keys[k]
    if is_def(a) then a = build(canon(a), hours) end
    m.keys[k] = a
  end
  return m
end

-- The call:menu table of def for this call's hours (call.vars.hours, set by main).
function M.enter(call, def)
  local b = built[canon(def) or false]
  if not b then error("menu '" .. tostring(def and def.name) .. "' was not declared or not built", 2) end
  return b[call.vars.hours == "out" and "out" or "in"]
end

-- Runs def as a nested menu: returns what call:menu returns (hl.BACK on '*').
function M.run(call, def) return call:menu(M.enter(call, def)) end

local function lint(root)
  local errs = {}
  local function bad(fmt, ...) errs[#errs + 1] = string.format(fmt, ...) end
  for _, def in ipairs(order) do
    local handled = {}
    for k in pairs(def.keys) do handled[#handled + 1] = k end
    table.sort(handled)
    for _, problem in ipairs(check.keys_agree(def.name, def.offers .. (def.offers_out or ""), handled)) do
      bad("%s", problem)
    end
    if def.prompt == nil then bad("menu '%s' has no prompt", def.name) end
    if offers_of(def, "out"):find(ivr.agent_key, 1, true) then
      bad("menu '%s' offers the agent key %s out of hours (set offers_out)", def.name, ivr.agent_key)
    end
    for _, t in ipairs(def.leads_to or {}) do
      if not is_def(t) then bad("menu '%s': leads_to holds a menu never declared", def.name) end
    end
  end
  for k in offers_of(root, "out"):gmatch(".") do
    if not ivr.out_of_hours_main_keys:find(k, 1, true) then
      bad("the main menu '%s' offers key %s out of hours; rules/ivr.lua allows only %s (§10.7)",
          root.name, k, ivr.out_of_hours_main_keys)
    end
  end
  -- reachability from the main menu
  local seen, todo = { [root] = true }, { root }
  while #todo > 0 do
    local def = table.remove(todo)
    local function visit(t)
      t = canon(t)
      if t and not seen[t] then seen[t] = true; todo[#todo + 1] = t end
    end
    for _, a in pairs(def.keys) do visit(a) end
    for _, t in ipairs(def.leads_to or {}) do visit(t) end
  end
  for _, def in ipairs(order) do
    if not seen[def] then bad("menu '%s' is unreachable from the main menu '%s'", def.name, root.name) end
  end
  return errs
end

-- Builds every declared menu for both hours and lints them; errors stop the policy build.
function M.finish(root)
  root = canon(root)
  if not root then error("menu.finish: the main menu must be declared with menu.define", 2) end
  finished = true
  for _, def in ipairs(order) do build(def, "in"); build(def, "out") end
  local errs = lint(root)
  if #errs > 0 then error("menu lint:\n  " .. table.concat(errs, "\n  "), 0) end
end

return M
