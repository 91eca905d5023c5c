/* sip_int.h — internals shared by the files of the SIP stack (not for other subsystems).
 *
 *   sip_map.c        string-keyed hash index (transactions by branch, dialogs by tag, TCP
 *                    connections by peer) — so no packet scans a list
 *   sip_rate.c       per-source-IP token buckets in a small expiring hash table
 *   sip_digest.c     digest authentication: our nonces, a trunk's answers, agents' REGISTERs
 *   sip_msg.c        raw-text checks before libosip2 parses, and the 400 built from raw text
 *   sip_transport.c  UDP and TCP on libuv: receive, framing, send, connection reuse
 *   sip.c            osip_t, transactions, dialogs, the public API of sip.h */
#ifndef HL_SIP_INT_H
#define HL_SIP_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <uv.h>

/* ---- hash index ---- */
typedef struct hl_map_ent {
    struct hl_map_ent *next;
    void *val;
    uint32_t hash;
    char key[];          /* NUL-terminated copy */
} hl_map_ent;

typedef struct hl_map {
    hl_map_ent **b;
    size_t nb, n;
} hl_map;

void  hl_map_init(hl_map *m);
void  hl_map_free(hl_map *m);                       /* frees entries, not values */
int   hl_map_put(hl_map *m, const char *key, void *val);   /* replaces; 0 or -1 (no memory) */
void *hl_map_get(const hl_map *m, const char *key);
void *hl_map_del(hl_map *m, const char *key);        /* returns the removed value */
/* Calls fn for every value (fn must not change the map). */
void  hl_map_each(const hl_map *m, void (*fn)(void *val, void *arg), void *arg);

/* ---- digest authentication (sip_digest.c) ---- */
#define HL_DIGEST_NONCE_LEN 64
typedef struct hl_digest {          /* an Authorization: Digest value, parsed */
    char username[128], realm[128], nonce[HL_DIGEST_NONCE_LEN + 8], uri[512], response[72];
    char qop[32], nc[16], cnonce[128], algorithm[16], opaque[128];
} hl_digest;
void hl_digest_nonce(const uint8_t secret[16], uint64_t now_ms, char out[HL_DIGEST_NONCE_LEN]);
/* The same with the stack's serial number of the challenge: no two challenges share a nonce. */
void hl_digest_nonce_serial(const uint8_t secret[16], uint64_t now_ms, uint32_t serial,
                            char out[HL_DIGEST_NONCE_LEN]);
bool hl_digest_nonce_fresh(const uint8_t secret[16], const char *nonce, uint64_t now_ms);
/* Whether nonce is ours (its signature) and still within its lifetime. */
typedef enum { HL_NONCE_FRESH, HL_NONCE_STALE, HL_NONCE_FORGED } hl_nonce_state;
hl_nonce_state hl_digest_nonce_state(const uint8_t secret[16], const char *nonce, uint64_t now_ms);
/* The same as hl_digest_parse, also taking algorithm=SHA-256 (RFC 7616; *sha256 set). */
int  hl_digest_parse_any(const char *value, hl_digest *a, bool *sha256);
/* The response for a from a stored HA1 (hex, MD5 or SHA-256 as sha256 says), as hex. */
void hl_digest_response_ha1(bool sha256, const hl_digest *a, const char *method, const char *ha1,
                            char out[65]);
/* got equals want (hex, case-insensitively), in a time that does not depend on where they differ. */
bool hl_digest_same(const char *got, const char *want);
/* The replay guard of REGISTER answers: per nonce, the highest nonce count (nc) accepted. */
typedef struct hl_nonce_seen hl_nonce_seen;
hl_nonce_seen *hl_nonce_seen_new(void);
void hl_nonce_seen_free(hl_nonce_seen *t);
/* True, and recorded, when nc (hex; NULL or "" = no qop: the nonce may serve once) is
 * higher than any count this nonce was used with; false for a replay. */
