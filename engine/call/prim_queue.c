/* prim_queue.c — call:queue: the caller waits in an ACD queue (acd/acd.h) until an agent
 * answers, with music and announcements of the caller's position and expected wait, and
 * leaves it when the caller keys a way out, waits too long, or nobody serves the queue.
 *
 * The ACD chooses; this file rings.  When the ACD offers agents (on_offer, at any time while
 * the caller waits, also from inside another call's event), each is rung through the env's
 * dial_agent (app: the agent's registered phone; simulator: a simulated agent) as a leg of
 * this call, and its fate goes back to the ACD: ringing at once, answered (the first wins;
 * a later answer is hung up), missed on failure or no answer (the leg's own ring timer).
 * The caller hanging up, a way out or a timeout leaves the queue (outcome kept with the
 * wait) and hangs up the phones still ringing; their agents are released, not missed.
 *
 * Results: "answered", leg, agent | "timeout" | "key", digit | "empty". */
#include "acd/acd.h"
#include "call/call_priv.h"
#include "media/say.h"
#include <lauxlib.h>
#include <string.h>

#define OFFERS_MAX 4          /* phones rung at once for one caller (ring all); legs are few */
#define TEMPLATE_ITEMS 8      /* items of one announcement template */
#define TEMPLATE_ITEM_LEN 40  /* a prompt name or a {placeholder} */
#define AGENT_LEN 32          /* an agent's number as a leg keeps it */

typedef enum { SLOT_FREE, SLOT_RINGING, SLOT_DONE } slot_state;
typedef enum { PLAYING_NOTHING, PLAYING_MUSIC, PLAYING_ANNOUNCEMENT } playing_what;

typedef struct offer_slot {
    slot_state state;
    int        leg;
    uint64_t   rung_at;        /* engine ms the INVITE went out */
    char       agent[AGENT_LEN];
} offer_slot;

typedef struct queue_wait {
    hl_acd_waiter *waiter;
    char       queue[HL_ACD_NAME];
    offer_slot offers[OFFERS_MAX];
    int        ring_ms, announce_every_ms;
    uint64_t   deadline, next_announce;     /* engine ms; 0 = none */
    bool       expired;                     /* max wait passed while a phone rang */
    bool       if_empty;
    playing_what playing;
    char       keys[16];
    char       music[TEMPLATE_ITEM_LEN];
    char       position[TEMPLATE_ITEMS][TEMPLATE_ITEM_LEN];
    char       wait[TEMPLATE_ITEMS][TEMPLATE_ITEM_LEN];
    int        npos, nwait;
} queue_wait;
WAIT_STATE_FITS(queue_wait);

static hl_acd *acd_of(hl_call *c) { return c->env->acd; }

/* ---- the caller's audio: music, announcements ---------------------------------------------- */

static void play_music(hl_call *c, queue_wait *q)
{
    hl_leg *l0 = c->legs[0];
    q->playing = PLAYING_NOTHING;
    if (!q->music[0] || !call_leg_up(c, 0) || !l0->ops->play)
        return;
    const char *items[1] = { q->music };
    if (call_leg_play(c, l0, items, 1) == 0)
        q->playing = PLAYING_MUSIC;
}

/* Adds a template's items, with {position} (1 = next), {ahead} (callers before this one)
 * and {wait_minutes} read aloud. */
static void add_template(hl_call *c, char (*tpl)[TEMPLATE_ITEM_LEN], int n, int position, int minutes)
{
    for (int i = 0; i < n; i++) {
        int value = !strcmp(tpl[i], "{position}") ? position : !strcmp(tpl[i], "{ahead}") ? position - 1
                  : !strcmp(tpl[i], "{wait_minutes}") ? minutes : -1;
        if (value < 0) {
            if (c->nitems < MAX_ITEMS)
                snprintf(c->item_buf[c->nitems], ITEM_LEN, "%s", tpl[i]), c->nitems++;
            continue;
        }
        char num[16];
        snprintf(num, sizeof num, "%d", value);
        hl_say_word words[HL_SAY_MAX];
        int nw = hl_say_number(num, words, HL_SAY_MAX);
        for (int w = 0; w < nw && c->nitems < MAX_ITEMS; w++)
            snprintf(c->item_buf[c->nitems], ITEM_LEN, "%.15s", words[w]), c->nitems++;
    }
}

