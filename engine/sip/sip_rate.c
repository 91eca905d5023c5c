/* sip_rate.c — per-source token buckets (like Kamailio's pike).
 *
 * A fixed open-addressed table keyed by source IP; an entry idle for RATE_IDLE_MS is free
 * to reuse, so memory stays bounded whatever the number of sources.  Each source may burst
 * one second's worth of requests; past that it gets 503 until it is RATE_DROP_FACTOR times
 * over, then it is dropped silently (answering a flood only amplifies it). */
#include "sip/sip_int.h"
#include <stdlib.h>
#include <string.h>

#define RATE_SLOTS 4096        /* sources tracked at once; more evicts the idlest in a probe */
#define RATE_PROBE 8           /* linear probe length */
#define RATE_IDLE_MS 10000     /* a bucket untouched this long has refilled anyway: reusable */
#define RATE_DROP_FACTOR 2     /* deficit beyond per_sec * this: drop without answering */

typedef struct rate_slot {
    uint8_t  ip[16];
    uint64_t last_ms;
    double   tokens;
    bool     used;
} rate_slot;

struct hl_rate {
    int per_sec;
    rate_slot slots[RATE_SLOTS];
};

hl_rate *hl_rate_new(int per_sec)
{
    hl_rate *r = calloc(1, sizeof *r);
    if (r)
        r->per_sec = per_sec;
    return r;
}

void hl_rate_free(hl_rate *r) { free(r); }

/* A bucket fuller than the new rate is trimmed at its next check (rate_check caps tokens). */
void hl_rate_set_per_sec(hl_rate *r, int per_sec)
{
    if (r)
        r->per_sec = per_sec;
}

static uint32_t ip_hash(const uint8_t ip[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ ip[i]) * 16777619u;
    return h;
}

static rate_slot *rate_find(hl_rate *r, const uint8_t ip[16], uint64_t now)
{
    uint32_t h = ip_hash(ip);
    rate_slot *victim = NULL;
    for (int i = 0; i < RATE_PROBE; i++) {
        rate_slot *s = &r->slots[(h + (uint32_t)i) % RATE_SLOTS];
        if (s->used && memcmp(s->ip, ip, 16) == 0)
            return s;
        if (!s->used || now - s->last_ms > RATE_IDLE_MS) {
            if (!victim)
                victim = s;
        } else if (!victim || (victim->used && s->last_ms < victim->last_ms)) {
            victim = s;
        }
    }
    /* all busy: the least recently seen is evicted (it starts with a full bucket again) */
    memcpy(victim->ip, ip, 16);
    victim->used = true;
    victim->last_ms = now;
    victim->tokens = r->per_sec;
    return victim;
}

hl_rate_verdict hl_rate_check(hl_rate *r, const uint8_t ip[16], uint64_t now_ms)
{
    if (!r || r->per_sec <= 0)
        return HL_RATE_OK;
    rate_slot *s = rate_find(r, ip, now_ms);
    double refill = (double)(now_ms - s->last_ms) * r->per_sec / 1000.0;
    s->last_ms = now_ms;
    s->tokens += refill;
    if (s->tokens > r->per_sec)
        s->tokens = r->per_sec;
    s->tokens -= 1.0;
    if (s->tokens >= 0)
        return HL_RATE_OK;
    if (s->tokens < -(double)r->per_sec * RATE_DROP_FACTOR) {
        s->tokens = -(double)r->per_sec * RATE_DROP_FACTOR; /* floor: recovers in bounded time */
        return HL_RATE_DROP;
    }
    return HL_RATE_REFUSE;
}
