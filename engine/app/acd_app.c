/* acd_app.c — the ACD (acd/acd.h) in the running engine: made once by the loop, it follows
 * the agents' accounts and phones (app/agents.h), asks the policy now serving for its
 * queues (at start and every reload) and for each choice of agent (call/acd_policy.h),
 * keeps every state change and queue event in the store, and answers the ctl commands
 * `queues`, `queue log [NAME] [--last N]` and `agent state NUMBER ready|not-ready
 * [REASON]|logged-out`. */
#include "app/acd_app.h"
#include "call/acd_policy.h"
#include "call/call.h"
#include "core/log.h"
#include <stdlib.h>
#include <string.h>

#define LOG_DEFAULT_LAST 50   /* `queue log` without --last: a screenful */

struct hl_acd_app {
    hl_acd      *acd;
    hl_call_env *env;
    hl_store    *store;
    hl_agents   *agents;
    json_t      *wrapups;     /* agent -> {call_id, start}: wrap-ups under way */
    hl_acd_event_fn forward;       /* issue 10: the event stream too */
    void           *forward_arg;
};

/* ---- the policy's part ----------------------------------------------------------------- */

static int choose(void *arg, const hl_acd_choice *in, int *chosen, int max, char *err, int errlen)
{
    hl_acd_app *app = arg;
    hl_policy *p = app->env->current_policy(app->env);
    if (!p) {
        snprintf(err, errlen, "no policy serving");
        return -1;
    }
    return hl_acd_policy_choose(p, app->env->cfg, app->env->clock, in, chosen, max, err, errlen);
}

int hl_acd_app_policy(hl_acd_app *app, hl_policy *p, char *err, int errlen)
{
    return hl_acd_policy_queues(p, app->acd, app->env->cfg, app->env->clock, err, errlen);
}

/* ---- events into the store ---------------------------------------------------------------- */

static void cdr_written(void *arg, json_t *rows, const char *err)
{
    (void)arg, (void)rows;
    if (err)
        hl_warn("acd", "wrap-up time not written to the CDR: %s", err);
}

/* An agent's CDR is written when its leg ends, before the wrap-up that follows: the
 * wrap-up's length (item 7) goes into that CDR when the agent leaves wrap-up. */
static void note_wrapup(hl_acd_app *app, json_t *event)
{
    const char *agent = json_string_value(json_object_get(event, "agent"));
    const char *state = json_string_value(json_object_get(event, "state"));
    const char *prev = json_string_value(json_object_get(event, "prev"));
    double time = json_number_value(json_object_get(event, "time"));
    if (!agent || !state || !prev)
        return;
    if (!strcmp(state, "wrap-up")) {
        json_object_set_new(app->wrapups, agent, json_pack("{s:s,s:f}", "call_id",
                            json_string_value(json_object_get(event, "call_id")) ?: "", "start", time));
        return;
    }
    json_t *w = json_object_get(app->wrapups, agent);
    if (strcmp(prev, "wrap-up") != 0 || !w)
        return;
    long long ms = (long long)((time - json_number_value(json_object_get(w, "start"))) * 1000.0);
    const char *call_id = json_string_value(json_object_get(w, "call_id"));
    hl_call *c = app->env->find_call ? app->env->find_call(app->env, call_id) : NULL;
    if (c && !hl_call_ended(c) && hl_call_note_wrapup(c, agent, ms > 0 ? ms : 0)) {
        json_object_del(app->wrapups, agent);     /* the call is up: its CDR is not written yet */
        return;
    }
    json_t *p = json_pack("[I,s,s]", (json_int_t)(ms > 0 ? ms : 0), call_id, agent);
    hl_store_exec(app->store, "UPDATE cdr SET wrapup_ms = ?1 WHERE call_id = ?2 AND agent = ?3 AND leg_index > 0",
                  p, cdr_written, NULL);
    json_decref(p);
    json_object_del(app->wrapups, agent);
}

static void keep_event(void *arg, const char *kind, json_t *event)
{
    hl_acd_app *app = arg;
    hl_store_acd_event(app->store, kind, event);
    if (!strcmp(kind, "agent"))
        note_wrapup(app, event);
    if (app->forward)
        app->forward(app->forward_arg, kind, event);
}

void hl_acd_app_forward(hl_acd_app *app, hl_acd_event_fn fn, void *arg)
{
    app->forward = fn;
    app->forward_arg = arg;
}

/* ---- the accounts and phones ------------------------------------------------------------- */

static void on_account(void *arg, const char *number, const char *name, const char *centre,
                       const char *skills, const char *role)
{
    hl_acd_app *app = arg;
    hl_acd_agent_upsert(app->acd, number, name, centre, skills, role);   /* "general:5,complaints" */
}

static void on_removed(void *arg, const char *number) { hl_acd_agent_remove(((hl_acd_app *)arg)->acd, number); }

