/* acd.c — the automatic call distributor (see acd.h): agents' states with their guard timers,
 * queues of waiting callers in arrival order, the event-driven dispatch, the event stream and
 * the decision log.
 *
 * Re-entrancy.  Every input runs between enter() and settle().  Inside, an input only changes
 * states and queues its events; nothing calls out.  The outermost settle() then delivers the
 * queued events, runs dispatch steps (the only call-outs besides the sink: the strategy and
 * on_offer), and repeats both until neither has anything left; only then are the waiters that
 * left and the agents that were removed freed.  An input that arrives from a call-out (a
 * waiter reporting a miss from on_offer, a sink logging an agent out) is nested: it changes
 * states and returns, and the outer settle() picks up its events and dispatch.  So no pointer
 * held here is freed under it, and the dispatch never runs inside itself.
 *
 * Dispatch.  A step takes, over the queues still defined, the waiter who has waited longest
 * among those not being offered, not passed over in this round, and with a candidate (a ready
 * agent that serves the queue and has not missed this caller during this wait); asks the
 * strategy; reserves the agents it chose; calls on_offer.  A waiter the strategy passes over
 * (0, or an error) waits for the next input: each input, and each agent becoming ready, starts
 * a new round.  Within a queue the line keeps arrival order, so a caller whose offer was
 * missed is still at its place: the head.
 *
 * Guards.  Reserved and ringing agents always have a guard timer armed; when it fires the
 * offer counts as missed (reason "reserve timeout" / "ring timeout"): the call lost track of
 * the phone, and a phone that never reports must not be offered for ever.  Wrap-up ends by its
 * own timer.
 *
 * The types are in acd_int.h; the JSON views and the invariant check in acd_view.c. */
#include "acd/acd_int.h"
#include "core/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const acd_state_names[HL_AGENT_STATES] = {
    "logged-out", "ready", "reserved", "ringing", "talking", "on-hold", "wrap-up", "not-ready",
};

const char *hl_agent_state_name(hl_agent_state s)
{
    return s >= 0 && s < HL_AGENT_STATES ? acd_state_names[s] : "?";
}

