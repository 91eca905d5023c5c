/* events.c — the event stream (events.h): consumers on the control socket and on
 * GET /events, each with its filter; one JSON text per event, written to each consumer
 * that wants it through a bounded buffer (ctl.h's hl_ctl_stream, http_server.h's
 * hl_http_stream_send). */
#include "app/events.h"
#include "core/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_FILTERS 16      /* words in one --filter: more than there are kinds */
#define EVENT_WORD 32

/* Every kind the engine publishes; a filter word must name one or begin some. */
static const char *const KINDS[] = {
    "call_start", "call_answer", "call_key", "call_route", "call_end", "queue_join",
    "queue_offer", "queue_answered", "queue_missed", "queue_released", "queue_abandoned",
    "queue_left", "agent_state", "reload",
};
enum { NKINDS = sizeof KINDS / sizeof KINDS[0] };

typedef struct consumer {
    struct consumer *next;
    hl_ctl_req      *ctl;         /* one of the two */
    hl_http_stream  *http;
    char             filter[EVENT_FILTERS][EVENT_WORD];
    int              nfilter;     /* 0 = every kind */
} consumer;

struct hl_events {
    const hl_config *cfg;
    const hl_clock  *clock;
    consumer        *consumers;
    int              nconsumers;
    uint64_t         seq, cut;
    /* the cut-off line as ctl and SSE send it, made again when events_buffer_bytes changes */
    int              cut_for;
    char             cut_ctl[256], cut_sse[300];
};

/* ---- filters ------------------------------------------------------------------------ */

static bool word_matches(const char *word, const char *kind)
{
    size_t n = strlen(word);
    return !strncmp(kind, word, n) && (kind[n] == 0 || kind[n] == '_');
}

static bool wants(const consumer *c, const char *kind)
{
    if (!c->nfilter)
        return true;
    for (int i = 0; i < c->nfilter; i++)
        if (word_matches(c->filter[i], kind))
            return true;
    return false;
}

/* "call,reload" into c's filter; -1 with err naming the word no kind answers to. */
static int parse_filter(consumer *c, const char *text, char *err, int errlen)
{
    for (const char *p = text ? text : ""; *p;) {
        size_t n = strcspn(p, ", ");
        if (n && (n >= EVENT_WORD || c->nfilter == EVENT_FILTERS)) {
            snprintf(err, errlen, "filter: too many or too long words");
            return -1;
        }
        if (n) {
            snprintf(c->filter[c->nfilter], EVENT_WORD, "%.*s", (int)n, p);
            bool known = false;
            for (int k = 0; k < NKINDS && !known; k++)
                known = word_matches(c->filter[c->nfilter], KINDS[k]);
            if (!known) {
                snprintf(err, errlen, "filter: no event kind '%s' (kinds: call_start call_answer "
                         "call_key call_route call_end queue_* agent_state reload; or call, queue, agent)",
                         c->filter[c->nfilter]);
                return -1;
            }
            c->nfilter++;
        }
        p += n + (p[n] != 0);
    }
    return 0;
}

/* ---- consumers ---------------------------------------------------------------------- */

static void add_consumer(hl_events *ev, consumer *c)
{
    c->next = ev->consumers;
    ev->consumers = c;
    ev->nconsumers++;
}

static void remove_consumer(hl_events *ev, consumer *c)
{
    for (consumer **p = &ev->consumers; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            ev->nconsumers--;
            free(c);
            return;
        }
    }
}

static json_t *cut_event(hl_events *ev)
{
    char reason[160];
    snprintf(reason, sizeof reason, "the consumer fell more than %d bytes behind (events_buffer_bytes)",
             ev->cfg->events_buffer_bytes);
    return json_pack("{s:s,s:s}", "event", "cut_off", "reason", reason);
}

/* `ctl events [--filter KIND,...]`: the request becomes the stream. */
static json_t *ctl_events(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_events *ev = arg;
    consumer *c = calloc(1, sizeof *c);
    if (!c || parse_filter(c, json_string_value(json_object_get(request, "filter")), err, errlen)) {
        free(c);
        return NULL;
    }
    c->ctl = req;
    json_t *first = json_pack("{s:b,s:s}", "ok", 1, "streaming", "events");
    if (!hl_ctl_stream_begin(req, first, (size_t)ev->cfg->events_buffer_bytes)) {
        free(c);
        hl_ctl_reply(req, NULL);   /* frees req: its client has gone */
        return HL_CTL_DEFERRED;
    }
    add_consumer(ev, c);
    hl_info("events", "a consumer attached on the control socket (%d now)", ev->nconsumers);
    return HL_CTL_DEFERRED;
}

/* GET /events?filter=call,reload */
static bool http_open(void *arg, hl_http_stream *s, const char *query, char *err, int errlen)
{
    hl_events *ev = arg;
    consumer *c = calloc(1, sizeof *c);
    char filter[256] = "";
    const char *f = strstr(query, "filter=");
    if (f)
        snprintf(filter, sizeof filter, "%.*s", (int)strcspn(f + 7, "&"), f + 7);
    for (char *pct; (pct = strstr(filter, "%2C")) || (pct = strstr(filter, "%2c"));) {
        *pct = ',';   /* a client that encodes the commas */
        memmove(pct + 1, pct + 3, strlen(pct + 3) + 1);
    }
    if (!c || parse_filter(c, filter, err, errlen)) {
        if (!c)
            snprintf(err, errlen, "out of memory");
        free(c);
        return false;
    }
    c->http = s;
    add_consumer(ev, c);
    hl_http_stream_send(s, ": hotline events\n\n", 18, (size_t)ev->cfg->events_buffer_bytes, "");
    return true;
}

