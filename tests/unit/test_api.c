/* test_api.c — the declared Lua API (lua/api.h): the rows are sound (unique names, defaults
 * inside their ranges, waiting primitives never at load time), every row is reachable from
 * a policy's Lua state, and reading a row's options refuses an unknown or misspelt option,
 * a wrong type, a value out of range and a missing required one with the script's
 * file:line, while a missing option takes its default (a tunable's from the config). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "call/call.h"
#include "call/call_priv.h"
#include "core/config.h"
#include "lua/api.h"
#include "lua/script.h"

#include "unit.h"


/* ---- the rows -------------------------------------------------------------------------- */

static bool opts_sound(const hl_api_prim *p, int *n)
{
    *n = 0;
    for (const hl_api_opt *o = p->opts; o && o->name; o++, (*n)++) {
        for (const hl_api_opt *u = o + 1; u->name; u++)
            if (!strcmp(o->name, u->name))
                return false;                       /* an option twice */
        if (o->type == HL_OPT_INT && !o->dflt_cfg && !o->required && !o->hi_cfg &&
            (o->dflt < o->lo || o->dflt > o->hi))
            return false;                           /* a default outside its range */
        if (!o->dflt_cfg != !o->dflt_cfg_name || !o->hi_cfg != !o->hi_cfg_name)
            return false;                           /* a tunable without its name */
    }
    return true;
}

static void check_rows(const hl_api_prim *tab, const char *which)
{
    for (const hl_api_prim *p = tab; p->name; p++) {
        bool unique = true;
        for (const hl_api_prim *q = p + 1; q->name; q++)
            unique = unique && strcmp(p->name, q->name) != 0;
        CHECK(unique, "%s: %s declared twice", which, p->name);
        CHECK(p->where != 0 && !(p->waits && (p->where & HL_CTX_LOAD)),
              "%s: %s may be called nowhere, or waits and is allowed at load time", which, p->name);
        CHECK(!p->opts || p->opts_arg > 0, "%s: %s has options but no options argument", which, p->name);
        int n;
        CHECK(opts_sound(p, &n), "%s: %s: an option twice, a default outside its range or a tunable "
                                 "without its name", which, p->name);
        CHECK(n < HL_API_MAX_OPTS, "%s: %s has %d options (at most %d)", which, p->name, n, HL_API_MAX_OPTS - 1);
    }
}

/* Every row with a C function is where a script looks for it. */
static void check_registered(void)
{
    lua_State *L = luaL_newstate();
    lua_newtable(L);
    lua_setglobal(L, "hl");
    hl_api_open(L, hl_sandbox_api, NULL);
    hl_call_lua_open(L);
    const hl_api_prim *tabs[] = { hl_sandbox_api, hl_call_api };
    for (int t = 0; t < 2; t++)
        for (const hl_api_prim *p = tabs[t]; p->name; p++) {
            if (!p->fn)
                continue;
            char code[200];
            if (!strncmp(p->name, "call:", 5))
                snprintf(code, sizeof code, "local m = ... return m['call.methods']['%s']", p->name + 5);
            else if (!strncmp(p->name, "leg:", 4))
                snprintf(code, sizeof code, "local m = ... return m['leg.methods']['%s']", p->name + 4);
            else
                snprintf(code, sizeof code, "return %s", p->name);
            luaL_loadstring(L, code);
            lua_newtable(L);
            lua_getfield(L, LUA_REGISTRYINDEX, "hl.call.methods");
            lua_setfield(L, -2, "call.methods");
            lua_getfield(L, LUA_REGISTRYINDEX, "hl.leg.methods");
            lua_setfield(L, -2, "leg.methods");
            int st = lua_pcall(L, 1, 1, 0);
            CHECK(st == LUA_OK && lua_isfunction(L, -1), "%s is not registered", p->name);
            lua_pop(L, 1);
        }
    lua_close(L);
}

