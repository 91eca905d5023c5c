/* sip_transport.c — SIP over UDP and TCP on libuv.
 *
 * UDP: one socket; every datagram is one message.  TCP: a listener plus connections indexed
 * by peer "ip:port" so responses and in-dialog requests reuse the connection a request came
 * on; a stream is framed by the blank line and Content-Length (RFC 3261 18.3), and a peer
 * that sends more than TCP_MAX_BUFFERED without a complete message is disconnected.  An idle
 * connection is closed after TCP_IDLE_MS.  Outbound requests to a TCP peer with no
 * connection connect first and queue the message.
 *
 * Edge limits: one address may hold at most tcp_max_per_addr accepted connections (more are
 * closed at accept, so one host cannot lock every other client out), and an accepted
 * connection must complete each message within tcp_message_timeout_ms of its first byte
 * (and its first message that long after accept): a connection that trickles or says nothing
 * is closed. */
#include "sip/sip_int.h"
#include "core/log.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UDP_RECV_BUFFER 65536        /* largest datagram */
/* What the kernel may hold for the UDP socket while the loop is busy (a media tick of a
 * thousand calls, a reload): the answers to a qualify round's OPTIONS come back together, a
 * thousand within milliseconds, and the default (about 200 KiB: some 170 small datagrams)
 * dropped most of them, so healthy phones lost their registrations (seen in `make bench`
 * stage 7).  The kernel caps it at net.core.rmem_max. */
#define UDP_SOCKET_BUFFER (4 * 1024 * 1024)
#define TCP_IDLE_MS (10 * 60 * 1000) /* close a silent connection: longer than any call leg's
                                        quiet period between re-INVITEs / BYE is not needed,
                                        since peers reconnect when they must */
#define TCP_MAX_CONNS 4096           /* more simultaneous connections are refused */

typedef struct tcp_conn tcp_conn;

struct hl_transport {
    uv_loop_t *uv;
    uv_udp_t udp;
    uv_tcp_t listener;
    hl_transport_rx rx;
    void *ctx;
    hl_map conns;          /* "ip:port" -> tcp_conn */
    hl_map per_addr;       /* "ip" -> accepted connections from it (as intptr_t) */
    hl_transport_limits lim;
    hl_transport_stats stats;
    int port;
    int open_handles;
    bool closing;
    void (*done)(void *);
    void *done_arg;
    char udp_buf[UDP_RECV_BUFFER];
};

typedef struct pending_write {
    struct pending_write *next;
    size_t len;
    char data[];
} pending_write;

struct tcp_conn {
    uv_tcp_t h;
    uv_timer_t idle;
    hl_transport *t;
    hl_peer peer;
    char key[64];
    char addr_key[48];     /* "ip", set for accepted connections (counted in per_addr) */
    bool in_deadline;      /* the timer is the message deadline, not the idle timeout */
    char *buf;
    size_t len, cap;
    bool connected, closing;
    int handles;
    pending_write *queue; /* written once connected */
};

typedef struct write_req {
    uv_write_t w;
    char data[];
} write_req;

void hl_peer_str(const hl_peer *p, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (p->sa.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&p->sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        port = ntohs(s->sin_port);
        snprintf(out, outlen, "%s:%d", ip, port);
    } else if (p->sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&p->sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        port = ntohs(s->sin6_port);
        snprintf(out, outlen, "[%s]:%d", ip, port);
    } else {
        snprintf(out, outlen, "?");
    }
}

void hl_peer_ip16(const hl_peer *p, uint8_t ip[16])
{
    memset(ip, 0, 16);
    if (p->sa.ss_family == AF_INET) {
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &((const struct sockaddr_in *)&p->sa)->sin_addr, 4);
    } else if (p->sa.ss_family == AF_INET6) {
        memcpy(ip, &((const struct sockaddr_in6 *)&p->sa)->sin6_addr, 16);
    }
}

static void handle_closed(uv_handle_t *h)
{
    hl_transport *t = h->data;
    if (--t->open_handles == 0 && t->closing) {
        hl_map_free(&t->conns);
        hl_map_free(&t->per_addr);
        void (*done)(void *) = t->done;
        void *arg = t->done_arg;
        free(t);
        if (done)
            done(arg);
    }
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    hl_transport *t = h->data;
    buf->base = t->udp_buf;
    buf->len = sizeof t->udp_buf;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
    hl_transport *t = h->data;
    if (n <= 0 || !addr || t->closing)
        return;
    hl_peer p;
    memset(&p, 0, sizeof p);
    memcpy(&p.sa, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                    : sizeof(struct sockaddr_in));
    p.tp = HL_TP_UDP;
    if (flags & UV_UDP_PARTIAL) {
        char s[64];
        hl_peer_str(&p, s, sizeof s);
        hl_warn("sip", "dropped a truncated datagram from %s", s);
        return;
    }
    t->rx(t->ctx, &p, buf->base, (size_t)n);
}

