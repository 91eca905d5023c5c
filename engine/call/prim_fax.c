/* prim_fax.c — call:fax_send and call:fax_receive: a T.30 session on the caller's leg or
 * on a leg the script dialled (a job's), until T.30 ends, the leg hangs up or the time limit
 * (fax_max_ms) passes. */
#include "call/call_priv.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include "fax/fax.h"

#define FAX_GRACE_MS 5000      /* the fax session's own time limit reports first; this catches one that does not */

typedef struct fax_state {
    hl_leg_fax_opts fax;
    char rel[256];             /* the file or path the script named */
} fax_state;
WAIT_STATE_FITS(fax_state);

static fax_state *st(hl_call *c) { return WAIT_STATE(c, fax_state); }

/* The result table: ok, pages, status, reason, remote (the far end's fax ident), and file
 * (fax_send) or path (fax_receive).  r NULL: the session did not end by itself (why). */
static void push_result(hl_call *c, const hl_fax_result *r, const char *why)
{
    lua_State *co = c->co;
    fax_state *f = st(c);
    lua_createtable(co, 0, 7);
    lua_pushboolean(co, r && r->ok);
    lua_setfield(co, -2, "ok");
    lua_pushinteger(co, r ? r->pages : 0);
    lua_setfield(co, -2, "pages");
    lua_pushinteger(co, r ? r->status : HL_FAX_STATUS_STOPPED);
    lua_setfield(co, -2, "status");
    lua_pushstring(co, r ? r->reason : why ? why : "stopped");
    lua_setfield(co, -2, "reason");
    lua_pushstring(co, r ? r->remote_ident : "");
    lua_setfield(co, -2, "remote");
    lua_pushstring(co, f->rel);
    lua_setfield(co, -2, f->fax.send ? "file" : "path");
    if (r && r->sending && r->pages_in_file >= 0) {
        lua_pushinteger(co, r->pages_in_file);
        lua_setfield(co, -2, "pages_in_file");
    }
    CALL_INFO(c, "%s: fax %s %s: %s, %d page(s)", c->id, f->fax.send ? "send" : "receive",
              f->rel, r ? r->reason : why ? why : "stopped", r ? r->pages : 0);
}

/* ---- the wait ---------------------------------------------------------------------------- */

static void stop_session(hl_call *c)
{
    if (call_leg_up(c, c->w.leg) && c->legs[c->w.leg]->ops->fax_stop)
        c->legs[c->w.leg]->ops->fax_stop(c->legs[c->w.leg]);
}

static bool fax_event(hl_call *c, int i, const hl_leg_event *ev)
{
    if (i != c->w.leg)
        return false;
    if (ev->type == HL_LEG_EV_FAX_DONE) {
        push_result(c, ev->fax, ev->reason);
        call_complete(c, 1);
    } else if (ev->type == HL_LEG_EV_HANGUP) {
        push_result(c, NULL, "hangup");
        call_complete(c, 1);
    } else {
        return false;
    }
    return true;
}

static void fax_timer(hl_call *c)
{
    stop_session(c);
    push_result(c, NULL, "time limit reached");
    call_complete(c, 1);
}

static const hl_wait_ops fax_ops = {
    .name = "fax", .on_event = fax_event, .on_timer = fax_timer, .cancel = stop_session,
};

/* ---- call:fax_send / call:fax_receive ----------------------------------------------------- */

enum { O_FILE, O_LEG, O_IDENT, O_ECM, O_CALLING }; /* O_FILE is fax_receive's path */

/* Common to both: which leg (opts.leg, default the caller), ident, ecm; starts and waits. */
static int fax_begin(lua_State *L, hl_call *c, const char *what, const hl_api_val *o)
{
    fax_state *f = st(c);
    int i = 0;
    if (o[O_LEG].set) {
        lua_getfield(L, 2, "leg");
        i = call_leg_index_of(L, c, lua_gettop(L));
        lua_pop(L, 1);
    }
    if (c->originated && i == 0)
        return luaL_error(L, "%s: a job's call has no caller: say which leg (leg = call:dial(...))", what);
    const char *ident = o[O_IDENT].s;
    if (strlen(ident) >= sizeof f->fax.ident || strspn(ident, "0123456789+ ") != strlen(ident))
        return luaL_error(L, "%s: ident must be up to 20 digits, '+' and spaces", what);
    snprintf(f->fax.ident, sizeof f->fax.ident, "%s", ident);
    f->fax.no_ecm = !o[O_ECM].b;
    f->fax.calling_party = o[O_CALLING].b;
    f->fax.max_ms = c->env->cfg->fax_max_ms;
    hl_leg *leg = c->legs[i];
    if (!call_leg_up(c, i) || !leg->ops->fax_start || leg->ops->fax_start(leg, &f->fax) != 0) {
        lua_createtable(L, 0, 5);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "ok");
        lua_pushinteger(L, 0);
        lua_setfield(L, -2, "pages");
        lua_pushinteger(L, HL_FAX_STATUS_STOPPED);
        lua_setfield(L, -2, "status");
        lua_pushstring(L, call_leg_up(c, i) ? "cannot start (see the engine log)" : "leg ended");
        lua_setfield(L, -2, "reason");
        lua_pushstring(L, f->rel);
        lua_setfield(L, -2, f->fax.send ? "file" : "path");
        return 1;
    }
    c->w.leg = i;
    call_wait(c, &fax_ops, (int64_t)f->fax.max_ms + FAX_GRACE_MS);
    return lua_yield(L, 0);
}

/* call:fax_send{file="doc-1.tif" [, leg=, ident=, ecm=, calling=]}: file is under fax_dir.
 * call:fax_receive{path="fax/in-1" [, leg=, ident=, ecm=, calling=]}: under the recordings
 * folder, ".tif" added when missing. */
static int fax_prim(lua_State *L, bool send)
{
    const char *what = send ? "fax_send" : "fax_receive";
    hl_call *c = call_arg(L);
    hl_api_val o[HL_API_MAX_OPTS];
    call_read_opts(L, send ? "call:fax_send" : "call:fax_receive", o);
    fax_state *f = st(c);
    memset(f, 0, sizeof *f);
    const char *rel = o[O_FILE].s;
    if (!call_rel_path_valid(rel))
        return luaL_error(L, "%s: %s '%s' is not a valid name under the %s folder (letters, digits, "
                             "_ - . /, no '..')", what, send ? "file" : "path", rel, send ? "documents" : "recordings");
    f->fax.send = send;
    size_t n = strlen(rel);
    bool has_ext = n > 4 && (!strcmp(rel + n - 4, ".tif") || (n > 5 && !strcmp(rel + n - 5, ".tiff")));
    snprintf(f->rel, sizeof f->rel, "%s%s", rel, send || has_ext ? "" : ".tif");
    const char *dir = send ? c->env->cfg->fax_dir : c->env->recordings_dir ? c->env->recordings_dir : ".";
    if ((size_t)snprintf(f->fax.path, sizeof f->fax.path, "%s/%s", dir, f->rel) >= sizeof f->fax.path)
        return luaL_error(L, "%s: file name too long", what);
    return fax_begin(L, c, what, o);
}

int prim_fax_send(lua_State *L) { return fax_prim(L, true); }
int prim_fax_receive(lua_State *L) { return fax_prim(L, false); }
