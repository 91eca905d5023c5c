/* env.h — what a call needs from the world around it, so that the same call code runs on a
 * real loop (app/loop.c) and in a simulation (sim/).  The owner fills one env and every
 * call it creates points to it. */
#ifndef HL_ENV_H
#define HL_ENV_H
#include "core/clock.h"
#include "core/timer.h"
#include "core/config.h"
#include "call/leg.h"

struct hl_prompts;
struct hl_store;
struct hl_policy;
struct hl_http;
struct hl_dial_guard;

typedef struct hl_dial_opts {
    const char *from_user;      /* caller id to present (NULL = the call's caller) */
    int         timeout_ms;     /* ring timeout (0 = cfg->ring_timeout_ms) */
    /* issue 7 (wt-trunks): what the dial rules of rules/trunks.lua need (call/dial_guard.h) */
    const char *purpose;        /* "fax", "transfer", "callback" ... (NULL = "dial") */
    const char *caller;         /* on whose behalf, for the cap per caller and day ("" none) */
    int        *refused;        /* out, may be NULL: the SIP-like code when dial refuses (403) */
} hl_dial_opts;

/* Ringing an agent's phone (env->dial_agent): what its screen shows of who calls and why. */
typedef struct hl_dial_agent_opts {
    int         timeout_ms;     /* ring timeout (0 = cfg->ring_timeout_ms) */
    const char *from_user;      /* the caller's number to show (NULL = the call's caller) */
    const char *display;        /* the name shown with it, or NULL */
    /* headers X-Hotline-Route, -Queue, -Wait (seconds), -Call: NULL / negative = not sent */
    const char *route;          /* e.g. "queue:0431.general" */
    const char *queue;          /* the queue the caller waited in */
    int         waited_ms;      /* how long the caller waited (-1 = unknown) */
    const char *call_id;        /* our call id (NULL = the call's own), for the agent's notes */
} hl_dial_agent_opts;


struct hl_acd;

typedef struct hl_call_env {
    hl_clock          *clock;
    hl_timers         *timers;
    const hl_config   *cfg;
    struct hl_prompts *prompts;   /* prompt lookup: names, durations */
    struct hl_store   *store;     /* CDRs, jobs, script queries */
    struct hl_http    *http;      /* hl.http.request (http/http_client.h); NULL = none */
    struct hl_policy *(*current_policy)(struct hl_call_env *); /* borrowed: the call takes its own reference */
    /* Creates and starts an outbound leg on call (INVITE).  The leg reports ANSWERED or
     * FAILED later through hl_call_on_leg_event.  NULL on immediate failure. */
    hl_leg *(*dial)(struct hl_call_env *, hl_call *call, const char *uri, const hl_dial_opts *);
    /* Creates and starts an outbound leg ringing agent's registered phone (the newest
     * binding; app/agents.h says why), at the address it registered from only.  Reports like
     * dial; leg->agent is the agent's number.  NULL (the reason logged) when the agent has no
     * live registration or the INVITE cannot be sent.  The dial rules do not apply: it
     * reaches only the centre's own phones.  NULL hook: no agents here (simulation). */
    hl_leg *(*dial_agent)(struct hl_call_env *, hl_call *call, const char *agent,
                          const hl_dial_agent_opts *);
    /* The call has ended and every leg is down: write CDRs, drop it from lists.  The owner
     * frees the call later (never inside this callback) with hl_call_free(). */
    void    (*call_ended)(struct hl_call_env *, hl_call *call);
    /* Every dial and transfer passes it first (call/dial_guard.h): the dial rules of the
     * current policy and the count of engine-placed calls per caller and day. */
    struct hl_dial_guard *dial_guard;
    const char *recordings_dir;   /* absolute: data/recordings */
    /* Free MiB where recordings go (call:record refuses below record_min_free_mb); NULL:
     * the disk of recordings_dir (core/files.h).  The simulator says a scenario's. */
    long long (*recordings_free_mb)(struct hl_call_env *);
    /* The ACD (acd/acd.h) that call:queue joins; NULL = none. */
    struct hl_acd *acd;
    /* The call up with this id, or NULL (a supervisor's call:monitor finds the agent's). */
    hl_call *(*find_call)(struct hl_call_env *, const char *call_id);
    struct uv_loop_s *uv;         /* the loop's thread pool (hl.pin_hash); NULL in a simulation */
    void    *owner;               /* hl_loop * or hl_sim * */
} hl_call_env;

#endif
