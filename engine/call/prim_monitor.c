/* prim_monitor.c — call:monitor: a supervisor's call listens to, whispers to, or barges in
 * on an agent's talk (SPEC 3: 监听, 耳语, 强插).  The supervisor's leg joins the media of the
 * agent's call (leg op monitor: who hears whom, media/monitor.h) without touching its
 * bridge; the agent's call is found through the ACD (the call the agent talks in) and the
 * env (find_call).  While it lasts, the supervisor's keys switch the mode (the keys are the
 * script's: options listen, whisper, barge) and the talk is checked each second: when the
 * agent no longer talks in that call (hung up, transferred), the monitor stops and the
 * primitive returns "ended".  The supervisor hanging up stops it too.  Who may supervise is
 * the policy's (scripts/agent_phone.lua checks the role).
 *
 * Results: "ended" | nil, why ("not talking", "no such agent", "refused"). */
#include "acd/acd.h"
#include "call/call_priv.h"
#include <lauxlib.h>
#include <string.h>

#define CHECK_EVERY_MS 1000   /* how soon a monitor notices the talk it follows has ended */
#define AGENT_LEN 33

typedef struct monitor_state {
    int             sup;          /* the supervisor's leg (0, or a leg rung for `ctl monitor`) */
    char            agent[AGENT_LEN];
    char            call_id[64];
    hl_monitor_mode mode;
    char            keys[4];      /* the keys for listen, whisper, barge ("" none), NUL */
} monitor_state;
WAIT_STATE_FITS(monitor_state);

static monitor_state *st(hl_call *c) { return WAIT_STATE(c, monitor_state); }

/* The agent's talk as it stands: the call, the agent's leg and the caller's; false when the
 * agent no longer talks in the call the monitor follows. */
static bool find_talk(hl_call *c, const monitor_state *m, hl_leg **agent_leg, hl_leg **caller_leg)
{
    hl_acd_agent_info in;
    if (!c->env->acd || hl_acd_agent_get(c->env->acd, m->agent, &in) != 0 ||
        (in.state != HL_AGENT_TALKING && in.state != HL_AGENT_ON_HOLD) ||
        (m->call_id[0] && strcmp(m->call_id, in.call_id)))
        return false;
    hl_call *t = c->env->find_call ? c->env->find_call(c->env, in.call_id) : NULL;
    if (!t || t == c || t->nlegs < 2 || !call_leg_up(t, 0))
        return false;
    for (int i = 1; i < t->nlegs; i++)
        if (call_leg_up(t, i) && t->legs[i]->acd_talking && !strcmp(t->legs[i]->agent, m->agent)) {
            *agent_leg = t->legs[i];
            *caller_leg = t->legs[0];
            return true;
        }
    return false;
}

static int apply(hl_call *c, monitor_state *m)
{
    hl_leg *sup = c->legs[m->sup], *agent = NULL, *caller = NULL;
    if (!sup->ops->monitor || !find_talk(c, m, &agent, &caller))
        return -1;
    int rc = sup->ops->monitor(sup, agent, caller, m->mode);
    if (rc == 0)
        CALL_INFO(c, "%s: supervisor %s: %s agent %s (call %s)", c->id, sup->agent, hl_monitor_name(m->mode),
                  m->agent, m->call_id);
    return rc;
}

static void stop(hl_call *c)
{
    hl_leg *sup = c->legs[st(c)->sup];
    if (sup->ops->monitor && sup->state != HL_LEG_ENDED)
        sup->ops->monitor(sup, NULL, NULL, HL_MONITOR_STOP);
}

static void ended(hl_call *c)
{
    stop(c);
    lua_pushliteral(c->co, "ended");
    call_complete(c, 1);
}

static void monitor_timer(hl_call *c)
{
    hl_leg *a, *b;
    if (!find_talk(c, st(c), &a, &b)) {
        ended(c);
        return;
    }
    hl_timer_start(c->env->timers, &c->t_wait, CHECK_EVERY_MS, call_wait_timer, c);
}

static bool monitor_event(hl_call *c, int i, const hl_leg_event *ev)
{
    monitor_state *m = st(c);
    if (i == m->sup && i != 0 && ev->type == HL_LEG_EV_HANGUP) {
        ended(c);                   /* a rung supervisor hung up */
        return true;
    }
    if (i != m->sup || ev->type != HL_LEG_EV_DTMF)
        return true;
    static const hl_monitor_mode modes[3] = { HL_MONITOR_LISTEN, HL_MONITOR_WHISPER, HL_MONITOR_BARGE };
    const char *k = m->keys[0] ? strchr(m->keys, ev->digit) : NULL;
    if (k) {
        m->mode = modes[k - m->keys];
        if (apply(c, m) != 0)
            ended(c);
    }
    return true;                  /* the supervisor's keys are never typed ahead */
}

static const hl_wait_ops monitor_ops = {
    .name = "monitor", .on_event = monitor_event, .on_timer = monitor_timer, .cancel = stop,
};

enum { O_MODE, O_KEYS, O_LEG };   /* call_api.c's monitor_opts */

int prim_monitor(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *agent = luaL_checkstring(L, 2);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:monitor", o);
    monitor_state *m = st(c);
    memset(m, 0, sizeof *m);
    if (strlen(agent) >= sizeof m->agent)
        return luaL_error(L, "monitor: '%s' is not an agent's number", agent);
    snprintf(m->agent, sizeof m->agent, "%s", agent);
    const char *mode = o[O_MODE].s;
    m->mode = !strcmp(mode, "listen") ? HL_MONITOR_LISTEN : !strcmp(mode, "whisper") ? HL_MONITOR_WHISPER
            : !strcmp(mode, "barge") ? HL_MONITOR_BARGE : HL_MONITOR_STOP;
    if (m->mode == HL_MONITOR_STOP)
        return luaL_error(L, "monitor: mode '%s' is not listen, whisper or barge", mode);
    const char *keys = o[O_KEYS].s ? o[O_KEYS].s : "";
    if (*keys && (strlen(keys) != 3 || strspn(keys, "0123456789*#") != 3))
        return luaL_error(L, "monitor: keys must be three keys (listen, whisper, barge), e.g. \"123\"");
    snprintf(m->keys, sizeof m->keys, "%s", keys);
    if (o[O_LEG].set) {
        lua_getfield(L, 3, "leg");
        m->sup = call_leg_index_of(L, c, -1);
        lua_pop(L, 1);
    }
    if (!call_leg_up(c, m->sup))
        return luaL_error(L, "monitor: the supervisor's leg is not up");
    hl_acd_agent_info in;
    if (!c->env->acd || hl_acd_agent_get(c->env->acd, agent, &in) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "no such agent");
        return 2;
    }
    snprintf(m->call_id, sizeof m->call_id, "%s", in.call_id);
    hl_leg *a, *b;
    if (!find_talk(c, m, &a, &b)) {
        lua_pushnil(L);
        lua_pushliteral(L, "not talking");
        return 2;
    }
    if (apply(c, m) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "refused");
        return 2;
    }
    call_wait(c, &monitor_ops, CHECK_EVERY_MS);
    return lua_yield(L, 0);
}
