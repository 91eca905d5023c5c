/* lib.c — the part of the engine's Lua library written in Lua (declared with the others in
 * the API table, call/call_api.c, whose defaults it receives): the menu primitive (menus
 * as data with one set of mechanics: back-stack on "*", invalid-key and timeout counting,
 * re-prompt, failure limit, each visit in the CDR) and call:transfer (REFER, falling back
 * to dial + bridge).  Compiled into every policy snapshot before the scripts load. */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include "lua/policy_priv.h"

static const char LIB_SRC[] =
"local methods, hl, defaults = ...\n"
"local type, error, setmetatable, tostring = type, error, setmetatable, tostring\n"
"local remove = table.remove\n"
"-- Returned by call:menu when '*' is pressed at the top of a nested menu: the action that\n"
"-- opened it should return it, and the menu above presents itself again.\n"
"local BACK = setmetatable({}, { __tostring = function() return 'hl.BACK' end,\n"
"                                __metatable = 'read-only' })\n"
"hl.BACK = BACK\n"
"-- call:menu's defaults: its row in the API table (call/call_api.c)\n"
"local menu_defaults = defaults['call:menu'] or {}\n"
"local DEFAULT_TIMEOUT_MS = menu_defaults.timeout\n"
"local DEFAULT_MAX_FAILURES = menu_defaults.max_failures\n"
"local DEFAULT_INVALID_PROMPT = menu_defaults.invalid_prompt\n"
"local depth = setmetatable({}, { __mode = 'k' }) -- call -> nesting of call:menu\n"
"\n"
"local function is_menu(v) return type(v) == 'table' and type(v.keys) == 'table' end\n"
"\n"
"local function check(def, level)\n"
"  if not is_menu(def) then error('menu: a menu is a table with keys = {...}', level) end\n"
"  if type(def.name) ~= 'string' or def.name == '' then\n"
"    error('menu: every menu needs a name (it goes into the CDR)', level)\n"
"  end\n"
"end\n"
"\n"
"local function prompt_of(call, m)\n"
"  local p = m.prompt\n"
"  if type(p) == 'function' then return p(call, m) end\n"
"  return p\n"
"end\n"
"\n"
"local function fail(call, m, top)\n"
"  local f = m.on_failure or top.on_failure\n"
"  if f == nil then return nil, 'failed' end\n"
"  if type(f) == 'function' then return f(call, m) end\n"
"  return f\n"
"end\n"
"\n"
"function methods.menu(call, def)\n"
"  check(def, 2)\n"
"  depth[call] = (depth[call] or 0) + 1\n"
"  local nested = depth[call] > 1\n"
"  local stack, cur, fails, visit = {}, def, 0, true\n"
"  local r1, r2\n"
"  while true do\n"
"    if visit then call:_visit(cur.name); visit = false end\n"
"    local maxf = cur.max_failures or def.max_failures or DEFAULT_MAX_FAILURES\n"
"    local key = call:collect{ min = 1, max = 1, terminator = '',\n"
"      timeout = cur.timeout or def.timeout or DEFAULT_TIMEOUT_MS,\n"
"      prompt = prompt_of(call, cur), barge_in = cur.barge_in ~= false }\n"
"    local action = cur.keys[key]\n"
"    if key == '' then\n"
"      fails = fails + 1\n"
"      if fails >= maxf then r1, r2 = fail(call, cur, def); break end\n"
"      local tp = cur.timeout_prompt or def.timeout_prompt\n"
"      if tp then call:play(tp) end\n"
"    elseif key == '*' and action == nil and cur.back ~= false then\n"
"      if #stack > 0 then cur = remove(stack); fails = 0; visit = true\n"
"      elseif nested then r1 = BACK; break\n"
"      end\n"
"    elseif action == nil then\n"
"      fails = fails + 1\n"
"      if fails >= maxf then r1, r2 = fail(call, cur, def); break end\n"
"      call:play(cur.invalid_prompt or def.invalid_prompt or DEFAULT_INVALID_PROMPT)\n"
"    else\n"
"      if type(action) == 'function' then action = action(call, key, cur) end\n"
"      if action == nil or action == BACK then fails = 0; visit = true\n"
"      elseif is_menu(action) then\n"
"        check(action, 2); stack[#stack + 1] = cur; cur = action; fails = 0; visit = true\n"
"      else r1 = action; break end\n"
"    end\n"
"  end\n"
"  depth[call] = depth[call] - 1\n"
"  return r1, r2\n"
"end\n"
"\n"
"function methods.transfer(call, uri, opts)\n"
"  local ok, code = call:_refer(uri)\n"
"  if ok then return true, 'refer' end\n"
"  local o = { purpose = 'transfer' }\n"
"  for k, v in pairs(opts or {}) do o[k] = v end\n"
"  local leg, dcode = call:dial(uri, o)\n"
"  if not leg then return false, dcode end\n"
"  return true, 'bridge', call:bridge(leg)\n"
"end\n";

int hl_lua_lib_open(lua_State *L, char *err, int errlen)
{
    if (luaL_loadbufferx(L, LIB_SRC, sizeof LIB_SRC - 1, "=[hl]", "t") != LUA_OK) {
        snprintf(err, errlen, "engine library: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    if (lua_getfield(L, LUA_REGISTRYINDEX, "hl.call.methods") == LUA_TNIL) {
        lua_pop(L, 1); /* no call API opened (src->open_api NULL): the methods go nowhere */
        lua_newtable(L);
    }
    lua_getglobal(L, "hl");
    if (lua_getfield(L, LUA_REGISTRYINDEX, "hl.api.defaults") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "engine library: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}
