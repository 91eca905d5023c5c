/* sandbox.c — what a script may touch: the restricted standard library, the per-call
 * memory cap and instruction budget (allocator and count hook), read-only views of shared
 * tables, and the `hl` module functions that need no call (now, date, time, log, version, hash).
 *
 * Everything here hangs off one hl_policy (its lua_State's allocator user data), so two
 * snapshots — or a simulation beside a loop — never share anything. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "core/clock.h"
#include "core/hash.h"
#include "core/log.h"
#include "lua/api.h"
#include "lua/bounded.h"
#include "lua/policy_priv.h"

/* The count hook runs every HOOK_GRANULARITY instructions: often enough to stop a loop
 * within microseconds, rarely enough to cost nothing measurable. */
#define HOOK_GRANULARITY 1000

/* Bytes a script may have allocated for the price of one instruction.  The library copies
 * strings in C (rep, upper, sub, .., load's parser): one instruction may move a megabyte,
 * and a loop of them held the loop for seconds within the budget.  Every such copy
 * allocates what it writes, so the allocator charges it: copying 8 bytes takes about an
 * instruction's time (measured: upper of 1 MB about 1 ms, an instruction 8-15 ns). */
#define ALLOC_BYTES_PER_INSTR 8
/* load()'s parser takes about 40 ns a byte of source ("x=1 " repeated): 5 instructions. */
#define LOAD_INSTR_PER_BYTE 5
/* CPU time one resume may use per instruction of its budget (an instruction takes 8-15 ns).
 * Some VM instructions do C work nothing can charge: comparing two 1 MB strings (== or <)
 * is one instruction of 30 us, and a loop of them ran 9-12 s within the budget.  The hook
 * reads the thread's CPU clock (270 ns, every HOOK_GRANULARITY instructions: 2-3 %) and
 * stops a resume past this: 40 ms with the shipped budget, past any honest step. */
#define CPU_NS_PER_INSTR 40

static bool charge_run(hl_policy *p, hl_lua_run *r, long n);

/* Puts file:line of the innermost Lua function running on L into where, unless set. */
static void note_where(lua_State *L, char *where, size_t len)
{
    lua_Debug ar;
    for (int level = 0; !where[0] && lua_getstack(L, level, &ar); level++)
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
            snprintf(where, len, "%s:%d", ar.short_src, ar.currentline);
}

/* ---- memory and instructions ---------------------------------------------------------- */

void *hl_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    hl_policy *p = ud;
    hl_lua_run *r = p->run;
    long old = ptr ? (long)osize : 0;
    if (nsize == 0) {
        free(ptr);
        if (r)
            r->mem -= old;
        return NULL;
    }
    long grow = (long)nsize - old;
    /* over budget: no more growth, so no more copying until the hook stops the script */
    if (r && grow > 0 && charge_run(p, r, grow / ALLOC_BYTES_PER_INSTR)) {
        if (p->running)
            note_where(p->running, r->where, sizeof r->where);
        return NULL;
    }
    if (r && grow > 0 && r->mem + grow > r->mem_limit) {
        if (!r->killed) {
            r->killed = true;
            snprintf(r->why, sizeof r->why, "memory cap of %ld KB exceeded", r->mem_limit / 1024);
        }
        return NULL;
    }
    void *n = realloc(ptr, nsize);
    if (!n)
        return NULL;
    if (r)
        r->mem += grow;
    return n;
}

static hl_policy *policy_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

long hl_lua_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Charges n instructions to the running script (the count hook, and C work the hook cannot
 * see: the pattern matcher); true when the script must stop: its budget is spent, its
 * memory cap was hit, or the snapshot's build and self-test ran past reload_timeout_ms. */
static bool charge_run(hl_policy *p, hl_lua_run *r, long n)
{
    r->instr += n;
    if (!r->killed && r->instr > r->instr_limit) {
        r->killed = true;
        snprintf(r->why, sizeof r->why, "instruction budget of %ld exceeded", r->instr_limit);
    }
    if (!r->killed && p->deadline_on && hl_lua_monotonic_ms() > p->deadline_ms) {
        r->killed = p->deadline_hit = true;
        snprintf(r->why, sizeof r->why, "build and self-test over reload_timeout_ms (%d ms)",
                 p->cfg.reload_timeout_ms);
    }
    return r->killed;
}

