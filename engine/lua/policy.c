/* policy.c — policy snapshots (script.h): building one from scripts/ and rules/ (every file
 * read into memory, compiled, hashed into the version, main.lua run, globals sealed, static
 * checks), require() from that in-memory copy, and reference counting.
 *
 * Files are read once at build: a call that requires a module later never touches the disk,
 * and what runs is exactly what the version hash covers. */
#include <dirent.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/log.h"
#include "core/files.h"
#include "lua/policy_priv.h"
#include "core/trunks.h"
#include "media/prompts.h"

#define MAX_MODULE_NAME 128

static const char SOURCES = 0; /* registry key: module name -> {chunk=, src=} */
static const char LOADED = 0;  /* registry key: module name -> value */

typedef struct build_ctx {
    hl_policy *p;
    char      *err;
    int        errlen, errors;
    uint32_t   hash;
    struct hl_prompts *set;     /* the version's prompts: what the prompt check looks in */
    char       texts[1 << 16];  /* "\nname\n..." of prompts/ *.txt entries */
} build_ctx;

static void add_err(build_ctx *b, const char *fmt, const char *a, const char *c)
{
    int used = (int)strlen(b->err);
    if (used < b->errlen - 1)
        snprintf(b->err + used, b->errlen - used, fmt, a, c);
    b->errors++;
}

static uint32_t fnv1a(uint32_t h, const void *data, size_t n)
{
    const unsigned char *s = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

static const char *base_name(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    const char *s = dir + n;
    while (s > dir && s[-1] != '/')
        s--;
    static const char dflt[] = "";
    return s < dir + n ? s : dflt;
}

/* Loads prompt texts ("name|text" or "name<TAB>text" lines) from DIR/ *.txt. */
static void load_texts(build_ctx *b, const char *dir)
{
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!hl_str_ends_with(e->d_name, ".txt"))
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *s = hl_file_read(path, HL_SOURCE_MAX_BYTES, &len);
        if (!s)
            continue;
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
            size_t k = strcspn(line, "|\t");
            if (!line[k] || line[0] == '#' || k == 0)
                continue;
            size_t used = strlen(b->texts);
            if (used + k + 3 < sizeof b->texts) {
                if (!used)
                    b->texts[used++] = '\n';
                memcpy(b->texts + used, line, k);
                b->texts[used + k] = '\n';
                b->texts[used + k + 1] = 0;
            }
        }
        free(s);
    }
    closedir(d);
}

/* The .lua files of dir, sorted: the version hash must not depend on directory order. */
static void policy_files(const char *dir, hl_strv *list)
{
    hl_files_collect(dir, ".lua", HL_POLICY_MAX_DEPTH, false, list);
    hl_strv_sort(list);
}

static uint32_t hash_file(uint32_t h, const char *name, const char *src, size_t len)
{
    h = fnv1a(h, name, strlen(name) + 1);
    return fnv1a(h, src, len);
}

static uint32_t hash_prompt_set(uint32_t h, const hl_policy_src *src)
{
    if (!src->prompt_set)
        return h;
    uint32_t ph = hl_prompts_hash(src->prompt_set);
    return fnv1a(h, &ph, sizeof ph);
}

static uint32_t hash_dir(uint32_t h, const char *dir)
{
    hl_strv list = { 0 };
    policy_files(dir, &list);
    for (int i = 0; i < list.n; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, list.v[i]);
        size_t len = 0;
        char *text = hl_file_read(path, HL_SOURCE_MAX_BYTES, &len);
        if (text)
            h = hash_file(h, list.v[i], text, len);
        free(text);
    }
    hl_strv_free(&list);
    return h;
}

/* The files of dir the engine reads other than .lua (rules/schema/ *.sql, the policy's
 * store schema): they change what a version does, so its hash covers them.  Editors'
 * scratch files are left out, as the file watch ignores them. */
static uint32_t hash_other_files(uint32_t h, const char *dir)
{
    hl_strv list = { 0 };
    hl_files_collect(dir, "", HL_POLICY_MAX_DEPTH, false, &list);
    hl_strv_sort(&list);
    for (int i = 0; i < list.n; i++) {
        const char *f = list.v[i];
        if (hl_str_ends_with(f, ".lua") || hl_str_ends_with(f, "~") || hl_str_ends_with(f, ".swp"))
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, f);
        size_t len = 0;
        char *text = hl_file_read(path, HL_SOURCE_MAX_BYTES, &len);
        if (text)
            h = hash_file(h, f, text, len);
        free(text);
    }
    hl_strv_free(&list);
    return h;
}

