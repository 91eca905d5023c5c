/* store_sqlite.h — private to engine/store: what the SQLite store's files share. */
#ifndef HL_STORE_SQLITE_H
#define HL_STORE_SQLITE_H
#include <sqlite3.h>
#include "store/store.h"

/* Brings db to the newest schema: creates schema_version if needed, then applies each
 * migration newer than the recorded version, each in its own transaction.  Returns the
 * resulting version, or -1 with err (a database newer than this engine is an error). */
int hl_store_migrate(sqlite3 *db, char *err, int errlen);

struct hl_store;
/* The database file (DIR/hotline.db), for a second connection of store_policy.c. */
const char *hl_store_path(const struct hl_store *s);
/* This engine's node name (hl_store_set_node; the host name by default). */
const char *hl_store_node(const struct hl_store *s);
/* hl_store_exec with params handed over (the store owns them, no copy): for writers that
 * build their parameters only to queue them (acd_events.c). */
void hl_store_exec_owned(struct hl_store *s, const char *sql, json_t *params, hl_store_cb cb,
                         void *arg);

/* Binds params (store.h's rules: array by position, object by name) to st; 0, or -1 with
 * *err (malloc'd). */
int hl_store_bind(sqlite3_stmt *st, json_t *params, char **err);

#endif