int hl_agent_state_parse(const char *name)
{
    for (int i = 0; name && i < HL_AGENT_STATES; i++)
        if (!strcmp(name, acd_state_names[i]))
            return i;
    return -1;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort(); /* out of memory in the ACD: nothing sane to do */
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

/* Bytes that are not valid UTF-8 become '?' (events and views are JSON, which refuses them). */
static void make_utf8(char *s)
{
    json_t *probe = json_string(s);
    if (probe) {
        json_decref(probe);
        return;
    }
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            *s = '?';
}

static void copy_text(char *out, size_t size, const char *s)
{
    snprintf(out, size, "%s", s ? s : "");
    make_utf8(out);
}

static char *text_dup(const char *s)
{
    char *p = xstrdup(s);
    make_utf8(p);
    return p;
}

static void grow(void **arr, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return;
    int cap2 = *cap ? *cap * 2 : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *p = realloc(*arr, (size_t)cap2 * size);
    if (!p)
        abort();
    *arr = p;
    *cap = cap2;
}

/* Takes p out of an array of n pointers, keeping the order of the others. */
static void drop_ptr(void **arr, int *n, const void *p)
{
    for (int i = 0; i < *n; i++)
        if (arr[i] == p) {
            memmove(&arr[i], &arr[i + 1], (size_t)(*n - i - 1) * sizeof *arr);
            (*n)--;
            return;
        }
}

static uint64_t now_ms(hl_acd *a) { return hl_clock_now_ms(a->clock); }
static double wall(hl_acd *a) { return hl_clock_wall(a->clock); }

/* ---- the decision log and the events ---- */

static void decide(hl_acd *a, const char *queue, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void decide(hl_acd *a, const char *queue, const char *fmt, ...)
{
    char text[ACD_DECISION_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    hl_debug("acd", "%s: %s", queue && *queue ? queue : "-", text);
    if (a->cfg.log_size <= 0)
        return;
    decision *d = &a->log[a->log_next];
    d->time = wall(a);
    copy_text(d->queue, sizeof d->queue, queue);
    copy_text(d->text, sizeof d->text, text); /* a cut may split a character */
    a->log_next = (a->log_next + 1) % a->cfg.log_size;
    if (a->nlog < a->cfg.log_size)
        a->nlog++;
}

static void emit(hl_acd *a, json_t *event)
{
    json_array_append_new(a->events, event);
}

/* Delivers the queued events in order (a sink may queue more: they follow); true if any. */
static bool deliver_events(hl_acd *a)
{
    size_t n = json_array_size(a->events);
    if (!n)
        return false;
    for (size_t i = 0; i < json_array_size(a->events); i++) {
        json_t *e = json_array_get(a->events, i);
        if (a->sink)
            a->sink(a->sink_arg, json_string_value(json_object_get(e, "kind")), e);
    }
    json_array_clear(a->events);
    return true;
}

int64_t acd_waited(const hl_acd_waiter *w)
{
    return (int64_t)(now_ms(w->acd) - w->joined_ms);
}

static json_t *queue_event(hl_acd_waiter *w, const char *word)
{
    return json_pack("{s:s, s:s, s:f, s:s, s:s, s:s, s:I}", "kind", "queue", "event", word,
                     "time", wall(w->acd), "queue", w->q->def.name, "call_id", w->call_id,
                     "caller", w->caller, "waited_ms", (json_int_t)acd_waited(w));
}

static void queue_event_agent(hl_acd_waiter *w, const char *word, agent *ag, const char *reason)
{
    json_t *e = queue_event(w, word);
    json_object_set_new(e, "agent", json_string(ag->number));
    json_object_set_new(e, "reason", json_string(reason));
    emit(w->acd, e);
}

/* ---- agents: lookup, skills, the one move every state change goes through ---- */

static agent *find_agent(hl_acd *a, const char *number)
{
    for (int i = 0; number && i < a->nagents; i++)
        if (!strcmp(a->agents[i]->number, number))
            return a->agents[i];
    return NULL;
}

/* The level of skill in "general:5 complaints" (1 without a level), 0 without the skill;
 * a queue without a skill takes every agent of its centre at level 1. */
static int skill_level(const char *skills, const char *skill)
{
    size_t n = strlen(skill);
    if (!n)
        return 1;
    for (const char *p = skills; *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len >= n && !strncmp(p, skill, n) && (len == n || p[n] == ':')) {
            int level = len == n ? 1 : atoi(p + n + 1);
            return level >= 1 && level <= 9 ? level : 1;
        }
        p += len;
    }
    return 0;
}

static bool serves(const agent *ag, const queue *q)
{
    return (!strcmp(q->def.centre, "*") || !strcmp(q->def.centre, ag->centre))
        && skill_level(ag->skills, q->def.skill) > 0;
}

const char *acd_agent_call_id(const agent *ag)
{
    return ag->offer ? ag->offer->call_id : ag->call_id ? ag->call_id : "";
}

const char *acd_agent_queue(const agent *ag)
{
    return ag->offer ? ag->offer->q->def.name : ag->queue;
}

/* Every state change: the state, its reason, the times, the event.  why says what moved it. */
static void move(agent *ag, hl_agent_state to, const char *reason, const char *by, const char *why)
{
    hl_acd *a = ag->acd;
    hl_agent_state prev = ag->state;
    ag->state = to;
    ag->since = wall(a);
    ag->since_ms = now_ms(a);
    bool keeps_reason = to == HL_AGENT_NOT_READY || to == HL_AGENT_LOGGED_OUT;
    snprintf(ag->reason, sizeof ag->reason, "%s", keeps_reason && reason ? reason : "");
    hl_timer_stop(a->timers, &ag->guard);
    if (to == HL_AGENT_READY) {
        ag->idle_since = ag->since;
        a->round++; /* waiters passed over may take it */
    }
    emit(a, json_pack("{s:s, s:f, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "agent",
                      "time", ag->since, "agent", ag->number, "state", acd_state_names[to],
                      "prev", acd_state_names[prev], "reason", reason && *reason ? reason : why,
                      "by", by ? by : "", "call_id", acd_agent_call_id(ag), "queue", acd_agent_queue(ag)));
}

static void arm_guard(agent *ag, uint64_t ms);

/* ---- offers: reserve, withdraw, miss ---- */

static void reserve(agent *ag, hl_acd_waiter *w)
{
    hl_acd *a = ag->acd;
    ag->offer = w;
    ag->last_offer_seq = ++a->offer_seq;
    w->offered[w->noffered++] = ag;
    move(ag, HL_AGENT_RESERVED, "", "acd", "offered");
    arm_guard(ag, (uint64_t)a->cfg.reserve_ms);
}

/* Takes ag out of its waiter's offer; the caller then moves it. */
static hl_acd_waiter *detach_offer(agent *ag)
{
    hl_acd_waiter *w = ag->offer;
    drop_ptr((void **)w->offered, &w->noffered, ag);
    ag->offer = NULL;
    if (!w->noffered)
        w->explain = w->acd->explain = true;
    return w;
}

/* The offer ends without a miss (caller gone, another phone won, the agent changed state). */
static void withdraw(agent *ag, const char *why)
{
    hl_acd_waiter *w = detach_offer(ag);
    queue_event_agent(w, "released", ag, why);
    decide(ag->acd, w->q->def.name, "released %s from call %s: %s", ag->number, w->call_id, why);
}

static void remember_miss(hl_acd_waiter *w, const char *number)
{
    grow((void **)&w->missed, &w->capmissed, w->nmissed + 1, sizeof *w->missed);
    snprintf(w->missed[w->nmissed++], sizeof *w->missed, "%s", number);
}

static bool has_missed(const hl_acd_waiter *w, const agent *ag)
{
    for (int i = 0; i < w->nmissed; i++)
        if (!strcmp(w->missed[i], ag->number))
            return true;
    return false;
}

/* The offer ends with a miss: the agent is not offered this caller again during this wait,
 * and after the queue's max_misses in a row it is set not ready. */
static void miss(agent *ag, const char *reason)
{
    hl_acd_waiter *w = detach_offer(ag);
    const hl_acd_queue_def *def = &w->q->def;
    remember_miss(w, ag->number);
    ag->misses++;
    queue_event_agent(w, "missed", ag, reason);
    if (def->max_misses > 0 && ag->misses >= def->max_misses) {
        decide(ag->acd, def->name, "%s missed call %s (%s): %d in a row, set not ready (%s)",
               ag->number, w->call_id, reason, ag->misses, def->miss_reason);
        move(ag, HL_AGENT_NOT_READY, def->miss_reason, "acd", reason);
    } else {
        decide(ag->acd, def->name, "%s missed call %s (%s): %d in a row; the caller keeps its place",
               ag->number, w->call_id, reason, ag->misses);
        move(ag, HL_AGENT_READY, "", "acd", reason);
    }
}

/* ---- wrap-up and the end of a talk ---- */

static queue *find_queue(hl_acd *a, const char *name, bool with_removed)
{
    for (int i = 0; name && i < a->nqueues; i++)
        if (!strcmp(a->queues[i]->def.name, name) && (with_removed || !a->queues[i]->removed))
            return a->queues[i];
    return NULL;
}

static void add_handle_time(hl_acd *a, const char *queue_name, int64_t ms)
{
    queue *q = find_queue(a, queue_name, true);
    if (!q)
        return;
    q->handle[q->handle_next] = ms;
    q->handle_next = (q->handle_next + 1) % HL_ACD_HANDLE_SAMPLES;
    if (q->nhandle < HL_ACD_HANDLE_SAMPLES)
        q->nhandle++;
}

/* The call is behind the agent: its handle time counts, the agent moves on. */
static void close_call(agent *ag, int64_t handle_ms, hl_agent_state to, const char *reason,
                       const char *by, const char *why)
{
    add_handle_time(ag->acd, ag->queue, handle_ms);
    free(ag->call_id);
    ag->call_id = NULL;
    ag->queue[0] = 0;
    move(ag, to, reason, by, why);
}

static void end_wrapup(agent *ag, hl_agent_state to, const char *reason, const char *by,
                       const char *why)
{
    int64_t wrapup = (int64_t)(now_ms(ag->acd) - ag->wrapup_start_ms);
    close_call(ag, ag->last_talk_ms + wrapup, to, reason, by, why);
}

static void unlink_agent(agent *ag)
{
    hl_acd *a = ag->acd;
    drop_ptr((void **)a->agents, &a->nagents, ag);
    hl_timer_stop(a->timers, &ag->guard);
    ag->next_gone = a->gone_agents;
    a->gone_agents = ag;
}

static void forget_if_removed(agent *ag)
{
    if (ag->forget && ag->state == HL_AGENT_LOGGED_OUT) {
        decide(ag->acd, "", "forgot %s: its account is gone", ag->number);
        unlink_agent(ag);
    }
}

static void talk_over(agent *ag)
{
    hl_acd *a = ag->acd;
    ag->last_talk_ms = (int64_t)(now_ms(a) - ag->talk_start_ms);
    ag->talk_ms += ag->last_talk_ms;
    if (ag->has_pending && ag->pending != HL_AGENT_READY) {
        ag->has_pending = false;
        decide(a, ag->queue, "%s's talk ended: %s as asked by %s", ag->number,
               acd_state_names[ag->pending], ag->pending_by);
        close_call(ag, ag->last_talk_ms, ag->pending, ag->pending_reason, ag->pending_by, "talk ended");
        forget_if_removed(ag);
        return;
    }
    ag->has_pending = false;
    if (ag->wrapup_ms <= 0) {
        close_call(ag, ag->last_talk_ms, HL_AGENT_READY, "", "acd", "talk ended, no wrap-up");
        return;
    }
    ag->wrapup_start_ms = now_ms(a);
    move(ag, HL_AGENT_WRAPUP, "", "acd", "talk ended");
    arm_guard(ag, (uint64_t)ag->wrapup_ms);
}

/* ---- entering and settling an input ---- */

static void enter(hl_acd *a)
{
    if (a->depth++ == 0)
        a->round++; /* every input asks passed-over waiters again */
}

static bool dispatch_step(hl_acd *a);
static void explain_waits(hl_acd *a);

static void free_waiter(hl_acd_waiter *w)
{
    free(w->caller);
    free(w->call_id);
    free(w->missed);
    free(w);
}

static void free_gone(hl_acd *a)
{
    while (a->gone_waiters) {
        hl_acd_waiter *w = a->gone_waiters;
        a->gone_waiters = w->next_gone;
        free_waiter(w);
    }
    while (a->gone_agents) {
        agent *ag = a->gone_agents;
        a->gone_agents = ag->next_gone;
        free(ag->call_id);
        free(ag);
    }
    for (int i = a->nqueues - 1; i >= 0; i--)
        if (a->queues[i]->removed && !a->queues[i]->nmembers) {
            queue *q = a->queues[i];
            drop_ptr((void **)a->queues, &a->nqueues, q);
            free(q);
        }
}

/* The end of an input: events out, dispatch, until both are quiet; then frees. */
static void settle(hl_acd *a)
{
    if (a->depth > 1) {
        a->depth--;
        return;
    }
    while (deliver_events(a) || dispatch_step(a))
        ;
    explain_waits(a);
    a->depth = 0;
    free_gone(a);
}

/* ---- guards ---- */

static void on_guard(hl_timer *t)
{
    agent *ag = t->data;
    hl_acd *a = ag->acd;
    enter(a);
    int64_t in_state = (int64_t)(now_ms(a) - ag->since_ms);
    const char *q = acd_agent_queue(ag);
    if (ag->state == HL_AGENT_RESERVED) {
        decide(a, q, "guard released %s: reserved %.1f s, the call never rang it", ag->number,
               in_state / 1000.0);
        miss(ag, "reserve timeout");
    } else if (ag->state == HL_AGENT_RINGING) {
        decide(a, q, "guard released %s: ringing %.1f s, no report", ag->number, in_state / 1000.0);
        miss(ag, "ring timeout");
    } else if (ag->state == HL_AGENT_WRAPUP) {
        end_wrapup(ag, HL_AGENT_READY, "", "acd", "wrap-up over");
    }
    settle(a);
}

static void arm_guard(agent *ag, uint64_t ms)
{
    hl_timer_start(ag->acd->timers, &ag->guard, ms, on_guard, ag);
}

/* ---- dispatch ---- */

static bool waiter_may_be_offered(const hl_acd *a, const hl_acd_waiter *w)
{
    return w->waiting && !w->noffered && w->passed_round != a->round;
}

static bool is_candidate(const agent *ag, const hl_acd_waiter *w)
{
    return ag->state == HL_AGENT_READY && serves(ag, w->q) && !has_missed(w, ag);
}

static int count_candidates(hl_acd *a, const hl_acd_waiter *w)
{
    int n = 0;
    for (int i = 0; i < a->nagents; i++)
        n += is_candidate(a->agents[i], w);
    return n;
}

static bool any_ready(hl_acd *a)
{
    for (int i = 0; i < a->nagents; i++)
        if (a->agents[i]->state == HL_AGENT_READY)
            return true;
    return false;
}

static bool queue_has_ready(hl_acd *a, const queue *q)
{
    for (int i = 0; i < a->nagents; i++)
        if (a->agents[i]->state == HL_AGENT_READY && serves(a->agents[i], q))
            return true;
    return false;
}

/* The waiter who has waited longest among those the dispatch may offer now.  A queue no
 * ready agent serves is skipped whole: its line is not walked on every input. */
hl_acd_waiter *acd_next_waiter(hl_acd *a)
{
    hl_acd_waiter *best = NULL;
    for (int i = 0; i < a->nqueues; i++) {
        if (a->queues[i]->removed || !queue_has_ready(a, a->queues[i]))
            continue;
        for (hl_acd_waiter *w = a->queues[i]->head; w; w = w->next)
            if (waiter_may_be_offered(a, w) && count_candidates(a, w)) {
                if (!best || w->seq < best->seq)
                    best = w;
                break; /* the line is in arrival order: the first is this queue's best */
            }
    }
    return best;
}

static void fill_info(const agent *ag, const queue *q, hl_acd_agent_info *out)
{
    *out = (hl_acd_agent_info){
        .number = ag->number, .name = ag->name, .centre = ag->centre, .role = ag->role,
        .skills = ag->skills, .skill_level = q ? skill_level(ag->skills, q->def.skill) : 0,
        .state = ag->state, .reason = ag->reason, .since = ag->since,
        .idle_since = ag->idle_since, .misses = ag->misses, .answered = ag->answered,
        .talk_ms = ag->talk_ms, .last_offer_seq = ag->last_offer_seq,
        .registered = ag->registered, .call_id = acd_agent_call_id(ag), .queue = acd_agent_queue(ag),
    };
}

static int collect_candidates(hl_acd *a, hl_acd_waiter *w)
{
    grow((void **)&a->cand, &a->capcand, a->nagents, sizeof *a->cand);
    a->cand_info = realloc(a->cand_info, (size_t)a->capcand * sizeof *a->cand_info);
    if (!a->cand_info)
        abort();
    int n = 0;
    for (int i = 0; i < a->nagents; i++)
        if (is_candidate(a->agents[i], w)) {
            a->cand[n] = a->agents[i];
            fill_info(a->agents[i], w->q, &a->cand_info[n++]);
        }
    return n;
}

/* Asks the strategy: how many indexes it chose (checked: in range, no repeats), or -1. */
static int ask_strategy(hl_acd *a, hl_acd_waiter *w, int ncand, int *chosen, char *err, int errlen)
{
    if (!a->strategy) {
        snprintf(err, errlen, "no strategy set");
        return -1;
    }
    agent *owner = w->owner[0] ? find_agent(a, w->owner) : NULL;
    hl_acd_choice in = { .queue = &w->q->def, .caller = w->caller, .call_id = w->call_id,
                         .waited_ms = acd_waited(w), .owner = w->owner,
                         .owner_state = owner ? (int)owner->state : -1,
                         .candidates = a->cand_info, .ncandidates = ncand };
    int max = ncand < HL_ACD_MAX_OFFER ? ncand : HL_ACD_MAX_OFFER;
    err[0] = 0;
    int n = a->strategy(a->strategy_arg, &in, chosen, max, err, errlen);
    if (n < 0 && !err[0])
        snprintf(err, errlen, "the strategy failed without saying why");
    if (n > max) {
        snprintf(err, errlen, "the strategy chose %d of at most %d", n, max);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        bool repeat = false;
        for (int j = 0; j < i; j++)
            repeat |= chosen[j] == chosen[i];
        if (chosen[i] < 0 || chosen[i] >= ncand || repeat) {
            snprintf(err, errlen, "the strategy chose index %d of %d candidates%s", chosen[i], ncand,
                     repeat ? " twice" : "");
            return -1;
        }
    }
    return n;
}

/* Reserves the chosen agents that are still ready (a strategy may have called back in). */
static int reserve_chosen(hl_acd *a, hl_acd_waiter *w, const int *chosen, int n,
                          const char **numbers, char *order, size_t orderlen)
{
    int got = 0;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        agent *ag = a->cand[chosen[i]];
        if (!is_candidate(ag, w))
            continue;
        reserve(ag, w);
        numbers[got++] = ag->number;
        if (used < orderlen)
            used += (size_t)snprintf(order + used, orderlen - used, "%s%s", got > 1 ? "," : "",
                                     ag->number);
    }
    return got;
}

/* Reserves and offers; how many agents were offered. */
static int offer(hl_acd *a, hl_acd_waiter *w, const int *chosen, int n, int ncand)
{
    const char *numbers[HL_ACD_MAX_OFFER];
    char order[160] = "";
    int got = reserve_chosen(a, w, chosen, n, numbers, order, sizeof order);
    if (!got)
        return 0;
    decide(a, w->q->def.name, "offered %s to call %s after %.1f s: strategy order [%s] of %d candidates",
           order, w->call_id, acd_waited(w) / 1000.0, order, ncand);
    json_t *e = queue_event(w, "offer");
    json_t *list = json_array();
    for (int i = 0; i < got; i++)
        json_array_append_new(list, json_string(numbers[i]));
    json_object_set_new(e, "agents", list);
    emit(a, e);
    deliver_events(a); /* the offer's events before the phone rings */
    if (w->ops.on_offer)
        w->ops.on_offer(w->arg, w, numbers, got);
    return got;
}

/* One step of the dispatch; false when there was nothing to do. */
static bool dispatch_step(hl_acd *a)
{
    if (!any_ready(a))
        return false;
    hl_acd_waiter *w = acd_next_waiter(a);
    if (!w)
        return false;
    int ncand = collect_candidates(a, w);
    int chosen[HL_ACD_MAX_OFFER];
    char err[200];
    int n = ask_strategy(a, w, ncand, chosen, err, sizeof err);
    if (n <= 0 || !waiter_may_be_offered(a, w)) {
        w->passed_round = a->round;
        char note[ACD_DECISION_LEN];
        if (n < 0)
            snprintf(note, sizeof note, "strategy error for call %s: %s; the caller waits", w->call_id, err);
        else
            snprintf(note, sizeof note, "no agent for call %s: the strategy chose none of %d candidates",
                     w->call_id, ncand);
        if (n > 0 || !strcmp(note, w->passed_note))
            return true; /* said already: the log keeps decisions, not their repeats */
        snprintf(w->passed_note, sizeof w->passed_note, "%s", note);
        if (n < 0)
            hl_warn("acd", "queue %s: %s", w->q->def.name, note);
        decide(a, w->q->def.name, "%s", note);
        return true;
    }
    if (!offer(a, w, chosen, n, ncand))
        w->passed_round = a->round; /* every chosen agent changed meanwhile: ask next round */
    else
        w->passed_note[0] = 0;
    return true;
}

int acd_count_serving(hl_acd *a, const queue *q, bool ready_only)
{
    int n = 0;
    for (int i = 0; i < a->nagents; i++) {
        const agent *ag = a->agents[i];
        bool in = ready_only ? ag->state == HL_AGENT_READY : ag->state != HL_AGENT_LOGGED_OUT;
        n += in && serves(ag, q);
    }
    return n;
}

/* Why a caller who joined, or was put back, is still waiting: once, in the log. */
static void explain_waits(hl_acd *a)
{
    if (!a->explain)
        return;
    a->explain = false;
    for (int i = 0; i < a->nqueues; i++) {
        queue *q = a->queues[i];
        for (hl_acd_waiter *w = q->head; w; w = w->next) {
            if (!w->explain || w->noffered)
                continue;
            w->explain = false;
            if (q->removed)
                decide(a, q->def.name, "no agent for call %s: the queue is no longer defined", w->call_id);
            else
                decide(a, q->def.name, "no agent for call %s at position %d: %d ready of %d serving, "
                       "%d missed it", w->call_id, hl_acd_position(a, w), acd_count_serving(a, q, true),
                       acd_count_serving(a, q, false), w->nmissed);
        }
    }
}

/* ---- life cycle ---- */

hl_acd *hl_acd_new(hl_clock *clock, hl_timers *timers, const hl_acd_cfg *cfg)
{
    hl_acd *a = xcalloc(1, sizeof *a);
    a->clock = clock;
    a->timers = timers;
    a->cfg = *cfg;
    a->events = json_array();
    if (a->cfg.log_size > 0)
        a->log = xcalloc((size_t)a->cfg.log_size, sizeof *a->log);
    return a;
}

void hl_acd_set_strategy(hl_acd *acd, hl_acd_strategy_fn fn, void *arg)
{
    acd->strategy = fn;
    acd->strategy_arg = arg;
}

void hl_acd_set_event_sink(hl_acd *acd, hl_acd_event_fn fn, void *arg)
{
    acd->sink = fn;
    acd->sink_arg = arg;
}

static int check_defs(const hl_acd_queue_def *defs, int n, char *err, int errlen)
{
    for (int i = 0; i < n; i++) {
        const hl_acd_queue_def *d = &defs[i];
        if (!d->name[0] || !d->centre[0]) {
            snprintf(err, errlen, "queue %d: a name and a centre are needed", i + 1);
            return -1;
        }
        if (d->wrapup_ms < 0 || d->max_misses < 0) {
            snprintf(err, errlen, "queue %s: wrapup_ms and max_misses must not be negative", d->name);
            return -1;
        }
        if (d->max_misses > 0 && !d->miss_reason[0]) {
            snprintf(err, errlen, "queue %s: max_misses needs a miss_reason", d->name);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(defs[j].name, d->name)) {
                snprintf(err, errlen, "queue %s is defined twice", d->name);
                return -1;
            }
    }
    return 0;
}

int hl_acd_set_queues(hl_acd *acd, const hl_acd_queue_def *defs, int n, char *err, int errlen)
{
    if (check_defs(defs, n, err, errlen))
        return -1;
    enter(acd);
    for (int i = 0; i < acd->nqueues; i++)
        acd->queues[i]->removed = true;
    for (int i = 0; i < n; i++) {
        queue *q = find_queue(acd, defs[i].name, true);
        if (!q) {
            grow((void **)&acd->queues, &acd->capqueues, acd->nqueues + 1, sizeof *acd->queues);
            q = acd->queues[acd->nqueues++] = xcalloc(1, sizeof *q);
        }
        q->def = defs[i];
        q->removed = false;
    }
    for (int i = 0; i < acd->nqueues; i++)
        if (acd->queues[i]->removed && acd->queues[i]->nwaiting)
            decide(acd, acd->queues[i]->def.name, "queue removed with %d callers waiting: "
                   "they are offered nothing more", acd->queues[i]->nwaiting);
    settle(acd);
    return 0;
}

void hl_acd_free(hl_acd *acd)
{
    if (!acd)
        return;
    for (int i = 0; i < acd->nqueues; i++) {
        queue *q = acd->queues[i];
        if (q->nmembers) /* the owner's bug: answered callers not in a line are not reachable */
            hl_warn("acd", "freed with %d callers of %s that never left", q->nmembers, q->def.name);
        while (q->head) {
            hl_acd_waiter *w = q->head;
            q->head = w->next;
            free_waiter(w);
        }
    }
    for (int i = 0; i < acd->nagents; i++) {
        hl_timer_stop(acd->timers, &acd->agents[i]->guard);
        free(acd->agents[i]->call_id);
        free(acd->agents[i]);
    }
    acd->nagents = 0;
    for (int i = 0; i < acd->nqueues; i++)
        acd->queues[i]->removed = true, acd->queues[i]->nmembers = 0;
    free_gone(acd);
    free(acd->agents);
    free(acd->queues);
    free(acd->cand);
    free(acd->cand_info);
    free(acd->log);
    json_decref(acd->events);
    free(acd);
}

/* ---- agents ---- */

static bool fits(const char *s, size_t size) { return s && strlen(s) < size; }

int hl_acd_agent_upsert(hl_acd *acd, const char *number, const char *name, const char *centre,
                        const char *skills, const char *role)
{
    if (!number || !*number || !fits(number, HL_ACD_NAME) || !fits(name ? name : "", HL_ACD_NAME)
        || !fits(centre ? centre : "", HL_ACD_NAME) || !fits(skills ? skills : "", ACD_SKILLS_LEN)
        || !fits(role ? role : "", HL_ACD_NAME))
        return -1;
    enter(acd);
    agent *ag = find_agent(acd, number);
    if (!ag) {
        grow((void **)&acd->agents, &acd->capagents, acd->nagents + 1, sizeof *acd->agents);
        ag = acd->agents[acd->nagents++] = xcalloc(1, sizeof *ag);
        ag->acd = acd;
        ag->state = HL_AGENT_LOGGED_OUT;
        ag->since = wall(acd);
        copy_text(ag->number, sizeof ag->number, number);
    }
    ag->forget = false;
    copy_text(ag->name, sizeof ag->name, name);
    copy_text(ag->centre, sizeof ag->centre, centre);
    copy_text(ag->skills, sizeof ag->skills, skills);
    copy_text(ag->role, sizeof ag->role, role);
    settle(acd);
    return 0;
}

/* A change asked for (by the agent, ctl, the registrar): done now, or pending while talking. */
static int ask(agent *ag, hl_agent_state want, const char *reason, const char *by, char *err, int errlen)
{
    hl_acd *a = ag->acd;
    const char *why = want == HL_AGENT_LOGGED_OUT ? "logout" : "asked";
    if (want != HL_AGENT_LOGGED_OUT && (ag->forget || !ag->registered)) {
        snprintf(err, errlen, "%s %s", ag->number,
                 ag->forget ? "is removed" : "is not registered: no phone to log in on");
        return -1; /* a pending logout (unregistered, removed) is not undone either */
    }
    switch (ag->state) {
    case HL_AGENT_TALKING:
    case HL_AGENT_ON_HOLD:
        ag->has_pending = true;
        ag->pending = want;
        snprintf(ag->pending_reason, sizeof ag->pending_reason, "%s", reason);
        snprintf(ag->pending_by, sizeof ag->pending_by, "%s", by);
        snprintf(err, errlen, "talking: the change waits for the call to end");
        decide(a, ag->queue, "%s will be %s after its talk (asked by %s)", ag->number, acd_state_names[want], by);
        return 0;
    case HL_AGENT_LOGGED_OUT:
        if (want == HL_AGENT_LOGGED_OUT)
            return 0;
        ag->misses = 0;
        move(ag, want, *reason ? reason : "login", by, "login");
        return 0;
    case HL_AGENT_RESERVED:
    case HL_AGENT_RINGING:
        if (want == HL_AGENT_READY)
            return 0; /* already offered: it is as ready as it gets */
        withdraw(ag, want == HL_AGENT_LOGGED_OUT ? "agent logged out" : "agent set not ready");
        move(ag, want, reason, by, why);
        return 0;
    case HL_AGENT_WRAPUP:
        end_wrapup(ag, want, reason, by, why);
        if (want == HL_AGENT_READY)
            ag->misses = 0;
        return 0;
    default: /* ready, not ready */
        if (want == ag->state && (want != HL_AGENT_NOT_READY || !strcmp(reason, ag->reason)))
            return 0;
        if (want == HL_AGENT_READY)
            ag->misses = 0;
        move(ag, want, reason, by, why);
        return 0;
    }
}

void hl_acd_agent_remove(hl_acd *acd, const char *number)
{
    agent *ag = find_agent(acd, number);
    if (!ag)
        return;
    enter(acd);
    char err[100];
    ag->forget = true;
    ask(ag, HL_AGENT_LOGGED_OUT, "removed", "admin", err, sizeof err);
    forget_if_removed(ag);
    settle(acd);
}

void hl_acd_agent_registered(hl_acd *acd, const char *number, bool registered)
{
    agent *ag = find_agent(acd, number);
    if (!ag || ag->registered == registered)
        return;
    enter(acd);
    ag->registered = registered;
    decide(acd, "", "%s's phone %s", number, registered ? "registered" : "is no longer registered");
    if (!registered) {
        char err[100];
        ask(ag, HL_AGENT_LOGGED_OUT, "unregistered", "registrar", err, sizeof err);
    }
    settle(acd);
}

int hl_acd_agent_set(hl_acd *acd, const char *number, hl_agent_state want, const char *reason,
                     const char *by, char *err, int errlen)
{
    err[0] = 0;
    agent *ag = find_agent(acd, number);
    if (!ag) {
        snprintf(err, errlen, "unknown agent %s", number ? number : "(none)");
        return -1;
    }
    if (want != HL_AGENT_READY && want != HL_AGENT_NOT_READY && want != HL_AGENT_LOGGED_OUT) {
        snprintf(err, errlen, "%s cannot be asked for: ready, not-ready or logged-out", hl_agent_state_name(want));
        return -1;
    }
    if (!fits(reason ? reason : "", HL_ACD_NAME) || !fits(by ? by : "", HL_ACD_NAME)) {
        snprintf(err, errlen, "reason or by longer than %d bytes", HL_ACD_NAME - 1);
        return -1;
    }
    char why[HL_ACD_NAME], who[HL_ACD_NAME];
    copy_text(why, sizeof why, reason);
    copy_text(who, sizeof who, by);
    enter(acd);
    int rc = ask(ag, want, why, who, err, errlen);
    settle(acd);
    return rc;
}

void hl_acd_agent_hold(hl_acd *acd, const char *number, bool on)
{
    agent *ag = find_agent(acd, number);
    hl_agent_state from = on ? HL_AGENT_TALKING : HL_AGENT_ON_HOLD;
    if (!ag || ag->state != from)
        return;
    enter(acd);
    move(ag, on ? HL_AGENT_ON_HOLD : HL_AGENT_TALKING, "", "call", on ? "hold" : "resume");
    settle(acd);
}

void hl_acd_agent_talk_ended(hl_acd *acd, const char *number)
{
    agent *ag = find_agent(acd, number);
    if (!ag || (ag->state != HL_AGENT_TALKING && ag->state != HL_AGENT_ON_HOLD))
        return;
    enter(acd);
    talk_over(ag);
    settle(acd);
}

int hl_acd_agent_get(hl_acd *acd, const char *number, hl_acd_agent_info *out)
{
    agent *ag = find_agent(acd, number);
    if (!ag)
        return -1;
    fill_info(ag, NULL, out);
    return 0;
}

/* ---- waiting callers ---- */

hl_acd_waiter *hl_acd_join(hl_acd *acd, const char *queue_name, const char *caller, const char *call_id,
                           const char *owner, int ring_ms, const hl_acd_waiter_ops *ops, void *arg,
                           char *err, int errlen)
{
    queue *q = find_queue(acd, queue_name, false);
    if (!q) {
        snprintf(err, errlen, "unknown queue %s", queue_name ? queue_name : "(none)");
        return NULL;
    }
    enter(acd);
    hl_acd_waiter *w = xcalloc(1, sizeof *w);
    *w = (hl_acd_waiter){ .acd = acd, .q = q, .caller = text_dup(caller), .call_id = text_dup(call_id),
                          .ring_ms = ring_ms > 0 ? ring_ms : 0, .arg = arg,
                          .seq = ++acd->next_waiter_seq, .joined_ms = now_ms(acd),
                          .waiting = true, .explain = true };
    acd->explain = true;
    if (ops)
        w->ops = *ops;
    snprintf(w->owner, sizeof w->owner, "%s", owner ? owner : "");
    w->prev = q->tail;
    *(q->tail ? &q->tail->next : &q->head) = w;
    q->tail = w;
    q->nwaiting++;
    q->nmembers++;
    emit(acd, queue_event(w, "join"));
    settle(acd);
    return w;
}

static void leave_line(hl_acd_waiter *w)
{
    queue *q = w->q;
    if (!w->waiting)
        return;
    *(w->prev ? &w->prev->next : &q->head) = w->next;
    *(w->next ? &w->next->prev : &q->tail) = w->prev;
    w->prev = w->next = NULL;
    w->waiting = false;
    q->nwaiting--;
}

int hl_acd_position(hl_acd *acd, const hl_acd_waiter *w)
{
    if (!w->waiting)
        return 0;
    int pos = 1;
    for (const hl_acd_waiter *x = w->q->head; x && x != w; x = x->next)
        pos++;
    return pos;
}

int hl_acd_serving(hl_acd *acd, const char *queue_name)
{
    queue *q = find_queue(acd, queue_name, false);
    return q ? acd_count_serving(acd, q, false) : 0;
}

int64_t hl_acd_expected_wait_ms(hl_acd *acd, const char *queue_name, int pos)
{
    queue *q = find_queue(acd, queue_name, false);
    int serving = q ? acd_count_serving(acd, q, false) : 0;
    if (!q || !q->nhandle || !serving)
        return -1;
    int64_t sum = 0;
    for (int i = 0; i < q->nhandle; i++)
        sum += q->handle[i];
    return sum / q->nhandle * (pos > 0 ? pos : 1) / serving;
}

int64_t hl_acd_waited_ms(hl_acd *acd, const hl_acd_waiter *w)
{
    return acd_waited(w);
}

static agent *offered_agent(hl_acd *acd, hl_acd_waiter *w, const char *number)
{
    agent *ag = find_agent(acd, number);
    return ag && ag->offer == w && !w->gone ? ag : NULL;
}

/* A report names no caller or no agent: the owner's bug, said once per report. */
static bool bad_report(const hl_acd_waiter *w, const char *number, const char *what)
{
    if (w && number)
        return false;
    hl_warn("acd", "%s report without %s: ignored", what, w ? "an agent" : "a caller");
    return true;
}

void hl_acd_ringing(hl_acd *acd, hl_acd_waiter *w, const char *number)
{
    if (bad_report(w, number, "ringing"))
        return;
    enter(acd);
    agent *ag = offered_agent(acd, w, number);
    if (!ag)
        decide(acd, w->q->def.name, "late ringing report from %s for call %s: not offered", number, w->call_id);
    else if (ag->state == HL_AGENT_RESERVED) {
        move(ag, HL_AGENT_RINGING, "", "call", "ringing");
        arm_guard(ag, (uint64_t)w->ring_ms + (uint64_t)acd->cfg.ring_guard_ms);
    }
    settle(acd);
}

/* ag answered w: it talks, the other offered agents are released, w leaves the line. */
static void take(agent *ag, hl_acd_waiter *w)
{
    hl_acd *a = ag->acd;
    detach_offer(ag);
    w->explain = false;
    while (w->noffered) {
        agent *other = w->offered[0];
        withdraw(other, "another phone answered");
        move(other, HL_AGENT_READY, "", "acd", "another phone answered");
    }
    leave_line(w);
    decide(a, w->q->def.name, "%s answered call %s after %.1f s", ag->number, w->call_id, acd_waited(w) / 1000.0);
    queue_event_agent(w, "answered", ag, "answered");
    ag->call_id = xstrdup(w->call_id);
    snprintf(ag->queue, sizeof ag->queue, "%s", w->q->def.name);
    ag->wrapup_ms = w->q->def.wrapup_ms;
    ag->talk_start_ms = now_ms(a);
    ag->misses = 0;
    ag->answered++;
    move(ag, HL_AGENT_TALKING, "", "call", "answered");
}

bool hl_acd_answered(hl_acd *acd, hl_acd_waiter *w, const char *number)
{
    if (bad_report(w, number, "answer"))
        return false;
    enter(acd);
    agent *ag = offered_agent(acd, w, number);
    if (ag)
        take(ag, w);
    else
        decide(acd, w->q->def.name, "late answer from %s for call %s: not offered (now), hang it up",
               number, w->call_id);
    settle(acd);
    return ag != NULL;
}

void hl_acd_missed(hl_acd *acd, hl_acd_waiter *w, const char *number, const char *reason)
{
    if (bad_report(w, number, "miss"))
        return;
    char why[HL_ACD_NAME];
    copy_text(why, sizeof why, reason && *reason ? reason : "no answer");
    enter(acd);
    agent *ag = offered_agent(acd, w, number);
    if (ag)
        miss(ag, why);
    else
        decide(acd, w->q->def.name, "late miss report from %s for call %s: not offered", number, w->call_id);
    settle(acd);
}

void hl_acd_leave(hl_acd *acd, hl_acd_waiter *w, const char *outcome)
{
    if (!w || w->gone)
        return;
    char said[HL_ACD_NAME];
    copy_text(said, sizeof said, outcome && *outcome ? outcome : "left");
    outcome = said;
    enter(acd);
    while (w->noffered) {
        agent *ag = w->offered[0];
        withdraw(ag, "the caller left");
        move(ag, HL_AGENT_READY, "", "acd", "the caller left");
    }
    bool was_waiting = w->waiting;
    leave_line(w);
    if (was_waiting)
        decide(acd, w->q->def.name, "call %s left after %.1f s: %s", w->call_id, acd_waited(w) / 1000.0, outcome);
    json_t *e = queue_event(w, !strcmp(outcome, "abandoned") ? "abandoned" : "left");
    json_object_set_new(e, "outcome", json_string(outcome));
    emit(acd, e);
    w->gone = true;
    w->q->nmembers--;
    w->next_gone = acd->gone_waiters;
    acd->gone_waiters = w;
    settle(acd);
}

void hl_acd_redispatch(hl_acd *acd)
{
    enter(acd);
    settle(acd);
}
