/* media.c — the media pool and its endpoints: oRTP sessions without oRTP's scheduler,
 * driven by one drift-free 20 ms tick per pool (see media.h).
 *
 * Each tick starts with one epoll_wait(…, 0) over the RTP and RTCP sockets of every
 * endpoint (a pool-owned epoll set, not libuv's: we only ask it, once per tick, which sockets
 * hold data).  Only those endpoints are handed to oRTP, so an endpoint that receives nothing
 * (SIPp's UAC, a held or muted far end) costs no read at all, and oRTP's reads go through
 * our endpoint transport (see "receiving" below): one recvmmsg per socket that has data, no
 * empty reads.  Then one pass over the endpoints; for each:
 *   1. receive (once per tick; a bridged peer's and every heard source's first when they
 *      come later in the array, as m sends and records their frames): drain the session
 *      (rtp_session_recvm_with_ts reads the sockets once per new timestamp, so one call per
 *      tick with tick*160 and then until NULL), feed telephone-events to our RFC 4733 state
 *      machine, queue G.711 audio in a small FIFO (80 ms), and take this tick's received
 *      frame out of it (noting the time when it is voiced);
 *   2. send: deferred events, recorder (this frame, and what m hears when both legs), RTP
 *      timeout, then one frame out: RFC 4733 packets while a key is being sent, else what m
 *      hears this tick (its bridged peer's frame, passed through, or the mix of peer and
 *      heard sources), else the playlist, else silence.
 * One pass rather than a receive pass then a send pass: an endpoint's oRTP session and
 * buffers are still in cache for its send (measured: about 10% less CPU at 500 two-way
 * endpoints than two passes).
 * No uv handle belongs to an endpoint, so closing one frees it at once (or at the end of
 * the tick when it is closed from a callback).
 *
 * oRTP's profile here declares only PCMU and PCMA: telephone-event packets then come back
 * as ordinary packets and we check their type against te_pt ourselves. */
#define _GNU_SOURCE                     /* recvmmsg */
#include "media/media.h"
#include "media/wav.h"
#include "rtp/dtmf4733.h"
#include "rtp/g711.h"
#include "rtp/ports.h"
#include "core/files.h"
#include "core/log.h"
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ortp/ortp.h>
#include <bctoolbox/logging.h>

#define FRAME              160          /* samples per 20 ms at 8 kHz */
#define TICK_NS            20000000ull  /* the packet interval we send (ptime 20) */
#define TICK_EARLY_NS      1000000ull   /* uv timers have 1 ms resolution: this early is on time */
#define TICK_MAX_BEHIND    1            /* ticks missed; further behind, skip ahead (counted)
                                           rather than send a burst or stay late */
#define RX_FIFO            (4 * FRAME)  /* 80 ms of received audio absorbs jitter; older is dropped */
#define LATE_BUCKET_US     50           /* lateness histogram: 50 µs buckets ... */
#define LATE_BUCKETS       400          /* ... up to 20 ms, then one overflow bucket */
#define LATE_TICK_US       10000        /* a tick this late counts in an endpoint's late_samples */
#define DTMF_TX_QUEUE      16           /* keys queued by hl_media_send_dtmf */
#define DTMF_END_PACKETS   3            /* RFC 4733 §2.5.1.4: the end packet is sent three times */
#define DTMF_GAP_TICKS     3            /* 60 ms of audio between two keys we send */
#define DTMF_VOLUME        10           /* -10 dBm0, a normal key level */
#define DTMF_MIN_MS        40           /* shorter keys are not detected by many receivers */
#define DTMF_MAX_MS        5000
#define REC_SYNC_TICKS     50           /* the WAV header is made current every second */
#define REC_LEAD_IN_MS     3000         /* silence allowed before any speech, beyond silence_ms */
#define RTP_RECV_BUF       1500         /* an Ethernet MTU: G.711 packets are 172 bytes */
#define RX_BATCH           8            /* RTP packets one recvmmsg takes: a tick normally holds
                                           one, a jitter burst a few; a full batch reads again */
#define RX_MAX_BATCHES     4            /* ... up to this many per tick: a flooded port leaves
                                           the rest to the next ticks (or the kernel drops it)
                                           instead of holding up every other endpoint */
#define RTCP_INTERVAL_MS   5000         /* RFC 3550 minimum report interval */
#define PREFETCH_AHEAD     4            /* endpoints: the tick's walk is cache-miss bound, and
                                           a few endpoints' work covers one memory load */
#define EPS_MIN_CAP        64           /* first size of the pool's endpoint array */
#define DROP_LOG_MS        5000         /* at most one line about dropped RTP per 5 s for the
                                           whole pool: a spray of the port range is one
                                           attack, not thousands of log lines */

typedef struct dtmf_tx {
    char     key;
    uint16_t ms;
} dtmf_tx;

typedef struct recorder {
    hl_wav_writer w;
    int   max_ms, silence_ms, level;
    bool  both, stereo;
    int   frames;               /* 20 ms frames written */
    int   silent_ms;            /* current run of silence */
    bool  heard_speech;
    const char *stop_reason;    /* set: finish at the next tick */
} recorder;

struct hl_media {
    hl_media_pool *pool;
    int   idx;                  /* in the pool's array */
    hl_media *next_dead;
    hl_media_callbacks cb;
    void *arg;
    RtpSession *rtp;
    int   port;
    int   rtp_fd, rtcp_fd;      /* as registered in the pool's epoll set (-1 none) */
    uint8_t rx_ready;           /* RX_RTP/RX_RTCP: sockets with data unread (see receiving) */
    uint8_t rx_batches;         /* full RTP batches read this tick */
    bool  poll_always;          /* its sockets could not be registered: read every tick */
    bool  remote_set, held, closed;
    int   codec, te_pt;
    uint32_t ts_base;           /* random start of our RTP timestamps */
    /* receive */
    uint8_t  fifo[RX_FIFO];
    int      fifo_len, fifo_codec;
    uint8_t  cur[FRAME];        /* this tick's received frame */
    bool     has_cur;
    int      cur_codec;
    hl_dtmf4733 dtmf_rx;
    uint64_t last_rx_ms;
    bool     timeout_fired;
    int      rtp_timeout_ms, rtp_hold_timeout_ms;   /* the pool's when this endpoint was made */
    /* player */
    hl_prompt_item *items;
    int   nitems, item, item_pos;
    bool  playing;
    int   play_event;           /* 0 none, 1 ended, 2 stopped: raised at the next tick */
    /* recorder */
    recorder *rec;
    /* DTMF out */
    dtmf_tx  txq[DTMF_TX_QUEUE];
    int      txq_len;
    int      tx_event;          /* -1 when no key is being sent */
    uint32_t tx_ts;
    int      tx_ticks, tx_tick, tx_end_sent, tx_gap;
    /* bridge, and one-way hearing (hl_media_hear): whom m hears besides its peer, and
     * who hears m (the back-references that let hl_media_close leave no pointer to m) */
    hl_media *peer;
    hl_media *hears[HL_MEDIA_HEAR_MAX];
    hl_media *heard_by[HL_MEDIA_HEARD_BY_MAX];
    uint8_t   nhears, nheard_by;
    uint64_t  last_voice_ms;    /* pool time of the last voiced frame received (0 none) */
    uint64_t late_ticks;
    uint64_t rx_tick;           /* pool tick_no + 1 of its last receive (0: none yet) */
    RtpTransport tr_rtp, tr_rtcp; /* ours, under oRTP's meta transports (see receiving) */
    /* audio tap (hl_media_set_tap) */
    const hl_media_tap *tap;
    void *tap_arg;
    /* which received packets are the call's (latch.h) */
    hl_latch latch;
    bool     latch_moved;       /* the latch moved this tick: send there (see receive) */
};

/* Which of an endpoint's sockets epoll reported (also the tag in the epoll data). */
enum { RX_RTP = 1, RX_RTCP = 2 };

/* Room for one recvmmsg of RTP packets (see rx_rtp_recvfrom).  One per pool: an endpoint's
 * batch is used up inside its own drain, before the next endpoint is read. */
