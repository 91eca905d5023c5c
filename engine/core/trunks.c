/* trunks.c — rules/trunks.lua read as data, and the matching of addresses, numbers and hosts
 * against it (see trunks.h). */
#include "core/trunks.h"
#include "core/config.h"
#include "core/ipaddr.h"
#include <lauxlib.h>
#include <lua.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A data chunk needs a few thousand instructions; one that runs longer is a mistake (a loop
 * left in), and must not hang the reload that reads it. */
#define TRUNKS_MAX_INSTRUCTIONS 1000000
#define TRUNK_NAME_MAX 64
#define HOST_MAX 253          /* a DNS name */
#define LIST_MAX 256          /* entries in one list: a site has a few trunks, not thousands */

/* ---- addresses -------------------------------------------------------------------------- */

int hl_cidr_parse(const char *s, hl_cidr *out)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, s, alen);
    addr[alen] = 0;
    if (hl_ip16_from_text(addr, out->ip) != 0)
        return -1;
    bool v4 = strchr(addr, ':') == NULL;
    int most = v4 ? 32 : 128, prefix = most;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 0 || p > most)
            return -1;
        prefix = (int)p;
    }
    out->bits = v4 ? 96 + prefix : prefix;
    for (int i = 0; i < 16; i++) {   /* host bits written into the network are ignored */
        int keep = out->bits - i * 8;
        out->ip[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
    return 0;
}

bool hl_cidr_contains(const hl_cidr *net, const uint8_t ip[16])
{
    int whole = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->ip, ip, whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (ip[whole] & mask) == net->ip[whole];
}

/* ---- number patterns -------------------------------------------------------------------- */

/* The set "[...]" starting at p: true when digit c is in it; *next is past the ']'. */
static bool set_has(const char *p, char c, const char **next)
{
    bool in = false;
    for (p++; *p && *p != ']'; p++) {
        if (p[1] == '-' && p[2] && p[2] != ']') {
            in = in || (c >= p[0] && c <= p[2]);
            p += 2;
        } else {
            in = in || c == *p;
        }
    }
    *next = *p ? p + 1 : p;
    return in;
}

bool hl_number_pattern_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > HL_NUMBER_PATTERN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if ((c == '.' || c == '!') && i != n - 1)
            return false;                 /* a wildcard ends the pattern */
        if ((unsigned char)c <= ' ' || (unsigned char)c >= 127 || c == ']' || c == '-')
            return false;
        if (c != '[')
            continue;
        size_t j = i + 1, members = 0;
        for (; j < n && p[j] != ']'; j++) {
            bool range = p[j] == '-';
            if (range && (j == i + 1 || j + 1 >= n || !isdigit((unsigned char)p[j - 1]) ||
                          !isdigit((unsigned char)p[j + 1]) || p[j - 1] > p[j + 1]))
                return false;
            if (!range && !isdigit((unsigned char)p[j]))
                return false;
            members++;
        }
        if (j >= n || members == 0)
            return false;
        i = j;
    }
    return true;
}

bool hl_number_match(const char *p, const char *s)
{
    while (*p) {
        if (*p == '.')
            return *s != 0;
        if (*p == '!')
            return true;
        char c = *s;
        if (!c)
            return false;
        bool digit = c >= '0' && c <= '9';
        if (*p == '[') {
            if (!digit || !set_has(p, c, &p))
                return false;
            s++;
            continue;
        }
        bool ok = *p == 'X' ? digit : *p == 'Z' ? c >= '1' && c <= '9'
                : *p == 'N' ? c >= '2' && c <= '9' : c == *p;
        if (!ok)
            return false;
        p++;
        s++;
    }
    return *s == 0;
}

const char *hl_number_list_match(const hl_str_list *list, const char *number)
{
    for (int i = 0; i < list->n; i++)
        if (hl_number_match(list->v[i], number))
            return list->v[i];
    return NULL;
}

/* ---- URIs ------------------------------------------------------------------------------- */

