/* loop.c — sets up, runs and tears down one engine loop (see loop.h).
 *
 * Owns the glue between subsystems: the timer driver (one uv timer re-armed for the
 * earliest hl_timer), the call list, reload (build + self-test on a worker thread, swap on
 * the loop), the file watch that triggers it, signals, and the ctl commands that need
 * engine state (status, calls, hangup, reload, version). */
#include "app/loop.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include <malloc.h>
#include "call/call.h"
#include "call/dial_guard.h"
#include "core/trunks.h"
#include "app/leg_sip.h"
#include "app/acd_app.h"
#include "app/admin.h"
#include "app/agents.h"
#include "app/edge.h"
#include "app/jobs.h"
#include "app/last_good.h"
#include "core/files.h"
#include "core/log.h"
#include "ctl/ctl.h"
#include "http/http_client.h"
#include "lua/script.h"
#include "media/media.h"
#include "media/prompts.h"
#include "sim/sim.h"
#include "sip/sip.h"
#include "store/store.h"
#include "version.h"

/* How long SIGTERM waits for calls to hang up before closing anyway. */
#define SHUTDOWN_GRACE_MS 3000
#define MAX_WATCHED_DIRS 64
/* glibc keeps freed heap after a load peak (120 MB seen after a SIPp burst); handing it back
 * once a minute costs microseconds and keeps RSS honest for `make bench` and operators. */
#define HEAP_TRIM_INTERVAL_MS 60000

typedef struct hl_reloader {
    hl_loop      *loop;
    uv_fs_event_t watch[MAX_WATCHED_DIRS];
    int           nwatch;
    hl_timer      debounce;
    uv_work_t     work;
    bool          running, again;
    /* the job on the worker thread */
    hl_config     cfg;          /* rules/engine.lua as saved: what the new policy is tested with */
    int           serial;       /* its version number, taken on the loop thread */
    hl_policy    *built;
    json_t       *queries;      /* the new policy's named queries (issue 6: store_policy.c) */
    hl_last_good_stage stage;   /* its files as built, kept once it passes (issue 7) */
    char          err[8192];
    int           passed, failed;
    /* who is waiting for the outcome */
    hl_ctl_req   *waiting[16];
    int           nwaiting;
    uv_signal_t   sighup;
} hl_reloader;

/* Ended calls are freed from the check phase, never inside the call's own callback. */
typedef struct dead_calls {
    hl_call **v;
    int n, cap;
} dead_calls;

/* loop.c's own bookkeeping (hl_loop.priv); kept out of loop.h as nobody else needs it. */
typedef struct loop_private {
    dead_calls  dead;
    uv_check_t  reaper;
    uv_signal_t sigterm, sigint;
    uv_timer_t  shutdown_timer;
    uv_timer_t  heap_trim;
    uv_timer_t  live_stamp;      /* issue 7: live_calls heartbeat */
    hl_jobs    *jobs;            /* the job queue's runner (app/jobs.h) */
    hl_edge    *edge;            /* SIP limits, overload watch, ctl ban (app/edge.h) */
    hl_agents  *agents;          /* agents' accounts and registrations (app/agents.h) */
    hl_acd_app *acd;             /* the ACD: queues, agents' states (app/acd_app.h) */
    char        data_real[PATH_MAX];  /* the data directory, resolved */
    /* issue 7: where the policy serving came from: "files" (scripts/ and rules/), or
     * "last-good" (the files did not pass at start-up; until a reload passes) */
    const char *policy_source;
    char        last_good_version[128];
    double      last_good_saved;
} loop_private;

static loop_private *priv_of(hl_loop *l) { return (loop_private *)l->priv; }
static dead_calls *dead_of(hl_loop *l) { return &priv_of(l)->dead; }
struct hl_agents *hl_loop_agents(hl_loop *l) { return priv_of(l)->agents; }

/* hl_sip_callbacks.on_register: agents' phones (app/agents.c). */
static void loop_on_register(void *app, const hl_sip_register_info *in, hl_sip_register_reply *out)
{
    if (priv_of(app)->agents)
        hl_agents_on_register(priv_of(app)->agents, in, out);
    else
        out->code = 503;   /* shutting down */
}

/* ---- timers ----------------------------------------------------------------------- */

static void timer_driver_fire(uv_timer_t *h)
{
    hl_loop *l = h->data;
    hl_timers_run_due(&l->timers, uv_now(l->uv));
}

static void timers_changed(hl_timers *ts, void *arg)
{
    hl_loop *l = arg;
    uint64_t due = hl_timers_next_due(ts);
    if (due == UINT64_MAX) {
        uv_timer_stop(&l->timer_driver);
        return;
    }
    uint64_t now = uv_now(l->uv);
    uv_timer_start(&l->timer_driver, timer_driver_fire, due > now ? due - now : 0, 0);
}

/* ---- calls ------------------------------------------------------------------------ */

/* env->find_call: a call up, by its id (a supervisor's call:monitor). */
static hl_call *env_find_call(hl_call_env *env, const char *id)
{
    hl_loop *l = env->owner;
    for (int i = 0; i < l->ncalls; i++)
        if (!strcmp(hl_call_id(l->calls[i]), id))
            return l->calls[i];
    return NULL;
}

