/* test_acd_store.c — what the store keeps of the ACD (issue 8 item 7; migration 9): a
 * version-8 database migrates with its CDRs kept; a CDR with every ACD field round-trips
 * (and its hold and transfer lists stay valid JSON when full); agent and queue events are
 * written in order, malformed ones dropped; a burst of 10,000 events costs the loop
 * microseconds each (printed with -v); a writer killed mid-burst leaves a consistent
 * database holding a prefix of what it queued; the policy's day queries read them. */
#include "store/store.h"
#include "core/log.h"
#include <signal.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

/* 2026-07-01 00:00:00 in the centre's time (UTC+8): the day the query tests read. */
#define DAY_START 1782835200.0
#define DAY_S 86400.0

static char dir[256];

static void make_dir(char *out, size_t size, const char *sub)
{
    snprintf(out, size, "%s/%s", dir, sub);
    mkdir(out, 0750);
}

/* A store in folder sub of the test's directory, on loop (NULL: without a worker). */
static hl_store *open_store(const char *sub_name, uv_loop_t *loop)
{
    char sub[300], err[512];
    make_dir(sub, sizeof sub, sub_name);
    if (loop)
        uv_loop_init(loop);
    hl_store *s = hl_store_open(loop, sub, err, sizeof err);
    CHECK(s != NULL, "open %s: %s", sub_name, err);
    return s;
}

static void close_store(hl_store *s, uv_loop_t *loop)
{
    hl_store_close(s);
    if (loop) {
        uv_run(loop, UV_RUN_DEFAULT);
        CHECK(uv_loop_close(loop) == 0, "the loop closes after the store");
    }
}

static json_t *q(hl_store *s, const char *sql, json_t *params) { return unit_query(s, sql, params); }

static long long num(hl_store *s, const char *sql)
{
    json_t *r = q(s, sql, NULL);
    json_t *v = json_object_get(json_array_get(r, 0), "n");
    long long n = json_is_number(v) ? (long long)json_number_value(v) : -1;
    json_decref(r);
    return n;
}

static const char *field(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key)) ?: "(none)";
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- migration 9 over a version-8 database ---- */

/* Migration 1's cdr table as shipped (a migration is never edited, so this stays true). */
static const char V1_CDR[] =
    "CREATE TABLE cdr (id INTEGER PRIMARY KEY, call_id TEXT NOT NULL,"
    " leg_id TEXT NOT NULL DEFAULT '', leg_index INTEGER NOT NULL DEFAULT 0,"
    " direction TEXT NOT NULL DEFAULT '', caller TEXT NOT NULL DEFAULT '',"
    " called TEXT NOT NULL DEFAULT '', start_time REAL NOT NULL DEFAULT 0,"
    " answer_time REAL NOT NULL DEFAULT 0, end_time REAL NOT NULL DEFAULT 0,"
    " hangup_side TEXT NOT NULL DEFAULT '', hangup_cause TEXT NOT NULL DEFAULT '',"
    " dtmf TEXT NOT NULL DEFAULT '', prompts TEXT NOT NULL DEFAULT '',"
    " menus TEXT NOT NULL DEFAULT '', route TEXT NOT NULL DEFAULT '',"
    " script_version TEXT NOT NULL DEFAULT '', recording TEXT NOT NULL DEFAULT '',"
    " rtp_sent INTEGER NOT NULL DEFAULT 0, rtp_received INTEGER NOT NULL DEFAULT 0,"
    " rtp_lost INTEGER NOT NULL DEFAULT 0, rtp_jitter_ms REAL NOT NULL DEFAULT 0,"
    " codec TEXT NOT NULL DEFAULT '', vars TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX cdr_start ON cdr(start_time);"
    "CREATE INDEX cdr_call ON cdr(call_id);";

