/* prim_pwhash.c — the PIN hash primitives: a salted, slow hash of a secret that a
 * caller keys (an account PIN), so that a policy stores no PIN and no fast hash of one.
 *
 *   hl.pin_hash(secret)        → "$argon2id$v=19$m=...,t=...,p=1$salt$hash" | nil, err — waits
 *   hl.pin_verify(hash, secret) → true | false                                — waits
 *
 * libsodium's crypto_pwhash_str (Argon2id, a random salt per hash, the parameters kept in
 * the string): a new hash uses pin_hash_ops and pin_hash_mem_kb of rules/engine.lua; a
 * verify uses the parameters written in the hash, so raising them later does not lock out
 * older hashes.  A hash takes tens of milliseconds of one core and megabytes of memory, so
 * it never runs on the loop: the work goes to libuv's thread pool and the answer resumes
 * the call's script through the outside wait of prim_store.c, as hl.http.request does.  In the simulator (no loop) it runs at once and the answer comes on the next tick.
 * The secret is wiped from memory once hashed.  Misuse (not a string, too long, outside a
 * call's own script) raises an error with the script's file:line. */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <lua.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* A PIN or pass code a caller keys is short; this bounds what the pool is asked to copy. */
#define PWHASH_SECRET_MAX 256

typedef struct pw_job {
    uv_work_t      work;
    hl_timer       timer;          /* the simulator's delivery on a later tick */
    void          *wait;
    bool           verify;
    unsigned long long ops;
    size_t         mem;
    char           secret[PWHASH_SECRET_MAX + 1];
    char           hash[crypto_pwhash_STRBYTES];
    bool           ok;             /* verify: it matched; hash: it was made */
} pw_job;

/* On the pool (or at once in the simulator): the slow part. */
static void pw_run(pw_job *j)
{
    if (j->verify)
        j->ok = crypto_pwhash_str_verify(j->hash, j->secret, strlen(j->secret)) == 0;
    else
        j->ok = crypto_pwhash_str(j->hash, j->secret, strlen(j->secret), j->ops, j->mem) == 0;
    sodium_memzero(j->secret, sizeof j->secret);
}

static void pw_work(uv_work_t *w) { pw_run(w->data); }

/* On the loop: the script gets its answer; the job is freed. */
static void pw_deliver(pw_job *j)
{
    json_t *result = NULL;
    if (j->verify)
        result = json_boolean(j->ok);
    else if (j->ok)
        result = json_string(j->hash);
    call_async_done(j->wait, result, result ? NULL : "pin_hash: out of memory (pin_hash_mem_kb)");
    json_decref(result);
    sodium_memzero(j->hash, sizeof j->hash);
    free(j);
}

static void pw_after(uv_work_t *w, int status) { pw_deliver(w->data); }

static void pw_sim_timer(hl_timer *t) { pw_deliver(t->data); }

static int pw_start(lua_State *L, const char *what, bool verify, int secret_arg)
{
    hl_call_env *env = call_script_env(L);
    size_t n, hn = 0;
    const char *hash = verify ? luaL_checklstring(L, 1, &hn) : NULL;
    const char *secret = luaL_checklstring(L, secret_arg, &n);
    if (n > PWHASH_SECRET_MAX || strlen(secret) != n)
        return luaL_error(L, "%s: the secret must be a string of at most %d bytes, without NUL",
                          what, PWHASH_SECRET_MAX);
    pw_job *j = calloc(1, sizeof *j);
    if (!j)
        return luaL_error(L, "%s: out of memory", what);
    j->verify = verify;
    j->ops = (unsigned long long)env->cfg->pin_hash_ops;
    j->mem = (size_t)env->cfg->pin_hash_mem_kb * 1024;
    memcpy(j->secret, secret, n);
    /* a hash that is not one of ours (empty, too long, another scheme) matches no secret */
    if (verify && hn < sizeof j->hash)
        memcpy(j->hash, hash, hn);
    j->wait = call_async_begin(L, what); /* raises only when out of memory */
    if (env->uv) {
        j->work.data = j;
        uv_queue_work(env->uv, &j->work, pw_work, pw_after);
    } else {
        pw_run(j);
        hl_timer_start(env->timers, &j->timer, 0, pw_sim_timer, j);
    }
    return lua_yield(L, 0);
}

/* libsodium must be started once before its first use; later calls only return 0 or 1. */
static int sodium_ready(lua_State *L, const char *what)
{
    if (sodium_init() < 0)
        return luaL_error(L, "%s: libsodium cannot start (no random source)", what);
    return 0;
}

/* hl.pin_hash(secret) → hash string | nil, err */
int prim_pin_hash(lua_State *L)
{
    sodium_ready(L, "pin_hash");
    return pw_start(L, "pin_hash", false, 1);
}

/* hl.pin_verify(hash, secret) → true | false */
int prim_pin_verify(lua_State *L)
{
    sodium_ready(L, "pin_verify");
    return pw_start(L, "pin_verify", true, 2);
}
