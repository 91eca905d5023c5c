/* call_cdr.c — a call's CDRs at its end: one per leg, from the legs' times and hang-up
 * sides, the RTP figures of each leg, and the vars the script set (caller's leg). */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The vars a script set, as JSON text: string keys not starting with "_", scalar values. */
static void vars_to_cdr(hl_call *c)
{
    if (!c->policy || c->ud_ref == LUA_NOREF)
        return;
    lua_State *L = hl_policy_lua(c->policy);
    call_push_ud(c, L);
    lua_getiuservalue(L, -1, 1);
    lua_getfield(L, -1, "vars");
    json_t *o = json_object();
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_tostring(L, -2)[0] != '_') {
                const char *k = lua_tostring(L, -2);
                json_t *v = NULL;
                if (lua_type(L, -1) == LUA_TBOOLEAN)
                    v = json_boolean(lua_toboolean(L, -1));
                else if (lua_isinteger(L, -1))
                    v = json_integer(lua_tointeger(L, -1));
                else if (lua_type(L, -1) == LUA_TNUMBER)
                    v = json_real(lua_tonumber(L, -1));
                else if (lua_type(L, -1) == LUA_TSTRING)
                    v = json_string(lua_tostring(L, -1));
                if (v) {
                    json_object_set_new(o, k, v);
                    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
                    if (!s || strlen(s) >= sizeof c->cdrs[0].vars)
                        json_object_del(o, k); /* keep what fits */
                    free(s);
                }
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 3);
    if (json_object_size(o)) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (s)
            snprintf(c->cdrs[0].vars, sizeof c->cdrs[0].vars, "%s", s);
        free(s);
    }
    json_decref(o);
}

/* An agent's leg: its agent and ring time; the caller's leg names the agent who took it
 * (unless a bridge named the agent who talked last: after a cancelled consultation that is
 * the first agent, not the consulted one, whose leg comes later). */
static void agent_fields(hl_call *c, int i)
{
    hl_leg *leg = c->legs[i];
    if (!leg->agent[0])
        return;
    hl_cdr *d = &c->cdrs[i];
    snprintf(d->agent, sizeof d->agent, "%s", leg->agent);
    d->ring_ms = leg->ring_ms;
    snprintf(d->queue, sizeof d->queue, "%s", c->cdrs[0].queue);
    if (leg->answer && !c->cdrs[0].agent[0])
        snprintf(c->cdrs[0].agent, sizeof c->cdrs[0].agent, "%s", leg->agent);
}

void call_finalize_cdrs(hl_call *c)
{
    vars_to_cdr(c);
    for (int i = 0; i < c->nlegs; i++) {
        hl_leg *leg = c->legs[i];
        hl_cdr *d = &c->cdrs[i];
        snprintf(d->leg_id, sizeof d->leg_id, "%s", leg->sip_call_id);
        snprintf(d->direction, sizeof d->direction, "%s", leg->dir == HL_LEG_INBOUND ? "inbound" : "outbound");
        snprintf(d->caller, sizeof d->caller, "%s", leg->from_user);
        snprintf(d->called, sizeof d->called, "%s", leg->to_user);
        d->start = leg->start ? leg->start : c->start;
        d->answer = leg->answer;
        d->end = leg->end ? leg->end : call_now_wall(c);
        snprintf(d->hangup_side, sizeof d->hangup_side, "%s", leg->hangup_side);
        snprintf(d->hangup_cause, sizeof d->hangup_cause, "%s", leg->hangup_cause);
        if (i > 0)
            snprintf(d->script_version, sizeof d->script_version, "%s", c->cdrs[0].script_version);
        if (leg->ops->stats)
            leg->ops->stats(leg, d);
        agent_fields(c, i);
    }
}

void call_note_hold(hl_call *c, int i, uint64_t len, int reminders)
{
    double end = call_now_wall(c), begin = end - (double)len / 1000.0;
    /* back_within_ms: however it ended, the caller heard no one for len ms */
    hl_cdr_hold_add(&c->cdrs[i], begin, end, reminders, (int64_t)len);
}

bool hl_call_note_wrapup(hl_call *c, const char *agent, int64_t ms)
{
    bool found = false;
    for (int i = c->nlegs - 1; i > 0 && !found; i--)   /* the latest leg of that agent */
        if (!strcmp(c->legs[i]->agent, agent) && c->legs[i]->answer) {
            c->cdrs[i].wrapup_ms = ms;
            found = true;
        }
    return found;
}

void hl_call_note_queue(hl_call *c, const char *queue, int64_t waited_ms, const char *outcome)
{
    hl_cdr *d = &c->cdrs[0];
    snprintf(d->queue, sizeof d->queue, "%s", queue);
    d->queue_wait_ms = waited_ms;
    snprintf(d->queue_outcome, sizeof d->queue_outcome, "%s", outcome);
}

/* What a call's caller leg CDR knows before the call ends: enough for the store's row of a
 * call that is up (issue 7), which becomes its CDR if the engine dies with it. */
void hl_call_cdr_so_far(const hl_call *c, hl_cdr *out)
{
    const hl_leg *leg = c->legs[0];
    *out = c->cdrs[0];
    snprintf(out->call_id, sizeof out->call_id, "%s", c->id);
    snprintf(out->leg_id, sizeof out->leg_id, "%s", leg->sip_call_id);
    snprintf(out->direction, sizeof out->direction, "%s", leg->dir == HL_LEG_INBOUND ? "inbound" : "outbound");
    snprintf(out->caller, sizeof out->caller, "%s", leg->from_user);
    snprintf(out->called, sizeof out->called, "%s", leg->to_user);
    out->start = leg->start ? leg->start : c->start;
}
