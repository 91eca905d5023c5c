/* test_month.c — a month's results through the policy (app/offline.c, rules/month.lua):
 * rows written here as the ACD and the back office would (the ACD's cdr agent legs and
 * agent_events mirror what the engine writes; nothing here runs a call), then the month is
 * computed as `hotline ctl month compute` does, off any loop, and the stored rows are read
 * back: the attendance summary applies the lateness rule, the score sheet carries each
 * automatic deduction with its call, a new policy version gives new rows.  Every limit the
 * rows are built around is read from the rules themselves. */
#include "app/offline.h"
#include "lua/script.h"
#include "store/store.h"
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

static char dir[256];

#define DAYS 5
static const char *const dates[DAYS] = { "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06" };

/* What the rows are built around, from the rules. */
typedef struct limits {
    int    late_count;          /* attendance.rules.lateness.count */
    double late_absent_days;    /* ... .absent_days */
    double ring_limit_ms;       /* scoring: max_rings x ring_cycle_ms */
    double hold_limit_ms;       /* scoring.auto.hold.max_silent_ms */
    double start[DAYS], finish[DAYS];
} limits;

static int read_limits(limits *lim)
{
    hl_config cfg;
    hl_config_defaults(&cfg);
    hl_policy_src src = { .scripts_dir = "scripts", .rules_dir = "rules", .cfg = &cfg };
    char err[4096] = "";
    hl_policy *p = hl_policy_build(&src, err, sizeof err);
    CHECK(p != NULL, "the policy builds: %s", err);
    if (!p)
        return -1;
    lua_State *L = hl_policy_lua(p);
    static const char chunk[] =
        "local a, s = require 'attendance', require 'scoring'\n"
        "local t = { a.rules.lateness.count, a.rules.lateness.absent_days, s.auto.ring.max_rings * s.auto.ring.ring_cycle_ms, s.auto.hold.max_silent_ms }\n"
        "for _, d in ipairs({ ... }) do local b, e = a.shift_times('day', d); t[#t + 1] = b; t[#t + 1] = e end\n"
        "return t\n";
    int rc = luaL_loadstring(L, chunk);
    for (int i = 0; i < DAYS; i++)
        lua_pushstring(L, dates[i]);
    if (rc == LUA_OK)
        rc = hl_policy_pcall(p, L, DAYS, 1, 100000000L, 64L << 20);
    CHECK(rc == LUA_OK, "the rules' limits: %s", lua_tostring(L, -1));
    if (rc == LUA_OK) {
        lua_geti(L, -1, 1); lim->late_count = (int)lua_tointeger(L, -1); lua_pop(L, 1);
        lua_geti(L, -1, 2); lim->late_absent_days = lua_tonumber(L, -1); lua_pop(L, 1);
        lua_geti(L, -1, 3); lim->ring_limit_ms = lua_tonumber(L, -1); lua_pop(L, 1);
        lua_geti(L, -1, 4); lim->hold_limit_ms = lua_tonumber(L, -1); lua_pop(L, 1);
        for (int i = 0; i < DAYS; i++) {
            lua_geti(L, -1, 5 + 2 * i); lim->start[i] = lua_tonumber(L, -1); lua_pop(L, 1);
            lua_geti(L, -1, 6 + 2 * i); lim->finish[i] = lua_tonumber(L, -1); lua_pop(L, 1);
        }
    }
    lua_settop(L, 0);
    hl_policy_unref(p);
    return rc == LUA_OK ? 0 : -1;
}