typedef struct udp_req {
    uv_udp_send_t r;
    char data[];
} udp_req;

static void udp_sent(uv_udp_send_t *r, int status) { free(r); }

static int udp_send(hl_transport *t, const hl_peer *to, const char *buf, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    int rc = uv_udp_try_send(&t->udp, &b, 1, (const struct sockaddr *)&to->sa);
    if (rc == (int)len)
        return 0;
    if (rc != UV_EAGAIN && rc != UV_ENOSYS)
        return -1;
    /* socket buffer full: queue a copy */
    udp_req *r = malloc(sizeof *r + len);
    if (!r)
        return -1;
    memcpy(r->data, buf, len);
    b = uv_buf_init(r->data, (unsigned)len);
    if (uv_udp_send(&r->r, &t->udp, &b, 1, (const struct sockaddr *)&to->sa, udp_sent) < 0) {
        free(r);
        return -1;
    }
    return 0;
}

/* ---- TCP ---- */

static void conn_handle_closed(uv_handle_t *h)
{
    tcp_conn *c = h->data;
    hl_transport *t = c->t;
    if (--c->handles == 0) {
        while (c->queue) {
            pending_write *nx = c->queue->next;
            free(c->queue);
            c->queue = nx;
        }
        free(c->buf);
        free(c);
        handle_closed((uv_handle_t *)&t->udp); /* accounts the connection itself */
    }
}

static intptr_t addr_count(hl_transport *t, const char *addr)
{
    return (intptr_t)hl_map_get(&t->per_addr, addr);
}

static void addr_add(hl_transport *t, const char *addr, int delta)
{
    intptr_t n = addr_count(t, addr) + delta;
    if (n > 0)
        hl_map_put(&t->per_addr, addr, (void *)n);
    else
        hl_map_del(&t->per_addr, addr);
}

static void conn_close(tcp_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->addr_key[0])
        addr_add(c->t, c->addr_key, -1);
    if (hl_map_get(&c->t->conns, c->key) == c)
        hl_map_del(&c->t->conns, c->key);
    uv_close((uv_handle_t *)&c->h, conn_handle_closed);
    uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
}

static void conn_idle(uv_timer_t *tm)
{
    tcp_conn *c = tm->data;
    if (c->in_deadline) {
        c->t->stats.tcp_timed_out++;
        hl_info("sip", "tcp %s: no complete message within %d ms, closing", c->key,
                c->t->lim.tcp_message_timeout_ms);
    } else {
        hl_debug("sip", "tcp %s idle, closing", c->key);
    }
    conn_close(c);
}

/* Idle timeout while nothing is pending; a message deadline from the first byte of one
 * (not restarted by more bytes of the same message, so trickling does not keep it open). */
static void conn_arm(tcp_conn *c, bool pending)
{
    if (!pending) {
        c->in_deadline = false;
        uv_timer_start(&c->idle, conn_idle, TCP_IDLE_MS, 0);
    } else if (!c->in_deadline && c->t->lim.tcp_message_timeout_ms > 0) {
        c->in_deadline = true;
        uv_timer_start(&c->idle, conn_idle, (uint64_t)c->t->lim.tcp_message_timeout_ms, 0);
    }
}

static tcp_conn *conn_new(hl_transport *t)
{
    if (t->conns.n >= TCP_MAX_CONNS)
        return NULL;
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    uv_tcp_init(t->uv, &c->h);
    uv_timer_init(t->uv, &c->idle);
    c->h.data = c->idle.data = c;
    c->handles = 2;
    t->open_handles++;
    return c;
}

static void conn_register(tcp_conn *c)
{
    hl_peer_str(&c->peer, c->key, sizeof c->key);
    tcp_conn *old = hl_map_get(&c->t->conns, c->key);
    if (old && old != c)
        conn_close(old);
    hl_map_put(&c->t->conns, c->key, c);
    conn_arm(c, false);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tcp_conn *c = h->data;
    size_t limit = c->t->lim.max_message * 2; /* one full message plus the start of the next */
    if (c->cap - c->len < 4096 && c->cap < limit) {
        size_t ncap = c->cap ? c->cap * 2 : 8192;
        if (ncap > limit)
            ncap = limit;
        char *nb = realloc(c->buf, ncap);
        if (nb) {
            c->buf = nb;
            c->cap = ncap;
        }
    }
    buf->base = c->buf + c->len;
    buf->len = c->cap - c->len;
}

