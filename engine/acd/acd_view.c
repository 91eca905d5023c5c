/* acd_view.c — what the ACD shows (see acd.h): agents and queues as JSON for `ctl agents` /
 * `ctl queues`, the decision log for `ctl queue log`, and hl_acd_check, the invariants the
 * tests hold the state machine to. */
#include "acd/acd_int.h"
#include <stdio.h>
#include <string.h>

/* ---- views ---- */

static json_t *agent_json(const agent *ag)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:i, s:i, s:I, s:b, s:s, s:s}",
                          "number", ag->number, "name", ag->name, "centre", ag->centre,
                          "role", ag->role, "skills", ag->skills, "state", acd_state_names[ag->state],
                          "reason", ag->reason, "since", ag->since, "idle_since", ag->idle_since,
                          "misses", ag->misses, "answered", ag->answered,
                          "talk_ms", (json_int_t)ag->talk_ms, "registered", ag->registered,
                          "call_id", acd_agent_call_id(ag), "queue", acd_agent_queue(ag));
    if (ag->has_pending)
        json_object_set_new(o, "pending", json_string(acd_state_names[ag->pending]));
    return o;
}

json_t *hl_acd_agents_json(hl_acd *acd)
{
    json_t *arr = json_array();
    for (int i = 0; i < acd->nagents; i++)
        json_array_append_new(arr, agent_json(acd->agents[i]));
    return arr;
}

static json_t *waiter_json(hl_acd *a, hl_acd_waiter *w, int pos)
{
    json_t *offered = json_array();
    for (int i = 0; i < w->noffered; i++)
        json_array_append_new(offered, json_string(w->offered[i]->number));
    return json_pack("{s:s, s:s, s:i, s:I, s:o}", "caller", w->caller, "call_id", w->call_id,
                     "position", pos, "waited_ms", (json_int_t)acd_waited(w), "offered", offered);
}

json_t *hl_acd_queues_json(hl_acd *acd)
{
    json_t *arr = json_array();
    for (int i = 0; i < acd->nqueues; i++) {
        queue *q = acd->queues[i];
        json_t *callers = json_array();
        int pos = 0;
        for (hl_acd_waiter *w = q->head; w; w = w->next)
            json_array_append_new(callers, waiter_json(acd, w, ++pos));
        json_array_append_new(arr, json_pack(
            "{s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:I, s:I, s:o}", "name", q->def.name,
            "centre", q->def.centre, "skill", q->def.skill, "removed", q->removed,
            "waiting", q->nwaiting, "serving", acd_count_serving(acd, q, false),
            "ready", acd_count_serving(acd, q, true),
            "longest_wait_ms", (json_int_t)(q->head ? acd_waited(q->head) : 0),
            "expected_wait_ms", (json_int_t)hl_acd_expected_wait_ms(acd, q->def.name, 1),
            "callers", callers));
    }
    return arr;
}

json_t *hl_acd_log_json(hl_acd *acd, const char *queue_name, int last)
{
    json_t *arr = json_array();
    int start = (acd->log_next - acd->nlog + acd->cfg.log_size) % (acd->cfg.log_size ? acd->cfg.log_size : 1);
    for (int i = 0; i < acd->nlog; i++) {
        const decision *d = &acd->log[(start + i) % acd->cfg.log_size];
        if (queue_name && *queue_name && strcmp(queue_name, d->queue))
            continue;
        json_array_append_new(arr, json_pack("{s:f, s:s, s:s}", "time", d->time, "queue", d->queue,
                                             "text", d->text));
    }
    while (last > 0 && json_array_size(arr) > (size_t)last)
        json_array_remove(arr, 0);
    return arr;
}