static hl_policy *env_current_policy(hl_call_env *env)
{
    return ((hl_loop *)env->owner)->policy;
}

void hl_loop_call_add(hl_loop *l, hl_call *call)
{
    if (l->ncalls == l->calls_cap) {
        int cap = l->calls_cap ? l->calls_cap * 2 : 64;
        hl_call **c = realloc(l->calls, cap * sizeof *c);
        if (!c)
            abort();
        l->calls = c;
        l->calls_cap = cap;
    }
    l->calls[l->ncalls++] = call;
    l->calls_total++;
    if (l->store) { /* issue 7: a call the engine dies with still gets a CDR */
        hl_cdr so_far;
        hl_call_cdr_so_far(call, &so_far);
        if (!so_far.script_version[0] && l->policy)
            snprintf(so_far.script_version, sizeof so_far.script_version, "%s", hl_policy_version(l->policy));
        hl_store_live_call_open(l->store, &so_far);
    }
}

/* The heartbeat of the store's rows of calls up: their CDR's end if the engine dies. */
static void live_calls_stamp(uv_timer_t *h)
{
    hl_loop *l = h->data;
    if (l->ncalls && l->store) {
        hl_store_live_calls_touch(l->store, hl_clock_wall(&l->clock));
        for (int i = 0; i < l->ncalls; i++) { /* the route so far: a cut call's CDR says it */
            if (!hl_call_route_changed(l->calls[i]))
                continue; /* one UPDATE per change, not one per call per stamp */
            const hl_cdr *c = hl_call_cdr(l->calls[i], 0);
            if (c && c->route[0])
                hl_store_live_call_route(l->store, hl_call_id(l->calls[i]), c->route);
        }
    }
    uv_timer_start(h, live_calls_stamp, (uint64_t)l->cfg.live_call_stamp_ms, 0);
}


static void env_call_ended(hl_call_env *env, hl_call *call)
{
    hl_loop *l = env->owner;
    for (int i = 0; i < hl_call_leg_count(call); i++) {
        const hl_cdr *cdr = hl_call_cdr(call, i);
        if (cdr && l->store)
            hl_store_cdr_write(l->store, cdr, NULL, NULL);
    }
    if (l->store)
        hl_store_live_call_close(l->store, hl_call_id(call));
    for (int i = 0; i < l->ncalls; i++) {
        if (l->calls[i] == call) {
            l->calls[i] = l->calls[--l->ncalls];
            break;
        }
    }
    dead_calls *d = dead_of(l);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 32;
        d->v = realloc(d->v, d->cap * sizeof *d->v);
        if (!d->v)
            abort();
    }
    d->v[d->n++] = call;
}

static void reap_dead_calls(uv_check_t *h)
{
    hl_loop *l = h->data;
    dead_calls *d = dead_of(l);
    while (d->n)
        hl_call_free(d->v[--d->n]);
}

static void jobs_call_added(void *arg, hl_call *call) { hl_loop_call_add(arg, call); }

/* ---- reload ----------------------------------------------------------------------- */

static hl_policy_src policy_src(hl_loop *l)
{
    return (hl_policy_src){ .scripts_dir = l->cfg.scripts_dir, .rules_dir = l->cfg.rules_dir,
                            .prompts_dir = l->cfg.prompts_dir, .cfg = &l->cfg,
                            .open_api = hl_call_lua_open };
}

/* Builds and self-tests a policy; safe on a worker thread (touches nothing of the loop). */
static hl_policy *policy_build_tested(const hl_policy_src *src, char *err, int errlen,
                                      int *passed, int *failed)
{
    *passed = *failed = 0;
    hl_policy *p = hl_policy_build(src, err, errlen);
    if (!p)
        return NULL;
    char report[8192] = "";
    *failed = hl_sim_selftest(p, src, report, sizeof report, passed);
    if (*failed) {
        /* only the failures: a long list of passes would push them out of err */
        char only[8192] = "";
        size_t used = 0;
        for (const char *line = report; *line;) {
            size_t n = strcspn(line, "\n");
            if (strncmp(line, "ok ", 3) != 0 && used + n + 2 < sizeof only) {
                memcpy(only + used, line, n);
                used += n;
                only[used++] = '\n';
                only[used] = 0;
            }
            line += n + (line[n] == '\n');
        }
        snprintf(err, errlen, "%d of %d scenarios failed:\n%s", *failed, *passed + *failed, only);
        hl_policy_unref(p);
        return NULL;
    }
    return p;
}

/* Issue 7: a policy that passed is kept as the last good one (its files as staged before
 * the build); one that did not is not.  Off the loop (start-up, the reload worker). */
static void keep_last_good(hl_loop *l, hl_last_good_stage *st, hl_policy *passed)
{
    if (!st->dir[0])
        return;
    if (!passed) {
        hl_last_good_discard(st);
        return;
    }
    char why[512];
    int rc = hl_last_good_commit(st, priv_of(l)->data_real, l->cfg.scripts_dir, l->cfg.rules_dir,
                                 hl_policy_version(passed), why, sizeof why);
    if (rc < 0)
        hl_warn("loop", "%s", why);
    else if (rc > 0)
        hl_info("loop", "files changed while %s was tested: not kept as the last good policy",
                hl_policy_version(passed));
}

