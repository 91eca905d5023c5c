/* call.c — a call's state machine (call.h): its legs, its script coroutine and the phases
 * of a script's life (main, on_hangup handler, fallback, apology), the waits of the
 * primitives (call_priv.h: each waiting primitive is one prim_*.c behind hl_wait_ops), the
 * type-ahead buffer, and the end of the call.
 *
 * Control flow.  A primitive checks its arguments, starts the work through hl_leg_ops,
 * arms a timer where a timeout applies, registers its wait (call_wait) and yields.  Leg
 * events (hl_call_on_leg_event) and timers go to the wait's operations, which push the
 * results on the coroutine's stack and resume it (call_complete).  Events that arrive while
 * the script runs (a leg that reports from inside an op) are queued and handled after the
 * resume returns.
 *
 * Keys.  Every key of the caller, however it came (RFC 4733, SIP INFO, the simulator), is
 * written to the CDR's dtmf here, then offered to the wait (a collect, a barge-in, a
 * recording's stop key); a key no wait takes is kept for the next collect.  A sensitive
 * collect (a PIN, an ID number) starts a sensitive flow: until a wait for keys that is not
 * sensitive begins, every key but # is "x" in the CDR, and the keys then still typed ahead
 * are dropped rather than handed to that wait (issue 7: a PIN typed after "account locked"
 * reached the main menu and the CDR in clear).
 *
 * Ending.  When the caller hangs up, the script is dropped where it waits (its on_hangup
 * handler, if any, runs in a fresh coroutine); when the script returns, the remaining legs
 * are hung up.  Once no script runs, no outside wait is pending and every leg is down,
 * env->call_ended is called once — always as the last thing an entry point does, so the
 * owner may free the call from inside it.
 *
 * Engine-originated calls (jobs: hl_call_new_originate).  They have no caller: leg 0 is an
 * "origin" placeholder (origin_ops below) that is up until the call ends, never hangs up by
 * itself and carries no audio, so every rule that reads legs[0] as the caller stays true.
 * The script is job_<kind>(call, args, job); what it may use is the API rows' business
 * (call_api.c: HL_CTX_JOB); there is no fallback path and no on_hangup.  Its outcome (done,
 * or failed with a reason) is read by the owner in the on_end callback. */
#include "call/call_priv.h"
#include "acd/acd.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define HANDLER_MAX_MS 30000   /* on_hangup / fallback / apology must be done by then (no caller waits) */
#define FALLBACK_BUDGET_DIV 4  /* the fallback function runs on a quarter of the call's budgets */
#define SORRY_PROMPT "sorry"
#define ORIGIN_USER "engine"   /* call.caller of an engine-originated call */
#define DTMF_KEYS "0123456789*#ABCD"

static void resume_script(hl_call *c, int nargs);


/* ---- small helpers ------------------------------------------------------------------- */

double call_now_wall(hl_call *c) { return hl_clock_wall(c->env->clock); }
uint64_t call_now_ms(hl_call *c) { return hl_clock_now_ms(c->env->clock); }
static lua_State *policy_L(hl_call *c) { return hl_policy_lua(c->policy); }

bool call_leg_up(hl_call *c, int i)
{
    return i >= 0 && i < c->nlegs && !c->done[i] && c->legs[i]->state != HL_LEG_ENDED;
}

