/* call_lua.c — the call and leg objects scripts see, the one entry every primitive of the
 * call layer is called through (its row's context check: api.h), and the primitives that
 * do not wait (answer, ring, hangup, on_hangup, set_route, leg:hangup). */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

/* ---- the objects ------------------------------------------------------------------------- */

hl_call *call_arg(lua_State *L)
{
    call_ud *u = luaL_checkudata(L, 1, "hl.call");
    if (!u->c)
        luaL_error(L, "this call has ended (a call object was kept beyond its call)");
    return u->c;
}

hl_call *call_running(lua_State *L)
{
    hl_call *c = *(hl_call **)lua_getextraspace(L);
    return c && L == c->co ? c : NULL;
}

void call_push_ud(hl_call *c, lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, c->ud_ref); }

void call_push_new_ud(hl_call *c, lua_State *L)
{
    call_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->c = c;
    luaL_setmetatable(L, "hl.call");
    lua_createtable(L, 0, 2);
    lua_newtable(L);
    lua_setfield(L, -2, "vars");
    lua_setiuservalue(L, -2, 1);
}

void call_push_leg(hl_call *c, lua_State *L, int i)
{
    leg_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->index = i;
    luaL_setmetatable(L, "hl.leg");
    call_push_ud(c, L);
    lua_setiuservalue(L, -2, 1);
}

int call_leg_index_of(lua_State *L, hl_call *c, int idx)
{
    leg_ud *u = luaL_checkudata(L, idx, "hl.leg");
    lua_getiuservalue(L, idx, 1);
    call_ud *cu = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!cu || cu->c != c)
        luaL_error(L, "this leg belongs to another call");
    return u->index;
}

static hl_call *leg_call(lua_State *L, int *index)
{
    leg_ud *u = luaL_checkudata(L, 1, "hl.leg");
    lua_getiuservalue(L, 1, 1);
    call_ud *cu = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!cu || !cu->c)
        luaL_error(L, "this leg's call has ended");
    *index = u->index;
    return cu->c;
}

/* ---- the entry of every primitive: its row's context check -------------------------------- */

static unsigned context_of(const hl_call *c)
{
    if (!c)
        return HL_CTX_LOAD;
    if (c->originated)
        return HL_CTX_JOB;
    return c->phase == PH_MAIN ? HL_CTX_CALLER : HL_CTX_HANDLER;
}

static void refuse(lua_State *L, const hl_api_prim *p, const hl_call *c, unsigned ctx)
{
    const char *what = hl_api_short_name(p);
    if (ctx == HL_CTX_LOAD)
        luaL_error(L, "%s: only from a call's own script (not at load time or in a coroutine)", what);
    if (ctx == HL_CTX_JOB)
        luaL_error(L, "%s: this call was started by the engine (%s) and has no caller; it can "
                      "only dial and act on the legs it dialled (call:fax_send{leg=...})", what, c->entry_fn);
    char where[64];
    luaL_error(L, "%s: not available here (only in: %s)", what, hl_api_ctx_names(p->where, where, sizeof where));
}

static int api_entry(lua_State *L)
{
    const hl_api_prim *p = lua_touserdata(L, lua_upvalueindex(1));
    hl_call *c;
    if (!strncmp(p->name, "call:", 5))
        c = call_arg(L);
    else if (!strncmp(p->name, "leg:", 4)) {
        int i;
        c = leg_call(L, &i);
    } else
        c = call_running(L);
    unsigned ctx = context_of(c);
    if (!(p->where & ctx))
        refuse(L, p, c, ctx);
    if (p->waits && L != c->co)
        luaL_error(L, "%s: must be called from the call's own script, not from a coroutine it created",
                   hl_api_short_name(p));
    if (p->needs_caller && !call_leg_up(c, 0)) {
        hl_lua_push_ended(L);  /* the caller is gone: the script ends quietly */
        lua_error(L);
    }
    return p->fn(L);
}

void call_read_opts(lua_State *L, const char *prim, hl_api_val *out)
{
    hl_call *c = *(hl_call **)lua_getextraspace(L);
    hl_api_read_opts(L, hl_api_find(hl_call_api, prim), c ? c->env->cfg : NULL, out);
}

/* ---- primitives that do not wait ------------------------------------------------------- */

int prim_answer(lua_State *L)
{
    hl_leg *l0 = call_arg(L)->legs[0];
    lua_pushboolean(L, l0->ops->answer && l0->ops->answer(l0) == 0);
    return 1;
}

int prim_ring(lua_State *L)
{
    hl_leg *l0 = call_arg(L)->legs[0];
    lua_pushboolean(L, l0->ops->ring && l0->ops->ring(l0) == 0);
    return 1;
}

bool call_word_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s == 127)
            return false;
    return true;
}

