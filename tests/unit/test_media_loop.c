/* test_media_loop.c — media endpoints of one pool talking over loopback on a real uv loop:
 *   - A plays a prompt to B; B records what it receives; the recording holds exactly the
 *     prompt after one G.711 encode (u-law round trip is the identity after that);
 *   - pacing: about 50 packets a second, tick lateness reported;
 *   - a key sent by A as RFC 4733 arrives at B once, with the right digit, also during a
 *     recording (stop keys are the call layer's: the owner stops it);
 *   - hl_media_play_stop reports on_play_done(true) from the tick, not re-entrantly;
 *   - symmetric RTP: C's SDP names another address than its signalling (127.0.0.2:9 vs
 *     127.0.0.1): C latches to D's packets from the signalling address and answers there,
 *     also after a re-offer of the same SDP;
 *   - RTP timeout: E, to which nobody sends, times out;
 *   - bridge: what A sends to B goes on from B's peer F to G (PCMU -> PCMA transcoding);
 *   - all of the above with reads gated on epoll readiness (E is never read at all);
 *   - a burst of BURST packets arriving at once (several recvmmsg batches of media.c's
 *     endpoint transport) is all received by H, none lost or counted twice;
 *   - hl_media_pool_lateness_reset clears the figures;
 *   - the source latch (latch.h), first as rules on their own (latch_rules), then live: J's
 *     caller K sends nothing at first while S1 (another port of K's address, K's SSRC) and
 *     S2 (127.0.0.2) spray telephone-events and audio at J: J reports no key, still times
 *     out, sends only to K; then K's own packets: a payload type not negotiated and another
 *     SSRC are dropped, K's key is reported; J's drop counters say so by reason.
 * Timing figures are printed, not asserted beyond coarse bounds (see SPEC §6). */
#include "media/media.h"
#include "media/wav.h"
#include "rtp/g711.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

#define PROMPT_SAMPLES 8000     /* 1 s */
#define TE_PT 101
#define BURST 20                /* RTP packets sent to H at once: more than 2 batches of 8 */
#define SSRC_SWITCH_MS 200      /* the pool's latch rule in this test (latch.h) */
#define K_SSRC 0x4b4b4b4bu      /* J's caller's stream; S1 sprays with it too */

typedef struct ep {
    const char *name;
    hl_media   *m;
    int   play_done, play_interrupted, in_api;
    int   dtmf_count;
    int   rec_stop_asked;       /* the test stopped the recording on the key (as the call does) */
    char  dtmf[16];
    int   dtmf_ms;
    int   rec_done, rec_ms;
    char  rec_reason[16];
    int   timeouts;
} ep;

static uv_loop_t *loop;
static hl_media_pool *pool;
static ep A = { .name = "A" }, B = { .name = "B" }, C = { .name = "C" }, D = { .name = "D" },
          E = { .name = "E" }, F = { .name = "F" }, G = { .name = "G" }, H = { .name = "H" },
          J = { .name = "J" };
static int raw_fd = -1;         /* a plain UDP socket: sends H its burst */
static int k_fd = -1, s1_fd = -1, s2_fd = -1;   /* J's caller and two sprayers (see top) */
static int spray_phase;         /* 0 spraying until J times out, 1 K's packets sent, 2 done */
static char dir[64], rec_path[128], rec_g_path[128];
static int16_t prompt[PROMPT_SAMPLES];
static uint64_t t_play_start, t_play_end;
static hl_rtp_stats b_stats_start, b_stats_end;
static uint64_t d_received_at_reoffer;
static int step;
static uv_timer_t driver;

static void on_dtmf(void *arg, char d, int ms)
{
    ep *e = arg;
    if (e->dtmf_count < 15)
        e->dtmf[e->dtmf_count] = d;
    e->dtmf_count++;
    e->dtmf_ms = ms;
}

static void on_play_done(void *arg, bool interrupted)
{
    ep *e = arg;
    if (e->in_api) {
        FAIL("on_play_done re-entrant on %s", e->name);
    }
    e->play_done++;
    e->play_interrupted = interrupted;
    if (e == &A && !interrupted)
        t_play_end = uv_hrtime();
}

static void on_record_done(void *arg, const char *reason, int ms)
{
    ep *e = arg;
    e->rec_done++;
    e->rec_ms = ms;
    snprintf(e->rec_reason, sizeof e->rec_reason, "%s", reason);
}

