/* leg_sip.c — call legs carried by SIP (sip.h) and RTP (media.h): the real hl_leg_ops.
 *
 * One sip_leg joins one SIP dialog to one media endpoint and turns what they report into
 * hl_leg events for the call layer.  It also receives new INVITEs for the loop (creating
 * the call) and places outbound legs for scripts (hl_leg_sip_dial).
 *
 * Ending: whichever side ends first, the leg is marked ENDED once and one HANGUP event is
 * raised.  When the engine hangs up, the event is deferred by a zero timer so the call
 * layer never sees it from inside its own ops->hangup.  The dialog pointer is dropped at
 * on_terminated (the SIP stack frees it then); the media endpoint lives until ops->destroy
 * so that its statistics can still go into the CDR. */
#include "app/leg_sip.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "call/call.h"
#include "call/dial_guard.h"
#include "core/log.h"
#include "core/trunks.h"
#include "lua/script.h"
#include "app/agents.h"
#include "app/loop.h"
#include "fax/fax.h"
#include "media/media.h"
#include "sip/sip.h"
#include "sip/sip_dns.h"
#include "store/store.h"

typedef struct sip_leg {
    hl_leg         leg;          /* first: the call layer's view */
    hl_loop       *loop;
    hl_sip_dialog *dialog;       /* NULL once the stack terminated it */
    hl_media      *media;
    hl_sdp         local;
    hl_codec       codec;
    hl_timer       ring_timer;   /* outbound: gives up after the ring timeout */
    hl_timer       hangup_timer; /* defers the HANGUP event of an engine hangup */
    int            end_code;
    hl_fax        *fax;          /* a fax session on this leg's audio (media tap), or NULL */
    hl_fax_result  fax_result;   /* the last session's result: FAX_DONE points here */
    hl_timer       fax_timer;    /* reports FAX_DONE and frees the session outside the tick */
    hl_dns_query  *dns;          /* outbound to a host name: its lookup, until it answers */
    hl_timer       dns_timer;    /* gives the lookup up after dns_timeout_ms */
    hl_timer       refer_timer;  /* reports a REFER the phone sent on the next turn */
    char           refer_uri[256], refer_user[128];   /* that REFER's target */
} sip_leg;

static const hl_leg_ops sip_leg_ops;

static sip_leg *leg_of(hl_leg *leg) { return (sip_leg *)leg; }

static void emit(sip_leg *sl, hl_leg_event ev)
{
    hl_call_on_leg_event(sl->leg.call, &sl->leg, &ev);
}

/* ---- fax on the leg's audio (engine/fax/ through the media tap) ------------------- */

static void fax_tap_rx(void *arg, const int16_t *frame, int n)
{
    sip_leg *sl = arg;
    if (sl->fax)
        hl_fax_rx(sl->fax, frame, n);
}

static bool fax_tap_tx(void *arg, int16_t *frame, int n)
{
    sip_leg *sl = arg;
    if (!sl->fax)
        return false;
    hl_fax_tx(sl->fax, frame, n);
    return true;
}

static const hl_media_tap fax_tap = { .rx = fax_tap_rx, .tx = fax_tap_tx };

/* Frees the session; false when there was none. */
static bool fax_drop(sip_leg *sl)
{
    hl_timer_stop(&sl->loop->timers, &sl->fax_timer);
    if (!sl->fax)
        return false;
    hl_media_set_tap(sl->media, NULL, NULL);
    hl_fax_free(sl->fax);
    sl->fax = NULL;
    return true;
}

static void fax_report(hl_timer *t)
{
    sip_leg *sl = t->data;
    fax_drop(sl);
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_FAX_DONE, .code = sl->fax_result.status,
                             .reason = sl->fax_result.reason, .fax = &sl->fax_result });
}

/* The leg is ending with a fax on it.  A fax machine hangs up as soon as T.30 says goodbye
 * (DCN), often before our side has finished sending it; T.30 then decides whether that
 * was the normal end or a dropped call.  report: raise FAX_DONE now, before the HANGUP the
 * caller raises next (false inside an op: the call layer ended the leg itself). */
static void fax_end_with_leg(sip_leg *sl, bool report)
{
    if (!sl->fax)
        return;
    hl_fax_stop(sl->fax);          /* no effect when it had ended; else fax_on_done */
    fax_drop(sl);
    if (report)
        emit(sl, (hl_leg_event){ .type = HL_LEG_EV_FAX_DONE, .code = sl->fax_result.status,
                                 .reason = sl->fax_result.reason, .fax = &sl->fax_result });
}

/* From inside hl_fax_rx/tx (the media tick): keep the result, report on a later turn. */
static void fax_on_done(void *arg, const hl_fax_result *r)
{
    sip_leg *sl = arg;
    sl->fax_result = *r;
    hl_timer_start(&sl->loop->timers, &sl->fax_timer, 0, fax_report, sl);
}

/* An ended leg needs no address any more: the lookup's answer goes nowhere. */
static void dns_stop(sip_leg *sl)
{
    hl_timer_stop(&sl->loop->timers, &sl->dns_timer);
    hl_dns_cancel(sl->dns);
    sl->dns = NULL;
}

/* Marks the leg ended once; returns false when it already was.  Ends a fax on the leg,
 * reporting it when the far end (not the engine) ended the leg. */
static bool mark_ended(sip_leg *sl, const char *side, const char *cause)
{
    if (sl->leg.state == HL_LEG_ENDED)
        return false;
    sl->leg.state = HL_LEG_ENDED;
    sl->leg.end = hl_clock_wall(&sl->loop->clock);
    snprintf(sl->leg.hangup_side, sizeof sl->leg.hangup_side, "%s", side);
    snprintf(sl->leg.hangup_cause, sizeof sl->leg.hangup_cause, "%s", cause);
    hl_timer_stop(&sl->loop->timers, &sl->ring_timer);
    dns_stop(sl);
    fax_end_with_leg(sl, strcmp(side, "engine") != 0 || strcmp(cause, "rtp-timeout") == 0);
    return true;
}

