/* agents.c — agents' accounts, their registrations and the REGISTER decision (agents.h).
 * The digest mechanics (nonces, their lifetime, the replay guard) are the SIP stack's
 * (sip/sip_digest.c); this file decides who may register and keeps the bindings. */
#include "app/agents.h"
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"

#define AGENT_FIELD_CHARS "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-"
#define SKILL_CHARS AGENT_FIELD_CHARS ","
/* A password is typed by a person into a phone: this bounds what is hashed and stored. */
#define PASSWORD_MAX 128
/* Sources with failures tracked at once: a scan from many addresses cannot grow memory
 * without bound; past it the entry failing longest ago is reused. */
#define SOURCES_TRACKED 4096

typedef struct binding {
    char         uri[256], source[80];
    double       expires_at, registered_at;   /* epoch seconds */
    hl_sip_ping *ping;                        /* qualify: OPTIONS awaiting an answer */
    int          qualify_fails;               /* in a row */
} binding;

typedef struct failures {                 /* of one account or one source */
    int    count;
    double window_start, locked_until;
} failures;

typedef struct agent {
    char     number[33], name[129], centre[33], skills[257], role[12];
    char     pw_hash[crypto_pwhash_STRBYTES], ha1_md5[33], ha1_sha256[65];
    binding  b[HL_SIP_REG_CONTACTS_MAX];
    int      nb;
    failures fails;
} agent;

typedef struct source_fails {
    uint8_t  ip[16];
    failures fails;
} source_fails;

struct hl_agents {
    uv_loop_t          *uv;
    hl_store           *store;
    const hl_config    *cfg;
    const hl_clock     *clock;
    hl_sip             *sip;
    hl_agents_verify_fn verify;
    void               *verify_arg;
    agent             **list;
    int                 n, cap;
    source_fails       *sources;
    int                 nsources;
    uv_timer_t          expiry;          /* fires at the earliest binding's expiry */
    hl_agents_watch     watch;           /* the ACD's view of the accounts (app/acd_app.c) */
    void               *watch_arg;
    uv_timer_t          qualify;         /* OPTIONS to every binding, each agent_qualify_s */
    unsigned            qualify_round;   /* which slice of the agents the next turn pings */
    int                 open_handles;    /* of the two timers, until their close callbacks */
    int                 hashing;         /* ctl password hashes on the pool */
    bool                closing;         /* freed once the timers are closed and none hashes */
    void              (*on_change)(void *arg, const char *number, bool registered);
    void               *on_change_arg;
    struct { uint64_t registered, removed, expired, auth_failed, locked_refused, lockouts,
             replays, stale, invites, qualify_removed; } st;
};

/* ---- accounts in memory ------------------------------------------------------------- */

static agent *find(hl_agents *a, const char *number)
{
    for (int i = 0; number && i < a->n; i++)
        if (!strcmp(a->list[i]->number, number))
            return a->list[i];
    return NULL;
}

static agent *add_mem(hl_agents *a, const char *number)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        agent **l = realloc(a->list, (size_t)cap * sizeof *l);
        if (!l)
            return NULL;
        a->list = l;
        a->cap = cap;
    }
    agent *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    snprintf(g->number, sizeof g->number, "%s", number);
    snprintf(g->role, sizeof g->role, "agent");
    a->list[a->n++] = g;
    return g;
}

static void remove_mem(hl_agents *a, agent *g)
{
    for (int i = 0; i < a->n; i++)
        if (a->list[i] == g) {
            a->list[i] = a->list[--a->n];
            sodium_memzero(g, sizeof *g);
            free(g);
            return;
        }
}

static bool chars_ok(const char *s, const char *allowed, size_t max)
{
    return s && *s && strlen(s) <= max && strspn(s, allowed) == strlen(s);
}

static bool role_ok(const char *r)
{
    return r && (!strcmp(r, "agent") || !strcmp(r, "leader") || !strcmp(r, "supervisor"));
}

/* ---- the store ------------------------------------------------------------------------ */

static void write_done(void *arg, json_t *rows, const char *err)
{
    if (err)
        hl_error("agents", "store write failed: %s", err);
}

static void store_account(hl_agents *a, const agent *g)
{
    json_t *p = json_pack("[s,s,s,s,s,s,s,s,s,f]", g->number, g->name, g->centre, g->skills,
                          g->role, g->pw_hash, g->ha1_md5, g->ha1_sha256, a->cfg->agent_realm,
                          hl_clock_wall(a->clock));
    hl_store_exec(a->store, "INSERT INTO agents(number, name, centre, skills, role, pw_hash, "
                  "ha1_md5, ha1_sha256, realm, updated) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) "
                  "ON CONFLICT(number) DO UPDATE SET name=?2, centre=?3, skills=?4, role=?5, "
                  "pw_hash=?6, ha1_md5=?7, ha1_sha256=?8, realm=?9, updated=?10", p, write_done, NULL);
    json_decref(p);
    if (a->watch.account)
        a->watch.account(a->watch_arg, g->number, g->name, g->centre, g->skills, g->role);
}

static void store_bindings(hl_agents *a, const agent *g)
{
    json_t *p = json_pack("[s]", g->number);
    hl_store_exec(a->store, "DELETE FROM agent_contacts WHERE number = ?1", p, write_done, NULL);
    json_decref(p);
    for (int i = 0; i < g->nb; i++) {
        p = json_pack("[s,s,s,f,f]", g->number, g->b[i].uri, g->b[i].source, g->b[i].expires_at,
                      g->b[i].registered_at);
        hl_store_exec(a->store, "INSERT INTO agent_contacts(number, contact, source, expires, "
                      "registered) VALUES (?1,?2,?3,?4,?5)", p, write_done, NULL);
        json_decref(p);
    }
}