static void announce(hl_call *c, queue_wait *q)
{
    int pos = hl_acd_position(acd_of(c), q->waiter);
    int64_t expected = hl_acd_expected_wait_ms(acd_of(c), q->queue, pos);
    c->nitems = 0;
    add_template(c, q->position, q->npos, pos, 0);
    if (expected >= 0)
        add_template(c, q->wait, q->nwait, pos, (int)((expected + 59999) / 60000));
    for (int i = 0; i < c->nitems; i++)
        c->items[i] = c->item_buf[i];
    if (c->nitems && call_start_play(c) == 0)
        q->playing = PLAYING_ANNOUNCEMENT;
}

/* ---- the phones being rung ----------------------------------------------------------------- */

static offer_slot *slot_of_leg(queue_wait *q, int leg)
{
    for (int i = 0; i < OFFERS_MAX; i++)
        if (q->offers[i].state == SLOT_RINGING && q->offers[i].leg == leg)
            return &q->offers[i];
    return NULL;
}

static bool any_ringing(const queue_wait *q)
{
    for (int i = 0; i < OFFERS_MAX; i++)
        if (q->offers[i].state == SLOT_RINGING)
            return true;
    return false;
}

static void note_ring_time(hl_call *c, offer_slot *s)
{
    hl_leg *leg = c->legs[s->leg];
    leg->ring_ms = (int)(call_now_ms(c) - s->rung_at);
}

/* A phone still ringing when the caller leaves or another phone wins rang until now: its
 * CDR's ring_ms says so (the scoring counts how long an agent let a phone ring). */
static void hang_up_ringing(hl_call *c, queue_wait *q, const char *cause)
{
    for (int i = 0; i < OFFERS_MAX; i++)
        if (q->offers[i].state == SLOT_RINGING) {
            q->offers[i].state = SLOT_DONE;
            note_ring_time(c, &q->offers[i]);
            call_hangup_leg(c, q->offers[i].leg, 487, cause);
        }
}

/* Rings one offered agent; false when it cannot (the ACD is told it missed). */
static bool ring_agent(hl_call *c, queue_wait *q, const char *agent)
{
    offer_slot *s = NULL;
    for (int i = 0; i < OFFERS_MAX && !s; i++)
        if (q->offers[i].state != SLOT_RINGING)
            s = &q->offers[i];
    hl_leg *leg = NULL;
    if (s && c->nlegs < MAX_LEGS && c->env->dial_agent) {
        hl_dial_agent_opts o = {
            .timeout_ms = q->ring_ms, .from_user = c->legs[0]->from_user, .route = c->cdrs[0].route,
            .queue = q->queue, .waited_ms = hl_acd_waited_ms(acd_of(c), q->waiter), .call_id = c->id,
        };
        leg = c->env->dial_agent(c->env, c, agent, &o);
    }
    if (!leg)
        return false;
    int i = call_add_leg(c, leg);
    snprintf(leg->agent, sizeof leg->agent, "%s", agent);
    *s = (offer_slot){ .state = SLOT_RINGING, .leg = i, .rung_at = call_now_ms(c) };
    snprintf(s->agent, sizeof s->agent, "%s", agent);
    CALL_INFO(c, "%s: queue %s: ringing agent %s (leg %d)", c->id, q->queue, agent, i);
    return true;
}

/* The ACD's offer: may come at any time while the caller waits. */
static void on_offer(void *arg, hl_acd_waiter *w, const char *const *agents, int n)
{
    hl_call *c = arg;
    queue_wait *q = WAIT_STATE(c, queue_wait);
    q->waiter = w;                     /* an offer may come from inside the join itself */
    for (int i = 0; i < n; i++) {
        if (ring_agent(c, q, agents[i]))
            hl_acd_ringing(acd_of(c), w, agents[i]);
        else
            hl_acd_missed(acd_of(c), w, agents[i], "unreachable");
    }
}

static const hl_acd_waiter_ops waiter_ops = { .on_offer = on_offer };

/* ---- leaving ------------------------------------------------------------------------------- */

static void leave(hl_call *c, queue_wait *q, const char *outcome)
{
    hl_call_note_queue(c, q->queue, hl_acd_waited_ms(acd_of(c), q->waiter), outcome);
    hang_up_ringing(c, q, !strcmp(outcome, "answered") ? "answered-elsewhere" : "left-queue");
    hl_acd_waiter *w = q->waiter;
    q->waiter = NULL;
    hl_acd_leave(acd_of(c), w, outcome);
    if (q->playing != PLAYING_NOTHING && call_leg_up(c, 0) && c->legs[0]->ops->play_stop)
        c->legs[0]->ops->play_stop(c->legs[0]);
    q->playing = PLAYING_NOTHING;
}