static void write_v8_database(const char *path)
{
    sqlite3 *db = NULL;
    char sql[4096];
    snprintf(sql, sizeof sql,
             "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied REAL NOT NULL,"
             " description TEXT);"
             "WITH RECURSIVE v(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM v WHERE n < 8)"
             " INSERT INTO schema_version SELECT n, 0, 'before issue 8' FROM v;"
             "%s"
             "INSERT INTO cdr (call_id, leg_id, caller, called, start_time, end_time, route,"
             " hangup_side, hangup_cause, vars) VALUES"
             " ('old-1', 'leg-1', '13900000001', '12333', 1782892740.25, 1782892800.5,"
             " 'queue:0431.general', 'caller', 'queued', '{\"city\":\"0431\"}'),"
             " ('old-2', 'leg-2', '13900000002', '12333', 1782892900, 1782892960, 'hangup',"
             " 'caller', 'bye', '');",
             V1_CDR);
    char *msg = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    CHECK(rc == SQLITE_OK, "a version-8 database: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
}

static void test_migration(void)
{
    hl_log_set_level(HL_LOG_ERROR);
    char sub[300], path[400], err[512];
    make_dir(sub, sizeof sub, "v8");
    snprintf(path, sizeof path, "%s/hotline.db", sub);
    write_v8_database(path);
    hl_store *s = hl_store_open(NULL, sub, err, sizeof err);
    CHECK(s != NULL, "the version-8 database opens: %s", err);
    if (!s)
        return;
    CHECK(hl_store_schema_version(s) == hl_store_schema_latest() && hl_store_schema_latest() >= 9,
          "migrated to %d", hl_store_schema_version(s));
    json_t *rows = q(s, "SELECT * FROM cdr ORDER BY id", NULL);
    CHECK(json_array_size(rows) == 2, "the old CDRs are kept: %zu", json_array_size(rows));
    hl_cdr c;
    hl_cdr_from_row(json_array_get(rows, 0), &c);
    CHECK(!strcmp(c.call_id, "old-1") && !strcmp(c.route, "queue:0431.general") &&
          c.start == 1782892740.25 && !strcmp(c.vars, "{\"city\":\"0431\"}"),
          "an old CDR reads as before: %s %s", c.call_id, c.route);
    CHECK(!c.agent[0] && !c.queue[0] && c.queue_wait_ms == 0 && !c.queue_outcome[0] &&
          c.ring_ms == 0 && !c.hangup_first[0] && c.hangup_gap_ms == -1 && c.holds == 0 &&
          c.hold_ms == 0 && !c.hold_log[0] && !c.transfers[0] && c.wrapup_ms == 0,
          "its ACD fields are empty, its hangup gap unknown (-1)");
    json_t *j = hl_cdr_to_json(&c);
    CHECK(json_is_array(json_object_get(j, "hold_log")) &&
          json_array_size(json_object_get(j, "transfers")) == 0 &&
          json_integer_value(json_object_get(j, "hangup_gap_ms")) == -1,
          "and prints as such");
    json_decref(j);
    json_decref(rows);
    CHECK(num(s, "SELECT count(*) AS n FROM agent_events") == 0 &&
          num(s, "SELECT count(*) AS n FROM queue_events") == 0, "the event tables exist, empty");
    CHECK(num(s, "SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name IN"
                 " ('cdr_agent', 'agent_events_agent', 'agent_events_time', 'queue_events_queue')") == 4,
          "the readers' indexes exist");
    json_t *plan = q(s, "EXPLAIN QUERY PLAN SELECT * FROM agent_events WHERE agent = '8001'"
                        " AND time >= 1 AND time < 2", NULL);
    char *text = json_dumps(plan, 0);
    CHECK(text && strstr(text, "agent_events_agent"), "an agent's day uses its index: %s", text);
    free(text);
    json_decref(plan);
    hl_store_close(s);
    return;
}

/* ---- a CDR with every ACD field ---- */

static void make_agent_cdr(hl_cdr *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->call_id, sizeof c->call_id, "call-acd-1");
    snprintf(c->leg_id, sizeof c->leg_id, "leg-agent@127.0.0.1");
    c->leg_index = 1;
    snprintf(c->direction, sizeof c->direction, "outbound");
    snprintf(c->caller, sizeof c->caller, "13900001111");
    snprintf(c->called, sizeof c->called, "8001");
    c->start = 1782892740.25;
    c->answer = c->start + 7.5;
    c->end = c->start + 190.125;
    snprintf(c->hangup_side, sizeof c->hangup_side, "callee");
    snprintf(c->hangup_cause, sizeof c->hangup_cause, "bye");
    snprintf(c->recording, sizeof c->recording, "recordings/2026/07/01/call-acd-1.wav");
    snprintf(c->agent, sizeof c->agent, "8001");
    snprintf(c->queue, sizeof c->queue, "0431.general");
    c->queue_wait_ms = 42125;
    snprintf(c->queue_outcome, sizeof c->queue_outcome, "answered");
    c->ring_ms = 7500;
    snprintf(c->hangup_first, sizeof c->hangup_first, "agent");
    c->hangup_gap_ms = 1250;
    c->wrapup_ms = 30000;
}

