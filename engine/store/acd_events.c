/* acd_events.c — the ACD's state changes as rows of agent_events and queue_events
 * (store.h: hl_store_acd_event; the tables are migration 9's).
 *
 * The ACD hands each event over on the loop as it happens; this file checks its fields,
 * builds the row's parameters and queues the INSERT to the store's worker, which commits the
 * rows queued together in one transaction, in order.  The loop never waits for the disk.
 * A malformed event is a bug of its sender: it is logged (the first few, then one in many,
 * so a broken sender cannot flood the log) and dropped; nothing else is affected. */
#include "store/store.h"
#include "store/store_sqlite.h"
#include "core/log.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define AGENT_EVENT_SQL                                                                    \
    "INSERT INTO agent_events (time, agent, state, prev, reason, queue, call_id, changed_by," \
    " node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define QUEUE_EVENT_SQL                                                                    \
    "INSERT INTO queue_events (time, queue, call_id, caller, event, agent, waited_ms, outcome," \
    " reason, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

/* Dropped events logged one by one before only every DROP_LOG_EVERY-th is. */
#define DROP_LOG_FIRST 20
#define DROP_LOG_EVERY 1000

typedef struct row {
    json_t *event, *params;
    char    why[160];       /* the first thing wrong, "" while all is well */
} row;

static bool bad(row *r, const char *fmt, const char *key)
{
    if (!r->why[0])
        snprintf(r->why, sizeof r->why, fmt, key);
    return false;
}

/* The event's text field key (or, when absent, alt's), appended to the row: "" if absent. */
static bool text2(row *r, const char *key, const char *alt, bool required)
{
    json_t *v = json_object_get(r->event, key);
    if ((!v || json_is_null(v)) && alt)
        v = json_object_get(r->event, alt);
    if (!v || json_is_null(v)) {
        json_array_append_new(r->params, json_string(""));
        return required ? bad(r, "no %s", key) : true;
    }
    if (!json_is_string(v))
        return bad(r, "%s is not a string", key);
    size_t n = json_string_length(v);
    if (n > HL_STORE_EVENT_TEXT)
        return bad(r, "%s is too long", key);
    if (required && n == 0)
        return bad(r, "%s is empty", key);
    json_array_append_new(r->params, json_stringn(json_string_value(v), n));
    return true;
}

static bool text(row *r, const char *key, bool required)
{
    return text2(r, key, NULL, required);
}

static bool event_time(row *r)
{
    json_t *v = json_object_get(r->event, "time");
    if (!json_is_number(v) || json_number_value(v) <= 0)
        return bad(r, "%s is not a wall time in seconds", "time");
    json_array_append_new(r->params, json_real(json_number_value(v)));
    return true;
}

static bool milliseconds(row *r, const char *key)
{
    json_t *v = json_object_get(r->event, key);
    if (!v || json_is_null(v)) {
        json_array_append_new(r->params, json_integer(0));
        return true;
    }
    if (!json_is_number(v) || json_number_value(v) < 0)
        return bad(r, "%s is not a number of ms", key);
    json_array_append_new(r->params, json_integer((json_int_t)json_number_value(v)));
    return true;
}

/* The event's node, else this engine's (an event relayed from another node keeps its own). */
static void node(row *r, hl_store *s)
{
    json_t *v = json_object_get(r->event, "node");
    const char *n = json_is_string(v) && json_string_length(v) > 0 &&
                            json_string_length(v) < HL_STORE_NODE_MAX
                        ? json_string_value(v)
                        : hl_store_node(s);
    json_array_append_new(r->params, json_string(n));
}

static void agent_row(row *r, hl_store *s)
{
    event_time(r);
    text(r, "agent", true);
    text(r, "state", true);
    text(r, "prev", false);
    text(r, "reason", false);
    text(r, "queue", false);
    text(r, "call_id", false);
    text(r, "by", false);
    node(r, s);
}

static void queue_row(row *r, hl_store *s)
{
    event_time(r);
    text(r, "queue", true);
    text(r, "call_id", false);
    text(r, "caller", false);
    text2(r, "event", "word", true);
    text(r, "agent", false);
    milliseconds(r, "waited_ms");
    text(r, "outcome", false);
    text(r, "reason", false);
    node(r, s);
}

static void log_dropped(const char *kind, const char *why)
{
    static unsigned long dropped; /* the loop's thread only, like the ACD */
    dropped++;
    if (dropped <= DROP_LOG_FIRST || dropped % DROP_LOG_EVERY == 0)
        hl_warn("store", "ACD event dropped (%lu so far): kind %.20s: %s", dropped,
                kind ? kind : "(none)", why);
}

/* A row the database refused (disk full, I/O error): said, as the dropped ones are. */
static void on_written(void *arg, json_t *rows, const char *err)
{
    if (err)
        log_dropped(arg, err);
}

int hl_store_acd_event(hl_store *s, const char *kind, json_t *event)
{
    if (!kind && json_is_object(event))
        kind = json_string_value(json_object_get(event, "kind"));
    if (!json_is_object(event)) {
        log_dropped(kind, "not a JSON object");
        return -1;
    }
    bool agent = kind && !strcmp(kind, "agent"), queue = kind && !strcmp(kind, "queue");
    if (!agent && !queue) {
        log_dropped(kind, "kind is neither \"agent\" nor \"queue\"");
        return -1;
    }
    if (!s) {
        log_dropped(kind, "no store");
        return -1;
    }
    row r = { event, json_array(), "" };
    if (!r.params) {
        log_dropped(kind, "out of memory");
        return -1;
    }
    if (agent)
        agent_row(&r, s);
    else
        queue_row(&r, s);
    if (r.why[0]) {
        log_dropped(kind, r.why);
        json_decref(r.params);
        return -1;
    }
    hl_store_exec_owned(s, agent ? AGENT_EVENT_SQL : QUEUE_EVENT_SQL, r.params, on_written,
                        (void *)(agent ? "agent" : "queue"));
    return 0;
}

void hl_store_acd_event_sink(void *store, const char *kind, json_t *event)
{
    hl_store_acd_event(store, kind, event);
}
