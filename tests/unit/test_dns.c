/* test_dns.c — a SIP URI's host name to an address (sip/sip_dns.c): the SRV choice of RFC
 * 2782 on canned DNS answers (priority, weight, compressed targets, "." targets, malformed
 * messages), then whole lookups on a private loop without a DNS server: names from
 * /etc/hosts (localhost), a name that cannot exist (RFC 6761 .invalid), SRV answers given by
 * a canned query, and the fallback to the name itself on port 5060 when there is no record. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip/sip.h"
#include "sip/sip_dns.h"

#include "unit.h"

/* ---- canned answers ------------------------------------------------------------------------ */

typedef struct srv_spec {
    int prio, weight, port;
    const char *target;   /* a full name; "sip1+" makes "sip1" then a pointer to the question's domain */
} srv_spec;

#define QNAME_OFFSET 12   /* the question's name follows the 12-byte header */

static int put16(unsigned char *p, int v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    return 2;
}

/* name as DNS labels at p; returns its length */
static int put_name(unsigned char *p, const char *name)
{
    int n = 0;
    while (*name) {
        size_t l = strcspn(name, ".");
        p[n++] = (unsigned char)l;
        memcpy(p + n, name, l);
        n += (int)l;
        name += l + (name[l] == '.');
    }
    p[n++] = 0;
    return n;
}

/* A DNS response to qname's SRV query with the records of v; rcode 3 is NXDOMAIN. */
static int answer_of(unsigned char *buf, const char *qname, const srv_spec *v, int n, int rcode)
{
    int len = 0;
    len += put16(buf + len, 0x1234);
    len += put16(buf + len, 0x8180 | rcode);
    len += put16(buf + len, 1);
    len += put16(buf + len, n);
    len += put16(buf + len, 0);
    len += put16(buf + len, 0);
    int qlen = put_name(buf + len, qname);
    /* "_sip._udp.example.com": the domain starts after the two labels "_sip" and "_udp" */
    int domain = QNAME_OFFSET + 1 + buf[QNAME_OFFSET];
    domain += 1 + buf[domain];
    len += qlen;
    len += put16(buf + len, 33);   /* SRV */
    len += put16(buf + len, 1);    /* IN */
    for (int i = 0; i < n; i++) {
        len += put16(buf + len, 0xC000 | QNAME_OFFSET);
        len += put16(buf + len, 33);
        len += put16(buf + len, 1);
        len += put16(buf + len, 0);
        len += put16(buf + len, 60);                 /* TTL */
        int rdlen_at = len;
        len += 2;
        len += put16(buf + len, v[i].prio);
        len += put16(buf + len, v[i].weight);
        len += put16(buf + len, v[i].port);
        const char *plus = strchr(v[i].target, '+');
        if (plus) {
            buf[len++] = (unsigned char)(plus - v[i].target);
            memcpy(buf + len, v[i].target, (size_t)(plus - v[i].target));
            len += (int)(plus - v[i].target);
            len += put16(buf + len, 0xC000 | domain);
        } else {
            len += put_name(buf + len, v[i].target);
        }
        put16(buf + rdlen_at, len - rdlen_at - 2);
    }
    return len;
}

#define QN "_sip._udp.example.com"

static bool picks(const srv_spec *v, int n, uint32_t rnd, const char *target, int port)
{
    unsigned char buf[2048];
    char got[256] = "";
    int got_port = 0;
    int len = answer_of(buf, QN, v, n, 0);
    int rc = hl_dns_srv_pick(buf, len, rnd, got, sizeof got, &got_port);
    if (rc != 1 || strcmp(got, target) || got_port != port) {
        FAIL("rnd %u: expected %s:%d, got rc %d %s:%d", rnd, target, port, rc, got, got_port);
        return false;
    }
    return true;
}

TEST_IMPL(dns_srv_pick)
{
    const srv_spec prio[] = { { 20, 100, 5060, "backup.example.com" },
                              { 10, 1, 5070, "main.example.com" },
                              { 30, 0, 5060, "last.example.com" } };
    for (uint32_t r = 0; r < 50; r += 7)
        CHECK(picks(prio, 3, r, "main.example.com", 5070), "the lowest priority wins whatever its weight");

    /* one priority, weights 0, 10, 30: r = rnd % 41; 0 the weight-0 record first, 1-10 the
     * second, 11-40 the third (RFC 2782's running sum) */
    const srv_spec w[] = { { 10, 10, 5061, "ten.example.com" },
                           { 10, 0, 5062, "zero.example.com" },
                           { 10, 30, 5063, "thirty.example.com" } };
    CHECK(picks(w, 3, 0, "zero.example.com", 5062));
    CHECK(picks(w, 3, 41, "zero.example.com", 5062), "rnd wraps at the sum of weights + 1");
    CHECK(picks(w, 3, 1, "ten.example.com", 5061) && picks(w, 3, 10, "ten.example.com", 5061));
    CHECK(picks(w, 3, 11, "thirty.example.com", 5063) && picks(w, 3, 40, "thirty.example.com", 5063));

    const srv_spec packed[] = { { 5, 0, 5080, "sip1+" } };
    CHECK(picks(packed, 1, 0, "sip1.example.com", 5080), "a compressed target is expanded");

    const srv_spec dot[] = { { 1, 0, 0, "" }, { 2, 0, 5090, "later.example.com" } };
    CHECK(picks(dot, 2, 0, "later.example.com", 5090), "a \".\" target offers nothing, the next does");
    return 0;
}

