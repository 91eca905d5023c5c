/* store.h — the engine's store: one small interface, SQLite now (store_sqlite.c),
 * PostgreSQL later for several nodes.
 *
 * The loop never waits for the disk: every operation is queued to the store's own worker
 * thread and its completion callback runs back on the loop (uv_async).  Writes are
 * committed in order; a write is durable (WAL, synchronous=FULL) before its callback runs,
 * so nothing acknowledged is lost in a crash.  Statements are prepared once and cached by
 * their SQL text; parameters are always bound, never spliced into SQL.
 *
 * The schema is versioned: migrations (store_migrations.c) run at open, in order, each in
 * a transaction, and the schema_version table records the newest applied.  Tables a policy
 * needs are its own (rules/schema/), applied when it is activated (store_policy.c).
 *
 * Contract details (store_sqlite.c):
 *  - sql is exactly one statement ("a; b" is refused).
 *  - params: a JSON array bound by position (?1, ?2 ...), or a JSON object bound by name
 *    (:name, @name, $name); numbers, strings, true/false (1/0) and null bind as such, a
 *    nested object/array binds as its JSON text.  params may be NULL.  The store copies
 *    params: the caller keeps (and must release) its own reference.
 *  - rows: an array of objects for a statement that returns columns (SELECT, or
 *    INSERT/UPDATE/DELETE ... RETURNING), an empty array otherwise.  BLOBs come back as
 *    hex text.
 *  - Queued operations run in order; several queued together share one transaction (each
 *    in its own savepoint, so one failing does not undo the others).
 *  - Callbacks run on the loop thread, never inside the call that queued them.
 *  - A store opened with uv == NULL has no worker thread: queued operations wait until
 *    hl_store_poll() (or hl_store_exec_sync / hl_store_close) runs them on the caller's
 *    thread — that is how the simulator, on its fake clock, uses the same code.
 *
 * Script queries (hl_store_exec_script*) run under an SQLite authorizer: SELECT anything;
 * INSERT/UPDATE/DELETE on tables other than the engine's own (cdr, schema_version,
 * policy_schema, jobs, dial_counts, live_calls, agents, agent_contacts, agent_events,
 * queue_events, sqlite_*); no DDL (CREATE/DROP/ALTER), no ATTACH/DETACH, no transaction or savepoint
 * control, no PRAGMA except a few read-only ones; at most HL_STORE_SCRIPT_MAX_ROWS rows
 * and a bounded amount of work per query (a runaway query is interrupted). */
#ifndef HL_STORE_H
#define HL_STORE_H
#include <jansson.h>
#include <uv.h>
#include "store/cdr.h"

typedef struct hl_store hl_store;

/* A script query returning more rows than this fails (scripts must use LIMIT). */
#define HL_STORE_SCRIPT_MAX_ROWS 1000

/* Rows as a JSON array of objects (column name -> value), or NULL with err on failure.
 * The callback owns neither: both are freed after it returns. */
typedef void (*hl_store_cb)(void *arg, json_t *rows, const char *err);

/* Opens DIR/hotline.db (creating DIR and the file), runs migrations.  NULL with err on failure.
 * uv may be NULL for a store used synchronously only (tools, simulations). */
hl_store *hl_store_open(uv_loop_t *uv, const char *data_dir, char *err, int errlen);
/* Finishes every queued operation (their callbacks run, on the caller's thread, before it
 * returns), then closes.  Call it on the loop thread, before uv_loop_close.  If the store's
 * async handle is still open, it is closed and the memory freed when the loop next runs
 * (run it once more before uv_loop_close); if the owner already closed every handle
 * (uv_walk + uv_run at shutdown), the memory is freed at once. */
void hl_store_close(hl_store *s);
int  hl_store_schema_version(hl_store *s);
/* The newest schema version this engine knows (migrations compiled in). */
int  hl_store_schema_latest(void);

/* Asynchronous: runs sql with params on the worker. */
void hl_store_exec(hl_store *s, const char *sql, json_t *params, hl_store_cb cb, void *arg);
/* Synchronous, for start-up, tools and the simulator; never on the call path of a loop.
 * It goes through the same queue as hl_store_exec and waits for its turn, so it sees every
 * write queued before it (the caller's thread blocks meanwhile).  Rows, or NULL with err. */
