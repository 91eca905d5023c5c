/* test_store.c — the SQLite store: migrations, CDR round trip, asynchronous execution from
 * a uv loop, batching with failure isolation, the script authorizer, the loop-less mode,
 * draining at close, and durability across an abrupt _exit() of the writing process. */
#include "store/store.h"
#include "core/log.h"
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

static char dir[256];

static json_t *q(hl_store *s, const char *sql, json_t *params) { return unit_query(s, sql, params); }

static long long count(hl_store *s, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) AS n FROM %s", table);
    json_t *r = q(s, sql, NULL);
    long long n = r ? json_integer_value(json_object_get(json_array_get(r, 0), "n")) : -1;
    json_decref(r);
    return n;
}

static void make_cdr(hl_cdr *c, int i)
{
    memset(c, 0, sizeof *c);
    snprintf(c->call_id, sizeof c->call_id, "call-%d", i);
    snprintf(c->leg_id, sizeof c->leg_id, "leg-%d@127.0.0.1", i);
    c->leg_index = 0;
    strcpy(c->direction, "inbound");
    strcpy(c->caller, "13900001111");
    strcpy(c->called, "12333");
    c->start = 1782892740.250; /* 2026-07-01T15:59:00.25+08:00 */
    c->answer = c->start + 0.5;
    c->end = c->start + 62.125;
    strcpy(c->hangup_side, "caller");
    strcpy(c->hangup_cause, "bye");
    strcpy(c->dtmf, "1*20#");
    strcpy(c->prompts, "welcome menu/main goodbye");
    strcpy(c->menus, "main pension");
    strcpy(c->route, "queue:0432.general");
    strcpy(c->script_version, "v-abc123");
    strcpy(c->recording, "recordings/2026/07/01/call-1.wav");
    c->rtp_sent = 3100; c->rtp_received = 3099; c->rtp_lost = 1;
    c->rtp_jitter_ms = 2.5;
    strcpy(c->codec, "PCMA");
    strcpy(c->vars, "{\"city\":\"0432\",\"n\":3}");
}

/* ---- migrations ---- */

static void test_migrations(void)
{
    char err[256];
    hl_store *s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(s != NULL, "open: %s", err);
    if (!s)
        return;
    CHECK(hl_store_schema_version(s) == hl_store_schema_latest(), "version %d",
          hl_store_schema_version(s));
    CHECK(count(s, "schema_version") == hl_store_schema_latest(), "schema_version rows");
    hl_store_close(s);
    s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(s != NULL, "reopen: %s", err);
    if (!s)
        return;
    CHECK(hl_store_schema_version(s) == hl_store_schema_latest(), "version after reopen");
    CHECK(count(s, "schema_version") == hl_store_schema_latest(), "migrations ran twice");
    json_t *r = q(s, "PRAGMA journal_mode", NULL);
    CHECK(r && !strcmp(json_string_value(json_object_get(json_array_get(r, 0), "journal_mode")),
                       "wal"), "WAL mode");
    json_decref(r);
    CHECK(count(s, "script_kv") == 0 && count(s, "jobs") == 0 && count(s, "policy_schema") == 0,
          "tables exist");
    /* issue 6: the engine makes its own tables only; a centre's are its policy's */
    json_t *t = q(s, "SELECT group_concat(name, ' ') AS names FROM (SELECT name FROM sqlite_master"
                     " WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)", NULL);
    const char *names = json_string_value(json_object_get(json_array_get(t, 0), "names"));
    CHECK(names && !strcmp(names, "agent_contacts agent_events agents cdr dial_counts jobs live_calls "
                                  "policy_schema queue_events reload_audit schema_version script_kv"),
          "a new database holds the engine's tables only: %s", names ? names : "?");
    json_decref(t);
    /* a database from a newer engine is refused, clearly */
    json_decref(q(s, "INSERT INTO schema_version(version, applied) VALUES (999, 0)", NULL));
    hl_store_close(s);
    s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(!s && strstr(err, "newer"), "newer schema refused: %s", err);
    if (s)
        hl_store_close(s);
    /* put it back, directly (the store refuses to open it) */
    char path[300];
    snprintf(path, sizeof path, "%s/hotline.db", dir);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
          sqlite3_exec(db, "DELETE FROM schema_version WHERE version = 999", NULL, NULL, NULL) ==
              SQLITE_OK, "restore schema_version");
    sqlite3_close(db);
}

/* ---- a policy's own tables and queries (issue 6: store_policy.c) ---- */

static char rules[300];

static void write_rule(const char *rel, const char *text)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", rules, rel);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        printf("  (cannot write %s)\n", path);
}

static int activate(hl_store *s, const char *rules_dir, json_t **queries, char *err, int errlen)
{
    err[0] = 0;
    return hl_store_policy_activate(s, rules_dir, queries, err, errlen);
}

/* A new store in DIR/sub with the shipped policy's tables (rules/: tests run from the
 * repository's root); NULL after a failed CHECK. */
static hl_store *shipped_policy_store(const char *sub)
{
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    hl_store *s = hl_store_open(NULL, path, err, sizeof err);
    CHECK(s && activate(s, "rules", NULL, err, sizeof err) == 0, "the shipped policy's store: %s", err);
    return s;
}

