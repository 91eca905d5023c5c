/* sip.h — the SIP stack of one loop: libosip2 transactions on libuv UDP and TCP.
 *
 * The stack is a B2BUA edge: every call leg is its own dialog (hl_sip_dialog).  It owns
 * sockets, transactions (osip_t, with timers driven from the loop), the dialog table
 * (keyed by Call-ID and tags), per-source rate limits, and answers by itself what needs no
 * application: OPTIONS (200), unknown dialogs (481; an ACK is dropped), unsupported
 * methods (405, and 501 for an unknown one whatever its form), what it cannot do at all
 * (505 another SIP version, 416 a Request-URI scheme, 420 a required extension, 415 a body
 * that is not SDP), malformed messages (400
 * whose reason phrase names the class, e.g. "400 Missing Call-ID", with a Warning saying
 * exactly what; dropped when there is no Via to answer by), retransmissions, 2xx
 * retransmission until ACK, CANCEL (487 to the INVITE).  A new INVITE refused before a
 * call takes it is logged and reported (on_invite_refused) so it gets a CDR.  REGISTER goes
 * to on_register when the application sets it (agents' phones), else 405.
 *
 * The application (app/leg_sip.c) sees dialogs through the callbacks below, all called on
 * the loop.  After on_terminated the dialog pointer is dead. */
#ifndef HL_SIP_H
#define HL_SIP_H
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <uv.h>
#include "sip/sdp.h"

typedef struct hl_sip hl_sip;
typedef struct hl_sip_dialog hl_sip_dialog;

typedef struct hl_sip_invite_info {
    const char *call_id;
    const char *from_user, *from_uri, *to_user, *request_uri;
    const char *source;          /* "ip:port/udp" of the sender */
    const hl_sdp *offer;         /* NULL when the INVITE had no SDP (we offer in the 200) */
    uint8_t source_ip[16];       /* the sender's address (IPv4 as ::ffff:a.b.c.d), for trunks */
    const char *pai;             /* the P-Asserted-Identity header's value, or NULL */
} hl_sip_invite_info;

/* A REGISTER (RFC 3261 10.3), as the stack hands it to on_register.  The stack keeps the
 * digest mechanics (nonces, their lifetime, the replay guard); the application decides who
 * may register and keeps the bindings. */
#define HL_SIP_REG_CONTACTS_MAX 8    /* Contact values one REGISTER may carry; more get 400 */
typedef struct hl_sip_register_info {
    const char *call_id;
    const char *aor_user;            /* the To header's user: the account registering */
    const char *source;              /* "ip:port/udp" of the sender */
    uint8_t     source_ip[16];
    const char *auth_user;           /* the Authorization's username, or NULL when none */
    bool        star;                /* Contact: * (remove every binding; Expires must be 0) */
    int         n_contacts;
    const char *contacts[HL_SIP_REG_CONTACTS_MAX];         /* the URIs, without <> */
    int         contact_expires[HL_SIP_REG_CONTACTS_MAX];  /* the ;expires param, -1 = none */
    int         expires;             /* the Expires header, -1 = none */
    const void *priv;                /* the stack's, for hl_sip_register_verify */
} hl_sip_register_info;

/* What a REGISTER's Authorization proved against an account's HA1. */
typedef enum {
    HL_SIP_AUTH_OK,
    HL_SIP_AUTH_NONE,       /* no usable Authorization for this realm: challenge */
    HL_SIP_AUTH_STALE,      /* right answer to a nonce of ours that has expired: stale=true */
    HL_SIP_AUTH_REPLAY,     /* a nonce used again with a count that did not grow */
    HL_SIP_AUTH_WRONG,      /* the wrong answer (wrong password), or a forged nonce */
} hl_sip_auth;

