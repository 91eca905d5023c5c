/* sdp.h — the subset of SDP (RFC 4566 / 3264) a G.711 B2BUA needs: one audio stream.
 * Parsing is strict about structure and lenient about unknown lines; it never reads past
 * len and returns an error message for anything malformed.  A fuzz target covers it. */
#ifndef HL_SDP_H
#define HL_SDP_H
#include <stdbool.h>

typedef enum { HL_SDP_SENDRECV, HL_SDP_SENDONLY, HL_SDP_RECVONLY, HL_SDP_INACTIVE } hl_sdp_dir;

#define HL_SDP_MAX_PT 16

typedef struct hl_sdp {
    char       addr[64];        /* connection address (media-level c= wins over session-level) */
    int        port;            /* audio port; 0 = stream rejected */
    int        pts[HL_SDP_MAX_PT];  /* payload types in offer order */
    int        npts;
    int        te_pt;           /* telephone-event payload type, -1 when absent */
    int        ptime;           /* 0 when absent */
    hl_sdp_dir dir;
    bool       ipv6;
    unsigned long long sess_id, sess_version;
} hl_sdp;

/* Returns 0, or -1 with a reason in err. */
int  hl_sdp_parse(const char *body, int len, hl_sdp *out, char *err, int errlen);
/* Writes an SDP for a local endpoint; returns its length or -1 when out is too small. */
int  hl_sdp_write(const hl_sdp *local, char *out, int outlen);
/* Offer/answer: chooses PCMU or PCMA (in the offer's order) and telephone-event; fills
 * answer for local addr/port.  Returns 0, or -1 when no codec is common (488). */
int  hl_sdp_answer(const hl_sdp *offer, const char *local_addr, int local_port, hl_sdp *answer);
/* An offer of PCMU, PCMA and telephone-event/8000 as payload 101. */
void hl_sdp_offer(const char *local_addr, int local_port, hl_sdp *offer);

/* Added by the SIP stack: */
/* Answer an offer from a local endpoint: local's addr/port/session, the first of PCMU/PCMA
 * in the offer's order that local also lists (any, when local->npts is 0), the offer's
 * telephone-event number, and the direction mirrored (their sendonly -> our recvonly,
 * inactive -> inactive; our own sendonly hold is kept).  0, or -1 when nothing is common. */
int  hl_sdp_negotiate(const hl_sdp *offer, const hl_sdp *local, hl_sdp *answer);
/* The direction that answers a remote direction (sendonly <-> recvonly). */
hl_sdp_dir hl_sdp_dir_mirror(hl_sdp_dir remote);
/* True when two descriptions would write the same media (ignores the o= numbers). */
bool hl_sdp_same_media(const hl_sdp *a, const hl_sdp *b);

#endif
