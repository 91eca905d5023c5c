/* ctl_cmds.c — the control commands ctl serves itself, needing only the store:
 *   help                          the registered commands and their help lines
 *   cdr      {last, call_id}      newest CDRs (newest last), as hl_cdr_to_json objects
 *   messages {state, last}        voice messages (newest last)
 *   message  {id, action, by}     action "handled": marks a message handled
 * Store reads and writes are asynchronous: the handlers answer through hl_ctl_reply. */
#include "ctl/ctl_int.h"
#include "core/clock.h"
#include "store/store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Defaults and bounds of list lengths: a screenful by default, and a cap so one request
 * cannot make the engine build a huge response on its loop. */
#define HL_CTL_CDR_DEFAULT 20
#define HL_CTL_MSG_DEFAULT 50
#define HL_CTL_LIST_MAX 1000
/* Longest "by" name kept for a handled message. */
#define HL_CTL_BY_MAX 64

static double wall_now(const hl_ctl *ctl)
{
    if (ctl->clock)
        return hl_clock_wall(ctl->clock);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* request[key] as a count in 1..HL_CTL_LIST_MAX (def when absent); -1 with err if bad. */
static int list_len(json_t *request, const char *key, int def, char *err, int errlen)
{
    json_t *v = json_object_get(request, key);
    if (!v)
        return def;
    json_int_t n = json_is_integer(v) ? json_integer_value(v)
                 : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) : 0;
    if (n < 1 || n > HL_CTL_LIST_MAX) {
        snprintf(err, errlen, "%s must be a number from 1 to %d", key, HL_CTL_LIST_MAX);
        return -1;
    }
    return (int)n;
}

static json_t *iso_or_null(json_t *epoch)
{
    double t = json_is_number(epoch) ? json_number_value(epoch) : 0;
    if (t <= 0)
        return json_null();
    char buf[40];
    hl_clock_format_iso(t, buf, sizeof buf);
    return json_string(buf);
}

/* ---- help ------------------------------------------------------------------------- */

static json_t *cmd_help(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    json_t *list = json_array();
    for (int i = 0; i < ctl->ncmds; i++)
        json_array_append_new(list, json_pack("{s:s,s:s}", "cmd", ctl->cmds[i].name, "help",
                                              ctl->cmds[i].help));
    return json_pack("{s:b,s:o}", "ok", 1, "commands", list);
}

/* ---- cdr -------------------------------------------------------------------------- */

static void on_cdr_rows(void *arg, json_t *rows, const char *err)
{
    hl_ctl_req *req = arg;
    if (!rows) {
        hl_ctl_reply_error(req, "reading CDRs: %s", err ? err : "failed");
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        hl_cdr c;
        hl_cdr_from_row(row, &c);
        json_t *j = hl_cdr_to_json(&c);
        json_object_set(j, "id", json_object_get(row, "id"));
        json_array_append_new(list, j);
    }
    hl_ctl_reply(req, json_pack("{s:b,s:o}", "ok", 1, "cdrs", list));
}

static json_t *cmd_cdr(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    int last = list_len(request, "last", HL_CTL_CDR_DEFAULT, err, errlen);
    if (last < 0)
        return NULL;
    json_t *call = json_object_get(request, "call_id");
    if (call && !json_is_string(call)) {
        snprintf(err, errlen, "call_id must be a string");
        return NULL;
    }
    json_t *params = json_pack("[O,i]", call ? call : json_null(), last);
    hl_store_exec(ctl->store,
                  "SELECT * FROM (SELECT * FROM cdr WHERE ?1 IS NULL OR call_id = ?1"
                  " ORDER BY id DESC LIMIT ?2) ORDER BY id",
                  params, on_cdr_rows, req);
    json_decref(params);
    return HL_CTL_DEFERRED;
}

/* ---- messages --------------------------------------------------------------------- */

static json_t *message_json(json_t *row)
{
    json_t *m = json_object();
    static const char *const keep[] = { "id", "caller", "called", "duration_ms", "path",
                                        "state", "handled_by", "call_id", NULL };
    for (int k = 0; keep[k]; k++) {
        json_t *v = json_object_get(row, keep[k]);
        json_object_set(m, keep[k], v ? v : json_null());
    }
    json_object_set_new(m, "created", iso_or_null(json_object_get(row, "created")));
    json_object_set(m, "created_epoch", json_object_get(row, "created"));
    json_object_set_new(m, "handled_at", iso_or_null(json_object_get(row, "handled_at")));
    json_t *h = json_object_get(row, "handled_at");
    json_object_set(m, "handled_at_epoch", h ? h : json_null());
    return m;
}

