/* store_sqlite.c — the SQLite store (store.h): the database file, its worker thread, the
 * operation queue, the prepared-statement cache, parameter binding, rows as JSON, and the
 * authorizer that fences script queries.
 *
 * Threads: the loop thread queues operations (hl_store_exec*) and receives completions
 * through a uv_async_t; the worker thread owns the connection while it runs.  A store
 * opened without a loop has no worker: the caller's thread runs queued operations in
 * hl_store_poll / hl_store_exec_sync.  Both paths run the same run_batch(). */
#include "store/store.h"
#include "store/store_sqlite.h"
#include "core/log.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A busy database (another process — a tool, the simulator — holding the write lock) is
 * retried for this long before an operation fails. */
#define HL_STORE_BUSY_MS 5000
/* Most operations committed in one transaction: bounds how long one commit holds the
 * write lock and how long the first operation of a batch waits for its callback. */
#define HL_STORE_BATCH_MAX 256
/* Prepared statements kept per connection; the engine uses a few dozen distinct SQL texts,
 * scripts a few more — the least recently used is finalized beyond this. */
#define HL_STORE_STMT_CACHE 64
/* Script queries are interrupted after this many progress callbacks of
 * HL_STORE_PROGRESS_OPS virtual-machine instructions each (about 20 million instructions,
 * well under a second): a runaway recursive CTE must not stall every CDR behind it. */
#define HL_STORE_PROGRESS_OPS 1000
#define HL_STORE_SCRIPT_MAX_TICKS 20000
/* Largest string or blob a statement may produce (SQLite's default is 1 GB). */
#define HL_STORE_MAX_LENGTH (16 * 1024 * 1024)
/* hl_store_close delivers completions whose callbacks queue more work at most this many
 * rounds; anything still queued after that fails with "store closed". */
#define HL_STORE_CLOSE_ROUNDS 16
/* The database holds callers' numbers: readable by the engine's user and group only. */
#define HL_STORE_FILE_MODE 0640
#define HL_STORE_DIR_MODE 0750

typedef struct store_op {
    struct store_op *next;
    char            *sql;
    json_t          *params;    /* owned copy, or NULL */
    bool             script;    /* run under the authorizer */
    bool             sync;      /* a thread waits on done_cond for it */
    bool             done;
    hl_store_cb      cb;
    void            *arg;
    json_t          *rows;      /* result */
    char            *err;       /* result (malloc'd), or a failure found when queueing */
} store_op;

typedef struct stmt_entry {
    char         *sql;
    bool          script;       /* prepared under the script authorizer */
    sqlite3_stmt *st;
    uint64_t      used;         /* LRU stamp */
} stmt_entry;

typedef struct op_list {
    store_op *head, *tail;
} op_list;

struct hl_store {
    uv_loop_t      *uv;
    uv_async_t      async;
    sqlite3        *db;
    int             version;
    char            path[PATH_MAX];
    char            node[HL_STORE_NODE_MAX]; /* this engine's name in rows it writes */

    pthread_t       thread;
    bool            has_thread;
    pthread_mutex_t mu;
    pthread_cond_t  work_cond;  /* pending non-empty or stop */
    pthread_cond_t  done_cond;  /* a sync op finished */
    op_list         pending;    /* under mu */
    op_list         done;       /* under mu: completions for the loop */
    bool            stop;       /* under mu: worker exits when pending is empty */

    /* loop thread only */
    int             outstanding;  /* queued async ops not yet delivered (keeps the loop alive) */
    bool            closing;

    /* whoever runs operations (worker, or the caller without one) */
    bool            script_mode;
    int             script_ticks;
    char            deny_reason[160];
    stmt_entry      cache[HL_STORE_STMT_CACHE];
    int             ncache;
    uint64_t        use_clock;
};

/* ---- small helpers ---------------------------------------------------------------- */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static char *fmt_err(const char *fmt, const char *a, const char *b)
{
    char buf[512];
    snprintf(buf, sizeof buf, fmt, a, b ? b : "");
    return dupstr(buf);
}

static void list_push(op_list *l, store_op *op)
{
    op->next = NULL;
    if (l->tail)
        l->tail->next = op;
    else
        l->head = op;
    l->tail = op;
}

static void op_free(store_op *op)
{
    free(op->sql);
    json_decref(op->params);
    json_decref(op->rows);
    free(op->err);
    free(op);
}

