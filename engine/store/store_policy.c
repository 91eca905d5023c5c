/* store_policy.c — what a policy declares of the store (issue 6): its own tables, and the
 * named queries `hotline ctl query` runs.  The engine's own tables are migrations
 * (store_migrations.c); a centre's tables are its policy's, in its rules folder:
 *
 *   RULES/schema/NNN_name.sql   SQL run once, in version order NNN, each in a transaction
 *                               with its row in policy_schema (version, file, checksum).  A
 *                               file applied before is never run again; one that changed
 *                               since is refused (a schema file is never edited: add one).
 *   RULES/queries.lua           a data chunk returning { NAME = { sql =, description =,
 *                               args = { "a", { name = "b", default = V }, ... },
 *                               writes = true|false }, ... } (docs/admin-ctl.md).
 *
 * hl_store_policy_activate runs when a policy is activated (start-up, every reload, and
 * for each scenario file's store in the simulator), before the policy serves a call; any
 * failure refuses the policy with a message naming the file.  It works on a connection of
 * its own, so it may run on any thread (the reload's worker) while the store serves. */
#include "store/store.h"
#include "store/store_sqlite.h"
#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "core/files.h"
#include "core/hash.h"

/* How long activation waits for the store's own writes to let it in. */
#define POLICY_BUSY_MS 10000
/* A schema file is DDL, not data: larger than this is a mistake. */
#define POLICY_SCHEMA_MAX_BYTES (1024 * 1024)
/* Queries a policy may declare, and arguments one may take. */
#define POLICY_QUERIES_MAX 200
#define POLICY_QUERY_ARGS_MAX 16

/* ---- schema files ------------------------------------------------------------------- */

static char *slurp(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (size_t)st.st_size <= max && (buf = malloc(st.st_size + 1))) {
        size_t n = fread(buf, 1, st.st_size, f);
        buf[n] = 0;
    }
    fclose(f);
    return buf;
}

/* FNV-1a 64, as hex: enough to notice an edited file, not a security measure. */
static void checksum(const char *s, char out[17]) { hl_fnv1a64_hex(s, strlen(s), out); }

