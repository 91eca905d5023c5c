/* config.c — defaults and rules/engine.lua (see config.h). */
#include "core/config.h"
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each tunable: its key in rules/engine.lua, where it lives, and the range it must fall in. */
typedef struct {
    const char *key;
    size_t      offset;
    int         min, max;
} tunable;

#define T(name, lo, hi) { #name, offsetof(hl_config, name), lo, hi }
static const tunable tunables[] = {
    T(rtp_timeout_ms, 1000, 3600000),
    T(rtp_hold_timeout_ms, 1000, 36000000),
    T(ring_timeout_ms, 1000, 600000),
    T(max_calls, 1, 1000000),
    T(script_instructions, 10000, 1000000000),
    T(script_memory_kb, 64, 1048576),
    T(script_pattern_max, 1024, 16777216),
    T(record_max_ms, 1000, 36000000),
    T(silence_level, 0, 32767),
    T(reload_debounce_ms, 0, 60000),
    T(reload_timeout_ms, 1000, 3600000),   /* issue 7 item 5: a reload's time limit */
    T(sip_rate_per_sec, 1, 1000000),
    T(sip_max_message, 1024, 1048576),
    T(dtmf_duration_ms, 40, 1000),
    T(fax_max_ms, 30000, 3600000),
    T(jobs_poll_ms, 100, 600000),
    T(jobs_max_running, 1, 1000),
    T(fax_retry_delay_ms, 1000, 86400000),
    T(http_timeout_ms, 100, 60000),
    T(http_max_body, 1024, 16777216),
};
#undef T

void hl_config_defaults(hl_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->sip_addr, sizeof cfg->sip_addr, "127.0.0.1");
    cfg->sip_port = 5060;
    cfg->rtp_port_lo = 20000;
    cfg->rtp_port_hi = 30000;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "data");
    snprintf(cfg->scripts_dir, sizeof cfg->scripts_dir, "scripts");
    snprintf(cfg->rules_dir, sizeof cfg->rules_dir, "rules");
    snprintf(cfg->prompts_dir, sizeof cfg->prompts_dir, "build/prompts");
    cfg->start_clock = -1;
    /* the same values as the shipped rules/engine.lua, for tools run without it */
    cfg->rtp_timeout_ms = 20000;
    cfg->rtp_hold_timeout_ms = 300000;
    cfg->ring_timeout_ms = 45000;
    cfg->max_calls = 2000;
    cfg->script_instructions = 1000000;
    cfg->script_memory_kb = 4096;
    cfg->script_pattern_max = 65536;
    cfg->record_max_ms = 600000;
    cfg->silence_level = 300;
    cfg->reload_debounce_ms = 300;
    cfg->reload_timeout_ms = 10000;
    cfg->sip_rate_per_sec = 2000;
    cfg->sip_max_message = 16384;
    cfg->dtmf_duration_ms = 100;
    snprintf(cfg->fax_dir, sizeof cfg->fax_dir, "build/fax");
    cfg->fax_max_ms = 300000;
    cfg->jobs_poll_ms = 1000;
    cfg->jobs_max_running = 4;
    cfg->fax_retry_delay_ms = 300000;
    cfg->http_timeout_ms = 5000;
    cfg->http_max_body = 65536;
    cfg->http_allow_n = 0;        /* no host: scripts reach nothing until rules list one */
}

/* http_allow = { "host", "host:port", "[v6]:port", ... } at the top of L's stack.  Names are
 * letters, digits, . - _ (and [ ] : for IPv6); the list replaces the default (empty). */
static int load_http_allow(lua_State *L, hl_config *next, const char *path, char *err, int errlen)
{
    lua_getfield(L, -1, "http_allow");
    int rc = 0;
    if (lua_isnil(L, -1))
        goto out;
    lua_Integer n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : -1;
    if (n < 0 || n > HL_HTTP_ALLOW_MAX) {
        snprintf(err, errlen, "%s: http_allow must be a list of at most %d host names", path, HL_HTTP_ALLOW_MAX);
        rc = -1;
        goto out;
    }
    next->http_allow_n = 0;
    for (lua_Integer i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(L, -1, i);
        size_t len = 0;
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!v || len == 0 || len >= HL_HTTP_ALLOW_LEN ||
            strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") != len) {
            snprintf(err, errlen, "%s: http_allow[%lld] must be a host name or address, optionally "
                                  "with :port (e.g. \"backend.example\", \"127.0.0.1:8080\")", path, (long long)i);
            rc = -1;
        } else {
            snprintf(next->http_allow[next->http_allow_n++], HL_HTTP_ALLOW_LEN, "%s", v);
        }
        lua_pop(L, 1);
    }
out:
    lua_pop(L, 1);
    return rc;
}

/* issue 7 item 5: engine.lua is read by the reload worker and at start-up; a loop in it
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
    char path[1024];
    snprintf(path, sizeof path, "%s/engine.lua", rules_dir);
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    /* A plain data chunk: no libraries at all, so it cannot do anything but return a table. */
    int rc = -1;
    lua_sethook(L, rules_data_hook, LUA_MASKCOUNT, RULES_DATA_INSTRUCTIONS);
    if (luaL_loadfilex(L, path, "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        goto out;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: must return a table of settings", path);
        goto out;
    }
    hl_config next = *cfg;
    for (size_t i = 0; i < sizeof tunables / sizeof tunables[0]; i++) {
        const tunable *t = &tunables[i];
        lua_getfield(L, -1, t->key);
        if (!lua_isnil(L, -1)) {
            int isnum = 0;
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            if (!isnum || v < t->min || v > t->max) {
                snprintf(err, errlen, "%s: %s must be a whole number from %d to %d", path,
                         t->key, t->min, t->max);
                goto out;
            }
            *(int *)((char *)&next + t->offset) = (int)v;
        }
        lua_pop(L, 1);
    }
    /* fax_dir: the one string setting (a folder; relative to the engine's working dir) */
    lua_getfield(L, -1, "fax_dir");
    if (!lua_isnil(L, -1)) {
        size_t n = 0;
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        if (!v || n == 0 || n >= sizeof next.fax_dir) {
            snprintf(err, errlen, "%s: fax_dir must be a folder name (a non-empty string)", path);
            goto out;
        }
        snprintf(next.fax_dir, sizeof next.fax_dir, "%s", v);
    }
    lua_pop(L, 1);
    if (load_http_allow(L, &next, path, err, errlen) != 0)
        goto out;
    if (next.rtp_hold_timeout_ms < next.rtp_timeout_ms) {
        snprintf(err, errlen, "%s: rtp_hold_timeout_ms must not be shorter than rtp_timeout_ms", path);
        goto out;
    }
    *cfg = next;
    rc = 0;
out:
    lua_close(L);
    return rc;
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