static const char *remote_side(const sip_leg *sl)
{
    return sl->leg.dir == HL_LEG_INBOUND ? "caller" : "callee";
}

/* Applies a remote SDP to the media endpoint; returns 0 or a SIP error status. */
static int apply_remote_sdp(sip_leg *sl, const hl_sdp *remote)
{
    int codec = -1;
    for (int i = 0; i < remote->npts && codec < 0; i++)
        if (remote->pts[i] == HL_CODEC_PCMU || remote->pts[i] == HL_CODEC_PCMA)
            codec = remote->pts[i];
    if (codec < 0)
        return 488;
    sl->codec = (hl_codec)codec;
    if (remote->port > 0 &&
        hl_media_set_remote(sl->media, remote->addr, remote->port, sl->codec, remote->te_pt) != 0)
        return 488;
    return 0;
}

/* ---- media callbacks -------------------------------------------------------------- */

static void media_on_dtmf(void *arg, char digit, int duration_ms)
{
    sip_leg *sl = arg;
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_DTMF, .digit = digit,
                             .dtmf_source = HL_DTMF_RFC4733, .duration_ms = duration_ms });
}

static void media_on_play_done(void *arg, bool interrupted)
{
    emit(arg, (hl_leg_event){ .type = HL_LEG_EV_PLAY_DONE, .interrupted = interrupted });
}

static void media_on_record_done(void *arg, const char *reason, int duration_ms)
{
    emit(arg, (hl_leg_event){ .type = HL_LEG_EV_RECORD_DONE, .reason = reason,
                              .duration_ms = duration_ms });
}

static void media_on_rtp_timeout(void *arg)
{
    sip_leg *sl = arg;
    hl_warn("call", "%s: leg %d: no RTP for the configured timeout, ending it",
            sl->leg.call ? hl_call_id(sl->leg.call) : sl->leg.sip_call_id, sl->leg.index);
    if (!mark_ended(sl, "engine", "rtp-timeout"))
        return;
    if (sl->dialog)
        hl_sip_dialog_hangup(sl->dialog);
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .reason = "rtp-timeout" });
}

static const hl_media_callbacks media_cbs = {
    .on_dtmf = media_on_dtmf,
    .on_play_done = media_on_play_done,
    .on_record_done = media_on_record_done,
    .on_rtp_timeout = media_on_rtp_timeout,
};

static sip_leg *sip_leg_new(hl_loop *loop, hl_leg_dir dir)
{
    sip_leg *sl = calloc(1, sizeof *sl);
    if (!sl)
        return NULL;
    sl->media = hl_media_new(loop->media, &media_cbs, sl);
    if (!sl->media) {
        free(sl);
        return NULL;
    }
    sl->loop = loop;
    sl->leg.ops = &sip_leg_ops;
    sl->leg.impl = sl;
    sl->leg.dir = dir;
    sl->leg.state = HL_LEG_NEW;
    sl->leg.start = hl_clock_wall(&loop->clock);
    return sl;
}

/* ---- SIP callbacks ---------------------------------------------------------------- */

/* Names a refusal of on_invite for the stack's log line, the response's Warning and the
 * CDR (sip_on_invite_refused); returns the status to refuse with. */
static int refuse(hl_sip_dialog *d, int code, const char *cause, int warn_code, const char *warning)
{
    hl_sip_dialog_refusal(d, cause, warn_code, warning);
    return code;
}

/* 488 with its reason for an offer our media endpoint cannot take, or 0.  An IPv6 c= is
 * refused while the media is bound to IPv4: an IPv4 oRTP session cannot send to it (a
 * dual-stack media pool would be the way to answer such offers). */
static int refuse_offer(sip_leg *sl, hl_sip_dialog *d, const hl_sdp *offer)
{
    const char *addr = hl_media_local_addr(sl->media);
    if (offer->ipv6 && !strchr(addr, ':'))
        return refuse(d, 488, "488-ipv6", HL_SIP_WARN_ADDRESS_FORMAT, HL_SIP_WARN_IPV6_TEXT);
    if (hl_sdp_answer(offer, addr, hl_media_local_port(sl->media), &sl->local) != 0 ||
        apply_remote_sdp(sl, offer) != 0)
        return refuse(d, 488, "488-no-codec", HL_SIP_WARN_MEDIA_FORMAT,
                      "Incompatible media format: PCMU or PCMA needed");
    return 0;
}

/* ---- who may call in (rules/trunks.lua, core/trunks.h) ------------------------------ */

/* Refusals of strangers are logged at most this often per window: a scanner sends thousands,
 * and the counters of `ctl status` keep the full count. */
#define REFUSAL_LOG_WINDOW_MS 10000
#define REFUSAL_LOG_MAX 10

static const hl_trunks *current_trunks(hl_loop *loop) { return hl_policy_trunks(loop->policy); }

static void log_refusal(hl_loop *loop, const char *fmt, const char *a, const char *b, const char *c)
{
    hl_trunk_stats *st = &loop->trunk_stats;
    uint64_t now = hl_clock_now_ms(&loop->clock);
    if (now - st->log_window_start >= REFUSAL_LOG_WINDOW_MS) {
        if (st->log_suppressed)
            hl_warn("trunk", "%llu more refused INVITEs not logged in the last %d s",
                    (unsigned long long)st->log_suppressed, REFUSAL_LOG_WINDOW_MS / 1000);
        st->log_window_start = now;
        st->logged = 0;
        st->log_suppressed = 0;
    }
    if (st->logged++ < REFUSAL_LOG_MAX)
        hl_warn("trunk", fmt, a, b, c);
    else
        st->log_suppressed++;
}