bool hl_lua_charge(lua_State *L, long n)
{
    hl_policy *p = policy_of(L);
    return p->run && charge_run(p, p->run, n);
}

static long thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Has this resume used more CPU than its budget allows (see CPU_NS_PER_INSTR)? */
static bool cpu_spent(hl_policy *p, hl_lua_run *r)
{
    long used = thread_cpu_ns() - p->cpu_start_ns;
    if (r->killed || used <= r->instr_limit * CPU_NS_PER_INSTR)
        return r->killed;
    r->killed = true;
    snprintf(r->why, sizeof r->why, "CPU time of %ld ms exceeded in one step (%ld instructions' "
             "worth)", r->instr_limit * CPU_NS_PER_INSTR / 1000000, r->instr_limit);
    return true;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    hl_policy *p = policy_of(L);
    if (!hl_lua_charge(L, HOOK_GRANULARITY) && !(p->run && cpu_spent(p, p->run)))
        return;
    hl_lua_run *r = p->run;
    if (!r->where[0] && lua_getinfo(L, "Sl", ar))
        snprintf(r->where, sizeof r->where, "%s:%d", ar->short_src, ar->currentline);
    /* From now on stop at the very next instruction of any thread of this run. */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    if (lua_isyieldable(L)) {
        lua_yield(L, 0); /* a yield out of a hook cannot be caught by pcall */
        return;
    }
    luaL_error(L, "%s", r->why);
}

/* Stops the running script from a C function as the hook does (after hl_lua_charge said
 * so): `return hl_lua_stop(L);`. */
int hl_lua_stop(lua_State *L)
{
    hl_lua_run *r = policy_of(L)->run;
    note_where(L, r->where, sizeof r->where);
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    if (lua_isyieldable(L))
        return lua_yield(L, 0);
    return luaL_error(L, "%s", r->why);
}

/* What a nested run saves of the one it interrupts (a handler run from inside a resume). */
typedef struct run_frame {
    hl_lua_run *run;
    lua_State  *running;
    long        cpu_start_ns;
} run_frame;

/* Charges what L runs from now on to run, under the budget hook. */
static run_frame run_enter(hl_policy *p, lua_State *L, hl_lua_run *run)
{
    run_frame saved = { p->run, p->running, p->cpu_start_ns };
    p->run = run;
    p->running = L;
    p->cpu_start_ns = thread_cpu_ns();
    run->instr = 0;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_GRANULARITY);
    return saved;
}

static void run_leave(hl_policy *p, run_frame saved)
{
    p->run = saved.run;
    p->running = saved.running;
    p->cpu_start_ns = saved.cpu_start_ns;
}

int hl_policy_resume(hl_policy *p, lua_State *co, hl_lua_run *run, int nargs, int *nres)
{
    run_frame saved = run_enter(p, co, run);
    int st = lua_resume(co, NULL, nargs, nres);
    run_leave(p, saved);
    return st;
}

/* Runs a plain function (build time) under run, in protected mode. */
int hl_lua_pcall_budget(hl_policy *p, lua_State *L, hl_lua_run *run, int nargs, int nres)
{
    run_frame saved = run_enter(p, L, run);
    int st = lua_pcall(L, nargs, nres, 0);
    lua_sethook(L, NULL, 0, 0);
    run_leave(p, saved);
    if (run->killed) { /* stopped: say where and why (the hook's error names neither) */
        lua_pop(L, st == LUA_OK ? nres : 1);
        lua_pushfstring(L, "%s: %s", run->where, run->why);
        return LUA_ERRRUN;
    }
    return st;
}

/* ---- the "call has ended" unwinding value --------------------------------------------- */

static const char ended_tag = 0; /* its address is the identity of the value; never written */

void hl_lua_push_ended(lua_State *L) { lua_pushlightuserdata(L, (void *)&ended_tag); }

bool hl_lua_is_ended(lua_State *L, int idx)
{
    return lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == &ended_tag;
}

/* ---- read-only views ------------------------------------------------------------------ */

static int frozen_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to change a read-only table (shared by every call; copy it, "
                         "or keep per-call data in call.vars)");
}

