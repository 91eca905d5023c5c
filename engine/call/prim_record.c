/* prim_record.c — call:record: an optional beep, then the caller's audio to a WAV under
 * the recordings folder until max, silence, a stop key or a hang-up.
 *
 * The stop keys are the call's, not the media's: every key reaches the call however it
 * came (RFC 4733, SIP INFO, the simulator), goes into the CDR's dtmf like any other, and
 * stops the recording here — so the CDR is the same whichever way the key came. */
#include "call/call_priv.h"
#include "core/files.h"
#include "core/log.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define RECORD_GRACE_MS 2000   /* the recorder's own max reports first; this catches one that does not */
#define STOP_KEYS_MAX 16

typedef struct record_state {
    hl_record_opts rec;
    char      rel[256];               /* the path the script gave, with .wav */
    char      stop_keys[STOP_KEYS_MAX + 1];
    uint64_t  start;
} record_state;
WAIT_STATE_FITS(record_state);

static record_state *st(const hl_call *c) { return WAIT_STATE((hl_call *)c, record_state); }

static void push_result(hl_call *c, const char *reason, int duration_ms)
{
    lua_State *co = c->co;
    record_state *r = st(c);
    if (duration_ms <= 0)
        duration_ms = (int)(call_now_ms(c) - r->start);
    snprintf(c->cdrs[0].recording, sizeof c->cdrs[0].recording, "%s", r->rel);
    lua_createtable(co, 0, 3);
    lua_pushstring(co, r->rel);
    lua_setfield(co, -2, "path");
    lua_pushnumber(co, duration_ms / 1000.0);
    lua_setfield(co, -2, "duration");
    lua_pushstring(co, reason);
    lua_setfield(co, -2, "reason");
}

static void stop_recorder(hl_call *c)
{
    if (call_leg_up(c, 0) && c->legs[0]->ops->record_stop)
        c->legs[0]->ops->record_stop(c->legs[0]);
}

/* ---- recording ------------------------------------------------------------------------- */

static bool record_event(hl_call *c, int leg, const hl_leg_event *ev)
{
    if (ev->type == HL_LEG_EV_DTMF) {
        if (strchr(st(c)->stop_keys, ev->digit)) {
            stop_recorder(c);
            push_result(c, "key", 0);
            call_complete(c, 1);
        }
        return true; /* keys during a recording are not typed ahead */
    }
    if (ev->type == HL_LEG_EV_RECORD_DONE) {
        push_result(c, ev->reason ? ev->reason : "stopped", ev->duration_ms);
        call_complete(c, 1);
    }
    return true;
}

static void record_timer(hl_call *c)
{
    stop_recorder(c);
    push_result(c, "max", (int)(call_now_ms(c) - st(c)->start));
    call_complete(c, 1);
}

static bool record_awaits_input(const hl_call *c) { return st(c)->stop_keys[0] != 0; }

static const hl_wait_ops record_ops = {
    .name = "record", .on_event = record_event, .on_timer = record_timer, .cancel = stop_recorder,
    .awaits_input = record_awaits_input,
};

static int record_begin(hl_call *c)
{
    record_state *r = st(c);
    hl_leg *l0 = c->legs[0];
    if (!call_leg_up(c, 0) || !l0->ops->record_start || l0->ops->record_start(l0, &r->rec) != 0)
        return -1;
    r->start = call_now_ms(c);
    c->nkeys = 0; /* keys typed before the beep are not meant to stop the recording */
    call_wait(c, &record_ops, r->rec.max_ms > 0 ? (int64_t)r->rec.max_ms + RECORD_GRACE_MS : CALL_NO_TIMER);
    if (r->stop_keys[0])
        call_mark_awaiting(c);
    return 0;
}

/* ---- the beep before it ---------------------------------------------------------------- */

