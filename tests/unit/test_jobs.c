/* test_jobs.c — the job queue (app/jobs.c) and engine-originated calls (call.c) on a real
 * uv loop with the real store and a policy built from a temporary scripts folder; dialled
 * legs are fakes that answer or say busy.  Covers: a job that runs and is done; failures
 * retried until max_attempts, with last_error; a job that succeeds on its second attempt;
 * a script error, a missing job function, a caller primitive in a job; a job not yet due;
 * the limit on jobs running at once; recovery of 'running' rows at start; a job ended by
 * shutdown going back to the queue; hl.jobs.enqueue argument checks (simulator); and the
 * t21 scenarios (tests/e2e/fax/queue) through `hotline sim`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include "call/call.h"
#include "app/jobs.h"
#include "core/log.h"
#include "lua/script.h"
#include "sim/sim.h"
#include "store/store.h"

#include "unit.h"

#define FAKE_ANSWER_MS 10   /* a fake dialled leg answers (or is busy) after this */
#define WAIT_MAX_MS 10000   /* a test step that takes longer has hung */

/* ---- a fake dialled leg ---------------------------------------------------------------- */

typedef struct tleg {
    hl_leg   leg;
    hl_timers *timers;
    hl_timer t;
    int      fail;          /* SIP code to fail with, 0 = answer */
} tleg;

static void tleg_fire(hl_timer *t)
{
    tleg *l = t->data;
    if (l->fail) {
        l->leg.state = HL_LEG_ENDED;
        hl_leg_event ev = { .type = HL_LEG_EV_FAILED, .code = l->fail, .reason = "busy" };
        hl_call_on_leg_event(l->leg.call, &l->leg, &ev);
        ev.type = HL_LEG_EV_HANGUP;
        hl_call_on_leg_event(l->leg.call, &l->leg, &ev);
        return;
    }
    l->leg.state = HL_LEG_ANSWERED;
    hl_leg_event ev = { .type = HL_LEG_EV_ANSWERED };
    hl_call_on_leg_event(l->leg.call, &l->leg, &ev);
}

static void tleg_hangup(hl_leg *leg, int code, const char *reason)
{
    tleg *l = (tleg *)leg;
    hl_timer_stop(l->timers, &l->t);
    leg->state = HL_LEG_ENDED;
}

static void tleg_destroy(hl_leg *leg)
{
    tleg *l = (tleg *)leg;
    hl_timer_stop(l->timers, &l->t);
    free(l);
}

static const hl_leg_ops tleg_ops = { .hangup = tleg_hangup, .destroy = tleg_destroy };

/* ---- the world: loop, clock, timers, store, policy, env ---------------------------------- */

typedef struct world {
    uv_loop_t   uv;
    hl_clock    clock;
    hl_timers   timers;
    uv_timer_t  driver;
    hl_config   cfg;
    hl_call_env env;
    hl_policy  *policy;
    hl_store   *store;
    hl_jobs    *jobs;
    hl_call    *dead[256];
    int         ndead, started, max_running, dialled;
    hl_call    *last;          /* the newest job call, while it runs */
} world;

static hl_leg *w_dial(hl_call_env *env, hl_call *call, const char *uri, const hl_dial_opts *o)
{
    world *w = env->owner;
    tleg *l = calloc(1, sizeof *l);
    l->leg.ops = &tleg_ops;
    l->leg.dir = HL_LEG_OUTBOUND;
    l->leg.state = HL_LEG_RINGING;
    l->leg.call = call;
    l->timers = &w->timers;
    l->fail = strstr(uri, "busy") ? 486 : 0;
    snprintf(l->leg.remote_uri, sizeof l->leg.remote_uri, "%s", uri);
    snprintf(l->leg.sip_call_id, sizeof l->leg.sip_call_id, "fake-%d", ++w->dialled);
    hl_timer_start(&w->timers, &l->t, FAKE_ANSWER_MS, tleg_fire, l);
    return &l->leg;
}

static hl_policy *w_policy(hl_call_env *env) { return ((world *)env->owner)->policy; }

