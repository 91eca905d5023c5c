/* loop.h — the loop context: everything one libuv loop owns.
 *
 * No global state on the call path: sockets, timers, calls, the port pool, the prompt
 * library, the store handle and the current policy snapshot all hang off one hl_loop, so
 * one loop per core can come later by making more of them. */
#ifndef HL_LOOP_H
#define HL_LOOP_H
#include <stdbool.h>
#include <uv.h>
#include "core/clock.h"
#include "core/timer.h"
#include "core/config.h"
#include "call/env.h"

struct hl_sip;
struct hl_media_pool;
struct hl_prompts;
struct hl_store;
struct hl_policy;
struct hl_ctl;
struct hl_reloader;
struct hl_call;

/* INVITEs refused at the edge by rules/trunks.lua (app/leg_sip.c), for `ctl status`. */
typedef struct hl_trunk_stats {
    uint64_t refused_source;     /* 403: the source is no trunk */
    uint64_t refused_number;     /* 404: the trunk does not deliver the called number */
    uint64_t pai_ignored;        /* P-Asserted-Identity from a trunk not marked trust_pai */
    uint64_t challenged;         /* 401: a trunk with digest credentials did not (yet) answer */
    uint64_t log_window_start, logged, log_suppressed;   /* the refusal log's rate limit */
} hl_trunk_stats;

typedef struct hl_loop {
    uv_loop_t            *uv;
    hl_clock              clock;
    hl_timers             timers;
    uv_timer_t            timer_driver;   /* fires at the earliest hl_timer deadline */
    hl_config             cfg;
    hl_call_env           env;            /* what calls on this loop see */
    struct hl_sip        *sip;
    struct hl_media_pool *media;
    struct hl_prompts    *prompts;
    struct hl_store      *store;
    struct hl_policy     *policy;         /* current snapshot; new calls take a reference */
    struct hl_ctl        *ctl;
    struct hl_reloader   *reloader;
    struct hl_call      **calls;          /* active calls */
    int                   ncalls, calls_cap;
    uint64_t              calls_total;
    int                   policy_serial;  /* the "vN" of the version serving (a reload takes N+1 only
                                           * when it is taken: refused and unchanged ones use none) */
    double                started;        /* wall time */
    bool                  stopping;
    uint64_t              stop_deadline;  /* engine ms: shutdown stops waiting for calls */
    void                 *priv;           /* loop.c's own bookkeeping */
    hl_trunk_stats        trunk_stats;
    char                  recordings_dir[4200];
} hl_loop;

/* Sets up everything from cfg; returns 0 or -1 with a message in err. */
int  hl_loop_init(hl_loop *l, const hl_config *cfg, char *err, int errlen);
/* Runs until SIGTERM/SIGINT (calls end cleanly) — returns the exit code. */
int  hl_loop_run(hl_loop *l);
/* Builds, self-tests and swaps in a new policy. 0, or -1 with the reason in err. */
int  hl_loop_reload(hl_loop *l, char *err, int errlen);
void hl_loop_stop(hl_loop *l);
/* A new call on this loop (leg_sip.c): counted, listed by ctl, ended at shutdown. */
void hl_loop_call_add(hl_loop *l, struct hl_call *call);
/* The agents' registrar (app/agents.h), or NULL once it is closed (shutting down). */
struct hl_agents *hl_loop_agents(hl_loop *l);

#endif
