/* prim_agent.c — what a call placed by an agent's own phone may do with the ACD (acd/acd.h):
 * call:agent_state(state [, reason]) sets that agent's state (the feature codes of
 * scripts/agent_phone.lua: ready, not ready with a reason, log out), and
 * call:agent_info([number]) reads an agent's ACD view (a supervisor's role check, the
 * agent a supervisor listens to).  Neither waits. */
#include "acd/acd.h"
#include "call/call_priv.h"
#include <lauxlib.h>
#include <string.h>

#define REASON_MAX 32   /* a not-ready reason is one short word ("lunch", "training") */

static hl_acd *acd_or_error(lua_State *L, hl_call *c, const char *what)
{
    if (!c->env->acd)
        luaL_error(L, "%s: this engine has no ACD", what);
    return c->env->acd;
}

int prim_agent_state(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *want = luaL_checkstring(L, 2);
    const char *reason = luaL_optstring(L, 3, "");
    hl_acd *acd = acd_or_error(L, c, "agent_state");
    const char *agent = c->legs[0]->agent;
    if (!agent[0])
        return luaL_error(L, "agent_state: this call is not from an agent's phone (call.agent is nil)");
    int s = hl_agent_state_parse(want);
    if (s != HL_AGENT_READY && s != HL_AGENT_NOT_READY && s != HL_AGENT_LOGGED_OUT)
        return luaL_error(L, "agent_state: '%s' is not ready, not-ready or logged-out", want);
    if (*reason && !call_word_valid(reason, REASON_MAX))
        return luaL_error(L, "agent_state: reason '%s' must be one short word", reason);
    char err[160];
    if (hl_acd_agent_set(acd, agent, (hl_agent_state)s, reason, "phone", err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    CALL_INFO(c, "%s: agent %s sets %s%s%s", c->id, agent, want, *reason ? " " : "", reason);
    lua_pushboolean(L, 1);
    return 1;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v ? v : "");
    lua_setfield(L, -2, k);
}

int prim_agent_info(lua_State *L)
{
    hl_call *c = call_arg(L);
    hl_acd *acd = acd_or_error(L, c, "agent_info");
    const char *number = luaL_optstring(L, 2, c->legs[0]->agent);
    hl_acd_agent_info in;
    if (!*number || hl_acd_agent_get(acd, number, &in) != 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 12);
    set_str(L, "number", in.number);
    set_str(L, "name", in.name);
    set_str(L, "centre", in.centre);
    set_str(L, "role", in.role);
    set_str(L, "skills", in.skills);
    set_str(L, "state", hl_agent_state_name(in.state));
    set_str(L, "reason", in.reason);
    set_str(L, "call_id", in.call_id);
    set_str(L, "queue", in.queue);
    lua_pushnumber(L, in.since), lua_setfield(L, -2, "since");
    lua_pushinteger(L, in.misses), lua_setfield(L, -2, "misses");
    lua_pushboolean(L, in.registered), lua_setfield(L, -2, "registered");
    return 1;
}
