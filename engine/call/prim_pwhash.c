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
 * call's own script) raises an error with the script's file:line.
 *
 * Keyed (issue 7: a copy of the database gave every PIN).  Argon2id of a 6-digit PIN is
 * slow, but there are only a million PINs: a stolen database still yields each one in
 * hours.  So what is hashed is HMAC-SHA256(pepper, secret), the pepper being 32 random
 * bytes in DATA/pin_pepper (0600, made at the first hash or verify that needs it, never in
 * the database): without that file a copy of the database tells nothing.  A keyed hash says
 * so in its parameters, as the PHC string format's keyid does
 * ("$argon2id$v=19$m=19456,t=2,p=1,keyid=pepper1$salt$hash"); a hash without it (made
 * before, or by the argon2 tool) verifies as before.  The file is read at each use (on the
 * pool, 32 bytes beside tens of ms of Argon2id).  The simulator has no data directory: its
 * hashes are not keyed. */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <lua.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include "core/files.h"
#include "core/log.h"

/* A PIN or pass code a caller keys is short; this bounds what the pool is asked to copy. */
#define PWHASH_SECRET_MAX 256

#define PEPPER_FILE  "pin_pepper"
#define PEPPER_BYTES 32                 /* HMAC-SHA256's key size */
#define PEPPER_MODE  0600               /* the engine's user only: it is the key */
#define KEYID        ",keyid=pepper1"   /* after the parameters of a keyed hash */
#define HASH_MAX     (crypto_pwhash_STRBYTES + sizeof KEYID)

typedef struct pw_job {
    uv_work_t      work;
    hl_timer       timer;          /* the simulator's delivery on a later tick */
    void          *wait;
    bool           verify;
    unsigned long long ops;
    size_t         mem;
    char           data_dir[sizeof ((hl_config *)0)->data_dir]; /* "": not keyed (simulator) */
    char           secret[PWHASH_SECRET_MAX + 1];
    char           hash[HASH_MAX];
    bool           ok;             /* verify: it matched; hash: it was made */
} pw_job;

/* Reads (or, the first time, makes) data_dir's pepper into key; 0, or -1 with err. */
int call_pin_pepper(const char *data_dir, unsigned char key[PEPPER_BYTES], char *err, int errlen)
{
    char path[sizeof ((hl_config *)0)->data_dir + sizeof PEPPER_FILE + 1];
    snprintf(path, sizeof path, "%s/%s", data_dir, PEPPER_FILE);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, PEPPER_MODE);
    if (fd >= 0) {                              /* the first use: a new key */
        randombytes_buf(key, PEPPER_BYTES);
        bool ok = fchmod(fd, PEPPER_MODE) == 0 && write(fd, key, PEPPER_BYTES) == PEPPER_BYTES && fsync(fd) == 0;
        close(fd);
        if (ok) {
            hl_warn("pin", "made %s: the key of PIN hashes; back it up apart from the database", path);
            return 0;
        }
        unlink(path);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    if (errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", path, strerror(errno));
        return -1;
    }
    if (hl_tighten_mode(path, PEPPER_MODE) > 0)
        hl_warn("pin", "%s could be read by others: made %04o", path, PEPPER_MODE);
    unsigned char buf[PEPPER_BYTES + 1];        /* one more: a longer file is not ours */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (fd >= 0)
        close(fd);
    if (n == PEPPER_BYTES)
        memcpy(key, buf, PEPPER_BYTES);
    sodium_memzero(buf, sizeof buf);
    if (n == PEPPER_BYTES)
        return 0;
    snprintf(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "not a pepper of 32 bytes");
    return -1;
}

/* The secret, keyed with the pepper, into mac (what Argon2id hashes); false with a log line. */
static bool keyed(const pw_job *j, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    unsigned char key[PEPPER_BYTES];
    char err[300];
    if (call_pin_pepper(j->data_dir, key, err, sizeof err)) {
        hl_log(HL_LOG_ERROR, "pin", "%s: %s", j->verify ? "pin_verify" : "pin_hash", err);
        return false;
    }
    crypto_auth_hmacsha256(mac, (const unsigned char *)j->secret, strlen(j->secret), key);
    sodium_memzero(key, sizeof key);
    return true;
}

/* A keyed hash: KEYID after the parameters (before the salt's '$'). */
static bool keyed_hash(pw_job *j)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char plain[crypto_pwhash_STRBYTES];
    if (!keyed(j, mac))
        return false;
    bool ok = crypto_pwhash_str(plain, (const char *)mac, sizeof mac, j->ops, j->mem) == 0;
    sodium_memzero(mac, sizeof mac);
    const char *salt = NULL;
    for (int i = 0, dollars = 0; ok && plain[i]; i++)
        if (plain[i] == '$' && ++dollars == 4)
            salt = plain + i;
    if (!salt)
        return false;
    snprintf(j->hash, sizeof j->hash, "%.*s%s%s", (int)(salt - plain), plain, KEYID, salt);
    return true;
}

/* Verifies a hash, keyed (KEYID removed, the secret keyed) or not. */
static bool verify(pw_job *j)
{
    char *k = strstr(j->hash, KEYID "$");
    if (!k)
        return crypto_pwhash_str_verify(j->hash, j->secret, strlen(j->secret)) == 0;
    memmove(k, k + strlen(KEYID), strlen(k + strlen(KEYID)) + 1);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    if (!j->data_dir[0] || !keyed(j, mac))
        return false;
    bool ok = crypto_pwhash_str_verify(j->hash, (const char *)mac, sizeof mac) == 0;
    sodium_memzero(mac, sizeof mac);
    return ok;
}

/* On the pool (or at once in the simulator): the slow part. */
static void pw_run(pw_job *j)
{
    if (j->verify)
        j->ok = verify(j);
    else if (j->data_dir[0])
        j->ok = keyed_hash(j);
    else
        j->ok = crypto_pwhash_str(j->hash, j->secret, strlen(j->secret), j->ops, j->mem) == 0;
    sodium_memzero(j->secret, sizeof j->secret);
}

static void pw_work(uv_work_t *w) { pw_run(w->data); }

bool call_pin_hash_now(const char *data_dir, const char *secret, unsigned long long ops, size_t mem,
                       char *hash, size_t hashlen)
{
    pw_job j = { .ops = ops, .mem = mem };
    snprintf(j.data_dir, sizeof j.data_dir, "%s", data_dir);
    snprintf(j.secret, sizeof j.secret, "%s", secret);
    pw_run(&j);
    if (j.ok)
        snprintf(hash, hashlen, "%s", j.hash);
    return j.ok;
}

bool call_pin_verify_now(const char *data_dir, const char *hash, const char *secret)
{
    pw_job j = { .verify = true };
    snprintf(j.data_dir, sizeof j.data_dir, "%s", data_dir);
    snprintf(j.hash, sizeof j.hash, "%s", hash);
    snprintf(j.secret, sizeof j.secret, "%s", secret);
    pw_run(&j);
    return j.ok;
}

/* On the loop: the script gets its answer; the job is freed. */
static void pw_deliver(pw_job *j)
{
    json_t *result = NULL;
    if (j->verify)
        result = json_boolean(j->ok);
    else if (j->ok)
        result = json_string(j->hash);
    call_async_done(j->wait, result, result ? NULL : "pin_hash: failed (out of memory, pin_hash_mem_kb, or the pepper: see the log)");
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
    if (env->uv)                          /* a running engine: its data directory's pepper */
        snprintf(j->data_dir, sizeof j->data_dir, "%s", env->cfg->data_dir);
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
