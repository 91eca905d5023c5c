/* script.h — the Lua side of the engine: policy snapshots and call scripts.
 *
 * A policy snapshot (hl_policy) is one compiled version of scripts/ and rules/: its own
 * lua_State with the sandboxed standard library, the engine's Lua API (docs/lua-api.md),
 * and every module loaded.  It is reference-counted: the loop holds the current one, every
 * call holds the one it started on, so a reload never changes a running call.
 *
 * Each call runs its script (scripts/main.lua, function `main(call)` unless the policy says
 * otherwise) as a coroutine of its snapshot.  Primitives that wait (play, collect, record,
 * dial, bridge, sleep, store queries) yield; the call layer resumes the coroutine when the
 * leg event or timer arrives.  A per-resume instruction budget and a per-call memory cap stop
 * a runaway script; its call then takes the fallback path (an apology, then an agent queue or
 * goodbye) and the error is logged with file and line. */
#ifndef HL_SCRIPT_H
#define HL_SCRIPT_H
#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"

typedef struct hl_policy hl_policy;

/* Folders of scripts/ and rules/ are read this deep for .lua files (scripts/topics/pension/
 * x.lua = 3); the reload's file watch watches as deep. */
#define HL_POLICY_MAX_DEPTH 4
struct hl_call;
struct lua_State;

typedef struct hl_policy_src {
    const char *scripts_dir;
    const char *rules_dir;
    const char *prompts_dir;   /* for the static prompt check; NULL = skip it */
    /* Issue 10: the prompt set of this version (media/prompts.h's hl_prompts_scan of
     * prompts_dir): its content hash is part of the version, and the policy keeps a
     * reference for its life, so calls on it hear its audio.  NULL = none (tools). */
    struct hl_prompts *prompt_set;
    const hl_config *cfg;
    int serial;                /* the "vN" of the version (the owner's load count); 0 = 1 */
    /* Registers the API the scripts run against (the call object, hl.store, hl.jobs,
     * hl.http: call/call.h's hl_call_lua_open), given by the owner so that the policy
     * runtime needs nothing above it.  NULL = the sandbox and hl.now/date/time/log only. */
    void (*open_api)(struct lua_State *L);
} hl_policy_src;

/* Compiles everything, runs the static checks.  NULL with a clear message (file:line: what)
 * in err when anything is wrong. */
hl_policy *hl_policy_build(const hl_policy_src *src, char *err, int errlen);
/* The reload's time limit (reload_timeout_ms of the snapshot's config), counted from the
 * start of hl_policy_build: while armed, every Lua run on the snapshot (a scenario's call,
 * say) is stopped once it has passed; the owner arms it around the self-test and then asks
 * whether it was hit. */
void hl_policy_deadline_arm(hl_policy *p, bool on);
bool hl_policy_deadline_hit(const hl_policy *p);
int  hl_policy_reload_timeout_ms(const hl_policy *p);
void hl_policy_ref(hl_policy *p);
void hl_policy_unref(hl_policy *p);
/* A name `require` accepts: letters, digits, _ and - in dot-separated parts ("ivr.menu"),
 * at most 128 characters; never a path.  The policy's require and scenario files share it. */
bool hl_lua_module_name_valid(const char *name);
/* rules/trunks.lua of this snapshot (core/trunks.h); NULL for a NULL policy. */
const struct hl_trunks *hl_policy_trunks(const hl_policy *p);
/* "v3-1a2b3c4d": a load counter and a hash of every file's contents (scripts/ and rules/,
 * .lua and the rest such as rules/schema/ *.sql, and with a prompt set the prompts' WAVs). */
const char *hl_policy_version(const hl_policy *p);
/* The hash of the version string, and the prompt set the snapshot plays (NULL if none). */
uint32_t    hl_policy_content_hash(const hl_policy *p);
struct hl_prompts *hl_policy_prompts(const hl_policy *p);
/* The content hash a build of src would have now, without building: every .lua file of
 * scripts_dir and rules_dir read and hashed as hl_policy_build does, and src->prompt_set's
 * hash.  A reload whose hash equals the serving policy's has nothing to do. */
uint32_t    hl_policy_hash_files(const hl_policy_src *src);

/* ---- for the call layer (call.c) and the simulator ------------------------------------
 * The snapshot's lua_State is shared by every call on it; what one call may use is
 * accounted in an hl_lua_run: while a call's coroutine runs, the allocator charges its
 * net growth to run->mem (refused past mem_limit), and a count hook charges instructions
 * to run->instr (stopped past instr_limit).  A stopped script is yielded out of (so pcall
 * cannot catch the stop) and lua_resume returns LUA_YIELD with run->killed set. */
