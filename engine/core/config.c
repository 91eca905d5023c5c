/* config.c — the table of tunables, and rules/engine.lua read against it (see config.h).
 *
 * The table is the one place a tunable is declared: the loader checks names, types and
 * ranges from it, `hotline config` prints it, the admin guide's list is generated from it
 * (tests/unit/test_config.c fails when they differ), and the reload learns from its apply
 * column what it may change at once and what only at restart.  Each default is the engine's
 * own, chosen for any site; rules/engine.lua sets only what a site changes, with its reason. */
#include "core/config.h"
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A SIP user part we present as caller id: digits, letters and + * # (as call:dial's from). */
#define SIP_USER_CHARS "0123456789+*#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define NODE_CHARS "0123456789.-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
/* A Lua global function name (agent_entry). */
#define LUA_NAME_CHARS "_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#define INT_(name, def, lo, hi, unit, apply, what) \
    { #name, HL_TUNE_INT, offsetof(hl_config, name), def, NULL, lo, hi, unit, apply, what, NULL }
#define PATH_(name, def, apply, what) \
    { #name, HL_TUNE_PATH, offsetof(hl_config, name), 0, def, 0, 0, "folder", apply, what, NULL }
#define TEXT_(name, def, minlen, maxlen, chars, apply, what) \
    { #name, HL_TUNE_TEXT, offsetof(hl_config, name), 0, def, minlen, maxlen, "text", apply, what, chars }
#define HOSTS_(name, apply, what) \
    { #name, HL_TUNE_HOSTS, offsetof(hl_config, name), 0, NULL, 0, HL_HTTP_ALLOW_MAX, "hosts", apply, what, NULL }

static const hl_tunable tunables[] = {
    INT_(rtp_port_lo, 20000, 1024, 65534, "port", HL_APPLY_RESTART,
         "Lowest RTP port (even ports carry RTP, the next odd one RTCP); bound at start. "
         "`hotline run --rtp-ports` gives the range where engine.lua does not."),
    INT_(rtp_port_hi, 30000, 1028, 65535, "port", HL_APPLY_RESTART,
         "Highest RTP port: 10000 ports are 5000 calls, more than one loop carries."),
    INT_(rtp_timeout_ms, 20000, 1000, 3600000, "ms", HL_APPLY_NEXT_CALL,
         "No RTP for this long ends an active call: longer than a network stall, short enough "
         "not to hold a dead line."),
    INT_(rtp_hold_timeout_ms, 300000, 1000, 36000000, "ms", HL_APPLY_NEXT_CALL,
         "The same while the call is on hold, when the far end may rightly send nothing; "
         "not shorter than rtp_timeout_ms."),
    INT_(rtp_latch_symmetric, 1, 0, 1, "0/1", HL_APPLY_NEXT_CALL,
         "1: a caller whose SDP names another address than its SIP comes from (behind NAT) "
         "latches once to its first RTP from that address, never again once media flows; "
         "0: the SDP's address and port only (callers behind an SBC that rewrites SDP)."),
    INT_(rtp_ssrc_switch_ms, 200, 0, 60000, "ms", HL_APPLY_NEXT_CALL,
         "Another stream (SSRC) from the latched source is taken without a new SDP only after "
         "the current one was silent this long (ten packets: a relay switching pauses first); "
         "0 = only with a new SDP."),
    INT_(ring_timeout_ms, 45000, 1000, 600000, "ms", HL_APPLY_NEXT_USE,
         "An outbound leg that rings this long has failed (408): about nine rings; "
         "call:dial's timeout= sets one dial's own."),
    INT_(dns_timeout_ms, 5000, 500, 60000, "ms", HL_APPLY_NEXT_USE,
         "A dialled or transfer URI's host name (SRV and address) must be found within this, "
         "else the leg fails (503 dns-timeout): one DNS retry of glibc's 5 s default, well "
         "inside the ring timeout, so a dead resolver does not hold a caller in silence."),
    INT_(max_calls, 2000, 1, 1000000, "calls", HL_APPLY_NEXT_USE,
         "Concurrent calls before new ones get 503: what one loop carries (see `make bench`)."),
    INT_(script_instructions, 1000000, 10000, 1000000000, "instructions", HL_APPLY_NEXT_CALL,
         "Lua instructions (and pattern-matching steps) a call's script may run between two "
         "waits: the heaviest step of the shipped flows needs under 30000; 1e6 is about 15 ms of "
         "one core, so SIP is still answered within 50 ms while a script runs away (5e6 held "
         "the loop 70-115 ms)."),
    INT_(script_memory_kb, 4096, 64, 1048576, "KiB", HL_APPLY_NEXT_CALL,
         "Memory one call's script may hold."),
    INT_(script_pattern_max, 65536, 1024, 16777216, "bytes", HL_APPLY_NEXT_CALL,
         "Longest subject string.find/match/gmatch/gsub may search: Lua's matcher runs in C "
         "outside the instruction budget and backtracks; keep it at least http_max_body."),
    INT_(record_max_ms, 600000, 1000, 36000000, "ms", HL_APPLY_NEXT_USE,
         "Longest recording of any kind; call:record's max= may only lower it."),
    INT_(record_min_free_mb, 200, 0, 10000000, "MiB", HL_APPLY_NEXT_USE,
         "A recording is refused (call:record returns nil, \"disk_full\") when the recordings "
         "folder's disk has less free: a 10-minute message is 10 MiB, and the database and "
         "the logs need room too; 0 = never refuse."),
    INT_(live_call_stamp_ms, 5000, 1000, 600000, "ms", HL_APPLY_NEXT_USE,
         "How often the store stamps the calls that are up: a call the engine dies with gets "
         "a CDR (engine_restart) ending at its last stamp, so its end is at most this early; "
         "one UPDATE per stamp."),
    TEXT_(node_name, "", 0, 63, NODE_CHARS, HL_APPLY_RESTART,
          "This engine's name in the rows it stores (the ACD's agent and queue events), so "
          "that engines sharing a store can tell theirs apart; \"\" = the host name."),
    INT_(silence_level, 300, 0, 32767, "mean |sample|", HL_APPLY_NEXT_USE,
         "Mean absolute sample (of 32767) under which 20 ms of audio counts as silence: "
         "above line noise, well below speech."),
    INT_(reload_debounce_ms, 300, 0, 60000, "ms", HL_APPLY_NEXT_USE,
         "Saves of script and rule files closer together than this are one reload "
         "(editors write a file in several steps)."),
    INT_(reload_timeout_ms, 10000, 1000, 3600000, "ms", HL_APPLY_NEXT_USE,
         "A reload (build every file, run main.lua, then every scenario) that takes longer is "
         "refused and the running version stays: the shipped policy needs 0.25 s, so one that "
         "needs 10 s is looping, not working."),
    INT_(sip_rate_per_sec, 2000, 1, 1000000, "requests/s", HL_APPLY_NEXT_USE,
         "SIP requests per second one source address may send before it gets 503 (like "
         "Kamailio's pike); a trunk or a proxy in front is one source, so keep it high."),
    INT_(sip_max_message, 16384, 1024, 1048576, "bytes", HL_APPLY_NEXT_USE,
         "Largest SIP message accepted; bigger ones are refused (400/513). An INVITE with "
         "SDP is 1-2 KiB."),
    INT_(sip_ban_factor, 10, 0, 1000, "x sip_rate_per_sec", HL_APPLY_NEXT_USE,
         "A source sending more than sip_rate_per_sec times this in one second is a flood, "
         "not a busy trunk (as pike's density limit): it is banned; 0 = never ban."),
    INT_(sip_ban_ms, 60000, 1000, 86400000, "ms", HL_APPLY_NEXT_USE,
         "How long a ban lasts: a minute outlasts a scan without locking a phone out for "
         "long; `hotline ctl ban remove` lifts one at once."),
    INT_(sip_retry_after_s, 5, 1, 3600, "s", HL_APPLY_NEXT_USE,
         "Retry-After of our 503s (rate limit, overload, max_calls), and how long an overload "
         "must have ended before new calls are taken again."),
    INT_(sip_tcp_max_per_addr, 64, 0, 1000000, "connections", HL_APPLY_NEXT_USE,
         "TCP connections one address may hold (0 = no cap): a phone or a trunk holds one, a "
         "proxy a few, and one host must not lock every other client out."),
    INT_(sip_tcp_message_timeout_ms, 10000, 100, 600000, "ms", HL_APPLY_NEXT_USE,
         "A TCP connection must complete each message (its first too) this long after it "
         "starts: a message is a few packets, so connections that say nothing or trickle close."),
    INT_(overload_lag_ms, 500, 10, 60000, "ms", HL_APPLY_NEXT_USE,
         "When the loop runs this late (the 20 ms media tick has skipped many frames), new "
         "calls get 503 with Retry-After until it keeps up again."),
    TEXT_(sip_server_header, "hotline", 1, 95, NULL, HL_APPLY_NEXT_USE,
          "The Server / User-Agent header we send: no version, so it tells a scanner nothing."),
    INT_(dtmf_duration_ms, 100, 40, 1000, "ms", HL_APPLY_NEXT_USE,
         "Length of each DTMF tone we send (RFC 4733): twice the 40 ms a receiver needs."),
    PATH_(fax_dir, "fax", HL_APPLY_NEXT_USE,
          "Folder of the documents call:fax_send may send; relative to the rules folder "
          "unless absolute."),
    INT_(fax_max_ms, 300000, 30000, 3600000, "ms", HL_APPLY_NEXT_USE,
         "One T.30 session ends after this long: a few pages at 9600 bit/s with retrains "
         "fit in 5 min."),
    INT_(jobs_poll_ms, 1000, 100, 600000, "ms", HL_APPLY_NEXT_USE,
         "How often the engine looks for due jobs (queued faxes, other engine-made calls)."),
    INT_(jobs_max_running, 4, 1, 1000, "jobs", HL_APPLY_NEXT_USE,
         "Jobs running at once: each holds one outbound call and its RTP ports."),
    INT_(fax_retry_delay_ms, 300000, 1000, 86400000, "ms", HL_APPLY_NEXT_USE,
         "A failed job attempt (busy, no answer, T.30 error) is tried again after this: "
         "5 min, as fax servers do, gives a busy line time to clear."),
    HOSTS_(http_allow, HL_APPLY_NEXT_USE,
           "The only hosts hl.http.request may reach (\"name\", \"address\", optionally "
           "\":port\"); empty: none, so a script cannot be turned against other machines."),
    INT_(http_timeout_ms, 5000, 100, 60000, "ms", HL_APPLY_NEXT_USE,
         "A request's default time limit: the caller hears silence meanwhile, and 5 s is "
         "already long on the phone."),
    INT_(http_max_body, 65536, 1024, 16777216, "bytes", HL_APPLY_NEXT_USE,
         "Largest response body kept: keeps a runaway back end from filling a call's "
         "script memory."),
    INT_(pin_hash_ops, 2, 1, 10, "passes", HL_APPLY_NEXT_USE,
         "Argon2id passes of a new hl.pin_hash (OWASP's minimum with 19 MiB is 2); a hash keeps "
         "its own parameters, so raising this only makes new hashes slower."),
    INT_(pin_hash_mem_kb, 19456, 8, 1048576, "KiB", HL_APPLY_NEXT_USE,
         "Argon2id memory of a new hl.pin_hash: 19 MiB, OWASP's minimum; about 30 ms of one "
         "core, on the loop's thread pool."),
    TEXT_(sip_from_user, "hotline", 1, 32, SIP_USER_CHARS, HL_APPLY_NEXT_USE,
          "The caller id of calls the engine dials when the script names none (a fax job, a "
          "transfer): a site sets its own number."),
    TEXT_(fax_ident, "", 0, 20, "0123456789+ ", HL_APPLY_NEXT_USE,
          "Our T.30 identity (TSI/CSI) when the script names none; \"\" sends none. A site "
          "sets its fax number."),
    TEXT_(agent_realm, "hotline", 1, 64, NULL, HL_APPLY_RESTART,
          "The digest realm agents' phones register in. Each agent's stored HA1 is made for "
          "it: after a change every agent needs `hotline ctl agent password` again."),
    INT_(agent_register_min_s, 60, 1, 86400, "s", HL_APPLY_NEXT_USE,
         "Shortest registration taken; shorter gets 423 Interval Too Brief (RFC 3261 10.3): "
         "a phone refreshing every few seconds is a load, and a minute still notices a phone "
         "gone soon."),
    INT_(agent_register_max_s, 3600, 1, 604800, "s", HL_APPLY_NEXT_USE,
         "Longest registration granted, and the one given when a phone asks none (RFC 3261's "
         "default hour): a phone that vanished stays listed at most this long."),
    INT_(agent_max_contacts, 3, 1, 8, "contacts", HL_APPLY_NEXT_USE,
         "Phones one agent may have registered at once (desk phone, softphone, spare; at most "
         "8, what one REGISTER may carry); a new one past it replaces the oldest."),
    TEXT_(agent_digest_algorithms, "SHA-256,MD5", 3, 15, "SHA256MD,-", HL_APPLY_NEXT_USE,
          "The digest algorithms agents' phones are challenged with, preferred first (RFC "
          "7616), and the only ones taken. Phones that know only MD5 and give up on any other "
          "challenge (SIPp 3.6, baresip 1.0) need \"MD5\"; an answer in an algorithm not "
          "listed is challenged again. A list naming neither counts as the default."),
    INT_(agent_auth_fail_limit, 5, 1, 1000, "failures", HL_APPLY_NEXT_USE,
         "Wrong digest answers from one source, or for one agent, within "
         "agent_auth_fail_window_s before it is locked out: enough for a mistyped password, "
         "too few to guess one."),
    INT_(agent_auth_fail_window_s, 300, 1, 86400, "s", HL_APPLY_NEXT_USE,
         "The window in which agent_auth_fail_limit failures lock out."),
    INT_(agent_lockout_s, 900, 1, 86400, "s", HL_APPLY_NEXT_USE,
         "How long a locked-out source or agent is refused (403) even with the right password: "
         "a quarter of an hour makes guessing hopeless; `hotline ctl agent unlock` lifts an "
         "agent's."),
    INT_(acd_reserve_ms, 5000, 100, 60000, "ms", HL_APPLY_RESTART,
         "An agent the ACD reserved for a caller whose phone has not started ringing by then "
         "is released (and the decision logged): a call that could not ring never keeps an "
         "agent from the next caller."),
    INT_(acd_ring_guard_ms, 5000, 100, 60000, "ms", HL_APPLY_RESTART,
         "Added to a queue's ring timeout before the ACD itself releases a ringing agent whose "
         "call never reported the answer or the miss (the leg's own timer reports first)."),
    INT_(acd_log_size, 1000, 10, 100000, "decisions", HL_APPLY_RESTART,
         "The ACD decisions `hotline ctl queue log` keeps (each with its reason), newest last."),
    TEXT_(agent_entry, "agent_call", 1, 40, LUA_NAME_CHARS, HL_APPLY_NEXT_CALL,
          "The policy's global function a call from a registered agent's phone runs instead of "
          "main (feature codes, callbacks, the supervisor's codes live there, in Lua): an agent "
          "is no caller of the IVR. A policy without it refuses agents' calls (logged)."),
    INT_(agent_qualify_s, 30, 0, 3600, "s", HL_APPLY_NEXT_USE,
         "Every this often each registered agent phone is sent OPTIONS (qualify); one not "
         "answered by the next is a failure. 30 s also keeps a NAT's UDP mapping open (they "
         "often close after 30-60 s of silence); 0 = no qualify, a vanished phone then stays "
         "registered until agent_register_max_s and calls ring nobody."),
    INT_(agent_qualify_fails, 2, 1, 100, "failures", HL_APPLY_NEXT_USE,
         "Qualify failures in a row after which a phone's registration is removed (as if it "
         "had expired; the agent is logged out when it was the last): each failure is already "
         "a transaction of OPTIONS retransmissions unanswered, so two mean the phone is gone "
         "for about a minute, not one lost packet."),
    TEXT_(http_metrics_allow, "127.0.0.1 ::1", 0, 255, "0123456789abcdefABCDEF.:/ ", HL_APPLY_NEXT_USE,
          "Who may read GET /metrics and GET /events on --http without the token: addresses or "
          "prefixes (\"10.0.0.0/8\"), space-separated; \"\" = only with the token. Loopback: "
          "a scraper on the host, nobody else, as the counters tell an attacker the load."),
    TEXT_(http_token_file, "", 0, 255, NULL, HL_APPLY_NEXT_USE,
          "A file holding the bearer token that opens /metrics and /events from any address "
          "(Authorization: Bearer TOKEN); read at start and at each reload, never logged. A "
          "file, not a value here: rules/ is kept in git, a token is not. \"\" = no token."),
    INT_(events_buffer_bytes, 65536, 4096, 16777216, "bytes", HL_APPLY_NEXT_USE,
         "How far an event consumer (ctl events, GET /events) may fall behind before it is cut "
         "off with a reason: about 300 events, seconds of a busy engine. The loop never waits "
         "for a consumer, so a slow one must be dropped, not buffered without end."),
    TEXT_(cdr_csv_dir, "", 0, 255, NULL, HL_APPLY_NEXT_USE,
          "A folder (absolute, or below the data directory) where each CDR is also appended as "
          "a CSV line when its leg ends, one file a day cdr-YYYY-MM-DD.csv in the centre's "
          "zone (like mod_cdr_csv); columns in docs/admin-ctl.md. \"\" = no file."),
};
#undef INT_
#undef PATH_
#undef HOSTS_
#undef TEXT_

#define NTUNABLES ((int)(sizeof tunables / sizeof tunables[0]))

const hl_tunable *hl_config_tunables(int *n)
{
    *n = NTUNABLES;
    return tunables;
}

const hl_tunable *hl_config_tunable(const char *name)
{
    for (int i = 0; i < NTUNABLES; i++)
        if (!strcmp(tunables[i].name, name))
            return &tunables[i];
    return NULL;
}

const char *hl_config_apply_name(hl_tunable_apply a)
{
    return a == HL_APPLY_RESTART ? "restart" : a == HL_APPLY_NEXT_CALL ? "next call" : "next use";
}

static int *int_at(hl_config *cfg, const hl_tunable *t) { return (int *)((char *)cfg + t->offset); }
static const int *int_of(const hl_config *cfg, const hl_tunable *t)
{
    return (const int *)((const char *)cfg + t->offset);
}
static char *text_at(hl_config *cfg, const hl_tunable *t) { return (char *)cfg + t->offset; }
static const char *text_of(const hl_config *cfg, const hl_tunable *t)
{
    return (const char *)cfg + t->offset;
}

/* A folder setting: absolute as given, else below the rules folder (so it means the same
 * whichever directory the engine was started in).  -1 when it does not fit. */
static int join_path(char *out, const char *rules_dir, const char *v)
{
    int n = v[0] == '/' ? snprintf(out, HL_CONFIG_PATH_LEN, "%s", v)
                        : snprintf(out, HL_CONFIG_PATH_LEN, "%s/%s", rules_dir, v);
    return n < 0 || n >= HL_CONFIG_PATH_LEN ? -1 : 0;
}

/* One tunable back to its default (folders relative to rules_dir). */
static void set_default(hl_config *cfg, const hl_tunable *t, const char *rules_dir)
{
    if (t->type == HL_TUNE_INT)
        *int_at(cfg, t) = (int)t->def;
    else if (t->type == HL_TUNE_PATH)
        join_path(text_at(cfg, t), rules_dir, t->def_text);
    else if (t->type == HL_TUNE_TEXT)
        snprintf(text_at(cfg, t), (size_t)t->max + 1, "%s", t->def_text);
    else
        cfg->http_allow_n = 0;      /* the one host list */
}

void hl_config_defaults(hl_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->sip_addr, sizeof cfg->sip_addr, "127.0.0.1");
    cfg->sip_port = 5060;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "data");
    snprintf(cfg->scripts_dir, sizeof cfg->scripts_dir, "scripts");
    snprintf(cfg->rules_dir, sizeof cfg->rules_dir, "rules");
    snprintf(cfg->prompts_dir, sizeof cfg->prompts_dir, "build/prompts");
    cfg->start_clock = -1;
    for (int i = 0; i < NTUNABLES; i++)
        set_default(cfg, &tunables[i], cfg->rules_dir);
}

/* ---- reading rules/engine.lua ----------------------------------------------------- */

int hl_config_line_of(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    size_t len = strlen(name);
    int found = 0;
    for (int no = 1; !found && fgets(line, sizeof line, f); no++) {
        char *comment = strstr(line, "--");
        if (comment)
            *comment = 0;
        for (char *p = strstr(line, name); p; p = strstr(p + 1, name)) {
            bool starts = p == line || !(p[-1] == '_' || isalnum((unsigned char)p[-1]));
            const char *q = p + len;
            while (*q == ' ' || *q == '\t')
                q++;
            if (starts && q[0] == '=' && q[1] != '=') {
                found = no;
                break;
            }
        }
    }
    fclose(f);
    return found;
}

typedef struct load_ctx {
    lua_State  *L;
    const char *path, *rules_dir;
    char       *err;
    int         errlen;
} load_ctx;

static int refuse(load_ctx *x, const char *name, const char *fmt, const char *detail)
{
    int line = name ? hl_config_line_of(x->path, name) : 0;
    char where[1200];
    if (line)
        snprintf(where, sizeof where, "%s:%d", x->path, line);
    else
        snprintf(where, sizeof where, "%s", x->path);
    snprintf(x->err, x->errlen, fmt, where, name ? name : "", detail ? detail : "");
    return -1;
}

/* http_allow = { "host", "host:port", "[v6]:port", ... } on top of the stack. */
static int read_hosts(load_ctx *x, const hl_tunable *t, hl_config *next)
{
    lua_State *L = x->L;
    lua_Integer n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : -1;
    if (n < 0 || n > t->max) {
        char most[32];
        snprintf(most, sizeof most, "%lld", t->max);
        return refuse(x, t->name, "%s: %s must be a list of at most %s host names", most);
    }
    next->http_allow_n = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        size_t len = 0;
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        bool good = v && len > 0 && len < HL_HTTP_ALLOW_LEN &&
            strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") == len;
        if (good)
            snprintf(next->http_allow[next->http_allow_n++], HL_HTTP_ALLOW_LEN, "%s", v);
        lua_pop(L, 1);
        if (!good) {
            char which[32];
            snprintf(which, sizeof which, "[%lld]", (long long)i);
            return refuse(x, t->name, "%s: %s%s must be a host name or address, optionally with "
                                      ":port (e.g. \"backend.example\", \"127.0.0.1:8080\")", which);
        }
    }
    return 0;
}

/* The value on top of the stack into next, checked against t. */
static int read_value(load_ctx *x, const hl_tunable *t, hl_config *next)
{
    lua_State *L = x->L;
    if (t->type == HL_TUNE_HOSTS)
        return read_hosts(x, t, next);
    if (t->type == HL_TUNE_PATH) {
        size_t n = 0;
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        if (!v || n == 0 || strlen(v) != n || join_path(text_at(next, t), x->rules_dir, v) != 0)
            return refuse(x, t->name, "%s: %s must be a folder name (a non-empty string; relative "
                                      "to the rules folder unless absolute)%s", NULL);
        return 0;
    }
    if (t->type == HL_TUNE_TEXT) {  /* goes into a header or a T.30 frame: printable, no CR/LF */
        size_t n = 0;
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        bool ok = v && n >= (size_t)t->min && n <= (size_t)t->max && strlen(v) == n;
        for (size_t k = 0; ok && k < n; k++)
            ok = (unsigned char)v[k] >= 0x20 && v[k] != 0x7f && (!t->chars || strchr(t->chars, v[k]));
        if (!ok) {
            char range[200];
            snprintf(range, sizeof range, " of %lld to %lld bytes%s%s", t->min, t->max,
                     t->chars ? " from " : "", t->chars ? t->chars : "");
            return refuse(x, t->name, "%s: %s must be printable text%s", range);
        }
        snprintf(text_at(next, t), (size_t)t->max + 1, "%s", v);
        return 0;
    }
    int isnum = 0;
    lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &isnum) : 0;
    if (!isnum || v < t->min || v > t->max) {
        char range[96];
        snprintf(range, sizeof range, " from %lld to %lld (%s)", t->min, t->max, t->unit);
        return refuse(x, t->name, "%s: %s must be a whole number%s", range);
    }
    *int_at(next, t) = (int)v;
    return 0;
}

