/* test_media_mix.c — who hears whom, checked by the audio bytes: endpoints of one pool on
 * loopback, agent A (PCMU), caller B (PCMA) and supervisor S (PCMU), each with a "phone" (a
 * plain UDP socket) that sends its endpoint one frame every 20 ms and reads what the
 * endpoint sends back.  Party p's frame is loud at the samples i % 4 == p and silent
 * elsewhere, so any sum of parties shows which are in it, and the samples i % 4 == 3 stay
 * silent in every mix.
 *   - the 1:1 bridge A<->B: each hears the other only, PCMA<->PCMU transcoded exactly (one
 *     decode, one encode);
 *   - S hearing A only: A's bytes passed through unchanged;
 *   - listen (S hears A+B, nobody hears S), whisper (A hears B+S, B only A), barge (each
 *     the other two), set by hl_media_monitor as the legs do: every phone hears exactly the
 *     expected parties, each expected one in nearly every frame (a frame mixed twice or
 *     lost would show as a gap or a garble); monitor.h's table says the same;
 *   - recordings during the barge: B's mono file holds B, A and S; A's stereo file holds A
 *     on the left and B and S on the right;
 *   - closing S mid-barge leaves the bridge A<->B as it was; closing A mid-barge (with a
 *     new supervisor S2) leaves B and S2 hearing each other and no reference to A (run
 *     under ASan or valgrind to see it);
 *   - last_voice_ms: B's phone goes quiet: B's last voiced frame stays put, S2's moves on;
 *     an endpoint that never heard a voice says 0. */
#include "media/media.h"
#include "media/wav.h"
#include "rtp/g711.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

#define FRAME      160
#define LOUD       8000          /* a party's marked samples */
#define HEARD_MIN  2000          /* |sample| above this: the party is in the frame */
#define QUIET_MAX  500           /* below this: silent (A-law's zero decodes to 8, sums to 24) */
#define SETTLE_MS  160           /* after a change, frames in flight pass */
#define WINDOW_MS  600           /* then what each phone hears is counted (30 frames) */
#define PRESENT_MIN 0.8          /* an expected party is in at least this share of frames */
#define SILENT_MS  300           /* B's phone quiet this long for the last-voice check */

enum { PA, PB, PS, NPARTY };
static const char *const party_name[NPARTY] = { "A", "B", "S" };

typedef struct phone {
    int      party, codec, fd;
    hl_media *m;
    uint16_t seq;
    uint32_t ts;
    bool     quiet;              /* sends silence instead of its marked frame */
    uint8_t  frame[FRAME];       /* its marked frame, coded */
    /* what it heard in the current window */
    int      frames, with[NPARTY], garbled, exact, silent;
    const uint8_t *expect_bytes; /* when set: frames equal to it count in exact */
} phone;

static uv_loop_t *loop;
static hl_media_pool *pool;
static phone ph[NPARTY];
static uv_timer_t driver;
static uint64_t t_start_ns, frames_sent, t_phase;
static int step;
static char dir[64], rec_b[128], rec_a[128];
static int rec_done;
static uint8_t a_to_b[FRAME], b_to_a[FRAME];     /* A's frame as B's phone gets it, and B's */
static uint64_t t_quiet_ms;
static hl_media *fresh;                          /* never hears a voice */

static void on_record_done(void *arg, const char *reason, int ms)
{
    rec_done++;
}

static const hl_media_callbacks cbs = { .on_record_done = on_record_done };

static void make_frame(phone *p)
{
    for (int i = 0; i < FRAME; i++) {
        int16_t v = i % 4 == p->party ? (int16_t)((i / 4) % 2 ? LOUD : -LOUD) : 0;
        p->frame[i] = hl_g711_encode1(p->codec, v);
    }
}

static void phone_send(phone *p)
{
    if (!p->m)
        return;
    uint8_t pkt[12 + FRAME] = { 0x80, (uint8_t)p->codec };
    pkt[2] = (uint8_t)(p->seq >> 8);
    pkt[3] = (uint8_t)p->seq;
    for (int k = 0; k < 4; k++) {
        pkt[4 + k] = (uint8_t)(p->ts >> (24 - 8 * k));
        pkt[8 + k] = (uint8_t)((0x50000000u + (uint32_t)p->party) >> (24 - 8 * k));
    }
    if (p->quiet)
        memset(pkt + 12, hl_g711_silence(p->codec), FRAME);
    else
        memcpy(pkt + 12, p->frame, FRAME);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)hl_media_local_port(p->m)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    sendto(p->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
    p->seq++;
    p->ts += FRAME;
}

