/* sip_rate.c — per-source admission and bans (like Kamailio's pike).
 *
 * A fixed open-addressed table keyed by source IP; an entry idle for RATE_IDLE_MS (and not
 * banned) is free to reuse, so memory stays bounded whatever the number of sources.
 *
 * Admission is a token bucket of per_sec tokens refilled at per_sec a second: a request is
 * admitted when a whole token is there and only then debits one, so a source just over the
 * limit still gets its full share (refused requests cost it nothing).  Refused requests get
 * 503 from the caller of hl_rate_check.
 *
 * Bans: every request, admitted or not, counts in the source's current window of
 * RATE_WINDOW_MS; a source that sends more than per_sec * ban_factor in one window is far
 * over the limit — a flood, not a busy trunk — and is banned for ban_ms: its requests are
 * dropped without an answer (answering a flood only amplifies it) until the ban expires or
 * `hotline ctl ban remove` lifts it.  A banned entry is never evicted to make room while an
 * unbanned one can be. */
#include "sip/sip_int.h"
#include "sip/sip.h"
#include "core/ipaddr.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_SLOTS 4096        /* sources tracked at once; more evicts the idlest in a probe */
#define RATE_PROBE 8           /* linear probe length */
#define RATE_IDLE_MS 10000     /* a bucket untouched this long has refilled anyway: reusable */
#define RATE_WINDOW_MS 1000    /* the ban counts requests per second, as the limit is per second */

typedef struct rate_slot {
    uint8_t  ip[16];
    uint64_t last_ms;          /* last request (and bucket refill) */
    double   tokens;           /* admissions left: 0..per_sec */
    uint64_t window_start;     /* the current counting window for the ban */
    uint32_t window_hits;      /* requests in it, admitted or not */
    uint64_t banned_until;     /* 0 = not banned */
    uint64_t banned_at;
    uint64_t dropped;          /* requests dropped during the current ban */
    bool     used;
} rate_slot;

struct hl_rate {
    hl_rate_cfg cfg;
    rate_slot   slots[RATE_SLOTS];
};

hl_rate *hl_rate_new(const hl_rate_cfg *cfg)
{
    hl_rate *r = calloc(1, sizeof *r);
    if (r)
        r->cfg = *cfg;
    return r;
}

void hl_rate_set(hl_rate *r, const hl_rate_cfg *cfg)
{
    if (r)
        r->cfg = *cfg;
}

void hl_rate_free(hl_rate *r) { free(r); }

static bool slot_banned(const rate_slot *s, uint64_t now) { return s->banned_until > now; }

static bool slot_reusable(const rate_slot *s, uint64_t now)
{
    return !s->used || (!slot_banned(s, now) && now - s->last_ms > RATE_IDLE_MS);
}

static uint32_t ip_hash(const uint8_t ip[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ ip[i]) * 16777619u;
    return h;
}

/* The slot of ip, or NULL when it has none. */
static rate_slot *rate_lookup(hl_rate *r, const uint8_t ip[16])
{
    uint32_t h = ip_hash(ip);
    for (int i = 0; i < RATE_PROBE; i++) {
        rate_slot *s = &r->slots[(h + (uint32_t)i) % RATE_SLOTS];
        if (s->used && memcmp(s->ip, ip, 16) == 0)
            return s;
    }
    return NULL;
}

/* The slot of ip, taking a free, idle or else the least recently seen unbanned one. */
static rate_slot *rate_find(hl_rate *r, const uint8_t ip[16], uint64_t now)
{
    rate_slot *s = rate_lookup(r, ip);
    if (s)
        return s;
    uint32_t h = ip_hash(ip);
    rate_slot *victim = NULL;
    for (int i = 0; i < RATE_PROBE; i++) {
        rate_slot *c = &r->slots[(h + (uint32_t)i) % RATE_SLOTS];
        if (slot_reusable(c, now)) {
            victim = c;
            break;
        }
        bool better = !victim || (slot_banned(victim, now) && !slot_banned(c, now)) ||
                      (slot_banned(victim, now) == slot_banned(c, now) && c->last_ms < victim->last_ms);
        if (better)
            victim = c;
    }
    memset(victim, 0, sizeof *victim);
    memcpy(victim->ip, ip, 16);
    victim->used = true;
    victim->last_ms = victim->window_start = now;
    victim->tokens = r->cfg.per_sec;
    return victim;
}

/* Counts the request in the ban window; true when it makes the source a flood. */
static bool window_count(hl_rate *r, rate_slot *s, uint64_t now, int per_sec)
{
    if (now - s->window_start >= RATE_WINDOW_MS) {
        s->window_start = now;
        s->window_hits = 0;
    }
    s->window_hits++;
    return r->cfg.ban_factor > 0 && r->cfg.ban_ms > 0 &&
           s->window_hits > (uint64_t)per_sec * (uint64_t)r->cfg.ban_factor;
}

hl_rate_verdict hl_rate_check(hl_rate *r, const uint8_t ip[16], uint64_t now_ms)
{
    return hl_rate_check_at(r, ip, now_ms, 0);
}

hl_rate_verdict hl_rate_check_at(hl_rate *r, const uint8_t ip[16], uint64_t now_ms, int per_sec)
{
    if (!r || r->cfg.per_sec <= 0)
        return HL_RATE_OK;
    if (per_sec <= 0)
        per_sec = r->cfg.per_sec;
    rate_slot *s = rate_find(r, ip, now_ms);
    if (slot_banned(s, now_ms)) {
        s->last_ms = now_ms;
        s->dropped++;
        return HL_RATE_DROP;
    }
    s->banned_until = 0;
    s->tokens += (double)(now_ms - s->last_ms) * per_sec / 1000.0;
    if (s->tokens > per_sec)
        s->tokens = per_sec;
    s->last_ms = now_ms;
    if (window_count(r, s, now_ms, per_sec)) {
        s->banned_at = now_ms;
        s->banned_until = now_ms + (uint64_t)r->cfg.ban_ms;
        s->dropped = 0;
        return HL_RATE_BANNED;
    }
    if (s->tokens < 1.0)
        return HL_RATE_REFUSE;   /* not debited: what is refused costs the source nothing */
    s->tokens -= 1.0;
    return HL_RATE_OK;
}

void hl_ip16_str(const uint8_t ip[16], char *out, size_t outlen)
{
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(ip, v4mapped, 12) == 0)
        inet_ntop(AF_INET, ip + 12, out, outlen);
    else
        inet_ntop(AF_INET6, ip, out, outlen);
}

int hl_ip16_parse(const char *s, uint8_t ip[16]) { return hl_ip16_from_text(s, ip); }

int hl_rate_bans(hl_rate *r, uint64_t now_ms, hl_sip_ban *out, int max)
{
    int n = 0;
    for (int i = 0; r && i < RATE_SLOTS; i++) {
        const rate_slot *s = &r->slots[i];
        if (!s->used || !slot_banned(s, now_ms))
            continue;
        if (n < max) {
            hl_ip16_str(s->ip, out[n].ip, sizeof out[n].ip);
            out[n].expires_in_ms = s->banned_until - now_ms;
            out[n].dropped = s->dropped;
        }
        n++;
    }
    return n;
}

bool hl_rate_unban(hl_rate *r, const uint8_t ip[16], uint64_t now_ms)
{
    rate_slot *s = r ? rate_lookup(r, ip) : NULL;
    if (!s || !slot_banned(s, now_ms))
        return false;
    s->banned_until = 0;
    s->window_hits = 0;
    s->window_start = now_ms;
    s->tokens = r->cfg.per_sec;
    return true;
}