static const char *str_of(json_t *row, const char *k)
{
    return json_string_value(json_object_get(row, k)) ?: "";
}

static int load(hl_agents *a, char *err, int errlen)
{
    json_t *rows = hl_store_exec_sync(a->store, "SELECT * FROM agents ORDER BY number", NULL,
                                      err, errlen);
    if (!rows)
        return -1;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        agent *g = add_mem(a, str_of(r, "number"));
        if (!g)
            break;
        snprintf(g->name, sizeof g->name, "%s", str_of(r, "name"));
        snprintf(g->centre, sizeof g->centre, "%s", str_of(r, "centre"));
        snprintf(g->skills, sizeof g->skills, "%s", str_of(r, "skills"));
        snprintf(g->role, sizeof g->role, "%s", str_of(r, "role"));
        snprintf(g->pw_hash, sizeof g->pw_hash, "%s", str_of(r, "pw_hash"));
        snprintf(g->ha1_md5, sizeof g->ha1_md5, "%s", str_of(r, "ha1_md5"));
        snprintf(g->ha1_sha256, sizeof g->ha1_sha256, "%s", str_of(r, "ha1_sha256"));
        if (strcmp(str_of(r, "realm"), a->cfg->agent_realm))
            hl_warn("agents", "agent %s: password set for realm '%s', agent_realm is '%s': it "
                    "cannot register until `hotline ctl agent password %s`", g->number,
                    str_of(r, "realm"), a->cfg->agent_realm, g->number);
    }
    json_decref(rows);
    json_t *p = json_pack("[f]", hl_clock_wall(a->clock));
    rows = hl_store_exec_sync(a->store, "SELECT * FROM agent_contacts WHERE expires > ?1 "
                              "ORDER BY registered", p, err, errlen);
    json_decref(p);
    if (!rows)
        return -1;
    json_array_foreach(rows, i, r) {
        agent *g = find(a, str_of(r, "number"));
        if (!g || g->nb == HL_SIP_REG_CONTACTS_MAX)
            continue;
        binding *b = &g->b[g->nb++];
        snprintf(b->uri, sizeof b->uri, "%s", str_of(r, "contact"));
        snprintf(b->source, sizeof b->source, "%s", str_of(r, "source"));
        b->expires_at = json_number_value(json_object_get(r, "expires"));
        b->registered_at = json_number_value(json_object_get(r, "registered"));
    }
    json_decref(rows);
    return 0;
}

/* ---- expiry ------------------------------------------------------------------------- */

static void drop_binding(agent *g, int i)
{
    hl_sip_ping_cancel(g->b[i].ping);
    g->b[i] = g->b[--g->nb];
}

/* on_change when the agent went from no binding to some or back (had: bindings before). */
static void changed(hl_agents *a, const agent *g, int had)
{
    if ((had > 0) != (g->nb > 0) && a->on_change)
        a->on_change(a->on_change_arg, g->number, g->nb > 0);
}

static void schedule_expiry(hl_agents *a);

static void on_expiry(uv_timer_t *t)
{
    hl_agents *a = t->data;
    double now = hl_clock_wall(a->clock);
    for (int i = 0; i < a->n; i++) {
        agent *g = a->list[i];
        int had = g->nb;
        for (int k = g->nb - 1; k >= 0; k--)
            if (g->b[k].expires_at <= now) {
                hl_info("agents", "agent %s: registration of %s expired", g->number, g->b[k].uri);
                drop_binding(g, k);
                a->st.expired++;
            }
        if (g->nb != had) {
            store_bindings(a, g);
            changed(a, g, had);
        }
    }
    schedule_expiry(a);
}

static void schedule_expiry(hl_agents *a)
{
    double first = 0;
    for (int i = 0; i < a->n; i++)
        for (int k = 0; k < a->list[i]->nb; k++)
            if (!first || a->list[i]->b[k].expires_at < first)
                first = a->list[i]->b[k].expires_at;
    uv_timer_stop(&a->expiry);
    if (first) {
        double in = (first - hl_clock_wall(a->clock)) * 1000.0;
        uv_timer_start(&a->expiry, on_expiry, in > 0 ? (uint64_t)in + 1 : 0, 0);
    }
}

/* ---- lockout -------------------------------------------------------------------------- */

static bool locked(const failures *f, double now) { return f->locked_until > now; }

/* One more failure; true when it locks out. */
static bool count_failure(hl_agents *a, failures *f, double now)
{
    if (now - f->window_start > a->cfg->agent_auth_fail_window_s) {
        f->window_start = now;
        f->count = 0;
    }
    if (++f->count < a->cfg->agent_auth_fail_limit)
        return false;
    f->locked_until = now + a->cfg->agent_lockout_s;
    f->count = 0;
    a->st.lockouts++;
    return true;
}

static failures *source_failures(hl_agents *a, const uint8_t ip[16], bool create)
{
    int oldest = -1;
    for (int i = 0; i < a->nsources; i++) {
        if (!memcmp(a->sources[i].ip, ip, 16))
            return &a->sources[i].fails;
        if (oldest < 0 || a->sources[i].fails.window_start < a->sources[oldest].fails.window_start)
            oldest = i;
    }
    if (!create)
        return NULL;
    int at = a->nsources < SOURCES_TRACKED ? a->nsources++ : oldest;
    memset(&a->sources[at], 0, sizeof a->sources[at]);
    memcpy(a->sources[at].ip, ip, 16);
    return &a->sources[at].fails;
}

/* ---- REGISTER ------------------------------------------------------------------------- */

/* The helpers that fill a refusal or a challenge return false: "not admitted". */
static bool refuse(hl_sip_register_reply *out, int code, const char *reason, const char *warning)
{
    out->code = code;
    out->reason = reason;
    out->warning = warning;
    return false;
}

