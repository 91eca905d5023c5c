/* latch.c — the media endpoint's source latch: which received RTP is the call's (see
 * latch.h for the rule and why). */
#include "media/latch.h"
#include "rtp/dtmf4733.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTCP_MIN_LEN 8          /* RFC 3550 §6.4: the smallest report (an empty RR) */

const char *hl_rtp_drop_name(hl_rtp_drop why)
{
    static const char *const names[HL_RTP_DROP_REASONS] = {
        [HL_RTP_DROP_SOURCE] = "foreign_source", [HL_RTP_DROP_PT] = "payload_type",
        [HL_RTP_DROP_SSRC] = "ssrc_jump", [HL_RTP_DROP_MALFORMED] = "malformed",
    };
    return (unsigned)why < HL_RTP_DROP_REASONS ? names[why] : "?";
}

void hl_rtp_drops_str(const uint64_t dropped[HL_RTP_DROP_REASONS], char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < HL_RTP_DROP_REASONS && used < outlen; i++) {
        int n = snprintf(out + used, outlen - used, "%s%s %llu", i ? ", " : "",
                         hl_rtp_drop_name((hl_rtp_drop)i), (unsigned long long)dropped[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* ---- addresses ---- */

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void set_v6(hl_latch_addr *a, const uint8_t ip[16], uint16_t port)
{
    memset(a, 0, sizeof *a);
    a->port = port;
    if (!memcmp(ip, v4_mapped_prefix, sizeof v4_mapped_prefix)) {
        a->family = 4;                      /* the same host, whichever socket family saw it */
        memcpy(a->ip, ip + 12, 4);
    } else {
        a->family = 6;
        memcpy(a->ip, ip, 16);
    }
}

int hl_latch_addr_from_sockaddr(hl_latch_addr *a, const struct sockaddr *sa, socklen_t len)
{
    memset(a, 0, sizeof *a);
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        a->family = 4;
        a->port = ntohs(s4->sin_port);
        memcpy(a->ip, &s4->sin_addr, 4);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        set_v6(a, s6->sin6_addr.s6_addr, ntohs(s6->sin6_port));
        return 0;
    }
    return -1;
}

/* A port after the address: ":N" then nothing or "/transport". */
static int parse_port(const char *p, uint16_t *port)
{
    *port = 0;
    if (*p == ':') {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end == p + 1 || v < 0 || v > 65535)
            return -1;
        *port = (uint16_t)v;
        p = end;
    }
    return *p == 0 || *p == '/' ? 0 : -1;
}

int hl_latch_addr_parse(hl_latch_addr *a, const char *s)
{
    memset(a, 0, sizeof *a);
    char host[64];
    const char *rest;
    if (!s)
        return -1;
    if (s[0] == '[') {                      /* [v6]:port */
        const char *close = strchr(s, ']');
        if (!close || close - s - 1 >= (long)sizeof host)
            return -1;
        snprintf(host, sizeof host, "%.*s", (int)(close - s - 1), s + 1);
        rest = close + 1;
    } else if (strchr(s, ':') && strchr(s, ':') != strrchr(s, ':')) {
        snprintf(host, sizeof host, "%.*s", (int)strcspn(s, "/"), s);  /* a bare IPv6 */
        rest = s + strlen(host);
    } else {
        size_t n = strcspn(s, ":/");
        if (n >= sizeof host)
            return -1;
        snprintf(host, sizeof host, "%.*s", (int)n, s);
        rest = s + n;
    }
    uint16_t port;
    if (parse_port(rest, &port))
        return -1;
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        a->family = 4;
        memcpy(a->ip, &v4, 4);
        a->port = port;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6) == 1) {
        set_v6(a, v6.s6_addr, port);
        return 0;
    }
    return -1;
}

void hl_latch_addr_str(const hl_latch_addr *a, bool with_port, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "none";
    if (a->family == 4 || a->family == 6)
        inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, ip, sizeof ip);
    if (!with_port)
        snprintf(out, outlen, "%s", ip);
    else if (a->family == 6)
        snprintf(out, outlen, "[%s]:%u", ip, (unsigned)a->port);
    else
        snprintf(out, outlen, "%s:%u", ip, (unsigned)a->port);
}

