/* edge.h — the engine's edge as the application runs it: the SIP stack's limits taken from
 * the config (at start and again at every reload), the overload watch (a loop running late
 * makes new calls wait with 503 and Retry-After until it keeps up), and `hotline ctl ban`.
 *
 * Owner: the loop (app/loop.c) creates it after the SIP stack and the control socket, and
 * closes it before them.  It reads the loop's live config through the pointer it was given,
 * so a reload's values reach it without a copy. */
#ifndef HL_EDGE_H
#define HL_EDGE_H
#include <jansson.h>
#include <uv.h>
#include "core/config.h"
#include "ctl/ctl.h"
#include "sip/sip.h"

typedef struct hl_edge hl_edge;

/* The SIP stack's settings from cfg (addresses, limits, the Server header). */
hl_sip_cfg hl_edge_sip_cfg(const hl_config *cfg);
hl_edge   *hl_edge_new(uv_loop_t *uv, hl_sip *sip, const hl_config *live_cfg, hl_ctl *ctl);
/* After a reload swapped the config: the new limits go to the SIP stack. */
void       hl_edge_apply(hl_edge *e);
/* What the edge refused, for `ctl status`: {rate_refused, banned_dropped, bans, ...}. */
json_t    *hl_edge_status(hl_edge *e);
void       hl_edge_close(hl_edge *e);

#endif
