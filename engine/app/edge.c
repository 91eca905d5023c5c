/* edge.c — SIP limits from the config, the overload watch and `ctl ban` (see edge.h). */
#include "app/edge.h"
#include <stdlib.h>
#include <string.h>
#include "core/log.h"

/* Ten looks a second: a stall shows within 100 ms, and the timer itself costs nothing. */
#define LAG_SAMPLE_MS 100
#define BANS_LISTED_MAX 256  /* `ctl ban list` shows this many; the rest are counted */

struct hl_edge {
    uv_loop_t       *uv;
    hl_sip          *sip;
    const hl_config *cfg;
    uv_timer_t       lag_timer;
    uint64_t         expected_ns;   /* when the lag timer should fire next */
    uint64_t         calm_since_ns; /* last sample over the limit (overload lasts past it) */
    bool             overloaded;
    double           worst_lag_ms;  /* since start, for status */
};

hl_sip_cfg hl_edge_sip_cfg(const hl_config *cfg)
{
    return (hl_sip_cfg){
        .addr = cfg->sip_addr, .port = cfg->sip_port,
        .rate_per_sec = cfg->sip_rate_per_sec, .ban_factor = cfg->sip_ban_factor,
        .ban_ms = cfg->sip_ban_ms, .retry_after_s = cfg->sip_retry_after_s,
        .max_message = cfg->sip_max_message, .tcp_max_per_addr = cfg->sip_tcp_max_per_addr,
        .tcp_message_timeout_ms = cfg->sip_tcp_message_timeout_ms,
        .user_agent = cfg->sip_server_header,
    };
}

/* The loop is overloaded while its timers fire later than overload_lag_ms; it has recovered
 * once none has for sip_retry_after_s — the time our 503s told callers to wait. */
static void lag_sample(uv_timer_t *t)
{
    hl_edge *e = t->data;
    uint64_t now = uv_hrtime();
    double lag_ms = now > e->expected_ns ? (double)(now - e->expected_ns) / 1e6 : 0;
    e->expected_ns = now + (uint64_t)LAG_SAMPLE_MS * 1000000u;
    if (lag_ms > e->worst_lag_ms)
        e->worst_lag_ms = lag_ms;
    if (lag_ms > e->cfg->overload_lag_ms) {
        e->calm_since_ns = now;
        if (!e->overloaded)
            hl_warn("edge", "the loop ran %.0f ms late (overload_lag_ms %d)", lag_ms,
                    e->cfg->overload_lag_ms);
        e->overloaded = true;
    } else if (e->overloaded &&
               now - e->calm_since_ns >= (uint64_t)e->cfg->sip_retry_after_s * 1000000000u) {
        e->overloaded = false;
    }
    hl_sip_set_overloaded(e->sip, e->overloaded);
}

static json_t *ban_list(hl_edge *e)
{
    static hl_sip_ban bans[BANS_LISTED_MAX];  /* loop thread only; kept off the stack */
    int n = hl_sip_bans(e->sip, bans, BANS_LISTED_MAX);
    json_t *list = json_array();
    for (int i = 0; i < n && i < BANS_LISTED_MAX; i++)
        json_array_append_new(list, json_pack("{s:s,s:I,s:I}", "ip", bans[i].ip,
                                              "expires_in_ms", (json_int_t)bans[i].expires_in_ms,
                                              "dropped", (json_int_t)bans[i].dropped));
    return json_pack("{s:b,s:i,s:o}", "ok", 1, "count", n, "bans", list);
}

/* `hotline ctl ban list` | `hotline ctl ban remove IP` */
static json_t *ctl_ban(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_edge *e = arg;
    json_t *args = json_object_get(request, "args");
    const char *what = json_string_value(json_array_get(args, 0));
    if (!what || !strcmp(what, "list"))
        return ban_list(e);
    const char *ip = json_string_value(json_array_get(args, 1));
    if (!strcmp(what, "remove") && ip) {
        int rc = hl_sip_unban(e->sip, ip);
        if (rc < 0) {
            snprintf(err, errlen, "'%s' is not an IP address", ip);
            return NULL;
        }
        if (rc == 0) {
            snprintf(err, errlen, "%s is not banned", ip);
            return NULL;
        }
        return json_pack("{s:b,s:s}", "ok", 1, "removed", ip);
    }
    snprintf(err, errlen, "usage: hotline ctl ban list | hotline ctl ban remove IP");
    return NULL;
}

hl_edge *hl_edge_new(uv_loop_t *uv, hl_sip *sip, const hl_config *live_cfg, hl_ctl *ctl)
{
    hl_edge *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->uv = uv;
    e->sip = sip;
    e->cfg = live_cfg;
    uv_timer_init(uv, &e->lag_timer);
    e->lag_timer.data = e;
    e->expected_ns = uv_hrtime() + (uint64_t)LAG_SAMPLE_MS * 1000000u;
    uv_timer_start(&e->lag_timer, lag_sample, LAG_SAMPLE_MS, LAG_SAMPLE_MS);
    uv_unref((uv_handle_t *)&e->lag_timer);
    hl_ctl_register(ctl, "ban", ctl_ban, e,
                    "ban list | ban remove IP: sources banned for flooding SIP");
    return e;
}

void hl_edge_apply(hl_edge *e)
{
    hl_sip_cfg c = hl_edge_sip_cfg(e->cfg);
    hl_sip_set_limits(e->sip, &c);
}

json_t *hl_edge_status(hl_edge *e)
{
    hl_sip_stats st;
    hl_sip_get_stats(e->sip, &st);
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:i,s:f}",
                     "rate_refused", (json_int_t)st.rate_refused,
                     "banned_dropped", (json_int_t)st.banned_dropped, "bans", (json_int_t)st.bans,
                     "overload_refused", (json_int_t)st.overload_refused,
                     "tcp_refused", (json_int_t)st.tcp_refused,
                     "tcp_timed_out", (json_int_t)st.tcp_timed_out, "overloaded", e->overloaded,
                     "banned_now", hl_sip_bans(e->sip, NULL, 0), "worst_lag_ms", e->worst_lag_ms);
}

static void edge_closed(uv_handle_t *h) { free(h->data); }

void hl_edge_close(hl_edge *e)
{
    if (e)
        uv_close((uv_handle_t *)&e->lag_timer, edge_closed);
}