static void reload_work(uv_work_t *w)
{
    hl_reloader *r = w->data;
    hl_policy_src src = policy_src(r->loop);
    r->err[0] = 0;
    r->built = NULL;
    char why[512];
    if (hl_last_good_stage_copy(&r->stage, priv_of(r->loop)->data_real, src.scripts_dir, src.rules_dir,
                                why, sizeof why) != 0)
        hl_warn("reload", "%s", why);
    /* The new settings belong to the new version: test with them, swap them in together. */
    if (hl_config_load_rules(&r->cfg, r->loop->cfg.rules_dir, r->err, sizeof r->err) != 0) {
        keep_last_good(r->loop, &r->stage, NULL);
        return;
    }
    src.cfg = &r->cfg;
    src.serial = r->serial;
    r->built = policy_build_tested(&src, r->err, sizeof r->err, &r->passed, &r->failed);
    /* issue 6: the policy's tables and queries, before it serves (own connection: safe here) */
    if (r->built && hl_store_policy_activate(r->loop->store, r->loop->cfg.rules_dir, &r->queries,
                                             r->err, sizeof r->err) != 0) {
        hl_policy_unref(r->built);
        r->built = NULL;
    }
    keep_last_good(r->loop, &r->stage, r->built);
}

static void reload_start(hl_reloader *r);

static hl_media_pool_cfg media_cfg_of(const hl_config *cfg)
{
    return (hl_media_pool_cfg){
        .bind_addr = cfg->sip_addr, .port_lo = cfg->rtp_port_lo, .port_hi = cfg->rtp_port_hi,
        .rtp_timeout_ms = cfg->rtp_timeout_ms, .rtp_hold_timeout_ms = cfg->rtp_hold_timeout_ms,
        .silence_level = cfg->silence_level, .dtmf_duration_ms = cfg->dtmf_duration_ms,
        .latch = { .symmetric = cfg->rtp_latch_symmetric != 0,
                   .ssrc_switch_ms = cfg->rtp_ssrc_switch_ms },
    };
}

/* The values of rules/engine.lua that SIP and media keep a copy of reach them too (the
 * rest is read from l->cfg where it is used: jobs, dial, record, HTTP, max_calls). */
static void push_live_settings(hl_loop *l)
{
    hl_media_pool_cfg mcfg = media_cfg_of(&l->cfg);
    if (l->media)
        hl_media_pool_set_live(l->media, &mcfg);
    hl_edge_apply(priv_of(l)->edge);   /* the SIP stack's limits (app/edge.c) */
}

/* Swaps the new settings in.  A restart-only value that changed keeps its running value
 * and is reported ("takes effect at restart: NAME"): refusing would also refuse the
 * script and rule edits saved with it.  Adds what changed to the reply. */
static void swap_settings(hl_loop *l, hl_config *next, json_t *reply)
{
    char names[1024];
    if (hl_config_changed(&l->cfg, next, HL_APPLY_RESTART, names, sizeof names)) {
        hl_warn("reload", "takes effect at restart: %s", names);
        char note[1100];
        snprintf(note, sizeof note, "takes effect at restart: %s", names);
        json_object_set_new(reply, "note", json_string(note));
        hl_config_copy(next, &l->cfg, HL_APPLY_RESTART);
    }
    int now = hl_config_changed(&l->cfg, next, HL_APPLY_NEXT_USE, names, sizeof names);
    if (now) {
        hl_info("reload", "settings applied from now on: %s", names);
        json_object_set_new(reply, "applied", json_string(names));
    }
    if (hl_config_changed(&l->cfg, next, HL_APPLY_NEXT_CALL, names, sizeof names)) {
        hl_info("reload", "settings applied from the next call (calls up keep theirs): %s", names);
        json_object_set_new(reply, "next_call", json_string(names));
    }
    l->cfg = *next;
    push_live_settings(l);
}