static void on_timeout(void *arg)
{
    ((ep *)arg)->timeouts++;
}

static const hl_media_callbacks cbs = { on_dtmf, on_play_done, on_record_done, on_timeout };

static void make_prompt(const char *path)
{
    /* A chirp with some noise: every G.711 segment gets used; no zero samples at the start
     * so the recording can be aligned on it. */
    unsigned seed = 1;
    for (int i = 0; i < PROMPT_SAMPLES; i++) {
        double t = i / 8000.0;
        seed = seed * 1103515245 + 12345;
        double v = 12000 * sin(2 * M_PI * (200 + 1500 * t) * t) + (int)(seed >> 20) % 2000 - 1000;
        prompt[i] = (int16_t)(v == 0 ? 1 : v);
    }
    hl_wav_writer w;
    char err[100];
    if (hl_wav_writer_open(&w, path, 1, err, sizeof err) == 0) {
        hl_wav_writer_write(&w, prompt, PROMPT_SAMPLES);
        hl_wav_writer_close(&w);
    }
}

/* Finds the prompt (after one u-law encode) inside a recording. */
static int check_recording(const char *path, int codec_path_pt, const char *what)
{
    int16_t *rec;
    int n;
    char err[128];
    if (hl_wav_load(path, &rec, &n, err, sizeof err)) {
        FAIL("%s: cannot load %s: %s", what, path, err);
        return -1;
    }
    int16_t expect[PROMPT_SAMPLES];
    for (int i = 0; i < PROMPT_SAMPLES; i++) {
        int16_t v = hl_g711_decode1(HL_G711_PT_PCMU, hl_g711_encode1(HL_G711_PT_PCMU, prompt[i]));
        if (codec_path_pt == HL_G711_PT_PCMA)  /* transcoded once more on the way */
            v = hl_g711_decode1(HL_G711_PT_PCMA, hl_g711_encode1(HL_G711_PT_PCMA, v));
        expect[i] = v;
    }
    int found = -1;
    for (int off = 0; off + PROMPT_SAMPLES <= n; off++) {
        if (rec[off] == expect[0] && !memcmp(rec + off, expect, sizeof expect)) {
            found = off;
            break;
        }
    }
    CHECK(found >= 0, "%s: recording (%d samples) holds the prompt exactly", what, n);
    free(rec);
    return found;
}

static void finish(void)
{
    hl_media_close(A.m); hl_media_close(B.m); hl_media_close(C.m); hl_media_close(D.m);
    hl_media_close(E.m); hl_media_close(F.m); hl_media_close(G.m); hl_media_close(H.m);
    hl_media_close(J.m);
    uv_timer_stop(&driver);
    uv_close((uv_handle_t *)&driver, NULL);
    double p50, p99, max;
    hl_media_pool_lateness(pool, &p50, &p99, &max);
    printf("tick lateness: p50 %.0f us, p99 %.0f us, max %.0f us\n", p50, p99, max);
    CHECK(p50 < 5000, "median tick lateness under 5 ms (%.0f us)", p50);
    printf("ticks skipped: %llu\n", (unsigned long long)hl_media_pool_skipped(pool));
    hl_media_pool_lateness_reset(pool);
    hl_media_pool_lateness(pool, &p50, &p99, &max);
    CHECK(p50 == 0 && max == 0 && hl_media_pool_skipped(pool) == 0, "lateness reset");
    hl_media_pool_free(pool);
}

/* An RTP packet: header, then the payload (n bytes of pl, or n bytes of u-law silence). */
static size_t make_rtp(uint8_t *pkt, int pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc,
                       const uint8_t *pl, size_t n)
{
    pkt[0] = 0x80;
    pkt[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
    pkt[2] = (uint8_t)(seq >> 8); pkt[3] = (uint8_t)seq;
    for (int k = 0; k < 4; k++) {
        pkt[4 + k] = (uint8_t)(ts >> (24 - 8 * k));
        pkt[8 + k] = (uint8_t)(ssrc >> (24 - 8 * k));
    }
    if (pl)
        memcpy(pkt + 12, pl, n);
    else
        memset(pkt + 12, 0xFF, n);
    return 12 + n;
}

static void send_rtp(int fd, int port, int pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc,
                     const uint8_t *pl, size_t n)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    uint8_t pkt[12 + 160];
    size_t len = make_rtp(pkt, pt, marker, seq, ts, ssrc, pl, n);
    sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to);
}

