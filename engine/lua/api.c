/* api.c — what every declared primitive shares (api.h): reading its options table against
 * its row, registering the rows, and printing them for `hotline api`.
 *
 * `hotline api` prints, for each row that is not internal:
 *   prim NAME waits|now where=CTX,CTX[ caller]
 *   opt NAME OPTION TYPE default=D[ range=LO..HI][ required]
 * tests/check-api-docs.sh compares the NAMEs and OPTIONs with docs/lua-api.md. */
#include "lua/api.h"
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

static const char *const type_names[] = { "int", "bool", "string", "playlist", "leg", "table", "any" };

static int cfg_int(const hl_config *cfg, size_t off) { return *(const int *)((const char *)cfg + off - 1); }

long hl_api_opt_default(const hl_api_opt *o, const hl_config *cfg)
{
    return o->dflt_cfg && cfg ? cfg_int(cfg, o->dflt_cfg) : o->dflt;
}

long hl_api_opt_max(const hl_api_opt *o, const hl_config *cfg)
{
    return o->hi_cfg && cfg ? cfg_int(cfg, o->hi_cfg) : o->hi;
}

const hl_api_prim *hl_api_find(const hl_api_prim *tab, const char *name)
{
    for (; tab->name; tab++)
        if (!strcmp(tab->name, name))
            return tab;
    return NULL;
}

const char *hl_api_short_name(const hl_api_prim *p)
{
    if (p->serves)
        return p->serves;
    const char *s = strchr(p->name, ':');
    return s ? s + 1 : p->name + (strncmp(p->name, "hl.", 3) ? 0 : 3);
}

static void unknown_option(lua_State *L, const hl_api_prim *p, const char *key)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const hl_api_opt *o = p->opts; o && o->name; o++) {
        if (o != p->opts)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, o->name);
    }
    luaL_pushresult(&b);
    luaL_error(L, "%s: unknown option '%s' (options: %s)", hl_api_short_name(p), key, lua_tostring(L, -1));
}

static int opt_index(const hl_api_prim *p, const char *key)
{
    for (int i = 0; p->opts && p->opts[i].name; i++)
        if (!strcmp(p->opts[i].name, key))
            return i;
    return -1;
}

static void check_keys(lua_State *L, const hl_api_prim *p, int t)
{
    if (p->open_opts)
        return;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            /* a list item where only named options belong: {"x"} instead of {path = "x"} */
            luaL_error(L, "%s: options are named (name = value); item %s is not", hl_api_short_name(p),
                       luaL_tolstring(L, -2, NULL));
        }
        if (opt_index(p, lua_tostring(L, -2)) < 0)
            unknown_option(L, p, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
}

static void read_one(lua_State *L, const hl_api_prim *p, const hl_api_opt *o, const hl_config *cfg,
                     hl_api_val *v)
{
    const char *what = hl_api_short_name(p);
    int t = lua_type(L, -1);
    switch (o->type) {
    case HL_OPT_INT: {
        int isnum;
        lua_Integer x = lua_tointegerx(L, -1, &isnum);
        long hi = hl_api_opt_max(o, cfg);
        if (!isnum || x < o->lo || x > hi)
            luaL_error(L, "%s: %s must be a whole number from %d to %d", what, o->name, (int)o->lo, (int)hi);
        v->i = (long)x;
        break;
    }
    case HL_OPT_BOOL:
        if (t != LUA_TBOOLEAN)
            luaL_error(L, "%s: %s must be true or false", what, o->name);
        v->b = lua_toboolean(L, -1);
        break;
    case HL_OPT_STRING:
        if (t != LUA_TSTRING)
            luaL_error(L, "%s: option '%s' must be a string", what, o->name);
        v->s = lua_tostring(L, -1); /* stays alive: the options table holds it */
        break;
    case HL_OPT_ITEMS:
        if (t != LUA_TSTRING && t != LUA_TTABLE)
            luaL_error(L, "%s: %s must be a prompt name or a list of them", what, o->name);
        break;
    case HL_OPT_LEG:
        if (!luaL_testudata(L, -1, "hl.leg"))
            luaL_error(L, "%s: %s must be a leg (from call:dial)", what, o->name);
        break;
    case HL_OPT_TABLE:
        if (t != LUA_TTABLE)
            luaL_error(L, "%s: %s must be a table", what, o->name);
        break;
    case HL_OPT_ANY:
        break;
    }
}