#define DEFAULT_ALGORITHMS "SHA-256,MD5"

static bool lists(const char *list, const char *alg)
{
    size_t n = strlen(alg);
    for (const char *p = list; *p; p += strcspn(p, ","), p += *p == ',')
        if (strcspn(p, ",") == n && !strncmp(p, alg, n))
            return true;
    return false;
}

/* agent_digest_algorithms, or the default when it names neither algorithm (the config
 * checks its characters only): a phone must always get a challenge it can answer. */
static const char *algorithms(hl_agents *a)
{
    const char *l = a->cfg->agent_digest_algorithms;
    return lists(l, "MD5") || lists(l, "SHA-256") ? l : DEFAULT_ALGORITHMS;
}

static bool offered(hl_agents *a, const char *alg) { return lists(algorithms(a), alg); }

static bool challenge(hl_agents *a, hl_sip_register_reply *out, bool stale)
{
    out->code = 401;
    out->realm = a->cfg->agent_realm;
    out->stale = stale;
    out->algorithms = algorithms(a);
    return false;
}

/* One request that must prove an account's password: a REGISTER or an agent's INVITE. */
typedef struct auth_try {
    const char    *method;        /* for the log */
    const char    *user;          /* the account asked for (To of a REGISTER, From of an INVITE) */
    const char    *auth_user;     /* the Authorization's username, NULL when none */
    const char    *source;        /* "ip:port/udp" */
    const uint8_t *source_ip;
    /* the digest check against g's HA1s (md5/sha: NULL = not offered, "" = no account) */
    hl_sip_auth  (*check)(hl_agents *a, const void *ctx, const char *md5, const char *sha);
    const void    *ctx;
} auth_try;

static bool failed(hl_agents *a, agent *g, const auth_try *in, hl_sip_register_reply *out,
                   double now)
{
    a->st.auth_failed++;
    bool src_locked = count_failure(a, source_failures(a, in->source_ip, true), now);
    bool acc_locked = g && count_failure(a, &g->fails, now);
    hl_warn("agents", "%s %s from %s: wrong digest answer%s%s", in->method, in->user, in->source,
            src_locked ? "; source locked out (agent_auth_fail_limit)" : "",
            acc_locked ? "; account locked out (agent_auth_fail_limit)" : "");
    if (src_locked || acc_locked)
        return refuse(out, 403, "Locked Out", "too many failed attempts: locked out");
    return challenge(a, out, false);
}

static int expires_of(hl_agents *a, const hl_sip_register_info *in, int i)
{
    int e = in->contact_expires[i] >= 0 ? in->contact_expires[i] : in->expires;
    if (e < 0)
        e = a->cfg->agent_register_max_s;
    return e > a->cfg->agent_register_max_s ? a->cfg->agent_register_max_s : e;
}

static int binding_of(agent *g, const char *uri)
{
    for (int k = 0; k < g->nb; k++)
        if (!strcmp(g->b[k].uri, uri))
            return k;
    return -1;
}

/* A new binding past agent_max_contacts replaces the one registered longest ago. */
static binding *new_binding(hl_agents *a, agent *g)
{
    int max = a->cfg->agent_max_contacts;
    while (g->nb >= max && g->nb > 0) {
        int oldest = 0;
        for (int k = 1; k < g->nb; k++)
            if (g->b[k].registered_at < g->b[oldest].registered_at)
                oldest = k;
        hl_info("agents", "agent %s: %s replaced by a newer phone (agent_max_contacts %d)",
                g->number, g->b[oldest].uri, max);
        drop_binding(g, oldest);
    }
    return &g->b[g->nb++];
}

static void apply_bindings(hl_agents *a, agent *g, const hl_sip_register_info *in, double now)
{
    while (in->star && g->nb)
        drop_binding(g, 0);
    for (int i = 0; i < in->n_contacts; i++) {
        int e = expires_of(a, in, i), k = binding_of(g, in->contacts[i]);
        if (e == 0) {
            if (k >= 0) {
                drop_binding(g, k);
                a->st.removed++;
                hl_info("agents", "agent %s: %s unregistered", g->number, in->contacts[i]);
            }
            continue;
        }
        binding *b = k >= 0 ? &g->b[k] : new_binding(a, g);
        if (k < 0) {
            snprintf(b->uri, sizeof b->uri, "%s", in->contacts[i]);
            b->registered_at = now;
            hl_info("agents", "agent %s registered %s from %s for %d s", g->number, b->uri,
                    in->source, e);
        }
        snprintf(b->source, sizeof b->source, "%s", in->source);
        b->expires_at = now + e;
        a->st.registered++;
    }
}

/* 423 when a binding asks less than agent_register_min_s (0 removes and is fine). */
static bool too_brief(hl_agents *a, const hl_sip_register_info *in)
{
    for (int i = 0; i < in->n_contacts; i++) {
        int e = in->contact_expires[i] >= 0 ? in->contact_expires[i] : in->expires;
        if (e > 0 && e < a->cfg->agent_register_min_s)
            return true;
    }
    return false;
}

static void answer_bindings(const agent *g, hl_sip_register_reply *out, double now)
{
    out->code = 200;
    out->n_contacts = g->nb;
    for (int k = 0; k < g->nb; k++) {
        snprintf(out->contacts[k], sizeof out->contacts[k], "%s", g->b[k].uri);
        double left = g->b[k].expires_at - now;
        out->expires[k] = left > 0 ? (int)(left + 0.5) : 0;
    }
}


