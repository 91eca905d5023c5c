/* luajson.c — a plain Lua value as JSON, for what scripts and scenarios hand the engine to
 * keep (job arguments): one strict conversion for both (see script.h). */
#include "lua/script.h"
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>

/* A plain Lua value as JSON: strings, finite numbers, booleans, and tables (a sequence 1..n
 * is an array, else every key must be a string).  NULL with the reason in err. */
static json_t *to_json(lua_State *L, int idx, int depth, int max_depth, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *v = lua_tolstring(L, idx, &n);
        json_t *j = json_stringn(v, n);
        if (!j)
            snprintf(err, errlen, "a string is not valid UTF-8");
        return j;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer(lua_tointeger(L, idx));
        if (lua_tonumber(L, idx) != lua_tonumber(L, idx) || lua_tonumber(L, idx) * 0 != 0) {
            snprintf(err, errlen, "a number is not finite");
            return NULL;
        }
        return json_real(lua_tonumber(L, idx));
    case LUA_TTABLE:
        break;
    default:
        snprintf(err, errlen, "a %s cannot be stored (strings, numbers, booleans, tables)",
                 luaL_typename(L, idx));
        return NULL;
    }
    if (depth >= max_depth || !lua_checkstack(L, 4)) {
        snprintf(err, errlen, "tables nested deeper than %d", max_depth);
        return NULL;
    }
    if (luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
        lua_pop(L, 1);
        snprintf(err, errlen, "a read-only table (rules data): copy the values into a new table");
        return NULL;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), keys = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        keys++;
        lua_pop(L, 1);
    }
    bool array = n > 0 && keys == n;
    json_t *out = array ? json_array() : json_object();
    if (array) {
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            json_t *v = to_json(L, -1, depth + 1, max_depth, err, errlen);
            lua_pop(L, 1);
            if (!v) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, v);
        }
        return out;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        json_t *v = lua_type(L, -2) == LUA_TSTRING ? to_json(L, -1, depth + 1, max_depth, err, errlen) : NULL;
        if (!v) {
            if (lua_type(L, -2) != LUA_TSTRING)
                snprintf(err, errlen, "a table mixes list items and names (keys must be names)");
            lua_pop(L, 2);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, lua_tostring(L, -2), v);
        lua_pop(L, 1);
    }
    return out;
}

json_t *hl_lua_to_json(lua_State *L, int idx, int max_depth, char *err, size_t errlen)
{
    return to_json(L, idx, 0, max_depth, err, errlen);
}