/* ---- reading options ------------------------------------------------------------------- */

static const hl_api_opt test_opts[] = {
    HL_API_OPT("path", HL_OPT_STRING, .required = true),
    HL_API_OPT("timeout", HL_OPT_INT, .dflt = 5000, .lo = 0, .hi = 60000),
    HL_API_OPT("max", HL_OPT_INT, .lo = 1, .dflt_cfg = HL_API_CFG(record_max_ms), .hi_cfg = HL_API_CFG(record_max_ms)),
    HL_API_OPT("beep", HL_OPT_BOOL, .dflt = 1),
    HL_API_OPT("prompt", HL_OPT_ITEMS),
    HL_API_END,
};
static const hl_api_prim test_row = HL_API_PRIM("call:test", NULL, HL_CTX_CALL, .opts_arg = 1, .opts = test_opts);
static hl_config cfg;
static hl_api_val got[HL_API_MAX_OPTS];

static int l_test(lua_State *L)
{
    hl_api_read_opts(L, &test_row, &cfg, got);
    return 0;
}

/* Runs `test{...}` as line 2 of a chunk named t.lua: "" when it passed, else the error. */
static const char *run(lua_State *L, const char *args)
{
    static char msg[400];
    char code[300];
    snprintf(code, sizeof code, "local x = 1\ntest%s\n", args);
    memset(got, 0, sizeof got);
    if (luaL_loadbuffer(L, code, strlen(code), "=t.lua") != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
        snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return msg;
    }
    return "";
}

static void check_read_opts(void)
{
    hl_config_defaults(&cfg);
    lua_State *L = luaL_newstate();
    lua_register(L, "test", l_test);
    const char *e = run(L, "{ path = 'a' }");
    CHECK(!*e, "defaults: %s", e);
    CHECK(got[1].i == 5000 && !got[1].set, "timeout default 5000, got %ld", got[1].i);
    CHECK(got[2].i == cfg.record_max_ms, "max default is record_max_ms (%d), got %ld", cfg.record_max_ms, got[2].i);
    CHECK(got[3].b && !got[4].set, "beep default true, prompt unset");
    e = run(L, "{ path = 'a', timeout = 100, beep = false, prompt = {'x'} }");
    CHECK(!*e && got[1].i == 100 && got[1].set && !got[3].b && got[4].set, "given values: %s", e);
    e = run(L, "{ path = 'a', timout = 100000 }");
    CHECK(strstr(e, "t.lua:2:") && strstr(e, "unknown option 'timout'") && strstr(e, "timeout"),
          "a misspelt option names itself, the known ones and file:line: %s", e);
    e = run(L, "{ path = 'a', timeout = 60001 }");
    CHECK(strstr(e, "t.lua:2:") && strstr(e, "timeout must be a whole number from 0 to 60000"), "range: %s", e);
    cfg.record_max_ms = 1000;
    e = run(L, "{ path = 'a', max = 1001 }");
    CHECK(strstr(e, "from 1 to 1000"), "a tunable bound follows the config: %s", e);
    e = run(L, "{ path = 'a', beep = 'no' }");
    CHECK(strstr(e, "beep must be true or false"), "bool type: %s", e);
    e = run(L, "{ path = 7 }");
    CHECK(strstr(e, "'path' must be a string"), "string type: %s", e);
    e = run(L, "{ timeout = 1 }");
    CHECK(strstr(e, "option 'path' is required"), "required: %s", e);
    e = run(L, "('path')");
    CHECK(strstr(e, "must be a table"), "not a table: %s", e);
    e = run(L, "{ 'a' }");
    CHECK(strstr(e, "options are named"), "a list item: %s", e);
    lua_close(L);
}

TEST_IMPL(api)
{
    check_rows(hl_sandbox_api, "sandbox");
    check_rows(hl_call_api, "call");
    check_registered();
    check_read_opts();
    return 0;
}
