/* ctl_cmds.c — the control commands ctl serves itself, needing only the store:
 *   help                          the registered commands and their help lines
 *   cdr      {last, call_id}      newest CDRs (newest last), as hl_cdr_to_json objects;
 *            {csv, since, until}  or as CSV text (hl_cdr_csv_row), legs started in [since, until)
 *   query    {args: [NAME, ARG...]} a query the policy declares (hl_ctl_set_queries), or
 *                                 without NAME their list
 * Store reads and writes are asynchronous: the handlers answer through hl_ctl_reply. */
#include "ctl/ctl_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/store.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Defaults and bounds of list lengths: a screenful by default, and a cap so one request
 * cannot make the engine build a huge response on its loop. */
#define HL_CTL_CDR_DEFAULT 20
#define HL_CTL_LIST_MAX 1000
/* A CSV export is for a period (a day of a busy centre is tens of thousands of legs); the
 * cap keeps the answer under the client's 64 MB (a leg's line is about 500 bytes). */
#define HL_CTL_CSV_MAX 50000

static double wall_now(const hl_ctl *ctl)
{
    if (ctl->clock)
        return hl_clock_wall(ctl->clock);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* request[key] as a count in 1..HL_CTL_LIST_MAX (def when absent); -1 with err if bad. */
static int list_len(json_t *request, const char *key, int def, char *err, int errlen)
{
    json_t *v = json_object_get(request, key);
    if (!v)
        return def;
    json_int_t n = json_is_integer(v) ? json_integer_value(v)
                 : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) : 0;
    if (n < 1 || n > HL_CTL_LIST_MAX) {
        snprintf(err, errlen, "%s must be a number from 1 to %d", key, HL_CTL_LIST_MAX);
        return -1;
    }
    return (int)n;
}

/* ---- help ------------------------------------------------------------------------- */

static json_t *cmd_help(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    json_t *list = json_array();
    for (int i = 0; i < ctl->ncmds; i++)
        json_array_append_new(list, json_pack("{s:s,s:s}", "cmd", ctl->cmds[i].name, "help",
                                              ctl->cmds[i].help));
    return json_pack("{s:b,s:o}", "ok", 1, "commands", list);
}

/* ---- cdr -------------------------------------------------------------------------- */

/* false (and the request answered with the error) when the store could not read them. */
static bool rows_read(hl_ctl_req *req, json_t *rows, const char *err)
{
    if (!rows)
        hl_ctl_reply_error(req, "reading CDRs: %s", err ? err : "failed");
    return rows != NULL;
}

static void on_cdr_rows(void *arg, json_t *rows, const char *err)
{
    hl_ctl_req *req = arg;
    if (!rows_read(req, rows, err))
        return;
    json_t *list = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        hl_cdr c;
        hl_cdr_from_row(row, &c);
        json_t *j = hl_cdr_to_json(&c);
        json_object_set(j, "id", json_object_get(row, "id"));
        json_array_append_new(list, j);
    }
    hl_ctl_reply(req, json_pack("{s:b,s:o}", "ok", 1, "cdrs", list));
}

/* The rows as one CSV text, header first; "truncated" when the cap cut the period. */
static void on_cdr_csv_rows(void *arg, json_t *rows, const char *err)
{
    hl_ctl_req *req = arg;
    if (!rows_read(req, rows, err))
        return;
    hl_buf text = { 0 };
    char *head = hl_cdr_csv_header();
    hl_buf_add(&text, head, strlen(head));
    free(head);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        hl_cdr c;
        hl_cdr_from_row(row, &c);
        char *line = hl_cdr_csv_row(&c);
        hl_buf_add(&text, line, strlen(line));
        free(line);
    }
    size_t len = text.len;
    char *csv = hl_buf_take(&text);
    json_t *resp = json_pack("{s:b,s:s%,s:i,s:b}", "ok", 1, "csv", csv, len, "rows",
                             (int)json_array_size(rows), "truncated",
                             json_array_size(rows) >= HL_CTL_CSV_MAX);
    free(csv);
    hl_ctl_reply(req, resp ? resp : json_pack("{s:b,s:s}", "ok", 0, "error", "CDRs are not valid UTF-8"));
}