/* One RFC 4733 event packet (end bit as given, duration 800 samples). */
static void send_key(int fd, int port, int event, bool end, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    uint8_t pl[4] = { (uint8_t)event, (uint8_t)((end ? 0x80 : 0) | 10), 800 >> 8, 800 & 0xFF };
    send_rtp(fd, port, TE_PT, !end, seq, ts, ssrc, pl, sizeof pl);
}

/* BURST back-to-back RTP packets (PCMU, one SSRC, consecutive sequence numbers) to port. */
static void send_burst(int port)
{
    for (int i = 0; i < BURST; i++)
        send_rtp(raw_fd, port, HL_G711_PT_PCMU, false, (uint16_t)(1000 + i), 160u * (uint32_t)i,
                 0x12345678, NULL, 160);
}

/* Datagrams waiting on fd (read and discarded). */
static int count_received(int fd)
{
    uint8_t buf[1500];
    int n = 0;
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        n++;
    return n;
}

/* The latch's rules on their own: who is taken, who moves it, what is counted. */
static hl_latch_addr addr_of(const char *s)
{
    hl_latch_addr a;
    CHECK(hl_latch_addr_parse(&a, s) == 0, "address %s parses", s);
    return a;
}

static hl_latch_verdict latch_try(hl_latch *l, const hl_latch_rules *r, const char *from, int pt,
                                  uint32_t ssrc, uint64_t now)
{
    uint8_t pkt[12 + 160];
    size_t len = make_rtp(pkt, pt, false, 1, 0, ssrc, NULL, 160);
    hl_latch_addr a = addr_of(from);
    return hl_latch_rtp(l, r, &a, pkt, len, now, NULL);
}

static void latch_addresses(void)
{
    hl_latch_addr a;
    CHECK(hl_latch_addr_parse(&a, "127.0.0.1:5060/udp") == 0 && a.family == 4 && a.port == 5060,
          "SIP source ip:port/udp");
    CHECK(hl_latch_addr_parse(&a, "[::1]:5062/tcp") == 0 && a.family == 6 && a.port == 5062,
          "SIP source [v6]:port/tcp");
    CHECK(hl_latch_addr_parse(&a, "::ffff:10.1.2.3") == 0 && a.family == 4 && a.ip[0] == 10 &&
          a.ip[3] == 3, "IPv4-mapped IPv6 is the IPv4 address");
    CHECK(hl_latch_addr_parse(&a, "pbx.example:5060") == -1 && a.family == 0, "a name is no address");
    CHECK(hl_latch_addr_parse(&a, "1.2.3.4:70000") == -1, "port out of range");
    CHECK(hl_latch_addr_parse(&a, "[::1") == -1 && hl_latch_addr_parse(&a, "1.2.3.4x") == -1,
          "broken literals refused");
    char out[64];
    a = addr_of("[2001:db8::7]:4000");
    hl_latch_addr_str(&a, true, out, sizeof out);
    CHECK(!strcmp(out, "[2001:db8::7]:4000"), "v6 written back: %s", out);
}

