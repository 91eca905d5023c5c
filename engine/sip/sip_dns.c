/* sip_dns.c — a SIP URI's host name to an IPv4 address and port, off the loop (sip_dns.h):
 * the SRV query (libresolv, on libuv's thread pool), the choice among SRV records, and the
 * address lookup (uv_getaddrinfo). */
#include "sip/sip_dns.h"
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SRV_MAX 32             /* SRV records of one priority weighed; a site has a handful */
#define ANSWER_MAX 65536       /* the largest DNS message (TCP fallback included) */

struct hl_dns_query {
    uv_work_t         work;
    uv_getaddrinfo_t  gai;
    uv_loop_t        *loop;
    hl_dns_cb         cb;
    void             *arg;
    bool              cancelled;
    bool              tcp;
    int               port;                 /* 0 until the URI or an SRV record gives one */
    char              host[NS_MAXDNAME];
    char              target[NS_MAXDNAME];  /* what getaddrinfo looks up */
};

/* ---- choosing an SRV record (RFC 2782) --------------------------------------------------- */

typedef struct srv_rr {
    unsigned prio, weight, port;
    char     target[NS_MAXDNAME];
} srv_rr;

/* One SRV record of the answer section into s; 0, 1 when it is no SRV record (skip), -1
 * when malformed. */
static int srv_read(ns_msg *msg, int i, srv_rr *s)
{
    ns_rr rr;
    if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
        return -1;
    if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in)
        return 1;
    const unsigned char *rd = ns_rr_rdata(rr);
    if (ns_rr_rdlen(rr) < 7)
        return -1;
    s->prio = ns_get16(rd);
    s->weight = ns_get16(rd + 2);
    s->port = ns_get16(rd + 4);
    if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd + 6, s->target, sizeof s->target) < 0)
        return -1;
    size_t n = strlen(s->target);
    if (n && s->target[n - 1] == '.')
        s->target[n - 1] = 0;
    /* a target of "." says the service is decidedly not offered there (RFC 2782) */
    return s->target[0] && s->port ? 0 : 1;
}

/* RFC 2782's weighted choice among records of one priority: those of weight 0 first, a
 * number r in [0, sum of weights], the first whose running sum reaches r. */
static const srv_rr *srv_weighted(const srv_rr *v, int n, uint32_t rnd)
{
    unsigned total = 0;
    for (int i = 0; i < n; i++)
        total += v[i].weight;
    unsigned r = rnd % (total + 1), running = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            if ((v[i].weight == 0) != (pass == 0))
                continue;
            running += v[i].weight;
            if (running >= r)
                return &v[i];
        }
    return &v[n - 1];
}

int hl_dns_srv_pick(const unsigned char *answer, int len, uint32_t rnd, char *target,
                    size_t targetlen, int *port)
{
    ns_msg msg;
    if (len <= 0 || ns_initparse(answer, len, &msg) < 0)
        return -1;
    srv_rr *best = malloc(SRV_MAX * sizeof *best);
    if (!best)
        return -1;
    int nbest = 0, rc = 0;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        srv_rr s;
        int r = srv_read(&msg, i, &s);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r > 0)
            continue;
        if (nbest && s.prio < best[0].prio)
            nbest = 0;                  /* a lower priority: the others wait */
        if ((!nbest || s.prio == best[0].prio) && nbest < SRV_MAX)
            best[nbest++] = s;
    }
    if (rc == 0 && nbest) {
        const srv_rr *s = srv_weighted(best, nbest, rnd);
        snprintf(target, targetlen, "%s", s->target);
        *port = (int)s->port;
        rc = 1;
    }
    free(best);
    return rc;
}

/* ---- the lookups ------------------------------------------------------------------------- */

