/* trunks.h — who may call in and where the engine may call out, read from rules/trunks.lua.
 *
 * The lists are policy (rules/trunks.lua, a plain data chunk like rules/engine.lua); this is
 * the mechanics: reading them strictly (an unknown field, a bad address or pattern is refused
 * with file:line), matching a source address against networks (CIDR, IPv4 and IPv6), a
 * number against number patterns, a host against a trunk's hosts.  A policy snapshot holds
 * one hl_trunks (lua/policy.c reads it at every build), so a reload changes them.
 *
 * Number patterns (anchored: the whole number must match), as dial plans write them:
 *   0-9 + * # and any other character stand for themselves;
 *   X any digit, Z 1-9, N 2-9, [1-4] or [135-9] one digit of the set;
 *   a final . one or more characters of any kind, a final ! zero or more.
 * e.g. "0[1-9]XXXXXXXX" (a fixed line with its area code), "1[3-9]XXXXXXXXX" (a mobile). */
#ifndef HL_TRUNKS_H
#define HL_TRUNKS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/ipaddr.h"   /* hl_ip16_from_text */

#define HL_NUMBER_PATTERN_MAX 64   /* one pattern: a number is at most 32 characters */

typedef struct hl_cidr {
    uint8_t ip[16];     /* IPv4 as ::ffff:a.b.c.d */
    int     bits;       /* prefix length over the 128 bits */
} hl_cidr;

typedef struct hl_str_list {
    char **v;
    int    n;
} hl_str_list;

typedef struct hl_trunk {
    char       *name;
    int         line;           /* where rules/trunks.lua declares it (0: built in) */
    hl_cidr    *sources;        /* where its requests come from */
    int         nsources;
    hl_str_list hosts;          /* names the engine dials through it ("*.example" a suffix) */
    hl_str_list deliver;        /* number patterns of the called numbers it brings in */
    bool        trust_pai;      /* its P-Asserted-Identity is the caller's number */
    bool        srv;            /* its host names are looked up by SRV first (RFC 3263) */
    int         rate_per_sec;   /* its own per-source SIP limit (0: sip_rate_per_sec) */
    /* digest = { user, password, realm }: its INVITEs must answer our challenge (NULL: no) */
    char       *digest_user, *digest_password, *digest_realm;
    /* login = { user, password }: what our INVITEs answer when it challenges them (NULL: none) */
    char       *login_user, *login_password;
} hl_trunk;

typedef struct hl_dial_rule {
    char       *purpose;        /* "fax", "transfer", "callback", ... */
    int         line;
    hl_str_list numbers;        /* number patterns the engine may dial for it */
    int         per_caller_day; /* engine-placed calls per caller and day (0: no cap) */
    char       *reason;
} hl_dial_rule;

typedef struct hl_trunks {
    char         path[1100];    /* the file read, for messages ("built in" when none) */
    bool         builtin;       /* no trunks.lua: loopback only, both ways */
    hl_trunk     *trunks;
    int           ntrunks;
    hl_dial_rule *rules;
    int           nrules;
} hl_trunks;

/* Reads rules_dir/trunks.lua.  Without the file: the built-in loopback trunk (127.0.0.0/8
 * and ::1 may call any number in; any purpose may dial any number at a loopback address),
 * so a rules folder without it serves nothing beyond this machine.  NULL with
 * "FILE:LINE: what" in err when the file is wrong. */
hl_trunks *hl_trunks_load(const char *rules_dir, char *err, int errlen);
void       hl_trunks_free(hl_trunks *t);

/* The first trunk (in file order) one of whose sources contains ip, or NULL. */
const hl_trunk *hl_trunks_by_source(const hl_trunks *t, const uint8_t ip[16]);
/* The first trunk that reaches host: an address inside its sources, or a name of its hosts. */
const hl_trunk *hl_trunks_by_host(const hl_trunks *t, const char *host);
/* The dial rule of purpose, or NULL. */
const hl_dial_rule *hl_trunks_dial_rule(const hl_trunks *t, const char *purpose);
/* The first pattern of list number matches, or NULL. */
const char *hl_number_list_match(const hl_str_list *list, const char *number);

/* The pieces (exposed for tests). */
int  hl_cidr_parse(const char *s, hl_cidr *out);      /* "10.0.0.0/8", "::1", "1.2.3.4": 0 or -1 */
bool hl_cidr_contains(const hl_cidr *net, const uint8_t ip[16]);
bool hl_number_pattern_valid(const char *pattern);
bool hl_number_match(const char *pattern, const char *number);
/* "sip:user@host:port;params", "<tel:+86...>", "Name <sip:u@h>;tag=x": the user part and
 * the host (IPv6 without brackets) into the buffers ("" when absent).  -1 when no sip:,
 * sips: or tel: URI is there. */
int  hl_uri_user_host(const char *uri, char *user, size_t ulen, char *host, size_t hlen);

#endif