static void latch_rules(void)
{
    latch_addresses();
    const hl_latch_rules strict = { false, 0 }, sym = { true, SSRC_SWITCH_MS };
    hl_latch l;
    hl_latch_init(&l);
    CHECK(latch_try(&l, &sym, "127.0.0.1:4000", 0, 1, 0) == HL_LATCH_DROP, "nothing before an SDP");

    /* A caller on the engine's LAN: SDP and SIP from one address: that address and port only. */
    hl_latch_addr sdp = addr_of("127.0.0.1:4000"), sig = addr_of("127.0.0.1:5060/udp");
    hl_latch_set_remote(&l, &sdp, 0, TE_PT);
    hl_latch_set_signal(&l, &sig);
    CHECK(latch_try(&l, &sym, "127.0.0.1:4002", 0, 1, 0) == HL_LATCH_DROP, "other port dropped");
    CHECK(latch_try(&l, &sym, "127.0.0.2:4000", 0, 1, 0) == HL_LATCH_DROP, "other address dropped");
    CHECK(latch_try(&l, &sym, "127.0.0.1:4000", 0, 1, 0) == HL_LATCH_TAKE, "the SDP's source taken");
    CHECK(latch_try(&l, &sym, "127.0.0.1:4000", TE_PT, 1, 10) == HL_LATCH_TAKE, "telephone-event taken");
    CHECK(latch_try(&l, &sym, "127.0.0.1:4000", 8, 1, 20) == HL_LATCH_DROP, "PCMA not negotiated");
    CHECK(latch_try(&l, &sym, "127.0.0.1:4000", 0, 2, 10 + SSRC_SWITCH_MS - 1) == HL_LATCH_DROP,
          "another SSRC amid the stream dropped");
    CHECK(latch_try(&l, &sym, "127.0.0.1:4000", 0, 2, 10 + SSRC_SWITCH_MS) == HL_LATCH_TAKE,
          "another SSRC after the stream was quiet for rtp_ssrc_switch_ms");
    CHECK(latch_try(&l, &sym, "127.0.0.1:4000", 0, 1, 11 + SSRC_SWITCH_MS) == HL_LATCH_DROP,
          "... and the old one is over");
    CHECK(latch_try(&l, &strict, "127.0.0.1:4000", 0, 3, 100000) == HL_LATCH_DROP,
          "rtp_ssrc_switch_ms 0: no new SSRC without a new SDP");
    hl_latch_set_remote(&l, &sdp, 0, TE_PT);   /* a re-INVITE to the same place */
    CHECK(latch_try(&l, &strict, "127.0.0.1:4000", 0, 3, 100000) == HL_LATCH_TAKE,
          "a new SDP lets a new stream begin");
    uint8_t junk[12] = { 0x40 };
    hl_latch_addr src = addr_of("127.0.0.1:4000");
    CHECK(hl_latch_rtp(&l, &sym, &src, junk, 5, 0, NULL) == HL_LATCH_DROP &&
          hl_latch_rtp(&l, &sym, &src, junk, sizeof junk, 0, NULL) == HL_LATCH_DROP, "junk dropped");
    CHECK(l.dropped[HL_RTP_DROP_SOURCE] == 3 && l.dropped[HL_RTP_DROP_PT] == 1 &&
          l.dropped[HL_RTP_DROP_SSRC] == 3 && l.dropped[HL_RTP_DROP_MALFORMED] == 2,
          "counted by reason: %llu %llu %llu %llu", (unsigned long long)l.dropped[0],
          (unsigned long long)l.dropped[1], (unsigned long long)l.dropped[2], (unsigned long long)l.dropped[3]);
    uint8_t rr[8] = { 0x80, 201, 0, 1 };
    hl_latch_addr rtcp_ok = addr_of("127.0.0.1:4001"), rtcp_bad = addr_of("127.0.0.2:4001");
    CHECK(hl_latch_rtcp(&l, &rtcp_ok, rr, sizeof rr, NULL) == HL_LATCH_TAKE &&
          hl_latch_rtcp(&l, &rtcp_bad, rr, sizeof rr, NULL) == HL_LATCH_DROP, "RTCP from the source's address only");

    /* Behind NAT: SDP names a private address, SIP comes from the NAT's. */
    hl_latch_init(&l);
    sdp = addr_of("192.168.1.20:4000");
    sig = addr_of("198.51.100.7:5060/udp");
    hl_latch_set_remote(&l, &sdp, 0, TE_PT);
    hl_latch_set_signal(&l, &sig);
    CHECK(latch_try(&l, &strict, "198.51.100.7:30000", 0, 7, 0) == HL_LATCH_DROP,
          "rtp_latch_symmetric 0: the signalling address is not the SDP's");
    CHECK(latch_try(&l, &sym, "203.0.113.9:4000", 0, 7, 0) == HL_LATCH_DROP, "a stranger does not move it");
    CHECK(latch_try(&l, &sym, "198.51.100.7:30000", 13, 7, 0) == HL_LATCH_DROP && l.moves == 0,
          "a payload type not negotiated does not move it");
    CHECK(latch_try(&l, &sym, "198.51.100.7:30000", 0, 7, 0) == HL_LATCH_TAKE_MOVED && l.moves == 1,
          "the signalling address's first packet moves it");
    CHECK(latch_try(&l, &sym, "198.51.100.7:30000", TE_PT, 7, 20) == HL_LATCH_TAKE, "then taken");
    CHECK(latch_try(&l, &sym, "198.51.100.7:30002", 0, 7, 40) == HL_LATCH_DROP,
          "no second move once media flows, even with the SSRC");
    CHECK(latch_try(&l, &sym, "192.168.1.20:4000", 0, 7, 40) == HL_LATCH_DROP, "nor back to the SDP's");
    hl_latch_set_remote(&l, &sdp, 0, TE_PT);
    CHECK(latch_try(&l, &sym, "198.51.100.7:30000", 0, 8, 60) == HL_LATCH_TAKE && l.moves == 1,
          "a re-INVITE to the same address keeps the moved latch");
    hl_latch_addr sdp2 = addr_of("192.168.1.20:4010");
    hl_latch_set_remote(&l, &sdp2, 0, TE_PT);
    CHECK(latch_try(&l, &sym, "198.51.100.7:30000", 0, 8, 80) == HL_LATCH_TAKE_MOVED,
          "an SDP naming another port starts afresh");
}

