/* jobs.h — the durable job queue: work the engine does on its own, after the caller has
 * gone (a queued fax to a number the caller keyed, §10.11).
 *
 * Scripts queue a job with hl.jobs.enqueue(kind, args, opts) (call/prim_jobs.c: a row in the store's
 * jobs table, state 'queued').  The runner here polls the table every jobs_poll_ms
 * (rules/engine.lua), claims due jobs (at most jobs_max_running at once) and runs each as an
 * engine-originated call (call.h: hl_call_new_originate) of the policy's job_<kind>(call,
 * args, job).  The call's outcome decides the row: 'done'; or, on failure, 'queued' again
 * fax_retry_delay_ms later until max_attempts, then 'failed' — with last_error and the
 * call_id of the attempt (its CDRs).  Rows live in SQLite, so jobs survive a restart: a row
 * left 'running' by a crash or a shutdown goes back to 'queued' (that attempt not counted).
 *
 * Owner: the loop (app/loop.c) creates it after the store, env and ctl exist, stops it at
 * shutdown before ending calls, and frees it after the store is closed. */
#ifndef HL_JOBS_H
#define HL_JOBS_H
#include "call/call.h"
#include "call/env.h"

struct hl_store;
struct hl_ctl;
typedef struct hl_jobs hl_jobs;

typedef struct hl_jobs_host {
    struct hl_store *store;
    hl_call_env     *env;        /* jobs' calls run here; its cfg, clock and timers are used */
    /* The owner lists a job's call with its other calls (counted, ended at shutdown):
     * the loop's hl_loop_call_add.  May be NULL. */
    void (*call_added)(void *arg, hl_call *call);
    void  *arg;
} hl_jobs_host;

/* Puts rows left 'running' back to 'queued' (synchronously: start-up only) and starts
 * polling.  NULL with err on failure. */
hl_jobs *hl_jobs_new(const hl_jobs_host *host, char *err, int errlen);
/* `hotline ctl jobs [STATE] [N]`: the newest N (default 50) jobs, optionally of one state. */
void     hl_jobs_register_ctl(hl_jobs *j, struct hl_ctl *ctl);
/* Shutdown: no new jobs start; a job whose call is ended meanwhile goes back to 'queued'.
 * Call before the owner terminates its calls (and before its timers are freed). */
void     hl_jobs_stop(hl_jobs *j);
/* After the store is closed (its last callbacks may still reach the runner). */
void     hl_jobs_free(hl_jobs *j);
/* Jobs whose calls run now (for status and tests). */
int      hl_jobs_running(const hl_jobs *j);

#endif
