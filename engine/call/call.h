/* call.h — a call: one caller's session, its legs, its script coroutine, its CDRs.
 *
 * A call is created for an inbound leg (hl_call_new_inbound), then started: it takes a
 * reference to the current policy snapshot and runs the snapshot's entry function as a
 * coroutine.  The waiting primitives of the Lua API are implemented here, in C, on top of
 * hl_leg_ops and hl_timer: play with barge-in, collect digits (min, max, timeout,
 * inter-digit timeout, terminator), record, sleep, dial, bridge, transfer, hangup.  Keys
 * that arrive while nothing collects are buffered (type-ahead) for the next collect.
 *
 * The call ends when its script returns (or fails) and every leg is down; then env->call_ended
 * is called once, after which the owner frees it with hl_call_free().
 *
 * (The call layer's owner — call.c, lua/, sim/ — extends this header.) */
#ifndef HL_CALL_H
#define HL_CALL_H
#include <jansson.h>
#include "call/env.h"
#include "call/leg.h"

typedef struct hl_call hl_call;

hl_call *hl_call_new_inbound(hl_call_env *env, hl_leg *caller_leg);
/* Takes the env's current policy and runs the script until it first waits. */
void     hl_call_start(hl_call *call);
/* Ends the call from outside (ctl hangup, shutdown): every leg is hung up with reason. */
void     hl_call_terminate(hl_call *call, const char *reason);
void     hl_call_free(hl_call *call);
const char *hl_call_id(const hl_call *call);
/* A JSON object for `ctl calls`: id, caller, called, state, start, answered, route, version. */
json_t  *hl_call_describe(const hl_call *call);
/* The CDR of leg i (0 = caller), valid from call_ended until hl_call_free. */
int      hl_call_leg_count(const hl_call *call);
const hl_cdr *hl_call_cdr(const hl_call *call, int leg_index);

/* ---- for the simulator and tests (same code path, just observed) ---- */
/* Counts the times the call began to wait for keys (a collect, a barge-in play, a
 * recording with stop keys); the simulated caller types its next entry on a new one. */
int      hl_call_input_epoch(const hl_call *call);
bool     hl_call_awaiting_input(const hl_call *call);
/* True once env->call_ended has been called. */
bool     hl_call_ended(const hl_call *call);
hl_leg  *hl_call_leg(const hl_call *call, int index);
/* True when the script failed and the call took the fallback path. */
bool     hl_call_fell_back(const hl_call *call);

#endif