/* Which parties one received frame holds; false when a sample is neither loud nor quiet
 * where it should be one of them (a garbled mix). */
static bool classify(const int16_t *s, bool with[NPARTY])
{
    bool ok = true;
    for (int q = 0; q <= NPARTY; q++) {     /* q == NPARTY: the samples no party marks */
        int loud = 0, quiet = 0;
        for (int i = q; i < FRAME; i += 4) {
            int v = s[i] < 0 ? -s[i] : s[i];
            loud += v > HEARD_MIN;
            quiet += v < QUIET_MAX;
        }
        if (q < NPARTY)
            with[q] = loud == FRAME / 4;
        if (loud != FRAME / 4 && quiet != FRAME / 4)
            ok = false;
        if (q == NPARTY && loud)
            ok = false;
    }
    return ok;
}

/* Reads what the phone's endpoint sent it; counts it into the window unless draining. */
static void phone_read(phone *p, bool count)
{
    uint8_t buf[1500];
    ssize_t n;
    while ((n = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        if (!count || n != 12 + FRAME || (buf[1] & 0x7f) != p->codec)
            continue;
        int16_t s[FRAME];
        hl_g711_decode(p->codec, buf + 12, s, FRAME);
        bool with[NPARTY];
        p->frames++;
        if (!classify(s, with))
            p->garbled++;
        int any = 0;
        for (int q = 0; q < NPARTY; q++) {
            p->with[q] += with[q];
            any += with[q];
        }
        p->silent += !any;
        if (p->expect_bytes && !memcmp(buf + 12, p->expect_bytes, FRAME))
            p->exact++;
    }
}

static void window_reset(void)
{
    for (int i = 0; i < NPARTY; i++) {
        phone_read(&ph[i], false);
        ph[i].frames = ph[i].garbled = ph[i].exact = ph[i].silent = 0;
        memset(ph[i].with, 0, sizeof ph[i].with);
    }
}

/* The phone heard exactly the parties in mask (bits by party), each in nearly every frame. */
static void expect_heard(const phone *p, unsigned mask, const char *mode)
{
    const char *who = party_name[p->party];
    printf("%s: %s's phone: %d frames, A in %d, B in %d, S in %d, silent %d, garbled %d\n", mode, who,
           p->frames, p->with[PA], p->with[PB], p->with[PS], p->silent, p->garbled);
    CHECK(p->frames >= WINDOW_MS / 20 * 3 / 4, "%s: %s's phone got %d frames", mode, who, p->frames);
    CHECK(p->garbled == 0, "%s: %s's phone: %d garbled frames", mode, who, p->garbled);
    for (int q = 0; q < NPARTY; q++) {
        if (mask & 1u << q)
            CHECK(p->with[q] >= PRESENT_MIN * p->frames, "%s: %s hears %s (%d of %d frames)", mode,
                  who, party_name[q], p->with[q], p->frames);
        else
            CHECK(p->with[q] == 0, "%s: %s must not hear %s (%d of %d frames)", mode, who,
                  party_name[q], p->with[q], p->frames);
    }
}

static void expect_nothing(const phone *p, const char *mode)
{
    CHECK(p->frames == 0, "%s: %s's endpoint is gone, sends nothing (%d frames)", mode,
          party_name[p->party], p->frames);
}

/* Samples of one channel of a recording, frame by frame: which parties each holds. */
static void check_recording(const char *path, int channel, unsigned mask, const char *what)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 20];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    hl_wav_info info;
    char err[128];
    if (hl_wav_parse(buf, len, &info, err, sizeof err)) {
        FAIL("%s: %s: %s", what, path, err);
        return;
    }
    const int16_t *s = (const int16_t *)(buf + info.data_off);
    int nframes = (int)(info.data_len / 2 / (size_t)info.channels / FRAME), garbled = 0, full = 0, stray = 0;
    for (int k = 0; k < nframes; k++) {
        int16_t one[FRAME];
        for (int i = 0; i < FRAME; i++)
            one[i] = s[(k * FRAME + i) * info.channels + channel];
        bool with[NPARTY];
        garbled += !classify(one, with);
        bool all = true;
        for (int q = 0; q < NPARTY; q++) {
            if (mask & 1u << q)
                all = all && with[q];
            else
                stray += with[q];
        }
        full += all;
    }
    printf("recording %s: %d frames, %d with every expected party, %d stray, %d garbled\n", what,
           nframes, full, stray, garbled);
    CHECK(nframes >= WINDOW_MS / 20 * 3 / 4, "%s: %d frames", what, nframes);
    CHECK(garbled == 0 && stray == 0, "%s: %d garbled, %d with a party not expected", what, garbled, stray);
    CHECK(full >= PRESENT_MIN * nframes, "%s: every expected party in %d of %d frames", what, full, nframes);
}