bool hl_nonce_seen_use(hl_nonce_seen *t, const char *nonce,
                       const char *nc, uint64_t now_ms);
/* 0, or -1 when it is not a usable MD5 digest (missing fields, another algorithm or qop). */
int  hl_digest_parse(const char *value, hl_digest *a);
/* The response a client with password computes for a (RFC 2617 3.2.2.1), as 32 hex digits. */
void hl_digest_response(const hl_digest *a, const char *method, const char *password, char out[33]);
/* The Authorization value answering challenge (a WWW-/Proxy-Authenticate value) for method
 * and uri as user/password with cnonce; -1 when it is no MD5 digest we can answer. */
int  hl_digest_answer(const char *challenge, const char *method, const char *uri, const char *user,
                      const char *password, const char *cnonce, char *out, size_t len);
/* authorization answers a fresh nonce of ours for user/password in realm. */
bool hl_digest_check(const uint8_t secret[16], uint64_t now_ms, const char *authorization,
                     const char *method, const char *realm, const char *user, const char *password);

/* ---- admission and bans (sip_rate.c) ---- */
struct hl_sip_ban;
typedef enum {
    HL_RATE_OK,        /* admitted */
    HL_RATE_REFUSE,    /* over the limit: answer 503 with Retry-After (not debited) */
    HL_RATE_BANNED,    /* this request made the source a flood: it is banned from now (drop) */
    HL_RATE_DROP,      /* the source is banned: drop without an answer */
} hl_rate_verdict;
typedef struct hl_rate_cfg {
    int per_sec;       /* admitted requests per source per second (and the burst) */
    int ban_factor;    /* more than per_sec * this in one second bans the source (0 = never) */
    int ban_ms;        /* how long a ban lasts */
} hl_rate_cfg;
typedef struct hl_rate hl_rate;
hl_rate *hl_rate_new(const hl_rate_cfg *cfg);
void     hl_rate_set(hl_rate *r, const hl_rate_cfg *cfg);   /* a reload's new limits */
void     hl_rate_free(hl_rate *r);
/* One request from ip (16 bytes, v4-mapped for IPv4) at now_ms. */
hl_rate_verdict hl_rate_check(hl_rate *r, const uint8_t ip[16], uint64_t now_ms);
/* The same with the source's own limit per_sec (a trunk's rate_per_sec; <= 0: the table's),
 * which also scales its ban threshold. */
hl_rate_verdict hl_rate_check_at(hl_rate *r, const uint8_t ip[16], uint64_t now_ms, int per_sec);
/* Fills out with up to max bans in force; returns how many there are. */
int      hl_rate_bans(hl_rate *r, uint64_t now_ms, struct hl_sip_ban *out, int max);
/* Lifts ip's ban; false when it was not banned. */
bool     hl_rate_unban(hl_rate *r, const uint8_t ip[16], uint64_t now_ms);
void     hl_ip16_str(const uint8_t ip[16], char *out, size_t outlen);
int      hl_ip16_parse(const char *s, uint8_t ip[16]);   /* 0, or -1 when not an address */

/* ---- raw message checks ---- */
/* What was wrong with a message, for the answer built from its raw text. */
typedef struct hl_sipmsg_fault {
    int  code;          /* 400; 501 for a request method we do not know, whatever else is
                           odd about it (RFC 4475 3.1.2.18 prefers 501 to 400 there); 505
                           for a SIP version other than 2.0 */
    char reason[48];    /* reason phrase naming the class: "Missing Call-ID", "Bad Request" */
    char why[160];      /* the Warning text: what exactly was wrong */
} hl_sipmsg_fault;
/* Checks what libosip2 tolerates but we must refuse.  Returns 0, or -1 with f filled.
 * *msg_len is set to the end of the body by Content-Length (UDP: excess bytes are ignored,
 * RFC 3261 18.3). */
