/* test_agents.c — agents' digest (sip/sip_digest.c: SHA-256 and MD5 from a stored HA1,
 * nonce states, the replay guard) and the REGISTER decision of app/agents.c (lockout,
 * expiry bounds, several contacts, removal), with the digest check stubbed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/agents.h"
#include "core/log.h"
#include "sip/sip_int.h"
#include "unit.h"

/* RFC 7616 3.9.1: the same request answered with SHA-256 and with MD5. */
TEST_IMPL(agents_digest)
{
    const char *fmt = "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
        "uri=\"/dir/index.html\", algorithm=%s, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
        "nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
        "response=\"%s\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    struct { const char *alg, *resp; bool sha; } v[] = {
        { "SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", true },
        { "MD5", "8ca523f5e9506fed4657c9700eebdbec", false },
    };
    for (int i = 0; i < 2; i++) {
        char value[700], ha1[65], want[65];
        snprintf(value, sizeof value, fmt, v[i].alg, v[i].resp);
        hl_digest a;
        bool sha = !v[i].sha;
        CHECK(hl_digest_parse_any(value, &a, &sha) == 0 && sha == v[i].sha, "%s parsed", v[i].alg);
        hl_digest_ha1(v[i].sha, "Mufasa", "http-auth@example.org", "Circle of Life", ha1);
        hl_digest_response_ha1(v[i].sha, &a, "GET", ha1, want);
        CHECK(hl_digest_same(a.response, want), "RFC 7616 3.9.1 %s response, got %s", v[i].alg, want);
        CHECK(strlen(ha1) == (v[i].sha ? 64u : 32u), "HA1 length");
    }
    /* the trunks' parse stays MD5-only; a SHA-256 answer with an MD5-length response is refused */
    hl_digest a;
    bool sha;
    char value[700];
    snprintf(value, sizeof value, fmt, "SHA-256", v[1].resp);
    CHECK(hl_digest_parse_any(value, &a, &sha) != 0, "a SHA-256 response must be 64 digits");
    snprintf(value, sizeof value, fmt, "SHA-512-256", v[0].resp);
    CHECK(hl_digest_parse_any(value, &a, &sha) != 0, "an algorithm we do not offer is refused");

    uint8_t key[16] = { 7 }, other[16] = { 8 };
    char nonce[HL_DIGEST_NONCE_LEN];
    hl_digest_nonce(key, 5000000, nonce);
    CHECK(hl_digest_nonce_state(key, nonce, 5000000) == HL_NONCE_FRESH);
    CHECK(hl_digest_nonce_state(key, nonce, 5000000 + 3600000) == HL_NONCE_STALE, "old: stale=true");
    CHECK(hl_digest_nonce_state(other, nonce, 5000000) == HL_NONCE_FORGED, "not ours: forged");
    char s1[HL_DIGEST_NONCE_LEN], s2[HL_DIGEST_NONCE_LEN];
    hl_digest_nonce_serial(key, 5000000, 1, s1);
    hl_digest_nonce_serial(key, 5000000, 2, s2);
    CHECK(strcmp(s1, s2) != 0 && hl_digest_nonce_state(key, s1, 5000000) == HL_NONCE_FRESH &&
          hl_digest_nonce_state(key, s2, 5000000) == HL_NONCE_FRESH,
          "two challenges in one millisecond get nonces of their own, both ours");
    s1[strlen(s1) - 34] ^= 1;   /* the serial (before ".<32 hex>") changed, the signature kept */
    CHECK(hl_digest_nonce_state(key, s1, 5000000) == HL_NONCE_FORGED, "a changed serial: forged");

    hl_nonce_seen *seen = hl_nonce_seen_new();
    CHECK(hl_nonce_seen_use(seen, nonce, "00000001", 5000000), "first use");
    CHECK(!hl_nonce_seen_use(seen, nonce, "00000001", 5000001), "the same nc again: replay");
    CHECK(hl_nonce_seen_use(seen, nonce, "00000002", 5000002), "a growing nc is fine");
    CHECK(!hl_nonce_seen_use(seen, nonce, "00000001", 5000003), "a lower nc: replay");
    char n2[HL_DIGEST_NONCE_LEN];
    hl_digest_nonce(key, 5000010, n2);
    CHECK(hl_nonce_seen_use(seen, n2, NULL, 5000010), "without qop a nonce serves once");
    CHECK(!hl_nonce_seen_use(seen, n2, NULL, 5000011), "... and only once");
    char n3[HL_DIGEST_NONCE_LEN];
    hl_digest_nonce(key, 5000000 + 3600000, n3);
    CHECK(hl_nonce_seen_use(seen, n3, "00000001", 5000000 + 3600000), "after a sweep");
    CHECK(hl_nonce_seen_use(seen, nonce, "00000001", 5000000 + 3600001),
          "a stale nonce's entry is swept (the nonce itself is refused as stale before this)");
    hl_nonce_seen_free(seen);
    return 0;
}