/* The caller's number the scripts see: a trunk's From, or its P-Asserted-Identity when the
 * trunk is marked to send one (trust_pai).  A PAI from any other trunk is ignored. */
static void caller_of(hl_loop *loop, const hl_trunk *trunk, const hl_sip_invite_info *info,
                      char *out, size_t len)
{
    snprintf(out, len, "%s", info->from_user ? info->from_user : "");
    if (!info->pai)
        return;
    char user[128], host[256];
    if (!trunk->trust_pai) {
        loop->trunk_stats.pai_ignored++;
        hl_info("trunk", "%s: P-Asserted-Identity from trunk %s ignored (trust_pai is not set)",
                info->call_id, trunk->name);
    } else if (hl_uri_user_host(info->pai, user, sizeof user, host, sizeof host) == 0 && user[0]) {
        snprintf(out, len, "%s", user);
    }
}

/* 0 when a trunk brings this INVITE in, else the status to refuse it with (403, 404). */
static int admit_invite(hl_loop *loop, hl_sip_dialog *d, const hl_sip_invite_info *info,
                        const hl_trunk **trunk)
{
    const hl_trunks *t = current_trunks(loop);
    *trunk = hl_trunks_by_source(t, info->source_ip);
    if (!*trunk) {
        loop->trunk_stats.refused_source++;
        log_refusal(loop, "403 to INVITE %s from %s: no trunk of %s has this source", info->request_uri,
                    info->source, t ? t->path : "(no policy)");
        hl_sip_dialog_refusal_quiet(d, "403-no-trunk");
        return 403;
    }
    char number[128], host[256];
    hl_uri_user_host(info->request_uri, number, sizeof number, host, sizeof host);
    if (!hl_number_list_match(&(*trunk)->deliver, number)) {
        loop->trunk_stats.refused_number++;
        char where[1200];
        snprintf(where, sizeof where, "%s:%d", t->path, (*trunk)->line);
        log_refusal(loop, "404 to INVITE %s: trunk %s does not deliver this number (deliver, %s)",
                    info->request_uri, (*trunk)->name, where);
        hl_sip_dialog_refusal_quiet(d, "404-not-delivered");
        return 404;
    }
    return 0;
}

/* hl_sip_callbacks.source_rate: a trunk's own request limit for its sources. */
static int sip_source_rate(void *app, const uint8_t ip[16])
{
    const hl_trunk *k = hl_trunks_by_source(current_trunks(app), ip);
    return k ? k->rate_per_sec : 0;
}

/* 0 when a trunk brings this INVITE in and has proved it (digest, when the trunk has a
 * login), else the status to refuse it with. */
static int admit_trunk_invite(hl_loop *loop, hl_sip_dialog *d, const hl_sip_invite_info *info,
                              const hl_trunk **trunk)
{
    int refused = admit_invite(loop, d, info, trunk);
    if (refused)
        return refused;
    if ((*trunk)->digest_user && !hl_sip_dialog_authorized(d, (*trunk)->digest_realm,
                                                           (*trunk)->digest_user,
                                                           (*trunk)->digest_password)) {
        loop->trunk_stats.challenged++;   /* the first INVITE of each call, or a wrong answer */
        hl_debug("trunk", "%s: 401 to trunk %s (digest, realm %s)", info->call_id, (*trunk)->name,
                 (*trunk)->digest_realm);
        hl_sip_dialog_challenge(d, (*trunk)->digest_realm);
        return 401;
    }
    return 0;
}

static int sip_on_invite(void *app, hl_sip_dialog *d, const hl_sip_invite_info *info)
{
    hl_loop *loop = app;
    if (loop->stopping)
        return refuse(d, 503, "503-shutdown", 0, NULL);
    /* an agent's phone first: its calls run agent_entry; a stranger using an agent's
     * number gets 403 here (app/agents.h) */
    char agent[sizeof ((hl_leg *)0)->agent] = "";
    const hl_trunk *trunk = hl_trunks_by_source(current_trunks(loop), info->source_ip);
    struct hl_agents *agents = hl_loop_agents(loop);
    int verdict = agents ? hl_agents_on_invite(agents, d, info, trunk != NULL, agent, sizeof agent) : 0;
    if (verdict > 1)
        return verdict;
    if (verdict == 0) {
        int refused = admit_trunk_invite(loop, d, info, &trunk);
        if (refused)
            return refused;
    }
    if (loop->ncalls >= loop->cfg.max_calls) {
        hl_warn("call", "refusing %s: %d calls already (max_calls)", info->call_id, loop->ncalls);
        return refuse(d, 503, "503-max-calls", 0, NULL);
    }
    sip_leg *sl = sip_leg_new(loop, HL_LEG_INBOUND);
    if (!sl) {
        hl_warn("call", "refusing %s: no free RTP port", info->call_id);
        return refuse(d, 503, "503-no-rtp-port", 0, NULL);
    }
    const char *addr = hl_media_local_addr(sl->media);
    int port = hl_media_local_port(sl->media);
    hl_media_set_signalling(sl->media, info->source); /* the one address RTP may latch to */
    if (info->offer) {
        int code = refuse_offer(sl, d, info->offer);
        if (code) {
            hl_media_close(sl->media);
            free(sl);
            return code;
        }
    } else {
        hl_sdp_offer(addr, port, &sl->local); /* late offer: the answer comes in the ACK */
    }
    /* Nothing is sent before the call is answered: a ringing caller hears their own
     * ringback, not our silence (early media is not offered). */
    hl_media_set_held(sl->media, true);
    sl->dialog = d;
    hl_sip_dialog_set_app(d, sl);
    hl_sip_dialog_set_local_sdp(d, &sl->local);
    snprintf(sl->leg.sip_call_id, sizeof sl->leg.sip_call_id, "%s", info->call_id);
    if (agent[0]) {   /* the agent's own number, never a PAI the phone sends */
        snprintf(sl->leg.from_user, sizeof sl->leg.from_user, "%s", agent);
        snprintf(sl->leg.agent, sizeof sl->leg.agent, "%s", agent);
    } else {
        caller_of(loop, trunk, info, sl->leg.from_user, sizeof sl->leg.from_user);
    }
    snprintf(sl->leg.to_user, sizeof sl->leg.to_user, "%s", info->to_user ? info->to_user : "");
    snprintf(sl->leg.remote_uri, sizeof sl->leg.remote_uri, "%s", info->from_uri ? info->from_uri : "");

    hl_call *call = hl_call_new_inbound(&loop->env, &sl->leg);
    if (!call) {
        hl_sip_dialog_set_app(d, NULL);
        hl_media_close(sl->media);
        free(sl);
        return refuse(d, 500, "500-no-call", 0, NULL);
    }
    hl_loop_call_add(loop, call);
    hl_call_start(call);
    return 0;
}