/* The answer on_register fills. */
typedef struct hl_sip_register_reply {
    int         code;                /* 200, 401 (challenge), 403, 423, 400 */
    const char *reason;              /* NULL = the standard phrase */
    const char *realm;               /* 401: challenge for this realm (MD5 and SHA-256) */
    bool        stale;               /* 401: stale=true (the client answers the new nonce) */
    const char *algorithms;          /* 401: "SHA-256,MD5" (preferred first), "MD5", ... */
    int         min_expires;         /* 423: the Min-Expires header */
    const char *warning;             /* 4xx: a Warning text saying why, or NULL */
    int         n_contacts;          /* 200: every binding of the account now */
    char        contacts[HL_SIP_REG_CONTACTS_MAX][256];
    int         expires[HL_SIP_REG_CONTACTS_MAX];
} hl_sip_register_reply;

typedef struct hl_sip_callbacks {
    /* A new INVITE.  Return 0 to take it (then ring/answer/reject it, maybe later), or a
     * status >= 300 to have the stack reject it at once (name why with
     * hl_sip_dialog_refusal first). */
    int  (*on_invite)(void *app, hl_sip_dialog *d, const hl_sip_invite_info *info);
    /* Added by the SIP stack: a new INVITE was refused before any call took it — by the
     * stack (bad From/To, malformed SDP, shutting down) or by on_invite's status — and the
     * stack has logged it.  code: the status sent; cause: a short name for the CDR, e.g.
     * "488-ipv6" (on_invite's own refusal: what it named, else the code).  The dialog is
     * gone; info is valid during the call only. */
    void (*on_invite_refused)(void *app, const hl_sip_invite_info *info, int code,
                              const char *cause);
    /* The caller's ACK to our 2xx arrived: the dialog is confirmed. */
    void (*on_confirmed)(void *app_dialog, hl_sip_dialog *d);
    /* Outbound INVITE answered (2xx, ACK already sent); remote SDP answer. */
    void (*on_answered)(void *app_dialog, hl_sip_dialog *d, const hl_sdp *answer);
    /* Outbound INVITE progress (180/183). */
    void (*on_progress)(void *app_dialog, hl_sip_dialog *d, int code);
    /* Remote re-INVITE with a new offer (hold/resume); the stack answers it from
     * hl_sip_dialog_set_local_sdp()'s endpoint right after this returns (codec as in the
     * offer, direction mirrored).  Also called with the remote answer when an INVITE came
     * without SDP and the caller's ACK carries the answer. */
    void (*on_reoffer)(void *app_dialog, hl_sip_dialog *d, const hl_sdp *offer);
    /* DTMF in a SIP INFO (application/dtmf-relay or application/dtmf). */
    void (*on_info_dtmf)(void *app_dialog, hl_sip_dialog *d, char digit, int duration_ms);
    /* A REFER we sent progressed (NOTIFY sipfrag status) or failed (the REFER's own code). */
    void (*on_refer_status)(void *app_dialog, hl_sip_dialog *d, int code);
    /* The dialog is over: remote BYE, CANCEL before answer, outbound failure (code >= 300),
     * timeout (408), or our own hangup completing.  reason: "bye", "cancel", "rejected",
     * "timeout", "local", "transport". */
    void (*on_terminated)(void *app_dialog, hl_sip_dialog *d, int code, const char *reason);
    /* Optional: the per-second request limit of this source (a trunk's own), or 0 for the
     * stack's rate_per_sec.  Asked for every out-of-dialog request, so it must be cheap. */
    int  (*source_rate)(void *app, const uint8_t ip[16]);
    /* Optional: an out-of-dialog REGISTER; without it REGISTER gets 405.  Fill out (code 0
     * is answered 500); hl_sip_register_verify checks the request's Authorization. */
    void (*on_register)(void *app, const hl_sip_register_info *in, hl_sip_register_reply *out);
    /* Optional: a REFER in a confirmed dialog (blind transfer from the far end's phone,
     * RFC 3515).  target: the Refer-To URI without <> and without its ?headers; user: its
     * user part, %-decoded and checked (digits, letters, * # + . _ -; "" when it has none
     * or another character).  Return 202 to accept — the stack answers 202 and sends
     * NOTIFY "SIP/2.0 100 Trying" (the subscription stays active until
     * hl_sip_dialog_refer_notify sends the outcome) — or a status >= 300 to refuse.
     * Without it a REFER gets 403. */
    int  (*on_refer)(void *app_dialog, hl_sip_dialog *d, const char *target, const char *user);
} hl_sip_callbacks;

