/* call_http.h — hl.http.request (call_http.c) and the two hooks of call.c it is built on:
 * an "outside wait", through which a primitive in another file makes the call's script wait
 * exactly as hl.store.query does (the coroutine yields; the answer resumes it; a call whose
 * caller hung up meanwhile drops the answer; the call is not freed under a pending one). */
#ifndef HL_CALL_HTTP_H
#define HL_CALL_HTTP_H
#include <jansson.h>
#include "call/env.h"

typedef struct lua_State lua_State;
typedef struct store_req hl_call_async;   /* call.c's pending store request */

/* Registers hl.http.request in the policy state L (called by hl_call_lua_open). */
void hl_call_http_open(lua_State *L);

/* ---- implemented in call.c ---- */
/* The env of the call whose own script is running in L; raises a Lua error naming what
 * otherwise (at load time, in a coroutine of the script). */
hl_call_env   *hl_call_script_env(lua_State *L, const char *what);
/* The call's script will wait for an answer: registers the wait.  The primitive then
 * returns lua_yield(L, 0).  Raises a Lua error on out of memory. */
hl_call_async *hl_call_async_begin(lua_State *L, const char *what);
/* The answer, from the loop (never from inside the primitive): the script gets result as a
 * Lua value, or nil, err when result is NULL.  result is borrowed.  Frees a. */
void           hl_call_async_done(hl_call_async *a, json_t *result, const char *err);

#endif
