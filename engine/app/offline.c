/* offline.c — the policy's work off the call loop (offline.h): a worker thread builds a Lua
 * state of its own from the policy's files, runs MODULE.run(ctx, args...) with the store's
 * rows read through a read-only connection, queues what the module writes, and the loop
 * replies once the writes are committed.  Nothing of the loop is touched on the worker. */
#include "app/offline.h"
#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "app/last_good.h"
#include "app/loop.h"
#include "core/log.h"
#include "ctl/ctl.h"
#include "lua/script.h"
#include "store/store.h"

/* A month of 300,000 calls is a few hundred MB of Lua tables at most and some 10^9
 * instructions; these bound a rule gone wrong (a loop that never ends) without touching
 * a real month.  The worker is off the loop: only this job waits. */
#define OFFLINE_MEMORY (2048L * 1024 * 1024)
#define OFFLINE_INSTRUCTIONS 50000000000L
/* How deep the reply table may nest, and the arguments a job takes. */
#define OFFLINE_REPLY_DEPTH 16
#define OFFLINE_MAX_ARGS 8
/* The job's thread's nice value: batch work, below the calls (a thread may raise its own). */
#define OFFLINE_NICE 10
/* ctx.hash: bytes of BLAKE2b kept (16 hex digits orders a draw well enough). */
#define OFFLINE_HASH_BYTES 8

struct hl_offline_job {
    hl_offline_spec  spec;
    hl_store_reader *reader;
    json_t          *reply;          /* the module's table, or {ok:false,error} */
    long             writes;
    pthread_mutex_t  mu;             /* write callbacks run on the loop, counts read there too */
    long             write_errors;
    char             write_error[512];
    double           started_ms;
    double           cpu_ms;         /* the worker thread's CPU time for the job (a shared machine's
                                      * wall time says little) */
    /* the loop's side */
    uv_work_t        work;
    hl_offline_done_fn done;
    void            *done_arg;
    char             scripts[1024], rules[1024], version[128], module[32];
    hl_config        cfg;
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static hl_offline_job *job_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- ctx: reading --------------------------------------------------------------------- */

static void push_row(lua_State *L, int n, const hl_store_value *v)
{
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        switch (v[i].type) {
        case HL_STORE_INT:  lua_pushinteger(L, v[i].i); break;
        case HL_STORE_REAL: lua_pushnumber(L, v[i].d); break;
        case HL_STORE_TEXT: lua_pushlstring(L, v[i].s, (size_t)v[i].len); break;
        default: continue;
        }
        lua_setfield(L, -2, v[i].name);
    }
}

typedef struct row_sink {
    lua_State *L;
    int        list, fn;   /* stack slots: the list to append to, or the function to call */
    lua_Integer n;
    bool       failed;     /* fn raised: its error is on top */
} row_sink;

static int sink_row(void *arg, int n, const hl_store_value *v)
{
    row_sink *s = arg;
    if (s->fn) {
        lua_pushvalue(s->L, s->fn);
        push_row(s->L, n, v);
        if (lua_pcall(s->L, 1, 0, 0) != LUA_OK) {
            s->failed = true;
            return 1;
        }
        return 0;
    }
    push_row(s->L, n, v);
    lua_rawseti(s->L, s->list, ++s->n);
    return 0;
}

static json_t *params_of(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return NULL;
    char err[256];
    json_t *p = hl_lua_to_json(L, idx, OFFLINE_REPLY_DEPTH, err, sizeof err);
    if (!p)
        luaL_error(L, "params: %s", err);
    return p;
}

/* Runs sql into sink; raises (with the caller's file:line) on a store error. */
static void read_rows(lua_State *L, row_sink *sink)
{
    hl_offline_job *job = job_of(L);
    const char *sql = luaL_checkstring(L, 1);
    json_t *params = params_of(L, 2);
    char err[512];
    long rows = hl_store_reader_each(job->reader, sql, params, sink_row, sink, err, sizeof err);
    json_decref(params);
    if (sink->failed)
        lua_error(L);
    if (rows < 0)
        luaL_error(L, "%s", err);
}

static int ctx_query(lua_State *L)
{
    lua_settop(L, 2);
    lua_newtable(L);
    row_sink sink = { .L = L, .list = 3 };
    read_rows(L, &sink);
    return 1;
}

static int ctx_each(lua_State *L)
{
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_settop(L, 3);
    row_sink sink = { .L = L, .fn = 3 };
    read_rows(L, &sink);
    lua_pushinteger(L, sink.n);
    return 1;
}

