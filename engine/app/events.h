/* events.h — the event stream for integrations (issue 10, like FreeSWITCH's ESL or
 * Asterisk's AMI, in JSON): `hotline ctl events [--filter KIND,...]` and GET /events on
 * --http (server-sent events) carry one JSON object per event:
 *   {"event":"call_key","seq":42,"time":"2026-11-30T16:00:00.123+08:00","call_id":...}
 * Kinds: call_start, call_answer, call_key, call_route, call_end, queue_join, queue_offer,
 * queue_answered, queue_missed, queue_released, queue_abandoned, queue_left, agent_state,
 * reload.  A filter word matches a kind or the kinds it begins ("call" = every call_*).
 *
 * Publishing never waits: each consumer may fall behind by events_buffer_bytes (config),
 * then it is cut off, its last event {"event":"cut_off","reason":...}. */
#ifndef HL_EVENTS_H
#define HL_EVENTS_H
#include <jansson.h>
#include <stdint.h>
#include "core/clock.h"
#include "core/config.h"
#include "ctl/ctl.h"
#include "http/http_server.h"

typedef struct hl_events hl_events;

/* Registers `events` on ctl.  live_cfg is read at each event (a reload's buffer size
 * applies at once). */
hl_events *hl_events_new(const hl_config *live_cfg, const hl_clock *clock, hl_ctl *ctl);
/* GET /events on srv. */
void       hl_events_serve_http(hl_events *ev, hl_http_server *srv);
/* One event of kind to every consumer that asked for it; takes fields (an object). */
void       hl_events_publish(hl_events *ev, const char *kind, json_t *fields);
/* For /metrics: consumers attached now, cut off since start, events published. */
void       hl_events_figures(const hl_events *ev, int *consumers, uint64_t *cut, uint64_t *published);
/* Ends every stream ("engine stopping") and frees ev. */
void       hl_events_close(hl_events *ev);

#endif
