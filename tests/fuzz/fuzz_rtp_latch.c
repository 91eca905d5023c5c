// sources: engine/media/latch.c engine/rtp/dtmf4733.c
/* fuzz_rtp_latch.c — libFuzzer target: the RTP receive path of a call's endpoint, as
 * media.c's transport runs it before oRTP, with packets from the caller and from others.
 *
 * Input: [setup:1][ssrc_switch:1] then records [who:1][time step:1][len:1][packet:len].
 * setup bit 0: the symmetric rule on; bits 1-2: the call (the caller's SDP and signalling
 * on one address; behind NAT; no signalling address known; an SDP address that is a name).
 * who: bits 0-2 pick the source (the SDP's address and port, two ports of the signalling
 * address, strangers on other addresses or ports, IPv6, no address); bit 7 RTCP instead of
 * RTP; bit 6 a re-offer to the same SDP first, bit 5 a re-offer naming another port.
 * Each packet goes through the latch; what it takes is parsed and, for telephone-event,
 * fed to the RFC 4733 state machine as media.c does.  Checks (abort): a stranger's packet
 * (neither the latched source nor the signalling address under the rule) is never taken,
 * nothing from a stranger ever yields a key, only negotiated payload types are taken, the
 * latch moves at most once per SDP address and never once media flowed, every drop is
 * counted once, junk is dropped as malformed; the address parser is fed the raw input. */
#include "media/latch.h"
#include "rtp/dtmf4733.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_AUDIO 0
#define PT_TE    101

typedef struct call_setup {
    const char *sdp, *signal;       /* NULL signal: none known */
} call_setup;

static const call_setup setups[4] = {
    { "127.0.0.1:4000", "127.0.0.1:5060/udp" },          /* on the LAN: strict */
    { "192.168.1.20:4000", "198.51.100.7:5060/udp" },    /* behind NAT */
    { "192.168.1.20:4000", NULL },
    { "pbx.example:4000", "198.51.100.7:5060/tcp" },      /* not an address: matches nothing */
};

/* Sources by index; which of them are strangers depends on the setup. */
static const char *const sources[8] = {
    NULL /* the SDP's own address and port */, "198.51.100.7:30000", "198.51.100.7:30002",
    "203.0.113.9:4000", "192.168.1.20:4002", "127.0.0.2:4000", "[::1]:4000", "" /* none */,
};

static hl_latch_addr addr(const char *s)
{
    hl_latch_addr a;
    hl_latch_addr_parse(&a, s);         /* "" and names: family 0 */
    return a;
}

static bool same_ip(const hl_latch_addr *a, const hl_latch_addr *b)
{
    return a->family && a->family == b->family && !memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16);
}

static bool same(const hl_latch_addr *a, const hl_latch_addr *b)
{
    return same_ip(a, b) && a->port == b->port;
}

static uint64_t drops(const hl_latch *l)
{
    uint64_t n = 0;
    for (int i = 0; i < HL_RTP_DROP_REASONS; i++)
        n += l->dropped[i];
    return n;
}

static void fuzz_addr_parser(const uint8_t *data, size_t size)
{
    char s[80];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = 0;
    hl_latch_addr a;
    char out[64];
    if (hl_latch_addr_parse(&a, s) == 0) {
        if (a.family != 4 && a.family != 6)
            abort();
        hl_latch_addr_str(&a, true, out, sizeof out);
        hl_latch_addr b;
        if (hl_latch_addr_parse(&b, out) || !same(&a, &b))  /* written back, read the same */
            abort();
    } else if (a.family != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_addr_parser(data, size);
    if (size < 2)
        return 0;
    const call_setup *cs = &setups[(data[0] >> 1) & 3];
    hl_latch_rules rules = { .symmetric = data[0] & 1, .ssrc_switch_ms = data[1] * 4 };
    hl_latch l;
    hl_latch_init(&l);
    hl_latch_addr sdp = addr(cs->sdp), signal = addr(cs->signal ? cs->signal : "");
    hl_latch_set_remote(&l, &sdp, PT_AUDIO, PT_TE);
    if (cs->signal)
        hl_latch_set_signal(&l, &signal);
    bool may_move = rules.symmetric && signal.family && !same_ip(&sdp, &signal);
    hl_dtmf4733 dtmf;
    hl_dtmf4733_init(&dtmf);
    uint64_t now = 1000, verdict_drops = 0;
    size_t off = 2;
    while (off + 3 <= size) {
        uint8_t who = data[off];
        now += data[off + 1];
        size_t len = data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        uint8_t *pkt = malloc(len ? len : 1);   /* exactly len bytes: ASan sees over-reads */
        memcpy(pkt, data + off, len);
        off += len;
        if (who & 0x40)
            hl_latch_set_remote(&l, &sdp, PT_AUDIO, PT_TE);
        if (who & 0x20) {
            sdp.port ^= 2;                      /* the caller re-offers another port */
            hl_latch_set_remote(&l, &sdp, PT_AUDIO, PT_TE);
        }
        const char *src = sources[who & 7];
        hl_latch_addr from = src ? addr(src) : sdp;
        if (!src && !sdp.family)
            from = addr("");
        hl_latch_addr before = l.src;
        bool was_flowing = l.flowing;
        uint32_t moves_before = l.moves;
        bool stranger = !same(&from, &l.src) && !(may_move && same_ip(&from, &signal));
        hl_rtp_drop why = HL_RTP_DROP_REASONS;
        hl_latch_verdict v = (who & 0x80) ? hl_latch_rtcp(&l, &from, pkt, len, &why)
                                          : hl_latch_rtp(&l, &rules, &from, pkt, len, now, &why);
        if (v == HL_LATCH_DROP) {
            verdict_drops++;
            if ((unsigned)why >= HL_RTP_DROP_REASONS)
                abort();
        } else if (who & 0x80) {
            if (v != HL_LATCH_TAKE || !same_ip(&from, &l.src))
                abort();                        /* RTCP: the latched address only, no move */
        } else {
            hl_rtp_header h;
            if (stranger || hl_rtp_header_parse(pkt, len, &h) || (h.pt != PT_AUDIO && h.pt != PT_TE))
                abort();
            if (v == HL_LATCH_TAKE_MOVED &&
                (was_flowing || !may_move || !same_ip(&from, &signal) || l.moves != moves_before + 1 ||
                 l.moves > 1 || !same(&l.src, &from)))
                abort();
            if (v == HL_LATCH_TAKE && !same(&l.src, &before))
                abort();
            if (h.pt == PT_TE) {                /* as media.c: only taken packets reach DTMF */
                hl_dtmf_digit d[2];
                int n = hl_dtmf4733_feed(&dtmf, h.ts, h.marker, h.payload, h.payload_len, now, d);
                for (int i = 0; i < n; i++)
                    if (!d[i].digit || !strchr("0123456789*#ABCD", d[i].digit))
                        abort();
            }
        }
        if (!(who & 0x80) && len >= 1 && (pkt[0] >> 6) != 2 && v != HL_LATCH_DROP)
            abort();                            /* not RTP version 2: never taken */
        if (drops(&l) != verdict_drops)
            abort();
        free(pkt);
    }
    return 0;
}