typedef struct rx_batch {
    hl_media *owner;            /* whose packets these are; NULL when used up */
    int n, next;                /* received, handed to oRTP */
    struct mmsghdr hdr[RX_BATCH];
    struct iovec iov[RX_BATCH];
    struct sockaddr_storage from[RX_BATCH];
    /* oRTP turns on SO_TIMESTAMP and IP_RECVTTL on its sockets: keep what it would read */
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct timeval)) + CMSG_SPACE(sizeof(int))];
    } ctl[RX_BATCH];
    uint8_t data[RX_BATCH][RTP_RECV_BUF];
} rx_batch;

struct hl_media_pool {
    uv_loop_t   *uv;
    uv_timer_t   timer;
    bool         timer_on;
    hl_media_pool_cfg cfg;
    char         bind_addr[64];
    hl_prompts  *prompts;
    RtpProfile  *profile;
    hl_ports     ports;
    hl_media   **eps;                           /* every endpoint not yet freed, in an */
    int          neps, eps_cap;                 /* array: the tick prefetches ahead */
    int          active;
    int          epfd;                          /* readiness of every endpoint's sockets */
    struct epoll_event *evs;                    /* room for every registered socket, so one */
    int          nfds, evs_cap;                 /* epoll_wait per tick sees all ready ones */
    rx_batch    *rx;
    uint64_t     start_ns, ticks_since_start;   /* deadlines: start_ns + k * TICK_NS */
    uint64_t     tick_no;                       /* ticks run since the pool started */
    uint64_t     now_ms;
    uint64_t     tick_late_us;
    bool         in_tick;
    hl_media    *dead;
    uint64_t     late_hist[LATE_BUCKETS + 1], late_n, late_max_us, skipped;
    /* packets the endpoints' latches dropped, and the rate-limited log line about them */
    uint64_t     dropped[HL_RTP_DROP_REASONS], latch_moves;
    uint64_t     drop_logged_ms, drop_unlogged;
    struct {                                    /* the latest drop, for the next log line */
        int port, pt;
        hl_rtp_drop why;
        uint32_t ssrc;
        hl_latch_addr from;
    } drop_last;
};

/* Writes an error message when the caller gave room for one. */
static int seterr(char *err, int errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seterr(char *err, int errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, (size_t)errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- process-wide oRTP set-up (oRTP itself is global; done once) ---- */

static pthread_once_t ortp_once = PTHREAD_ONCE_INIT;

static void ortp_setup(void)
{
    ortp_init();
    /* oRTP warns once per odd packet by default: keep only errors. */
    bctbx_set_log_level("ortp", BCTBX_LOG_ERROR);
    bctbx_set_log_level(NULL, BCTBX_LOG_ERROR);
}

/* Per G.711 code, [0] PCMU and [1] PCMA: its linear value (a mix sums look-ups), its
 * |linear value|, so the voice check of every received frame (receive) is a sum of table
 * entries, no decode; and the code of the other law for it, so a bridge of PCMU and PCMA
 * transcodes a byte by one look-up, exactly what decode then encode gives (measured: about
 * 0.12 µs a frame instead of 0.6). */
static int16_t  linear_of[2][256];
static uint16_t abs_level[2][256];
static uint8_t  other_law[2][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_setup(void)
{
    for (int c = 0; c < 256; c++) {
        int u = hl_g711_decode1(HL_G711_PT_PCMU, (uint8_t)c), a = hl_g711_decode1(HL_G711_PT_PCMA, (uint8_t)c);
        linear_of[0][c] = (int16_t)u;
        linear_of[1][c] = (int16_t)a;
        abs_level[0][c] = (uint16_t)(u < 0 ? -u : u);
        abs_level[1][c] = (uint16_t)(a < 0 ? -a : a);
        other_law[0][c] = hl_g711_encode1(HL_G711_PT_PCMA, (int16_t)u);
        other_law[1][c] = hl_g711_encode1(HL_G711_PT_PCMU, (int16_t)a);
    }
}

/* Two sockets per endpoint: allow as many as the hard limit lets us. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- receiving: our endpoint transport under oRTP's ----
 *
 * oRTP's receive drain (rtp_session_recvm_with_ts, once per new timestamp) reads the RTP
 * socket until it says EAGAIN, then does the same with the RTCP socket: three recvmsg for
 * one packet, two of them empty, each also taking a buffer from the session's allocator.
 * Every oRTP 5 session sends and receives through a "meta" transport that hands the socket
 * work to an endpoint transport when one is set (meta_rtp_transport_set_endpoint); ours
 * knows from the tick's epoll_wait which sockets hold data:
 *   - RTP: one recvmmsg takes up to RX_BATCH packets into the pool's batch, and the
 *     following calls serve them from it.  A batch that came back short means the socket is
 *     empty: the next call answers EWOULDBLOCK without a system call.  A full one reads again
 *     (up to RX_MAX_BATCHES a tick).
 *   - RTCP (one packet every few seconds): one real read when epoll reported the socket, the
 *     next call EWOULDBLOCK; a second packet waiting is reported again at the next tick
 *     (level-triggered).
 * One system call per packet-bearing socket per tick, none for an idle one (measured: about
 * 8% less CPU than oRTP's own reads at 500 endpoints sending and receiving).  Sending goes
 * on through oRTP's own sendto.
 *
 * Every packet read here passes the endpoint's source latch (latch.h) before oRTP sees it:
 * what is not the call's (another source, a payload type not negotiated, another SSRC,
 * junk) is counted and dropped, so it reaches neither the DTMF parser nor the RTP timeout
 * nor oRTP's statistics.  oRTP's own symmetric RTP is off: the address we send to is the
 * SDP's, or where the latch moved by its rule (applied after the drain, see receive()). */

static int would_block(void)
{
    errno = EWOULDBLOCK;
    return -1;
}

/* Receives one batch from m's RTP socket; -1 (errno set) when nothing came. */
static int rx_batch_fill(hl_media *m, int fd)
{
    rx_batch *b = m->pool->rx;
    for (int i = 0; i < RX_BATCH; i++) {
        b->iov[i] = (struct iovec){ b->data[i], RTP_RECV_BUF };
        b->hdr[i].msg_hdr = (struct msghdr){
            .msg_name = &b->from[i], .msg_namelen = sizeof b->from[i],
            .msg_iov = &b->iov[i], .msg_iovlen = 1,
            .msg_control = b->ctl[i].buf, .msg_controllen = sizeof b->ctl[i].buf,
        };
    }
    int n = recvmmsg(fd, b->hdr, RX_BATCH, MSG_DONTWAIT, NULL);
    if (n < RX_BATCH || ++m->rx_batches >= RX_MAX_BATCHES)
        m->rx_ready &= (uint8_t)~RX_RTP;    /* short (or failed): the socket is empty */
    b->owner = n > 0 ? m : NULL;
    b->n = n > 0 ? n : 0;
    b->next = 0;
    return n > 0 ? 0 : -1;
}

/* Copies what oRTP's own receive would take from the control messages. */
static void rx_copy_ctl(struct msghdr *h, mblk_t *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP)
            memcpy(&msg->timestamp, CMSG_DATA(c), sizeof msg->timestamp);
        else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
            int ttl;
            memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
            msg->ttl_or_hl = (uint8_t)ttl;
        }
    }
}

/* Writes the pool's line about dropped packets when DROP_LOG_MS has passed since the last
 * one (the first drop after a quiet spell is written at once). */
static void log_drops(hl_media_pool *pool)
{
    if (!pool->drop_unlogged || pool->now_ms < pool->drop_logged_ms + DROP_LOG_MS)
        return;
    char from[64], totals[128];
    hl_latch_addr_str(&pool->drop_last.from, true, from, sizeof from);
    hl_rtp_drops_str(pool->dropped, totals, sizeof totals);
    hl_warn("media", "dropped %llu received RTP/RTCP packets that were not their call's; the "
            "last: port %d, %s from %s (pt %d, ssrc %08x); since start: %s",
            (unsigned long long)pool->drop_unlogged, pool->drop_last.port,
            hl_rtp_drop_name(pool->drop_last.why), from, pool->drop_last.pt,
            (unsigned)pool->drop_last.ssrc, totals);
    pool->drop_logged_ms = pool->now_ms;
    pool->drop_unlogged = 0;
}