void hl_api_read_opts(lua_State *L, const hl_api_prim *p, const hl_config *cfg, hl_api_val *out)
{
    int t = p->opts_arg;
    int tt = lua_type(L, t);
    if (tt != LUA_TNONE && tt != LUA_TNIL && tt != LUA_TTABLE)
        luaL_error(L, "%s: the options must be a table {name = value, ...}", hl_api_short_name(p));
    bool have = tt == LUA_TTABLE;
    if (have)
        check_keys(L, p, t);
    for (int i = 0; p->opts && p->opts[i].name; i++) {
        const hl_api_opt *o = &p->opts[i];
        hl_api_val *v = &out[i];
        memset(v, 0, sizeof *v);
        v->i = hl_api_opt_default(o, cfg);
        v->b = o->dflt != 0;
        v->s = o->dflt_str;
        if (have && lua_getfield(L, t, o->name) != LUA_TNIL) {
            v->set = true;
            read_one(L, p, o, cfg, v);
        } else if (o->required) {
            luaL_error(L, "%s: option '%s' is required", hl_api_short_name(p), o->name);
        }
        if (have)
            lua_pop(L, 1);
    }
}

/* Pushes registry[key], a table made on first use. */
static void push_registry_table(lua_State *L, const char *key)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, key) != LUA_TNIL)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, key);
}

/* Pushes the table a row's function goes into, creating hl.X tables as needed; returns the
 * last part of the name. */
static const char *push_home(lua_State *L, const char *name)
{
    if (!strncmp(name, "call:", 5)) {
        push_registry_table(L, "hl.call.methods");
        return name + 5;
    }
    if (!strncmp(name, "leg:", 4)) {
        push_registry_table(L, "hl.leg.methods");
        return name + 4;
    }
    lua_pushglobaltable(L);
    const char *part = name;
    for (const char *dot; (dot = strchr(part, '.')); part = dot + 1) {
        lua_pushlstring(L, part, (size_t)(dot - part));
        if (lua_gettable(L, -2) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushlstring(L, part, (size_t)(dot - part));
            lua_pushvalue(L, -2);
            lua_settable(L, -4);
        }
        lua_remove(L, -2);
    }
    return part;
}

void hl_api_open(lua_State *L, const hl_api_prim *tab, lua_CFunction wrap)
{
    for (const hl_api_prim *p = tab; p->name; p++) {
        if (!p->fn)
            continue;
        const char *key = push_home(L, p->name);
        if (wrap) {
            lua_pushlightuserdata(L, (void *)p);
            lua_pushcclosure(L, wrap, 1);
        } else {
            lua_pushcfunction(L, p->fn);
        }
        lua_setfield(L, -2, key);
        lua_pop(L, 1);
    }
}

const char *hl_api_ctx_names(unsigned where, char *buf, size_t len)
{
    static const char *const n[] = { "caller", "job", "handler", "load" };
    buf[0] = 0;
    for (int i = 0; i < 4; i++)
        if (where & (1u << i)) {
            size_t used = strlen(buf);
            snprintf(buf + used, len - used, "%s%s", used ? "," : "", n[i]);
        }
    return buf;
}

static void print_opt(FILE *out, const hl_api_prim *p, const hl_api_opt *o)
{
    fprintf(out, "opt %s %s %s", p->name, o->name, type_names[o->type]);
    if (o->type == HL_OPT_INT) {
        if (o->dflt_cfg_name)
            fprintf(out, " default=%s", o->dflt_cfg_name);
        else if (!o->required)
            fprintf(out, " default=%ld", o->dflt);
        if (o->hi_cfg_name)
            fprintf(out, " range=%ld..%s", o->lo, o->hi_cfg_name);
        else
            fprintf(out, " range=%ld..%ld", o->lo, o->hi);
    } else if (o->type == HL_OPT_BOOL && !o->required) {
        fprintf(out, " default=%s", o->dflt ? "true" : "false");
    } else if (o->dflt_str) {
        fprintf(out, " default=\"%s\"", o->dflt_str);
    }
    fprintf(out, "%s\n", o->required ? " required" : "");
}

void hl_api_print(FILE *out, const hl_api_prim *tab)
{
    char where[64];
    for (const hl_api_prim *p = tab; p->name; p++) {
        if (p->internal)
            continue;
        fprintf(out, "prim %s %s where=%s%s%s\n", p->name, p->waits ? "waits" : "now",
                hl_api_ctx_names(p->where, where, sizeof where), p->needs_caller ? " needs-caller" : "",
                p->fn ? "" : " lua");
        for (const hl_api_opt *o = p->opts; o && o->name; o++)
            print_opt(out, p, o);
    }
}

void hl_api_push_defaults(lua_State *L, const hl_api_prim *p)
{
    lua_newtable(L);
    for (const hl_api_opt *o = p->opts; o && o->name; o++) {
        if (o->type == HL_OPT_INT && !o->dflt_cfg && !o->required)
            lua_pushinteger(L, o->dflt);
        else if (o->type == HL_OPT_BOOL)
            lua_pushboolean(L, o->dflt != 0);
        else if (o->dflt_str)
            lua_pushstring(L, o->dflt_str);
        else
            continue;
        lua_setfield(L, -2, o->name);
    }
}