/* An id in the format of the call layer's ("<start ms>-<8 hex>"), for the CDR of an INVITE
 * refused before a call existed: it never collides with a call's and sorts with them. */
static void refused_call_id(double now, char *out, size_t n)
{
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
        rnd = (uint32_t)(now * 1000);
    snprintf(out, n, "%.0f-%08x", now * 1000, rnd);
}

/* A refused INVITE's one-leg CDR: who called whom, when, and hangup_cause naming why
 * (e.g. "488-ipv6"); no call, no script ran, so there is no route or version. */
static void sip_on_invite_refused(void *app, const hl_sip_invite_info *info, int code,
                                  const char *cause)
{
    hl_loop *loop = app;
    if (!loop->store)
        return;
    hl_cdr cdr;
    memset(&cdr, 0, sizeof cdr);
    cdr.start = cdr.end = hl_clock_wall(&loop->clock);
    refused_call_id(cdr.start, cdr.call_id, sizeof cdr.call_id);
    snprintf(cdr.leg_id, sizeof cdr.leg_id, "%s", info->call_id);
    snprintf(cdr.direction, sizeof cdr.direction, "inbound");
    snprintf(cdr.caller, sizeof cdr.caller, "%s", info->from_user ? info->from_user : "");
    snprintf(cdr.called, sizeof cdr.called, "%s", info->to_user ? info->to_user : "");
    snprintf(cdr.hangup_side, sizeof cdr.hangup_side, "engine");
    snprintf(cdr.hangup_cause, sizeof cdr.hangup_cause, "%s", cause);
    hl_store_cdr_write(loop->store, &cdr, NULL, NULL);
}

static void sip_on_confirmed(void *app_dialog, hl_sip_dialog *d)
{
    sip_leg *sl = app_dialog;
    if (!sl || sl->leg.state == HL_LEG_ENDED)
        return;
    sl->leg.state = HL_LEG_ANSWERED;
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_ANSWERED });
}

static void sip_on_answered(void *app_dialog, hl_sip_dialog *d, const hl_sdp *answer)
{
    sip_leg *sl = app_dialog;
    if (!sl || sl->leg.state == HL_LEG_ENDED)
        return;
    hl_timer_stop(&sl->loop->timers, &sl->ring_timer);
    if (!answer || apply_remote_sdp(sl, answer) != 0) {
        hl_warn("call", "%s: answer without a usable SDP, hanging up", sl->leg.sip_call_id);
        sl->leg.ops->hangup(&sl->leg, 488, "no-codec");
        return;
    }
    sl->leg.state = HL_LEG_ANSWERED;
    sl->leg.answer = hl_clock_wall(&sl->loop->clock);
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_ANSWERED });
}

static void sip_on_progress(void *app_dialog, hl_sip_dialog *d, int code)
{
    sip_leg *sl = app_dialog;
    if (sl && sl->leg.state == HL_LEG_NEW)
        sl->leg.state = HL_LEG_RINGING;
}

static void sip_on_reoffer(void *app_dialog, hl_sip_dialog *d, const hl_sdp *offer)
{
    sip_leg *sl = app_dialog;
    if (!sl || !offer)
        return;
    /* Hold is the far end asking us not to send: sendonly, inactive, or c=0.0.0.0. */
    bool held = offer->dir == HL_SDP_SENDONLY || offer->dir == HL_SDP_INACTIVE ||
                strcmp(offer->addr, "0.0.0.0") == 0;
    if (!held)
        apply_remote_sdp(sl, offer);
    sl->local.dir = offer->dir == HL_SDP_SENDONLY ? HL_SDP_RECVONLY
                  : offer->dir == HL_SDP_INACTIVE ? HL_SDP_INACTIVE
                  : offer->dir == HL_SDP_RECVONLY ? HL_SDP_SENDONLY : HL_SDP_SENDRECV;
    sl->local.sess_version++;
    hl_sip_dialog_set_local_sdp(d, &sl->local);
    hl_media_set_held(sl->media, held);
    if (held != sl->leg.held) {
        sl->leg.held = held;
        emit(sl, (hl_leg_event){ .type = held ? HL_LEG_EV_HOLD : HL_LEG_EV_RESUME });
    }
}

static void sip_on_info_dtmf(void *app_dialog, hl_sip_dialog *d, char digit, int duration_ms)
{
    sip_leg *sl = app_dialog;
    if (sl && sl->leg.state != HL_LEG_ENDED)
        emit(sl, (hl_leg_event){ .type = HL_LEG_EV_DTMF, .digit = digit,
                                 .dtmf_source = HL_DTMF_INFO, .duration_ms = duration_ms });
}

static void sip_on_refer_status(void *app_dialog, hl_sip_dialog *d, int code)
{
    sip_leg *sl = app_dialog;
    if (sl && code >= 200)
        emit(sl, (hl_leg_event){ .type = HL_LEG_EV_TRANSFERRED, .code = code });
}

