/* sip_digest.c — digest authentication (RFC 3261 22.4 on RFC 2617: MD5, qop "auth" or
 * none): our nonces and the check of a trunk's Authorization, our answer to a trunk's
 * challenge, and for agents' REGISTERs (RFC 7616) MD5 or SHA-256 checked against a stored
 * HA1, with the replay guard (a nonce's nc must grow).
 *
 * Nonces are stateless: the time they were made, a serial number of the stack, and an MD5
 * over both and a secret of this stack (random at start), so any nonce we made is recognised
 * for NONCE_LIFETIME_MS without a table, and none can be forged.  The serial makes each
 * challenge's nonce its own: two challenges in one millisecond (a REGISTER's and then the
 * same phone's INVITE's, or two phones') must not share a nonce, or the replay guard takes
 * the second answer for a replay of the first.  A restart makes old nonces stale: the trunk
 * is challenged once more. */
#include "sip/sip_int.h"
#include <osipparser2/osip_md5.h>
#include <sodium.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A nonce answers for this long: a trunk retries a challenged INVITE at once, and a replay
 * after it is refused. */
#define NONCE_LIFETIME_MS 300000

static void md5_hex(const char *text, char out[33])
{
    osip_MD5_CTX ctx;
    unsigned char d[16];
    osip_MD5Init(&ctx);
    osip_MD5Update(&ctx, (unsigned char *)text, (unsigned int)strlen(text));
    osip_MD5Final(d, &ctx);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)text, strlen(text));
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void hash_hex(bool sha256, const char *text, char out[65])
{
    if (sha256)
        sha256_hex(text, out);
    else
        md5_hex(text, out);
}

/* "<time hex>.<serial hex>.<md5 of secret, time and serial>" */
static void nonce_at(const uint8_t secret[16], uint64_t ms, uint32_t serial,
                     char out[HL_DIGEST_NONCE_LEN])
{
    char text[96], sig[33];
    int n = snprintf(text, sizeof text, "%" PRIx64 ":%" PRIx32 ":", ms, serial);
    for (int i = 0; i < 16; i++)
        n += snprintf(text + n, sizeof text - n, "%02x", secret[i]);
    md5_hex(text, sig);
    snprintf(out, HL_DIGEST_NONCE_LEN, "%" PRIx64 ".%" PRIx32 ".%s", ms, serial, sig);
}

void hl_digest_nonce(const uint8_t secret[16], uint64_t now_ms, char out[HL_DIGEST_NONCE_LEN])
{
    nonce_at(secret, now_ms, 0, out);
}

void hl_digest_nonce_serial(const uint8_t secret[16], uint64_t now_ms, uint32_t serial,
                            char out[HL_DIGEST_NONCE_LEN])
{
    nonce_at(secret, now_ms, serial, out);
}

hl_nonce_state hl_digest_nonce_state(const uint8_t secret[16], const char *nonce, uint64_t now_ms)
{
    char *dot, *dot2;
    uint64_t ms = strtoull(nonce, &dot, 16);
    if (*dot != '.' || ms > now_ms)
        return HL_NONCE_FORGED;
    unsigned long serial = strtoul(dot + 1, &dot2, 16);
    if (*dot2 != '.' || serial > UINT32_MAX)
        return HL_NONCE_FORGED;
    char again[HL_DIGEST_NONCE_LEN];
    nonce_at(secret, ms, (uint32_t)serial, again);
    if (strcmp(again, nonce) != 0)
        return HL_NONCE_FORGED;
    return now_ms - ms > NONCE_LIFETIME_MS ? HL_NONCE_STALE : HL_NONCE_FRESH;
}

bool hl_digest_nonce_fresh(const uint8_t secret[16], const char *nonce, uint64_t now_ms)
{
    return hl_digest_nonce_state(secret, nonce, now_ms) == HL_NONCE_FRESH;
}

void hl_digest_ha1(bool sha256, const char *user, const char *realm, const char *password,
                   char out[65])
{
    char text[1200];
    snprintf(text, sizeof text, "%s:%s:%s", user, realm, password);
    hash_hex(sha256, text, out);
    sodium_memzero(text, sizeof text);
}