/* ---- authorizer: what script queries may do --------------------------------------- */

static bool internal_table(const char *t)
{
    return t && strncasecmp(t, "sqlite_", 7) == 0;
}

static bool engine_table(const char *t)
{
    /* jobs: scripts queue work only through hl.jobs.enqueue, which checks what they ask;
     * dial_counts: the cap on engine-placed calls, which a script must not reset;
     * agents, agent_contacts: password hashes and HA1s, which a script must not read or set;
     * agent_events, queue_events: attendance and scoring evidence, which only the ACD writes */
    return t && (strcasecmp(t, "cdr") == 0 || strcasecmp(t, "schema_version") == 0 ||
                 strcasecmp(t, "policy_schema") == 0 || strcasecmp(t, "jobs") == 0 ||
                 strcasecmp(t, "dial_counts") == 0 ||
                 strcasecmp(t, "live_calls") == 0 || strcasecmp(t, "agents") == 0 ||
                 strcasecmp(t, "agent_contacts") == 0 ||
                 strcasecmp(t, "agent_events") == 0 || strcasecmp(t, "queue_events") == 0 ||
                 internal_table(t));
}

/* PRAGMAs that only read the schema: harmless, and handy for scripts and tools. */
static bool readonly_pragma(const char *name)
{
    static const char *const ok[] = { "table_info", "table_xinfo", "table_list", "index_list",
                                      "index_info", "index_xinfo", "foreign_key_list", NULL };
    for (int i = 0; name && ok[i]; i++)
        if (strcasecmp(name, ok[i]) == 0)
            return true;
    return false;
}

static int deny(hl_store *s, const char *what, const char *name)
{
    if (s->deny_reason[0]) /* the first refusal names the cause */
        return SQLITE_DENY;
    snprintf(s->deny_reason, sizeof s->deny_reason, "%s%s%s is not allowed in script queries",
             what, name ? " " : "", name ? name : "");
    return SQLITE_DENY;
}

static int authorize(void *ud, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    hl_store *s = ud;
    if (!s->script_mode)
        return SQLITE_OK;
    switch (action) {
    case SQLITE_READ:    /* an agent's password hash and HA1s stay with the engine */
        if (a1 && !strcasecmp(a1, "agents") && a2 && (!strcasecmp(a2, "pw_hash") ||
                                                      !strncasecmp(a2, "ha1_", 4)))
            return deny(s, "reading the agents column", a2);
        return SQLITE_OK;
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
        if (internal_table(a1)) /* DDL edits sqlite_master before its own action code */
            return deny(s, "schema changes (DDL)", NULL);
        if (engine_table(a1))
            return deny(s, action == SQLITE_DELETE ? "deleting from" : "writing to", a1);
        return SQLITE_OK;
    case SQLITE_PRAGMA: /* the allowed ones only read, with or without an argument */
        return readonly_pragma(a1) ? SQLITE_OK : deny(s, "PRAGMA", a1);
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return deny(s, "ATTACH/DETACH", NULL);
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return deny(s, "transaction control", NULL);
    case SQLITE_ALTER_TABLE:
        return deny(s, "ALTER TABLE", a2);
    default: /* CREATE_*, DROP_*, REINDEX, ANALYZE, virtual tables, anything new */
        return deny(s, "schema changes (DDL)", NULL);
    }
}

static int progress(void *ud)
{
    hl_store *s = ud;
    return s->script_mode && ++s->script_ticks > HL_STORE_SCRIPT_MAX_TICKS;
}

/* ---- prepared-statement cache ----------------------------------------------------- */