/* request[key]: a time as epoch seconds or ISO 8601 ("2026-11-30", "2026-11-30T08:00",
 * with an offset or in the centre's zone); def when absent, NAN with err if bad. */
static double time_arg(json_t *request, const char *key, double def, char *err, int errlen)
{
    json_t *v = json_object_get(request, key);
    if (!v)
        return def;
    double t = json_is_number(v) ? json_number_value(v) : -1;
    if (json_is_string(v)) {
        char *end;
        t = strtod(json_string_value(v), &end);
        if (*end || end == json_string_value(v))
            t = hl_clock_parse_iso(json_string_value(v));
    }
    if (t < 0) {
        snprintf(err, errlen, "%s must be a time: epoch seconds or ISO 8601 like 2026-11-30T08:00",
                 key);
        return NAN;
    }
    return t;
}

static json_t *cmd_cdr_csv(hl_ctl *ctl, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    double since = time_arg(request, "since", 0, err, errlen);
    double until = time_arg(request, "until", 1e12, err, errlen);
    if (isnan(since) || isnan(until))
        return NULL;
    json_t *params = json_pack("[f,f,i]", since, until, HL_CTL_CSV_MAX);
    hl_store_exec(ctl->store,
                  "SELECT * FROM cdr WHERE start_time >= ?1 AND start_time < ?2 ORDER BY id LIMIT ?3",
                  params, on_cdr_csv_rows, req);
    json_decref(params);
    return HL_CTL_DEFERRED;
}

static json_t *cmd_cdr(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    if (json_is_true(json_object_get(request, "csv")))
        return cmd_cdr_csv(ctl, req, request, err, errlen);
    int last = list_len(request, "last", HL_CTL_CDR_DEFAULT, err, errlen);
    if (last < 0)
        return NULL;
    json_t *call = json_object_get(request, "call_id");
    if (call && !json_is_string(call)) {
        snprintf(err, errlen, "call_id must be a string");
        return NULL;
    }
    json_t *params = json_pack("[O,i]", call ? call : json_null(), last);
    hl_store_exec(ctl->store,
                  "SELECT * FROM (SELECT * FROM cdr WHERE ?1 IS NULL OR call_id = ?1"
                  " ORDER BY id DESC LIMIT ?2) ORDER BY id",
                  params, on_cdr_rows, req);
    json_decref(params);
    return HL_CTL_DEFERRED;
}

/* ---- query: the named queries the policy declares (rules/queries.lua) ---------------- */

void hl_ctl_set_queries(hl_ctl *ctl, json_t *queries)
{
    json_decref(ctl->queries);
    ctl->queries = json_incref(queries);
}

/* "id [by=ctl]": a query's arguments as the list shows them. */
static json_t *args_text(json_t *args)
{
    char buf[512] = "";
    size_t i, used = 0;
    json_t *a;
    json_array_foreach(args, i, a) {
        json_t *d = json_object_get(a, "default");
        char dflt[96] = "";
        if (json_is_string(d))
            snprintf(dflt, sizeof dflt, "=%.80s", json_string_value(d));
        else if (json_is_integer(d))
            snprintf(dflt, sizeof dflt, "=%lld", (long long)json_integer_value(d));
        used += snprintf(buf + used, used < sizeof buf ? sizeof buf - used : 0, "%s%s%s%s%s",
                         i ? " " : "", d ? "[" : "", json_string_value(json_object_get(a, "name")),
                         dflt, d ? "]" : "");
    }
    return json_string(buf);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The list, by name. */
static json_t *query_list(hl_ctl *ctl)
{
    size_t n = json_object_size(ctl->queries), k = 0;
    const char **names = calloc(n + 1, sizeof *names);
    const char *name;
    json_t *q;
    json_object_foreach(ctl->queries, name, q)
        if (names)
            names[k++] = name;
    if (names)
        qsort(names, k, sizeof *names, by_name);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++) {
        q = json_object_get(ctl->queries, names[i]);
        json_array_append_new(list, json_pack("{s:s,s:o,s:O,s:O}", "name", names[i],
                                              "args", args_text(json_object_get(q, "args")),
                                              "description", json_object_get(q, "description"),
                                              "writes", json_object_get(q, "writes")));
    }
    free(names);
    return json_pack("{s:b,s:o}", "ok", 1, "queries", list);
}

