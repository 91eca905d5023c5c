/* jobs.c — the job runner (jobs.h): polls the store's jobs table, runs due jobs as
 * engine-originated calls, records their outcome, retries failures, and serves
 * `hotline ctl jobs`.
 *
 * Claiming is one statement (UPDATE ... WHERE id IN (due ones) RETURNING ...), so a job is
 * never started twice, and only one claim is in flight at a time.  Every write goes through
 * the store's worker; nothing here blocks the loop except the recovery at start-up. */
#include "app/jobs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "ctl/ctl.h"
#include "store/store.h"

#define JOBS_LIST_DEFAULT 50    /* `ctl jobs` rows unless a number is given */
#define JOBS_LIST_MAX 1000      /* ... and at most (the store's script limit, for the same reason) */
#define JOBS_ERR_MAX 240        /* last_error kept per job (the start of a Lua traceback) */

typedef struct job_run {
    hl_jobs        *j;
    json_int_t      id;
    int             attempt;
    char            kind[40];
    struct job_run *next;
} job_run;

struct hl_jobs {
    hl_jobs_host host;
    hl_timer     poll;
    bool         claiming, stopping;
    job_run     *runs;
    int          nrunning;
};

static const hl_config *cfg_of(hl_jobs *j) { return j->host.env->cfg; }
static double wall_of(hl_jobs *j) { return hl_clock_wall(j->host.env->clock); }

static void write_done(void *arg, json_t *rows, const char *err)
{
    if (err)
        hl_error("jobs", "cannot record a job's outcome: %s", err);
}

/* ---- outcome of one attempt -------------------------------------------------------------- */

static void job_ended(void *arg, hl_call *call)
{
    job_run *r = arg;
    hl_jobs *j = r->j;
    for (job_run **pp = &j->runs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    j->nrunning--;
    const char *why = "";
    int outcome = hl_call_outcome(call, &why);
    char err[JOBS_ERR_MAX + 1];
    snprintf(err, sizeof err, "%s", why);
    double now = wall_of(j);
    const char *sql;
    json_t *params;
    if (outcome > 0) {
        hl_info("jobs", "job %lld (%s) done on attempt %d, call %s", (long long)r->id, r->kind,
                r->attempt, hl_call_id(call));
        sql = "UPDATE jobs SET state = 'done', updated = ?2, last_error = '', call_id = ?3 WHERE id = ?1";
        params = json_pack("[I,f,s]", r->id, now, hl_call_id(call));
    } else if (j->stopping) {
        /* ended by the shutdown, not by its own failure: the attempt does not count */
        hl_info("jobs", "job %lld (%s) interrupted by shutdown; queued again", (long long)r->id, r->kind);
        sql = "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), updated = ?2, "
              "last_error = ?3, call_id = ?4 WHERE id = ?1 AND state = 'running'";
        params = json_pack("[I,f,s,s]", r->id, now, "interrupted by shutdown", hl_call_id(call));
    } else if (hl_call_dial_refused(call)) {
        /* the dial rules refused its number: a retry would be refused again */
        hl_warn("jobs", "job %lld (%s) failed for good on attempt %d: a dial rule refused it (%s)",
                (long long)r->id, r->kind, r->attempt, err);
        sql = "UPDATE jobs SET state = 'failed', updated = ?2, last_error = ?3, call_id = ?4 WHERE id = ?1";
        params = json_pack("[I,f,s,s]", r->id, now, err, hl_call_id(call));
    } else {
        double next = now + cfg_of(j)->fax_retry_delay_ms / 1000.0;
        hl_warn("jobs", "job %lld (%s) attempt %d failed: %s", (long long)r->id, r->kind, r->attempt, err);
        sql = "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, "
              "next_at = ?2, updated = ?3, last_error = ?4, call_id = ?5 WHERE id = ?1";
        params = json_pack("[I,f,f,s,s]", r->id, next, now, err, hl_call_id(call));
    }
    hl_store_exec(j->host.store, sql, params, write_done, NULL);
    json_decref(params);
    free(r);
}

/* A claimed job whose call could not even be created: a failed attempt like any other. */
static void job_not_started(hl_jobs *j, json_int_t id, const char *kind, const char *why)
{
    hl_warn("jobs", "job %lld (%s) not started: %s", (long long)id, kind, why);
    double now = wall_of(j);
    json_t *params = json_pack("[I,f,f,s]", id, now + cfg_of(j)->fax_retry_delay_ms / 1000.0, now, why);
    hl_store_exec(j->host.store,
                  "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, "
                  "next_at = ?2, updated = ?3, last_error = ?4 WHERE id = ?1",
                  params, write_done, NULL);
    json_decref(params);
}

static void start_job(hl_jobs *j, json_t *row)
{
    json_int_t id = json_integer_value(json_object_get(row, "id"));
    const char *kind = json_string_value(json_object_get(row, "kind"));
    const char *text = json_string_value(json_object_get(row, "args"));
    int attempt = (int)json_integer_value(json_object_get(row, "attempts"));
    int max = (int)json_integer_value(json_object_get(row, "max_attempts"));
    if (!kind)
        kind = "?";
    char fn[64];
    snprintf(fn, sizeof fn, "job_%s", kind);
    json_t *args = json_loads(text ? text : "{}", 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        job_not_started(j, id, kind, "args are not a JSON object");
        return;
    }
    const char *caller = json_string_value(json_object_get(row, "caller"));
    json_t *info = json_pack("{s:I,s:s,s:i,s:i,s:s}", "id", id, "kind", kind, "attempt", attempt,
                             "max_attempts", max, "caller", caller ? caller : "");
    char label[64];
    snprintf(label, sizeof label, "job-%lld-%d", (long long)id, attempt);
    hl_call *call = hl_call_new_originate(j->host.env, fn, args, info, label);
    json_decref(args);
    json_decref(info);
    job_run *r = call ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        if (call)
            hl_call_free(call);
        job_not_started(j, id, kind, call ? "out of memory" : "kind is not a valid name");
        return;
    }
    r->j = j;
    r->id = id;
    r->attempt = attempt;
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    r->next = j->runs;
    j->runs = r;
    j->nrunning++;
    hl_info("jobs", "job %lld (%s) attempt %d of %d: call %s", (long long)id, kind, attempt, max,
            hl_call_id(call));
    hl_call_set_on_end(call, job_ended, r);
    if (j->host.call_added)
        j->host.call_added(j->host.arg, call);
    hl_call_start(call); /* may end at once (no such function): job_ended has then run */
}