static void cache_clear(hl_store *s)
{
    for (int i = 0; i < s->ncache; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    s->ncache = 0;
}

static bool only_space(const char *p)
{
    for (; p && *p; p++)
        if (!isspace((unsigned char)*p) && *p != ';')
            return false;
    return true;
}

/* The cached statement for (sql, script mode), preparing it on a miss. NULL with *err. */
static sqlite3_stmt *cache_get(hl_store *s, const char *sql, bool script, char **err)
{
    for (int i = 0; i < s->ncache; i++) {
        stmt_entry *e = &s->cache[i];
        if (e->script == script && strcmp(e->sql, sql) == 0) {
            e->used = ++s->use_clock;
            return e->st;
        }
    }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    s->deny_reason[0] = 0;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK) {
        *err = rc == SQLITE_AUTH && s->deny_reason[0]
                   ? fmt_err("not authorized: %s%s", s->deny_reason, NULL)
                   : fmt_err("%s%s", sqlite3_errmsg(s->db), NULL);
        return NULL;
    }
    if (!st) {
        *err = dupstr("empty statement");
        return NULL;
    }
    if (!only_space(tail)) {
        sqlite3_finalize(st);
        *err = dupstr("one statement per query (found more after the first)");
        return NULL;
    }
    int slot = s->ncache;
    if (slot == HL_STORE_STMT_CACHE) {
        slot = 0;
        for (int i = 1; i < s->ncache; i++)
            if (s->cache[i].used < s->cache[slot].used)
                slot = i;
        sqlite3_finalize(s->cache[slot].st);
        free(s->cache[slot].sql);
    } else {
        s->ncache++;
    }
    s->cache[slot] = (stmt_entry){ dupstr(sql), script, st, ++s->use_clock };
    if (!s->cache[slot].sql) { /* out of memory: keep working uncached */
        s->ncache--;
        s->cache[slot] = s->cache[s->ncache];
        sqlite3_finalize(st);
        *err = dupstr("out of memory");
        return NULL;
    }
    return st;
}

/* ---- binding and rows ------------------------------------------------------------- */

static int bind_one(sqlite3_stmt *st, int idx, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: return sqlite3_bind_int64(st, idx, json_integer_value(v));
    case JSON_REAL:    return sqlite3_bind_double(st, idx, json_real_value(v));
    case JSON_STRING:
        return sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                                 SQLITE_TRANSIENT);
    case JSON_TRUE:    return sqlite3_bind_int(st, idx, 1);
    case JSON_FALSE:   return sqlite3_bind_int(st, idx, 0);
    case JSON_NULL:    return sqlite3_bind_null(st, idx);
    default: { /* object / array: as JSON text */
        char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!txt)
            return SQLITE_NOMEM;
        return sqlite3_bind_text(st, idx, txt, -1, free);
    }
    }
}

static int bind_params(sqlite3_stmt *st, json_t *params, char **err)
{
    int want = sqlite3_bind_parameter_count(st);
    char n1[32], n2[32];
    if (!params || json_is_null(params)) {
        if (want) {
            snprintf(n1, sizeof n1, "%d", want);
            *err = fmt_err("statement has %s parameters but none were given%s", n1, NULL);
            return -1;
        }
        return 0;
    }
    if (json_is_array(params)) {
        if ((int)json_array_size(params) != want) {
            snprintf(n1, sizeof n1, "%d", want);
            snprintf(n2, sizeof n2, "%d", (int)json_array_size(params));
            *err = fmt_err("statement has %s parameters, %s given", n1, n2);
            return -1;
        }
        for (int i = 0; i < want; i++)
            if (bind_one(st, i + 1, json_array_get(params, i)) != SQLITE_OK) {
                *err = dupstr("could not bind a parameter");
                return -1;
            }
        return 0;
    }
    if (json_is_object(params)) {
        for (int i = 1; i <= want; i++) {
            const char *name = sqlite3_bind_parameter_name(st, i);
            json_t *v = name && name[0] ? json_object_get(params, name + 1) : NULL;
            if (!v) {
                *err = fmt_err("parameter %s has no value in the params object%s",
                               name ? name : "?", NULL);
                return -1;
            }
            if (bind_one(st, i, v) != SQLITE_OK) {
                *err = dupstr("could not bind a parameter");
                return -1;
            }
        }
        return 0;
    }
    *err = dupstr("params must be a JSON array, object or null");
    return -1;
}

/* For the store's other connections (store_reader.c): the same binding. */
int hl_store_bind(sqlite3_stmt *st, json_t *params, char **err) { return bind_params(st, params, err); }

/* Text that is not valid UTF-8 (a stray byte from a SIP header) must still reach the JSON:
 * non-ASCII bytes become '?' rather than dropping the row. */
static json_t *text_value(const unsigned char *t, int n)
{
    json_t *v = json_stringn((const char *)t, n);
    if (v)
        return v;
    char *c = malloc(n + 1);
    if (!c)
        return json_null();
    for (int i = 0; i < n; i++)
        c[i] = t[i] >= 0x80 || t[i] == 0 ? '?' : (char)t[i];
    v = json_stringn(c, n);
    free(c);
    return v ? v : json_null();
}

