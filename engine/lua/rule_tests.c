/* rule_tests.c — plain table tests of the policy's rules (script.h): a module NAME_test of
 * scripts/ or rules/ returns a list of cases, each run in the built snapshot itself (the
 * frozen modules, hl.date/hl.time, under a build budget), so a rule's functions are tested
 * as the calls will use them and a reload that breaks one is refused like a failing scenario.
 *
 * A case: { name = "...", got = value | run = function() return value end,
 *           want = value | error = "text the error must contain" }.
 * got and want are compared deeply (tables: same keys, equal values; numbers by value); a
 * run without want or error asserts inside it and passes when it raises nothing; a got
 * without want or error fails, as does a field a case does not have (a misspelt `wnat`
 * must not pass silently). */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>
#include "lua/policy_priv.h"

/* The deep comparison, in Lua: rules' tables are read-only views that only pairs() sees
 * through.  diff(got, want) -> nil, or the path of the first difference and what differs. */
static const char DIFF_SRC[] =
    "local function show(v, depth)\n"
    "  if type(v) == 'string' then return string.format('%q', v) end\n"
    "  if type(v) ~= 'table' or (depth or 0) > 2 then return tostring(v) end\n"
    "  local keys, parts = {}, {}\n"
    "  for k in pairs(v) do keys[#keys + 1] = k end\n"
    "  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)\n"
    "  for i, k in ipairs(keys) do\n"
    "    if i > 12 then parts[#parts + 1] = '...' break end\n"
    "    local ks = math.type(k) == 'integer' and '' or tostring(k) .. ' = '\n"
    "    parts[#parts + 1] = ks .. show(v[k], (depth or 0) + 1)\n"
    "  end\n"
    "  return '{ ' .. table.concat(parts, ', ') .. ' }'\n"
    "end\n"
    "local function diff(got, want, path, depth)\n"
    "  if type(got) == 'table' and type(want) == 'table' and depth < 16 then\n"
    "    local keys = {}\n"
    "    for k in pairs(want) do keys[#keys + 1] = k end\n"
    "    for k in pairs(got) do if want[k] == nil then keys[#keys + 1] = k end end\n"
    "    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)\n"
    "    for _, k in ipairs(keys) do\n"
    "      local p = path .. (type(k) == 'string' and '.' .. k or '[' .. tostring(k) .. ']')\n"
    "      if got[k] == nil then return p, 'missing (want ' .. show(want[k]) .. ')' end\n"
    "      if want[k] == nil then return p, 'unexpected ' .. show(got[k]) end\n"
    "      local where, why = diff(got[k], want[k], p, depth + 1)\n"
    "      if where then return where, why end\n"
    "    end\n"
    "    return nil\n"
    "  end\n"
    "  if got == want then return nil end\n"
    "  return path, 'got ' .. show(got) .. ', want ' .. show(want)\n"
    "end\n"
    "return function(got, want) return diff(got, want, '', 0) end\n";

/* A field of the case at c that is none of a case's (a misspelt `wnat`), or NULL. */
static const char *unknown_key(lua_State *L, int c)
{
    static const char *const known[] = { "name", "got", "run", "want", "error", NULL };
    static char bad[64];
    lua_pushnil(L);
    while (lua_next(L, c)) {
        lua_pop(L, 1);
        bool ok = lua_type(L, -1) == LUA_TSTRING;
        for (int i = 0; ok && known[i]; i++)
            if (!strcmp(lua_tostring(L, -1), known[i]))
                goto next;
        snprintf(bad, sizeof bad, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a name)");
        lua_pop(L, 1);
        return bad;
    next:;
    }
    return NULL;
}

