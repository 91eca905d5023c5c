/* prim_http.c — hl.http.request{method, url, headers, body, timeout_ms} → {status, body,
 * headers} | nil, err: checks the script's arguments, applies the rules of rules/engine.lua
 * (http_allow, http_max_body, http_timeout_ms), starts the request on env->http (the loop's
 * libcurl client, or the simulator's canned one) and makes the script wait through the outside
 * wait of prim_store.c.
 *
 * Misuse — a bad argument, a scheme other than http/https, a host not on the allow list —
 * raises an error with the script's file:line (it is a bug in the script or the rules);
 * a failure of the request itself (no answer in time, connection refused, a body over the
 * cap) returns nil, err, which a data source turns into "please call again". */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "http/http_client.h"

#define HEADER_LINE_MAX 1024   /* one "Name: value": content types and API keys are far shorter */

/* RFC 9110 token characters */
static bool header_name_ok(const char *s, size_t n)
{
    return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "!#$%&'*+-.^_`|~") == n;
}

/* No line breaks (header injection) and no NUL */
static bool header_value_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == 0)
            return false;
    return true;
}

static void http_done(void *arg, json_t *result, const char *err)
{
    if (arg) /* NULL: the script never got to wait (out of memory at the start) */
        call_async_done(arg, result, err);
}

/* headers = { ["Content-Type"] = "application/json", ... } into lines; returns the count. */
static int read_headers(lua_State *L, char lines[][HEADER_LINE_MAX], const char **out)
{
    int n = 0;
    if (lua_getfield(L, 1, "headers") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "http.request: headers must be a table of name = value");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        size_t nl = 0, vl = 0;
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &nl) : NULL;
        const char *value = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vl) : NULL;
        if (!name || !header_name_ok(name, nl))
            luaL_error(L, "http.request: header name %s is not a valid HTTP field name",
                       name ? name : "(not a string)");
        if (!value || !header_value_ok(value, vl))
            luaL_error(L, "http.request: header %s must be a string without line breaks", name);
        if (n == HL_HTTP_MAX_HEADERS)
            luaL_error(L, "http.request: at most %d headers", HL_HTTP_MAX_HEADERS);
        if (nl + vl + 3 > HEADER_LINE_MAX)
            luaL_error(L, "http.request: header %s is longer than %d bytes", name, HEADER_LINE_MAX);
        snprintf(lines[n], HEADER_LINE_MAX, "%s: %s", name, value);
        out[n] = lines[n];
        n++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

enum { O_METHOD, O_URL, O_HEADERS, O_BODY, O_TIMEOUT_MS };

int prim_http_request(lua_State *L)
{
    hl_call_env *env = call_script_env(L);
    const hl_config *cfg = env->cfg;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    hl_api_val v[HL_API_MAX_OPTS];
    call_read_opts(L, "hl.http.request", v); /* the strings stay alive in the table at 1 */
    hl_http_opts o = { .max_body = (size_t)cfg->http_max_body, .timeout_ms = (int)v[O_TIMEOUT_MS].i,
                       .method = v[O_METHOD].s, .url = v[O_URL].s };
    if (v[O_BODY].set) {
        lua_getfield(L, 1, "body");
        o.body = lua_tolstring(L, -1, &o.body_len);
        lua_pop(L, 1);
    }
    if (o.body_len > o.max_body)
        return luaL_error(L, "http.request: body is over %d bytes (http_max_body of rules/engine.lua)",
                          cfg->http_max_body);
    char lines[HL_HTTP_MAX_HEADERS][HEADER_LINE_MAX];
    o.nheaders = read_headers(L, lines, o.headers);

    const char *allow[HL_HTTP_ALLOW_MAX];
    for (int i = 0; i < cfg->http_allow_n && i < HL_HTTP_ALLOW_MAX; i++)
        allow[o.nallow++] = cfg->http_allow[i];
    o.allow = allow;
    if (!env->http)
        return luaL_error(L, "http.request: this engine has no HTTP client");
    char err[1024];
    hl_http_req *q = hl_http_request(env->http, &o, http_done, NULL, err, sizeof err);
    if (!q)
        return luaL_error(L, "http.request: %s", err);
    hl_http_req_set_arg(q, call_async_begin(L, "http.request"));
    return lua_yield(L, 0);
}
