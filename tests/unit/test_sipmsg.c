/* test_sipmsg.c — unit tests of the SIP stack's message-level checks (engine/sip/sip_msg.c,
 * sip_rate.c) and, through hl_sip_inject on a real stack, of what is answered around
 * libosip2: malformed start lines, header limits, Content-Length, 400 built from raw text,
 * INFO DTMF bodies (dtmf-relay and dtmf), the token bucket, and retransmissions answered
 * from retired transactions ("done" entries, see the top of engine/sip/sip.c); and the
 * answers RFC 3261 names for RFC 4475's classes (issue 7 item 4: missing, duplicated and
 * folded headers, CSeq mismatch, unknown methods, 505/416/420/415) with the report of every
 * new INVITE refused before a call exists (on_invite_refused, for its CDR).
 *
 * Responses of the injected requests go to a UDP socket of this test on loopback. */
#include "sip/sip.h"
#include "sip/sip_int.h"
#include "app/leg_sip.h"
#include "core/log.h"
#include <arpa/inet.h>
#include <osipparser2/osip_parser.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

/* ------------------------------------------------------------------ raw checks */

static hl_sipmsg_fault fault; /* of the last check() */

static int check(const char *msg, size_t max, size_t *mlen, char *why)
{
    memset(&fault, 0, sizeof fault);
    int rc = hl_sipmsg_check(msg, strlen(msg), max, mlen, &fault);
    snprintf(why, 160, "%s", fault.why);
    return rc;
}

#define HDRS "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" \
             "From: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:12333@10.0.0.2>\r\n" \
             "Call-ID: c1@10.0.0.1\r\n"

static void test_start_lines(void)
{
    size_t ml;
    char why[160];
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) == 0);
    CHECK(check("SIP/2.0 200 OK\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) == 0);
    CHECK(check("OPTIONS sip:x@y\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "bad request line"));
    CHECK(check("OPTIONS sip:x@y SIP/2.0 \r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "not SIP/2.0"));
    CHECK(check("OPTIONS sip:x@y SIP/3.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          fault.code == 505);
    CHECK(check("OPTIONS sip:x@y SIP/3\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          fault.code == 400);
    CHECK(check("OPTIONS sip:x@y SIP/2.0.1\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          fault.code == 400);
    CHECK(check("OPTIONS nouri SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "scheme"));
    CHECK(check(" sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "no method"));
    CHECK(check("OPTIONS  SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0);
    CHECK(check("SIP/2.0 2x0 OK\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "status"));
    CHECK(check("SIP/2.0 700 Odd\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0);
    char longm[128];
    memset(longm, 'A', 60);
    snprintf(longm + 60, sizeof longm - 60, " sip:x@y SIP/2.0\r\n");
    char buf[1024];
    snprintf(buf, sizeof buf, "%s" HDRS "CSeq: 1 %.*s\r\n\r\n", longm, 60, longm);
    /* a method longer than any we know is just one we do not know: 501 */
    CHECK(check(buf, 65535, &ml, why) < 0 && fault.code == 501 && strstr(why, "unknown method"));
    CHECK(hl_sipmsg_is_response("SIP/2.0 200 OK", 14));
    CHECK(!hl_sipmsg_is_response("SIP/2.0", 7));
}

static void test_headers(void)
{
    size_t ml;
    char why[160];
    /* missing mandatory headers */
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "CSeq"));
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
                "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n", 65535, &ml, why) < 0 && strstr(why, "Via"));
    /* CSeq method must match, except ACK of an INVITE */
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "does not match"));
    /* tolerated: some UAs put INVITE in the CSeq of the ACK */
    CHECK(check("ACK sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n\r\n", 65535, &ml, why) == 0);
    CHECK(check("ACK sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 ACK\r\n\r\n", 65535, &ml, why) == 0);
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: x OPTIONS\r\n\r\n", 65535, &ml, why) < 0);
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 12345678901 OPTIONS\r\n\r\n", 65535, &ml,
                why) < 0);
    /* each missing one is named in the reason phrase (RFC 4475 3.3.1) */
    static const char *const need[] = { "From", "To", "Call-ID", "CSeq" };
    for (int i = 0; i < 4; i++) {
        char m[512], reason[48];
        snprintf(m, sizeof m, "INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
                 "%s%s%s%s\r\n", i == 0 ? "" : "From: <sip:a@b>;tag=1\r\n",
                 i == 1 ? "" : "To: <sip:c@d>\r\n", i == 2 ? "" : "Call-ID: x\r\n",
                 i == 3 ? "" : "CSeq: 1 INVITE\r\n");
        snprintf(reason, sizeof reason, "Missing %s", need[i]);
        CHECK(check(m, 65535, &ml, why) < 0 && fault.code == 400 && strcmp(fault.reason, reason) == 0);
    }
    /* an empty value is as good as missing */
    CHECK(check("INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
                "Call-ID:  \r\nCSeq: 1 INVITE\r\n\r\n", 65535, &ml, why) < 0 &&
          strcmp(fault.reason, "Missing Call-ID") == 0);
    /* single-value headers given twice (RFC 4475 3.3.8) */
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "i: other\r\nCSeq: 1 OPTIONS\r\n\r\n", 65535, &ml,
                why) < 0 && fault.code == 400 && strcmp(fault.reason, "Duplicate Call-ID") == 0);
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\nCSeq: 2 OPTIONS\r\n\r\n", 65535,
                &ml, why) < 0 && strcmp(fault.reason, "Duplicate CSeq") == 0);
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "To: <sip:z@d>\r\nCSeq: 1 OPTIONS\r\n\r\n", 65535,
                &ml, why) < 0 && strcmp(fault.reason, "Duplicate To") == 0);
    /* the CSeq method names the request's (RFC 4475 3.1.2.17) */
    CHECK(check("REGISTER sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n\r\n", 65535, &ml, why) < 0 &&
          fault.code == 400 && strcmp(fault.reason, "CSeq Method Mismatch") == 0);
    /* a method we do not know is 501 whatever its form: with a CSeq of another method
     * (RFC 4475 3.1.2.18), in lower case (methods are case-sensitive), of odd token chars */
    CHECK(check("NEWMETHOD sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n\r\n", 65535, &ml, why) < 0 &&
          fault.code == 501 && strstr(why, "NEWMETHOD"));
    CHECK(check("invite sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 invite\r\n\r\n", 65535, &ml, why) < 0 &&
          fault.code == 501);
    CHECK(check("!interesting-Method0123456789_*+`.%indeed'~ sip:x@y SIP/2.0\r\n" HDRS
                "CSeq: 1 !interesting-Method0123456789_*+`.%indeed'~\r\n\r\n", 65535, &ml, why) < 0 &&
          fault.code == 501 && strcmp(fault.reason, "Not Implemented") == 0);
    /* ... but a missing header is still 400: there is no transaction to answer 501 in */
    CHECK(check("NEWMETHOD sip:x@y SIP/2.0\r\n" HDRS "\r\n", 65535, &ml, why) < 0 && fault.code == 400);
    CHECK(hl_sipmsg_method_class("INVITE", 6) == HL_METHOD_SUPPORTED);
    CHECK(hl_sipmsg_method_class("INVITEX", 7) == HL_METHOD_UNKNOWN);
    CHECK(hl_sipmsg_method_class("INV", 3) == HL_METHOD_UNKNOWN);
    CHECK(hl_sipmsg_method_class("PRACK", 5) == HL_METHOD_NOT_ALLOWED);
    /* compact forms count */
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bKa\r\nf: <sip:a@b>;tag=1\r\n"
                "t: <sip:c@d>\r\ni: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", 65535, &ml, why) == 0);
    /* control bytes, a line that is not a header, no blank line */
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "X-A: a\001b\r\nCSeq: 1 OPTIONS\r\n\r\n", 65535,
                &ml, why) < 0 && strstr(why, "control byte"));
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "garbage\r\nCSeq: 1 OPTIONS\r\n\r\n", 65535, &ml,
                why) < 0 && strstr(why, "Name: value"));
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n", 65535, &ml, why) < 0 &&
          strstr(why, "blank line"));
    /* Max-Forwards must be a number (0 is well-formed: the stack answers it with 483) */
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\nMax-Forwards: lots\r\n\r\n",
                65535, &ml, why) < 0 && strstr(why, "Max-Forwards"));
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\nMax-Forwards:\r\n\r\n",
                65535, &ml, why) < 0 && strstr(why, "Max-Forwards"));
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\nMax-Forwards: 7 0\r\n\r\n",
                65535, &ml, why) < 0);
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\nMax-Forwards: 0\r\n\r\n",
                65535, &ml, why) == 0);
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\nmax-forwards: 70 \r\n\r\n",
                65535, &ml, why) == 0);
    CHECK(hl_sipmsg_max_forwards_value("70", 2) == 70);
    CHECK(hl_sipmsg_max_forwards_value("0\t", 2) == 0);
    CHECK(hl_sipmsg_max_forwards_value("-1", 2) == -1);
    CHECK(hl_sipmsg_max_forwards_value("12345678901", 11) == -1);
    /* a folded continuation line is allowed */
    CHECK(check("OPTIONS sip:x@y SIP/2.0\r\n" HDRS "Subject: a\r\n  b\r\nCSeq: 1 OPTIONS\r\n\r\n",
                65535, &ml, why) == 0);
    /* too many header lines (limit 256) */
    size_t cap = 64 * 1024, o = 0;
    char *big = malloc(cap);
    o += (size_t)snprintf(big + o, cap - o, "OPTIONS sip:x@y SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n");
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(big + o, cap - o, "X-H%d: v\r\n", i);
    snprintf(big + o, cap - o, "\r\n");
    CHECK(check(big, 65535, &ml, why) < 0 && strstr(why, "header lines"));
    /* message size limit */
    CHECK(check(big, 1000, &ml, why) < 0 && strstr(why, "larger than"));
    free(big);
}

