/* policy_json.c — a policy's global function called with JSON in and JSON out
 * (policy_json.h).  The arguments are pushed as fresh tables (call_push_json, as a store
 * answer reaches a script); the result must be plain data (hl_lua_to_json), not a read-only
 * rules table. */
#include "call/policy_json.h"
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>

/* Nesting of the result: a list of rows of values, inside a table or two. */
#define RESULT_DEPTH_MAX 8

int hl_policy_call_json(hl_policy *p, const hl_config *cfg, const hl_clock *clock, const char *fn,
                        json_t *args, long scale, json_t **result, char *err, int errlen)
{
    *result = NULL;
    lua_State *L = hl_policy_lua(p);
    lua_State *co = lua_newthread(L);
    if (lua_getglobal(co, fn) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return 1;
    }
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
        call_push_json(co, a, 0);
    hl_lua_run run = { .mem_limit = (long)cfg->script_memory_kb * 1024 * scale,
                       .instr_limit = (long)cfg->script_instructions * scale, .clock = clock, .call_id = fn };
    int nres = 0;
    int st = hl_policy_resume(p, co, &run, (int)json_array_size(args), &nres);
    int rc = -1;
    if (st != LUA_OK || run.killed) {
        snprintf(err, errlen, "%s: %s%s%s", fn, run.killed ? run.where : "", run.killed ? ": " : "",
                 run.killed ? run.why : st == LUA_YIELD ? "may not wait" :
                 lua_tostring(co, -1) ? lua_tostring(co, -1) : "failed");
    } else if (nres < 1 || lua_isnil(co, 1)) {
        *result = json_null();
        rc = 0;
    } else {
        char why[200];
        *result = hl_lua_to_json(co, 1, RESULT_DEPTH_MAX, why, sizeof why);
        if (*result)
            rc = 0;
        else
            snprintf(err, errlen, "%s: its result cannot be read: %s", fn, why);
    }
    lua_pop(L, 1);                                 /* the thread */
    return rc;
}
