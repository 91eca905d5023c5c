/* call.c — a call (call.h): its legs, its script coroutine, the waiting primitives of the
 * Lua API (play, collect, record, say, sleep, dial, bridge, REFER, store queries), the
 * type-ahead buffer, the fallback path of a failed script, and the CDRs.
 *
 * Control flow.  A primitive checks its arguments, starts the work through hl_leg_ops,
 * arms a timer where a timeout applies, records what it waits for in c->w and yields.
 * Leg events (hl_call_on_leg_event) and timers complete the wait: they push the results on
 * the coroutine's stack and resume it.  Events that arrive while the script runs (a leg
 * that reports from inside an op) are queued and handled after the resume returns.
 *
 * Ending.  When the caller hangs up, the script is dropped where it waits (its on_hangup
 * handler, if any, runs in a fresh coroutine); when the script returns, the remaining legs
 * are hung up.  Once no script runs, no store query is pending and every leg is down,
 * env->call_ended is called once — always as the last thing an entry point does, so the
 * owner may free the call from inside it.
 *
 * Engine-originated calls (jobs: hl_call_new_originate).  They have no caller: leg 0 is an
 * "origin" placeholder (origin_ops below) that is up until the call ends, never hangs up by
 * itself and carries no audio, so every rule that reads legs[0] as the caller stays true.
 * The script is job_<kind>(call, args, job); it may only dial and act on the legs it dialled
 * (fax, hangup, sleep); there is no fallback path and no on_hangup.  Its outcome (done, or
 * failed with a reason) is read by the owner in the on_end callback. */
#define _GNU_SOURCE /* strcasestr */
#include "call/call.h"
#include "call/call_http.h"
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include "core/log.h"
#include "fax/fax.h"
#include "http/http_client.h"
#include "lua/script.h"
#include "media/prompts.h"
#include "media/say.h"
#include "store/store.h"

#define MAX_LEGS 8             /* caller + dialled legs; transfers need a few, more is a runaway */
#define TYPEAHEAD_MAX 32       /* keys kept for the next collect; a flood drops the oldest */
#define MAX_ITEMS 64           /* items in one playlist */
#define ITEM_LEN 96            /* longest playlist item (prompt names are far shorter) */
#define MAX_DIGITS 64          /* longest collect (an ID number is 18) */
#define PENDING_EVENTS 16      /* events a leg may raise from inside one op */
#define DIAL_GRACE_MS 2000     /* the leg's own ring timer reports first; this catches one that does not */
#define RECORD_GRACE_MS 2000   /* likewise for the recorder's own max */
#define REFER_TIMEOUT_MS 32000 /* 64*T1: a REFER transaction has ended by then */
#define FAX_GRACE_MS 5000      /* the fax session's own time limit reports first; this catches one that does not */
#define HANDLER_MAX_MS 30000   /* on_hangup / fallback / apology must be done by then (no caller waits) */
#define FALLBACK_BUDGET_DIV 4  /* the fallback function runs on a quarter of the call's budgets */
#define SLEEP_MAX_MS 3600000   /* a longer sleep is a bug */
#define DEFAULT_TIMEOUT_MS 5000    /* collect: first key (a menu's replay interval) */
#define DEFAULT_INTERDIGIT_MS 3000 /* collect: between keys */
#define SORRY_PROMPT "sorry"
#define JOB_ARGS_MAX 4096      /* bytes of JSON in one job's args: a number and a file name need ~100 */
#define JOB_ARGS_DEPTH 8       /* nesting of tables in job args */
#define JOB_DEFAULT_ATTEMPTS 3 /* tries of a job unless enqueue says (fax servers' usual default) */
#define JOB_MAX_ATTEMPTS 20    /* more tries of one job is a retry storm, not persistence */
#define JOB_MAX_DELAY_MS (7 * 24 * 3600 * 1000L) /* a job queued further ahead is a mistake */
#define ORIGIN_USER "engine"   /* call.caller of an engine-originated call */

/* Calls of the simulator (self-tests at every reload) log at debug level: the engine's log
 * keeps its real calls; `hotline sim` prints its own transcript. */
#define CALL_INFO(c, ...) do { if ((c)->env->clock->fake) hl_debug("call", __VA_ARGS__); \
                               else hl_info("call", __VA_ARGS__); } while (0)

typedef enum { PH_NEW, PH_MAIN, PH_HANDLER, PH_FALLBACK, PH_SORRY, PH_DONE } call_phase;
typedef enum { W_NONE, W_PLAY, W_COLLECT, W_BEEP, W_RECORD, W_SLEEP, W_DIAL, W_BRIDGE, W_REFER,
               W_STORE, W_SORRY, W_FAX } wait_kind;
static const char *const wait_names[] = { "none", "play", "collect", "beep", "record", "sleep",
                                          "dial", "bridge", "refer", "store", "sorry", "fax" };

typedef struct store_req store_req;

typedef struct wait_state {
    wait_kind kind;
    bool      barge, prompt_on;
    int       min, max, timeout, interdigit;
    char      term;
    char      digits[MAX_DIGITS + 1];
    int       ndigits;
    const char *reason;
    bool      sensitive;  /* a PIN or an ID: the CDR shows its digits as 'x' */
    int       leg;
    hl_record_opts rec;
    char      rec_rel[256], stop_keys[17];
    uint64_t  rec_start;
    hl_leg_fax_opts fax;  /* call:fax_send / fax_receive */
    char      fax_rel[256];
} wait_state;

typedef struct pending_ev {
    int          leg;
    hl_leg_event ev;
    char         reason[48];
} pending_ev;

struct hl_call {
    hl_call_env *env;
    hl_policy   *policy;
    char         id[64];
    hl_leg      *legs[MAX_LEGS];
    bool         done[MAX_LEGS];      /* the call considers this leg ended */
    hl_cdr       cdrs[MAX_LEGS];
    int          nlegs;
    /* script */
    call_phase   phase;
    lua_State   *co;
    int          co_ref, ud_ref, co_gen;
    hl_lua_run   run;
    bool         in_resume, caller_gone, fallback;
    /* waiting */
    wait_state   w;
    hl_timer     t_wait, t_digit, t_handler;
    const char  *items[MAX_ITEMS];
    char         item_buf[MAX_ITEMS][ITEM_LEN];
    int          nitems;
    char         keys[TYPEAHEAD_MAX];
    short        keypos[TYPEAHEAD_MAX];   /* where each buffered key stands in the CDR dtmf */
    int          last_key_pos;            /* CDR dtmf position of the key being handled */
    char         late_term;               /* a collect filled up: its terminator, if it comes */
    uint64_t     late_term_until;         /*   within the inter-digit time, belongs to it */
    int          nkeys;
    int          input_epoch;
    pending_ev   pending[PENDING_EVENTS];
    int          npending;
    store_req   *store_reqs;
    int          store_pending;
    /* ending */
    int          depth;
    bool         should_end, notified;
    double       start;
    /* engine-originated (a job): entry function, its arguments, and how it ended */
    bool         originated;
    bool         dial_refused;   /* issue 7 (wt-trunks): a dial rule refused one of its dials */
    char         entry_fn[64];
    json_t      *args, *job;
    int          outcome;               /* 0 not yet, 1 done, -1 failed */
    char         outcome_err[256];
    hl_call_end_fn on_end;
    void        *on_end_arg;
};

struct store_req {
    hl_call   *c;          /* NULL once the call is freed */
    int        gen;        /* the coroutine that asked */
    store_req *next;
    hl_timer   timer;      /* simulator: delivers the synchronous result on the next tick */
    json_t    *rows;
    char       err[256];
    bool       want_id;    /* hl.jobs.enqueue: the script gets rows[1].id, not the rows */
};

typedef struct call_ud { hl_call *c; } call_ud;
typedef struct leg_ud { int index; } leg_ud;   /* its user value is the call's userdata */

static void resume_script(hl_call *c, int nargs);
static void try_end(hl_call *c);
static void hangup_all(hl_call *c, const char *cause);

/* ---- small helpers ------------------------------------------------------------------- */

static double now_wall(hl_call *c) { return hl_clock_wall(c->env->clock); }
static uint64_t now_ms(hl_call *c) { return hl_clock_now_ms(c->env->clock); }
static lua_State *policy_L(hl_call *c) { return hl_policy_lua(c->policy); }

static bool leg_up(hl_call *c, int i)
{
    return i >= 0 && i < c->nlegs && !c->done[i] && c->legs[i]->state != HL_LEG_ENDED;
}

static void enter(hl_call *c) { c->depth++; }

static void finalize_cdrs(hl_call *c);

static void fail_outcome(hl_call *c, const char *why)
{
    if (!c->originated || c->outcome != 0)
        return;
    c->outcome = -1;
    snprintf(c->outcome_err, sizeof c->outcome_err, "%s", why);
}

/* An originated call that ends without a verdict has failed; its CDR route says how. */
static void settle_outcome(hl_call *c)
{
    if (!c->originated)
        return;
    fail_outcome(c, "ended before the job function returned");
    if (!c->cdrs[0].route[0])
        snprintf(c->cdrs[0].route, sizeof c->cdrs[0].route, "%s", c->outcome > 0 ? "job:done" : "job:failed");
    CALL_INFO(c, "%s: %s %s%s%s", c->id, c->entry_fn, c->outcome > 0 ? "done" : "failed",
              c->outcome > 0 ? "" : ": ", c->outcome > 0 ? "" : c->outcome_err);
}

/* The last statement of every entry point: may hand the call to its owner (and free it). */
static void leave(hl_call *c)
{
    if (--c->depth > 0 || !c->should_end || c->notified)
        return;
    c->notified = true;
    settle_outcome(c);
    finalize_cdrs(c);
    CALL_INFO(c, "%s ended (route %s, policy %s)", c->id, c->cdrs[0].route[0] ? c->cdrs[0].route : "-",
            c->policy ? hl_policy_version(c->policy) : "-");
    if (c->on_end)
        c->on_end(c->on_end_arg, c);
    c->env->call_ended(c->env, c);
}

static void stop_timers(hl_call *c)
{
    hl_timer_stop(c->env->timers, &c->t_wait);
    hl_timer_stop(c->env->timers, &c->t_digit);
}

static void cdr_init(hl_call *c, int i)
{
    hl_cdr *d = &c->cdrs[i];
    memset(d, 0, sizeof *d);
    snprintf(d->call_id, sizeof d->call_id, "%s", c->id);
    d->leg_index = i;
}

static int add_leg(hl_call *c, hl_leg *leg)
{
    if (c->nlegs >= MAX_LEGS)
        return -1;
    int i = c->nlegs++;
    leg->call = c;
    leg->index = i;
    c->legs[i] = leg;
    c->done[i] = false;
    cdr_init(c, i);
    return i;
}