static void found(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    hl_dns_query *q = req->data;
    if (!q->cancelled) {
        struct sockaddr_in addr;
        const struct addrinfo *a = res;
        while (a && a->ai_family != AF_INET)
            a = a->ai_next;
        hl_dns_status st = HL_DNS_ERROR;
        if (status == 0 && a) {
            memcpy(&addr, a->ai_addr, sizeof addr);
            addr.sin_port = htons((uint16_t)q->port);
            st = HL_DNS_FOUND;
        } else if (status == 0 || status == UV_EAI_NONAME || status == UV_EAI_NODATA ||
                   status == UV_EAI_ADDRFAMILY) {
            st = HL_DNS_NOT_FOUND;
        }
        q->cb(q->arg, st, st == HL_DNS_FOUND ? &addr : NULL, q->target);
    }
    uv_freeaddrinfo(res);
    free(q);
}

/* getaddrinfo of q->target (IPv4); -1 when it could not start. */
static int lookup_address(hl_dns_query *q)
{
    if (!q->port)
        q->port = HL_SIP_DEFAULT_PORT;
    struct addrinfo hints = { .ai_family = AF_INET,
                              .ai_socktype = q->tcp ? SOCK_STREAM : SOCK_DGRAM };
    q->gai.data = q;
    return uv_getaddrinfo(q->loop, &q->gai, found, q->target, NULL, &hints) == 0 ? 0 : -1;
}

/* The system's resolver (/etc/resolv.conf), one state per query: pool threads run at once. */
static int res_srv_query(const char *qname, unsigned char *answer, int size)
{
    struct __res_state st;
    memset(&st, 0, sizeof st);
    if (res_ninit(&st) != 0)
        return -1;
    int n = res_nquery(&st, qname, ns_c_in, ns_t_srv, answer, size);
    res_nclose(&st);
    return n;
}

static hl_dns_srv_query_fn srv_lookup = res_srv_query;

void hl_dns_set_srv_query(hl_dns_srv_query_fn fn) { srv_lookup = fn ? fn : res_srv_query; }

/* On a pool thread: _sip._udp.NAME (or _tcp); q->target and q->port become the chosen
 * record's, and stay the name's own without one. */
static void srv_query(uv_work_t *w)
{
    hl_dns_query *q = w->data;
    char qname[NS_MAXDNAME + 16];
    snprintf(qname, sizeof qname, "_sip._%s.%s", q->tcp ? "tcp" : "udp", q->host);
    unsigned char *answer = malloc(ANSWER_MAX);
    if (!answer)
        return;
    int n = srv_lookup(qname, answer, ANSWER_MAX);
    uint32_t rnd = 0;
    if (n > 0 && getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) < 0)
        rnd = 0;
    char target[NS_MAXDNAME];
    int port = 0;
    if (n > 0 && hl_dns_srv_pick(answer, n, rnd, target, sizeof target, &port) == 1) {
        snprintf(q->target, sizeof q->target, "%s", target);
        q->port = port;
    }
    free(answer);
}

static void srv_done(uv_work_t *w, int status)
{
    hl_dns_query *q = w->data;
    if (q->cancelled) {
        free(q);
        return;
    }
    if (lookup_address(q) != 0) {
        q->cb(q->arg, HL_DNS_ERROR, NULL, q->target);
        free(q);
    }
}

hl_dns_query *hl_dns_resolve(uv_loop_t *loop, const char *host, int port, bool tcp, bool srv,
                             hl_dns_cb cb, void *arg)
{
    if (!host || !host[0] || strlen(host) >= NS_MAXDNAME)
        return NULL;
    hl_dns_query *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    *q = (hl_dns_query){ .loop = loop, .cb = cb, .arg = arg, .tcp = tcp, .port = port };
    snprintf(q->host, sizeof q->host, "%s", host);
    snprintf(q->target, sizeof q->target, "%s", host);
    q->work.data = q;
    /* RFC 3263 4.2: SRV only when the URI names no port */
    int rc = srv && !port ? uv_queue_work(loop, &q->work, srv_query, srv_done) : lookup_address(q);
    if (rc != 0) {
        free(q);
        return NULL;
    }
    return q;
}

void hl_dns_cancel(hl_dns_query *q)
{
    if (q)
        q->cancelled = true;
}