static void copy_span(char *out, size_t len, const char *s, size_t n)
{
    if (!len)
        return;
    if (n >= len)
        n = len - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

int hl_uri_user_host(const char *uri, char *user, size_t ulen, char *host, size_t hlen)
{
    copy_span(user, ulen, "", 0);
    copy_span(host, hlen, "", 0);
    const char *p = NULL;
    bool tel = false;
    for (const char *q = uri; *q && !p; q++) {
        if (!strncasecmp(q, "sip:", 4))
            p = q + 4;
        else if (!strncasecmp(q, "sips:", 5))
            p = q + 5;
        else if (!strncasecmp(q, "tel:", 4))
            p = q + 4, tel = true;
    }
    if (!p)
        return -1;
    size_t end = strcspn(p, ">? \t");
    if (tel) {
        copy_span(user, ulen, p, strcspn(p, ";>? \t"));
        return 0;
    }
    const char *at = memchr(p, '@', end);
    if (at) {
        copy_span(user, ulen, p, strcspn(p, ";:@"));
        p = at + 1;
    }
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (close)
            copy_span(host, hlen, p + 1, (size_t)(close - p - 1));
    } else {
        copy_span(host, hlen, p, strcspn(p, ":;>? \t"));
    }
    return 0;
}

/* ---- matching --------------------------------------------------------------------------- */

static bool trunk_has_source(const hl_trunk *k, const uint8_t ip[16])
{
    for (int i = 0; i < k->nsources; i++)
        if (hl_cidr_contains(&k->sources[i], ip))
            return true;
    return false;
}

const hl_trunk *hl_trunks_by_source(const hl_trunks *t, const uint8_t ip[16])
{
    for (int i = 0; t && i < t->ntrunks; i++)
        if (trunk_has_source(&t->trunks[i], ip))
            return &t->trunks[i];
    return NULL;
}

static bool host_matches(const char *entry, const char *host)
{
    if (entry[0] == '*' && entry[1] == '.') {
        size_t el = strlen(entry + 1), hl = strlen(host);
        return hl > el && !strcasecmp(host + hl - el, entry + 1);
    }
    return !strcasecmp(entry, host);
}

const hl_trunk *hl_trunks_by_host(const hl_trunks *t, const char *host)
{
    uint8_t ip[16];
    bool literal = hl_ip16_from_text(host, ip) == 0;
    for (int i = 0; t && host[0] && i < t->ntrunks; i++) {
        const hl_trunk *k = &t->trunks[i];
        if (literal && trunk_has_source(k, ip))
            return k;
        for (int h = 0; h < k->hosts.n; h++)
            if (host_matches(k->hosts.v[h], host))
                return k;
    }
    return NULL;
}

const hl_dial_rule *hl_trunks_dial_rule(const hl_trunks *t, const char *purpose)
{
    if (t && t->builtin && t->nrules)
        return &t->rules[0];          /* built in: any purpose, any number, loopback only */
    for (int i = 0; t && i < t->nrules; i++)
        if (!strcmp(t->rules[i].purpose, purpose))
            return &t->rules[i];
    return NULL;
}

/* ---- freeing ---------------------------------------------------------------------------- */

static void list_free(hl_str_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void hl_trunks_free(hl_trunks *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->ntrunks; i++) {
        free(t->trunks[i].name);
        free(t->trunks[i].digest_user);
        free(t->trunks[i].digest_password);
        free(t->trunks[i].digest_realm);
        free(t->trunks[i].login_user);
        free(t->trunks[i].login_password);
        free(t->trunks[i].sources);
        list_free(&t->trunks[i].hosts);
        list_free(&t->trunks[i].deliver);
    }
    for (int i = 0; i < t->nrules; i++) {
        free(t->rules[i].purpose);
        free(t->rules[i].reason);
        list_free(&t->rules[i].numbers);
    }
    free(t->trunks);
    free(t->rules);
    free(t);
}

/* ---- reading rules/trunks.lua ----------------------------------------------------------- */

typedef struct rd {
    lua_State  *L;
    hl_trunks  *t;
    char       *err;
    int         errlen;
} rd;