static void hangup_leg(hl_call *c, int i, int code, const char *cause)
{
    if (i >= c->nlegs || c->done[i])
        return;
    hl_leg *leg = c->legs[i];
    c->done[i] = true;
    if (leg->state != HL_LEG_ENDED && leg->ops->hangup)
        leg->ops->hangup(leg, code, cause);
    if (!leg->hangup_side[0]) {
        snprintf(leg->hangup_side, sizeof leg->hangup_side, "engine");
        snprintf(leg->hangup_cause, sizeof leg->hangup_cause, "%s", cause);
    }
    if (!leg->end)
        leg->end = now_wall(c);
}

static void hangup_all(hl_call *c, const char *cause)
{
    for (int i = c->nlegs - 1; i >= 0; i--)
        hangup_leg(c, i, 0, cause);
}

static void buffer_key(hl_call *c, char k)
{
    if (c->nkeys == TYPEAHEAD_MAX) {
        memmove(c->keys, c->keys + 1, TYPEAHEAD_MAX - 1);
        memmove(c->keypos, c->keypos + 1, (TYPEAHEAD_MAX - 1) * sizeof c->keypos[0]);
        c->nkeys--;
    }
    c->keypos[c->nkeys] = (short)c->last_key_pos;
    c->keys[c->nkeys++] = k;
}

static char pop_key(hl_call *c)
{
    char k = c->keys[0];
    c->last_key_pos = c->keypos[0];
    memmove(c->keys, c->keys + 1, --c->nkeys);
    memmove(c->keypos, c->keypos + 1, c->nkeys * sizeof c->keypos[0]);
    return k;
}

static void mark_awaiting(hl_call *c) { c->input_epoch++; }

/* ---- coroutines ---------------------------------------------------------------------- */

static void push_call_ud(hl_call *c, lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, c->ud_ref); }

static void new_thread(hl_call *c)
{
    lua_State *L = policy_L(c);
    c->co = lua_newthread(L);
    c->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *(hl_call **)lua_getextraspace(c->co) = c;
    c->co_gen++;
}

static void drop_thread(hl_call *c)
{
    if (c->co_ref != LUA_NOREF) {
        *(hl_call **)lua_getextraspace(c->co) = NULL;
        luaL_unref(policy_L(c), LUA_REGISTRYINDEX, c->co_ref);
    }
    c->co_ref = LUA_NOREF;
    c->co = NULL;
    c->co_gen++;
}

static void fresh_run(hl_call *c, int div)
{
    const hl_config *cfg = c->env->cfg;
    memset(&c->run, 0, sizeof c->run);
    c->run.mem_limit = (long)cfg->script_memory_kb * 1024 / div;
    c->run.instr_limit = (long)cfg->script_instructions / div;
    c->run.clock = c->env->clock;
    c->run.call_id = c->id;
}

/* Stops whatever the script waits for (the script itself is being dropped). */
static void cancel_wait(hl_call *c)
{
    stop_timers(c);
    hl_leg *l0 = c->legs[0];
    switch (c->w.kind) {
    case W_PLAY: case W_COLLECT: case W_BEEP: case W_SORRY:
        if (leg_up(c, 0) && l0->ops->play_stop)
            l0->ops->play_stop(l0);
        break;
    case W_RECORD:
        if (leg_up(c, 0) && l0->ops->record_stop)
            l0->ops->record_stop(l0);
        break;
    case W_DIAL:
        hangup_leg(c, c->w.leg, 487, "cancel");
        break;
    case W_BRIDGE:
        if (leg_up(c, 0) && l0->ops->unbridge)
            l0->ops->unbridge(l0);
        break;
    case W_FAX:
        if (leg_up(c, c->w.leg) && c->legs[c->w.leg]->ops->fax_stop)
            c->legs[c->w.leg]->ops->fax_stop(c->legs[c->w.leg]);
        break;
    default:
        break;
    }
    c->w.kind = W_NONE;
}

/* Completes the current wait: nres results are on c->co's stack. */
static void complete(hl_call *c, int nres)
{
    c->w.kind = W_NONE;
    stop_timers(c);
    resume_script(c, nres);
}

/* ---- the ends of a script -------------------------------------------------------------- */

static void handler_expired(hl_timer *t);

static void play_sorry(hl_call *c)
{
    c->phase = PH_SORRY;
    hl_leg *l0 = c->legs[0];
    if (!c->cdrs[0].route[0])
        snprintf(c->cdrs[0].route, sizeof c->cdrs[0].route, "fallback");
    const char *items[1] = { SORRY_PROMPT };
    if (leg_up(c, 0) && l0->ops->play && l0->ops->play(l0, items, 1) == 0) {
        hl_cdr_append(c->cdrs[0].prompts, sizeof c->cdrs[0].prompts, SORRY_PROMPT);
        c->w.kind = W_SORRY;
        hl_timer_start(c->env->timers, &c->t_handler, HANDLER_MAX_MS, handler_expired, c);
        return;
    }
    hangup_all(c, "fallback");
    c->phase = PH_DONE;
}

static void start_fallback(hl_call *c, const char *msg)
{
    c->fallback = true;
    if (!leg_up(c, 0) || c->originated) { /* a job has nobody to apologise to */
        hangup_all(c, "fallback");
        c->phase = PH_DONE;
        return;
    }
    lua_State *L = policy_L(c);
    hl_policy_push_fallback(c->policy, L);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        play_sorry(c);
        return;
    }
    new_thread(c);
    lua_xmove(L, c->co, 1);
    push_call_ud(c, c->co);
    lua_pushstring(c->co, msg);
    fresh_run(c, FALLBACK_BUDGET_DIV);
    c->phase = PH_FALLBACK;
    hl_timer_start(c->env->timers, &c->t_handler, HANDLER_MAX_MS, handler_expired, c);
    resume_script(c, 2);
}

static void start_handler(hl_call *c)
{
    lua_State *L = policy_L(c);
    push_call_ud(c, L);
    lua_getiuservalue(L, -1, 1);
    lua_getfield(L, -1, "on_hangup");
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 3);
        c->phase = PH_DONE;
        return;
    }
    new_thread(c);
    lua_xmove(L, c->co, 1);
    lua_pop(L, 2);
    push_call_ud(c, c->co);
    fresh_run(c, 1);
    c->phase = PH_HANDLER;
    hl_timer_start(c->env->timers, &c->t_handler, HANDLER_MAX_MS, handler_expired, c);
    resume_script(c, 1);
}

static void handler_expired(hl_timer *t)
{
    hl_call *c = t->data;
    enter(c);
    hl_warn("call", "%s: %s still running after %d ms, stopped", c->id,
            c->phase == PH_HANDLER ? "on_hangup handler" : "fallback", HANDLER_MAX_MS);
    cancel_wait(c);
    drop_thread(c);
    hangup_all(c, "fallback");
    c->phase = PH_DONE;
    try_end(c);
    leave(c);
}

static void script_returned(hl_call *c)
{
    drop_thread(c);
    hl_timer_stop(c->env->timers, &c->t_handler);
    if (c->phase != PH_HANDLER)
        hangup_all(c, c->phase == PH_FALLBACK ? "fallback" : "script");
    c->phase = PH_DONE;
    try_end(c);
}

static void script_failed(hl_call *c, const char *msg)
{
    fail_outcome(c, msg);
    if (c->env->clock->fake)
        hl_warn("call", "%s: script error (policy %s): %s", c->id, hl_policy_version(c->policy), msg);
    else
        hl_error("call", "%s: script error (policy %s): %s", c->id, hl_policy_version(c->policy), msg);
    cancel_wait(c);
    drop_thread(c);
    hl_timer_stop(c->env->timers, &c->t_handler);
    if (c->phase == PH_MAIN) {
        start_fallback(c, msg);
    } else if (c->phase == PH_FALLBACK) {
        play_sorry(c);
    } else {
        hangup_all(c, "fallback");
        c->phase = PH_DONE;
    }
    try_end(c);
}

static void dispatch(hl_call *c, int i, const hl_leg_event *ev);

static void drain_pending(hl_call *c)
{
    while (c->npending && !c->in_resume) {
        pending_ev p = c->pending[0];
        memmove(c->pending, c->pending + 1, --c->npending * sizeof *c->pending);
        p.ev.reason = p.reason;
        dispatch(c, p.leg, &p.ev);
    }
}