static json_t *column_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:   return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return text_value(sqlite3_column_text(st, i), sqlite3_column_bytes(st, i));
    case SQLITE_BLOB: {
        const unsigned char *b = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        char *hex = malloc(2 * (size_t)n + 1);
        if (!hex)
            return json_null();
        for (int k = 0; k < n; k++)
            sprintf(hex + 2 * k, "%02x", b[k]);
        hex[2 * n] = 0;
        json_t *v = json_string(hex);
        free(hex);
        return v;
    }
    default: return json_null();
    }
}

static char *step_error(hl_store *s, int rc)
{
    if (rc == SQLITE_INTERRUPT && s->script_mode)
        return dupstr("query interrupted: too much work for a script query (add a LIMIT or "
                      "an index)");
    if (rc == SQLITE_AUTH && s->deny_reason[0])
        return fmt_err("not authorized: %s%s", s->deny_reason, NULL);
    return fmt_err("%s%s", sqlite3_errmsg(s->db), NULL);
}

/* Runs one statement; rows or NULL with *err. */
static json_t *run_statement(hl_store *s, const char *sql, json_t *params, bool script,
                             char **err)
{
    s->script_mode = script;
    s->script_ticks = 0;
    s->deny_reason[0] = 0;
    json_t *rows = NULL;
    sqlite3_stmt *st = cache_get(s, sql, script, err);
    if (!st || bind_params(st, params, err) < 0)
        goto out;
    rows = json_array();
    int ncol = sqlite3_column_count(st), rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (script && json_array_size(rows) >= HL_STORE_SCRIPT_MAX_ROWS) {
            char lim[32];
            snprintf(lim, sizeof lim, "%d", HL_STORE_SCRIPT_MAX_ROWS);
            *err = fmt_err("query returns more than %s rows (use LIMIT)%s", lim, NULL);
            break;
        }
        json_t *row = json_object();
        for (int i = 0; i < ncol; i++)
            json_object_set_new(row, sqlite3_column_name(st, i), column_value(st, i));
        json_array_append_new(rows, row);
    }
    if (!*err && rc != SQLITE_DONE)
        *err = step_error(s, rc);
    if (*err) {
        json_decref(rows);
        rows = NULL;
    }
out:
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    s->script_mode = false;
    return rows;
}

/* Engine-internal statements (transactions, savepoints): 0 or -1 with *err. */
static int run_simple(hl_store *s, const char *sql, char **err)
{
    char *e = NULL;
    json_t *r = run_statement(s, sql, NULL, false, &e);
    json_decref(r);
    if (e) {
        if (err && !*err)
            *err = e;
        else
            free(e);
        return -1;
    }
    return 0;
}

static void run_op(hl_store *s, store_op *op)
{
    if (!op->err)
        op->rows = run_statement(s, op->sql, op->params, op->script, &op->err);
}

/* Marks the successful operations in [from, to) as failed: their transaction was undone. */
static void undo_done(store_op *from, store_op *to, const char *why)
{
    for (store_op *op = from; op && op != to; op = op->next) {
        if (op->err)
            continue;
        json_decref(op->rows);
        op->rows = NULL;
        op->err = fmt_err("rolled back with its batch after an error: %s%s", why, NULL);
    }
}

/* Runs a batch in order.  One operation runs in autocommit; several share a transaction,
 * each inside its own savepoint so that a failing one is undone alone. */
static void run_batch(hl_store *s, store_op *batch)
{
    if (!batch->next) {
        run_op(s, batch);
        return;
    }
    char *err = NULL;
    if (run_simple(s, "BEGIN IMMEDIATE", &err) < 0) {
        for (store_op *op = batch; op; op = op->next)
            if (!op->err)
                op->err = fmt_err("could not start a transaction: %s%s", err, NULL);
        free(err);
        return;
    }
    store_op *first = batch; /* first op of the current transaction */
    for (store_op *op = batch; op; op = op->next) {
        if (op->err)
            continue;
        run_simple(s, "SAVEPOINT hl_op", NULL);
        run_op(s, op);
        if (op->err && sqlite3_get_autocommit(s->db)) {
            /* Some errors (interrupt, I/O, full disk) roll the whole transaction back:
             * the earlier operations of it are lost too — say so, then go on afresh. */
            undo_done(first, op, op->err);
            first = op->next;
            if (first && run_simple(s, "BEGIN IMMEDIATE", &err) < 0)
                break;
            continue;
        }
        if (op->err)
            run_simple(s, "ROLLBACK TO hl_op", NULL);
        run_simple(s, "RELEASE hl_op", NULL);
    }
    if (err) { /* could not restart the transaction: the rest fails */
        for (store_op *op = first; op; op = op->next)
            if (!op->err)
                op->err = fmt_err("could not start a transaction: %s%s", err, NULL);
        free(err);
        return;
    }
    if (!first || sqlite3_get_autocommit(s->db))
        return;
    if (run_simple(s, "COMMIT", &err) < 0) {
        run_simple(s, "ROLLBACK", NULL);
        char why[400];
        snprintf(why, sizeof why, "commit failed: %s", err);
        undo_done(first, NULL, why);
        free(err);
    }
}