/* A command-line argument as a value: whole numbers bind as numbers (ids, LIMIT), written
 * as a number is ("42"); "0431", "+86..." or "08001" are numbers of phones, queues and
 * agents, which stay text (as a number they would lose their leading zero). */
static json_t *arg_value(const char *s)
{
    char *end = NULL, canon[24];
    long long v = strtoll(s, &end, 10);
    bool whole = *s && !*end && strlen(s) < 19;
    if (whole)
        snprintf(canon, sizeof canon, "%lld", v);
    return whole && !strcmp(canon, s) ? json_integer(v) : json_string(s);
}

/* {name: value, ..., now: time} from the given args and the query's defaults; NULL + err. */
static json_t *bind_args(hl_ctl *ctl, const char *name, json_t *q, json_t *given, size_t from,
                         char *err, int errlen)
{
    json_t *args = json_object_get(q, "args");
    size_t ngiven = json_array_size(given) > from ? json_array_size(given) - from : 0;
    json_t *usage = args_text(args);
    json_t *params = json_pack("{s:f}", "now", wall_now(ctl));
    for (size_t i = 0; i < json_array_size(args) || i < ngiven; i++) {
        json_t *a = json_array_get(args, i);
        const char *v = json_string_value(json_array_get(given, from + i));
        if (!a || (!v && !json_object_get(a, "default"))) {
            snprintf(err, errlen, "usage: hotline ctl query %s %s (%s)", name, json_string_value(usage),
                     a ? "an argument is missing" : "too many arguments");
            json_decref(params);
            params = NULL;
            break;
        }
        json_object_set_new(params, json_string_value(json_object_get(a, "name")),
                            v ? arg_value(v) : json_incref(json_object_get(a, "default")));
    }
    json_decref(usage);
    return params;
}

static void on_query_rows(void *arg, json_t *rows, const char *err)
{
    hl_ctl_req *req = arg;
    if (!rows)
        hl_ctl_reply_error(req, "%s", err ? err : "the query failed");
    else
        hl_ctl_reply(req, json_pack("{s:b,s:O}", "ok", 1, "rows", rows));
}

/* query            the list
 * query NAME ARG.. runs NAME: args bind to its :names in order, :now to the engine's time */
static json_t *cmd_query(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    json_t *given = json_object_get(request, "args");
    const char *name = json_string_value(json_array_get(given, 0));
    if (!name)
        return query_list(ctl);
    json_t *q = json_object_get(ctl->queries, name);
    if (!q) {
        snprintf(err, errlen, "no query '%.64s' in this policy (rules/queries.lua; `hotline ctl query` "
                 "lists them)", name);
        return NULL;
    }
    json_t *params = bind_args(ctl, name, q, given, 1, err, errlen);
    if (!params)
        return NULL;
    /* under the script authorizer: a declared query cannot change the schema or the
     * engine's own tables either */
    hl_store_exec_script(ctl->store, json_string_value(json_object_get(q, "sql")), params,
                         on_query_rows, req);
    json_decref(params);
    return HL_CTL_DEFERRED;
}

void hl_ctl_register_builtins(hl_ctl *ctl)
{
    hl_ctl_register(ctl, "help", cmd_help, ctl, "the commands this engine serves");
    if (!ctl->store)
        return;
    hl_ctl_register(ctl, "cdr", cmd_cdr, ctl, "cdr [--last N] [--call ID]: newest CDRs; cdr --csv [--since T] [--until T]: CSV");
    hl_ctl_register(ctl, "query", cmd_query, ctl,
                    "query [NAME [ARG...]]: the policy's named queries (rules/queries.lua)");
    hl_ctl_register_audit(ctl);
}