static void http_closed(void *arg, hl_http_stream *s)
{
    hl_events *ev = arg;
    for (consumer *c = ev->consumers; c; c = c->next)
        if (c->http == s) {
            remove_consumer(ev, c);
            return;
        }
}

/* ---- publishing --------------------------------------------------------------------- */

/* The cut-off lines, as ctl and SSE send them, for the buffer size in force. */
static void cut_lines(hl_events *ev)
{
    if (ev->cut_for == ev->cfg->events_buffer_bytes)
        return;
    ev->cut_for = ev->cfg->events_buffer_bytes;
    json_t *cut = cut_event(ev);
    char *text = json_dumps(cut, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(cut);
    snprintf(ev->cut_ctl, sizeof ev->cut_ctl, "%s", text ? text : "{\"event\":\"cut_off\"}");
    snprintf(ev->cut_sse, sizeof ev->cut_sse, "event: cut_off\ndata: %s\n\n", ev->cut_ctl);
    free(text);
}

/* "2026-11-30T16:00:00.123+08:00": the centre's zone, as CDRs, with milliseconds. */
static void event_time(double wall, char *out, size_t size)
{
    char iso[40];
    hl_clock_format_iso(wall, iso, sizeof iso);   /* ...T16:00:00+08:00 */
    int ms = (int)((wall - (double)(long long)wall) * 1000);
    snprintf(out, size, "%.19s.%03d%s", iso, ms, iso + 19);
}

typedef enum { SENT, GONE, CUT } delivery;

/* One consumer's copy.  An HTTP consumer that is cut off has been removed already
 * (http_closed ran inside the send). */
static delivery deliver(hl_events *ev, consumer *c, const char *line, size_t len, const char *kind)
{
    size_t max = (size_t)ev->cfg->events_buffer_bytes;
    if (c->ctl) {
        int rc = hl_ctl_stream(c->ctl, line, len, max, ev->cut_ctl);
        return rc > 0 ? SENT : rc == 0 ? GONE : CUT;
    }
    char *sse = malloc(len + 64);
    if (!sse)
        abort();
    int n = snprintf(sse, len + 64, "event: %s\ndata: %s\n\n", kind, line);
    bool ok = hl_http_stream_send(c->http, sse, (size_t)n, max, ev->cut_sse);
    free(sse);
    return ok ? SENT : CUT;
}

void hl_events_publish(hl_events *ev, const char *kind, json_t *fields)
{
    if (!ev || !ev->consumers) {
        json_decref(fields);
        return;
    }
    char when[48];
    event_time(hl_clock_wall(ev->clock), when, sizeof when);
    json_t *head = json_pack("{s:s,s:I,s:s}", "event", kind, "seq", (json_int_t)++ev->seq, "time", when);
    json_object_update(head, fields);   /* event, seq and time first on the line */
    json_decref(fields);
    char *line = json_dumps(head, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(head);
    if (!line)
        return;
    size_t len = strlen(line);
    cut_lines(ev);
    for (consumer *c = ev->consumers, *next; c; c = next) {
        next = c->next;
        if (!wants(c, kind))
            continue;
        bool http = c->http != NULL;
        delivery d = deliver(ev, c, line, len, kind);
        if (d == CUT) {
            ev->cut++;
            hl_warn("events", "a consumer fell more than %d bytes behind: cut off", ev->cfg->events_buffer_bytes);
        }
        if (d != SENT && !http)
            remove_consumer(ev, c);
    }
    free(line);
}

void hl_events_figures(const hl_events *ev, int *consumers, uint64_t *cut, uint64_t *published)
{
    *consumers = ev ? ev->nconsumers : 0;
    *cut = ev ? ev->cut : 0;
    *published = ev ? ev->seq : 0;
}

/* ---- life --------------------------------------------------------------------------- */

hl_events *hl_events_new(const hl_config *live_cfg, const hl_clock *clock, hl_ctl *ctl)
{
    hl_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->cfg = live_cfg;
    ev->clock = clock;
    hl_ctl_register(ctl, "events", ctl_events, ev,
                    "events [--filter KIND,...]: stay connected, one JSON line per event");
    return ev;
}

void hl_events_serve_http(hl_events *ev, hl_http_server *srv)
{
    hl_http_server_stream(srv, "/events", "text/event-stream", http_open, http_closed, ev);
}

void hl_events_close(hl_events *ev)
{
    if (!ev)
        return;
    while (ev->consumers) {
        consumer *c = ev->consumers;
        if (c->ctl)
            hl_ctl_reply(c->ctl, json_pack("{s:s,s:s}", "event", "end", "reason", "engine stopping"));
        ev->consumers = c->next;
        free(c);
    }
    free(ev);
}
