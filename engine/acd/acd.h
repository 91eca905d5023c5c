/* acd.h — the automatic call distributor: agents' ACD states, queues of waiting callers, and
 * the dispatch that offers free agents to the caller who has waited longest.
 *
 * In memory and event-driven: nothing polls.  Every input is one call of this API (an agent
 * logs in, a caller joins, a phone rings, answers or misses, a talk ends, a timer fires) and
 * every input runs the dispatch once, after the state change it brings.  Which agent a caller
 * gets is not decided here: the owner's strategy function (in the policy: rules/queues.lua)
 * orders the candidates this module hands it; this module keeps the states consistent.
 *
 * Agent states (hl_agent_state) and the only moves between them:
 *   logged-out --login--> not-ready("login") or ready
 *   ready      --offer--> reserved --ringing--> ringing --answered--> talking
 *   reserved/ringing --release (no miss: caller gone, another phone won)--> ready
 *   reserved/ringing --missed--> ready, or not-ready(miss_reason) after max_misses in a row
 *   talking <--hold/resume--> on-hold
 *   talking/on-hold --talk_ended--> wrap-up --wrapup_ms--> ready
 *   any but talking/on-hold --set not-ready(reason)--> not-ready; --set ready--> ready
 *   any --logout (or the phone's registration gone)--> logged-out; while talking the logout
 *      waits for the talk to end (pending_logout).
 * Timers guard every state a phone or a call must leave: reserved (reserve_ms: the call did
 * not start ringing the phone), ringing (ring_ms + grace: the call never reported), wrap-up.
 * So no path leaves an agent in reserved or ringing: a guard releases it and logs why.
 *
 * Callers (hl_acd_waiter): join puts one in a queue in arrival order (a caller put back
 * after a missed offer keeps its place: the head).  The dispatch takes queues in turn, the
 * head waiter of each that is not being offered, the ready agents that serve that queue and
 * have not missed this caller, and asks the strategy; the chosen agents (several for ring
 * all) are reserved and handed to the waiter's on_offer.  The waiter then reports ringing,
 * answered or missed for each agent; the first answered wins and the others are released.
 *
 * Every state change and queue event goes to on_event (the store keeps them: attendance and
 * scoring read them; later, other nodes) and into a decision log of the last decisions
 * (`ctl queue log`).  Times: engine time from the clock (ms), wall time for the events.
 *
 * Thread: the loop's only (or a simulation's).  Owner: app/loop.c and sim/ create one. */
#ifndef HL_ACD_H
#define HL_ACD_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "core/clock.h"
#include "core/timer.h"

typedef struct hl_acd hl_acd;
typedef struct hl_acd_waiter hl_acd_waiter;

typedef enum {
    HL_AGENT_LOGGED_OUT, HL_AGENT_READY, HL_AGENT_RESERVED, HL_AGENT_RINGING,
    HL_AGENT_TALKING, HL_AGENT_ON_HOLD, HL_AGENT_WRAPUP, HL_AGENT_NOT_READY,
    HL_AGENT_STATES
} hl_agent_state;

/* "logged-out", "ready", "reserved", "ringing", "talking", "on-hold", "wrap-up", "not-ready" */
const char *hl_agent_state_name(hl_agent_state s);
/* -1 for an unknown name */
int         hl_agent_state_parse(const char *name);

#define HL_ACD_NAME 64        /* a queue's name, an agent's number, a reason word */
#define HL_ACD_MAX_OFFER 16   /* agents rung at once for one caller (ring all) */

/* A queue as the policy defines it (rules/queues.lua).  An agent serves a queue when the
 * queue's centre is the agent's (or the queue's centre is "*") and the agent has the skill.
 * Skills are "name" or "name:level" words (level 1..9, default 1) in the agent's list,
 * separated by spaces or commas; a queue with an empty skill takes every agent of its centre. */
typedef struct hl_acd_queue_def {
    char name[HL_ACD_NAME];
    char centre[HL_ACD_NAME];
    char skill[HL_ACD_NAME];
    int  wrapup_ms;           /* after a talk, before the agent is offered again */
    int  max_misses;          /* missed offers in a row before not-ready (0: never) */
    char miss_reason[HL_ACD_NAME]; /* the not-ready reason then ("no-answer") */
} hl_acd_queue_def;