/* Every key of the returned table must be a tunable's name. */
static int check_names(load_ctx *x)
{
    lua_State *L = x->L;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return refuse(x, NULL, "%s: %smust return a table of name = value settings%s", NULL);
        }
        const char *name = lua_tostring(L, -1);
        if (!hl_config_tunable(name)) {
            char copy[128];
            snprintf(copy, sizeof copy, "%s", name);
            lua_pop(L, 1);
            return refuse(x, copy, "%s: unknown setting '%s'%s (`hotline config` lists them)", "");
        }
    }
    return 0;
}

/* Settings that hold only together. */
static int check_together(load_ctx *x, const hl_config *next)
{
    if (next->rtp_hold_timeout_ms < next->rtp_timeout_ms)
        return refuse(x, "rtp_hold_timeout_ms", "%s: %s must not be shorter than rtp_timeout_ms%s", NULL);
    if (next->rtp_port_hi - next->rtp_port_lo < 4)
        return refuse(x, "rtp_port_hi", "%s: %s must be at least rtp_port_lo + 4 (two port pairs)%s", NULL);
    return 0;
}

static int read_settings(load_ctx *x, hl_config *cfg)
{
    if (check_names(x) != 0)
        return -1;
    hl_config next = *cfg;
    for (int i = 0; i < NTUNABLES; i++) {
        const hl_tunable *t = &tunables[i];
        lua_getfield(x->L, -1, t->name);
        int rc = 0;
        if (!lua_isnil(x->L, -1))
            rc = read_value(x, t, &next);
        else if (t->apply != HL_APPLY_RESTART)
            set_default(&next, t, x->rules_dir);  /* a key taken out goes back to its default */
        lua_pop(x->L, 1);
        if (rc != 0)
            return -1;
    }
    if (check_together(x, &next) != 0)
        return -1;
    *cfg = next;
    return 0;
}

