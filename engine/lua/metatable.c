/* metatable.c — setmetatable without finalizers (see bounded.h).
 *
 * Lua runs a __gc metamethod with debug hooks switched off (lgc.c turns allowhook off around
 * every finalizer), so the instruction budget cannot stop one; it runs at whatever
 * allocation starts a collection step — charged to whichever call happened to allocate, or
 * on the loop when an old snapshot is closed — so no budget would be the right one anyway.
 * Scripts own nothing a finalizer would have to release (calls, legs, files and rows are
 * the engine's), so a metatable with a __gc field is refused outright.  Lua marks an object
 * for finalization only when setmetatable sees a __gc field (any value), so checking here is
 * enough: a __gc added to the metatable afterwards is never called.
 * __close stays allowed: it runs when a block is left, by the script's own code (a block's
 * end, an error unwinding to a pcall, coroutine.close), always inside a resume where the
 * count hook runs; the engine never closes a stopped script's coroutine, it drops it.
 * __mode is harmless (weak tables only change what the collector may free). */
#include <lauxlib.h>
#include <lua.h>
#include "lua/bounded.h"

/* setmetatable(t, mt) with upvalue 1 the standard one. */
static int l_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) /* raw, as Lua's own check */
            return luaL_error(L, "setmetatable: a __gc metamethod (finalizer) is refused: "
                                 "finalizers run outside the instruction budget (sandbox)");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

void hl_metatable_open(lua_State *L)
{
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, l_setmetatable, 1);
    lua_setglobal(L, "setmetatable");
}