static void test_cdr_fields(void)
{
    hl_log_set_level(HL_LOG_ERROR);
    uv_loop_t loop;
    hl_store *s = open_store("cdr", &loop);
    if (!s)
        return;
    hl_cdr c;
    make_agent_cdr(&c);
    CHECK(hl_cdr_hold_add(&c, c.answer + 20, c.answer + 45.5, 0, 25500) == 0, "first hold");
    CHECK(hl_cdr_hold_add(&c, c.answer + 60, c.answer + 131, 2, -1) == 0, "second hold");
    CHECK(hl_cdr_transfer_add(&c, "attended", "0431.\"complaints\"\\", c.answer + 140,
                              "cancelled") == 0, "a transfer (its target needs escaping)");
    CHECK(hl_cdr_transfer_add(&c, "blind", "班长", c.answer + 150, "completed") == 0,
          "a transfer to a UTF-8 target");
    CHECK(c.holds == 2 && c.hold_ms == 25500 + 71000, "holds counted: %d, %lld ms", c.holds,
          (long long)c.hold_ms);
    hl_store_cdr_write(s, &c, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    json_t *rows = q(s, "SELECT * FROM cdr WHERE call_id = 'call-acd-1'", NULL);
    CHECK(json_array_size(rows) == 1, "written");
    json_t *row = json_array_get(rows, 0);
    CHECK(!strcmp(field(row, "agent"), "8001") && !strcmp(field(row, "queue_outcome"), "answered") &&
          json_integer_value(json_object_get(row, "ring_ms")) == 7500 &&
          json_integer_value(json_object_get(row, "hangup_gap_ms")) == 1250,
          "the columns hold the fields");
    hl_cdr back;
    hl_cdr_from_row(row, &back);
    CHECK(!memcmp(&back, &c, sizeof c), "row -> hl_cdr equals what was written");
    json_t *j = hl_cdr_to_json(&back);
    CHECK(!strcmp(field(j, "agent"), "8001") && !strcmp(field(j, "queue"), "0431.general") &&
          json_integer_value(json_object_get(j, "queue_wait_ms")) == 42125 &&
          !strcmp(field(j, "queue_outcome"), "answered") &&
          json_integer_value(json_object_get(j, "ring_ms")) == 7500 &&
          !strcmp(field(j, "hangup_first"), "agent") &&
          json_integer_value(json_object_get(j, "hangup_gap_ms")) == 1250 &&
          json_integer_value(json_object_get(j, "holds")) == 2 &&
          json_integer_value(json_object_get(j, "hold_ms")) == 96500 &&
          json_integer_value(json_object_get(j, "wrapup_ms")) == 30000 &&
          !strcmp(field(j, "recording"), "recordings/2026/07/01/call-acd-1.wav"),
          "ctl cdr --json prints every field");
    json_t *holds = json_object_get(j, "hold_log");
    json_t *h2 = json_array_get(holds, 1);
    CHECK(json_array_size(holds) == 2 && json_real_value(json_object_get(h2, "start")) == c.answer + 60 &&
          json_real_value(json_object_get(h2, "end")) == c.answer + 131 &&
          json_integer_value(json_object_get(h2, "reminders")) == 2 &&
          json_integer_value(json_object_get(h2, "back_within_ms")) == -1,
          "hold_log: [{start, end, reminders, back_within_ms}]");
    json_t *tr = json_object_get(j, "transfers");
    CHECK(json_array_size(tr) == 2 &&
          !strcmp(field(json_array_get(tr, 0), "target"), "0431.\"complaints\"\\") &&
          !strcmp(field(json_array_get(tr, 0), "kind"), "attended") &&
          !strcmp(field(json_array_get(tr, 0), "result"), "cancelled") &&
          !strcmp(field(json_array_get(tr, 1), "target"), "班长") &&
          json_real_value(json_object_get(json_array_get(tr, 1), "time")) == c.answer + 150,
          "transfers: [{kind, target, time, result}]");
    json_decref(j);
    json_decref(rows);
    close_store(s, &loop);

    /* full lists stay valid JSON; the counts stay exact */
    hl_cdr f;
    memset(&f, 0, sizeof f);
    int kept = 0;
    for (int i = 0; i < 40; i++)
        kept += hl_cdr_hold_add(&f, 100 + i, 101 + i, 1, 1000) == 0;
    json_t *log = json_loads(f.hold_log, 0, NULL);
    CHECK(f.holds == 40 && f.hold_ms == 40000 && kept > 2 && kept < 40 &&
          (int)json_array_size(log) == kept && strlen(f.hold_log) < sizeof f.hold_log,
          "a full hold log: %d kept of 40, counts exact, still JSON", kept);
    json_decref(log);
    char longer[600] = "";
    for (int i = 0; i < 150; i++)
        strcat(longer, "长");
    CHECK(hl_cdr_transfer_add(&f, "blind", longer, 1, "failed") == 0, "a long target is cut");
    json_t *t = json_loads(f.transfers, 0, NULL);
    CHECK(json_array_size(t) == 1 && strlen(field(json_array_get(t, 0), "target")) % 3 == 0,
          "cut between characters: %s", f.transfers);
    json_decref(t);
    int more = 0;
    while (hl_cdr_transfer_add(&f, "blind", longer, 1, "failed") == 0)
        more++;
    t = json_loads(f.transfers, 0, NULL);
    CHECK(json_is_array(t) && (int)json_array_size(t) == 1 + more, "a full transfer list: JSON");
    json_decref(t);
    return;
}

/* ---- events: in order, malformed ones dropped ---- */

static json_t *agent_event(double time, const char *agent, const char *state, const char *prev,
                           const char *reason)
{
    return json_pack("{s:s,s:f,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "agent", "time", time,
                     "agent", agent, "state", state, "prev", prev, "reason", reason, "queue",
                     "0431.general", "call_id", "", "by", "ctl");
}

static json_t *queue_event(double time, const char *queue, const char *event, const char *agent,
                           int waited, const char *outcome)
{
    return json_pack("{s:s,s:f,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "kind", "queue", "time", time,
                     "queue", queue, "call_id", "call-q1", "caller", "13900001111", "event",
                     event, "agent", agent, "waited_ms", waited, "outcome", outcome);
}

/* Queues e (stolen) and returns hl_store_acd_event's answer. */
static int put(hl_store *s, const char *kind, json_t *e)
{
    int rc = hl_store_acd_event(s, kind, e);
    json_decref(e);
    return rc;
}

static void test_events(void)
{
    hl_log_set_level(HL_LOG_ERROR); /* the dropped events' warnings are expected */
    uv_loop_t loop;
    hl_store *s = open_store("events", &loop);
    if (!s)
        return;
    char host[HL_STORE_NODE_MAX] = "";
    gethostname(host, sizeof host - 1);
    double t = DAY_START + 8 * 3600;
    json_t *e;
    CHECK(put(s, "agent", agent_event(t, "8001", "not-ready", "logged-out", "login")) == 0, "login");
    CHECK(put(s, "agent", agent_event(t + 1, "8001", "ready", "not-ready", "")) == 0, "ready");
    CHECK(put(s, NULL, queue_event(t + 2, "0431.general", "join", "", 0, "")) == 0,
          "kind from the event");
    e = queue_event(t + 3, "0431.general", "offer", "8001", 1000, "");
    hl_store_acd_event_sink(s, "queue", e); /* as the ACD hands it over */
    json_decref(e);
    hl_store_set_node(s, "node-b");
    e = queue_event(t + 9, "0431.general", "x", "8001", 7125, "answered");
    json_object_del(e, "event");
    json_object_set_new(e, "word", json_string("left")); /* acd.h's name for it */
    json_object_set_new(e, "extra", json_pack("{s:i}", "ignored", 1));
    CHECK(put(s, "queue", e) == 0, "left (word), an unknown field ignored");
    e = agent_event(t + 10, "8001", "talking", "ringing", "");
    json_object_set_new(e, "node", json_string("relay-x"));
    CHECK(put(s, "agent", e) == 0, "an event that names its node");

    /* malformed: each dropped, nothing stored */
    CHECK(put(s, "agent", json_string("ready")) < 0, "not an object");
    CHECK(put(s, "supervisor", agent_event(t, "8001", "ready", "", "")) < 0, "unknown kind");
    CHECK(put(s, NULL, json_pack("{s:f,s:s,s:s}", "time", t, "agent", "8001", "state", "ready")) < 0,
          "no kind at all");
    e = agent_event(t, "8001", "ready", "", "");
    json_object_del(e, "time");
    CHECK(put(s, "agent", e) < 0, "no time");
    e = agent_event(t, "8001", "ready", "", "");
    json_object_set_new(e, "time", json_string("08:00"));
    CHECK(put(s, "agent", e) < 0, "time as text");
    e = agent_event(t, "8001", "ready", "", "");
    json_object_set_new(e, "agent", json_integer(8001));
    CHECK(put(s, "agent", e) < 0, "agent number as a number");
    CHECK(put(s, "agent", agent_event(t, "8001", "", "", "")) < 0, "empty state");
    char huge[HL_STORE_EVENT_TEXT + 2];
    memset(huge, 'r', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    CHECK(put(s, "agent", agent_event(t, "8001", "not-ready", "", huge)) < 0, "reason too long");
    CHECK(put(s, "queue", queue_event(t, "0431.general", "left", "", -5, "abandoned")) < 0,
          "a negative wait");
    e = queue_event(t, "0431.general", "join", "", 0, "");
    json_object_del(e, "event");
    CHECK(put(s, "queue", e) < 0, "a queue event without its name");
    CHECK(hl_store_acd_event(NULL, "agent", NULL) < 0 && hl_store_acd_event(s, "agent", NULL) < 0,
          "NULLs");
    uv_run(&loop, UV_RUN_DEFAULT);

    json_t *rows = q(s, "SELECT * FROM agent_events ORDER BY id", NULL);
    CHECK(json_array_size(rows) == 3, "3 agent events: %zu", json_array_size(rows));
    json_t *r0 = json_array_get(rows, 0), *r2 = json_array_get(rows, 2);
    CHECK(json_real_value(json_object_get(r0, "time")) == t && !strcmp(field(r0, "agent"), "8001") &&
          !strcmp(field(r0, "state"), "not-ready") && !strcmp(field(r0, "prev"), "logged-out") &&
          !strcmp(field(r0, "reason"), "login") && !strcmp(field(r0, "queue"), "0431.general") &&
          !strcmp(field(r0, "changed_by"), "ctl") && !strcmp(field(r0, "node"), host),
          "an agent event's columns (node %s = the host)", field(r0, "node"));
    CHECK(!strcmp(field(json_array_get(rows, 1), "state"), "ready") &&
          !strcmp(field(r2, "state"), "talking") && !strcmp(field(r2, "node"), "relay-x"),
          "in order; a relayed event keeps its node");
    json_decref(rows);
    rows = q(s, "SELECT * FROM queue_events ORDER BY id", NULL);
    CHECK(json_array_size(rows) == 3, "3 queue events: %zu", json_array_size(rows));
    json_t *last = json_array_get(rows, 2);
    CHECK(!strcmp(field(json_array_get(rows, 0), "event"), "join") &&
          !strcmp(field(json_array_get(rows, 1), "event"), "offer") &&
          !strcmp(field(last, "event"), "left") && !strcmp(field(last, "outcome"), "answered") &&
          json_integer_value(json_object_get(last, "waited_ms")) == 7125 &&
          !strcmp(field(last, "caller"), "13900001111") && !strcmp(field(last, "agent"), "8001") &&
          !strcmp(field(last, "call_id"), "call-q1") && !strcmp(field(last, "node"), "node-b"),
          "queue events in order, with their columns; the node set later");
    json_decref(rows);

    /* scripts read the events but cannot forge them */
    char e2[256] = "";
    json_t *r = hl_store_exec_script_sync(s, "SELECT count(*) AS n FROM agent_events", NULL, e2, sizeof e2);
    CHECK(r != NULL, "a script reads agent_events: %s", e2);
    json_decref(r);
    r = hl_store_exec_script_sync(s, "INSERT INTO agent_events(time, agent, state) VALUES (1, 'x', 'ready')",
                                  NULL, e2, sizeof e2);
    CHECK(!r && strstr(e2, "agent_events"), "a script cannot write agent_events: %s", e2);
    r = hl_store_exec_script_sync(s, "DELETE FROM queue_events", NULL, e2, sizeof e2);
    CHECK(!r && strstr(e2, "queue_events"), "nor delete queue_events: %s", e2);
    close_store(s, &loop);
    return;
}

/* ---- a burst: the loop's cost per event ---- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_burst(void)
{
    hl_log_set_level(HL_LOG_ERROR);
    enum { N = 10000 };
    /* The loop's budget: one 20 ms media tick must fit many events; an event that cost the
     * loop a disk write (~1 ms with synchronous=FULL) would be 20 times this. */
    const double max_mean_us = 50;
    uv_loop_t loop;
    hl_store *s = open_store("burst", &loop);
    if (!s)
        return;
    json_t **events = calloc(N, sizeof *events);
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "c%06d", i);
        events[i] = i % 2 ? queue_event(DAY_START + i, "0431.general", "offer", "8001", i, "")
                          : agent_event(DAY_START + i, "8001", "ready", "wrap-up", "");
        json_object_set_new(events[i], "call_id", json_string(id));
    }
    double *cost = calloc(N, sizeof *cost), t0 = now_s();
    int refused = 0;
    for (int i = 0; i < N; i++) {
        double a = now_s();
        refused += hl_store_acd_event(s, NULL, events[i]) != 0;
        cost[i] = now_s() - a;
    }
    double queued = now_s() - t0;
    uv_run(&loop, UV_RUN_DEFAULT);
    double written = now_s() - t0;
    double mean_us = queued / N * 1e6;
    qsort(cost, N, sizeof *cost, by_value);
    printf("info: %d ACD events queued in %.1f ms: %.2f us each on average, p99 %.1f us, the"
           " slowest %.0f us; all written %.1f ms after the first\n", N, queued * 1e3, mean_us,
           cost[N * 99 / 100] * 1e6, cost[N - 1] * 1e6, written * 1e3);
    free(cost);
    CHECK(refused == 0, "%d refused", refused);
    CHECK(mean_us < max_mean_us, "queueing an event costs the loop %.2f us (limit %.0f)", mean_us,
          max_mean_us);
    long long n = num(s, "SELECT (SELECT count(*) FROM agent_events) + (SELECT count(*) FROM queue_events) AS n");
    CHECK(n == N, "all %d written: %lld", N, n);
    CHECK(num(s, "SELECT count(*) AS n FROM (SELECT call_id, row_number() OVER (ORDER BY id) AS k"
                 " FROM agent_events) WHERE CAST(substr(call_id, 2) AS INTEGER) <> 2 * (k - 1)") == 0,
          "agent events in the order queued");
    for (int i = 0; i < N; i++)
        json_decref(events[i]);
    free(events);
    close_store(s, &loop);
    return;
}