/* Delivers every complete message in the buffer; -1 when the stream cannot be framed. */
static int conn_frame(tcp_conn *c)
{
    size_t off = 0;
    while (off < c->len) {
        /* keep-alive CRLFs between messages (RFC 5626) */
        while (off < c->len && (c->buf[off] == '\r' || c->buf[off] == '\n'))
            off++;
        const char *s = c->buf + off;
        size_t avail = c->len - off;
        const char *e = NULL;
        for (size_t i = 0; i + 3 < avail; i++)
            if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == '\r' && s[i + 3] == '\n') {
                e = s + i + 4;
                break;
            }
        if (!e) {
            if (avail > c->t->lim.max_message) {
                hl_warn("sip", "tcp %s: headers longer than %zu bytes, closing", c->key,
                        c->t->lim.max_message);
                return -1;
            }
            break;
        }
        size_t hdr = (size_t)(e - s);
        long cl = hl_sipmsg_content_length(s, hdr);
        if (cl == -2 || cl > (long)c->t->lim.max_message) {
            /* cannot find the next message boundary: answer what we can, then close */
            c->t->rx(c->t->ctx, &c->peer, s, hdr);
            hl_warn("sip", "tcp %s: bad or huge Content-Length, closing", c->key);
            return -1;
        }
        if (cl < 0)
            cl = 0; /* RFC 3261 requires it on streams; treat absence as an empty body */
        if (avail < hdr + (size_t)cl)
            break;
        c->t->rx(c->t->ctx, &c->peer, s, hdr + (size_t)cl);
        if (c->closing)
            return 0;
        off += hdr + (size_t)cl;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 0;
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    tcp_conn *c = s->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0)
        return;
    c->len += (size_t)n;
    if (conn_frame(c) < 0 || (c->len == c->cap && c->cap >= c->t->lim.max_message * 2)) {
        conn_close(c);
        return;
    }
    if (!c->closing)
        conn_arm(c, c->len > 0);
}

/* Accepts one pending connection only to close it (the backlog must still be drained). */
static void refuse_pending(hl_transport *t, uv_stream_t *srv)
{
    uv_tcp_t *tmp = malloc(sizeof *tmp);
    if (!tmp)
        return;
    uv_tcp_init(t->uv, tmp);
    if (uv_accept(srv, (uv_stream_t *)tmp) == 0)
        t->stats.tcp_refused++;
    uv_close((uv_handle_t *)tmp, (uv_close_cb)free);
}

static void addr_of(const hl_peer *p, char *out, size_t outlen)
{
    uint8_t ip[16];
    hl_peer_ip16(p, ip);
    hl_ip16_str(ip, out, outlen);
}

static void tcp_accept(uv_stream_t *srv, int status)
{
    hl_transport *t = srv->data;
    if (status < 0)
        return;
    tcp_conn *c = conn_new(t);
    if (!c) {
        if (t->stats.tcp_refused++ % 1000 == 0)
            hl_warn("sip", "tcp: %zu connections open (the most), refusing new ones", t->conns.n);
        t->stats.tcp_refused--;   /* refuse_pending counts it */
        refuse_pending(t, srv);
        return;
    }
    if (uv_accept(srv, (uv_stream_t *)&c->h) < 0) {
        conn_close(c);
        return;
    }
    int alen = sizeof c->peer.sa;
    uv_tcp_getpeername(&c->h, (struct sockaddr *)&c->peer.sa, &alen);
    c->peer.tp = HL_TP_TCP;
    c->connected = true;
    char addr[48];
    addr_of(&c->peer, addr, sizeof addr);
    if (t->lim.tcp_max_per_addr > 0 && addr_count(t, addr) >= t->lim.tcp_max_per_addr) {
        if (t->stats.tcp_refused++ % 1000 == 0)
            hl_warn("sip", "tcp: %s holds %d connections (tcp_max_per_addr), refusing more",
                    addr, t->lim.tcp_max_per_addr);
        conn_close(c);
        return;
    }
    snprintf(c->addr_key, sizeof c->addr_key, "%s", addr);
    addr_add(t, addr, +1);
    uv_tcp_nodelay(&c->h, 1);
    conn_register(c);
    conn_arm(c, true); /* its first message is due within the deadline */
    uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read);
}

static void tcp_written(uv_write_t *w, int status)
{
    free(w);
}

static int conn_write(tcp_conn *c, const char *buf, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    int rc = uv_try_write((uv_stream_t *)&c->h, &b, 1);
    if (rc == (int)len)
        return 0;
    size_t done = rc > 0 ? (size_t)rc : 0;
    if (rc < 0 && rc != UV_EAGAIN)
        return -1;
    write_req *w = malloc(sizeof *w + len - done);
    if (!w)
        return -1;
    memcpy(w->data, buf + done, len - done);
    b = uv_buf_init(w->data, (unsigned)(len - done));
    if (uv_write(&w->w, (uv_stream_t *)&c->h, &b, 1, tcp_written) < 0) {
        free(w);
        return -1;
    }
    return 0;
}

