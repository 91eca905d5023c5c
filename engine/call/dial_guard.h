/* dial_guard.h — the one gate every engine-placed call passes (issue 7, wt-trunks).
 *
 * A dial (call:dial, a fax job, the bridged fallback of a transfer) and a REFER the engine
 * sends both name a destination the engine chose for a caller; a script must not be able to
 * send one anywhere.  env->dial and the legs' transfer op of both call environments
 * (app/leg_sip.c on the real loop, sim/sim.c in scenarios) ask hl_dial_guard_check first,
 * so no Lua can bypass it.  It allows a destination when, in the current policy's
 * rules/trunks.lua (core/trunks.h):
 *   - a dial rule exists for the purpose ("fax", "transfer", ...; none given: "dial"),
 *   - the URI's host is reached by a declared trunk (an address in its sources, a name of
 *     its hosts),
 *   - the number (the URI's user part) matches one of the rule's number patterns,
 *   - the caller on whose behalf it is placed has had fewer than per_caller_day of them today
 *     (the centre's day).
 * Each refusal is logged with the rule (file:line) that refused it.  Allowed calls are
 * counted per (day, caller, purpose) in memory and in the store's dial_counts table, which
 * is read back at start, so a restart does not reset the cap. */
#ifndef HL_DIAL_GUARD_H
#define HL_DIAL_GUARD_H
#include <stdint.h>
#include "call/env.h"

struct hl_store;
typedef struct hl_dial_guard hl_dial_guard;

typedef struct hl_dial_guard_stats {
    uint64_t allowed, refused;
} hl_dial_guard_stats;

/* store may be NULL (counts then live in memory only). Reads today's counts from the store. */
hl_dial_guard *hl_dial_guard_new(struct hl_store *store, const hl_clock *clock);
void           hl_dial_guard_free(hl_dial_guard *g);
/* 0: uri may be called (and is counted), or 403 (logged with why; also into *o->refused).
 * call_id for the log. */
int  hl_dial_guard_check(hl_call_env *env, const char *call_id, const char *uri,
                         const hl_dial_opts *o);
void hl_dial_guard_get_stats(const hl_dial_guard *g, hl_dial_guard_stats *out);

#endif