static void test_content_length(void)
{
    size_t ml;
    char why[160];
    const char *m = "INFO sip:x@y SIP/2.0\r\n" HDRS "CSeq: 2 INFO\r\nContent-Length: 4\r\n\r\nabcdEXTRA";
    CHECK(check(m, 65535, &ml, why) == 0);
    CHECK(ml == strlen(m) - 5); /* UDP: bytes past Content-Length are ignored */
    CHECK(check("INFO sip:x@y SIP/2.0\r\n" HDRS "CSeq: 2 INFO\r\nContent-Length: 10\r\n\r\nabc",
                65535, &ml, why) < 0 && strstr(why, "larger than the body"));
    CHECK(check("INFO sip:x@y SIP/2.0\r\n" HDRS "CSeq: 2 INFO\r\nContent-Length: -1\r\n\r\n",
                65535, &ml, why) < 0 && strstr(why, "Content-Length"));
    CHECK(check("INFO sip:x@y SIP/2.0\r\n" HDRS "CSeq: 2 INFO\r\nContent-Length: 4x\r\n\r\nabcd",
                65535, &ml, why) < 0);
    CHECK(check("INFO sip:x@y SIP/2.0\r\n" HDRS "CSeq: 2 INFO\r\nContent-Length: 99999999999\r\n\r\n",
                65535, &ml, why) < 0);
    /* two Content-Lengths (RFC 4475 3.3.9): different is 400 naming both, equal is still
     * a single-value header given twice */
    CHECK(check("INFO sip:x@y SIP/2.0\r\n" HDRS "CSeq: 2 INFO\r\nContent-Length: 4\r\nl: 3\r\n\r\nabcd",
                65535, &ml, why) < 0 && fault.code == 400 &&
          strcmp(fault.reason, "Conflicting Content-Length") == 0 && strstr(why, "4 and 3"));
    CHECK(check("INFO sip:x@y SIP/2.0\r\n" HDRS "CSeq: 2 INFO\r\nContent-Length: 4\r\nl: 4\r\n\r\nabcd",
                65535, &ml, why) < 0 && strcmp(fault.reason, "Duplicate Content-Length") == 0);
    const char *h = "X y SIP/2.0\r\nl: 12 \r\nContent-Length: 13\r\n";
    CHECK(hl_sipmsg_content_length(h, strlen(h)) == -2); /* a stream cannot be framed */
    h = "X y SIP/2.0\r\nl: 12 \r\nContent-Length: 12\r\n";
    CHECK(hl_sipmsg_content_length(h, strlen(h)) == 12);
    h = "X y SIP/2.0\r\nl: 12 \r\n";
    CHECK(hl_sipmsg_content_length(h, strlen(h)) == 12);
    h = "X y SIP/2.0\r\nContent-Length:\r\n";
    CHECK(hl_sipmsg_content_length(h, strlen(h)) == -2);
    h = "X y SIP/2.0\r\nVia: a\r\n";
    CHECK(hl_sipmsg_content_length(h, strlen(h)) == -1);
}

static void test_raw_response(void)
{
    char out[2048];
    const char *m = "OPTIONS sip:x@y\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n";
    int n = hl_sipmsg_raw_response(m, strlen(m), 400, "Bad Request", "not SIP/2.0", "ua", out,
                                   sizeof out);
    CHECK(n > 0);
    if (n > 0) {
        out[n] = 0;
        CHECK(strncmp(out, "SIP/2.0 400 Bad Request\r\n", 25) == 0);
        CHECK(strstr(out, "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n") != NULL);
        CHECK(strstr(out, "To: <sip:12333@10.0.0.2>;tag=hl-err\r\n") != NULL);
        CHECK(strstr(out, "Warning: 399 hotline \"not SIP/2.0\"") != NULL);
    }
    /* without Call-ID the 400 still goes back, by the Via, with what there is */
    const char *nocid = "OPTIONS sip:x@y SIP/2.0\r\nVia: a\r\nFrom: b\r\nTo: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
    n = hl_sipmsg_raw_response(nocid, strlen(nocid), 400, "Missing Call-ID", "missing Call-ID",
                               "ua", out, sizeof out);
    CHECK(n > 0);
    if (n > 0) {
        out[n] = 0;
        CHECK(strncmp(out, "SIP/2.0 400 Missing Call-ID\r\n", 29) == 0);
        CHECK(strstr(out, "\r\nFrom: b\r\nTo: c;tag=hl-err\r\nCSeq: 1 OPTIONS\r\n") != NULL);
        CHECK(strstr(out, "\r\nCall-ID") == NULL);
    }
    /* the warn-text is a quoted-string: what would end or break it is replaced */
    n = hl_sipmsg_raw_response(m, strlen(m), 400, "Bad Request", "CSeq method \"X\\ odd", "ua", out,
                               sizeof out);
    CHECK(n > 0 && (out[n] = 0, strstr(out, "Warning: 399 hotline \"CSeq method 'X' odd\"\r\n") != NULL));
    /* 501 and 405 say what we allow (RFC 3261 21.5.2) */
    n = hl_sipmsg_raw_response(m, strlen(m), 501, "Not Implemented", "w", "ua", out, sizeof out);
    CHECK(n > 0 && (out[n] = 0, strstr(out, "\r\nAllow: " HL_SIP_ALLOW "\r\n") != NULL));
    /* without Via nothing can be answered; nor a response; nor into a tiny buffer */
    const char *novia = "OPTIONS sip:x@y SIP/2.0\r\nFrom: b\r\nTo: c\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
    CHECK(hl_sipmsg_raw_response(novia, strlen(novia), 400, "Bad", "w", "ua", out, sizeof out) < 0);
    const char *resp = "SIP/2.0 200 OK\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n";
    CHECK(hl_sipmsg_raw_response(resp, strlen(resp), 400, "Bad", "w", "ua", out, sizeof out) < 0);
    CHECK(hl_sipmsg_raw_response(m, strlen(m), 400, "Bad Request", "w", "ua", out, 40) < 0);
}