static hl_sip_auth verify(hl_agents *a, const auth_try *in, const agent *g)
{
    /* "" for an unknown number (a wrong answer), NULL for an algorithm not offered */
    const char *md5 = offered(a, "MD5") ? (g ? g->ha1_md5 : "") : NULL;
    const char *sha = offered(a, "SHA-256") ? (g ? g->ha1_sha256 : "") : NULL;
    return in->check(a, in->ctx, md5, sha);
}

/* Lockout, then the digest: true when the request is the account's own, else out is the
 * refusal or the challenge. */
static bool admitted(hl_agents *a, agent *g, const auth_try *in, hl_sip_register_reply *out,
                     double now)
{
    failures *sf = source_failures(a, in->source_ip, false);
    if ((sf && locked(sf, now)) || (g && locked(&g->fails, now))) {
        a->st.locked_refused++;
        hl_info("agents", "403 to %s %s from %s: locked out", in->method, in->user, in->source);
        return refuse(out, 403, "Locked Out", "too many failed attempts: locked out");
    }
    if (!in->auth_user)
        return challenge(a, out, false);
    if (strcmp(in->auth_user, in->user) != 0) {
        hl_warn("agents", "403 to %s %s from %s: authenticated as %s", in->method, in->user,
                in->source, in->auth_user);
        return refuse(out, 403, NULL, "the digest username must be the agent's number");
    }
    switch (verify(a, in, g)) {
    case HL_SIP_AUTH_NONE:
        return challenge(a, out, false);
    case HL_SIP_AUTH_STALE:
        a->st.stale++;
        return challenge(a, out, true);
    case HL_SIP_AUTH_REPLAY:
        a->st.replays++;
        hl_warn("agents", "%s %s from %s: a nonce answered again (replay) refused",
                in->method, in->user, in->source);
        return challenge(a, out, false);
    case HL_SIP_AUTH_WRONG:
        return failed(a, g, in, out, now);
    case HL_SIP_AUTH_OK:
        break;
    }
    if (!g) /* an unknown number has only empty HA1s: never OK, but be sure */
        return failed(a, g, in, out, now);
    g->fails = (failures){ 0 };
    if (sf)
        *sf = (failures){ 0 };
    return true;
}

static hl_sip_auth check_register(hl_agents *a, const void *ctx, const char *md5, const char *sha)
{
    const hl_sip_register_info *in = ctx;
    if (a->verify)
        return a->verify(a->verify_arg, in, a->cfg->agent_realm, md5, sha);
    return hl_sip_register_verify(a->sip, in, a->cfg->agent_realm, md5, sha);
}

void hl_agents_on_register(hl_agents *a, const hl_sip_register_info *in, hl_sip_register_reply *out)
{
    double now = hl_clock_wall(a->clock);
    agent *g = find(a, in->aor_user);
    auth_try t = { .method = "REGISTER", .user = in->aor_user, .auth_user = in->auth_user,
                   .source = in->source, .source_ip = in->source_ip, .check = check_register,
                   .ctx = in };
    if (!admitted(a, g, &t, out, now))
        return;
    if (in->star && (in->n_contacts || in->expires != 0)) {
        refuse(out, 400, NULL, "Contact * needs Expires: 0 and no other Contact");
        return;
    }
    if (too_brief(a, in)) {
        out->min_expires = a->cfg->agent_register_min_s;
        refuse(out, 423, "Interval Too Brief", NULL);
        return;
    }
    if (in->star)
        hl_info("agents", "agent %s: every registration removed", g->number);
    int had = g->nb;
    apply_bindings(a, g, in, now);
    store_bindings(a, g);
    schedule_expiry(a);
    answer_bindings(g, out, now);
    changed(a, g, had);
}

/* ---- agents' own INVITEs -------------------------------------------------------------- */

static hl_sip_auth check_invite(hl_agents *a, const void *ctx, const char *md5, const char *sha)
{
    return hl_sip_dialog_verify((hl_sip_dialog *)ctx, a->cfg->agent_realm, md5, sha);
}

static int binding_from(const agent *g, const char *source)
{
    for (int k = 0; k < g->nb; k++)
        if (!strcmp(g->b[k].source, source))
            return k;
    return -1;
}

/* The refusal or challenge of admitted() sent on the INVITE's dialog; returns its code. */
static int invite_refused(hl_sip_dialog *d, const hl_sip_register_reply *out)
{
    if (out->code == 401) {
        hl_sip_dialog_challenge_digest(d, out->realm, out->stale, out->algorithms);
        return 401;
    }
    hl_sip_dialog_refusal_quiet(d, "403-agent-auth");
    return out->code ? out->code : 403;
}

int hl_agents_on_invite(hl_agents *a, hl_sip_dialog *d, const hl_sip_invite_info *info,
                        bool from_trunk, char *agent_out, size_t agent_len)
{
    agent *g = find(a, info->from_user);
    if (!g)
        return 0;
    if (binding_from(g, info->source) < 0) {
        if (from_trunk)
            return 0;    /* a caller whose number looks like an agent's: an ordinary call */
        hl_info("agents", "403 to INVITE from agent %s at %s: no registration of this phone",
                g->number, info->source);
        hl_sip_dialog_refusal_quiet(d, "403-agent-not-registered");
        return 403;
    }
    char auth_user[128];
    hl_sip_dialog_auth_user(d, auth_user, sizeof auth_user);
    auth_try t = { .method = "INVITE", .user = g->number, .auth_user = auth_user[0] ? auth_user : NULL,
                   .source = info->source, .source_ip = info->source_ip, .check = check_invite,
                   .ctx = d };
    hl_sip_register_reply out = { 0 };
    if (!admitted(a, g, &t, &out, hl_clock_wall(a->clock)))
        return invite_refused(d, &out);
    a->st.invites++;
    snprintf(agent_out, agent_len, "%s", g->number);
    hl_info("agents", "agent %s calls %s from %s", g->number, info->request_uri, info->source);
    return 1;
}