static double now_epoch(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* The checksum recorded for version (into sum), 1 if recorded, 0 if not, -1 on error. */
static int recorded(sqlite3 *db, int version, char *sum, size_t sumlen, char *err, int errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT checksum FROM policy_schema WHERE version = ?1", -1, &st, NULL)) {
        snprintf(err, errlen, "policy_schema: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int(st, 1, version);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        snprintf(sum, sumlen, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    } else if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "policy_schema: %s", sqlite3_errmsg(db));
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

/* Runs one schema file in a transaction with its policy_schema row. */
static int apply_file(sqlite3 *db, int version, const char *shown, const char *sql, const char *sum,
                      char *err, int errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot start a transaction: %s", shown, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    char again[17];
    int was = recorded(db, version, again, sizeof again, err, errlen); /* another process? */
    if (was == 0 && sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s (nothing of it was applied; the policy is refused)", shown,
                 msg ? msg : sqlite3_errmsg(db));
        was = -1;
    }
    if (was == 0) {
        sqlite3_stmt *st = NULL;
        int ok = sqlite3_prepare_v2(db, "INSERT INTO policy_schema (version, file, checksum, applied)"
                                        " VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_int(st, 1, version);
            sqlite3_bind_text(st, 2, shown, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, sum, -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(st, 4, now_epoch());
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        if (!ok) {
            snprintf(err, errlen, "%s: recording it in policy_schema: %s", shown, sqlite3_errmsg(db));
            was = -1;
        }
        sqlite3_finalize(st);
    }
    sqlite3_free(msg);
    if (was < 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* A file's version: the digits its name starts with ("001_accounts.sql" = 1), or -1. */
static int file_version(const char *name)
{
    char *end = NULL;
    long v = strtol(name, &end, 10);
    return end != name && v > 0 && v < 1000000 && (*end == '_' || *end == '-' || *end == '.') ? (int)v : -1;
}

static int apply_schema(sqlite3 *db, const char *rules_dir, char *err, int errlen)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/schema", rules_dir);
    hl_strv files = { 0 };
    hl_files_collect(dir, ".sql", 0, false, &files);
    hl_strv_sort(&files);
    int rc = 0, last = 0;
    for (int i = 0; i < files.n && rc == 0; i++) {
        char path[1400], shown[1400];
        snprintf(path, sizeof path, "%s/%s", dir, files.v[i]);
        snprintf(shown, sizeof shown, "schema/%s", files.v[i]);
        int version = file_version(files.v[i]);
        if (version < 0 || version == last) {
            snprintf(err, errlen, "%s/%s: %s", rules_dir, shown, version < 0
                     ? "a schema file's name starts with its version (001_name.sql)"
                     : "two schema files have the same version");
            rc = -1;
            break;
        }
        last = version;
        char *sql = slurp(path, POLICY_SCHEMA_MAX_BYTES);
        if (!sql) {
            snprintf(err, errlen, "%s: cannot read (or over 1 MB)", path);
            rc = -1;
            break;
        }
        char sum[17], had[17] = "";
        checksum(sql, sum);
        int was = recorded(db, version, had, sizeof had, err, errlen);
        if (was < 0) {
            rc = -1;
        } else if (was && strcmp(had, sum) != 0) {
            snprintf(err, errlen, "%s: changed since it was applied to this database (version %d):"
                     " a schema file is never edited once applied; add a new one", path, version);
            rc = -1;
        } else if (!was) {
            rc = apply_file(db, version, shown, sql, sum, err, errlen);
            if (rc < 0 && strncmp(err, shown, strlen(shown)) == 0) { /* name the file in full */
                char tail[1024];
                snprintf(tail, sizeof tail, "%s", err + strlen(shown));
                snprintf(err, errlen, "%s%s", path, tail);
            }
        }
        free(sql);
    }
    hl_strv_free(&files);
    return rc;
}

/* ---- queries.lua -------------------------------------------------------------------- */

/* The declared args of the query at the top of L, as [{name, default?}], or NULL with err. */
static json_t *read_args(lua_State *L, const char *where, char *err, int errlen)
{
    json_t *args = json_array();
    int t = lua_getfield(L, -1, "args");
    lua_Integer n = t == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : 0;
    if ((t != LUA_TNIL && t != LUA_TTABLE) || n > POLICY_QUERY_ARGS_MAX) {
        snprintf(err, errlen, "%s: args must be a list of at most %d names", where, POLICY_QUERY_ARGS_MAX);
        goto fail;
    }
    for (lua_Integer i = 1; i <= n; i++) {
        json_t *a = json_object();
        json_array_append_new(args, a);
        if (lua_rawgeti(L, -1, i) == LUA_TTABLE) {
            lua_getfield(L, -1, "default");
            if (lua_isinteger(L, -1))
                json_object_set_new(a, "default", json_integer(lua_tointeger(L, -1)));
            else if (lua_type(L, -1) == LUA_TSTRING)
                json_object_set_new(a, "default", json_string(lua_tostring(L, -1)));
            else if (!lua_isnil(L, -1)) {
                snprintf(err, errlen, "%s: the default of argument %d must be a string or a whole number",
                         where, (int)i);
                goto fail;
            }
            lua_pop(L, 1);
            lua_getfield(L, -1, "name");
            lua_remove(L, -2);
        }
        const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!name || !*name || strspn(name, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(name) ||
            !strcmp(name, "now")) {
            snprintf(err, errlen, "%s: argument %d needs a name of a-z, 0-9 and _ (not \"now\", which "
                     "the engine binds)", where, (int)i);
            goto fail;
        }
        json_object_set_new(a, "name", json_string(name));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return args;
fail:
    json_decref(args);
    return NULL;
}

/* The moments the engine runs a query by itself (a query's on =), and the arguments it
 * gives each (issue 7: what a crash left is finished by the policy's own SQL). */
static const struct policy_hook {
    const char *event;
    const char *args[3];
} policy_hooks[] = {
    { "start", { NULL } },
    { "recording_repaired", { "path", "duration_ms", NULL } },
};

/* q's on = (NULL or a known event), checked against the args the engine gives it. */
static int read_hook(lua_State *L, json_t *q, const char *where, char *err, int errlen)
{
    int t = lua_getfield(L, -1, "on");
    const char *ev = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    const struct policy_hook *h = NULL;
    for (size_t i = 0; ev && i < sizeof policy_hooks / sizeof policy_hooks[0]; i++)
        if (!strcmp(ev, policy_hooks[i].event))
            h = &policy_hooks[i];
    int rc = 0;
    if (t != LUA_TNIL && !h) {
        snprintf(err, errlen, "%s: on must be \"start\" or \"recording_repaired\"", where);
        rc = -1;
    }
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(q, "args"), i, a) {
        const char *name = json_string_value(json_object_get(a, "name"));
        bool given = false;
        for (int k = 0; h && h->args[k]; k++)
            given |= !strcmp(h->args[k], name);
        if (rc == 0 && h && !given) {
            snprintf(err, errlen, "%s: on = \"%s\" gives no argument %s", where, h->event, name);
            rc = -1;
        }
    }
    if (rc == 0 && h)
        json_object_set_new(q, "on", json_string(h->event));
    lua_pop(L, 1);
    return rc;
}

/* Is :name a declared argument of q (or :now)? */
static bool declared(json_t *args, const char *name)
{
    if (!strcmp(name, "now"))
        return true;
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
        if (!strcmp(json_string_value(json_object_get(a, "name")), name))
            return true;
    return false;
}

/* Prepares q's SQL: one statement, read-only unless it says writes, parameters :named and
 * declared. */
static int check_sql(sqlite3 *db, json_t *q, const char *where, char *err, int errlen)
{
    const char *sql = json_string_value(json_object_get(q, "sql"));
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int prc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
    if (prc != SQLITE_OK || !st) {
        snprintf(err, errlen, "%s: %s", where, prc != SQLITE_OK ? sqlite3_errmsg(db) : "no statement");
        sqlite3_finalize(st);
        return -1;
    }
    int rc = 0;
    tail += strspn(tail, " \t\r\n;");
    if (*tail) {
        snprintf(err, errlen, "%s: one statement per query", where);
        rc = -1;
    } else if (!json_is_true(json_object_get(q, "writes")) && !sqlite3_stmt_readonly(st)) {
        snprintf(err, errlen, "%s: the statement writes; say writes = true", where);
        rc = -1;
    }
    for (int i = 1; rc == 0 && i <= sqlite3_bind_parameter_count(st); i++) {
        const char *p = sqlite3_bind_parameter_name(st, i);
        if (!p || p[0] != ':' || !declared(json_object_get(q, "args"), p + 1)) {
            snprintf(err, errlen, "%s: parameter %s is not one of its args (write :name; :now is the time)",
                     where, p ? p : "?");
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* One query at the top of L (named name) as {sql, description, writes, args}. */
static json_t *read_query(lua_State *L, sqlite3 *db, const char *name, const char *path,
                          char *err, int errlen)
{
    char where[1300];
    snprintf(where, sizeof where, "%s: query '%s'", path, name);
    if (!lua_istable(L, -1) || strspn(name, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(name)) {
        snprintf(err, errlen, "%s: a query is a table under a name of a-z, 0-9 and _", where);
        return NULL;
    }
    lua_getfield(L, -1, "sql");
    lua_getfield(L, -2, "description");
    lua_getfield(L, -3, "writes");
    const char *sql = lua_type(L, -3) == LUA_TSTRING ? lua_tostring(L, -3) : NULL;
    const char *desc = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    if (!sql || !desc || (!lua_isnil(L, -1) && !lua_isboolean(L, -1))) {
        snprintf(err, errlen, "%s: needs sql and description (strings), and writes true or false", where);
        lua_pop(L, 3);
        return NULL;
    }
    json_t *q = json_pack("{s:s,s:s,s:b}", "sql", sql, "description", desc, "writes", lua_toboolean(L, -1));
    lua_pop(L, 3);
    json_t *args = q ? read_args(L, where, err, errlen) : NULL;
    if (!args) {
        json_decref(q);
        return NULL;
    }
    json_object_set_new(q, "args", args);
    if (read_hook(L, q, where, err, errlen) < 0 || check_sql(db, q, where, err, errlen) < 0) {
        json_decref(q);
        return NULL;
    }
    return q;
}

/* RULES/queries.lua: {} when there is none; NULL with err when it is wrong. */
static json_t *load_queries(sqlite3 *db, const char *rules_dir, char *err, int errlen)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/queries.lua", rules_dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return json_object();
    lua_State *L = luaL_newstate(); /* a plain data chunk: no libraries */
    if (!L) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    json_t *all = NULL;
    if (luaL_loadfilex(L, path, "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
    } else if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: must return a table of queries by name", path);
    } else {
        all = json_object();
        lua_pushnil(L);
        while (all && lua_next(L, -2)) {
            const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            json_t *q = json_object_size(all) < POLICY_QUERIES_MAX
                            ? read_query(L, db, name, path, err, errlen) : NULL;
            if (!q && json_object_size(all) >= POLICY_QUERIES_MAX)
                snprintf(err, errlen, "%s: more than %d queries", path, POLICY_QUERIES_MAX);
            if (q) {
                json_object_set_new(all, name, q);
            } else {
                json_decref(all);
                all = NULL;
            }
            lua_pop(L, 1);
        }
    }
    lua_close(L);
    return all;
}

/* ---- activation --------------------------------------------------------------------- */

int hl_store_policy_activate(hl_store *s, const char *rules_dir, json_t **queries, char *err, int errlen)
{
    if (queries)
        *queries = NULL;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(hl_store_path(s), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL)) {
        snprintf(err, errlen, "store: cannot open %s: %s", hl_store_path(s), db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, POLICY_BUSY_MS);
    int rc = apply_schema(db, rules_dir, err, errlen);
    if (rc == 0 && queries) {
        *queries = load_queries(db, rules_dir, err, errlen);
        rc = *queries ? 0 : -1;
    }
    sqlite3_close(db);
    return rc;
}

int hl_store_policy_run_hook(hl_store *s, json_t *queries, const char *event, json_t *params,
                             double now, char *err, int errlen)
{
    int total = 0;
    const char *name;
    json_t *q;
    json_object_foreach(queries, name, q) {
        const char *on = json_string_value(json_object_get(q, "on"));
        if (!on || strcmp(on, event) != 0)
            continue;
        json_t *p = params ? json_deep_copy(params) : json_object();
        json_object_set_new(p, "now", json_real(now));
        char why[512] = "";
        /* under the script authorizer, as `hotline ctl query` runs it */
        json_t *rows = hl_store_exec_script_sync(s, json_string_value(json_object_get(q, "sql")), p,
                                                 why, sizeof why);
        json_decref(p);
        if (!rows) {
            snprintf(err, errlen, "query %s (on %s): %s", name, event, why);
            return -1;
        }
        total += (int)json_array_size(rows);
        json_decref(rows);
    }
    return total;
}