/* What a version's hash covers after its .lua files (hashed as they are compiled). */
static uint32_t hash_rest(uint32_t h, const hl_policy_src *src, const char *scripts_dir, const char *rules_dir)
{
    h = hash_other_files(h, scripts_dir);
    h = hash_other_files(h, rules_dir);
    return hash_prompt_set(h, src);
}

uint32_t hl_policy_hash_files(const hl_policy_src *src)
{
    const char *scripts = src->scripts_dir ? src->scripts_dir : "scripts";
    const char *rules = src->rules_dir ? src->rules_dir : "rules";
    uint32_t h = hash_dir(2166136261u, scripts);
    h = hash_dir(h, rules);
    return hash_rest(h, src, scripts, rules);
}

/* Reads, hashes, compiles and registers every .lua file of one folder. */
static void take_dir(build_ctx *b, const char *dir, const char *prompts_dir)
{
    lua_State *L = b->p->L;
    hl_strv list = { 0 };
    policy_files(dir, &list);
    char **files = list.v;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &SOURCES);
    for (int i = 0; i < list.n; i++) {
        char path[1200], chunk[700];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        snprintf(chunk, sizeof chunk, "@%s/%s", base_name(dir), files[i]);
        size_t len = 0;
        char *src = hl_file_read(path, HL_SOURCE_MAX_BYTES, &len);
        if (!src) {
            add_err(b, "%s: cannot read (or over 4 MB)%s\n", path, "");
            continue;
        }
        b->hash = hash_file(b->hash, files[i], src, len);
        if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) {
            add_err(b, "%s%s\n", lua_tostring(L, -1), "");
        } else if (prompts_dir) {
            b->errors += hl_check_prompts(chunk + 1, src, len, prompts_dir, b->set, b->texts,
                                          b->err + strlen(b->err), b->errlen - (int)strlen(b->err));
        }
        lua_pop(L, 1);
        /* module name: path without .lua, '/' -> '.'; scenarios are not modules, nor is
         * rules/trunks.lua, which the engine reads as data and which may hold a trunk's
         * digest password: no script needs it, so none can log or send it */
        bool trunks_data = dir == b->p->rules_dir && !strcmp(files[i], "trunks.lua");
        if (!hl_str_ends_with(files[i], ".scenario.lua") && !trunks_data) {
            char mod[MAX_MODULE_NAME + 8];
            snprintf(mod, sizeof mod, "%.*s", (int)(strlen(files[i]) - 4), files[i]);
            for (char *c = mod; *c; c++)
                if (*c == '/')
                    *c = '.';
            if (lua_getfield(L, -1, mod) == LUA_TNIL) { /* scripts/ comes first */
                lua_createtable(L, 0, 2);
                lua_pushstring(L, chunk);
                lua_setfield(L, -2, "chunk");
                lua_pushlstring(L, src, len);
                lua_setfield(L, -2, "src");
                lua_setfield(L, -3, mod);
            }
            lua_pop(L, 1);
        }
        free(src);
    }
    lua_pop(L, 1);
    hl_strv_free(&list);
}

bool hl_lua_module_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > MAX_MODULE_NAME)
        return false;
    bool start = true;
    for (; *s; s++) {
        if (*s == '.') {
            if (start)
                return false;
            start = true;
            continue;
        }
        bool alpha = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_';
        if (!alpha && !(*s >= '0' && *s <= '9' && !start) && !(*s == '-' && !start))
            return false;
        start = false;
    }
    return !start;
}

