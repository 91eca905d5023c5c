/* http_canned.c — a scenario's http table (sim/) read into the canned client of
 * http_client.h:
 *   http = {
 *     ["GET http://backend.example/api/v1/ping"] = { status = 200, body = "pong" },
 *     ["POST http://backend.example/api/v1/verify"] = {       -- answers in order, the last
 *       { status = 200, body = '{"ok":false}' },               -- one again after that
 *       { status = 200, body = '{"ok":true}', headers = { ["content-type"] = "application/json" } },
 *     },
 *     ["GET http://backend.example/slow"] = { delay_ms = 9000 },   -- past the timeout
 *     ["GET http://backend.example/down"] = { error = "connection refused" },
 *   } */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>
#include "http/http_client.h"

#define CANNED_ANSWERS_MAX 64   /* answers for one request in one scenario: a call makes a few */
#define CANNED_DELAY_MAX_MS (HL_HTTP_TIMEOUT_MAX_MS + 1000) /* past any timeout is enough */

static bool key_valid(const char *k)
{
    const char *sp = strchr(k, ' ');
    if (!sp)
        return false;
    size_t m = (size_t)(sp - k);
    return ((m == 3 && !strncmp(k, "GET", 3)) || (m == 4 && !strncmp(k, "POST", 4))) && sp[1];
}

/* One answer table at idx; 0, or -1 with err. */
static int read_answer(lua_State *S, int idx, const char *key, hl_http_canned *a, json_t **hdrs,
                       char *err, size_t errlen)
{
    idx = lua_absindex(S, idx);
    *a = (hl_http_canned){ .status = 200 };
    *hdrs = NULL;
    static const char *const known[] = { "status", "body", "headers", "delay_ms", "error", NULL };
    lua_pushnil(S);
    while (lua_next(S, idx)) {
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++)
            ok = lua_type(S, -2) == LUA_TSTRING && !strcmp(lua_tostring(S, -2), known[i]);
        if (!ok) {
            snprintf(err, errlen, "http[\"%s\"]: unknown field %s (status, body, headers, delay_ms, "
                                  "error)", key, lua_type(S, -2) == LUA_TSTRING ? lua_tostring(S, -2) : "?");
            lua_pop(S, 2);
            return -1;
        }
        lua_pop(S, 1);
    }
    int isnum;
    lua_getfield(S, idx, "status");
    lua_Integer st = lua_tointegerx(S, -1, &isnum);
    if (!lua_isnil(S, -1) && (!isnum || st < 100 || st > 599)) {
        snprintf(err, errlen, "http[\"%s\"]: status must be a whole number from 100 to 599", key);
        return -1;
    }
    if (isnum)
        a->status = (int)st;
    lua_getfield(S, idx, "body");
    if (!lua_isnil(S, -1) && lua_type(S, -1) != LUA_TSTRING) {
        snprintf(err, errlen, "http[\"%s\"]: body must be a string", key);
        return -1;
    }
    a->body = lua_isnil(S, -1) ? "" : lua_tolstring(S, -1, &a->body_len);
    lua_getfield(S, idx, "delay_ms");
    lua_Integer d = lua_tointegerx(S, -1, &isnum);
    if (!lua_isnil(S, -1) && (!isnum || d < 0 || d > CANNED_DELAY_MAX_MS)) {
        snprintf(err, errlen, "http[\"%s\"]: delay_ms must be a whole number from 0 to %d", key,
                 CANNED_DELAY_MAX_MS);
        return -1;
    }
    a->delay_ms = isnum ? (int)d : 0;
    lua_getfield(S, idx, "error");
    if (!lua_isnil(S, -1) && lua_type(S, -1) != LUA_TSTRING) {
        snprintf(err, errlen, "http[\"%s\"]: error must be a string (what failed)", key);
        return -1;
    }
    a->error = lua_tostring(S, -1);
    lua_getfield(S, idx, "headers");
    if (!lua_isnil(S, -1)) {
        if (!lua_istable(S, -1)) {
            snprintf(err, errlen, "http[\"%s\"]: headers must be a table of name = value", key);
            return -1;
        }
        *hdrs = json_object();
        lua_pushnil(S);
        while (lua_next(S, -2)) {
            if (lua_type(S, -2) != LUA_TSTRING || lua_type(S, -1) != LUA_TSTRING) {
                snprintf(err, errlen, "http[\"%s\"]: headers must be a table of name = value (strings)", key);
                lua_pop(S, 2);
                return -1;
            }
            /* the names as a real answer gives them to scripts: lower case */
            char name[128];
            snprintf(name, sizeof name, "%s", lua_tostring(S, -2));
            for (char *p = name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            size_t vl;
            const char *v = lua_tolstring(S, -1, &vl);
            json_object_set_new_nocheck(*hdrs, name, json_stringn_nocheck(v, vl));
            lua_pop(S, 1);
        }
    }
    a->headers = *hdrs;
    /* the strings stay on S's stack (the caller pops them after hl_http_canned_add copied) */
    return 0;
}