/* The notes table the later tests use is such a policy table. */
static const char NOTES_SQL[] =
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, caller TEXT NOT NULL DEFAULT '', created REAL NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'handled')));\n"
    "CREATE INDEX notes_state ON notes(state);\n";

static void test_policy_schema(void)
{
    char err[512], path[400];
    snprintf(rules, sizeof rules, "%s/rules", dir);
    snprintf(path, sizeof path, "%s/schema", rules);
    mkdir(rules, 0755);
    mkdir(path, 0755);
    hl_store *s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(s != NULL, "open: %s", err);
    if (!s)
        return;
    write_rule("schema/001_notes.sql", NOTES_SQL);
    write_rule("queries.lua", "return { notes = { description = 'the notes', args = { { name = 'state', "
               "default = 'new' } }, sql = 'SELECT * FROM notes WHERE state = :state' } }\n");
    json_t *queries = NULL;
    CHECK(activate(s, rules, &queries, err, sizeof err) == 0, "activate: %s", err);
    CHECK(count(s, "notes") == 0 && count(s, "policy_schema") == 1, "001 applied once");
    CHECK(json_is_string(json_object_get(json_object_get(queries, "notes"), "sql")) &&
          !json_is_true(json_object_get(json_object_get(queries, "notes"), "writes")), "queries read");
    json_decref(queries);
    /* never re-applied: CREATE TABLE notes would fail the second time */
    CHECK(activate(s, rules, NULL, err, sizeof err) == 0 && count(s, "policy_schema") == 1,
          "an applied file is not run again: %s", err);

    /* an applied file edited afterwards is refused, naming it */
    write_rule("schema/001_notes.sql", "CREATE TABLE notes2 (a);\n");
    CHECK(activate(s, rules, NULL, err, sizeof err) < 0 && strstr(err, "001_notes.sql: changed since it was applied"),
          "an edited file is refused: %s", err);
    write_rule("schema/001_notes.sql", NOTES_SQL);

    /* a broken file is refused whole: its first (good) statement is not kept either */
    write_rule("schema/002_broken.sql", "CREATE TABLE half (a);\nCRATE TABLE oops (b);\n");
    CHECK(activate(s, rules, NULL, err, sizeof err) < 0 && strstr(err, "schema/002_broken.sql") &&
          strstr(err, "syntax error"), "a broken file is refused: %s", err);
    json_t *r = q(s, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'", NULL);
    CHECK(json_integer_value(json_object_get(json_array_get(r, 0), "n")) == 0 &&
          count(s, "policy_schema") == 1, "nothing of a broken file stays");
    json_decref(r);
    snprintf(path, sizeof path, "%s/schema/002_broken.sql", rules);
    unlink(path);
    write_rule("schema/notes.sql", "SELECT 1;\n");
    CHECK(activate(s, rules, NULL, err, sizeof err) < 0 && strstr(err, "starts with its version"),
          "a file without a version: %s", err);
    snprintf(path, sizeof path, "%s/schema/notes.sql", rules);
    unlink(path);

    /* queries: a read that writes, an undeclared parameter, a bad field */
    static const char *const bad[][2] = {
        { "return { q = { description = 'd', sql = 'DELETE FROM notes' } }", "say writes = true" },
        { "return { q = { description = 'd', sql = 'SELECT * FROM notes WHERE id = :id' } }",
          "parameter :id is not one of its args" },
        { "return { q = { description = 'd', sql = 'SELECT * FROM no_such_table' } }", "no such table" },
        { "return { q = { sql = 'SELECT 1' } }", "needs sql and description" },
        { "return { q = { description = 'd', sql = 'SELECT 1; SELECT 2' } }", "one statement" },
        /* issue 7: queries the engine runs itself, with the arguments it gives */
        { "return { q = { description = 'd', on = 'boot', sql = 'SELECT 1' } }", "on must be" },
        { "return { q = { description = 'd', on = 'start', args = { 'path' },"
          " sql = 'SELECT * FROM notes WHERE caller = :path' } }", "gives no argument path" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_rule("queries.lua", bad[i][0]);
        queries = NULL;
        CHECK(activate(s, rules, &queries, err, sizeof err) < 0 && strstr(err, "queries.lua: query 'q'") &&
              strstr(err, bad[i][1]), "bad query %zu: %s", i, err);
        json_decref(queries);
    }
    write_rule("queries.lua", "return {}\n");
    hl_store_close(s);
}

/* A database made by an engine before issue 6 (the centre's tables and sample rows were
 * engine migrations 1-3) opens, and the shipped policy's schema adopts it: its voice
 * messages stay, the SHA-256 sample accounts go.  A new one gets the tables, no rows. */
static void test_policy_adopts_old_database(void)
{
    char old[300], err[512], path[400];
    snprintf(old, sizeof old, "%s/old", dir);
    mkdir(old, 0750);
    snprintf(path, sizeof path, "%s/hotline.db", old);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db,
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied REAL NOT NULL, description TEXT);"
        "INSERT INTO schema_version VALUES (1, 0, 'cdr, messages, script_kv'), (2, 0, 'demo_accounts, account_locks'),"
        " (3, 0, 'demo account rows'), (4, 0, 'jobs');"
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL DEFAULT '');"
        /* migration 1's cdr, as much of it as later migrations touch (9 adds to it) */
        "CREATE TABLE cdr (id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, start_time REAL NOT NULL DEFAULT 0);"
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, caller TEXT NOT NULL DEFAULT '', called TEXT NOT NULL DEFAULT '',"
        " created REAL NOT NULL, duration_ms INTEGER NOT NULL DEFAULT 0, path TEXT NOT NULL DEFAULT '',"
        " state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'handled')), handled_at REAL, handled_by TEXT,"
        " call_id TEXT NOT NULL DEFAULT '');"
        "CREATE INDEX messages_state ON messages(state, created);"
        "INSERT INTO messages (caller, created) VALUES ('13900000001', 1782892740);"
        "CREATE TABLE demo_accounts (id_number TEXT PRIMARY KEY, pin_hash TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
        " balance_fen INTEGER NOT NULL DEFAULT 0, paid_months INTEGER NOT NULL DEFAULT 0, last_paid TEXT NOT NULL DEFAULT '');"
        "CREATE TABLE account_locks (id_number TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0,"
        " locked_until REAL NOT NULL DEFAULT 0);"
        "INSERT INTO demo_accounts VALUES ('220102198503151237',"
        " 'bc174b5f1c8f8e303d89a957a4db59a6122bfc6b218e70fb45decd90ea9cfaa9', 'x', 1, 1, '2026-10-15');",
        NULL, NULL, NULL) == SQLITE_OK, "an old database: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    hl_store *s = hl_store_open(NULL, old, err, sizeof err);
    CHECK(s != NULL, "an old database opens: %s", err);
    if (!s)
        return;
    json_t *queries = NULL;
    CHECK(activate(s, "rules", &queries, err, sizeof err) == 0, "the shipped policy adopts it: %s", err);
    json_decref(queries);
    CHECK(count(s, "messages") == 1 && count(s, "demo_accounts") == 0 && count(s, "account_locks") == 0,
          "messages kept, SHA-256 sample accounts gone");
    hl_store_close(s);

    s = shipped_policy_store("new");
    if (s) {
        CHECK(count(s, "demo_accounts") == 0 && count(s, "messages") == 0,
              "a new database holds no sample rows");
        hl_store_close(s);
    }
}