/* ---- ringing an agent: which phone ---------------------------------------------------- */

/* The binding to ring: the newest registered among those answering qualify, else the newest. */
static const binding *ring_binding(const agent *g)
{
    const binding *best = NULL;
    for (int pass = 0; pass < 2 && !best; pass++)
        for (int k = 0; k < g->nb; k++)
            if ((pass || !g->b[k].qualify_fails) &&
                (!best || g->b[k].registered_at > best->registered_at))
                best = &g->b[k];
    return best;
}

int hl_agents_contact(hl_agents *a, const char *number, char *uri, size_t urilen,
                      char *source, size_t sourcelen)
{
    const agent *g = find(a, number);
    if (!g)
        return -1;
    const binding *b = ring_binding(g);
    if (!b)
        return -2;
    snprintf(uri, urilen, "%s", b->uri);
    snprintf(source, sourcelen, "%s", b->source);
    return 0;
}

bool hl_agents_registered(hl_agents *a, const char *number)
{
    const agent *g = find(a, number);
    return g && g->nb > 0;
}

void hl_agents_set_on_change(hl_agents *a, void (*fn)(void *arg, const char *number, bool registered),
                             void *arg)
{
    a->on_change = fn;
    a->on_change_arg = arg;
    for (int i = 0; fn && i < a->n; i++)
        if (a->list[i]->nb > 0)
            fn(arg, a->list[i]->number, true);
}

/* ---- qualify -------------------------------------------------------------------------- */

/* A binding that failed agent_qualify_fails times in a row goes, as if it had expired. */
static void qualify_failed(hl_agents *a, agent *g, int k)
{
    binding *b = &g->b[k];
    b->ping = NULL;
    if (++b->qualify_fails < a->cfg->agent_qualify_fails) {
        hl_info("agents", "agent %s: %s did not answer OPTIONS (%d in a row)", g->number, b->uri,
                b->qualify_fails);
        return;
    }
    hl_warn("agents", "agent %s: %s did not answer OPTIONS %d times in a row "
            "(agent_qualify_fails): registration removed", g->number, b->uri, b->qualify_fails);
    int had = g->nb;
    drop_binding(g, k);
    a->st.qualify_removed++;
    store_bindings(a, g);
    schedule_expiry(a);
    changed(a, g, had);
}

static bool find_ping(hl_agents *a, hl_sip_ping *ping, agent **g, int *k)
{
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < a->list[i]->nb; j++)
            if (a->list[i]->b[j].ping == ping) {
                *g = a->list[i];
                *k = j;
                return true;
            }
    return false;
}

static void on_ping(void *arg, hl_sip_ping *ping, int code)
{
    hl_agents *a = arg;
    agent *g;
    int k;
    if (!find_ping(a, ping, &g, &k))
        return;
    if (code == 0) {
        qualify_failed(a, g, k);
        return;
    }
    if (g->b[k].qualify_fails)
        hl_info("agents", "agent %s: %s answers OPTIONS again (%d)", g->number, g->b[k].uri, code);
    g->b[k].ping = NULL;
    g->b[k].qualify_fails = 0;
}

/* Each agent_qualify_s every phone is pinged once: a ping still unanswered at the phone's
 * next turn is a failure.  The phones are taken in QUALIFY_SLICES slices spread over the
 * interval, so a thousand phones are never asked at once (their answers would overflow
 * the SIP socket under load and qualify would log out agents who are there). */
#define QUALIFY_OFF_RECHECK_MS 5000   /* agent_qualify_s 0: how soon a reload turning it on shows */
#define QUALIFY_SLICES 10

static void on_qualify(uv_timer_t *t)
{
    hl_agents *a = t->data;
    int every = a->cfg->agent_qualify_s;
    unsigned slice = a->qualify_round++ % QUALIFY_SLICES;
    for (int i = 0; i < a->n; i++) {
        if ((unsigned)i % QUALIFY_SLICES != slice)
            continue;
        agent *g = a->list[i];
        for (int k = g->nb - 1; k >= 0; k--) {
            binding *b = &g->b[k];
            if (b->ping) {
                hl_sip_ping_cancel(b->ping);
                qualify_failed(a, g, k);   /* may drop b */
            }
        }
        for (int k = 0; every && a->sip && k < g->nb; k++)
            g->b[k].ping = hl_sip_options_ping(a->sip, g->b[k].uri, g->b[k].source, on_ping, a);
    }
    uv_timer_start(&a->qualify, on_qualify, every ? (uint64_t)every * 1000 / QUALIFY_SLICES : QUALIFY_OFF_RECHECK_MS, 0);
}

/* ---- accounts: hashing ---------------------------------------------------------------- */

/* The Argon2id string and both HA1s of password (tens of ms: on the pool for ctl). */
static int hash_password(const hl_config *cfg, const char *number, const char *password,
                         char pw_hash[crypto_pwhash_STRBYTES], char md5[33], char sha[65])
{
    if (crypto_pwhash_str(pw_hash, password, strlen(password), (unsigned long long)cfg->pin_hash_ops,
                          (size_t)cfg->pin_hash_mem_kb * 1024) != 0)
        return -1;
    char h[65];
    hl_digest_ha1(false, number, cfg->agent_realm, password, h);
    memcpy(md5, h, 32);
    md5[32] = 0;
    hl_digest_ha1(true, number, cfg->agent_realm, password, sha);
    return 0;
}

static bool password_ok(const char *pw)
{
    return pw && *pw && strlen(pw) <= PASSWORD_MAX && !strpbrk(pw, "\r\n");
}

