/* prim_collect.c — call:collect: keys from the caller (min, max, timeout to the first key,
 * inter-digit timeout, terminator), after an optional prompt with barge-in; keys typed
 * ahead are used first.  A sensitive collect masks its digits, and the keys left typed
 * ahead when it ends, in the CDR; it starts a sensitive flow (call.c, "Keys").  A collect
 * that fills up owns the terminator typed right after it (callers press # as asked). */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <string.h>

#define MAX_DIGITS 64           /* the buffer; the API row's max bounds what a script asks */

typedef struct collect_state {
    bool  barge, prompt_on, sensitive;
    int   min, max, timeout, interdigit;
    char  term;
    char  digits[MAX_DIGITS + 1];
    int   ndigits;
    const char *reason;
} collect_state;
WAIT_STATE_FITS(collect_state);

static collect_state *st(const hl_call *c) { return WAIT_STATE((hl_call *)c, collect_state); }

static void push_result(hl_call *c, lua_State *L)
{
    if (st(c)->sensitive)
        call_mask_typeahead(c);
    lua_pushlstring(L, st(c)->digits, st(c)->ndigits);
    lua_pushstring(L, st(c)->reason);
}

/* Feeds one key; true when the collect is finished (reason set). */
static bool feed(hl_call *c, char k)
{
    collect_state *w = st(c);
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
        c->late_term_until = call_now_ms(c) + (uint64_t)w->interdigit;
        return true;
    }
    return false;
}

bool call_late_terminator(hl_call *c, char k)
{
    char late = c->late_term;
    c->late_term = 0;
    return late && k == late && call_now_ms(c) <= c->late_term_until;
}

static void arm(hl_call *c)
{
    collect_state *w = st(c);
    if (w->ndigits == 0)
        hl_timer_start(c->env->timers, &c->t_wait, w->timeout, call_wait_timer, c);
    else {
        hl_timer_stop(c->env->timers, &c->t_wait);
        hl_timer_start(c->env->timers, &c->t_digit, w->interdigit, call_wait_timer, c);
    }
}

/* Drains the type-ahead buffer into the collect; true when that finished it. */
static bool drain(hl_call *c)
{
    while (c->nkeys) {
        if (feed(c, call_pop_key(c))) {
            /* a full entry's terminator typed ahead with it belongs to it */
            if (c->late_term && c->nkeys && c->keys[0] == c->late_term) {
                call_pop_key(c);
                c->late_term = 0;
            }
            return true;
        }
    }
    return false;
}

/* ---- the wait ---------------------------------------------------------------------------- */

static void collect_timer(hl_call *c)
{
    collect_state *w = st(c);
    w->reason = w->ndigits == 0 ? "timeout" : w->ndigits >= w->min ? "interdigit" : "short";
    push_result(c, c->co);
    call_complete(c, 2);
}

static bool on_key(hl_call *c, char k)
{
    collect_state *w = st(c);
    hl_leg *l0 = c->legs[0];
    if (w->prompt_on) {
        if (!w->barge)
            return false; /* typed ahead: the prompt plays on */
        if (l0->ops->play_stop)
            l0->ops->play_stop(l0);
        w->prompt_on = false;
    }
    if (feed(c, k)) {
        push_result(c, c->co);
        call_complete(c, 2);
    } else {
        arm(c);
    }
    return true;
}

static void prompt_done(hl_call *c)
{
    collect_state *w = st(c);
    if (!w->prompt_on)
        return;
    w->prompt_on = false;
    if (drain(c)) {
        push_result(c, c->co);
        call_complete(c, 2);
    } else {
        call_mark_awaiting(c);
        arm(c);
    }
}

static bool collect_event(hl_call *c, int leg, const hl_leg_event *ev)
{
    if (ev->type == HL_LEG_EV_DTMF)
        return on_key(c, ev->digit);
    if (ev->type == HL_LEG_EV_PLAY_DONE)
        prompt_done(c);
    return true;
}

static void collect_cancel(hl_call *c)
{
    if (st(c)->prompt_on && call_leg_up(c, 0) && c->legs[0]->ops->play_stop)
        c->legs[0]->ops->play_stop(c->legs[0]);
}

static bool collect_awaits_input(const hl_call *c) { return !st(c)->prompt_on || st(c)->barge; }

static const hl_wait_ops collect_ops = {
    .name = "collect", .on_event = collect_event, .on_timer = collect_timer, .cancel = collect_cancel,
    .awaits_input = collect_awaits_input,
};

/* ---- call:collect{...} ------------------------------------------------------------------- */

enum { O_MIN, O_MAX, O_TIMEOUT, O_INTERDIGIT, O_TERMINATOR, O_PROMPT, O_BARGE_IN, O_SENSITIVE };

int prim_collect(lua_State *L)
{
    hl_call *c = call_arg(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:collect", o);
    collect_state *w = st(c);
    memset(w, 0, sizeof *w);
    w->max = (int)o[O_MAX].i;
    w->min = (int)o[O_MIN].i;
    if (w->min > w->max)
        return luaL_error(L, "collect: min must be a whole number from 0 to %d", w->max);
    w->timeout = (int)o[O_TIMEOUT].i;
    w->interdigit = (int)o[O_INTERDIGIT].i;
    const char *term = o[O_TERMINATOR].s;
    if (strlen(term) > 1 || (term[0] && !strchr("0123456789*#", term[0])))
        return luaL_error(L, "collect: terminator must be one key or \"\"");
    w->term = term[0];
    w->sensitive = o[O_SENSITIVE].b;
    w->barge = o[O_BARGE_IN].b;
    c->nitems = 0;
    call_input_begins(c, w->sensitive);
    if (o[O_PROMPT].set) {
        lua_getfield(L, 2, "prompt");
        call_parse_items(L, c, lua_gettop(L), "collect");
        lua_pop(L, 1);
    }
    if (drain(c)) {
        push_result(c, L);
        return 2;
    }
    call_wait(c, &collect_ops, CALL_NO_TIMER);
    if (w->ndigits == 0 && c->nitems && call_start_play(c) == 0) {
        w->prompt_on = true;
        if (w->barge)
            call_mark_awaiting(c);
    } else {
        call_mark_awaiting(c);
        arm(c);
    }
    return lua_yield(L, 0);
}