void call_enter(hl_call *c) { c->depth++; }

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
void call_leave(hl_call *c)
{
    if (--c->depth > 0 || !c->should_end || c->notified)
        return;
    c->notified = true;
    settle_outcome(c);
    call_finalize_cdrs(c);
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

int call_add_leg(hl_call *c, hl_leg *leg)
{
    if (c->nlegs >= MAX_LEGS)
        return -1;
    int i = c->nlegs++;
    leg->call = c;
    leg->index = i;
    c->legs[i] = leg;
    c->done[i] = false;
    hl_cdr *d = &c->cdrs[i];
    memset(d, 0, sizeof *d);
    snprintf(d->call_id, sizeof d->call_id, "%s", c->id);
    d->leg_index = i;
    return i;
}

/* An agent's talk on leg ends (either side, or the engine): the ACD's wrap-up begins. */
static void agent_talk_over(hl_call *c, hl_leg *leg)
{
    if (!leg->acd_talking || !c->env->acd)
        return;
    leg->acd_talking = false;
    hl_acd_agent_talk_ended(c->env->acd, leg->agent);
}

void call_hangup_leg(hl_call *c, int i, int code, const char *cause)
{
    if (i >= c->nlegs || c->done[i])
        return;
    hl_leg *leg = c->legs[i];
    c->done[i] = true;
    agent_talk_over(c, leg);
    if (leg->state != HL_LEG_ENDED && leg->ops->hangup)
        leg->ops->hangup(leg, code, cause);
    if (!leg->hangup_side[0]) {
        snprintf(leg->hangup_side, sizeof leg->hangup_side, "engine");
        snprintf(leg->hangup_cause, sizeof leg->hangup_cause, "%s", cause);
    }
    if (!leg->end)
        leg->end = call_now_wall(c);
}

void call_hangup_all(hl_call *c, const char *cause)
{
    for (int i = c->nlegs - 1; i >= 0; i--)
        call_hangup_leg(c, i, 0, cause);
}

/* ---- type-ahead ------------------------------------------------------------------------ */

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

char call_pop_key(hl_call *c)
{
    char k = c->keys[0];
    c->last_key_pos = c->keypos[0];
    memmove(c->keys, c->keys + 1, --c->nkeys);
    memmove(c->keypos, c->keypos + 1, c->nkeys * sizeof c->keypos[0]);
    return k;
}

void call_push_key(lua_State *L, char k)
{
    char s[2] = { k, 0 };
    lua_pushstring(L, s);
}

void call_mask_typeahead(hl_call *c)
{
    char *dtmf = c->cdrs[0].dtmf;
    int len = (int)strlen(dtmf);
    for (int i = 0; i < c->nkeys; i++)
        if (c->keypos[i] >= 0 && c->keypos[i] < len && dtmf[c->keypos[i]] != '#')
            dtmf[c->keypos[i]] = 'x';
}

void call_input_begins(hl_call *c, bool sensitive)
{
    if (sensitive || !c->sensitive_flow) {
        c->sensitive_flow |= sensitive;
        return;
    }
    if (c->nkeys)
        hl_info("call", "%s: %d key(s) typed ahead in a sensitive flow dropped", c->id, c->nkeys);
    c->nkeys = 0;
    c->sensitive_flow = false;
}

void call_mark_awaiting(hl_call *c) { c->input_epoch++; }

/* ---- waits ----------------------------------------------------------------------------- */

void call_wait(hl_call *c, const hl_wait_ops *ops, int64_t ms)
{
    c->w.ops = ops;
    if (ms >= 0)
        hl_timer_start(c->env->timers, &c->t_wait, (uint64_t)ms, call_wait_timer, c);
}

void call_wait_timer(hl_timer *t)
{
    hl_call *c = t->data;
    call_enter(c);
    if (c->w.ops && c->w.ops->on_timer)
        c->w.ops->on_timer(c);
    call_leave(c);
}

/* Stops whatever the script waits for (the script itself is being dropped). */
static void cancel_wait(hl_call *c)
{
    stop_timers(c);
    if (c->w.ops && c->w.ops->cancel)
        c->w.ops->cancel(c);
    c->w.ops = NULL;
}

void call_complete(hl_call *c, int nres)
{
    c->w.ops = NULL;
    stop_timers(c);
    resume_script(c, nres);
}

/* ---- coroutines ---------------------------------------------------------------------- */

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

/* ---- the ends of a script -------------------------------------------------------------- */

static void handler_expired(hl_timer *t);

/* The apology: the wait of no primitive, the call's own last word. */
static bool sorry_event(hl_call *c, int leg, const hl_leg_event *ev)
{
    if (ev->type != HL_LEG_EV_PLAY_DONE)
        return true;
    c->w.ops = NULL;
    hl_timer_stop(c->env->timers, &c->t_handler);
    call_hangup_all(c, "fallback");
    c->phase = PH_DONE;
    call_try_end(c);
    return true;
}

static void sorry_cancel(hl_call *c)
{
    if (call_leg_up(c, 0) && c->legs[0]->ops->play_stop)
        c->legs[0]->ops->play_stop(c->legs[0]);
}

static const hl_wait_ops sorry_ops = { .name = "sorry", .on_event = sorry_event, .cancel = sorry_cancel };

static void play_sorry(hl_call *c)
{
    c->phase = PH_SORRY;
    hl_leg *l0 = c->legs[0];
    if (!c->cdrs[0].route[0])
        snprintf(c->cdrs[0].route, sizeof c->cdrs[0].route, "fallback");
    const char *items[1] = { SORRY_PROMPT };
    if (call_leg_up(c, 0) && l0->ops->play && l0->ops->play(l0, items, 1) == 0) {
        hl_cdr_append(c->cdrs[0].prompts, sizeof c->cdrs[0].prompts, SORRY_PROMPT);
        c->w.ops = &sorry_ops;
        hl_timer_start(c->env->timers, &c->t_handler, HANDLER_MAX_MS, handler_expired, c);
        return;
    }
    call_hangup_all(c, "fallback");
    c->phase = PH_DONE;
}

static void start_fallback(hl_call *c, const char *msg)
{
    c->fallback = true;
    if (!call_leg_up(c, 0) || c->originated) { /* a job has nobody to apologise to */
        call_hangup_all(c, "fallback");
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
    call_push_ud(c, c->co);
    lua_pushstring(c->co, msg);
    fresh_run(c, FALLBACK_BUDGET_DIV);
    c->phase = PH_FALLBACK;
    hl_timer_start(c->env->timers, &c->t_handler, HANDLER_MAX_MS, handler_expired, c);
    resume_script(c, 2);
}

static void start_handler(hl_call *c)
{
    lua_State *L = policy_L(c);
    call_push_ud(c, L);
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
    call_push_ud(c, c->co);
    fresh_run(c, 1);
    c->phase = PH_HANDLER;
    hl_timer_start(c->env->timers, &c->t_handler, HANDLER_MAX_MS, handler_expired, c);
    resume_script(c, 1);
}

static void handler_expired(hl_timer *t)
{
    hl_call *c = t->data;
    call_enter(c);
    hl_warn("call", "%s: %s still running after %d ms, stopped", c->id,
            c->phase == PH_HANDLER ? "on_hangup handler" : "fallback", HANDLER_MAX_MS);
    cancel_wait(c);
    drop_thread(c);
    call_hangup_all(c, "fallback");
    c->phase = PH_DONE;
    call_try_end(c);
    call_leave(c);
}

static void script_returned(hl_call *c)
{
    drop_thread(c);
    hl_timer_stop(c->env->timers, &c->t_handler);
    if (c->phase != PH_HANDLER)
        call_hangup_all(c, c->phase == PH_FALLBACK ? "fallback" : "script");
    c->phase = PH_DONE;
    call_try_end(c);
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
        call_hangup_all(c, "fallback");
        c->phase = PH_DONE;
    }
    call_try_end(c);
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
    if (st == LUA_YIELD && !c->run.killed && c->w.ops) {
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

void call_try_end(hl_call *c)
{
    if (c->phase != PH_DONE || c->store_pending > 0)
        return;
    call_hangup_all(c, "script");
    c->should_end = true;
}

/* ---- events -------------------------------------------------------------------------- */

/* Offers an event to the wait; true when it took it. */
static bool to_wait(hl_call *c, int i, const hl_leg_event *ev)
{
    return c->w.ops && c->w.ops->on_event && c->w.ops->on_event(c, i, ev);
}

/* A key of the caller: into the CDR, then to the wait, else typed ahead. */
static void on_key(hl_call *c, const hl_leg_event *ev)
{
    hl_cdr *d = &c->cdrs[0];
    size_t n = strlen(d->dtmf);
    c->last_key_pos = -1;
    if (n + 1 < sizeof d->dtmf) {
        d->dtmf[n] = c->sensitive_flow && ev->digit != '#' ? 'x' : ev->digit, d->dtmf[n + 1] = 0;
        c->last_key_pos = (int)n;
    }
    if (c->phase == PH_SORRY || c->phase == PH_DONE)
        return;
    if (call_late_terminator(c, ev->digit))
        return; /* the terminator of a collect that had already filled up */
    if (!to_wait(c, 0, ev))
        buffer_key(c, ev->digit);
}

static void on_leg_hangup(hl_call *c, int i, const hl_leg_event *ev)
{
    hl_leg *leg = c->legs[i];
    if (c->done[i])
        return;
    c->done[i] = true;
    if (!leg->end)
        leg->end = call_now_wall(c);
    if (!leg->hangup_side[0]) {
        snprintf(leg->hangup_side, sizeof leg->hangup_side, "%s", i == 0 ? "caller" : "callee");
        snprintf(leg->hangup_cause, sizeof leg->hangup_cause, "%s", ev->reason ? ev->reason : "bye");
    }
    agent_talk_over(c, leg);
    if (i != 0) {
        to_wait(c, i, ev);
    } else {
        c->caller_gone = true;
        CALL_INFO(c, "%s: caller hung up (%s)", c->id, leg->hangup_cause);
        if (c->phase == PH_MAIN) {
            cancel_wait(c);
            drop_thread(c);
            call_hangup_all(c, "caller-hangup");
            start_handler(c);
        } else if (c->phase != PH_HANDLER) {
            cancel_wait(c);
            drop_thread(c);
            hl_timer_stop(c->env->timers, &c->t_handler);
            call_hangup_all(c, "caller-hangup");
            c->phase = PH_DONE;
        }
    }
    call_try_end(c);
}

static void dispatch(hl_call *c, int i, const hl_leg_event *ev)
{
    if (i < 0 || i >= c->nlegs)
        return;
    hl_leg *leg = c->legs[i];
    switch (ev->type) {
    case HL_LEG_EV_ANSWERED:
        if (!leg->answer)
            leg->answer = call_now_wall(c);
        to_wait(c, i, ev);
        break;
    case HL_LEG_EV_FAILED:
    case HL_LEG_EV_FAX_DONE:
        to_wait(c, i, ev);
        break;
    case HL_LEG_EV_DTMF:
        if (i == 0 && ev->digit && strchr(DTMF_KEYS, ev->digit))
            on_key(c, ev);
        else if (i != 0 && ev->digit && strchr(DTMF_KEYS, ev->digit))
            to_wait(c, i, ev);        /* another party's keys: feature codes (call:bridge) */
        break;
    case HL_LEG_EV_PLAY_DONE:
        if (i == 0 && !ev->interrupted) /* a stop we asked for: already handled */
            to_wait(c, i, ev);
        break;
    case HL_LEG_EV_RECORD_DONE:
    case HL_LEG_EV_TRANSFERRED:
        if (i == 0)
            to_wait(c, i, ev);
        break;
    case HL_LEG_EV_HOLD:
    case HL_LEG_EV_RESUME:
        CALL_INFO(c, "%s: leg %d %s", c->id, i, ev->type == HL_LEG_EV_HOLD ? "on hold" : "off hold");
        if (leg->acd_talking && c->env->acd)
            hl_acd_agent_hold(c->env->acd, leg->agent, ev->type == HL_LEG_EV_HOLD);
        to_wait(c, i, ev);
        break;
    case HL_LEG_EV_REFER:
        /* A transfer asked by the phone: a wait that takes it (call:bridge) answers it;
         * otherwise it is declined, so the phone is not left waiting for an outcome. */
        if (c->w.ops && c->w.ops->takes_refer && to_wait(c, i, ev))
            break;
        CALL_INFO(c, "%s: leg %d asks to transfer to %s: declined, nothing takes it", c->id, i,
                  ev->uri ? ev->uri : "-");
        if (leg->ops->refer_notify)
            leg->ops->refer_notify(leg, 603);
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
    call_enter(c);
    dispatch(c, leg->index, ev);
    call_leave(c);
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
    call_add_leg(c, caller_leg);
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
bool hl_call_dial_refused(const hl_call *c) { return c->dial_refused; }

bool hl_call_route_changed(hl_call *c)
{
    bool changed = c->route_changed;
    c->route_changed = false;
    return changed;
}

const char *call_dial_caller(hl_call *c)
{
    if (c->originated) {
        const char *queued_by = c->job ? json_string_value(json_object_get(c->job, "caller")) : NULL;
        return queued_by ? queued_by : "";
    }
    return c->legs[0]->from_user;
}

int hl_call_outcome(const hl_call *c, const char **error)
{
    if (error)
        *error = c->outcome < 0 ? c->outcome_err : "";
    return c->outcome;
}

/* Pushes job_<kind> (or nil) on L; for an agent's own call, cfg->agent_entry (or nil);
 * for any other call, main. */
static void push_entry(hl_call *c, lua_State *L)
{
    if (!c->originated && !c->legs[0]->agent[0]) {
        hl_policy_push_main(c->policy, L);
        return;
    }
    if (!c->originated)
        snprintf(c->entry_fn, sizeof c->entry_fn, "%s", c->env->cfg->agent_entry);
    lua_getglobal(L, c->entry_fn);
}


void hl_call_start(hl_call *c)
{
    call_enter(c);
    hl_policy *p = c->env->current_policy ? c->env->current_policy(c->env) : NULL;
    if (!p) {
        hl_error("call", "%s: no policy loaded; refusing the call", c->id);
        call_hangup_leg(c, 0, 503, "no-policy");
        c->phase = PH_DONE;
        call_try_end(c);
        call_leave(c);
        return;
    }
    hl_policy_ref(p);
    c->policy = p;
    snprintf(c->cdrs[0].script_version, sizeof c->cdrs[0].script_version, "%s", hl_policy_version(p));
    lua_State *L = policy_L(c);
    call_push_new_ud(c, L);
    c->ud_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    new_thread(c);
    push_entry(c, c->co);
    if (!lua_isfunction(c->co, -1)) { /* a job's or agent_entry: main is checked at build */
        char why[160];
        snprintf(why, sizeof why, "policy %s has no function %s(call%s)", hl_policy_version(p),
                 c->entry_fn, c->originated ? ", args, job" : "");
        if (c->env->clock->fake)
            hl_debug("call", "%s: %s", c->id, why);
        else
            hl_warn("call", "%s: %s", c->id, why);
        fail_outcome(c, why);
        drop_thread(c);
        call_hangup_all(c, "no-function");
        c->phase = PH_DONE;
        call_try_end(c);
        call_leave(c);
        return;
    }
    call_push_ud(c, c->co);
    int nargs = 1;
    if (c->originated) {
        call_push_json(c->co, c->args, 0);
        if (c->job)
            call_push_json(c->co, c->job, 0);
        else
            lua_pushnil(c->co);
        nargs = 3;
    }
    fresh_run(c, 1);
    c->phase = PH_MAIN;
    CALL_INFO(c, "%s from %s to %s on policy %s", c->id, c->legs[0]->from_user, c->legs[0]->to_user,
            hl_policy_version(p));
    resume_script(c, nargs);
    call_leave(c);
}

void hl_call_terminate(hl_call *c, const char *reason)
{
    if (c->notified)
        return;
    call_enter(c);
    char why[80];
    snprintf(why, sizeof why, "terminated: %s", reason ? reason : "terminated");
    fail_outcome(c, why);
    cancel_wait(c);
    drop_thread(c);
    call_abandon_outside_waits(c);
    hl_timer_stop(c->env->timers, &c->t_handler);
    call_hangup_all(c, reason ? reason : "terminated");
    c->phase = PH_DONE;
    call_try_end(c);
    call_leave(c);
}

void hl_call_free(hl_call *c)
{
    if (!c)
        return;
    stop_timers(c);
    hl_timer_stop(c->env->timers, &c->t_handler);
    call_forget_outside_waits(c);
    if (c->policy) {
        lua_State *L = policy_L(c);
        if (c->ud_ref != LUA_NOREF) {
            call_push_ud(c, L);
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
    return c->w.ops && c->w.ops->awaits_input && c->w.ops->awaits_input(c);
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
                     c->policy ? hl_policy_version(c->policy) : "", "waiting", c->w.ops ? c->w.ops->name : "none",
                     "legs", c->nlegs);
}