static int add_answer(hl_http *h, lua_State *S, int idx, const char *key, char *err, size_t errlen)
{
    int top = lua_gettop(S);
    hl_http_canned a;
    json_t *hdrs = NULL;
    int rc = read_answer(S, idx, key, &a, &hdrs, err, errlen);
    if (rc == 0 && hl_http_canned_add(h, key, &a) != 0) {
        snprintf(err, errlen, "http: out of memory");
        rc = -1;
    }
    json_decref(hdrs);
    lua_settop(S, top);
    return rc;
}

hl_http *hl_http_canned_from_lua(hl_timers *timers, FILE *out, lua_State *S, int idx, char *err,
                                 size_t errlen)
{
    hl_http *h = hl_http_new_canned(timers, out);
    if (!h) {
        snprintf(err, errlen, "http: out of memory");
        return NULL;
    }
    if (lua_isnoneornil(S, idx))
        return h;
    idx = lua_absindex(S, idx);
    if (!lua_istable(S, idx)) {
        snprintf(err, errlen, "http must be a table: [\"GET http://host/path\"] = {status=, body=}");
        hl_http_close(h);
        return NULL;
    }
    lua_pushnil(S);
    while (lua_next(S, idx)) {
        const char *key = lua_type(S, -2) == LUA_TSTRING ? lua_tostring(S, -2) : NULL;
        int rc = 0;
        if (!key || !key_valid(key)) {
            snprintf(err, errlen, "http: key %s must be \"GET URL\" or \"POST URL\"",
                     key ? key : "(not a string)");
            rc = -1;
        } else if (!lua_istable(S, -1)) {
            snprintf(err, errlen, "http[\"%s\"]: must be an answer {status=, body=} or a list of them", key);
            rc = -1;
        } else if (lua_rawlen(S, -1) == 0) {
            rc = add_answer(h, S, -1, key, err, errlen);
        } else {
            lua_Integer n = (lua_Integer)lua_rawlen(S, -1);
            if (n > CANNED_ANSWERS_MAX) {
                snprintf(err, errlen, "http[\"%s\"]: more than %d answers", key, CANNED_ANSWERS_MAX);
                rc = -1;
            }
            for (lua_Integer i = 1; i <= n && rc == 0; i++) {
                if (lua_rawgeti(S, -1, i) != LUA_TTABLE) {
                    snprintf(err, errlen, "http[\"%s\"][%lld]: must be an answer table", key, (long long)i);
                    rc = -1;
                } else {
                    rc = add_answer(h, S, -1, key, err, errlen);
                }
                lua_pop(S, 1);
            }
        }
        if (rc != 0) {
            lua_pop(S, 2);
            hl_http_close(h);
            return NULL;
        }
        lua_pop(S, 1);
    }
    return h;
}
