/* sip.c — the SIP stack of one loop (see sip.h): libosip2 transactions driven by libuv,
 * dialogs, the requests the stack answers by itself, and the public API.
 *
 * Transactions: every osip_transaction_t has an hl_tx (reserved1) and is indexed by
 * "s|branch|METHOD" or "c|branch|METHOD" in sip->txs, so a packet finds its transaction
 * without scanning.  Events are added to the transaction's fifo and the transaction is put
 * on a run queue; sip_pump() executes queued transactions one event at a time, never
 * re-entrantly (a callback that sends only queues).  Killed transactions are unindexed in
 * the kill callback and freed after the pass (osip_transaction_free2), never inside it.
 *
 * libosip2's own transaction lists are not used: osip_transaction_init() appends to them
 * (walking the whole list) and osip_*_execute / osip_timers_*_execute copy and scan them,
 * which at hundreds of calls per second cost most of a core.  So every transaction is taken
 * off osip's list right after init (the lists stay empty, each add/remove is O(1)), its
 * timers are checked from our own list of live transactions (only states that have timers),
 * and a transaction whose remaining job is only to absorb retransmissions is retired at
 * once: a finished non-INVITE server transaction (Completed: 32 s on UDP), a confirmed
 * INVITE server transaction, a completed client transaction.  What it would have resent
 * (its final response, or the ACK of a non-2xx) is kept in a small "done" entry under the
 * same key for HL_SIP_DONE_MS, about 0.5 KB instead of about 20 KB of osip state.
 *
 * Dialogs: indexed by our local tag (unique, random) and, for inbound ones, by
 * "Call-ID|remote tag" so a retransmitted initial INVITE is answered with the same 2xx after
 * the INVITE server transaction has ended (which libosip2 does as soon as it sends a 2xx).
 * An ended inbound dialog leaves a "done" entry "d|Call-ID|remote tag" that absorbs late
 * INVITE retransmissions, so the dialog itself is freed at once.  2xx retransmission until
 * ACK is done here (RFC 3261 13.3.1.4).  A dialog is reference-counted: the table holds one
 * reference until on_terminated, each transaction one.
 *
 * App callbacks run only from the stack's own entry points (packet, tick, idle pump), never
 * from inside an API call the app made, so the app never sees re-entrant callbacks. */
#define _GNU_SOURCE /* asprintf, strcasestr */
#include "sip/sip.h"
#include "sip/sip_int.h"
#include "sip/sip_dns.h"
#include "core/log.h"
#include <osip2/osip.h>
#include <osipparser2/osip_parser.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define HL_SIP_TICK_MS 20              /* osip timer granularity; T1 is 500 ms */
#define HL_SIP_T1_MS 500               /* RFC 3261 timer T1 */
#define HL_SIP_T2_MS 4000              /* RFC 3261 timer T2 */
#define HL_SIP_2XX_TIMEOUT_MS (64 * HL_SIP_T1_MS) /* no ACK for a 2xx this long: give up */
#define HL_SIP_SHUTDOWN_GRACE_MS 2000  /* wait this long for BYE answers at shutdown */
#define HL_SIP_DONE_MS (64 * HL_SIP_T1_MS) /* a retired transaction / ended inbound dialog
                                              answers or absorbs retransmissions this long
                                              (Timer J / Timer D of RFC 3261) */
#define HL_SIP_DEFAULT_MAX_MESSAGE 65535
#define HL_SIP_MAX_SDP 2048
#define HL_SIP_DEFAULT_DTMF_MS 160     /* INFO without Duration (RFC 4733's usual 160 ms) */
#define HL_SIP_MAX_RESPONSE 4096       /* raw error responses */
#define HL_SIP_MAX_REQUEST 8192        /* requests we build */

typedef enum { TXP_OTHER, TXP_INVITE, TXP_REINVITE, TXP_BYE, TXP_CANCEL, TXP_REFER,
               TXP_PING } tx_purpose;

typedef struct hl_tx {
    hl_sip *sip;
    osip_transaction_t *tr;
    hl_peer peer;
    hl_sip_dialog *d;          /* holds a reference */
    char *key;
    tx_purpose purpose;
    bool dead, queued;
    struct hl_tx *next_run, *next_dead;
    struct hl_tx *lprev, *lnext;  /* sip->live: transactions whose timers we check */
    char *final;               /* last final response (server) or ACK (client) sent, UDP only */
    size_t final_len;
    hl_sip_ping_fn ping_fn;    /* TXP_PING: told once of the answer (NULL once told or cancelled) */
    void *ping_arg;
} hl_tx;

/* A retired transaction or ended inbound dialog (see the top of this file). */
typedef struct hl_done {
    struct hl_done *next;      /* expiry FIFO: every entry lives HL_SIP_DONE_MS */
    uint64_t expires;
    hl_peer peer;
    size_t len;                /* of text; 0 = absorb silently */
    char *text;                /* points into key[] past the key's NUL */
    char key[];
} hl_done;

typedef enum {
    D_EARLY_IN,    /* INVITE received, not answered */
    D_ANSWERED,    /* 2xx sent, waiting for ACK */
    D_CONFIRMED,
    D_CALLING,     /* outbound INVITE sent, no provisional response */
    D_EARLY_OUT,   /* outbound, provisional received */
    D_CANCELLING,  /* CANCEL sent */
    D_BYE_SENT,
} d_state;

struct hl_sip_dialog {
    hl_sip *sip;
    void *app;
    int refs;
    bool inbound, terminated, app_gone;
    d_state state;
    char call_id[160];
    char local_tag[40], remote_tag[80];
    char *local_hdr, *remote_hdr, *remote_target;
    char uas_key[256];
    uint32_t local_cseq, remote_cseq;
    hl_peer peer;
    hl_sdp local, remote, sent;
    bool has_local, has_remote, has_sent;
    hl_tx *ist, *ict, *reinv;  /* initial server/client INVITE, pending re-INVITE (either way) */
    /* 2xx retransmission until ACK */
    char *resp2xx;
    size_t resp2xx_len;
    uint32_t ack_cseq;
    bool waiting_ack;
    uint64_t next_retx, retx_interval, retx_deadline;
    hl_sip_dialog *wprev, *wnext;
    /* outbound */
    char *invite_uri, *invite_to, invite_branch[48];
    char *ack_text;             /* ACK to our last 2xx, resent on 2xx retransmission */
    size_t ack_len;
    bool got_provisional, cancel_pending, bye_pending;
    /* inbound, refused by on_invite: hl_sip_dialog_refusal() */
    char refuse_cause[48], warning[160];
    int warn_code;
    bool refuse_quiet;          /* the app logs and counts it: no log line here, no CDR */
    char *login_user, *login_pass;  /* answer a 401/407 to our INVITE once with these */
    bool login_tried;
    char *invite_extra;         /* outbound: our INVITE's identity and X- headers, resent with
                                   its answer to a challenge */
    bool refer_active;          /* a REFER we accepted waits for its final NOTIFY */
};

struct hl_sip {
    uv_loop_t *uv;
    hl_sip_callbacks cb;
    void *app;
    char addr[64], adv[64], ua[96];
    int retry_after_s;          /* of our 503s */
    bool overloaded;            /* the owner says new calls must wait: 503 */
    hl_sip_stats stats;
    size_t max_message;
    osip_t *osip;
    hl_transport *tp;
    uv_timer_t tick, grace;
    uv_idle_t idle;
    int handles;
    hl_map txs, dlg_tag, dlg_uas, done_map;
    hl_rate *rate;
    hl_rate_cfg rate_cfg;
    hl_tx *runq, *runq_tail, *dead, *live;
    hl_done *done_head, *done_tail;
    int depth;
    hl_sip_dialog *waiting;     /* dialogs retransmitting a 2xx */
    uint64_t rnd_seed, rnd_ctr;
    uint8_t digest_key[16];     /* signs our digest nonces (sip_digest.c); random at start */
    uint32_t nonce_serial;      /* makes each challenge's nonce its own (sip_digest.c) */
    hl_nonce_seen *nonces_used; /* REGISTER's replay guard (sip_digest.c) */
    bool shutting, closed;
    uint64_t grace_deadline;
    void (*done)(void *);
    void *done_arg;
};

static void sip_pump(hl_sip *s);
static void idle_cb(uv_idle_t *h);

/* ------------------------------------------------------------------ utilities */