/* Takes up to HL_STORE_BATCH_MAX pending operations (mu held). */
static store_op *take_batch(hl_store *s)
{
    store_op *head = s->pending.head, *last = head;
    if (!head)
        return NULL;
    for (int n = 1; n < HL_STORE_BATCH_MAX && last->next; n++)
        last = last->next;
    s->pending.head = last->next;
    if (!s->pending.head)
        s->pending.tail = NULL;
    last->next = NULL;
    return head;
}

/* After a batch ran (mu held): sync ops are marked done for their waiter, the others go
 * to the completion list.  Returns true when some completion needs delivering. */
static bool finish_batch(hl_store *s, store_op *batch)
{
    bool any = false;
    while (batch) {
        store_op *op = batch;
        batch = batch->next;
        if (op->sync) {
            op->done = true;
        } else {
            list_push(&s->done, op);
            any = true;
        }
    }
    pthread_cond_broadcast(&s->done_cond);
    return any;
}

static void *worker_main(void *arg)
{
    hl_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->pending.head && !s->stop)
            pthread_cond_wait(&s->work_cond, &s->mu);
        store_op *batch = take_batch(s);
        if (!batch)
            break; /* stop, and nothing left */
        pthread_mutex_unlock(&s->mu);
        run_batch(s, batch);
        pthread_mutex_lock(&s->mu);
        if (finish_batch(s, batch))
            uv_async_send(&s->async);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int hl_store_queue_depth(const hl_store *s)
{
    return s ? s->outstanding : 0;   /* changed on the loop thread only */
}

/* Without a worker (or after it stopped): runs everything pending on this thread. */
static void run_pending_here(hl_store *s)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        store_op *batch = take_batch(s);
        pthread_mutex_unlock(&s->mu);
        if (!batch)
            return;
        run_batch(s, batch);
        pthread_mutex_lock(&s->mu);
        finish_batch(s, batch);
        pthread_mutex_unlock(&s->mu);
    }
}

/* Calls the callbacks of finished operations (loop thread). Returns how many. */
static int deliver(hl_store *s)
{
    pthread_mutex_lock(&s->mu);
    store_op *op = s->done.head;
    s->done.head = s->done.tail = NULL;
    pthread_mutex_unlock(&s->mu);
    int n = 0;
    while (op) {
        store_op *next = op->next;
        if (op->cb)
            op->cb(op->arg, op->err ? NULL : op->rows, op->err);
        op_free(op);
        n++;
        op = next;
    }
    if (s->uv && n) {
        s->outstanding -= n;
        if (s->outstanding <= 0 && !s->closing) {
            s->outstanding = 0;
            uv_unref((uv_handle_t *)&s->async);
        }
    }
    return n;
}

static void on_async(uv_async_t *h)
{
    deliver(h->data);
}

/* ---- queueing --------------------------------------------------------------------- */

/* params is stolen. */
static store_op *op_new(const char *sql, json_t *params, bool script, hl_store_cb cb, void *arg)
{
    store_op *op = calloc(1, sizeof *op);
    if (!op) {
        json_decref(params);
        return NULL;
    }
    op->sql = dupstr(sql ? sql : "");
    op->params = params;
    op->script = script;
    op->cb = cb;
    op->arg = arg;
    if (!op->sql)
        op->err = dupstr("out of memory");
    else if (!sql)
        op->err = dupstr("no SQL given");
    return op;
}

static void enqueue(hl_store *s, store_op *op)
{
    pthread_mutex_lock(&s->mu);
    list_push(&s->pending, op);
    pthread_cond_signal(&s->work_cond);
    pthread_mutex_unlock(&s->mu);
}

