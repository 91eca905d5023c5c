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

/* A plain Lua value as JSON: strings, finite numbers, booleans, and tables (a sequence 1..n
 * is an array, else every key must be a string).  NULL with the reason in err. */
static json_t *lua_to_json(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *v = lua_tolstring(L, idx, &n);
        json_t *j = json_stringn(v, n);
        if (!j)
            snprintf(err, errlen, "a string is not valid UTF-8");
        return j;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer(lua_tointeger(L, idx));
        if (lua_tonumber(L, idx) != lua_tonumber(L, idx) || lua_tonumber(L, idx) * 0 != 0) {
            snprintf(err, errlen, "a number is not finite");
            return NULL;
        }
        return json_real(lua_tonumber(L, idx));
    case LUA_TTABLE:
        break;
    default:
        snprintf(err, errlen, "a %s cannot be stored (strings, numbers, booleans, tables)",
                 luaL_typename(L, idx));
        return NULL;
    }
    if (depth >= JOB_ARGS_DEPTH || !lua_checkstack(L, 4)) {
        snprintf(err, errlen, "tables nested deeper than %d", JOB_ARGS_DEPTH);
        return NULL;
    }
    if (luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
        lua_pop(L, 1);
        snprintf(err, errlen, "a read-only table (rules data): copy the values into a new table");
        return NULL;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), keys = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        keys++;
        lua_pop(L, 1);
    }
    bool array = n > 0 && keys == n;
    json_t *out = array ? json_array() : json_object();
    if (array) {
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            json_t *v = lua_to_json(L, -1, depth + 1, err, errlen);
            lua_pop(L, 1);
            if (!v) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, v);
        }
        return out;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        json_t *v = lua_type(L, -2) == LUA_TSTRING ? lua_to_json(L, -1, depth + 1, err, errlen) : NULL;
        if (!v) {
            if (lua_type(L, -2) != LUA_TSTRING)
                snprintf(err, errlen, "a table mixes list items and names (keys must be names)");
            lua_pop(L, 2);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, lua_tostring(L, -2), v);
        lua_pop(L, 1);
    }
    return out;
}

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
    json_t *args = lua_isnoneornil(L, 2) ? json_object() : lua_to_json(L, 2, 0, err, sizeof err);
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