static int fail(rd *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(rd *r, int line, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(r->err, r->errlen, "%s:%d: %s", r->t->path, line, msg);
    else
        snprintf(r->err, r->errlen, "%s: %s", r->t->path, msg);
    return -1;
}

/* The first line of path holding the string literal "text" or 'text' outside a comment. */
static int literal_line(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024], dq[TRUNK_NAME_MAX + 3], sq[TRUNK_NAME_MAX + 3];
    snprintf(dq, sizeof dq, "\"%s\"", text);
    snprintf(sq, sizeof sq, "'%s'", text);
    int found = 0;
    for (int no = 1; !found && fgets(line, sizeof line, f); no++) {
        char *comment = strstr(line, "--");
        if (comment)
            *comment = 0;
        if (strstr(line, dq) || strstr(line, sq))
            found = no;
    }
    fclose(f);
    return found;
}

/* Every key of the table at idx is one of names[]; else the first stranger is refused. */
static int only_fields(rd *r, int idx, const char *const *names, int line, const char *what)
{
    lua_State *L = r->L;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        bool known = false;
        for (int i = 0; names[i] && lua_type(L, -1) == LUA_TSTRING; i++)
            known = known || !strcmp(names[i], lua_tostring(L, -1));
        if (!known) {
            char key[80];
            snprintf(key, sizeof key, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "[?]");
            lua_pop(L, 1);
            int at = hl_config_line_of(r->t->path, key);  /* where it is written, if it can be found */
            return fail(r, at >= line ? at : line, "%s: unknown field '%s'", what, key);
        }
    }
    return 0;
}

typedef bool (*entry_check)(const char *);