/* The spray at J and J's caller K (see the top), polled with the scenario. */
static void spray(uint64_t now)
{
    static uint16_t seq;
    static uint32_t ts;
    static uint64_t t_phase;
    int jp = hl_media_local_port(J.m);
    if (spray_phase < 2) {                      /* a key and audio from each sprayer */
        seq++;
        ts += 160;
        send_key(s1_fd, jp, 7, true, seq, ts, K_SSRC);
        send_key(s2_fd, jp, 7, true, seq, ts, 0x53535353);
        send_rtp(s1_fd, jp, HL_G711_PT_PCMU, false, seq, ts, K_SSRC, NULL, 160);
        send_rtp(s2_fd, jp, HL_G711_PT_PCMU, false, seq, ts, 0x53535353, NULL, 160);
    }
    if (spray_phase == 0 && J.timeouts) {      /* the spray did not keep J alive: K speaks */
        CHECK(J.dtmf_count == 0, "no key from the spray (%d)", J.dtmf_count);
        send_rtp(k_fd, jp, 18, false, 1, 0, K_SSRC, NULL, 20);          /* G.729: not in the SDP */
        for (int i = 0; i < 3; i++)
            send_rtp(k_fd, jp, HL_G711_PT_PCMU, false, (uint16_t)(2 + i), 160u * (uint32_t)(i + 1),
                     K_SSRC, NULL, 160);
        send_rtp(k_fd, jp, HL_G711_PT_PCMU, false, 900, 0, 0x0badbeef, NULL, 160); /* SSRC jump */
        send_key(k_fd, jp, 3, false, 5, 800, K_SSRC);
        for (int i = 0; i < 3; i++)
            send_key(k_fd, jp, 3, true, (uint16_t)(6 + i), 800, K_SSRC);
        spray_phase = 1;
        t_phase = now;
    } else if (spray_phase == 1 && now - t_phase > 300000000ull) {
        CHECK(J.dtmf_count == 1 && J.dtmf[0] == '3', "J got K's key 3 only (%d keys, first %c)",
              J.dtmf_count, J.dtmf_count ? J.dtmf[0] : '-');
        CHECK(J.timeouts == 1, "J timed out once under the spray (%d)", J.timeouts);
        hl_rtp_stats js;
        hl_media_get_stats(J.m, &js);
        CHECK(js.dropped[HL_RTP_DROP_SOURCE] >= 100 && js.dropped[HL_RTP_DROP_PT] == 1 &&
              js.dropped[HL_RTP_DROP_SSRC] == 1 && js.dropped[HL_RTP_DROP_MALFORMED] == 0,
              "J's drops by reason: source %llu, pt %llu, ssrc %llu, malformed %llu",
              (unsigned long long)js.dropped[0], (unsigned long long)js.dropped[1],
              (unsigned long long)js.dropped[2], (unsigned long long)js.dropped[3]);
        CHECK(js.received == 3 + 4, "J took K's 3 audio and 4 key packets (%llu)",
              (unsigned long long)js.received);
        uint64_t pool_dropped[HL_RTP_DROP_REASONS], moves;
        hl_media_pool_dropped(pool, pool_dropped, &moves);
        CHECK(pool_dropped[HL_RTP_DROP_SOURCE] >= js.dropped[HL_RTP_DROP_SOURCE] && moves == 1,
              "pool counts J's drops and C's one move (moves %llu)", (unsigned long long)moves);
        int to_k = count_received(k_fd), to_s1 = count_received(s1_fd), to_s2 = count_received(s2_fd);
        CHECK(to_k > 50 && to_s1 == 0 && to_s2 == 0,
              "J's audio went to K only: K %d, sprayers %d and %d packets", to_k, to_s1, to_s2);
        spray_phase = 2;
    }
}