/* One agent as the strategy sees it (and `ctl agents`). */
typedef struct hl_acd_agent_info {
    const char    *number, *name, *centre, *role;
    const char    *skills;        /* "general:5 complaints" */
    int            skill_level;   /* the level of the queue's skill (strategy input), else 0 */
    hl_agent_state state;
    const char    *reason;        /* not-ready reason, logout reason ... "" */
    double         since;         /* wall time of the last state change */
    double         idle_since;    /* wall time it last became ready (longest idle) */
    int            misses;        /* missed offers in a row */
    int            answered;      /* calls answered since the engine started */
    int64_t        talk_ms;       /* talk time since the engine started (least talk time) */
    uint64_t       last_offer_seq;/* dispatch order of its last offer (round robin) */
    bool           registered;    /* a phone is registered for it */
    const char    *call_id;       /* the call it is offered to or talks in ("" none) */
    const char    *queue;         /* that call's queue ("" none) */
} hl_acd_agent_info;

/* What the strategy is asked: one waiting caller and the ready agents that may take it. */
typedef struct hl_acd_choice {
    const hl_acd_queue_def  *queue;
    const char              *caller;      /* the caller's number */
    const char              *call_id;
    int64_t                  waited_ms;
    const char              *owner;       /* the agent who owns the caller's open case ("" none) */
    int                      owner_state; /* that agent's hl_agent_state (-1: none, unknown) */
    const hl_acd_agent_info *candidates;  /* ready, serve the queue, did not miss this caller */
    int                      ncandidates;
} hl_acd_choice;

/* The strategy: writes up to max indexes into candidates, in ringing order, and returns how
 * many (0: nobody now; the caller waits for the next event).  An error (-1, err set) is
 * logged and the caller waits; the ACD never picks by itself. */
typedef int (*hl_acd_strategy_fn)(void *arg, const hl_acd_choice *in, int *chosen, int max,
                                  char *err, int errlen);

/* An event to keep: kind "agent" (state change) or "queue" (join, offer, answered, missed,
 * released, abandoned, left: word says which).  JSON object, borrowed for the call.
 * Fields: every event has kind, time (wall seconds); an agent event agent, state, prev,
 * reason (what moved it, or the not-ready/logout reason), by, call_id, queue; a queue event
 * event (the word), queue, call_id, caller, waited_ms, and agent + reason (answered, missed,
 * released), agents (offer) or outcome (abandoned, left).  Events are delivered in order at
 * the end of the input that caused them, so a sink may call back into the ACD. */
typedef void (*hl_acd_event_fn)(void *arg, const char *kind, json_t *event);

typedef struct hl_acd_cfg {
    int reserve_ms;           /* an offer must start ringing within this */
    int ring_guard_ms;        /* added to an offer's ring_ms before the guard releases it */
    int log_size;             /* decisions kept for `ctl queue log` */
} hl_acd_cfg;

hl_acd *hl_acd_new(hl_clock *clock, hl_timers *timers, const hl_acd_cfg *cfg);
void    hl_acd_set_strategy(hl_acd *acd, hl_acd_strategy_fn fn, void *arg);
void    hl_acd_set_event_sink(hl_acd *acd, hl_acd_event_fn fn, void *arg);
/* A reload: the queues the policy defines now.  A queue that disappears keeps its waiters
 * (they are offered nothing more and leave on their own); 0, or -1 with err. */
int     hl_acd_set_queues(hl_acd *acd, const hl_acd_queue_def *defs, int n, char *err, int errlen);
void    hl_acd_free(hl_acd *acd);    /* every waiter must have left */
/* Runs the dispatch without another input: for the owner's timer when a strategy that
 * returned 0 (owner first, within a wait limit) would now choose differently. */
void    hl_acd_redispatch(hl_acd *acd);

/* ---- agents ---- */
/* Adds or updates an account (the agents module's, at start and on `ctl agent add|set`). */
int  hl_acd_agent_upsert(hl_acd *acd, const char *number, const char *name, const char *centre,
                         const char *skills, const char *role);
