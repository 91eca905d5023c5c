/* dtmf4733.c — RFC 4733 telephone-event parsing and state machine (see dtmf4733.h). */
#include "rtp/dtmf4733.h"
#include <string.h>

#define RTP_FIXED_HEADER 12

int hl_rtp_header_parse(const uint8_t *pkt, size_t len, hl_rtp_header *h)
{
    memset(h, 0, sizeof *h);
    if (!pkt || len < RTP_FIXED_HEADER)
        return -1;
    h->version = pkt[0] >> 6;
    h->padding = (pkt[0] >> 5) & 1;
    h->extension = (pkt[0] >> 4) & 1;
    h->csrc_count = pkt[0] & 0x0f;
    h->marker = pkt[1] >> 7;
    h->pt = pkt[1] & 0x7f;
    h->seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    h->ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
    h->ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | (uint32_t)pkt[10] << 8 | pkt[11];
    if (h->version != 2)
        return -1;
    size_t off = RTP_FIXED_HEADER + 4u * h->csrc_count;
    if (off > len)
        return -1;
    if (h->extension) {
        if (off + 4 > len)
            return -1;
        size_t words = (size_t)(pkt[off + 2] << 8 | pkt[off + 3]);
        off += 4 + 4 * words;
        if (off > len)
            return -1;
    }
    size_t end = len;
    if (h->padding) {
        size_t pad = pkt[len - 1];
        if (pad == 0 || pad > end - off)
            return -1;
        end -= pad;
    }
    h->payload = pkt + off;
    h->payload_len = end - off;
    return 0;
}

void hl_dtmf4733_init(hl_dtmf4733 *s)
{
    memset(s, 0, sizeof *s);
}

char hl_dtmf4733_key(int event)
{
    static const char keys[] = "0123456789*#ABCD";
    return event >= 0 && event < 16 ? keys[event] : 0;
}

int hl_dtmf4733_event(char key)
{
    if (key >= '0' && key <= '9')
        return key - '0';
    switch (key) {
    case '*': return 10;
    case '#': return 11;
    case 'A': case 'a': return 12;
    case 'B': case 'b': return 13;
    case 'C': case 'c': return 14;
    case 'D': case 'd': return 15;
    default:  return -1;
    }
}

/* Samples from the first packet of the event to the latest duration seen. */
static uint32_t total_samples(const hl_dtmf4733 *s)
{
    return s->seg_base + s->last_dur;
}

static int report(hl_dtmf4733 *s, hl_dtmf_digit *out)
{
    s->reported = true;
    out->digit = hl_dtmf4733_key(s->event);
    out->duration_ms = (int)((uint64_t)total_samples(s) * 1000 / HL_DTMF4733_RATE);
    return 1;
}

/* A later packet of the same press, in a new segment (RFC 4733 §2.5.1.3: long events
 * restart the timestamp when the duration would overflow)? */
static bool is_continuation(const hl_dtmf4733 *s, uint32_t ts, bool marker, int event)
{
    if (!s->active || s->reported || marker || event != s->event)
        return false;
    uint32_t from_start = ts - s->start_ts;
    return from_start > s->ts - s->start_ts &&
           from_start <= total_samples(s) + HL_DTMF4733_SEGMENT_SLACK;
}

/* The duration field of a segment only grows; a big drop means it wrapped past 65535. */
static void update_duration(hl_dtmf4733 *s, uint16_t dur)
{
    if (dur < s->last_dur) {
        if (s->last_dur - dur <= 0x8000)
            return;             /* a reordered older packet */
        s->seg_base += 0x10000;
    }
    s->last_dur = dur;
}

int hl_dtmf4733_feed(hl_dtmf4733 *s, uint32_t rtp_ts, bool marker, const uint8_t *payload,
                     size_t len, uint64_t now_ms, hl_dtmf_digit out[2])
{
    if (!payload || len < 4)
        return 0;
    int event = payload[0];
    bool end = payload[1] & 0x80;
    uint16_t dur = (uint16_t)(payload[2] << 8 | payload[3]);
    if (!hl_dtmf4733_key(event))
        return 0;               /* flash, tones and other non-key events are not digits */
    int n = 0;
    if (s->active && rtp_ts == s->ts && event == s->event) {
        if (s->reported)
            return 0;           /* retransmitted end, or late packet of a timed-out event */
        update_duration(s, dur);
    } else if (is_continuation(s, rtp_ts, marker, event)) {
        s->seg_base = rtp_ts - s->start_ts;
        s->ts = rtp_ts;
        s->last_dur = dur;
    } else {
        if (s->active && (int32_t)(rtp_ts - s->ts) < 0)
            return 0;           /* older than the current event: reordered or stale */
        if (s->active && !s->reported)
            n += report(s, &out[n]);    /* its end packets were all lost */
        s->active = true;
        s->reported = false;
        s->event = (uint8_t)event;
        s->ts = s->start_ts = rtp_ts;
        s->seg_base = 0;
        s->last_dur = dur;
    }
    s->last_ms = now_ms;
    if (end)
        n += report(s, &out[n]);
    return n;
}

int hl_dtmf4733_poll(hl_dtmf4733 *s, uint64_t now_ms, hl_dtmf_digit *out)
{
    if (!s->active || s->reported || now_ms < s->last_ms + HL_DTMF4733_END_TIMEOUT_MS)
        return 0;
    return report(s, out);
}

void hl_dtmf4733_encode(uint8_t out[4], int event, bool end, int volume, uint16_t duration)
{
    out[0] = (uint8_t)event;
    out[1] = (uint8_t)((end ? 0x80 : 0) | (volume & 0x3f));
    out[2] = (uint8_t)(duration >> 8);
    out[3] = (uint8_t)duration;
}
