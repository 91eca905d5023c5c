/* live_calls.c — the calls that are up, as the store knows them, so that a call the engine
 * died with (kill -9, power) still gets its CDR (issue 7).
 *
 * A row is queued when a call starts and deleted right after its CDRs are queued, both
 * through the store's worker like any write (the loop never waits); a heartbeat stamps every
 * row with the time, so the last stamp bounds when the engine died.  At start-up, before
 * any call, every row left is closed: a CDR from what the row knew (times, caller, called,
 * route, version), hangup_side engine, hangup_cause engine_restart, end at its last stamp.
 * A row whose call already has a CDR (the engine died between the two writes) is only
 * deleted. */
#include "store/store.h"
#include <stdio.h>
#include <string.h>

#define LIVE_INSERT_SQL                                                                    \
    "INSERT OR REPLACE INTO live_calls (call_id, leg_id, direction, caller, called, start_time," \
    " updated, route, script_version, vars) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

void hl_store_live_call_open(hl_store *s, const hl_cdr *so_far)
{
    json_t *p = json_pack("[sssssffsss]", so_far->call_id, so_far->leg_id, so_far->direction,
                          so_far->caller, so_far->called, so_far->start, so_far->start,
                          so_far->route, so_far->script_version, so_far->vars);
    hl_store_exec(s, LIVE_INSERT_SQL, p, NULL, NULL);
    json_decref(p);
}

void hl_store_live_call_close(hl_store *s, const char *call_id)
{
    json_t *p = json_pack("[s]", call_id);
    hl_store_exec(s, "DELETE FROM live_calls WHERE call_id = ?", p, NULL, NULL);
    json_decref(p);
}

void hl_store_live_calls_touch(hl_store *s, double now)
{
    json_t *p = json_pack("[f]", now);
    hl_store_exec(s, "UPDATE live_calls SET updated = ?", p, NULL, NULL);
    json_decref(p);
}

void hl_store_live_call_route(hl_store *s, const char *call_id, const char *route)
{
    json_t *p = json_pack("[ss]", route, call_id);
    hl_store_exec(s, "UPDATE live_calls SET route = ? WHERE call_id = ? AND route <> ?1", p, NULL, NULL);
    json_decref(p);
}

/* One row as the CDR of a call cut by the engine's end. */
static void cdr_of_row(json_t *row, hl_cdr *c)
{
    memset(c, 0, sizeof *c);
#define COPY(key, field) \
    snprintf(c->field, sizeof c->field, "%s", json_string_value(json_object_get(row, key)) ?: "")
    COPY("call_id", call_id);
    COPY("leg_id", leg_id);
    COPY("direction", direction);
    COPY("caller", caller);
    COPY("called", called);
    COPY("route", route);
    COPY("script_version", script_version);
    COPY("vars", vars);
#undef COPY
    c->start = json_number_value(json_object_get(row, "start_time"));
    double last = json_number_value(json_object_get(row, "updated"));
    c->end = last > c->start ? last : c->start;
    snprintf(c->hangup_side, sizeof c->hangup_side, "engine");
    snprintf(c->hangup_cause, sizeof c->hangup_cause, "engine_restart");
}

int hl_store_live_calls_reconcile(hl_store *s, char *err, int errlen)
{
    json_t *rows = hl_store_exec_sync(s,
        "SELECT * FROM live_calls WHERE call_id NOT IN (SELECT call_id FROM cdr) ORDER BY start_time",
        NULL, err, errlen);
    if (!rows)
        return -1;
    int closed = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        hl_cdr cdr;
        cdr_of_row(row, &cdr);
        json_t *params = hl_cdr_params(&cdr);
        json_t *done = hl_store_exec_sync(s, HL_CDR_INSERT_SQL, params, err, errlen);
        json_decref(params);
        if (!done) {
            json_decref(rows);
            return -1;
        }
        json_decref(done);
        closed++;
    }
    json_decref(rows);
    json_t *gone = hl_store_exec_sync(s, "DELETE FROM live_calls", NULL, err, errlen);
    if (!gone)
        return -1;
    json_decref(gone);
    return closed;
}
