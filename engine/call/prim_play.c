/* prim_play.c — call:play and call:say_digits / say_number / say_amount / say_date: a
 * playlist on the caller's leg, with barge-in (a key ends it and is returned; a key typed
 * earlier skips it); a sensitive say_* is one masked word in the CDR.  Also the playlist
 * helpers collect's and record's prompts use. */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "media/prompts.h"
#include "media/say.h"

#define SILENCE_MAX_MS 60000   /* one "silence:MS" item; a longer pause is a mistake */
#define SAY_MASKED "say:x"      /* the CDR's word for a sensitive say_* (docs/lua-api.md) */

enum { O_BARGE, O_SENSITIVE };  /* say_opts of call_api.c */

typedef struct play_state { bool barge; } play_state;
WAIT_STATE_FITS(play_state);

static bool item_valid(const char *s)
{
    if (!strncmp(s, "silence:", 8)) {
        char *end;
        long ms = strtol(s + 8, &end, 10);
        return *end == 0 && end != s + 8 && ms > 0 && ms <= SILENCE_MAX_MS;
    }
    if (!strncmp(s, "tone:", 5)) {
        if (!s[5])
            return false;
        for (const char *p = s + 5; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                return false;
        return true;
    }
    return hl_prompt_name_valid(s);
}

void call_add_item(lua_State *L, hl_call *c, const char *s, const char *what)
{
    if (c->nitems >= MAX_ITEMS)
        luaL_error(L, "%s: more than %d items in one playlist", what, MAX_ITEMS);
    if (strlen(s) >= ITEM_LEN || !item_valid(s))
        luaL_error(L, "%s: prompt '%s' is not a valid name", what, s);
    snprintf(c->item_buf[c->nitems], ITEM_LEN, "%s", s);
    c->items[c->nitems] = c->item_buf[c->nitems];
    c->nitems++;
}

/* Reads a playlist: one name, or a list of names. */
void call_parse_items(lua_State *L, hl_call *c, int idx, const char *what)
{
    c->nitems = 0;
    if (lua_type(L, idx) == LUA_TSTRING) {
        call_add_item(L, c, lua_tostring(L, idx), what);
        return;
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: expected a prompt name or a list of them", what);
    lua_Integer n = luaL_len(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: item %d is not a prompt name", what, (int)i);
        call_add_item(L, c, lua_tostring(L, -1), what);
        lua_pop(L, 1);
    }
}

int call_start_play_as(hl_call *c, const char *shown)
{
    for (int i = 0; !shown && i < c->nitems; i++)
        if (strncmp(c->items[i], "silence:", 8) != 0)
            hl_cdr_append(c->cdrs[0].prompts, sizeof c->cdrs[0].prompts, c->items[i]);
    if (shown)
        hl_cdr_append(c->cdrs[0].prompts, sizeof c->cdrs[0].prompts, shown);
    return call_leg_play(c, c->legs[0], (const char *const *)c->items, c->nitems);
}

int call_leg_play(hl_call *c, hl_leg *leg, const char *const *items, int n)
{
    return leg->ops->play ? leg->ops->play(leg, hl_policy_prompts(c->policy), items, n) : -1;
}

int call_start_play(hl_call *c) { return call_start_play_as(c, NULL); }

/* ---- the wait ---------------------------------------------------------------------------- */

static bool play_event(hl_call *c, int leg, const hl_leg_event *ev)
{
    hl_leg *l0 = c->legs[0];
    if (ev->type == HL_LEG_EV_PLAY_DONE) {
        call_complete(c, 0);
        return true;
    }
    if (ev->type != HL_LEG_EV_DTMF || !WAIT_STATE(c, play_state)->barge)
        return false; /* without barge-in a key is typed ahead */
    if (l0->ops->play_stop)
        l0->ops->play_stop(l0);
    call_push_key(c->co, ev->digit);
    call_complete(c, 1);
    return true;
}

static void play_cancel(hl_call *c)
{
    if (call_leg_up(c, 0) && c->legs[0]->ops->play_stop)
        c->legs[0]->ops->play_stop(c->legs[0]);
}

static bool play_awaits_input(const hl_call *c) { return WAIT_STATE(c, play_state)->barge; }

const hl_wait_ops hl_wait_play = {
    .name = "play", .on_event = play_event, .cancel = play_cancel, .awaits_input = play_awaits_input,
};

/* Plays the parsed items (shown in the CDR as `shown` when not NULL); with barge_in, a key
 * ends it (and a key already typed skips it). */
static int play_parsed(lua_State *L, hl_call *c, bool barge, const char *shown)
{
    if (barge)
        call_input_begins(c, false);
    if (barge && c->nkeys) {
        call_push_key(L, call_pop_key(c));
        return 1;
    }
    if (c->nitems == 0 || call_start_play_as(c, shown) != 0)
        return 0;
    WAIT_STATE(c, play_state)->barge = barge;
    call_wait(c, &hl_wait_play, CALL_NO_TIMER);
    if (barge)
        call_mark_awaiting(c);
    return lua_yield(L, 0);
}

/* ---- call:play, call:say_* --------------------------------------------------------------- */

int prim_play(lua_State *L)
{
    hl_call *c = call_arg(L);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:play", o);
    call_parse_items(L, c, 2, "play");
    return play_parsed(L, c, o[0].b, NULL);
}

static int say_common(lua_State *L, hl_call *c, hl_say_word *words, int n, const char *what, const char *in)
{
    if (n < 0)
        return luaL_error(L, "%s: cannot read '%s' aloud", what, in);
    char prim[32];
    snprintf(prim, sizeof prim, "call:%s", what);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, prim, o);
    c->nitems = 0;
    for (int i = 0; i < n; i++)
        call_add_item(L, c, words[i], what);
    /* sensitive: what was read (a balance, a date) is the caller's; the CDR says only that
     * something was */
    return play_parsed(L, c, o[O_BARGE].b, o[O_SENSITIVE].b ? SAY_MASKED : NULL);
}

static const char *number_arg(lua_State *L, int idx, char *buf, int len, bool money)
{
    if (lua_isinteger(L, idx))
        snprintf(buf, len, "%lld", (long long)lua_tointeger(L, idx));
    else if (lua_type(L, idx) == LUA_TNUMBER)
        snprintf(buf, len, money ? "%.2f" : "%.6g", lua_tonumber(L, idx));
    else
        snprintf(buf, len, "%s", luaL_checkstring(L, idx));
    return buf;
}

/* say_digits / say_number / say_amount: the text of argument 2 read by one of say.h's
 * functions, then played like say_date. */
static int say_text(lua_State *L, const char *what, bool amount,
                    int (*reading)(const char *, hl_say_word *, int))
{
    hl_call *c = call_arg(L);
    char buf[80];
    const char *s = number_arg(L, 2, buf, sizeof buf, amount);
    hl_say_word w[HL_SAY_MAX];
    return say_common(L, c, w, reading(s, w, HL_SAY_MAX), what, s);
}

int prim_say_digits(lua_State *L) { return say_text(L, "say_digits", false, hl_say_digits); }
int prim_say_number(lua_State *L) { return say_text(L, "say_number", false, hl_say_number); }
int prim_say_amount(lua_State *L) { return say_text(L, "say_amount", true, hl_say_amount); }

/* One field of say_date's {year=, month=, day=} */
static int date_field(lua_State *L, const char *k, int lo, int hi)
{
    lua_getfield(L, 2, k);
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || v < lo || v > hi)
        luaL_error(L, "say_date: %s must be a whole number from %d to %d", k, lo, hi);
    return (int)v;
}

/* say_date(t | "YYYY-MM-DD" | {year=, month=, day=}) */
int prim_say_date(lua_State *L)
{
    hl_call *c = call_arg(L);
    int y = 0, m = 0, d = 0;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        time_t t = (time_t)lua_tonumber(L, 2) + HL_CENTRE_UTC_OFFSET;
        struct tm tm;
        gmtime_r(&t, &tm);
        y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        if (sscanf(lua_tostring(L, 2), "%d-%d-%d", &y, &m, &d) != 3)
            return luaL_error(L, "say_date: '%s' is not YYYY-MM-DD", lua_tostring(L, 2));
    } else if (lua_istable(L, 2)) {
        y = date_field(L, "year", 1, 9999);
        m = date_field(L, "month", 1, 12);
        d = date_field(L, "day", 1, 31);
    } else {
        return luaL_error(L, "say_date: expected a time, \"YYYY-MM-DD\" or {year, month, day}");
    }
    hl_say_word w[HL_SAY_MAX];
    char in[40];
    snprintf(in, sizeof in, "%d-%d-%d", y, m, d);
    return say_common(L, c, w, hl_say_date(y, m, d, w, HL_SAY_MAX), "say_date", in);
}