static void tcp_connected(uv_connect_t *req, int status)
{
    tcp_conn *c = req->data;
    free(req);
    if (status < 0 || c->closing) {
        hl_warn("sip", "tcp connect to %s failed: %s", c->key, uv_strerror(status));
        conn_close(c);
        return;
    }
    c->connected = true;
    uv_tcp_nodelay(&c->h, 1);
    while (c->queue) {
        pending_write *p = c->queue;
        c->queue = p->next;
        conn_write(c, p->data, p->len);
        free(p);
    }
    uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read);
}

static int tcp_send(hl_transport *t, const hl_peer *to, const char *buf, size_t len)
{
    char key[64];
    hl_peer_str(to, key, sizeof key);
    tcp_conn *c = hl_map_get(&t->conns, key);
    if (!c) {
        c = conn_new(t);
        if (!c)
            return -1;
        c->peer = *to;
        conn_register(c);
        uv_connect_t *req = malloc(sizeof *req);
        if (!req || uv_tcp_connect(req, &c->h, (const struct sockaddr *)&to->sa, tcp_connected) < 0) {
            free(req);
            conn_close(c);
            return -1;
        }
        req->data = c;
    }
    if (!c->connected) {
        pending_write *p = malloc(sizeof *p + len);
        if (!p)
            return -1;
        p->next = NULL;
        p->len = len;
        memcpy(p->data, buf, len);
        pending_write **pp = &c->queue;
        while (*pp)
            pp = &(*pp)->next;
        *pp = p;
        return 0;
    }
    return conn_write(c, buf, len);
}

/* ---- public ---- */

hl_transport *hl_transport_new(uv_loop_t *uv, const char *addr, int port,
                               const hl_transport_limits *lim, hl_transport_rx rx, void *ctx,
                               char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss) != 0) {
        snprintf(err, errlen, "sip: bad listen address '%s'", addr);
        return NULL;
    }
    hl_transport *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "sip: out of memory");
        return NULL;
    }
    t->uv = uv;
    t->rx = rx;
    t->ctx = ctx;
    t->lim = *lim;
    hl_map_init(&t->conns);
    hl_map_init(&t->per_addr);
    uv_udp_init(uv, &t->udp);
    uv_tcp_init(uv, &t->listener);
    t->udp.data = t->listener.data = t;
    t->open_handles = 2;
    int rc = uv_udp_bind(&t->udp, (const struct sockaddr *)&ss, 0);
    if (rc == 0) {
        struct sockaddr_storage got;
        int glen = sizeof got;
        uv_udp_getsockname(&t->udp, (struct sockaddr *)&got, &glen);
        t->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                  : ((struct sockaddr_in *)&got)->sin_port);
        /* TCP on the same port as UDP (port 0 picked one for UDP) */
        if (ss.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)t->port);
        else
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)t->port);
        rc = uv_tcp_bind(&t->listener, (const struct sockaddr *)&ss, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&t->listener, SOMAXCONN, tcp_accept);
    }
    if (rc == 0) {
        int want = UDP_SOCKET_BUFFER;
        uv_recv_buffer_size((uv_handle_t *)&t->udp, &want);   /* best effort: capped, not refused */
        rc = uv_udp_recv_start(&t->udp, udp_alloc, udp_recv);
    }
    if (rc != 0) {
        snprintf(err, errlen, "sip: cannot listen on %s:%d: %s", addr, port, uv_strerror(rc));
        hl_transport_close(t, NULL, NULL);
        return NULL;
    }
    return t;
}

int hl_transport_port(const hl_transport *t) { return t->port; }

/* From the next message on; a TCP buffer larger than a lowered max_message stops growing. */
void hl_transport_set_limits(hl_transport *t, const hl_transport_limits *lim) { t->lim = *lim; }

void hl_transport_get_stats(const hl_transport *t, hl_transport_stats *out) { *out = t->stats; }

int hl_transport_send(hl_transport *t, const hl_peer *to, const char *buf, size_t len)
{
    if (t->closing)
        return -1;
    return to->tp == HL_TP_TCP ? tcp_send(t, to, buf, len) : udp_send(t, to, buf, len);
}

void hl_transport_close(hl_transport *t, void (*done)(void *), void *arg)
{
    t->closing = true;
    t->done = done;
    t->done_arg = arg;
    /* conn_close removes from the map: collect first */
    size_t n = t->conns.n, i = 0;
    tcp_conn **all = n ? malloc(n * sizeof *all) : NULL;
    if (all) {
        for (size_t b = 0; b < t->conns.nb; b++)
            for (hl_map_ent *e = t->conns.b[b]; e; e = e->next)
                all[i++] = e->val;
        for (size_t k = 0; k < i; k++)
            conn_close(all[k]);
        free(all);
    }
    uv_close((uv_handle_t *)&t->udp, handle_closed);
    uv_close((uv_handle_t *)&t->listener, handle_closed);
}
