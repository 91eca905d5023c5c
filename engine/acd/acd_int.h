/* acd_int.h — the ACD's private types, shared by acd.c (states, dispatch) and acd_view.c
 * (the JSON views and the invariant check).  Nothing outside engine/acd/ includes it. */
#ifndef HL_ACD_INT_H
#define HL_ACD_INT_H
#include "acd/acd.h"

/* Handle times (talk + wrap-up) kept per queue for the expected wait: enough calls that one
 * long call does not swing the estimate, few enough that it follows a shift's change of pace
 * (about an hour of one agent's calls at three minutes each). */
#define HL_ACD_HANDLE_SAMPLES 20
#define ACD_SKILLS_LEN 256
#define ACD_DECISION_LEN 256

typedef struct queue queue;

typedef struct agent {
    hl_acd        *acd;
    char           number[HL_ACD_NAME], name[HL_ACD_NAME], centre[HL_ACD_NAME], role[HL_ACD_NAME];
    char           skills[ACD_SKILLS_LEN];
    hl_agent_state state;
    char           reason[HL_ACD_NAME];
    double         since, idle_since; /* wall times, shown */
    uint64_t       since_ms;          /* engine time of the last move (the guards' log) */
    int            misses, answered;
    int64_t        talk_ms;
    uint64_t       last_offer_seq;
    bool           registered;
    hl_acd_waiter *offer;             /* reserved/ringing: the caller it is offered to */
    char          *call_id;           /* talking .. wrap-up: the call it serves (else NULL) */
    char           queue[HL_ACD_NAME];
    uint64_t       talk_start_ms, wrapup_start_ms;
    int64_t        last_talk_ms;
    int            wrapup_ms;
    bool           has_pending;       /* a change asked for while talking */
    hl_agent_state pending;
    char           pending_reason[HL_ACD_NAME], pending_by[HL_ACD_NAME];
    bool           forget;            /* removed: forgotten once logged out */
    hl_timer       guard;
    struct agent  *next_gone;
} agent;

struct hl_acd_waiter {
    hl_acd            *acd;
    queue             *q;
    hl_acd_waiter     *prev, *next;   /* in q's line while waiting */
    char              *caller, *call_id;
    char               owner[HL_ACD_NAME];  /* the agent who owns its open case ("" none) */
    int                ring_ms;
    hl_acd_waiter_ops  ops;
    void              *arg;
    uint64_t           seq, joined_ms;
    agent             *offered[HL_ACD_MAX_OFFER];
    int                noffered;
    char             (*missed)[HL_ACD_NAME]; /* numbers of the agents that missed it during
                                              * this wait (by number: an account removed and
                                              * added again is still the one that missed) */
    int                nmissed, capmissed;
    bool               waiting, gone, explain;
    uint64_t           passed_round;
    char               passed_note[ACD_DECISION_LEN]; /* the last pass-over logged: said once */
    hl_acd_waiter     *next_gone;
};

struct queue {
    hl_acd_queue_def def;
    bool             removed;         /* no longer defined: kept until its waiters left */
    hl_acd_waiter   *head, *tail;
    int              nwaiting, nmembers;  /* in line; alive (in line or answered) */
    int64_t          handle[HL_ACD_HANDLE_SAMPLES];
    int              nhandle, handle_next;
};

typedef struct decision {
    double time;
    char   queue[HL_ACD_NAME];
    char   text[ACD_DECISION_LEN];
} decision;

struct hl_acd {
    hl_clock           *clock;
    hl_timers          *timers;
    hl_acd_cfg          cfg;
    hl_acd_strategy_fn  strategy;
    void               *strategy_arg;
    hl_acd_event_fn     sink;
    void               *sink_arg;
    agent             **agents;
    int                 nagents, capagents;
    queue             **queues;
    int                 nqueues, capqueues;
    uint64_t            next_waiter_seq, offer_seq, round;
    int                 depth;        /* inputs in progress (nested from call-outs) */
    bool                explain;      /* some waiter's wait is to be explained in the log */
    json_t             *events;       /* queued for the sink */
    hl_acd_waiter      *gone_waiters;
    agent              *gone_agents;
    decision           *log;
    int                 nlog, log_next;
    agent             **cand;         /* the dispatch's scratch: candidates */
    hl_acd_agent_info  *cand_info;
    int                 capcand;
};

extern const char *const acd_state_names[HL_AGENT_STATES];
int64_t     acd_waited(const hl_acd_waiter *w);           /* ms since it joined */
const char *acd_agent_call_id(const agent *ag);           /* offered or served call, "" */
const char *acd_agent_queue(const agent *ag);             /* that call's queue, "" */
int         acd_count_serving(hl_acd *a, const queue *q, bool ready_only);
/* The caller the dispatch would offer now (NULL: none): after an input, always NULL. */
hl_acd_waiter *acd_next_waiter(hl_acd *a);

#endif