static void refer_report(hl_timer *t)
{
    sip_leg *sl = t->data;
    if (sl->leg.state != HL_LEG_ENDED)
        emit(sl, (hl_leg_event){ .type = HL_LEG_EV_REFER, .uri = sl->refer_uri,
                                 .target = sl->refer_user });
}

/* A REFER from the far end (an agent's transfer key): accepted from an agent's phone only
 * (a caller from a trunk has nothing to transfer: 403), while the leg is up and in a call;
 * the call hears of it on the next turn of the loop, outside the SIP stack. */
static int sip_on_refer(void *app_dialog, hl_sip_dialog *d, const char *target, const char *user)
{
    sip_leg *sl = app_dialog;
    if (!sl || !sl->leg.call || sl->leg.state != HL_LEG_ANSWERED || !sl->leg.agent[0])
        return 403;
    if (hl_timer_active(&sl->refer_timer))
        return 491;
    hl_info("call", "%s: leg %d asks to transfer to %s", hl_call_id(sl->leg.call), sl->leg.index,
            target);
    snprintf(sl->refer_uri, sizeof sl->refer_uri, "%s", target);
    snprintf(sl->refer_user, sizeof sl->refer_user, "%s", user);
    hl_timer_start(&sl->loop->timers, &sl->refer_timer, 0, refer_report, sl);
    return 202;
}

static void sip_on_terminated(void *app_dialog, hl_sip_dialog *d, int code, const char *reason)
{
    sip_leg *sl = app_dialog;
    if (!sl)
        return;
    sl->dialog = NULL;
    bool answered = sl->leg.state == HL_LEG_ANSWERED;
    char cause[48];
    if (code >= 300 && strcmp(reason, "rejected") == 0)
        snprintf(cause, sizeof cause, "%d", code);
    else
        snprintf(cause, sizeof cause, "%s", reason);
    if (!mark_ended(sl, strcmp(reason, "local") == 0 ? "engine" : remote_side(sl), cause))
        return; /* the engine ended it first; its HANGUP is already on its way */
    sl->end_code = code;
    if (sl->leg.dir == HL_LEG_OUTBOUND && !answered)
        emit(sl, (hl_leg_event){ .type = HL_LEG_EV_FAILED, .code = code ? code : 500, .reason = cause });
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .code = code, .reason = sl->leg.hangup_cause });
}

const hl_sip_callbacks hl_leg_sip_callbacks = {
    .on_invite = sip_on_invite,
    .on_invite_refused = sip_on_invite_refused,
    .source_rate = sip_source_rate,
    .on_confirmed = sip_on_confirmed,
    .on_answered = sip_on_answered,
    .on_progress = sip_on_progress,
    .on_reoffer = sip_on_reoffer,
    .on_info_dtmf = sip_on_info_dtmf,
    .on_refer_status = sip_on_refer_status,
    .on_refer = sip_on_refer,
    .on_terminated = sip_on_terminated,
};

/* ---- hl_leg_ops ------------------------------------------------------------------- */

static int op_ring(hl_leg *leg)
{
    sip_leg *sl = leg_of(leg);
    if (!sl->dialog)
        return -1;
    if (leg->state == HL_LEG_NEW)
        leg->state = HL_LEG_RINGING;
    return hl_sip_dialog_ring(sl->dialog);
}

static int op_answer(hl_leg *leg)
{
    sip_leg *sl = leg_of(leg);
    if (!sl->dialog || leg->state == HL_LEG_ENDED)
        return -1;
    leg->answer = hl_clock_wall(&sl->loop->clock);
    hl_media_set_held(sl->media, leg->held);
    return hl_sip_dialog_answer(sl->dialog);
}

static void hangup_deferred(hl_timer *t)
{
    sip_leg *sl = t->data;
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .code = sl->end_code,
                             .reason = sl->leg.hangup_cause });
}

static void op_hangup(hl_leg *leg, int code, const char *reason)
{
    sip_leg *sl = leg_of(leg);
    bool answered = leg->state == HL_LEG_ANSWERED;
    if (!mark_ended(sl, "engine", reason ? reason : "script"))
        return;
    sl->end_code = code;
    if (sl->dialog) {
        if (leg->dir == HL_LEG_INBOUND && !answered && !leg->answer)
            hl_sip_dialog_reject(sl->dialog, code >= 300 ? code : 480, reason);
        else
            hl_sip_dialog_hangup(sl->dialog);
    }
    hl_timer_start(&sl->loop->timers, &sl->hangup_timer, 0, hangup_deferred, sl);
}

static int op_play(hl_leg *leg, const char *const *items, int n)
{
    char err[256];
    if (hl_media_play(leg_of(leg)->media, items, n, err, sizeof err) != 0) {
        hl_warn("call", "%s: play: %s", leg->sip_call_id, err);
        return -1;
    }
    return 0;
}

static void op_play_stop(hl_leg *leg) { hl_media_play_stop(leg_of(leg)->media); }

static int op_record_start(hl_leg *leg, const hl_record_opts *o)
{
    char err[256];
    if (hl_media_record_start(leg_of(leg)->media, o, err, sizeof err) != 0) {
        hl_warn("call", "%s: record: %s", leg->sip_call_id, err);
        return -1;
    }
    return 0;
}

static void op_record_stop(hl_leg *leg) { hl_media_record_stop(leg_of(leg)->media); }

static int op_send_dtmf(hl_leg *leg, char digit, int duration_ms)
{
    return hl_media_send_dtmf(leg_of(leg)->media, digit, duration_ms);
}

static int op_bridge(hl_leg *a, hl_leg *b)
{
    if (a->ops != &sip_leg_ops || b->ops != &sip_leg_ops)
        return -1;
    hl_media_bridge(leg_of(a)->media, leg_of(b)->media);
    return 0;
}