static bool same_ip(const hl_latch_addr *a, const hl_latch_addr *b)
{
    return a->family && a->family == b->family &&
           !memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16);
}

static bool same_endpoint(const hl_latch_addr *a, const hl_latch_addr *b)
{
    return same_ip(a, b) && a->port == b->port;
}

/* ---- the latch ---- */

void hl_latch_init(hl_latch *l)
{
    memset(l, 0, sizeof *l);
    l->pt_audio = l->pt_te = -1;
}

void hl_latch_set_remote(hl_latch *l, const hl_latch_addr *sdp, int pt_audio, int pt_te)
{
    if (!l->has_remote || !same_endpoint(&l->sdp, sdp)) {
        l->sdp = *sdp;
        l->src = *sdp;
        l->flowing = false;
        l->moves = 0;
    }
    l->has_remote = true;
    l->has_ssrc = false;                    /* a new offer may bring a new stream */
    l->pt_audio = pt_audio;
    l->pt_te = pt_te;
}

void hl_latch_set_signal(hl_latch *l, const hl_latch_addr *signal)
{
    l->signal = *signal;
}

/* The symmetric-RTP rule: a caller whose SDP names another address than the one its
 * signalling comes from is behind NAT (or names an interface it does not send from); its
 * media will come from the signalling address.  Only before any media was taken. */
static bool may_move_to(const hl_latch *l, const hl_latch_rules *r, const hl_latch_addr *from)
{
    return r->symmetric && !l->flowing && l->signal.family && same_ip(from, &l->signal) &&
           !same_ip(&l->sdp, &l->signal);
}

static hl_latch_verdict drop(hl_latch *l, hl_rtp_drop reason, hl_rtp_drop *why)
{
    l->dropped[reason]++;
    if (why)
        *why = reason;
    return HL_LATCH_DROP;
}

hl_latch_verdict hl_latch_rtp(hl_latch *l, const hl_latch_rules *r, const hl_latch_addr *from,
                              const uint8_t *pkt, size_t len, uint64_t now_ms, hl_rtp_drop *why)
{
    hl_rtp_header h;
    if (hl_rtp_header_parse(pkt, len, &h))
        return drop(l, HL_RTP_DROP_MALFORMED, why);
    bool moving = false;
    if (!l->has_remote)
        return drop(l, HL_RTP_DROP_SOURCE, why);
    if (!same_endpoint(from, &l->src)) {
        if (!may_move_to(l, r, from))
            return drop(l, HL_RTP_DROP_SOURCE, why);
        moving = true;
    }
    if (h.pt != l->pt_audio && (l->pt_te < 0 || h.pt != l->pt_te))
        return drop(l, HL_RTP_DROP_PT, why);
    if (l->has_ssrc && h.ssrc != l->ssrc &&
        (r->ssrc_switch_ms <= 0 || now_ms < l->ssrc_last_ms + (uint64_t)r->ssrc_switch_ms))
        return drop(l, HL_RTP_DROP_SSRC, why);
    if (moving) {
        l->src = *from;
        l->moves++;
    }
    l->flowing = true;
    l->has_ssrc = true;
    l->ssrc = h.ssrc;
    l->ssrc_last_ms = now_ms;
    return moving ? HL_LATCH_TAKE_MOVED : HL_LATCH_TAKE;
}

hl_latch_verdict hl_latch_rtcp(hl_latch *l, const hl_latch_addr *from, const uint8_t *pkt,
                               size_t len, hl_rtp_drop *why)
{
    if (!pkt || len < RTCP_MIN_LEN || pkt[0] >> 6 != 2)
        return drop(l, HL_RTP_DROP_MALFORMED, why);
    if (!l->has_remote || !same_ip(from, &l->src))
        return drop(l, HL_RTP_DROP_SOURCE, why);
    return HL_LATCH_TAKE;
}
