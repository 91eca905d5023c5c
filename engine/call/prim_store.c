/* prim_store.c — hl.store.query, and the "outside wait" it is built on: the script waits
 * for an answer computed elsewhere (the store's thread, the HTTP client), which arrives on
 * the loop later.  A call whose script was dropped meanwhile only frees the answer; a call
 * is not ended while an answer is pending (call_try_end), and a freed call's answers find
 * no call.  hl.jobs.enqueue (prim_jobs.c) and hl.http.request (prim_http.c) wait the same way. */
#define _GNU_SOURCE /* strcasestr */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http/http_client.h"
#include "store/store.h"

#define JSON_DEPTH_MAX 8       /* nesting of a result pushed to Lua (rows are 2 deep) */

struct store_req {
    hl_call   *c;          /* NULL once the call is freed */
    int        gen;        /* the coroutine that asked */
    store_req *next;
    hl_timer   timer;      /* simulator: delivers the synchronous result on the next tick */
    json_t    *rows;
    char       err[256];
    bool       want_id;    /* hl.jobs.enqueue: the script gets rows[1].id, not the rows */
};

/* The wait itself has nothing to stop: the answer finds the script gone (call_abandon...). */
static const hl_wait_ops outside_ops = { .name = "store" };

void call_push_json(lua_State *L, json_t *v, int depth)
{
    if (depth > JSON_DEPTH_MAX || !lua_checkstack(L, 4)) {
        lua_pushnil(L);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, json_integer_value(v)); break;
    case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(v), 0);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            call_push_json(L, e, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            call_push_json(L, e, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    default: lua_pushnil(L); break;
    }
}

static void deliver(hl_call *c, store_req *r, json_t *rows, const char *err)
{
    for (store_req **pp = &c->store_reqs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    c->store_pending--;
    if (r->gen == c->co_gen && c->w.ops == &outside_ops) {
        if (rows && r->want_id) {
            json_t *id = json_object_get(json_array_get(rows, 0), "id");
            lua_pushinteger(c->co, json_is_integer(id) ? (lua_Integer)json_integer_value(id) : 0);
            call_complete(c, 1);
        } else if (rows) {
            call_push_json(c->co, rows, 0);
            call_complete(c, 1);
        } else {
            lua_pushnil(c->co);
            lua_pushstring(c->co, err ? err : "store error");
            call_complete(c, 2);
        }
    }
    call_try_end(c);
}

static void answer_cb(void *arg, json_t *rows, const char *err)
{
    store_req *r = arg;
    hl_call *c = r->c;
    if (c) {
        call_enter(c);
        deliver(c, r, rows, err);
        free(r);
        call_leave(c);
        return;
    }
    free(r);
}

static void sim_timer(hl_timer *t)
{
    store_req *r = t->data;
    json_t *rows = r->rows;
    answer_cb(r, rows, r->err);
    json_decref(rows);
}

/* Registers an outside wait of c's script; NULL on out of memory. */
static store_req *begin(hl_call *c)
{
    store_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->c = c;
    r->gen = c->co_gen;
    r->next = c->store_reqs;
    c->store_reqs = r;
    c->store_pending++;
    call_wait(c, &outside_ops, CALL_NO_TIMER);
    return r;
}

/* The script is gone for good: its outside waits end now, not when their answers come
 * (a shutdown would otherwise wait out an HTTP timeout).  An HTTP request is cancelled (its
 * done never comes); a store query runs to its end in the store, and its answer, finding no
 * call (r->c NULL), is only freed, as after hl_call_free. */
void call_abandon_outside_waits(hl_call *c)
{
    while (c->store_reqs) {
        store_req *r = c->store_reqs;
        c->store_reqs = r->next;
        c->store_pending--;
        if (hl_http_cancel_arg(c->env->http, r) > 0)
            free(r);
        else
            r->c = NULL;
    }
}

void call_forget_outside_waits(hl_call *c)
{
    for (store_req *r = c->store_reqs; r; r = r->next)
        r->c = NULL;
}

/* ---- the hooks of prim_http.c ------------------------------------------------------------ */

hl_call_env *call_script_env(lua_State *L)
{
    hl_call *c = call_running(L);
    return c->env; /* the API's entry checked that a call's own script runs in L */
}

void *call_async_begin(lua_State *L, const char *what)
{
    store_req *r = begin(call_running(L));
    if (!r)
        luaL_error(L, "%s: out of memory", what);
    return r;
}

void call_async_done(void *a, json_t *result, const char *err) { answer_cb(a, result, err); }

/* ---- hl.store.query -------------------------------------------------------------------- */

/* Statements a script may run: plain DML and queries, never schema or connection changes. */
static bool sql_allowed(const char *sql)
{
    static const char *const ok[] = { "select", "insert", "update", "delete", "with", "replace", NULL };
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    for (int i = 0; ok[i]; i++)
        if (!strncasecmp(sql, ok[i], strlen(ok[i])))
            return !strcasestr(sql, "sqlite_") && !strcasestr(sql, "pragma") && !strcasestr(sql, "attach");
    return false;
}

/* Queues sql on the store for the call's script and yields; takes params. */
int call_store_submit(lua_State *L, hl_call *c, const char *sql, json_t *params, bool want_id)
{
    store_req *r = begin(c);
    if (!r) {
        json_decref(params);
        return luaL_error(L, "store: out of memory");
    }
    r->want_id = want_id;
    /* a script's own SQL runs under the store's authorizer (store.h); the engine's (want_id:
     * hl.jobs.enqueue) writes a table scripts may not */
    if (c->env->clock->fake) {
        /* the simulator's store runs synchronously; the answer still comes on a later tick */
        r->rows = want_id ? hl_store_exec_sync(c->env->store, sql, params, r->err, sizeof r->err)
                          : hl_store_exec_script_sync(c->env->store, sql, params, r->err, sizeof r->err);
        hl_timer_start(c->env->timers, &r->timer, 0, sim_timer, r);
    } else if (want_id) {
        hl_store_exec(c->env->store, sql, params, answer_cb, r);
    } else {
        hl_store_exec_script(c->env->store, sql, params, answer_cb, r);
    }
    json_decref(params);
    return lua_yield(L, 0);
}

int prim_store_query(lua_State *L)
{
    hl_call *c = call_running(L);
    const char *sql = luaL_checkstring(L, 1);
    if (!sql_allowed(sql))
        return luaL_error(L, "store.query: only SELECT, INSERT, UPDATE, DELETE, WITH and REPLACE "
                             "statements are allowed");
    if (!c->env->store)
        return luaL_error(L, "store.query: this engine has no store");
    json_t *params = json_array();
    for (int i = 2; i <= lua_gettop(L); i++) {
        switch (lua_type(L, i)) {
        case LUA_TNUMBER:
            json_array_append_new(params, lua_isinteger(L, i) ? json_integer(lua_tointeger(L, i))
                                                              : json_real(lua_tonumber(L, i)));
            break;
        case LUA_TSTRING: json_array_append_new(params, json_string(lua_tostring(L, i))); break;
        case LUA_TBOOLEAN: json_array_append_new(params, json_integer(lua_toboolean(L, i))); break;
        case LUA_TNIL: json_array_append_new(params, json_null()); break;
        default:
            json_decref(params);
            return luaL_error(L, "store.query: parameter %d must be a number, string, boolean or nil", i - 1);
        }
    }
    return call_store_submit(L, c, sql, params, false);
}
