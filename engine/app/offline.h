/* offline.h — the policy's own work off the call loop (issue 9): a month's results and the
 * reports, computed by the policy (rules/month.lua, rules/reports.lua) on a worker thread,
 * in a Lua state of its own built from the last good policy's files, reading the store
 * through a read-only connection and writing through the store's queue.  The call loop only
 * hands the job over and, when it is done, replies: an RTP tick is never late for it.
 *
 * What the policy module gets (docs/admin-guide.md "Monthly results and reports"):
 *   MODULE.run(ctx, args...) with ctx = { month?, version, now,
 *     query(sql, params) -> rows (a list of {column = value}; NULL columns absent),
 *     each(sql, params, fn) -> count (fn(row) per row, in order; a big month),
 *     write(sql, params)      (queued to the store under the scripts' authorizer),
 *     hash(text) -> hex       (a keyed draw: the same text, the same hash),
 *     json(text) -> value     (a column holding JSON; nil and why when it is not) }
 * and returns a plain table (the reply: counts, or {text = ...} for a report). */
#ifndef HL_OFFLINE_H
#define HL_OFFLINE_H
#include <jansson.h>
#include <stdbool.h>
#include <uv.h>
#include "core/config.h"

struct hl_store;
struct hl_loop;
struct hl_ctl;

/* One job: which module of the policy in which folders, with what arguments. */
typedef struct hl_offline_job hl_offline_job;

typedef struct hl_offline_spec {
    struct hl_store *store;
    const char      *scripts_dir, *rules_dir;
    const char      *version;     /* the policy version results are stamped with */
    const hl_config *cfg;
    const char      *module;      /* "month", "reports" */
    json_t          *args;        /* array of strings, borrowed */
    double           now;
} hl_offline_spec;

/* Runs a job on the caller's thread (tools, tests; a store opened without a loop, or one
 * whose queue the caller may wait on).  The reply {ok, ..., writes, write_errors, ms}, or
 * {ok: false, error}.  Never on the loop thread. */
json_t *hl_offline_run_sync(const hl_offline_spec *spec);

/* Runs a job on uv's thread pool: done(arg, reply) runs on the loop once the job's writes
 * are committed (the reply as hl_offline_run_sync's).  The spec is copied.  One job at a
 * time: -1 with err while one runs. */
typedef void (*hl_offline_done_fn)(void *arg, json_t *reply);
int hl_offline_start(uv_loop_t *uv, const hl_offline_spec *spec, hl_offline_done_fn done, void *arg,
                     char *err, int errlen);

/* `hotline ctl month compute YYYY-MM` and `hotline ctl report KIND MONTH --html|--csv`. */
void hl_offline_register_ctl(struct hl_loop *l, struct hl_ctl *ctl);

#endif