void hl_digest_response_ha1(bool sha256, const hl_digest *a, const char *method, const char *ha1,
                            char out[65])
{
    char text[1200], ha2[65];
    snprintf(text, sizeof text, "%s:%s", method, a->uri);
    hash_hex(sha256, text, ha2);
    if (a->qop[0])
        snprintf(text, sizeof text, "%s:%s:%s:%s:%s:%s", ha1, a->nonce, a->nc, a->cnonce, a->qop, ha2);
    else
        snprintf(text, sizeof text, "%s:%s:%s", ha1, a->nonce, ha2);
    hash_hex(sha256, text, out);
}

void hl_digest_response(const hl_digest *a, const char *method, const char *password, char out[33])
{
    char ha1[65], resp[65];
    hl_digest_ha1(false, a->username, a->realm, password, ha1);
    hl_digest_response_ha1(false, a, method, ha1, resp);
    memcpy(out, resp, 33);
}

/* The value of one parameter (quoted or a token) into out; returns past it. */
static const char *param_value(const char *p, char *out, size_t len)
{
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (n + 1 < len)
                out[n++] = *p;
        }
        if (*p == '"')
            p++;
    } else {
        for (; *p && *p != ',' && !isspace((unsigned char)*p); p++)
            if (n + 1 < len)
                out[n++] = *p;
    }
    out[n] = 0;
    return p;
}

/* The parameters of a Digest value (an Authorization or a challenge) into a; -1 when it is
 * not Digest. */
static int parse_params(const char *value, hl_digest *a)
{
    memset(a, 0, sizeof *a);
    while (isspace((unsigned char)*value))
        value++;
    if (strncasecmp(value, "Digest", 6) != 0 || !isspace((unsigned char)value[6]))
        return -1;
    struct { const char *name; char *to; size_t len; } fields[] = {
        { "username", a->username, sizeof a->username }, { "realm", a->realm, sizeof a->realm },
        { "nonce", a->nonce, sizeof a->nonce }, { "uri", a->uri, sizeof a->uri },
        { "response", a->response, sizeof a->response }, { "qop", a->qop, sizeof a->qop },
        { "nc", a->nc, sizeof a->nc }, { "cnonce", a->cnonce, sizeof a->cnonce },
        { "algorithm", a->algorithm, sizeof a->algorithm }, { "opaque", a->opaque, sizeof a->opaque },
    };
    for (const char *p = value + 6; *p;) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t klen = strcspn(p, "= \t,");
        if (!klen || p[klen] != '=')
            break;
        char scratch[8];
        char *to = scratch;
        size_t len = sizeof scratch;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (strlen(fields[i].name) == klen && !strncasecmp(p, fields[i].name, klen)) {
                to = fields[i].to;
                len = fields[i].len;
            }
        p = param_value(p + klen + 1, to, len);
    }
    return 0;
}

static bool md5_algorithm(const hl_digest *a) { return !a->algorithm[0] || !strcasecmp(a->algorithm, "MD5"); }

int hl_digest_parse(const char *value, hl_digest *a)
{
    if (parse_params(value, a) != 0)
        return -1;
    bool qop_ok = !a->qop[0] || (!strcasecmp(a->qop, "auth") && a->nc[0] && a->cnonce[0]);
    return a->username[0] && a->nonce[0] && a->uri[0] && strlen(a->response) == 32 &&
           md5_algorithm(a) && qop_ok ? 0 : -1;
}

static bool sha256_algorithm(const hl_digest *a) { return !strcasecmp(a->algorithm, "SHA-256"); }

int hl_digest_parse_any(const char *value, hl_digest *a, bool *sha256)
{
    if (parse_params(value, a) != 0)
        return -1;
    *sha256 = sha256_algorithm(a);
    bool qop_ok = !a->qop[0] || (!strcasecmp(a->qop, "auth") && a->nc[0] && a->cnonce[0]);
    size_t want = *sha256 ? 64 : 32;
    return a->username[0] && a->nonce[0] && a->uri[0] && strlen(a->response) == want &&
           (md5_algorithm(a) || *sha256) && qop_ok ? 0 : -1;
}

bool hl_digest_same(const char *got, const char *want)
{
    size_t n = strlen(want);
    if (strlen(got) != n)
        return false;
    unsigned diff = 0;   /* the same time whichever character differs */
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(tolower((unsigned char)got[i]) ^ want[i]);
    return diff == 0;
}