static int frozen_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    if (lua_type(L, -1) == LUA_TTABLE)
        hl_lua_freeze(L, -1), lua_remove(L, -2);
    return 1;
}

static int frozen_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)luaL_len(L, lua_upvalueindex(1)));
    return 1;
}

static int frozen_next(lua_State *L)
{
    lua_settop(L, 2);
    if (!lua_next(L, lua_upvalueindex(1)))
        return 0;
    if (lua_type(L, -1) == LUA_TTABLE)
        hl_lua_freeze(L, -1), lua_remove(L, -2);
    return 2;
}

static int frozen_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, frozen_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

static const char FROZEN_CACHE = 0; /* registry key (address) of the real -> view cache */

void hl_lua_freeze(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &FROZEN_CACHE) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_newtable(L);
        lua_pushliteral(L, "k"); /* ephemeron: a view lives as long as its table */
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &FROZEN_CACHE);
    }
    int cache = lua_gettop(L);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, cache) == LUA_TTABLE) {
        lua_remove(L, cache);
        return;
    }
    lua_pop(L, 1);
    /* a table that already is a view stays as it is */
    if (lua_getmetatable(L, idx)) {
        lua_getfield(L, -1, "__metatable");
        bool view = lua_isstring(L, -1) && !strcmp(lua_tostring(L, -1), "read-only");
        lua_pop(L, 2);
        if (view) {
            lua_pop(L, 1);
            lua_pushvalue(L, idx);
            return;
        }
    }
    lua_newtable(L); /* the view */
    lua_createtable(L, 0, 5);
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, frozen_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, frozen_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, frozen_len, 1);
    lua_setfield(L, -2, "__len");
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, frozen_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -2);
    lua_rawset(L, cache);
    lua_remove(L, cache);
}

/* ---- time in the centre's zone -------------------------------------------------------- */

static double run_now(lua_State *L)
{
    hl_lua_run *r = policy_of(L)->run;
    if (r && r->clock)
        return hl_clock_wall(r->clock);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* hl.now() -> seconds since the epoch (fake in the simulator) */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, run_now(L));
    return 1;
}

static void centre_tm(double t, struct tm *tm)
{
    time_t tt = (time_t)t + HL_CENTRE_UTC_OFFSET;
    gmtime_r(&tt, tm);
}

static void set_int(lua_State *L, const char *k, int v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* Conversions strftime may see: the C99 set minus locale- and zone-dependent ones. */
static const char DATE_CONVERSIONS[] = "aAbBdDeFgGhHIjmMnpRStTuUVwWyY%";

/* hl.date([format [, t]]) — os.date in the centre's zone (+08:00); "*t" gives a table. */
static int l_date(lua_State *L)
{
    const char *fmt = luaL_optstring(L, 1, "%Y-%m-%d %H:%M:%S");
    double t = luaL_opt(L, luaL_checknumber, 2, run_now(L));
    if (*fmt == '!')
        fmt++; /* the centre's zone is the only zone */
    struct tm tm;
    centre_tm(t, &tm);
    if (!strcmp(fmt, "*t")) {
        lua_createtable(L, 0, 9);
        set_int(L, "year", tm.tm_year + 1900);
        set_int(L, "month", tm.tm_mon + 1);
        set_int(L, "day", tm.tm_mday);
        set_int(L, "hour", tm.tm_hour);
        set_int(L, "min", tm.tm_min);
        set_int(L, "sec", tm.tm_sec);
        set_int(L, "wday", tm.tm_wday + 1);
        set_int(L, "yday", tm.tm_yday + 1);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "isdst");
        return 1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *s = fmt; *s; s++) {
        if (*s != '%') {
            luaL_addchar(&b, *s);
            continue;
        }
        s++;
        if (!*s || !strchr(DATE_CONVERSIONS, *s))
            return luaL_error(L, "date: invalid conversion '%%%c' in format", *s ? *s : ' ');
        char spec[3] = { '%', *s, 0 }, out[64];
        size_t n = strftime(out, sizeof out, spec, &tm);
        luaL_addlstring(&b, out, n);
    }
    luaL_pushresult(&b);
    return 1;
}