/* Runs the case at index c; "" in why when it passed. */
static void run_case(hl_policy *p, lua_State *L, int c, int diff, char *why, size_t wlen)
{
    why[0] = 0;
    int top = lua_gettop(L);
    lua_getfield(L, c, "error");
    const char *want_error = lua_tostring(L, -1);
    int st = LUA_OK;
    const char *bad = unknown_key(L, c);
    if (bad) {
        snprintf(why, wlen, "unknown field '%s' (a case has name, got or run, want or error)", bad);
        lua_settop(L, top);
        return;
    }
    bool has_run = lua_getfield(L, c, "run") == LUA_TFUNCTION;
    lua_pop(L, 1);
    if (lua_getfield(L, c, "run") == LUA_TFUNCTION) {
        hl_lua_run run = { .mem_limit = HL_BUILD_MEMORY,
                           .instr_limit = (long)p->cfg.script_instructions * HL_BUILD_INSTR_FACTOR };
        st = hl_lua_pcall_budget(p, L, &run, 0, 1);
    } else {
        lua_pop(L, 1);
        lua_getfield(L, c, "got");
    }
    int got = lua_gettop(L);
    if (want_error) {
        const char *msg = st != LUA_OK ? lua_tostring(L, got) : NULL;
        if (st == LUA_OK)
            snprintf(why, wlen, "no error, want one containing \"%s\"", want_error);
        else if (!msg || !strstr(msg, want_error))
            snprintf(why, wlen, "error \"%s\", want one containing \"%s\"", msg ? msg : "?", want_error);
    } else if (st != LUA_OK) {
        snprintf(why, wlen, "%s", lua_tostring(L, got) ? lua_tostring(L, got) : "error");
    } else if (lua_getfield(L, c, "want") == LUA_TNIL) {
        if (!has_run)                 /* a run with no want asserts inside: its not failing passes */
            snprintf(why, wlen, "the case has neither want nor error");
    } else {
        lua_pushvalue(L, diff);
        lua_pushvalue(L, got);
        lua_getfield(L, c, "want");
        hl_lua_run run = { .mem_limit = HL_BUILD_MEMORY,
                           .instr_limit = (long)p->cfg.script_instructions * HL_BUILD_INSTR_FACTOR };
        if (hl_lua_pcall_budget(p, L, &run, 2, 2) != LUA_OK)
            snprintf(why, wlen, "comparing: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
        else if (!lua_isnil(L, -2))
            snprintf(why, wlen, "%s%s%s", lua_tostring(L, -2) + (lua_tostring(L, -2)[0] == '.'),
                     lua_tostring(L, -2)[0] ? ": " : "", lua_tostring(L, -1));
    }
    lua_settop(L, top);
}

int hl_policy_run_tests(hl_policy *p, const char *module, const char *shown, hl_test_line_fn line, void *arg,
                        int *passed)
{
    lua_State *L = p->L;
    int top = lua_gettop(L);
    char text[1024], why[700];
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    hl_lua_run run = { .mem_limit = HL_BUILD_MEMORY,
                       .instr_limit = (long)p->cfg.script_instructions * HL_BUILD_INSTR_FACTOR };
    if (hl_lua_pcall_budget(p, L, &run, 1, 1) != LUA_OK || !lua_istable(L, -1)) {
        snprintf(text, sizeof text, "FAIL %s: %s", shown,
                 lua_isstring(L, -1) ? lua_tostring(L, -1) : "must return a list of test cases");
        line(arg, false, text);
        lua_settop(L, top);
        return 1;
    }
    int cases = lua_gettop(L), failed = 0;
    if (luaL_loadbufferx(L, DIFF_SRC, sizeof DIFF_SRC - 1, "=rule_tests", "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(text, sizeof text, "FAIL %s: the comparison does not build: %s", shown, lua_tostring(L, -1));
        line(arg, false, text);
        lua_settop(L, top);
        return 1;
    }
    int diff = lua_gettop(L);
    lua_Integer n = luaL_len(L, cases);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, cases, i);
        int c = lua_gettop(L);
        char name[300];
        if (lua_istable(L, c) && lua_getfield(L, c, "name") == LUA_TSTRING)
            snprintf(name, sizeof name, "%s", lua_tostring(L, -1));
        else
            snprintf(name, sizeof name, "case %lld", (long long)i);
        lua_settop(L, c);
        if (!lua_istable(L, c))
            snprintf(why, sizeof why, "not a test case table");
        else
            run_case(p, L, c, diff, why, sizeof why);
        if (why[0]) {
            snprintf(text, sizeof text, "FAIL %s: %s: %s", shown, name, why);
            failed++;
        } else {
            snprintf(text, sizeof text, "ok   %s: %s", shown, name);
            (*passed)++;
        }
        line(arg, !why[0], text);
        lua_settop(L, diff);
    }
    lua_settop(L, top);
    return failed;
}
