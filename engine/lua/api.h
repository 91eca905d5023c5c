/* api.h — the Lua API declared once: every primitive a script can call is one row of a
 * table (model: Kamailio's cmd_export_t / param_export_t), with where it may be called,
 * whether it waits, and its options with type, default and range.  The same rows drive
 * the registration of the functions, the reading of their options (an unknown or misspelt
 * option is an error naming it, at the script's file:line), the context check, and
 * `hotline api`, which tests/check-api-docs.sh compares with docs/lua-api.md.
 *
 * Tables: lua/sandbox.c (hl.now, hl.date, ...) and call/call_api.c (the call object, with
 * call:menu and call:transfer, written in Lua in lua/lib.c; hl.store, hl.jobs, hl.http). */
#ifndef HL_API_H
#define HL_API_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "core/config.h"

typedef struct lua_State lua_State;
typedef int (*lua_CFunction)(lua_State *L);

/* Where a primitive may be called */
enum {
    HL_CTX_CALLER  = 1, /* the script of a call with a caller (main and what it calls) */
    HL_CTX_JOB     = 2, /* the script of an engine-originated call (job_<kind>) */
    HL_CTX_HANDLER = 4, /* call:on_hangup's function, fallback(call, err) */
    HL_CTX_LOAD    = 8, /* no call: module code at build (reload, test-rules), a coroutine a script made */
};
#define HL_CTX_CALL (HL_CTX_CALLER | HL_CTX_JOB | HL_CTX_HANDLER)
#define HL_CTX_ANY  (HL_CTX_CALL | HL_CTX_LOAD)

typedef enum {
    HL_OPT_INT,      /* a whole number in [lo, hi] */
    HL_OPT_BOOL,     /* true or false */
    HL_OPT_STRING,
    HL_OPT_ITEMS,    /* a playlist: a prompt name or a list of them (the primitive reads it) */
    HL_OPT_LEG,      /* a leg from call:dial (the primitive reads it) */
    HL_OPT_TABLE,
    HL_OPT_ANY,      /* any value; the primitive checks it */
} hl_opt_type;

/* offsetof an int field of hl_config, + 1 so that 0 means "none": a default or bound that
 * is a tunable of rules/engine.lua, read from the snapshot's config at each call */
#define HL_API_CFG(field) (offsetof(hl_config, field) + 1), #field

typedef struct hl_api_opt {
    const char *name;
    hl_opt_type type;
    long        dflt, lo, hi;     /* HL_OPT_INT; HL_OPT_BOOL: dflt 0/1 */
    size_t      dflt_cfg;         /* HL_API_CFG(field): the default is that tunable */
    const char *dflt_cfg_name;
    size_t      hi_cfg;           /* HL_API_CFG(field): the upper bound is that tunable */
    const char *hi_cfg_name;
    const char *dflt_str;         /* HL_OPT_STRING's default (NULL = none) */
    bool        required;
} hl_api_opt;

typedef struct hl_api_prim {
    const char   *name;           /* "call:collect", "leg:hangup", "hl.store.query" */
    lua_CFunction fn;             /* NULL: written in Lua (lua/lib.c) */
    unsigned      where;          /* HL_CTX_* */
    bool          waits;          /* yields: only from the call's own coroutine */
    bool          needs_caller;   /* once the caller is gone the script ends quietly */
    int           opts_arg;       /* stack index of the options table (0 = none) */
    const hl_api_opt *opts;       /* { NULL } ends it */
    bool          open_opts;      /* the table may carry fields of the script's own (a menu) */
    bool          internal;       /* used by the engine's Lua library only; not documented */
    const char   *serves;         /* internal: the documented primitive its messages name */
} hl_api_prim;

/* A row, and an option of a row: name and kind first, the rest by name */
#define HL_API_PRIM(n, f, w, ...) { .name = (n), .fn = (f), .where = (w), __VA_ARGS__ }
#define HL_API_OPT(n, t, ...) { .name = (n), .type = (t), __VA_ARGS__ }
#define HL_API_END { .name = NULL }

/* One option's value as read */
typedef struct hl_api_val {
    bool        set;              /* the script gave it */
    long        i;                /* HL_OPT_INT (default applied) */
    bool        b;                /* HL_OPT_BOOL (default applied) */
    const char *s;                /* HL_OPT_STRING (default applied; alive while the table is) */
} hl_api_val;

#define HL_API_MAX_OPTS 16

/* Reads p's options table (at p->opts_arg) into out[i] for p->opts[i]: a missing table or
 * option takes its default; an unknown option, a wrong type, a value out of range or a
 * missing required one raises an error naming it (luaL_error: the script's file:line). */
void hl_api_read_opts(lua_State *L, const hl_api_prim *p, const hl_config *cfg, hl_api_val *out);
/* The default and the upper bound of an int option under cfg. */
long hl_api_opt_default(const hl_api_opt *o, const hl_config *cfg);
long hl_api_opt_max(const hl_api_opt *o, const hl_config *cfg);
/* How messages name a row: "call:collect" -> "collect", "hl.store.query" -> "store.query" */
const char *hl_api_short_name(const hl_api_prim *p);
/* The row named name in a NULL-name-terminated table, or NULL. */
const hl_api_prim *hl_api_find(const hl_api_prim *tab, const char *name);
/* Registers every row that has a C function: call:X in registry "hl.call.methods", leg:X in
 * "hl.leg.methods", hl.X.Y in the global hl (tables made as needed).  With wrap, each is a
 * closure of wrap with the row as light userdata upvalue 1 (the owner's context check). */
void hl_api_open(lua_State *L, const hl_api_prim *tab, lua_CFunction wrap);
/* One line a primitive, one line an option (see hotline api's format in the file). */
void hl_api_print(FILE *out, const hl_api_prim *tab);
const char *hl_api_ctx_names(unsigned where, char *buf, size_t len);

/* Pushes a table of p's option defaults that are constants (not tunables). */
void hl_api_push_defaults(lua_State *L, const hl_api_prim *p);

/* The rows of the policy runtime (lua/sandbox.c): hl.now, hl.date, hl.time, hl.log, hl.version, hl.hash */
extern const hl_api_prim hl_sandbox_api[];

#endif
