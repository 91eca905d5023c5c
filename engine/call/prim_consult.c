/* prim_consult.c — call:consult: the attended transfer's consultation.  The caller holds
 * (music) while the agent who asked for the transfer talks to its target on a leg of this
 * call; the agent's keys then complete it (the caller goes to the target) or cancel it (back
 * to the agent).  The script does the hand-over with call:bridge afterwards; this primitive
 * only holds the three parties as a consultation and says how it ended.  Each end is kept
 * in the agent leg's CDR (transfers).
 *
 * Results: "complete" (the complete code, or the agent hung up: a transferor hanging up
 * completes, as on a PBX) | "cancel" (the cancel code) | "target-gone" (the target hung up). */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <string.h>

#define CODE_MAX 8
#define ITEM_MAX 48

typedef struct consult_state {
    int  agent, target;                     /* leg indexes */
    char complete[CODE_MAX], cancel[CODE_MAX];
    char keys[CODE_MAX];
    char music[ITEM_MAX];
} consult_state;
WAIT_STATE_FITS(consult_state);

static consult_state *st(hl_call *c) { return WAIT_STATE(c, consult_state); }

static void play_music(hl_call *c, consult_state *k)
{
    const char *items[1] = { k->music };
    if (k->music[0] && call_leg_up(c, 0) && c->legs[0]->ops->play)
        c->legs[0]->ops->play(c->legs[0], items, 1);
}

static void part(hl_call *c, consult_state *k)
{
    hl_leg *a = c->legs[k->agent];
    if (a->ops->unbridge)
        a->ops->unbridge(a);
    if (call_leg_up(c, 0) && c->legs[0]->ops->play_stop)
        c->legs[0]->ops->play_stop(c->legs[0]);
}

static void finish(hl_call *c, consult_state *k, const char *how)
{
    part(c, k);
    hl_leg *t = c->legs[k->target];
    const char *target = t->agent[0] ? t->agent : t->to_user;
    hl_cdr_transfer_add(&c->cdrs[k->agent], "attended", target, call_now_wall(c),
                        !strcmp(how, "cancel") || !strcmp(how, "target-gone") ? "cancelled" : "completed");
    CALL_INFO(c, "%s: consultation of leg %d with leg %d: %s", c->id, k->agent, k->target, how);
    lua_pushstring(c->co, how);
    call_complete(c, 1);
}

static bool consult_event(hl_call *c, int i, const hl_leg_event *ev)
{
    consult_state *k = st(c);
    if (i == k->agent && ev->type == HL_LEG_EV_DTMF) {
        size_t n = strlen(k->keys);
        if (ev->digit == '*')
            n = 0;
        if (n + 1 < sizeof k->keys)
            k->keys[n] = ev->digit, k->keys[n + 1] = 0;
        if (!strcmp(k->keys, k->complete))
            finish(c, k, "complete");
        else if (!strcmp(k->keys, k->cancel))
            finish(c, k, "cancel");
    } else if (ev->type == HL_LEG_EV_HANGUP && i == k->agent) {
        finish(c, k, "complete");
    } else if (ev->type == HL_LEG_EV_HANGUP && i == k->target) {
        finish(c, k, "target-gone");
    } else if (i == 0 && ev->type == HL_LEG_EV_PLAY_DONE && !ev->interrupted) {
        play_music(c, k);
    }
    return true;
}

static void consult_cancel(hl_call *c) { part(c, st(c)); }

static const hl_wait_ops consult_ops = { .name = "consult", .on_event = consult_event, .cancel = consult_cancel };

enum { O_COMPLETE, O_CANCEL, O_MUSIC };   /* call_api.c's consult_opts */

static void copy_code(lua_State *L, char *out, const char *s, const char *what)
{
    if (!s || !*s || strlen(s) >= CODE_MAX || strspn(s, "0123456789*#") != strlen(s))
        luaL_error(L, "consult: %s code '%s' must be keys (e.g. \"*5\")", what, s ? s : "");
    snprintf(out, CODE_MAX, "%s", s);
}

int prim_consult(lua_State *L)
{
    hl_call *c = call_arg(L);
    int agent = call_leg_index_of(L, c, 2), target = call_leg_index_of(L, c, 3);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:consult", o);
    consult_state *k = st(c);
    memset(k, 0, sizeof *k);
    if (agent == 0 || target == 0 || agent == target)
        return luaL_error(L, "consult: two legs other than the caller's");
    copy_code(L, k->complete, o[O_COMPLETE].s, "complete");
    copy_code(L, k->cancel, o[O_CANCEL].s, "cancel");
    if (o[O_MUSIC].s && strlen(o[O_MUSIC].s) >= ITEM_MAX)
        return luaL_error(L, "consult: music '%s' is not a prompt name", o[O_MUSIC].s);
    snprintf(k->music, sizeof k->music, "%s", o[O_MUSIC].s ? o[O_MUSIC].s : "");
    k->agent = agent, k->target = target;
    hl_leg *a = c->legs[agent];
    if (!call_leg_up(c, agent) || !call_leg_up(c, target)) {
        lua_pushstring(L, !call_leg_up(c, target) ? "target-gone" : "complete");
        return 1;
    }
    if (!a->ops->bridge || a->ops->bridge(a, c->legs[target]) != 0)
        return luaL_error(L, "consult: the two legs cannot be bridged");
    play_music(c, k);
    call_wait(c, &consult_ops, CALL_NO_TIMER);
    return lua_yield(L, 0);
}
