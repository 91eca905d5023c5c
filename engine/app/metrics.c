/* metrics.c — the /metrics page (metrics.h): each figure written as HELP, TYPE and its
 * samples, read from its owner at the scrape, plus the few counts kept here. */
#include "app/metrics.h"
#include "app/events.h"
#include "app/loop.h"
#include "acd/acd.h"
#include "lua/script.h"
#include "media/media.h"
#include "sip/sip.h"
#include "store/store.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct (route class, cause) pairs counted apart; the rest count as "other": a label
 * set must stay small for the scraper, and causes are a short list (bye, cancel, 486 ...). */
#define OUTCOMES_MAX 64
#define RELOAD_OUTCOMES_MAX 8
/* The tick's lateness buckets, in µs: from on time (the tick is 20 ms) to a whole tick. */
static const double LATE_BOUNDS_US[] = { 100, 250, 500, 1000, 2500, 5000, 10000, 20000 };
enum { NLATE = sizeof LATE_BOUNDS_US / sizeof LATE_BOUNDS_US[0] };

typedef struct outcome {
    char     route[32], cause[48];
    uint64_t n;
} outcome;

struct hl_metrics {
    hl_loop           *loop;
    hl_events         *events;
    const char *const *policy_source;
    outcome            outcomes[OUTCOMES_MAX];
    int                noutcomes;
    uint64_t           answered;
    outcome            reloads[RELOAD_OUTCOMES_MAX];   /* route = the outcome word */
    int                nreloads;
};

typedef struct page {
    char  *s;
    size_t len, cap;
} page;

/* ---- counting ----------------------------------------------------------------------- */

static void count(outcome *v, int *n, int max, const char *a, const char *b)
{
    int i;
    for (i = 0; i < *n; i++)
        if (!strcmp(v[i].route, a) && !strcmp(v[i].cause, b))
            break;
    if (i == *n && *n == max - 1) {   /* the last slot is "other" */
        a = b = "other";
        for (i = 0; i < *n && strcmp(v[i].route, "other"); i++) {}
    }
    if (i == *n) {
        snprintf(v[i].route, sizeof v[i].route, "%s", a);
        snprintf(v[i].cause, sizeof v[i].cause, "%s", b);
        (*n)++;
    }
    v[i].n++;
}

void hl_metrics_call_ended(hl_metrics *m, const hl_cdr *leg0)
{
    if (!m)
        return;
    char route[32];   /* its class: "queue:0431.general" counts as "queue" */
    snprintf(route, sizeof route, "%.*s", (int)strcspn(leg0->route, ":"), leg0->route);
    count(m->outcomes, &m->noutcomes, OUTCOMES_MAX, route[0] ? route : "none",
          leg0->hangup_cause[0] ? leg0->hangup_cause : "none");
}

void hl_metrics_call_answered(hl_metrics *m)
{
    if (m)
        m->answered++;
}

void hl_metrics_reload(hl_metrics *m, const char *outcome)
{
    if (!m)
        return;
    count(m->reloads, &m->nreloads, RELOAD_OUTCOMES_MAX, outcome, "");
}

/* ---- writing ------------------------------------------------------------------------ */

static void out(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(page *p, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->s + p->len, p->cap - p->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < p->cap - p->len) {
            p->len += (size_t)n;
            return;
        }
        p->cap *= 2;
        if (!(p->s = realloc(p->s, p->cap)))
            abort();
    }
}