/* ------------------------------------------------------------------ admission and bans */

static void test_rate(void)
{
    hl_rate_cfg cfg = { .per_sec = 10, .ban_factor = 5, .ban_ms = 60000 };
    hl_rate *r = hl_rate_new(&cfg);
    uint8_t a[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
    uint8_t b[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2 };
    uint64_t t = 1000000;
    int ok = 0;
    for (int i = 0; i < 10; i++)
        ok += hl_rate_check(r, a, t) == HL_RATE_OK;
    CHECK(ok == 10);                                  /* one second's burst */
    CHECK(hl_rate_check(r, a, t) == HL_RATE_REFUSE);   /* then 503 */
    CHECK(hl_rate_check(r, b, t) == HL_RATE_OK);       /* per source */
    /* a source at twice the limit keeps its admitted share: refusals cost it nothing */
    int admitted = 0, other = 0;
    for (int i = 1; i <= 200; i++) {                   /* 20/s for 10 s */
        hl_rate_verdict v = hl_rate_check(r, a, t + (uint64_t)i * 50);
        admitted += v == HL_RATE_OK;
        other += v == HL_RATE_DROP || v == HL_RATE_BANNED;
    }
    CHECK(admitted >= 95 && admitted <= 101);          /* 10/s for 10 s (the burst was spent) */
    CHECK(other == 0);                                 /* twice over is busy, not a flood */
    hl_rate_free(r);

    /* far over the limit (more than per_sec * ban_factor in a second): banned, dropped */
    r = hl_rate_new(&cfg);
    t = 5000000;
    int banned = 0, dropped = 0;
    for (int i = 0; i < 80; i++) {
        hl_rate_verdict v = hl_rate_check(r, a, t + (uint64_t)i * 10);  /* 100/s */
        banned += v == HL_RATE_BANNED;
        dropped += v == HL_RATE_DROP;
    }
    CHECK(banned == 1);                                /* the 51st request of the second */
    CHECK(dropped == 80 - 51);
    hl_sip_ban list[4];
    CHECK(hl_rate_bans(r, t + 1000, list, 4) == 1);
    char ip[48];
    hl_ip16_str(a, ip, sizeof ip);
    CHECK(!strcmp(ip, "10.0.0.1") && !strcmp(list[0].ip, "10.0.0.1"));
    CHECK(list[0].dropped == 29 && list[0].expires_in_ms > 50000);
    CHECK(hl_rate_check(r, a, t + 30000) == HL_RATE_DROP);          /* still banned */
    CHECK(hl_rate_check(r, b, t + 30000) == HL_RATE_OK);            /* others are not */
    CHECK(hl_rate_check(r, a, t + 61000) == HL_RATE_OK);            /* the ban expired */
    CHECK(hl_rate_bans(r, t + 61000, NULL, 0) == 0);
    /* ctl ban remove: lifts a ban at once */
    for (int i = 0; i < 60; i++)
        hl_rate_check(r, a, t + 70000);
    CHECK(hl_rate_check(r, a, t + 70000) == HL_RATE_DROP);
    uint8_t parsed[16];
    CHECK(hl_ip16_parse("10.0.0.1", parsed) == 0 && !memcmp(parsed, a, 16));
    CHECK(hl_ip16_parse("not-an-ip", parsed) == -1);
    CHECK(hl_rate_unban(r, parsed, t + 70001));
    CHECK(!hl_rate_unban(r, parsed, t + 70001));                    /* not banned any more */
    CHECK(hl_rate_check(r, a, t + 70002) == HL_RATE_OK);
    hl_rate_free(r);

    hl_rate_cfg none = { 0 };
    hl_rate *off = hl_rate_new(&none);                 /* 0 = no limit */
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += hl_rate_check(off, a, t) == HL_RATE_OK;
    CHECK(ok == 100);
    hl_rate_free(off);
}

/* ------------------------------------------------------------------ through the stack */

typedef struct app {
    int invites, confirmed, terminated, dtmf_n;
    char digits[16];
    int durations[16];
    /* on_invite refuses with this status (0: answers), naming it when cause is set */
    int refuse_code;
    const char *refuse_cause, *refuse_warning;
    /* on_invite_refused */
    int refused, refused_code;
    char refused_cause[48], refused_call_id[64];
    /* issue 8: the answered dialog, REFERs received (on_refer answers refer_code) */
    hl_sip_dialog *d;
    int refers, refer_code;
    char refer_target[256], refer_user[128];
} app;

static int on_invite(void *a, hl_sip_dialog *d, const hl_sip_invite_info *info)
{
    app *ap = a;
    ap->invites++;
    if (ap->refuse_code) {
        if (ap->refuse_cause)
            hl_sip_dialog_refusal(d, ap->refuse_cause, 301, ap->refuse_warning);
        return ap->refuse_code;
    }
    hl_sip_dialog_set_app(d, ap);
    ap->d = d;
    hl_sdp local;
    hl_sdp_offer("127.0.0.1", 40000, &local);
    hl_sip_dialog_set_local_sdp(d, &local);
    hl_sip_dialog_answer(d);
    return 0;
}

static void on_invite_refused(void *a, const hl_sip_invite_info *info, int code, const char *cause)
{
    app *ap = a;
    ap->refused++;
    ap->refused_code = code;
    snprintf(ap->refused_cause, sizeof ap->refused_cause, "%s", cause);
    snprintf(ap->refused_call_id, sizeof ap->refused_call_id, "%s", info->call_id);
}

static void on_confirmed(void *ad, hl_sip_dialog *d) { ((app *)ad)->confirmed++; }

static void on_info_dtmf(void *ad, hl_sip_dialog *d, char digit, int ms)
{
    app *ap = ad;
    if (ap->dtmf_n < 15) {
        ap->digits[ap->dtmf_n] = digit;
        ap->durations[ap->dtmf_n] = ms;
        ap->dtmf_n++;
    }
}

static void on_terminated(void *ad, hl_sip_dialog *d, int code, const char *reason)
{
    if (ad)
        ((app *)ad)->terminated++;
}

static int on_refer(void *ad, hl_sip_dialog *d, const char *target, const char *user)
{
    app *ap = ad;
    ap->refers++;
    snprintf(ap->refer_target, sizeof ap->refer_target, "%s", target);
    snprintf(ap->refer_user, sizeof ap->refer_user, "%s", user);
    return ap->refer_code ? ap->refer_code : 202;
}

typedef struct rig {
    uv_loop_t uv;
    hl_sip *sip;
    int sock, port;
    app ap;
} rig;

/* Reads one response (or nothing) from our socket; returns its status code or 0. */
static int recv_status(rig *r, char *out, size_t outlen)
{
    for (int i = 0; i < 5; i++)
        uv_run(&r->uv, UV_RUN_NOWAIT);
    char buf[4096];
    ssize_t n = recv(r->sock, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    if (out)
        snprintf(out, outlen, "%s", buf);
    return strncmp(buf, "SIP/2.0 ", 8) == 0 ? atoi(buf + 8) : -1;
}

static int drain(rig *r)
{
    int n = 0;
    while (recv_status(r, NULL, 0) != 0)
        n++;
    return n;
}

static void inject(rig *r, const char *msg)
{
    hl_sip_inject(r->sip, "127.0.0.1", r->port, false, msg, strlen(msg));
}

static const char *SDP_OFFER =
    "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40002 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

/* Request in the test dialog: method, branch, CSeq, To tag, content type and body. */
static void req(rig *r, const char *method, const char *branch, int cseq, const char *totag,
                const char *ctype, const char *body)
{
    char m[4096];
    size_t bl = body ? strlen(body) : 0;
    snprintf(m, sizeof m,
             "%s sip:12333@127.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"
             "From: <sip:caller@127.0.0.1>;tag=ft1\r\n"
             "To: <sip:12333@127.0.0.1>%s%s\r\n"
             "Call-ID: sipmsg-test-1\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n"
             "Contact: <sip:caller@127.0.0.1:%d>\r\n"
             "%s%s%sContent-Length: %zu\r\n\r\n%s",
             method, r->port, branch, totag ? ";tag=" : "", totag ? totag : "", cseq,
             strcmp(method, "ACK") == 0 ? "ACK" : method, r->port, ctype ? "Content-Type: " : "",
             ctype ? ctype : "", ctype ? "\r\n" : "", bl, body ? body : "");
    inject(r, m);
}

static int rig_open(rig *r)
{
    memset(r, 0, sizeof *r);
    uv_loop_init(&r->uv);
    r->sock = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    if (r->sock < 0 || bind(r->sock, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(r->sock, (struct sockaddr *)&sa, &sl) < 0)
        return -1;
    fcntl(r->sock, F_SETFL, O_NONBLOCK);
    r->port = ntohs(sa.sin_port);
    hl_sip_cfg cfg = { .addr = "127.0.0.1", .port = 0, .rate_per_sec = 0, .max_message = 4096,
                       .user_agent = "test_sipmsg" };
    hl_sip_callbacks cb = { .on_invite = on_invite, .on_invite_refused = on_invite_refused,
                            .on_confirmed = on_confirmed, .on_info_dtmf = on_info_dtmf,
                            .on_terminated = on_terminated, .on_refer = on_refer };
    r->sip = hl_sip_new(&r->uv, &cfg, &cb, &r->ap);
    return r->sip ? 0 : -1;
}

static void rig_done(void *arg) { (void)arg; }

static void rig_close(rig *r)
{
    hl_sip_shutdown(r->sip, rig_done, NULL);
    uv_run(&r->uv, UV_RUN_DEFAULT);
    uv_loop_close(&r->uv);
    close(r->sock);
}

/* The To tag our 200 carries. */
static void to_tag_of(const char *resp, char *tag, size_t n)
{
    const char *to = strstr(resp, "\r\nTo: ");
    const char *t = to ? strstr(to, ";tag=") : NULL;
    size_t i = 0;
    if (t)
        for (t += 5; *t && *t != '\r' && *t != ';' && i + 1 < n; t++)
            tag[i++] = *t;
    tag[i] = 0;
}

static void test_stack(void)
{
    rig r;
    if (rig_open(&r) < 0) {
        CHECK(!"cannot open the test stack");
        return;
    }
    char resp[4096], tag[64];
    /* a malformed request gets 400 with the reason, built from raw text; another version
     * of SIP 505 (RFC 3261 21.5.6) */
    inject(&r, "OPTIONS sip:x@127.0.0.1 SIP/2.0 \r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKm\r\n"
               "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: m1\r\nCSeq: 1 OPTIONS\r\n\r\n");
    CHECK(recv_status(&r, resp, sizeof resp) == 400 && strstr(resp, "not SIP/2.0"));
    inject(&r, "OPTIONS sip:x@127.0.0.1 SIP/1.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKm\r\n"
               "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: m1\r\nCSeq: 1 OPTIONS\r\n\r\n");
    CHECK(recv_status(&r, resp, sizeof resp) == 505 && strstr(resp, "505 Version Not Supported"));
    /* a message over max_message (4096) */
    char big[6000];
    memset(big, 'x', sizeof big);
    hl_sip_inject(r.sip, "127.0.0.1", r.port, false, big, sizeof big);
    CHECK(recv_status(&r, NULL, 0) == 0); /* not even a request line: dropped */

    /* call up: INVITE -> 100, 200; ACK */
    req(&r, "INVITE", "z9hG4bKinv1", 1, NULL, "application/sdp", SDP_OFFER);
    int st, got200 = 0;
    while ((st = recv_status(&r, resp, sizeof resp)) != 0)
        if (st == 200) {
            got200 = 1;
            to_tag_of(resp, tag, sizeof tag);
        }
    CHECK(got200 && r.ap.invites == 1 && tag[0]);
    req(&r, "ACK", "z9hG4bKack1", 1, tag, NULL, NULL);
    CHECK(drain(&r) == 0 && r.ap.confirmed == 1);

    /* INFO DTMF: dtmf-relay with and without Duration, plain dtmf, events 10/11 as numbers */
    req(&r, "INFO", "z9hG4bKi1", 2, tag, "application/dtmf-relay", "Signal=5\r\nDuration=250\r\n");
    CHECK(recv_status(&r, NULL, 0) == 200);
    req(&r, "INFO", "z9hG4bKi2", 3, tag, "application/dtmf-relay", "Signal= *\r\n");
    CHECK(recv_status(&r, NULL, 0) == 200);
    req(&r, "INFO", "z9hG4bKi3", 4, tag, "application/dtmf", "11");
    CHECK(recv_status(&r, NULL, 0) == 200);
    req(&r, "INFO", "z9hG4bKi4", 5, tag, "application/dtmf", "d");
    CHECK(recv_status(&r, NULL, 0) == 200);
    CHECK(r.ap.dtmf_n == 4 && memcmp(r.ap.digits, "5*#D", 4) == 0);
    CHECK(r.ap.durations[0] == 250 && r.ap.durations[1] == 160);
    /* bad bodies: 400; another type: 415; no body: 200 and no digit */
    req(&r, "INFO", "z9hG4bKi5", 6, tag, "application/dtmf-relay", "Duration=100\r\n");
    CHECK(recv_status(&r, resp, sizeof resp) == 400 && strstr(resp, "bad DTMF body"));
    req(&r, "INFO", "z9hG4bKi6", 7, tag, "application/dtmf", "X");
    CHECK(recv_status(&r, NULL, 0) == 400);
    req(&r, "INFO", "z9hG4bKi7", 8, tag, "text/plain", "5");
    CHECK(recv_status(&r, resp, sizeof resp) == 415 && strstr(resp, "Accept:"));
    req(&r, "INFO", "z9hG4bKi8", 9, tag, NULL, NULL);
    CHECK(recv_status(&r, NULL, 0) == 200);
    CHECK(r.ap.dtmf_n == 4);

    /* a retransmitted INFO is answered again from the retired transaction, not re-delivered */
    req(&r, "INFO", "z9hG4bKi1", 2, tag, "application/dtmf-relay", "Signal=5\r\nDuration=250\r\n");
    CHECK(recv_status(&r, NULL, 0) == 200);
    CHECK(r.ap.dtmf_n == 4);
    /* unknown dialog: 481; unsupported method: 405; unknown: 501 */
    req(&r, "INFO", "z9hG4bKi9", 10, "nosuchtag", "application/dtmf", "1");
    CHECK(recv_status(&r, NULL, 0) == 481);
    req(&r, "SUBSCRIBE", "z9hG4bKs1", 11, NULL, NULL, NULL);
    CHECK(recv_status(&r, NULL, 0) == 405);
    req(&r, "FOO", "z9hG4bKf1", 12, NULL, NULL, NULL);
    CHECK(recv_status(&r, NULL, 0) == 501);

    /* BYE ends the call; its retransmission gets the same 200; a late INVITE retransmission
     * of the ended call is absorbed (no new call, no answer) */
    req(&r, "BYE", "z9hG4bKbye1", 20, tag, NULL, NULL);
    CHECK(recv_status(&r, NULL, 0) == 200 && r.ap.terminated == 1);
    req(&r, "BYE", "z9hG4bKbye1", 20, tag, NULL, NULL);
    CHECK(recv_status(&r, NULL, 0) == 200 && r.ap.terminated == 1);
    req(&r, "INVITE", "z9hG4bKinv1", 1, NULL, "application/sdp", SDP_OFFER);
    CHECK(drain(&r) == 0 && r.ap.invites == 1);
    rig_close(&r);
}

/* A request with the given Max-Forwards value (NULL: no such header). */
static void mf_req(rig *r, const char *method, const char *branch, const char *mf)
{
    char m[2048];
    snprintf(m, sizeof m,
             "%s sip:12333@127.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"
             "From: <sip:caller@127.0.0.1>;tag=mf-%s\r\nTo: <sip:12333@127.0.0.1>\r\n"
             "Call-ID: mf-%s\r\nCSeq: 1 %s\r\n%s%s%s"
             "Contact: <sip:caller@127.0.0.1:%d>\r\nContent-Type: application/sdp\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             method, r->port, branch, branch, branch, method, mf ? "Max-Forwards: " : "",
             mf ? mf : "", mf ? "\r\n" : "", r->port, strlen(SDP_OFFER), SDP_OFFER);
    inject(r, m);
}

/* Final status of what the stack answered (skipping 100 Trying), 0 for nothing. */
static int final_status(rig *r, char *resp, size_t n)
{
    int st, fin = 0;
    while ((st = recv_status(r, resp, n)) != 0)
        if (st >= 200 && !fin)
            fin = st;
    return fin;
}

static void test_max_forwards(void)
{
    rig r;
    if (rig_open(&r) < 0) {
        CHECK(!"cannot open the test stack");
        return;
    }
    char resp[4096];
    /* out of hops: 483 with a To tag, and the app never sees the call */
    mf_req(&r, "INVITE", "z9hG4bKmf0", "0");
    int st = final_status(&r, resp, sizeof resp);
    CHECK(st == 483 && r.ap.invites == 0);
    CHECK(strstr(resp, "483 Too Many Hops") != NULL);
    char tag[64];
    to_tag_of(resp, tag, sizeof tag);
    CHECK(tag[0] != 0);
    /* its retransmission gets the same answer, still no call */
    mf_req(&r, "INVITE", "z9hG4bKmf0", "0");
    CHECK(final_status(&r, NULL, 0) == 483 && r.ap.invites == 0);
    /* any request, not just INVITE; OPTIONS is the exception RFC 3261 16.3 allows */
    mf_req(&r, "BYE", "z9hG4bKmf1", "0");
    CHECK(final_status(&r, NULL, 0) == 483);
    mf_req(&r, "OPTIONS", "z9hG4bKmf2", "0");
    CHECK(final_status(&r, NULL, 0) == 200);
    /* not a number: 400 saying why, no call */
    mf_req(&r, "INVITE", "z9hG4bKmf3", "lots");
    CHECK(final_status(&r, resp, sizeof resp) == 400 && r.ap.invites == 0);
    CHECK(strstr(resp, "Warning: 399 hotline \"bad Max-Forwards") != NULL);
    /* 1 hop left, or no header at all: an ordinary call */
    mf_req(&r, "INVITE", "z9hG4bKmf4", "1");
    CHECK(final_status(&r, NULL, 0) == 200 && r.ap.invites == 1);
    mf_req(&r, "INVITE", "z9hG4bKmf5", NULL);
    CHECK(final_status(&r, NULL, 0) == 200 && r.ap.invites == 2);
    rig_close(&r);
}

/* A request from a fresh Call-ID to Request-URI sip:12333@127.0.0.1 (NULL) or ruri: method,
 * branch, an extra header line ("" for none), an SDP body (NULL for none) or, when ctype is
 * set, a body of that type; the Call-ID is "rfc-<branch>". */
static void rfc_req_to(rig *r, const char *ruri, const char *method, const char *branch,
                       const char *extra, const char *ctype, const char *body)
{
    char m[2048];
    snprintf(m, sizeof m,
             "%s %s SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"
             "From: <sip:caller@127.0.0.1>;tag=rfc-%s\r\nTo: <sip:12333@127.0.0.1>\r\n"
             "Call-ID: rfc-%s\r\nCSeq: 1 %s\r\n%s"
             "Contact: <sip:caller@127.0.0.1:%d>\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
             method, ruri ? ruri : "sip:12333@127.0.0.1", r->port, branch, branch, branch, method,
             extra, r->port, body ? "Content-Type: " : "",
             body ? (ctype ? ctype : "application/sdp") : "", body ? "\r\n" : "",
             body ? strlen(body) : 0, body ? body : "");
    inject(r, m);
}

static void rfc_req(rig *r, const char *method, const char *branch, const char *extra,
                    const char *sdp)
{
    rfc_req_to(r, NULL, method, branch, extra, NULL, sdp);
}

/* Item 4 of issue 7 through the stack: what each malformed class is answered, and that
 * every new INVITE refused before a call exists is reported (for its CDR) with a cause. */
static void test_rfc_answers(void)
{
    rig r;
    if (rig_open(&r) < 0) {
        CHECK(!"cannot open the test stack");
        return;
    }
    char resp[4096];
    /* no Call-ID: 400 naming it, by the Via; no call, and no CDR (nothing to key it by) */
    inject(&r, "INVITE sip:12333@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnc\r\n"
               "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    CHECK(final_status(&r, resp, sizeof resp) == 400 && strstr(resp, "SIP/2.0 400 Missing Call-ID\r\n"));
    CHECK(r.ap.invites == 0 && r.ap.refused == 0);
    /* an ACK for a dialog we do not have: no answer (RFC 3261 17.2.3); a BYE: 481 */
    rfc_req(&r, "ACK", "z9hG4bKack9", "", NULL);
    CHECK(final_status(&r, NULL, 0) == 0);
    inject(&r, "BYE sip:12333@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKb9\r\n"
               "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=nosuch\r\nCall-ID: b9\r\nCSeq: 2 BYE\r\n\r\n");
    CHECK(final_status(&r, NULL, 0) == 481);
    /* an unknown method, even with Max-Forwards 0: 501 with Allow */
    rfc_req(&r, "NEWMETHOD", "z9hG4bKnm0", "Max-Forwards: 0\r\n", NULL);
    CHECK(final_status(&r, resp, sizeof resp) == 501 && strstr(resp, "\r\nAllow: "));
    /* malformed SDP: 488 with the reason, reported as 488-bad-sdp */
    rfc_req(&r, "INVITE", "z9hG4bKsdp", "",
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio x RTP/AVP 0\r\n");
    CHECK(final_status(&r, resp, sizeof resp) == 488 && strstr(resp, "Warning: 399 hotline"));
    CHECK(r.ap.invites == 0 && r.ap.refused == 1 && r.ap.refused_code == 488 &&
          strcmp(r.ap.refused_cause, "488-bad-sdp") == 0 && strcmp(r.ap.refused_call_id, "rfc-z9hG4bKsdp") == 0);
    /* the application's refusal, named: its Warning goes out, its cause is reported */
    r.ap.refuse_code = 488;
    r.ap.refuse_cause = "488-ipv6";
    r.ap.refuse_warning = "Incompatible network address \"formats\"";
    rfc_req(&r, "INVITE", "z9hG4bKv6", "", SDP_OFFER);
    CHECK(final_status(&r, resp, sizeof resp) == 488);
    CHECK(strstr(resp, "Warning: 301 hotline \"Incompatible network address 'formats'\"") != NULL);
    CHECK(r.ap.refused == 2 && strcmp(r.ap.refused_cause, "488-ipv6") == 0);
    /* ... and unnamed: the status is the cause */
    r.ap.refuse_code = 486;
    r.ap.refuse_cause = NULL;
    rfc_req(&r, "INVITE", "z9hG4bKbusy", "", SDP_OFFER);
    CHECK(final_status(&r, resp, sizeof resp) == 486 && !strstr(resp, "Warning:"));
    CHECK(r.ap.refused == 3 && strcmp(r.ap.refused_cause, "486") == 0);
    /* its retransmission is absorbed: no second report */
    rfc_req(&r, "INVITE", "z9hG4bKbusy", "", SDP_OFFER);
    CHECK(final_status(&r, NULL, 0) == 486 && r.ap.refused == 3 && r.ap.invites == 2);
    /* what we cannot do at all (RFC 3261 8.2.2, 8.2.3): a Request-URI scheme (416, RFC 4475
     * 3.3.2), a required extension (420 listing it as Unsupported, 3.3.5), a body type (415
     * with Accept, 3.3.6); a new INVITE's refusal is reported with its cause */
    rfc_req_to(&r, "nobodyknows:opaque", "OPTIONS", "z9hG4bKsc1", "", NULL, NULL);
    CHECK(final_status(&r, resp, sizeof resp) == 416);
    rfc_req_to(&r, "urn:x-odd:12333", "INVITE", "z9hG4bKsc2", "", NULL, SDP_OFFER);
    CHECK(final_status(&r, resp, sizeof resp) == 416 && r.ap.refused == 4 &&
          strcmp(r.ap.refused_cause, "416-uri-scheme") == 0);
    rfc_req_to(&r, "tel:+8643112333", "OPTIONS", "z9hG4bKsc3", "", NULL, NULL);
    CHECK(final_status(&r, NULL, 0) == 200);
    rfc_req(&r, "OPTIONS", "z9hG4bKrq1", "Require: foo, bar\r\nRequire: baz\r\n", NULL);
    CHECK(final_status(&r, resp, sizeof resp) == 420 && strstr(resp, "\r\nUnsupported: foo, bar, baz\r\n"));
    rfc_req(&r, "INVITE", "z9hG4bKrq2", "Require: 100rel\r\n", SDP_OFFER);
    CHECK(final_status(&r, resp, sizeof resp) == 420 && strstr(resp, "\r\nUnsupported: 100rel\r\n"));
    CHECK(r.ap.refused == 5 && strcmp(r.ap.refused_cause, "420-require") == 0);
    rfc_req(&r, "OPTIONS", "z9hG4bKrq3", "Supported: 100rel\r\nProxy-Require: foo\r\n", NULL);
    CHECK(final_status(&r, NULL, 0) == 200);
    rfc_req_to(&r, NULL, "INVITE", "z9hG4bKct1", "", "text/x-nobody-knows", "hello");
    CHECK(final_status(&r, resp, sizeof resp) == 415 && strstr(resp, "\r\nAccept: application/sdp\r\n"));
    CHECK(r.ap.refused == 6 && strcmp(r.ap.refused_cause, "415-body-type") == 0);
    CHECK(r.ap.invites == 2);

    /* a re-INVITE moving the media to IPv6: 488 with Warning 301, the call goes on as it was */
    char tag[64];
    r.ap.refuse_code = 0;
    req(&r, "INVITE", "z9hG4bKre1", 1, NULL, "application/sdp", SDP_OFFER);
    CHECK(final_status(&r, resp, sizeof resp) == 200);
    to_tag_of(resp, tag, sizeof tag);
    req(&r, "ACK", "z9hG4bKre2", 1, tag, NULL, NULL);
    CHECK(drain(&r) == 0 && r.ap.confirmed == 1);
    req(&r, "INVITE", "z9hG4bKre3", 2, tag, "application/sdp",
        "v=0\r\no=a 1 2 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n");
    CHECK(final_status(&r, resp, sizeof resp) == 488 && strstr(resp, "Warning: 301 hotline"));
    req(&r, "ACK", "z9hG4bKre3", 2, tag, NULL, NULL);
    req(&r, "BYE", "z9hG4bKre4", 3, tag, NULL, NULL);
    CHECK(final_status(&r, NULL, 0) == 200 && r.ap.terminated == 1);

    /* a valid message, folded and spaced every way RFC 3261 7.3.1 allows (after RFC 4475
     * 3.1.1.1): answered as any INVITE */
    char tort[2048];
    snprintf(tort, sizeof tort,
             "INVITE sip:12333@127.0.0.1 SIP/2.0\r\n"
             "To :\r\n <sip:12333@127.0.0.1>\r\n"
             "from   : \"Tortuous \\\"Caller\\\"\" <sip:caller@127.0.0.1>\r\n  ;tag = tt1\r\n"
             "Max-Forwards: 0068\r\nCall-ID: tort-1\r\n"
             "Content-Length   : %zu\r\n"
             "cseq: 0012\r\n  INVITE\r\n"
             "Via  : SIP  /   2.0\r\n /UDP\r\n    127.0.0.1:%d;branch=z9hG4bKtort\r\n"
             "Subject:\r\nX-New: value\r\n continued value\r\n"
             "Contact: <sip:caller@127.0.0.1:%d>\r\nContent-Type: application/sdp\r\n\r\n%s",
             strlen(SDP_OFFER), r.port, r.port, SDP_OFFER);
    size_t ml;
    hl_sipmsg_fault tf;
    CHECK(hl_sipmsg_check(tort, strlen(tort), 65535, &ml, &tf) == 0);
    inject(&r, tort);
    CHECK(final_status(&r, resp, sizeof resp) == 200 && r.ap.invites == 4);
    rig_close(&r);
}

/* Runs osip_message_parse on text with fd 1 and 2 redirected to files; returns what each got. */
static void parse_captured(const char *text, char *out, size_t outn, char *err, size_t errn)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    osip_message_t *m = NULL;
    osip_message_init(&m);
    osip_message_parse(m, text, strlen(text));
    osip_message_free(m);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    size_t n;
    rewind(fo);
    n = fread(out, 1, outn - 1, fo);
    out[n] = 0;
    rewind(fe);
    n = fread(err, 1, errn - 1, fe);
    err[n] = 0;
    fclose(fo);
    fclose(fe);
}

/* libosip2's own trace ("| ERROR | ... <osip_messa: 592> End of header Not found", printed
 * on stdout by default) goes to the engine's log once a stack exists: as debug, since the
 * stack answers such a message with 400 and logs the reason itself. */
static void test_osip_trace(void)
{
    rig r;
    if (rig_open(&r) < 0) {
        CHECK(!"cannot open the test stack");
        return;
    }
    const char *broken = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: x";
    char out[4096], err[4096];
    hl_log_set_level(HL_LOG_DEBUG);
    parse_captured(broken, out, sizeof out, err, sizeof err);
    CHECK(out[0] == 0);
    CHECK(strstr(err, "| ERROR |") == NULL);
    CHECK(strstr(err, "DEBUG") && strstr(err, "osip: ") && strstr(err, "End of header"));
    /* at the usual levels it is not shown at all */
    hl_log_set_level(HL_LOG_INFO);
    parse_captured(broken, out, sizeof out, err, sizeof err);
    CHECK(out[0] == 0 && err[0] == 0);
    hl_log_set_level(HL_LOG_ERROR);
    rig_close(&r);
}

/* ------------------------------------------------------------------ agents' phones (issue 8) */

/* The value of header name (any case: libosip2 writes "X-hotline-route") in a message's
 * text, "" when absent, up to the line's end. */
static void header_of(const char *msg, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    out[0] = 0;
    for (const char *l = strstr(msg, "\r\n"); l && l[2] && !(l[2] == '\r'); l = strstr(l + 2, "\r\n"))
        if (!strncasecmp(l + 2, name, nl) && l[2 + nl] == ':') {
            const char *v = l + 3 + nl + strspn(l + 3 + nl, " ");
            snprintf(out, n, "%.*s", (int)strcspn(v, "\r\n"), v);
            return;
        }
}

/* Answers a request the stack sent to our socket with code (To tag added), by injecting. */
static void reply(rig *r, const char *request, int code, const char *phrase)
{
    char via[256], from[256], to[256], cid[128], cseq[64], m[2048];
    header_of(request, "Via", via, sizeof via);
    header_of(request, "From", from, sizeof from);
    header_of(request, "To", to, sizeof to);
    header_of(request, "Call-ID", cid, sizeof cid);
    header_of(request, "CSeq", cseq, sizeof cseq);
    snprintf(m, sizeof m, "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s\r\nCall-ID: %s\r\n"
             "CSeq: %s\r\nContent-Length: 0\r\n\r\n", code, phrase, via, from, to,
             strstr(to, ";tag=") ? "" : ";tag=phone1", cid, cseq);
    inject(r, m);
}

/* Waits (bounded) for the next message on our socket; its status, -1 for a request, 0 none. */
static int next_msg(rig *r, char *out, size_t n)
{
    for (int i = 0; i < 50; i++) {
        int st = recv_status(r, out, n);
        if (st)
            return st;
        usleep(2000);
    }
    return 0;
}

/* dial_agent's INVITE (app/leg_sip.c builds the options, the stack the message): sent to
 * the registered source whatever the Contact's host, the caller's number and name in From
 * and P-Asserted-Identity, the X-Hotline- headers, nothing a header value could inject. */
static void test_agent_invite(void)
{
    rig r;
    if (rig_open(&r) < 0) {
        CHECK(!"cannot open the test stack");
        return;
    }
    hl_dial_agent_opts o = { .from_user = "13904310000", .display = "Wang \"Xiao\" Er",
                             .route = "queue:0431.general\r\nEvil: 1", .queue = "0431.general",
                             .waited_ms = 41600 };
    char wait_s[16], dest[64], msg[4096], v[256];
    hl_sip_invite_opts io;
    hl_leg_sip_agent_invite_opts(&o, "ignored", "1790000000000-abcd", wait_s, &io);
    snprintf(dest, sizeof dest, "127.0.0.1:%d/udp", r.port);
    io.dest = dest;
    hl_sdp offer;
    hl_sdp_offer("127.0.0.1", 40010, &offer);
    /* the Contact names another host: the INVITE still goes only to dest (our socket) */
    hl_sip_dialog *d = hl_sip_invite_ex(r.sip, "sip:2001@198.51.100.7:5999", &offer, &io, NULL);
    CHECK(d != NULL);
    int st;
    while ((st = next_msg(&r, msg, sizeof msg)) != 0 && strncmp(msg, "INVITE ", 7) != 0)
        ;
    CHECK(st == -1 && !strncmp(msg, "INVITE sip:2001@198.51.100.7:5999 SIP/2.0\r\n", 43),
          "the INVITE reached the registered source with the Contact as Request-URI");
    header_of(msg, "From", v, sizeof v);
    CHECK(!strncmp(v, "\"Wang \\\"Xiao\\\" Er\" <sip:13904310000@127.0.0.1:", 46), "From: %s", v);
    header_of(msg, "P-Asserted-Identity", v, sizeof v);
    CHECK(!strcmp(v, "\"Wang \\\"Xiao\\\" Er\" <sip:13904310000@127.0.0.1>"), "PAI: %s", v);
    header_of(msg, "X-Hotline-Route", v, sizeof v);
    CHECK(!strcmp(v, "queue:0431.generalEvil: 1"), "route, CR LF dropped: %s", v);
    header_of(msg, "Evil", v, sizeof v);
    CHECK(!v[0], "no header injected");
    header_of(msg, "X-Hotline-Queue", v, sizeof v);
    CHECK(!strcmp(v, "0431.general"));
    header_of(msg, "X-Hotline-Wait", v, sizeof v);
    CHECK(!strcmp(v, "42"), "the wait in seconds: %s", v);
    header_of(msg, "X-Hotline-Call", v, sizeof v);
    CHECK(!strcmp(v, "1790000000000-abcd"), "the call's id: %s", v);
    reply(&r, msg, 486, "Busy Here");
    drain(&r);

    /* a number that is none, no wait known, no route: "anonymous", those headers absent */
    hl_dial_agent_opts bare = { .waited_ms = -1 };
    hl_leg_sip_agent_invite_opts(&bare, "0431 8888", "c2", wait_s, &io);
    CHECK(!strcmp(io.from_user, "anonymous") && io.n_headers == 1 &&
          !strcmp(io.headers[0].name, "X-Hotline-Call"), "only the call id: %d", io.n_headers);
    io.dest = "127.0.0.1:notaport/udp";
    CHECK(hl_sip_invite_ex(r.sip, "sip:2001@127.0.0.1", &offer, &io, NULL) == NULL,
          "a source that is no address: nothing sent");
    rig_close(&r);
}

/* A REFER from the far end in a confirmed dialog: 202, NOTIFY 100 Trying, the target to
 * the application; the outcome's NOTIFY ends the subscription; refusals. */
static void test_refer(void)
{
    rig r;
    if (rig_open(&r) < 0) {
        CHECK(!"cannot open the test stack");
        return;
    }
    char resp[4096], tag[64] = "", v[256];
    req(&r, "INVITE", "z9hG4bKrinv", 1, NULL, "application/sdp", SDP_OFFER);
    int st;
    while ((st = recv_status(&r, resp, sizeof resp)) != 0)
        if (st == 200)
            to_tag_of(resp, tag, sizeof tag);
    req(&r, "ACK", "z9hG4bKrack", 1, tag, NULL, NULL);
    drain(&r);
    CHECK(tag[0] && r.ap.confirmed == 1);

    char extra[512], m[4096];
    const char *refer_fmt = "REFER sip:12333@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"
        "From: <sip:caller@127.0.0.1>;tag=ft1\r\nTo: <sip:12333@127.0.0.1>;tag=%s\r\n"
        "Call-ID: sipmsg-test-1\r\nCSeq: %d REFER\r\nMax-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n";
    snprintf(extra, sizeof extra, "Refer-To: \"Queue\" <sip:0431%%2Egeneral@127.0.0.1;user=phone?Replaces=x>\r\n");
    snprintf(m, sizeof m, refer_fmt, r.port, "z9hG4bKref1", tag, 2, extra);
    inject(&r, m);
    CHECK(next_msg(&r, resp, sizeof resp) == 202, "REFER accepted");
    CHECK(r.ap.refers == 1 && !strcmp(r.ap.refer_target, "sip:0431%2Egeneral@127.0.0.1;user=phone") &&
          !strcmp(r.ap.refer_user, "0431.general"), "target %s user %s", r.ap.refer_target, r.ap.refer_user);
    CHECK(next_msg(&r, resp, sizeof resp) == -1 && !strncmp(resp, "NOTIFY ", 7));
    header_of(resp, "Event", v, sizeof v);
    CHECK(!strcmp(v, "refer"));
    CHECK(strstr(resp, "\r\n\r\nSIP/2.0 100 Trying") && strstr(resp, "message/sipfrag"), "%s", resp);
    reply(&r, resp, 200, "OK");

    /* a second one while the first has no outcome: 491 */
    snprintf(m, sizeof m, refer_fmt, r.port, "z9hG4bKref2", tag, 3, extra);
    inject(&r, m);
    CHECK(next_msg(&r, NULL, 0) == 491);
    CHECK(hl_sip_dialog_refer_notify(r.ap.d, 200) == 0);
    CHECK(next_msg(&r, resp, sizeof resp) == -1 && strstr(resp, "\r\n\r\nSIP/2.0 200 OK") &&
          (header_of(resp, "Subscription-State", v, sizeof v), !strncmp(v, "terminated", 10)),
          "the outcome: %s", resp);
    reply(&r, resp, 200, "OK");
    CHECK(hl_sip_dialog_refer_notify(r.ap.d, 200) == -1, "one outcome per REFER");

    /* no Refer-To, or no SIP URI in it: 400; the application refusing: its code */
    snprintf(m, sizeof m, refer_fmt, r.port, "z9hG4bKref3", tag, 4, "");
    inject(&r, m);
    CHECK(next_msg(&r, NULL, 0) == 400);
    snprintf(m, sizeof m, refer_fmt, r.port, "z9hG4bKref4", tag, 5, "Refer-To: <http://x>\r\n");
    inject(&r, m);
    CHECK(next_msg(&r, NULL, 0) == 400);
    r.ap.refer_code = 403;
    snprintf(m, sizeof m, refer_fmt, r.port, "z9hG4bKref5", tag, 6, "Refer-To: <sip:1002@127.0.0.1>\r\n");
    inject(&r, m);
    CHECK(next_msg(&r, NULL, 0) == 403 && !strcmp(r.ap.refer_user, "1002"));
    /* outside any dialog: 481 */
    snprintf(m, sizeof m, refer_fmt, r.port, "z9hG4bKref6", "nosuchtag", 7, "Refer-To: <sip:1002@127.0.0.1>\r\n");
    inject(&r, m);
    CHECK(next_msg(&r, NULL, 0) == 481);
    req(&r, "BYE", "z9hG4bKrbye", 20, tag, NULL, NULL);
    drain(&r);
    rig_close(&r);
}

static int ping_code = -1, pings;
static void on_ping(void *arg, hl_sip_ping *p, int code)
{
    pings++;
    ping_code = code;
}

/* Qualify: OPTIONS to the registered source; the answer's code comes back once; a
 * cancelled ping tells nothing. */
static void test_ping(void)
{
    rig r;
    if (rig_open(&r) < 0) {
        CHECK(!"cannot open the test stack");
        return;
    }
    char dest[64], msg[4096];
    snprintf(dest, sizeof dest, "127.0.0.1:%d/udp", r.port);
    CHECK(hl_sip_options_ping(r.sip, "sip:2001@127.0.0.1:5060", dest, on_ping, NULL) != NULL);
    CHECK(next_msg(&r, msg, sizeof msg) == -1 && !strncmp(msg, "OPTIONS sip:2001@127.0.0.1:5060 ", 32));
    reply(&r, msg, 404, "Not Found");
    drain(&r);
    CHECK(pings == 1 && ping_code == 404, "any answer means alive: %d %d", pings, ping_code);
    hl_sip_ping *p = hl_sip_options_ping(r.sip, "sip:2001@127.0.0.1:5060", dest, on_ping, NULL);
    CHECK(next_msg(&r, msg, sizeof msg) == -1);
    hl_sip_ping_cancel(p);
    reply(&r, msg, 200, "OK");
    drain(&r);
    CHECK(pings == 1, "a cancelled ping tells nothing");
    CHECK(hl_sip_options_ping(r.sip, "sip:2001@127.0.0.1", "nowhere", on_ping, NULL) == NULL);
    /* one never answered is told (code 0) when the stack shuts down */
    CHECK(hl_sip_options_ping(r.sip, "sip:2001@127.0.0.1:5060", dest, on_ping, NULL) != NULL);
    rig_close(&r);
    CHECK(pings == 2 && ping_code == 0, "unanswered at shutdown: %d %d", pings, ping_code);
}

/* Each test runs in a process of its own: each hides the warnings the stack logs on purpose. */
static int quietly(void (*test)(void))
{
    hl_log_set_level(HL_LOG_ERROR);
    test();
    return 0;
}

TEST_IMPL(sipmsg_start_lines)    { return quietly(test_start_lines); }
TEST_IMPL(sipmsg_headers)        { return quietly(test_headers); }
TEST_IMPL(sipmsg_content_length) { return quietly(test_content_length); }
TEST_IMPL(sipmsg_raw_response)   { return quietly(test_raw_response); }
TEST_IMPL(sipmsg_rate)           { return quietly(test_rate); }
TEST_IMPL(sipmsg_stack)          { return quietly(test_stack); }
TEST_IMPL(sipmsg_max_forwards)   { return quietly(test_max_forwards); }
TEST_IMPL(sipmsg_rfc_answers)    { return quietly(test_rfc_answers); }
TEST_IMPL(sipmsg_osip_trace)     { return quietly(test_osip_trace); }
TEST_IMPL(sipmsg_agent_invite)   { return quietly(test_agent_invite); }
TEST_IMPL(sipmsg_refer)          { return quietly(test_refer); }
TEST_IMPL(sipmsg_ping)           { return quietly(test_ping); }