static void w_ended(hl_call_env *env, hl_call *call)
{
    world *w = env->owner;
    if (w->last == call)
        w->last = NULL;
    if (w->ndead < (int)(sizeof w->dead / sizeof w->dead[0]))
        w->dead[w->ndead++] = call;
}

static void w_added(void *arg, hl_call *call)
{
    world *w = arg;
    w->started++;
    w->last = call;
    if (hl_jobs_running(w->jobs) > w->max_running)
        w->max_running = hl_jobs_running(w->jobs);
}

static void driver_fire(uv_timer_t *h)
{
    world *w = h->data;
    hl_timers_run_due(&w->timers, uv_now(&w->uv));
}

static void timers_changed(hl_timers *ts, void *arg)
{
    world *w = arg;
    uint64_t due = hl_timers_next_due(ts), now = uv_now(&w->uv);
    if (due == UINT64_MAX)
        uv_timer_stop(&w->driver);
    else
        uv_timer_start(&w->driver, driver_fire, due > now ? due - now : 0, 0);
}

static void reap(world *w)
{
    while (w->ndead)
        hl_call_free(w->dead[--w->ndead]);
}

static const char MAIN_LUA[] =
    "function main(call) call:hangup() end\n"
    "function job_ok(call, args, job)\n"
    "  local leg, code = call:dial(args.uri)\n"
    "  if not leg then return false, 'dial ' .. code end\n"
    "  leg:hangup()\n"
    "  call:set_route('ok-' .. job.attempt)\n"
    "  return true\n"
    "end\n"
    "function job_flaky(call, args, job)\n"
    "  call:sleep(5)\n"
    "  if job.attempt < args.succeed_on then return false, 'not yet ' .. job.attempt end\n"
    "end\n"
    "function job_boom(call, args) error('boom') end\n"
    "function job_play(call) call:play('welcome') end\n"
    "function job_slow(call, args) call:sleep(args.ms) end\n";

static char tmp[256];

static int world_init(world *w)
{
    memset(w, 0, sizeof *w);
    uv_loop_init(&w->uv);
    hl_clock_init_real(&w->clock, &w->uv, -1);
    hl_timers_init(&w->timers, &w->clock);
    uv_timer_init(&w->uv, &w->driver);
    w->driver.data = w;
    w->timers.on_change = timers_changed;
    w->timers.on_change_arg = w;
    hl_config_defaults(&w->cfg);
    w->cfg.jobs_poll_ms = 10;        /* unit-test speed; rules/engine.lua bounds it at 100 */
    w->cfg.jobs_max_running = 2;
    w->cfg.fax_retry_delay_ms = 20;
    char err[4096] = "", scripts[300], rules[300];
    snprintf(scripts, sizeof scripts, "%s/scripts", tmp);
    snprintf(rules, sizeof rules, "%s/rules", tmp);
    hl_policy_src src = { .scripts_dir = scripts, .rules_dir = rules, .cfg = &w->cfg, .open_api = hl_call_lua_open };
    w->policy = hl_policy_build(&src, err, sizeof err);
    if (!w->policy) {
        printf("policy: %s\n", err);
        return -1;
    }
    w->store = hl_store_open(&w->uv, tmp, err, sizeof err);
    if (!w->store) {
        printf("store: %s\n", err);
        return -1;
    }
    w->env = (hl_call_env){ .clock = &w->clock, .timers = &w->timers, .cfg = &w->cfg,
                            .store = w->store, .current_policy = w_policy, .dial = w_dial,
                            .call_ended = w_ended, .recordings_dir = tmp, .owner = w };
    return 0;
}

static int jobs_start(world *w)
{
    char err[256];
    hl_jobs_host h = { .store = w->store, .env = &w->env, .call_added = w_added, .arg = w };
    w->jobs = hl_jobs_new(&h, err, sizeof err);
    if (!w->jobs)
        printf("jobs: %s\n", err);
    return w->jobs ? 0 : -1;
}

static void world_free(world *w)
{
    hl_jobs_stop(w->jobs);
    reap(w);
    hl_store_close(w->store);
    hl_jobs_free(w->jobs);
    hl_timers_free(&w->timers);
    uv_close((uv_handle_t *)&w->driver, NULL);
    uv_run(&w->uv, UV_RUN_DEFAULT);
    uv_loop_close(&w->uv);
    hl_policy_unref(w->policy);
}

