/* prim_sleep.c — call:sleep(ms): the script waits on a timer; keys typed meanwhile are kept
 * for the next collect.  The smallest waiting primitive: a start, a timer, nothing to cancel
 * (the call stops its timers). */
#include "call/call_priv.h"
#include <lauxlib.h>

#define SLEEP_MAX_MS 3600000   /* a longer sleep is a bug */

static void sleep_timer(hl_call *c) { call_complete(c, 0); }

static const hl_wait_ops sleep_ops = { .name = "sleep", .on_timer = sleep_timer };

int prim_sleep(lua_State *L)
{
    hl_call *c = call_arg(L);
    lua_Integer ms = luaL_checkinteger(L, 2);
    if (ms < 0 || ms > SLEEP_MAX_MS)
        return luaL_error(L, "sleep: %d ms is out of range (0 to %d)", (int)ms, SLEEP_MAX_MS);
    call_wait(c, &sleep_ops, (int64_t)ms);
    return lua_yield(L, 0);
}