int hl_agents_add_now(hl_agents *a, const char *number, const char *centre, const char *password,
                      char *err, int errlen)
{
    if (!chars_ok(number, AGENT_FIELD_CHARS, 32) || find(a, number) || !password_ok(password)) {
        snprintf(err, errlen, "bad or existing number, or a bad password");
        return -1;
    }
    agent *g = add_mem(a, number);
    if (!g || hash_password(a->cfg, number, password, g->pw_hash, g->ha1_md5, g->ha1_sha256) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(g->centre, sizeof g->centre, "%s", centre);
    store_account(a, g);
    return 0;
}

/* A ctl request whose password is hashed on libuv's pool. */
typedef struct pw_work {
    uv_work_t    work;
    hl_agents   *a;
    hl_ctl_req  *req;
    agent        fields;       /* the account as it will be (number, name, ...) */
    bool         is_new, ok;
    char         password[PASSWORD_MAX + 1];
} pw_work;

static void pw_hash_work(uv_work_t *w)
{
    pw_work *p = w->data;
    p->ok = hash_password(p->a->cfg, p->fields.number, p->password, p->fields.pw_hash,
                          p->fields.ha1_md5, p->fields.ha1_sha256) == 0;
    sodium_memzero(p->password, sizeof p->password);
}

static void agents_free(hl_agents *a);

static void pw_hash_done(uv_work_t *w, int status)
{
    pw_work *p = w->data;
    hl_agents *a = p->a;
    agent *g = find(a, p->fields.number);
    a->hashing--;
    if (a->closing) {
        hl_ctl_reply_error(p->req, "the engine is shutting down");
        if (!a->hashing && !a->open_handles)
            agents_free(a);
    } else if (!p->ok || status != 0) {
        hl_ctl_reply_error(p->req, "hashing the password failed");
    } else if (p->is_new == (g != NULL)) {
        hl_ctl_reply_error(p->req, "agent %s %s meanwhile", p->fields.number,
                           g ? "was added" : "was removed");
    } else {
        if (!g)
            g = add_mem(a, p->fields.number);
        if (!g) {
            hl_ctl_reply_error(p->req, "out of memory");
        } else {
            if (p->is_new) {
                memcpy(g->name, p->fields.name, sizeof g->name);
                memcpy(g->centre, p->fields.centre, sizeof g->centre);
                memcpy(g->skills, p->fields.skills, sizeof g->skills);
                memcpy(g->role, p->fields.role, sizeof g->role);
            }
            memcpy(g->pw_hash, p->fields.pw_hash, sizeof g->pw_hash);
            memcpy(g->ha1_md5, p->fields.ha1_md5, sizeof g->ha1_md5);
            memcpy(g->ha1_sha256, p->fields.ha1_sha256, sizeof g->ha1_sha256);
            store_account(a, g);
            hl_info("agents", "agent %s: %s", g->number, p->is_new ? "added" : "password changed");
            hl_ctl_reply(p->req, json_pack("{s:b,s:s,s:s}", "ok", 1, "agent", g->number,
                                           "done", p->is_new ? "added" : "password set"));
        }
    }
    sodium_memzero(p, sizeof *p);
    free(p);
}

/* ---- ctl ---------------------------------------------------------------------------- */

static json_t *agent_json(const agent *g, double now)
{
    json_t *contacts = json_array();
    for (int k = 0; k < g->nb; k++) {
        double left = g->b[k].expires_at - now;
        json_array_append_new(contacts, json_pack("{s:s,s:s,s:i,s:f,s:i}", "contact", g->b[k].uri,
                              "source", g->b[k].source, "expires_in", left > 0 ? (int)(left + 0.5) : 0,
                              "expires_at", g->b[k].expires_at, "qualify_fails",
                              g->b[k].qualify_fails));
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:b}", "number", g->number, "name", g->name,
                          "centre", g->centre, "skills", g->skills, "role", g->role,
                          "contacts", contacts, "locked", locked(&g->fails, now));
    return o;
}

/* The ACD's state of each agent joins its account in `ctl agents`. */
static json_t *with_acd(hl_agents *a, const agent *g, json_t *o)
{
    json_t *acd = a->watch.describe ? a->watch.describe(a->watch_arg, g->number) : NULL;
    if (acd)
        json_object_update(o, acd), json_decref(acd);
    return o;
}

void hl_agents_set_watch(hl_agents *a, const hl_agents_watch *w, void *arg)
{
    a->watch = *w;
    a->watch_arg = arg;
    for (int i = 0; i < a->n && w->account; i++) {
        agent *g = a->list[i];
        w->account(arg, g->number, g->name, g->centre, g->skills, g->role);
    }
}

json_t *hl_agents_json(hl_agents *a)
{
    double now = hl_clock_wall(a->clock);
    json_t *list = json_array();
    for (int i = 0; i < a->n; i++)
        json_array_append_new(list, with_acd(a, a->list[i], agent_json(a->list[i], now)));
    return list;
}

static json_t *cmd_agents(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    return json_pack("{s:b,s:o}", "ok", 1, "agents", hl_agents_json(arg));
}

/* The value after flag in args (from index 2), NULL when absent; *bad when it has none. */
static const char *flag(json_t *args, const char *name, bool *bad)
{
    for (size_t i = 2; i < json_array_size(args); i++)
        if (!strcmp(json_string_value(json_array_get(args, i)) ?: "", name)) {
            const char *v = json_string_value(json_array_get(args, i + 1));
            if (!v)
                *bad = true;
            return v;
        }
    return NULL;
}