static json_t *q(world *w, const char *sql, json_t *params)
{
    char err[256] = "";
    json_t *r = hl_store_exec_sync(w->store, sql, params, err, sizeof err);
    if (!r)
        printf("  (query failed: %s: %s)\n", sql, err);
    json_decref(params);
    return r;
}

static long long add_job(world *w, const char *kind, const char *args, int max, double delay_s)
{
    double now = hl_clock_wall(&w->clock);
    json_t *r = q(w, "INSERT INTO jobs(kind, args, max_attempts, next_at, created, updated) "
                     "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                  json_pack("[s,s,i,f,f,f]", kind, args, max, now + delay_s, now, now));
    long long id = r ? json_integer_value(json_object_get(json_array_get(r, 0), "id")) : -1;
    json_decref(r);
    return id;
}

static json_t *job_row(world *w, long long id)
{
    json_t *r = q(w, "SELECT * FROM jobs WHERE id = ?", json_pack("[I]", (json_int_t)id));
    json_t *row = json_incref(json_array_get(r, 0));
    json_decref(r);
    return row;
}

static const char *jstr(json_t *row, const char *k) { return json_string_value(json_object_get(row, k)) ?: ""; }
static long long jint(json_t *row, const char *k) { return json_integer_value(json_object_get(row, k)); }

static long long count_where(world *w, const char *cond)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) AS n FROM jobs WHERE %s", cond);
    json_t *r = q(w, sql, NULL);
    long long n = json_integer_value(json_object_get(json_array_get(r, 0), "n"));
    json_decref(r);
    return n;
}

/* Runs the loop until cond holds (checked every turn) or WAIT_MAX_MS passes. */
static bool run_until(world *w, bool (*cond)(world *))
{
    uint64_t end = uv_now(&w->uv) + WAIT_MAX_MS;
    while (!cond(w) && uv_now(&w->uv) < end) {
        uv_run(&w->uv, UV_RUN_ONCE);
        reap(w);
    }
    return cond(w);
}

static bool none_pending(world *w)
{
    return count_where(w, "state IN ('queued', 'running') AND next_at < 4e9 AND kind <> 'later'") == 0 &&
           hl_jobs_running(w->jobs) == 0;
}

static bool one_running(world *w) { return w->last != NULL && hl_jobs_running(w->jobs) == 1; }
static bool slow_requeued(world *w) { return count_where(w, "kind = 'slow' AND state = 'queued'") == 1; }

/* ---- the tests ----------------------------------------------------------------------------- */