static void reload_done(uv_work_t *w, int status)
{
    hl_reloader *r = w->data;
    hl_loop *l = r->loop;
    r->running = false;
    json_t *reply;
    if (r->built && l->stopping) { /* SIGTERM came during the build: SIP and ctl are closing */
        hl_policy_unref(r->built);
        r->built = NULL;
        snprintf(r->err, sizeof r->err, "the engine is stopping");
    }
    if (r->built) {
        /* rules/engine.lua is part of the policy: its values serve new calls too */
        reply = json_object();
        swap_settings(l, &r->cfg, reply);
        hl_policy *old = l->policy;
        l->policy = r->built;
        r->built = NULL;
        hl_ctl_set_queries(l->ctl, r->queries);
        if (strcmp(priv_of(l)->policy_source, "files") != 0)
            hl_info("reload", "the files pass again: no longer on the last good policy");
        priv_of(l)->policy_source = "files";
        hl_info("reload", "now serving %s (was %s); %d scenarios passed",
                hl_policy_version(l->policy), old ? hl_policy_version(old) : "-", r->passed);
        if (old)
            hl_policy_unref(old);
        char qerr[512];
        if (hl_acd_app_policy(priv_of(l)->acd, l->policy, qerr, sizeof qerr) != 0)
            hl_warn("reload", "the ACD keeps its queues: %s", qerr);
        json_t *head = json_pack("{s:b,s:s,s:i}", "ok", 1, "version", hl_policy_version(l->policy),
                                 "scenarios_passed", r->passed);
        json_object_update(head, reply);   /* ok and version first in `hotline ctl reload` */
        json_decref(reply);
        reply = head;
    } else {
        hl_warn("reload", "refused, still serving %s: %s",
                l->policy ? hl_policy_version(l->policy) : "-", r->err);
        reply = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", r->err, "version",
                          l->policy ? hl_policy_version(l->policy) : "");
    }
    json_decref(r->queries);
    r->queries = NULL;
    for (int i = 0; i < r->nwaiting; i++)
        hl_ctl_reply(r->waiting[i], json_incref(reply));
    r->nwaiting = 0;
    json_decref(reply);
    if (r->again) {
        r->again = false;
        reload_start(r);
    }
}

static void reload_start(hl_reloader *r)
{
    if (r->running) {
        r->again = true; /* coalesce: one more build after this one */
        return;
    }
    r->running = true;
    r->cfg = r->loop->cfg; /* the running values, over which engine.lua is read again */
    r->serial = ++r->loop->policy_serial;
    r->work.data = r;
    uv_queue_work(r->loop->uv, &r->work, reload_work, reload_done);
}

static void debounce_fire(hl_timer *t) { reload_start(t->data); }

static void on_file_change(uv_fs_event_t *h, const char *filename, int events, int status)
{
    hl_reloader *r = h->data;
    if (filename && (filename[0] == '.' || strstr(filename, ".swp") || strchr(filename, '~')))
        return; /* editor scratch files */
    hl_debug("reload", "change in %s", filename ? filename : "?");
    hl_timer_start(&r->loop->timers, &r->debounce, r->loop->cfg.reload_debounce_ms, debounce_fire, r);
}

/* Watches dir and its folders (as deep as the policy build reads them). */
static void watch_tree(hl_reloader *r, const char *dir)
{
    hl_strv dirs = { 0 };
    hl_dirs_collect(dir, HL_POLICY_MAX_DEPTH, &dirs);
    for (int i = 0; i < dirs.n && r->nwatch < MAX_WATCHED_DIRS; i++) {
        uv_fs_event_t *h = &r->watch[r->nwatch];
        uv_fs_event_init(r->loop->uv, h);
        h->data = r;
        if (uv_fs_event_start(h, on_file_change, dirs.v[i], 0) != 0) {
            uv_close((uv_handle_t *)h, NULL);
            continue;
        }
        r->nwatch++;
    }
    hl_strv_free(&dirs);
}

static void on_sighup(uv_signal_t *h, int sig)
{
    hl_info("reload", "SIGHUP");
    reload_start(h->data);
}

int hl_loop_reload(hl_loop *l, char *err, int errlen)
{
    reload_start(l->reloader);
    snprintf(err, errlen, "reload started");
    return 0;
}

/* ---- ctl commands ----------------------------------------------------------------- */

/* Received RTP the calls' latches dropped, by reason, and the symmetric-RTP moves. */
static json_t *rtp_dropped_json(hl_loop *l)
{
    uint64_t dropped[HL_RTP_DROP_REASONS] = { 0 }, moves = 0;
    if (l->media)
        hl_media_pool_dropped(l->media, dropped, &moves);
    json_t *o = json_object();
    for (int i = 0; i < HL_RTP_DROP_REASONS; i++)
        json_object_set_new(o, hl_rtp_drop_name((hl_rtp_drop)i), json_integer((json_int_t)dropped[i]));
    json_object_set_new(o, "latch_moves", json_integer((json_int_t)moves));
    return o;
}

/* What rules/trunks.lua refused: INVITEs at the edge, and engine-placed calls. */
static json_t *trunks_status(hl_loop *l)
{
    hl_dial_guard_stats d;
    hl_dial_guard_get_stats(l->env.dial_guard, &d);
    const hl_trunks *t = hl_policy_trunks(l->policy);
    return json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I}", "file", t ? t->path : "",
                     "trunks", t ? t->ntrunks : 0,
                     "refused_source", (json_int_t)l->trunk_stats.refused_source,
                     "refused_number", (json_int_t)l->trunk_stats.refused_number,
                     "pai_ignored", (json_int_t)l->trunk_stats.pai_ignored,
                     "challenged", (json_int_t)l->trunk_stats.challenged,
                     "dial_allowed", (json_int_t)d.allowed, "dial_refused", (json_int_t)d.refused);
}

