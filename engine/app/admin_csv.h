/* admin_csv.h — a CSV file of back-office records as rows (admin_csv.c), for
 * `hotline ctl admin import KIND FILE.csv` (app/admin.c): the mechanics of the format only;
 * what the columns mean and which values are valid is the policy's (rules/backoffice.lua).
 *
 * The format: RFC 4180 — a header line naming the columns, then one record a line; fields
 * separated by commas, a field in double quotes may hold commas, line breaks and "" for a
 * quote; CRLF or LF line ends; a UTF-8 byte-order mark at the start is skipped; blank lines
 * are skipped.  A file that is not whole is refused, with the line and the reason: the last
 * line without its line end (a file still being written or cut short), a record with fewer
 * or more fields than the header, a quoted field never closed, a header naming a column
 * twice or an empty column, a byte that is not UTF-8 text (NUL included). */
#ifndef HL_ADMIN_CSV_H
#define HL_ADMIN_CSV_H
#include <jansson.h>
#include <stddef.h>

/* Parses text[0..len) into [{line, values: {column: text}}, ...] (line: where the record
 * starts, the header being line 1) and *columns (the header's names, a new reference).  At
 * most max_rows records.  NULL with err ("line N: why") on any flaw: nothing partial. */
json_t *hl_admin_csv_parse(const char *text, size_t len, size_t max_rows, json_t **columns,
                           char *err, int errlen);

#endif