static void test_run_retry_fail(void)
{
    world w;
    if (world_init(&w) || jobs_start(&w)) {
        CHECK(0, "world set-up");
        return;
    }
    long long ok = add_job(&w, "ok", "{\"uri\":\"sip:fax@gw\"}", 3, 0);
    long long busy = add_job(&w, "ok", "{\"uri\":\"sip:busy@gw\"}", 2, 0);
    long long flaky = add_job(&w, "flaky", "{\"succeed_on\":2}", 3, 0);
    long long boom = add_job(&w, "boom", "{}", 2, 0);
    long long nofn = add_job(&w, "nope", "{}", 1, 0);
    long long play = add_job(&w, "play", "{}", 1, 0);
    long long later = add_job(&w, "later", "{}", 1, 3600);
    for (int i = 0; i < 4; i++)
        add_job(&w, "slow", "{\"ms\":30}", 1, 0);
    CHECK(run_until(&w, none_pending), "jobs still pending after %d ms", WAIT_MAX_MS);

    json_t *r = job_row(&w, ok);
    CHECK(!strcmp(jstr(r, "state"), "done") && jint(r, "attempts") == 1 && jstr(r, "call_id")[0],
          "ok: state %s attempts %lld call %s", jstr(r, "state"), jint(r, "attempts"), jstr(r, "call_id"));
    json_decref(r);
    r = job_row(&w, busy);
    CHECK(!strcmp(jstr(r, "state"), "failed") && jint(r, "attempts") == 2 && !strcmp(jstr(r, "last_error"), "dial 486"),
          "busy: state %s attempts %lld error '%s'", jstr(r, "state"), jint(r, "attempts"), jstr(r, "last_error"));
    json_decref(r);
    r = job_row(&w, flaky);
    CHECK(!strcmp(jstr(r, "state"), "done") && jint(r, "attempts") == 2 && !jstr(r, "last_error")[0],
          "flaky: state %s attempts %lld error '%s'", jstr(r, "state"), jint(r, "attempts"), jstr(r, "last_error"));
    json_decref(r);
    r = job_row(&w, boom);
    CHECK(!strcmp(jstr(r, "state"), "failed") && jint(r, "attempts") == 2 && strstr(jstr(r, "last_error"), "boom"),
          "boom: state %s attempts %lld error '%s'", jstr(r, "state"), jint(r, "attempts"), jstr(r, "last_error"));
    json_decref(r);
    r = job_row(&w, nofn);
    CHECK(!strcmp(jstr(r, "state"), "failed") && strstr(jstr(r, "last_error"), "no function job_nope"),
          "nope: state %s error '%s'", jstr(r, "state"), jstr(r, "last_error"));
    json_decref(r);
    r = job_row(&w, play);
    CHECK(!strcmp(jstr(r, "state"), "failed") && strstr(jstr(r, "last_error"), "has no caller"),
          "play: state %s error '%s'", jstr(r, "state"), jstr(r, "last_error"));
    json_decref(r);
    r = job_row(&w, later);
    CHECK(!strcmp(jstr(r, "state"), "queued") && jint(r, "attempts") == 0,
          "later: state %s attempts %lld", jstr(r, "state"), jint(r, "attempts"));
    json_decref(r);
    CHECK(count_where(&w, "kind = 'slow' AND state = 'done'") == 4, "slow jobs not all done");
    CHECK(w.max_running >= 1 && w.max_running <= w.cfg.jobs_max_running,
          "at most %d jobs at once, saw %d", w.cfg.jobs_max_running, w.max_running);
    /* attempts: ok 1, busy 2, flaky 2, boom 2, nope 1, play 1, slow 4 */
    CHECK(w.started == 13, "13 attempts expected, %d calls started", w.started);
    world_free(&w);
}