static void sql(hl_store *s, const char *fmt, ...)
{
    char text[2048], err[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_t *r = hl_store_exec_sync(s, text, NULL, err, sizeof err);
    CHECK(r != NULL, "%s: %s", text, err);
    json_decref(r);
}

static double number(hl_store *s, const char *text)
{
    char err[512] = "";
    json_t *r = hl_store_exec_sync(s, text, NULL, err, sizeof err);
    CHECK(r && json_array_size(r) == 1, "%s: %s", text, err);
    json_t *row = json_array_get(r, 0);
    double v = row ? json_number_value(json_object_iter_value(json_object_iter(row))) : -1;
    json_decref(r);
    return v;
}

/* Two agents on five days: 8101 on time, 8102 late on the rule's count of days; 8101 took
 * a call answered past the ring limit and one within it. */
static void write_rows(hl_store *s, const limits *lim)
{
    sql(s, "INSERT INTO agents (number, name, role) VALUES ('8101', 'A', 'agent'), ('8102', 'B', 'agent')");
    for (int i = 0; i < DAYS; i++) {
        for (int a = 0; a < 2; a++) {
            const char *agent = a ? "8102" : "8101";
            double in = lim->start[i] - 60 + (a && i < lim->late_count ? 600 + 60 : 0);
            sql(s, "INSERT INTO shift_plan (created, agent, date, shift) VALUES (0, '%s', '%s', 'day')", agent, dates[i]);
            sql(s, "INSERT INTO agent_events (time, agent, state, prev) VALUES (%.3f, '%s', 'ready', 'logged-out')", in, agent);
            sql(s, "INSERT INTO agent_events (time, agent, state, prev) VALUES (%.3f, '%s', 'logged-out', 'ready')",
                lim->finish[i] + 60, agent);
        }
    }
    double t = lim->start[0] + 3600;
    sql(s, "INSERT INTO cdr (call_id, direction, agent, start_time, answer_time, end_time, ring_ms, hangup_first, recording) "
           "VALUES ('c-slow', 'outbound', '8101', %.3f, %.3f, %.3f, %.0f, 'caller', 'r1.wav')",
        t, t + 20, t + 200, lim->ring_limit_ms + 1000);
    sql(s, "INSERT INTO cdr (call_id, direction, agent, start_time, answer_time, end_time, ring_ms, hangup_first, recording) "
           "VALUES ('c-fine', 'outbound', '8101', %.3f, %.3f, %.3f, 2000, 'caller', 'r2.wav')",
        t + 600, t + 602, t + 700);
    /* a hold with no word to the caller past the limit (hold_log in wall seconds, store/cdr.h) */
    double hs = t + 1300;
    sql(s, "INSERT INTO cdr (call_id, direction, agent, start_time, answer_time, end_time, ring_ms, hangup_first, "
           "holds, hold_ms, hold_log) VALUES ('c-hold', 'outbound', '8101', %.3f, %.3f, %.3f, 2000, 'caller', 1, %.0f, "
           "'[{\"start\":%.3f,\"end\":%.3f,\"reminders\":0,\"back_within_ms\":%.0f}]')",
        t + 1200, t + 1202, t + 1400, lim->hold_limit_ms + 1000, hs, hs + (lim->hold_limit_ms + 1000) / 1000,
        lim->hold_limit_ms + 1000);
    sql(s, "INSERT INTO call_notes (created, call_id, agent, summary, kb_lookups) VALUES "
           "(0, 'c-slow', '8101', 'pension transfer', 1), (0, 'c-fine', '8101', 'card', 2), (0, 'c-hold', '8101', 'x', 1)");
}

static json_t *compute(hl_store *s, const char *version)
{
    hl_config cfg;
    hl_config_defaults(&cfg);
    json_t *args = json_pack("[s]", "2026-03");
    hl_offline_spec spec = { .store = s, .scripts_dir = "scripts", .rules_dir = "rules", .version = version,
                             .cfg = &cfg, .module = "month", .args = args, .now = 1774000000.0 };
    json_t *r = hl_offline_run_sync(&spec);
    json_decref(args);
    return r;
}

static void test_month(void)
{
    limits lim;
    if (read_limits(&lim) != 0)
        return;
    char err[512] = "";
    hl_store *s = hl_store_open(NULL, dir, err, sizeof err);
    CHECK(s != NULL, "open: %s", err);
    if (!s)
        return;
    CHECK(hl_store_policy_activate(s, "rules", NULL, err, sizeof err) == 0, "policy tables: %s", err);
    write_rows(s, &lim);

    json_t *r = compute(s, "v1-test");
    CHECK(json_is_true(json_object_get(r, "ok")), "computed: %s", json_dumps(r, 0));
    CHECK(json_integer_value(json_object_get(r, "sheets")) == 2, "two sheets");
    CHECK(json_integer_value(json_object_get(r, "write_errors")) == 0, "written");
    json_decref(r);

    CHECK(number(s, "SELECT count(*) FROM score_sheets WHERE month = '2026-03' AND version = 'v1-test'") == 2,
          "a sheet per agent");
    CHECK(number(s, "SELECT json_extract(summary, '$.late_count') FROM attendance_months WHERE agent = '8102'")
          == lim.late_count, "8102 late on the rule's count of days");
    CHECK(number(s, "SELECT json_extract(summary, '$.penalty_days') FROM attendance_months WHERE agent = '8102'")
          == lim.late_absent_days, "... which is the rule's half day of absence");
    CHECK(number(s, "SELECT json_extract(summary, '$.penalty_days') FROM attendance_months WHERE agent = '8101'") == 0,
          "8101 on time: no penalty");
    CHECK(number(s, "SELECT count(*) FROM score_sheets s, json_each(s.sheet, '$.evidence') e WHERE s.agent = '8101' "
                    "AND json_extract(e.value, '$.call') = 'c-slow' AND json_extract(e.value, '$.item') = 'answer_speed' "
                    "AND json_extract(e.value, '$.fact') LIKE '%ms%'") == 1,
          "the slow answer is evidence on 8101's sheet: its call, its time, the fact");
    CHECK(number(s, "SELECT count(*) FROM score_sheets s, json_each(s.sheet, '$.evidence') e WHERE s.agent = '8101' "
                    "AND json_extract(e.value, '$.call') = 'c-fine'") == 0, "the call within the limits is not");
    CHECK(number(s, "SELECT count(*) FROM score_sheets s, json_each(s.sheet, '$.evidence') e WHERE s.agent = '8101' "
                    "AND json_extract(e.value, '$.call') = 'c-hold' AND json_extract(e.value, '$.item') = 'hold_checkin'") == 1,
          "the silent hold is evidence, read from the CDR's hold log");
    CHECK(number(s, "SELECT count(*) FROM score_sheets s, json_each(s.sheet, '$.sample') e WHERE s.agent = '8101'") == 0,
          "no reviewer this month: nothing drawn");

    r = compute(s, "v2-test");   /* a new policy version: new rows, the old ones kept */
    json_decref(r);
    CHECK(number(s, "SELECT count(*) FROM score_sheets WHERE month = '2026-03'") == 4, "both versions' sheets");
    hl_store_close(s);
}

/* Each test works in a temporary directory of its own, removed after it. */
static void in_temp_dir(void (*test)(void)) { unit_in_temp_dir(dir, sizeof dir, "month", test); }

TEST_IMPL(month_compute) { in_temp_dir(test_month); return 0; }

/* ---- off the loop: the loop's timers keep their time while a month is computed -------- */

#define TICK_MS 10
#define BIG_AGENTS 60
#define BIG_CALLS 20000

typedef struct tick_watch {
    uv_loop_t *loop;
    uv_timer_t timer;
    uint64_t   due;         /* when the next tick is due (uv_now, ms) */
    uint64_t   max_late;    /* the latest a tick came while the job ran */
    long       ticks;
    json_t    *reply;
} tick_watch;

static void on_tick(uv_timer_t *t)
{
    tick_watch *w = t->data;
    uv_update_time(w->loop);
    uint64_t now = uv_now(w->loop);
    if (now > w->due && now - w->due > w->max_late)
        w->max_late = now - w->due;
    w->due = now + TICK_MS;
    w->ticks++;
}

static void on_done(void *arg, json_t *reply)
{
    tick_watch *w = arg;
    w->reply = reply;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, NULL);
}

