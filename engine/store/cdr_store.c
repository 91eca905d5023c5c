/* cdr_store.c — a CDR as the store and the control interface see it: the INSERT and its
 * parameters, a cdr-table row back into an hl_cdr, and the JSON that `ctl cdr --json`
 * prints.  Backend-neutral: the SQL is plain enough for SQLite and PostgreSQL. */
#include "store/store.h"
#include "core/clock.h"
#include <stdio.h>
#include <string.h>

const char HL_CDR_INSERT_SQL[] =
    "INSERT INTO cdr (call_id, leg_id, leg_index, direction, caller, called, start_time,"
    " answer_time, end_time, hangup_side, hangup_cause, dtmf, prompts, menus, route,"
    " script_version, recording, rtp_sent, rtp_received, rtp_lost, rtp_jitter_ms, codec, vars,"
    " agent, queue, queue_wait_ms, queue_outcome, ring_ms, hangup_first, hangup_gap_ms, holds,"
    " hold_ms, hold_log, transfers, wrapup_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* The struct's strings are fixed buffers filled by C code: make sure they end. */
static json_t *str(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    json_t *v = json_stringn(s, n);
    if (!v) { /* not UTF-8 (a raw SIP header byte): keep the ASCII, mark the rest */
        char tmp[HL_CDR_LIST + 1];
        if (n > HL_CDR_LIST)
            n = HL_CDR_LIST;
        for (size_t i = 0; i < n; i++)
            tmp[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
        v = json_stringn(tmp, n);
    }
    return v ? v : json_string("");
}

#define STR(field) str(cdr->field, sizeof cdr->field)

json_t *hl_cdr_params(const hl_cdr *cdr)
{
    json_t *p = json_pack("[ooiooofffooooooooIIIfoo]", STR(call_id), STR(leg_id),
                          cdr->leg_index, STR(direction), STR(caller), STR(called), cdr->start,
                          cdr->answer, cdr->end, STR(hangup_side), STR(hangup_cause), STR(dtmf),
                          STR(prompts), STR(menus), STR(route), STR(script_version),
                          STR(recording), (json_int_t)cdr->rtp_sent,
                          (json_int_t)cdr->rtp_received, (json_int_t)cdr->rtp_lost,
                          cdr->rtp_jitter_ms, STR(codec), STR(vars));
    json_t *acd = json_pack("[ooIoIoIiIooI]", STR(agent), STR(queue),
                            (json_int_t)cdr->queue_wait_ms, STR(queue_outcome),
                            (json_int_t)cdr->ring_ms, STR(hangup_first),
                            (json_int_t)cdr->hangup_gap_ms, cdr->holds,
                            (json_int_t)cdr->hold_ms, STR(hold_log), STR(transfers),
                            (json_int_t)cdr->wrapup_ms);
    json_array_extend(p, acd);
    json_decref(acd);
    return p;
}

/* ---- row -> hl_cdr ---------------------------------------------------------------- */

static void get_str(json_t *row, const char *key, char *out, size_t size)
{
    const char *v = json_string_value(json_object_get(row, key));
    snprintf(out, size, "%s", v ? v : "");
}

static double get_num(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

#define GET_STR(key, field) get_str(row, key, cdr->field, sizeof cdr->field)

void hl_cdr_from_row(json_t *row, hl_cdr *cdr)
{
    memset(cdr, 0, sizeof *cdr);
    GET_STR("call_id", call_id);
    GET_STR("leg_id", leg_id);
    cdr->leg_index = (int)get_num(row, "leg_index");
    GET_STR("direction", direction);
    GET_STR("caller", caller);
    GET_STR("called", called);
    cdr->start = get_num(row, "start_time");
    cdr->answer = get_num(row, "answer_time");
    cdr->end = get_num(row, "end_time");
    GET_STR("hangup_side", hangup_side);
    GET_STR("hangup_cause", hangup_cause);
    GET_STR("dtmf", dtmf);
    GET_STR("prompts", prompts);
    GET_STR("menus", menus);
    GET_STR("route", route);
    GET_STR("script_version", script_version);
    GET_STR("recording", recording);
    cdr->rtp_sent = (uint64_t)get_num(row, "rtp_sent");
    cdr->rtp_received = (uint64_t)get_num(row, "rtp_received");
    cdr->rtp_lost = (uint64_t)get_num(row, "rtp_lost");
    cdr->rtp_jitter_ms = get_num(row, "rtp_jitter_ms");
    GET_STR("codec", codec);
    GET_STR("vars", vars);
    GET_STR("agent", agent);
    GET_STR("queue", queue);
    cdr->queue_wait_ms = (int64_t)get_num(row, "queue_wait_ms");
    GET_STR("queue_outcome", queue_outcome);
    cdr->ring_ms = (int64_t)get_num(row, "ring_ms");
    GET_STR("hangup_first", hangup_first);
    cdr->hangup_gap_ms = (int64_t)get_num(row, "hangup_gap_ms");
    cdr->holds = (int)get_num(row, "holds");
    cdr->hold_ms = (int64_t)get_num(row, "hold_ms");
    GET_STR("hold_log", hold_log);
    GET_STR("transfers", transfers);
    cdr->wrapup_ms = (int64_t)get_num(row, "wrapup_ms");
}

/* ---- hl_cdr -> JSON --------------------------------------------------------------- */

static json_t *iso(double t)
{
    if (t <= 0)
        return json_null();
    char buf[40];
    hl_clock_format_iso(t, buf, sizeof buf);
    return json_string(buf);
}

static json_t *epoch(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

/* "a b c" -> ["a", "b", "c"] */
static json_t *words(const char *list, size_t size)
{
    json_t *a = json_array();
    size_t n = strnlen(list, size), i = 0;
    while (i < n) {
        while (i < n && list[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && list[j] != ' ')
            j++;
        if (j > i) {
            json_t *w = json_stringn(list + i, j - i);
            if (w)
                json_array_append_new(a, w);
        }
        i = j;
    }
    return a;
}

/* vars is JSON object text; anything else is kept as text rather than dropped. */
static json_t *vars(const char *text, size_t size)
{
    size_t n = strnlen(text, size);
    if (n == 0)
        return json_object();
    json_t *v = json_loadb(text, n, JSON_DECODE_ANY, NULL);
    if (json_is_object(v))
        return v;
    json_decref(v);
    return json_pack("{so}", "_text", str(text, size));
}

/* hold_log / transfers are JSON array text; anything else is kept as text. */
static json_t *records(const char *text, size_t size)
{
    size_t n = strnlen(text, size);
    if (n == 0)
        return json_array();
    json_t *v = json_loadb(text, n, 0, NULL);
    if (json_is_array(v))
        return v;
    json_decref(v);
    return str(text, size);
}

#define INT(field) json_integer((json_int_t)cdr->field)

json_t *hl_cdr_to_json(const hl_cdr *cdr)
{
    json_t *o = json_object();
    json_object_set_new(o, "call_id", STR(call_id));
    json_object_set_new(o, "leg_id", STR(leg_id));
    json_object_set_new(o, "leg_index", json_integer(cdr->leg_index));
    json_object_set_new(o, "direction", STR(direction));
    json_object_set_new(o, "caller", STR(caller));
    json_object_set_new(o, "called", STR(called));
    json_object_set_new(o, "start", iso(cdr->start));
    json_object_set_new(o, "answer", iso(cdr->answer));
    json_object_set_new(o, "end", iso(cdr->end));
    json_object_set_new(o, "start_epoch", epoch(cdr->start));
    json_object_set_new(o, "answer_epoch", epoch(cdr->answer));
    json_object_set_new(o, "end_epoch", epoch(cdr->end));
    json_object_set_new(o, "hangup_side", STR(hangup_side));
    json_object_set_new(o, "hangup_cause", STR(hangup_cause));
    json_object_set_new(o, "dtmf", STR(dtmf));
    json_object_set_new(o, "prompts", words(cdr->prompts, sizeof cdr->prompts));
    json_object_set_new(o, "menus", words(cdr->menus, sizeof cdr->menus));
    json_object_set_new(o, "route", STR(route));
    json_object_set_new(o, "script_version", STR(script_version));
    json_object_set_new(o, "rtp", json_pack("{sIsIsIsf}", "sent", (json_int_t)cdr->rtp_sent,
                                            "received", (json_int_t)cdr->rtp_received, "lost",
                                            (json_int_t)cdr->rtp_lost, "jitter_ms",
                                            cdr->rtp_jitter_ms));
    json_object_set_new(o, "codec", STR(codec));
    json_object_set_new(o, "recording", STR(recording));
    json_object_set_new(o, "vars", vars(cdr->vars, sizeof cdr->vars));
    json_object_set_new(o, "agent", STR(agent));
    json_object_set_new(o, "queue", STR(queue));
    json_object_set_new(o, "queue_wait_ms", INT(queue_wait_ms));
    json_object_set_new(o, "queue_outcome", STR(queue_outcome));
    json_object_set_new(o, "ring_ms", INT(ring_ms));
    json_object_set_new(o, "hangup_first", STR(hangup_first));
    json_object_set_new(o, "hangup_gap_ms", INT(hangup_gap_ms));
    json_object_set_new(o, "holds", INT(holds));
    json_object_set_new(o, "hold_ms", INT(hold_ms));
    json_object_set_new(o, "hold_log", records(cdr->hold_log, sizeof cdr->hold_log));
    json_object_set_new(o, "transfers", records(cdr->transfers, sizeof cdr->transfers));
    json_object_set_new(o, "wrapup_ms", INT(wrapup_ms));
    return o;
}
