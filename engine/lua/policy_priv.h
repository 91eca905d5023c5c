/* policy_priv.h — the inside of an hl_policy, shared by the files of engine/lua/ only. */
#ifndef HL_POLICY_PRIV_H
#define HL_POLICY_PRIV_H
#include <lua.h>
#include <stddef.h>
#include "lua/script.h"

/* Module code run while a snapshot is built may use this much memory (it loads every
 * rule table once; a call is held to cfg->script_memory_kb). */
#define HL_BUILD_MEMORY (256L * 1024 * 1024)
/* ... and this many times a call's instruction budget. */
#define HL_BUILD_INSTR_FACTOR 20

struct hl_policy {
    lua_State *L;
    int        refs;
    char       version[64];
    hl_lua_run *run;            /* what the running code is charged to (NULL: nothing) */
    hl_config  cfg;
    struct hl_trunks *trunks;   /* rules/trunks.lua (core/trunks.h): who calls in, where we dial */
    int        main_ref, fallback_ref;
    char       scripts_dir[512], rules_dir[512];
};

void *hl_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void  hl_sandbox_open(lua_State *L);
int   hl_lua_pcall_budget(hl_policy *p, lua_State *L, hl_lua_run *run, int nargs, int nres);

#endif