static int field(lua_State *L, const char *k, int dflt, int lo, int hi)
{
    int t = lua_getfield(L, 1, k);
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (t == LUA_TNIL) {
        if (dflt < 0)
            return luaL_error(L, "time: field '%s' missing in date table", k);
        return dflt;
    }
    if (!isnum || v < lo || v > hi)
        return luaL_error(L, "time: field '%s' is out of range", k);
    return (int)v;
}

/* hl.time([table]) — os.time with the table read as centre time; no table = hl.now(). */
static int l_time(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, (lua_Integer)run_now(L));
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    char iso[64];
    snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d", field(L, "year", -1, 1900, 9999),
             field(L, "month", -1, 1, 12), field(L, "day", -1, 1, 31), field(L, "hour", 12, 0, 23),
             field(L, "min", 0, 0, 59), field(L, "sec", 0, 0, 60));
    double t = hl_clock_parse_iso(iso);
    if (t < 0)
        return luaL_error(L, "time: invalid date");
    lua_pushinteger(L, (lua_Integer)t);
    return 1;
}

/* os.clock(): engine seconds on the run's clock (deterministic in the simulator). */
static int l_clock(lua_State *L)
{
    hl_lua_run *r = policy_of(L)->run;
    lua_pushnumber(L, r && r->clock ? hl_clock_now_ms(r->clock) / 1000.0 : (double)clock() / CLOCKS_PER_SEC);
    return 1;
}

static int l_difftime(lua_State *L)
{
    lua_pushnumber(L, luaL_checknumber(L, 1) - luaL_optnumber(L, 2, 0));
    return 1;
}

static void where(lua_State *L, char *out, int outlen)
{
    lua_Debug ar;
    out[0] = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        snprintf(out, outlen, "%s:%d", ar.short_src, ar.currentline);
}

/* hl.log(level, msg) — level "debug", "info", "warn" or "error". */
static int l_log(lua_State *L)
{
    static const char *const levels[] = { "debug", "info", "warn", "error", NULL };
    int lvl = luaL_checkoption(L, 1, NULL, levels);
    size_t n;
    const char *msg = luaL_tolstring(L, 2, &n);
    hl_lua_run *r = policy_of(L)->run;
    char at[160];
    where(L, at, sizeof at);
    if ((hl_log_level)lvl >= hl_log_get_level())
        hl_log((hl_log_level)lvl, "script", "%s%s%s %.*s", r && r->call_id ? r->call_id : "-",
               at[0] ? " " : "", at, (int)(n > 1500 ? 1500 : n), msg);
    return 0;
}

/* print(...) goes to the log at info level, never to stdout. */
static int l_print(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_pushliteral(L, "info");
    lua_insert(L, -2);
    lua_replace(L, 2);
    lua_replace(L, 1);
    lua_settop(L, 2);
    return l_log(L);
}

/* hl.hash(text) -> FNV-1a 64 of text's bytes as 16 hex digits (core/hash.h): stable across
 * machines and versions, so a draw ordered by it (rules/scoring.lua) can be redone later.
 * Paid for like the library's other C scans (a byte an instruction's eighth). */
static int l_hash(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    if (hl_lua_charge(L, (long)(n / 8)))
        return hl_lua_stop(L);
    char hex[17];
    hl_fnv1a64_hex(s, n, hex);
    lua_pushstring(L, hex);
    return 1;
}

static int l_version(lua_State *L)
{
    lua_pushstring(L, policy_of(L)->version);
    return 1;
}

/* ---- restricted standard functions ---------------------------------------------------- */