static void op_unbridge(hl_leg *leg) { hl_media_unbridge(leg_of(leg)->media); }

/* A leg's endpoint for supervision: NULL unless a SIP leg still up. */
static hl_media *monitored_media(hl_leg *leg)
{
    return leg && leg->ops == &sip_leg_ops && leg->state != HL_LEG_ENDED ? leg_of(leg)->media : NULL;
}

/* Who hears whom (media/monitor.h) on the legs' endpoints; the bridge of agent and caller
 * carries their own conversation, untouched. */
static int op_monitor(hl_leg *sup, hl_leg *agent, hl_leg *caller, hl_monitor_mode mode)
{
    if (sup->ops != &sip_leg_ops)
        return -1;
    hl_media *s = leg_of(sup)->media;
    if (mode != HL_MONITOR_STOP && sup->state == HL_LEG_ENDED) {
        hl_media_hear_clear(s);
        return -1;
    }
    return hl_media_monitor(s, monitored_media(agent), monitored_media(caller), mode);
}

static double op_last_voice(hl_leg *leg)
{
    sip_leg *sl = leg_of(leg);
    hl_rtp_stats st;
    hl_media_get_stats(sl->media, &st);
    if (!st.last_voice_ms)
        return 0;
    uint64_t now = hl_clock_now_ms(&sl->loop->clock);   /* the media's clock: uv_now's */
    uint64_t ago = now > st.last_voice_ms ? now - st.last_voice_ms : 0;
    return hl_clock_wall(&sl->loop->clock) - (double)ago / 1000.0;
}

static int op_hold(hl_leg *leg, bool on)
{
    sip_leg *sl = leg_of(leg);
    return sl->dialog ? hl_sip_dialog_hold(sl->dialog, on) : -1;
}

static int op_transfer(hl_leg *leg, const char *target_uri)
{
    sip_leg *sl = leg_of(leg);
    /* a REFER sends the caller where the engine says: the dial rule "transfer" decides */
    hl_dial_opts o = { .purpose = "transfer", .caller = leg->from_user };
    if (hl_dial_guard_check(&sl->loop->env, leg->call ? hl_call_id(leg->call) : "-", target_uri, &o))
        return -1;
    return sl->dialog ? hl_sip_dialog_refer(sl->dialog, target_uri) : -1;
}

static int op_refer_notify(hl_leg *leg, int code)
{
    sip_leg *sl = leg_of(leg);
    return sl->dialog ? hl_sip_dialog_refer_notify(sl->dialog, code) : -1;
}

static void op_stats(hl_leg *leg, hl_cdr *cdr)
{
    sip_leg *sl = leg_of(leg);
    hl_rtp_stats st;
    hl_media_get_stats(sl->media, &st);
    cdr->rtp_sent = st.sent;
    cdr->rtp_received = st.received;
    cdr->rtp_lost = st.lost;
    cdr->rtp_jitter_ms = st.jitter_ms;
    snprintf(cdr->codec, sizeof cdr->codec, "%s", sl->codec == HL_CODEC_PCMA ? "PCMA" : "PCMU");
}

static int op_fax_start(hl_leg *leg, const hl_leg_fax_opts *o)
{
    sip_leg *sl = leg_of(leg);
    if (sl->fax || hl_timer_active(&sl->fax_timer) || leg->state == HL_LEG_ENDED)
        return -1;
    char err[256];
    hl_fax_opts fo = { .local_ident = o->ident[0] ? o->ident : sl->loop->cfg.fax_ident,
                       .calling_party = o->calling_party, .no_ecm = o->no_ecm,
                       .max_ms = o->max_ms, .debug = hl_log_get_level() <= HL_LOG_DEBUG,
                       .on_done = fax_on_done, .arg = sl };
    sl->fax = o->send ? hl_fax_new_send(o->path, &fo, err, sizeof err)
                      : hl_fax_new_receive(o->path, &fo, err, sizeof err);
    if (!sl->fax) {
        hl_warn("call", "%s: fax: %s", leg->sip_call_id, err);
        return -1;
    }
    hl_media_set_tap(sl->media, &fax_tap, sl);
    return 0;
}

static void op_fax_stop(hl_leg *leg)
{
    sip_leg *sl = leg_of(leg);
    if (sl->fax)
        hl_fax_stop(sl->fax);   /* on_done -> FAX_DONE on the next turn */
}

static void op_destroy(hl_leg *leg)
{
    sip_leg *sl = leg_of(leg);
    fax_drop(sl);
    dns_stop(sl);
    hl_timer_stop(&sl->loop->timers, &sl->ring_timer);
    hl_timer_stop(&sl->loop->timers, &sl->hangup_timer);
    hl_timer_stop(&sl->loop->timers, &sl->refer_timer);
    if (sl->dialog) {
        /* Still up (the call is being torn down): end it, and hear nothing more of it. */
        hl_sip_dialog_set_app(sl->dialog, NULL);
        hl_sip_dialog_hangup(sl->dialog);
        sl->dialog = NULL;
    }
    hl_media_close(sl->media);
    free(sl);
}

static const hl_leg_ops sip_leg_ops = {
    .ring = op_ring,
    .answer = op_answer,
    .hangup = op_hangup,
    .play = op_play,
    .play_stop = op_play_stop,
    .record_start = op_record_start,
    .record_stop = op_record_stop,
    .send_dtmf = op_send_dtmf,
    .bridge = op_bridge,
    .unbridge = op_unbridge,
    .hold = op_hold,
    .transfer = op_transfer,
    .refer_notify = op_refer_notify,
    .stats = op_stats,
    .fax_start = op_fax_start,
    .fax_stop = op_fax_stop,
    .monitor = op_monitor,
    .last_voice = op_last_voice,
    .destroy = op_destroy,
};

/* ---- outbound legs ---------------------------------------------------------------- */

