/* store_migrations.c — the schema of hotline.db, as an ordered list of migrations.
 *
 * A migration is never edited once shipped: a change is a new migration appended to the
 * list.  (Issue 6 emptied 2 and 3 and took one table out of 1: what they made belongs to the
 * policy, whose schema files adopt it in databases made before; see rules/schema/.)  Each runs in its own transaction together with the schema_version row that
 * records it, so a crash mid-migration leaves the previous version intact. */
#include "store/store_sqlite.h"
#include "store/store.h"
#include <stdio.h>
#include <sys/time.h>

typedef struct migration {
    int         version;
    const char *description;
    const char *sql;
} migration;

static const migration migrations[] = {
    { 1, "cdr, script_kv",
      /* One row per call leg (store/cdr.h).  Times are epoch seconds (REAL, ms precision),
       * 0 = did not happen.  prompts/menus are space-separated; vars is JSON text. */
      "CREATE TABLE cdr ("
      "  id             INTEGER PRIMARY KEY,"
      "  call_id        TEXT NOT NULL,"
      "  leg_id         TEXT NOT NULL DEFAULT '',"
      "  leg_index      INTEGER NOT NULL DEFAULT 0,"
      "  direction      TEXT NOT NULL DEFAULT '',"
      "  caller         TEXT NOT NULL DEFAULT '',"
      "  called         TEXT NOT NULL DEFAULT '',"
      "  start_time     REAL NOT NULL DEFAULT 0,"
      "  answer_time    REAL NOT NULL DEFAULT 0,"
      "  end_time       REAL NOT NULL DEFAULT 0,"
      "  hangup_side    TEXT NOT NULL DEFAULT '',"
      "  hangup_cause   TEXT NOT NULL DEFAULT '',"
      "  dtmf           TEXT NOT NULL DEFAULT '',"
      "  prompts        TEXT NOT NULL DEFAULT '',"
      "  menus          TEXT NOT NULL DEFAULT '',"
      "  route          TEXT NOT NULL DEFAULT '',"
      "  script_version TEXT NOT NULL DEFAULT '',"
      "  recording      TEXT NOT NULL DEFAULT '',"
      "  rtp_sent       INTEGER NOT NULL DEFAULT 0,"
      "  rtp_received   INTEGER NOT NULL DEFAULT 0,"
      "  rtp_lost       INTEGER NOT NULL DEFAULT 0,"
      "  rtp_jitter_ms  REAL NOT NULL DEFAULT 0,"
      "  codec          TEXT NOT NULL DEFAULT '',"
      "  vars           TEXT NOT NULL DEFAULT ''"
      ");"
      "CREATE INDEX cdr_start ON cdr(start_time);"
      "CREATE INDEX cdr_call ON cdr(call_id);"
      /* A small key-value table for scripts (counters, flags, notes). */
      "CREATE TABLE script_kv ("
      "  key     TEXT PRIMARY KEY,"
      "  value   TEXT,"
      "  updated REAL NOT NULL DEFAULT 0"
      ");" },
    /* 2 and 3 created a centre's own tables and sample rows; they are the policy's now
     * (rules/schema/, applied by store_policy.c).  Databases that ran them keep those
     * tables, which the policy's schema adopts (CREATE TABLE IF NOT EXISTS). */
    { 2, "retired: a policy table (now rules/schema/)", "" },
    { 3, "retired: sample rows (now examples/)", "" },
    { 4, "jobs",
      /* Work the engine does on its own, after the caller has gone (engine/app/jobs.c):
       * e.g. a queued fax to a number the caller keyed (§10.11 索取传真).  A job runs as an
       * engine-originated call of job_<kind>(call, args); a failed attempt is retried after
       * a delay until max_attempts.  Times are epoch seconds; args is JSON text; call_id is
       * the call that ran the latest attempt (its CDRs), source_call the call that queued it. */
      "CREATE TABLE jobs ("
      "  id           INTEGER PRIMARY KEY,"
      "  kind         TEXT NOT NULL,"
      "  args         TEXT NOT NULL DEFAULT '{}',"
      "  state        TEXT NOT NULL DEFAULT 'queued'"
      "               CHECK (state IN ('queued', 'running', 'done', 'failed')),"
      "  attempts     INTEGER NOT NULL DEFAULT 0,"
      "  max_attempts INTEGER NOT NULL DEFAULT 3,"
      "  next_at      REAL NOT NULL DEFAULT 0,"
      "  created      REAL NOT NULL DEFAULT 0,"
      "  updated      REAL NOT NULL DEFAULT 0,"
      "  last_error   TEXT NOT NULL DEFAULT '',"
      "  call_id      TEXT NOT NULL DEFAULT '',"
      "  source_call  TEXT NOT NULL DEFAULT ''"
      ");"
      "CREATE INDEX jobs_due ON jobs(state, next_at);" },
    { 5, "policy_schema",
      /* The tables a policy declares (rules/schema/NNN_name.sql) are applied once each when
       * the policy is activated (store_policy.c); this records which, and a checksum of the
       * file, so an applied file that was edited afterwards is refused, not re-run. */
      "CREATE TABLE policy_schema ("
      "  version  INTEGER PRIMARY KEY,"
      "  file     TEXT NOT NULL,"
      "  checksum TEXT NOT NULL,"
      "  applied  REAL NOT NULL"
      ");" },
    { 6, "dial_counts, jobs.caller",
      /* Engine-placed calls per caller and day (the centre's date), for the cap of
       * rules/trunks.lua's dial rules (engine/call/dial_guard.c): counted here so that a
       * restart does not reset it.  jobs.caller: on whose behalf a job's calls are placed
       * (the number of the call that queued it), which that cap counts against. */
      "CREATE TABLE dial_counts ("
      "  day      TEXT NOT NULL,"
      "  caller   TEXT NOT NULL,"
      "  purpose  TEXT NOT NULL,"
      "  count    INTEGER NOT NULL DEFAULT 0,"
      "  PRIMARY KEY (day, caller, purpose)"
      ");"
      "ALTER TABLE jobs ADD COLUMN caller TEXT NOT NULL DEFAULT '';" },
    { 7, "live_calls",
      /* One row per call up, written when the call starts and deleted when its
       * CDRs are written (store/live_calls.c); updated is the engine's heartbeat.  Rows
       * found at start-up are calls the last run died with: each becomes a CDR with
       * hangup_cause engine_restart, ended at its last heartbeat. */
      "CREATE TABLE live_calls ("
      "  call_id        TEXT PRIMARY KEY,"
      "  leg_id         TEXT NOT NULL DEFAULT '',"
      "  direction      TEXT NOT NULL DEFAULT '',"
      "  caller         TEXT NOT NULL DEFAULT '',"
      "  called         TEXT NOT NULL DEFAULT '',"
      "  start_time     REAL NOT NULL DEFAULT 0,"
      "  updated        REAL NOT NULL DEFAULT 0,"
      "  route          TEXT NOT NULL DEFAULT '',"
      "  script_version TEXT NOT NULL DEFAULT '',"
      "  vars           TEXT NOT NULL DEFAULT ''"
      ");" },
    { 8, "agents, agent_contacts",
      /* Agents' accounts (app/agents.c; issue 8).  pw_hash: libsodium's Argon2id string of
       * the password; ha1_md5/ha1_sha256: H(number:realm:password) for SIP digest, which
       * are password-equivalent for that realm (docs/security.md); realm: the agent_realm
       * they were made for.  agent_contacts: the phones registered, kept over a restart
       * until expires (epoch seconds). */
      "CREATE TABLE agents ("
      "  number     TEXT PRIMARY KEY,"
      "  name       TEXT NOT NULL DEFAULT '',"
      "  centre     TEXT NOT NULL DEFAULT '',"
      "  skills     TEXT NOT NULL DEFAULT '',"
      "  role       TEXT NOT NULL DEFAULT 'agent'"
      "             CHECK (role IN ('agent', 'leader', 'supervisor')),"
      "  pw_hash    TEXT NOT NULL DEFAULT '',"
      "  ha1_md5    TEXT NOT NULL DEFAULT '',"
      "  ha1_sha256 TEXT NOT NULL DEFAULT '',"
      "  realm      TEXT NOT NULL DEFAULT '',"
      "  updated    REAL NOT NULL DEFAULT 0"
      ");"
      "CREATE TABLE agent_contacts ("
      "  number     TEXT NOT NULL,"
      "  contact    TEXT NOT NULL,"
      "  source     TEXT NOT NULL DEFAULT '',"
      "  expires    REAL NOT NULL,"
      "  registered REAL NOT NULL DEFAULT 0,"
      "  PRIMARY KEY (number, contact)"
      ");" },
    { 9, "cdr acd columns, agent_events, queue_events",
      /* What scoring needs (issue 8 item 7; store/cdr.h says what each CDR column means):
       * per agent leg the ring time, who hung up first and the gap, each hold and transfer,
       * wrap-up; per caller the queue, its wait and how it ended.  Rows from before keep
       * '' and 0, and hangup_gap_ms -1 (unknown).  cdr_agent: an agent's calls of a month.
       *
       * agent_events, queue_events: the ACD's state changes as it emits them (acd/acd.h,
       * store/acd_events.c), one row each, in order (id), with the wall time they happened
       * and the node that saw them (several engines may share a store later).  Attendance
       * reads an agent's day (agent, time); the daily sheet every agent's (time); queue
       * statistics a queue's day (queue, time).  Times are epoch seconds. */
      "ALTER TABLE cdr ADD COLUMN agent         TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE cdr ADD COLUMN queue         TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE cdr ADD COLUMN queue_wait_ms INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE cdr ADD COLUMN queue_outcome TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE cdr ADD COLUMN ring_ms       INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE cdr ADD COLUMN hangup_first  TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE cdr ADD COLUMN hangup_gap_ms INTEGER NOT NULL DEFAULT -1;"
      "ALTER TABLE cdr ADD COLUMN holds         INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE cdr ADD COLUMN hold_ms       INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE cdr ADD COLUMN hold_log      TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE cdr ADD COLUMN transfers     TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE cdr ADD COLUMN wrapup_ms     INTEGER NOT NULL DEFAULT 0;"
      "CREATE INDEX cdr_agent ON cdr(agent, start_time);"
      "CREATE TABLE agent_events ("
      "  id         INTEGER PRIMARY KEY,"
      "  time       REAL NOT NULL,"
      "  agent      TEXT NOT NULL,"
      "  state      TEXT NOT NULL,"
      "  prev       TEXT NOT NULL DEFAULT '',"
      "  reason     TEXT NOT NULL DEFAULT '',"
      "  queue      TEXT NOT NULL DEFAULT '',"
      "  call_id    TEXT NOT NULL DEFAULT '',"
      "  changed_by TEXT NOT NULL DEFAULT '',"
      "  node       TEXT NOT NULL DEFAULT ''"
      ");"
      "CREATE INDEX agent_events_agent ON agent_events(agent, time);"
      "CREATE INDEX agent_events_time ON agent_events(time);"
      "CREATE TABLE queue_events ("
      "  id         INTEGER PRIMARY KEY,"
      "  time       REAL NOT NULL,"
      "  queue      TEXT NOT NULL,"
      "  call_id    TEXT NOT NULL DEFAULT '',"
      "  caller     TEXT NOT NULL DEFAULT '',"
      "  event      TEXT NOT NULL,"
      "  agent      TEXT NOT NULL DEFAULT '',"
      "  waited_ms  INTEGER NOT NULL DEFAULT 0,"
      "  outcome    TEXT NOT NULL DEFAULT '',"
      "  reason     TEXT NOT NULL DEFAULT '',"
      "  node       TEXT NOT NULL DEFAULT ''"
      ");"
      "CREATE INDEX queue_events_queue ON queue_events(queue, time);" },
    { 10, "reload_audit",
      /* Issue 10: every reload, refused, taken or unchanged (reload_audit_store.c): time
       * (epoch seconds), who asked, the ctl client's uid (-1 for the file watch and SIGHUP),
       * result, the version serving after and before, the error or notes, and the unified
       * diff of scripts/ and rules/ against the files of version diff_base. */
      "CREATE TABLE reload_audit ("
      "  id        INTEGER PRIMARY KEY,"
      "  time      REAL NOT NULL,"
      "  who       TEXT NOT NULL,"
      "  uid       INTEGER NOT NULL DEFAULT -1,"
      "  result    TEXT NOT NULL,"
      "  version   TEXT NOT NULL DEFAULT '',"
      "  previous  TEXT NOT NULL DEFAULT '',"
      "  detail    TEXT NOT NULL DEFAULT '',"
      "  diff      TEXT NOT NULL DEFAULT '',"
      "  diff_base TEXT NOT NULL DEFAULT ''"
      ");"
      "CREATE INDEX reload_audit_time ON reload_audit(time);" },
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int hl_store_schema_latest(void)
{
    return migrations[N_MIGRATIONS - 1].version;
}

static int exec_simple(sqlite3 *db, const char *sql, char *err, int errlen, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int current_version(sqlite3 *db, char *err, int errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1,
                           &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "schema_version: %s", sqlite3_errmsg(db));
        return -1;
    }
    int v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    else
        snprintf(err, errlen, "schema_version: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

static int apply(sqlite3 *db, const migration *m, char *err, int errlen)
{
    char what[96];
    snprintf(what, sizeof what, "migration %d (%s)", m->version, m->description);
    if (exec_simple(db, "BEGIN IMMEDIATE", err, errlen, what) < 0)
        return -1;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char rec[256];
    snprintf(rec, sizeof rec,
             "INSERT INTO schema_version(version, applied, description) VALUES (%d, %.3f, '%s')",
             m->version, tv.tv_sec + tv.tv_usec / 1e6, m->description);
    /* Re-check inside the write lock: another process may have migrated meanwhile. */
    int v = current_version(db, err, errlen);
    if (v < 0 || (v < m->version && (exec_simple(db, m->sql, err, errlen, what) < 0 ||
                                     exec_simple(db, rec, err, errlen, what) < 0))) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return exec_simple(db, "COMMIT", err, errlen, what);
}

int hl_store_migrate(sqlite3 *db, char *err, int errlen)
{
    if (exec_simple(db,
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    "  version INTEGER PRIMARY KEY, applied REAL NOT NULL, description TEXT)",
                    err, errlen, "schema_version") < 0)
        return -1;
    int v = current_version(db, err, errlen);
    if (v < 0)
        return -1;
    if (v > hl_store_schema_latest()) {
        snprintf(err, errlen, "database schema version %d is newer than this engine knows (%d)",
                 v, hl_store_schema_latest());
        return -1;
    }
    for (int i = 0; i < N_MIGRATIONS; i++) {
        if (migrations[i].version <= v)
            continue;
        if (apply(db, &migrations[i], err, errlen) < 0)
            return -1;
    }
    return current_version(db, err, errlen);
}