/* The one table of who hears whom (monitor.h, which the simulator tells) against the
 * issue's words, which this file's steps check by the audio. */
static void monitor_table_as_specified(void)
{
    static const struct { hl_monitor_mode mode; unsigned hears[NPARTY]; } spec[] = {
        { HL_MONITOR_STOP,    { 1u << PB, 1u << PA, 0 } },
        { HL_MONITOR_LISTEN,  { 1u << PB, 1u << PA, 1u << PA | 1u << PB } },
        { HL_MONITOR_WHISPER, { 1u << PB | 1u << PS, 1u << PA, 1u << PA | 1u << PB } },
        { HL_MONITOR_BARGE,   { 1u << PB | 1u << PS, 1u << PA | 1u << PS, 1u << PA | 1u << PB } },
    };
    static const hl_party as_party[NPARTY] = { HL_PARTY_AGENT, HL_PARTY_CALLER, HL_PARTY_SUPERVISOR };
    for (size_t k = 0; k < sizeof spec / sizeof spec[0]; k++)
        for (int who = 0; who < NPARTY; who++)
            for (int src = 0; src < NPARTY; src++)
                CHECK(hl_monitor_hears(spec[k].mode, as_party[who], as_party[src]) ==
                      !!(spec[k].hears[who] & 1u << src), "%s: %s hears %s?", hl_monitor_name(spec[k].mode),
                      party_name[who], party_name[src]);
}

static void finish(void)
{
    for (int i = 0; i < NPARTY; i++) {
        hl_media_close(ph[i].m);
        ph[i].m = NULL;
    }
    hl_media_close(fresh);
    uv_timer_stop(&driver);
    uv_close((uv_handle_t *)&driver, NULL);
    hl_media_pool_free(pool);
}

static hl_media *endpoint_for(phone *p)
{
    hl_media *m = hl_media_new(pool, &cbs, p);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(p->fd, (struct sockaddr *)&a, &al);
    CHECK(m && hl_media_set_remote(m, "127.0.0.1", ntohs(a.sin_port), (hl_codec)p->codec, -1) == 0,
          "endpoint for %s's phone", party_name[p->party]);
    return m;
}

static void start_recordings(void)
{
    char err[128];
    hl_record_opts ob = { .both_legs = true }, oa = { .both_legs = true, .stereo = true };
    snprintf(ob.path, sizeof ob.path, "%s", rec_b);
    snprintf(oa.path, sizeof oa.path, "%s", rec_a);
    CHECK(hl_media_record_start(ph[PB].m, &ob, err, sizeof err) == 0, "B records: %s", err);
    CHECK(hl_media_record_start(ph[PA].m, &oa, err, sizeof err) == 0, "A records: %s", err);
}

