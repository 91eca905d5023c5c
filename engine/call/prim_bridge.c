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
 * how long until the party came back to the caller (back_within_ms: the hold's length) go
 * to the other leg's CDR (hold_log) for the scoring (chapter 6: 等待超过30秒 ...).  A phone
 * that holds (sendonly) is sent nothing (RFC 3264: we answer recvonly), so it plays its
 * own hold indication: the reminders are counted, and heard only by a phone that keeps
 * receiving.
 *
 * Keys: the caller's are passed to the other party (RFC 4733); so are the other party's,
 * except its feature codes (below: from '*' to '#').
 * Transfers: the other party asks for one by REFER from its phone (blind: the phone is
 * told 200 and its leg hung up) or by keys — the `transfer` code then a target and # (blind),
 * the `consult` code then a target and # (attended: the leg stays up for call:consult).  The
 * target is the script's to resolve (an agent, a queue, the shift leader); each transfer
 * goes to the other leg's CDR (transfers).
 *
 * Results: "callee" (the other leg hung up) | "transfer", target (blind; the other leg is
 * gone) | "consult", target (the other leg stays up, unbridged) — the caller hanging up
 * ends the script. */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define ITEM_MAX 48           /* a prompt name or tone item */
#define CODE_MAX 8            /* a feature code ("*3") */
#define KEYS_MAX 40           /* a code, a target and # */

typedef struct bridge_state {
    bool     recording, held;
    char     rel[256];        /* the recording, relative to the recordings folder */
    char     hold_music[ITEM_MAX], reminder[ITEM_MAX];
    int      reminder_every;
    uint64_t hold_start;      /* engine ms */
    int      reminders;       /* of the current hold */
    double   started;         /* wall time the bridge began (a caller who never spoke: silent since) */
    char     transfer_code[CODE_MAX], consult_code[CODE_MAX];
    char     keys[KEYS_MAX];  /* the other party's keys since its last '*' */
} bridge_state;
WAIT_STATE_FITS(bridge_state);

static bridge_state *st(hl_call *c) { return WAIT_STATE(c, bridge_state); }

static void play_one(hl_call *c, hl_leg *leg, const char *item)
{
    const char *items[1] = { item };
    if (item[0] && leg->state != HL_LEG_ENDED)
        call_leg_play(c, leg, items, 1);
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
    play_one(c, c->legs[0], b->hold_music);
    if (b->reminder_every)
        hl_timer_start(c->env->timers, &c->t_wait, (uint64_t)b->reminder_every, call_wait_timer, c);
}

/* A hold under way ends (taken back, transfer, hang-up): into the other leg's CDR. */
static void hold_over(hl_call *c, bridge_state *b)
{
    if (!b->held)
        return;
    hl_timer_stop(c->env->timers, &c->t_wait);
    b->held = false;
    call_note_hold(c, c->w.leg, call_now_ms(c) - b->hold_start, b->reminders);
}

static void hold_ends(hl_call *c, bridge_state *b)
{
    hold_over(c, b);
    join(c);
}

static void bridge_timer(hl_call *c)
{
    bridge_state *b = st(c);
    if (!b->held)
        return;
    b->reminders++;
    play_one(c, c->legs[c->w.leg], b->reminder);
    hl_timer_start(c->env->timers, &c->t_wait, (uint64_t)b->reminder_every, call_wait_timer, c);
}

/* ---- the wait ------------------------------------------------------------------------------ */

/* Who ended the talk, on both legs' CDRs: the other party ("agent" on an agent's leg) with
 * how long after the caller last spoke (chapter 6: the caller hangs up first, or the agent
 * waits 3 s of silence), the caller, or the engine. */
static void note_hangup_first(hl_call *c, const char *who)
{
    hl_leg *l0 = c->legs[0], *other = c->legs[c->w.leg];
    const char *side = !strcmp(who, "other") ? (other->agent[0] ? "agent" : "callee") : who;
    int64_t gap = -1;
    if (!strcmp(who, "other") && l0->ops->last_voice) {
        double last = l0->ops->last_voice(l0), since = st(c)->started;
        if (last < since)                  /* silent since the talk began (or never spoke) */
            last = since;
        if (last > 0)
            gap = (int64_t)((call_now_wall(c) - last) * 1000.0);
    }
    for (int i = 0; i < 2; i++) {
        hl_cdr *d = &c->cdrs[i ? c->w.leg : 0];
        if (d->hangup_first[0])
            continue;
        snprintf(d->hangup_first, sizeof d->hangup_first, "%s", side);
        d->hangup_gap_ms = gap;
    }
}

static void stop_recording(hl_call *c, bridge_state *b)
{
    if (b->recording && call_leg_up(c, 0) && c->legs[0]->ops->record_stop)
        c->legs[0]->ops->record_stop(c->legs[0]);
    b->recording = false;
}

/* ---- transfers ----------------------------------------------------------------------------- */

/* Ends the bridge for a transfer: kind "transfer" (the other leg goes) or "consult". */
static void transfer_out(hl_call *c, bridge_state *b, const char *kind, const char *target)
{
    int i = c->w.leg;
    hold_over(c, b);
    bool blind = !strcmp(kind, "transfer");
    hl_cdr_transfer_add(&c->cdrs[i], blind ? "blind" : "attended", target, call_now_wall(c),
                        blind ? "handed-over" : "consulting");
    CALL_INFO(c, "%s: leg %d asks for a %s transfer to %s", c->id, i, blind ? "blind" : "attended", target);
    if (blind) {
        note_hangup_first(c, "other");
        stop_recording(c, b);
        unbridge(c);
        call_hangup_leg(c, i, 0, "transferred");
    } else {                                      /* the next bridge records the next talk */
        stop_recording(c, b);
        unbridge(c);
        play_one(c, c->legs[0], b->hold_music);
    }
    lua_pushstring(c->co, kind);
    lua_pushstring(c->co, target);
    call_complete(c, 2);
}

/* A key of the other party: a code, a target, # (keys outside a code are the talk's). */
static void other_key(hl_call *c, bridge_state *b, char k)
{
    size_t n = strlen(b->keys);
    if (k == '*' && n && b->keys[n - 1] != '*')
        n = 0;                                    /* a new code starts */
    if (n == 0 && k != '*') {                     /* not a code: the caller hears it */
        hl_leg *l0 = c->legs[0];
        if (!b->held && call_leg_up(c, 0) && l0->ops->send_dtmf)
            l0->ops->send_dtmf(l0, k, 0);
        return;
    }
    if (k != '#') {
        if (n + 1 < sizeof b->keys)
            b->keys[n] = k, b->keys[n + 1] = 0;
        return;
    }
    const char *codes[2] = { b->transfer_code, b->consult_code };
    const char *kinds[2] = { "transfer", "consult" };
    for (int j = 0; j < 2; j++) {
        size_t len = strlen(codes[j]);
        if (len && !strncmp(b->keys, codes[j], len) && b->keys[len]) {
            char target[KEYS_MAX];
            snprintf(target, sizeof target, "%s", b->keys + len);
            b->keys[0] = 0;
            transfer_out(c, b, kinds[j], target);
            return;
        }
    }
    b->keys[0] = 0;
}

static bool bridge_event(hl_call *c, int i, const hl_leg_event *ev)
{
    bridge_state *b = st(c);
    if (i == c->w.leg && ev->type == HL_LEG_EV_DTMF) {
        other_key(c, b, ev->digit);
        return true;
    }
    if (i == 0 && ev->type == HL_LEG_EV_DTMF) {           /* the caller's keys reach the party */
        hl_leg *other = c->legs[c->w.leg];
        if (!b->held && other->ops->send_dtmf)
            other->ops->send_dtmf(other, ev->digit, ev->duration_ms);
        return true;
    }
    if (i == c->w.leg && ev->type == HL_LEG_EV_REFER) {
        hl_leg *leg = c->legs[i];
        const char *target = ev->target && *ev->target ? ev->target : NULL;
        if (leg->ops->refer_notify)
            leg->ops->refer_notify(leg, target ? 200 : 400);
        if (target)
            transfer_out(c, b, "transfer", target);
        return true;
    }
    if (i == c->w.leg && ev->type == HL_LEG_EV_HOLD && !b->held)
        hold_begins(c, b);
    else if (i == c->w.leg && ev->type == HL_LEG_EV_RESUME && b->held)
        hold_ends(c, b);
    else if (i == 0 && ev->type == HL_LEG_EV_PLAY_DONE && b->held && !ev->interrupted)
        play_one(c, c->legs[0], b->hold_music);              /* the music loops */
    else if (ev->type == HL_LEG_EV_HANGUP && i == c->w.leg) {
        note_hangup_first(c, "other");
        hold_over(c, b);
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
    note_hangup_first(c, c->caller_gone ? "caller" : "engine");
    hold_over(c, b);
    stop_recording(c, b);
    unbridge(c);
}

/* `ctl transfer`: as if the other party had keyed the code. */
static const char *bridge_request(hl_call *c, const char *kind, const char *target)
{
    bool blind = !strcmp(kind, "blind");
    if (!blind && strcmp(kind, "attended") != 0)
        return "no consultation is under way to complete or cancel";
    if (!*target || strlen(target) >= KEYS_MAX || strspn(target, "0123456789*.abcdefghijklmnopqrstuvwxyz") != strlen(target))
        return "the target must be an agent's number, a queue's name or the leader's key";
    transfer_out(c, st(c), blind ? "transfer" : "consult", target);
    return NULL;
}

static const hl_wait_ops bridge_ops = {
    .name = "bridge", .on_event = bridge_event, .on_timer = bridge_timer, .cancel = bridge_cancel,
    .takes_refer = true, .on_request = bridge_request,
};

/* ---- call:bridge --------------------------------------------------------------------------- */

enum { O_RECORD, O_STEREO, O_HOLD_MUSIC, O_REMINDER, O_REMINDER_EVERY, O_TRANSFER, O_CONSULT }; /* bridge_opts */

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
    const char *codes[2] = { o[O_TRANSFER].s ? o[O_TRANSFER].s : "", o[O_CONSULT].s ? o[O_CONSULT].s : "" };
    for (int j = 0; j < 2; j++)
        if (strlen(codes[j]) >= CODE_MAX || (codes[j][0] && (codes[j][0] != '*' || strspn(codes[j], "0123456789*") != strlen(codes[j]))))
            return luaL_error(L, "bridge: %s code '%s' must be * and digits", j ? "consult" : "transfer", codes[j]);
    snprintf(b->transfer_code, sizeof b->transfer_code, "%s", codes[0]);
    snprintf(b->consult_code, sizeof b->consult_code, "%s", codes[1]);
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
    b->started = call_now_wall(c);
    if (c->legs[i]->agent[0])                     /* the caller's CDR: the agent talked to last */
        snprintf(c->cdrs[0].agent, sizeof c->cdrs[0].agent, "%s", c->legs[i]->agent);
    if (rel)
        start_recording(c, b, rel, o[O_STEREO].b);
    call_wait(c, &bridge_ops, CALL_NO_TIMER);
    return lua_yield(L, 0);
}