static uint64_t sip_rand(hl_sip *s)
{
    /* splitmix64 over a random seed: unique ids without a global PRNG */
    uint64_t z = (s->rnd_seed += 0x9e3779b97f4a7c15ull) ^ ++s->rnd_ctr;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void sip_new_id(hl_sip *s, char *out, size_t n, const char *prefix)
{
    snprintf(out, n, "%s%016llx", prefix, (unsigned long long)sip_rand(s));
}

static uint64_t sip_now(hl_sip *s) { return uv_now(s->uv); }

static void sip_enter(hl_sip *s) { s->depth++; }

/* API calls leave through here: queued work runs from the idle handle, not inside the call */
static void sip_leave(hl_sip *s)
{
    s->depth--;
    if (s->runq && !s->closed)
        uv_idle_start(&s->idle, idle_cb);
}

static char *dupstr(const char *a) { return a ? strdup(a) : NULL; }

static const char *tp_name(hl_tp tp) { return tp == HL_TP_TCP ? "TCP" : "UDP"; }

static const char *tp_param(hl_tp tp) { return tp == HL_TP_TCP ? ";transport=tcp" : ""; }

/* ------------------------------------------------------------------ done entries */

/* Remembers key for HL_SIP_DONE_MS; a retransmission matching it gets text (if any) again. */
static void done_add(hl_sip *s, const char *key, const hl_peer *peer, const char *text, size_t len)
{
    size_t kl = strlen(key);
    hl_done *e = malloc(sizeof *e + kl + 1 + len);
    if (!e)
        return; /* only late retransmissions go unanswered */
    e->next = NULL;
    e->expires = sip_now(s) + HL_SIP_DONE_MS;
    if (peer)
        e->peer = *peer;
    else
        memset(&e->peer, 0, sizeof e->peer);
    memcpy(e->key, key, kl + 1);
    e->text = e->key + kl + 1;
    e->len = text ? len : 0;
    if (e->len)
        memcpy(e->text, text, len);
    if (hl_map_put(&s->done_map, key, e) < 0) {
        free(e);
        return;
    }
    if (s->done_tail) s->done_tail->next = e;
    else s->done_head = e;
    s->done_tail = e;
}

/* Frees entries past their time (all of them at shutdown). */
static void done_expire(hl_sip *s, bool all)
{
    uint64_t now = sip_now(s);
    while (s->done_head && (all || s->done_head->expires <= now)) {
        hl_done *e = s->done_head;
        s->done_head = e->next;
        if (!s->done_head)
            s->done_tail = NULL;
        if (hl_map_get(&s->done_map, e->key) == e) /* a newer entry may have replaced it */
            hl_map_del(&s->done_map, e->key);
        free(e);
    }
}

/* ------------------------------------------------------------------ dialogs */

static void d_ref(hl_sip_dialog *d) { d->refs++; }

static void d_unref(hl_sip_dialog *d)
{
    if (--d->refs > 0)
        return;
    free(d->local_hdr);
    free(d->remote_hdr);
    free(d->remote_target);
    free(d->resp2xx);
    free(d->invite_uri);
    free(d->invite_to);
    free(d->login_user);
    free(d->login_pass);
    free(d->ack_text);
    free(d->invite_extra);
    free(d);
}

static void wait_remove(hl_sip_dialog *d)
{
    if (!d->waiting_ack)
        return;
    d->waiting_ack = false;
    if (d->wprev) d->wprev->wnext = d->wnext;
    else d->sip->waiting = d->wnext;
    if (d->wnext) d->wnext->wprev = d->wprev;
    d->wprev = d->wnext = NULL;
}

static void wait_add(hl_sip_dialog *d, uint32_t cseq)
{
    hl_sip *s = d->sip;
    wait_remove(d);
    d->waiting_ack = true;
    d->ack_cseq = cseq;
    d->retx_interval = HL_SIP_T1_MS;
    d->next_retx = sip_now(s) + HL_SIP_T1_MS;
    d->retx_deadline = sip_now(s) + HL_SIP_2XX_TIMEOUT_MS;
    d->wnext = s->waiting;
    if (s->waiting)
        s->waiting->wprev = d;
    s->waiting = d;
}

static hl_sip_dialog *d_new(hl_sip *s, bool inbound)
{
    hl_sip_dialog *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->sip = s;
    d->refs = 1; /* the table's */
    d->inbound = inbound;
    sip_new_id(s, d->local_tag, sizeof d->local_tag, "hl");
    d->local_cseq = (uint32_t)(sip_rand(s) % 10000) + 1;
    return d;
}

static void d_terminate(hl_sip_dialog *d, int code, const char *reason)
{
    if (d->terminated)
        return;
    hl_sip *s = d->sip;
    d->terminated = true;
    wait_remove(d);
    if (hl_map_get(&s->dlg_tag, d->local_tag) == d)
        hl_map_del(&s->dlg_tag, d->local_tag);
    if (d->uas_key[0] && hl_map_get(&s->dlg_uas, d->uas_key) == d) {
        /* late retransmissions of its INVITE (under load they can arrive after the call
         * ended) must not start a new call: a done entry absorbs them */
        hl_map_del(&s->dlg_uas, d->uas_key);
        if (!s->closed) {
            char k[sizeof d->uas_key + 2];
            snprintf(k, sizeof k, "d|%s", d->uas_key);
            done_add(s, k, NULL, NULL, 0);
        }
    }
    hl_debug("sip", "dialog %s ended: %d %s", d->call_id, code, reason);
    if (!d->app_gone && s->cb.on_terminated)
        s->cb.on_terminated(d->app, d, code, reason);
    d->app_gone = true;
    d_unref(d);
}

/* ------------------------------------------------------------------ transactions */

static const char *key_method(const char *m) { return strcmp(m, "ACK") == 0 ? "INVITE" : m; }

static const char *msg_branch(osip_message_t *m)
{
    osip_via_t *via = osip_list_get(&m->vias, 0);
    osip_generic_param_t *b = NULL;
    if (via)
        osip_via_param_get_byname(via, "branch", &b);
    return b && b->gvalue ? b->gvalue : NULL;
}

/* "s|branch|METHOD"; RFC 2543 peers without a branch are keyed by Call-ID and CSeq */
static void tx_key(osip_message_t *m, bool server, char *out, size_t n)
{
    const char *b = msg_branch(m);
    const char *method = key_method(m->cseq->method);
    if (b)
        snprintf(out, n, "%c|%s|%s", server ? 's' : 'c', b, method);
    else
        snprintf(out, n, "%c|nb:%s|%s|%s", server ? 's' : 'c',
                 m->call_id->number ? m->call_id->number : "", m->cseq->number, method);
}

static hl_tx *tx_new(hl_sip *s, osip_fsm_type_t type, osip_message_t *req, const hl_peer *peer,
                     hl_sip_dialog *d, tx_purpose purpose)
{
    hl_tx *tx = calloc(1, sizeof *tx);
    if (!tx)
        return NULL;
    if (osip_transaction_init(&tx->tr, type, s->osip, req) != 0) {
        free(tx);
        return NULL;
    }
    /* off osip's list at once: it is the only one there, so this is O(1) (top of file) */
    osip_remove_transaction(s->osip, tx->tr);
    char key[320];
    tx_key(req, type == IST || type == NIST, key, sizeof key);
    tx->key = strdup(key);
    tx->sip = s;
    tx->peer = *peer;
    tx->purpose = purpose;
    tx->tr->reserved1 = tx;
    if (d) {
        tx->d = d;
        d_ref(d);
    }
    hl_map_put(&s->txs, tx->key, tx);
    tx->lnext = s->live;
    if (s->live)
        s->live->lprev = tx;
    s->live = tx;
    return tx;
}

static void live_remove(hl_tx *tx)
{
    hl_sip *s = tx->sip;
    if (tx->lprev) tx->lprev->lnext = tx->lnext;
    else if (s->live == tx) s->live = tx->lnext;
    if (tx->lnext) tx->lnext->lprev = tx->lprev;
    tx->lprev = tx->lnext = NULL;
}

static void tx_queue(hl_tx *tx)
{
    hl_sip *s = tx->sip;
    if (tx->queued || tx->dead)
        return;
    tx->queued = true;
    tx->next_run = NULL;
    if (s->runq_tail) s->runq_tail->next_run = tx;
    else s->runq = tx;
    s->runq_tail = tx;
}

/* Gives msg to the transaction (it owns it from here) as an outgoing or incoming event. */
static void tx_post(hl_tx *tx, osip_message_t *msg, bool incoming)
{
    osip_event_t *evt = osip_new_outgoing_sipmessage(msg);
    if (!evt) {
        osip_message_free(msg);
        return;
    }
    if (incoming) {
        if (MSG_IS_RESPONSE(msg)) {
            int c = msg->status_code;
            evt->type = c < 200 ? RCV_STATUS_1XX : c < 300 ? RCV_STATUS_2XX : RCV_STATUS_3456XX;
        } else {
            evt->type = MSG_IS_INVITE(msg) ? RCV_REQINVITE : MSG_IS_ACK(msg) ? RCV_REQACK : RCV_REQUEST;
        }
    }
    if (tx->dead) {
        osip_message_free(msg);
        osip_free(evt);
        return;
    }
    osip_transaction_add_event(tx->tr, evt);
    tx_queue(tx);
}

static void tx_unlink_dialog(hl_tx *tx)
{
    hl_sip_dialog *d = tx->d;
    if (!d)
        return;
    if (d->ist == tx) d->ist = NULL;
    if (d->ict == tx) d->ict = NULL;
    if (d->reinv == tx) d->reinv = NULL;
    tx->d = NULL;
    d_unref(d);
}

static void cb_kill(int type, osip_transaction_t *tr)
{
    hl_tx *tx = tr->reserved1;
    if (!tx || tx->dead)
        return;
    hl_sip *s = tx->sip;
    tx->dead = true;
    if (hl_map_get(&s->txs, tx->key) == tx)
        hl_map_del(&s->txs, tx->key);
    live_remove(tx);
    tx->next_dead = s->dead;
    s->dead = tx;
}

/* A transaction whose only job left is absorbing retransmissions (top of file) becomes a
 * done entry; returns true when it was retired.  On TCP nothing is retransmitted, so no
 * entry is kept (Timers J, K, I and D are zero there). */
static bool tx_retire_if_done(hl_tx *tx)
{
    osip_transaction_t *tr = tx->tr;
    bool done = false;
    switch (tr->ctx_type) {
    case NIST: done = tr->state == NIST_COMPLETED; break;
    case IST:  done = tr->state == IST_CONFIRMED; break;
    case NICT: done = tr->state == NICT_COMPLETED; break;
    case ICT:  done = tr->state == ICT_COMPLETED; break;
    }
    if (!done)
        return false;
    hl_sip *s = tx->sip;
    if (tx->peer.tp == HL_TP_UDP && tr->ctx_type != NICT) /* NICT: late responses are dropped */
        done_add(s, tx->key, &tx->peer, tx->final, tx->final_len);
    /* as if osip had killed it, without its Completed/Confirmed wait */
    cb_kill(0, tr);
    return true;
}

/* A qualify ping's outcome, told once (sip.h: hl_sip_options_ping). */
static void ping_report(hl_tx *tx, int code)
{
    hl_sip_ping_fn fn = tx->ping_fn;
    tx->ping_fn = NULL;
    if (fn)
        fn(tx->ping_arg, (hl_sip_ping *)tx, code);
}

static void tx_free_dead(hl_sip *s)
{
    while (s->dead) {
        hl_tx *tx = s->dead;
        s->dead = tx->next_dead;
        if (tx->purpose == TXP_PING)
            ping_report(tx, 0);   /* ended without an answer (shutdown) */
        /* the ICT may be killed while its dialog waits for a final answer: terminate then */
        hl_sip_dialog *d = tx->d;
        if (d && tx->purpose == TXP_INVITE && !d->terminated && d->state != D_CONFIRMED &&
            d->state != D_ANSWERED && d->state != D_BYE_SENT && !d->inbound)
            d_terminate(d, 408, "timeout");
        if (d && tx->purpose == TXP_BYE && !d->terminated)
            d_terminate(d, 0, "local");
        tx_unlink_dialog(tx);
        osip_transaction_free2(tx->tr);
        free(tx->key);
        free(tx->final);
        free(tx);
    }
}

static void sip_pump(hl_sip *s)
{
    if (s->depth > 0)
        return;
    s->depth++;
    for (;;) {
        while (s->runq) {
            hl_tx *tx = s->runq;
            s->runq = tx->next_run;
            if (!s->runq)
                s->runq_tail = NULL;
            tx->queued = false;
            osip_event_t *evt;
            while (!tx->dead && (evt = osip_fifo_tryget(tx->tr->transactionff)) != NULL)
                osip_transaction_execute(tx->tr, evt);
            if (!tx->dead)
                tx_retire_if_done(tx);
        }
        if (!s->dead)
            break;
        tx_free_dead(s); /* after the run queue is empty: nothing refers to them */
        if (!s->runq)
            break;
    }
    s->depth--;
}

static void idle_cb(uv_idle_t *h)
{
    hl_sip *s = h->data;
    uv_idle_stop(h);
    sip_pump(s);
}

/* ------------------------------------------------------------------ sending */

static int cb_send(osip_transaction_t *tr, osip_message_t *msg, char *host, int port, int sock)
{
    hl_tx *tx = tr ? tr->reserved1 : NULL;
    if (!tx)
        return 0; /* osip's own 2xx retransmission: we do it ourselves */
    char *str = NULL;
    size_t len = 0;
    if (osip_message_to_str(msg, &str, &len) != 0 || !str)
        return -1;
    int rc = hl_transport_send(tx->sip->tp, &tx->peer, str, len);
    /* what a retired transaction must resend: a server's final response, a client's ACK */
    bool keep = tx->peer.tp == HL_TP_UDP &&
                (MSG_IS_RESPONSE(msg) ? msg->status_code >= 200 : MSG_IS_ACK(msg));
    if (keep) {
        free(tx->final);
        tx->final = malloc(len);
        if (tx->final)
            memcpy(tx->final, str, len);
        tx->final_len = tx->final ? len : 0;
    }
    osip_free(str);
    return rc < 0 ? -1 : 0;
}

static void send_raw(hl_sip *s, const hl_peer *to, const char *buf, size_t len)
{
    if (hl_transport_send(s->tp, to, buf, len) < 0) {
        char p[64];
        hl_peer_str(to, p, sizeof p);
        hl_warn("sip", "send to %s/%s failed", p, tp_name(to->tp));
    }
}

static osip_message_t *make_response(hl_sip *s, osip_message_t *req, int code, const char *reason,
                                     const char *to_tag)
{
    osip_message_t *r;
    if (osip_message_init(&r) != 0)
        return NULL;
    osip_message_set_version(r, osip_strdup("SIP/2.0"));
    osip_message_set_status_code(r, code);
    const char *rp = reason ? reason : osip_message_get_reason(code);
    osip_message_set_reason_phrase(r, osip_strdup(rp ? rp : "Unknown"));
    for (int i = 0; i < osip_list_size(&req->vias); i++) {
        osip_via_t *v = osip_list_get(&req->vias, i), *c = NULL;
        if (osip_via_clone(v, &c) == 0)
            osip_list_add(&r->vias, c, -1);
    }
    osip_from_clone(req->from, &r->from);
    osip_to_clone(req->to, &r->to);
    osip_call_id_clone(req->call_id, &r->call_id);
    osip_cseq_clone(req->cseq, &r->cseq);
    osip_generic_param_t *tag = NULL;
    if (r->to)
        osip_to_get_tag(r->to, &tag);
    if (r->to && !tag && to_tag && code > 100)
        osip_to_set_tag(r->to, osip_strdup(to_tag));
    osip_message_set_header(r, "Server", s->ua);
    if (code == 503) {  /* refused for load or rate: say when to come back (RFC 3261 21.5.4) */
        char ra[16];
        snprintf(ra, sizeof ra, "%d", s->retry_after_s);
        osip_message_set_retry_after(r, ra);
    }
    return r;
}

static void add_contact(hl_sip *s, osip_message_t *m, hl_tp tp)
{
    char c[160];
    snprintf(c, sizeof c, "<sip:hotline@%s:%d%s>", s->adv, hl_transport_port(s->tp), tp_param(tp));
    osip_message_set_contact(m, c);
}

/* The option tags of the request's Require headers, as one comma-separated list: we support
 * no extension, so each is one to refuse (RFC 3261 8.2.2.3).  Returns its length, 0 = none. */
static size_t required_options(osip_message_t *m, char *out, size_t n)
{
    size_t o = 0;
    out[0] = 0;
    osip_header_t *h = NULL;
    for (int pos = 0; (pos = osip_message_header_get_byname(m, "require", pos, &h)) >= 0; pos++) {
        const char *v = h && h->hvalue ? h->hvalue : "";
        v += strspn(v, " \t,");
        if (*v && o + 2 + strlen(v) < n)
            o += (size_t)snprintf(out + o, n - o, "%s%s", o ? ", " : "", v);
    }
    return o;
}

/* Responds within a server transaction, with "Warning: warn_code hotline "warning"" when
 * warning is set (RFC 3261 20.43). */
static void tx_respond_warn(hl_tx *tx, osip_message_t *req, int code, const char *reason,
                            const char *to_tag, int warn_code, const char *warning)
{
    osip_message_t *r = make_response(tx->sip, req, code, reason, to_tag);
    if (!r)
        return;
    if (warning) {
        char w[256], wt[200];
        hl_sipmsg_warn_text(warning, wt, sizeof wt);
        snprintf(w, sizeof w, "%03d hotline \"%s\"", warn_code, wt);
        osip_message_set_warning(r, w);
    }
    if (code == 405 || code == 501 || (code == 200 && MSG_IS_OPTIONS(req))) {
        /* REGISTER too when the application takes it (agents' phones) */
        osip_message_set_allow(r, tx->sip->cb.on_register ? HL_SIP_ALLOW ", REGISTER" : HL_SIP_ALLOW);
        if (code == 200)
            osip_message_set_accept(r, "application/sdp");
    }
    char unsupported[256];
    if (code == 420 && required_options(req, unsupported, sizeof unsupported))
        osip_message_set_header(r, "Unsupported", unsupported);
    if (code == 415)
        osip_message_set_accept(r, MSG_IS_INVITE(req) ? "application/sdp"
                                   : "application/sdp, application/dtmf-relay, application/dtmf");
    tx_post(tx, r, false);
}

/* The same with the catch-all warn-code 399 for a text that says why. */
static void tx_respond(hl_tx *tx, osip_message_t *req, int code, const char *reason,
                       const char *to_tag, const char *warning)
{
    tx_respond_warn(tx, req, code, reason, to_tag, 399, warning);
}

/* Responds without a transaction (rate limit): nothing to retransmit. */
static void stateless_respond(hl_sip *s, const hl_peer *to, osip_message_t *req, int code,
                              const char *reason)
{
    char tag[40];
    sip_new_id(s, tag, sizeof tag, "hl");
    osip_message_t *r = make_response(s, req, code, reason, tag);
    if (!r)
        return;
    char *str = NULL;
    size_t len = 0;
    if (osip_message_to_str(r, &str, &len) == 0 && str)
        send_raw(s, to, str, len);
    osip_free(str);
    osip_message_free(r);
}

/* Builds an in-dialog (or initial) request as text; returns its length or -1. */
static int build_request(hl_sip *s, hl_sip_dialog *d, const char *method, const char *ruri,
                         const char *to, uint32_t cseq, const char *branch, const char *extra,
                         const char *ctype, const char *body, char *out, size_t outlen)
{
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(out, outlen,
                     "%s %s SIP/2.0\r\n"
                     "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n"
                     "Contact: <sip:hotline@%s:%d%s>\r\n"
                     "User-Agent: %s\r\n%s%s%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, ruri, tp_name(d->peer.tp), s->adv, hl_transport_port(s->tp), branch,
                     d->local_hdr, to, d->call_id, cseq, method, s->adv,
                     hl_transport_port(s->tp), tp_param(d->peer.tp), s->ua, extra ? extra : "",
                     ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", blen,
                     body ? body : "");
    return (n < 0 || (size_t)n >= outlen) ? -1 : n;
}

/* Starts a client transaction for a request built as text. */
static hl_tx *send_request(hl_sip *s, hl_sip_dialog *d, const char *text, size_t len, tx_purpose p)
{
    osip_message_t *m;
    if (osip_message_init(&m) != 0)
        return NULL;
    if (osip_message_parse(m, text, len) != 0) {
        hl_error("sip", "internal: cannot parse our own request");
        osip_message_free(m);
        return NULL;
    }
    hl_tx *tx = tx_new(s, MSG_IS_INVITE(m) ? ICT : NICT, m, &d->peer, d, p);
    if (!tx) {
        osip_message_free(m);
        return NULL;
    }
    tx_post(tx, m, false);
    return tx;
}

static hl_tx *send_in_dialog(hl_sip *s, hl_sip_dialog *d, const char *method, const char *extra,
                             const char *ctype, const char *body, tx_purpose p)
{
    char branch[48], buf[HL_SIP_MAX_REQUEST];
    sip_new_id(s, branch, sizeof branch, "z9hG4bK");
    int n = build_request(s, d, method, d->remote_target, d->remote_hdr, ++d->local_cseq, branch,
                          extra, ctype, body, buf, sizeof buf);
    if (n < 0)
        return NULL;
    return send_request(s, d, buf, (size_t)n, p);
}

/* Writes our SDP, bumping the version whenever the media changed (RFC 3264 8). */
static int dialog_sdp(hl_sip_dialog *d, const hl_sdp *sdp, char *out, int outlen)
{
    hl_sdp w = *sdp;
    if (d->has_sent) {
        w.sess_id = d->sent.sess_id;
        w.sess_version = d->sent.sess_version + (hl_sdp_same_media(&d->sent, sdp) ? 0 : 1);
    }
    d->sent = w;
    d->has_sent = true;
    return hl_sdp_write(&w, out, outlen);
}

static void send_bye(hl_sip_dialog *d)
{
    d->state = D_BYE_SENT;
    if (!send_in_dialog(d->sip, d, "BYE", NULL, NULL, NULL, TXP_BYE))
        d_terminate(d, 0, "local");
}

/* BYE, then the dialog ends with code.  send_bye already ends (and may free) the dialog
 * when the BYE cannot be sent, so it is held for the second step (found by fuzz_sip: a
 * 2xx never ACKed, to a peer the BYE could not reach). */
static void bye_and_end(hl_sip_dialog *d, int code, const char *reason)
{
    d_ref(d);
    send_bye(d);
    d_terminate(d, code, reason);
    d_unref(d);
}

/* ------------------------------------------------------------------ incoming requests */

static const char *hdr_value(osip_message_t *m, const char *name)
{
    osip_header_t *h = NULL;
    osip_message_header_get_byname(m, name, 0, &h);
    return h && h->hvalue ? h->hvalue : NULL;
}

static bool body_of(osip_message_t *m, const char **buf, size_t *len)
{
    osip_body_t *b = NULL;
    osip_message_get_body(m, 0, &b);
    if (!b || !b->body || b->length == 0)
        return false;
    *buf = b->body;
    *len = b->length;
    return true;
}

static bool ctype_is(osip_message_t *m, const char *type, const char *sub)
{
    osip_content_type_t *ct = m->content_type;
    return ct && ct->type && ct->subtype && strcasecmp(ct->type, type) == 0 &&
           strcasecmp(ct->subtype, sub) == 0;
}

/* Parses the message's SDP; 1 = parsed, 0 = no body, -1 = bad (why set), -2 = a body of
 * another type (why set; an offer of it gets 415, RFC 3261 8.2.3). */
static int msg_sdp(osip_message_t *m, hl_sdp *out, char *why, int whylen)
{
    const char *b;
    size_t len;
    if (!body_of(m, &b, &len))
        return 0;
    if (!ctype_is(m, "application", "sdp")) {
        snprintf(why, (size_t)whylen, "body is not application/sdp");
        return -2;
    }
    return hl_sdp_parse(b, (int)len, out, why, whylen) == 0 ? 1 : -1;
}

static char *uri_str(osip_uri_t *u)
{
    char *s = NULL;
    if (!u || osip_uri_to_str(u, &s) != 0)
        return NULL;
    char *r = strdup(s);
    osip_free(s);
    return r;
}

static char *from_str(osip_from_t *f)
{
    char *s = NULL;
    if (!f || osip_from_to_str(f, &s) != 0)
        return NULL;
    char *r = strdup(s);
    osip_free(s);
    return r;
}

static void update_target(hl_sip_dialog *d, osip_message_t *m)
{
    osip_contact_t *c = NULL;
    osip_message_get_contact(m, 0, &c);
    char *t = c ? uri_str(c->url) : NULL;
    if (t) {
        free(d->remote_target);
        d->remote_target = t;
    }
}

/* What a request asks that we cannot do at all (RFC 3261 8.2.2): a Request-URI scheme
 * other than sip, sips or tel (416), an extension it requires (420).  Returns that status
 * with why set, or 0. */
static int unsupported_request(osip_message_t *m, char *why, size_t n)
{
    const char *sc = m->req_uri->scheme;
    if (strcasecmp(sc, "sip") != 0 && strcasecmp(sc, "sips") != 0 && strcasecmp(sc, "tel") != 0) {
        snprintf(why, n, "Request-URI scheme %.40s is not supported", sc);
        return 416;
    }
    char req[128];
    if (required_options(m, req, sizeof req)) {
        snprintf(why, n, "Require: %.100s: no extension is supported", req);
        return 420;
    }
    return 0;
}

/* Refuses a new INVITE before any call took it: the response (with a Warning when one is
 * given), a log line saying why, and on_invite_refused so that the refusal gets a CDR. */
static void refuse_new_invite(hl_sip *s, hl_sip_dialog *d, hl_tx *tx, osip_message_t *m,
                              const hl_sip_invite_info *info, int code, const char *cause,
                              int warn_code, const char *warning)
{
    tx_respond_warn(tx, m, code, NULL, d->local_tag, warn_code, warning);
    if (!d->refuse_quiet)
        hl_info("sip", "refused INVITE %s from %s (%s): %d %s%s%s", info->request_uri, info->source,
                info->call_id, code, cause, warning ? ": " : "", warning ? warning : "");
    d->app_gone = true;
    if (s->cb.on_invite_refused && !d->refuse_quiet)
        s->cb.on_invite_refused(s->app, info, code, cause);
    d_terminate(d, code, "rejected");
}

/* Fills the dialog from a new INVITE; false when From, To or Contact cannot be kept. */
static bool invite_dialog_init(hl_sip_dialog *d, osip_message_t *m, const hl_peer *from)
{
    char *cid = NULL;
    osip_call_id_to_str(m->call_id, &cid);
    snprintf(d->call_id, sizeof d->call_id, "%s", cid ? cid : "");
    osip_free(cid);
    osip_generic_param_t *ft = NULL;
    osip_from_get_tag(m->from, &ft);
    snprintf(d->remote_tag, sizeof d->remote_tag, "%s", ft && ft->gvalue ? ft->gvalue : "");
    d->remote_hdr = from_str(m->from);
    char *to = from_str(m->to);
    if (to && asprintf(&d->local_hdr, "%s;tag=%s", to, d->local_tag) < 0)
        d->local_hdr = NULL;
    free(to);
    d->remote_target = uri_str(m->from->url);
    update_target(d, m);
    d->remote_cseq = (uint32_t)strtoul(m->cseq->number, NULL, 10);
    d->peer = *from;
    d->state = D_EARLY_IN;
    snprintf(d->uas_key, sizeof d->uas_key, "%s|%s", d->call_id, d->remote_tag);
    return d->local_hdr && d->remote_hdr && d->remote_target;
}

/* A new INVITE with its dialog set up: checks what the stack checks, then asks the app. */
static void invite_offer(hl_sip *s, hl_sip_dialog *d, hl_tx *tx, osip_message_t *m,
                         hl_sip_invite_info *info)
{
    hl_map_put(&s->dlg_tag, d->local_tag, d);
    hl_map_put(&s->dlg_uas, d->uas_key, d);
    tx_respond(tx, m, 100, NULL, NULL, NULL);
    char why[160];
    int code = unsupported_request(m, why, sizeof why);
    if (code) {
        refuse_new_invite(s, d, tx, m, info, code, code == 416 ? "416-uri-scheme" : "420-require",
                          399, why);
        return;
    }
    int r = msg_sdp(m, &d->remote, why, sizeof why);
    if (r < 0) {
        refuse_new_invite(s, d, tx, m, info, r == -2 ? 415 : 488,
                          r == -2 ? "415-body-type" : "488-bad-sdp", 399, why);
        return;
    }
    d->has_remote = r > 0;
    info->offer = d->has_remote ? &d->remote : NULL;
    if (s->shutting) {
        refuse_new_invite(s, d, tx, m, info, 503, "503-shutdown", 0, NULL);
        return;
    }
    hl_info("sip", "INVITE %s from %s (%s)", info->request_uri, info->source, d->call_id);
    int rc = s->cb.on_invite ? s->cb.on_invite(s->app, d, info) : 503;
    if (rc >= 300 && !d->terminated) {
        char code[16];
        snprintf(code, sizeof code, "%d", rc);
        refuse_new_invite(s, d, tx, m, info, rc, d->refuse_cause[0] ? d->refuse_cause : code,
                          d->warn_code, d->warn_code ? d->warning : NULL);
    }
}

static void handle_new_invite(hl_sip *s, hl_tx *tx, osip_message_t *m, const hl_peer *from)
{
    hl_sip_dialog *d = d_new(s, true);
    if (!d) {
        tx_respond(tx, m, 500, NULL, NULL, "out of memory");
        return;
    }
    bool ok = invite_dialog_init(d, m, from);
    tx->d = d;
    d_ref(d);
    d->ist = tx;
    char src[80], psrc[64];
    hl_peer_str(from, psrc, sizeof psrc);
    snprintf(src, sizeof src, "%s/%s", psrc, from->tp == HL_TP_TCP ? "tcp" : "udp");
    char *from_uri = uri_str(m->from->url), *ruri = uri_str(m->req_uri);
    hl_sip_invite_info info = {
        .call_id = d->call_id,
        .from_user = m->from->url->username ? m->from->url->username : "",
        .from_uri = from_uri ? from_uri : "",
        .to_user = m->to->url->username ? m->to->url->username : "",
        .request_uri = ruri ? ruri : "",
        .source = src,
        .pai = hdr_value(m, "p-asserted-identity"),
    };
    hl_peer_ip16(from, info.source_ip);
    if (!ok)
        refuse_new_invite(s, d, tx, m, &info, 400, "400-bad-from-to", 399, "bad From/To/Contact");
    else
        invite_offer(s, d, tx, m, &info);
    free(from_uri);
    free(ruri);
}

/* Sends a 2xx carrying our SDP on a server INVITE transaction and retransmits it until ACK. */
static int answer_invite(hl_sip_dialog *d, hl_tx *tx, int cseq)
{
    hl_sip *s = d->sip;
    osip_message_t *req = tx->tr->orig_request;
    if (!req)
        return -1;
    hl_sdp ans;
    if (d->has_remote) {
        if (hl_sdp_negotiate(&d->remote, &d->local, &ans) < 0)
            return -1;
    } else {
        ans = d->local; /* they did not offer: we offer in the 2xx, they answer in the ACK */
    }
    char sdp[HL_SIP_MAX_SDP];
    int sl = dialog_sdp(d, &ans, sdp, sizeof sdp);
    if (sl < 0)
        return -1;
    osip_message_t *r = make_response(s, req, 200, NULL, d->local_tag);
    if (!r)
        return -1;
    add_contact(s, r, d->peer.tp);
    osip_message_set_allow(r, HL_SIP_ALLOW);
    osip_message_set_content_type(r, "application/sdp");
    osip_message_set_body(r, sdp, (size_t)sl);
    char *str = NULL;
    size_t len = 0;
    if (osip_message_to_str(r, &str, &len) != 0 || !str) {
        osip_message_free(r);
        return -1;
    }
    free(d->resp2xx);
    d->resp2xx = malloc(len);
    if (d->resp2xx)
        memcpy(d->resp2xx, str, len);
    d->resp2xx_len = d->resp2xx ? len : 0;
    osip_free(str);
    tx_post(tx, r, false);
    wait_add(d, (uint32_t)cseq);
    return 0;
}

static void handle_reinvite(hl_sip *s, hl_sip_dialog *d, hl_tx *tx, osip_message_t *m)
{
    if (d->state != D_CONFIRMED || d->reinv) {
        tx_respond(tx, m, 491, NULL, NULL, NULL);
        return;
    }
    char why[128];
    hl_sdp offer;
    int r = msg_sdp(m, &offer, why, sizeof why);
    if (r < 0) {
        tx_respond(tx, m, r == -2 ? 415 : 488, NULL, NULL, why);
        return;
    }
    if (r > 0 && offer.ipv6 && d->has_local && !d->local.ipv6) {
        /* the session goes on as it was (RFC 3264 8): our media cannot reach the new one */
        hl_info("sip", "488 to a re-INVITE in %s: %s", d->call_id, HL_SIP_WARN_IPV6_TEXT);
        tx_respond_warn(tx, m, 488, NULL, NULL, HL_SIP_WARN_ADDRESS_FORMAT, HL_SIP_WARN_IPV6_TEXT);
        return;
    }
    d->remote_cseq = (uint32_t)strtoul(m->cseq->number, NULL, 10);
    update_target(d, m);
    tx->d = d;
    d_ref(d);
    d->reinv = tx;
    if (r > 0) {
        d->remote = offer;
        d->has_remote = true;
        if (s->cb.on_reoffer && !d->app_gone)
            s->cb.on_reoffer(d->app, d, &offer);
        if (d->terminated)
            return;
    } else {
        d->has_remote = false; /* we offer; the answer comes in the ACK */
    }
    tx_respond(tx, m, 100, NULL, NULL, NULL);
    if (answer_invite(d, tx, (int)d->remote_cseq) < 0)
        tx_respond(tx, m, 488, NULL, NULL, "no common codec");
}

static void handle_ack(hl_sip *s, osip_message_t *m)
{
    osip_generic_param_t *tt = NULL;
    osip_to_get_tag(m->to, &tt);
    hl_sip_dialog *d = tt && tt->gvalue ? hl_map_get(&s->dlg_tag, tt->gvalue) : NULL;
    if (!d || !d->waiting_ack || strtoul(m->cseq->number, NULL, 10) != d->ack_cseq)
        return; /* ACK to nothing we wait for: dropped, as RFC 3261 says */
    wait_remove(d);
    /* the 2xx copy is only for retransmission until this ACK: ~0.7 KB per call saved */
    free(d->resp2xx);
    d->resp2xx = NULL;
    d->resp2xx_len = 0;
    hl_sdp ans;
    char why[128];
    if (!d->has_remote && msg_sdp(m, &ans, why, sizeof why) > 0) {
        d->remote = ans;
        d->has_remote = true;
        if (s->cb.on_reoffer && !d->app_gone)
            s->cb.on_reoffer(d->app, d, &ans);
    }
    if (d->terminated)
        return;
    if (d->state == D_ANSWERED) {
        d->state = D_CONFIRMED;
        if (d->bye_pending) {
            send_bye(d);
            return;
        }
        if (s->cb.on_confirmed && !d->app_gone)
            s->cb.on_confirmed(d->app, d);
    }
}

static void handle_cancel(hl_sip *s, hl_tx *tx, osip_message_t *m)
{
    char key[320];
    tx_key(m, true, key, sizeof key);
    /* the CANCEL's key names CANCEL; the INVITE's differs only in the method */
    char *bar = strrchr(key, '|');
    if (bar)
        snprintf(bar + 1, sizeof key - (size_t)(bar + 1 - key), "INVITE");
    hl_tx *ist = hl_map_get(&s->txs, key);
    if (!ist || ist->dead || !ist->tr->orig_request) {
        /* an INVITE already answered finally: the CANCEL has no effect (RFC 3261 9.2) */
        bool answered = hl_map_get(&s->done_map, key) != NULL;
        tx_respond(tx, m, answered ? 200 : 481, NULL, NULL, NULL);
        return;
    }
    tx_respond(tx, m, 200, NULL, ist->d ? ist->d->local_tag : NULL, NULL);
    hl_sip_dialog *d = ist->d;
    if (d && d->state == D_EARLY_IN && !d->terminated) {
        tx_respond(ist, ist->tr->orig_request, 487, NULL, d->local_tag, NULL);
        hl_info("sip", "CANCEL of %s", d->call_id);
        d_terminate(d, 487, "cancel");
    }
}

/* "Signal=5\r\nDuration=160" or "5" */
static int parse_info_dtmf(osip_message_t *m, char *digit, int *dur)
{
    const char *b;
    size_t len;
    if (!body_of(m, &b, &len))
        return -1;
    char buf[256];
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, b, len);
    buf[len] = 0;
    *dur = HL_SIP_DEFAULT_DTMF_MS;
    char *sig = buf;
    if (ctype_is(m, "application", "dtmf-relay")) {
        sig = strcasestr(buf, "Signal=");
        if (!sig)
            return -1;
        sig += 7;
        char *du = strcasestr(buf, "Duration=");
        if (du) {
            int v = atoi(du + 9);
            if (v > 0 && v < 60000)
                *dur = v;
        }
    }
    while (*sig == ' ')
        sig++;
    char c = (char)toupper((unsigned char)sig[0]);
    if (sig[0] == '1' && (sig[1] == '0' || sig[1] == '1') && !isdigit((unsigned char)sig[2]))
        c = sig[1] == '0' ? '*' : '#'; /* events 10 and 11 as numbers */
    if (!((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D')))
        return -1;
    *digit = c;
    return 0;
}

static void handle_info(hl_sip *s, hl_sip_dialog *d, hl_tx *tx, osip_message_t *m)
{
    const char *b;
    size_t len;
    if (!body_of(m, &b, &len)) {
        tx_respond(tx, m, 200, NULL, NULL, NULL);
        return;
    }
    if (!ctype_is(m, "application", "dtmf-relay") && !ctype_is(m, "application", "dtmf")) {
        tx_respond(tx, m, 415, NULL, NULL, NULL);
        return;
    }
    char digit;
    int dur;
    if (parse_info_dtmf(m, &digit, &dur) < 0) {
        tx_respond(tx, m, 400, NULL, NULL, "bad DTMF body");
        return;
    }
    tx_respond(tx, m, 200, NULL, NULL, NULL);
    if (s->cb.on_info_dtmf && !d->app_gone)
        s->cb.on_info_dtmf(d->app, d, digit, dur);
}

static void handle_notify(hl_sip *s, hl_sip_dialog *d, hl_tx *tx, osip_message_t *m)
{
    tx_respond(tx, m, 200, NULL, NULL, NULL);
    const char *ev = hdr_value(m, "event");
    if (!ev)
        ev = hdr_value(m, "o");
    const char *b;
    size_t len;
    if (!ev || strncasecmp(ev, "refer", 5) != 0 || !body_of(m, &b, &len))
        return;
    /* message/sipfrag: "SIP/2.0 200 OK" */
    if (len >= 11 && memcmp(b, "SIP/2.0 ", 8) == 0 && isdigit((unsigned char)b[8]) &&
        isdigit((unsigned char)b[9]) && isdigit((unsigned char)b[10])) {
        int code = (b[8] - '0') * 100 + (b[9] - '0') * 10 + (b[10] - '0');
        if (s->cb.on_refer_status && !d->app_gone)
            s->cb.on_refer_status(d->app, d, code);
    }
}

/* ---- REFER received (blind transfer from the far end's phone, RFC 3515) ---- */

/* Characters a transfer target's user part may have once %-decoded: a number, a queue or
 * agent name; anything else would reach the call layer's log and routing. */
#define REFER_USER_CHARS "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ*#+._-"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The user part of a sip:/sips:/tel: URI, %-decoded, into out; "" when it has none or a
 * character outside REFER_USER_CHARS. */
static void refer_user(const char *uri, char *out, size_t n)
{
    const char *u = strchr(uri, ':') + 1;
    size_t len = strncasecmp(uri, "tel:", 4) == 0 ? strcspn(u, ";") : strcspn(u, "@");
    out[0] = 0;
    if (strncasecmp(uri, "tel:", 4) != 0 && !u[len])
        return;                       /* sip:host: no user */
    len = strcspn(u, ";:") < len ? strcspn(u, ";:") : len;   /* user params, password */
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        char c = u[i];
        if (c == '%' && i + 2 < len + 1 && hexval(u[i + 1]) >= 0 && hexval(u[i + 2]) >= 0) {
            c = (char)(hexval(u[i + 1]) * 16 + hexval(u[i + 2]));
            i += 2;
        }
        if (!c || !strchr(REFER_USER_CHARS, c)) {
            out[0] = 0;
            return;
        }
        out[o++] = c;
    }
    out[o] = 0;
}

/* The Refer-To URI (without display name, <>, parameters outside <> and ?headers — a
 * Replaces there asks for an attended transfer, which is not taken) and its user part.
 * -1 when there is no sip:, sips: or tel: URI. */
static int refer_target(osip_message_t *m, char *target, size_t tn, char *user, size_t un)
{
    const char *v = hdr_value(m, "refer-to");
    if (!v)
        v = hdr_value(m, "r");
    if (!v)
        return -1;
    const char *lt = strchr(v, '<');
    const char *p = lt ? lt + 1 : v + strspn(v, " \t");
    size_t n = lt ? strcspn(p, ">") : strcspn(p, "; \t");
    if (lt && !p[n])
        return -1;                    /* an unclosed < */
    if (strcspn(p, "?") < n)
        n = strcspn(p, "?");
    if (!n || n >= tn)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == '"' || p[i] == 127)
            return -1;
    snprintf(target, tn, "%.*s", (int)n, p);
    if (strncasecmp(target, "sip:", 4) && strncasecmp(target, "sips:", 5) && strncasecmp(target, "tel:", 4))
        return -1;
    refer_user(target, user, un);
    return 0;
}

/* NOTIFY of an accepted REFER's progress: sipfrag "SIP/2.0 code phrase"; a final code ends
 * the implicit subscription (RFC 3515 2.4.5). */
static int refer_notify(hl_sip_dialog *d, int code)
{
    bool final = code >= 200;
    const char *phrase = osip_message_get_reason(code);
    char extra[128], body[96];
    snprintf(extra, sizeof extra, "Event: refer\r\nSubscription-State: %s\r\n",
             final ? "terminated;reason=noresource" : "active;expires=60");
    snprintf(body, sizeof body, "SIP/2.0 %d %s\r\n", code, phrase ? phrase : "Unknown");
    if (final)
        d->refer_active = false;
    return send_in_dialog(d->sip, d, "NOTIFY", extra, "message/sipfrag;version=2.0", body,
                          TXP_OTHER) ? 0 : -1;
}

static void handle_refer(hl_sip *s, hl_sip_dialog *d, hl_tx *tx, osip_message_t *m)
{
    char target[256], user[128];
    if (refer_target(m, target, sizeof target, user, sizeof user) != 0) {
        tx_respond(tx, m, 400, NULL, NULL, "Refer-To must name one sip:, sips: or tel: URI");
        return;
    }
    if (d->state != D_CONFIRMED) {
        tx_respond(tx, m, 403, NULL, NULL, "a transfer is taken only once the call is up");
        return;
    }
    if (d->refer_active) {
        tx_respond(tx, m, 491, NULL, NULL, "a transfer of this call is already in progress");
        return;
    }
    int code = s->cb.on_refer && !d->app_gone ? s->cb.on_refer(d->app, d, target, user) : 403;
    if (code != 202) {
        code = code >= 300 && code <= 699 ? code : 403;
        hl_info("sip", "REFER to %s in %s refused: %d", target, d->call_id, code);
        tx_respond(tx, m, code, NULL, NULL, code == 403 ? "transfer not allowed here" : NULL);
        return;
    }
    hl_info("sip", "REFER to %s in %s accepted", target, d->call_id);
    tx_respond(tx, m, 202, NULL, NULL, NULL);
    d->refer_active = true;
    refer_notify(d, 100);
}

/* One out-of-dialog request (or junk) from a source: admitted, refused (503) or dropped. */
static hl_rate_verdict admit(hl_sip *s, const hl_peer *from)
{
    uint8_t ip16[16];
    hl_peer_ip16(from, ip16);
    int own = s->cb.source_rate ? s->cb.source_rate(s->app, ip16) : 0;  /* a trunk's own limit */
    hl_rate_verdict v = hl_rate_check_at(s->rate, ip16, sip_now(s), own);
    if (v == HL_RATE_REFUSE) {
        s->stats.rate_refused++;
    } else if (v == HL_RATE_BANNED) {
        char ip[48];
        hl_ip16_str(ip16, ip, sizeof ip);
        s->stats.bans++;
        hl_warn("sip", "banned %s for %d ms: over %d requests in a second (sip_ban_factor x "
                "sip_rate_per_sec); lift with 'hotline ctl ban remove %s'", ip, s->rate_cfg.ban_ms,
                s->rate_cfg.per_sec * s->rate_cfg.ban_factor, ip);
        s->stats.banned_dropped++;
        v = HL_RATE_DROP;
    } else if (v == HL_RATE_DROP) {
        s->stats.banned_dropped++;
    }
    return v;
}

/* Max-Forwards 0: 483 Too Many Hops (RFC 3261 16.3 step 2) — a request that has used up
 * its hops is looping somewhere, and answering it ends the loop.  OPTIONS is the exception
 * the RFC allows (the element may answer it as the final recipient), so a probe with
 * Max-Forwards 0 still tells the sender we are alive.  sip_msg.c has already refused a
 * value that is not a number, so strtol sees only digits here. */
static bool out_of_hops(osip_message_t *m)
{
    const char *mf = hdr_value(m, "max-forwards");
    return mf && !MSG_IS_OPTIONS(m) && strtol(mf, NULL, 10) == 0;
}

static void handle_register(hl_sip *s, hl_tx *tx, osip_message_t *m, const hl_peer *from);

static void handle_request(hl_sip *s, const hl_peer *from, osip_message_t *m)
{
    char ip[64];
    hl_peer_str(from, ip, sizeof ip);
    char *colon = strrchr(ip, ':');
    int port = colon ? atoi(colon + 1) : 0;
    if (colon) *colon = 0;
    if (ip[0] == '[') { memmove(ip, ip + 1, strlen(ip)); ip[strlen(ip) - 1] = 0; }
    osip_message_fix_last_via_header(m, ip, port); /* received= / rport= for symmetric replies */

    char key[320];
    tx_key(m, true, key, sizeof key);
    hl_tx *tx = hl_map_get(&s->txs, key);
    if (tx && !tx->dead) {
        tx_post(tx, m, true); /* retransmission, or ACK to a non-2xx */
        return;
    }
    hl_done *done = hl_map_get(&s->done_map, key);
    if (done) {
        /* a retired transaction: its final response again (an ACK is only absorbed) */
        if (done->len && !MSG_IS_ACK(m))
            send_raw(s, from, done->text, done->len);
        osip_message_free(m);
        return;
    }
    if (MSG_IS_ACK(m)) {
        handle_ack(s, m);
        osip_message_free(m);
        return;
    }
    osip_generic_param_t *tt = NULL;
    osip_to_get_tag(m->to, &tt);
    const char *to_tag = tt && tt->gvalue ? tt->gvalue : NULL;
    hl_sip_dialog *d = NULL;
    if (to_tag) {
        d = hl_map_get(&s->dlg_tag, to_tag);
        char *cid = NULL;
        osip_call_id_to_str(m->call_id, &cid);
        if (d && (!cid || strcmp(cid, d->call_id) != 0))
            d = NULL;
        osip_free(cid);
    } else if (MSG_IS_INVITE(m)) {
        /* initial INVITE again after its transaction ended: the same 2xx */
        char *cid = NULL, uk[256];
        osip_generic_param_t *ft = NULL;
        osip_call_id_to_str(m->call_id, &cid);
        osip_from_get_tag(m->from, &ft);
        snprintf(uk, sizeof uk, "%s|%s", cid ? cid : "", ft && ft->gvalue ? ft->gvalue : "");
        osip_free(cid);
        hl_sip_dialog *od = hl_map_get(&s->dlg_uas, uk);
        char dk[sizeof uk + 2];
        snprintf(dk, sizeof dk, "d|%s", uk);
        if (od || hl_map_get(&s->done_map, dk)) { /* live, or ended: absorbed */
            if (od && !od->terminated && od->state == D_ANSWERED && od->resp2xx)
                send_raw(s, from, od->resp2xx, od->resp2xx_len);
            osip_message_free(m);
            return;
        }
    }
    if (!d) {
        hl_rate_verdict v = admit(s, from);
        if (v == HL_RATE_OK && s->overloaded && MSG_IS_INVITE(m)) {
            s->stats.overload_refused++;
            stateless_respond(s, from, m, 503, "Overloaded");
            osip_message_free(m);
            return;
        }
        if (v != HL_RATE_OK) {
            if (v == HL_RATE_REFUSE)
                stateless_respond(s, from, m, 503, "Rate Limited");
            hl_debug("sip", "rate limit: %s from %s", m->sip_method, ip);
            osip_message_free(m);
            return;
        }
    }
    tx = tx_new(s, MSG_IS_INVITE(m) ? IST : NIST, m, from, NULL, TXP_OTHER);
    if (!tx) {
        hl_error("sip", "cannot create a transaction for %s", m->sip_method);
        osip_message_free(m);
        return;
    }
    /* run the request through the new transaction now, so that it is in Proceeding/Trying
     * with m as its orig_request before anything answers it (nothing re-enters here: no
     * app callback is registered for server-side receive events) */
    tx_post(tx, m, true);
    osip_event_t *evt;
    while (!tx->dead && (evt = osip_fifo_tryget(tx->tr->transactionff)) != NULL)
        osip_transaction_execute(tx->tr, evt);
    if (tx->dead || tx->tr->orig_request != m)
        return; /* osip refused it (it freed m) */

    /* the method first (RFC 3261 8.2.1): a method we do not take is refused whatever its
     * hops; sip_msg.c has answered the ones we do not know (501) already */
    hl_method_class mc = hl_sipmsg_method_class(m->sip_method, strlen(m->sip_method));
    if (MSG_IS_REGISTER(m) && !to_tag && s->cb.on_register && !out_of_hops(m)) {
        handle_register(s, tx, m, from);
        return;
    }
    if (mc != HL_METHOD_SUPPORTED) {
        tx_respond(tx, m, mc == HL_METHOD_NOT_ALLOWED ? 405 : 501, NULL, NULL, NULL);
        return;
    }
    char tag[40], why[160];
    sip_new_id(s, tag, sizeof tag, "hl");
    if (out_of_hops(m)) {
        hl_info("sip", "483 to %s:%d: %s with Max-Forwards 0", ip, port, m->sip_method);
        tx_respond(tx, m, 483, NULL, to_tag ? NULL : tag, NULL);
        return;
    }
    /* a new INVITE is checked as it is offered, so that its refusal gets a CDR */
    int code = MSG_IS_CANCEL(m) || (MSG_IS_INVITE(m) && !to_tag) ? 0
             : unsupported_request(m, why, sizeof why);
    if (code) {
        hl_info("sip", "%d to %s:%d: %s: %s", code, ip, port, m->sip_method, why);
        tx_respond(tx, m, code, NULL, to_tag ? NULL : tag, why);
        return;
    }
    if (MSG_IS_CANCEL(m)) {
        handle_cancel(s, tx, m);
    } else if (MSG_IS_OPTIONS(m)) {
        tx_respond(tx, m, 200, NULL, d ? d->local_tag : "hl-options", NULL);
    } else if (to_tag && !d) {
        if (MSG_IS_INVITE(m)) /* every refused INVITE is logged; this one starts no call */
            hl_info("sip", "481 to %s:%d: INVITE in a dialog we do not have (%s)", ip, port,
                    m->call_id->number);
        tx_respond(tx, m, 481, NULL, NULL, NULL);
    } else if (MSG_IS_INVITE(m)) {
        if (d) handle_reinvite(s, d, tx, m);
        else handle_new_invite(s, tx, m, from);
    } else if (!d) {
        tx_respond(tx, m, 481, NULL, NULL, NULL); /* BYE/INFO/NOTIFY/REFER need a dialog */
    } else if (MSG_IS_BYE(m)) {
        tx_respond(tx, m, 200, NULL, NULL, NULL);
        if (d->state == D_EARLY_IN && d->ist && d->ist->tr->orig_request)
            tx_respond(d->ist, d->ist->tr->orig_request, 487, NULL, d->local_tag, NULL);
        d_terminate(d, 0, "bye");
    } else if (MSG_IS_INFO(m)) {
        handle_info(s, d, tx, m);
    } else if (MSG_IS_NOTIFY(m)) {
        handle_notify(s, d, tx, m);
    } else if (MSG_IS_REFER(m)) {
        handle_refer(s, d, tx, m);
    }
}

/* ------------------------------------------------------------------ REGISTER */

/* An Expires value (delta-seconds, RFC 3261 20.19): -1 when absent or not 1*DIGIT (then
 * the application's default applies, never a removal); a huge one is cut to INT_MAX. */
static int expires_value(const char *v)
{
    if (!v)
        return -1;
    v += strspn(v, " \t");
    size_t n = strspn(v, "0123456789");
    if (!n || v[n + strspn(v + n, " \t")])
        return -1;
    errno = 0;
    long long x = strtoll(v, NULL, 10);
    return errno || x > INT_MAX ? INT_MAX : (int)x;
}

/* The request-level facts of a REGISTER (RFC 3261 10.2): its Contacts with their own
 * expires, the Expires header, "*".  -1 when it cannot be answered (too many Contacts). */
static int register_contacts(osip_message_t *m, hl_sip_register_info *in, char uris[][256])
{
    in->expires = expires_value(hdr_value(m, "expires"));
    osip_contact_t *c = NULL;
    for (int i = 0; osip_message_get_contact(m, i, &c) >= 0 && c; i++) {
        if (!c->url && c->displayname && !strcmp(c->displayname, "*")) {
            in->star = true;
            continue;
        }
        if (in->n_contacts == HL_SIP_REG_CONTACTS_MAX || !c->url)
            return -1;
        char *u = NULL;
        osip_uri_to_str(c->url, &u);
        snprintf(uris[in->n_contacts], 256, "%s", u ? u : "");
        osip_free(u);
        osip_generic_param_t *p = NULL;
        osip_contact_param_get_byname(c, "expires", &p);
        in->contact_expires[in->n_contacts] = p ? expires_value(p->gvalue) : -1;
        in->contacts[in->n_contacts] = uris[in->n_contacts];
        in->n_contacts++;
    }
    return 0;
}

/* The username of the request's first Digest Authorization, into out ("" = none). */
static void register_auth_user(osip_message_t *m, char *out, size_t n)
{
    osip_authorization_t *a = NULL;
    out[0] = 0;
    if (osip_message_get_authorization(m, 0, &a) >= 0 && a && a->username) {
        const char *u = a->username;
        size_t len = strlen(u);
        if (len >= 2 && u[0] == '"' && u[len - 1] == '"')
            snprintf(out, n, "%.*s", (int)(len - 2), u + 1);
        else
            snprintf(out, n, "%s", u);
    }
}

/* One challenge per algorithm of the list ("SHA-256,MD5"), in its order: the preferred
 * first (RFC 7616 3.7); a token that is neither is skipped. */
static void add_challenges(hl_sip *s, osip_message_t *r, const char *realm, bool stale,
                           const char *algorithms)
{
    char nonce[HL_DIGEST_NONCE_LEN], value[HL_DIGEST_NONCE_LEN + 320];
    hl_digest_nonce_serial(s->digest_key, sip_now(s), ++s->nonce_serial, nonce);
    for (const char *p = algorithms ? algorithms : "MD5"; *p;) {
        size_t n = strcspn(p, ",");
        bool known = (n == 7 && !strncmp(p, "SHA-256", 7)) || (n == 3 && !strncmp(p, "MD5", 3));
        const char *alg = p;
        p += n + (p[n] == ',');
        if (!known)
            continue;
        snprintf(value, sizeof value, "Digest realm=\"%s\", nonce=\"%s\", algorithm=%.*s, "
                 "qop=\"auth\"%s", realm, nonce, (int)n, alg, stale ? ", stale=true" : "");
        osip_message_set_www_authenticate(r, value);
    }
}

static void register_respond(hl_sip *s, hl_tx *tx, osip_message_t *m, const hl_sip_register_reply *o)
{
    int code = o->code ? o->code : 500;
    char tag[40];
    sip_new_id(s, tag, sizeof tag, "hl");
    osip_message_t *r = make_response(s, m, code, o->reason, tag);
    if (!r)
        return;
    if (code == 401 && o->realm)
        add_challenges(s, r, o->realm, o->stale, o->algorithms);
    if (code == 423) {
        char v[16];
        snprintf(v, sizeof v, "%d", o->min_expires);
        osip_message_set_header(r, "Min-Expires", v);
    }
    for (int i = 0; code == 200 && i < o->n_contacts && i < HL_SIP_REG_CONTACTS_MAX; i++) {
        char c[320];
        snprintf(c, sizeof c, "<%s>;expires=%d", o->contacts[i], o->expires[i]);
        osip_message_set_contact(r, c);
    }
    if (o->warning && code >= 400) {
        char w[256], wt[200];
        hl_sipmsg_warn_text(o->warning, wt, sizeof wt);
        snprintf(w, sizeof w, "399 hotline \"%s\"", wt);
        osip_message_set_warning(r, w);
    }
    tx_post(tx, r, false);
}

static void handle_register(hl_sip *s, hl_tx *tx, osip_message_t *m, const hl_peer *from)
{
    char uris[HL_SIP_REG_CONTACTS_MAX][256], source[80], auth_user[128], *cid = NULL;
    hl_peer_str(from, source, sizeof source);
    snprintf(source + strlen(source), sizeof source - strlen(source), "/%s",
             from->tp == HL_TP_TCP ? "tcp" : "udp");
    hl_sip_register_info in = { .aor_user = m->to && m->to->url ? m->to->url->username : NULL,
                                .source = source, .priv = m };
    hl_peer_ip16(from, in.source_ip);
    osip_call_id_to_str(m->call_id, &cid);
    in.call_id = cid ? cid : "";
    register_auth_user(m, auth_user, sizeof auth_user);
    in.auth_user = auth_user[0] ? auth_user : NULL;
    hl_sip_register_reply out = { 0 };
    if (!in.aor_user || register_contacts(m, &in, uris) != 0) {
        out.code = 400;
        out.warning = in.aor_user ? "too many Contact values" : "no user in To";
    } else {
        s->cb.on_register(s->app, &in, &out);
    }
    register_respond(s, tx, m, &out);
    osip_free(cid);
}

/* A request's Authorization for realm against an account's HA1s (hl_sip_register_verify,
 * hl_sip_dialog_verify). */
static hl_sip_auth verify_request(hl_sip *s, osip_message_t *m, const char *realm,
                                  const char *ha1_md5, const char *ha1_sha256)
{
    osip_authorization_t *a = NULL;
    for (int i = 0; osip_message_get_authorization(m, i, &a) >= 0 && a; i++) {
        char *value = NULL;
        hl_digest d;
        bool sha256 = false;
        int rc = osip_authorization_to_str(a, &value) == 0 && value
                 ? hl_digest_parse_any(value, &d, &sha256) : -1;
        osip_free(value);
        if (rc != 0 || strcmp(d.realm, realm) != 0)
            continue;
        const char *ha1 = sha256 ? ha1_sha256 : ha1_md5;
        if (!ha1)   /* an algorithm we did not offer: ask again */
            return HL_SIP_AUTH_NONE;
        hl_nonce_state ns = hl_digest_nonce_state(s->digest_key, d.nonce, sip_now(s));
        if (!*ha1 || ns == HL_NONCE_FORGED)
            return HL_SIP_AUTH_WRONG;
        char want[65];
        hl_digest_response_ha1(sha256, &d, m->sip_method, ha1, want);
        if (!hl_digest_same(d.response, want))
            return HL_SIP_AUTH_WRONG;
        if (ns == HL_NONCE_STALE)
            return HL_SIP_AUTH_STALE;
        return hl_nonce_seen_use(s->nonces_used, d.nonce, d.nc, sip_now(s)) ? HL_SIP_AUTH_OK
                                                                           : HL_SIP_AUTH_REPLAY;
    }
    return HL_SIP_AUTH_NONE;
}

hl_sip_auth hl_sip_register_verify(hl_sip *s, const hl_sip_register_info *in, const char *realm,
                                   const char *ha1_md5, const char *ha1_sha256)
{
    return verify_request(s, (osip_message_t *)in->priv, realm, ha1_md5, ha1_sha256);
}

/* ------------------------------------------------------------------ incoming responses */

static void handle_stray_response(hl_sip *s, osip_message_t *m)
{
    /* a retransmitted 2xx to our INVITE after the ICT ended: ACK it again */
    if (m->status_code < 200 || m->status_code >= 300 || strcmp(m->cseq->method, "INVITE") != 0)
        return;
    osip_generic_param_t *ft = NULL;
    osip_from_get_tag(m->from, &ft);
    hl_sip_dialog *d = ft && ft->gvalue ? hl_map_get(&s->dlg_tag, ft->gvalue) : NULL;
    if (d && d->ack_text)
        send_raw(s, &d->peer, d->ack_text, d->ack_len);
}

static void send_ack_2xx(hl_sip_dialog *d, osip_message_t *resp)
{
    hl_sip *s = d->sip;
    char branch[48], buf[HL_SIP_MAX_REQUEST];
    sip_new_id(s, branch, sizeof branch, "z9hG4bK");
    int n = build_request(s, d, "ACK", d->remote_target, d->remote_hdr,
                          (uint32_t)strtoul(resp->cseq->number, NULL, 10), branch, NULL, NULL,
                          NULL, buf, sizeof buf);
    if (n < 0)
        return;
    /* "CSeq: n ACK" */
    free(d->ack_text);
    d->ack_text = malloc((size_t)n);
    if (!d->ack_text)
        return;
    memcpy(d->ack_text, buf, (size_t)n);
    d->ack_len = (size_t)n;
    send_raw(s, &d->peer, buf, (size_t)n);
}

static void ict_2xx(hl_sip *s, hl_tx *tx, hl_sip_dialog *d, osip_message_t *m)
{
    if (tx->purpose == TXP_REINVITE) {
        send_ack_2xx(d, m);
        hl_sdp ans;
        char why[128];
        if (msg_sdp(m, &ans, why, sizeof why) > 0) {
            d->remote = ans;
            d->has_remote = true;
        }
        return;
    }
    osip_generic_param_t *tt = NULL;
    osip_to_get_tag(m->to, &tt);
    snprintf(d->remote_tag, sizeof d->remote_tag, "%s", tt && tt->gvalue ? tt->gvalue : "");
    char *to = from_str(m->to);
    if (to) {
        free(d->remote_hdr);
        d->remote_hdr = to;
    }
    update_target(d, m);
    send_ack_2xx(d, m);
    if (d->terminated || d->bye_pending || d->cancel_pending || d->state == D_CANCELLING) {
        send_bye(d); /* our CANCEL crossed their 2xx */
        return;
    }
    d->state = D_CONFIRMED;
    char why[128];
    int r = msg_sdp(m, &d->remote, why, sizeof why);
    if (r <= 0) {
        hl_warn("sip", "2xx to our INVITE %s has %s: hanging up", d->call_id,
                r < 0 ? why : "no SDP");
        bye_and_end(d, 488, "rejected");
        return;
    }
    d->has_remote = true;
    if (s->cb.on_answered && !d->app_gone)
        s->cb.on_answered(d->app, d, &d->remote);
}

static void send_cancel(hl_sip_dialog *d)
{
    hl_sip *s = d->sip;
    char buf[HL_SIP_MAX_REQUEST];
    /* CANCEL repeats the INVITE's Request-URI, branch, From, To (no tag) and CSeq number */
    int n = build_request(s, d, "CANCEL", d->invite_uri, d->invite_to, d->ict ?
                          (uint32_t)strtoul(d->ict->tr->cseq->number, NULL, 10) : 1,
                          d->invite_branch, NULL, NULL, NULL, buf, sizeof buf);
    d->state = D_CANCELLING;
    if (n < 0 || !send_request(s, d, buf, (size_t)n, TXP_CANCEL))
        hl_warn("sip", "cannot send CANCEL for %s", d->call_id);
}

/* A 401/407 to our INVITE: the INVITE again, once, with our answer to the challenge (RFC
 * 3261 22.2: same Call-ID, From tag and To, a new CSeq and branch).  False when we have no
 * login for it, tried already, or cannot answer (the dialog then fails with the code). */
static bool answer_challenge(hl_sip *s, hl_sip_dialog *d, osip_message_t *m, int code)
{
    if (!d->login_user || d->login_tried || d->terminated || d->cancel_pending ||
        (d->state != D_CALLING && d->state != D_EARLY_OUT))
        return false;
    d->login_tried = true;
    osip_www_authenticate_t *wa = NULL;
    char *challenge = NULL;
    if (code == 401 ? osip_message_get_www_authenticate(m, 0, &wa) < 0
                    : osip_message_get_proxy_authenticate(m, 0, &wa) < 0)
        return false;
    if (!wa || osip_www_authenticate_to_str(wa, &challenge) != 0 || !challenge)
        return false;
    char cnonce[40], answer[1200], extra[2800], sdp[HL_SIP_MAX_SDP], buf[HL_SIP_MAX_REQUEST];
    sip_new_id(s, cnonce, sizeof cnonce, "");
    int rc = hl_digest_answer(challenge, "INVITE", d->invite_uri, d->login_user, d->login_pass,
                              cnonce, answer, sizeof answer);
    osip_free(challenge);
    if (rc != 0) {
        hl_warn("sip", "%s: cannot answer the %d's challenge (not an MD5 digest)", d->call_id, code);
        return false;
    }
    snprintf(extra, sizeof extra, "Allow: " HL_SIP_ALLOW "\r\n%s%s: %s\r\n",
             d->invite_extra ? d->invite_extra : "",
             code == 401 ? "Authorization" : "Proxy-Authorization", answer);
    sip_new_id(s, d->invite_branch, sizeof d->invite_branch, "z9hG4bK");
    int sl = dialog_sdp(d, &d->local, sdp, sizeof sdp);
    int n = sl > 0 ? build_request(s, d, "INVITE", d->invite_uri, d->invite_to, ++d->local_cseq,
                                   d->invite_branch, extra, "application/sdp", sdp, buf, sizeof buf) : -1;
    hl_tx *tx = n > 0 ? send_request(s, d, buf, (size_t)n, TXP_INVITE) : NULL;
    if (!tx)
        return false;
    d->ict = tx;
    d->state = D_CALLING;
    d->got_provisional = false;
    hl_info("sip", "INVITE %s again with our credentials (%d from the far end) (%s)", d->invite_uri,
            code, d->call_id);
    return true;
}

static void cb_client(int type, osip_transaction_t *tr, osip_message_t *m)
{
    hl_tx *tx = tr->reserved1;
    if (tx && tx->purpose == TXP_PING) {
        if (m && m->status_code >= 200)
            ping_report(tx, m->status_code);
        return;
    }
    if (!tx || !tx->d || !m)
        return;
    hl_sip *s = tx->sip;
    hl_sip_dialog *d = tx->d;
    int code = m->status_code;
    switch (tx->purpose) {
    case TXP_INVITE:
        if (code < 200) {
            d->got_provisional = true;
            if (d->cancel_pending) {
                d->cancel_pending = false;
                send_cancel(d);
            } else if (d->state == D_CALLING) {
                d->state = D_EARLY_OUT;
            }
            if (code > 100 && s->cb.on_progress && !d->app_gone && !d->terminated)
                s->cb.on_progress(d->app, d, code);
        } else if (code < 300) {
            if (type == OSIP_ICT_STATUS_2XX_RECEIVED)
                ict_2xx(s, tx, d, m);
        } else if (tx != d->ict) {
            /* the final answer of an INVITE we already sent again (answer_challenge) */
        } else if (!((code == 401 || code == 407) && answer_challenge(s, d, m, code))) {
            bool ours = d->state == D_CANCELLING || d->cancel_pending;
            d_terminate(d, code, ours ? "local" : "rejected");
        }
        break;
    case TXP_REINVITE:
        if (code >= 200 && code < 300)
            ict_2xx(s, tx, d, m);
        else if (code == 481 || code == 408) /* RFC 3261 14.1: the dialog is gone */
            bye_and_end(d, code, "rejected");
        break;
    case TXP_BYE:
        if (code >= 200)
            d_terminate(d, 0, "local");
        break;
    case TXP_REFER:
        if (code >= 300 && s->cb.on_refer_status && !d->app_gone && !d->terminated)
            s->cb.on_refer_status(d->app, d, code);
        break;
    default:
        break;
    }
}

static void cb_timeout(int type, osip_transaction_t *tr, osip_message_t *m)
{
    hl_tx *tx = tr->reserved1;
    if (tx && tx->purpose == TXP_PING) {
        ping_report(tx, 0);
        return;
    }
    if (!tx || !tx->d)
        return;
    hl_sip_dialog *d = tx->d;
    hl_sip *s = tx->sip;
    hl_warn("sip", "%s in %s timed out", tx->purpose == TXP_INVITE ? "INVITE" : "request",
            d->call_id);
    switch (tx->purpose) {
    case TXP_INVITE:
        d_terminate(d, 408, d->state == D_CANCELLING ? "local" : "timeout");
        break;
    case TXP_BYE:
        d_terminate(d, 0, "local");
        break;
    case TXP_REFER:
        if (s->cb.on_refer_status && !d->app_gone && !d->terminated)
            s->cb.on_refer_status(d->app, d, 408);
        break;
    case TXP_REINVITE:
        bye_and_end(d, 408, "timeout");
        break;
    default:
        break;
    }
}

static void cb_tp_error(int type, osip_transaction_t *tr, int error)
{
    hl_tx *tx = tr->reserved1;
    if (!tx)
        return;
    char p[64];
    hl_peer_str(&tx->peer, p, sizeof p);
    hl_warn("sip", "transport error sending to %s", p);
    if (tx->purpose == TXP_PING)
        ping_report(tx, 0);
    if (tx->d && (tx->purpose == TXP_INVITE || tx->purpose == TXP_BYE))
        d_terminate(tx->d, 503, "transport");
}

static void handle_response(hl_sip *s, osip_message_t *m)
{
    char key[320];
    tx_key(m, false, key, sizeof key);
    hl_tx *tx = hl_map_get(&s->txs, key);
    if (tx && !tx->dead) {
        tx_post(tx, m, true);
        return;
    }
    hl_done *done = hl_map_get(&s->done_map, key);
    if (done) {
        /* a retransmitted non-2xx final to our retired INVITE: ACK it again */
        if (done->len && m->status_code >= 300)
            send_raw(s, &done->peer, done->text, done->len);
        osip_message_free(m);
        return;
    }
    handle_stray_response(s, m);
    osip_message_free(m);
}

/* ------------------------------------------------------------------ receive path */

/* The request's method for the log ("INVITE"), from its raw start line. */
static void raw_method(const char *buf, size_t len, char *out, size_t outlen)
{
    size_t n = 0;
    while (n < len && n + 1 < outlen && buf[n] > ' ' && buf[n] < 0x7f)
        n++;
    memcpy(out, buf, n);
    out[n] = 0;
}

static void reject_raw(hl_sip *s, const hl_peer *from, const char *buf, size_t len,
                       const hl_sipmsg_fault *f)
{
    char p[64];
    hl_peer_str(from, p, sizeof p);
    if (hl_sipmsg_is_response(buf, len)) {
        hl_warn("sip", "dropped a malformed response from %s: %s", p, f->why);
        return;
    }
    if (admit(s, from) != HL_RATE_OK)
        return; /* junk floods are not answered */
    char out[HL_SIP_MAX_RESPONSE], method[24];
    raw_method(buf, len, method, sizeof method);
    int n = hl_sipmsg_raw_response(buf, len, f->code, f->reason, f->why, s->ua, out, sizeof out);
    if (n < 0) {
        hl_warn("sip", "dropped a malformed %s from %s (%s): not enough to answer", method, p,
                f->why);
        return;
    }
    hl_info("sip", "%d %s to %s for %s: %s", f->code, f->reason, p, method, f->why);
    send_raw(s, from, out, (size_t)n);
}

static bool parsed_ok(osip_message_t *m, const char **why)
{
    osip_via_t *via = osip_list_get(&m->vias, 0);
    if (!via || !via->host) { *why = "bad Via"; return false; }
    if (!m->call_id || !m->call_id->number) { *why = "bad Call-ID"; return false; }
    if (!m->from || !m->from->url) { *why = "bad From"; return false; }
    if (!m->to || !m->to->url) { *why = "bad To"; return false; }
    if (!m->cseq || !m->cseq->method || !m->cseq->number) { *why = "bad CSeq"; return false; }
    if (MSG_IS_RESPONSE(m)) {
        if (m->status_code < 100 || m->status_code > 699) { *why = "bad status code"; return false; }
    } else if (!m->sip_method || !m->req_uri || !m->req_uri->scheme) {
        *why = "bad request line";
        return false;
    }
    return true;
}

static void sip_rx(void *ctx, const hl_peer *from, const char *buf, size_t len)
{
    hl_sip *s = ctx;
    if (s->closed)
        return;
    /* CRLF keep-alives (RFC 5626) are not messages */
    size_t k = 0;
    while (k < len && (buf[k] == '\r' || buf[k] == '\n'))
        k++;
    if (k == len)
        return;
    hl_sipmsg_fault f;
    size_t mlen;
    if (hl_sipmsg_check(buf, len, s->max_message, &mlen, &f) < 0) {
        reject_raw(s, from, buf, len, &f);
        return;
    }
    osip_message_t *m;
    if (osip_message_init(&m) != 0)
        return;
    const char *pwhy = "unparseable message";
    if (osip_message_parse(m, buf, mlen) != 0 || !parsed_ok(m, &pwhy)) {
        osip_message_free(m);
        f.code = 400;
        snprintf(f.reason, sizeof f.reason, "Bad Request");
        snprintf(f.why, sizeof f.why, "%s", pwhy);
        reject_raw(s, from, buf, len, &f);
        return;
    }
    s->depth++;
    if (MSG_IS_RESPONSE(m))
        handle_response(s, m);
    else
        handle_request(s, from, m);
    s->depth--;
    sip_pump(s);
}

/* ------------------------------------------------------------------ timers */

static void retransmit_2xx(hl_sip *s)
{
    uint64_t now = sip_now(s);
    hl_sip_dialog *d = s->waiting, *nx;
    for (; d; d = nx) {
        nx = d->wnext;
        if (now >= d->retx_deadline) {
            wait_remove(d);
            hl_warn("sip", "no ACK for our 2xx in %s", d->call_id);
            if (d->state == D_ANSWERED) {
                d->state = D_CONFIRMED;
                bye_and_end(d, 408, "timeout");
            }
            continue;
        }
        if (now >= d->next_retx && d->resp2xx && d->peer.tp == HL_TP_UDP) {
            send_raw(s, &d->peer, d->resp2xx, d->resp2xx_len);
            d->retx_interval = d->retx_interval * 2 > HL_SIP_T2_MS ? HL_SIP_T2_MS : d->retx_interval * 2;
            d->next_retx = now + d->retx_interval;
        }
    }
}

/* libosip2 exports these (osip_timers_*_execute are built on them) but declares them only in
 * its internal xixt.h; the signatures are those of libosip2 5.x. */
osip_event_t *__osip_ict_need_timer_a_event(osip_ict_t *ict, state_t state, int transactionid);
osip_event_t *__osip_ict_need_timer_b_event(osip_ict_t *ict, state_t state, int transactionid);
osip_event_t *__osip_ict_need_timer_d_event(osip_ict_t *ict, state_t state, int transactionid);
osip_event_t *__osip_ist_need_timer_g_event(osip_ist_t *ist, state_t state, int transactionid);
osip_event_t *__osip_ist_need_timer_h_event(osip_ist_t *ist, state_t state, int transactionid);
osip_event_t *__osip_ist_need_timer_i_event(osip_ist_t *ist, state_t state, int transactionid);
osip_event_t *__osip_nict_need_timer_e_event(osip_nict_t *nict, state_t state, int transactionid);
osip_event_t *__osip_nict_need_timer_f_event(osip_nict_t *nict, state_t state, int transactionid);
osip_event_t *__osip_nict_need_timer_k_event(osip_nict_t *nict, state_t state, int transactionid);
osip_event_t *__osip_nist_need_timer_j_event(osip_nist_t *nist, state_t state, int transactionid);

/* The next due timer event of a transaction, as osip_timers_*_execute would find it, or
 * NULL.  Only states that run timers are checked: Proceeding and Trying server
 * transactions, the bulk of the live ones, cost a switch and nothing more. */
static osip_event_t *tx_timer_event(osip_transaction_t *tr)
{
    osip_event_t *e = NULL;
    state_t st = tr->state;
    int id = tr->transactionid;
    switch (tr->ctx_type) {
    case ICT:
        if (st != ICT_CALLING && st != ICT_COMPLETED)
            return NULL;
        if (!(e = __osip_ict_need_timer_b_event(tr->ict_context, st, id)) &&
            !(e = __osip_ict_need_timer_a_event(tr->ict_context, st, id)))
            e = __osip_ict_need_timer_d_event(tr->ict_context, st, id);
        break;
    case IST:
        if (st != IST_COMPLETED && st != IST_CONFIRMED)
            return NULL;
        if (!(e = __osip_ist_need_timer_i_event(tr->ist_context, st, id)) &&
            !(e = __osip_ist_need_timer_h_event(tr->ist_context, st, id)))
            e = __osip_ist_need_timer_g_event(tr->ist_context, st, id);
        break;
    case NICT:
        if (st != NICT_TRYING && st != NICT_PROCEEDING && st != NICT_COMPLETED)
            return NULL;
        if (!(e = __osip_nict_need_timer_k_event(tr->nict_context, st, id)) &&
            !(e = __osip_nict_need_timer_f_event(tr->nict_context, st, id)))
            e = __osip_nict_need_timer_e_event(tr->nict_context, st, id);
        break;
    case NIST:
        if (st == NIST_COMPLETED)
            e = __osip_nist_need_timer_j_event(tr->nist_context, st, id);
        break;
    }
    return e;
}

/* Our replacement for osip_timers_*_execute: our live list, not osip's. */
static void tx_timers(hl_sip *s)
{
    for (hl_tx *tx = s->live; tx; tx = tx->lnext) {
        /* an event still queued runs first; the timer is looked at again next tick (a
         * due timer is reported until its event has run, so never add it twice) */
        if (tx->queued || osip_fifo_size(tx->tr->transactionff) > 0)
            continue;
        osip_event_t *e = tx_timer_event(tx->tr);
        if (e) {
            osip_fifo_add(tx->tr->transactionff, e);
            tx_queue(tx);
        }
    }
}

static void tick_cb(uv_timer_t *t)
{
    hl_sip *s = t->data;
    s->depth++;
    tx_timers(s);
    retransmit_2xx(s);
    done_expire(s, false);
    s->depth--;
    sip_pump(s);
}

/* ------------------------------------------------------------------ libosip2's trace */

/* Source files of libosipparser2 that trace (strings of the Debian build).  Everything they
 * report is about a message we could not parse, which sip_rx answers with a 400 and logs
 * with the reason, so their ERRORs are only debug detail here. */
static bool osip_parser_file(const char *fi)
{
    static const char *const parser[] = { "osip_message_parse.c", "osip_message_to_str.c",
                                          "osip_parser_cfg.c", "sdp_message.c" };
    for (size_t i = 0; fi && i < sizeof parser / sizeof parser[0]; i++)
        if (strcmp(fi, parser[i]) == 0)
            return true;
    return false;
}

/* libosip2's trace callback: its lines go to the engine's log instead of its own format on
 * stdout (the default when nothing is set: "| ERROR | <time> <osip_messa: 592> ...").
 * FATAL and BUG are errors; the transaction layer's ERROR/WARNING (a non-compliant peer, a
 * transaction that cannot be built) are warnings/info; the parser's are debug (above). */
static void osip_trace_cb(const char *fi, int li, osip_trace_level_t level, const char *fmt,
                          va_list ap)
{
    hl_log_level lvl;
    if (level <= OSIP_BUG)
        lvl = HL_LOG_ERROR;
    else if (osip_parser_file(fi) || level > OSIP_WARNING)
        lvl = HL_LOG_DEBUG;
    else
        lvl = level == OSIP_ERROR ? HL_LOG_WARN : HL_LOG_INFO;
    if (hl_log_get_level() > lvl)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    hl_log(lvl, "osip", "%s (%s:%d)", msg, fi ? fi : "?", li);
}

static void osip_trace_install(void)
{
    /* levels below OSIP_INFO1 (FATAL, BUG, ERROR, WARNING); INFO1..4 trace osip's inner
     * workings on every transaction and are left off */
    osip_trace_initialize_func(OSIP_INFO1, osip_trace_cb);
}

/* libosip2's trace state is process-global, so it is set once per process, whichever stack
 * comes first (several loops may each create one).  This is the one piece of global state
 * the stack touches: a logging hook, not call-path state — the callback only formats a line
 * for hl_log, which is safe from any thread. */
static pthread_once_t osip_trace_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ life cycle */

hl_sip *hl_sip_new(uv_loop_t *uv, const hl_sip_cfg *cfg, const hl_sip_callbacks *cb, void *app)
{
    pthread_once(&osip_trace_once, osip_trace_install);
    hl_sip *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->uv = uv;
    s->cb = *cb;
    s->app = app;
    snprintf(s->addr, sizeof s->addr, "%s", cfg->addr ? cfg->addr : "127.0.0.1");
    const char *adv = cfg->advertise_addr && cfg->advertise_addr[0] ? cfg->advertise_addr : s->addr;
    if (strcmp(adv, "0.0.0.0") == 0 || strcmp(adv, "::") == 0)
        adv = "127.0.0.1";
    snprintf(s->adv, sizeof s->adv, "%s", adv);
    snprintf(s->ua, sizeof s->ua, "%s", cfg->user_agent ? cfg->user_agent : "hotline");
    s->max_message = cfg->max_message > 0 ? (size_t)cfg->max_message : HL_SIP_DEFAULT_MAX_MESSAGE;
    s->retry_after_s = cfg->retry_after_s > 0 ? cfg->retry_after_s : 1;
    s->rate_cfg = (hl_rate_cfg){ cfg->rate_per_sec, cfg->ban_factor, cfg->ban_ms };
    s->rate = hl_rate_new(&s->rate_cfg);
    if (getrandom(&s->rnd_seed, sizeof s->rnd_seed, 0) != sizeof s->rnd_seed)
        s->rnd_seed = uv_hrtime() ^ ((uint64_t)getpid() << 32);
    for (size_t i = 0; i < sizeof s->digest_key; i += 8) {
        uint64_t r = sip_rand(s);
        memcpy(s->digest_key + i, &r, 8);
    }
    hl_map_init(&s->txs);
    hl_map_init(&s->dlg_tag);
    hl_map_init(&s->dlg_uas);
    hl_map_init(&s->done_map);
    s->nonces_used = hl_nonce_seen_new();
    if (!s->rate || !s->nonces_used || osip_init(&s->osip) != 0) {
        hl_error("sip", "cannot initialise libosip2");
        hl_rate_free(s->rate);
        hl_nonce_seen_free(s->nonces_used);
        free(s);
        return NULL;
    }
    osip_set_application_context(s->osip, s);
    osip_set_cb_send_message(s->osip, cb_send);
    for (int t = OSIP_ICT_STATUS_1XX_RECEIVED; t <= OSIP_ICT_STATUS_6XX_RECEIVED; t++)
        osip_set_message_callback(s->osip, t, cb_client);
    for (int t = OSIP_NICT_STATUS_1XX_RECEIVED; t <= OSIP_NICT_STATUS_6XX_RECEIVED; t++)
        osip_set_message_callback(s->osip, t, cb_client);
    osip_set_message_callback(s->osip, OSIP_ICT_STATUS_TIMEOUT, cb_timeout);
    osip_set_message_callback(s->osip, OSIP_NICT_STATUS_TIMEOUT, cb_timeout);
    for (int t = OSIP_ICT_KILL_TRANSACTION; t <= OSIP_NIST_KILL_TRANSACTION; t++)
        osip_set_kill_transaction_callback(s->osip, t, cb_kill);
    for (int t = OSIP_ICT_TRANSPORT_ERROR; t <= OSIP_NIST_TRANSPORT_ERROR; t++)
        osip_set_transport_error_callback(s->osip, t, cb_tp_error);
    char err[256];
    hl_transport_limits lim = { s->max_message, cfg->tcp_max_per_addr, cfg->tcp_message_timeout_ms };
    s->tp = hl_transport_new(uv, s->addr, cfg->port, &lim, sip_rx, s, err, sizeof err);
    if (!s->tp) {
        hl_error("sip", "%s", err);
        osip_release(s->osip);
        hl_rate_free(s->rate);
        hl_nonce_seen_free(s->nonces_used);
        free(s);
        return NULL;
    }
    uv_timer_init(uv, &s->tick);
    uv_timer_init(uv, &s->grace);
    uv_idle_init(uv, &s->idle);
    s->tick.data = s->grace.data = s->idle.data = s;
    s->handles = 3;
    uv_timer_start(&s->tick, tick_cb, HL_SIP_TICK_MS, HL_SIP_TICK_MS);
    hl_info("sip", "listening on %s:%d (udp, tcp)", s->addr, hl_transport_port(s->tp));
    return s;
}

int hl_sip_port(const hl_sip *s) { return hl_transport_port(s->tp); }

void hl_sip_set_limits(hl_sip *s, const hl_sip_cfg *cfg)
{
    s->max_message = cfg->max_message > 0 ? (size_t)cfg->max_message : HL_SIP_DEFAULT_MAX_MESSAGE;
    s->retry_after_s = cfg->retry_after_s > 0 ? cfg->retry_after_s : 1;
    s->rate_cfg = (hl_rate_cfg){ cfg->rate_per_sec, cfg->ban_factor, cfg->ban_ms };
    hl_rate_set(s->rate, &s->rate_cfg);
    hl_transport_limits lim = { s->max_message, cfg->tcp_max_per_addr, cfg->tcp_message_timeout_ms };
    hl_transport_set_limits(s->tp, &lim);
    if (cfg->user_agent)
        snprintf(s->ua, sizeof s->ua, "%s", cfg->user_agent);
}

void hl_sip_set_overloaded(hl_sip *s, bool on)
{
    if (on != s->overloaded)
        hl_warn("sip", on ? "overloaded: new calls get 503 (Retry-After %d s)"
                          : "recovered: new calls are taken again", s->retry_after_s);
    s->overloaded = on;
}

void hl_sip_get_stats(const hl_sip *s, hl_sip_stats *out)
{
    *out = s->stats;
    hl_transport_stats ts;
    hl_transport_get_stats(s->tp, &ts);
    out->tcp_refused = ts.tcp_refused;
    out->tcp_timed_out = ts.tcp_timed_out;
}

int hl_sip_bans(hl_sip *s, hl_sip_ban *out, int max) { return hl_rate_bans(s->rate, sip_now(s), out, max); }

int hl_sip_unban(hl_sip *s, const char *ip)
{
    uint8_t ip16[16];
    if (hl_ip16_parse(ip, ip16) != 0)
        return -1;
    bool lifted = hl_rate_unban(s->rate, ip16, sip_now(s));
    if (lifted)
        hl_info("sip", "ban of %s lifted", ip);
    return lifted ? 1 : 0;
}

static void collect_dialog(void *val, void *arg)
{
    hl_sip_dialog ***pp = arg;
    *(*pp)++ = val;
}

/* Snapshot of live dialogs (the table changes while we end them). */
static hl_sip_dialog **all_dialogs(hl_sip *s, size_t *n)
{
    *n = s->dlg_tag.n;
    hl_sip_dialog **all = *n ? malloc(*n * sizeof *all) : NULL;
    if (!all) {
        *n = 0;
        return NULL;
    }
    hl_sip_dialog **p = all;
    hl_map_each(&s->dlg_tag, collect_dialog, &p);
    for (size_t i = 0; i < *n; i++)
        d_ref(all[i]);
    return all;
}

static void sip_handle_closed(uv_handle_t *h)
{
    hl_sip *s = h->data;
    if (--s->handles > 0)
        return;
    void (*done)(void *) = s->done;
    void *arg = s->done_arg;
    free(s);
    if (done)
        done(arg);
}

static void transport_closed(void *arg)
{
    hl_sip *s = arg;
    sip_handle_closed((uv_handle_t *)&s->tick);
}

static void sip_finish(hl_sip *s)
{
    if (s->closed)
        return;
    size_t n;
    hl_sip_dialog **all = all_dialogs(s, &n);
    for (size_t i = 0; i < n; i++) {
        d_terminate(all[i], 0, "local");
        d_unref(all[i]);
    }
    free(all);
    s->closed = true;
    s->depth++; /* nothing runs from here */
    hl_map_free(&s->txs);
    while (s->live) { /* every transaction not yet dead is on the live list */
        hl_tx *tx = s->live;
        live_remove(tx);
        tx->dead = true;
        tx->next_dead = s->dead;
        s->dead = tx;
    }
    s->runq = s->runq_tail = NULL;
    for (hl_tx *tx = s->dead; tx; tx = tx->next_dead)
        tx->queued = false;
    tx_free_dead(s);
    while (s->waiting)
        wait_remove(s->waiting);
    done_expire(s, true);
    hl_map_free(&s->dlg_tag);
    hl_map_free(&s->dlg_uas);
    hl_map_free(&s->done_map);
    hl_nonce_seen_free(s->nonces_used);
    s->nonces_used = NULL;
    osip_release(s->osip);
    hl_rate_free(s->rate);
    uv_timer_stop(&s->tick);
    uv_timer_stop(&s->grace);
    uv_idle_stop(&s->idle);
    s->handles++; /* the transport counts as one handle */
    uv_close((uv_handle_t *)&s->tick, sip_handle_closed);
    uv_close((uv_handle_t *)&s->grace, sip_handle_closed);
    uv_close((uv_handle_t *)&s->idle, sip_handle_closed);
    hl_transport_close(s->tp, transport_closed, s);
}

static void grace_poll(uv_timer_t *t)
{
    hl_sip *s = t->data;
    /* done when every dialog ended (BYEs answered) or the grace period is over */
    if (s->dlg_tag.n == 0 || sip_now(s) >= s->grace_deadline)
        sip_finish(s);
}

void hl_sip_shutdown(hl_sip *s, void (*done)(void *), void *arg)
{
    if (s->shutting)
        return;
    s->shutting = true;
    s->done = done;
    s->done_arg = arg;
    size_t n;
    hl_sip_dialog **all = all_dialogs(s, &n);
    s->depth++;
    for (size_t i = 0; i < n; i++) {
        hl_sip_dialog_hangup(all[i]);
        d_unref(all[i]);
    }
    free(all);
    s->depth--;
    sip_pump(s);
    s->grace_deadline = sip_now(s) + HL_SIP_SHUTDOWN_GRACE_MS;
    uv_timer_start(&s->grace, grace_poll, HL_SIP_TICK_MS, HL_SIP_TICK_MS);
}

/* ------------------------------------------------------------------ dialog API */

void hl_sip_dialog_set_app(hl_sip_dialog *d, void *app_dialog) { d->app = app_dialog; }

void hl_sip_dialog_set_local_sdp(hl_sip_dialog *d, const hl_sdp *local)
{
    d->local = *local;
    d->has_local = true;
}

const char *hl_sip_dialog_call_id(const hl_sip_dialog *d) { return d->call_id; }

int hl_sip_dialog_ring(hl_sip_dialog *d)
{
    if (d->terminated || d->state != D_EARLY_IN || !d->ist || !d->ist->tr->orig_request)
        return -1;
    hl_sip *s = d->sip;
    sip_enter(s);
    osip_message_t *r = make_response(s, d->ist->tr->orig_request, 180, NULL, d->local_tag);
    if (r) {
        add_contact(s, r, d->peer.tp);
        tx_post(d->ist, r, false);
    }
    sip_leave(s);
    return r ? 0 : -1;
}

int hl_sip_dialog_answer(hl_sip_dialog *d)
{
    if (d->terminated || d->state != D_EARLY_IN || !d->ist || !d->has_local)
        return -1;
    hl_sip *s = d->sip;
    sip_enter(s);
    int rc = answer_invite(d, d->ist, (int)d->remote_cseq);
    if (rc == 0)
        d->state = D_ANSWERED;
    sip_leave(s);
    return rc;
}

int hl_sip_dialog_reject(hl_sip_dialog *d, int code, const char *reason)
{
    if (d->terminated || d->state != D_EARLY_IN || !d->ist || !d->ist->tr->orig_request ||
        code < 300 || code > 699)
        return -1;
    hl_sip *s = d->sip;
    sip_enter(s);
    tx_respond(d->ist, d->ist->tr->orig_request, code, reason, d->local_tag, NULL);
    d_terminate(d, code, "local");
    sip_leave(s);
    return 0;
}

void hl_sip_dialog_refusal_quiet(hl_sip_dialog *d, const char *cause)
{
    hl_sip_dialog_refusal(d, cause, 0, NULL);
    d->refuse_quiet = true;
}

void hl_sip_dialog_refusal(hl_sip_dialog *d, const char *cause, int warn_code,
                           const char *warning)
{
    snprintf(d->refuse_cause, sizeof d->refuse_cause, "%s", cause ? cause : "");
    d->warn_code = warning && warn_code >= 300 && warn_code <= 399 ? warn_code : 0;
    snprintf(d->warning, sizeof d->warning, "%s", warning ? warning : "");
}

bool hl_sip_dialog_authorized(hl_sip_dialog *d, const char *realm, const char *user,
                              const char *password)
{
    osip_message_t *req = d->ist && d->ist->tr ? d->ist->tr->orig_request : NULL;
    osip_authorization_t *a = NULL;
    char *value = NULL;
    if (!req || osip_message_get_authorization(req, 0, &a) < 0 || !a ||
        osip_authorization_to_str(a, &value) != 0 || !value)
        return false;
    bool ok = hl_digest_check(d->sip->digest_key, sip_now(d->sip), value, "INVITE", realm, user, password);
    osip_free(value);
    return ok;
}

void hl_sip_dialog_set_login(hl_sip_dialog *d, const char *user, const char *password)
{
    free(d->login_user);
    free(d->login_pass);
    d->login_user = user ? strdup(user) : NULL;
    d->login_pass = password ? strdup(password) : NULL;
}

int hl_sip_dialog_challenge(hl_sip_dialog *d, const char *realm)
{
    return hl_sip_dialog_challenge_digest(d, realm, false, "MD5");
}

hl_sip_auth hl_sip_dialog_verify(hl_sip_dialog *d, const char *realm, const char *ha1_md5,
                                 const char *ha1_sha256)
{
    osip_message_t *req = d->ist && d->ist->tr ? d->ist->tr->orig_request : NULL;
    return req ? verify_request(d->sip, req, realm, ha1_md5, ha1_sha256) : HL_SIP_AUTH_NONE;
}

void hl_sip_dialog_auth_user(hl_sip_dialog *d, char *out, size_t n)
{
    osip_message_t *req = d->ist && d->ist->tr ? d->ist->tr->orig_request : NULL;
    if (req)
        register_auth_user(req, out, n);
    else if (n)
        out[0] = 0;
}

int hl_sip_dialog_challenge_digest(hl_sip_dialog *d, const char *realm, bool stale,
                                   const char *algorithms)
{
    if (d->terminated || d->state != D_EARLY_IN || !d->ist || !d->ist->tr->orig_request)
        return -1;
    hl_sip *s = d->sip;
    sip_enter(s);
    osip_message_t *r = make_response(s, d->ist->tr->orig_request, 401, NULL, d->local_tag);
    if (r) {
        add_challenges(s, r, realm, stale, algorithms);
        tx_post(d->ist, r, false);
    }
    /* The answer to the challenge comes with the same Call-ID and From tag and a new CSeq
     * (RFC 3261 22.2): a new request, so no done entry may absorb it as a retransmission
     * (those of this INVITE, on its branch, its transaction answers). */
    if (d->uas_key[0] && hl_map_get(&s->dlg_uas, d->uas_key) == d)
        hl_map_del(&s->dlg_uas, d->uas_key);
    d->uas_key[0] = 0;
    d_terminate(d, 401, "local");
    sip_leave(s);
    return 0;
}

/* Status for hangup() of an unanswered inbound call: the caller hears "unavailable". */
#define HL_SIP_HANGUP_EARLY_CODE 480

void hl_sip_dialog_hangup(hl_sip_dialog *d)
{
    if (d->terminated)
        return;
    hl_sip *s = d->sip;
    sip_enter(s);
    switch (d->state) {
    case D_EARLY_IN:
        if (d->ist && d->ist->tr->orig_request)
            tx_respond(d->ist, d->ist->tr->orig_request, HL_SIP_HANGUP_EARLY_CODE, NULL,
                       d->local_tag, NULL);
        d_terminate(d, HL_SIP_HANGUP_EARLY_CODE, "local");
        break;
    case D_ANSWERED:
        d->bye_pending = true; /* BYE only after their ACK (RFC 3261 15) */
        break;
    case D_CONFIRMED:
        send_bye(d);
        break;
    case D_CALLING:
        d->cancel_pending = true; /* CANCEL only after a provisional response (RFC 3261 9.1) */
        break;
    case D_EARLY_OUT:
        send_cancel(d);
        break;
    case D_CANCELLING:
    case D_BYE_SENT:
        break;
    }
    sip_leave(s);
}

static int send_reinvite(hl_sip_dialog *d)
{
    char sdp[HL_SIP_MAX_SDP];
    int sl = dialog_sdp(d, &d->local, sdp, sizeof sdp);
    if (sl < 0)
        return -1;
    hl_tx *tx = send_in_dialog(d->sip, d, "INVITE", NULL, "application/sdp", sdp, TXP_REINVITE);
    if (!tx)
        return -1;
    d->reinv = tx;
    return 0;
}

int hl_sip_dialog_hold(hl_sip_dialog *d, bool hold)
{
    if (d->terminated || d->state != D_CONFIRMED || d->reinv || d->waiting_ack || !d->has_local)
        return -1;
    hl_sip *s = d->sip;
    sip_enter(s);
    d->local.dir = hold ? HL_SDP_SENDONLY : HL_SDP_SENDRECV;
    int rc = send_reinvite(d);
    sip_leave(s);
    return rc;
}

int hl_sip_dialog_refer_notify(hl_sip_dialog *d, int code)
{
    if (d->terminated || d->state != D_CONFIRMED || !d->refer_active || code < 200 || code > 699)
        return -1;
    sip_enter(d->sip);
    int rc = refer_notify(d, code);
    sip_leave(d->sip);
    return rc;
}

int hl_sip_dialog_refer(hl_sip_dialog *d, const char *target_uri)
{
    if (d->terminated || d->state != D_CONFIRMED || !target_uri || strpbrk(target_uri, "\r\n<>"))
        return -1;
    hl_sip *s = d->sip;
    sip_enter(s);
    char extra[600];
    /* Referred-By is our own identity in this dialog (RFC 3892) */
    snprintf(extra, sizeof extra, "Refer-To: <%s>\r\nReferred-By: %s\r\n", target_uri,
             d->local_hdr);
    hl_tx *tx = send_in_dialog(s, d, "REFER", extra, NULL, NULL, TXP_REFER);
    sip_leave(s);
    return tx ? 0 : -1;
}

/* ------------------------------------------------------------------ outbound calls */

/* The host (brackets of [v6] removed), port (0: none) and transport of a sip: URI. */
int hl_sip_uri_dest(const char *uri, char *host, size_t hostlen, int *port, bool *tcp)
{
    osip_uri_t *u = NULL;
    if (!uri || osip_uri_init(&u) != 0)
        return -1;
    int rc = -1;
    if (osip_uri_parse(u, uri) == 0 && u->host && u->host[0] && u->scheme &&
        strcasecmp(u->scheme, "sip") == 0) {
        const char *h = u->host;
        size_t hl = strlen(h);
        if (h[0] == '[' && h[hl - 1] == ']') { /* [v6] */
            h++;
            hl -= 2;
        }
        *port = u->port ? atoi(u->port) : 0;
        osip_uri_param_t *tp = NULL;
        osip_uri_uparam_get_byname(u, "transport", &tp);
        *tcp = tp && tp->gvalue && strcasecmp(tp->gvalue, "tcp") == 0;
        if (hl < hostlen && *port >= 0 && *port < 65536 && (!u->port || *port > 0)) {
            snprintf(host, hostlen, "%.*s", (int)hl, h);
            rc = 0;
        }
    }
    osip_uri_free(u);
    return rc;
}

/* Destination of a sip: URI whose host is an IP literal: address, port, ;transport=tcp. */
static int uri_peer(const char *uri, hl_peer *p)
{
    char host[64];
    int port;
    bool tcp;
    if (hl_sip_uri_dest(uri, host, sizeof host, &port, &tcp) != 0)
        return -1;
    if (!port)
        port = HL_SIP_DEFAULT_PORT;
    memset(p, 0, sizeof *p);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&p->sa) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&p->sa) != 0)
        return -1;
    p->tp = tcp ? HL_TP_TCP : HL_TP_UDP;
    return 0;
}