/* ---- killed mid-write: a consistent prefix ---- */

typedef struct marker { volatile long *acked; long upto; } marker;

static void on_marker(void *arg, json_t *rows, const char *err)
{
    marker *m = arg;
    if (!err)
        *m->acked = m->upto;
}

/* The child: queues n events (call_id "cNNNNNN" in order) and, every `every`, a marker
 * whose callback says all before it are committed; then runs the loop until killed. */
static void crash_child(const char *sub, long n, long every, volatile long *acked)
{
    char err[512];
    uv_loop_t loop;
    uv_loop_init(&loop);
    hl_store *s = hl_store_open(&loop, sub, err, sizeof err);
    if (!s)
        _exit(2);
    hl_store_set_node(s, "crash");
    marker *marks = calloc(n / every + 1, sizeof *marks);
    char id[32];
    for (long i = 0; i < n; i++) {
        snprintf(id, sizeof id, "c%06ld", i);
        json_t *e = agent_event(DAY_START + i, "8001", i % 2 ? "ready" : "not-ready", "", "");
        json_object_set_new(e, "call_id", json_string(id));
        hl_store_acd_event(s, "agent", e);
        json_decref(e);
        if ((i + 1) % every == 0) {
            marks[i / every] = (marker){ acked, i + 1 };
            hl_store_exec(s, "SELECT 1", NULL, on_marker, &marks[i / every]);
            uv_run(&loop, UV_RUN_NOWAIT); /* as the loop would: the kill comes while it queues */
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    _exit(0); /* finished before the kill: the parent says so */
}

static void test_crash(void)
{
    hl_log_set_level(HL_LOG_ERROR);
    const long n = 60000, every = 100, kill_after = 3000;
    char sub[300], err[512];
    make_dir(sub, sizeof sub, "crash");
    volatile long *acked = mmap(NULL, sizeof *acked, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(acked != MAP_FAILED, "shared counter");
    if (acked == MAP_FAILED)
        return;
    *acked = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        crash_child(sub, n, every, acked);
    double t0 = now_s();
    int st = 0;
    bool exited = false;
    while (*acked < kill_after && now_s() - t0 < 30) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            exited = true;
            break;
        }
        usleep(500);
    }
    long at_kill = *acked;
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
          "the writer was killed mid-write (exited: %d, status %d)", exited, st);
    hl_store *s = hl_store_open(NULL, sub, err, sizeof err);
    CHECK(s != NULL, "reopens after the kill: %s", err);
    if (!s)
        return;
    json_t *r = q(s, "PRAGMA integrity_check", NULL);
    CHECK(!strcmp(field(json_array_get(r, 0), "integrity_check"), "ok"), "integrity_check: %s",
          field(json_array_get(r, 0), "integrity_check"));
    json_decref(r);
    long long rows = num(s, "SELECT count(*) AS n FROM agent_events WHERE node = 'crash'");
    long long in_place = num(s,
        "SELECT count(*) AS n FROM (SELECT call_id, row_number() OVER (ORDER BY id) AS k"
        " FROM agent_events WHERE node = 'crash') WHERE CAST(substr(call_id, 2) AS INTEGER) = k - 1");
    printf("info: killed with %ld events acknowledged; %lld of %ld found, in order\n", at_kill,
           rows, n);
    CHECK(rows >= at_kill && rows >= kill_after, "every acknowledged event is there: %lld of %ld",
          rows, at_kill);
    CHECK(rows < n, "the kill came before the end (%lld of %ld)", rows, n);
    CHECK(in_place == rows, "what is there is a prefix of what was queued, in order: %lld of %lld",
          in_place, rows);
    hl_store_close(s);
    munmap((void *)acked, sizeof *acked);
    return;
}