/* ---- ctx: writing, hashing ------------------------------------------------------------ */

static void write_done(void *arg, json_t *rows, const char *err)
{
    hl_offline_job *job = arg;
    if (!err)
        return;
    pthread_mutex_lock(&job->mu);
    if (!job->write_errors++)
        snprintf(job->write_error, sizeof job->write_error, "%s", err);
    pthread_mutex_unlock(&job->mu);
}

/* A table inside params binds as its JSON text (store.h): made text here, once, so that the
 * store's copy of the params and its binding handle a string, not a month's evidence. */
static json_t *as_text(json_t *v)
{
    if (!json_is_object(v) && !json_is_array(v))
        return json_incref(v);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *s = text ? json_string(text) : json_null();
    free(text);
    return s;
}

static void flatten(json_t *params)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(params))
        json_object_foreach(params, k, v)
            json_object_set_new(params, k, as_text(v));
    else if (json_is_array(params))
        json_array_foreach(params, i, v)
            json_array_set_new(params, i, as_text(v));
}

static int ctx_write(lua_State *L)
{
    hl_offline_job *job = job_of(L);
    const char *sql = luaL_checkstring(L, 1);
    json_t *params = params_of(L, 2);
    flatten(params);
    hl_store_exec_script(job->spec.store, sql, params, write_done, job);
    json_decref(params);
    job->writes++;
    return 0;
}

static int ctx_hash(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char h[OFFLINE_HASH_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)s, n, NULL, 0);
    char hex[2 * OFFLINE_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    lua_pushstring(L, hex);
    return 1;
}