/* ---- polling ----------------------------------------------------------------------------- */

static void poll_fire(hl_timer *t);

static void poll_arm(hl_jobs *j, uint64_t ms)
{
    if (!j->stopping)
        hl_timer_start(j->host.env->timers, &j->poll, ms, poll_fire, j);
}

static void claimed(void *arg, json_t *rows, const char *err)
{
    hl_jobs *j = arg;
    j->claiming = false;
    if (err) {
        hl_error("jobs", "cannot claim due jobs: %s", err);
        return;
    }
    if (j->stopping)
        return; /* left 'running': the next start puts them back to 'queued' */
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
        start_job(j, row);
}

static void poll_fire(hl_timer *t)
{
    hl_jobs *j = t->data;
    poll_arm(j, (uint64_t)cfg_of(j)->jobs_poll_ms);
    int slots = cfg_of(j)->jobs_max_running - j->nrunning;
    if (j->stopping || j->claiming || slots <= 0)
        return;
    j->claiming = true;
    json_t *params = json_pack("[f,i]", wall_of(j), slots);
    hl_store_exec(j->host.store,
                  "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated = ?1 "
                  "WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND next_at <= ?1 "
                  "ORDER BY next_at, id LIMIT ?2) "
                  "RETURNING id, kind, args, attempts, max_attempts, caller",
                  params, claimed, j);
    json_decref(params);
}

/* ---- life cycle -------------------------------------------------------------------------- */

