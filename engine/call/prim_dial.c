/* prim_dial.c — the primitives that reach another party: call:dial (an outbound leg, waits
 * for its answer) and call:_refer (a REFER of the caller's leg; lua/lib.c's call:transfer
 * falls back to dial + bridge).  call:bridge is prim_bridge.c. */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <string.h>

#define DIAL_GRACE_MS 2000     /* the leg's own ring timer reports first; this catches one that does not */
#define REFER_TIMEOUT_MS 32000 /* 64*T1: a REFER transaction has ended by then */
#define FROM_MAX 32            /* a caller number to present */

static bool uri_valid(const char *s)
{
    if (strncmp(s, "sip:", 4) != 0 || strlen(s) >= sizeof ((hl_leg *)0)->remote_uri || !s[4])
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || strchr("<>\"'\\", *s) || (unsigned char)*s >= 127)
            return false;
    return true;
}

/* ---- call:dial ---------------------------------------------------------------------------- */

static bool dial_event(hl_call *c, int i, const hl_leg_event *ev)
{
    if (i != c->w.leg)
        return false;
    switch (ev->type) {
    case HL_LEG_EV_ANSWERED:
        call_push_leg(c, c->co, i);
        call_complete(c, 1);
        break;
    case HL_LEG_EV_FAILED:
        c->done[i] = true;
        if (!c->legs[i]->end)
            c->legs[i]->end = call_now_wall(c);
        lua_pushnil(c->co);
        lua_pushinteger(c->co, ev->code ? ev->code : 500);
        call_complete(c, 2);
        break;
    case HL_LEG_EV_HANGUP:
        lua_pushnil(c->co);
        lua_pushinteger(c->co, ev->code ? ev->code : 487);
        call_complete(c, 2);
        break;
    default:
        return false;
    }
    return true;
}

static void dial_timer(hl_call *c)
{
    call_hangup_leg(c, c->w.leg, 487, "no-answer");
    lua_pushnil(c->co);
    lua_pushinteger(c->co, 408);
    call_complete(c, 2);
}

static void dial_cancel(hl_call *c) { call_hangup_leg(c, c->w.leg, 487, "cancel"); }

static const hl_wait_ops dial_ops = {
    .name = "dial", .on_event = dial_event, .on_timer = dial_timer, .cancel = dial_cancel,
};

#define PURPOSE_MAX 64   /* a dial rule's name in rules/trunks.lua */
enum { O_TIMEOUT, O_FROM, O_PURPOSE };   /* the order of call_api.c's dial_opts */

int prim_dial(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *uri = luaL_checkstring(L, 2);
    if (!uri_valid(uri))
        return luaL_error(L, "dial: '%s' is not a sip: URI", uri);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:dial", o);
    hl_dial_opts d = { .timeout_ms = (int)o[O_TIMEOUT].i, .from_user = o[O_FROM].s };
    if (d.from_user && (strlen(d.from_user) > FROM_MAX ||
                        strspn(d.from_user, "0123456789+*#abcdefghijklmnopqrstuvwxyz") != strlen(d.from_user)))
        return luaL_error(L, "dial: from '%s' is not a caller number", d.from_user);
    /* the purpose names the dial rule of rules/trunks.lua that env->dial checks
     * (call/dial_guard.h); the caller is whom its cap per day counts against */
    d.purpose = o[O_PURPOSE].s;
    if (!call_word_valid(d.purpose, PURPOSE_MAX))
        return luaL_error(L, "dial: purpose '%s' must be one short word (\"fax\", \"transfer\")", d.purpose);
    d.caller = call_dial_caller(c);
    int refused = 0;
    d.refused = &refused;
    if (c->nlegs >= MAX_LEGS)
        return luaL_error(L, "dial: this call already has %d legs", MAX_LEGS);
    hl_leg *leg = c->env->dial ? c->env->dial(c->env, c, uri, &d) : NULL;
    if (!leg) {
        c->dial_refused = c->dial_refused || refused;
        lua_pushnil(L);
        lua_pushinteger(L, refused ? refused : 500);
        return 2;
    }
    int i = call_add_leg(c, leg);
    CALL_INFO(c, "%s: dialling %s (leg %d, policy %s)", c->id, uri, i, hl_policy_version(c->policy));
    c->w.leg = i;
    call_wait(c, &dial_ops, (int64_t)d.timeout_ms + DIAL_GRACE_MS);
    return lua_yield(L, 0);
}

/* ---- call:ring_agent ---------------------------------------------------------------------
 * An agent's registered phone rung directly (env->dial_agent, no queue, no dial rule: the
 * centre's own phones), e.g. a supervisor's for `ctl monitor`.  As call:dial: the leg when
 * it answers, else nil and a status (480: no phone registered). */

#define AGENT_PHONE_NONE 480   /* Temporarily Unavailable: the agent has no registered phone */

int prim_ring_agent(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *agent = luaL_checkstring(L, 2);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:ring_agent", o);
    if (!*agent || strlen(agent) >= sizeof ((hl_leg *)0)->agent)
        return luaL_error(L, "ring_agent: '%s' is not an agent's number", agent);
    if (c->nlegs >= MAX_LEGS)
        return luaL_error(L, "ring_agent: this call already has %d legs", MAX_LEGS);
    hl_dial_agent_opts d = { .timeout_ms = (int)o[0].i, .from_user = o[1].s, .call_id = c->id,
                             .waited_ms = -1 };
    hl_leg *leg = c->env->dial_agent ? c->env->dial_agent(c->env, c, agent, &d) : NULL;
    if (!leg) {
        lua_pushnil(L);
        lua_pushinteger(L, AGENT_PHONE_NONE);
        return 2;
    }
    int i = call_add_leg(c, leg);
    CALL_INFO(c, "%s: ringing agent %s's phone (leg %d)", c->id, agent, i);
    c->w.leg = i;
    call_wait(c, &dial_ops, (int64_t)d.timeout_ms + DIAL_GRACE_MS);
    return lua_yield(L, 0);
}

/* ---- call:_refer -------------------------------------------------------------------------- */

static bool refer_event(hl_call *c, int i, const hl_leg_event *ev)
{
    if (ev->type != HL_LEG_EV_TRANSFERRED)
        return false;
    bool ok = ev->code >= 200 && ev->code < 300;
    if (ok)
        call_hangup_leg(c, 0, 0, "transfer");
    lua_pushboolean(c->co, ok);
    lua_pushinteger(c->co, ev->code);
    call_complete(c, 2);
    return true;
}

static void refer_timer(hl_call *c)
{
    lua_pushboolean(c->co, 0);
    lua_pushinteger(c->co, 408);
    call_complete(c, 2);
}

static const hl_wait_ops refer_ops = { .name = "refer", .on_event = refer_event, .on_timer = refer_timer };

int prim_refer(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *uri = luaL_checkstring(L, 2);
    if (!uri_valid(uri))
        return luaL_error(L, "transfer: '%s' is not a sip: URI", uri);
    hl_leg *l0 = c->legs[0];
    if (!l0->ops->transfer || l0->ops->transfer(l0, uri) != 0) {
        lua_pushboolean(L, 0);
        lua_pushinteger(L, 501);
        return 2;
    }
    CALL_INFO(c, "%s: REFER to %s (policy %s)", c->id, uri, hl_policy_version(c->policy));
    call_wait(c, &refer_ops, REFER_TIMEOUT_MS);
    return lua_yield(L, 0);
}