static json_t *ctl_status(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_loop *l = arg;
    double p50 = 0, p99 = 0, max = 0;
    if (l->media)
        hl_media_pool_lateness(l->media, &p50, &p99, &max);
    char started[40];
    hl_clock_format_iso(l->started, started, sizeof started);
    char now[40];
    hl_clock_format_iso(hl_clock_wall(&l->clock), now, sizeof now);
    loop_private *p = priv_of(l);
    json_t *st = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:I,s:I,s:i,s:{s:f,s:f,s:f},s:o,s:o}", "ok", 1,
                     "version", HL_VERSION, "policy", l->policy ? hl_policy_version(l->policy) : "",
                     "policy_source", p->policy_source,
                     "started", started, "clock", now, "sip_port", l->sip ? hl_sip_port(l->sip) : 0,
                     "calls", l->ncalls, "calls_total", (json_int_t)l->calls_total,
                     "rtp_ticks_skipped", l->media ? (json_int_t)hl_media_pool_skipped(l->media) : 0,
                     "media_endpoints", l->media ? hl_media_pool_active(l->media) : 0,
                     "rtp_lateness_us", "p50", p50, "p99", p99, "max", max,
                     "sip_edge", priv_of(l)->edge ? hl_edge_status(priv_of(l)->edge) : json_object(),
                     "trunks", trunks_status(l));
    if (st)
        json_object_set_new(st, "rtp_dropped", rtp_dropped_json(l));
    if (st && p->agents)
        json_object_set_new(st, "agents", hl_agents_status(p->agents));
    if (st && !strcmp(p->policy_source, "last-good")) {
        char saved[40];
        hl_clock_format_iso(p->last_good_saved, saved, sizeof saved);
        json_object_set_new(st, "last_good_version", json_string(p->last_good_version));
        json_object_set_new(st, "last_good_saved", json_string(saved));
    }
    return st;
}

static json_t *ctl_stats_reset(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_loop *l = arg;
    if (l->media)
        hl_media_pool_lateness_reset(l->media);
    return json_pack("{s:b}", "ok", 1);
}

static json_t *ctl_calls(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_loop *l = arg;
    json_t *list = json_array();
    for (int i = 0; i < l->ncalls; i++)
        json_array_append_new(list, hl_call_describe(l->calls[i]));
    return json_pack("{s:b,s:o}", "ok", 1, "calls", list);
}

static json_t *ctl_hangup(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_loop *l = arg;
    const char *id = json_string_value(json_object_get(request, "id"));
    if (!id) {
        snprintf(err, errlen, "hangup needs a call id (see `hotline ctl calls`)");
        return NULL;
    }
    for (int i = 0; i < l->ncalls; i++) {
        if (!strcmp(hl_call_id(l->calls[i]), id)) {
            hl_call_terminate(l->calls[i], "ctl");
            return json_pack("{s:b,s:s}", "ok", 1, "id", id);
        }
    }
    snprintf(err, errlen, "no call with id %s", id);
    return NULL;
}

/* The tunables the engine runs with now: after a reload that changed a restart-only value
 * they differ from what `hotline config` reads in rules/engine.lua until the restart. */
static json_t *ctl_config(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_loop *l = arg;
    int n;
    const hl_tunable *t = hl_config_tunables(&n);
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        char value[HL_HTTP_ALLOW_MAX * HL_HTTP_ALLOW_LEN];
        hl_config_format_value(&l->cfg, &t[i], value, sizeof value);
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "name", t[i].name, "value", value,
                                              "unit", t[i].unit, "reload", hl_config_apply_name(t[i].apply)));
    }
    return json_pack("{s:b,s:o}", "ok", 1, "settings", list);
}

static json_t *ctl_version(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_loop *l = arg;
    return json_pack("{s:b,s:s,s:s}", "ok", 1, "version", HL_VERSION, "policy",
                     l->policy ? hl_policy_version(l->policy) : "");
}

static json_t *ctl_reload(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_loop *l = arg;
    hl_reloader *r = l->reloader;
    if (r->nwaiting >= (int)(sizeof r->waiting / sizeof r->waiting[0])) {
        snprintf(err, errlen, "too many reloads waiting; try again");
        return NULL;
    }
    r->waiting[r->nwaiting++] = req;
    reload_start(r);
    return HL_CTL_DEFERRED;
}

/* ---- set-up, run, shutdown -------------------------------------------------------- */

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0750) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0750) && errno != EEXIST ? -1 : 0;
}

/* Builds, self-tests and activates the policy of these folders (start-up). */
static hl_policy *build_and_activate(hl_loop *l, const char *scripts_dir, const char *rules_dir,
                                     json_t **queries, int *passed, char *err, int errlen)
{
    hl_policy_src src = policy_src(l);
    src.scripts_dir = scripts_dir;
    src.rules_dir = rules_dir;
    src.serial = ++l->policy_serial;
    int failed;
    hl_policy *p = policy_build_tested(&src, err, errlen, passed, &failed);
    if (p && hl_store_policy_activate(l->store, rules_dir, queries, err, errlen) != 0) {
        hl_policy_unref(p);
        p = NULL;
    }
    return p;
}

/* The policy at start-up: the files' when they pass (then kept as the last good one);
 * otherwise, issue 7, the last good one, loudly, until a reload passes. */