/* The field name of the table at idx, a list of strings each passing check, into out. */
static int read_list(rd *r, int idx, const char *name, entry_check check, const char *expect,
                     hl_str_list *out, int line, const char *what)
{
    lua_State *L = r->L;
    int type = lua_getfield(L, idx, name);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    lua_Integer n = type == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : -1;
    if (n < 0 || n > LIST_MAX) {
        lua_pop(L, 1);
        return fail(r, line, "%s: %s must be a list of at most %d strings", what, name, LIST_MAX);
    }
    out->v = calloc((size_t)n + 1, sizeof *out->v);
    if (!out->v) {
        lua_pop(L, 1);
        return fail(r, line, "out of memory");
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!v || !check(v)) {
            char shown[80];
            snprintf(shown, sizeof shown, "%s", v ? v : luaL_typename(L, -1));
            lua_pop(L, 2);
            return fail(r, line, "%s: %s[%lld] '%s' is not %s", what, name, (long long)i, shown, expect);
        }
        out->v[out->n++] = strdup(v);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* Optional field name of the table at idx: a whole number in [lo, hi] (def when absent). */
static int read_int(rd *r, int idx, const char *name, int lo, int hi, int def, int *out,
                    int line, const char *what, const char *unit)
{
    lua_State *L = r->L;
    int type = lua_getfield(L, idx, name);
    int isnum = 0;
    lua_Integer v = type == LUA_TNUMBER ? lua_tointegerx(L, -1, &isnum) : def;
    lua_pop(L, 1);
    if (type == LUA_TNIL) {
        *out = def;
        return 0;
    }
    if (!isnum || v < lo || v > hi)
        return fail(r, line, "%s: %s must be a whole number from %d to %d (%s)", what, name, lo, hi, unit);
    *out = (int)v;
    return 0;
}

/* Field name of the table at idx: a string (NULL when absent and optional). */
static int read_text(rd *r, int idx, const char *name, bool required, char **out, int line,
                     const char *what)
{
    lua_State *L = r->L;
    int type = lua_getfield(L, idx, name);
    size_t n = 0;
    const char *v = type == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if ((type == LUA_TNIL && required) || (type != LUA_TNIL && (!v || n == 0))) {
        lua_pop(L, 1);
        return fail(r, line, "%s: %s must be a non-empty string", what, name);
    }
    *out = v ? strdup(v) : NULL;
    lua_pop(L, 1);
    return 0;
}

static bool cidr_ok(const char *s)
{
    hl_cidr c;
    return hl_cidr_parse(s, &c) == 0;
}

static bool host_ok(const char *s)
{
    size_t n = strlen(s);
    const char *name = s[0] == '*' && s[1] == '.' ? s + 2 : s;
    return n > 0 && n <= HOST_MAX && *name &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == strlen(name);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= TRUNK_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static const char *const TRUNK_FIELDS[] = { "name", "sources", "hosts", "deliver", "trust_pai",
                                            "rate_per_sec", "digest", "login", "srv", "reason", NULL };
static const char *const DIGEST_FIELDS[] = { "user", "password", "realm", NULL };
static const char *const LOGIN_FIELDS[] = { "user", "password", NULL };

/* field = { user = "...", password = "..." [, realm = "..."] } of the trunk at idx (optional);
 * realm (when asked for) defaults to the trunk's name. */
static int read_credentials(rd *r, int idx, hl_trunk *k, const char *what, const char *field,
                            char **user, char **password, char **realm)
{
    lua_State *L = r->L;
    int type = lua_getfield(L, idx, field);
    int rc = 0;
    if (type == LUA_TTABLE) {
        int d = lua_gettop(L);
        char where[TRUNK_NAME_MAX + 40];
        snprintf(where, sizeof where, "%s: %s", what, field);
        rc = only_fields(r, d, realm ? DIGEST_FIELDS : LOGIN_FIELDS, k->line, where);
        if (rc == 0)
            rc = read_text(r, d, "user", true, user, k->line, where);
        if (rc == 0)
            rc = read_text(r, d, "password", true, password, k->line, where);
        if (rc == 0 && realm)
            rc = read_text(r, d, "realm", false, realm, k->line, where);
        if (rc == 0 && realm && !*realm && !(*realm = strdup(k->name)))
            rc = fail(r, k->line, "out of memory");
    } else if (type != LUA_TNIL) {
        rc = fail(r, k->line, "%s: %s must be a table { user = ..., password = ... }", what, field);
    }
    lua_pop(L, 1);
    return rc;
}

/* Optional field name of the table at idx: true or false (false when absent). */
static int read_bool(rd *r, int idx, const char *name, bool *out, int line, const char *what)
{
    int type = lua_getfield(r->L, idx, name);
    *out = lua_toboolean(r->L, -1);
    lua_pop(r->L, 1);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        return fail(r, line, "%s: %s must be true or false", what, name);
    return 0;
}

/* trunks[i], the table on top of the stack, into k. */
static int read_trunk(rd *r, int i, hl_trunk *k, int list_line)
{
    lua_State *L = r->L;
    int idx = lua_gettop(L);
    char what[TRUNK_NAME_MAX + 32];
    snprintf(what, sizeof what, "trunks[%d]", i);
    if (!lua_istable(L, idx))
        return fail(r, list_line, "%s must be a table { name = ..., sources = {...}, ... }", what);
    if (lua_getfield(L, idx, "name") != LUA_TSTRING || !name_ok(lua_tostring(L, -1))) {
        lua_pop(L, 1);
        return fail(r, list_line, "%s: name must be 1-%d of A-Z a-z 0-9 _ . -", what, TRUNK_NAME_MAX);
    }
    k->name = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    k->line = literal_line(r->t->path, k->name);
    if (!k->line)
        k->line = list_line;
    snprintf(what, sizeof what, "trunk '%s'", k->name);
    for (int j = 0; j < i - 1; j++)
        if (!strcmp(r->t->trunks[j].name, k->name))
            return fail(r, k->line, "%s: the name is used twice", what);
    if (only_fields(r, idx, TRUNK_FIELDS, k->line, what) != 0)
        return -1;
    hl_str_list sources = { 0 };
    int rc = read_list(r, idx, "sources", cidr_ok, "an address or network (\"10.1.0.0/16\", \"::1\")",
                       &sources, k->line, what);
    if (rc == 0 && sources.n) {
        k->sources = calloc((size_t)sources.n, sizeof *k->sources);
        for (int s = 0; k->sources && s < sources.n; s++)
            hl_cidr_parse(sources.v[s], &k->sources[k->nsources++]);
    }
    list_free(&sources);
    if (rc != 0 ||
        read_list(r, idx, "hosts", host_ok, "a host name or address (\"gw.example\", \"*.example\")",
                  &k->hosts, k->line, what) != 0 ||
        read_list(r, idx, "deliver", hl_number_pattern_valid, "a number pattern (see trunks.lua's head)",
                  &k->deliver, k->line, what) != 0 ||
        read_int(r, idx, "rate_per_sec", 1, 1000000, 0, &k->rate_per_sec, k->line, what, "requests/s") != 0 ||
        read_credentials(r, idx, k, what, "digest", &k->digest_user, &k->digest_password,
                         &k->digest_realm) != 0 ||
        read_credentials(r, idx, k, what, "login", &k->login_user, &k->login_password, NULL) != 0)
        return -1;
    if (read_bool(r, idx, "trust_pai", &k->trust_pai, k->line, what) != 0 ||
        read_bool(r, idx, "srv", &k->srv, k->line, what) != 0)
        return -1;
    char *reason = NULL;
    if (read_text(r, idx, "reason", false, &reason, k->line, what) != 0)
        return -1;
    free(reason);
    if (!k->nsources && !k->hosts.n)
        return fail(r, k->line, "%s: needs sources (who calls in) or hosts (where it is dialled)", what);
    return 0;
}

static int read_trunks(rd *r)
{
    lua_State *L = r->L;
    int line = hl_config_line_of(r->t->path, "trunks");
    int type = lua_getfield(L, 1, "trunks");
    lua_Integer n = type == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : type == LUA_TNIL ? 0 : -1;
    if (n < 0 || n > LIST_MAX) {
        lua_pop(L, 1);
        return fail(r, line, "trunks must be a list of at most %d trunks", LIST_MAX);
    }
    r->t->trunks = calloc((size_t)n + 1, sizeof *r->t->trunks);
    if (!r->t->trunks)
        return fail(r, line, "out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        int rc = read_trunk(r, (int)i, &r->t->trunks[r->t->ntrunks++], line);
        lua_pop(L, 1);
        if (rc != 0)
            return -1;
    }
    lua_pop(L, 1);
    return 0;
}

static const char *const RULE_FIELDS[] = { "numbers", "per_caller_day", "reason", NULL };

/* dial[purpose], the table on top of the stack, into d. */
static int read_rule(rd *r, const char *purpose, hl_dial_rule *d, int dial_line)
{
    lua_State *L = r->L;
    int idx = lua_gettop(L);
    d->purpose = strdup(purpose);
    d->line = hl_config_line_of(r->t->path, purpose);
    if (!d->line)
        d->line = dial_line;
    char what[96];
    snprintf(what, sizeof what, "dial rule '%.40s'", purpose);
    if (!name_ok(purpose))
        return fail(r, d->line, "%s: a purpose is 1-%d of A-Z a-z 0-9 _ . -", what, TRUNK_NAME_MAX);
    if (!lua_istable(L, idx))
        return fail(r, d->line, "%s must be a table { numbers = {...}, per_caller_day = N, reason = \"...\" }", what);
    if (only_fields(r, idx, RULE_FIELDS, d->line, what) != 0 ||
        read_list(r, idx, "numbers", hl_number_pattern_valid, "a number pattern (see trunks.lua's head)",
                  &d->numbers, d->line, what) != 0 ||
        read_text(r, idx, "reason", true, &d->reason, d->line, what) != 0)
        return -1;
    if (!d->numbers.n)
        return fail(r, d->line, "%s: numbers must list at least one pattern", what);
    if (lua_getfield(L, idx, "per_caller_day") == LUA_TNIL) {
        lua_pop(L, 1);
        return fail(r, d->line, "%s: per_caller_day must be set (0 = no cap, say why in reason)", what);
    }
    lua_pop(L, 1);
    return read_int(r, idx, "per_caller_day", 0, 1000000, 0, &d->per_caller_day, d->line, what, "calls");
}

static int read_rules(rd *r)
{
    lua_State *L = r->L;
    int line = hl_config_line_of(r->t->path, "dial");
    int type = lua_getfield(L, 1, "dial");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (type != LUA_TTABLE) {
        lua_pop(L, 1);
        return fail(r, line, "dial must be a table of purpose = { numbers = ..., ... }");
    }
    int n = 0;
    for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1))
        n++;
    if (n > LIST_MAX)
        return fail(r, line, "dial: at most %d purposes", LIST_MAX);
    r->t->rules = calloc((size_t)n + 1, sizeof *r->t->rules);
    if (!r->t->rules)
        return fail(r, line, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return fail(r, line, "dial: every key is a purpose name (\"fax\", \"transfer\", ...)");
        char purpose[80];
        snprintf(purpose, sizeof purpose, "%s", lua_tostring(L, -2));
        if (read_rule(r, purpose, &r->t->rules[r->t->nrules++], line) != 0)
            return -1;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

static const char *const TOP_FIELDS[] = { "trunks", "dial", NULL };

static void too_long(lua_State *L, lua_Debug *ar)
{
    luaL_error(L, "runs too long for a data file (a loop?)");
}

static int read_file(rd *r)
{
    lua_State *L = r->L;
    lua_sethook(L, too_long, LUA_MASKCOUNT, TRUNKS_MAX_INSTRUCTIONS);
    if (luaL_loadfilex(L, r->t->path, "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(r->err, r->errlen, "%s", lua_tostring(L, -1));
        return -1;
    }
    lua_sethook(L, NULL, 0, 0);
    if (!lua_istable(L, 1))
        return fail(r, 0, "must return a table { trunks = {...}, dial = {...} }");
    if (only_fields(r, 1, TOP_FIELDS, 0, "the returned table") != 0 || read_trunks(r) != 0 ||
        read_rules(r) != 0)
        return -1;
    return 0;
}

/* No trunks.lua: loopback only, in and out, any number. */
static int builtin(hl_trunks *t)
{
    snprintf(t->path, sizeof t->path, "built in (no trunks.lua)");
    t->builtin = true;
    t->trunks = calloc(1, sizeof *t->trunks);
    t->rules = calloc(1, sizeof *t->rules);
    if (!t->trunks || !t->rules)
        return -1;
    hl_trunk *k = &t->trunks[0];
    t->ntrunks = 1;
    k->name = strdup("loopback");
    k->sources = calloc(2, sizeof *k->sources);
    k->deliver.v = calloc(1, sizeof *k->deliver.v);
    hl_dial_rule *d = &t->rules[0];
    t->nrules = 1;
    d->purpose = strdup("any");
    d->reason = strdup("no trunks.lua: calls stay on this machine");
    d->numbers.v = calloc(1, sizeof *d->numbers.v);
    if (!k->name || !k->sources || !k->deliver.v || !d->purpose || !d->reason || !d->numbers.v)
        return -1;
    hl_cidr_parse("127.0.0.0/8", &k->sources[k->nsources++]);
    hl_cidr_parse("::1", &k->sources[k->nsources++]);
    k->deliver.v[k->deliver.n++] = strdup("!");
    d->numbers.v[d->numbers.n++] = strdup("!");
    return k->deliver.v[0] && d->numbers.v[0] ? 0 : -1;
}

hl_trunks *hl_trunks_load(const char *rules_dir, char *err, int errlen)
{
    hl_trunks *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "trunks: out of memory");
        return NULL;
    }
    snprintf(t->path, sizeof t->path, "%s/trunks.lua", rules_dir);
    struct stat st;
    if (stat(t->path, &st) != 0 && errno == ENOENT) {
        if (builtin(t) == 0)
            return t;
        hl_trunks_free(t);
        snprintf(err, errlen, "trunks: out of memory");
        return NULL;
    }
    /* A plain data chunk: no libraries at all, so it cannot do anything but return a table. */
    rd r = { .L = luaL_newstate(), .t = t, .err = err, .errlen = errlen };
    int rc = r.L ? read_file(&r) : fail(&r, 0, "out of memory");
    if (r.L)
        lua_close(r.L);
    if (rc != 0) {
        hl_trunks_free(t);
        return NULL;
    }
    return t;
}