/* Copies text into out as the inside of a quoted-string (RFC 3261 25.1): '"' and '\'
 * escaped, control characters dropped, at most max bytes of text taken. */
static void quoted_text(const char *text, char *out, size_t outlen, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; text[i] && i < max && o + 3 < outlen; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < ' ' || c == 127)
            continue;
        if (c == '"' || c == '\\')
            out[o++] = '\\';
        out[o++] = (char)c;
    }
    out[o] = 0;
}

#define HL_SIP_DISPLAY_MAX 64      /* bytes of a display name we send */
#define HL_SIP_XHEADER_MAX 200     /* bytes of an extra header's value we send */

/* The identity and extra header lines of an outbound INVITE (hl_sip_invite_opts), each
 * ending in CRLF, into out.  The caller's name in From is written by invite_peer. */
static void invite_extra_headers(hl_sip *s, const hl_sip_invite_opts *o, const char *fu,
                                 const char *display, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    if (o && o->assert_identity)
        len += (size_t)snprintf(out + len, n - len, "P-Asserted-Identity: %s%s%s<sip:%s@%s>\r\n",
                                *display ? "\"" : "", display, *display ? "\" " : "", fu, s->adv);
    for (int i = 0; o && i < o->n_headers && i < HL_SIP_EXTRA_HEADERS_MAX && len < n; i++) {
        const char *name = o->headers[i].name, *value = o->headers[i].value;
        if (!name || !*name || strlen(name) > 40 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(name) || !value) {
            hl_warn("sip", "extra header '%s' skipped: its name must be letters, digits and '-'",
                    name ? name : "");
            continue;
        }
        char v[HL_SIP_XHEADER_MAX + 1];
        size_t k = 0;
        for (size_t j = 0; value[j] && k < HL_SIP_XHEADER_MAX; j++)
            if ((unsigned char)value[j] >= ' ' && value[j] != 127)
                v[k++] = value[j];
        v[k] = 0;
        if (k)
            len += (size_t)snprintf(out + len, n - len, "%s: %s\r\n", name, v);
    }
    if (len >= n)
        out[0] = 0;   /* never a cut header line: none rather than a broken one */
}

