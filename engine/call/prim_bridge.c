/* prim_bridge.c — call:bridge: the caller and another leg talk until one of them hangs up,
 * recorded when the script says, with the far end's hold handled.
 *
 * Recording: both parties into one file under the recordings folder (mixed mono, or the
 * caller left and the other party right with stereo), started with the bridge and finished
 * when it ends (crash-safe as every recording: media/ repairs an unfinished file at start);
 * the path goes to both legs' CDRs.
 * Hold: when the other leg puts the caller on hold (its phone's re-INVITE), the caller hears
 * hold_music and the other party a reminder every reminder_every ms (SPEC 3: every 30 s),
 * each counted; taking the call back bridges the two again.  Every hold, its reminders and
 * how long the party took to come back after the first reminder was due go to the other
 * leg's CDR (hold_log) for the scoring (chapter 6: 等待超过30秒 ...).
 *
 * Results: "callee" (the other leg hung up) — the caller hanging up ends the script. */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define ITEM_MAX 48           /* a prompt name or tone item */

typedef struct bridge_state {
    bool     recording, held;
    char     rel[256];        /* the recording, relative to the recordings folder */
    char     hold_music[ITEM_MAX], reminder[ITEM_MAX];
    int      reminder_every;
    uint64_t hold_start;      /* engine ms */
    int      reminders;       /* of the current hold */
} bridge_state;
WAIT_STATE_FITS(bridge_state);

static bridge_state *st(hl_call *c) { return WAIT_STATE(c, bridge_state); }

static void play_one(hl_leg *leg, const char *item)
{
    const char *items[1] = { item };
    if (item[0] && leg->state != HL_LEG_ENDED && leg->ops->play)
        leg->ops->play(leg, items, 1);
}

static void join(hl_call *c)
{
    hl_leg *l0 = c->legs[0], *other = c->legs[c->w.leg];
    if (l0->ops->play_stop)
        l0->ops->play_stop(l0);
    if (l0->ops->bridge)
        l0->ops->bridge(l0, other);
}

static void unbridge(hl_call *c)
{
    if (call_leg_up(c, 0) && c->legs[0]->ops->unbridge)
        c->legs[0]->ops->unbridge(c->legs[0]);
}

/* ---- hold ---------------------------------------------------------------------------------- */

static void hold_begins(hl_call *c, bridge_state *b)
{
    b->held = true;
    b->hold_start = call_now_ms(c);
    b->reminders = 0;
    unbridge(c);
    play_one(c->legs[0], b->hold_music);
    if (b->reminder_every)
        hl_timer_start(c->env->timers, &c->t_wait, (uint64_t)b->reminder_every, call_wait_timer, c);
}

static void hold_ends(hl_call *c, bridge_state *b)
{
    uint64_t len = call_now_ms(c) - b->hold_start;
    hl_timer_stop(c->env->timers, &c->t_wait);
    b->held = false;
    call_note_hold(c, c->w.leg, b->hold_start, len, b->reminders, false);
    join(c);
}

static void bridge_timer(hl_call *c)
{
    bridge_state *b = st(c);
    if (!b->held)
        return;
    b->reminders++;
    play_one(c->legs[c->w.leg], b->reminder);
    hl_timer_start(c->env->timers, &c->t_wait, (uint64_t)b->reminder_every, call_wait_timer, c);
}

/* ---- the wait ------------------------------------------------------------------------------ */

static void stop_recording(hl_call *c, bridge_state *b)
{
    if (b->recording && call_leg_up(c, 0) && c->legs[0]->ops->record_stop)
        c->legs[0]->ops->record_stop(c->legs[0]);
    b->recording = false;
}

/* Who ended the talk (CDR hangup_first, item 7: scoring asks who hung up first), on both
 * legs' records: "agent" when the other leg is an agent's, "caller", or "engine" (the script
 * or a shutdown ended the bridge).  The gap since the caller last spoke is not measured
 * yet: -1 (unknown) when the agent hung up first. */
static void note_hangup_first(hl_call *c, const char *who)
{
    int legs[2] = { 0, c->w.leg };
    for (int k = 0; k < 2; k++) {
        snprintf(c->cdrs[legs[k]].hangup_first, sizeof c->cdrs[legs[k]].hangup_first, "%s", who);
        c->cdrs[legs[k]].hangup_gap_ms = strcmp(who, "agent") ? 0 : -1;
    }
}