/* file:line of the innermost Lua function on a failed coroutine's stack. */
static void first_lua_frame(lua_State *co, char *out, int len)
{
    lua_Debug ar;
    snprintf(out, len, "?");
    for (int lvl = 0; lua_getstack(co, lvl, &ar); lvl++)
        if (lua_getinfo(co, "Sl", &ar) && ar.currentline > 0) {
            snprintf(out, len, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
}

/* A job function's verdict: returning nothing or a true value is done; false or nil (with
 * an optional reason after it) is a failed attempt. */
static void take_outcome(hl_call *c, int nres)
{
    lua_State *co = c->co;
    if (nres < 0) {
        fail_outcome(c, "the job function used the call after call:hangup()");
        return;
    }
    if (nres == 0 || lua_toboolean(co, -nres)) {
        c->outcome = 1;
        return;
    }
    const char *why = nres >= 2 ? lua_tostring(co, -nres + 1) : NULL;
    fail_outcome(c, why ? why : "the job function returned false or nil");
}

static void resume_script(hl_call *c, int nargs)
{
    int nres = 0;
    c->in_resume = true;
    int st = hl_policy_resume(c->policy, c->co, &c->run, nargs, &nres);
    c->in_resume = false;
    if (st == LUA_YIELD && !c->run.killed && c->w.kind != W_NONE) {
        lua_pop(c->co, nres);
    } else if (st == LUA_YIELD && c->run.killed) {
        char msg[300];
        if (!c->run.where[0])
            first_lua_frame(c->co, c->run.where, sizeof c->run.where);
        snprintf(msg, sizeof msg, "%s: %s", c->run.where, c->run.why);
        script_failed(c, msg);
    } else if (st == LUA_YIELD) {
        script_failed(c, "coroutine.yield() outside a coroutine the script created");
    } else if (st == LUA_OK || hl_lua_is_ended(c->co, -1)) {
        if (c->originated && c->phase == PH_MAIN)
            take_outcome(c, st == LUA_OK ? nres : -1);
        script_returned(c);
    } else {
        const char *m = lua_tostring(c->co, -1);
        char msg[1200];
        if (c->run.killed) {
            if (!c->run.where[0])
                first_lua_frame(c->co, c->run.where, sizeof c->run.where);
            snprintf(msg, sizeof msg, "%s: %s (%s)", c->run.where, c->run.why, m ? m : "");
        }
        else {
            luaL_traceback(c->co, c->co, m ? m : "(error object is not a string)", 0);
            snprintf(msg, sizeof msg, "%s", lua_tostring(c->co, -1));
        }
        script_failed(c, msg);
    }
    drain_pending(c);
}

static void try_end(hl_call *c)
{
    if (c->phase != PH_DONE || c->store_pending > 0)
        return;
    hangup_all(c, "script");
    c->should_end = true;
}

/* ---- events -------------------------------------------------------------------------- */

static void push_key(lua_State *L, char k)
{
    char s[2] = { k, 0 };
    lua_pushstring(L, s);
}

static void finish_collect(hl_call *c, lua_State *L)
{
    lua_pushlstring(L, c->w.digits, c->w.ndigits);
    lua_pushstring(L, c->w.reason);
}

/* Feeds one key to a collect; true when the collect is finished (w.reason set). */
static bool collect_feed(hl_call *c, char k)
{
    wait_state *w = &c->w;
    if (w->term && k == w->term) {
        w->reason = w->ndigits >= w->min ? "terminator" : "short";
        return true;
    }
    /* Mask what a sensitive collect takes: no PIN or ID number reaches a CDR (§ SPEC 2.5). */
    char *dtmf = c->cdrs[0].dtmf;
    if (w->sensitive && c->last_key_pos >= 0 && c->last_key_pos < (int)strlen(dtmf))
        dtmf[c->last_key_pos] = 'x';
    if (w->ndigits < MAX_DIGITS)
        w->digits[w->ndigits++] = k;
    if (w->ndigits >= w->max) {
        w->reason = "max";
        /* Callers press the terminator the prompt asked for even when the entry is already
         * full; it ends this entry, it is not a key of whatever comes next. */
        c->late_term = w->term;
        c->late_term_until = now_ms(c) + (uint64_t)w->interdigit;
        return true;
    }
    return false;
}

static void collect_timer(hl_timer *t);

static void collect_arm(hl_call *c)
{
    if (c->w.ndigits == 0)
        hl_timer_start(c->env->timers, &c->t_wait, c->w.timeout, collect_timer, c);
    else {
        hl_timer_stop(c->env->timers, &c->t_wait);
        hl_timer_start(c->env->timers, &c->t_digit, c->w.interdigit, collect_timer, c);
    }
}

static void collect_timer(hl_timer *t)
{
    hl_call *c = t->data;
    enter(c);
    if (c->w.kind == W_COLLECT) {
        c->w.reason = c->w.ndigits == 0 ? "timeout" : c->w.ndigits >= c->w.min ? "interdigit" : "short";
        finish_collect(c, c->co);
        complete(c, 2);
    }
    leave(c);
}

/* Drains the type-ahead buffer into a collect; true when that finished it. */
static bool collect_drain(hl_call *c)
{
    while (c->nkeys) {
        if (collect_feed(c, pop_key(c))) {
            /* a full entry's terminator typed ahead with it belongs to it (see on_key) */
            if (c->late_term && c->nkeys && c->keys[0] == c->late_term) {
                pop_key(c);
                c->late_term = 0;
            }
            return true;
        }
    }
    return false;
}

static void push_record_result(hl_call *c, const char *reason, int duration_ms);

static void on_key(hl_call *c, char k)
{
    hl_cdr *d = &c->cdrs[0];
    size_t n = strlen(d->dtmf);
    c->last_key_pos = -1;
    if (n + 1 < sizeof d->dtmf) {
        d->dtmf[n] = k, d->dtmf[n + 1] = 0;
        c->last_key_pos = (int)n;
    }
    if (c->phase == PH_SORRY || c->phase == PH_DONE)
        return;
    char late = c->late_term;
    c->late_term = 0;
    if (late && k == late && now_ms(c) <= c->late_term_until)
        return; /* the terminator of a collect that had already filled up */
    hl_leg *l0 = c->legs[0];
    switch (c->w.kind) {
    case W_PLAY:
        if (!c->w.barge)
            break;
        if (l0->ops->play_stop)
            l0->ops->play_stop(l0);
        push_key(c->co, k);
        complete(c, 1);
        return;
    case W_COLLECT:
        if (c->w.prompt_on) {
            if (!c->w.barge)
                break;
            if (l0->ops->play_stop)
                l0->ops->play_stop(l0);
            c->w.prompt_on = false;
        }
        if (collect_feed(c, k)) {
            finish_collect(c, c->co);
            complete(c, 2);
        } else {
            collect_arm(c);
        }
        return;
    case W_RECORD:
        if (strchr(c->w.stop_keys, k) && l0->ops->record_stop) {
            l0->ops->record_stop(l0);
            push_record_result(c, "key", 0);
            complete(c, 1);
        }
        return;
    case W_BRIDGE:
        return; /* the keys go to the far end with the audio */
    default:
        break;
    }
    buffer_key(c, k);
}

static int record_begin(hl_call *c);
static void push_record_result(hl_call *c, const char *reason, int duration_ms);

static void on_play_done(hl_call *c)
{
    switch (c->w.kind) {
    case W_PLAY:
        complete(c, 0);
        break;
    case W_COLLECT:
        if (!c->w.prompt_on)
            break;
        c->w.prompt_on = false;
        if (collect_drain(c)) {
            finish_collect(c, c->co);
            complete(c, 2);
        } else {
            mark_awaiting(c);
            collect_arm(c);
        }
        break;
    case W_BEEP:
        if (record_begin(c) != 0) {
            lua_pushnil(c->co);
            lua_pushliteral(c->co, "error");
            complete(c, 2);
        }
        break;
    case W_SORRY:
        c->w.kind = W_NONE;
        hl_timer_stop(c->env->timers, &c->t_handler);
        hangup_all(c, "fallback");
        c->phase = PH_DONE;
        try_end(c);
        break;
    default:
        break;
    }
}

static void push_leg(hl_call *c, lua_State *L, int i);
static void push_fax_result(hl_call *c, const hl_fax_result *r, const char *why);

static void on_leg_hangup(hl_call *c, int i, const hl_leg_event *ev)
{
    hl_leg *leg = c->legs[i];
    if (c->done[i])
        return;
    c->done[i] = true;
    if (!leg->end)
        leg->end = now_wall(c);
    if (!leg->hangup_side[0]) {
        snprintf(leg->hangup_side, sizeof leg->hangup_side, "%s", i == 0 ? "caller" : "callee");
        snprintf(leg->hangup_cause, sizeof leg->hangup_cause, "%s", ev->reason ? ev->reason : "bye");
    }
    if (i == 0) {
        c->caller_gone = true;
        CALL_INFO(c, "%s: caller hung up (%s)", c->id, leg->hangup_cause);
        if (c->phase == PH_MAIN) {
            cancel_wait(c);
            drop_thread(c);
            hangup_all(c, "caller-hangup");
            start_handler(c);
        } else if (c->phase != PH_HANDLER) {
            cancel_wait(c);
            drop_thread(c);
            hl_timer_stop(c->env->timers, &c->t_handler);
            hangup_all(c, "caller-hangup");
            c->phase = PH_DONE;
        }
    } else if (c->w.kind == W_DIAL && c->w.leg == i) {
        lua_pushnil(c->co);
        lua_pushinteger(c->co, ev->code ? ev->code : 487);
        complete(c, 2);
    } else if (c->w.kind == W_BRIDGE && c->w.leg == i) {
        if (leg_up(c, 0) && c->legs[0]->ops->unbridge)
            c->legs[0]->ops->unbridge(c->legs[0]);
        lua_pushliteral(c->co, "callee");
        complete(c, 1);
    } else if (c->w.kind == W_FAX && c->w.leg == i) {
        push_fax_result(c, NULL, "hangup");
        complete(c, 1);
    }
    try_end(c);
}

static void dispatch(hl_call *c, int i, const hl_leg_event *ev)
{
    if (i < 0 || i >= c->nlegs)
        return;
    hl_leg *leg = c->legs[i];
    switch (ev->type) {
    case HL_LEG_EV_ANSWERED:
        if (!leg->answer)
            leg->answer = now_wall(c);
        if (c->w.kind == W_DIAL && c->w.leg == i) {
            push_leg(c, c->co, i);
            complete(c, 1);
        }
        break;
    case HL_LEG_EV_FAILED:
        if (c->w.kind == W_DIAL && c->w.leg == i) {
            c->done[i] = true;
            if (!leg->end)
                leg->end = now_wall(c);
            lua_pushnil(c->co);
            lua_pushinteger(c->co, ev->code ? ev->code : 500);
            complete(c, 2);
        }
        break;
    case HL_LEG_EV_DTMF:
        if (i == 0 && ev->digit && strchr("0123456789*#ABCD", ev->digit))
            on_key(c, ev->digit);
        break;
    case HL_LEG_EV_PLAY_DONE:
        if (i == 0 && !ev->interrupted) /* a stop we asked for: already handled */
            on_play_done(c);
        break;
    case HL_LEG_EV_RECORD_DONE:
        if (i == 0 && c->w.kind == W_RECORD) {
            push_record_result(c, ev->reason ? ev->reason : "stopped", ev->duration_ms);
            complete(c, 1);
        }
        break;
    case HL_LEG_EV_TRANSFERRED:
        if (i == 0 && c->w.kind == W_REFER) {
            bool ok = ev->code >= 200 && ev->code < 300;
            if (ok)
                hangup_leg(c, 0, 0, "transfer");
            lua_pushboolean(c->co, ok);
            lua_pushinteger(c->co, ev->code);
            complete(c, 2);
        }
        break;
    case HL_LEG_EV_FAX_DONE:
        if (c->w.kind == W_FAX && c->w.leg == i) {
            push_fax_result(c, ev->fax, ev->reason);
            complete(c, 1);
        }
        break;
    case HL_LEG_EV_HOLD:
    case HL_LEG_EV_RESUME:
        CALL_INFO(c, "%s: leg %d %s", c->id, i, ev->type == HL_LEG_EV_HOLD ? "on hold" : "off hold");
        break;
    case HL_LEG_EV_HANGUP:
        on_leg_hangup(c, i, ev);
        break;
    }
}

void hl_call_on_leg_event(hl_call *c, hl_leg *leg, const hl_leg_event *ev)
{
    if (!c || !leg || c->notified)
        return;
    if (c->in_resume) {
        if (c->npending == PENDING_EVENTS) {
            hl_warn("call", "%s: too many leg events during one script step; dropped one", c->id);
            return;
        }
        pending_ev *p = &c->pending[c->npending++];
        p->leg = leg->index;
        p->ev = *ev;
        snprintf(p->reason, sizeof p->reason, "%s", ev->reason ? ev->reason : "");
        return;
    }
    enter(c);
    dispatch(c, leg->index, ev);
    leave(c);
}

static void wait_timer(hl_timer *t)
{
    hl_call *c = t->data;
    enter(c);
    lua_State *co = c->co;
    switch (c->w.kind) {
    case W_SLEEP:
        complete(c, 0);
        break;
    case W_DIAL:
        hangup_leg(c, c->w.leg, 487, "no-answer");
        lua_pushnil(co);
        lua_pushinteger(co, 408);
        complete(c, 2);
        break;
    case W_RECORD:
        if (leg_up(c, 0) && c->legs[0]->ops->record_stop)
            c->legs[0]->ops->record_stop(c->legs[0]);
        push_record_result(c, "max", (int)(now_ms(c) - c->w.rec_start));
        complete(c, 1);
        break;
    case W_REFER:
        lua_pushboolean(co, 0);
        lua_pushinteger(co, 408);
        complete(c, 2);
        break;
    case W_FAX:
        if (leg_up(c, c->w.leg) && c->legs[c->w.leg]->ops->fax_stop)
            c->legs[c->w.leg]->ops->fax_stop(c->legs[c->w.leg]);
        push_fax_result(c, NULL, "time limit reached");
        complete(c, 1);
        break;
    default:
        break;
    }
    leave(c);
}

/* ---- life cycle (call.h) --------------------------------------------------------------- */

hl_call *hl_call_new_inbound(hl_call_env *env, hl_leg *caller_leg)
{
    hl_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->env = env;
    c->co_ref = c->ud_ref = LUA_NOREF;
    c->start = hl_clock_wall(env->clock);
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
        rnd = (uint32_t)(uintptr_t)c ^ (uint32_t)hl_clock_now_ms(env->clock);
    snprintf(c->id, sizeof c->id, "%.0f-%08x", c->start * 1000, rnd);
    c->t_wait.data = c->t_digit.data = c->t_handler.data = c;
    add_leg(c, caller_leg);
    return c;
}

/* Leg 0 of an engine-originated call: a placeholder that is up until the call hangs it up.
 * No audio, no SIP: every op the caller's leg would need is missing, and the primitives
 * that use them refuse originated calls before they get here (need_caller). */
static void origin_hangup(hl_leg *leg, int code, const char *reason) { leg->state = HL_LEG_ENDED; }
static void origin_destroy(hl_leg *leg) { free(leg); }
static const hl_leg_ops origin_ops = { .hangup = origin_hangup, .destroy = origin_destroy };

static bool entry_name_valid(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < sizeof ((hl_call *)0)->entry_fn && !(s[0] >= '0' && s[0] <= '9') &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

hl_call *hl_call_new_originate(hl_call_env *env, const char *entry_fn, json_t *args, json_t *job,
                               const char *label)
{
    if (!entry_fn || !entry_name_valid(entry_fn))
        return NULL;
    hl_leg *origin = calloc(1, sizeof *origin);
    if (!origin)
        return NULL;
    origin->ops = &origin_ops;
    origin->dir = HL_LEG_OUTBOUND;
    origin->state = HL_LEG_ANSWERED;
    origin->start = hl_clock_wall(env->clock);
    snprintf(origin->from_user, sizeof origin->from_user, "%s", ORIGIN_USER);
    snprintf(origin->to_user, sizeof origin->to_user, "%s", entry_fn);
    snprintf(origin->sip_call_id, sizeof origin->sip_call_id, "%s", label && *label ? label : entry_fn);
    hl_call *c = hl_call_new_inbound(env, origin);
    if (!c) {
        free(origin);
        return NULL;
    }
    c->originated = true;
    snprintf(c->entry_fn, sizeof c->entry_fn, "%s", entry_fn);
    c->args = args ? json_incref(args) : json_object();
    c->job = job ? json_incref(job) : NULL;
    return c;
}

void hl_call_set_on_end(hl_call *c, hl_call_end_fn fn, void *arg)
{
    c->on_end = fn;
    c->on_end_arg = arg;
}

bool hl_call_is_originated(const hl_call *c) { return c->originated; }

/* issue 7 (wt-trunks) */
bool hl_call_dial_refused(const hl_call *c) { return c->dial_refused; }

int hl_call_outcome(const hl_call *c, const char **error)
{
    if (error)
        *error = c->outcome < 0 ? c->outcome_err : "";
    return c->outcome;
}

/* Pushes job_<kind> (or nil) on L; for an ordinary call, main. */
static void push_entry(hl_call *c, lua_State *L)
{
    if (!c->originated) {
        hl_policy_push_main(c->policy, L);
        return;
    }
    lua_getglobal(L, c->entry_fn);
}

static void push_new_call_ud(hl_call *c, lua_State *L);
static void push_json(lua_State *L, json_t *v, int depth);

void hl_call_start(hl_call *c)
{
    enter(c);
    hl_policy *p = c->env->current_policy ? c->env->current_policy(c->env) : NULL;
    if (!p) {
        hl_error("call", "%s: no policy loaded; refusing the call", c->id);
        hangup_leg(c, 0, 503, "no-policy");
        c->phase = PH_DONE;
        try_end(c);
        leave(c);
        return;
    }
    hl_policy_ref(p);
    c->policy = p;
    snprintf(c->cdrs[0].script_version, sizeof c->cdrs[0].script_version, "%s", hl_policy_version(p));
    lua_State *L = policy_L(c);
    push_new_call_ud(c, L);
    c->ud_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    new_thread(c);
    push_entry(c, c->co);
    if (!lua_isfunction(c->co, -1)) { /* only a job can name a missing function: main is checked at build */
        char why[160];
        snprintf(why, sizeof why, "policy %s has no function %s(call, args, job)", hl_policy_version(p), c->entry_fn);
        if (c->env->clock->fake)
            hl_debug("call", "%s: %s", c->id, why);
        else
            hl_warn("call", "%s: %s", c->id, why);
        fail_outcome(c, why);
        drop_thread(c);
        hangup_all(c, "no-function");
        c->phase = PH_DONE;
        try_end(c);
        leave(c);
        return;
    }
    push_call_ud(c, c->co);
    int nargs = 1;
    if (c->originated) {
        push_json(c->co, c->args, 0);
        if (c->job)
            push_json(c->co, c->job, 0);
        else
            lua_pushnil(c->co);
        nargs = 3;
    }
    fresh_run(c, 1);
    c->phase = PH_MAIN;
    CALL_INFO(c, "%s from %s to %s on policy %s", c->id, c->legs[0]->from_user, c->legs[0]->to_user,
            hl_policy_version(p));
    resume_script(c, nargs);
    leave(c);
}

/* The script is gone for good: its outside waits end now, not when their answers come
 * (a shutdown would otherwise wait out an HTTP timeout).  An HTTP request is cancelled (its
 * done never comes); a store query runs to its end in the store, and its answer, finding no
 * call (r->c NULL), is only freed, as after hl_call_free. */
static void abandon_waits(hl_call *c)
{
    while (c->store_reqs) {
        store_req *r = c->store_reqs;
        c->store_reqs = r->next;
        c->store_pending--;
        if (hl_http_cancel_arg(c->env->http, r) > 0)
            free(r);
        else
            r->c = NULL;
    }
}

void hl_call_terminate(hl_call *c, const char *reason)
{
    if (c->notified)
        return;
    enter(c);
    char why[80];
    snprintf(why, sizeof why, "terminated: %s", reason ? reason : "terminated");
    fail_outcome(c, why);
    cancel_wait(c);
    drop_thread(c);
    abandon_waits(c);
    hl_timer_stop(c->env->timers, &c->t_handler);
    hangup_all(c, reason ? reason : "terminated");
    c->phase = PH_DONE;
    try_end(c);
    leave(c);
}

void hl_call_free(hl_call *c)
{
    if (!c)
        return;
    stop_timers(c);
    hl_timer_stop(c->env->timers, &c->t_handler);
    for (store_req *r = c->store_reqs; r; r = r->next)
        r->c = NULL;
    if (c->policy) {
        lua_State *L = policy_L(c);
        if (c->ud_ref != LUA_NOREF) {
            push_call_ud(c, L);
            ((call_ud *)lua_touserdata(L, -1))->c = NULL;
            lua_pop(L, 1);
            luaL_unref(L, LUA_REGISTRYINDEX, c->ud_ref);
        }
        drop_thread(c);
        hl_policy_unref(c->policy);
    }
    for (int i = 0; i < c->nlegs; i++)
        if (c->legs[i]->ops->destroy)
            c->legs[i]->ops->destroy(c->legs[i]);
    json_decref(c->args);
    json_decref(c->job);
    free(c);
}

const char *hl_call_id(const hl_call *c) { return c->id; }
int hl_call_leg_count(const hl_call *c) { return c->nlegs; }
const hl_cdr *hl_call_cdr(const hl_call *c, int i) { return i >= 0 && i < c->nlegs ? &c->cdrs[i] : NULL; }
int hl_call_input_epoch(const hl_call *c) { return c->input_epoch; }
bool hl_call_ended(const hl_call *c) { return c->notified; }
hl_leg *hl_call_leg(const hl_call *c, int i) { return i >= 0 && i < c->nlegs ? c->legs[i] : NULL; }
bool hl_call_fell_back(const hl_call *c) { return c->fallback; }

bool hl_call_awaiting_input(const hl_call *c)
{
    switch (c->w.kind) {
    case W_PLAY: return c->w.barge;
    case W_COLLECT: return !c->w.prompt_on || c->w.barge;
    case W_RECORD: return c->w.stop_keys[0] != 0;
    default: return false;
    }
}

static const char *phase_name(const hl_call *c)
{
    static const char *const n[] = { "new", "script", "on_hangup", "fallback", "apology", "ended" };
    return n[c->phase];
}

json_t *hl_call_describe(const hl_call *c)
{
    char start[40];
    hl_clock_format_iso(c->start, start, sizeof start);
    const hl_leg *l0 = c->legs[0];
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:i}", "id", c->id, "caller", l0->from_user,
                     "called", l0->to_user, "state", phase_name(c), "start", start, "answered",
                     l0->answer > 0, "route", c->cdrs[0].route, "version",
                     c->policy ? hl_policy_version(c->policy) : "", "waiting", wait_names[c->w.kind],
                     "legs", c->nlegs);
}

/* The vars a script set, as JSON text: string keys not starting with "_", scalar values. */
static void vars_to_cdr(hl_call *c)
{
    if (!c->policy || c->ud_ref == LUA_NOREF)
        return;
    lua_State *L = policy_L(c);
    push_call_ud(c, L);
    lua_getiuservalue(L, -1, 1);
    lua_getfield(L, -1, "vars");
    json_t *o = json_object();
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_tostring(L, -2)[0] != '_') {
                const char *k = lua_tostring(L, -2);
                json_t *v = NULL;
                if (lua_type(L, -1) == LUA_TBOOLEAN)
                    v = json_boolean(lua_toboolean(L, -1));
                else if (lua_isinteger(L, -1))
                    v = json_integer(lua_tointeger(L, -1));
                else if (lua_type(L, -1) == LUA_TNUMBER)
                    v = json_real(lua_tonumber(L, -1));
                else if (lua_type(L, -1) == LUA_TSTRING)
                    v = json_string(lua_tostring(L, -1));
                if (v) {
                    json_object_set_new(o, k, v);
                    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
                    if (!s || strlen(s) >= sizeof c->cdrs[0].vars)
                        json_object_del(o, k); /* keep what fits */
                    free(s);
                }
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 3);
    if (json_object_size(o)) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (s)
            snprintf(c->cdrs[0].vars, sizeof c->cdrs[0].vars, "%s", s);
        free(s);
    }
    json_decref(o);
}