/* A month of BIG_CALLS agent legs for BIG_AGENTS agents (no plan entered: every agent on
 * every working day), straight into the store in one statement each. */
static void write_big_month(hl_store *s)
{
    sql(s, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %d) "
           "INSERT INTO agents (number, name, role) SELECT 8200 + i, 'x', 'agent' FROM n", BIG_AGENTS);
    /* 2026-03-02 08:00 centre time onwards, a call a minute per agent's turn */
    sql(s, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %d) "
           "INSERT INTO cdr (call_id, direction, agent, start_time, answer_time, end_time, ring_ms, hangup_first, recording) "
           "SELECT 'b' || i, 'outbound', CAST(8200 + i %% %d AS TEXT), 1772409600 + (i * 37) %% 1900000, "
           "1772409605 + (i * 37) %% 1900000, 1772409700 + (i * 37) %% 1900000, (i %% 7) * 3000, 'caller', 'r.wav' FROM n",
        BIG_CALLS, BIG_AGENTS);
}

static void test_off_loop(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[512] = "";
    hl_store *s = hl_store_open(&loop, dir, err, sizeof err);
    CHECK(s != NULL, "open: %s", err);
    if (!s)
        return;
    CHECK(hl_store_policy_activate(s, "rules", NULL, err, sizeof err) == 0, "policy tables: %s", err);
    write_big_month(s);

    hl_config cfg;
    hl_config_defaults(&cfg);
    json_t *args = json_pack("[s]", "2026-03");
    hl_offline_spec spec = { .store = s, .scripts_dir = "scripts", .rules_dir = "rules", .version = "v1-big",
                             .cfg = &cfg, .module = "month", .args = args, .now = 1775000000.0 };
    tick_watch w = { .loop = &loop };
    uv_timer_init(&loop, &w.timer);
    w.timer.data = &w;
    uv_update_time(&loop);
    w.due = uv_now(&loop) + TICK_MS;
    uv_timer_start(&w.timer, on_tick, TICK_MS, TICK_MS);
    CHECK(hl_offline_start(&loop, &spec, on_done, &w, err, sizeof err) == 0, "started: %s", err);
    CHECK(hl_offline_start(&loop, &spec, on_done, &w, err, sizeof err) != 0 && strstr(err, "try again"),
          "a second job while one runs is refused");
    json_decref(args);
    while (!w.reply && uv_run(&loop, UV_RUN_ONCE))
        ;
    long ms = (long)json_integer_value(json_object_get(w.reply, "ms"));
    CHECK(json_is_true(json_object_get(w.reply, "ok")), "computed: %s",
          json_string_value(json_object_get(w.reply, "error")) ?: "");
    CHECK(json_integer_value(json_object_get(w.reply, "sheets")) == BIG_AGENTS, "a sheet per agent");
    printf("month of %d calls in %ld ms (%lld ms CPU); %ld ticks of %d ms, the latest %llu ms late\n",
             BIG_CALLS, ms, (long long)json_integer_value(json_object_get(w.reply, "cpu_ms")), w.ticks, TICK_MS,
             (unsigned long long)w.max_late);
    /* had the job run on the loop, one tick would have waited for all of it */
    CHECK(ms > 4 * TICK_MS, "the job took long enough to tell (%ld ms)", ms);
    CHECK(w.max_late * 2 < (uint64_t)ms, "the loop's tick kept its time: %llu ms late at most, the job %ld ms",
          (unsigned long long)w.max_late, ms);
    json_decref(w.reply);
    hl_store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0, "the loop closes");
}

TEST_IMPL(month_off_loop) { in_temp_dir(test_off_loop); return 0; }