static hl_sip_dialog *invite_peer(hl_sip *s, const char *uri, const hl_peer *peer,
                                  const hl_sip_invite_opts *o, const hl_sdp *offer,
                                  void *app_dialog)
{
    const char *fu = o && o->from_user && o->from_user[0] ? o->from_user : "hotline";
    for (const char *c = fu; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("-_.!~*'()&=+$,;?/", *c)) {
            hl_warn("sip", "bad caller id '%s'", fu);
            return NULL;
        }
    char display[2 * HL_SIP_DISPLAY_MAX + 4], extra[1400];
    quoted_text(o && o->from_display ? o->from_display : "", display, sizeof display,
                HL_SIP_DISPLAY_MAX);
    invite_extra_headers(s, o, fu, display, extra, sizeof extra);
    hl_sip_dialog *d = d_new(s, false);
    if (!d)
        return NULL;
    sip_enter(s);
    char cid[64];
    sip_new_id(s, cid, sizeof cid, "hl");
    snprintf(d->call_id, sizeof d->call_id, "%s@%s", cid, s->adv);
    d->app = app_dialog;
    d->peer = *peer;
    d->state = D_CALLING;
    d->local = *offer;
    d->has_local = true;
    if (asprintf(&d->local_hdr, "%s%s%s<sip:%s@%s:%d>;tag=%s", *display ? "\"" : "", display,
                 *display ? "\" " : "", fu, s->adv, hl_transport_port(s->tp), d->local_tag) < 0)
        d->local_hdr = NULL;
    if (asprintf(&d->invite_to, "<%s>", uri) < 0)
        d->invite_to = NULL;
    d->invite_extra = extra[0] ? strdup(extra) : NULL;
    d->remote_hdr = dupstr(d->invite_to);
    d->remote_target = strdup(uri);
    d->invite_uri = strdup(uri);
    sip_new_id(s, d->invite_branch, sizeof d->invite_branch, "z9hG4bK");
    char sdp[HL_SIP_MAX_SDP], buf[HL_SIP_MAX_REQUEST], lines[sizeof extra + 64];
    snprintf(lines, sizeof lines, "Allow: " HL_SIP_ALLOW "\r\n%s", extra);
    int sl = dialog_sdp(d, offer, sdp, sizeof sdp);
    int n = -1;
    if (sl > 0 && d->local_hdr && d->invite_to && d->remote_hdr && d->remote_target && d->invite_uri)
        n = build_request(s, d, "INVITE", uri, d->invite_to, d->local_cseq, d->invite_branch,
                          lines, "application/sdp", sdp, buf, sizeof buf);
    hl_tx *tx = n > 0 ? send_request(s, d, buf, (size_t)n, TXP_INVITE) : NULL;
    if (!tx) {
        d->app_gone = true;
        d_terminate(d, 500, "local");
        sip_leave(s);
        return NULL;
    }
    d->ict = tx;
    hl_map_put(&s->dlg_tag, d->local_tag, d);
    char at[64];
    hl_peer_str(peer, at, sizeof at);
    hl_info("sip", "INVITE %s to %s (%s)", uri, at, d->call_id);
    sip_leave(s);
    return d;
}

