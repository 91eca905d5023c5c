/* acd_policy.c — what the ACD (acd/acd.h) asks of the policy: the queues it defines and
 * the strategy that orders the agents for a waiting caller.
 *
 * Both are global functions of the policy's main script (as job_<kind> are):
 *   acd_queues()                       -> { {name=, centre=, skill=, wrapup_ms=,
 *                                            max_misses=, miss_reason=}, ... }
 *   acd_choose(queue, caller, agents)  -> { i, j, ... }  indexes into agents, ring order
 * queue = {name, centre, skill}; caller = {number, call_id, waited_ms, owner, owner_state};
 * agents[i] = {number, name, centre, role, skills, skill_level, idle_since, since, misses,
 * answered, talk_ms, last_offer}.  They run on a thread of their own with the script
 * budgets of a call (engine.lua's script_instructions, script_memory_kb), never yield, and
 * an error is returned with the policy's file:line (the ACD logs it; the caller waits). */
#include "call/acd_policy.h"
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs the global fn on a fresh thread of p with nargs pushed by push(L, arg); leaves its
 * first result on L's stack (the thread's value moved) and returns 0, or -1 with err. */
typedef void (*push_fn)(lua_State *L, const void *arg);

static int run_global(hl_policy *p, const hl_config *cfg, const hl_clock *clock, const char *fn,
                      push_fn push, const void *arg, int nargs, lua_State **out, char *err, int errlen)
{
    lua_State *L = hl_policy_lua(p);
    lua_State *co = lua_newthread(L);
    if (lua_getglobal(co, fn) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return 1;                                  /* the policy has no such function */
    }
    push(co, arg);
    hl_lua_run run = { .mem_limit = (long)cfg->script_memory_kb * 1024,
                       .instr_limit = (long)cfg->script_instructions, .clock = clock, .call_id = fn };
    int nres = 0;
    int st = hl_policy_resume(p, co, &run, nargs, &nres);
    if (st != LUA_OK || run.killed || nres < 1) {
        snprintf(err, errlen, "%s: %s", fn,
                 run.killed ? run.why : st == LUA_YIELD ? "may not wait" :
                 st != LUA_OK && lua_tostring(co, -1) ? lua_tostring(co, -1) : "returned nothing");
        lua_pop(L, 1);
        return -1;
    }
    lua_settop(co, 1);                             /* its first result */
    *out = co;                                     /* the caller pops the thread from L */
    return 0;
}

/* ---- acd_queues ---------------------------------------------------------------------------- */

static void push_nothing(lua_State *L, const void *arg) { (void)L, (void)arg; }

static int field_str(lua_State *L, const char *k, char *out, size_t len, bool required, char *err, int errlen,
                     int n)
{
    lua_getfield(L, -1, k);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int rc = 0;
    if (s && strlen(s) < len)
        snprintf(out, len, "%s", s);
    else if (s || required || !lua_isnil(L, -1))
        snprintf(err, errlen, "acd_queues: queue %d: %s must be a short string", n, k), rc = -1;
    lua_pop(L, 1);
    return rc;
}

static int field_int(lua_State *L, const char *k, int *out, int lo, int hi, char *err, int errlen, int n)
{
    lua_getfield(L, -1, k);
    int rc = 0;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= lo && lua_tointeger(L, -1) <= hi)
        *out = (int)lua_tointeger(L, -1);
    else if (!lua_isnil(L, -1))
        snprintf(err, errlen, "acd_queues: queue %d: %s must be a whole number in %d..%d", n, k, lo, hi), rc = -1;
    lua_pop(L, 1);
    return rc;
}

#define WRAPUP_MAX_MS 3600000   /* an hour of wrap-up is a mistake */
#define MISSES_MAX 100

static int read_def(lua_State *L, hl_acd_queue_def *d, int n, char *err, int errlen)
{
    memset(d, 0, sizeof *d);
    snprintf(d->miss_reason, sizeof d->miss_reason, "no-answer");
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "acd_queues: queue %d is not a table", n);
        return -1;
    }
    if (field_str(L, "name", d->name, sizeof d->name, true, err, errlen, n) ||
        field_str(L, "centre", d->centre, sizeof d->centre, true, err, errlen, n) ||
        field_str(L, "skill", d->skill, sizeof d->skill, true, err, errlen, n) ||
        field_str(L, "miss_reason", d->miss_reason, sizeof d->miss_reason, false, err, errlen, n) ||
        field_int(L, "wrapup_ms", &d->wrapup_ms, 0, WRAPUP_MAX_MS, err, errlen, n) ||
        field_int(L, "max_misses", &d->max_misses, 0, MISSES_MAX, err, errlen, n))
        return -1;
    return 0;
}