/* --name/--skills/--role/--centre into g; NULL, or what is wrong. */
static const char *set_fields(json_t *args, agent *g)
{
    bool bad = false;
    const char *name = flag(args, "--name", &bad), *skills = flag(args, "--skills", &bad),
               *role = flag(args, "--role", &bad), *centre = flag(args, "--centre", &bad);
    for (size_t i = 2; i < json_array_size(args); i += 2) {
        const char *f = json_string_value(json_array_get(args, i)) ?: "";
        if (strcmp(f, "--name") && strcmp(f, "--skills") && strcmp(f, "--role") && strcmp(f, "--centre"))
            return "unknown option (--name, --skills, --role, --centre)";
    }
    if (bad)
        return "an option needs a value";
    if (name && strlen(name) >= sizeof g->name)
        return "--name is too long (128 bytes)";
    if (skills && *skills && !chars_ok(skills, SKILL_CHARS, sizeof g->skills - 1))
        return "--skills: a comma-separated list of letters, digits, '.', '_', '-'";
    if (role && !role_ok(role))
        return "--role must be agent, leader or supervisor";
    if (centre && !chars_ok(centre, AGENT_FIELD_CHARS, sizeof g->centre - 1))
        return "--centre: letters, digits, '.', '_', '-'";
    if (name) snprintf(g->name, sizeof g->name, "%s", name);
    if (skills) snprintf(g->skills, sizeof g->skills, "%s", skills);
    if (role) snprintf(g->role, sizeof g->role, "%s", role);
    if (centre) snprintf(g->centre, sizeof g->centre, "%s", centre);
    return NULL;
}

static json_t *start_hashing(hl_agents *a, hl_ctl_req *req, const agent *fields, bool is_new,
                             json_t *request, char *err, int errlen)
{
    const char *pw = json_string_value(json_object_get(request, "password"));
    if (!password_ok(pw)) {
        snprintf(err, errlen, "a password (1 to %d bytes, one line) is read from standard input",
                 PASSWORD_MAX);
        return NULL;
    }
    pw_work *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->a = a;
    p->req = req;
    p->fields = *fields;
    p->is_new = is_new;
    snprintf(p->password, sizeof p->password, "%s", pw);
    p->work.data = p;
    if (uv_queue_work(a->uv, &p->work, pw_hash_work, pw_hash_done) != 0) {
        sodium_memzero(p, sizeof *p);
        free(p);
        snprintf(err, errlen, "cannot start hashing");
        return NULL;
    }
    a->hashing++;
    return HL_CTL_DEFERRED;
}

static json_t *agent_add(hl_agents *a, hl_ctl_req *req, json_t *request, const char *number,
                         char *err, int errlen)
{
    json_t *args = json_object_get(request, "args");
    agent f = { 0 };
    snprintf(f.number, sizeof f.number, "%s", number);
    snprintf(f.role, sizeof f.role, "agent");
    const char *why = set_fields(args, &f);
    if (!why && !f.centre[0])
        why = "--centre CODE is required";
    if (why) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    if (find(a, number)) {
        snprintf(err, errlen, "agent %s exists (set, password or remove it)", number);
        return NULL;
    }
    return start_hashing(a, req, &f, true, request, err, errlen);
}

static json_t *agent_set(hl_agents *a, agent *g, json_t *request, char *err, int errlen)
{
    agent copy = *g;
    const char *why = set_fields(json_object_get(request, "args"), &copy);
    if (why) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    memcpy(g->name, copy.name, sizeof g->name);
    memcpy(g->centre, copy.centre, sizeof g->centre);
    memcpy(g->skills, copy.skills, sizeof g->skills);
    memcpy(g->role, copy.role, sizeof g->role);
    sodium_memzero(&copy, sizeof copy);
    store_account(a, g);
    return json_pack("{s:b,s:o}", "ok", 1, "agent", agent_json(g, hl_clock_wall(a->clock)));
}

static json_t *agent_remove(hl_agents *a, agent *g)
{
    json_t *p = json_pack("[s]", g->number);
    hl_store_exec(a->store, "DELETE FROM agent_contacts WHERE number = ?1", p, write_done, NULL);
    hl_store_exec(a->store, "DELETE FROM agents WHERE number = ?1", p, write_done, NULL);
    json_decref(p);
    json_t *r = json_pack("{s:b,s:s}", "ok", 1, "removed", g->number);
    hl_info("agents", "agent %s removed", g->number);
    int had = g->nb;
    while (g->nb)
        drop_binding(g, 0);
    changed(a, g, had);
    if (a->watch.removed)
        a->watch.removed(a->watch_arg, g->number);
    remove_mem(a, g);
    schedule_expiry(a);
    return r;
}

static json_t *agent_unlock(hl_agents *a, agent *g)
{
    g->fails = (failures){ 0 };
    hl_info("agents", "agent %s: lockout lifted by ctl", g->number);
    return json_pack("{s:b,s:s}", "ok", 1, "unlocked", g->number);
}

#define AGENT_USAGE "usage: agent add NUMBER --centre CODE [--name N] [--skills LIST] " \
    "[--role agent|leader|supervisor] (password on stdin) | agent list | agent set NUMBER " \
    "[--name|--skills|--role|--centre V] | agent remove NUMBER | agent password NUMBER " \
    "(stdin) | agent unlock NUMBER"