/* load(chunk [, name [, mode [, env]]]): text only, env defaults to the shared globals. */
static int l_load(lua_State *L)
{
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (!s)
        return luaL_error(L, "load: only a string chunk is allowed here");
    const char *name = luaL_optstring(L, 2, "=(load)");
    const char *mode = luaL_optstring(L, 3, "t");
    if (strcmp(mode, "t") != 0)
        return luaL_error(L, "load: mode '%s' refused: only text chunks (mode \"t\") may be loaded", mode);
    if (len && s[0] == LUA_SIGNATURE[0])
        return luaL_error(L, "load: binary (precompiled) chunks are refused");
    if (hl_lua_charge(L, (long)len * LOAD_INSTR_PER_BYTE))
        return hl_lua_stop(L); /* the parser runs in C: it is paid for before it starts */
    int st = luaL_loadbufferx(L, s, len, name, "t");
    if (st != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnone(L, 4)) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static int l_refused(lua_State *L)
{
    return luaL_error(L, "%s is not available to scripts (sandbox)", lua_tostring(L, lua_upvalueindex(1)));
}

/* string.rep within the memory cap: refuse what cannot fit before looping over it. */
static int l_rep(lua_State *L)
{
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    hl_lua_run *r = policy_of(L)->run;
    double cap = r ? (double)r->mem_limit : (double)HL_BUILD_MEMORY;
    if (n > 0 && ((double)n * (double)(l + lsep) > cap || (double)n > cap))
        return luaL_error(L, "string.rep: result of %I repetitions is over the script memory cap", n);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int l_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage: only \"count\" is available to scripts");
    lua_pushnumber(L, lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
}

static void refuse(lua_State *L, int tbl, const char *key, const char *shown)
{
    lua_pushstring(L, shown);
    lua_pushcclosure(L, l_refused, 1);
    lua_setfield(L, tbl, key);
}


/* globals[name] = an empty table whose every field raises "name is not available" */
static void set_refused_library(lua_State *L, int g, const char *name)
{
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, name);
    lua_pushcclosure(L, l_refused, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, g, name);
}

/* The hl module's rows of the declared API (api.h): usable anywhere, even at load time. */
const hl_api_prim hl_sandbox_api[] = {
    HL_API_PRIM("hl.now", l_now, HL_CTX_ANY),
    HL_API_PRIM("hl.date", l_date, HL_CTX_ANY),
    HL_API_PRIM("hl.time", l_time, HL_CTX_ANY),
    HL_API_PRIM("hl.log", l_log, HL_CTX_ANY),
    HL_API_PRIM("hl.version", l_version, HL_CTX_ANY),
    HL_API_PRIM("hl.hash", l_hash, HL_CTX_ANY),
    HL_API_END,
};

/* Opens the sandboxed library into the state's globals. */
void hl_sandbox_open(lua_State *L)
{
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_pop(L, 6);
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    lua_pushcfunction(L, l_load);
    lua_setfield(L, g, "load");
    lua_pushcfunction(L, l_print);
    lua_setfield(L, g, "print");
    lua_pushcfunction(L, l_collectgarbage);
    lua_setfield(L, g, "collectgarbage");
    hl_metatable_open(L); /* no finalizers (metatable.c) */
    refuse(L, g, "dofile", "dofile");
    refuse(L, g, "loadfile", "loadfile");
    lua_pushnil(L);
    lua_setfield(L, g, "rawset"); /* would write past read-only views */

    lua_getfield(L, g, "string");
    lua_getfield(L, -1, "rep");
    lua_pushcclosure(L, l_rep, 1);
    lua_setfield(L, -2, "rep");
    refuse(L, lua_gettop(L), "dump", "string.dump (bytecode)");
    hl_pattern_open(L, -1); /* bounded matcher, subject capped (pattern.c) */
    hl_scan_open(L);        /* utf8 scans and sorts pay for their strings (scan.c) */
    lua_pop(L, 1);
    /* hide the string metatable (its __index is the real, writable string table) */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    /* os: time and date only, in the centre's zone */
    lua_createtable(L, 0, 8);
    lua_pushcfunction(L, l_time);
    lua_setfield(L, -2, "time");
    lua_pushcfunction(L, l_date);
    lua_setfield(L, -2, "date");
    lua_pushcfunction(L, l_clock);
    lua_setfield(L, -2, "clock");
    lua_pushcfunction(L, l_difftime);
    lua_setfield(L, -2, "difftime");
    int os = lua_gettop(L);
    refuse(L, os, "execute", "os.execute");
    refuse(L, os, "exit", "os.exit");
    refuse(L, os, "getenv", "os.getenv");
    refuse(L, os, "remove", "os.remove");
    refuse(L, os, "rename", "os.rename");
    refuse(L, os, "tmpname", "os.tmpname");
    lua_setfield(L, g, "os");
    /* io and debug do not exist; say so when a script reaches for them */
    set_refused_library(L, g, "io");
    set_refused_library(L, g, "debug");

    lua_newtable(L);
    lua_setfield(L, g, "hl");
    hl_api_open(L, hl_sandbox_api, NULL);
    lua_pop(L, 1);
}
