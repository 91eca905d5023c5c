/* sip_dns.h — where a SIP URI's host name is, found off the loop (RFC 3263, the UDP/TCP part).
 *
 * A name is looked up with libuv's getaddrinfo (IPv4: the media is IPv4), from /etc/hosts
 * or DNS as the system is configured.  Where a rule asks for SRV (a trunk's srv = true) and
 * the URI names no port, _sip._udp.NAME (or _sip._tcp) is queried first with libresolv on
 * libuv's thread pool; the lowest priority's target, chosen by weight (RFC 2782), is then
 * looked up, and without SRV records the name itself on port 5060.
 *
 * Nothing here waits on the loop: the callback comes on a later turn.  The caller keeps its
 * own timeout (a query in a worker thread cannot be stopped) and cancels on it; a cancelled
 * query never calls back and frees itself when its lookup returns. */
#ifndef HL_SIP_DNS_H
#define HL_SIP_DNS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <uv.h>

#define HL_SIP_DEFAULT_PORT 5060   /* RFC 3261 19.1.2: sip: without a port */

typedef enum hl_dns_status {
    HL_DNS_FOUND = 0,
    HL_DNS_NOT_FOUND,     /* the name (or the SRV target) does not exist, or has no IPv4 address */
    HL_DNS_ERROR,         /* the resolver failed (no server, a server failure, out of memory) */
} hl_dns_status;

typedef struct hl_dns_query hl_dns_query;

/* addr: the address to send to (port included) when status is HL_DNS_FOUND; target: the
 * name that was finally looked up (an SRV target or the name itself), for the log. */
typedef void (*hl_dns_cb)(void *arg, hl_dns_status status, const struct sockaddr_in *addr,
                          const char *target);

/* Starts resolving host; port 0: none in the URI (SRV when srv, else 5060).  NULL when the
 * query could not start (out of memory, a name too long). */
hl_dns_query *hl_dns_resolve(uv_loop_t *loop, const char *host, int port, bool tcp, bool srv,
                             hl_dns_cb cb, void *arg);
/* The callback will not be called; the query's memory goes when its lookup returns. */
void hl_dns_cancel(hl_dns_query *q);

/* Added for RFC 3263's SRV step, and for the unit test on canned answers: the SRV record an
 * answer (a whole DNS message of len bytes) leads to — the lowest priority, and among
 * those one chosen by weight with random number rnd (RFC 2782).  Returns 1 with its target
 * and port, 0 when the answer holds no usable SRV record (the caller falls back to the
 * name's own address), -1 when the message is malformed. */
int hl_dns_srv_pick(const unsigned char *answer, int len, uint32_t rnd, char *target,
                    size_t targetlen, int *port);

/* For the unit test: what asks DNS for qname's SRV records (default: libresolv's
 * res_nquery); returns the answer's length, or -1 (no such name, no records, no server).
 * Called on a pool thread.  NULL restores the default. */
typedef int (*hl_dns_srv_query_fn)(const char *qname, unsigned char *answer, int size);
void hl_dns_set_srv_query(hl_dns_srv_query_fn fn);

#endif
