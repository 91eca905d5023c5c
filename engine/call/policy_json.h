/* policy_json.h — asks a policy snapshot a question in JSON (policy_json.c): runs one of its
 * global functions with JSON arguments and gives its result back as JSON.  For the engine's
 * work that is the policy's but not a call's — the back-office records of `hotline ctl admin`
 * (app/admin.c): the function validates, the engine stores.  The function runs on the
 * caller's thread (the loop), on a fresh Lua thread of the snapshot, under a call step's
 * budgets (engine.lua's script_instructions, script_memory_kb) times scale, and may not wait. */
#ifndef HL_POLICY_JSON_H
#define HL_POLICY_JSON_H
#include <jansson.h>
#include "core/clock.h"
#include "core/config.h"
#include "lua/script.h"

/* fn(args[0], args[1], ...) -> *result (a new reference; a nil result is JSON null).  0, 1
 * when the policy has no such global function, or -1 with err ("fn: file:line: message"). */
int hl_policy_call_json(hl_policy *p, const hl_config *cfg, const hl_clock *clock, const char *fn,
                        json_t *args, long scale, json_t **result, char *err, int errlen);

#endif
