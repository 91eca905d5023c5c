/* test_media_loop.c — media endpoints of one pool talking over loopback on a real uv loop:
 *   - A plays a prompt to B; B records what it receives; the recording holds exactly the
 *     prompt after one G.711 encode (u-law round trip is the identity after that);
 *   - pacing: about 50 packets a second, tick lateness reported;
 *   - a key sent by A as RFC 4733 arrives at B once, with the right digit, also during a
 *     recording (stop keys are the call layer's: the owner stops it);
 *   - hl_media_play_stop reports on_play_done(true) from the tick, not re-entrantly;
 *   - symmetric RTP: C is told a wrong remote port but answers where D's packets come from;
 *   - RTP timeout: E, to which nobody sends, times out;
 *   - bridge: what A sends to B goes on from B's peer F to G (PCMU -> PCMA transcoding);
 *   - all of the above with reads gated on epoll readiness (E is never read at all);
 *   - a burst of BURST packets arriving at once (several recvmmsg batches of media.c's
 *     endpoint transport) is all received by H, none lost or counted twice;
 *   - hl_media_pool_lateness_reset clears the figures.
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
          E = { .name = "E" }, F = { .name = "F" }, G = { .name = "G" }, H = { .name = "H" };
static int raw_fd = -1;         /* a plain UDP socket: sends H its burst */
static char dir[64], rec_path[128], rec_g_path[128];
static int16_t prompt[PROMPT_SAMPLES];
static uint64_t t_play_start, t_play_end;
static hl_rtp_stats b_stats_start, b_stats_end;
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

/* BURST back-to-back RTP packets (PCMU, one SSRC, consecutive sequence numbers) to port. */
static void send_burst(int port)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    uint8_t pkt[12 + 160];
    memset(pkt, 0xFF, sizeof pkt);              /* u-law silence */
    for (int i = 0; i < BURST; i++) {
        uint16_t seq = (uint16_t)(1000 + i);
        uint32_t ts = 160u * (uint32_t)i, ssrc = 0x12345678;
        pkt[0] = 0x80;
        pkt[1] = HL_G711_PT_PCMU;
        pkt[2] = (uint8_t)(seq >> 8); pkt[3] = (uint8_t)seq;
        for (int k = 0; k < 4; k++) {
            pkt[4 + k] = (uint8_t)(ts >> (24 - 8 * k));
            pkt[8 + k] = (uint8_t)(ssrc >> (24 - 8 * k));
        }
        sendto(raw_fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
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
        CHECK(hl_media_play(A.m, items, 2, err, sizeof err) == 0, "A play: %s", err);
        A.in_api = 0;
        const char *bad[] = { "hello", "../etc/passwd" };
        CHECK(hl_media_play(A.m, bad, 2, err, sizeof err) == -1 && strstr(err, "not a valid name"),
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
            hl_media_play(A.m, items, 1, err, sizeof err);
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
        if (A.play_done && G.rec_done && now - t_wait > 100000000ull) {
            CHECK(A.play_interrupted, "stopped playlist reports interrupted");
            CHECK(!strcmp(G.rec_reason, "stopped"), "G stopped, reason %s", G.rec_reason);
            hl_rtp_stats cs, ds;
            hl_media_get_stats(C.m, &cs);
            hl_media_get_stats(D.m, &ds);
            CHECK(ds.received > 20, "symmetric RTP: D received %llu packets from C", (unsigned long long)ds.received);
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
    hl_media_pool_cfg cfg = { "127.0.0.1", lo, lo + 20, 1500, 6000, 200, 100 };
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
    const char *lh = "127.0.0.1";
    int pa = hl_media_local_port(A.m), pb = hl_media_local_port(B.m);
    hl_media_set_remote(A.m, lh, pb, HL_CODEC_PCMU, TE_PT);
    hl_media_set_remote(B.m, lh, pa, HL_CODEC_PCMU, TE_PT);
    /* C is told a port nobody listens on; D sends to C; C must answer to D (symmetric). */
    hl_media_set_remote(C.m, lh, 9, HL_CODEC_PCMU, -1);
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
    hl_prompts_free(prompts);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