typedef struct hl_sip_cfg {
    const char *addr; int port;     /* UDP and TCP listen on the same address and port */
    int rate_per_sec;               /* admitted requests per source IP a second; more get 503 */
    int ban_factor;                 /* a source over rate_per_sec * this in a second is banned */
    int ban_ms;                     /* ... for this long: its requests are dropped unanswered */
    int retry_after_s;              /* the Retry-After of our 503s (rate limit, overload) */
    int max_message;                /* bytes */
    int tcp_max_per_addr;           /* TCP connections one address may hold; more are closed */
    int tcp_message_timeout_ms;     /* a TCP connection must complete each message this fast */
    const char *user_agent;         /* our Server / User-Agent header */
    /* Added by the SIP stack: the address put in Via/Contact/Call-ID (NULL = addr; when addr
     * is 0.0.0.0 or :: and this is NULL, 127.0.0.1). */
    const char *advertise_addr;
} hl_sip_cfg;

/* What the edge refused, since start (ctl status). */
typedef struct hl_sip_stats {
    uint64_t rate_refused;          /* requests answered 503 for the per-source limit */
    uint64_t banned_dropped;        /* requests from banned sources, dropped */
    uint64_t bans;                  /* bans imposed */
    uint64_t overload_refused;      /* new calls answered 503 because the engine is overloaded */
    uint64_t tcp_refused;           /* TCP connections closed at accept (per-address or total cap) */
    uint64_t tcp_timed_out;         /* TCP connections closed for not completing a message */
} hl_sip_stats;

/* A source banned for flooding. */
typedef struct hl_sip_ban {
    char     ip[46];
    uint64_t expires_in_ms;
    uint64_t dropped;               /* its requests dropped during this ban */
} hl_sip_ban;

hl_sip *hl_sip_new(uv_loop_t *uv, const hl_sip_cfg *cfg, const hl_sip_callbacks *cb, void *app);
/* Stops listening; dialogs still up get BYE; calls done() once everything is closed. */
void    hl_sip_shutdown(hl_sip *sip, void (*done)(void *), void *arg);
int     hl_sip_port(const hl_sip *sip);

/* A reload's new limits (rate, bans, Retry-After, max_message, TCP deadlines, the Server
 * header), from the next message on; sources already tracked keep their tokens up to the new
 * rate.  The address and port stay as they were at start. */
void hl_sip_set_limits(hl_sip *sip, const hl_sip_cfg *cfg);
/* While on, new calls (out-of-dialog INVITEs) get 503 with Retry-After; the owner turns it on
 * when the engine is overloaded and off when it has recovered. */
void hl_sip_set_overloaded(hl_sip *sip, bool on);
void hl_sip_get_stats(const hl_sip *sip, hl_sip_stats *out);
/* Responses the stack made since start, by status code: out[code - 100] for 100..699
 * (issue 10, /metrics); a retransmission is not counted again. */
#define HL_SIP_CODES 600
void hl_sip_responses(const hl_sip *sip, uint64_t out[HL_SIP_CODES]);
/* Fills out with up to max bans in force; returns how many there are. */
int  hl_sip_bans(hl_sip *sip, hl_sip_ban *out, int max);
/* Lifts the ban of ip: 1 lifted, 0 it was not banned, -1 not an address. */
int  hl_sip_unban(hl_sip *sip, const char *ip);

/* Associate the application's per-dialog pointer (passed back as app_dialog). */
void hl_sip_dialog_set_app(hl_sip_dialog *d, void *app_dialog);
/* Our media endpoint for answers/offers in this dialog (copied). */
void hl_sip_dialog_set_local_sdp(hl_sip_dialog *d, const hl_sdp *local);
const char *hl_sip_dialog_call_id(const hl_sip_dialog *d);

int  hl_sip_dialog_ring(hl_sip_dialog *d);                  /* 180 */
int  hl_sip_dialog_answer(hl_sip_dialog *d);                /* 200 with local SDP; retransmitted until ACK */
int  hl_sip_dialog_reject(hl_sip_dialog *d, int code, const char *reason);
/* Added by the SIP stack: RFC 3261 20.43 warn-codes for what an offer asks and our media
 * cannot do, and the text of the IPv6 refusal (the media is IPv4: an IPv4 oRTP session
 * cannot send to an IPv6 address). */
