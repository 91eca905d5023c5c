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
 * a transaction, and the schema_version table records the newest applied. */
#ifndef HL_STORE_H
#define HL_STORE_H
#include <jansson.h>
#include <uv.h>
#include "call/cdr.h"

typedef struct hl_store hl_store;

/* Rows as a JSON array of objects (column name -> value), or NULL with err on failure.
 * The callback owns neither: both are freed after it returns. */
typedef void (*hl_store_cb)(void *arg, json_t *rows, const char *err);

/* Opens DIR/hotline.db (creating it), runs migrations.  NULL with err on failure.
 * uv may be NULL for a store used synchronously only (tools, simulations). */
hl_store *hl_store_open(uv_loop_t *uv, const char *data_dir, char *err, int errlen);
/* Finishes every queued operation, then closes. */
void hl_store_close(hl_store *s);
int  hl_store_schema_version(hl_store *s);

/* Asynchronous: runs sql with params (a JSON array: numbers, strings, null) on the worker. */
void hl_store_exec(hl_store *s, const char *sql, json_t *params, hl_store_cb cb, void *arg);
/* Synchronous, for start-up, tools and the simulator; never on the call path of a loop. */
json_t *hl_store_exec_sync(hl_store *s, const char *sql, json_t *params, char *err, int errlen);

/* Queues a CDR insert (durable before cb, which may be NULL). */
void hl_store_cdr_write(hl_store *s, const hl_cdr *cdr, hl_store_cb cb, void *arg);
/* CDR rows as JSON objects, newest last. */
json_t *hl_cdr_to_json(const hl_cdr *cdr);

#endif
