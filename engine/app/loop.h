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
    int                   policy_serial;  /* policies built so far: the "vN" of versions */
    double                started;        /* wall time */
    bool                  stopping;
    uint64_t              stop_deadline;  /* engine ms: shutdown stops waiting for calls */
    void                 *priv;           /* loop.c's own bookkeeping */
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

#endif
