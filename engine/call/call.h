/* call.h — a call: one caller's session, its legs, its script coroutine, its CDRs.
 *
 * A call is created for an inbound leg (hl_call_new_inbound), then started: it takes a
 * reference to the current policy snapshot and runs the snapshot's entry function as a
 * coroutine.  The primitives of the Lua API are declared in call_api.c (lua/api.h: where
 * each may be called, its options) and written in C on top of hl_leg_ops and hl_timer, one
 * file for each that waits (prim_play.c, prim_collect.c, prim_record.c, prim_dial.c, ...).
 * Keys that arrive while nothing collects are buffered (type-ahead) for the next collect.
 *
 * The call ends when its script returns (or fails) and every leg is down; then env->call_ended
 * is called once, after which the owner frees it with hl_call_free().
 *
 * The inside of a call, shared by the call layer's files: call_priv.h. */
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
/* The caller leg's CDR as far as it is known now (ids, caller, called, start, route,
 * version): what the store keeps of a call that is up (store.h: live calls). */
void     hl_call_cdr_so_far(const hl_call *call, hl_cdr *out);

/* ---- engine-originated calls (jobs: engine/app/jobs.c) ----
 * A call with no caller: the engine runs the policy's global function entry_fn (e.g.
 * "job_fax") as the call's script, with (call, args, job): args a JSON object (the job's
 * arguments, as a Lua table), job a JSON object ({id, kind, attempt, max_attempts}) or NULL.
 * The call takes its own references.  Leg 0 is an "origin" placeholder that is up until the
 * call ends: from_user "engine", to_user entry_fn, SIP Call-ID label (e.g. "job-17-2");
 * its CDR (direction "outbound", no answer time) carries the route, vars and times of the
 * whole attempt, and the legs the script dials (1..) get their own CDRs as usual.  The
 * script may dial, sleep, hang up and fax on the legs it dialled; the caller's primitives
 * (play, collect, answer...) raise an error.  No fallback, no on_hangup.
 * NULL when entry_fn is not a Lua name or on out of memory.  Start it with hl_call_start. */
hl_call *hl_call_new_originate(hl_call_env *env, const char *entry_fn, json_t *args, json_t *job,
                               const char *label);
/* Called once when the call has ended, just before env->call_ended (CDRs final, outcome known). */
typedef void (*hl_call_end_fn)(void *arg, hl_call *call);
void     hl_call_set_on_end(hl_call *call, hl_call_end_fn fn, void *arg);
bool     hl_call_is_originated(const hl_call *call);
/* An originated call's verdict: 1 done (the function returned nothing or a true value),
 * -1 failed (returned false/nil [, reason], raised an error, had no such function, or was
 * terminated) with *error the reason; 0 while it runs. */
int      hl_call_outcome(const hl_call *call, const char **error);
/* A dial of this call was refused by the dial rules (rules/trunks.lua): a job that failed
 * for it is not retried, as no retry can pass the rule (issue 7, wt-trunks). */
bool     hl_call_dial_refused(const hl_call *call);
/* A transfer asked from outside (`ctl transfer`): kind "blind" or "attended" with a target
 * (what the script's transfer codes would carry), or "complete" / "cancel" of a
 * consultation.  0, or -1 with err (the call is not in a talk that can do it). */
int      hl_call_transfer(hl_call *call, const char *kind, const char *target, char *err, int errlen);
/* The wrap-up that followed agent's talk on this call (its leg's CDR, item 7); false when no
 * leg of the call is that agent's. */
bool     hl_call_note_wrapup(hl_call *call, const char *agent, int64_t ms);
/* True once after each call:set_route, then false until the next (the owner's heartbeat
 * writes a call's route to the store only when it changed). */
bool     hl_call_route_changed(hl_call *call);

/* Registers the call object's methods, hl.store, hl.jobs and hl.http in a policy state:
 * the owner gives it to the policy loader as hl_policy_src.open_api. */
struct lua_State;
void     hl_call_lua_open(struct lua_State *L);
/* `hotline api`: every primitive of the declared API and its options (lua/api.h's format). */
#include <stdio.h>
void     hl_call_api_print(FILE *out);

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