static void finalize_cdrs(hl_call *c)
{
    vars_to_cdr(c);
    for (int i = 0; i < c->nlegs; i++) {
        hl_leg *leg = c->legs[i];
        hl_cdr *d = &c->cdrs[i];
        snprintf(d->leg_id, sizeof d->leg_id, "%s", leg->sip_call_id);
        snprintf(d->direction, sizeof d->direction, "%s", leg->dir == HL_LEG_INBOUND ? "inbound" : "outbound");
        snprintf(d->caller, sizeof d->caller, "%s", leg->from_user);
        snprintf(d->called, sizeof d->called, "%s", leg->to_user);
        d->start = leg->start ? leg->start : c->start;
        d->answer = leg->answer;
        d->end = leg->end ? leg->end : now_wall(c);
        snprintf(d->hangup_side, sizeof d->hangup_side, "%s", leg->hangup_side);
        snprintf(d->hangup_cause, sizeof d->hangup_cause, "%s", leg->hangup_cause);
        if (i > 0)
            snprintf(d->script_version, sizeof d->script_version, "%s", c->cdrs[0].script_version);
        if (leg->ops->stats)
            leg->ops->stats(leg, d);
    }
}

/* ---- Lua: argument checks -------------------------------------------------------------- */

static hl_call *check_call(lua_State *L, int idx)
{
    call_ud *u = luaL_checkudata(L, idx, "hl.call");
    if (!u->c)
        luaL_error(L, "this call has ended (a call object was kept beyond its call)");
    return u->c;
}