/* ---- invariants ---- */

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static int check_agent(hl_acd *a, const agent *ag, char *err, int errlen)
{
    bool offered = ag->state == HL_AGENT_RESERVED || ag->state == HL_AGENT_RINGING;
    bool in_call = ag->state == HL_AGENT_TALKING || ag->state == HL_AGENT_ON_HOLD
                   || ag->state == HL_AGENT_WRAPUP;
    bool guarded = offered || ag->state == HL_AGENT_WRAPUP;
    if (offered != (ag->offer != NULL))
        BAD("agent %s is %s with%s an offer", ag->number, acd_state_names[ag->state], ag->offer ? "" : "out");
    if (guarded != hl_timer_active(&ag->guard))
        BAD("agent %s is %s with%s a guard", ag->number, acd_state_names[ag->state], guarded ? "out" : "");
    if (in_call != (ag->call_id != NULL))
        BAD("agent %s is %s with%s a call", ag->number, acd_state_names[ag->state], in_call ? "out" : "");
    if (ag->has_pending && ag->state != HL_AGENT_TALKING && ag->state != HL_AGENT_ON_HOLD)
        BAD("agent %s has a pending change while %s", ag->number, acd_state_names[ag->state]);
    if (ag->forget && ag->state != HL_AGENT_TALKING && ag->state != HL_AGENT_ON_HOLD)
        BAD("agent %s was removed but is still listed while %s", ag->number, acd_state_names[ag->state]);
    if (ag->state != HL_AGENT_LOGGED_OUT && ag->state != HL_AGENT_TALKING && ag->state != HL_AGENT_ON_HOLD
        && ag->state != HL_AGENT_WRAPUP && !ag->registered && !offered)
        BAD("agent %s is %s without a registered phone", ag->number, acd_state_names[ag->state]);
    if (!offered)
        return 0;
    const hl_acd_waiter *w = ag->offer;
    bool listed = false;
    for (int i = 0; i < w->noffered; i++)
        listed |= w->offered[i] == ag;
    if (w->gone || !w->waiting || !listed)
        BAD("agent %s is offered to call %s, which %s", ag->number, w->call_id,
            w->gone ? "left" : !w->waiting ? "is not waiting" : "does not list it");
    return 0;
}

static int check_queue(hl_acd *a, const queue *q, int *members, char *err, int errlen)
{
    int n = 0;
    for (const hl_acd_waiter *w = q->head; w; w = w->next) {
        n++;
        if (w->q != q || !w->waiting || w->gone)
            BAD("call %s is in %s's line but not waiting there", w->call_id, q->def.name);
        if ((w->next ? w->next->prev : q->tail) != w)
            BAD("%s's line is broken at call %s", q->def.name, w->call_id);
        if (w->next && w->next->seq < w->seq)
            BAD("%s's line is out of arrival order at call %s", q->def.name, w->call_id);
        for (int i = 0; i < w->noffered; i++)
            if (w->offered[i]->offer != w)
                BAD("call %s lists %s, which is not offered to it", w->call_id, w->offered[i]->number);
        if (w->noffered > HL_ACD_MAX_OFFER)
            BAD("call %s is offered %d agents", w->call_id, w->noffered);
    }
    if (n != q->nwaiting)
        BAD("%s counts %d waiting, its line holds %d", q->def.name, q->nwaiting, n);
    if (q->nmembers < n)
        BAD("%s counts %d callers, fewer than the %d waiting", q->def.name, q->nmembers, n);
    *members += q->nmembers;
    return 0;
}

int hl_acd_check(hl_acd *acd, char *err, int errlen)
{
    for (int i = 0; i < acd->nagents; i++)
        if (check_agent(acd, acd->agents[i], err, errlen))
            return -1;
    int members = 0;
    for (int i = 0; i < acd->nqueues; i++)
        if (check_queue(acd, acd->queues[i], &members, err, errlen))
            return -1;
    if (acd->depth == 0 && (acd->gone_waiters || acd->gone_agents))
        BAD("waiters or agents left to free after the input ended");
    if (acd->depth == 0 && json_array_size(acd->events))
        BAD("%zu events not delivered", json_array_size(acd->events));
    for (int i = 0; i < acd->nqueues; i++)
        if (acd->queues[i]->removed && !acd->queues[i]->nmembers && acd->depth == 0)
            BAD("queue %s was removed and has no callers, but is kept", acd->queues[i]->def.name);
    const hl_acd_waiter *w = acd->depth == 0 ? acd_next_waiter(acd) : NULL;
    if (w)
        BAD("call %s waits in %s while a ready agent could take it", w->call_id, w->q->def.name);
    return 0;
}
