/* latch.h — which received RTP belongs to a call: the media endpoint's source latch.
 *
 * A call's RTP port is open to anyone who can send a datagram; only the far end the
 * signalling agreed on may be heard.  The latch decides, per received packet and before
 * oRTP sees it (media.c's endpoint transport), whether the packet is taken or dropped:
 *   - the source: the address and port of the remote SDP.  One move is allowed, by the
 *     symmetric-RTP rule for callers behind NAT: when the SDP address is not the
 *     signalling peer's address (a private address behind NAT, or a softphone naming its
 *     default-route address while it sends from loopback), the first accepted packets from
 *     the signalling peer's address (any port) move the latch there — and once media has
 *     been taken from the latched source, the latch never moves again (until a new SDP
 *     names another address).
 *   - the payload type: the negotiated codec or telephone-event, nothing else;
 *   - the SSRC: the stream first taken; another SSRC from the same source is taken only
 *     after a new SDP or once the current stream has been quiet for ssrc_switch_ms (a far
 *     end restarting its stream pauses; packets interleaved with a live stream are not its).
 * What is dropped is counted by reason.  No I/O and no clock here: the caller gives the
 * time, so the rules are tested and fuzzed without sockets. */
#ifndef HL_LATCH_H
#define HL_LATCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Why a received packet was dropped (indexes of the counters). */
typedef enum hl_rtp_drop {
    HL_RTP_DROP_SOURCE,         /* not from the latched source (or no SDP yet) */
    HL_RTP_DROP_PT,             /* a payload type the SDP did not negotiate */
    HL_RTP_DROP_SSRC,           /* another SSRC while the latched stream goes on */
    HL_RTP_DROP_MALFORMED,      /* not RTP version 2, or cut short */
    HL_RTP_DROP_REASONS
} hl_rtp_drop;

/* "foreign_source", "payload_type", "ssrc_jump", "malformed" (names in ctl status). */
const char *hl_rtp_drop_name(hl_rtp_drop why);
/* "foreign_source N, payload_type N, ssrc_jump N, malformed N" (for log lines). */
void hl_rtp_drops_str(const uint64_t dropped[HL_RTP_DROP_REASONS], char *out, size_t outlen);

/* An IP address and port; family 0 = none.  IPv4 (also IPv4-mapped IPv6) is family 4 with
 * the address in ip[0..3]. */
typedef struct hl_latch_addr {
    uint8_t  family;            /* 0, 4 or 6 */
    uint16_t port;              /* host order */
    uint8_t  ip[16];
} hl_latch_addr;

/* From a socket address; 0, or -1 (a family 0 address) for anything but IPv4/IPv6. */
int  hl_latch_addr_from_sockaddr(hl_latch_addr *a, const struct sockaddr *sa, socklen_t len);
/* From text: "ip", "ip:port", "[v6]:port", optionally followed by "/udp" or "/tcp" (a SIP
 * source as the SIP layer writes it), or a bare IPv6 address.  Names are not resolved:
 * -1 (family 0) for anything but an address literal. */
int  hl_latch_addr_parse(hl_latch_addr *a, const char *s);
/* "ip:port" ("[v6]:port"); just "ip" when with_port is false. */
void hl_latch_addr_str(const hl_latch_addr *a, bool with_port, char *out, size_t outlen);

/* The rule's knobs (rules/engine.lua: rtp_latch_symmetric, rtp_ssrc_switch_ms). */
typedef struct hl_latch_rules {
    bool symmetric;             /* allow the one symmetric-RTP move described above */
    int  ssrc_switch_ms;        /* quiet time after which another SSRC is taken; 0 = never
                                   without a new SDP */
} hl_latch_rules;

typedef struct hl_latch {
    hl_latch_addr sdp;          /* the remote SDP's address and port */
    hl_latch_addr signal;       /* the signalling peer (its port is not used) */
    hl_latch_addr src;          /* where media is taken from: sdp until the one move */
    int  pt_audio, pt_te;       /* negotiated payload types; -1 none */
    bool has_remote;            /* an SDP was applied: before it nothing is taken */
    bool flowing;               /* media was taken from src: it never moves again */
    bool has_ssrc;              /* ssrc below is pinned */
    uint32_t ssrc;
    uint64_t ssrc_last_ms;      /* when the pinned SSRC last sent */
    uint64_t dropped[HL_RTP_DROP_REASONS];
    uint32_t moves;             /* 0 or 1 per SDP address */
} hl_latch;

typedef enum hl_latch_verdict {
    HL_LATCH_TAKE,              /* the call's: hand it on */
    HL_LATCH_TAKE_MOVED,        /* the call's, and the latch moved to its source: send there */
    HL_LATCH_DROP               /* not the call's: counted in dropped[*why] */
} hl_latch_verdict;

void hl_latch_init(hl_latch *l);
/* A remote SDP (offer, answer or re-offer): its address and port, the codec's payload type
 * and telephone-event's (-1 none).  Another address or port starts the latch afresh; the
 * same keeps a moved latch.  Either way a new stream (SSRC) may begin. */
void hl_latch_set_remote(hl_latch *l, const hl_latch_addr *sdp, int pt_audio, int pt_te);
/* Where the signalling comes from (family 0: unknown, and no symmetric move). */
void hl_latch_set_signal(hl_latch *l, const hl_latch_addr *signal);
/* One RTP packet of len bytes from `from`, at now_ms. */
hl_latch_verdict hl_latch_rtp(hl_latch *l, const hl_latch_rules *r, const hl_latch_addr *from,
                              const uint8_t *pkt, size_t len, uint64_t now_ms, hl_rtp_drop *why);
/* One RTCP packet: taken from the latched source's address (any port: NATs map the RTCP
 * port apart), when it looks like RTCP version 2. */
hl_latch_verdict hl_latch_rtcp(hl_latch *l, const hl_latch_addr *from, const uint8_t *pkt,
                               size_t len, hl_rtp_drop *why);

#endif