static void ring_timeout(hl_timer *t)
{
    sip_leg *sl = t->data;
    hl_info("call", "%s: no answer within the ring timeout", sl->leg.remote_uri);
    if (sl->dialog)
        hl_sip_dialog_hangup(sl->dialog); /* CANCEL */
    if (!mark_ended(sl, "engine", "no-answer"))
        return;
    sl->end_code = 408;
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_FAILED, .code = 408, .reason = "no-answer" });
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .code = 408, .reason = "no-answer" });
}

/* The host[:port] of a sip: URI (after any user@, before parameters or headers). */
static void uri_hostport(const char *uri, char *out, size_t outlen)
{
    const char *h = uri + 4, *at = strchr(h, '@');
    if (at)
        h = at + 1;
    snprintf(out, outlen, "%.*s", (int)strcspn(h, ";?>"), h);
}

/* The login of the trunk the dial goes through (rules/trunks.lua), for its challenge. */
static void set_login(hl_loop *loop, hl_sip_dialog *d, const char *uri)
{
    char user[128], host[256];
    hl_uri_user_host(uri, user, sizeof user, host, sizeof host);
    const hl_trunk *via = hl_trunks_by_host(current_trunks(loop), host);
    if (via && via->login_user)
        hl_sip_dialog_set_login(d, via->login_user, via->login_password);
}

/* An outbound leg that never got its INVITE out ends as failed: code and cause to the
 * script (call:dial's second result) and the CDR. */
static void dial_failed(sip_leg *sl, int code, const char *cause)
{
    if (!mark_ended(sl, "engine", cause))
        return;
    sl->end_code = code;
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_FAILED, .code = code, .reason = cause });
    emit(sl, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .code = code, .reason = cause });
}

/* The INVITE of a dial, to the URI's own address (addr NULL) or to the one its name led to. */
static int send_invite(sip_leg *sl, const struct sockaddr_in *addr)
{
    hl_loop *loop = sl->loop;
    const char *uri = sl->leg.remote_uri, *from = sl->leg.from_user;
    sl->dialog = addr ? hl_sip_invite_to(loop->sip, uri, addr, from, &sl->local, sl)
                      : hl_sip_invite(loop->sip, uri, from, &sl->local, sl);
    if (!sl->dialog)
        return -1;
    snprintf(sl->leg.sip_call_id, sizeof sl->leg.sip_call_id, "%s", hl_sip_dialog_call_id(sl->dialog));
    set_login(loop, sl->dialog, uri);
    return 0;
}

static const char *leg_call_id(const sip_leg *sl)
{
    return sl->leg.call ? hl_call_id(sl->leg.call) : "-";
}

static void dns_answered(void *arg, hl_dns_status status, const struct sockaddr_in *addr,
                         const char *target)
{
    sip_leg *sl = arg;
    sl->dns = NULL;
    hl_timer_stop(&sl->loop->timers, &sl->dns_timer);
    if (status == HL_DNS_FOUND) {
        char ip[INET_ADDRSTRLEN] = "?";
        uv_ip4_name(addr, ip, sizeof ip);
        hl_info("call", "%s: %s: %s is %s:%d", leg_call_id(sl), sl->leg.remote_uri, target, ip,
                ntohs(addr->sin_port));
        if (send_invite(sl, addr) != 0)
            dial_failed(sl, 500, "local");
        return;
    }
    /* 604 Does Not Exist Anywhere: no such name is final; a resolver failure may pass (503) */
    bool absent = status == HL_DNS_NOT_FOUND;
    hl_warn("call", "%s: dial %s: host name '%s' %s", leg_call_id(sl), sl->leg.remote_uri, target,
            absent ? "does not exist (no IPv4 address)" : "could not be resolved (resolver error)");
    dial_failed(sl, absent ? 604 : 503, absent ? "dns-not-found" : "dns-error");
}

static void dns_timeout(hl_timer *t)
{
    sip_leg *sl = t->data;
    hl_warn("call", "%s: dial %s: its host name was not resolved within dns_timeout_ms (%d ms)",
            leg_call_id(sl), sl->leg.remote_uri, sl->loop->cfg.dns_timeout_ms);
    dial_failed(sl, 503, "dns-timeout");
}

/* The dial's host is a name: look it up (SRV when its trunk says srv = true), INVITE on
 * the answer.  -1 when the lookup could not start. */
static int resolve_then_invite(sip_leg *sl, const char *host, int port, bool tcp)
{
    hl_loop *loop = sl->loop;
    const hl_trunk *via = hl_trunks_by_host(current_trunks(loop), host);
    sl->dns = hl_dns_resolve(loop->uv, host, port, tcp, via && via->srv, dns_answered, sl);
    if (!sl->dns)
        return -1;
    hl_timer_start(&loop->timers, &sl->dns_timer, loop->cfg.dns_timeout_ms, dns_timeout, sl);
    return 0;
}

/* Starts the leg's INVITE: at once to an IP address, after its lookup to a host name. */
static int start_invite(sip_leg *sl, const char *uri)
{
    char host[256];
    int port;
    bool tcp;
    unsigned char ip[sizeof (struct in6_addr)];
    if (hl_sip_uri_dest(uri, host, sizeof host, &port, &tcp) != 0) {
        hl_warn("call", "dial: '%s' names no host", uri);
        return -1;
    }
    if (uv_inet_pton(AF_INET, host, ip) == 0 || uv_inet_pton(AF_INET6, host, ip) == 0)
        return send_invite(sl, NULL);
    return resolve_then_invite(sl, host, port, tcp);
}