static void on_message_rows(void *arg, json_t *rows, const char *err)
{
    hl_ctl_req *req = arg;
    if (!rows) {
        hl_ctl_reply_error(req, "reading messages: %s", err ? err : "failed");
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
        json_array_append_new(list, message_json(row));
    hl_ctl_reply(req, json_pack("{s:b,s:o}", "ok", 1, "messages", list));
}

static json_t *cmd_messages(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    int last = list_len(request, "last", HL_CTL_MSG_DEFAULT, err, errlen);
    if (last < 0)
        return NULL;
    const char *state = json_string_value(json_object_get(request, "state"));
    if (!state)
        state = "all";
    if (strcmp(state, "all") && strcmp(state, "new") && strcmp(state, "handled")) {
        snprintf(err, errlen, "state must be new, handled or all");
        return NULL;
    }
    json_t *params = json_pack("[s,i]", state, last);
    hl_store_exec(ctl->store,
                  "SELECT * FROM (SELECT * FROM messages WHERE ?1 = 'all' OR state = ?1"
                  " ORDER BY id DESC LIMIT ?2) ORDER BY id",
                  params, on_message_rows, req);
    json_decref(params);
    return HL_CTL_DEFERRED;
}

typedef struct handled_ctx {
    hl_ctl_req *req;
    json_int_t  id;
} handled_ctx;

static void on_handled(void *arg, json_t *rows, const char *err)
{
    handled_ctx *h = arg;
    hl_ctl_req *req = h->req;
    json_int_t id = h->id;
    free(h);
    if (!rows)
        hl_ctl_reply_error(req, "marking message %lld: %s", (long long)id, err ? err : "failed");
    else if (json_array_size(rows) == 0)
        hl_ctl_reply_error(req, "no message with id %lld", (long long)id);
    else
        hl_ctl_reply(req, json_pack("{s:b,s:o}", "ok", 1, "message",
                                    message_json(json_array_get(rows, 0))));
}

static json_t *cmd_message(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    json_t *idv = json_object_get(request, "id");
    char *end = NULL;
    json_int_t id = json_is_integer(idv) ? json_integer_value(idv)
                  : json_is_string(idv) ? strtoll(json_string_value(idv), &end, 10) : 0;
    if ((json_is_string(idv) && (!end || *end || end == json_string_value(idv))) || id <= 0) {
        snprintf(err, errlen, "message needs a numeric id (see `hotline ctl messages`)");
        return NULL;
    }
    const char *action = json_string_value(json_object_get(request, "action"));
    if (!action || strcmp(action, "handled")) {
        snprintf(err, errlen, "unknown action '%.32s' for message (only: handled)",
                 action ? action : "");
        return NULL;
    }
    const char *by = json_string_value(json_object_get(request, "by"));
    char byname[HL_CTL_BY_MAX + 1];
    snprintf(byname, sizeof byname, "%s", by && by[0] ? by : "ctl");
    handled_ctx *h = malloc(sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *h = (handled_ctx){ req, id };
    /* Marking twice keeps the first time and person: the answer is the same either way. */
    json_t *params = json_pack("[f,s,I]", wall_now(ctl), byname, id);
    hl_store_exec(ctl->store,
                  "UPDATE messages SET state = 'handled', handled_at = COALESCE(handled_at, ?1),"
                  " handled_by = COALESCE(handled_by, ?2) WHERE id = ?3 RETURNING *",
                  params, on_handled, h);
    json_decref(params);
    return HL_CTL_DEFERRED;
}

void hl_ctl_register_builtins(hl_ctl *ctl)
{
    hl_ctl_register(ctl, "help", cmd_help, ctl, "the commands this engine serves");
    if (!ctl->store)
        return;
    hl_ctl_register(ctl, "cdr", cmd_cdr, ctl, "cdr [--last N] [--call ID]: newest CDRs");
    hl_ctl_register(ctl, "messages", cmd_messages, ctl,
                    "messages [--new|--handled] [--last N]: voice messages");
    hl_ctl_register(ctl, "message", cmd_message, ctl, "message ID handled: mark a message handled");
}
