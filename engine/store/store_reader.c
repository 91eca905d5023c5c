/* store_reader.c — read-only connections to hotline.db (store.h, issue 9): what the month's
 * computation and the reports read with, on a worker thread, row by row, without going
 * through the store's queue (a month is hundreds of thousands of rows; the queue serves the
 * calls).  Opened read-only: a bug in what runs on it cannot change a row. */
#include "store/store.h"
#include "store/store_sqlite.h"
#include <stdio.h>
#include <stdlib.h>

/* Another process (a CSV import) holding the write lock does not block WAL readers; a
 * checkpoint in progress might, for this long. */
#define HL_STORE_READER_BUSY_MS 5000
/* Columns of one row handed over (a wider SELECT is refused). */
#define HL_STORE_READER_MAX_COLS 64

struct hl_store_reader {
    sqlite3 *db;
};

hl_store_reader *hl_store_reader_open(hl_store *s, char *err, int errlen)
{
    hl_store_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(hl_store_path(s), &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: cannot open %s read-only: %s", hl_store_path(s),
                 r->db ? sqlite3_errmsg(r->db) : "out of memory");
        hl_store_reader_close(r);
        return NULL;
    }
    sqlite3_busy_timeout(r->db, HL_STORE_READER_BUSY_MS);
    return r;
}

void hl_store_reader_close(hl_store_reader *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    free(r);
}

static void fill_row(sqlite3_stmt *st, int n, hl_store_value *v)
{
    for (int i = 0; i < n; i++) {
        v[i] = (hl_store_value){ .name = sqlite3_column_name(st, i) };
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            v[i].type = HL_STORE_INT;
            v[i].i = sqlite3_column_int64(st, i);
            break;
        case SQLITE_FLOAT:
            v[i].type = HL_STORE_REAL;
            v[i].d = sqlite3_column_double(st, i);
            break;
        case SQLITE_NULL:
            v[i].type = HL_STORE_NULL;
            break;
        default:
            v[i].type = HL_STORE_TEXT;
            v[i].s = (const char *)sqlite3_column_text(st, i);
            v[i].len = sqlite3_column_bytes(st, i);
        }
    }
}

long hl_store_reader_each(hl_store_reader *r, const char *sql, json_t *params, hl_store_row_fn fn,
                          void *arg, char *err, int errlen)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, &tail) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(r->db));
        return -1;
    }
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';' || *tail == '\r'))
        tail++;
    char *berr = NULL;
    int n = sqlite3_column_count(st);
    if (tail && *tail) {
        snprintf(err, errlen, "store: one statement at a time (more follows: %.40s)", tail);
        goto fail;
    }
    if (n > HL_STORE_READER_MAX_COLS) {
        snprintf(err, errlen, "store: %d columns (at most %d)", n, HL_STORE_READER_MAX_COLS);
        goto fail;
    }
    if (hl_store_bind(st, params, &berr) != 0) {
        snprintf(err, errlen, "store: %s", berr ? berr : "cannot bind");
        free(berr);
        goto fail;
    }
    hl_store_value v[HL_STORE_READER_MAX_COLS];
    long rows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fill_row(st, n, v);
        rows++;
        if (fn(arg, n, v))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(r->db));
        goto fail;
    }
    sqlite3_finalize(st);
    return rows;
fail:
    sqlite3_finalize(st);
    return -1;
}
