/* policy_priv.h — the inside of an hl_policy, shared by the files of engine/lua/ only. */
#ifndef HL_POLICY_PRIV_H
#define HL_POLICY_PRIV_H
#include <lua.h>
#include <stddef.h>
#include "lua/script.h"

/* Module code run while a snapshot is built may use this much memory (it loads every
 * rule table once; a call is held to cfg->script_memory_kb). */
#define HL_BUILD_MEMORY (256L * 1024 * 1024)
/* ... and this many times a call's instruction budget (1e8 with the shipped 1e6: a build
 * runs on the reload worker, off the loop, and reload_timeout_ms bounds its time). */
#define HL_BUILD_INSTR_FACTOR 100

struct hl_policy {
    lua_State *L;
    int        refs;
    char       version[64];
    uint32_t   content_hash;    /* the hex part of version */
    struct hl_prompts *prompts; /* the prompt set of this version (NULL: none), one reference */
    hl_lua_run *run;            /* what the running code is charged to (NULL: nothing) */
    lua_State  *running;        /* ... and the thread it was started on (where it stopped) */
    long        cpu_start_ns;   /* ... and the thread's CPU clock when it started */
    hl_config  cfg;
    struct hl_trunks *trunks;   /* rules/trunks.lua (core/trunks.h): who calls in, where we dial */
    int        main_ref, fallback_ref;
    char       scripts_dir[512], rules_dir[512];
    /* reload_timeout_ms: build + self-test must end by deadline_ms (monotonic); checked
     * while deadline_on (inside hl_policy_build, and the self-test the owner arms it for) */
    long       deadline_ms;
    bool       deadline_on, deadline_hit;
};

void *hl_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void  hl_sandbox_open(lua_State *L);
int   hl_lua_pcall_budget(hl_policy *p, lua_State *L, hl_lua_run *run, int nargs, int nres);
/* issue 6: calls the policy's own check_sources(files), if main.lua declares one, with the
 * modules of the table at index sources; appends each problem it returns to err ("file:line:
 * what") and returns how many (check.c). */
int   hl_check_policy_sources(hl_policy *p, int sources, char *err, int errlen);
bool  hl_lua_charge(lua_State *L, long n);
int   hl_lua_stop(lua_State *L);
long  hl_lua_monotonic_ms(void);

#endif