static hl_sip_auth next_auth;
static const char *seen_md5, *seen_sha;
static hl_sip_auth stub_verify(void *arg, const hl_sip_register_info *in, const char *realm,
                               const char *md5, const char *sha)
{
    seen_md5 = md5;
    seen_sha = sha;
    return md5 && *md5 && sha && strlen(sha) == 64 ? next_auth : HL_SIP_AUTH_WRONG;
}

static hl_sip_register_reply do_register(hl_agents *a, const char *user, const char *src_ip,
                                         const char *contact, int expires, hl_sip_auth auth)
{
    hl_sip_register_info in = { .call_id = "c", .aor_user = user, .auth_user = user,
                                .source = src_ip, .expires = expires };
    in.source_ip[10] = in.source_ip[11] = 0xff;
    in.source_ip[15] = (uint8_t)atoi(strrchr(src_ip, '.') + 1);
    if (contact && !strcmp(contact, "*"))
        in.star = true;
    else if (contact) {
        in.contacts[0] = contact;
        in.contact_expires[0] = -1;
        in.n_contacts = 1;
    }
    next_auth = auth;
    hl_sip_register_reply out = { 0 };
    hl_agents_on_register(a, &in, &out);
    return out;
}

static int contacts_of(hl_agents *a, const char *number)
{
    json_t *list = hl_agents_json(a), *g;
    size_t i;
    int n = -1;
    json_array_foreach(list, i, g)
        if (!strcmp(json_string_value(json_object_get(g, "number")), number))
            n = (int)json_array_size(json_object_get(g, "contacts"));
    json_decref(list);
    return n;
}

/* An agents' registrar on a fresh store, a loop and a fake clock, the digest stubbed. */
typedef struct fixture {
    char       dir[32];
    hl_store  *st;
    uv_loop_t  uv;
    hl_config  cfg;
    hl_clock   clock;
    hl_agents *a;
} fixture;

static int fixture_open(fixture *f)
{
    char err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/hl-test-agents-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->st = hl_store_open(NULL, f->dir, err, sizeof err);
    CHECK(f->st != NULL, "store: %s", err);
    uv_loop_init(&f->uv);
    hl_config_defaults(&f->cfg);
    f->cfg.pin_hash_mem_kb = 8;     /* the test's hashes need not be slow */
    f->cfg.pin_hash_ops = 1;
    hl_clock_init_fake(&f->clock, 1790000000);
    f->a = f->st ? hl_agents_new(&f->uv, f->st, &f->cfg, &f->clock, err, sizeof err) : NULL;
    CHECK(f->a != NULL, "agents: %s", err);
    if (!f->a)
        return -1;
    hl_agents_set_verify(f->a, stub_verify, NULL);
    return 0;
}

static void fixture_close(fixture *f)
{
    hl_agents_close(f->a);
    uv_run(&f->uv, UV_RUN_DEFAULT);
    uv_loop_close(&f->uv);
    hl_store_close(f->st);
    char cmd[120];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", f->dir);
}