/* A waiting primitive: must run on the call's own coroutine, with the caller still there. */
static hl_call *waiting_call(lua_State *L, const char *what)
{
    hl_call *c = check_call(L, 1);
    if (L != c->co)
        luaL_error(L, "%s: must be called from the call's own script, not from a coroutine it created", what);
    return c;
}

static hl_call *need_caller(lua_State *L, const char *what)
{
    hl_call *c = waiting_call(L, what);
    if (c->originated && strcmp(what, "dial") && strcmp(what, "fax_send") && strcmp(what, "fax_receive"))
        luaL_error(L, "%s: this call was started by the engine (%s) and has no caller; it can "
                      "only dial and act on the legs it dialled (call:fax_send{leg=...})", what, c->entry_fn);
    if (!leg_up(c, 0)) {
        hl_lua_push_ended(L);
        lua_error(L);
    }
    return c;
}

static int opt_int(lua_State *L, int t, const char *k, int dflt, int lo, int hi, const char *what)
{
    if (lua_type(L, t) != LUA_TTABLE)
        return dflt;
    lua_getfield(L, t, k);
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    bool nil = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (nil)
        return dflt;
    if (!isnum || v < lo || v > hi)
        luaL_error(L, "%s: %s must be a whole number from %d to %d", what, k, lo, hi);
    return (int)v;
}

static bool opt_bool(lua_State *L, int t, const char *k, bool dflt)
{
    if (lua_type(L, t) != LUA_TTABLE)
        return dflt;
    lua_getfield(L, t, k);
    bool v = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static const char *opt_str(lua_State *L, int t, const char *k, const char *dflt)
{
    if (lua_type(L, t) != LUA_TTABLE)
        return dflt;
    lua_getfield(L, t, k);
    const char *v = lua_isnil(L, -1) ? dflt : lua_tostring(L, -1);
    if (!v && !lua_isnil(L, -1))
        luaL_error(L, "option '%s' must be a string", k);
    lua_pop(L, 1); /* the string stays alive: it is referenced by the options table */
    return v;
}

static bool item_valid(const char *s)
{
    if (!strncmp(s, "silence:", 8)) {
        char *end;
        long ms = strtol(s + 8, &end, 10);
        return *end == 0 && end != s + 8 && ms > 0 && ms <= 60000;
    }
    if (!strncmp(s, "tone:", 5)) {
        if (!s[5])
            return false;
        for (const char *p = s + 5; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                return false;
        return true;
    }
    return hl_prompt_name_valid(s);
}

static void add_item(lua_State *L, hl_call *c, const char *s, const char *what)
{
    if (c->nitems >= MAX_ITEMS)
        luaL_error(L, "%s: more than %d items in one playlist", what, MAX_ITEMS);
    if (strlen(s) >= ITEM_LEN || !item_valid(s))
        luaL_error(L, "%s: prompt '%s' is not a valid name", what, s);
    snprintf(c->item_buf[c->nitems], ITEM_LEN, "%s", s);
    c->items[c->nitems] = c->item_buf[c->nitems];
    c->nitems++;
}

/* Reads a playlist: one name, or a list of names. */
static void parse_items(lua_State *L, hl_call *c, int idx, const char *what)
{
    c->nitems = 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        add_item(L, c, lua_tostring(L, idx), what);
        return;
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: expected a prompt name or a list of them", what);
    lua_Integer n = luaL_len(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: item %d is not a prompt name", what, (int)i);
        add_item(L, c, lua_tostring(L, -1), what);
        lua_pop(L, 1);
    }
}

static int start_play(hl_call *c)
{
    for (int i = 0; i < c->nitems; i++)
        if (strncmp(c->items[i], "silence:", 8) != 0)
            hl_cdr_append(c->cdrs[0].prompts, sizeof c->cdrs[0].prompts, c->items[i]);
    hl_leg *l0 = c->legs[0];
    return l0->ops->play ? l0->ops->play(l0, c->items, c->nitems) : -1;
}

/* Plays the parsed items; with barge_in, a key ends it (and a key already typed skips it). */
static int play_parsed(lua_State *L, hl_call *c, bool barge)
{
    if (barge && c->nkeys) {
        push_key(L, pop_key(c));
        return 1;
    }
    if (c->nitems == 0 || start_play(c) != 0)
        return 0;
    c->w.kind = W_PLAY;
    c->w.barge = barge;
    if (barge)
        mark_awaiting(c);
    return lua_yield(L, 0);
}

/* ---- Lua: the call's methods ------------------------------------------------------------ */

static int l_answer(lua_State *L)
{
    hl_call *c = need_caller(L, "answer");
    hl_leg *l0 = c->legs[0];
    lua_pushboolean(L, l0->ops->answer && l0->ops->answer(l0) == 0);
    return 1;
}

static int l_ring(lua_State *L)
{
    hl_call *c = need_caller(L, "ring");
    hl_leg *l0 = c->legs[0];
    lua_pushboolean(L, l0->ops->ring && l0->ops->ring(l0) == 0);
    return 1;
}

static int l_play(lua_State *L)
{
    hl_call *c = need_caller(L, "play");
    parse_items(L, c, 2, "play");
    return play_parsed(L, c, opt_bool(L, 3, "barge_in", false));
}

static int l_collect(lua_State *L)
{
    hl_call *c = need_caller(L, "collect");
    luaL_checktype(L, 2, LUA_TTABLE);
    wait_state *w = &c->w;
    memset(w, 0, sizeof *w);
    w->max = opt_int(L, 2, "max", 1, 1, MAX_DIGITS, "collect");
    w->min = opt_int(L, 2, "min", 1, 0, w->max, "collect");
    w->timeout = opt_int(L, 2, "timeout", DEFAULT_TIMEOUT_MS, 0, SLEEP_MAX_MS, "collect");
    w->interdigit = opt_int(L, 2, "interdigit", DEFAULT_INTERDIGIT_MS, 0, SLEEP_MAX_MS, "collect");
    const char *term = opt_str(L, 2, "terminator", "#");
    if (strlen(term) > 1 || (term[0] && !strchr("0123456789*#", term[0])))
        return luaL_error(L, "collect: terminator must be one key or \"\"");
    w->term = term[0];
    w->sensitive = opt_bool(L, 2, "sensitive", false);
    bool barge = opt_bool(L, 2, "barge_in", true);
    lua_getfield(L, 2, "prompt");
    bool has_prompt = !lua_isnil(L, -1);
    c->nitems = 0;
    if (has_prompt)
        parse_items(L, c, lua_gettop(L), "collect");
    lua_pop(L, 1);
    if (collect_drain(c)) {
        finish_collect(c, L);
        return 2;
    }
    w->kind = W_COLLECT;
    w->barge = barge;
    if (w->ndigits == 0 && c->nitems && start_play(c) == 0) {
        w->prompt_on = true;
        if (barge)
            mark_awaiting(c);
    } else {
        mark_awaiting(c);
        collect_arm(c);
    }
    return lua_yield(L, 0);
}

static bool rel_path_valid(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 200 || s[0] == '/' || strstr(s, "..") || strstr(s, "//") || s[n - 1] == '/')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_-./", *s)))
            return false;
    return true;
}

static int record_begin(hl_call *c)
{
    hl_leg *l0 = c->legs[0];
    if (!leg_up(c, 0) || !l0->ops->record_start || l0->ops->record_start(l0, &c->w.rec) != 0)
        return -1;
    c->w.kind = W_RECORD;
    c->w.rec_start = now_ms(c);
    c->nkeys = 0; /* keys typed before the beep are not meant to stop the recording */
    if (c->w.stop_keys[0])
        mark_awaiting(c);
    if (c->w.rec.max_ms > 0)
        hl_timer_start(c->env->timers, &c->t_wait, c->w.rec.max_ms + RECORD_GRACE_MS, wait_timer, c);
    return 0;
}

static void push_record_result(hl_call *c, const char *reason, int duration_ms)
{
    lua_State *co = c->co;
    if (duration_ms <= 0)
        duration_ms = (int)(now_ms(c) - c->w.rec_start);
    snprintf(c->cdrs[0].recording, sizeof c->cdrs[0].recording, "%s", c->w.rec_rel);
    lua_createtable(co, 0, 3);
    lua_pushstring(co, c->w.rec_rel);
    lua_setfield(co, -2, "path");
    lua_pushnumber(co, duration_ms / 1000.0);
    lua_setfield(co, -2, "duration");
    lua_pushstring(co, reason);
    lua_setfield(co, -2, "reason");
}

static int l_record(lua_State *L)
{
    hl_call *c = need_caller(L, "record");
    luaL_checktype(L, 2, LUA_TTABLE);
    const hl_config *cfg = c->env->cfg;
    wait_state *w = &c->w;
    memset(w, 0, sizeof *w);
    const char *rel = opt_str(L, 2, "path", NULL);
    if (!rel || !rel_path_valid(rel))
        return luaL_error(L, "record: path '%s' is not a valid relative name (letters, digits, "
                             "_ - . /, no '..')", rel ? rel : "(missing)");
    snprintf(w->rec_rel, sizeof w->rec_rel, "%s%s", rel, strstr(rel, ".wav") ? "" : ".wav");
    snprintf(w->rec.path, sizeof w->rec.path, "%s/%s", c->env->recordings_dir ? c->env->recordings_dir : ".",
             w->rec_rel);
    w->rec.max_ms = opt_int(L, 2, "max", cfg->record_max_ms, 1, cfg->record_max_ms, "record");
    w->rec.silence_ms = opt_int(L, 2, "silence", 0, 0, cfg->record_max_ms, "record");
    w->rec.silence_level = cfg->silence_level;
    w->rec.both_legs = opt_bool(L, 2, "both_legs", false);
    w->rec.stereo = opt_bool(L, 2, "stereo", false);
    const char *sk = opt_str(L, 2, "stop_keys", "#");
    if (strlen(sk) >= sizeof w->stop_keys || strspn(sk, "0123456789*#") != strlen(sk))
        return luaL_error(L, "record: stop_keys must be keys from 0-9 * #");
    snprintf(w->stop_keys, sizeof w->stop_keys, "%s", sk);
    w->rec.stop_keys = w->stop_keys[0] ? w->stop_keys : NULL;
    if (opt_bool(L, 2, "beep", true)) {
        c->nitems = 0;
        add_item(L, c, "tone:beep", "record");
        if (start_play(c) == 0) {
            w->kind = W_BEEP;
            return lua_yield(L, 0);
        }
    }
    if (record_begin(c) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "error");
        return 2;
    }
    return lua_yield(L, 0);
}