/* require(name): modules of scripts/ and rules/ only, from the snapshot's copy. */
static int l_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (!hl_lua_module_name_valid(name))
        return luaL_error(L, "require: '%s' is not a module name (letters, digits, _ and dots; "
                             "modules come from scripts/ and rules/ only)", name);
    lua_settop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &LOADED);
    if (lua_getfield(L, 2, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &SOURCES);
    if (lua_getfield(L, 3, name) != LUA_TTABLE)
        return luaL_error(L, "require: module '%s' not found in scripts/ or rules/", name);
    lua_getfield(L, 4, "src");
    lua_getfield(L, 4, "chunk");
    size_t len;
    const char *src = lua_tolstring(L, 5, &len);
    if (luaL_loadbufferx(L, src, len, lua_tostring(L, 6), "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    if (lua_type(L, -1) == LUA_TTABLE)
        hl_lua_freeze(L, -1), lua_remove(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

static int sealed_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to set global '%s': globals are shared by every call and "
                         "read-only once loaded (use local, or call.vars)", luaL_tolstring(L, 2, NULL));
}

/* Moves every global into a hidden table behind a read-only view, so that no call can
 * change what another call sees. */
static void seal_globals(lua_State *L)
{
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    lua_newtable(L);
    int real = g + 1;
    lua_pushnil(L);
    while (lua_next(L, g)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        if (lua_type(L, -1) == LUA_TTABLE)
            hl_lua_freeze(L, -1), lua_remove(L, -2);
        lua_rawset(L, real);
    }
    /* clear the globals table (keys collected first: no rawset during lua_next) */
    for (;;) {
        lua_pushnil(L);
        if (!lua_next(L, g))
            break;
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawset(L, g);
    }
    lua_pushvalue(L, g);
    lua_setfield(L, real, "_G");
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sealed_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, g);
    lua_settop(L, g - 1);
}

/* Runs scripts/main.lua and keeps main() and fallback(). */
static void run_main(build_ctx *b)
{
    hl_policy *p = b->p;
    lua_State *L = p->L;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &SOURCES);
    if (lua_getfield(L, -1, "main") != LUA_TTABLE) {
        add_err(b, "%s/main.lua: missing (the entry point main(call) lives there)%s\n", p->scripts_dir, "");
        lua_pop(L, 2);
        return;
    }
    lua_getfield(L, -1, "src");
    lua_getfield(L, -2, "chunk");
    size_t len;
    const char *src = lua_tolstring(L, -2, &len);
    hl_lua_run run = { .mem_limit = HL_BUILD_MEMORY,
                       .instr_limit = (long)p->cfg.script_instructions * HL_BUILD_INSTR_FACTOR };
    if (luaL_loadbufferx(L, src, len, lua_tostring(L, -1), "t") != LUA_OK ||
        hl_lua_pcall_budget(p, L, &run, 0, 0) != LUA_OK) {
        add_err(b, "%s%s\n", lua_tostring(L, -1), "");
        lua_settop(L, 0);
        return;
    }
    lua_settop(L, 0);
    if (lua_getglobal(L, "main") != LUA_TFUNCTION)
        add_err(b, "%s/main.lua: must define a global function main(call)%s\n", p->scripts_dir, "");
    p->main_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    int t = lua_getglobal(L, "fallback");
    if (t != LUA_TNIL && t != LUA_TFUNCTION)
        add_err(b, "%s/main.lua: fallback must be a function(call, err)%s\n", p->scripts_dir, "");
    p->fallback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static void check_engine_rules(build_ctx *b, const char *rules_dir)
{
    char path[1200], err[600];
    snprintf(path, sizeof path, "%s/engine.lua", rules_dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    hl_config cfg = b->p->cfg;
    if (hl_config_load_rules(&cfg, rules_dir, err, sizeof err) != 0)
        add_err(b, "%s%s\n", err, "");
}

/* rules/trunks.lua is read as data with the rest, so a reload changes it with them. */
static void load_trunks(build_ctx *b, const char *rules_dir)
{
    char err[800];
    b->p->trunks = hl_trunks_load(rules_dir, err, sizeof err);
    if (!b->p->trunks)
        add_err(b, "%s%s\n", err, "");
}

hl_policy *hl_policy_build(const hl_policy_src *src, char *err, int errlen)
{
    if (errlen > 0)
        err[0] = 0;
    build_ctx *b = calloc(1, sizeof *b);
    hl_policy *p = calloc(1, sizeof *p);
    if (!b || !p) {
        snprintf(err, errlen, "out of memory");
        free(b);
        free(p);
        return NULL;
    }
    p->refs = 1;
    p->main_ref = p->fallback_ref = LUA_NOREF;
    if (src->cfg)
        p->cfg = *src->cfg;
    else
        hl_config_defaults(&p->cfg);
    p->deadline_ms = hl_lua_monotonic_ms() + p->cfg.reload_timeout_ms;
    p->deadline_on = p->cfg.reload_timeout_ms > 0;
    snprintf(p->scripts_dir, sizeof p->scripts_dir, "%s", src->scripts_dir ? src->scripts_dir : "scripts");
    snprintf(p->rules_dir, sizeof p->rules_dir, "%s", src->rules_dir ? src->rules_dir : "rules");
    b->p = p;
    b->err = err;
    b->errlen = errlen;
    b->hash = 2166136261u;
    b->set = src->prompt_set;
    p->L = lua_newstate(hl_lua_alloc, p);
    if (!p->L) {
        snprintf(err, errlen, "out of memory");
        free(b);
        free(p);
        return NULL;
    }
    lua_State *L = p->L;
    /* threads copy the main thread's extra space (the call a thread belongs to): none here */
    memset(lua_getextraspace(L), 0, LUA_EXTRASPACE);
    hl_sandbox_open(L);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &SOURCES);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &LOADED);
    lua_pushcfunction(L, l_require);
    lua_setglobal(L, "require");
    if (src->open_api)
        src->open_api(L);
    if (hl_lua_lib_open(L, err, errlen) != 0) {
        hl_policy_unref(p);
        free(b);
        return NULL;
    }

    if (src->prompts_dir) {
        load_texts(b, src->prompts_dir);
        char texts[1100];
        snprintf(texts, sizeof texts, "%s/../prompts", p->scripts_dir);
        load_texts(b, texts);
    }
    take_dir(b, p->scripts_dir, src->prompts_dir);
    take_dir(b, p->rules_dir, src->prompts_dir);
    check_engine_rules(b, p->rules_dir);
    load_trunks(b, p->rules_dir);
    b->hash = hash_rest(b->hash, src, p->scripts_dir, p->rules_dir);
    p->content_hash = b->hash;
    if ((p->prompts = src->prompt_set))
        hl_prompts_ref(p->prompts);
    snprintf(p->version, sizeof p->version, "v%d-%08x", src->serial > 0 ? src->serial : 1, b->hash);
    if (!b->errors)
        run_main(b);
    if (!b->errors) { /* issue 6: the policy's own source checks (check.c) */
        lua_rawgetp(L, LUA_REGISTRYINDEX, &SOURCES);
        int used = (int)strlen(b->err);
        b->errors += hl_check_policy_sources(p, -1, b->err + used, b->errlen - used);
        lua_pop(L, 1);
    }
    if (!b->errors)
        seal_globals(L);
    lua_gc(L, LUA_GCCOLLECT, 0);
    int errors = b->errors;
    free(b);
    p->deadline_on = false; /* calls on this snapshot have their own budgets */
    if (errors) {
        hl_policy_unref(p);
        return NULL;
    }
    return p;
}