typedef struct lua_State lua_State;
struct hl_clock;

typedef struct hl_lua_run {
    long   mem, mem_limit;          /* bytes: net growth charged, and the cap */
    long   instr, instr_limit;      /* instructions this resume, and the budget */
    bool   killed;                  /* budget or memory cap exceeded: stop this script */
    char   why[96];                 /* what was exceeded */
    char   where[160];              /* file:line where it was stopped */
    const struct hl_clock *clock;   /* hl.now() (NULL: the system clock) */
    const char *call_id;            /* for hl.log */
} hl_lua_run;

lua_State *hl_policy_lua(hl_policy *p);
/* Calls the function below nargs arguments on L (the snapshot's state, or a thread of it)
 * charged to a run of its own: at most instr_limit instructions and mem_limit bytes of
 * growth; lua_pcall's status (a stop comes back as LUA_ERRRUN, "file:line: why" on top).
 * For policy work off the loop (app/offline.c: the month's computation, reports). */
int  hl_policy_pcall(hl_policy *p, lua_State *L, int nargs, int nres, long instr_limit, long mem_limit);
/* Runs co (resume with nargs on its stack) charging run; returns lua_resume's status. */
int  hl_policy_resume(hl_policy *p, lua_State *co, hl_lua_run *run, int nargs, int *nres);
/* Pushes the entry function main(call) / the optional fallback(call, err) (nil if none). */
void hl_policy_push_main(hl_policy *p, lua_State *L);
void hl_policy_push_fallback(hl_policy *p, lua_State *L);
/* A plain Lua value as JSON: strings, finite numbers, booleans, and tables (a sequence 1..n
 * is an array, else every key must be a string; read-only rules tables are refused), at most
 * max_depth tables deep.  NULL with the reason in err.  (luajson.c) */
struct json_t;
struct json_t *hl_lua_to_json(lua_State *L, int idx, int max_depth, char *err, size_t errlen);
/* The error value that unwinds a script whose caller has gone (not logged as an error). */
void hl_lua_push_ended(lua_State *L);
bool hl_lua_is_ended(lua_State *L, int idx);
/* Deep read-only view of a table (cached): what require() and the sealed globals hand out. */
void hl_lua_freeze(lua_State *L, int idx);

/* Runs the table tests of one module NAME_test of the snapshot (rule_tests.c: a list of
 * { name, got | run, want | error }), calling line(arg, ok, "ok   SHOWN: name" or "FAIL SHOWN:
 * name: what differed") per case; adds the passes to *passed and returns the failures. */
typedef void (*hl_test_line_fn)(void *arg, bool ok, const char *text);
int  hl_policy_run_tests(hl_policy *p, const char *module, const char *shown, hl_test_line_fn line, void *arg,
                         int *passed);

/* The Lua part of the library (lib.c: menu, transfer), and the static prompt check (check.c). */
int  hl_lua_lib_open(lua_State *L, char *err, int errlen);
/* Scans one source for prompt names used as literal strings (prompt=, invalid_prompt=,
 * play(...), say...) and appends "file:line: prompt 'x' ..." for each one missing from
 * prompts_dir (NAME.wav; with set, the version's prompt set, so that the check sees exactly
 * what the version will play) and from the prompt texts (prompts/ *.txt lines "name|text").
 * Returns the number of problems. */
int  hl_check_prompts(const char *chunk, const char *src, size_t len, const char *prompts_dir,
                      struct hl_prompts *set, const char *texts, char *err, int errlen);
/* For the scenario runner, which checks a scenario's route against the policy's sources.
 * Appends to out, space-separated, every route a set_route call in src can set: a literal
 * ("account"), or a literal prefix with "*" ("queue:*" for "queue:" .. name).  Returns the
 * number of set_route calls whose routes cannot be known (a variable, a function's result),
 * and the line of the first in *unknown_line. */
int  hl_check_routes(const char *src, size_t len, char *out, size_t outlen, int *unknown_line);
/* The first line at or after from_line where src writes `text =` (a table field or an
 * assignment) or, with string_literal, the string literal text; 0 when none. */
int  hl_check_field_line(const char *src, size_t len, const char *text, bool string_literal, int from_line);

#endif