hl_leg *hl_leg_sip_dial(hl_call_env *env, hl_call *call, const char *uri, const hl_dial_opts *o)
{
    hl_loop *loop = env->owner;
    if (strncmp(uri, "sip:", 4) != 0 || strlen(uri) >= sizeof ((hl_leg *)0)->remote_uri) {
        hl_warn("call", "dial: '%s' is not a sip: URI", uri);
        return NULL;
    }
    if (hl_dial_guard_check(env, hl_call_id(call), uri, o) != 0)
        return NULL;   /* refused by the dial rules (logged; o->refused says 403) */
    sip_leg *sl = sip_leg_new(loop, HL_LEG_OUTBOUND);
    if (!sl)
        return NULL;
    sl->leg.call = call;
    hl_sdp_offer(hl_media_local_addr(sl->media), hl_media_local_port(sl->media), &sl->local);
    char peer[sizeof sl->leg.remote_uri];
    uri_hostport(uri, peer, sizeof peer);
    hl_media_set_signalling(sl->media, peer);   /* a host name: no symmetric latch */
    const char *from = o && o->from_user ? o->from_user : loop->cfg.sip_from_user;
    snprintf(sl->leg.from_user, sizeof sl->leg.from_user, "%s", from);
    snprintf(sl->leg.remote_uri, sizeof sl->leg.remote_uri, "%s", uri);
    const char *user = uri + 4;
    size_t ulen = strcspn(user, "@;>");
    snprintf(sl->leg.to_user, sizeof sl->leg.to_user, "%.*s", (int)ulen, user);
    if (start_invite(sl, uri) != 0) {
        hl_media_close(sl->media);
        free(sl);
        return NULL;
    }
    /* a lookup counts against the ring timeout too: the caller waits for both alike */
    int timeout = o && o->timeout_ms > 0 ? o->timeout_ms : loop->cfg.ring_timeout_ms;
    hl_timer_start(&loop->timers, &sl->ring_timer, timeout, ring_timeout, sl);
    return &sl->leg;
}

/* ---- ringing an agent's phone (env->dial_agent) ------------------------------------- */

/* A caller's number as a From user part: as it is when it is one, else "anonymous" (a
 * withheld or odd number must not stop the agent's phone from ringing). */
static const char *shown_number(const char *n)
{
    if (!n || !*n)
        return "anonymous";
    for (const char *c = n; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("+-_.*", *c))
            return "anonymous";
    return n;
}

void hl_leg_sip_agent_invite_opts(const hl_dial_agent_opts *o, const char *caller,
                                  const char *call_id, char wait_s[16], hl_sip_invite_opts *out)
{
    *out = (hl_sip_invite_opts){
        .from_user = shown_number(o && o->from_user ? o->from_user : caller),
        .from_display = o ? o->display : NULL,
        .assert_identity = true,
    };
    wait_s[0] = 0;
    if (o && o->waited_ms >= 0)
        snprintf(wait_s, 16, "%d", (o->waited_ms + 500) / 1000);
    const hl_sip_header h[] = {
        { "X-Hotline-Route", o ? o->route : NULL },
        { "X-Hotline-Queue", o ? o->queue : NULL },
        { "X-Hotline-Wait", wait_s[0] ? wait_s : NULL },
        { "X-Hotline-Call", o && o->call_id ? o->call_id : call_id },
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
        if (h[i].value && h[i].value[0])
            out->headers[out->n_headers++] = h[i];
}

hl_leg *hl_leg_sip_dial_agent(hl_call_env *env, hl_call *call, const char *agent,
                              const hl_dial_agent_opts *o)
{
    hl_loop *loop = env->owner;
    struct hl_agents *agents = hl_loop_agents(loop);
    char uri[256], source[80];
    int found = agents ? hl_agents_contact(agents, agent, uri, sizeof uri, source, sizeof source) : -1;
    if (found != 0) {
        hl_warn("call", "%s: cannot ring agent %s: %s", hl_call_id(call), agent ? agent : "-",
                found == -2 ? "no live registration (phone not registered, expired or not "
                "answering OPTIONS)" : "no such agent");
        return NULL;
    }
    sip_leg *sl = sip_leg_new(loop, HL_LEG_OUTBOUND);
    if (!sl)
        return NULL;
    sl->leg.call = call;
    hl_sdp_offer(hl_media_local_addr(sl->media), hl_media_local_port(sl->media), &sl->local);
    char peer[sizeof source];
    snprintf(peer, sizeof peer, "%.*s", (int)strcspn(source, "/"), source);
    hl_media_set_signalling(sl->media, peer);   /* the phone's own address: RTP may latch */
    char wait_s[16];
    hl_sip_invite_opts io;
    hl_leg_sip_agent_invite_opts(o, hl_call_leg(call, 0)->from_user, hl_call_id(call), wait_s, &io);
    io.dest = source;                            /* never the Contact's host (toll fraud) */
    snprintf(sl->leg.from_user, sizeof sl->leg.from_user, "%s", io.from_user);
    snprintf(sl->leg.remote_uri, sizeof sl->leg.remote_uri, "%s", uri);
    snprintf(sl->leg.to_user, sizeof sl->leg.to_user, "%s", agent);
    snprintf(sl->leg.agent, sizeof sl->leg.agent, "%s", agent);
    sl->dialog = hl_sip_invite_ex(loop->sip, uri, &sl->local, &io, sl);
    if (!sl->dialog) {
        hl_warn("call", "%s: cannot ring agent %s at %s (%s)", hl_call_id(call), agent, source, uri);
        hl_media_close(sl->media);
        free(sl);
        return NULL;
    }
    snprintf(sl->leg.sip_call_id, sizeof sl->leg.sip_call_id, "%s", hl_sip_dialog_call_id(sl->dialog));
    int timeout = o && o->timeout_ms > 0 ? o->timeout_ms : loop->cfg.ring_timeout_ms;
    hl_timer_start(&loop->timers, &sl->ring_timer, timeout, ring_timeout, sl);
    hl_info("call", "%s: ringing agent %s at %s", hl_call_id(call), agent, source);
    return &sl->leg;
}