/* The scenario, polled every 10 ms. */
static void drive(uv_timer_t *t)
{
    static uint64_t t0, t_wait;
    uint64_t now = uv_hrtime();
    if (!t0)
        t0 = now;
    if (now - t0 > 15000000000ull) {
        FAIL("scenario stuck at step %d", step);
        finish();
        return;
    }
    char err[200];
    spray(now);
    switch (step) {
    case 0: {                                   /* start: records, play */
        hl_record_opts o = { 0 };
        snprintf(o.path, sizeof o.path, "%s", rec_path);
        CHECK(hl_media_record_start(B.m, &o, err, sizeof err) == 0, "B record: %s", err);
        hl_record_opts og = { 0 };
        snprintf(og.path, sizeof og.path, "%s", rec_g_path);
        CHECK(hl_media_record_start(G.m, &og, err, sizeof err) == 0, "G record: %s", err);
        const char *items[] = { "silence:100", "hello" };
        A.in_api = 1;
        CHECK(hl_media_play(A.m, NULL, items, 2, err, sizeof err) == 0, "A play: %s", err);
        A.in_api = 0;
        const char *bad[] = { "hello", "../etc/passwd" };
        CHECK(hl_media_play(A.m, NULL, bad, 2, err, sizeof err) == -1 && strstr(err, "not a valid name"),
              "evil playlist refused: %s", err);
        t_play_start = now;
        hl_media_get_stats(B.m, &b_stats_start);
        send_burst(hl_media_local_port(H.m));
        step = 1;
        break;
    }
    case 1:                                     /* wait for the prompt's end */
        if (A.play_done) {
            CHECK(!A.play_interrupted, "A's playlist ended by itself");
            hl_media_get_stats(B.m, &b_stats_end);
            t_wait = now;
            step = 2;
        }
        break;
    case 2:                                     /* let the last frames arrive, then a key */
        if (now - t_wait > 100000000ull) {
            hl_rtp_stats ds;
            hl_media_get_stats(D.m, &ds);
            d_received_at_reoffer = ds.received;
            CHECK(hl_media_set_remote(C.m, "127.0.0.2", 9, HL_CODEC_PCMU, -1) == 0, "C re-offered");
            CHECK(hl_media_send_dtmf(A.m, '5', 120) == 0, "send 5");
            CHECK(hl_media_send_dtmf(A.m, 'x', 120) == -1, "send x refused");
            step = 3;
        }
        break;
    case 3:
        if (B.dtmf_count >= 1) {
            t_wait = now;
            step = 4;
        }
        break;
    case 4:                                     /* no second report of the same key */
        if (now - t_wait > 300000000ull) {
            CHECK(B.dtmf_count == 1 && B.dtmf[0] == '5', "B got '5' once (count %d)", B.dtmf_count);
            CHECK(B.dtmf_ms >= 100 && B.dtmf_ms <= 160, "duration %d ms", B.dtmf_ms);
            CHECK(hl_media_send_dtmf(A.m, '#', 0) == 0, "send # during B's recording");
            step = 5;
        }
        break;
    case 5:                                     /* the key reaches the owner, who stops the recording */
        if (B.dtmf_count == 2 && !B.rec_done && !B.rec_stop_asked) {
            CHECK(B.dtmf[1] == '#', "B's owner got '#' during the recording (got '%c')", B.dtmf[1]);
            hl_media_record_stop(B.m);
            B.rec_stop_asked = 1;
        }
        if (B.rec_done) {
            CHECK(B.rec_stop_asked && !strcmp(B.rec_reason, "stopped"),
                  "B recording stopped by its owner, reason %s", B.rec_reason);
            CHECK(B.dtmf_count == 2, "each key reported once (count %d)", B.dtmf_count);
            /* play_stop: reported from the tick, interrupted */
            const char *items[] = { "tone:ringback" };
            A.play_done = 0;
            hl_media_play(A.m, NULL, items, 1, err, sizeof err);
            A.in_api = 1;
            hl_media_play_stop(A.m);
            A.in_api = 0;
            CHECK(A.play_done == 0, "play_stop does not call back at once");
            hl_media_record_stop(G.m);
            t_wait = now;
            step = 6;
        }
        break;
    case 6:
        if (A.play_done && G.rec_done && spray_phase == 2 && now - t_wait > 100000000ull) {
            CHECK(A.play_interrupted, "stopped playlist reports interrupted");
            CHECK(!strcmp(G.rec_reason, "stopped"), "G stopped, reason %s", G.rec_reason);
            hl_rtp_stats cs, ds;
            hl_media_get_stats(C.m, &cs);
            hl_media_get_stats(D.m, &ds);
            CHECK(ds.received > 20, "symmetric RTP: D received %llu packets from C", (unsigned long long)ds.received);
            CHECK(ds.received >= d_received_at_reoffer + 10, "... also after C's re-offer (%llu then %llu)",
                  (unsigned long long)d_received_at_reoffer, (unsigned long long)ds.received);
            CHECK(E.timeouts == 1, "E timed out once (%d)", E.timeouts);
            CHECK(A.timeouts == 0 && B.timeouts == 0, "A and B did not time out");
            hl_rtp_stats hs;
            hl_media_get_stats(H.m, &hs);
            CHECK(hs.received == BURST, "H received the whole burst: %llu of %d packets",
                  (unsigned long long)hs.received, BURST);
            finish();
            step = 7;
        }
        break;
    }
}