TEST_IMPL(agents_register)
{
    hl_log_set_level(HL_LOG_ERROR);
    fixture f;
    if (fixture_open(&f) != 0)
        return 1;
    hl_agents *a = f.a;
    char err[256];
    CHECK(hl_agents_add_now(a, "2001", "0431", "pw-2001", err, sizeof err) == 0, "%s", err);
    CHECK(hl_agents_add_now(a, "2002", "0431", "pw-2002", err, sizeof err) == 0, "%s", err);
    CHECK(hl_agents_add_now(a, "2001", "0431", "again", err, sizeof err) != 0, "a number is unique");

    /* no Authorization: a challenge for agent_realm; a stale one: stale=true */
    hl_sip_register_info bare = { .aor_user = "2001", .source = "127.0.0.1" };
    hl_sip_register_reply r = { 0 };
    hl_agents_on_register(a, &bare, &r);
    CHECK(r.code == 401 && r.realm && !strcmp(r.realm, f.cfg.agent_realm) && !r.stale);
    r = do_register(a, "2001", "127.0.0.1", "sip:2001@127.0.0.1:5062", 300, HL_SIP_AUTH_STALE);
    CHECK(r.code == 401 && r.stale, "a right answer to an old nonce: stale=true");
    r = do_register(a, "2001", "127.0.0.1", "sip:2001@127.0.0.1:5062", 300, HL_SIP_AUTH_REPLAY);
    CHECK(r.code == 401 && contacts_of(a, "2001") == 0, "a replay is refused");

    /* bindings: expiry bounds, refresh, several phones (newest wins), removal */
    r = do_register(a, "2001", "127.0.0.1", "sip:2001@127.0.0.1:5062", f.cfg.agent_register_min_s - 1,
                    HL_SIP_AUTH_OK);
    CHECK(r.code == 423 && r.min_expires == f.cfg.agent_register_min_s, "423 with Min-Expires");
    r = do_register(a, "2001", "127.0.0.1", "sip:2001@127.0.0.1:5062", -1, HL_SIP_AUTH_OK);
    CHECK(r.code == 200 && r.n_contacts == 1 && r.expires[0] == f.cfg.agent_register_max_s,
          "no Expires: agent_register_max_s (%d)", r.expires[0]);
    r = do_register(a, "2001", "127.0.0.1", "sip:2001@127.0.0.1:5062", f.cfg.agent_register_max_s * 10,
                    HL_SIP_AUTH_OK);
    CHECK(r.code == 200 && r.n_contacts == 1 && r.expires[0] == f.cfg.agent_register_max_s,
          "a refresh, cut to the maximum");
    char uri[64];
    for (int i = 0; i < f.cfg.agent_max_contacts; i++) {
        f.clock.now_ms += 1000;
        snprintf(uri, sizeof uri, "sip:2001@127.0.0.%d:5062", 10 + i);
        r = do_register(a, "2001", "127.0.0.1", uri, 300, HL_SIP_AUTH_OK);
    }
    CHECK(r.code == 200 && r.n_contacts == f.cfg.agent_max_contacts, "at most agent_max_contacts");
    bool first_gone = true, newest_there = false;
    for (int i = 0; i < r.n_contacts; i++) {
        first_gone &= strcmp(r.contacts[i], "sip:2001@127.0.0.1:5062") != 0;
        newest_there |= !strcmp(r.contacts[i], uri);
    }
    CHECK(first_gone && newest_there, "the newest phone replaced the oldest");
    r = do_register(a, "2001", "127.0.0.1", uri, 0, HL_SIP_AUTH_OK);
    CHECK(r.code == 200 && r.n_contacts == f.cfg.agent_max_contacts - 1, "Expires 0 removes one");
    r = do_register(a, "2001", "127.0.0.1", "*", 300, HL_SIP_AUTH_OK);
    CHECK(r.code == 400, "Contact * needs Expires 0");
    r = do_register(a, "2001", "127.0.0.1", "*", 0, HL_SIP_AUTH_OK);
    CHECK(r.code == 200 && r.n_contacts == 0 && contacts_of(a, "2001") == 0, "* removes all");

    /* someone else's number, and lockouts: per source (unknown numbers too), per account */
    hl_sip_register_info other = { .aor_user = "2001", .auth_user = "2002", .source = "127.0.0.1" };
    hl_agents_on_register(a, &other, &r);
    CHECK(r.code == 403, "the digest user must be the number registered");
    for (int i = 1; i <= f.cfg.agent_auth_fail_limit; i++) {
        r = do_register(a, "9999", "127.0.0.50", "sip:x@127.0.0.50", 300, HL_SIP_AUTH_OK);
        CHECK(r.code == (i < f.cfg.agent_auth_fail_limit ? 401 : 403), "failure %d: %d", i, r.code);
    }
    r = do_register(a, "2002", "127.0.0.50", "sip:2002@127.0.0.50", 300, HL_SIP_AUTH_OK);
    CHECK(r.code == 403, "a locked-out source is refused, even right");
    r = do_register(a, "2002", "127.0.0.51", "sip:2002@127.0.0.51", 300, HL_SIP_AUTH_OK);
    CHECK(r.code == 200, "another source is not");
    for (int i = 1; i <= f.cfg.agent_auth_fail_limit; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.0.0.%d", 100 + i);
        r = do_register(a, "2002", ip, "sip:2002@127.0.0.51", 300, HL_SIP_AUTH_WRONG);
    }
    CHECK(r.code == 403, "the account locks after agent_auth_fail_limit from several sources");
    r = do_register(a, "2002", "127.0.0.200", "sip:2002@127.0.0.200", 300, HL_SIP_AUTH_OK);
    CHECK(r.code == 403, "a locked-out account is refused, even right");
    json_t *status = hl_agents_status(a);
    CHECK(json_array_size(json_object_get(status, "locked_out")) == 2, "status lists both lockouts");
    json_decref(status);
    f.clock.now_ms += (uint64_t)f.cfg.agent_lockout_s * 1000 + 1000;
    r = do_register(a, "2002", "127.0.0.200", "sip:2002@127.0.0.200", 300, HL_SIP_AUTH_OK);
    CHECK(r.code == 200, "after agent_lockout_s it may register again");
    CHECK(seen_md5 && strlen(seen_md5) == 32 && seen_sha && strlen(seen_sha) == 64, "both HA1s");

    /* agent_digest_algorithms: the challenges offered, and an HA1 only for those */
    CHECK(r.code == 200 && !strcmp(f.cfg.agent_digest_algorithms, "SHA-256,MD5"), "default order");
    snprintf(f.cfg.agent_digest_algorithms, sizeof f.cfg.agent_digest_algorithms, "MD5");
    r = do_register(a, "2002", "127.0.0.200", "sip:2002@127.0.0.200", 300, HL_SIP_AUTH_OK);
    CHECK(seen_md5 && !seen_sha, "SHA-256 not offered: no HA1 for it (challenged again)");
    r = do_register(a, "8888", "127.0.0.201", "sip:8888@127.0.0.201", 300, HL_SIP_AUTH_OK);
    CHECK(r.code == 401 && seen_md5 && !*seen_md5 && !strcmp(r.algorithms, "MD5"),
          "an unknown number: an empty HA1 (a wrong answer), and the challenge lists MD5 only");
    fixture_close(&f);
    return 0;
}