static int start_policy(hl_loop *l, json_t **queries, int *passed, char *err, int errlen)
{
    loop_private *p = priv_of(l);
    hl_last_good_sweep(p->data_real);
    hl_last_good_stage stage = { "" };
    char why[512];
    if (hl_last_good_stage_copy(&stage, p->data_real, l->cfg.scripts_dir, l->cfg.rules_dir, why, sizeof why))
        hl_warn("loop", "%s", why);
    l->policy = build_and_activate(l, l->cfg.scripts_dir, l->cfg.rules_dir, queries, passed, err, errlen);
    keep_last_good(l, &stage, l->policy);
    p->policy_source = "files";
    if (l->policy)
        return 0;
    char scripts[PATH_MAX + 16], rules[PATH_MAX + 16];
    if (!hl_last_good_find(p->data_real, scripts, rules, sizeof scripts, p->last_good_version,
                           sizeof p->last_good_version, &p->last_good_saved))
        return -1; /* err says why the files do not pass; there is nothing to fall back on */
    hl_error("loop", "the policy in %s and %s does not pass: %s", l->cfg.scripts_dir, l->cfg.rules_dir, err);
    char lg_err[2048];
    l->policy = build_and_activate(l, scripts, rules, queries, passed, lg_err, sizeof lg_err);
    if (!l->policy) {
        size_t used = strlen(err);
        snprintf(err + used, errlen > (int)used ? errlen - used : 0,
                 "; the last good policy (%s) does not pass either: %s", p->last_good_version, lg_err);
        return -1;
    }
    char saved[40];
    hl_clock_format_iso(p->last_good_saved, saved, sizeof saved);
    hl_error("loop", "STARTED ON THE LAST GOOD POLICY %s (tested and kept %s, %s): fix the files and "
             "reload; `hotline ctl status` says policy_source: last-good until then",
             p->last_good_version, saved, scripts);
    p->policy_source = "last-good";
    return 0;
}

static void note_repaired(void *arg, const char *rel_path, int duration_ms)
{
    json_array_append_new(arg, json_pack("{s:s,s:i}", "path", rel_path, "duration_ms", duration_ms));
}

/* Issue 7: what the last run left unfinished is finished by the policy's own queries
 * (rules/queries.lua, on =): each repaired recording, then "start".  The rows they touched
 * in all, or -1 with err (the policy's SQL failed: start-up stops, as for a broken query). */
static int run_start_hooks(hl_loop *l, json_t *queries, json_t *repaired, char *err, int errlen)
{
    double now = hl_clock_wall(&l->clock);
    int total = 0, n;
    size_t i;
    json_t *rec;
    json_array_foreach(repaired, i, rec) {
        if ((n = hl_store_policy_run_hook(l->store, queries, "recording_repaired", rec, now, err, errlen)) < 0)
            return -1;
        total += n;
    }
    if ((n = hl_store_policy_run_hook(l->store, queries, "start", NULL, now, err, errlen)) < 0)
        return -1;
    total += n;
    if (total > 0)
        hl_warn("loop", "the policy's start-up queries finished %d row(s) the last run left open", total);
    return total;
}