json_t *hl_store_exec_sync(hl_store *s, const char *sql, json_t *params, char *err, int errlen);

/* The same for queries written by Lua scripts: run under the authorizer described above. */
void    hl_store_exec_script(hl_store *s, const char *sql, json_t *params,
                             hl_store_cb cb, void *arg);
json_t *hl_store_exec_script_sync(hl_store *s, const char *sql, json_t *params,
                                  char *err, int errlen);

/* Store without a worker (opened with uv == NULL): runs every queued operation and calls
 * its callback, on the caller's thread.  Returns how many ran.  With a worker: delivers
 * nothing and returns 0 (the loop delivers). */
int  hl_store_poll(hl_store *s);

/* Activates a policy's part of the store (store_policy.c, issue 6): applies RULES/schema/
 * NNN_name.sql files not applied before (each once, in order, in a transaction; an applied
 * file that has changed is refused), then, when queries is not NULL, reads and checks
 * RULES/queries.lua into *queries (a new reference: {NAME: {sql, description, writes,
 * args: [{name, default?}]}}; {} without the file).  0, or -1 with err naming the file.
 * Safe on any thread (its own connection). */
int  hl_store_policy_activate(hl_store *s, const char *rules_dir, json_t **queries, char *err, int errlen);

/* Runs the policy's queries that say on = event (issue 7: "start", "recording_repaired";
 * rules/queries.lua) with params (an object, may be NULL) and :now, synchronously, under
 * the script authorizer: for start-up, before calls.  The rows they returned in all, or -1
 * with err naming the query. */
int  hl_store_policy_run_hook(hl_store *s, json_t *queries, const char *event, json_t *params,
                              double now, char *err, int errlen);

/* Operations queued and not yet answered (issue 10: /metrics' store queue depth); loop thread. */
int  hl_store_queue_depth(const hl_store *s);
/* The audit of one reload (reload_audit_store.c, issue 10): who asked ("ctl alice (uid
 * 1000)", "file watch", "SIGHUP"), uid (-1 when not a ctl client), result ("taken",
 * "refused", "unchanged"), the version serving after it and before, the error or notes, and
 * the unified diff of scripts/ and rules/ against the files of diff_base (a version). */
typedef struct hl_reload_audit {
    double      time;
    const char *who;
    int         uid;
    const char *result, *version, *previous, *detail, *diff, *diff_base;
} hl_reload_audit;
/* Queues the row (a detail or diff that is not UTF-8 text is stored as a note saying so). */
void hl_store_audit_add(hl_store *s, const hl_reload_audit *a);
/* The last rows, oldest first, to cb (as hl_store_exec's rows). */
void hl_store_audit_read(hl_store *s, int last, hl_store_cb cb, void *arg);

/* Queues a CDR insert (durable before cb, which may be NULL). */
void hl_store_cdr_write(hl_store *s, const hl_cdr *cdr, hl_store_cb cb, void *arg);

/* The name this engine writes in the node column of the rows it stores (ACD events), so that
 * engines sharing a store later can tell theirs apart: the host name unless set ("" keeps
 * it; longer than HL_STORE_NODE_MAX - 1 bytes is cut).  Call it before writing. */
#define HL_STORE_NODE_MAX 64
void hl_store_set_node(hl_store *s, const char *node);

/* Queues one ACD event (acd/acd.h's hl_acd_event_fn hands them over as they happen) as a row
 * of agent_events (kind "agent") or queue_events (kind "queue"; acd_events.c): asynchronous
 * like a CDR write — the loop only builds the row and queues it; the worker commits queued
 * rows together, in order.  event is borrowed; kind NULL takes the event's own "kind".
 * Fields read (unknown ones ignored; null = absent):
 *   both:  time (wall seconds, > 0, required), call_id, queue, agent, reason, node (else the
 *          store's)
 *   agent: agent and state (required), prev, by (who asked: "ctl", "phone", "acd" ...)
 *   queue: queue and event (or word: "join", "offer", "answered", "missed", "released",
 *          "abandoned", "left" ...; required), caller, waited_ms, outcome
 * Text fields are strings of at most HL_STORE_EVENT_TEXT bytes.  An event that breaks this
 * (or an unknown kind) is logged and dropped: -1.  Queued: 0. */
