/* test_cdr_csv.c — a CDR as a CSV line (store/cdr_csv.c): as many fields as the header
 * names, RFC 4180 quoting of commas, quotes and line breaks, empty times for what did not
 * happen, durations from the times. */
#include "store/store.h"
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Splits one CSV line (CRLF-ended) into fields, undoing the quoting; returns the count. */
static int split(const char *line, char fields[][600], int max)
{
    int n = 0;
    const char *p = line;
    while (n < max) {
        char *o = fields[n];
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
                if (*p == '"')
                    p++;            /* a doubled quote */
                *o++ = *p;
            }
            p++;
        } else {
            while (*p && *p != ',' && *p != '\r')
                *o++ = *p++;
        }
        *o = 0;
        n++;
        if (*p != ',')
            break;
        p++;
    }
    return n;
}

TEST_IMPL(cdr_csv)
{
    static char head_f[64][600], row_f[64][600];
    char *head = hl_cdr_csv_header();
    int nh = split(head, head_f, 64);
    CHECK(nh > 30 && !strcmp(head_f[0], "call_id"), "header starts with call_id: %s", head);
    CHECK(strlen(head) > 2 && !strcmp(head + strlen(head) - 2, "\r\n"), "header ends in CRLF");

    hl_cdr c;
    memset(&c, 0, sizeof c);
    strcpy(c.call_id, "c1");
    strcpy(c.caller, "+86 10,\"main\"");
    strcpy(c.route, "queue:0431.general");
    strcpy(c.vars, "{\"a\":\"x\ny\"}");
    c.start = 1796000000.0;
    c.end = 1796000012.5;             /* not answered: answer 0 */
    char *row = hl_cdr_csv_row(&c);
    int nr = split(row, row_f, 64);
    CHECK(nr == nh, "a row has as many fields as the header: %d, %d", nr, nh);
    int caller = -1, answer = -1, duration = -1, talk = -1, vars = -1, start = -1;
    for (int i = 0; i < nh; i++) {
        if (!strcmp(head_f[i], "caller")) caller = i;
        if (!strcmp(head_f[i], "answer")) answer = i;
        if (!strcmp(head_f[i], "start")) start = i;
        if (!strcmp(head_f[i], "duration_s")) duration = i;
        if (!strcmp(head_f[i], "talk_s")) talk = i;
        if (!strcmp(head_f[i], "vars")) vars = i;
    }
    CHECK(caller >= 0 && !strcmp(row_f[caller], c.caller), "a comma and quotes survive: %s", row);
    CHECK(strstr(row, "\"+86 10,\"\"main\"\"\"") != NULL, "quoted, quotes doubled: %s", row);
    CHECK(vars >= 0 && !strcmp(row_f[vars], c.vars), "a line break inside a field survives");
    CHECK(answer >= 0 && row_f[answer][0] == 0, "no answer: empty");
    CHECK(talk >= 0 && row_f[talk][0] == 0, "no answer: no talk time");
    CHECK(duration >= 0 && !strcmp(row_f[duration], "12.500"), "duration %s", row_f[duration]);
    CHECK(start >= 0 && !strncmp(row_f[start], "2026-", 5) && strstr(row_f[start], "+08:00"),
          "start in ISO 8601 with the centre's offset: %s", row_f[start]);
    free(head);
    free(row);
    return 0;
}