/* A JSON value as Lua (null: nil; depth bounded by the reply's). */
static void push_json(lua_State *L, json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;
    luaL_checkstack(L, 3, "json");
    switch (depth > OFFLINE_REPLY_DEPTH ? JSON_NULL : json_typeof(v)) {
    case JSON_OBJECT:
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_foreach(v, k, x) {
            push_json(L, x, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    case JSON_ARRAY:
        lua_createtable(L, (int)json_array_size(v), 0);
        json_array_foreach(v, i, x) {
            push_json(L, x, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case JSON_STRING:  lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, json_integer_value(v)); break;
    case JSON_REAL:    lua_pushnumber(L, json_real_value(v)); break;
    case JSON_TRUE:    lua_pushboolean(L, 1); break;
    case JSON_FALSE:   lua_pushboolean(L, 0); break;
    default:           lua_pushnil(L);
    }
}

/* ctx.json(text) -> value, or nil and why (a column holding JSON: cdr.hold_log). */
static int ctx_json(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    json_error_t e;
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY, &e);
    if (!v) {
        lua_pushnil(L);
        lua_pushfstring(L, "not JSON: %s", e.text);
        return 2;
    }
    push_json(L, v, 0);
    json_decref(v);
    return 1;
}

static void push_ctx(lua_State *L, hl_offline_job *job)
{
    static const luaL_Reg fns[] = { { "query", ctx_query }, { "each", ctx_each }, { "write", ctx_write },
                                    { "hash", ctx_hash }, { "json", ctx_json }, { NULL, NULL } };
    lua_newtable(L);
    lua_pushlightuserdata(L, job);
    luaL_setfuncs(L, fns, 1);
    lua_pushstring(L, job->spec.version);
    lua_setfield(L, -2, "version");
    lua_pushnumber(L, job->spec.now);
    lua_setfield(L, -2, "now");
}

/* ---- the job -------------------------------------------------------------------------- */

static json_t *failure(const char *fmt, const char *a, const char *b)
{
    char text[8300];
    snprintf(text, sizeof text, fmt, a, b);
    return json_pack("{s:b,s:s}", "ok", 0, "error", text);
}

/* module.run(ctx, args...) in L; the reply or a failure. */
static json_t *run_module(hl_policy *p, hl_offline_job *job)
{
    lua_State *L = hl_policy_lua(p);
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, job->spec.module);
    if (hl_policy_pcall(p, L, 1, 1, OFFLINE_INSTRUCTIONS, OFFLINE_MEMORY) != LUA_OK ||
        lua_getfield(L, -1, "run") != LUA_TFUNCTION) {
        json_t *f = failure("the policy has no %s.run(ctx, ...): %s", job->spec.module,
                            lua_isstring(L, -1) ? lua_tostring(L, -1) : "not a function");
        lua_settop(L, top);
        return f;
    }
    push_ctx(L, job);
    size_t nargs = json_array_size(job->spec.args);
    if (nargs > OFFLINE_MAX_ARGS)
        nargs = OFFLINE_MAX_ARGS;
    for (size_t i = 0; i < nargs; i++)
        lua_pushstring(L, json_string_value(json_array_get(job->spec.args, i)) ?: "");
    json_t *reply;
    /* A month is a few hundred thousand young tables that all live to the end: the
     * generational collector does not trace them again and again as the heap grows. */
    lua_gc(L, LUA_GCGEN, 0, 0);
    int st = hl_policy_pcall(p, L, 1 + (int)nargs, 1, OFFLINE_INSTRUCTIONS, OFFLINE_MEMORY);
    if (st != LUA_OK) {
        reply = failure("%s: %s", job->spec.module, lua_tostring(L, -1) ?: "error");
    } else {
        char err[256];
        reply = lua_istable(L, -1) ? hl_lua_to_json(L, -1, OFFLINE_REPLY_DEPTH, err, sizeof err) : NULL;
        if (!reply)
            reply = failure("%s.run must return a plain table: %s", job->spec.module,
                            lua_istable(L, -1) ? err : luaL_typename(L, -1));
        else if (!json_object_get(reply, "ok"))
            json_object_set_new(reply, "ok", json_true());
    }
    lua_settop(L, top);
    return reply;
}

/* The worker's part: build, read, compute, queue the writes. */
static void job_work(hl_offline_job *job)
{
    job->started_ms = mono_ms();
    double cpu0 = thread_cpu_ms();
    char err[8192] = "";
    hl_policy_src src = { .scripts_dir = job->spec.scripts_dir, .rules_dir = job->spec.rules_dir,
                          .cfg = job->spec.cfg };
    hl_policy *p = hl_policy_build(&src, err, sizeof err);
    if (!p) {
        job->reply = failure("the policy in %s does not build: %s", job->spec.rules_dir, err);
        return;
    }
    job->reader = hl_store_reader_open(job->spec.store, err, sizeof err);
    job->reply = job->reader ? run_module(p, job) : failure("%s%s", err, "");
    hl_store_reader_close(job->reader);
    job->reader = NULL;
    hl_policy_unref(p);
    job->cpu_ms = thread_cpu_ms() - cpu0;
}

/* After the writes were committed: the reply with what was written and how long it took. */
static json_t *job_reply(hl_offline_job *job)
{
    json_t *r = job->reply;
    job->reply = NULL;
    json_object_set_new(r, "writes", json_integer(job->writes));
    json_object_set_new(r, "write_errors", json_integer(job->write_errors));
    if (job->write_errors) {
        json_object_set_new(r, "ok", json_false());
        json_object_set_new(r, "error", json_string(job->write_error));
    }
    json_object_set_new(r, "ms", json_integer((json_int_t)(mono_ms() - job->started_ms)));
    json_object_set_new(r, "cpu_ms", json_integer((json_int_t)job->cpu_ms));
    json_object_set_new(r, "version", json_string(job->spec.version));
    return r;
}

static hl_offline_job *job_new(void)
{
    hl_offline_job *job = calloc(1, sizeof *job);
    if (job)
        pthread_mutex_init(&job->mu, NULL);
    return job;
}

static void job_free(hl_offline_job *job)
{
    json_decref(job->reply);
    json_decref(job->spec.args);
    pthread_mutex_destroy(&job->mu);
    free(job);
}

json_t *hl_offline_run_sync(const hl_offline_spec *spec)
{
    hl_offline_job *job = job_new();
    if (!job)
        return NULL;
    job->spec = *spec;
    job->spec.args = json_incref(spec->args);
    job_work(job);
    char err[256];
    json_decref(hl_store_exec_sync(spec->store, "SELECT 1", NULL, err, sizeof err)); /* the writes, in order */
    hl_store_poll(spec->store);
    json_t *r = job_reply(job);
    job_free(job);
    return r;
}

/* ---- on the loop -------------------------------------------------------------------- */

static bool busy;  /* one job at a time: a second month would only halve both */

static void *job_thread(void *job)
{
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), OFFLINE_NICE);
    job_work(job);
    return NULL;
}

/* The job runs on a thread of its own, niced: when the CPUs are short (two cores, calls and a
 * month), the call loop's thread goes first.  The pool's thread only waits for it, so the
 * pool's own priority is never changed. */
static void on_work(uv_work_t *w)
{
    pthread_t t;
    if (pthread_create(&t, NULL, job_thread, w->data) == 0)
        pthread_join(t, NULL);
    else
        job_work(w->data);
}