static bool uri_sendable(hl_sip *s, const char *uri)
{
    return !s->shutting && uri && !strpbrk(uri, "\r\n <>\"");
}

hl_sip_dialog *hl_sip_invite(hl_sip *s, const char *uri, const char *from_user,
                             const hl_sdp *offer, void *app_dialog)
{
    hl_peer peer;
    if (!uri_sendable(s, uri) || uri_peer(uri, &peer) < 0) {
        hl_warn("sip", "cannot call '%s': need sip:user@IP[:port][;transport=tcp]", uri ? uri : "");
        return NULL;
    }
    hl_sip_invite_opts o = { .from_user = from_user };
    return invite_peer(s, uri, &peer, &o, offer, app_dialog);
}

hl_sip_dialog *hl_sip_invite_to(hl_sip *s, const char *uri, const struct sockaddr_in *addr,
                                const char *from_user, const hl_sdp *offer, void *app_dialog)
{
    char host[256];
    int port;
    bool tcp;
    if (!uri_sendable(s, uri) || !addr || hl_sip_uri_dest(uri, host, sizeof host, &port, &tcp) != 0) {
        hl_warn("sip", "cannot call '%s'", uri ? uri : "");
        return NULL;
    }
    hl_peer peer;
    memset(&peer, 0, sizeof peer);
    memcpy(&peer.sa, addr, sizeof *addr);
    peer.tp = tcp ? HL_TP_TCP : HL_TP_UDP;
    hl_sip_invite_opts o = { .from_user = from_user };
    return invite_peer(s, uri, &peer, &o, offer, app_dialog);
}