static void head(page *p, const char *name, const char *type, const char *help)
{
    out(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: \, " and newline escaped (the text format's rules). */
static const char *label(const char *v, char *buf, size_t size)
{
    size_t o = 0;
    for (; *v && o + 3 < size; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            buf[o++] = '\\';
            buf[o++] = *v == '\n' ? 'n' : *v;
        } else
            buf[o++] = *v;
    }
    buf[o] = 0;
    return buf;
}

static void calls(page *p, hl_metrics *m)
{
    hl_loop *l = m->loop;
    head(p, "hotline_calls_up", "gauge", "Calls in progress.");
    out(p, "hotline_calls_up %d\n", l->ncalls);
    head(p, "hotline_calls_started_total", "counter",
         "Calls set up since start (inbound and engine-placed); its rate is the set-up rate.");
    out(p, "hotline_calls_started_total %llu\n", (unsigned long long)l->calls_total);
    head(p, "hotline_calls_answered_total", "counter", "Calls whose caller's leg was answered.");
    out(p, "hotline_calls_answered_total %llu\n", (unsigned long long)m->answered);
    head(p, "hotline_calls_ended_total", "counter",
         "Calls ended, by route class (the script's route up to ':') and hangup cause.");
    char a[80], b[120];
    for (int i = 0; i < m->noutcomes; i++)
        out(p, "hotline_calls_ended_total{route=\"%s\",cause=\"%s\"} %llu\n",
            label(m->outcomes[i].route, a, sizeof a), label(m->outcomes[i].cause, b, sizeof b),
            (unsigned long long)m->outcomes[i].n);
}

static void sip(page *p, hl_loop *l)
{
    if (!l->sip)
        return;
    static uint64_t codes[HL_SIP_CODES];
    hl_sip_responses(l->sip, codes);
    head(p, "hotline_sip_responses_total", "counter", "SIP responses the engine sent, by status code.");
    for (int i = 0; i < HL_SIP_CODES; i++)
        if (codes[i])
            out(p, "hotline_sip_responses_total{code=\"%d\"} %llu\n", i + 100, (unsigned long long)codes[i]);
    hl_sip_stats st;
    hl_sip_get_stats(l->sip, &st);
    head(p, "hotline_sip_refused_total", "counter", "Requests the SIP edge refused or dropped, by reason.");
    out(p, "hotline_sip_refused_total{reason=\"rate\"} %llu\n", (unsigned long long)st.rate_refused);
    out(p, "hotline_sip_refused_total{reason=\"banned\"} %llu\n", (unsigned long long)st.banned_dropped);
    out(p, "hotline_sip_refused_total{reason=\"overload\"} %llu\n", (unsigned long long)st.overload_refused);
    out(p, "hotline_sip_refused_total{reason=\"tcp\"} %llu\n", (unsigned long long)st.tcp_refused);
}

static void lateness(page *p, hl_loop *l)
{
    uint64_t cum[NLATE], n;
    double sum_us;
    hl_media_pool_late_hist(l->media, LATE_BOUNDS_US, NLATE, cum, &n, &sum_us);
    head(p, "hotline_tick_lateness_seconds", "histogram",
         "How late the 20 ms media tick ran (every RTP packet the engine sends waits for it).");
    for (int i = 0; i < NLATE; i++)
        out(p, "hotline_tick_lateness_seconds_bucket{le=\"%g\"} %llu\n", LATE_BOUNDS_US[i] / 1e6,
            (unsigned long long)cum[i]);
    out(p, "hotline_tick_lateness_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)n);
    out(p, "hotline_tick_lateness_seconds_sum %.6f\n", sum_us / 1e6);
    out(p, "hotline_tick_lateness_seconds_count %llu\n", (unsigned long long)n);
}

static void rtp(page *p, hl_loop *l)
{
    if (!l->media)
        return;
    uint64_t sent, received, dropped[HL_RTP_DROP_REASONS], moves;
    hl_media_pool_packets(l->media, &sent, &received);
    hl_media_pool_dropped(l->media, dropped, &moves);
    head(p, "hotline_rtp_packets_total", "counter", "RTP packets, by direction (in: received, out: sent).");
    out(p, "hotline_rtp_packets_total{direction=\"in\"} %llu\n", (unsigned long long)received);
    out(p, "hotline_rtp_packets_total{direction=\"out\"} %llu\n", (unsigned long long)sent);
    head(p, "hotline_rtp_dropped_total", "counter", "Received RTP packets the calls' latches dropped, by reason.");
    for (int i = 0; i < HL_RTP_DROP_REASONS; i++)
        out(p, "hotline_rtp_dropped_total{reason=\"%s\"} %llu\n", hl_rtp_drop_name((hl_rtp_drop)i),
            (unsigned long long)dropped[i]);
    head(p, "hotline_rtp_ticks_skipped_total", "counter", "Media ticks skipped because the loop was a whole tick late.");
    out(p, "hotline_rtp_ticks_skipped_total %llu\n", (unsigned long long)hl_media_pool_skipped(l->media));
    lateness(p, l);
}

static void policy(page *p, hl_metrics *m)
{
    hl_loop *l = m->loop;
    char v[160], src[40];
    head(p, "hotline_policy_info", "gauge", "The policy serving: its version and where it came from.");
    out(p, "hotline_policy_info{version=\"%s\",source=\"%s\"} 1\n",
        label(l->policy ? hl_policy_version(l->policy) : "", v, sizeof v),
        label(*m->policy_source ? *m->policy_source : "", src, sizeof src));
    head(p, "hotline_reloads_total", "counter", "Reloads since start, by outcome.");
    for (int i = 0; i < m->nreloads; i++)
        out(p, "hotline_reloads_total{outcome=\"%s\"} %llu\n", label(m->reloads[i].route, v, sizeof v),
            (unsigned long long)m->reloads[i].n);
    head(p, "hotline_store_queue_depth", "gauge", "Store operations queued and not yet done (CDRs, events, queries).");
    out(p, "hotline_store_queue_depth %d\n", hl_store_queue_depth(l->store));
}

static void acd_queues(page *p, hl_acd *acd)
{
    json_t *queues = hl_acd_queues_json(acd), *q;
    size_t i;
    char name[200];
    head(p, "hotline_queue_callers_waiting", "gauge", "Callers waiting in each ACD queue.");
    json_array_foreach(queues, i, q)
        out(p, "hotline_queue_callers_waiting{queue=\"%s\"} %lld\n",
            label(json_string_value(json_object_get(q, "name")) ?: "", name, sizeof name),
            (long long)json_integer_value(json_object_get(q, "waiting")));
    head(p, "hotline_queue_longest_wait_seconds", "gauge", "How long the first caller of each queue has waited.");
    json_array_foreach(queues, i, q)
        out(p, "hotline_queue_longest_wait_seconds{queue=\"%s\"} %.3f\n",
            label(json_string_value(json_object_get(q, "name")) ?: "", name, sizeof name),
            json_integer_value(json_object_get(q, "longest_wait_ms")) / 1000.0);
    head(p, "hotline_queue_agents_ready", "gauge", "Agents ready to take each queue's next caller.");
    json_array_foreach(queues, i, q)
        out(p, "hotline_queue_agents_ready{queue=\"%s\"} %lld\n",
            label(json_string_value(json_object_get(q, "name")) ?: "", name, sizeof name),
            (long long)json_integer_value(json_object_get(q, "ready")));
    json_decref(queues);
}

static void acd_agents(page *p, hl_acd *acd)
{
    int by_state[HL_AGENT_STATES] = { 0 };
    json_t *agents = hl_acd_agents_json(acd), *a;
    size_t i;
    json_array_foreach(agents, i, a) {
        int s = hl_agent_state_parse(json_string_value(json_object_get(a, "state")) ?: "");
        if (s >= 0 && s < HL_AGENT_STATES)
            by_state[s]++;
    }
    json_decref(agents);
    head(p, "hotline_agents", "gauge", "Agents known to the ACD, by state.");
    for (int s = 0; s < HL_AGENT_STATES; s++)
        out(p, "hotline_agents{state=\"%s\"} %d\n", hl_agent_state_name((hl_agent_state)s), by_state[s]);
}

static void events(page *p, hl_metrics *m)
{
    int consumers;
    uint64_t cut, published;
    hl_events_figures(m->events, &consumers, &cut, &published);
    head(p, "hotline_event_consumers", "gauge", "Event stream consumers attached (ctl events, GET /events).");
    out(p, "hotline_event_consumers %d\n", consumers);
    head(p, "hotline_event_consumers_cut_total", "counter", "Event consumers cut off for falling behind.");
    out(p, "hotline_event_consumers_cut_total %llu\n", (unsigned long long)cut);
    head(p, "hotline_events_total", "counter", "Events published while a consumer was attached.");
    out(p, "hotline_events_total %llu\n", (unsigned long long)published);
}

char *hl_metrics_page(void *arg, const char *query, size_t *len)
{
    hl_metrics *m = arg;
    page p = { .cap = 16384 };
    if (!(p.s = malloc(p.cap)))
        return NULL;
    calls(&p, m);
    sip(&p, m->loop);
    rtp(&p, m->loop);
    policy(&p, m);
    if (m->loop->env.acd) {
        acd_queues(&p, m->loop->env.acd);
        acd_agents(&p, m->loop->env.acd);
    }
    events(&p, m);
    *len = p.len;
    return p.s;
}

hl_metrics *hl_metrics_new(hl_loop *l, hl_events *ev, const char *const *policy_source)
{
    hl_metrics *m = calloc(1, sizeof *m);
    if (m) {
        m->loop = l;
        m->events = ev;
        m->policy_source = policy_source;
    }
    return m;
}

void hl_metrics_free(hl_metrics *m) { free(m); }