void hl_policy_deadline_arm(hl_policy *p, bool on) { p->deadline_on = on && p->cfg.reload_timeout_ms > 0; }
bool hl_policy_deadline_hit(const hl_policy *p) { return p->deadline_hit; }
int  hl_policy_reload_timeout_ms(const hl_policy *p) { return p->cfg.reload_timeout_ms; }

void hl_policy_ref(hl_policy *p) { p->refs++; }

void hl_policy_unref(hl_policy *p)
{
    if (!p || --p->refs > 0)
        return;
    lua_close(p->L);
    hl_trunks_free(p->trunks);
    hl_prompts_unref(p->prompts);
    free(p);
}

const struct hl_trunks *hl_policy_trunks(const hl_policy *p) { return p ? p->trunks : NULL; }

const char *hl_policy_version(const hl_policy *p) { return p->version; }

uint32_t hl_policy_content_hash(const hl_policy *p) { return p ? p->content_hash : 0; }

struct hl_prompts *hl_policy_prompts(const hl_policy *p) { return p ? p->prompts : NULL; }

lua_State *hl_policy_lua(hl_policy *p) { return p->L; }

void hl_policy_push_main(hl_policy *p, lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, p->main_ref); }

void hl_policy_push_fallback(hl_policy *p, lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->fallback_ref);
}