static void test_recovery_and_shutdown(void)
{
    world w;
    if (world_init(&w)) {
        CHECK(0, "world set-up");
        return;
    }
    /* a row left 'running' by a crash: back to 'queued', that attempt not counted */
    long long id = add_job(&w, "ok", "{\"uri\":\"sip:fax@gw\"}", 1, 0);
    json_decref(q(&w, "UPDATE jobs SET state = 'running', attempts = 1 WHERE id = ?", json_pack("[I]", (json_int_t)id)));
    if (jobs_start(&w)) {
        CHECK(0, "jobs start");
        world_free(&w);
        return;
    }
    json_t *r = job_row(&w, id);
    CHECK(!strcmp(jstr(r, "state"), "queued") && jint(r, "attempts") == 0 && strstr(jstr(r, "last_error"), "interrupted"),
          "recovered: state %s attempts %lld error '%s'", jstr(r, "state"), jint(r, "attempts"), jstr(r, "last_error"));
    json_decref(r);
    CHECK(run_until(&w, none_pending), "recovered job still pending");
    r = job_row(&w, id);
    CHECK(!strcmp(jstr(r, "state"), "done") && jint(r, "attempts") == 1,
          "recovered job: state %s attempts %lld", jstr(r, "state"), jint(r, "attempts"));
    json_decref(r);

    /* shutdown while a job runs: its call is ended, the job is queued again */
    long long slow = add_job(&w, "slow", "{\"ms\":60000}", 1, 0);
    CHECK(run_until(&w, one_running), "the slow job did not start");
    hl_jobs_stop(w.jobs);
    if (w.last)
        hl_call_terminate(w.last, "shutdown");
    CHECK(run_until(&w, slow_requeued), "the interrupted job was not queued again");
    r = job_row(&w, slow);
    CHECK(!strcmp(jstr(r, "state"), "queued") && jint(r, "attempts") == 0 && strstr(jstr(r, "last_error"), "shutdown"),
          "interrupted: state %s attempts %lld error '%s'", jstr(r, "state"), jint(r, "attempts"), jstr(r, "last_error"));
    json_decref(r);
    world_free(&w);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* hl.jobs.enqueue's checks, through the simulator (the same call code). */
static void test_enqueue_checks(void)
{
    char dir[300], main_lua[340], scen[340];
    snprintf(dir, sizeof dir, "%s/enq", tmp);
    mkdir(dir, 0700);
    snprintf(main_lua, sizeof main_lua, "%s/main.lua", dir);
    write_file(main_lua,
        "local function try(...) local ok, e = pcall(hl.jobs.enqueue, ...); return ok and 'ok' or tostring(e) end\n"
        "function main(call)\n"
        "  call.vars.bad_kind = try('Fax!', {})\n"
        "  call.vars.bad_value = try('fax', { f = function() end })\n"
        "  call.vars.bad_mix = try('fax', { 1, x = 2 })\n"
        "  call.vars.bad_attempts = try('fax', {}, { max_attempts = 0 })\n"
        "  call.vars.frozen = try('fax', hl_frozen)\n"
        "  local id = hl.jobs.enqueue('fax', { to = '0431', list = { 1, 2 }, n = 1.5 }, { delay_ms = 60000, max_attempts = 5 })\n"
        "  call.vars.id = id\n"
        "  call:hangup()\n"
        "end\n"
        "hl_frozen = { a = 1 }\n");
    snprintf(scen, sizeof scen, "%s/enq.scenario.lua", dir);
    write_file(scen,
        "return { name = 'enqueue checks', expect = {\n"
        "  vars = { bad_kind = \"jobs.enqueue: kind 'Fax!' must be 1-32 of a-z 0-9 _ (the engine runs job_<kind>)\",\n"
        "           bad_mix = 'jobs.enqueue: args: a table mixes list items and names (keys must be names)',\n"
        "           bad_attempts = 'jobs.enqueue: max_attempts must be a whole number from 1 to 20',\n"
        "           frozen = 'jobs.enqueue: args: a read-only table (rules data): copy the values into a new table' },\n"
        "  cdr = { vars = { match = 'bad_value\":\"jobs.enqueue: args: a function cannot be stored' } },\n"
        "  jobs = { { kind = 'fax', args = { to = '0431', list = { 1, 2 }, n = 1.5 }, max_attempts = 5 } },\n"
        "} }\n");
    char rules[300];
    snprintf(rules, sizeof rules, "%s/rules", tmp);
    char *argv[] = { "sim", "-q", "--scripts", dir, "--rules", rules, scen, NULL };
    fflush(stdout);
    CHECK(hl_sim_main(7, argv) == 0, "hl.jobs.enqueue checks in the simulator (see above)");
}

/* The t21 scenarios: a caller queues a fax job; the job itself run by the simulator. */
static void test_t21_scenarios(void)
{
    struct stat st;
    if (stat("tests/e2e/fax/queue/jobs.scenario.lua", &st) != 0 || stat("build/fax/doc-1.tif", &st) != 0) {
        printf("note: t21 scenarios skipped (run from the repository root after make fax-docs)\n");
        return;
    }
    char *argv[] = { "sim", "-q", "--scripts", "tests/e2e/fax/queue", "--rules", "tests/e2e/fax/queue-rules",
                     "tests/e2e/fax/queue/jobs.scenario.lua", NULL };
    fflush(stdout);
    CHECK(hl_sim_main(7, argv) == 0, "tests/e2e/fax/queue/jobs.scenario.lua (see above)");
}

TEST_IMPL(jobs)
{
    hl_log_set_level(HL_LOG_ERROR);
    snprintf(tmp, sizeof tmp, "%s/hl-test-jobs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    char p[400];
    snprintf(p, sizeof p, "%s/scripts", tmp);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/rules", tmp);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/scripts/main.lua", tmp);
    write_file(p, MAIN_LUA);

    test_run_retry_fail();
    test_recovery_and_shutdown();
    test_enqueue_checks();
    test_t21_scenarios();

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", tmp);
    return 0;
}