static void finish(hl_call *c, queue_wait *q, const char *outcome, const char *detail)
{
    leave(c, q, outcome);
    lua_pushstring(c->co, outcome);
    if (detail)
        lua_pushstring(c->co, detail);
    call_complete(c, detail ? 2 : 1);
}

static void answered(hl_call *c, queue_wait *q, offer_slot *s)
{
    note_ring_time(c, s);
    s->state = SLOT_DONE;
    int leg = s->leg;
    char agent[AGENT_LEN];
    snprintf(agent, sizeof agent, "%s", s->agent);
    c->legs[leg]->acd_talking = true;
    leave(c, q, "answered");
    CALL_INFO(c, "%s: queue %s: agent %s answered (leg %d)", c->id, q->queue, agent, leg);
    lua_pushliteral(c->co, "answered");
    call_push_leg(c, c->co, leg);
    lua_pushstring(c->co, agent);
    call_complete(c, 3);
}

/* ---- the wait ------------------------------------------------------------------------------ */

static void arm_timer(hl_call *c, queue_wait *q)
{
    uint64_t now = call_now_ms(c), due = 0;
    if (q->next_announce)
        due = q->next_announce;
    if (q->deadline && (!due || q->deadline < due))
        due = q->deadline;
    if (due)
        hl_timer_start(c->env->timers, &c->t_wait, due > now ? due - now : 0, call_wait_timer, c);
}

static bool nobody_serves(hl_call *c, queue_wait *q)
{
    return q->if_empty && hl_acd_serving(acd_of(c), q->queue) == 0 && !any_ringing(q);
}

static void queue_timer(hl_call *c)
{
    queue_wait *q = WAIT_STATE(c, queue_wait);
    uint64_t now = call_now_ms(c);
    if (q->deadline && now >= q->deadline) {
        if (!any_ringing(q)) {
            finish(c, q, "timeout", NULL);
            return;
        }
        q->expired = true;          /* decided when the phone answers or gives up */
        q->deadline = 0;
    }
    if (q->next_announce && now >= q->next_announce) {
        if (nobody_serves(c, q)) {
            finish(c, q, "empty", NULL);
            return;
        }
        q->next_announce = now + (uint64_t)q->announce_every_ms;
        hl_acd_redispatch(acd_of(c)); /* a strategy may have waited for time (owner first) */
        if (!any_ringing(q) && q->playing != PLAYING_ANNOUNCEMENT)
            announce(c, q);             /* one still being read is not cut off */
    }
    arm_timer(c, q);
}

static bool offer_event(hl_call *c, queue_wait *q, offer_slot *s, const hl_leg_event *ev)
{
    switch (ev->type) {
    case HL_LEG_EV_ANSWERED:
        if (hl_acd_answered(acd_of(c), q->waiter, s->agent)) {
            answered(c, q, s);
            return true;
        }
        s->state = SLOT_DONE;          /* another phone won, or the ACD took it back */
        call_hangup_leg(c, s->leg, 0, "answered-elsewhere");
        return true;
    case HL_LEG_EV_FAILED:
    case HL_LEG_EV_HANGUP: {
        note_ring_time(c, s);
        s->state = SLOT_DONE;
        char reason[48];
        snprintf(reason, sizeof reason, "%s", ev->code == 408 || ev->code == 487 ? "no-answer"
                                              : ev->reason && *ev->reason ? ev->reason : "failed");
        hl_acd_missed(acd_of(c), q->waiter, s->agent, reason);
        if (q->expired && !any_ringing(q) && c->w.ops)
            finish(c, q, "timeout", NULL);
        return true;
    }
    default:
        return true;
    }
}

static bool queue_event(hl_call *c, int i, const hl_leg_event *ev)
{
    queue_wait *q = WAIT_STATE(c, queue_wait);
    offer_slot *s = i > 0 ? slot_of_leg(q, i) : NULL;
    if (s)
        return offer_event(c, q, s, ev);
    if (i != 0)
        return true;
    if (ev->type == HL_LEG_EV_DTMF) {
        if (!strchr(q->keys, ev->digit))
            return true;                /* keys other than the ways out are not typed ahead */
        char d[2] = { ev->digit, 0 };
        finish(c, q, "key", d);
        return true;
    }
    if (ev->type == HL_LEG_EV_PLAY_DONE && !ev->interrupted)
        play_music(c, q);               /* the music loops; an announcement returns to it */
    return true;
}

