/* admin.c — `hotline ctl admin` in the running engine (admin.h): a request goes through four
 * steps, each on the loop, the store's work on its thread:
 *   1. the record(s): key=value arguments, or the CSV text the client sent (admin_csv.h);
 *   2. admin_plan: which rows the policy needs from the store to judge them (agents, calls
 *      drawn for a reviewer, the leave being approved ...), read one query after another;
 *   3. admin_check: the policy's verdict — a refusal naming the line and the rule, or the rows
 *      to write;
 *   4. the write: a new row whose UNIQUE key (the policy names it) is already stored is
 *      refused with its line; then every row goes in as ONE statement (INSERT ... SELECT
 *      FROM json_each), so a file is stored whole or not at all, and a race that slips a
 *      duplicate in meanwhile fails that statement, not half of it.  An update is one
 *      UPDATE ... WHERE id AND the values it was judged on (guard): changed meanwhile, it
 *      is refused.
 * The policy snapshot the request started on is kept to its end (a reload meanwhile does not
 * change the rules halfway). */
#include "app/admin.h"
#include "app/admin_csv.h"
#include "call/policy_json.h"
#include "core/log.h"
#include "store/store.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Budget of the policy's steps: a call step's per this many records (and one for the rest). */
#define ROWS_PER_BUDGET 100

typedef struct admin_req {
    hl_call_env *env;
    hl_ctl_req  *req;
    hl_policy   *policy;
    char         kind[64];
    char         by[64];
    double       now;
    json_t      *rows;        /* [{line, values}] */
    json_t      *needs;       /* NAME -> {sql, params} */
    void        *need_iter;   /* the next need */
    json_t      *ctx;         /* NAME -> rows */
    json_t      *verdict;     /* admin_check's answer */
    json_t      *insert;      /* the rows to insert (borrowed from verdict) */
    const char  *table;
} admin_req;

static void done(admin_req *a, json_t *resp)
{
    if (resp)
        hl_ctl_reply(a->req, resp);
    json_decref(a->rows), json_decref(a->needs), json_decref(a->ctx), json_decref(a->verdict);
    hl_policy_unref(a->policy);
    free(a);
}

static void refuse(admin_req *a, const char *fmt, const char *x, const char *y)
{
    hl_ctl_reply_error(a->req, fmt, x, y);
    done(a, NULL);
}

/* The answer to a refused record: error "line N: reason" (a record of the command line: the
 * reason alone), and line and reason apart for tools. */
static json_t *refusal(json_int_t line, const char *why)
{
    char text[1200];
    if (line > 0)
        snprintf(text, sizeof text, "line %lld: %s", (long long)line, why);
    else
        snprintf(text, sizeof text, "%s", why);
    return json_pack("{s:b,s:s,s:I,s:s}", "ok", 0, "error", text, "line", line, "reason", why);
}

/* Answers {error = {line, reason}} of the policy; true when its answer was such a refusal. */
static bool policy_refused(admin_req *a, json_t *answer)
{
    json_t *e = json_object_get(answer, "error");
    if (!e)
        return false;
    const char *why = json_string_value(json_object_get(e, "reason"));
    if (!why)
        why = json_is_string(e) ? json_string_value(e) : "refused (no reason given)";
    hl_ctl_reply(a->req, refusal(json_integer_value(json_object_get(e, "line")), why));
    return true;
}

static long budget_scale(admin_req *a) { return 1 + (long)json_array_size(a->rows) / ROWS_PER_BUDGET; }

/* The policy's function fn with args (stolen); NULL after answering the request. */
static json_t *ask(admin_req *a, const char *fn, json_t *args)
{
    json_t *out = NULL;
    char err[1024];
    int rc = hl_policy_call_json(a->policy, a->env->cfg, a->env->clock, fn, args, budget_scale(a), &out,
                                 err, sizeof err);
    json_decref(args);
    if (rc == 1)
        refuse(a, "this policy keeps no back-office records (scripts/main.lua defines no %s)%s", fn, "");
    else if (rc < 0)
        refuse(a, "%s%s", err, "");
    else if (!json_is_object(out)) {
        json_decref(out);
        refuse(a, "%s must return a table%s", fn, "");
        return NULL;
    }
    return rc == 0 ? out : NULL;
}

/* The statements below and the policy's needs read the records as JSON (json_each).  SQLite
 * declares that table-valued function on a connection's first use, which the script
 * authorizer (store.h) refuses as a schema change: the engine's own statement, queued just
 * before on the same connection, declares it (queued operations run in order). */
static void json_each_ready(hl_store *store)
{
    hl_store_exec(store, "SELECT count(*) FROM json_each('[]')", NULL, NULL, NULL);
}

/* ---- SQL from the policy's names ------------------------------------------------------------ */