/* Each step: a change, SETTLE_MS, a window of WINDOW_MS, the checks of what was heard. */
static void next_mode(void)
{
    hl_media *A = ph[PA].m, *B = ph[PB].m, *S = ph[PS].m;
    switch (step) {
    case 0:                                     /* the 1:1 bridge */
        hl_media_bridge(A, B);
        ph[PA].expect_bytes = b_to_a;
        ph[PB].expect_bytes = a_to_b;
        break;
    case 1:                                     /* S hears A only: A's bytes */
        expect_heard(&ph[PA], 1u << PB, "bridge");
        expect_heard(&ph[PB], 1u << PA, "bridge");
        expect_heard(&ph[PS], 0, "bridge");
        CHECK(ph[PA].exact + ph[PA].silent == ph[PA].frames && ph[PA].exact >= PRESENT_MIN * ph[PA].frames,
              "PCMA -> PCMU: A's phone got B's frame transcoded exactly (%d of %d)", ph[PA].exact, ph[PA].frames);
        CHECK(ph[PB].exact + ph[PB].silent == ph[PB].frames && ph[PB].exact >= PRESENT_MIN * ph[PB].frames,
              "PCMU -> PCMA: B's phone got A's frame transcoded exactly (%d of %d)", ph[PB].exact, ph[PB].frames);
        ph[PA].expect_bytes = ph[PB].expect_bytes = NULL;
        CHECK(hl_media_hear(S, &A, 1) == 0 && hl_media_hear_count(S) == 1, "S hears A");
        ph[PS].expect_bytes = ph[PA].frame;
        break;
    case 2:                                     /* listen */
        expect_heard(&ph[PS], 1u << PA, "S hears A");
        CHECK(ph[PS].exact + ph[PS].silent == ph[PS].frames && ph[PS].exact >= PRESENT_MIN * ph[PS].frames,
              "one source in our codec: A's bytes passed through to S (%d of %d)", ph[PS].exact, ph[PS].frames);
        ph[PS].expect_bytes = NULL;
        CHECK(hl_media_hear_add(A, S) == 0 && hl_media_hear_add(A, S) == 0 && hl_media_hear_count(A) == 1,
              "A hears S (added twice: once)");
        CHECK(hl_media_monitor(S, A, B, HL_MONITOR_LISTEN) == 0 && hl_media_hear_count(S) == 2 &&
              hl_media_hear_count(A) == 0, "listen replaces what S heard and who heard S");
        break;
    case 3:                                     /* whisper */
        expect_heard(&ph[PA], 1u << PB, "listen");
        expect_heard(&ph[PB], 1u << PA, "listen");
        expect_heard(&ph[PS], 1u << PA | 1u << PB, "listen");
        CHECK(hl_media_monitor(S, A, B, HL_MONITOR_WHISPER) == 0, "whisper");
        break;
    case 4:                                     /* barge, recorded */
        expect_heard(&ph[PA], 1u << PB | 1u << PS, "whisper");
        expect_heard(&ph[PB], 1u << PA, "whisper");
        expect_heard(&ph[PS], 1u << PA | 1u << PB, "whisper");
        CHECK(hl_media_monitor(S, A, B, HL_MONITOR_STOP) == 0 && hl_media_hear_count(S) == 0 &&
              hl_media_hear_count(A) == 0 && hl_media_hear_count(B) == 0, "stop leaves only the bridge");
        CHECK(hl_media_monitor(S, A, B, HL_MONITOR_BARGE) == 0, "barge");
        break;
    case 5:                                     /* S leaves mid-barge */
        expect_heard(&ph[PA], 1u << PB | 1u << PS, "barge");
        expect_heard(&ph[PB], 1u << PA | 1u << PS, "barge");
        expect_heard(&ph[PS], 1u << PA | 1u << PB, "barge");
        hl_media_record_stop(A);
        hl_media_record_stop(B);
        hl_media_close(S);
        ph[PS].m = NULL;
        CHECK(hl_media_hear_count(A) == 0 && hl_media_hear_count(B) == 0, "no reference to the closed S");
        break;
    case 6:                                     /* S2 barges; then the agent leaves */
        expect_heard(&ph[PA], 1u << PB, "S closed");
        expect_heard(&ph[PB], 1u << PA, "S closed");
        expect_nothing(&ph[PS], "S closed");
        CHECK(rec_done == 2, "both recordings finished (%d)", rec_done);
        S = ph[PS].m = endpoint_for(&ph[PS]);
        CHECK(hl_media_monitor(S, A, B, HL_MONITOR_BARGE) == 0, "S2 barges");
        hl_media_close(A);
        ph[PA].m = NULL;
        CHECK(hl_media_hear_count(S) == 1 && hl_media_hear_count(B) == 1, "no reference to the closed A");
        break;
    case 7:                                     /* B goes quiet */
        expect_nothing(&ph[PA], "A closed");
        expect_heard(&ph[PB], 1u << PS, "A closed");
        expect_heard(&ph[PS], 1u << PB, "A closed");
        ph[PB].quiet = true;
        t_quiet_ms = uv_hrtime() / 1000000;
        break;
    case 8: {
        hl_rtp_stats sb, ss, sf;
        hl_media_get_stats(B, &sb);
        hl_media_get_stats(S, &ss);
        hl_media_get_stats(fresh, &sf);
        uint64_t now = uv_hrtime() / 1000000;
        printf("last voice: B %lld ms before going quiet, S2 %lld ms ago\n",
               (long long)t_quiet_ms - (long long)sb.last_voice_ms, (long long)(now - ss.last_voice_ms));
        CHECK(sb.last_voice_ms > 0 && sb.last_voice_ms <= t_quiet_ms + 100 &&
              sb.last_voice_ms + 200 >= t_quiet_ms, "B's last voice is when its phone went quiet");
        CHECK(ss.last_voice_ms + 100 >= now, "S2's last voice is recent");
        CHECK(sf.last_voice_ms == 0, "an endpoint that heard no voice says 0");
        finish();
        break;
    }
    }
    step++;
}