int prim_hangup(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *cause = luaL_optstring(L, 2, "script");
    if (!call_word_valid(cause, 40))
        return luaL_error(L, "hangup: cause '%s' must be one short word", cause);
    call_hangup_all(c, cause);
    return 0;
}

int prim_on_hangup(lua_State *L)
{
    call_arg(L);
    if (!lua_isnil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "on_hangup");
    return 0;
}

int prim_set_route(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *r = luaL_checkstring(L, 2);
    if (!call_word_valid(r, sizeof c->cdrs[0].route - 1))
        return luaL_error(L, "set_route: '%s' must be one word (no spaces), e.g. \"queue:sales\"", r);
    snprintf(c->cdrs[0].route, sizeof c->cdrs[0].route, "%s", r);
    c->route_changed = true;
    call_emit(c, "call_route", json_pack("{s:s}", "route", r));
    CALL_INFO(c, "%s: route %s (policy %s)", c->id, r, hl_policy_version(c->policy));
    return 0;
}

int prim_visit(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *name = luaL_checkstring(L, 2);
    if (!call_word_valid(name, 64))
        return luaL_error(L, "menu: name '%s' must be one word", name);
    hl_cdr_append(c->cdrs[0].menus, sizeof c->cdrs[0].menus, name);
    hl_debug("call", "%s: menu %s", c->id, name);
    return 0;
}

int prim_leg_hangup(lua_State *L)
{
    int i;
    hl_call *c = leg_call(L, &i);
    call_hangup_leg(c, i, 0, luaL_optstring(L, 2, "script"));
    return 0;
}

/* ---- metatables -------------------------------------------------------------------------- */

static int call_index(lua_State *L)
{
    const char *k = luaL_checkstring(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "hl.call.methods");
    if (lua_getfield(L, -1, k) != LUA_TNIL)
        return 1;
    hl_call *c = call_arg(L);
    hl_leg *l0 = c->legs[0];
    if (!strcmp(k, "vars")) {
        lua_getiuservalue(L, 1, 1);
        lua_getfield(L, -1, "vars");
    } else if (!strcmp(k, "caller")) {
        lua_pushstring(L, l0->from_user);
    } else if (!strcmp(k, "called")) {
        lua_pushstring(L, l0->to_user);
    } else if (!strcmp(k, "id")) {
        lua_pushstring(L, c->id);
    } else if (!strcmp(k, "route")) {
        lua_pushstring(L, c->cdrs[0].route);
    } else if (!strcmp(k, "agent")) {         /* an agent's own call: the agent's number */
        if (l0->agent[0])
            lua_pushstring(L, l0->agent);
        else
            lua_pushnil(L);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int call_newindex(lua_State *L)
{
    return luaL_error(L, "call.%s is read-only (keep your data in call.vars)", luaL_checkstring(L, 2));
}

static int call_tostring(lua_State *L)
{
    call_ud *u = luaL_checkudata(L, 1, "hl.call");
    lua_pushfstring(L, "call %s", u->c ? u->c->id : "(ended)");
    return 1;
}

static int leg_index(lua_State *L)
{
    int i;
    hl_call *c = leg_call(L, &i);
    const char *k = luaL_checkstring(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "hl.leg.methods");
    if (lua_getfield(L, -1, k) != LUA_TNIL)
        return 1;
    hl_leg *leg = c->legs[i];
    if (!strcmp(k, "uri"))
        lua_pushstring(L, leg->remote_uri);
    else if (!strcmp(k, "index"))
        lua_pushinteger(L, i);
    else if (!strcmp(k, "state"))
        lua_pushstring(L, !call_leg_up(c, i) ? "ended" : leg->state == HL_LEG_ANSWERED ? "answered" : "ringing");
    else
        lua_pushnil(L);
    return 1;
}

static void new_metatable(lua_State *L, const char *name, lua_CFunction index, lua_CFunction newindex,
                          lua_CFunction tostring)
{
    luaL_newmetatable(L, name);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    if (newindex) {
        lua_pushcfunction(L, newindex);
        lua_setfield(L, -2, "__newindex");
    }
    if (tostring) {
        lua_pushcfunction(L, tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

void hl_call_lua_open(lua_State *L)
{
    hl_api_open(L, hl_call_api, api_entry);
    new_metatable(L, "hl.call", call_index, call_newindex, call_tostring);
    new_metatable(L, "hl.leg", leg_index, NULL, NULL);
    /* the defaults of the primitives written in Lua (lua/lib.c) */
    lua_newtable(L);
    hl_api_push_defaults(L, hl_api_find(hl_call_api, "call:menu"));
    lua_setfield(L, -2, "call:menu");
    lua_setfield(L, LUA_REGISTRYINDEX, "hl.api.defaults");
}

void hl_call_api_print(FILE *out)
{
    hl_api_print(out, hl_sandbox_api);
    hl_api_print(out, hl_call_api);
}