int hl_sip_source_addr(const char *source, struct sockaddr_storage *sa, bool *tcp)
{
    char host[64];
    const char *slash = source ? strrchr(source, '/') : NULL, *colon;
    if (!slash || (strcmp(slash, "/udp") && strcmp(slash, "/tcp")))
        return -1;
    *tcp = !strcmp(slash, "/tcp");
    const char *h = source;
    size_t hl;
    if (*h == '[') {                   /* [v6]:port */
        const char *rb = memchr(h, ']', (size_t)(slash - h));
        if (!rb || rb[1] != ':')
            return -1;
        h++;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = memchr(h, ':', (size_t)(slash - h));
        if (!colon)
            return -1;
        hl = (size_t)(colon - h);
    }
    int port = atoi(colon + 1);
    if (hl == 0 || hl >= sizeof host || port <= 0 || port > 65535)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)hl, h);
    memset(sa, 0, sizeof *sa);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) != 0)
        return -1;
    return 0;
}

/* The peer a source string names (hl_sip_source_addr). */
static int source_peer(const char *source, hl_peer *p)
{
    bool tcp;
    memset(p, 0, sizeof *p);
    if (hl_sip_source_addr(source, &p->sa, &tcp) != 0)
        return -1;
    p->tp = tcp ? HL_TP_TCP : HL_TP_UDP;
    return 0;
}