#define HL_STORE_EVENT_TEXT 256
int  hl_store_acd_event(hl_store *s, const char *kind, json_t *event);
/* The same in the shape of acd.h's hl_acd_event_fn, arg being the store:
 * hl_acd_set_event_sink(acd, hl_store_acd_event_sink, store). */
void hl_store_acd_event_sink(void *store, const char *kind, json_t *event);

/* The calls that are up (live_calls.c, issue 7): so that a call the engine dies with still
 * gets a CDR.  open queues a row from what is known at the call's start (call_id, leg_id,
 * direction, caller, called, start, route, script_version, vars of so_far); close deletes
 * it (queue it after the call's CDRs); touch stamps every row with now (the heartbeat).
 * All three are asynchronous, through the worker.  reconcile, at start-up before any call
 * (synchronous): every row left becomes a CDR with hangup_side engine, hangup_cause
 * engine_restart and end at its last stamp (rows whose call has a CDR are only dropped);
 * returns how many CDRs it wrote, or -1 with err. */
void hl_store_live_call_open(hl_store *s, const hl_cdr *so_far);
void hl_store_live_call_close(hl_store *s, const char *call_id);
void hl_store_live_calls_touch(hl_store *s, double now);
/* The route a call has taken so far (asynchronous), stamped with the heartbeat. */
void hl_store_live_call_route(hl_store *s, const char *call_id, const char *route);
int  hl_store_live_calls_reconcile(hl_store *s, char *err, int errlen);

/* A read-only connection of its own (store_reader.c, issue 9), for long reports and the
 * month's computation on a worker thread: it never waits for, nor holds up, the store's
 * worker (WAL readers do not block the writer).  One thread at a time uses a reader.
 * each() runs one statement (params as for hl_store_exec) and hands every row to fn, which
 * returns nonzero to stop; the values are valid during the call only.  Returns the rows
 * handed over, or -1 with err. */
typedef struct hl_store_reader hl_store_reader;
enum { HL_STORE_NULL, HL_STORE_INT, HL_STORE_REAL, HL_STORE_TEXT };
typedef struct hl_store_value {
    const char *name;
    int         type;       /* HL_STORE_* (a BLOB comes as TEXT of its bytes) */
    long long   i;
    double      d;
    const char *s;
    int         len;
} hl_store_value;
typedef int (*hl_store_row_fn)(void *arg, int ncols, const hl_store_value *cols);
hl_store_reader *hl_store_reader_open(hl_store *s, char *err, int errlen);
long hl_store_reader_each(hl_store_reader *r, const char *sql, json_t *params, hl_store_row_fn fn,
                          void *arg, char *err, int errlen);
void hl_store_reader_close(hl_store_reader *r);

/* CDR <-> JSON (cdr_store.c).
 * hl_cdr_to_json: call_id, leg_id, leg_index, direction, caller, called, start, answer, end
 * (ISO 8601 +08:00 or null), start_epoch, answer_epoch, end_epoch (seconds or null),
 * hangup_side, hangup_cause, dtmf, prompts [..], menus [..], route, script_version,
 * rtp {sent, received, lost, jitter_ms}, codec, recording, vars {..}, and the ACD's (issue 8):
 * agent, queue, queue_wait_ms, queue_outcome, ring_ms, hangup_first, hangup_gap_ms, holds,
 * hold_ms, hold_log [{start, end, reminders, back_within_ms}], transfers [{kind, target,
 * time, result}], wrapup_ms. */
json_t *hl_cdr_to_json(const hl_cdr *cdr);
/* Fills cdr from a row of the cdr table (as returned by a SELECT * FROM cdr). */
void    hl_cdr_from_row(json_t *row, hl_cdr *cdr);
/* CDR -> CSV (cdr_csv.c, issue 10): the header line and one row, each ending in CRLF
 * (RFC 4180), malloc'd; the columns are listed in docs/admin-ctl.md. */
char   *hl_cdr_csv_header(void);
char   *hl_cdr_csv_row(const hl_cdr *cdr);
/* The INSERT for one CDR and its positional parameters (a new reference). */
extern const char HL_CDR_INSERT_SQL[];
json_t *hl_cdr_params(const hl_cdr *cdr);

#endif