static int say_common(lua_State *L, hl_call *c, hl_say_word *words, int n, const char *what, const char *in)
{
    if (n < 0)
        return luaL_error(L, "%s: cannot read '%s' aloud", what, in);
    c->nitems = 0;
    for (int i = 0; i < n; i++)
        add_item(L, c, words[i], what);
    return play_parsed(L, c, opt_bool(L, 3, "barge_in", false));
}

static const char *number_arg(lua_State *L, int idx, char *buf, int len, bool money)
{
    if (lua_isinteger(L, idx))
        snprintf(buf, len, "%lld", (long long)lua_tointeger(L, idx));
    else if (lua_type(L, idx) == LUA_TNUMBER)
        snprintf(buf, len, money ? "%.2f" : "%.6g", lua_tonumber(L, idx));
    else
        snprintf(buf, len, "%s", luaL_checkstring(L, idx));
    return buf;
}

/* say_digits / say_number / say_amount: the text of argument 2 read by one of say.h's
 * functions, then played like say_date. */
static int say_text(lua_State *L, const char *what, bool amount,
                    int (*reading)(const char *, hl_say_word *, int))
{
    hl_call *c = need_caller(L, what);
    char buf[80];
    const char *s = number_arg(L, 2, buf, sizeof buf, amount);
    hl_say_word w[HL_SAY_MAX];
    return say_common(L, c, w, reading(s, w, HL_SAY_MAX), what, s);
}

static int l_say_digits(lua_State *L) { return say_text(L, "say_digits", false, hl_say_digits); }
static int l_say_number(lua_State *L) { return say_text(L, "say_number", false, hl_say_number); }
static int l_say_amount(lua_State *L) { return say_text(L, "say_amount", true, hl_say_amount); }

/* say_date(t | "YYYY-MM-DD" | {year=, month=, day=}) */
static int l_say_date(lua_State *L)
{
    hl_call *c = need_caller(L, "say_date");
    int y = 0, m = 0, d = 0;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        time_t t = (time_t)lua_tonumber(L, 2) + HL_CENTRE_UTC_OFFSET;
        struct tm tm;
        gmtime_r(&t, &tm);
        y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        if (sscanf(lua_tostring(L, 2), "%d-%d-%d", &y, &m, &d) != 3)
            return luaL_error(L, "say_date: '%s' is not YYYY-MM-DD", lua_tostring(L, 2));
    } else if (lua_istable(L, 2)) {
        y = opt_int(L, 2, "year", 0, 1, 9999, "say_date");
        m = opt_int(L, 2, "month", 0, 1, 12, "say_date");
        d = opt_int(L, 2, "day", 0, 1, 31, "say_date");
    } else {
        return luaL_error(L, "say_date: expected a time, \"YYYY-MM-DD\" or {year, month, day}");
    }
    hl_say_word w[HL_SAY_MAX];
    char in[40];
    snprintf(in, sizeof in, "%d-%d-%d", y, m, d);
    return say_common(L, c, w, hl_say_date(y, m, d, w, HL_SAY_MAX), "say_date", in);
}

static int l_sleep(lua_State *L)
{
    hl_call *c = waiting_call(L, "sleep");
    lua_Integer ms = luaL_checkinteger(L, 2);
    if (ms < 0 || ms > SLEEP_MAX_MS)
        return luaL_error(L, "sleep: %d ms is out of range (0 to %d)", (int)ms, SLEEP_MAX_MS);
    c->w.kind = W_SLEEP;
    hl_timer_start(c->env->timers, &c->t_wait, (uint64_t)ms, wait_timer, c);
    return lua_yield(L, 0);
}

static bool uri_valid(const char *s)
{
    if (strncmp(s, "sip:", 4) != 0 || strlen(s) >= sizeof ((hl_leg *)0)->remote_uri || !s[4])
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || strchr("<>\"'\\", *s) || (unsigned char)*s >= 127)
            return false;
    return true;
}

static bool word_valid(const char *s, size_t max);

/* issue 7 (wt-trunks): on whose behalf a call places a leg: its caller, or for a job the
 * caller of the call that queued it (jobs.caller). */
static const char *dial_caller(hl_call *c)
{
    if (c->originated) {
        const char *queued_by = c->job ? json_string_value(json_object_get(c->job, "caller")) : NULL;
        return queued_by ? queued_by : "";
    }
    return c->legs[0]->from_user;
}

static int l_dial(lua_State *L)
{
    hl_call *c = need_caller(L, "dial");
    const char *uri = luaL_checkstring(L, 2);
    if (!uri_valid(uri))
        return luaL_error(L, "dial: '%s' is not a sip: URI", uri);
    hl_dial_opts o = { 0 };
    o.timeout_ms = opt_int(L, 3, "timeout", c->env->cfg->ring_timeout_ms, 1000, 600000, "dial");
    o.from_user = opt_str(L, 3, "from", NULL);
    if (o.from_user && (strlen(o.from_user) > 32 || strspn(o.from_user, "0123456789+*#abcdefghijklmnopqrstuvwxyz") != strlen(o.from_user)))
        return luaL_error(L, "dial: from '%s' is not a caller number", o.from_user);
    /* issue 7 (wt-trunks): the purpose names the dial rule of rules/trunks.lua that env->dial
     * checks (call/dial_guard.h); the caller is whom its cap per day counts against. */
    o.purpose = opt_str(L, 3, "purpose", "dial");
    if (!word_valid(o.purpose, 64))
        return luaL_error(L, "dial: purpose '%s' must be one short word (\"fax\", \"transfer\")", o.purpose);
    o.caller = dial_caller(c);
    int refused = 0;
    o.refused = &refused;
    if (c->nlegs >= MAX_LEGS)
        return luaL_error(L, "dial: this call already has %d legs", MAX_LEGS);
    hl_leg *leg = c->env->dial ? c->env->dial(c->env, c, uri, &o) : NULL;
    if (!leg) {
        c->dial_refused = c->dial_refused || refused;
        lua_pushnil(L);
        lua_pushinteger(L, refused ? refused : 500);
        return 2;
    }
    int i = add_leg(c, leg);
    CALL_INFO(c, "%s: dialling %s (leg %d, policy %s)", c->id, uri, i, hl_policy_version(c->policy));
    c->w.kind = W_DIAL;
    c->w.leg = i;
    hl_timer_start(c->env->timers, &c->t_wait, o.timeout_ms + DIAL_GRACE_MS, wait_timer, c);
    return lua_yield(L, 0);
}

static int leg_index_of(lua_State *L, hl_call *c, int idx)
{
    leg_ud *u = luaL_checkudata(L, idx, "hl.leg");
    lua_getiuservalue(L, idx, 1);
    call_ud *cu = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!cu || cu->c != c)
        luaL_error(L, "this leg belongs to another call");
    return u->index;
}

static int l_bridge(lua_State *L)
{
    hl_call *c = need_caller(L, "bridge");
    int i = leg_index_of(L, c, 2);
    hl_leg *l0 = c->legs[0];
    if (!leg_up(c, i)) {
        lua_pushnil(L);
        lua_pushliteral(L, "ended");
        return 2;
    }
    if (!l0->ops->bridge || l0->ops->bridge(l0, c->legs[i]) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "error");
        return 2;
    }
    c->nkeys = 0;
    c->w.kind = W_BRIDGE;
    c->w.leg = i;
    return lua_yield(L, 0);
}

static int l_refer(lua_State *L)
{
    hl_call *c = need_caller(L, "transfer");
    const char *uri = luaL_checkstring(L, 2);
    if (!uri_valid(uri))
        return luaL_error(L, "transfer: '%s' is not a sip: URI", uri);
    hl_leg *l0 = c->legs[0];
    if (!l0->ops->transfer || l0->ops->transfer(l0, uri) != 0) {
        lua_pushboolean(L, 0);
        lua_pushinteger(L, 501);
        return 2;
    }
    CALL_INFO(c, "%s: REFER to %s (policy %s)", c->id, uri, hl_policy_version(c->policy));
    c->w.kind = W_REFER;
    hl_timer_start(c->env->timers, &c->t_wait, REFER_TIMEOUT_MS, wait_timer, c);
    return lua_yield(L, 0);
}

static bool word_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s == 127)
            return false;
    return true;
}

static int l_hangup(lua_State *L)
{
    hl_call *c = check_call(L, 1);
    const char *cause = luaL_optstring(L, 2, "script");
    if (!word_valid(cause, 40))
        return luaL_error(L, "hangup: cause '%s' must be one short word", cause);
    hangup_all(c, cause);
    return 0;
}

static int l_on_hangup(lua_State *L)
{
    check_call(L, 1);
    if (!lua_isnil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "on_hangup");
    return 0;
}

static int l_set_route(lua_State *L)
{
    hl_call *c = check_call(L, 1);
    const char *r = luaL_checkstring(L, 2);
    if (!word_valid(r, sizeof c->cdrs[0].route - 1))
        return luaL_error(L, "set_route: '%s' must be one word (no spaces), e.g. \"queue:0432.general\"", r);
    snprintf(c->cdrs[0].route, sizeof c->cdrs[0].route, "%s", r);
    CALL_INFO(c, "%s: route %s (policy %s)", c->id, r, hl_policy_version(c->policy));
    return 0;
}