TEST_IMPL(media_loop)
{
    snprintf(dir, sizeof dir, "/tmp/hl_media_loop_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    char ppath[128];
    snprintf(ppath, sizeof ppath, "%s/hello.wav", dir);
    make_prompt(ppath);
    snprintf(rec_path, sizeof rec_path, "%s/rec/b.wav", dir);
    snprintf(rec_g_path, sizeof rec_g_path, "%s/rec/g.wav", dir);

    loop = uv_default_loop();
    hl_prompts *prompts = hl_prompts_new(dir);
    int lo = 40000 + (getpid() % 500) * 20;     /* parallel runs use other ports */
    hl_media_pool_cfg cfg = { "127.0.0.1", lo, lo + 20, 1500, 6000, 200, 100, { true, SSRC_SWITCH_MS } };
    latch_rules();
    pool = hl_media_pool_new(loop, &cfg, prompts);
    CHECK(pool != NULL, "pool");
    if (!pool)
        return 1;
    ep *eps[] = { &A, &B, &C, &D, &E, &F, &G };
    for (int i = 0; i < 7; i++) {
        eps[i]->m = hl_media_new(pool, &cbs, eps[i]);
        CHECK(eps[i]->m != NULL, "endpoint %s", eps[i]->name);
        if (!eps[i]->m)
            return 1;
        CHECK(hl_media_local_port(eps[i]->m) % 2 == 0, "even port");
    }
    CHECK(hl_media_pool_active(pool) == 7, "7 active");
    /* 20-port range = 10 pairs: 3 more fit, then NULL */
    hl_media *extra[4];
    int got = 0;
    for (int i = 0; i < 4; i++)
        if ((extra[i] = hl_media_new(pool, &cbs, NULL)))
            got++;
    CHECK(got == 3, "port range exhausted after 10 endpoints (got %d extra)", got);
    for (int i = 0; i < 4; i++)
        hl_media_close(extra[i]);
    H.m = hl_media_new(pool, &cbs, &H);
    CHECK(H.m != NULL, "endpoint H");
    raw_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in raw_addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t raw_len = sizeof raw_addr;
    CHECK(raw_fd >= 0 && !bind(raw_fd, (struct sockaddr *)&raw_addr, sizeof raw_addr) &&
          !getsockname(raw_fd, (struct sockaddr *)&raw_addr, &raw_len), "burst socket");
    if (!H.m || raw_fd < 0)
        return 1;
    J.m = hl_media_new(pool, &cbs, &J);
    k_fd = socket(AF_INET, SOCK_DGRAM, 0);
    s1_fd = socket(AF_INET, SOCK_DGRAM, 0);
    s2_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in k_addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in s2_addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002) };
    socklen_t k_len = sizeof k_addr;
    CHECK(J.m && k_fd >= 0 && s1_fd >= 0 && s2_fd >= 0 &&
          !bind(k_fd, (struct sockaddr *)&k_addr, sizeof k_addr) &&
          !getsockname(k_fd, (struct sockaddr *)&k_addr, &k_len) &&
          !bind(s1_fd, (struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET,
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, sizeof k_addr) &&
          !bind(s2_fd, (struct sockaddr *)&s2_addr, sizeof s2_addr), "J, its caller and the sprayers");
    if (!J.m)
        return 1;
    const char *lh = "127.0.0.1";
    int pa = hl_media_local_port(A.m), pb = hl_media_local_port(B.m);
    hl_media_set_remote(A.m, lh, pb, HL_CODEC_PCMU, TE_PT);
    hl_media_set_remote(B.m, lh, pa, HL_CODEC_PCMU, TE_PT);
    /* C's SDP names another address than its signalling (a caller behind NAT): C latches to
     * D, sending from the signalling address, and answers there (symmetric RTP). */
    hl_media_set_remote(C.m, "127.0.0.2", 9, HL_CODEC_PCMU, -1);
    CHECK(hl_media_set_signalling(C.m, "127.0.0.1:5060/udp") == 0, "C's signalling address");
    hl_media_set_remote(D.m, lh, hl_media_local_port(C.m), HL_CODEC_PCMU, -1);
    /* E sends to the discard port and hears nothing: times out. */
    CHECK(hl_media_set_remote(E.m, lh, 9, HL_CODEC_PCMA, -1) == 0, "E remote");
    CHECK(hl_media_set_remote(E.m, "::1", 9, HL_CODEC_PCMA, -1) == -1, "IPv6 remote on an IPv4 socket refused");
    CHECK(hl_media_set_remote(E.m, lh, 9, HL_CODEC_PCMA, -1) == 0, "E takes an IPv4 remote after the refusal");
    CHECK(hl_media_set_remote(E.m, lh, 0, HL_CODEC_PCMA, -1) == -1, "port 0 refused");
    /* F and G: a PCMA pair; B is bridged to F, so what B receives goes F -> G. */
    hl_media_set_remote(F.m, lh, hl_media_local_port(G.m), HL_CODEC_PCMA, -1);
    hl_media_set_remote(G.m, lh, hl_media_local_port(F.m), HL_CODEC_PCMA, -1);
    hl_media_bridge(B.m, F.m);
    hl_media_set_remote(H.m, lh, ntohs(raw_addr.sin_port), HL_CODEC_PCMU, -1);
    /* J's caller K: SDP and SIP from one address, so nothing else may latch (see the top). */
    hl_media_set_remote(J.m, lh, ntohs(k_addr.sin_port), HL_CODEC_PCMU, TE_PT);
    hl_media_set_signalling(J.m, "127.0.0.1:5060/udp");

    uv_timer_init(loop, &driver);
    uv_timer_start(&driver, drive, 10, 10);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    uint64_t t0 = uv_hrtime();
    uv_run(loop, UV_RUN_DEFAULT);
    uint64_t t1 = uv_hrtime();
    getrusage(RUSAGE_SELF, &ru1);
    CHECK(step == 7, "scenario finished (step %d)", step);

    /* pacing: B received 50 packets a second while A played */
    double secs = (t_play_end - t_play_start) / 1e9;
    double rate = (b_stats_end.received - b_stats_start.received) / (secs > 0 ? secs : 1);
    printf("pacing: %.1f packets/s at B over %.2f s\n", rate, secs);
    CHECK(rate > 45 && rate < 55, "about 50 packets/s (%.1f)", rate);

    int off = check_recording(rec_path, HL_G711_PT_PCMU, "B");
    CHECK(off >= 0, "B's recording aligned at %d", off);
    check_recording(rec_g_path, HL_G711_PT_PCMA, "G (bridged, transcoded)");

    double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf("cpu: %.3f s for 8 endpoints over %.2f s wall\n", cpu, (t1 - t0) / 1e9);
    close(raw_fd);
    close(k_fd);
    close(s1_fd);
    close(s2_fd);
    hl_prompts_free(prompts);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