/* A challenge's qop list ("auth", "auth,auth-int"): whether it offers "auth". */
static bool offers_auth(const char *qop)
{
    for (const char *p = qop; *p;) {
        size_t n = strcspn(p, ", ");
        if (n == 4 && !strncasecmp(p, "auth", 4))
            return true;
        p += n;
        p += strspn(p, ", ");
    }
    return false;
}

int hl_digest_answer(const char *challenge, const char *method, const char *uri, const char *user,
                     const char *password, const char *cnonce, char *out, size_t len)
{
    hl_digest a;
    if (parse_params(challenge, &a) != 0 || !a.nonce[0] || !md5_algorithm(&a) ||
        (a.qop[0] && !offers_auth(a.qop)))
        return -1;
    snprintf(a.username, sizeof a.username, "%s", user);
    snprintf(a.uri, sizeof a.uri, "%s", uri);
    bool qop = a.qop[0] != 0;
    snprintf(a.qop, sizeof a.qop, "%s", qop ? "auth" : "");
    snprintf(a.nc, sizeof a.nc, "00000001");
    snprintf(a.cnonce, sizeof a.cnonce, "%s", cnonce);
    char resp[33];
    hl_digest_response(&a, method, password, resp);
    int n = snprintf(out, len, "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                     "response=\"%s\", algorithm=MD5", user, a.realm, a.nonce, uri, resp);
    if (qop && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - n, ", qop=auth, nc=00000001, cnonce=\"%s\"", cnonce);
    if (a.opaque[0] && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - n, ", opaque=\"%s\"", a.opaque);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

bool hl_digest_check(const uint8_t secret[16], uint64_t now_ms, const char *authorization,
                     const char *method, const char *realm, const char *user, const char *password)
{
    hl_digest a;
    if (!authorization || hl_digest_parse(authorization, &a) != 0 || strcmp(a.username, user) ||
        strcmp(a.realm, realm) || !hl_digest_nonce_fresh(secret, a.nonce, now_ms))
        return false;
    char want[33];
    hl_digest_response(&a, method, password, want);
    return hl_digest_same(a.response, want);
}

/* ---- the replay guard: the highest nonce count answered per nonce ---------------------- */

typedef struct nonce_use {
    uint64_t made_ms;     /* the nonce's own time: the entry goes once the nonce is stale */
    unsigned long nc;     /* the highest count accepted; 0 = used without qop */
} nonce_use;

struct hl_nonce_seen {
    hl_map   uses;        /* nonce -> nonce_use */
    uint64_t swept_ms;
};

hl_nonce_seen *hl_nonce_seen_new(void)
{
    hl_nonce_seen *t = calloc(1, sizeof *t);
    if (t)
        hl_map_init(&t->uses);
    return t;
}

static void free_use(void *val, void *arg) { free(val); }

void hl_nonce_seen_free(hl_nonce_seen *t)
{
    if (!t)
        return;
    hl_map_each(&t->uses, free_use, NULL);
    hl_map_free(&t->uses);
    free(t);
}

/* Drops the entries of stale nonces (they are refused as stale before this is asked), at
 * most once per nonce lifetime: the map is rebuilt with the fresh ones. */
static void sweep_stale(hl_nonce_seen *t, uint64_t now_ms)
{
    if (now_ms - t->swept_ms < NONCE_LIFETIME_MS)
        return;
    t->swept_ms = now_ms;
    hl_map fresh;
    hl_map_init(&fresh);
    for (size_t b = 0; b < t->uses.nb; b++)
        for (hl_map_ent *e = t->uses.b[b]; e; e = e->next) {
            nonce_use *u = e->val;
            if (now_ms - u->made_ms > NONCE_LIFETIME_MS || hl_map_put(&fresh, e->key, u) != 0)
                free(u);
        }
    hl_map_free(&t->uses);
    t->uses = fresh;
}

bool hl_nonce_seen_use(hl_nonce_seen *t, const char *nonce,
                       const char *nc, uint64_t now_ms)
{
    sweep_stale(t, now_ms);
    unsigned long count = nc && *nc ? strtoul(nc, NULL, 16) : 0;
    nonce_use *u = hl_map_get(&t->uses, nonce);
    if (u)
        return count > u->nc ? (u->nc = count, true) : false;
    if (!(u = calloc(1, sizeof *u)))
        return false;
    u->made_ms = strtoull(nonce, NULL, 16);
    u->nc = count;
    if (hl_map_put(&t->uses, nonce, u) != 0) {
        free(u);
        return false;
    }
    return true;
}
