/* admin_csv.c — CSV text to rows (admin_csv.h): a small RFC 4180 reader that keeps each
 * record's line number, so the policy's refusals can name the line, and that refuses a
 * file that is not whole rather than guessing what its end was meant to be. */
#include "app/admin_csv.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const char *p, *end;
    int line;               /* of the character at p */
    char *err;
    int errlen;
} reader;

static json_t *fail(reader *r, int line, const char *why)
{
    snprintf(r->err, r->errlen, "line %d: %s", line, why);
    return NULL;
}

/* A growing byte buffer for one field. */
typedef struct text {
    char  *s;
    size_t n, cap;
} text;

static bool put(text *t, char c)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char *s = realloc(t->s, cap);
        if (!s)
            return false;
        t->s = s, t->cap = cap;
    }
    t->s[t->n++] = c;
    return true;
}

/* The field's bytes as a JSON string, or NULL with err when they are not UTF-8 text. */
static json_t *finish(reader *r, text *t, int line)
{
    json_t *out = json_stringn(t->s ? t->s : "", t->n);
    free(t->s);
    return out ? out : fail(r, line, "a field is not UTF-8 text");
}

static json_t *broken(reader *r, text *t, int line, const char *why)
{
    free(t->s);
    return fail(r, line, why);
}

/* One field at r->p: its text (a new reference), and *last when it ends its record.  NULL
 * with err when a quote is not closed or the file ends inside the record. */
static json_t *field(reader *r, int start_line, bool *last)
{
    text t = { 0 };
    bool quoted = r->p < r->end && *r->p == '"';
    if (quoted)
        r->p++;
    for (;;) {
        if (r->p >= r->end)
            return broken(r, &t, start_line, quoted ? "a quoted field is not closed (a half-written file?)"
                                                    : "the last line has no line end (a half-written file?)");
        char c = *r->p;
        if (quoted && c == '"' && r->p + 1 < r->end && r->p[1] == '"') {
            r->p++;                                   /* "" inside quotes: one quote */
        } else if (quoted && c == '"') {
            quoted = false, r->p++;
            if (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r')
                return broken(r, &t, r->line, "text after a closing quote (write \"\" for a quote inside quotes)");
            continue;
        } else if (!quoted && (c == ',' || c == '\n' || c == '\r')) {
            if (c == '\r' && !(r->p + 1 < r->end && r->p[1] == '\n'))
                return broken(r, &t, r->line, "a carriage return that does not end a line");
            *last = c != ',';
            r->p += c == '\r' ? 2 : 1;
            if (*last)
                r->line++;
            return finish(r, &t, start_line);
        } else if (c == '\n') {
            r->line++;                                /* a line break inside quotes */
        } else if (c == 0) {
            return broken(r, &t, r->line, "a NUL byte (not a text file)");
        }
        r->p++;
        if (!put(&t, c))
            return broken(r, &t, r->line, "out of memory");
    }
}

/* One record: its fields as an array, or NULL with err. */
static json_t *record(reader *r, int *start)
{
    *start = r->line;
    json_t *fields = json_array();
    bool last = false;
    while (!last) {
        json_t *f = field(r, *start, &last);
        if (!f) {
            json_decref(fields);
            return NULL;
        }
        json_array_append_new(fields, f);
    }
    return fields;
}

static void skip_blank_lines(reader *r)
{
    while (r->p < r->end && (*r->p == '\n' || (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n'))) {
        r->p += *r->p == '\r' ? 2 : 1;
        r->line++;
    }
}

static json_t *header(reader *r, char *err, int errlen)
{
    int start;
    skip_blank_lines(r);
    if (r->p >= r->end) {
        snprintf(err, errlen, "line 1: the file is empty (a header line naming the columns is needed)");
        return NULL;
    }
    json_t *cols = record(r, &start);
    size_t i, j;
    json_t *c;
    json_array_foreach(cols, i, c) {
        if (!json_string_length(c)) {
            json_decref(cols);
            return fail(r, start, "the header has an empty column name");
        }
        for (j = 0; j < i; j++)
            if (json_equal(c, json_array_get(cols, j))) {
                snprintf(err, errlen, "line %d: the header names column '%.64s' twice", start, json_string_value(c));
                json_decref(cols);
                return NULL;
            }
    }
    return cols;
}

json_t *hl_admin_csv_parse(const char *text, size_t len, size_t max_rows, json_t **columns,
                           char *err, int errlen)
{
    reader r = { .p = text, .end = text + len, .line = 1, .err = err, .errlen = errlen };
    *columns = NULL;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        r.p += 3;
    json_t *cols = header(&r, err, errlen);
    if (!cols)
        return NULL;
    json_t *rows = json_array();
    for (;;) {
        skip_blank_lines(&r);
        if (r.p >= r.end)
            break;
        int start;
        json_t *fields = record(&r, &start);
        if (fields && json_array_size(rows) >= max_rows) {
            snprintf(err, errlen, "line %d: more than %zu records in one file (split it)", start, max_rows);
            json_decref(fields), fields = NULL;
        } else if (fields && json_array_size(fields) != json_array_size(cols)) {
            snprintf(err, errlen, "line %d: %zu fields, the header names %zu (a half-written line, or a comma "
                     "inside a field that is not quoted?)", start, json_array_size(fields), json_array_size(cols));
            json_decref(fields), fields = NULL;
        }
        if (!fields) {
            json_decref(rows), json_decref(cols);
            return NULL;
        }
        json_t *values = json_object();
        for (size_t i = 0; i < json_array_size(cols); i++)
            json_object_set(values, json_string_value(json_array_get(cols, i)), json_array_get(fields, i));
        json_decref(fields);
        json_array_append_new(rows, json_pack("{s:i,s:o}", "line", start, "values", values));
    }
    *columns = cols;
    return rows;
}