static bool ident(const char *s)
{
    if (!s || !*s || strlen(s) > 63 || !(islower((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

typedef struct sql {
    char  *s;
    size_t n, cap;
    bool   bad;
} sql;

static void add(sql *q, const char *fmt, const char *x)
{
    int k = snprintf(NULL, 0, fmt, x);
    if (q->bad || k < 0)
        return;
    if (q->n + (size_t)k + 1 > q->cap) {
        size_t cap = (q->n + (size_t)k + 1) * 2;
        char *s = realloc(q->s, cap);
        if (!s) {
            q->bad = true;
            return;
        }
        q->s = s, q->cap = cap;
    }
    snprintf(q->s + q->n, q->cap - q->n, fmt, x);
    q->n += (size_t)k;
}

/* The columns of the rows to insert (every key but "line"), sorted; NULL if one is not a name. */
static json_t *insert_columns(json_t *rows)
{
    json_t *set = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v)
            if (strcmp(k, "line") != 0)
                json_object_set_new(set, k, json_true());
    }
    json_t *cols = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v) {
        if (!ident(k) || !strcmp(k, "created") || !strcmp(k, "created_by") || !strcmp(k, "id")) {
            json_decref(set), json_decref(cols);
            return NULL;
        }
        json_array_append_new(cols, json_string(k));
    }
    json_decref(set);
    return cols;
}

/* Runs q (the policy's names checked) with params under the script authorizer; frees q. */
static void run_sql(admin_req *a, sql *q, json_t *params, hl_store_cb cb)
{
    if (!q->bad) {
        json_each_ready(a->env->store);
        hl_store_exec_script(a->env->store, q->s, params, cb, a);
    }
    json_decref(params);
    free(q->s);
    if (q->bad)
        refuse(a, "out of memory%s%s", "", "");
}

/* ---- step 4: the write ------------------------------------------------------------------------ */

static void on_written(void *arg, json_t *rows, const char *err)
{
    admin_req *a = arg;
    if (!rows) {
        refuse(a, "nothing stored: %s%s", err ? err : "the store failed", "");
        return;
    }
    hl_info("admin", "%s: %zu %s record(s) stored in %s", a->by, json_array_size(a->insert), a->kind, a->table);
    done(a, json_pack("{s:b,s:s,s:s,s:I}", "ok", 1, "kind", a->kind, "table", a->table, "stored",
                      (json_int_t)json_array_size(a->insert)));
}

static void insert_all(admin_req *a)
{
    json_t *cols = insert_columns(a->insert);
    if (!cols) {
        refuse(a, "admin_check: a column to insert into %s is not a name (a-z 0-9 _) or is the store's own%s",
               a->table, "");
        return;
    }
    sql q = { 0 };
    add(&q, "INSERT INTO %s (", a->table);
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
        add(&q, "%s, ", json_string_value(c));
    add(&q, "%s", "created, created_by) SELECT ");
    json_array_foreach(cols, i, c)
        add(&q, "json_extract(value, '$.%s'), ", json_string_value(c));
    add(&q, "%s", "?2, ?3 FROM json_each(?1) ORDER BY CAST(key AS INTEGER)");
    json_decref(cols);
    run_sql(a, &q, json_pack("[O,f,s]", a->insert, a->now, a->by), on_written);
}

static void on_duplicates(void *arg, json_t *rows, const char *err)
{
    admin_req *a = arg;
    if (!rows) {
        refuse(a, "checking for records already stored: %s%s", err ? err : "the store failed", "");
        return;
    }
    json_t *hit = json_array_get(rows, 0);
    if (hit) {
        char why[600];
        snprintf(why, sizeof why, "already stored in %s (%s)%s", a->table,
                 json_string_value(json_object_get(hit, "key")) ?: "",
                 json_array_size(a->insert) > 1 ? ": nothing of the file was stored" : "");
        done(a, refusal(json_integer_value(json_object_get(hit, "line")), why));
        return;
    }
    insert_all(a);
}

/* A stored row with the UNIQUE key of an incoming one: its line and key, the first only. */
static void check_duplicates(admin_req *a, json_t *unique)
{
    sql q = { 0 };
    add(&q, "%s", "SELECT json_extract(j.value, '$.line') AS line, ");
    size_t i;
    json_t *c;
    json_array_foreach(unique, i, c) {
        if (!ident(json_string_value(c))) {
            free(q.s);
            refuse(a, "admin_check: unique names a column that is not a name (a-z 0-9 _)%s%s", "", "");
            return;
        }
        add(&q, i ? " || ', ' || " : "%s", "");
        add(&q, "'%s=' || t.", json_string_value(c));
        add(&q, "%s", json_string_value(c));
    }
    add(&q, " AS key FROM json_each(?1) j JOIN %s t ON ", a->table);
    json_array_foreach(unique, i, c) {
        add(&q, i ? " AND " : "%s", "");
        add(&q, "t.%s = ", json_string_value(c));
        add(&q, "json_extract(j.value, '$.%s')", json_string_value(c));
    }
    add(&q, "%s", " ORDER BY CAST(j.key AS INTEGER) LIMIT 1");
    run_sql(a, &q, json_pack("[O]", a->insert), on_duplicates);
}

static void on_updated(void *arg, json_t *rows, const char *err)
{
    admin_req *a = arg;
    if (!rows) {
        refuse(a, "nothing changed: %s%s", err ? err : "the store failed", "");
        return;
    }
    if (!json_array_size(rows)) {
        refuse(a, "nothing changed: the record is not there any more, or was changed meanwhile (%s): "
               "try again%s", a->table, "");
        return;
    }
    hl_info("admin", "%s: %s record %lld of %s changed", a->by, a->kind,
            (long long)json_integer_value(json_object_get(json_array_get(rows, 0), "id")), a->table);
    done(a, json_pack("{s:b,s:s,s:s,s:O}", "ok", 1, "kind", a->kind, "table", a->table, "record",
                      json_array_get(rows, 0)));
}

/* UPDATE table SET set..., clear... = NULL WHERE id = :id AND guard... RETURNING *. */
static void update_one(admin_req *a, json_t *u)
{
    json_t *set = json_object_get(u, "set"), *guard = json_object_get(u, "guard"), *clear = json_object_get(u, "clear");
    json_t *params = json_object();
    json_object_set(params, "id", json_object_get(u, "id"));
    sql q = { 0 };
    add(&q, "UPDATE %s SET ", a->table);
    int n = 0;
    const char *k;
    json_t *v;
    bool names = json_is_integer(json_object_get(u, "id")) && json_object_size(set) + json_array_size(clear) > 0;
    json_object_foreach(set, k, v) {
        char p[80];
        snprintf(p, sizeof p, "s_%s", k);
        names = names && ident(k);
        add(&q, n++ ? ", %s = " : "%s = ", k);
        add(&q, ":%s", p);
        json_object_set(params, p, v);
    }
    size_t i;
    json_array_foreach(clear, i, v) {
        names = names && ident(json_string_value(v));
        add(&q, n++ ? ", %s = NULL" : "%s = NULL", json_string_value(v));
    }
    add(&q, "%s", " WHERE id = :id");
    json_object_foreach(guard, k, v) {
        char p[80];
        snprintf(p, sizeof p, "g_%s", k);
        names = names && ident(k);
        add(&q, " AND %s IS ", k);
        add(&q, ":%s", p);
        json_object_set(params, p, v);
    }
    add(&q, "%s", " RETURNING *");
    if (!names)
        refuse(a, "admin_check: an update needs an id, a set or clear, and names (a-z 0-9 _)%s%s", "", "");
    else if (q.bad)
        refuse(a, "out of memory%s%s", "", "");
    else
        hl_store_exec_script(a->env->store, q.s, params, on_updated, a);
    json_decref(params);
    free(q.s);
}

/* ---- step 3: the policy's verdict ------------------------------------------------------------- */

static void judge(admin_req *a)
{
    a->verdict = ask(a, "admin_check", json_pack("[s,O,O,f,s]", a->kind, a->rows, a->ctx, a->now, a->by));
    if (!a->verdict || policy_refused(a, a->verdict)) {
        if (a->verdict)
            done(a, NULL);
        return;
    }
    a->table = json_string_value(json_object_get(a->verdict, "table"));
    if (!ident(a->table)) {
        refuse(a, "admin_check: table must be a name (a-z 0-9 _)%s%s", "", "");
        return;
    }
    json_t *u = json_object_get(a->verdict, "update");
    a->insert = json_object_get(a->verdict, "insert");
    if (u)
        update_one(a, u);
    else if (!json_array_size(a->insert))
        refuse(a, "nothing to store: the file has no records%s%s", "", "");
    else if (json_array_size(json_object_get(a->verdict, "unique")))
        check_duplicates(a, json_object_get(a->verdict, "unique"));
    else
        insert_all(a);
}

/* ---- step 2: what the policy needs to know ----------------------------------------------------- */

static void next_need(admin_req *a);

static void on_need(void *arg, json_t *rows, const char *err)
{
    admin_req *a = arg;
    const char *name = json_object_iter_key(a->need_iter);
    if (!rows) {
        refuse(a, "reading %s for the check: %s", name, err ? err : "the store failed");
        return;
    }
    json_object_set(a->ctx, name, rows);
    a->need_iter = json_object_iter_next(a->needs, a->need_iter);
    next_need(a);
}

static void next_need(admin_req *a)
{
    if (!a->need_iter) {
        judge(a);
        return;
    }
    json_t *need = json_object_iter_value(a->need_iter);
    const char *q = json_string_value(json_object_get(need, "sql"));
    if (!q) {
        refuse(a, "admin_plan: need %s has no sql%s", json_object_iter_key(a->need_iter), "");
        return;
    }
    json_t *params = json_object_get(need, "params");
    /* read-only by the policy's word; the authorizer keeps the engine's own tables unwritable */
    json_each_ready(a->env->store);
    hl_store_exec_script(a->env->store, q, json_is_array(params) || json_is_object(params) ? params : NULL,
                         on_need, a);
}

/* ---- step 1: the records --------------------------------------------------------------------- */

/* `admin KIND a=1 b=2`: one record, line 0.  NULL with err on an argument without '='. */
static json_t *record_of_args(json_t *args, size_t from, char *err, int errlen)
{
    json_t *values = json_object();
    for (size_t i = from; i < json_array_size(args); i++) {
        const char *kv = json_string_value(json_array_get(args, i));
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq || eq == kv || eq - kv > 63) {
            snprintf(err, errlen, "'%.80s' is not FIELD=VALUE", kv ? kv : "");
            json_decref(values);
            return NULL;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
        if (json_object_get(values, name)) {
            snprintf(err, errlen, "field %s is given twice", name);
            json_decref(values);
            return NULL;
        }
        json_object_set_new(values, name, json_string(eq + 1));
    }
    return json_pack("[{s:i,s:o}]", "line", 0, "values", values);
}

/* admin [help]                      the policy's kinds and their fields
 * admin KIND FIELD=VALUE ...        one record
 * admin import KIND FILE {csv}      a file's records, all or none */
static json_t *cmd_admin(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_call_env *env = arg;
    json_t *args = json_object_get(request, "args");
    const char *first = json_string_value(json_array_get(args, 0));
    bool import = first && !strcmp(first, "import");
    const char *kind = import ? json_string_value(json_array_get(args, 1)) : first ? first : "help";
    json_t *rows = NULL;
    if (import) {
        const char *csv = json_string_value(json_object_get(request, "csv"));
        json_t *cols = NULL;
        if (!kind || !csv) {
            snprintf(err, errlen, "usage: admin import KIND FILE.csv (the client sends the file)");
            return NULL;
        }
        if (json_string_length(json_object_get(request, "csv")) > HL_ADMIN_CSV_MAX_BYTES) {
            snprintf(err, errlen, "the file is over %d bytes: split it", HL_ADMIN_CSV_MAX_BYTES);
            return NULL;
        }
        char why[300];
        rows = hl_admin_csv_parse(csv, json_string_length(json_object_get(request, "csv")), HL_ADMIN_MAX_ROWS,
                                  &cols, why, sizeof why);
        json_decref(cols);
        if (!rows) {
            snprintf(err, errlen, "%s: nothing of the file was stored", why);
            return NULL;
        }
    } else if (!(rows = record_of_args(args, 1, err, errlen))) {
        return NULL;
    }
    hl_policy *p = env->current_policy(env);
    admin_req *a = p ? calloc(1, sizeof *a) : NULL;
    if (!a) {
        json_decref(rows);
        snprintf(err, errlen, p ? "out of memory" : "no policy serving");
        return NULL;
    }
    hl_policy_ref(p);
    *a = (admin_req){ .env = env, .req = req, .policy = p, .rows = rows, .ctx = json_object(),
                      .now = hl_clock_wall(env->clock) };
    snprintf(a->kind, sizeof a->kind, "%s", kind);
    const char *by = json_string_value(json_object_get(request, "by"));
    snprintf(a->by, sizeof a->by, "%s", by && *by ? by : "ctl");
    json_t *plan = ask(a, "admin_plan", json_pack("[s,O,f]", a->kind, a->rows, a->now));
    if (!plan)
        return HL_CTL_DEFERRED;
    if (policy_refused(a, plan)) {
        json_decref(plan);
        done(a, NULL);
        return HL_CTL_DEFERRED;
    }
    json_t *reply = json_object_get(plan, "reply");
    if (reply) {
        json_t *r = json_deep_copy(reply);
        json_decref(plan);
        json_object_set_new(r, "ok", json_true());
        done(a, r);
        return HL_CTL_DEFERRED;
    }
    a->needs = json_incref(json_object_get(plan, "needs"));
    if (!a->needs)
        a->needs = json_object();
    json_decref(plan);
    a->need_iter = json_object_iter(a->needs);
    next_need(a);
    return HL_CTL_DEFERRED;
}

void hl_admin_register_ctl(hl_ctl *ctl, hl_call_env *env)
{
    hl_ctl_register(ctl, "admin", cmd_admin, env,
                    "admin [KIND FIELD=VALUE ... | import KIND FILE.csv]: back-office records (rules/backoffice.lua)");
}
