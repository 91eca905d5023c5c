/* dtmf4733.h — RFC 4733 telephone-events: RTP header parsing, the receive state machine
 * that turns telephone-event packets into digits, and the payload encoder for sending.
 *
 * Pure code (no sockets, no clock of its own, no allocation) so it is unit-tested and
 * fuzzed on its own.  The media layer feeds it every packet whose payload type is the
 * telephone-event type negotiated in SDP; it reports each key once, on its end:
 *   - a new event (new RTP timestamp, or another event code) starts a digit;
 *   - an end packet ends it, with or without the marker bit;
 *   - retransmitted end packets (usually three) are ignored;
 *   - a long press (many packets of one timestamp, even when the 16-bit duration wraps,
 *     or continued in a new segment as RFC 4733 §2.5.1.3 describes) is one digit;
 *   - an event whose end packets were all lost is still reported once, when the next
 *     event starts or when no packet of it came for HL_DTMF4733_END_TIMEOUT_MS. */
#ifndef HL_DTMF4733_H
#define HL_DTMF4733_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No packet of an unfinished event for this long means its end packets were lost.
 * Senders repeat an event's packets every 50 ms at most (RFC 4733 §2.5.1.2). */
#define HL_DTMF4733_END_TIMEOUT_MS 500
/* A new segment of a long event starts at most this far (in 8 kHz samples) after the
 * end of what we have seen of the previous one; beyond it, it is a new press. */
#define HL_DTMF4733_SEGMENT_SLACK 8000
/* Sampling rate of telephone-event timestamps and durations (we only do 8 kHz audio). */
#define HL_DTMF4733_RATE 8000

typedef struct hl_rtp_header {
    uint8_t  version, padding, extension, csrc_count, marker, pt;
    uint16_t seq;
    uint32_t ts, ssrc;
    const uint8_t *payload;
    size_t   payload_len;
} hl_rtp_header;

/* Parses an RTP packet (CSRCs, header extension and padding are skipped with bounds
 * checks).  0, or -1 when the packet is not valid RTP version 2. */
int hl_rtp_header_parse(const uint8_t *pkt, size_t len, hl_rtp_header *h);

typedef struct hl_dtmf_digit {
    char digit;           /* '0'-'9', '*', '#', 'A'-'D' */
    int  duration_ms;
} hl_dtmf_digit;

typedef struct hl_dtmf4733 {
    bool     active;      /* an event has been seen */
    bool     reported;    /* ... and already reported (ended or timed out) */
    uint8_t  event;
    uint32_t ts;          /* RTP timestamp of the current segment */
    uint32_t start_ts;    /* RTP timestamp of the first segment */
    uint32_t seg_base;    /* samples of earlier segments / duration wraps */
    uint16_t last_dur;    /* last duration field seen in this segment */
    uint64_t last_ms;     /* when the last packet of the event came */
} hl_dtmf4733;

void hl_dtmf4733_init(hl_dtmf4733 *s);
/* Event code (0-15) to key, 0 when not a DTMF key. */
char hl_dtmf4733_key(int event);
/* Key to event code, -1 when not a DTMF key. */
int  hl_dtmf4733_event(char key);
/* Feeds one telephone-event payload.  Writes up to 2 digits to out (an unfinished event
 * reported because a new one started, then possibly the new one if it ended in its first
 * packet) and returns how many; malformed payloads are ignored (0). */
int  hl_dtmf4733_feed(hl_dtmf4733 *s, uint32_t rtp_ts, bool marker, const uint8_t *payload,
                      size_t len, uint64_t now_ms, hl_dtmf_digit out[2]);
/* Reports an unfinished event whose packets stopped coming.  Returns 0 or 1. */
int  hl_dtmf4733_poll(hl_dtmf4733 *s, uint64_t now_ms, hl_dtmf_digit *out);

/* Writes the 4-byte payload of a telephone-event packet. */
void hl_dtmf4733_encode(uint8_t out[4], int event, bool end, int volume, uint16_t duration);

#endif
