/* store_sqlite.h — private to engine/store: what the SQLite store's files share. */
#ifndef HL_STORE_SQLITE_H
#define HL_STORE_SQLITE_H
#include <sqlite3.h>

/* Brings db to the newest schema: creates schema_version if needed, then applies each
 * migration newer than the recorded version, each in its own transaction.  Returns the
 * resulting version, or -1 with err (a database newer than this engine is an error). */
int hl_store_migrate(sqlite3 *db, char *err, int errlen);

struct hl_store;
/* The database file (DIR/hotline.db), for a second connection of store_policy.c. */
const char *hl_store_path(const struct hl_store *s);

#endif
