/* test_admin_csv.c — the CSV reader of `hotline ctl admin import` (app/admin_csv.c): records
 * with their line numbers (quotes, "" inside quotes, commas and line breaks in quotes, CRLF,
 * a byte-order mark, blank lines), and every kind of file that is not whole refused with its
 * line: no line end at the end, too few or too many fields, a quote never closed, text after
 * a closing quote, a NUL byte, bytes that are not UTF-8, a header naming a column twice, an
 * empty file, more records than allowed. */
#include <string.h>
#include "app/admin_csv.h"
#include "unit.h"

static json_t *parse(const char *text, size_t max, char *err, int errlen)
{
    json_t *cols = NULL;
    json_t *rows = hl_admin_csv_parse(text, strlen(text), max, &cols, err, errlen);
    json_decref(cols);
    return rows;
}

static const char *value(json_t *rows, size_t i, const char *col)
{
    return json_string_value(json_object_get(json_object_get(json_array_get(rows, i), "values"), col));
}

static int line_of(json_t *rows, size_t i)
{
    return (int)json_integer_value(json_object_get(json_array_get(rows, i), "line"));
}

/* The text is refused, and the message starts with want. */
static void refused(const char *text, size_t len, const char *want)
{
    char err[300] = "";
    json_t *cols = NULL;
    json_t *rows = hl_admin_csv_parse(text, len, 100, &cols, err, sizeof err);
    CHECK(rows == NULL && cols == NULL, "accepted: %s", text);
    CHECK(strncmp(err, want, strlen(want)) == 0, "got '%s', want '%s'", err, want);
    json_decref(rows), json_decref(cols);
}
#define REFUSED(text, want) refused(text, sizeof text - 1, want)

TEST_IMPL(admin_csv)
{
    char err[300];
    json_t *rows = parse("\xEF\xBB\xBF" "agent,text,n\r\n"
                         "1001,\"a, b\",1\r\n"
                         "\r\n"
                         "1002,\"say \"\"hi\"\"\nnext line\",2\n"
                         "1003,,3\n", 10, err, sizeof err);
    CHECK(rows != NULL, "%s", err);
    CHECK(json_array_size(rows) == 3);
    CHECK(!strcmp(value(rows, 0, "agent"), "1001") && !strcmp(value(rows, 0, "text"), "a, b"));
    CHECK(line_of(rows, 0) == 2 && line_of(rows, 1) == 4 && line_of(rows, 2) == 6,
          "lines %d %d %d", line_of(rows, 0), line_of(rows, 1), line_of(rows, 2));
    CHECK(!strcmp(value(rows, 1, "text"), "say \"hi\"\nnext line"), "got '%s'", value(rows, 1, "text"));
    CHECK(!strcmp(value(rows, 2, "text"), "") && !strcmp(value(rows, 2, "n"), "3"));
    json_decref(rows);

    REFUSED("a,b\n1,2\n3,4", "line 3: the last line has no line end");
    REFUSED("a,b\n1,2\n3\n", "line 3: 1 fields, the header names 2");
    REFUSED("a,b\n1,2,3\n", "line 2: 3 fields, the header names 2");
    REFUSED("a,b\n1,\"2\n", "line 2: a quoted field is not closed");
    REFUSED("a,b\n1,\"2\"x\n", "line 2: text after a closing quote");
    REFUSED("a,b\n1,2\0\n", "line 2: a NUL byte");
    REFUSED("a,b\n1,\xff\n", "line 2: a field is not UTF-8 text");
    REFUSED("a,a\n1,2\n", "line 1: the header names column 'a' twice");
    REFUSED("a,,b\n1,2,3\n", "line 1: the header has an empty column name");
    REFUSED("", "line 1: the file is empty");
    REFUSED("a\r1\n", "line 1: a carriage return that does not end a line");
    rows = parse("a\n1\n2\n3\n", 2, err, sizeof err);
    CHECK(rows == NULL && !strcmp(err, "line 4: more than 2 records in one file (split it)"), "got '%s'", err);
    return 0;
}