int hl_acd_policy_queues(hl_policy *p, hl_acd *acd, const hl_config *cfg, const hl_clock *clock,
                         char *err, int errlen)
{
    lua_State *co = NULL;
    int rc = run_global(p, cfg, clock, "acd_queues", push_nothing, NULL, 0, &co, err, errlen);
    if (rc != 0)
        return rc > 0 ? hl_acd_set_queues(acd, NULL, 0, err, errlen) : -1;
    lua_State *L = hl_policy_lua(p);
    rc = -1;
    if (!lua_istable(co, 1)) {
        snprintf(err, errlen, "acd_queues: must return a list of queues");
    } else {
        int n = (int)luaL_len(co, 1);
        hl_acd_queue_def *defs = n > 0 ? calloc((size_t)n, sizeof *defs) : NULL;
        int i = 0;
        for (; i < n && (defs || n == 0); i++) {
            lua_geti(co, 1, i + 1);
            int bad = read_def(co, &defs[i], i + 1, err, errlen);
            lua_pop(co, 1);
            if (bad)
                break;
        }
        if (i == n)
            rc = hl_acd_set_queues(acd, defs, n, err, errlen);
        free(defs);
    }
    lua_pop(L, 1);
    return rc;
}

/* ---- acd_choose ---------------------------------------------------------------------------- */

static void push_agent(lua_State *L, const hl_acd_agent_info *a)
{
    lua_createtable(L, 0, 12);
    lua_pushstring(L, a->number), lua_setfield(L, -2, "number");
    lua_pushstring(L, a->name ? a->name : ""), lua_setfield(L, -2, "name");
    lua_pushstring(L, a->centre ? a->centre : ""), lua_setfield(L, -2, "centre");
    lua_pushstring(L, a->role ? a->role : ""), lua_setfield(L, -2, "role");
    lua_pushstring(L, a->skills ? a->skills : ""), lua_setfield(L, -2, "skills");
    lua_pushinteger(L, a->skill_level), lua_setfield(L, -2, "skill_level");
    lua_pushnumber(L, a->idle_since), lua_setfield(L, -2, "idle_since");
    lua_pushnumber(L, a->since), lua_setfield(L, -2, "since");
    lua_pushinteger(L, a->misses), lua_setfield(L, -2, "misses");
    lua_pushinteger(L, a->answered), lua_setfield(L, -2, "answered");
    lua_pushinteger(L, a->talk_ms), lua_setfield(L, -2, "talk_ms");
    lua_pushinteger(L, (lua_Integer)a->last_offer_seq), lua_setfield(L, -2, "last_offer");
}

static void push_choice(lua_State *L, const void *arg)
{
    const hl_acd_choice *in = arg;
    lua_createtable(L, 0, 3);
    lua_pushstring(L, in->queue->name), lua_setfield(L, -2, "name");
    lua_pushstring(L, in->queue->centre), lua_setfield(L, -2, "centre");
    lua_pushstring(L, in->queue->skill), lua_setfield(L, -2, "skill");
    lua_createtable(L, 0, 4);
    lua_pushstring(L, in->caller ? in->caller : ""), lua_setfield(L, -2, "number");
    lua_pushstring(L, in->call_id ? in->call_id : ""), lua_setfield(L, -2, "call_id");
    lua_pushinteger(L, in->waited_ms), lua_setfield(L, -2, "waited_ms");
    if (in->owner && *in->owner) {
        lua_pushstring(L, in->owner), lua_setfield(L, -2, "owner");
        lua_pushstring(L, in->owner_state >= 0 ? hl_agent_state_name((hl_agent_state)in->owner_state) : "unknown");
        lua_setfield(L, -2, "owner_state");
    }
    lua_createtable(L, in->ncandidates, 0);
    for (int i = 0; i < in->ncandidates; i++) {
        push_agent(L, &in->candidates[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

int hl_acd_policy_choose(hl_policy *p, const hl_config *cfg, const hl_clock *clock, const hl_acd_choice *in,
                         int *chosen, int max, char *err, int errlen)
{
    lua_State *co = NULL;
    int rc = run_global(p, cfg, clock, "acd_choose", push_choice, in, 3, &co, err, errlen);
    if (rc > 0)
        snprintf(err, errlen, "the policy defines no acd_choose(queue, caller, agents)");
    if (rc != 0)
        return -1;
    lua_State *L = hl_policy_lua(p);
    int n = 0;
    if (!lua_istable(co, 1)) {
        snprintf(err, errlen, "acd_choose: must return a list of indexes into agents");
        n = -1;
    }
    for (lua_Integer i = 1; n >= 0 && n < max; i++) {
        bool end = lua_geti(co, 1, i) == LUA_TNIL;
        lua_Integer k = lua_isinteger(co, -1) ? lua_tointeger(co, -1) : 0;
        lua_pop(co, 1);
        if (end)
            break;
        bool dup = false;
        for (int j = 0; j < n; j++)
            dup = dup || chosen[j] == k - 1;
        if (k < 1 || k > in->ncandidates || dup) {
            snprintf(err, errlen, "acd_choose: item %d is not a new index into agents (1..%d)", (int)i,
                     in->ncandidates);
            n = -1;
            break;
        }
        chosen[n++] = (int)k - 1;
    }
    lua_pop(L, 1);
    return n;
}