static void raise_fd_limit(void)
{
    /* oRTP binds two sockets per session: thousands of calls need thousands of fds. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void heap_trim(uv_timer_t *h) { malloc_trim(0); }

static void on_stop_signal(uv_signal_t *h, int sig)
{
    hl_info("loop", "%s: ending calls and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    hl_loop_stop(h->data);
}

int hl_loop_init(hl_loop *l, const hl_config *cfg, char *err, int errlen)
{
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    l->priv = calloc(1, sizeof(loop_private));
    l->reloader = calloc(1, sizeof(hl_reloader));
    l->uv = calloc(1, sizeof(uv_loop_t));
    if (!l->priv || !l->reloader || !l->uv || uv_loop_init(l->uv) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    hl_clock_init_real(&l->clock, l->uv, cfg->start_clock);
    l->started = hl_clock_wall(&l->clock);
    hl_timers_init(&l->timers, &l->clock);
    uv_timer_init(l->uv, &l->timer_driver);
    l->timer_driver.data = l;
    l->timers.on_change = timers_changed;
    l->timers.on_change_arg = l;

    if (mkdir_p(cfg->data_dir) != 0) {
        snprintf(err, errlen, "cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    char real[PATH_MAX];
    if (!realpath(cfg->data_dir, real)) {
        snprintf(err, errlen, "data directory %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    snprintf(l->recordings_dir, sizeof l->recordings_dir, "%s/recordings", real);
    snprintf(priv_of(l)->data_real, sizeof priv_of(l)->data_real, "%s", real);
    if (mkdir_p(l->recordings_dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", l->recordings_dir, strerror(errno));
        return -1;
    }
    /* the folders under it that scripts record into are made when a recording starts */
    json_t *repaired = json_array(); /* issue 7: the policy finishes their rows, below */
    if (hl_media_repair_recordings(l->recordings_dir, note_repaired, repaired) > 0)
        hl_warn("loop", "repaired %d recording(s) left unfinished by the last run",
                (int)json_array_size(repaired));

    l->store = hl_store_open(l->uv, cfg->data_dir, err, errlen);
    if (!l->store) {
        json_decref(repaired);
        return -1;
    }
    hl_store_set_node(l->store, cfg->node_name);
    int cut = hl_store_live_calls_reconcile(l->store, err, errlen);
    if (cut < 0)
        return -1;
    if (cut > 0)
        hl_warn("loop", "%d call(s) were up when the last run ended: CDRs written (engine_restart)", cut);
    l->prompts = hl_prompts_new(cfg->prompts_dir);
    if (!l->prompts) {
        snprintf(err, errlen, "cannot open prompts directory %s", cfg->prompts_dir);
        return -1;
    }

    int passed;
    json_t *queries = NULL; /* issue 6: the policy's tables and queries, before it serves */
    if (start_policy(l, &queries, &passed, err, errlen) != 0) {
        json_decref(repaired);
        return -1;
    }
    hl_info("loop", "policy %s: %d scenarios passed", hl_policy_version(l->policy), passed);
    int hooked = run_start_hooks(l, queries, repaired, err, errlen);
    json_decref(repaired);
    if (hooked < 0) {
        json_decref(queries);
        return -1;
    }

    hl_media_pool_cfg mcfg = media_cfg_of(cfg);
    l->media = hl_media_pool_new(l->uv, &mcfg, l->prompts);
    if (!l->media) {
        snprintf(err, errlen, "cannot set up RTP on %s ports %d-%d", cfg->sip_addr,
                 cfg->rtp_port_lo, cfg->rtp_port_hi);
        return -1;
    }

    l->env = (hl_call_env){
        .clock = &l->clock, .timers = &l->timers, .cfg = &l->cfg, .prompts = l->prompts,
        .store = l->store, .current_policy = env_current_policy, .dial = hl_leg_sip_dial,
        .dial_agent = hl_leg_sip_dial_agent, .find_call = env_find_call,   /* issue 8: ringing agents' phones */
        .call_ended = env_call_ended, .recordings_dir = l->recordings_dir, .owner = l,
        .uv = l->uv, /* hl.pin_hash's thread pool */
    };
    if (!(l->env.http = hl_http_new(l->uv, err, errlen)))   /* hl.http.request */
        return -1;
    if (!(l->env.dial_guard = hl_dial_guard_new(l->store, &l->clock))) {  /* rules/trunks.lua's dial rules */
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (!(priv_of(l)->agents = hl_agents_new(l->uv, l->store, &l->cfg, &l->clock, err, errlen)))
        return -1;
    hl_sip_cfg scfg = hl_edge_sip_cfg(&l->cfg);
    hl_sip_callbacks cbs = hl_leg_sip_callbacks;
    cbs.on_register = loop_on_register;
    l->sip = hl_sip_new(l->uv, &scfg, &cbs, l);
    if (!l->sip) {
        snprintf(err, errlen, "cannot listen for SIP on %s:%d (in use?)", cfg->sip_addr, cfg->sip_port);
        return -1;
    }

    char sock[PATH_MAX + 32];
    snprintf(sock, sizeof sock, "%s/hotline.sock", real);
    l->ctl = hl_ctl_new(l->uv, sock, l->store, err, errlen);
    if (!l->ctl)
        return -1;
    hl_ctl_set_clock(l->ctl, &l->clock);
    hl_ctl_set_queries(l->ctl, queries);
    json_decref(queries);
    hl_ctl_register(l->ctl, "status", ctl_status, l, "engine status: version, policy, calls, RTP lateness and drops, the SIP edge");
    hl_ctl_register(l->ctl, "calls", ctl_calls, l, "calls in progress");
    hl_ctl_register(l->ctl, "stats-reset", ctl_stats_reset, l,
                    "restart the RTP lateness figures of status (benchmarks measure from here)");
    hl_ctl_register(l->ctl, "hangup", ctl_hangup, l, "hangup ID: end a call");
    hl_ctl_register(l->ctl, "reload", ctl_reload, l, "build and test scripts and rules, then swap them in");
    hl_ctl_register(l->ctl, "version", ctl_version, l, "engine and policy versions");
    hl_ctl_register(l->ctl, "config", ctl_config, l,
                    "the tunables in use (rules/engine.lua as last applied; see hotline config)");
    hl_agents_set_sip(priv_of(l)->agents, l->sip);
    hl_agents_register_ctl(priv_of(l)->agents, l->ctl);
    if (!(priv_of(l)->acd = hl_acd_app_new(&l->env, l->store, priv_of(l)->agents, l->ctl))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char qerr[512];
    if (hl_acd_app_policy(priv_of(l)->acd, l->policy, qerr, sizeof qerr) != 0)
        hl_warn("loop", "the ACD has no queues: %s", qerr);
    if (!(priv_of(l)->edge = hl_edge_new(l->uv, l->sip, &l->cfg, l->ctl))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    hl_jobs_host jh = { .store = l->store, .env = &l->env, .call_added = jobs_call_added, .arg = l };
    if (!(priv_of(l)->jobs = hl_jobs_new(&jh, err, errlen)))
        return -1;
    hl_jobs_register_ctl(priv_of(l)->jobs, l->ctl);
    hl_admin_register_ctl(l->ctl, &l->env);   /* back-office records (issue 9) */

    hl_reloader *r = l->reloader;
    r->loop = l;
    watch_tree(r, cfg->scripts_dir);
    watch_tree(r, cfg->rules_dir);
    uv_signal_init(l->uv, &r->sighup);
    r->sighup.data = r;
    uv_signal_start(&r->sighup, on_sighup, SIGHUP);

    loop_private *p = priv_of(l);
    uv_check_init(l->uv, &p->reaper);
    p->reaper.data = l;
    uv_check_start(&p->reaper, reap_dead_calls);
    uv_unref((uv_handle_t *)&p->reaper);
    uv_signal_init(l->uv, &p->sigterm);
    uv_signal_init(l->uv, &p->sigint);
    p->sigterm.data = p->sigint.data = l;
    uv_signal_start(&p->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&p->sigint, on_stop_signal, SIGINT);
    uv_timer_init(l->uv, &p->shutdown_timer);
    p->shutdown_timer.data = l;
    uv_timer_init(l->uv, &p->heap_trim);
    uv_timer_start(&p->heap_trim, heap_trim, HEAP_TRIM_INTERVAL_MS, HEAP_TRIM_INTERVAL_MS);
    uv_unref((uv_handle_t *)&p->heap_trim);
    uv_timer_init(l->uv, &p->live_stamp);
    p->live_stamp.data = l;
    uv_timer_start(&p->live_stamp, live_calls_stamp, (uint64_t)cfg->live_call_stamp_ms, 0);
    uv_unref((uv_handle_t *)&p->live_stamp);

    hl_info("loop", "hotline %s listening on %s:%d (UDP, TCP), RTP %d-%d, data %s", HL_VERSION,
            cfg->sip_addr, hl_sip_port(l->sip), cfg->rtp_port_lo, cfg->rtp_port_hi, real);
    if (cfg->http_port)
        hl_warn("loop", "--http %s:%d: the HTTP API is not built yet; ignoring", cfg->http_addr, cfg->http_port);
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void sip_closed(void *arg)
{
    hl_loop *l = arg;
    l->sip = NULL;
    hl_media_pool_free(l->media);
    l->media = NULL;
    if (l->ctl)
        hl_ctl_close(l->ctl);
    l->ctl = NULL;
    hl_timers_free(&l->timers);
    uv_walk(l->uv, close_walk, NULL); /* everything else: watchers, signals, timers */
}

static void finish_shutdown(hl_loop *l)
{
    uv_timer_stop(&priv_of(l)->shutdown_timer);
    hl_http_close(l->env.http); /* requests still in flight fail now: their calls can end */
    l->env.http = NULL;
    hl_edge_close(priv_of(l)->edge); /* its overload watch must not reach a closing SIP stack */
    priv_of(l)->edge = NULL;
    hl_acd_app_free(priv_of(l)->acd);    /* every call has ended: no caller waits */
    priv_of(l)->acd = NULL;
    hl_agents_close(priv_of(l)->agents); /* after the SIP stack can no longer call it */
    priv_of(l)->agents = NULL;
    if (l->sip)
        hl_sip_shutdown(l->sip, sip_closed, l);
}

static void shutdown_poll(uv_timer_t *h)
{
    hl_loop *l = h->data;
    static const int poll_ms = 20;
    if (l->ncalls == 0 || uv_now(l->uv) >= l->stop_deadline)
        finish_shutdown(l);
    else
        uv_timer_start(h, shutdown_poll, poll_ms, 0);
}

void hl_loop_stop(hl_loop *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    l->stop_deadline = uv_now(l->uv) + SHUTDOWN_GRACE_MS;
    hl_jobs_stop(priv_of(l)->jobs); /* before the calls end: an interrupted job is queued again */
    /* terminate from a copy: calls leave the list as they end */
    int n = l->ncalls;
    hl_call **copy = malloc((n ? n : 1) * sizeof *copy);
    if (copy) {
        memcpy(copy, l->calls, n * sizeof *copy);
        for (int i = 0; i < n; i++)
            hl_call_terminate(copy[i], "shutdown");
        free(copy);
    }
    uv_timer_start(&priv_of(l)->shutdown_timer, shutdown_poll, 0, 0);
}

int hl_loop_run(hl_loop *l)
{
    uv_run(l->uv, UV_RUN_DEFAULT);
    reap_dead_calls(&priv_of(l)->reaper);
    if (l->store)
        hl_store_close(l->store); /* drains queued CDR writes */
    hl_dial_guard_free(l->env.dial_guard);  /* after the store: its count writes were queued there */
    l->env.dial_guard = NULL;
    l->store = NULL;
    hl_jobs_free(priv_of(l)->jobs);
    if (l->policy)
        hl_policy_unref(l->policy);
    l->policy = NULL;
    hl_prompts_free(l->prompts);
    int rc = uv_loop_close(l->uv);
    if (rc != 0)
        hl_warn("loop", "loop closed with handles still open");
    free(l->uv);
    free(l->calls);
    free(dead_of(l)->v);
    free(l->priv);
    free(l->reloader);
    hl_info("loop", "stopped");
    return 0;
}