static bool bridge_event(hl_call *c, int i, const hl_leg_event *ev)
{
    bridge_state *b = st(c);
    if (i == c->w.leg && ev->type == HL_LEG_EV_HOLD && !b->held)
        hold_begins(c, b);
    else if (i == c->w.leg && ev->type == HL_LEG_EV_RESUME && b->held)
        hold_ends(c, b);
    else if (i == 0 && ev->type == HL_LEG_EV_PLAY_DONE && b->held && !ev->interrupted)
        play_one(c->legs[0], b->hold_music);              /* the music loops */
    else if (ev->type == HL_LEG_EV_HANGUP && i == c->w.leg) {
        if (b->held)
            call_note_hold(c, i, b->hold_start, call_now_ms(c) - b->hold_start, b->reminders, true);
        note_hangup_first(c, c->legs[i]->agent[0] ? "agent" : "callee");
        stop_recording(c, b);
        unbridge(c);
        lua_pushliteral(c->co, "callee");
        call_complete(c, 1);
    }
    return true;   /* keys go to the far end with the audio; nothing is typed ahead */
}

static void bridge_cancel(hl_call *c)
{
    bridge_state *b = st(c);
    if (b->held)
        call_note_hold(c, c->w.leg, b->hold_start, call_now_ms(c) - b->hold_start, b->reminders, true);
    note_hangup_first(c, c->caller_gone ? "caller" : "engine");
    stop_recording(c, b);
    unbridge(c);
}

static const hl_wait_ops bridge_ops = {
    .name = "bridge", .on_event = bridge_event, .on_timer = bridge_timer, .cancel = bridge_cancel,
};

/* ---- call:bridge --------------------------------------------------------------------------- */

enum { O_RECORD, O_STEREO, O_HOLD_MUSIC, O_REMINDER, O_REMINDER_EVERY };   /* call_api.c's bridge_opts */

static void copy_item(lua_State *L, char *out, const char *s, const char *what)
{
    if (s && strlen(s) >= ITEM_MAX)
        luaL_error(L, "bridge: %s '%s' is not a prompt name", what, s);
    snprintf(out, ITEM_MAX, "%s", s ? s : "");
}

/* Starts the recording of both parties; false (logged) when it cannot. */
static bool start_recording(hl_call *c, bridge_state *b, const char *rel, bool stereo)
{
    snprintf(b->rel, sizeof b->rel, "%s%s", rel, strstr(rel, ".wav") ? "" : ".wav");
    if (call_disk_too_full(c, b->rel))
        return false;
    hl_record_opts r = { .both_legs = true, .stereo = stereo, .silence_level = c->env->cfg->silence_level };
    snprintf(r.path, sizeof r.path, "%s/%s", c->env->recordings_dir ? c->env->recordings_dir : ".", b->rel);
    hl_leg *l0 = c->legs[0];
    if (!l0->ops->record_start || l0->ops->record_start(l0, &r) != 0) {
        hl_warn("call", "%s: the bridge's recording %s could not start", c->id, b->rel);
        return false;
    }
    b->recording = true;
    snprintf(c->cdrs[0].recording, sizeof c->cdrs[0].recording, "%s", b->rel);
    snprintf(c->cdrs[c->w.leg].recording, sizeof c->cdrs[c->w.leg].recording, "%s", b->rel);
    return true;
}

int prim_bridge(lua_State *L)
{
    hl_call *c = call_arg(L);
    int i = call_leg_index_of(L, c, 2);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:bridge", o);
    const char *rel = o[O_RECORD].s;
    if (rel && !call_rel_path_valid(rel))
        return luaL_error(L, "bridge: record '%s' is not a valid relative name (letters, digits, "
                             "_ - . /, no '..')", rel);
    bridge_state *b = st(c);
    memset(b, 0, sizeof *b);
    copy_item(L, b->hold_music, o[O_HOLD_MUSIC].s, "hold_music");
    copy_item(L, b->reminder, o[O_REMINDER].s, "reminder");
    b->reminder_every = (int)o[O_REMINDER_EVERY].i;
    hl_leg *l0 = c->legs[0];
    if (!call_leg_up(c, i)) {
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
    c->w.leg = i;
    if (rel)
        start_recording(c, b, rel, o[O_STEREO].b);
    call_wait(c, &bridge_ops, CALL_NO_TIMER);
    return lua_yield(L, 0);
}
