/* cdr_csv.c — a CDR as one CSV line (RFC 4180): the column list that `ctl cdr --csv` and
 * the rolling CSV file (app/cdr_csv_file.c) share, documented in docs/admin-ctl.md.
 *
 * Times are ISO 8601 with the centre's offset, as in `ctl cdr --json` ("start", "answer",
 * "end"), empty when the event did not happen; lists (prompts, menus) stay space-separated;
 * hold_log, transfers and vars are their JSON text. */
#include "store/store.h"
#include "core/buf.h"
#include "core/clock.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns, in order: the header line and every row follow this list. */
static const char *const COLUMNS[] = {
    "call_id", "leg_id", "leg_index", "direction", "caller", "called", "start", "answer", "end",
    "duration_s", "talk_s", "hangup_side", "hangup_cause", "dtmf", "route", "menus", "prompts",
    "script_version", "recording", "codec", "rtp_sent", "rtp_received", "rtp_lost",
    "rtp_jitter_ms", "agent", "queue", "queue_wait_ms", "queue_outcome", "ring_ms",
    "hangup_first", "hangup_gap_ms", "holds", "hold_ms", "wrapup_ms", "hold_log", "transfers",
    "vars",
};
enum { NCOLUMNS = sizeof COLUMNS / sizeof COLUMNS[0] };

typedef struct csv_line {
    hl_buf b;
    int    fields;
} csv_line;

static void put(csv_line *l, const char *s, size_t n) { hl_buf_add(&l->b, s, n); }

/* One field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void field(csv_line *l, const char *v, size_t size)
{
    size_t n = strnlen(v, size);
    if (l->fields++)
        put(l, ",", 1);
    if (strcspn(v, ",\"\r\n") >= n) {
        put(l, v, n);
        return;
    }
    put(l, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '"')
            put(l, "\"", 1);   /* a quote inside is doubled */
        put(l, v + i, 1);
    }
    put(l, "\"", 1);
}

static void num(csv_line *l, const char *fmt, double v)
{
    char b[48];
    snprintf(b, sizeof b, fmt, v);
    field(l, b, sizeof b);
}

static void when(csv_line *l, double t)
{
    char b[40] = "";
    if (t > 0)
        hl_clock_format_iso(t, b, sizeof b);
    field(l, b, sizeof b);
}

static void seconds(csv_line *l, double from, double to)
{
    if (from > 0 && to >= from)
        num(l, "%.3f", to - from);
    else
        field(l, "", 1);
}

char *hl_cdr_csv_header(void)
{
    csv_line l = { 0 };
    for (int i = 0; i < NCOLUMNS; i++)
        field(&l, COLUMNS[i], strlen(COLUMNS[i]) + 1);
    put(&l, "\r\n", 2);
    return hl_buf_take(&l.b);
}

#define F(name) field(&l, cdr->name, sizeof cdr->name)
#define N(name) num(&l, "%.0f", (double)cdr->name)

char *hl_cdr_csv_row(const hl_cdr *cdr)
{
    csv_line l = { 0 };
    F(call_id); F(leg_id); N(leg_index); F(direction); F(caller); F(called);
    when(&l, cdr->start); when(&l, cdr->answer); when(&l, cdr->end);
    seconds(&l, cdr->start, cdr->end);
    seconds(&l, cdr->answer, cdr->answer > 0 ? cdr->end : 0);
    F(hangup_side); F(hangup_cause); F(dtmf); F(route); F(menus); F(prompts);
    F(script_version); F(recording); F(codec);
    N(rtp_sent); N(rtp_received); N(rtp_lost); num(&l, "%.2f", cdr->rtp_jitter_ms);
    F(agent); F(queue); N(queue_wait_ms); F(queue_outcome); N(ring_ms); F(hangup_first);
    N(hangup_gap_ms); N(holds); N(hold_ms); N(wrapup_ms); F(hold_log); F(transfers); F(vars);
    put(&l, "\r\n", 2);
    return hl_buf_take(&l.b);
}
