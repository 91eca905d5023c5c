/* dial_guard.c — the dial rules of rules/trunks.lua applied to every engine-placed call, and
 * the count per caller and day (see dial_guard.h). */
#include "call/dial_guard.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/trunks.h"
#include "lua/script.h"
#include "store/store.h"

#define DAY_LEN 11            /* "2026-11-30" */
#define KEY_LEN 64            /* a caller number or a purpose name */

/* Engine-placed calls are few (fax jobs, transfers): a list searched in order is enough. */
typedef struct day_count {
    char caller[KEY_LEN], purpose[KEY_LEN];
    int  count;
} day_count;

struct hl_dial_guard {
    struct hl_store  *store;
    const hl_clock   *clock;
    char              day[DAY_LEN];   /* the day the counts are of */
    day_count        *v;
    int               n, cap;
    hl_dial_guard_stats stats;
};

/* The centre's date of now, "2026-11-30". */
static void today(const hl_clock *clock, char day[DAY_LEN])
{
    char iso[40];
    hl_clock_format_iso(hl_clock_wall(clock), iso, sizeof iso);
    snprintf(day, DAY_LEN, "%.10s", iso);
}

static day_count *find(hl_dial_guard *g, const char *caller, const char *purpose, bool add)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->v[i].caller, caller) && !strcmp(g->v[i].purpose, purpose))
            return &g->v[i];
    if (!add)
        return NULL;
    if (g->n == g->cap) {
        int cap = g->cap ? g->cap * 2 : 64;
        day_count *v = realloc(g->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        g->v = v;
        g->cap = cap;
    }
    day_count *c = &g->v[g->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->caller, sizeof c->caller, "%s", caller);
    snprintf(c->purpose, sizeof c->purpose, "%s", purpose);
    return c;
}

static void count_written(void *arg, json_t *rows, const char *err)
{
    if (err)
        hl_error("dial", "dial_counts: %s", err);
}

/* The counts of today already in the store (from before a restart); earlier days' rows are
 * no longer needed (the log keeps each refusal, the CDRs each call) and are dropped. */
static void load_today(hl_dial_guard *g)
{
    if (!g->store)
        return;
    char err[256];
    json_t *params = json_pack("[s]", g->day);
    hl_store_exec(g->store, "DELETE FROM dial_counts WHERE day < ?1", params, count_written, NULL);
    json_t *rows = hl_store_exec_sync(g->store, "SELECT caller, purpose, count FROM dial_counts "
                                      "WHERE day = ?1", params, err, sizeof err);
    json_decref(params);
    if (!rows) {
        hl_error("dial", "cannot read today's dial counts: %s", err);
        return;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *caller = json_string_value(json_object_get(row, "caller"));
        const char *purpose = json_string_value(json_object_get(row, "purpose"));
        day_count *c = caller && purpose ? find(g, caller, purpose, true) : NULL;
        if (c)
            c->count = (int)json_integer_value(json_object_get(row, "count"));
    }
    json_decref(rows);
}

hl_dial_guard *hl_dial_guard_new(struct hl_store *store, const hl_clock *clock)
{
    hl_dial_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->store = store;
    g->clock = clock;
    today(clock, g->day);
    load_today(g);
    return g;
}

void hl_dial_guard_free(hl_dial_guard *g)
{
    if (g)
        free(g->v);
    free(g);
}

void hl_dial_guard_get_stats(const hl_dial_guard *g, hl_dial_guard_stats *out)
{
    *out = g ? g->stats : (hl_dial_guard_stats){ 0 };
}

/* One more allowed call of caller for purpose today, in memory and in the store. */
static void count(hl_dial_guard *g, day_count *c)
{
    c->count++;
    if (!g->store)
        return;
    json_t *params = json_pack("[s,s,s]", g->day, c->caller, c->purpose);
    hl_store_exec(g->store,
                  "INSERT INTO dial_counts(day, caller, purpose, count) VALUES (?1, ?2, ?3, 1) "
                  "ON CONFLICT(day, caller, purpose) DO UPDATE SET count = count + 1",
                  params, count_written, NULL);
    json_decref(params);
}

static int refuse(hl_dial_guard *g, const hl_dial_opts *o, const char *call_id, const char *uri,
                  const char *purpose, const char *caller, const char *why)
{
    if (g)
        g->stats.refused++;
    if (o && o->refused)
        *o->refused = 403;
    hl_warn("dial", "%s: refused %s (purpose %s, caller '%s'): %s", call_id, uri, purpose, caller, why);
    return 403;
}

int hl_dial_guard_check(hl_call_env *env, const char *call_id, const char *uri,
                        const hl_dial_opts *o)
{
    hl_dial_guard *g = env->dial_guard;
    const char *purpose = o && o->purpose && o->purpose[0] ? o->purpose : "dial";
    const char *caller = o && o->caller ? o->caller : "";
    const hl_trunks *t = env->current_policy ? hl_policy_trunks(env->current_policy(env)) : NULL;
    char number[KEY_LEN * 2], host[256], why[2000];
    if (!t)
        return refuse(g, o, call_id, uri, purpose, caller, "no policy with trunks is loaded");
    if (hl_uri_user_host(uri, number, sizeof number, host, sizeof host) != 0 || !host[0])
        return refuse(g, o, call_id, uri, purpose, caller, "not a sip: URI with a host");
    const hl_dial_rule *rule = hl_trunks_dial_rule(t, purpose);
    if (!rule) {
        snprintf(why, sizeof why, "%s has no dial rule for purpose '%s'", t->path, purpose);
        return refuse(g, o, call_id, uri, purpose, caller, why);
    }
    const hl_trunk *trunk = hl_trunks_by_host(t, host);
    if (!trunk) {
        snprintf(why, sizeof why, "no trunk of %s reaches host '%s'", t->path, host);
        return refuse(g, o, call_id, uri, purpose, caller, why);
    }
    if (!hl_number_list_match(&rule->numbers, number)) {
        snprintf(why, sizeof why, "number '%s' is not in dial rule '%s' (%s:%d: %s)", number,
                 rule->purpose, t->path, rule->line, rule->reason);
        return refuse(g, o, call_id, uri, purpose, caller, why);
    }
    if (!g)
        return 0;
    char day[DAY_LEN];
    today(g->clock, day);
    if (strcmp(day, g->day) != 0) {    /* a new day: yesterday's counts are done with */
        memcpy(g->day, day, DAY_LEN);
        g->n = 0;
    }
    day_count *c = find(g, caller, rule->purpose, true);
    if (!c)
        return refuse(g, o, call_id, uri, purpose, caller, "out of memory counting calls");
    if (rule->per_caller_day > 0 && c->count >= rule->per_caller_day) {
        snprintf(why, sizeof why, "caller has had %d calls for '%s' today, the cap of dial rule "
                 "'%s' (%s:%d per_caller_day)", c->count, rule->purpose, rule->purpose, t->path, rule->line);
        return refuse(g, o, call_id, uri, purpose, caller, why);
    }
    count(g, c);
    g->stats.allowed++;
    hl_info("dial", "%s: %s allowed via trunk %s (purpose %s, caller '%s', %d today)", call_id, uri,
            trunk->name, purpose, caller, c->count);
    return 0;
}