#define HL_SIP_WARN_ADDRESS_FORMAT 301   /* "Incompatible network address formats" */
#define HL_SIP_WARN_MEDIA_FORMAT   305   /* "Incompatible media format" */
#define HL_SIP_WARN_IPV6_TEXT "Incompatible network address formats: IPv6 media offered, " \
                              "this engine takes IPv4 media only"
/* Added by the SIP stack: from on_invite, before it returns a status >= 300: the cause
 * on_invite_refused reports (e.g. "488-ipv6"), and a Warning header for the response
 * (RFC 3261 20.43: warn_code 3xx names an SDP problem, e.g. 301 "Incompatible network
 * address formats"; 0 = none). */
void hl_sip_dialog_refusal(hl_sip_dialog *d, const char *cause, int warn_code,
                           const char *warning);
/* The same for a refusal the app logs and counts itself (INVITEs from strangers: a scanner
 * sends thousands): the stack writes no log line and calls no on_invite_refused (no CDR). */
void hl_sip_dialog_refusal_quiet(hl_sip_dialog *d, const char *cause);
/* Ends the dialog whatever its state: BYE if confirmed, CANCEL if outbound and ringing,
 * an error response if inbound and unanswered. on_terminated(reason "local") follows. */
void hl_sip_dialog_hangup(hl_sip_dialog *d);
/* re-INVITE with our SDP direction changed: hold (sendonly) or resume (sendrecv). */
int  hl_sip_dialog_hold(hl_sip_dialog *d, bool hold);
/* Digest authentication of a new inbound INVITE (RFC 3261 22.4, MD5, qop auth or none):
 * true when its Authorization answers a fresh nonce of ours for user/password in realm. */
bool hl_sip_dialog_authorized(hl_sip_dialog *d, const char *realm, const char *user,
                              const char *password);
/* Refuses a new inbound INVITE with 401 and a fresh challenge (WWW-Authenticate) for realm. */
int  hl_sip_dialog_challenge(hl_sip_dialog *d, const char *realm);
/* Checks the REGISTER's Authorization for realm against the account's HA1 of the
 * algorithm the client chose (ha1_md5 or ha1_sha256, hex; "" = no such account: WRONG;
 * NULL = that algorithm is not offered: NONE, challenge again).  An OK
 * records the nonce's count, so that the same answer again is HL_SIP_AUTH_REPLAY. */
hl_sip_auth hl_sip_register_verify(hl_sip *s, const hl_sip_register_info *in, const char *realm,
                                   const char *ha1_md5, const char *ha1_sha256);
/* HA1 = H(user:realm:password) in hex (RFC 7616 3.4.2): MD5 (32 digits) or SHA-256 (64). */
void hl_digest_ha1(bool sha256, const char *user, const char *realm, const char *password,
                   char out[65]);
/* Our outbound INVITE answers a 401/407 from the far end once with user/password (digest). */
void hl_sip_dialog_set_login(hl_sip_dialog *d, const char *user, const char *password);
/* Blind transfer: REFER Refer-To target; progress via on_refer_status. */
int  hl_sip_dialog_refer(hl_sip_dialog *d, const char *target_uri);
/* The outcome of a REFER we accepted (on_refer): a final NOTIFY whose sipfrag is
 * "SIP/2.0 <code> <phrase>", Subscription-State terminated (RFC 3515 2.4.5).  -1 when no
 * accepted REFER waits for its outcome or the dialog is over. */
int  hl_sip_dialog_refer_notify(hl_sip_dialog *d, int code);

/* ---- agents' phones (issue 8) ---- */
/* Digest authentication of a new inbound INVITE against an account's HA1s, exactly as
 * hl_sip_register_verify does for REGISTER (MD5 or SHA-256 as the phone chose, stale
 * nonces, the replay guard: an OK counts the nonce, so call it once per request). */
hl_sip_auth hl_sip_dialog_verify(hl_sip_dialog *d, const char *realm, const char *ha1_md5,
                                 const char *ha1_sha256);