/* ---- the policy's queries of a day (rules/queries.lua) ---- */

static json_t *run_query(hl_store *s, json_t *queries, const char *name, json_t *params)
{
    const char *sql = json_string_value(json_object_get(json_object_get(queries, name), "sql"));
    CHECK(sql != NULL, "rules/queries.lua has %s", name);
    if (!sql)
        return json_array();
    char err[256] = "";
    json_t *rows = hl_store_exec_script_sync(s, sql, params, err, sizeof err);
    CHECK(rows != NULL, "%s: %s", name, err);
    json_decref(params);
    return rows ? rows : json_array();
}

static void test_queries(void)
{
    hl_log_set_level(HL_LOG_ERROR);
    char err[512];
    hl_store *s = open_store("queries", NULL);
    if (!s)
        return;
    json_t *queries = NULL;
    CHECK(hl_store_policy_activate(s, "rules", &queries, err, sizeof err) == 0,
          "the shipped policy's queries check out: %s", err);
    /* the edges of the centre's day, and another agent's and queue's rows */
    double end = DAY_START + DAY_S;
    put(s, "agent", agent_event(DAY_START - 0.001, "8001", "logged-out", "ready", "evening"));
    put(s, "agent", agent_event(DAY_START, "8001", "not-ready", "logged-out", "login"));
    put(s, "agent", agent_event(DAY_START + 9 * 3600, "8002", "ready", "not-ready", ""));
    put(s, "agent", agent_event(end - 0.001, "8001", "logged-out", "ready", ""));
    put(s, "agent", agent_event(end, "8001", "not-ready", "logged-out", "login"));
    put(s, "queue", queue_event(DAY_START + 100, "0431.general", "join", "", 0, ""));
    put(s, "queue", queue_event(DAY_START + 130, "0431.general", "left", "8001", 30000, "answered"));
    put(s, "queue", queue_event(DAY_START + 200, "0431.general", "left", "", 61000, "abandoned"));
    put(s, "queue", queue_event(DAY_START + 300, "0431.complaints", "left", "", 5000, "abandoned"));
    put(s, "queue", queue_event(end + 1, "0431.general", "left", "", 1000, "message"));
    hl_store_poll(s);

    json_t *rows = run_query(s, queries, "agent_day",
                             json_pack("{s:s,s:s,s:f}", "agent", "8001", "day", "2026-07-01", "now", end));
    CHECK(json_array_size(rows) == 2, "the agent's day holds its two changes: %zu", json_array_size(rows));
    CHECK(!strcmp(field(json_array_get(rows, 0), "at"), "00:00:00") &&
          !strcmp(field(json_array_get(rows, 0), "reason"), "login") &&
          !strcmp(field(json_array_get(rows, 1), "at"), "23:59:59") &&
          !strcmp(field(json_array_get(rows, 1), "state"), "logged-out"),
          "from its first to its last moment, in order, in the centre's time");
    json_decref(rows);
    rows = run_query(s, queries, "queue_day",
                     json_pack("{s:s,s:s,s:f}", "queue", "0431.general", "day", "2026-07-01", "now", end));
    CHECK(json_array_size(rows) == 2 &&
          json_integer_value(json_object_get(json_array_get(rows, 0), "waited_ms")) == 30000 &&
          !strcmp(field(json_array_get(rows, 0), "outcome"), "answered") &&
          !strcmp(field(json_array_get(rows, 1), "outcome"), "abandoned"),
          "the queue's day: each caller's wait and how it ended (%zu rows)", json_array_size(rows));
    json_decref(rows);
    rows = run_query(s, queries, "agent_day",
                     json_pack("{s:s,s:s}", "agent", "8001", "day", "not a day"));
    CHECK(json_array_size(rows) == 0, "a day that is not a date finds nothing");
    json_decref(rows);
    json_decref(queries);
    hl_store_close(s);
    return;
}

/* Each test works in a temporary directory of its own, removed after it. */
static void in_temp_dir(void (*test)(void)) { unit_in_temp_dir(dir, sizeof dir, "acd-store", test); }

TEST_IMPL(acd_store_migration) { in_temp_dir(test_migration); return 0; }
TEST_IMPL(acd_store_cdr_fields) { in_temp_dir(test_cdr_fields); return 0; }
TEST_IMPL(acd_store_events) { in_temp_dir(test_events); return 0; }
TEST_IMPL(acd_store_burst) { in_temp_dir(test_burst); return 0; }
TEST_IMPL(acd_store_crash) { in_temp_dir(test_crash); return 0; }
TEST_IMPL(acd_store_queries) { in_temp_dir(test_queries); return 0; }