static int l_visit(lua_State *L)
{
    hl_call *c = check_call(L, 1);
    const char *name = luaL_checkstring(L, 2);
    if (!word_valid(name, 64))
        return luaL_error(L, "menu: name '%s' must be one word", name);
    hl_cdr_append(c->cdrs[0].menus, sizeof c->cdrs[0].menus, name);
    hl_debug("call", "%s: menu %s", c->id, name);
    return 0;
}

static int call_index(lua_State *L)
{
    const char *k = luaL_checkstring(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "hl.call.methods");
    if (lua_getfield(L, -1, k) != LUA_TNIL)
        return 1;
    hl_call *c = check_call(L, 1);
    hl_leg *l0 = c->legs[0];
    if (!strcmp(k, "vars")) {
        lua_getiuservalue(L, 1, 1);
        lua_getfield(L, -1, "vars");
    } else if (!strcmp(k, "caller")) {
        lua_pushstring(L, l0->from_user);
    } else if (!strcmp(k, "called")) {
        lua_pushstring(L, l0->to_user);
    } else if (!strcmp(k, "id")) {
        lua_pushstring(L, c->id);
    } else if (!strcmp(k, "route")) {
        lua_pushstring(L, c->cdrs[0].route);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int call_newindex(lua_State *L)
{
    return luaL_error(L, "call.%s is read-only (keep your data in call.vars)", luaL_checkstring(L, 2));
}

static int call_tostring(lua_State *L)
{
    call_ud *u = luaL_checkudata(L, 1, "hl.call");
    lua_pushfstring(L, "call %s", u->c ? u->c->id : "(ended)");
    return 1;
}

static void push_new_call_ud(hl_call *c, lua_State *L)
{
    call_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->c = c;
    luaL_setmetatable(L, "hl.call");
    lua_createtable(L, 0, 2);
    lua_newtable(L);
    lua_setfield(L, -2, "vars");
    lua_setiuservalue(L, -2, 1);
}

/* ---- Lua: legs -------------------------------------------------------------------------- */

static void push_leg(hl_call *c, lua_State *L, int i)
{
    leg_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->index = i;
    luaL_setmetatable(L, "hl.leg");
    push_call_ud(c, L);
    lua_setiuservalue(L, -2, 1);
}

static hl_call *leg_call(lua_State *L, int *index)
{
    leg_ud *u = luaL_checkudata(L, 1, "hl.leg");
    lua_getiuservalue(L, 1, 1);
    call_ud *cu = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!cu || !cu->c)
        luaL_error(L, "this leg's call has ended");
    *index = u->index;
    return cu->c;
}

static int leg_hangup(lua_State *L)
{
    int i;
    hl_call *c = leg_call(L, &i);
    hangup_leg(c, i, 0, luaL_optstring(L, 2, "script"));
    return 0;
}

static int leg_index(lua_State *L)
{
    int i;
    hl_call *c = leg_call(L, &i);
    const char *k = luaL_checkstring(L, 2);
    hl_leg *leg = c->legs[i];
    if (!strcmp(k, "hangup"))
        lua_pushcfunction(L, leg_hangup);
    else if (!strcmp(k, "uri"))
        lua_pushstring(L, leg->remote_uri);
    else if (!strcmp(k, "index"))
        lua_pushinteger(L, i);
    else if (!strcmp(k, "state"))
        lua_pushstring(L, !leg_up(c, i) ? "ended" : leg->state == HL_LEG_ANSWERED ? "answered" : "ringing");
    else
        lua_pushnil(L);
    return 1;
}

/* ---- Lua: call:fax_send / call:fax_receive ---------------------------------------------- */

/* The result table: ok, pages, status, reason, remote (the far end's fax ident), and file
 * (fax_send) or path (fax_receive).  r NULL: the session did not end by itself (why). */
static void push_fax_result(hl_call *c, const hl_fax_result *r, const char *why)
{
    lua_State *co = c->co;
    lua_createtable(co, 0, 7);
    lua_pushboolean(co, r && r->ok);
    lua_setfield(co, -2, "ok");
    lua_pushinteger(co, r ? r->pages : 0);
    lua_setfield(co, -2, "pages");
    lua_pushinteger(co, r ? r->status : HL_FAX_STATUS_STOPPED);
    lua_setfield(co, -2, "status");
    lua_pushstring(co, r ? r->reason : why ? why : "stopped");
    lua_setfield(co, -2, "reason");
    lua_pushstring(co, r ? r->remote_ident : "");
    lua_setfield(co, -2, "remote");
    lua_pushstring(co, c->w.fax_rel);
    lua_setfield(co, -2, c->w.fax.send ? "file" : "path");
    if (r && r->sending && r->pages_in_file >= 0) {
        lua_pushinteger(co, r->pages_in_file);
        lua_setfield(co, -2, "pages_in_file");
    }
    CALL_INFO(c, "%s: fax %s %s: %s, %d page(s)", c->id, c->w.fax.send ? "send" : "receive",
              c->w.fax_rel, r ? r->reason : why ? why : "stopped", r ? r->pages : 0);
}

/* Common to both: which leg (opts.leg, default the caller), ident, ecm; starts and waits. */
static int fax_begin(lua_State *L, hl_call *c, const char *what)
{
    wait_state *w = &c->w;
    int i = 0;
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "leg");
        if (!lua_isnil(L, -1))
            i = leg_index_of(L, c, lua_gettop(L));
        lua_pop(L, 1);
    }
    if (c->originated && i == 0)
        return luaL_error(L, "%s: a job's call has no caller: say which leg (leg = call:dial(...))", what);
    const char *ident = opt_str(L, 2, "ident", HL_FAX_DEFAULT_IDENT);
    if (strlen(ident) >= sizeof w->fax.ident || strspn(ident, "0123456789+ ") != strlen(ident))
        return luaL_error(L, "%s: ident must be up to 20 digits, '+' and spaces", what);
    snprintf(w->fax.ident, sizeof w->fax.ident, "%s", ident);
    w->fax.no_ecm = !opt_bool(L, 2, "ecm", true);
    w->fax.calling_party = opt_bool(L, 2, "calling", w->fax.send);
    w->fax.max_ms = c->env->cfg->fax_max_ms;
    hl_leg *leg = c->legs[i];
    if (!leg_up(c, i) || !leg->ops->fax_start || leg->ops->fax_start(leg, &w->fax) != 0) {
        lua_createtable(L, 0, 5);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "ok");
        lua_pushinteger(L, 0);
        lua_setfield(L, -2, "pages");
        lua_pushinteger(L, HL_FAX_STATUS_STOPPED);
        lua_setfield(L, -2, "status");
        lua_pushstring(L, leg_up(c, i) ? "cannot start (see the engine log)" : "leg ended");
        lua_setfield(L, -2, "reason");
        lua_pushstring(L, w->fax_rel);
        lua_setfield(L, -2, w->fax.send ? "file" : "path");
        w->kind = W_NONE;
        return 1;
    }
    w->kind = W_FAX;
    w->leg = i;
    hl_timer_start(c->env->timers, &c->t_wait, (uint64_t)w->fax.max_ms + FAX_GRACE_MS, wait_timer, c);
    return lua_yield(L, 0);
}

/* call:fax_send{file="doc-1.tif" [, leg=, ident=, ecm=, calling=]}: file is under fax_dir. */
static int l_fax_send(lua_State *L)
{
    hl_call *c = need_caller(L, "fax_send");
    luaL_checktype(L, 2, LUA_TTABLE);
    wait_state *w = &c->w;
    memset(w, 0, sizeof *w);
    const char *rel = opt_str(L, 2, "file", NULL);
    if (!rel || !rel_path_valid(rel))
        return luaL_error(L, "fax_send: file '%s' is not a valid name in the documents folder "
                             "(letters, digits, _ - . /, no '..')", rel ? rel : "(missing)");
    w->fax.send = true;
    snprintf(w->fax_rel, sizeof w->fax_rel, "%s", rel);
    if ((size_t)snprintf(w->fax.path, sizeof w->fax.path, "%s/%s", c->env->cfg->fax_dir, rel)
        >= sizeof w->fax.path)
        return luaL_error(L, "fax_send: file name too long");
    return fax_begin(L, c, "fax_send");
}

/* call:fax_receive{path="fax/in-1" [, leg=, ident=, ecm=, calling=]}: under the recordings
 * folder, ".tif" added when missing. */
static int l_fax_receive(lua_State *L)
{
    hl_call *c = need_caller(L, "fax_receive");
    luaL_checktype(L, 2, LUA_TTABLE);
    wait_state *w = &c->w;
    memset(w, 0, sizeof *w);
    const char *rel = opt_str(L, 2, "path", NULL);
    if (!rel || !rel_path_valid(rel))
        return luaL_error(L, "fax_receive: path '%s' is not a valid relative name (letters, "
                             "digits, _ - . /, no '..')", rel ? rel : "(missing)");
    size_t n = strlen(rel);
    bool has_ext = n > 4 && (!strcmp(rel + n - 4, ".tif") || (n > 5 && !strcmp(rel + n - 5, ".tiff")));
    snprintf(w->fax_rel, sizeof w->fax_rel, "%s%s", rel, has_ext ? "" : ".tif");
    snprintf(w->fax.path, sizeof w->fax.path, "%s/%s",
             c->env->recordings_dir ? c->env->recordings_dir : ".", w->fax_rel);
    return fax_begin(L, c, "fax_receive");
}

/* ---- Lua: hl.store.query -------------------------------------------------------------- */

static void push_json(lua_State *L, json_t *v, int depth)
{
    if (depth > 8 || !lua_checkstack(L, 4)) {
        lua_pushnil(L);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, json_integer_value(v)); break;
    case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(v), 0);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            push_json(L, e, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            push_json(L, e, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    default: lua_pushnil(L); break;
    }
}