static json_t *copy_params(json_t *params)
{
    return params ? json_deep_copy(params) : NULL;
}

static void exec_async(hl_store *s, const char *sql, json_t *params_stolen, bool script,
                       hl_store_cb cb, void *arg)
{
    if (!s) {
        json_decref(params_stolen);
        if (cb)
            cb(arg, NULL, "no store");
        return;
    }
    store_op *op = op_new(sql, params_stolen, script, cb, arg);
    if (!op) {
        hl_error("store", "out of memory queueing a query");
        return;
    }
    if (s->uv && !s->closing && s->outstanding++ == 0)
        uv_ref((uv_handle_t *)&s->async);
    enqueue(s, op);
}

void hl_store_exec(hl_store *s, const char *sql, json_t *params, hl_store_cb cb, void *arg)
{
    exec_async(s, sql, copy_params(params), false, cb, arg);
}

void hl_store_exec_owned(hl_store *s, const char *sql, json_t *params, hl_store_cb cb,
                         void *arg)
{
    exec_async(s, sql, params, false, cb, arg);
}

void hl_store_exec_script(hl_store *s, const char *sql, json_t *params, hl_store_cb cb,
                          void *arg)
{
    exec_async(s, sql, copy_params(params), true, cb, arg);
}

static json_t *exec_sync(hl_store *s, const char *sql, json_t *params, bool script, char *err,
                         int errlen)
{
    if (!s) {
        snprintf(err, errlen, "no store");
        return NULL;
    }
    store_op *op = op_new(sql, copy_params(params), script, NULL, NULL);
    if (!op) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    op->sync = true;
    enqueue(s, op);
    pthread_mutex_lock(&s->mu);
    bool worker = s->has_thread && !s->stop;
    pthread_mutex_unlock(&s->mu);
    if (worker) {
        pthread_mutex_lock(&s->mu);
        while (!op->done)
            pthread_cond_wait(&s->done_cond, &s->mu);
        pthread_mutex_unlock(&s->mu);
    } else {
        run_pending_here(s);
    }
    json_t *rows = NULL;
    if (op->err)
        snprintf(err, errlen, "%s", op->err);
    else {
        rows = op->rows;
        op->rows = NULL;
    }
    op_free(op);
    return rows;
}

json_t *hl_store_exec_sync(hl_store *s, const char *sql, json_t *params, char *err, int errlen)
{
    return exec_sync(s, sql, params, false, err, errlen);
}

json_t *hl_store_exec_script_sync(hl_store *s, const char *sql, json_t *params, char *err,
                                  int errlen)
{
    return exec_sync(s, sql, params, true, err, errlen);
}

int hl_store_poll(hl_store *s)
{
    if (!s || s->has_thread)
        return 0;
    int n = 0;
    for (;;) {
        run_pending_here(s);
        int k = deliver(s);
        if (!k)
            return n;
        n += k;
    }
}

void hl_store_cdr_write(hl_store *s, const hl_cdr *cdr, hl_store_cb cb, void *arg)
{
    exec_async(s, HL_CDR_INSERT_SQL, hl_cdr_params(cdr), false, cb, arg);
}

const char *hl_store_path(const hl_store *s) { return s->path; }

const char *hl_store_node(const hl_store *s) { return s->node; }

void hl_store_set_node(hl_store *s, const char *node)
{
    if (s && node && *node)
        snprintf(s->node, sizeof s->node, "%s", node);
}

/* The default node name: the host's, which differs between the machines sharing a store. */
static void default_node(hl_store *s)
{
    if (gethostname(s->node, sizeof s->node) != 0 || !s->node[0])
        snprintf(s->node, sizeof s->node, "localhost");
    s->node[sizeof s->node - 1] = 0;
}

int hl_store_schema_version(hl_store *s)
{
    return s ? s->version : 0;
}

/* ---- open / close ----------------------------------------------------------------- */