/* engine.lua is read by the reload worker and at start-up; a loop in it
 * would hold either for good.  A settings table needs a few hundred instructions. */
#define RULES_DATA_INSTRUCTIONS 1000000
static void rules_data_hook(lua_State *L, lua_Debug *ar)
{
    lua_getinfo(L, "Sl", ar);
    luaL_error(L, "%s:%d: runs too long (engine.lua is plain data: a table of settings)",
               ar->short_src, ar->currentline);
}

int hl_config_load_rules(hl_config *cfg, const char *rules_dir, char *err, int errlen)
{
    return hl_config_load_rules_as(cfg, rules_dir, rules_dir, err, errlen);
}

int hl_config_load_rules_as(hl_config *cfg, const char *from_dir, const char *rules_dir,
                            char *err, int errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/engine.lua", from_dir);
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    /* A plain data chunk: no libraries at all, so it cannot do anything but return a table. */
    load_ctx x = { .L = L, .path = path, .rules_dir = rules_dir, .err = err, .errlen = errlen };
    int rc = -1;
    lua_sethook(L, rules_data_hook, LUA_MASKCOUNT, RULES_DATA_INSTRUCTIONS);
    if (luaL_loadfilex(L, path, "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
    else if (!lua_istable(L, -1))
        snprintf(err, errlen, "%s: must return a table of settings", path);
    else
        rc = read_settings(&x, cfg);
    lua_close(L);
    return rc;
}

/* ---- comparing and copying ----------------------------------------------------------- */

static bool same(const hl_config *a, const hl_config *b, const hl_tunable *t)
{
    if (t->type == HL_TUNE_INT)
        return *int_of(a, t) == *int_of(b, t);
    if (t->type == HL_TUNE_PATH || t->type == HL_TUNE_TEXT)
        return !strcmp(text_of(a, t), text_of(b, t));
    if (a->http_allow_n != b->http_allow_n)
        return false;
    for (int i = 0; i < a->http_allow_n; i++)
        if (strcmp(a->http_allow[i], b->http_allow[i]))
            return false;
    return true;
}

int hl_config_changed(const hl_config *a, const hl_config *b, hl_tunable_apply apply,
                      char *out, size_t outlen)
{
    int n = 0;
    size_t used = 0;
    if (outlen)
        out[0] = 0;
    for (int i = 0; i < NTUNABLES; i++) {
        const hl_tunable *t = &tunables[i];
        if (t->apply != apply || same(a, b, t))
            continue;
        if (outlen > used) {
            int w = snprintf(out + used, outlen - used, "%s%s", n ? ", " : "", t->name);
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    return n;
}

void hl_config_copy(hl_config *cfg, const hl_config *from, hl_tunable_apply apply)
{
    for (int i = 0; i < NTUNABLES; i++) {
        const hl_tunable *t = &tunables[i];
        if (t->apply != apply)
            continue;
        if (t->type == HL_TUNE_INT)
            *int_at(cfg, t) = *int_of(from, t);
        else if (t->type == HL_TUNE_PATH)
            memcpy(text_at(cfg, t), text_of(from, t), HL_CONFIG_PATH_LEN);
        else if (t->type == HL_TUNE_TEXT)
            memcpy(text_at(cfg, t), text_of(from, t), (size_t)t->max + 1);
        else {
            memcpy(cfg->http_allow, from->http_allow, sizeof cfg->http_allow);
            cfg->http_allow_n = from->http_allow_n;
        }
    }
}

/* ---- listing ------------------------------------------------------------------------- */

void hl_config_format_value(const hl_config *cfg, const hl_tunable *t, char *out, size_t len)
{
    if (t->type == HL_TUNE_INT) {
        snprintf(out, len, "%d", *int_of(cfg, t));
    } else if (t->type == HL_TUNE_PATH || t->type == HL_TUNE_TEXT) {
        snprintf(out, len, "\"%s\"", text_of(cfg, t));
    } else {
        size_t used = (size_t)snprintf(out, len, "{");
        for (int i = 0; i < cfg->http_allow_n && used < len; i++)
            used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", i ? ", " : " ", cfg->http_allow[i]);
        if (used < len)
            snprintf(out + used, len - used, "%s}", cfg->http_allow_n ? " " : "");
    }
}

static void format_default(const hl_tunable *t, char *out, size_t len)
{
    if (t->type == HL_TUNE_INT)
        snprintf(out, len, "%lld", t->def);
    else if (t->type == HL_TUNE_PATH || t->type == HL_TUNE_TEXT)
        snprintf(out, len, "\"%s\"", t->def_text);
    else
        snprintf(out, len, "{}");
}

static void format_range(const hl_tunable *t, char *out, size_t len)
{
    if (t->type == HL_TUNE_INT)
        snprintf(out, len, "%lld-%lld", t->min, t->max);
    else if (t->type == HL_TUNE_PATH)
        snprintf(out, len, "a folder");
    else if (t->type == HL_TUNE_TEXT)
        snprintf(out, len, "%lld-%lld bytes", t->min, t->max);
    else
        snprintf(out, len, "up to %lld", t->max);
}

void hl_config_print(FILE *f, const hl_config *cfg, bool markdown)
{
    if (markdown)
        fprintf(f, "| Name | Default | Range | Unit | A reload applies it | What it does |\n"
                   "|---|---|---|---|---|---|\n");
    for (int i = 0; i < NTUNABLES; i++) {
        const hl_tunable *t = &tunables[i];
        char def[64], range[64], value[HL_HTTP_ALLOW_MAX * HL_HTTP_ALLOW_LEN];
        format_default(t, def, sizeof def);
        format_range(t, range, sizeof range);
        if (markdown) {
            fprintf(f, "| `%s` | `%s` | %s | %s | %s | %s |\n", t->name, def, range, t->unit,
                    hl_config_apply_name(t->apply), t->what);
            continue;
        }
        if (cfg)
            hl_config_format_value(cfg, t, value, sizeof value);
        fprintf(f, "%-20s = %-12s %s (default %s, range %s, reload: %s)\n    %s\n", t->name,
                cfg ? value : def, t->unit, def, range, hl_config_apply_name(t->apply), t->what);
    }
}

static void usage_config(FILE *f)
{
    fprintf(f,
        "usage: hotline config [--list] [--rules DIR | --defaults] [--markdown]\n"
        "\n"
        "Lists every tunable of rules/engine.lua: name, value, unit, default, range, whether a\n"
        "reload applies it (next use, next call) or only a restart, and what it does.\n"
        "\n"
        "options:\n"
        "  --rules DIR   show the values DIR/engine.lua gives (default rules, when it exists);\n"
        "                a refused engine.lua is reported with its file and line (exit 1);\n"
        "                `hotline ctl config` shows the values a running engine uses\n"
        "  --defaults    show the engine's defaults only\n"
        "  --markdown    the table as docs/admin-guide.md lists it\n"
        "  -h, --help    this text\n");
}

int hl_config_main(int argc, char **argv)
{
    const char *rules = NULL;
    bool markdown = false, defaults = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rules") && i + 1 < argc) {
            rules = argv[++i];
        } else if (!strcmp(argv[i], "--list")) {
            /* the default: listing is what the command does */
        } else if (!strcmp(argv[i], "--markdown")) {
            markdown = true;
        } else if (!strcmp(argv[i], "--defaults")) {
            defaults = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage_config(stdout);
            return 0;
        } else {
            usage_config(stderr);
            return 2;
        }
    }
    hl_config cfg;
    hl_config_defaults(&cfg);
    if (!rules) {
        FILE *f = fopen("rules/engine.lua", "r");
        if (f)
            rules = "rules";
        if (f)
            fclose(f);
    }
    if (rules && !defaults && !markdown) {
        snprintf(cfg.rules_dir, sizeof cfg.rules_dir, "%s", rules);
        char err[2048];
        if (hl_config_load_rules(&cfg, rules, err, sizeof err) != 0) {
            fprintf(stderr, "hotline config: %s\n", err);
            return 1;
        }
    }
    hl_config_print(stdout, markdown || defaults ? NULL : &cfg, markdown);
    return 0;
}

int hl_config_parse_hostport(const char *s, char *addr, int addrlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || colon - s >= addrlen)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
        return -1;
    memcpy(addr, s, colon - s);
    addr[colon - s] = 0;
    *port = (int)p;
    return 0;
}