static void store_deliver(hl_call *c, store_req *r, json_t *rows, const char *err)
{
    for (store_req **pp = &c->store_reqs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    c->store_pending--;
    if (r->gen == c->co_gen && c->w.kind == W_STORE) {
        if (rows && r->want_id) {
            json_t *id = json_object_get(json_array_get(rows, 0), "id");
            lua_pushinteger(c->co, json_is_integer(id) ? (lua_Integer)json_integer_value(id) : 0);
            complete(c, 1);
        } else if (rows) {
            push_json(c->co, rows, 0);
            complete(c, 1);
        } else {
            lua_pushnil(c->co);
            lua_pushstring(c->co, err ? err : "store error");
            complete(c, 2);
        }
    }
    try_end(c);
}

static void store_cb(void *arg, json_t *rows, const char *err)
{
    store_req *r = arg;
    hl_call *c = r->c;
    if (c) {
        enter(c);
        store_deliver(c, r, rows, err);
        free(r);
        leave(c);
        return;
    }
    free(r);
}

static void store_sim_timer(hl_timer *t)
{
    store_req *r = t->data;
    hl_call *c = r->c;
    json_t *rows = r->rows;
    if (c) {
        enter(c);
        store_deliver(c, r, rows, r->err);
        free(r);
        json_decref(rows);
        leave(c);
        return;
    }
    json_decref(rows);
    free(r);
}

/* Statements a script may run: plain DML and queries, never schema or connection changes. */
static bool sql_allowed(const char *sql)
{
    static const char *const ok[] = { "select", "insert", "update", "delete", "with", "replace", NULL };
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    for (int i = 0; ok[i]; i++)
        if (!strncasecmp(sql, ok[i], strlen(ok[i])))
            return !strcasestr(sql, "sqlite_") && !strcasestr(sql, "pragma") && !strcasestr(sql, "attach");
    return false;
}

static int store_submit(lua_State *L, hl_call *c, const char *sql, json_t *params, bool want_id);

static int l_store_query(lua_State *L)
{
    hl_call *c = *(hl_call **)lua_getextraspace(L);
    if (!c || L != c->co)
        return luaL_error(L, "store.query: only from a call's own script (not at load time or in a coroutine)");
    const char *sql = luaL_checkstring(L, 1);
    if (!sql_allowed(sql))
        return luaL_error(L, "store.query: only SELECT, INSERT, UPDATE, DELETE, WITH and REPLACE "
                             "statements are allowed");
    if (!c->env->store)
        return luaL_error(L, "store.query: this engine has no store");
    json_t *params = json_array();
    for (int i = 2; i <= lua_gettop(L); i++) {
        switch (lua_type(L, i)) {
        case LUA_TNUMBER:
            json_array_append_new(params, lua_isinteger(L, i) ? json_integer(lua_tointeger(L, i))
                                                              : json_real(lua_tonumber(L, i)));
            break;
        case LUA_TSTRING: json_array_append_new(params, json_string(lua_tostring(L, i))); break;
        case LUA_TBOOLEAN: json_array_append_new(params, json_integer(lua_toboolean(L, i))); break;
        case LUA_TNIL: json_array_append_new(params, json_null()); break;
        default:
            json_decref(params);
            return luaL_error(L, "store.query: parameter %d must be a number, string, boolean or nil", i - 1);
        }
    }
    return store_submit(L, c, sql, params, false);
}

/* Queues sql on the store for the call's script and yields; takes params. */
static int store_submit(lua_State *L, hl_call *c, const char *sql, json_t *params, bool want_id)
{
    store_req *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(params);
        return luaL_error(L, "store: out of memory");
    }
    r->c = c;
    r->want_id = want_id;
    r->gen = c->co_gen;
    r->next = c->store_reqs;
    c->store_reqs = r;
    c->store_pending++;
    c->w.kind = W_STORE;
    /* a script's own SQL runs under the store's authorizer (store.h); the engine's (want_id:
     * hl.jobs.enqueue) writes a table scripts may not */
    if (c->env->clock->fake) {
        /* the simulator's store runs synchronously; the answer still comes on a later tick */
        r->rows = want_id ? hl_store_exec_sync(c->env->store, sql, params, r->err, sizeof r->err)
                          : hl_store_exec_script_sync(c->env->store, sql, params, r->err, sizeof r->err);
        hl_timer_start(c->env->timers, &r->timer, 0, store_sim_timer, r);
    } else if (want_id) {
        hl_store_exec(c->env->store, sql, params, store_cb, r);
    } else {
        hl_store_exec_script(c->env->store, sql, params, store_cb, r);
    }
    json_decref(params);
    return lua_yield(L, 0);
}

/* ---- outside waits (call_http.h): hl.http.request waits as a store query does ---------- */

hl_call_env *hl_call_script_env(lua_State *L, const char *what)
{
    hl_call *c = *(hl_call **)lua_getextraspace(L);
    if (!c || L != c->co)
        luaL_error(L, "%s: only from a call's own script (not at load time or in a coroutine)", what);
    return c->env;
}

hl_call_async *hl_call_async_begin(lua_State *L, const char *what)
{
    hl_call_script_env(L, what); /* raises unless the call's own script runs in L */
    hl_call *c = *(hl_call **)lua_getextraspace(L);
    store_req *r = calloc(1, sizeof *r);
    if (!r)
        luaL_error(L, "%s: out of memory", what);
    r->c = c;
    r->gen = c->co_gen;
    r->next = c->store_reqs;
    c->store_reqs = r;
    c->store_pending++;
    c->w.kind = W_STORE;
    return r;
}

void hl_call_async_done(hl_call_async *a, json_t *result, const char *err)
{
    store_cb(a, result, err);
}

/* ---- Lua: hl.jobs.enqueue ------------------------------------------------------------- */

/* A plain Lua value as JSON: strings, finite numbers, booleans, and tables (a sequence 1..n
 * is an array, else every key must be a string).  NULL with the reason in err. */
static json_t *lua_to_json(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *v = lua_tolstring(L, idx, &n);
        json_t *j = json_stringn(v, n);
        if (!j)
            snprintf(err, errlen, "a string is not valid UTF-8");
        return j;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer(lua_tointeger(L, idx));
        if (lua_tonumber(L, idx) != lua_tonumber(L, idx) || lua_tonumber(L, idx) * 0 != 0) {
            snprintf(err, errlen, "a number is not finite");
            return NULL;
        }
        return json_real(lua_tonumber(L, idx));
    case LUA_TTABLE:
        break;
    default:
        snprintf(err, errlen, "a %s cannot be stored (strings, numbers, booleans, tables)",
                 luaL_typename(L, idx));
        return NULL;
    }
    if (depth >= JOB_ARGS_DEPTH || !lua_checkstack(L, 4)) {
        snprintf(err, errlen, "tables nested deeper than %d", JOB_ARGS_DEPTH);
        return NULL;
    }
    if (luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
        lua_pop(L, 1);
        snprintf(err, errlen, "a read-only table (rules data): copy the values into a new table");
        return NULL;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), keys = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        keys++;
        lua_pop(L, 1);
    }
    bool array = n > 0 && keys == n;
    json_t *out = array ? json_array() : json_object();
    if (array) {
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            json_t *v = lua_to_json(L, -1, depth + 1, err, errlen);
            lua_pop(L, 1);
            if (!v) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, v);
        }
        return out;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        json_t *v = lua_type(L, -2) == LUA_TSTRING ? lua_to_json(L, -1, depth + 1, err, errlen) : NULL;
        if (!v) {
            if (lua_type(L, -2) != LUA_TSTRING)
                snprintf(err, errlen, "a table mixes list items and names (keys must be names)");
            lua_pop(L, 2);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, lua_tostring(L, -2), v);
        lua_pop(L, 1);
    }
    return out;
}

static bool job_kind_valid(const char *k)
{
    size_t n = strlen(k);
    return n > 0 && n <= 32 && strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* hl.jobs.enqueue(kind, args [, {max_attempts=, delay_ms=}]) -> id | nil, err.  The engine
 * runs job_<kind>(call, args, job) later as a call of its own (engine/app/jobs.c). */
static int l_jobs_enqueue(lua_State *L)
{
    hl_call *c = *(hl_call **)lua_getextraspace(L);
    if (!c || L != c->co)
        return luaL_error(L, "jobs.enqueue: only from a call's own script (not at load time or in a coroutine)");
    const char *kind = luaL_checkstring(L, 1);
    if (!job_kind_valid(kind))
        return luaL_error(L, "jobs.enqueue: kind '%s' must be 1-32 of a-z 0-9 _ (the engine runs job_<kind>)", kind);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    int max_attempts = opt_int(L, 3, "max_attempts", JOB_DEFAULT_ATTEMPTS, 1, JOB_MAX_ATTEMPTS, "jobs.enqueue");
    int delay_ms = opt_int(L, 3, "delay_ms", 0, 0, (int)JOB_MAX_DELAY_MS, "jobs.enqueue");
    char err[160] = "";
    json_t *args = lua_isnoneornil(L, 2) ? json_object() : lua_to_json(L, 2, 0, err, sizeof err);
    if (!args)
        return luaL_error(L, "jobs.enqueue: args: %s", err);
    char *text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(args);
    if (!text || strlen(text) > JOB_ARGS_MAX) {
        free(text);
        return luaL_error(L, "jobs.enqueue: args are over %d bytes as JSON", JOB_ARGS_MAX);
    }
    if (!c->env->store) {
        free(text);
        return luaL_error(L, "jobs.enqueue: this engine has no store");
    }
    double now = now_wall(c);
    /* issue 7 (wt-trunks): ?7 caller, on whose behalf the job's calls are placed */
    json_t *params = json_pack("[s,s,i,f,f,s,s]", kind, text, max_attempts, now + delay_ms / 1000.0, now,
                               c->id, dial_caller(c));
    free(text);
    CALL_INFO(c, "%s: job %s queued (policy %s)", c->id, kind, hl_policy_version(c->policy));
    return store_submit(L, c,
                        "INSERT INTO jobs(kind, args, state, attempts, max_attempts, next_at, created, "
                        "updated, source_call, caller) VALUES (?1, ?2, 'queued', 0, ?3, ?4, ?5, ?5, ?6, ?7) "
                        "RETURNING id",
                        params, true);
}

/* ---- registration ----------------------------------------------------------------------- */

static const luaL_Reg call_methods[] = {
    { "answer", l_answer }, { "ring", l_ring }, { "play", l_play }, { "collect", l_collect },
    { "record", l_record }, { "say_digits", l_say_digits }, { "say_number", l_say_number },
    { "say_amount", l_say_amount }, { "say_date", l_say_date }, { "sleep", l_sleep },
    { "dial", l_dial }, { "bridge", l_bridge }, { "_refer", l_refer }, { "hangup", l_hangup },
    { "on_hangup", l_on_hangup }, { "set_route", l_set_route }, { "_visit", l_visit },
    { "fax_send", l_fax_send }, { "fax_receive", l_fax_receive },
    { NULL, NULL },
};

void hl_call_lua_open(lua_State *L)
{
    luaL_newlib(L, call_methods);
    lua_setfield(L, LUA_REGISTRYINDEX, "hl.call.methods");
    luaL_newmetatable(L, "hl.call");
    lua_pushcfunction(L, call_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, call_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, call_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    luaL_newmetatable(L, "hl.leg");
    lua_pushcfunction(L, leg_index);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    lua_getglobal(L, "hl");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_store_query);
    lua_setfield(L, -2, "query");
    lua_setfield(L, -2, "store");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_jobs_enqueue);
    lua_setfield(L, -2, "enqueue");
    lua_setfield(L, -2, "jobs");
    lua_pop(L, 1);
    hl_call_http_open(L);
}
