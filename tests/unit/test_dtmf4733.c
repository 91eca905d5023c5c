/* test_dtmf4733.c — RFC 4733 receive state machine: ordinary keys, end without marker,
 * retransmitted ends, lost ends (new event / timeout), long presses across the 16-bit
 * duration wrap and across segments, reordering, junk; and the RTP header parser. */
#include "rtp/dtmf4733.h"
#include <stdio.h>
#include <string.h>

#include "unit.h"

static hl_dtmf4733 st;
static hl_dtmf_digit got[64];
static int ngot;
static uint64_t now;

static void feed(uint32_t ts, bool marker, int event, bool end, uint16_t dur)
{
    uint8_t p[4];
    hl_dtmf4733_encode(p, event, end, 10, dur);
    hl_dtmf_digit d[2];
    int n = hl_dtmf4733_feed(&st, ts, marker, p, 4, now, d);
    for (int i = 0; i < n && ngot < 64; i++)
        got[ngot++] = d[i];
    now += 20;
}

static void reset(void)
{
    hl_dtmf4733_init(&st);
    ngot = 0;
    now = 1000;
}

/* A normal key as senders do it: marker first, growing durations, 3 ends. */
static void key(uint32_t ts, int event, int packets, bool marker_first)
{
    for (int i = 0; i < packets; i++)
        feed(ts, marker_first && i == 0, event, false, (uint16_t)(160 * (i + 1)));
    for (int i = 0; i < 3; i++)
        feed(ts, false, event, true, (uint16_t)(160 * packets));
}