/* The username of a new inbound INVITE's Authorization into out ("" = none). */
void hl_sip_dialog_auth_user(hl_sip_dialog *d, char *out, size_t n);
/* Refuses a new inbound INVITE with 401 and one challenge per algorithm of the list
 * ("SHA-256,MD5", preferred first), stale=true when asked. */
int  hl_sip_dialog_challenge_digest(hl_sip_dialog *d, const char *realm, bool stale,
                                    const char *algorithms);

/* An outbound INVITE that says who calls and why (an agent's phone shows it): the caller's
 * display name and number in From and P-Asserted-Identity (RFC 3325: the phone is inside
 * our trust domain), and a few X- headers.  dest, when set, is where the INVITE goes
 * ("ip:port/udp" or ".../tcp", as hl_sip_register_info.source gives it) whatever host the
 * URI names: an agent is rung only at the address its phone registered from. */
#define HL_SIP_EXTRA_HEADERS_MAX 6
typedef struct hl_sip_header { const char *name, *value; } hl_sip_header;
typedef struct hl_sip_invite_opts {
    const char   *from_user;          /* user part of From ("hotline" when NULL or "") */
    const char   *from_display;       /* display name, or NULL; quoted and escaped here */
    bool          assert_identity;    /* add P-Asserted-Identity with the same name and user */
    const char   *dest;               /* "ip:port/udp|tcp", or NULL: the URI's own host */
    int           n_headers;
    hl_sip_header headers[HL_SIP_EXTRA_HEADERS_MAX];  /* names: letters, digits, '-'; values:
                                                         control characters dropped, cut
                                                         at 200 bytes; empty ones skipped */
} hl_sip_invite_opts;
hl_sip_dialog *hl_sip_invite_ex(hl_sip *sip, const char *uri, const hl_sdp *offer,
                                const hl_sip_invite_opts *o, void *app_dialog);

/* Qualify (an agent's phone still answers?): OPTIONS to uri, sent to dest ("ip:port/udp|
 * tcp").  fn(arg, ping, code) is called once: code = the far end's final status (any
 * answer means alive), or 0 when none came (timeout, transport error, the stack shutting
 * down).  NULL when it cannot be sent.  After cancel (or fn) the handle is dead; cancel
 * when the binding it checks goes away or the caller closes. */
typedef struct hl_sip_ping hl_sip_ping;
typedef void (*hl_sip_ping_fn)(void *arg, hl_sip_ping *ping, int code);
hl_sip_ping *hl_sip_options_ping(hl_sip *sip, const char *uri, const char *dest,
                                 hl_sip_ping_fn fn, void *arg);
void         hl_sip_ping_cancel(hl_sip_ping *ping);
/* "ip:port/udp|tcp" into an address and transport: 0, or -1 when it is not one. */
int hl_sip_source_addr(const char *source, struct sockaddr_storage *sa, bool *tcp);

/* A new outbound dialog: INVITE uri with our offer; from_user as the caller id.  The URI's
 * host must be an IP address; a name is resolved first (sip_dns.h), then hl_sip_invite_to. */
hl_sip_dialog *hl_sip_invite(hl_sip *sip, const char *uri, const char *from_user,
                             const hl_sdp *offer, void *app_dialog);
/* The same, sent to addr (port included) found for the URI's host name: the Request-URI
 * and To keep the name as written, the transport is the URI's. */
hl_sip_dialog *hl_sip_invite_to(hl_sip *sip, const char *uri, const struct sockaddr_in *addr,
                                const char *from_user, const hl_sdp *offer, void *app_dialog);
/* The destination a sip: URI names: its host as written ([v6] without brackets), its port
 * (0: none given) and whether ;transport=tcp.  0, or -1 when it is no sip: URI with a host. */
int hl_sip_uri_dest(const char *uri, char *host, size_t hostlen, int *port, bool *tcp);

/* Added by the SIP stack, for tests and fuzzing: handle buf as if it had arrived from
 * ip:port over UDP (tcp=false) or TCP.  Responses go to that address. */
void hl_sip_inject(hl_sip *sip, const char *ip, int port, bool tcp, const char *buf, size_t len);

#endif