int  hl_sipmsg_check(const char *buf, size_t len, size_t max_message, size_t *msg_len,
                     hl_sipmsg_fault *f);
/* The methods the stack answers itself or hands to the application, those it knows but
 * refuses (405), and every other token (501). */
#define HL_SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, REFER"
typedef enum { HL_METHOD_SUPPORTED, HL_METHOD_NOT_ALLOWED, HL_METHOD_UNKNOWN } hl_method_class;
hl_method_class hl_sipmsg_method_class(const char *m, size_t len);
/* Builds "SIP/2.0 <code> <reason>" copying Via, and From/To/Call-ID/CSeq where present, from
 * the raw request, with a Warning (and Allow for 405/501); returns length, or -1 when there
 * is no Via to send it by (then drop). */
int  hl_sipmsg_raw_response(const char *buf, size_t len, int code, const char *reason,
                            const char *warning, const char *ua, char *out, size_t outlen);
/* Copies text into out as the warn-text of a Warning header (a quoted-string, RFC 3261
 * 20.43): a quote, backslash or control byte, which would end or break it, becomes '. */
void hl_sipmsg_warn_text(const char *text, char *out, size_t outlen);
/* True if buf starts like a response ("SIP/2.0 "). */
bool hl_sipmsg_is_response(const char *buf, size_t len);
/* Max-Forwards is 1*DIGIT (RFC 3261 20.22); like CSeq, more than 10 digits is refused as
 * malformed rather than parsed into an overflow. */
#define HL_SIP_MAX_FORWARDS_DIGITS 10
/* Value of a Max-Forwards header (the text after the colon), or -1 when it is not 1 to
 * HL_SIP_MAX_FORWARDS_DIGITS digits (trailing blanks allowed). */
long hl_sipmsg_max_forwards_value(const char *v, size_t vlen);
/* Content-Length from a header block (compact "l" too); -1 when absent, -2 when malformed
 * or given twice with different values (a stream cannot be framed then). */
long hl_sipmsg_content_length(const char *hdr, size_t hdrlen);

/* ---- transport ---- */
typedef enum { HL_TP_UDP, HL_TP_TCP } hl_tp;

typedef struct hl_peer {
    struct sockaddr_storage sa;
    hl_tp tp;
} hl_peer;

/* "ip:port" (IPv6 as [ip]:port) */
void hl_peer_str(const hl_peer *p, char *out, size_t outlen);
void hl_peer_ip16(const hl_peer *p, uint8_t ip[16]);

typedef struct hl_transport hl_transport;
/* Called for every complete message (one datagram, or one framed TCP message). */
typedef void (*hl_transport_rx)(void *ctx, const hl_peer *from, const char *buf, size_t len);

typedef struct hl_transport_limits {
    size_t max_message;            /* bytes */
    int    tcp_max_per_addr;       /* accepted connections one address may hold (0 = no cap) */
    int    tcp_message_timeout_ms; /* a message must be complete this long after its first byte */
} hl_transport_limits;
typedef struct hl_transport_stats {
    uint64_t tcp_refused, tcp_timed_out;
} hl_transport_stats;

hl_transport *hl_transport_new(uv_loop_t *uv, const char *addr, int port,
                               const hl_transport_limits *lim, hl_transport_rx rx, void *ctx,
                               char *err, size_t errlen);
int   hl_transport_port(const hl_transport *t);
void  hl_transport_set_limits(hl_transport *t, const hl_transport_limits *lim);
void  hl_transport_get_stats(const hl_transport *t, hl_transport_stats *out);
/* Sends to peer over its transport; TCP reuses the peer's connection or connects. 0 / -1. */
int   hl_transport_send(hl_transport *t, const hl_peer *to, const char *buf, size_t len);
/* Closes everything; done(arg) when all handles are closed. */
void  hl_transport_close(hl_transport *t, void (*done)(void *), void *arg);

#endif