/* ---- the account lock counter of rules/accounts.lua (issue 6) ----
 * Two calls with a wrong PIN for the same ID at once: on the engine each hl.store.query
 * yields, and the loop serves the queries of both calls in turn.  Here wrong_pin runs in two
 * coroutines whose hl.store.query yields its SQL; the driver runs them round-robin on this
 * store, as the loop would: A's first query, B's first query, A's next ...  A read-then-write
 * counter loses one PIN under that order; the rule's single statement counts both. */

static hl_store *lock_store;

/* run(sql, params) → rows (a list of {column = value}) | nil, err: on the store, as a script */
static int l_run(lua_State *L)
{
    const char *sql = luaL_checkstring(L, 1);
    json_t *params = json_array();
    for (lua_Integer i = 1; lua_rawgeti(L, 2, i) != LUA_TNIL; i++, lua_pop(L, 1))
        json_array_append_new(params, lua_isinteger(L, -1) ? json_integer(lua_tointeger(L, -1))
                                      : lua_type(L, -1) == LUA_TNUMBER ? json_real(lua_tonumber(L, -1))
                                      : json_string(lua_tostring(L, -1)));
    char err[256];
    json_t *rows = hl_store_exec_script_sync(lock_store, sql, params, err, sizeof err);
    json_decref(params);
    if (!rows) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_newtable(L);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        lua_newtable(L);
        const char *k;
        json_t *v;
        json_object_foreach(row, k, v) {
            if (json_is_integer(v))
                lua_pushinteger(L, json_integer_value(v));
            else if (json_is_number(v))
                lua_pushnumber(L, json_number_value(v));
            else if (json_is_string(v))
                lua_pushstring(L, json_string_value(v));
            else
                continue;
            lua_setfield(L, -2, k);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    json_decref(rows);
    return 1;
}

/* Calls at once on one ID, interleaved statement by statement: max_pin_failures + 2 PINs
 * counted by accounts.attempt (issue 7: parallel calls guessed past the lock), then two
 * calls claiming the ID.  Returns the PINs let through, those refused as locked, the
 * count stored, max_pin_failures, the statements run, and the claims won. */
static const char LOCK_DRIVER[] =
    "package.path = 'rules/?.lua'\n"
    "hl = { now = function() return 1000 end,\n"
    "       store = { query = function(sql, ...) return coroutine.yield(sql, { ... }) end } }\n"
    "local accounts, ivr = require 'accounts', require 'ivr'\n"
    "local ID = '220203199001014562'\n"
    "local function at_once(n, fn)\n"
    "  local queue, results, queries = {}, {}, 0\n"
    "  for i = 1, n do\n"
    "    local co = coroutine.create(function() results[i] = fn(i) end)\n"
    "    queue[#queue + 1] = { co = co, step = { coroutine.resume(co) } }\n"
    "  end\n"
    "  while #queue > 0 do\n"
    "    local c = table.remove(queue, 1)\n"
    "    assert(c.step[1], c.step[2])\n"
    "    if coroutine.status(c.co) ~= 'dead' then\n"
    "      queries = queries + 1\n"
    "      c.step = { coroutine.resume(c.co, run(c.step[2], c.step[3])) }\n"
    "      queue[#queue + 1] = c\n"
    "    end\n"
    "  end\n"
    "  return results, queries\n"
    "end\n"
    "local max = ivr.account.max_pin_failures\n"
    "local turns, queries = at_once(max + 2, function() return accounts.attempt(ID) end)\n"
    "local let, locked = 0, 0\n"
    "for _, t in ipairs(turns) do\n"
    "  if t == 'locked' then locked = locked + 1 else let = let + 1 end\n"
    "end\n"
    "local rows = assert(run('SELECT failures FROM account_locks WHERE id_number = ?', { ID }))\n"
    "local claims = at_once(2, function(i) return accounts.claim(ID, 'call-' .. i) end)\n"
    "local won = (claims[1] and 1 or 0) + (claims[2] and 1 or 0)\n"
    "return let, locked, rows[1] and rows[1].failures or 0, max, queries, won\n";

static void test_account_lock_counter(void)
{
    lock_store = shipped_policy_store("locks");
    if (!lock_store)
        return;
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_register(L, "run", l_run);
    int rc = luaL_dostring(L, LOCK_DRIVER);
    CHECK(rc == LUA_OK, "the driver over rules/accounts.lua: %s", rc ? lua_tostring(L, -1) : "");
    if (rc == LUA_OK) {
        long long let = lua_tointeger(L, -6), locked = lua_tointeger(L, -5), failures = lua_tointeger(L, -4),
                  max = lua_tointeger(L, -3), queries = lua_tointeger(L, -2), won = lua_tointeger(L, -1);
        CHECK(max > 1, "rules/ivr.lua max_pin_failures (%lld) must exceed 1 for this test", max);
        CHECK(let == max, "%lld PINs at once: %lld let through to be checked, not max_pin_failures %lld",
              max + 2, let, max);
        CHECK(locked == 2, "%lld PINs at once: %lld refused as locked, not 2", max + 2, locked);
        CHECK(failures == max, "the count stored is %lld, not %lld", failures, max);
        CHECK(queries == max + 2, "one statement per PIN: %lld for %lld", queries, max + 2);
        CHECK(won == 1, "two calls claiming one ID at once: %lld won, not 1", won);
    }
    lua_close(L);
    hl_store_close(lock_store);
}

/* ---- CDR round trip, async from a loop ---- */

typedef struct cb_log {
    int calls, errors, order_ok, last_seq;
    char err[256];
    json_t *rows;
} cb_log;

static void on_done(void *arg, json_t *rows, const char *err)
{
    cb_log *l = arg;
    l->calls++;
    if (err) {
        l->errors++;
        snprintf(l->err, sizeof l->err, "%s", err);
    }
    if (rows) {
        json_decref(l->rows);
        l->rows = json_incref(rows);
    }
}

typedef struct seq_arg { cb_log *log; int seq; } seq_arg;

static void on_seq(void *arg, json_t *rows, const char *err)
{
    seq_arg *a = arg;
    if (a->seq == a->log->last_seq + 1)
        a->log->order_ok++;
    a->log->last_seq = a->seq;
    on_done(a->log, rows, err);
}

static void test_cdr_roundtrip(void)
{
    char err[256];
    uv_loop_t loop;
    uv_loop_init(&loop);
    hl_store *s = hl_store_open(&loop, dir, err, sizeof err);
    CHECK(s != NULL, "open with loop: %s", err);
    if (!s)
        return;
    long long before = count(s, "cdr");
    hl_cdr c;
    make_cdr(&c, 1);
    cb_log log = { 0 };
    hl_store_cdr_write(s, &c, on_done, &log);
    CHECK(log.calls == 0, "callback must not run inside the call");
    uv_run(&loop, UV_RUN_DEFAULT); /* returns when nothing is outstanding */
    CHECK(log.calls == 1 && log.errors == 0, "cdr write callback: %d calls, err %s", log.calls,
          log.err);
    CHECK(count(s, "cdr") == before + 1, "cdr row written");

    /* read back with the async path */
    json_t *p = json_pack("[s]", "call-1");
    hl_store_exec(s, "SELECT * FROM cdr WHERE call_id = ? ORDER BY id DESC LIMIT 1", p, on_done,
                  &log);
    json_decref(p); /* the store copied it */
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(log.calls == 2 && log.rows && json_array_size(log.rows) == 1, "async select");
    hl_cdr back;
    hl_cdr_from_row(json_array_get(log.rows, 0), &back);
    CHECK(!memcmp(&back, &c, sizeof c), "row -> hl_cdr equals what was written");
    json_t *j = hl_cdr_to_json(&back);
    CHECK(!strcmp(json_string_value(json_object_get(j, "start")), "2026-07-01T15:59:00+08:00"),
          "start ISO: %s", json_string_value(json_object_get(j, "start")));
    CHECK(json_real_value(json_object_get(j, "start_epoch")) == c.start, "start epoch");
    CHECK(json_array_size(json_object_get(j, "prompts")) == 3 &&
          !strcmp(json_string_value(json_array_get(json_object_get(j, "prompts"), 1)),
                  "menu/main"), "prompts array");
    CHECK(json_array_size(json_object_get(j, "menus")) == 2, "menus array");
    CHECK(json_integer_value(json_object_get(json_object_get(j, "vars"), "n")) == 3, "vars object");
    CHECK(json_integer_value(json_object_get(json_object_get(j, "rtp"), "sent")) == 3100, "rtp.sent");
    CHECK(json_real_value(json_object_get(json_object_get(j, "rtp"), "jitter_ms")) == 2.5,
          "rtp.jitter_ms");
    json_decref(j);
    hl_cdr empty;
    memset(&empty, 0, sizeof empty);
    j = hl_cdr_to_json(&empty);
    CHECK(json_is_null(json_object_get(j, "answer")) && json_is_object(json_object_get(j, "vars")),
          "unanswered CDR: answer null, vars {}");
    json_decref(j);

    /* many async operations from the loop: order kept, all delivered, batched */
    enum { N = 2000 };
    seq_arg *args = calloc(N, sizeof *args);
    cb_log many = { 0 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++) {
        args[i] = (seq_arg){ &many, i + 1 };
        make_cdr(&c, 1000 + i);
        hl_store_cdr_write(s, &c, on_seq, &args[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(many.calls == N && many.errors == 0 && many.order_ok == N,
          "%d CDR writes: %d callbacks, %d errors, %d in order", N, many.calls, many.errors,
          many.order_ok);
    if (getenv("HL_STORE_BENCH"))
        fprintf(stderr, "info: %d CDRs in %.3f s\n", N,
                (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    free(args);

    /* named parameters */
    json_decref(log.rows);
    log = (cb_log){ 0 };
    p = json_pack("{s:s,s:i}", "k", "hello", "v", 42);
    hl_store_exec(s, "INSERT INTO script_kv(key, value) VALUES (:k, :v) RETURNING key, value", p,
                  on_done, &log);
    json_decref(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(log.rows && !strcmp(json_string_value(json_object_get(json_array_get(log.rows, 0), "key")),
                              "hello"), "named params + RETURNING");

    /* batch isolation: a failing op in the middle does not undo its neighbours */
    cb_log a = { 0 }, b = { 0 }, d = { 0 };
    hl_store_exec(s, "INSERT INTO notes(caller, created) VALUES ('a', 1)", NULL, on_done, &a);
    hl_store_exec(s, "INSERT INTO notes(caller, created, state) VALUES ('b', 1, 'bogus')",
                  NULL, on_done, &b);
    hl_store_exec(s, "INSERT INTO notes(caller, created) VALUES ('c', 1)", NULL, on_done, &d);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(a.errors == 0 && b.errors == 1 && d.errors == 0, "batch isolation: %d %d %d (%s)",
          a.errors, b.errors, d.errors, b.err);
    json_t *r = q(s, "SELECT group_concat(caller, '') AS c FROM notes", NULL);
    CHECK(r && !strcmp(json_string_value(json_object_get(json_array_get(r, 0), "c")), "ac"),
          "a and c stored, b not");
    json_decref(r);
    json_decref(a.rows); json_decref(b.rows); json_decref(d.rows); json_decref(many.rows);

    /* bad input gets errors, not crashes */
    char e2[256] = "";
    r = hl_store_exec_sync(s, "SELECT ?", NULL, e2, sizeof e2);
    CHECK(!r && strstr(e2, "parameters"), "missing params: %s", e2);
    p = json_pack("[i,i]", 1, 2);
    r = hl_store_exec_sync(s, "SELECT ?", p, e2, sizeof e2);
    CHECK(!r && strstr(e2, "1 parameters, 2 given"), "param count: %s", e2);
    json_decref(p);
    p = json_string("x");
    r = hl_store_exec_sync(s, "SELECT ?", p, e2, sizeof e2);
    CHECK(!r && strstr(e2, "array"), "params type: %s", e2);
    json_decref(p);
    r = hl_store_exec_sync(s, "SELEC nonsense", NULL, e2, sizeof e2);
    CHECK(!r && strstr(e2, "syntax"), "syntax error: %s", e2);
    r = hl_store_exec_sync(s, "  ", NULL, e2, sizeof e2);
    CHECK(!r && strstr(e2, "empty"), "empty: %s", e2);
    r = hl_store_exec_sync(s, NULL, NULL, e2, sizeof e2);
    CHECK(!r, "NULL sql");
    p = json_pack("[s#]", "\xff\xfe" "abc", 5);
    json_decref(p); /* jansson refuses invalid UTF-8 itself; nothing to test past it */

    json_decref(log.rows);
    hl_store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0, "loop closes cleanly after the store");
}

/* ---- the script authorizer ---- */

static void expect_denied(hl_store *s, const char *sql, const char *why)
{
    char err[256] = "";
    json_t *r = hl_store_exec_script_sync(s, sql, NULL, err, sizeof err);
    CHECK(!r && strstr(err, why), "script '%s' should fail with '%s', got %s", sql, why,
          r ? "rows" : err);
    json_decref(r);
}

static void expect_allowed(hl_store *s, const char *sql)
{
    char err[256] = "";
    json_t *r = hl_store_exec_script_sync(s, sql, NULL, err, sizeof err);
    CHECK(r != NULL, "script '%s' should run: %s", sql, err);
    json_decref(r);
}

static void test_authorizer(void)
{
    char err[256];
    hl_store *s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(s != NULL, "open: %s", err);
    if (!s)
        return;
    long long ncdr = count(s, "cdr");
    /* the engine itself may; prepared (and cached) first in engine mode */
    json_decref(q(s, "DELETE FROM cdr WHERE id = -1", NULL));
    expect_denied(s, "DELETE FROM cdr WHERE id = -1", "not authorized");
    expect_denied(s, "DROP TABLE cdr", "not authorized");
    expect_denied(s, "DROP TABLE notes", "DDL");
    expect_denied(s, "ALTER TABLE cdr ADD COLUMN x", "ALTER");
    expect_denied(s, "CREATE TABLE x(a)", "DDL");
    expect_denied(s, "CREATE TEMP TABLE x(a)", "DDL");
    expect_denied(s, "CREATE TRIGGER t AFTER INSERT ON notes BEGIN DELETE FROM cdr; END", "DDL");
    expect_denied(s, "INSERT INTO cdr(call_id) VALUES ('x')", "writing to cdr");
    expect_denied(s, "UPDATE cdr SET route = 'x'", "writing to cdr");
    expect_denied(s, "UPDATE schema_version SET version = 0", "schema_version");
    expect_denied(s, "DELETE FROM policy_schema", "policy_schema");
    expect_denied(s, "ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH");
    expect_denied(s, "PRAGMA journal_mode=DELETE", "PRAGMA");
    expect_denied(s, "PRAGMA writable_schema=1", "PRAGMA");
    expect_denied(s, "PRAGMA wal_checkpoint", "PRAGMA");
    expect_denied(s, "BEGIN", "transaction");
    expect_denied(s, "COMMIT", "transaction");
    expect_denied(s, "SAVEPOINT x", "transaction");
    expect_denied(s, "VACUUM", "not authorized");
    expect_denied(s, "SELECT 1; DROP TABLE cdr", "one statement");
    expect_denied(s, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                     "SELECT count(*) FROM c", "interrupted");
    expect_denied(s, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000) "
                     "SELECT x FROM c", "more than");
    /* issue 8: agents' secrets stay with the engine; their public fields may be read */
    expect_denied(s, "SELECT pw_hash FROM agents", "agents column pw_hash");
    expect_denied(s, "SELECT * FROM agents", "agents column");
    expect_denied(s, "SELECT ha1_md5 FROM agents", "agents column ha1_md5");
    expect_denied(s, "UPDATE agents SET role = 'supervisor'", "writing to agents");
    expect_denied(s, "DELETE FROM agent_contacts", "deleting from agent_contacts");
    expect_allowed(s, "SELECT number, centre, skills, role FROM agents");
    expect_allowed(s, "SELECT * FROM cdr ORDER BY id DESC LIMIT 5");
    expect_allowed(s, "SELECT count(*) FROM schema_version");
    expect_allowed(s, "PRAGMA table_info(cdr)");
    expect_allowed(s, "INSERT INTO script_kv(key, value) VALUES ('visits', '1') "
                      "ON CONFLICT(key) DO UPDATE SET value = value + 1");
    expect_allowed(s, "UPDATE notes SET state = 'handled' WHERE id = -1");
    expect_allowed(s, "DELETE FROM script_kv WHERE key = 'nothing'");
    CHECK(count(s, "cdr") == ncdr, "cdr untouched by scripts");
    CHECK(hl_store_schema_version(s) == hl_store_schema_latest(), "schema intact");

    /* a script write interrupted inside a batch: its neighbours are reported, not silently lost */
    cb_log ok1 = { 0 }, bad = { 0 }, ok2 = { 0 };
    hl_store_exec(s, "INSERT INTO script_kv(key, value) VALUES ('b1', 'x')", NULL, on_done, &ok1);
    hl_store_exec_script(s, "INSERT INTO script_kv(key, value) WITH RECURSIVE c(x) AS "
                            "(SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT 'k' || x, x FROM c",
                         NULL, on_done, &bad);
    hl_store_exec(s, "INSERT INTO script_kv(key, value) VALUES ('b2', 'x')", NULL, on_done, &ok2);
    CHECK(hl_store_poll(s) == 3, "poll ran 3");
    json_t *r = q(s, "SELECT count(*) AS n FROM script_kv WHERE key IN ('b1', 'b2')", NULL);
    long long n = r ? json_integer_value(json_object_get(json_array_get(r, 0), "n")) : -1;
    json_decref(r);
    CHECK(bad.errors == 1 && ok2.errors == 0 && (ok1.errors == 1 ? n == 1 : n == 2),
          "interrupted script write in a batch: ok1 err=%d (%s) bad err=%d ok2 err=%d rows=%lld",
          ok1.errors, ok1.err, bad.errors, ok2.errors, n);
    CHECK(count(s, "script_kv") < 1000, "runaway insert left nothing behind");
    json_decref(ok1.rows); json_decref(bad.rows); json_decref(ok2.rows);
    hl_store_close(s);
}

/* ---- no worker: poll, sync sees queued writes ---- */

static void test_loopless(void)
{
    char err[256];
    hl_store *s = hl_store_open(NULL, dir, err, sizeof err);
    if (!s) {
        CHECK(0, "open: %s", err);
        return;
    }
    cb_log log = { 0 };
    hl_store_exec(s, "INSERT INTO script_kv(key, value) VALUES ('ll', 'v')", NULL, on_done, &log);
    CHECK(log.calls == 0, "queued, not run");
    json_t *r = q(s, "SELECT value FROM script_kv WHERE key = 'll'", NULL);
    CHECK(r && json_array_size(r) == 1, "sync sees the queued write (ordered after it)");
    json_decref(r);
    CHECK(log.calls == 0, "callbacks only from poll");
    CHECK(hl_store_poll(s) == 1 && log.calls == 1 && log.errors == 0, "poll delivered");
    CHECK(hl_store_poll(s) == 0, "nothing left");
    hl_store_exec(s, "DELETE FROM script_kv WHERE key = 'll'", NULL, on_done, &log);
    hl_store_close(s); /* drains */
    CHECK(log.calls == 2, "close drained and delivered");
    json_decref(log.rows);
}

/* ---- durability: the writer dies abruptly right after its callback ---- */

typedef struct crash_ctx { int left; } crash_ctx;

static void on_crash_cb(void *arg, json_t *rows, const char *err)
{
    crash_ctx *c = arg;
    if (err)
        _exit(3);
    if (--c->left == 0)
        _exit(0); /* no close, no flush, no atexit: as abrupt as a crash of the process */
}

static void test_crash(void)
{
    char err[256];
    hl_store *s = hl_store_open(NULL, dir, err, sizeof err);
    if (!s) {
        CHECK(0, "open: %s", err);
        return;
    }
    long long before = count(s, "cdr");
    hl_store_close(s);
    enum { N = 300 };
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        hl_store *cs = hl_store_open(&loop, dir, err, sizeof err);
        if (!cs)
            _exit(2);
        crash_ctx ctx = { N };
        hl_cdr c;
        for (int i = 0; i < N; i++) {
            make_cdr(&c, 50000 + i);
            hl_store_cdr_write(cs, &c, on_crash_cb, &ctx);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        _exit(4); /* not reached */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exited with %d", WEXITSTATUS(st));
    s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(s != NULL, "reopen after crash: %s", err);
    if (!s)
        return;
    CHECK(count(s, "cdr") == before + N, "all %d acknowledged CDRs survived: %lld", N,
          count(s, "cdr") - before);
    hl_store_close(s);
}

/* ---- what a crash left of a message: the shipped policy finishes it (issue 7) ---- */

static const char *message_state(hl_store *s, const char *path, long long *ms)
{
    static char state[32];
    json_t *p = json_pack("[s]", path);
    json_t *r = q(s, "SELECT state, duration_ms FROM messages WHERE path = ?", p);
    json_decref(p);
    json_t *row = json_array_get(r, 0);
    snprintf(state, sizeof state, "%s", row ? json_string_value(json_object_get(row, "state")) : "none");
    *ms = row ? json_integer_value(json_object_get(row, "duration_ms")) : -1;
    json_decref(r);
    return state;
}

static void test_policy_finishes_messages(void)
{
    hl_store *s = shipped_policy_store("crash-messages");
    if (!s)
        return;
    char err[512];
    json_t *queries = NULL;
    CHECK(activate(s, "rules", &queries, err, sizeof err) == 0, "queries: %s", err);
    json_decref(q(s, "INSERT INTO messages (caller, created, path, state) VALUES"
                     " ('13900000001', 1, 'messages/a.wav', 'recording'),"
                     " ('13900000002', 2, 'messages/b.wav', 'recording'),"
                     " ('13900000003', 3, 'messages/c.wav', 'new')", NULL));
    json_t *rec = json_pack("{s:s,s:i}", "path", "messages/a.wav", "duration_ms", 4200);
    CHECK(hl_store_policy_run_hook(s, queries, "recording_repaired", rec, 10, err, sizeof err) == 1,
          "the repaired recording's row: %s", err);
    json_decref(rec);
    CHECK(hl_store_policy_run_hook(s, queries, "start", NULL, 10, err, sizeof err) == 1,
          "the row whose file needed no repair: %s", err);
    long long ms;
    CHECK(!strcmp(message_state(s, "messages/a.wav", &ms), "new") && ms == 4200, "a: new, 4.2 s (%lld)", ms);
    CHECK(!strcmp(message_state(s, "messages/b.wav", &ms), "new"), "b: new");
    CHECK(!strcmp(message_state(s, "messages/c.wav", &ms), "new") && ms == 0, "c untouched");
    CHECK(hl_store_policy_run_hook(s, queries, "start", NULL, 10, err, sizeof err) == 0, "nothing twice");
    CHECK(hl_store_policy_run_hook(s, queries, "no_such_event", NULL, 10, err, sizeof err) == 0,
          "an event no query names runs nothing");
    json_decref(queries);
    hl_store_close(s);
}

/* ---- calls up when the engine died (issue 7: live_calls.c) ---- */

static json_t *cdrs_of(hl_store *s, const char *call_id)
{
    json_t *p = json_pack("[s]", call_id);
    json_t *rows = q(s, "SELECT * FROM cdr WHERE call_id = ?", p);
    json_decref(p);
    return rows;
}

static void test_live_calls_reconcile(void)
{
    char err[256];
    hl_store *s = hl_store_open(NULL, dir, err, sizeof err);
    if (!s) {
        CHECK(0, "open: %s", err);
        return;
    }
    json_decref(q(s, "DELETE FROM live_calls", NULL));
    hl_cdr c[3];
    for (int i = 0; i < 3; i++) {
        make_cdr(&c[i], 70000 + i);   /* an end-of-call CDR's fields: open keeps only the so-far ones */
        c[i].start += i;
        hl_store_live_call_open(s, &c[i]);
    }
    double stamp = c[0].start + 42.5;
    hl_store_live_calls_touch(s, stamp);
    hl_store_live_call_route(s, c[0].call_id, "message");  /* the route so far, with the stamp */
    hl_store_cdr_write(s, &c[1], NULL, NULL);          /* ended normally */
    hl_store_live_call_close(s, c[1].call_id);
    hl_store_cdr_write(s, &c[2], NULL, NULL);          /* died between its CDR and the close */
    hl_store_poll(s);
    CHECK(count(s, "live_calls") == 2, "two rows left at the crash: %lld", count(s, "live_calls"));
    hl_store_close(s); /* as good as a crash for the rows: nothing else closes them */

    s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(s != NULL, "reopen: %s", err);
    if (!s)
        return;
    int closed = hl_store_live_calls_reconcile(s, err, sizeof err);
    CHECK(closed == 1, "one call had no CDR: %d (%s)", closed, err);
    json_t *rows = cdrs_of(s, c[0].call_id);
    json_t *row = json_array_get(rows, 0);
    CHECK(json_array_size(rows) == 1, "the call up got one CDR");
    hl_cdr got;
    if (row)
        hl_cdr_from_row(row, &got);
    CHECK(row && !strcmp(got.hangup_cause, "engine_restart") && !strcmp(got.hangup_side, "engine"),
          "cause engine_restart, side engine");
    CHECK(row && got.start == c[0].start && got.end == stamp, "times: start kept, end at the last stamp");
    CHECK(row && !strcmp(got.caller, c[0].caller) && !strcmp(got.called, c[0].called) &&
          !strcmp(got.route, "message") && !strcmp(got.script_version, c[0].script_version) &&
          !strcmp(got.direction, c[0].direction) && !strcmp(got.leg_id, c[0].leg_id),
          "who called whom, the route and version known so far");
    json_decref(rows);
    rows = cdrs_of(s, c[2].call_id);
    CHECK(json_array_size(rows) == 1, "a call whose CDR was written gets no second one: %zu",
          json_array_size(rows));
    json_decref(rows);
    CHECK(count(s, "live_calls") == 0, "no rows left");
    CHECK(hl_store_live_calls_reconcile(s, err, sizeof err) == 0, "a second start finds nothing");
    /* a row never stamped ends when it started, not at 0 */
    hl_store_live_call_open(s, &c[0]);
    hl_store_poll(s);
    json_t *p = json_pack("[s]", c[0].call_id);
    json_decref(q(s, "DELETE FROM cdr WHERE call_id = ?", p));
    json_decref(p);
    CHECK(hl_store_live_calls_reconcile(s, err, sizeof err) == 1, "the unstamped row");
    rows = cdrs_of(s, c[0].call_id);
    if (json_array_get(rows, 0))
        hl_cdr_from_row(json_array_get(rows, 0), &got);
    CHECK(json_array_size(rows) == 1 && got.end == c[0].start, "unstamped: end = start");
    json_decref(rows);
    hl_store_close(s);
}

TEST_IMPL(store)
{
    hl_log_set_level(HL_LOG_WARN);
    snprintf(dir, sizeof dir, "/tmp/hl-test-store-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_migrations();
    test_policy_schema();
    test_policy_adopts_old_database();
    test_account_lock_counter();
    test_cdr_roundtrip();
    test_authorizer();
    test_loopless();
    test_crash();
    test_live_calls_reconcile();
    test_policy_finishes_messages();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return 0;
}
