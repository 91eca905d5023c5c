/* test_trunks.c — rules/trunks.lua's mechanics (core/trunks.c): networks (CIDR, IPv4 and
 * IPv6), number patterns, the user and host of URIs, the strict reading of the file (errors
 * with file:line), the built-in loopback trunk without a file, and the repository's own
 * rules/trunks.lua: accepted, and its dial rules refuse what the issue saw dialled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/trunks.h"
#include "sip/sip_int.h"

#include "unit.h"

static bool in_net(const char *net, const char *addr)
{
    hl_cidr c;
    uint8_t ip[16];
    if (hl_cidr_parse(net, &c) != 0 || hl_ip16_from_text(addr, ip) != 0) {
        FAIL("cannot parse %s or %s", net, addr);
        return false;
    }
    return hl_cidr_contains(&c, ip);
}

TEST_IMPL(trunks_cidr)
{
    CHECK(in_net("127.0.0.0/8", "127.0.0.1") && in_net("127.0.0.0/8", "127.255.0.2"));
    CHECK(!in_net("127.0.0.0/8", "128.0.0.1"));
    CHECK(in_net("127.0.0.1", "127.0.0.1") && !in_net("127.0.0.1", "127.0.0.2"), "an address is a /32");
    CHECK(in_net("10.1.2.0/23", "10.1.3.255") && !in_net("10.1.2.0/23", "10.1.4.0"), "a prefix across a byte");
    CHECK(in_net("10.1.2.3/16", "10.1.200.1"), "host bits in the network are ignored");
    CHECK(in_net("0.0.0.0/0", "192.0.2.1"), "/0 is every IPv4 address");
    CHECK(!in_net("0.0.0.0/0", "2001:db8::1"), "... and no IPv6 one");
    CHECK(in_net("::1", "::1") && !in_net("::1", "::2"));
    CHECK(in_net("2001:db8::/32", "2001:db8:ffff::1") && !in_net("2001:db8::/32", "2001:db9::1"));
    CHECK(in_net("2001:db8::/127", "2001:db8::1") && !in_net("2001:db8::/127", "2001:db8::2"));
    CHECK(in_net("::ffff:0:0/96", "192.0.2.1"), "IPv4 is v4-mapped IPv6");
    hl_cidr c;
    const char *bad[] = { "", "/8", "127.0.0.1/33", "::1/129", "10.0.0.0/", "10.0.0.0/x",
                          "10.0.0.256", "host.example", "10.0.0.0/8/8", "-1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(hl_cidr_parse(bad[i], &c) != 0, "'%s' refused", bad[i]);
    return 0;
}

TEST_IMPL(trunks_patterns)
{
    struct { const char *p, *n; bool match; } cases[] = {
        { "12333", "12333", true }, { "12333", "123334", false }, { "12333", "1233", false },
        { "043[1-9]XXXXXXX", "04318888666", true }, { "043[1-9]XXXXXXX", "04308888666", false },
        { "043[1-9]XXXXXXX", "043188886666", false }, { "043[1-9]XXXXXXXX", "043188886666", true },
        { "1[3-9]XXXXXXXXX", "13800138000", true }, { "1[3-9]XXXXXXXXX", "12800138000", false },
        { "1[3-9]XXXXXXXXX", "1380013800", false }, { "[135-7]", "6", true }, { "[135-7]", "4", false },
        { "Z", "0", false }, { "Z", "1", true }, { "N", "1", false }, { "N", "2", true },
        { "X", "a", false }, { "+86.", "+8613800138000", true }, { "+86.", "+86", false },
        { "+86!", "+86", true }, { "!", "", true }, { "!", "anything", true }, { ".", "", false },
        { "*99#", "*99#", true }, { "[0-9]", "a", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(hl_number_pattern_valid(cases[i].p), "'%s' is a valid pattern", cases[i].p);
        CHECK(hl_number_match(cases[i].p, cases[i].n) == cases[i].match, "'%s' against '%s': %s expected",
              cases[i].p, cases[i].n, cases[i].match ? "match" : "no match");
    }
    const char *bad[] = { "", "1.2", "!1", "[", "[]", "[1-]", "[-1]", "[9-1]", "[a]", "1]", "1 2",
                          "0123456789012345678901234567890123456789012345678901234567890123456789" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!hl_number_pattern_valid(bad[i]), "'%s' refused", bad[i]);
    return 0;
}

static bool parts(const char *uri, const char *user, const char *host)
{
    char u[64], h[64];
    if (hl_uri_user_host(uri, u, sizeof u, h, sizeof h) != 0)
        return false;
    if (strcmp(u, user) || strcmp(h, host)) {
        FAIL("%s: user '%s' host '%s', expected '%s' '%s'", uri, u, h, user, host);
        return false;
    }
    return true;
}

TEST_IMPL(trunks_uri)
{
    CHECK(parts("sip:12333@127.0.0.1:5060", "12333", "127.0.0.1"));
    CHECK(parts("sip:043188886666@fax-gateway.example;user=phone", "043188886666", "fax-gateway.example"));
    CHECK(parts("sip:0086123@[::1]:5070", "0086123", "::1"));
    CHECK(parts("sip:gw.example", "", "gw.example"));
    CHECK(parts("\"Zhang\" <sip:+8613800138000@carrier.example>;tag=1", "+8613800138000", "carrier.example"));
    CHECK(parts("<tel:+8643188881234;phone-context=x>", "+8643188881234", ""));
    CHECK(parts("sip:alice:secret@h.example", "alice", "h.example"));
    char u[8], h[8];
    CHECK(hl_uri_user_host("mailto:x@y", u, sizeof u, h, sizeof h) == -1);
    return 0;
}

static char dir[] = "/tmp/hl-test-trunks-XXXXXX";

/* Writes text as dir/trunks.lua and loads it; NULL with the message in err. */
static hl_trunks *load(const char *text, char *err, int errlen)
{
    char path[600];
    snprintf(path, sizeof path, "%s/trunks.lua", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    err[0] = 0;
    return hl_trunks_load(dir, err, errlen);
}

/* The text is refused, with a message naming line `line` and holding `what`. */
static void refused(const char *text, int line, const char *what)
{
    char err[1024], where[64];
    hl_trunks *t = load(text, err, sizeof err);
    CHECK(!t, "accepted: %s", text);
    hl_trunks_free(t);
    snprintf(where, sizeof where, "trunks.lua:%d:", line);
    CHECK(strstr(err, where) && strstr(err, what), "'%s' should name %s and say '%s'", err, where, what);
}

static bool ip_of(const char *s, uint8_t ip[16]) { return hl_ip16_from_text(s, ip) == 0; }

TEST_IMPL(trunks_load)
{
    if (!mkdtemp(dir))
        return 1;
    char err[1024];
    uint8_t ip[16];
    /* no file: the built-in loopback trunk, in and out */
    hl_trunks *t = hl_trunks_load(dir, err, sizeof err);
    CHECK(t && t->builtin && ip_of("127.0.0.2", ip) && hl_trunks_by_source(t, ip));
    CHECK(t && ip_of("::1", ip) && hl_trunks_by_source(t, ip));
    CHECK(t && ip_of("192.0.2.1", ip) && !hl_trunks_by_source(t, ip), "nothing beyond this machine calls in");
    CHECK(t && hl_trunks_by_host(t, "127.0.0.1") && !hl_trunks_by_host(t, "gw.example"),
          "... and nothing beyond it is dialled");
    CHECK(t && hl_trunks_dial_rule(t, "fax") && hl_trunks_dial_rule(t, "anything"));
    hl_trunks_free(t);

    t = load("return {\n"
             "  trunks = {\n"
             "    { name = \"sbc\", sources = { \"192.0.2.0/24\", \"2001:db8::1\" }, deliver = { \"12333\" },\n"
             "      trust_pai = true, rate_per_sec = 50 },\n"
             "    { name = \"gw\", hosts = { \"*.gw.example\", \"fax.example\" }, srv = true },\n"
             "    { name = \"second\", sources = { \"192.0.2.7\" } },\n"
             "  },\n"
             "  dial = {\n"
             "    fax = { numbers = { \"043[1-9]XXXXXXX\" }, per_caller_day = 2, reason = \"r\" },\n"
             "  },\n"
             "}\n", err, sizeof err);
    CHECK(t, "%s", err);
    if (!t)
        return 1;
    const hl_trunk *k = ip_of("192.0.2.7", ip) ? hl_trunks_by_source(t, ip) : NULL;
    CHECK(k && !strcmp(k->name, "sbc") && k->line == 3, "the first trunk listing a source takes it");
    CHECK(k && k->trust_pai && k->rate_per_sec == 50 && hl_number_list_match(&k->deliver, "12333") &&
          !hl_number_list_match(&k->deliver, "12345"));
    CHECK(ip_of("2001:db8::1", ip) && hl_trunks_by_source(t, ip));
    CHECK(ip_of("127.0.0.1", ip) && !hl_trunks_by_source(t, ip), "a file replaces the built-in loopback");
    k = hl_trunks_by_host(t, "a.gw.example");
    CHECK(k && k->srv && ip_of("192.0.2.7", ip) && !hl_trunks_by_source(t, ip)->srv,
          "srv = true read, false by default");
    CHECK(k && !strcmp(k->name, "gw") && !hl_trunks_by_host(t, "gw.example") &&
          hl_trunks_by_host(t, "FAX.example") && hl_trunks_by_host(t, "192.0.2.9") &&
          !hl_trunks_by_host(t, "evil.example"));
    const hl_dial_rule *d = hl_trunks_dial_rule(t, "fax");
    CHECK(d && d->per_caller_day == 2 && d->line == 9 && !hl_trunks_dial_rule(t, "transfer"));
    hl_trunks_free(t);

    refused("return {\n  trunk = {} }\n", 2, "unknown field 'trunk'");
    refused("return {\n trunks = {\n  { name = \"a\", sources = { \"10.0.0.0/33\" } },\n} }\n", 3,
            "sources[1] '10.0.0.0/33' is not an address or network");
    refused("return {\n trunks = {\n  { name = \"a\", source = { \"10.0.0.1\" } },\n} }\n", 3,
            "unknown field 'source'");
    refused("return {\n trunks = {\n  { name = \"a\", sources = { \"10.0.0.1\" }, deliver = { \"1.2\" } },\n} }\n",
            3, "deliver[1] '1.2' is not a number pattern");
    refused("return {\n trunks = {\n  { name = \"a\" },\n} }\n", 3, "needs sources");
    refused("return {\n trunks = {\n  { name = \"a\", hosts = { \"x\" } },\n  { name = \"a\", hosts = { \"y\" } },\n} }\n",
            3, "used twice");
    refused("return {\n trunks = {\n  { name = \"a\", hosts = { \"x\" }, trust_pai = 1 },\n} }\n", 3,
            "trust_pai must be true or false");
    refused("return {\n trunks = {\n  { name = \"a\", hosts = { \"x\" }, srv = \"yes\" },\n} }\n", 3,
            "srv must be true or false");
    refused("return {\n trunks = {\n  { name = \"a\", hosts = { \"x\" }, digest = { user = \"u\" } },\n} }\n", 3,
            "digest: password must be a non-empty string");
    refused("return {\n trunks = {\n  { name = \"a\", hosts = { \"x\" }, login = { user = \"u\", password = \"p\",\n"
            "    realm = \"r\" } },\n} }\n", 4, "login: unknown field 'realm'");
    t = load("return { trunks = { { name = \"sbc\", sources = { \"10.0.0.1\" },\n"
             "  digest = { user = \"u\", password = \"p\" } } } }\n", err, sizeof err);
    CHECK(t && t->trunks[0].digest_user && !strcmp(t->trunks[0].digest_realm, "sbc"),
          "digest read, realm the trunk's name by default: %s", err);
    hl_trunks_free(t);
    refused("return {\n dial = {\n  fax = { numbers = { \"0X\" }, reason = \"r\" },\n } }\n", 3,
            "per_caller_day must be set");
    refused("return {\n dial = {\n  fax = { numbers = {}, per_caller_day = 1, reason = \"r\" },\n } }\n", 3,
            "at least one pattern");
    refused("return {\n dial = {\n  fax = { numbers = { \"0X\" }, per_caller_day = 1 },\n } }\n", 3,
            "reason must be a non-empty string");
    t = load("while true do end\n", err, sizeof err);
    CHECK(!t && strstr(err, "runs too long"), "a loop is refused, not run for ever: %s", err);
    t = load("return {\n trunks = {\n", err, sizeof err);
    CHECK(!t && strstr(err, "trunks.lua:"), "a syntax error names the file: %s", err);
    t = load("return os.exit(1)\n", err, sizeof err);
    CHECK(!t, "no libraries: a data chunk cannot call os");
    char path[600];
    snprintf(path, sizeof path, "%s/trunks.lua", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

/* Digest (sip/sip_digest.c): RFC 2617's own example, our nonces, and what a check refuses. */
TEST_IMPL(trunks_digest)
{
    hl_digest a;
    const char *rfc = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
                      "nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", "
                      "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    CHECK(hl_digest_parse(rfc, &a) == 0 && !strcmp(a.username, "Mufasa") && !strcmp(a.nc, "00000001"));
    char resp[33];
    hl_digest_response(&a, "GET", "Circle Of Life", resp);
    CHECK(!strcmp(resp, "6629fae49393a05397450978507c4ef1"), "RFC 2617 3.5's response, got %s", resp);

    uint8_t key[16] = { 1, 2, 3 }, other[16] = { 9 };
    char nonce[HL_DIGEST_NONCE_LEN];
    hl_digest_nonce(key, 1000000, nonce);
    CHECK(hl_digest_nonce_fresh(key, nonce, 1000000) && hl_digest_nonce_fresh(key, nonce, 1000000 + 60000));
    CHECK(!hl_digest_nonce_fresh(key, nonce, 1000000 + 3600000), "a nonce goes stale");
    CHECK(!hl_digest_nonce_fresh(other, nonce, 1000000), "another stack's nonce is not ours");
    CHECK(!hl_digest_nonce_fresh(key, "f4240.00000000000000000000000000000000", 1000000), "a forged one neither");

    /* a trunk's answer to our challenge, as flood.py computes it */
    hl_digest mine = { .username = "t", .realm = "r", .uri = "sip:12333@127.0.0.1", .qop = "auth",
                       .nc = "00000001", .cnonce = "c" };
    snprintf(mine.nonce, sizeof mine.nonce, "%s", nonce);
    hl_digest_response(&mine, "INVITE", "pw", resp);
    char value[600];
    snprintf(value, sizeof value, "Digest username=\"t\", realm=\"r\", nonce=\"%s\", uri=\"%s\", "
             "response=\"%s\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c\"", nonce, mine.uri, resp);
    CHECK(hl_digest_check(key, 1000500, value, "INVITE", "r", "t", "pw"), "the right answer passes");
    CHECK(!hl_digest_check(key, 1000500, value, "INVITE", "r", "t", "wrong"), "a wrong password fails");
    CHECK(!hl_digest_check(key, 1000500, value, "INVITE", "r", "u", "pw"), "another user fails");
    CHECK(!hl_digest_check(key, 1000500, value, "INVITE", "other", "t", "pw"), "another realm fails");
    CHECK(!hl_digest_check(key, 1000500, value, "BYE", "r", "t", "pw"), "another method fails");
    CHECK(!hl_digest_check(key, 1000000 + 3600000, value, "INVITE", "r", "t", "pw"), "a stale nonce fails");
    CHECK(!hl_digest_check(key, 1000500, "Basic dDpwdw==", "INVITE", "r", "t", "pw"), "Basic is no digest");
    CHECK(hl_digest_parse("Digest username=\"t\", nonce=\"n\", uri=\"u\", response=\"x\"", &a) != 0,
          "a short response is refused");

    /* our answer to a trunk's challenge (login) is what a checker like ours accepts */
    char challenge[200], answer[1200];
    snprintf(challenge, sizeof challenge, "Digest realm=\"gw\", nonce=\"%s\", algorithm=MD5, "
             "qop=\"auth,auth-int\", opaque=\"op\"", nonce);
    CHECK(hl_digest_answer(challenge, "INVITE", "sip:043188886666@gw.example", "hotline", "pw", "cn",
                           answer, sizeof answer) == 0);
    CHECK(strstr(answer, "opaque=\"op\"") && strstr(answer, "qop=auth,") && strstr(answer, "cnonce=\"cn\""),
          "opaque is returned, qop auth chosen: %s", answer);
    CHECK(hl_digest_check(key, 1000500, answer, "INVITE", "gw", "hotline", "pw"), "%s", answer);
    snprintf(challenge, sizeof challenge, "Digest realm=\"gw\", nonce=\"%s\"", nonce);
    CHECK(hl_digest_answer(challenge, "INVITE", "sip:x@gw", "hotline", "pw", "cn", answer, sizeof answer) == 0 &&
          !strstr(answer, "qop") && hl_digest_check(key, 1000500, answer, "INVITE", "gw", "hotline", "pw"),
          "RFC 2069 style (no qop): %s", answer);
    CHECK(hl_digest_answer("Digest realm=\"gw\", nonce=\"n\", algorithm=SHA-256", "INVITE", "sip:x@gw", "u",
                           "p", "c", answer, sizeof answer) != 0, "an algorithm we cannot answer");
    CHECK(hl_digest_answer("Digest realm=\"gw\", nonce=\"n\", qop=\"auth-int\"", "INVITE", "sip:x@gw", "u",
                           "p", "c", answer, sizeof answer) != 0, "auth-int only: not answered");
    return 0;
}

/* The repository's rules/trunks.lua: accepted; its fax rule takes a Jilin fixed line and
 * mobile but none of what the issue saw dialled (abroad, premium) nor other provinces. */
TEST_IMPL(trunks_repo_rules)
{
    char err[1024];
    hl_trunks *t = hl_trunks_load("rules", err, sizeof err);
    CHECK(t && !t->builtin, "rules/trunks.lua: %s", err);
    if (!t)
        return 1;
    uint8_t ip[16];
    CHECK(ip_of("127.0.0.1", ip) && hl_trunks_by_source(t, ip), "loopback is a trunk: make run and the tests work");
    CHECK(ip_of("::1", ip) && hl_trunks_by_source(t, ip));
    CHECK(ip_of("192.0.2.1", ip) && !hl_trunks_by_source(t, ip), "other sources are not");
    const char *purposes[] = { "fax", "callback" };
    for (int i = 0; i < 2; i++) {
        const hl_dial_rule *d = hl_trunks_dial_rule(t, purposes[i]);
        CHECK(d && d->per_caller_day > 0, "%s has a rule with a cap", purposes[i]);
        if (!d)
            continue;
        const char *no[] = { "0085212345678", "00861380013800", "4001234567", "1900123456",
                             "12333", "01012345678", "95588", "110" };
        for (size_t n = 0; n < sizeof no / sizeof no[0]; n++)
            CHECK(!hl_number_list_match(&d->numbers, no[n]), "%s must not dial %s", purposes[i], no[n]);
        CHECK(hl_number_list_match(&d->numbers, "043188886666") && hl_number_list_match(&d->numbers, "04328888666") &&
              hl_number_list_match(&d->numbers, "13800138000"), "%s dials Jilin fixed lines and mobiles", purposes[i]);
    }
    hl_trunks_free(t);
    return 0;
}
