/* prim_jobs.c — hl.jobs.enqueue(kind, args [, {max_attempts, delay_ms}]): a job row in the
 * store, written through the outside wait of prim_store.c; the engine runs job_<kind> later
 * as a call of its own (engine/app/jobs.c). */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_ARGS_MAX 4096      /* bytes of JSON in one job's args: a number and a file name need ~100 */
#define JOB_ARGS_DEPTH 8       /* nesting of tables in job args */

static bool job_kind_valid(const char *k)
{
    size_t n = strlen(k);
    return n > 0 && n <= 32 && strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

enum { O_MAX_ATTEMPTS, O_DELAY_MS };

/* hl.jobs.enqueue(kind, args [, {max_attempts=, delay_ms=}]) -> id | nil, err.  The engine
 * runs job_<kind>(call, args, job) later as a call of its own (engine/app/jobs.c). */
int prim_jobs_enqueue(lua_State *L)
{
    hl_call *c = call_running(L);
    const char *kind = luaL_checkstring(L, 1);
    if (!job_kind_valid(kind))
        return luaL_error(L, "jobs.enqueue: kind '%s' must be 1-32 of a-z 0-9 _ (the engine runs job_<kind>)", kind);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "hl.jobs.enqueue", o);
    int max_attempts = (int)o[O_MAX_ATTEMPTS].i, delay_ms = (int)o[O_DELAY_MS].i;
    char err[160] = "";
    json_t *args = lua_isnoneornil(L, 2) ? json_object() : hl_lua_to_json(L, 2, JOB_ARGS_DEPTH, err, sizeof err);
    if (!args)
        return luaL_error(L, "jobs.enqueue: args: %s", err);
    char *text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(args);
    if (!text || strlen(text) > JOB_ARGS_MAX) {
        free(text);
        return luaL_error(L, "jobs.enqueue: args are over %d bytes as JSON", JOB_ARGS_MAX);
    }
    if (!c->env->store) {
        free(text);
        return luaL_error(L, "jobs.enqueue: this engine has no store");
    }
    double now = call_now_wall(c);
    /* ?7: on whose behalf the job's calls are placed (the dial rules' cap per caller) */
    json_t *params = json_pack("[s,s,i,f,f,s,s]", kind, text, max_attempts, now + delay_ms / 1000.0, now,
                               c->id, call_dial_caller(c));
    free(text);
    CALL_INFO(c, "%s: job %s queued (policy %s)", c->id, kind, hl_policy_version(c->policy));
    return call_store_submit(L, c,
                        "INSERT INTO jobs(kind, args, state, attempts, max_attempts, next_at, created, "
                        "updated, source_call, caller) VALUES (?1, ?2, 'queued', 0, ?3, ?4, ?5, ?5, ?6, ?7) "
                        "RETURNING id",
                        params, true);
}
