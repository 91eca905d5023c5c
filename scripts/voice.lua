-- scripts/voice.lua — key 1, voice service (§10.9; SPEC 2.5): the menus of the topic tree
-- of rules/topics.lua, built when the policy loads.  A topic menu offers its items' keys
-- (and 0, an agent, in agent hours); a leaf plays its answer and offers # repeat, * back and
-- (in agent hours) 0.  The route is voice:<topic id> once an answer has played.
local menu = require "ivr.menu"
local agent = require "agent"
local topics = require "topics"

local M = {}
local ids = {}

local function agent_key(call) return agent.to_agent(call) end

local function check_item(parent, it)
  local where = "rules/topics.lua: topic '" .. tostring(it.id) .. "' (in '" .. parent.id .. "')"
  if type(it.id) ~= "string" or not it.id:match("^[a-z0-9_]+$") then
    error(where .. ": id must be a-z 0-9 _", 0)
  end
  if ids[it.id] then error(where .. ": id used twice", 0) end
  ids[it.id] = true
  if type(it.key) ~= "string" or not it.key:match("^[1-9]$") then
    error(where .. ": key must be one of 1-9 (0 is the agent, * back, # repeat)", 0)
  end
  if type(it.title_prompt) ~= "string" then error(where .. ": title_prompt missing", 0) end
  if it.items == nil and type(it.answer_prompt) ~= "string" then
    error(where .. ": a leaf needs answer_prompt (or items to be a menu)", 0)
  end
end

local function leaf(it)
  local function prompt(hint)
    return function(call)
      call:set_route("voice:" .. it.id)
      return { it.answer_prompt, hint }
    end
  end
  return menu.define{
    name = "voice." .. it.id,
    prompt = prompt("voice_leaf_keys"), prompt_out = prompt("voice_leaf_keys_out"),
    offers = "#0", offers_out = "#",
    keys = { ["#"] = function() return nil end,   -- nil: present this menu again (repeat)
             ["0"] = agent_key },
    leads_to = { agent.changchun_choice },
  }
end

local function node(n, name)
  local keys, offers, titles = {}, "", { n.menu_prompt }
  for _, it in ipairs(n.items) do
    check_item(n, it)
    if keys[it.key] then error("rules/topics.lua: key " .. it.key .. " used twice in '" .. n.id .. "'", 0) end
    keys[it.key] = it.items and node(it, "voice." .. it.id) or leaf(it)
    offers = offers .. it.key
    titles[#titles + 1] = it.title_prompt
  end
  keys["0"] = agent_key
  local p_in, p_out = { table.unpack(titles) }, { table.unpack(titles) }
  p_in[#p_in + 1] = "voice_hints"
  p_out[#p_out + 1] = "voice_hints_out"
  return menu.define{ name = name, prompt = p_in, prompt_out = p_out,
                      offers = offers .. "0", offers_out = offers, keys = keys,
                      leads_to = { agent.changchun_choice } }
end

M.root = node(topics, "voice")

return M