/* Counts a packet the latch dropped; keeps what the next log line says about it. */
static void note_drop(hl_media *m, hl_rtp_drop why, const hl_latch_addr *from,
                      const uint8_t *p, size_t len)
{
    hl_media_pool *pool = m->pool;
    pool->dropped[why]++;
    pool->drop_unlogged++;
    pool->drop_last.port = m->port;
    pool->drop_last.why = why;
    pool->drop_last.from = *from;
    pool->drop_last.pt = len >= 2 ? p[1] & 0x7f : -1;
    pool->drop_last.ssrc = len >= 12 ? (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
                                       (uint32_t)p[10] << 8 | p[11] : 0;
    log_drops(pool);
}

/* The latch's verdict on one received packet: true when it is the call's. */
static bool admit(hl_media *m, bool is_rtp, const struct sockaddr *sa, socklen_t salen,
                  const uint8_t *p, size_t len)
{
    hl_latch_addr from;
    hl_latch_addr_from_sockaddr(&from, sa, salen);  /* family 0 on failure: matches nothing */
    hl_rtp_drop why;
    hl_latch_verdict v = is_rtp ? hl_latch_rtp(&m->latch, &m->pool->cfg.latch, &from, p, len,
                                               m->pool->now_ms, &why)
                                : hl_latch_rtcp(&m->latch, &from, p, len, &why);
    if (v == HL_LATCH_DROP) {
        note_drop(m, why, &from, p, len);
        return false;
    }
    if (v == HL_LATCH_TAKE_MOVED) {
        m->latch_moved = true;
        m->pool->latch_moves++;
    }
    return true;
}

/* oRTP's own read of one socket (an endpoint outside the epoll set, or RTCP), through the
 * latch: dropped packets are skipped, up to as many reads as a tick's batches allow. */
static int rx_plain(RtpTransport *t, bool is_rtp, mblk_t *msg, int flags, struct sockaddr *from,
                    socklen_t *fromlen)
{
    hl_media *m = t->data;
    socklen_t room = fromlen ? *fromlen : 0;
    for (int i = 0; i < RX_BATCH * RX_MAX_BATCHES; i++) {
        if (fromlen)
            *fromlen = room;
        int n = rtp_session_recvfrom(t->session, is_rtp, msg, flags, from, fromlen);
        if (n <= 0 || admit(m, is_rtp, from, fromlen ? *fromlen : 0, msg->b_wptr, (size_t)n))
            return n;
    }
    return would_block();                   /* a flood: the rest waits for the next tick */
}

static int rx_rtp_recvfrom(RtpTransport *t, mblk_t *msg, int flags, struct sockaddr *from,
                           socklen_t *fromlen)
{
    hl_media *m = t->data;
    if (m->poll_always)                     /* not in the epoll set: oRTP's plain read */
        return rx_plain(t, true, msg, flags, from, fromlen);
    rx_batch *b = m->pool->rx;
    int i;
    do {                                    /* the next packet of the batch the latch takes */
        if (b->owner != m || b->next >= b->n) {
            if (!(m->rx_ready & RX_RTP))
                return would_block();
            if (rx_batch_fill(m, (int)t->session->rtp.gs.socket))
                return -1;
        }
        i = b->next++;
        if (b->next >= b->n)
            b->owner = NULL;                /* used up (its data stays until the next fill) */
    } while (!admit(m, true, (struct sockaddr *)&b->from[i], b->hdr[i].msg_hdr.msg_namelen,
                    b->data[i], b->hdr[i].msg_len < RTP_RECV_BUF ? b->hdr[i].msg_len : RTP_RECV_BUF));
    struct msghdr *h = &b->hdr[i].msg_hdr;
    size_t room = (size_t)(dblk_lim(msg->b_datap) - msg->b_wptr);
    size_t len = b->hdr[i].msg_len < room ? b->hdr[i].msg_len : room;
    memcpy(msg->b_wptr, b->data[i], len);
    if (from && fromlen) {
        socklen_t fl = h->msg_namelen < *fromlen ? h->msg_namelen : *fromlen;
        memcpy(from, h->msg_name, fl);
        *fromlen = fl;
        memcpy(&msg->net_addr, h->msg_name, fl);    /* as oRTP's receive stores it */
        msg->net_addrlen = fl;
    }
    rx_copy_ctl(h, msg);
    return (int)len;
}

static int rx_rtcp_recvfrom(RtpTransport *t, mblk_t *msg, int flags, struct sockaddr *from,
                            socklen_t *fromlen)
{
    hl_media *m = t->data;
    if (!m->poll_always) {
        if (!(m->rx_ready & RX_RTCP))
            return would_block();
        m->rx_ready &= (uint8_t)~RX_RTCP;
    }
    return rx_plain(t, false, msg, flags, from, fromlen);
}

static int tx_rtp_sendto(RtpTransport *t, mblk_t *msg, int flags, const struct sockaddr *to,
                         socklen_t tolen)
{
    return rtp_session_sendto(t->session, TRUE, msg, flags, to, tolen);
}

static int tx_rtcp_sendto(RtpTransport *t, mblk_t *msg, int flags, const struct sockaddr *to,
                          socklen_t tolen)
{
    return rtp_session_sendto(t->session, FALSE, msg, flags, to, tolen);
}

/* The session's current sockets (oRTP may replace them, e.g. for another address family). */
static ortp_socket_t tr_rtp_socket(RtpTransport *t)
{
    return t->session->rtp.gs.socket;
}

static ortp_socket_t tr_rtcp_socket(RtpTransport *t)
{
    return t->session->rtcp.gs.socket;
}

/* The transports live inside the endpoint, freed with it after rtp_session_destroy. */
static void tr_noop(RtpTransport *t)
{
}

/* Puts our transports under the session's meta transports.  Without meta transports (not
 * oRTP 5) oRTP keeps reading on its own, gated by epoll as before, only dearer. */
static void install_transports(hl_media *m)
{
    RtpTransport *meta_rtp = NULL, *meta_rtcp = NULL;
    rtp_session_get_transports(m->rtp, &meta_rtp, &meta_rtcp);
    if (!meta_rtp || !meta_rtcp) {
        hl_warn("media", "oRTP session without meta transports: reads are not batched");
        return;
    }
    m->tr_rtp = (RtpTransport){ .data = m, .session = m->rtp, .t_getsocket = tr_rtp_socket,
                                .t_sendto = tx_rtp_sendto, .t_recvfrom = rx_rtp_recvfrom,
                                .t_close = tr_noop, .t_destroy = tr_noop };
    m->tr_rtcp = (RtpTransport){ .data = m, .session = m->rtp, .t_getsocket = tr_rtcp_socket,
                                 .t_sendto = tx_rtcp_sendto, .t_recvfrom = rx_rtcp_recvfrom,
                                 .t_close = tr_noop, .t_destroy = tr_noop };
    meta_rtp_transport_set_endpoint(meta_rtp, &m->tr_rtp);
    meta_rtp_transport_set_endpoint(meta_rtcp, &m->tr_rtcp);
}

/* ---- the tick ---- */

static void run_tick(hl_media_pool *pool);
static void on_timer(uv_timer_t *t);

static void record_lateness(hl_media_pool *pool, uint64_t late_ns)
{
    uint64_t us = late_ns / 1000;
    size_t b = us / LATE_BUCKET_US;
    pool->late_hist[b < LATE_BUCKETS ? b : LATE_BUCKETS]++;
    pool->late_n++;
    if (us > pool->late_max_us)
        pool->late_max_us = us;
    pool->tick_late_us = us;
}

static void arm_timer(hl_media_pool *pool)
{
    uint64_t next = pool->start_ns + pool->ticks_since_start * TICK_NS;
    uv_update_time(pool->uv);
    uint64_t now = uv_hrtime();
    uint64_t delay_ms = next > now ? (next - now + 500000) / 1000000 : 0;
    uv_timer_start(&pool->timer, on_timer, delay_ms, 0);
}

static void on_timer(uv_timer_t *t)
{
    hl_media_pool *pool = t->data;
    uint64_t now = uv_hrtime();
    uint64_t deadline = pool->start_ns + pool->ticks_since_start * TICK_NS;
    if (now + TICK_EARLY_NS < deadline) {
        arm_timer(pool);
        return;
    }
    uint64_t late = now > deadline ? now - deadline : 0;
    record_lateness(pool, late);
    if (late >= (TICK_MAX_BEHIND + 1) * TICK_NS) {
        /* The loop was blocked past the next deadline: run this tick as the latest one due
         * (the far end sees a gap, as for loss) so lateness never accumulates. */
        uint64_t k = late / TICK_NS;
        pool->ticks_since_start += k;
        pool->tick_no += k;
        pool->skipped += k;
    }
    run_tick(pool);
    pool->ticks_since_start++;
    pool->tick_no++;
    if (pool->timer_on)
        arm_timer(pool);
}

static void start_ticking(hl_media_pool *pool)
{
    if (pool->timer_on)
        return;
    pool->timer_on = true;
    pool->start_ns = uv_hrtime();
    pool->ticks_since_start = 0;
    arm_timer(pool);
}

static void stop_ticking(hl_media_pool *pool)
{
    if (!pool->timer_on)
        return;
    pool->timer_on = false;
    uv_timer_stop(&pool->timer);
}

/* ---- receive ---- */

static void finish_recording(hl_media *m, const char *reason, bool notify);

/* Every key goes to the owner, also during a recording: a recording's stop keys are the
 * call's (call/prim_record.c), so a key counts the same however it came. */
static void got_digit(hl_media *m, const hl_dtmf_digit *d)
{
    if (m->cb.on_dtmf)
        m->cb.on_dtmf(m->arg, d->digit, d->duration_ms);
}

static void fifo_push(hl_media *m, int codec, const uint8_t *p, int len)
{
    if (codec != m->fifo_codec) {
        m->fifo_len = 0;                    /* the far end switched codec: start over */
        m->fifo_codec = codec;
    }
    if (len > RX_FIFO) {
        p += len - RX_FIFO;
        len = RX_FIFO;
    }
    int drop = m->fifo_len + len - RX_FIFO;
    if (drop > 0) {                         /* a burst: keep the newest audio */
        memmove(m->fifo, m->fifo + drop, (size_t)(m->fifo_len - drop));
        m->fifo_len -= drop;
    }
    memcpy(m->fifo + m->fifo_len, p, (size_t)len);
    m->fifo_len += len;
}

static void handle_packet(hl_media *m, mblk_t *mp)
{
    unsigned char *payload = NULL;
    int len = rtp_get_payload(mp, &payload);
    int pt = rtp_get_payload_type(mp);
    if (len <= 0 || !payload)
        return;
    m->last_rx_ms = m->pool->now_ms;
    m->timeout_fired = false;
    if (m->te_pt >= 0 && pt == m->te_pt) {
        hl_dtmf_digit d[2];
        int n = hl_dtmf4733_feed(&m->dtmf_rx, rtp_get_timestamp(mp), rtp_get_markbit(mp),
                                 payload, (size_t)len, m->pool->now_ms, d);
        for (int i = 0; i < n && !m->closed; i++)
            got_digit(m, &d[i]);
    } else if (pt == HL_G711_PT_PCMU || pt == HL_G711_PT_PCMA) {
        fifo_push(m, pt, payload, len);
    }                                       /* comfort noise and others: ignored */
}

static void watch_sockets(hl_media *m);

/* What we send goes where the latch takes media from (the SDP's address and port unless
 * the symmetric rule moved it).  0, or -1 with a log line. */
static int send_to_latch(hl_media *m)
{
    char ip[64];
    hl_latch_addr_str(&m->latch.src, false, ip, sizeof ip);
    int port = m->latch.src.port;
    if (rtp_session_set_remote_addr_and_port(m->rtp, ip, port, port + 1)) {
        hl_warn("media", "port %d: cannot send to the latched source %s:%d", m->port, ip, port);
        return -1;
    }
    watch_sockets(m);
    return 0;
}

/* The latch moved (symmetric RTP, latch.h): send there from now on.  Done after the
 * drain, not inside oRTP's receive, and before this tick's send. */
static void follow_latch_move(hl_media *m)
{
    m->latch_moved = false;
    char src[64], sdp[64];
    hl_latch_addr_str(&m->latch.src, true, src, sizeof src);
    hl_latch_addr_str(&m->latch.sdp, true, sdp, sizeof sdp);
    if (send_to_latch(m) == 0)
        hl_info("media", "port %d: RTP latched to %s, the signalling peer's address (the SDP "
                "named %s)", m->port, src, sdp);
}

#define VOICE_CHUNK 32              /* samples summed between two looks at the total */
_Static_assert(FRAME % VOICE_CHUNK == 0, "a frame is whole chunks");

/* A frame is voiced when its mean |sample| reaches level (the recorder's silence rule);
 * speech reaches it within the first chunks, so most frames are not summed to the end. */
static bool voiced(const uint8_t *frame, int codec, int level)
{
    const uint16_t *tab = abs_level[codec == HL_G711_PT_PCMA];
    long sum = 0, need = (long)level * FRAME;
    for (int i = 0; i < FRAME; i += VOICE_CHUNK) {
        for (int k = i; k < i + VOICE_CHUNK; k++)
            sum += tab[frame[k]];
        if (sum >= need)
            return true;
    }
    return false;
}

static void receive(hl_media *m)
{
    m->rx_tick = m->pool->tick_no + 1;
    m->rx_batches = 0;
    uint32_t ts = (uint32_t)(m->pool->tick_no * FRAME);
    mblk_t *mp;
    if (m->rx_ready || m->poll_always) {
        while (!m->closed && (mp = rtp_session_recvm_with_ts(m->rtp, ts)) != NULL) {
            handle_packet(m, mp);
            freemsg(mp);
        }
        m->rx_ready = 0;                    /* what is left is reported at the next tick */
        if (m->pool->rx->owner == m)        /* closed amid its batch: drop the rest */
            m->pool->rx->owner = NULL;
        if (m->latch_moved && !m->closed)
            follow_latch_move(m);
    }
    hl_dtmf_digit d;
    if (!m->closed && hl_dtmf4733_poll(&m->dtmf_rx, m->pool->now_ms, &d))
        got_digit(m, &d);
    m->has_cur = m->fifo_len >= FRAME;
    if (m->has_cur) {
        memcpy(m->cur, m->fifo, FRAME);
        m->cur_codec = m->fifo_codec;
        m->fifo_len -= FRAME;
        memmove(m->fifo, m->fifo + FRAME, (size_t)m->fifo_len);
        if (voiced(m->cur, m->cur_codec, m->pool->cfg.silence_level))
            m->last_voice_ms = m->pool->now_ms;
    }
}

/* ---- player ---- */

static void player_clear(hl_media *m)
{
    free(m->items);
    m->items = NULL;
    m->nitems = m->item = m->item_pos = 0;
    m->playing = false;
}

/* Fills one frame from the playlist; false when nothing is playing. */
static bool player_fill(hl_media *m, int16_t *out)
{
    if (!m->playing)
        return false;
    int filled = 0;
    while (filled < FRAME && m->item < m->nitems) {
        const hl_prompt_item *it = &m->items[m->item];
        int k = it->nsamples - m->item_pos;
        if (k > FRAME - filled)
            k = FRAME - filled;
        if (k > 0) {
            if (it->samples)
                memcpy(out + filled, it->samples + m->item_pos, (size_t)k * sizeof *out);
            else
                memset(out + filled, 0, (size_t)k * sizeof *out);
        }
        filled += k > 0 ? k : 0;
        m->item_pos += k > 0 ? k : 0;
        if (m->item_pos >= it->nsamples) {
            m->item++;
            m->item_pos = 0;
        }
    }
    if (filled < FRAME)
        memset(out + filled, 0, (size_t)(FRAME - filled) * sizeof *out);
    if (m->item >= m->nitems) {
        player_clear(m);
        m->play_event = 1;
    }
    return true;
}

/* ---- recorder ---- */

static void decode_cur(const hl_media *m, int16_t *out)
{
    if (m && m->has_cur)
        hl_g711_decode(m->cur_codec, m->cur, out, FRAME);
    else
        memset(out, 0, FRAME * sizeof *out);
}

/* ---- what an endpoint hears ---- */

/* Whether src's current frame is one it received in this tick (run_tick receives every
 * source before the endpoint hearing it; one joined by a callback since may not have). */
static bool fresh_frame(const hl_media *src)
{
    return src->has_cur && src->rx_tick == src->pool->tick_no + 1;
}

/* The endpoints whose frame of this tick m hears: its bridged peer and its heard sources,
 * those that received one (a source that is the peer as well counts once): never an
 * older frame, so none is heard twice.  Returns how many are in out (room for
 * 1 + HL_MEDIA_HEAR_MAX). */
static int heard_frames(const hl_media *m, const hl_media **out)
{
    int n = 0;
    if (m->peer && fresh_frame(m->peer))
        out[n++] = m->peer;
    for (int k = 0; k < m->nhears; k++) {
        const hl_media *src = m->hears[k];
        if (src != m->peer && fresh_frame(src))
            out[n++] = src;
    }
    return n;
}

/* Adds srcs[0..n)'s frames of this tick, as linear, to acc. */
static void mix_add(int32_t *acc, const hl_media *const *srcs, int n)
{
    for (int k = 0; k < n; k++) {
        const int16_t *lin = linear_of[srcs[k]->cur_codec == HL_G711_PT_PCMA];
        for (int i = 0; i < FRAME; i++)
            acc[i] += lin[srcs[k]->cur[i]];
    }
}

/* A sum of frames back to 16 bits: what goes past the sample range is clipped (a mix of
 * parties speaking at once saturates, as a conference bridge does, rather than wrap). */
static void clip_frame(const int32_t *acc, int16_t *out)
{
    for (int i = 0; i < FRAME; i++)
        out[i] = (int16_t)(acc[i] > 32767 ? 32767 : acc[i] < -32768 ? -32768 : acc[i]);
}

static int mean_level(const int16_t *s)
{
    long sum = 0;
    for (int i = 0; i < FRAME; i++)
        sum += s[i] < 0 ? -s[i] : s[i];
    return (int)(sum / FRAME);
}

static void finish_recording(hl_media *m, const char *reason, bool notify)
{
    recorder *r = m->rec;
    if (!r)
        return;
    m->rec = NULL;
    if (hl_wav_writer_close(&r->w))
        hl_warn("media", "recording: could not finish the WAV file");
    int ms = r->frames * 20;
    free(r);
    if (notify && m->cb.on_record_done)
        m->cb.on_record_done(m->arg, reason, ms);
}

static void record_frame(hl_media *m)
{
    recorder *r = m->rec;
    if (r->stop_reason) {
        finish_recording(m, r->stop_reason, true);
        return;
    }
    int16_t own[FRAME], heard[FRAME], out[2 * FRAME];
    decode_cur(m, own);
    int nframes = FRAME;
    if (r->both) {                          /* the party, and what it hears (media.h) */
        const hl_media *srcs[1 + HL_MEDIA_HEAR_MAX];
        int32_t acc[FRAME] = { 0 };
        mix_add(acc, srcs, heard_frames(m, srcs));
        if (r->stereo) {
            clip_frame(acc, heard);
            for (int i = 0; i < FRAME; i++) {
                out[2 * i] = own[i];
                out[2 * i + 1] = heard[i];
            }
        } else {
            for (int i = 0; i < FRAME; i++)
                acc[i] += own[i];
            clip_frame(acc, out);
        }
    }
    if (hl_wav_writer_write(&r->w, r->both ? out : own, nframes)) {
        finish_recording(m, "error", true);
        return;
    }
    r->frames++;
    if (r->frames % REC_SYNC_TICKS == 0)
        hl_wav_writer_sync(&r->w);
    if (mean_level(own) < r->level) {
        r->silent_ms += 20;
    } else {
        r->silent_ms = 0;
        r->heard_speech = true;
    }
    int ms = r->frames * 20;
    if (r->max_ms > 0 && ms >= r->max_ms)
        finish_recording(m, "max", true);
    else if (r->silence_ms > 0 &&
             r->silent_ms >= r->silence_ms + (r->heard_speech ? 0 : REC_LEAD_IN_MS))
        finish_recording(m, "silence", true);
}

/* ---- send ---- */

static void send_dtmf_packet(hl_media *m)
{
    bool end = m->tx_tick + 1 >= m->tx_ticks;
    uint32_t dur = (uint32_t)(end ? m->tx_ticks : m->tx_tick + 1) * FRAME;
    uint8_t pl[4];
    hl_dtmf4733_encode(pl, m->tx_event, end, DTMF_VOLUME, (uint16_t)(dur > 0xFFFF ? 0xFFFF : dur));
    mblk_t *mp = rtp_session_create_packet(m->rtp, RTP_FIXED_HEADER_SIZE, pl, sizeof pl);
    rtp_set_payload_type(mp, m->te_pt);
    rtp_set_markbit(mp, m->tx_tick == 0);
    rtp_session_sendm_with_ts(m->rtp, mp, m->tx_ts);
    if (!end) {
        m->tx_tick++;
    } else if (++m->tx_end_sent >= DTMF_END_PACKETS) {
        m->tx_event = -1;
        m->tx_gap = DTMF_GAP_TICKS;
    }
}

/* Starts the next queued key if its turn has come; true when a key packet is due. */
static bool dtmf_due(hl_media *m, uint32_t ts)
{
    if (m->tx_event < 0 && m->tx_gap > 0) {
        m->tx_gap--;
        return false;
    }
    if (m->tx_event < 0 && m->txq_len > 0) {
        m->tx_event = hl_dtmf4733_event(m->txq[0].key);
        m->tx_ticks = (m->txq[0].ms + 19) / 20;
        m->tx_tick = m->tx_end_sent = 0;
        m->tx_ts = ts;
        memmove(m->txq, m->txq + 1, (size_t)(--m->txq_len) * sizeof m->txq[0]);
    }
    return m->tx_event >= 0;
}

static void send_frame(hl_media *m)
{
    int16_t lin[FRAME];
    uint8_t enc[FRAME];
    uint32_t ts = m->ts_base + (uint32_t)(m->pool->tick_no * FRAME);
    bool played = player_fill(m, lin);      /* the playlist advances even while bridged or held */
    if (!m->remote_set || m->held)
        return;
    if (m->te_pt >= 0 && dtmf_due(m, ts)) {
        send_dtmf_packet(m);
        return;
    }
    int16_t tapped[FRAME];
    const hl_media *srcs[1 + HL_MEDIA_HEAR_MAX];
    int nsrcs;
    if (m->tap && m->tap->tx && m->tap->tx(m->tap_arg, tapped, FRAME)) {
        hl_g711_encode(m->codec, tapped, enc, FRAME);
    } else if ((nsrcs = heard_frames(m, srcs)) == 1 && srcs[0]->cur_codec == m->codec) {
        memcpy(enc, srcs[0]->cur, FRAME);   /* one source in our codec: pass the bytes through */
    } else if (nsrcs == 1) {                /* the other law: one look-up a byte */
        const uint8_t *to = other_law[srcs[0]->cur_codec == HL_G711_PT_PCMA];
        for (int i = 0; i < FRAME; i++)
            enc[i] = to[srcs[0]->cur[i]];
    } else if (nsrcs > 1) {
        int32_t acc[FRAME] = { 0 };
        mix_add(acc, srcs, nsrcs);
        clip_frame(acc, lin);
        hl_g711_encode(m->codec, lin, enc, FRAME);
    } else if (played) {
        hl_g711_encode(m->codec, lin, enc, FRAME);
    } else {
        memset(enc, hl_g711_silence(m->codec), FRAME);
    }
    rtp_session_send_with_ts(m->rtp, enc, FRAME, ts);
}

static int rtp_timeout_ms(const hl_media *m)
{
    return m->held ? m->rtp_hold_timeout_ms : m->rtp_timeout_ms;
}

static void tick_endpoint(hl_media *m)
{
    if (m->play_event == 2) {               /* hl_media_play_stop, reported from the tick */
        m->play_event = 0;
        if (m->cb.on_play_done)
            m->cb.on_play_done(m->arg, true);
        if (m->closed)
            return;
    }
    if (m->rec) {
        record_frame(m);
        if (m->closed)
            return;
    }
    if (m->tap && m->tap->rx) {
        int16_t in[FRAME];
        decode_cur(m, in);
        m->tap->rx(m->tap_arg, in, FRAME);
        if (m->closed)
            return;
    }
    int tmo = rtp_timeout_ms(m);
    if (m->remote_set && tmo > 0 && !m->timeout_fired &&
        m->pool->now_ms >= m->last_rx_ms + (uint64_t)tmo) {
        m->timeout_fired = true;
        if (m->cb.on_rtp_timeout)
            m->cb.on_rtp_timeout(m->arg);
        if (m->closed)
            return;
    }
    send_frame(m);
    if (m->pool->tick_late_us > LATE_TICK_US)
        m->late_ticks++;
    if (m->play_event == 1) {
        m->play_event = 0;
        if (m->cb.on_play_done)
            m->cb.on_play_done(m->arg, false);
    }
}

/* Receives m's packets of this tick unless done already: in its own turn, or before the
 * turn of an endpoint that hears it (its bridged peer, or one that has m among its heard
 * sources) when that one comes first: that one sends and records m's frame. */
static void receive_once(hl_media *m)
{
    if (!m->closed && m->rx_tick != m->pool->tick_no + 1)
        receive(m);
}

static void free_endpoint(hl_media *m);

/* Marks the endpoints whose RTP or RTCP socket holds data: one system call for the pool.
 * Level-triggered, so whatever oRTP leaves unread is reported again at the next tick. */
static void mark_readable(hl_media_pool *pool)
{
    if (!pool->nfds)
        return;
    int n = epoll_wait(pool->epfd, pool->evs, pool->evs_cap, 0);
    if (n < 0) {                            /* EINTR or worse: read everything this tick */
        for (int i = 0; i < pool->neps; i++)
            pool->eps[i]->rx_ready = RX_RTP | RX_RTCP;
        return;
    }
    for (int i = 0; i < n; i++) {           /* data: the endpoint, tagged with the socket */
        uintptr_t tag = (uintptr_t)pool->evs[i].data.u64;
        ((hl_media *)(tag & ~(uintptr_t)3))->rx_ready |= (uint8_t)(tag & 3);
    }
}

/* The first two cache lines of an endpoint hold what the tick tests first. */
static inline void prefetch_endpoint(const hl_media_pool *pool, int i)
{
    if (i < pool->neps) {
        const char *p = (const char *)pool->eps[i];
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
    }
}

static void run_tick(hl_media_pool *pool)
{
    pool->in_tick = true;
    pool->now_ms = uv_hrtime() / 1000000;
    mark_readable(pool);
    /* Endpoints are freed only after the tick; one created by a callback is appended (the
     * array may move: index it afresh). */
    for (int i = 0; i < pool->neps; i++) {
        prefetch_endpoint(pool, i + PREFETCH_AHEAD);
        hl_media *m = pool->eps[i];
        receive_once(m);
        if (!m->closed && m->peer)
            receive_once(m->peer);          /* its frame of this tick is what m sends */
        for (int k = 0; !m->closed && k < m->nhears; k++)
            receive_once(m->hears[k]);      /* likewise (a callback may shorten the list) */
        if (!m->closed)
            tick_endpoint(m);
    }
    pool->in_tick = false;
    log_drops(pool);                        /* what a spray left unlogged, when it is time */
    while (pool->dead) {
        hl_media *m = pool->dead;
        pool->dead = m->next_dead;
        free_endpoint(m);
    }
}

/* ---- pool ---- */

hl_media_pool *hl_media_pool_new(uv_loop_t *uv, const hl_media_pool_cfg *cfg, hl_prompts *prompts)
{
    pthread_once(&ortp_once, ortp_setup);
    pthread_once(&tables_once, tables_setup);
    raise_nofile();
    hl_media_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->uv = uv;
    pool->cfg = *cfg;
    snprintf(pool->bind_addr, sizeof pool->bind_addr, "%s",
             cfg->bind_addr && *cfg->bind_addr ? cfg->bind_addr : "127.0.0.1");
    pool->cfg.bind_addr = pool->bind_addr;
    pool->prompts = prompts;
    if (hl_ports_init(&pool->ports, cfg->port_lo, cfg->port_hi)) {
        hl_error("media", "RTP port range %d-%d holds no even port pair", cfg->port_lo, cfg->port_hi);
        free(pool);
        return NULL;
    }
    pool->rx = calloc(1, sizeof *pool->rx);
    pool->epfd = pool->rx ? epoll_create1(EPOLL_CLOEXEC) : -1;
    if (pool->epfd < 0) {
        hl_error("media", "epoll_create1: %s", pool->rx ? strerror(errno) : "out of memory");
        hl_ports_free(&pool->ports);
        free(pool->rx);
        free(pool);
        return NULL;
    }
    /* Only the audio codecs: telephone-event must NOT be in the profile (see the top). */
    pool->profile = rtp_profile_new("hotline");
    rtp_profile_set_payload(pool->profile, HL_G711_PT_PCMU, &payload_type_pcmu8000);
    rtp_profile_set_payload(pool->profile, HL_G711_PT_PCMA, &payload_type_pcma8000);
    uv_timer_init(uv, &pool->timer);
    pool->timer.data = pool;
    return pool;
}

void hl_media_pool_set_live(hl_media_pool *pool, const hl_media_pool_cfg *cfg)
{
    pool->cfg.rtp_timeout_ms = cfg->rtp_timeout_ms;
    pool->cfg.rtp_hold_timeout_ms = cfg->rtp_hold_timeout_ms;
    pool->cfg.silence_level = cfg->silence_level;
    pool->cfg.dtmf_duration_ms = cfg->dtmf_duration_ms;
    pool->cfg.latch = cfg->latch;   /* endpoints made from now on */
}

static void pool_closed(uv_handle_t *h)
{
    hl_media_pool *pool = h->data;
    rtp_profile_destroy(pool->profile);
    hl_ports_free(&pool->ports);
    close(pool->epfd);
    free(pool->rx);
    free(pool->evs);
    free(pool->eps);
    free(pool);
}

void hl_media_pool_free(hl_media_pool *pool)
{
    if (!pool)
        return;
    /* Not from a media callback: the tick would go on walking freed endpoints. */
    pool->dead = NULL;                      /* outside a tick nothing waits there */
    while (pool->neps) {                    /* freeing moves the last one into its place */
        hl_media *m = pool->eps[pool->neps - 1];
        if (!m->closed)
            hl_media_close(m);              /* frees it: we are not in a tick */
        else
            free_endpoint(m);
    }
    stop_ticking(pool);
    uv_close((uv_handle_t *)&pool->timer, pool_closed);
}

static double percentile(const hl_media_pool *pool, double q)
{
    if (!pool->late_n)
        return 0;
    uint64_t want = (uint64_t)(q * (double)pool->late_n), seen = 0;
    for (int b = 0; b <= LATE_BUCKETS; b++) {
        seen += pool->late_hist[b];
        if (seen > want) {
            double upper = (b + 1) * (double)LATE_BUCKET_US;  /* a bucket's upper bound */
            return b < LATE_BUCKETS && upper < (double)pool->late_max_us ? upper
                                                                         : (double)pool->late_max_us;
        }
    }
    return (double)pool->late_max_us;
}

void hl_media_pool_lateness(hl_media_pool *pool, double *p50_us, double *p99_us, double *max_us)
{
    *p50_us = percentile(pool, 0.50);
    *p99_us = percentile(pool, 0.99);
    *max_us = (double)pool->late_max_us;
}

void hl_media_pool_lateness_reset(hl_media_pool *pool)
{
    memset(pool->late_hist, 0, sizeof pool->late_hist);
    pool->late_n = pool->late_max_us = pool->skipped = 0;
}

uint64_t hl_media_pool_skipped(hl_media_pool *pool)
{
    return pool->skipped;
}

void hl_media_pool_dropped(const hl_media_pool *pool, uint64_t dropped[HL_RTP_DROP_REASONS],
                           uint64_t *moves)
{
    memcpy(dropped, pool->dropped, sizeof pool->dropped);
    *moves = pool->latch_moves;
}

int hl_media_pool_active(hl_media_pool *pool)
{
    return pool ? pool->active : 0;
}

/* ---- endpoints ---- */

typedef struct bind_try {
    RtpSession *s;
    const char *addr;
} bind_try;

static int try_bind(int port, void *arg)
{
    bind_try *b = arg;
    return rtp_session_set_local_addr(b->s, b->addr, port, port + 1) ? -1 : 0;
}

/* Adds (fd >= 0) or removes one socket of m in the pool's epoll set; keeps room in the
 * event array for every registered socket (grown here, never in the tick).  The event's
 * data is m with the socket's RX_ bit in its low bits (m is malloc-aligned). */
static int watch_fd(hl_media *m, int *slot, int fd, int kind)
{
    hl_media_pool *pool = m->pool;
    if (*slot == fd)
        return 0;
    if (*slot >= 0) {
        epoll_ctl(pool->epfd, EPOLL_CTL_DEL, *slot, NULL);
        pool->nfds--;
        *slot = -1;
    }
    if (fd < 0)
        return 0;
    if (pool->nfds + 1 > pool->evs_cap) {
        int cap = pool->evs_cap ? 2 * pool->evs_cap : 64;
        struct epoll_event *evs = realloc(pool->evs, (size_t)cap * sizeof *evs);
        if (!evs)
            return -1;
        pool->evs = evs;
        pool->evs_cap = cap;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uintptr_t)m | (uintptr_t)kind };
    if (epoll_ctl(pool->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        hl_warn("media", "epoll_ctl add: %s", strerror(errno));
        return -1;
    }
    *slot = fd;
    pool->nfds++;
    return 0;
}

/* Registers m's current RTP and RTCP sockets (oRTP could replace them, e.g. on a change of
 * address family); a failure only costs reads: m is then read at every tick. */
static void watch_sockets(hl_media *m)
{
    if (watch_fd(m, &m->rtp_fd, (int)rtp_session_get_rtp_socket(m->rtp), RX_RTP) ||
        watch_fd(m, &m->rtcp_fd, (int)rtp_session_get_rtcp_socket(m->rtp), RX_RTCP))
        m->poll_always = true;
}

hl_media *hl_media_new(hl_media_pool *pool, const hl_media_callbacks *cb, void *arg)
{
    if (pool->neps == pool->eps_cap) {
        int cap = pool->eps_cap ? 2 * pool->eps_cap : EPS_MIN_CAP;
        hl_media **eps = realloc(pool->eps, (size_t)cap * sizeof *eps);
        if (!eps)
            return NULL;
        pool->eps = eps;
        pool->eps_cap = cap;
    }
    hl_media *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    RtpSession *s = rtp_session_new(RTP_SESSION_SENDRECV);
    rtp_session_set_scheduling_mode(s, 0);
    rtp_session_set_blocking_mode(s, 0);
    rtp_session_set_reuseaddr(s, FALSE);    /* else a second bind of a port "succeeds" */
    rtp_session_set_profile(s, pool->profile);
    rtp_session_enable_jitter_buffer(s, FALSE); /* we pace ourselves; no 80 ms hold-back */
    rtp_session_set_symmetric_rtp(s, FALSE);   /* our latch decides where we send (top) */
    rtp_session_set_ssrc_changed_threshold(s, 0); /* accept a new SSRC at once */
    rtp_session_set_recv_buf_size(s, RTP_RECV_BUF);
    rtp_session_enable_rtcp(s, TRUE);
    rtp_session_set_rtcp_report_interval(s, RTCP_INTERVAL_MS);
    rtp_session_set_payload_type(s, HL_G711_PT_PCMU);
    rtp_session_set_source_description(s, "hotline", NULL, NULL, NULL, NULL, "hotline", NULL);
    bind_try b = { s, pool->bind_addr };
    int port = hl_ports_take(&pool->ports, try_bind, &b);
    if (port < 0) {
        hl_warn("media", "no free RTP port in %d-%d", pool->cfg.port_lo, pool->cfg.port_hi);
        rtp_session_destroy(s);
        free(m);
        return NULL;
    }
    m->pool = pool;
    m->rtp = s;
    m->port = port;
    m->rtp_fd = m->rtcp_fd = -1;
    install_transports(m);
    watch_sockets(m);
    if (cb)
        m->cb = *cb;
    m->arg = arg;
    m->te_pt = -1;
    m->tx_event = -1;
    /* a call keeps the timeouts it started with: a reload that shortens them must not end,
     * all at once, calls that have been quiet for longer than the new value */
    m->rtp_timeout_ms = pool->cfg.rtp_timeout_ms;
    m->rtp_hold_timeout_ms = pool->cfg.rtp_hold_timeout_ms;
    m->codec = HL_G711_PT_PCMU;
    m->fifo_codec = HL_G711_PT_PCMU;
    m->ts_base = (uint32_t)random();
    hl_dtmf4733_init(&m->dtmf_rx);
    hl_latch_init(&m->latch);
    m->idx = pool->neps;
    pool->eps[pool->neps++] = m;
    pool->active++;
    start_ticking(pool);
    return m;
}

const char *hl_media_local_addr(const hl_media *m)
{
    return m->pool->bind_addr;
}

int hl_media_local_port(const hl_media *m)
{
    return m->port;
}

int hl_media_set_remote(hl_media *m, const char *addr, int port, hl_codec codec, int te_pt)
{
    if (!addr || port <= 0 || port > 65535 || (codec != HL_CODEC_PCMU && codec != HL_CODEC_PCMA))
        return -1;
    if (rtp_session_set_remote_addr_and_port(m->rtp, addr, port, port + 1))
        return -1;                          /* e.g. an IPv6 address on an IPv4 socket */
    rtp_session_set_payload_type(m->rtp, (int)codec);
    m->codec = (int)codec;
    m->te_pt = te_pt >= 0 && te_pt < 128 ? te_pt : -1;
    hl_latch_addr sdp;
    hl_latch_addr_parse(&sdp, addr);        /* a name (rare in SDP): family 0, never matches */
    sdp.port = (uint16_t)port;
    hl_latch_set_remote(&m->latch, &sdp, m->codec, m->te_pt);
    if (m->latch.moves)                     /* a re-offer of the same address keeps the move */
        send_to_latch(m);
    if (!m->remote_set)
        m->last_rx_ms = uv_hrtime() / 1000000;
    m->remote_set = true;
    watch_sockets(m);
    return 0;
}

int hl_media_set_signalling(hl_media *m, const char *peer)
{
    hl_latch_addr a;
    int rc = hl_latch_addr_parse(&a, peer);
    hl_latch_set_signal(&m->latch, &a);
    return rc;
}

void hl_media_set_held(hl_media *m, bool held)
{
    if (m->held != held)
        m->last_rx_ms = uv_hrtime() / 1000000;  /* each timeout counts from the change */
    m->held = held;
    m->timeout_fired = false;
}

int hl_media_play(hl_media *m, const char *const *items, int n, char *err, int errlen)
{
    if (n < 0 || (n > 0 && !items)) {
        seterr(err, errlen, "play: bad playlist");
        return -1;
    }
    hl_prompt_item *list = calloc((size_t)(n ? n : 1), sizeof *list);
    if (!list) {
        seterr(err, errlen, "play: out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (hl_prompts_resolve(m->pool->prompts, items[i], &list[i], err, errlen)) {
            free(list);
            return -1;
        }
    }
    player_clear(m);                        /* a list still playing ends without an event */
    m->play_event = 0;
    m->items = list;
    m->nitems = n;
    m->playing = true;
    return 0;
}

void hl_media_play_stop(hl_media *m)
{
    if (!m->playing)
        return;
    player_clear(m);
    m->play_event = 2;
}

int hl_media_record_start(hl_media *m, const hl_record_opts *o, char *err, int errlen)
{
    if (m->rec) {
        seterr(err, errlen, "record: already recording");
        return -1;
    }
    if (!o || !o->path[0]) {
        seterr(err, errlen, "record: no file name");
        return -1;
    }
    recorder *r = calloc(1, sizeof *r);
    if (!r) {
        seterr(err, errlen, "record: out of memory");
        return -1;
    }
    hl_make_private_parents(o->path);
    char why[128];
    r->both = o->both_legs;
    r->stereo = o->both_legs && o->stereo;
    if (hl_wav_writer_open(&r->w, o->path, r->stereo ? 2 : 1, why, sizeof why)) {
        seterr(err, errlen, "record: %s: %s", o->path, why);
        free(r);
        return -1;
    }
    r->max_ms = o->max_ms;
    r->silence_ms = o->silence_ms;
    r->level = o->silence_level > 0 ? o->silence_level : m->pool->cfg.silence_level;
    m->rec = r;
    return 0;
}

void hl_media_record_stop(hl_media *m)
{
    if (m->rec && !m->rec->stop_reason)
        m->rec->stop_reason = "stopped";
}

int hl_media_send_dtmf(hl_media *m, char digit, int duration_ms)
{
    if (m->te_pt < 0 || hl_dtmf4733_event(digit) < 0 || m->txq_len >= DTMF_TX_QUEUE)
        return -1;
    if (duration_ms <= 0)
        duration_ms = m->pool->cfg.dtmf_duration_ms;
    if (duration_ms < DTMF_MIN_MS)
        duration_ms = DTMF_MIN_MS;
    if (duration_ms > DTMF_MAX_MS)
        duration_ms = DTMF_MAX_MS;
    m->txq[m->txq_len].key = digit;
    m->txq[m->txq_len].ms = (uint16_t)duration_ms;
    m->txq_len++;
    return 0;
}

void hl_media_set_tap(hl_media *m, const hl_media_tap *tap, void *arg)
{
    m->tap = tap;
    m->tap_arg = tap ? arg : NULL;
}

void hl_media_bridge(hl_media *a, hl_media *b)
{
    if (!a || !b || a == b)
        return;
    hl_media_unbridge(a);
    hl_media_unbridge(b);
    a->peer = b;
    b->peer = a;
}

void hl_media_unbridge(hl_media *m)
{
    if (m && m->peer) {
        m->peer->peer = NULL;
        m->peer = NULL;
    }
}

/* ---- hearing (hl_media_hear) ---- */

static int index_of(hl_media *const *list, int n, const hl_media *x)
{
    for (int i = 0; i < n; i++)
        if (list[i] == x)
            return i;
    return -1;
}

/* Takes the entry at i out of a list whose order does not matter. */
static void list_take(hl_media **list, uint8_t *n, int i)
{
    list[i] = list[--*n];
    list[*n] = NULL;
}

/* Links m -> src both ways; the caller checked the room. */
static void hear_link(hl_media *m, hl_media *src)
{
    m->hears[m->nhears++] = src;
    src->heard_by[src->nheard_by++] = m;
}

void hl_media_hear_remove(hl_media *m, hl_media *src)
{
    int i = m && src ? index_of(m->hears, m->nhears, src) : -1;
    if (i < 0)
        return;
    list_take(m->hears, &m->nhears, i);
    int j = index_of(src->heard_by, src->nheard_by, m);
    if (j >= 0)
        list_take(src->heard_by, &src->nheard_by, j);
}

/* Whether m may hear src (not yet heard): a live endpoint other than m with room. */
static bool may_hear(const hl_media *m, const hl_media *src)
{
    return src && src != m && !src->closed && src->nheard_by < HL_MEDIA_HEARD_BY_MAX;
}

int hl_media_hear_add(hl_media *m, hl_media *src)
{
    if (!m || m->closed)
        return -1;
    if (src && index_of(m->hears, m->nhears, src) >= 0)
        return 0;
    if (!may_hear(m, src) || m->nhears >= HL_MEDIA_HEAR_MAX)
        return -1;
    hear_link(m, src);
    return 0;
}

int hl_media_hear(hl_media *m, hl_media *const *srcs, int n)
{
    if (!m || m->closed || n < 0 || n > HL_MEDIA_HEAR_MAX || (n > 0 && !srcs))
        return -1;
    for (int i = 0; i < n; i++)             /* all checked first: all or nothing */
        if (index_of(m->hears, m->nhears, srcs[i]) < 0 && index_of(srcs, i, srcs[i]) < 0 &&
            !may_hear(m, srcs[i]))
            return -1;
    while (m->nhears)
        hl_media_hear_remove(m, m->hears[0]);
    for (int i = 0; i < n; i++)
        if (index_of(m->hears, m->nhears, srcs[i]) < 0)
            hear_link(m, srcs[i]);
    return 0;
}

/* Who hears whom beyond the agent-caller bridge, by mode and listener: a mask of sources. */
#define P(x) (1u << HL_PARTY_##x)
static const unsigned monitor_table[][HL_PARTIES] = {
    [HL_MONITOR_STOP]    = { 0,                   P(CALLER),                 P(AGENT) },
    [HL_MONITOR_LISTEN]  = { P(AGENT) | P(CALLER), P(CALLER),                P(AGENT) },
    [HL_MONITOR_WHISPER] = { P(AGENT) | P(CALLER), P(CALLER) | P(SUPERVISOR), P(AGENT) },
    [HL_MONITOR_BARGE]   = { P(AGENT) | P(CALLER), P(CALLER) | P(SUPERVISOR), P(AGENT) | P(SUPERVISOR) },
};
#undef P

bool hl_monitor_hears(hl_monitor_mode mode, hl_party who, hl_party src)
{
    if ((unsigned)mode >= sizeof monitor_table / sizeof monitor_table[0] || who >= HL_PARTIES ||
        src >= HL_PARTIES)
        return false;
    return monitor_table[mode][who] & 1u << src;
}

const char *hl_monitor_name(hl_monitor_mode mode)
{
    static const char *const names[] = { "stop", "listen", "whisper", "barge" };
    return (unsigned)mode < sizeof names / sizeof names[0] ? names[mode] : "?";
}

int hl_media_monitor(hl_media *sup, hl_media *agent, hl_media *caller, hl_monitor_mode mode)
{
    hl_media_hear_clear(sup);
    if (mode == HL_MONITOR_STOP)
        return sup ? 0 : -1;
    if (!sup || !agent || !caller || (unsigned)mode > HL_MONITOR_BARGE)
        return -1;
    hl_media *party[HL_PARTIES] = { sup, agent, caller };
    for (int p = HL_PARTY_AGENT; p < HL_PARTIES; p++) {     /* links with sup only */
        if ((hl_monitor_hears(mode, HL_PARTY_SUPERVISOR, p) && hl_media_hear_add(sup, party[p])) ||
            (hl_monitor_hears(mode, p, HL_PARTY_SUPERVISOR) && hl_media_hear_add(party[p], sup))) {
            hl_media_hear_clear(sup);
            return -1;
        }
    }
    return 0;
}

int hl_media_hear_count(const hl_media *m)
{
    return m ? m->nhears : 0;
}

void hl_media_hear_clear(hl_media *m)
{
    if (!m)
        return;
    while (m->nhears)
        hl_media_hear_remove(m, m->hears[0]);
    while (m->nheard_by)
        hl_media_hear_remove(m->heard_by[0], m);
}

void hl_media_get_stats(const hl_media *m, hl_rtp_stats *out)
{
    memset(out, 0, sizeof *out);
    const rtp_stats_t *st = rtp_session_get_stats(m->rtp);
    const jitter_stats_t *js = rtp_session_get_jitter_stats(m->rtp);
    out->sent = st->packet_sent;
    out->received = st->packet_recv;
    out->lost = st->cum_packet_loss > 0 ? (uint64_t)st->cum_packet_loss : 0;
    out->jitter_ms = js ? js->jitter / 8.0 : 0;   /* 8 kHz timestamp units */
    out->late_samples = m->late_ticks;
    memcpy(out->dropped, m->latch.dropped, sizeof out->dropped);
    out->last_voice_ms = m->last_voice_ms;
}

static void free_endpoint(hl_media *m)
{
    hl_media_pool *pool = m->pool;
    hl_media *last = pool->eps[--pool->neps];
    pool->eps[m->idx] = last;
    last->idx = m->idx;
    watch_fd(m, &m->rtp_fd, -1, 0);        /* before oRTP closes the sockets */
    watch_fd(m, &m->rtcp_fd, -1, 0);
    rtp_session_destroy(m->rtp);
    hl_ports_give(&pool->ports, m->port);
    free(m);
    if (!pool->neps)
        stop_ticking(pool);
}

/* At the end of a leg: what its latch dropped, if anything (one line per leg). */
static void log_endpoint_drops(const hl_media *m)
{
    uint64_t any = 0;
    for (int i = 0; i < HL_RTP_DROP_REASONS; i++)
        any |= m->latch.dropped[i];
    if (!any)
        return;
    char src[64], drops[128];
    hl_latch_addr_str(&m->latch.src, true, src, sizeof src);
    hl_rtp_drops_str(m->latch.dropped, drops, sizeof drops);
    hl_info("media", "port %d: leg ended; RTP taken from %s%s; dropped %s", m->port, src,
            m->latch.moves ? " (moved there by the symmetric rule)" : "", drops);
}

void hl_media_close(hl_media *m)
{
    if (!m || m->closed)
        return;
    m->closed = true;
    m->pool->active--;
    finish_recording(m, "hangup", false);   /* the call layer reports the hang-up */
    log_endpoint_drops(m);
    hl_media_unbridge(m);
    hl_media_hear_clear(m);             /* no pointer to m is left anywhere */
    player_clear(m);
    if (m->pool->in_tick) {
        m->next_dead = m->pool->dead;       /* the tick is walking the array: free after it */
        m->pool->dead = m;
    } else {
        free_endpoint(m);
    }
}