/* Polled every 5 ms: phones send on a drift-free 20 ms schedule and read; steps advance. */
static void drive(uv_timer_t *t)
{
    uint64_t now = uv_hrtime();
    if (!t_start_ns)
        t_start_ns = t_phase = now;
    while (frames_sent < (now - t_start_ns) / 20000000ull + 1) {
        for (int i = 0; i < NPARTY; i++)
            phone_send(&ph[i]);
        frames_sent++;
    }
    static bool counting;
    uint64_t ms = (now - t_phase) / 1000000;
    if (!counting && ms >= SETTLE_MS) {
        window_reset();
        if (step == 5)                          /* the barge's window: recorded */
            start_recordings();
        counting = true;
    }
    for (int i = 0; i < NPARTY; i++)
        phone_read(&ph[i], counting);
    uint64_t phase_ms = step == 8 ? SILENT_MS : SETTLE_MS + WINDOW_MS;
    if (step == 0 || ms >= phase_ms) {
        next_mode();
        t_phase = now;
        counting = false;
    }
    (void)t;
}

TEST_IMPL(media_mix)
{
    snprintf(dir, sizeof dir, "/tmp/hl_media_mix_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(rec_b, sizeof rec_b, "%s/b.wav", dir);
    snprintf(rec_a, sizeof rec_a, "%s/a.wav", dir);
    loop = uv_default_loop();
    hl_prompts *prompts = hl_prompts_new(dir);
    int lo = 41000 + (getpid() % 400) * 20;     /* parallel runs use other ports */
    hl_media_pool_cfg cfg = { "127.0.0.1", lo, lo + 20, 0, 0, 200, 100, { true, 200 } };
    pool = hl_media_pool_new(loop, &cfg, prompts);
    CHECK(pool != NULL, "pool");
    if (!pool)
        return 1;
    static const int codec[NPARTY] = { HL_G711_PT_PCMU, HL_G711_PT_PCMA, HL_G711_PT_PCMU };
    for (int i = 0; i < NPARTY; i++) {
        ph[i].party = i;
        ph[i].codec = codec[i];
        make_frame(&ph[i]);
        ph[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (ph[i].fd < 0 || bind(ph[i].fd, (struct sockaddr *)&a, sizeof a))
            return 1;
        ph[i].m = endpoint_for(&ph[i]);         /* S last: A hears a later endpoint, S earlier ones */
        if (!ph[i].m)
            return 1;
    }
    fresh = hl_media_new(pool, &cbs, NULL);
    for (int i = 0; i < FRAME; i++) {           /* one decode and one encode on the way */
        a_to_b[i] = hl_g711_encode1(HL_G711_PT_PCMA, hl_g711_decode1(HL_G711_PT_PCMU, ph[PA].frame[i]));
        b_to_a[i] = hl_g711_encode1(HL_G711_PT_PCMU, hl_g711_decode1(HL_G711_PT_PCMA, ph[PB].frame[i]));
    }
    monitor_table_as_specified();
    hl_media *A = ph[PA].m, *S = ph[PS].m, *four[] = { A, A, A, A };
    CHECK(hl_media_hear(S, four, 4) == -1 && hl_media_hear(S, &S, 1) == -1 && hl_media_hear_add(S, NULL) == -1 &&
          hl_media_hear_count(S) == 0, "refused: too many sources, itself, none");

    uv_timer_init(loop, &driver);
    uv_timer_start(&driver, drive, 5, 5);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(step == 9, "every step ran (step %d)", step);
    check_recording(rec_b, 0, 1u << PA | 1u << PB | 1u << PS, "B's, mono, during the barge");
    check_recording(rec_a, 0, 1u << PA, "A's, stereo, left");
    check_recording(rec_a, 1, 1u << PB | 1u << PS, "A's, stereo, right");
    for (int i = 0; i < NPARTY; i++)
        close(ph[i].fd);
    hl_prompts_free(prompts);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