/* on_change's record: the last number and state, and how many calls. */
static int changes;
static char changed_number[33];
static bool changed_registered;
static void on_change(void *arg, const char *number, bool registered)
{
    changes++;
    snprintf(changed_number, sizeof changed_number, "%s", number);
    changed_registered = registered;
}

/* Which phone rings (the newest registered) and when on_change tells (issue 8): only on a
 * change between no binding and some, from every cause; at once for those registered. */
TEST_IMPL(agents_phones)
{
    hl_log_set_level(HL_LOG_ERROR);
    fixture f;
    if (fixture_open(&f) != 0)
        return 1;
    hl_agents *a = f.a;
    char err[256], uri[256], src[80];
    CHECK(hl_agents_add_now(a, "3001", "0431", "pw-3001", err, sizeof err) == 0, "%s", err);
    CHECK(hl_agents_contact(a, "3001", uri, sizeof uri, src, sizeof src) == -2, "no phone yet");
    CHECK(hl_agents_contact(a, "3999", uri, sizeof uri, src, sizeof src) == -1, "no such agent");
    do_register(a, "3001", "127.0.0.7", "sip:3001@10.0.0.7:5060", 300, HL_SIP_AUTH_OK);
    hl_agents_set_on_change(a, on_change, NULL);
    CHECK(changes == 1 && changed_registered && !strcmp(changed_number, "3001"),
          "set_on_change reports who is registered now");

    /* a second phone, registered later: it rings; a refresh of the first does not change that */
    f.clock.now_ms += 5000;
    do_register(a, "3001", "127.0.0.8", "sip:3001@10.0.0.8:5060", 300, HL_SIP_AUTH_OK);
    f.clock.now_ms += 5000;
    do_register(a, "3001", "127.0.0.7", "sip:3001@10.0.0.7:5060", 300, HL_SIP_AUTH_OK);
    CHECK(hl_agents_contact(a, "3001", uri, sizeof uri, src, sizeof src) == 0 &&
          !strcmp(uri, "sip:3001@10.0.0.8:5060") && !strcmp(src, "127.0.0.8"),
          "the newest phone rings, at the source it registered from: %s %s", uri, src);
    CHECK(changes == 1, "more phones: no change of state");
    do_register(a, "3001", "127.0.0.8", "sip:3001@10.0.0.8:5060", 0, HL_SIP_AUTH_OK);
    CHECK(hl_agents_contact(a, "3001", uri, sizeof uri, src, sizeof src) == 0 &&
          !strcmp(uri, "sip:3001@10.0.0.7:5060") && changes == 1, "the other phone is left");
    do_register(a, "3001", "127.0.0.7", "sip:3001@10.0.0.7:5060", 0, HL_SIP_AUTH_OK);
    CHECK(changes == 2 && !changed_registered && !hl_agents_registered(a, "3001"),
          "the last phone gone: unregistered");

    /* Contact * tells too (expiry, qualify and ctl remove go through the same drop) */
    do_register(a, "3001", "127.0.0.7", "sip:3001@10.0.0.7:5060", 300, HL_SIP_AUTH_OK);
    CHECK(changes == 3 && changed_registered);
    do_register(a, "3001", "127.0.0.7", "*", 0, HL_SIP_AUTH_OK);
    CHECK(changes == 4 && !changed_registered, "Contact *: unregistered (%d)", changes);
    fixture_close(&f);
    return 0;
}