hl_sip_dialog *hl_sip_invite_ex(hl_sip *s, const char *uri, const hl_sdp *offer,
                                const hl_sip_invite_opts *o, void *app_dialog)
{
    hl_peer peer;
    if (!uri_sendable(s, uri) || (o && o->dest ? source_peer(o->dest, &peer) : uri_peer(uri, &peer)) < 0) {
        hl_warn("sip", "cannot call '%s'%s%s", uri ? uri : "", o && o->dest ? " at " : "",
                o && o->dest ? o->dest : "");
        return NULL;
    }
    return invite_peer(s, uri, &peer, o, offer, app_dialog);
}

/* ------------------------------------------------------------------ qualify */

hl_sip_ping *hl_sip_options_ping(hl_sip *s, const char *uri, const char *dest,
                                 hl_sip_ping_fn fn, void *arg)
{
    hl_peer peer;
    if (!fn || !uri_sendable(s, uri) || source_peer(dest, &peer) != 0)
        return NULL;
    char branch[48], tag[40], cid[64], buf[1200];
    sip_new_id(s, branch, sizeof branch, "z9hG4bK");
    sip_new_id(s, tag, sizeof tag, "hl");
    sip_new_id(s, cid, sizeof cid, "hlq");
    int port = hl_transport_port(s->tp);
    int n = snprintf(buf, sizeof buf,
                     "OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
                     "Max-Forwards: 70\r\nFrom: <sip:hotline@%s:%d>;tag=%s\r\nTo: <%s>\r\n"
                     "Call-ID: %s@%s\r\nCSeq: 1 OPTIONS\r\nUser-Agent: %s\r\n"
                     "Accept: application/sdp\r\nContent-Length: 0\r\n\r\n",
                     uri, tp_name(peer.tp), s->adv, port, branch, s->adv, port, tag, uri, cid,
                     s->adv, s->ua);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    osip_message_t *m;
    if (osip_message_init(&m) != 0)
        return NULL;
    if (osip_message_parse(m, buf, (size_t)n) != 0) {
        osip_message_free(m);
        return NULL;
    }
    sip_enter(s);
    hl_tx *tx = tx_new(s, NICT, m, &peer, NULL, TXP_PING);
    if (!tx) {
        osip_message_free(m);
        sip_leave(s);
        return NULL;
    }
    tx->ping_fn = fn;
    tx->ping_arg = arg;
    tx_post(tx, m, false);
    sip_leave(s);
    return (hl_sip_ping *)tx;
}

void hl_sip_ping_cancel(hl_sip_ping *ping)
{
    hl_tx *tx = (hl_tx *)ping;
    if (!tx)
        return;
    tx->ping_fn = NULL;
    /* no more retransmissions to a phone nobody waits for: ended as if osip had killed it,
     * freed by the next pump (never now: it may be on the run queue) */
    if (!tx->dead && !tx->sip->closed) {
        cb_kill(0, tx->tr);
        uv_idle_start(&tx->sip->idle, idle_cb);
    }
}

void hl_sip_inject(hl_sip *s, const char *ip, int port, bool tcp, const char *buf, size_t len)
{
    hl_peer p;
    memset(&p, 0, sizeof p);
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)&p.sa) != 0 &&
        uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&p.sa) != 0)
        return;
    p.tp = tcp ? HL_TP_TCP : HL_TP_UDP;
    sip_rx(s, &p, buf, len);
}