static bool beep_event(hl_call *c, int leg, const hl_leg_event *ev)
{
    if (ev->type != HL_LEG_EV_PLAY_DONE)
        return false; /* a key during the beep is typed ahead (and dropped when recording starts) */
    if (record_begin(c) != 0) {
        lua_pushnil(c->co);
        lua_pushliteral(c->co, "error");
        call_complete(c, 2);
    }
    return true;
}

static void beep_cancel(hl_call *c)
{
    if (call_leg_up(c, 0) && c->legs[0]->ops->play_stop)
        c->legs[0]->ops->play_stop(c->legs[0]);
}

static const hl_wait_ops beep_ops = { .name = "beep", .on_event = beep_event, .cancel = beep_cancel };

/* ---- call:record{...} -------------------------------------------------------------------- */

bool call_rel_path_valid(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 200 || s[0] == '/' || strstr(s, "..") || strstr(s, "//") || s[n - 1] == '/')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_-./", *s)))
            return false;
    return true;
}

/* Issue 7: a recording that would fill the disk fails mid-call and takes the database's
 * room with it; below record_min_free_mb free it is refused before it starts (a disk
 * whose free space cannot be told is not refused). */
bool call_disk_too_full(hl_call *c, const char *rel)
{
    int min_mb = c->env->cfg->record_min_free_mb;
    const char *dir = c->env->recordings_dir ? c->env->recordings_dir : ".";
    long long free_mb = min_mb <= 0 ? -1 : c->env->recordings_free_mb ? c->env->recordings_free_mb(c->env)
                                                                      : hl_disk_free_mb(dir);
    if (free_mb < 0 || free_mb >= min_mb)
        return false;
    /* a simulated call's (a scenario that says so) is the test's business, not the log's */
    hl_log(c->env->clock->fake ? HL_LOG_DEBUG : HL_LOG_WARN, "call", "%s: recording %s refused: %lld MiB "
           "free under %s, below record_min_free_mb %d", c->id, rel, free_mb, dir, min_mb);
    return true;
}

enum { O_PATH, O_MAX, O_SILENCE, O_STOP_KEYS, O_BEEP, O_BOTH_LEGS, O_STEREO };

int prim_record(lua_State *L)
{
    hl_call *c = call_arg(L);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, "call:record", o); /* path is required: no table is an error there */
    record_state *r = st(c);
    memset(r, 0, sizeof *r);
    const char *rel = o[O_PATH].s;
    if (!call_rel_path_valid(rel))
        return luaL_error(L, "record: path '%s' is not a valid relative name (letters, digits, "
                             "_ - . /, no '..')", rel);
    snprintf(r->rel, sizeof r->rel, "%s%s", rel, strstr(rel, ".wav") ? "" : ".wav");
    snprintf(r->rec.path, sizeof r->rec.path, "%s/%s", c->env->recordings_dir ? c->env->recordings_dir : ".",
             r->rel);
    r->rec.max_ms = (int)o[O_MAX].i;
    r->rec.silence_ms = (int)o[O_SILENCE].i;
    r->rec.silence_level = c->env->cfg->silence_level;
    r->rec.both_legs = o[O_BOTH_LEGS].b;
    r->rec.stereo = o[O_STEREO].b;
    const char *sk = o[O_STOP_KEYS].s;
    if (strlen(sk) > STOP_KEYS_MAX || strspn(sk, "0123456789*#") != strlen(sk))
        return luaL_error(L, "record: stop_keys must be keys from 0-9 * #");
    snprintf(r->stop_keys, sizeof r->stop_keys, "%s", sk);
    if (call_disk_too_full(c, r->rel)) {
        lua_pushnil(L);
        lua_pushliteral(L, "disk_full");
        return 2;
    }
    if (o[O_BEEP].b) {
        c->nitems = 0;
        call_add_item(L, c, "tone:beep", "record");
        if (call_start_play(c) == 0) {
            call_wait(c, &beep_ops, CALL_NO_TIMER);
            return lua_yield(L, 0);
        }
    }
    if (record_begin(c) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "error");
        return 2;
    }
    return lua_yield(L, 0);
}