static void writes_committed(void *arg, json_t *rows, const char *err)
{
    hl_offline_job *job = arg;
    json_t *r = job_reply(job);
    const char *e = json_string_value(json_object_get(r, "error"));
    hl_info("offline", "%s %s: %s in %lld ms", job->module,
            json_string_value(json_array_get(job->spec.args, 0)) ?: "",
            e ? e : "done", (long long)json_integer_value(json_object_get(r, "ms")));
    busy = false;
    job->done(job->done_arg, r);
    job_free(job);
}

static void on_work_done(uv_work_t *w, int status)
{
    hl_offline_job *job = w->data;
    /* queued after every write: its callback runs once they are committed */
    hl_store_exec(job->spec.store, "SELECT 1", NULL, writes_committed, job);
}

int hl_offline_start(uv_loop_t *uv, const hl_offline_spec *spec, hl_offline_done_fn done, void *arg,
                     char *err, int errlen)
{
    if (busy) {
        snprintf(err, errlen, "a month or report is being computed; try again when it is done");
        return -1;
    }
    hl_offline_job *job = job_new();
    if (!job) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    job->cfg = *spec->cfg;
    snprintf(job->scripts, sizeof job->scripts, "%s", spec->scripts_dir);
    snprintf(job->rules, sizeof job->rules, "%s", spec->rules_dir);
    snprintf(job->version, sizeof job->version, "%s", spec->version ? spec->version : "");
    snprintf(job->module, sizeof job->module, "%s", spec->module);
    job->spec = (hl_offline_spec){ .store = spec->store, .scripts_dir = job->scripts, .rules_dir = job->rules,
                                   .version = job->version, .cfg = &job->cfg, .module = job->module,
                                   .args = json_incref(spec->args), .now = spec->now };
    job->done = done;
    job->done_arg = arg;
    job->work.data = job;
    busy = true;
    uv_queue_work(uv, &job->work, on_work, on_work_done);
    return 0;
}

/* ---- ctl ---------------------------------------------------------------------------- */

static void reply_ctl(void *req, json_t *reply) { hl_ctl_reply(req, reply); }

/* Starts module with the request's arguments on the policy that serves: its files as last
 * kept (the last good copy: a saved edit that did not pass its tests is not used). */
static json_t *start_job(hl_loop *l, hl_ctl_req *req, const char *module, json_t *args, char *err, int errlen)
{
    char scripts[1024], rules[1024], version[128];
    double saved;
    if (!hl_last_good_find(l->cfg.data_dir, scripts, rules, sizeof scripts, version, sizeof version, &saved)) {
        snprintf(scripts, sizeof scripts, "%s", l->cfg.scripts_dir);
        snprintf(rules, sizeof rules, "%s", l->cfg.rules_dir);
        snprintf(version, sizeof version, "%s", l->policy ? hl_policy_version(l->policy) : "");
    }
    hl_offline_spec spec = { .store = l->store, .scripts_dir = scripts, .rules_dir = rules, .version = version,
                             .cfg = &l->cfg, .module = module, .args = args, .now = hl_clock_wall(&l->clock) };
    if (hl_offline_start(l->uv, &spec, reply_ctl, req, err, errlen) != 0)
        return NULL;
    return HL_CTL_DEFERRED;
}

/* The positional arguments after the first `skip` of the request. */
static json_t *args_after(json_t *request, size_t skip)
{
    json_t *all = json_object_get(request, "args"), *out = json_array();
    for (size_t i = skip; i < json_array_size(all); i++)
        json_array_append(out, json_array_get(all, i));
    return out;
}

static json_t *ctl_month(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    json_t *args = json_object_get(request, "args");
    const char *sub = json_string_value(json_array_get(args, 0));
    if (!sub || strcmp(sub, "compute") != 0 || json_array_size(args) != 2) {
        snprintf(err, errlen, "usage: month compute YYYY-MM");
        return NULL;
    }
    json_t *rest = args_after(request, 1);
    json_t *r = start_job(arg, req, "month", rest, err, errlen);
    json_decref(rest);
    return r;
}

static json_t *ctl_report(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    json_t *args = args_after(request, 0);
    json_t *r = start_job(arg, req, "reports", args, err, errlen);
    json_decref(args);
    return r;
}

void hl_offline_register_ctl(hl_loop *l, hl_ctl *ctl)
{
    hl_ctl_register(ctl, "month", ctl_month, l,
                    "month compute YYYY-MM: every agent's attendance summary and score sheet, off the loop");
    hl_ctl_register(ctl, "report", ctl_report, l,
                    "report KIND MONTH --html|--csv: daily, monthly, scores, ranking, calls (rules/reports.lua)");
}