static int pragma(sqlite3 *db, const char *sql, const char *expect, char *err, int errlen)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
    int rc = ok ? sqlite3_step(st) : SQLITE_ERROR;
    if (ok && expect && (rc != SQLITE_ROW ||
                         strcasecmp((const char *)sqlite3_column_text(st, 0), expect) != 0))
        ok = 0;
    if (ok && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ok = 0;
    if (!ok)
        snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static int open_db(hl_store *s, const char *data_dir, char *err, int errlen)
{
    if (mkdir(data_dir, HL_STORE_DIR_MODE) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "store: cannot create %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (snprintf(s->path, sizeof s->path, "%s/hotline.db", data_dir) >= (int)sizeof s->path) {
        snprintf(err, errlen, "store: data directory path too long");
        return -1;
    }
    /* Create the file ourselves so it gets our mode (SQLite would use 0644). */
    int fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, HL_STORE_FILE_MODE);
    if (fd < 0) {
        snprintf(err, errlen, "store: cannot open %s: %s", s->path, strerror(errno));
        return -1;
    }
    close(fd);
    if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: cannot open %s: %s", s->path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(s->db, HL_STORE_BUSY_MS);
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, HL_STORE_MAX_LENGTH);
    if (pragma(s->db, "PRAGMA journal_mode=WAL", "wal", err, errlen) < 0 ||
        pragma(s->db, "PRAGMA synchronous=FULL", NULL, err, errlen) < 0 ||
        pragma(s->db, "PRAGMA foreign_keys=ON", NULL, err, errlen) < 0)
        return -1;
    char merr[400];
    s->version = hl_store_migrate(s->db, merr, sizeof merr);
    if (s->version < 0) {
        snprintf(err, errlen, "store: %s: %s", s->path, merr);
        return -1;
    }
    /* Only after migrations: they are engine work and must not meet the fence. */
    sqlite3_set_authorizer(s->db, authorize, s);
    sqlite3_progress_handler(s->db, HL_STORE_PROGRESS_OPS, progress, s);
    return 0;
}

static void store_free(hl_store *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cond);
    pthread_cond_destroy(&s->done_cond);
    free(s);
}

static void on_async_closed(uv_handle_t *h)
{
    store_free(h->data);
}

hl_store *hl_store_open(uv_loop_t *uv, const char *data_dir, char *err, int errlen)
{
    hl_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "store: out of memory");
        return NULL;
    }
    s->uv = uv;
    default_node(s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    pthread_cond_init(&s->done_cond, NULL);
    if (open_db(s, data_dir ? data_dir : ".", err, errlen) < 0) {
        sqlite3_close(s->db);
        store_free(s);
        return NULL;
    }
    if (uv) {
        uv_async_init(uv, &s->async, on_async);
        s->async.data = s;
        uv_unref((uv_handle_t *)&s->async); /* referenced only while work is outstanding */
        if (pthread_create(&s->thread, NULL, worker_main, s) != 0) {
            snprintf(err, errlen, "store: cannot start the worker thread");
            cache_clear(s);
            sqlite3_close(s->db);
            uv_close((uv_handle_t *)&s->async, on_async_closed); /* frees s */
            return NULL;
        }
        s->has_thread = true;
    }
    /* a store without a worker is a tool's or a scenario's scratch database: quiet */
    hl_log(uv ? HL_LOG_INFO : HL_LOG_DEBUG, "store", "%s open, schema version %d", s->path, s->version);
    return s;
}

void hl_store_close(hl_store *s)
{
    if (!s)
        return;
    if (s->has_thread) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->work_cond);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        s->has_thread = false;
    }
    s->closing = true;
    /* Completions (and whatever their callbacks queue) run here, on the caller's thread. */
    for (int round = 0; round < HL_STORE_CLOSE_ROUNDS; round++) {
        run_pending_here(s);
        if (!deliver(s))
            break;
    }
    pthread_mutex_lock(&s->mu);
    store_op *left = s->pending.head;
    s->pending.head = s->pending.tail = NULL;
    for (store_op *op = left; op; op = op->next)
        if (!op->err)
            op->err = dupstr("store closed");
    while (left) {
        store_op *next = left->next;
        list_push(&s->done, left);
        left = next;
    }
    pthread_mutex_unlock(&s->mu);
    deliver(s);
    cache_clear(s);
    if (sqlite3_close(s->db) != SQLITE_OK)
        hl_warn("store", "closing %s: %s", s->path, sqlite3_errmsg(s->db));
    hl_log(s->uv ? HL_LOG_INFO : HL_LOG_DEBUG, "store", "%s closed", s->path);
    /* A loop owner may already have closed every handle (uv_walk at shutdown) and run the
     * loop to the end: then the handle is gone and s can go now. */
    if (s->uv && !uv_is_closing((uv_handle_t *)&s->async))
        uv_close((uv_handle_t *)&s->async, on_async_closed);
    else
        store_free(s);
}