TEST_IMPL(dns_srv_none)
{
    unsigned char buf[2048];
    char target[256] = "untouched";
    int port = -1;
    int len = answer_of(buf, QN, NULL, 0, 3);
    CHECK(hl_dns_srv_pick(buf, len, 0, target, sizeof target, &port) == 0 &&
          !strcmp(target, "untouched") && port == -1, "NXDOMAIN: no record, the name itself is used");
    len = answer_of(buf, QN, NULL, 0, 0);
    CHECK(hl_dns_srv_pick(buf, len, 0, target, sizeof target, &port) == 0, "an empty answer: no record");
    const srv_spec dot[] = { { 1, 0, 0, "" } };
    len = answer_of(buf, QN, dot, 1, 0);
    CHECK(hl_dns_srv_pick(buf, len, 0, target, sizeof target, &port) == 0, "only \".\": no record");

    const srv_spec one[] = { { 1, 0, 5060, "a.example.com" } };
    len = answer_of(buf, QN, one, 1, 0);
    for (int cut = 0; cut < len; cut += 3)
        CHECK(hl_dns_srv_pick(buf, cut, 0, target, sizeof target, &port) == -1,
              "cut at %d of %d bytes: malformed", cut, len);
    buf[len - 2] = 0xC0;   /* the target's last label byte now points ... */
    buf[len - 1] = 0xFF;   /* ... beyond the message */
    CHECK(hl_dns_srv_pick(buf, len, 0, target, sizeof target, &port) == -1, "a bad pointer is malformed");
    return 0;
}

/* ---- whole lookups on a loop --------------------------------------------------------------- */

typedef struct outcome {
    int calls;
    hl_dns_status status;
    char addr[64], target[256];
} outcome;

static void noted(void *arg, hl_dns_status status, const struct sockaddr_in *addr, const char *target)
{
    outcome *o = arg;
    o->calls++;
    o->status = status;
    snprintf(o->target, sizeof o->target, "%s", target);
    if (addr) {
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &addr->sin_addr, ip, sizeof ip);
        snprintf(o->addr, sizeof o->addr, "%s:%d", ip, ntohs(addr->sin_port));
    }
}

static outcome resolve(uv_loop_t *loop, const char *host, int port, bool tcp, bool srv)
{
    outcome o = { 0 };
    hl_dns_query *q = hl_dns_resolve(loop, host, port, tcp, srv, noted, &o);
    if (!q)
        FAIL("%s: the lookup did not start", host);
    uv_run(loop, UV_RUN_DEFAULT);
    if (q && o.calls != 1)
        FAIL("%s: %d callbacks", host, o.calls);
    return o;
}

static char asked[300];

/* a DNS server that knows one SRV name, _sip._udp.centre.test, and no other */
static int canned_srv(const char *qname, unsigned char *answer, int size)
{
    snprintf(asked, sizeof asked, "%s", qname);
    if (strcmp(qname, "_sip._udp.centre.test") != 0)
        return -1;
    const srv_spec v[] = { { 10, 0, 5099, "localhost" }, { 20, 0, 5098, "nowhere.invalid" } };
    return answer_of(answer, qname, v, 2, 0);
}

TEST_IMPL(dns_resolve)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return 1;
    outcome o = resolve(&loop, "localhost", 5077, false, false);
    CHECK(o.status == HL_DNS_FOUND && !strcmp(o.addr, "127.0.0.1:5077"), "localhost: %s", o.addr);
    o = resolve(&loop, "localhost", 0, false, false);
    CHECK(o.status == HL_DNS_FOUND && !strcmp(o.addr, "127.0.0.1:5060"), "no port: 5060, got %s", o.addr);
    o = resolve(&loop, "nowhere.invalid", 5060, false, false);
    CHECK(o.status != HL_DNS_FOUND && !strcmp(o.target, "nowhere.invalid"),
          ".invalid never resolves (RFC 6761): %d", o.status);

    hl_dns_set_srv_query(canned_srv);
    o = resolve(&loop, "centre.test", 0, false, true);
    CHECK(o.status == HL_DNS_FOUND && !strcmp(o.addr, "127.0.0.1:5099") && !strcmp(o.target, "localhost"),
          "SRV: the lowest priority's target and port, got %s via %s", o.addr, o.target);
    o = resolve(&loop, "localhost", 0, true, true);
    CHECK(!strcmp(asked, "_sip._tcp.localhost"), "transport=tcp asks _sip._tcp: %s", asked);
    CHECK(o.status == HL_DNS_FOUND && !strcmp(o.addr, "127.0.0.1:5060") && !strcmp(o.target, "localhost"),
          "no SRV record: the name itself on 5060, got %s", o.addr);
    asked[0] = 0;
    o = resolve(&loop, "localhost", 5077, false, true);
    CHECK(!asked[0] && !strcmp(o.addr, "127.0.0.1:5077"), "a port in the URI: no SRV query (RFC 3263 4.2)");

    /* a cancelled lookup never calls back, and its memory goes when it returns */
    outcome c = { 0 };
    hl_dns_cancel(hl_dns_resolve(&loop, "centre.test", 0, false, true, noted, &c));
    hl_dns_cancel(hl_dns_resolve(&loop, "localhost", 5077, false, false, noted, &c));
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(c.calls == 0, "cancelled: %d callbacks", c.calls);
    hl_dns_set_srv_query(NULL);
    CHECK(uv_loop_close(&loop) == 0);
    return 0;
}