void hl_acd_app_registered(void *arg, const char *number, bool registered)
{
    hl_acd_agent_registered(((hl_acd_app *)arg)->acd, number, registered);
}

static json_t *describe(void *arg, const char *number)
{
    hl_acd_agent_info in;
    if (hl_acd_agent_get(((hl_acd_app *)arg)->acd, number, &in) != 0)
        return NULL;
    return json_pack("{s:s,s:s,s:f,s:i,s:i,s:I,s:s,s:s}", "state", hl_agent_state_name(in.state),
                     "reason", in.reason ? in.reason : "", "since", in.since, "misses", in.misses,
                     "answered", in.answered, "talk_ms", (json_int_t)in.talk_ms,
                     "call_id", in.call_id ? in.call_id : "", "queue", in.queue ? in.queue : "");
}

/* `ctl agent state NUMBER ready|not-ready [REASON]|logged-out` */
static json_t *ctl_state(void *arg, json_t *args, char *err, int errlen)
{
    hl_acd_app *app = arg;
    const char *number = json_string_value(json_array_get(args, 1));
    const char *want = json_string_value(json_array_get(args, 2));
    const char *reason = json_string_value(json_array_get(args, 3));
    int s = want ? hl_agent_state_parse(want) : -1;
    if (s != HL_AGENT_READY && s != HL_AGENT_NOT_READY && s != HL_AGENT_LOGGED_OUT) {
        snprintf(err, errlen, "usage: agent state NUMBER ready|not-ready [REASON]|logged-out");
        return NULL;
    }
    if (hl_acd_agent_set(app->acd, number, (hl_agent_state)s, reason ? reason : "", "ctl", err, errlen) != 0)
        return NULL;
    json_t *o = describe(app, number);
    json_object_set_new(o, "agent", json_string(number));
    return o;
}

/* ---- ctl ---------------------------------------------------------------------------------- */

static json_t *ctl_queues(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    (void)req, (void)request, (void)err, (void)errlen;
    return json_pack("{s:b,s:o}", "ok", 1, "queues", hl_acd_queues_json(((hl_acd_app *)arg)->acd));
}

/* `queue log [NAME] [--last N]` */
static json_t *ctl_queue(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    (void)req;
    json_t *args = json_object_get(request, "args");
    const char *what = json_string_value(json_array_get(args, 0));
    if (!what || strcmp(what, "log") != 0) {
        snprintf(err, errlen, "usage: queue log [NAME] [--last N]");
        return NULL;
    }
    const char *name = NULL;
    int last = LOG_DEFAULT_LAST;
    for (size_t i = 1; i < json_array_size(args); i++) {
        const char *a = json_string_value(json_array_get(args, i));
        if (a && !strcmp(a, "--last") && json_string_value(json_array_get(args, i + 1)))
            last = atoi(json_string_value(json_array_get(args, ++i)));
        else if (a)
            name = a;
    }
    return json_pack("{s:b,s:o}", "ok", 1, "log", hl_acd_log_json(((hl_acd_app *)arg)->acd, name, last));
}

/* ---- life --------------------------------------------------------------------------------- */

hl_acd_app *hl_acd_app_new(hl_call_env *env, hl_store *store, hl_agents *agents, hl_ctl *ctl)
{
    hl_acd_app *app = calloc(1, sizeof *app);
    hl_acd_cfg cfg = { .reserve_ms = env->cfg->acd_reserve_ms, .ring_guard_ms = env->cfg->acd_ring_guard_ms,
                       .log_size = env->cfg->acd_log_size };
    if (!app || !(app->acd = hl_acd_new(env->clock, env->timers, &cfg))) {
        free(app);
        return NULL;
    }
    app->env = env;
    app->store = store;
    app->agents = agents;
    app->wrapups = json_object();
    hl_acd_set_strategy(app->acd, choose, app);
    hl_acd_set_event_sink(app->acd, keep_event, app);
    env->acd = app->acd;
    hl_agents_watch w = { .account = on_account, .removed = on_removed, .ctl_state = ctl_state,
                          .describe = describe };
    hl_agents_set_watch(agents, &w, app);
    hl_agents_set_on_change(agents, hl_acd_app_registered, app);   /* phones come and go */
    hl_ctl_register(ctl, "queues", ctl_queues, app, "the ACD's queues: callers waiting, agents serving and ready");
    hl_ctl_register(ctl, "queue", ctl_queue, app, "queue log [NAME] [--last N]: the ACD's decisions with their reasons");
    return app;
}

void hl_acd_app_free(hl_acd_app *app)
{
    if (!app)
        return;
    app->env->acd = NULL;
    hl_agents_set_watch(app->agents, &(hl_agents_watch){ 0 }, NULL);
    hl_agents_set_on_change(app->agents, NULL, NULL);
    hl_acd_free(app->acd);
    json_decref(app->wrapups);
    free(app);
}