/* The account is gone: logs it out (after its talk) and forgets it. */
void hl_acd_agent_remove(hl_acd *acd, const char *number);
/* Whether a phone is registered for it; losing the last one logs it out ("unregistered"). */
void hl_acd_agent_registered(hl_acd *acd, const char *number, bool registered);
/* A state asked for by the agent (feature code) or ctl: HL_AGENT_READY, HL_AGENT_NOT_READY
 * (reason), HL_AGENT_LOGGED_OUT.  0, or -1 with err ("not registered", "talking: the change
 * waits for the call to end" is 0 with the change pending, unknown agent ...). */
int  hl_acd_agent_set(hl_acd *acd, const char *number, hl_agent_state want, const char *reason,
                      const char *by, char *err, int errlen);
/* Hold and resume of a talking agent (the call reports them). */
void hl_acd_agent_hold(hl_acd *acd, const char *number, bool on);
/* The talk ended (either side hung up, or transferred away): wrap-up, then ready. */
void hl_acd_agent_talk_ended(hl_acd *acd, const char *number);
/* One agent's info (strings valid until the next input); -1 for an unknown agent.  (Named
 * _get: hl_acd_agent_info is the struct's name, and C has one name space for both.) */
int  hl_acd_agent_get(hl_acd *acd, const char *number, hl_acd_agent_info *out);

/* ---- waiting callers ---- */
typedef struct hl_acd_waiter_ops {
    /* Agents reserved for this caller: ring them (report ringing/answered/missed for each). */
    void (*on_offer)(void *arg, hl_acd_waiter *w, const char *const *agents, int n);
} hl_acd_waiter_ops;

/* Joins queue name.  NULL with err for an unknown queue.  owner: the agent who owns the
 * caller's open first-contact case (hl_acd_choice.owner; NULL none).  ring_ms is the phone's
 * ring time (the ACD's guard); the waiter belongs to its owner until hl_acd_leave. */
hl_acd_waiter *hl_acd_join(hl_acd *acd, const char *queue, const char *caller, const char *call_id,
                           const char *owner, int ring_ms, const hl_acd_waiter_ops *ops, void *arg,
                           char *err, int errlen);
/* Where it stands: 1 = next.  And how many agents are logged in to serve its queue. */
int  hl_acd_position(hl_acd *acd, const hl_acd_waiter *w);
int  hl_acd_serving(hl_acd *acd, const char *queue);    /* logged in (any state but logged-out) */
/* Expected wait in ms for position pos (mean handle time of the queue's recent calls over
 * the agents serving it; -1 when not known yet). */
int64_t hl_acd_expected_wait_ms(hl_acd *acd, const char *queue, int pos);
int64_t hl_acd_waited_ms(hl_acd *acd, const hl_acd_waiter *w);
/* The offered agent's phone rings / answered / missed (no answer, busy, failed: reason). */
void hl_acd_ringing(hl_acd *acd, hl_acd_waiter *w, const char *agent);
/* The first to answer takes the caller: talking; every other offered agent is released.
 * false when this agent is not (or no longer) offered this caller: hang that phone up. */
bool hl_acd_answered(hl_acd *acd, hl_acd_waiter *w, const char *agent);
void hl_acd_missed(hl_acd *acd, hl_acd_waiter *w, const char *agent, const char *reason);
/* The caller leaves: outcome "answered", "abandoned" (hung up), "timeout", "message",
 * "overflow", "key" ... (kept with the wait).  Offered agents still reserved or ringing are
 * released (no miss).  w is freed. */
void hl_acd_leave(hl_acd *acd, hl_acd_waiter *w, const char *outcome);

/* ---- views ---- */
json_t *hl_acd_agents_json(hl_acd *acd);        /* every agent, its state, reason, since ... */
json_t *hl_acd_queues_json(hl_acd *acd);        /* every queue: waiting callers, serving, ready */
json_t *hl_acd_log_json(hl_acd *acd, const char *queue, int last);  /* decisions, newest last */
/* For tests: every invariant (an agent offered to one caller at most, reserved/ringing only
 * with its waiter and a guard armed, counts agree, no caller waiting that a ready agent could
 * take after the input ended).  0, or -1 with what is wrong. */
int     hl_acd_check(hl_acd *acd, char *err, int errlen);

#endif