static json_t *cmd_agent(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_agents *a = arg;
    json_t *args = json_object_get(request, "args");
    const char *what = json_string_value(json_array_get(args, 0)) ?: "list";
    const char *number = json_string_value(json_array_get(args, 1));
    if (!strcmp(what, "list"))
        return cmd_agents(a, req, request, err, errlen);
    if (!strcmp(what, "state") && a->watch.ctl_state) {     /* the ACD's (app/acd_app.c) */
        if (!number || !find(a, number)) {
            snprintf(err, errlen, number ? "no agent %s" : "usage: agent state NUMBER ready|not-ready [REASON]|logged-out", number);
            return NULL;
        }
        return a->watch.ctl_state(a->watch_arg, args, err, errlen);
    }
    if (!number || !chars_ok(number, AGENT_FIELD_CHARS, 32)) {
        snprintf(err, errlen, "%s", AGENT_USAGE);
        return NULL;
    }
    if (!strcmp(what, "add"))
        return agent_add(a, req, request, number, err, errlen);
    agent *g = find(a, number);
    if (!g && (!strcmp(what, "set") || !strcmp(what, "remove") || !strcmp(what, "password") ||
               !strcmp(what, "unlock"))) {
        snprintf(err, errlen, "no agent %s", number);
        return NULL;
    }
    if (!strcmp(what, "set"))
        return agent_set(a, g, request, err, errlen);
    if (!strcmp(what, "remove"))
        return agent_remove(a, g);
    if (!strcmp(what, "unlock"))
        return agent_unlock(a, g);
    if (!strcmp(what, "password"))
        return start_hashing(a, req, g, false, request, err, errlen);
    snprintf(err, errlen, "%s", AGENT_USAGE);
    return NULL;
}

void hl_agents_register_ctl(hl_agents *a, hl_ctl *ctl)
{
    hl_ctl_register(ctl, "agent", cmd_agent, a, "agent add|list|set|remove|password|unlock: "
                    "agents' accounts (passwords from standard input)");
    hl_ctl_register(ctl, "agents", cmd_agents, a, "agents with their registered phones and expiry");
}

json_t *hl_agents_status(hl_agents *a)
{
    double now = hl_clock_wall(a->clock);
    json_t *locked_out = json_array();
    for (int i = 0; i < a->n; i++)
        if (locked(&a->list[i]->fails, now))
            json_array_append_new(locked_out, json_pack("{s:s,s:i}", "agent", a->list[i]->number,
                                  "for_s", (int)(a->list[i]->fails.locked_until - now + 0.5)));
    for (int i = 0; i < a->nsources; i++)
        if (locked(&a->sources[i].fails, now)) {
            char ip[64];
            const uint8_t *b = a->sources[i].ip;
            static const uint8_t v4[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
            if (!memcmp(b, v4, 12))
                snprintf(ip, sizeof ip, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
            else
                uv_inet_ntop(AF_INET6, b, ip, sizeof ip);
            json_array_append_new(locked_out, json_pack("{s:s,s:i}", "source", ip, "for_s",
                                  (int)(a->sources[i].fails.locked_until - now + 0.5)));
        }
    int bound = 0;
    for (int i = 0; i < a->n; i++)
        bound += a->list[i]->nb;
    return json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "accounts", a->n,
                     "registered_contacts", bound, "registers", (json_int_t)a->st.registered,
                     "unregisters", (json_int_t)a->st.removed, "expired", (json_int_t)a->st.expired,
                     "auth_failed", (json_int_t)a->st.auth_failed,
                     "locked_refused", (json_int_t)a->st.locked_refused,
                     "lockouts", (json_int_t)a->st.lockouts, "replays", (json_int_t)a->st.replays,
                     "stale_nonces", (json_int_t)a->st.stale,
                     "agent_invites", (json_int_t)a->st.invites,
                     "qualify_removed", (json_int_t)a->st.qualify_removed, "locked_out", locked_out);
}

/* ---- life ------------------------------------------------------------------------------ */

hl_agents *hl_agents_new(uv_loop_t *uv, hl_store *store, const hl_config *live_cfg,
                         const hl_clock *clock, char *err, int errlen)
{
    hl_agents *a = calloc(1, sizeof *a);
    if (!a || !(a->sources = calloc(SOURCES_TRACKED, sizeof *a->sources))) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->uv = uv;
    a->store = store;
    a->cfg = live_cfg;
    a->clock = clock;
    if (sodium_init() < 0 || load(a, err, errlen) != 0) {
        hl_agents_close(a);
        return NULL;
    }
    uv_timer_init(uv, &a->expiry);
    uv_timer_init(uv, &a->qualify);
    a->expiry.data = a->qualify.data = a;
    a->open_handles = 2;
    uv_unref((uv_handle_t *)&a->expiry);
    uv_unref((uv_handle_t *)&a->qualify);
    schedule_expiry(a);
    hl_info("agents", "%d agents loaded", a->n);
    return a;
}

void hl_agents_set_sip(hl_agents *a, hl_sip *sip)
{
    a->sip = sip;
    if (sip && a->open_handles)   /* the first round at once: a restart's phones are checked */
        uv_timer_start(&a->qualify, on_qualify, 0, 0);
}

void hl_agents_set_verify(hl_agents *a, hl_agents_verify_fn fn, void *arg)
{
    a->verify = fn;
    a->verify_arg = arg;
}

static void agents_free(hl_agents *a)
{
    for (int i = 0; i < a->n; i++) {
        sodium_memzero(a->list[i], sizeof *a->list[i]);
        free(a->list[i]);
    }
    free(a->list);
    free(a->sources);
    free(a);
}

/* A timer is closed; the last one frees, unless a hash still on the pool will. */
static void timer_closed(uv_handle_t *h)
{
    hl_agents *a = h->data;
    if (--a->open_handles == 0 && !a->hashing)
        agents_free(a);
}

void hl_agents_close(hl_agents *a)
{
    if (!a)
        return;
    a->closing = true;
    for (int i = 0; i < a->n; i++)      /* the SIP stack must not answer into freed memory */
        for (int k = 0; k < a->list[i]->nb; k++) {
            hl_sip_ping_cancel(a->list[i]->b[k].ping);
            a->list[i]->b[k].ping = NULL;
        }
    if (a->open_handles) {
        uv_close((uv_handle_t *)&a->expiry, timer_closed);
        uv_close((uv_handle_t *)&a->qualify, timer_closed);
    } else if (!a->hashing) {
        agents_free(a);
    }
}