TEST_IMPL(dtmf4733)
{
    /* key map */
    CHECK(hl_dtmf4733_key(0) == '0' && hl_dtmf4733_key(10) == '*' && hl_dtmf4733_key(11) == '#' &&
          hl_dtmf4733_key(15) == 'D' && hl_dtmf4733_key(16) == 0, "key map");
    CHECK(hl_dtmf4733_event('#') == 11 && hl_dtmf4733_event('x') == -1, "event map");

    reset();
    key(1000, 5, 5, true);
    CHECK(ngot == 1 && got[0].digit == '5', "one key, three ends -> once (got %d)", ngot);
    CHECK(ngot == 1 && got[0].duration_ms == 100, "duration 100 ms, got %d", got[0].duration_ms);

    reset();
    key(1000, 1, 3, false);                 /* no marker at all */
    key(9000, 2, 3, false);
    CHECK(ngot == 2 && got[0].digit == '1' && got[1].digit == '2', "keys without marker");

    reset();
    key(1000, 7, 4, true);
    key(1000 + 8000, 7, 4, true);           /* same key twice: two digits */
    CHECK(ngot == 2 && got[0].digit == '7' && got[1].digit == '7', "same key pressed twice");

    /* all end packets lost: reported when the next event starts */
    reset();
    for (int i = 0; i < 5; i++)
        feed(1000, i == 0, 3, false, (uint16_t)(160 * (i + 1)));
    CHECK(ngot == 0, "nothing before the end");
    key(20000, 4, 2, true);
    CHECK(ngot == 2 && got[0].digit == '3' && got[1].digit == '4', "lost ends, next event reports it");
    CHECK(ngot == 2 && got[0].duration_ms == 100, "lost-end duration from last packet");

    /* all end packets lost: reported after the timeout, once */
    reset();
    for (int i = 0; i < 3; i++)
        feed(1000, i == 0, 9, false, (uint16_t)(160 * (i + 1)));
    hl_dtmf_digit d;
    CHECK(hl_dtmf4733_poll(&st, now + 10, &d) == 0, "no timeout yet");
    CHECK(hl_dtmf4733_poll(&st, now + HL_DTMF4733_END_TIMEOUT_MS, &d) == 1 && d.digit == '9', "timeout reports");
    CHECK(hl_dtmf4733_poll(&st, now + 2 * HL_DTMF4733_END_TIMEOUT_MS, &d) == 0, "timeout reports once");
    now += HL_DTMF4733_END_TIMEOUT_MS;
    feed(1000, false, 9, true, 800);        /* the late end of the same event */
    CHECK(ngot == 0, "late end after timeout ignored");

    /* a long press: same timestamp, duration wraps past 65535 */
    reset();
    uint32_t dur = 0;
    for (int i = 0; i < 500; i++) {         /* 500 * 160 = 80000 samples = 10 s */
        dur += 160;
        feed(5000, i == 0, 8, false, (uint16_t)dur);
    }
    for (int i = 0; i < 3; i++)
        feed(5000, false, 8, true, (uint16_t)dur);
    CHECK(ngot == 1 && got[0].digit == '8', "long press with wrap is one key (got %d)", ngot);
    CHECK(ngot == 1 && got[0].duration_ms == 10000, "long press duration 10000, got %d",
          ngot ? got[0].duration_ms : -1);

    /* a long press in two segments (RFC 4733 §2.5.1.3): new timestamp, no marker */
    reset();
    for (dur = 160; dur <= 65440; dur += 160)
        feed(100, dur == 160, 0, false, (uint16_t)dur);
    for (dur = 160; dur <= 1600; dur += 160)
        feed(100 + 65440, false, 0, false, (uint16_t)dur);
    for (int i = 0; i < 3; i++)
        feed(100 + 65440, false, 0, true, 1600);
    CHECK(ngot == 1 && got[0].digit == '0', "segmented long press is one key (got %d)", ngot);
    CHECK(ngot == 1 && got[0].duration_ms == (65440 + 1600) / 8, "segmented duration, got %d",
          ngot ? got[0].duration_ms : -1);

    /* timestamps near the 32-bit wrap */
    reset();
    key(0xFFFFFF00u, 1, 3, true);
    key(0x00000400u, 2, 3, true);
    CHECK(ngot == 2 && got[1].digit == '2', "timestamp wrap");

    /* reordered: an old event's packet after a new one started is ignored */
    reset();
    key(1000, 1, 3, true);
    key(5000, 2, 3, true);
    feed(1000, false, 1, true, 480);
    feed(900, true, 3, false, 160);
    CHECK(ngot == 2, "stale packets ignored (got %d)", ngot);

    /* single-packet event with the end bit set at once */
    reset();
    feed(3000, true, 11, true, 800);
    feed(3000, false, 11, true, 800);
    CHECK(ngot == 1 && got[0].digit == '#', "one-packet key");

    /* junk */
    reset();
    uint8_t junk[4] = { 200, 0x80, 0, 160 };
    hl_dtmf_digit dd[2];
    CHECK(hl_dtmf4733_feed(&st, 1, true, junk, 4, 0, dd) == 0, "event 200 ignored");
    CHECK(hl_dtmf4733_feed(&st, 1, true, junk, 3, 0, dd) == 0, "short payload ignored");
    CHECK(hl_dtmf4733_feed(&st, 1, true, NULL, 4, 0, dd) == 0, "NULL payload ignored");
    /* flood of distinct events: each reported once, never more than 2 per packet */
    reset();
    for (int i = 0; i < 40; i++)
        feed((uint32_t)(i * 1000), true, i % 16, false, 160);
    CHECK(ngot == 39, "flood: 39 reported by the next start, got %d", ngot);

    /* RTP header parser */
    uint8_t pkt[64] = { 0x80, 0x80 | 101, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4 };
    hl_rtp_header h;
    CHECK(hl_rtp_header_parse(pkt, 16, &h) == 0 && h.pt == 101 && h.marker && h.seq == 0x1234 &&
          h.ts == 0x1000 && h.ssrc == 0xdeadbeef && h.payload_len == 4 && h.payload == pkt + 12, "rtp parse");
    CHECK(hl_rtp_header_parse(pkt, 11, &h) == -1, "short rtp");
    pkt[0] = 0x40;
    CHECK(hl_rtp_header_parse(pkt, 16, &h) == -1, "version 1 refused");
    pkt[0] = 0x8F;                          /* 15 CSRCs: 72 bytes of header > 16 */
    CHECK(hl_rtp_header_parse(pkt, 16, &h) == -1, "csrc overflow");
    pkt[0] = 0x90;                          /* extension header with a huge length */
    pkt[12] = 0; pkt[13] = 0; pkt[14] = 0xff; pkt[15] = 0xff;
    CHECK(hl_rtp_header_parse(pkt, 16, &h) == -1, "extension overflow");
    pkt[0] = 0xA0; pkt[15] = 5;             /* padding larger than the payload */
    CHECK(hl_rtp_header_parse(pkt, 16, &h) == -1, "padding overflow");
    pkt[15] = 2;
    CHECK(hl_rtp_header_parse(pkt, 16, &h) == 0 && h.payload_len == 2, "padding");

    return 0;
}