hl_jobs *hl_jobs_new(const hl_jobs_host *host, char *err, int errlen)
{
    if (!host->store || !host->env) {
        snprintf(err, errlen, "jobs: no store or call environment");
        return NULL;
    }
    hl_jobs *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "jobs: out of memory");
        return NULL;
    }
    j->host = *host;
    json_t *params = json_pack("[f,s]", wall_of(j), "interrupted (the engine stopped during the attempt)");
    char serr[256] = "";
    json_t *rows = hl_store_exec_sync(host->store,
                                      "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), "
                                      "updated = ?1, last_error = ?2 WHERE state = 'running' RETURNING id",
                                      params, serr, sizeof serr);
    json_decref(params);
    if (!rows) {
        snprintf(err, errlen, "jobs: cannot recover running jobs: %s", serr);
        free(j);
        return NULL;
    }
    if (json_array_size(rows))
        hl_warn("jobs", "%zu job(s) were running when the engine last stopped: queued again",
                json_array_size(rows));
    json_decref(rows);
    poll_arm(j, (uint64_t)cfg_of(j)->jobs_poll_ms);
    return j;
}

void hl_jobs_stop(hl_jobs *j)
{
    if (!j)
        return;
    j->stopping = true;
    hl_timer_stop(j->host.env->timers, &j->poll);
}

void hl_jobs_free(hl_jobs *j)
{
    if (!j)
        return;
    /* calls still listed here were freed by their owner without ending (a forced exit):
     * their rows stay 'running' and the next start queues them again */
    while (j->runs) {
        job_run *r = j->runs;
        j->runs = r->next;
        free(r);
    }
    free(j);
}

int hl_jobs_running(const hl_jobs *j) { return j ? j->nrunning : 0; }

/* ---- hotline ctl jobs ---------------------------------------------------------------------- */

static void iso_field(json_t *row, const char *k)
{
    json_t *v = json_object_get(row, k);
    if (!json_is_number(v) || json_number_value(v) <= 0) {
        json_object_set_new(row, k, json_string("-"));
        return;
    }
    char buf[40];
    hl_clock_format_iso(json_number_value(v), buf, sizeof buf);
    json_object_set_new(row, k, json_string(buf));
}

static void listed(void *arg, json_t *rows, const char *err)
{
    hl_ctl_req *req = arg;
    if (!rows) {
        hl_ctl_reply_error(req, "jobs: %s", err ? err : "store error");
        return;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        iso_field(row, "next_at");
        iso_field(row, "created");
        iso_field(row, "updated");
    }
    hl_ctl_reply(req, json_pack("{s:b,s:O}", "ok", 1, "jobs", rows));
}

static json_t *ctl_jobs(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_jobs *j = arg;
    static const char *const states[] = { "queued", "running", "done", "failed", NULL };
    const char *state = json_string_value(json_object_get(request, "state"));
    json_int_t limit = JOBS_LIST_DEFAULT;
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(request, "args"), i, a) {
        const char *s = json_string_value(a);
        char *end = NULL;
        long long n = s ? strtoll(s, &end, 10) : 0;
        if (s && *s && end && !*end && n > 0) {
            limit = n > JOBS_LIST_MAX ? JOBS_LIST_MAX : n;
            continue;
        }
        bool known = false;
        for (int k = 0; states[k] && s; k++)
            known |= !strcmp(s, states[k]);
        if (!known) {
            snprintf(err, errlen, "usage: hotline ctl jobs [queued|running|done|failed] [N]");
            return NULL;
        }
        state = s;
    }
    json_t *params = json_pack("[s,I]", state ? state : "", limit);
    hl_store_exec(j->host.store,
                  "SELECT id, kind, state, attempts, max_attempts, next_at, updated, last_error, "
                  "call_id, args, created, source_call FROM jobs WHERE (?1 = '' OR state = ?1) "
                  "ORDER BY id DESC LIMIT ?2",
                  params, listed, req);
    json_decref(params);
    return HL_CTL_DEFERRED;
}

void hl_jobs_register_ctl(hl_jobs *j, struct hl_ctl *ctl)
{
    if (j && ctl)
        hl_ctl_register(ctl, "jobs", ctl_jobs, j,
                        "jobs [queued|running|done|failed] [N]: the queued faxes and other engine-run jobs");
}
