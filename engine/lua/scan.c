/* scan.c — library functions whose C work grows with the length of their strings while
 * allocating nothing, so neither the count hook nor the allocator sees it (see bounded.h):
 * utf8.len, utf8.codepoint and utf8.offset pay for the string before they scan it, and
 * table.sort without an order function compares through one that pays for each comparison
 * (its default compares in C: 50000 references to one 1 MB string sorted for minutes).
 * Outside a running script (no hl_lua_run) nothing is charged. */
#include <lauxlib.h>
#include <lua.h>
#include "lua/bounded.h"
#include "lua/policy_priv.h"

/* A scan or comparison of this many bytes is charged as one instruction (a byte takes
 * 1-2 ns; an instruction 8-15 ns). */
#define SCAN_BYTES_PER_INSTR 8

/* utf8.len/codepoint/offset: upvalue 1 is the library's own function. */
static int l_scan_charged(lua_State *L)
{
    size_t len = 0;
    luaL_checklstring(L, 1, &len);
    if (hl_lua_charge(L, 1 + (long)(len / SCAN_BYTES_PER_INSTR)))
        return hl_lua_stop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* The default order of table.sort (a < b, metamethods included), paying for long strings. */
static int l_less_charged(lua_State *L)
{
    size_t la = 0, lb = 0;
    if (lua_type(L, 1) == LUA_TSTRING && lua_type(L, 2) == LUA_TSTRING) {
        lua_tolstring(L, 1, &la);
        lua_tolstring(L, 2, &lb);
    }
    if (hl_lua_charge(L, 1 + (long)((la < lb ? la : lb) / SCAN_BYTES_PER_INSTR)))
        return hl_lua_stop(L);
    lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
    return 1;
}

/* table.sort(t [, less]): upvalue 1 is the library's own function. */
static int l_sort(lua_State *L)
{
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_pushcfunction(L, l_less_charged);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

/* Replaces lib.name (lib a global table) by f with the original as upvalue 1. */
static void wrap(lua_State *L, const char *lib, const char *name, lua_CFunction f)
{
    lua_getglobal(L, lib);
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

void hl_scan_open(lua_State *L)
{
    wrap(L, "utf8", "len", l_scan_charged);
    wrap(L, "utf8", "codepoint", l_scan_charged);
    wrap(L, "utf8", "offset", l_scan_charged);
    wrap(L, "table", "sort", l_sort);
}