static void queue_cancel(hl_call *c)
{
    queue_wait *q = WAIT_STATE(c, queue_wait);
    if (q->waiter)
        leave(c, q, c->caller_gone ? "abandoned" : "cancelled");
}

/* The caller may key a way out (the simulator types then). */
static bool queue_awaits_input(const hl_call *c) { return WAIT_STATE(c, queue_wait)->keys[0] != 0; }

static const hl_wait_ops queue_ops = {
    .name = "queue", .on_event = queue_event, .on_timer = queue_timer, .cancel = queue_cancel,
    .awaits_input = queue_awaits_input,
};

/* ---- call:queue ---------------------------------------------------------------------------- */

enum { O_RING, O_MAX_WAIT, O_EVERY, O_MUSIC, O_POSITION, O_WAIT, O_KEYS, O_IF_EMPTY, O_OWNER }; /* call_api.c's queue_opts */

static int read_template(lua_State *L, const char *field, char (*out)[TEMPLATE_ITEM_LEN])
{
    int n = 0;
    if (lua_getfield(L, 3, field) == LUA_TTABLE) {
        lua_Integer len = luaL_len(L, -1);
        if (len > TEMPLATE_ITEMS)
            luaL_error(L, "queue: %s has %d items (at most %d)", field, (int)len, TEMPLATE_ITEMS);
        for (lua_Integer i = 1; i <= len; i++, n++) {
            lua_geti(L, -1, i);
            const char *s = lua_tostring(L, -1);
            if (lua_type(L, -1) != LUA_TSTRING || strlen(s) >= TEMPLATE_ITEM_LEN)
                luaL_error(L, "queue: %s item %d is not a prompt name or {placeholder}", field, (int)i);
            snprintf(out[n], TEMPLATE_ITEM_LEN, "%s", s);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return n;
}

int prim_queue(lua_State *L)
{
    hl_call *c = call_arg(L);
    const char *name = luaL_checkstring(L, 2);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:queue", o);
    if (!acd_of(c))
        return luaL_error(L, "queue: this engine has no ACD");
    if (o[O_MUSIC].s && strlen(o[O_MUSIC].s) >= TEMPLATE_ITEM_LEN)
        return luaL_error(L, "queue: music '%s' is not a prompt name", o[O_MUSIC].s);
    queue_wait *q = WAIT_STATE(c, queue_wait);
    memset(q, 0, sizeof *q);
    snprintf(q->queue, sizeof q->queue, "%s", name);
    q->ring_ms = (int)o[O_RING].i;
    q->announce_every_ms = (int)o[O_EVERY].i;
    q->if_empty = o[O_IF_EMPTY].b;
    snprintf(q->keys, sizeof q->keys, "%s", o[O_KEYS].s ? o[O_KEYS].s : "");
    snprintf(q->music, sizeof q->music, "%s", o[O_MUSIC].s ? o[O_MUSIC].s : "");
    q->npos = read_template(L, "announce_position", q->position);
    q->nwait = read_template(L, "announce_wait", q->wait);
    uint64_t now = call_now_ms(c);
    q->deadline = o[O_MAX_WAIT].i ? now + (uint64_t)o[O_MAX_WAIT].i : 0;
    q->next_announce = q->announce_every_ms ? now + (uint64_t)q->announce_every_ms : 0;
    if (q->if_empty && hl_acd_serving(acd_of(c), name) == 0) {
        hl_call_note_queue(c, name, 0, "empty");
        lua_pushliteral(L, "empty");
        return 1;
    }
    /* the wait is in place before the join: the ACD may offer an agent from inside it */
    c->w.ops = &queue_ops;
    char err[160];
    q->waiter = hl_acd_join(acd_of(c), name, c->legs[0]->from_user, c->id, o[O_OWNER].s, q->ring_ms,
                            &waiter_ops, c, err, sizeof err);
    if (!q->waiter) {
        c->w.ops = NULL;
        hang_up_ringing(c, q, "left-queue");
        return luaL_error(L, "queue: %s", err);
    }
    CALL_INFO(c, "%s: joined queue %s at position %d", c->id, name, hl_acd_position(acd_of(c), q->waiter));
    if (c->w.ops != &queue_ops)      /* answered from inside the join cannot happen: answers are events */
        return lua_yield(L, 0);
    play_music(c, q);
    arm_timer(c, q);
    if (q->keys[0])
        call_mark_awaiting(c);
    return lua_yield(L, 0);
}
