/* metrics.h — GET /metrics on --http (issue 10): the engine's figures in the Prometheus
 * text format (version 0.0.4), for a scraper and its alerts; names and meanings are in
 * docs/operator-guide.md ("Metrics and events").
 *
 * Most figures are read from their owners when the page is asked for (calls, SIP, RTP,
 * store, ACD); what no owner counts is counted here: calls ended by outcome, answers,
 * reloads by outcome. */
#ifndef HL_METRICS_H
#define HL_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include "store/cdr.h"

struct hl_loop;
struct hl_events;
typedef struct hl_metrics hl_metrics;

/* policy_source: the loop's word for where the policy came from ("files", "last-good"),
 * read at each scrape. */
hl_metrics *hl_metrics_new(struct hl_loop *l, struct hl_events *ev, const char *const *policy_source);
/* A call ended: its caller's leg, counted by route class and hangup cause. */
void  hl_metrics_call_ended(hl_metrics *m, const hl_cdr *leg0);
void  hl_metrics_call_answered(hl_metrics *m);
/* A reload's outcome: "ok" or "refused" (or another word a later outcome brings). */
void  hl_metrics_reload(hl_metrics *m, const char *outcome);
/* The page (an hl_http_page_fn): malloc'd text, *len its length. */
char *hl_metrics_page(void *m, const char *query, size_t *len);
void  hl_metrics_free(hl_metrics *m);

#endif
