/* test_acd.c — the ACD (engine/acd/acd.c) on a fake clock and its timer heap: every move of
 * the agent state machine, each guard, misses in a row, ring all, callers leaving, pending
 * logout, registration lost, queues removed, strategies that choose nobody or fail, fairness
 * across queues, re-entrant callers and sinks, the expected wait, the views; and a property
 * test over thousands of random event sequences (seeded; the seed is printed on failure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "acd/acd.h"
#include "core/log.h"
#include "unit.h"

/* ---- the fixture: one ACD, a fake clock, a scriptable strategy, recorded offers/events ---- */

enum { PICK_FIRST, PICK_ALL, PICK_NONE, PICK_ERROR, PICK_BAD_INDEX, PICK_TWICE, PICK_TOO_MANY, PICK_RANDOM };

#define MAX_SEEN 64
typedef struct offer_seen {
    hl_acd_waiter *w;
    char agents[HL_ACD_MAX_OFFER][HL_ACD_NAME];
    int n;
} offer_seen;

static struct fx {
    hl_clock clock;
    hl_timers timers;
    hl_acd *acd;
    hl_acd_cfg cfg;
    int pick, pick_max;
    char last_candidates[256];    /* "1001,1002" of the strategy's last question */
    char last_queue[HL_ACD_NAME];
    offer_seen offers[MAX_SEEN];
    int noffers;
    json_t *events;
    void (*on_offer_hook)(hl_acd_waiter *w, const char *const *agents, int n);
    void (*on_event_hook)(const char *kind, json_t *e);
    uint64_t rng;
} F;

static uint64_t rnd(void)
{
    F.rng ^= F.rng << 13;
    F.rng ^= F.rng >> 7;
    F.rng ^= F.rng << 17;
    return F.rng;
}
static int rnd_below(int n) { return n > 0 ? (int)(rnd() % (uint64_t)n) : 0; }

static int strategy(void *arg, const hl_acd_choice *in, int *chosen, int max, char *err, int errlen)
{
    size_t used = 0;
    F.last_candidates[0] = 0;
    for (int i = 0; i < in->ncandidates && used < sizeof F.last_candidates; i++)
        used += (size_t)snprintf(F.last_candidates + used, sizeof F.last_candidates - used, "%s%s",
                                 i ? "," : "", in->candidates[i].number);
    snprintf(F.last_queue, sizeof F.last_queue, "%s", in->queue->name);
    static const int random_picks[10] = { PICK_ERROR, PICK_NONE, PICK_BAD_INDEX, PICK_ALL, PICK_ALL,
                                          PICK_FIRST, PICK_RANDOM, PICK_RANDOM, PICK_RANDOM, PICK_RANDOM };
    int pick = F.pick == PICK_RANDOM ? random_picks[rnd_below(10)] : F.pick;
    int n = F.pick_max && F.pick_max < max ? F.pick_max : max;
    switch (pick) {
    case PICK_FIRST:
        chosen[0] = 0;
        return 1;
    case PICK_ALL:
        for (int i = 0; i < n; i++)
            chosen[i] = i;
        return n;
    case PICK_NONE:
        return 0;
    case PICK_BAD_INDEX:
        chosen[0] = in->ncandidates;
        return 1;
    case PICK_TWICE:
        chosen[0] = chosen[1] = 0;
        return 2;
    case PICK_TOO_MANY:
        return max + 1;
    case PICK_ERROR:
        snprintf(err, errlen, "strategy broke on purpose");
        return -1;
    default: { /* PICK_RANDOM: some of them, shuffled */
        int k = 1 + rnd_below(n);
        for (int i = 0; i < in->ncandidates; i++)
            chosen[i < k ? i : 0] = i;
        for (int i = 0; i < k; i++) {
            int j = rnd_below(k), t = chosen[i];
            chosen[i] = chosen[j];
            chosen[j] = t;
        }
        return k;
    }
    }
}

static void on_offer(void *arg, hl_acd_waiter *w, const char *const *agents, int n)
{
    offer_seen *o = &F.offers[F.noffers++ % MAX_SEEN];
    o->w = w;
    o->n = n;
    for (int i = 0; i < n; i++)
        snprintf(o->agents[i], sizeof o->agents[i], "%s", agents[i]);
    if (F.on_offer_hook)
        F.on_offer_hook(w, agents, n);
}
static const hl_acd_waiter_ops OPS = { .on_offer = on_offer };

static void on_event(void *arg, const char *kind, json_t *e)
{
    if (F.events)
        json_array_append_new(F.events, json_deep_copy(e));
    if (F.on_event_hook)
        F.on_event_hook(kind, e);
}

static const hl_acd_queue_def QUEUES[] = {
    { "c1.general", "c1", "general", 5000, 3, "no-answer" },
    { "c1.complaints", "c1", "complaints", 0, 0, "" },
    { "all.leaders", "*", "leader", 2000, 2, "missed" },
};
#define RING_MS 15000

static void setup(void)
{
    memset(&F, 0, sizeof F);
    hl_log_set_level(HL_LOG_ERROR);
    hl_clock_init_fake(&F.clock, 1800000000);
    hl_timers_init(&F.timers, &F.clock);
    F.cfg = (hl_acd_cfg){ .reserve_ms = 4000, .ring_guard_ms = 2000, .log_size = 50 };
    F.acd = hl_acd_new(&F.clock, &F.timers, &F.cfg);
    hl_acd_set_strategy(F.acd, strategy, NULL);
    hl_acd_set_event_sink(F.acd, on_event, NULL);
    F.events = json_array();
    char err[200];
    if (hl_acd_set_queues(F.acd, QUEUES, 3, err, sizeof err))
        FAIL("queues: %s", err);
}

static void teardown(void)
{
    hl_acd_free(F.acd);
    hl_timers_free(&F.timers);
    json_decref(F.events);
    F.events = NULL;
}

/* Moves the fake clock by ms, firing each timer at its own deadline. */
static void advance(uint64_t ms)
{
    uint64_t to = F.clock.now_ms + ms;
    while (hl_timers_next_due(&F.timers) <= to) {
        F.clock.now_ms = hl_timers_next_due(&F.timers);
        hl_timers_run_due(&F.timers, F.clock.now_ms);
    }
    F.clock.now_ms = to;
}

static hl_agent_state state_of(const char *number)
{
    hl_acd_agent_info info;
    return hl_acd_agent_get(F.acd, number, &info) ? (hl_agent_state)-1 : info.state;
}

static hl_acd_agent_info info_of(const char *number)
{
    hl_acd_agent_info info;
    memset(&info, 0, sizeof info);
    hl_acd_agent_get(F.acd, number, &info);
    return info;
}

static int set(const char *number, hl_agent_state want, const char *reason)
{
    char err[200];
    return hl_acd_agent_set(F.acd, number, want, reason, "test", err, sizeof err);
}

/* A registered, logged-in agent in centre c1 with these skills. */
static void agent_ready(const char *number, const char *skills)
{
    hl_acd_agent_upsert(F.acd, number, "name", "c1", skills, "agent");
    hl_acd_agent_registered(F.acd, number, true);
    set(number, HL_AGENT_READY, NULL);
}

static hl_acd_waiter *join(const char *queue, const char *call_id)
{
    char err[200];
    hl_acd_waiter *w = hl_acd_join(F.acd, queue, "13800000000", call_id, NULL, RING_MS, &OPS, NULL, err, sizeof err);
    if (!w)
        FAIL("join %s: %s", queue, err);
    return w;
}

static bool invariants(void)
{
    char err[300];
    int rc = hl_acd_check(F.acd, err, sizeof err);
    if (rc)
        printf("hl_acd_check: %s\n", err);
    return rc == 0;
}

/* The recorded events of this kind with this queue word (or agent state): how many, the last. */
static json_t *find_events(const char *kind, const char *word, int *count)
{
    json_t *found = NULL;
    size_t i;
    json_t *e;
    *count = 0;
    json_array_foreach(F.events, i, e) {
        const char *k = json_string_value(json_object_get(e, "kind"));
        const char *v = json_string_value(json_object_get(e, !strcmp(kind, "agent") ? "state" : "event"));
        if (k && v && !strcmp(k, kind) && !strcmp(v, word)) {
            found = e;
            ++*count;
        }
    }
    return found;
}

static int count_events(const char *kind, const char *word)
{
    int n;
    find_events(kind, word, &n);
    return n;
}

static json_t *last_event(const char *kind, const char *word)
{
    int n;
    return find_events(kind, word, &n);
}

static bool log_has(const char *needle)
{
    json_t *log = hl_acd_log_json(F.acd, NULL, 0);
    bool found = false;
    size_t i;
    json_t *d;
    json_array_foreach(log, i, d)
        found |= strstr(json_string_value(json_object_get(d, "text")), needle) != NULL;
    json_decref(log);
    return found;
}

static const offer_seen *last_offer(void)
{
    return F.noffers ? &F.offers[(F.noffers - 1) % MAX_SEEN] : NULL;
}

/* ---- the state machine, move by move ---- */

TEST_IMPL(acd_moves)
{
    setup();
    CHECK(hl_agent_state_parse("wrap-up") == HL_AGENT_WRAPUP && hl_agent_state_parse("x") == -1);
    for (int s = 0; s < HL_AGENT_STATES; s++)
        CHECK(hl_agent_state_parse(hl_agent_state_name(s)) == s, "state %d round trip", s);

    hl_acd_agent_upsert(F.acd, "1001", "Li", "c1", "general:5 complaints", "agent");
    CHECK(state_of("1001") == HL_AGENT_LOGGED_OUT, "a new account is logged out");
    CHECK(set("1001", HL_AGENT_READY, NULL) == -1, "no phone, no login");
    CHECK(set("9999", HL_AGENT_READY, NULL) == -1, "unknown agent");
    CHECK(set("1001", HL_AGENT_TALKING, NULL) == -1, "talking cannot be asked for");
    hl_acd_agent_registered(F.acd, "1001", true);
    CHECK(set("1001", HL_AGENT_NOT_READY, NULL) == 0 && state_of("1001") == HL_AGENT_NOT_READY);
    CHECK(!strcmp(info_of("1001").reason, "login"), "login to not ready: reason login, got %s", info_of("1001").reason);
    CHECK(set("1001", HL_AGENT_READY, NULL) == 0 && state_of("1001") == HL_AGENT_READY);
    CHECK(set("1001", HL_AGENT_NOT_READY, "lunch") == 0 && !strcmp(info_of("1001").reason, "lunch"));
    CHECK(set("1001", HL_AGENT_LOGGED_OUT, NULL) == 0 && state_of("1001") == HL_AGENT_LOGGED_OUT);
    CHECK(set("1001", HL_AGENT_READY, NULL) == 0 && state_of("1001") == HL_AGENT_READY, "login to ready");
    CHECK(invariants());

    hl_acd_waiter *w = join("c1.general", "call-1");
    CHECK(state_of("1001") == HL_AGENT_RESERVED, "offered on join: %s", hl_agent_state_name(state_of("1001")));
    CHECK(last_offer() && last_offer()->w == w && !strcmp(last_offer()->agents[0], "1001"));
    CHECK(!strcmp(info_of("1001").call_id, "call-1") && !strcmp(info_of("1001").queue, "c1.general"));
    CHECK(hl_acd_position(F.acd, w) == 1);
    hl_acd_ringing(F.acd, w, "1001");
    CHECK(state_of("1001") == HL_AGENT_RINGING);
    CHECK(set("1001", HL_AGENT_READY, NULL) == 0 && state_of("1001") == HL_AGENT_RINGING, "ready while ringing: no change");
    advance(3000);
    CHECK(hl_acd_answered(F.acd, w, "1001"), "the offered agent answers");
    CHECK(state_of("1001") == HL_AGENT_TALKING && hl_acd_position(F.acd, w) == 0);
    json_t *ans = last_event("queue", "answered");
    CHECK(ans && json_integer_value(json_object_get(ans, "waited_ms")) == 3000, "answered after 3 s");
    hl_acd_leave(F.acd, w, "answered");
    hl_acd_agent_hold(F.acd, "1001", true);
    CHECK(state_of("1001") == HL_AGENT_ON_HOLD);
    CHECK(set("1001", HL_AGENT_NOT_READY, "x") == 0 && state_of("1001") == HL_AGENT_ON_HOLD, "pending while on hold");
    CHECK(set("1001", HL_AGENT_READY, NULL) == 0, "a later ask replaces the pending one");
    hl_acd_agent_hold(F.acd, "1001", false);
    CHECK(state_of("1001") == HL_AGENT_TALKING);
    advance(60000);
    hl_acd_agent_talk_ended(F.acd, "1001");
    CHECK(state_of("1001") == HL_AGENT_WRAPUP, "talk ended: wrap-up");
    CHECK(info_of("1001").talk_ms == 60000 && info_of("1001").answered == 1);
    CHECK(invariants());
    advance((uint64_t)QUEUES[0].wrapup_ms - 1);
    CHECK(state_of("1001") == HL_AGENT_WRAPUP, "still in wrap-up 1 ms before its end");
    advance(1);
    CHECK(state_of("1001") == HL_AGENT_READY, "wrap-up over: ready");

    /* wrap-up cut short by the agent, and not ready from wrap-up */
    w = join("c1.general", "call-2");
    hl_acd_answered(F.acd, w, "1001");
    hl_acd_leave(F.acd, w, "answered");
    hl_acd_agent_talk_ended(F.acd, "1001");
    CHECK(set("1001", HL_AGENT_READY, NULL) == 0 && state_of("1001") == HL_AGENT_READY, "ready ends wrap-up");
    w = join("c1.general", "call-3");
    hl_acd_answered(F.acd, w, "1001");
    hl_acd_leave(F.acd, w, "answered");
    hl_acd_agent_talk_ended(F.acd, "1001");
    CHECK(set("1001", HL_AGENT_NOT_READY, "paperwork") == 0 && state_of("1001") == HL_AGENT_NOT_READY);

    /* a queue without wrap-up goes straight back to ready */
    set("1001", HL_AGENT_READY, NULL);
    w = join("c1.complaints", "call-4");
    CHECK(hl_acd_answered(F.acd, w, "1001"), "answered without a ringing report");
    hl_acd_leave(F.acd, w, "answered");
    hl_acd_agent_talk_ended(F.acd, "1001");
    CHECK(state_of("1001") == HL_AGENT_READY, "no wrap-up: ready");
    CHECK(invariants());

    json_t *ev = last_event("agent", "ready");
    CHECK(ev && json_object_get(ev, "time") && json_object_get(ev, "prev") && json_object_get(ev, "by"),
          "an agent event carries time, prev and by");
    CHECK(count_events("queue", "join") == 4 && count_events("queue", "left") == 4);
    teardown();
    return 0;
}

/* ---- guards ---- */

TEST_IMPL(acd_guards)
{
    setup();
    agent_ready("1001", "general");
    hl_acd_waiter *w = join("c1.general", "call-1");
    CHECK(state_of("1001") == HL_AGENT_RESERVED);
    advance((uint64_t)F.cfg.reserve_ms - 1);
    CHECK(state_of("1001") == HL_AGENT_RESERVED, "reserved until reserve_ms");
    advance(1);
    CHECK(state_of("1001") == HL_AGENT_READY && info_of("1001").misses == 1, "reserve guard: a miss");
    CHECK(log_has("guard released 1001: reserved"), "the guard says why");
    CHECK(hl_acd_position(F.acd, w) == 1, "the caller keeps its place");
    CHECK(invariants());

    agent_ready("1002", "general");
    CHECK(state_of("1002") == HL_AGENT_RESERVED && state_of("1001") == HL_AGENT_READY,
          "1001 missed this caller: 1002 is offered, not 1001");
    hl_acd_ringing(F.acd, w, "1002");
    advance((uint64_t)RING_MS + (uint64_t)F.cfg.ring_guard_ms - 1);
    CHECK(state_of("1002") == HL_AGENT_RINGING, "ringing until ring_ms + guard");
    advance(1);
    CHECK(state_of("1002") == HL_AGENT_READY, "ring guard released it");
    CHECK(log_has("guard released 1002: ringing 17.0 s, no report"), "the ring guard says why");
    json_t *m = last_event("queue", "missed");
    CHECK(m && !strcmp(json_string_value(json_object_get(m, "reason")), "ring timeout"));
    CHECK(!hl_acd_answered(F.acd, w, "1002"), "an answer after the guard is refused");
    CHECK(invariants());
    hl_acd_leave(F.acd, w, "timeout");
    CHECK(hl_timers_next_due(&F.timers) == UINT64_MAX, "no guard left armed");
    teardown();
    return 0;
}

/* ---- misses in a row ---- */

TEST_IMPL(acd_misses)
{
    setup();
    agent_ready("1001", "general");
    int max = QUEUES[0].max_misses;
    hl_acd_waiter *ws[8];
    for (int i = 0; i < max; i++) {
        char id[16];
        snprintf(id, sizeof id, "call-%d", i);
        ws[i] = join("c1.general", id);
        CHECK(state_of("1001") == HL_AGENT_RESERVED && last_offer()->w == ws[i],
              "miss %d: offered the new caller (the others it missed)", i + 1);
        hl_acd_missed(F.acd, ws[i], "1001", "busy");
        CHECK(info_of("1001").misses == i + 1);
    }
    CHECK(state_of("1001") == HL_AGENT_NOT_READY, "after %d misses: not ready", max);
    CHECK(!strcmp(info_of("1001").reason, QUEUES[0].miss_reason), "reason %s", info_of("1001").reason);
    set("1001", HL_AGENT_READY, NULL);
    CHECK(info_of("1001").misses == 0 && state_of("1001") == HL_AGENT_READY,
          "ready again: the count restarts; the callers it missed are not offered to it");

    /* the head caller put back keeps the head: 1002 takes ws[0], not a later one */
    agent_ready("1002", "general");
    CHECK(last_offer()->w == ws[0] && !strcmp(last_offer()->agents[0], "1002"), "the head first");
    hl_acd_missed(F.acd, ws[0], "1002", "busy");
    CHECK(last_offer()->w == ws[1], "1002 then takes the next caller it did not miss");
    CHECK(hl_acd_answered(F.acd, ws[1], "1002") && info_of("1002").misses == 0, "an answer resets the count");
    hl_acd_missed(F.acd, ws[0], "1001", "late");
    CHECK(info_of("1001").misses == 0, "a report for an agent not offered is ignored");
    CHECK(invariants());
    for (int i = 0; i < max; i++)
        hl_acd_leave(F.acd, ws[i], i == 1 ? "answered" : "abandoned");
    CHECK(invariants());
    teardown();
    return 0;
}

/* ---- ring all ---- */

TEST_IMPL(acd_ring_all)
{
    setup();
    F.pick = PICK_ALL;
    agent_ready("1001", "general");
    agent_ready("1002", "general");
    agent_ready("1003", "general");
    hl_acd_agent_upsert(F.acd, "1004", "x", "c2", "general", "agent"); /* another centre */
    hl_acd_agent_registered(F.acd, "1004", true);
    set("1004", HL_AGENT_READY, NULL);
    hl_acd_waiter *w = join("c1.general", "call-1");
    CHECK(last_offer()->n == 3, "three agents of c1 rung, got %d", last_offer()->n);
    CHECK(!strcmp(F.last_candidates, "1001,1002,1003"), "candidates %s", F.last_candidates);
    for (int i = 1; i <= 3; i++)
        hl_acd_ringing(F.acd, w, i == 1 ? "1001" : i == 2 ? "1002" : "1003");
    CHECK(hl_acd_answered(F.acd, w, "1002"), "the first answer wins");
    CHECK(!hl_acd_answered(F.acd, w, "1003"), "the second answer gets false");
    CHECK(state_of("1002") == HL_AGENT_TALKING && state_of("1001") == HL_AGENT_READY
          && state_of("1003") == HL_AGENT_READY && state_of("1004") == HL_AGENT_READY);
    CHECK(count_events("queue", "released") == 2 && info_of("1001").misses == 0, "released, no miss");
    CHECK(log_has("late answer from 1003"));
    CHECK(invariants());
    hl_acd_leave(F.acd, w, "answered");
    teardown();
    return 0;
}

/* ---- a caller who hangs up while the phone rings ---- */

TEST_IMPL(acd_caller_leaves)
{
    setup();
    agent_ready("1001", "general");
    hl_acd_waiter *w = join("c1.general", "call-1");
    hl_acd_ringing(F.acd, w, "1001");
    CHECK(!hl_acd_answered(F.acd, NULL, "1001") && !hl_acd_answered(F.acd, w, NULL), "reports naming nobody");
    hl_acd_missed(F.acd, w, NULL, "busy");
    hl_acd_ringing(F.acd, NULL, "1001");
    CHECK(state_of("1001") == HL_AGENT_RINGING, "... change nothing");
    advance(7000);
    hl_acd_leave(F.acd, w, "abandoned");
    CHECK(state_of("1001") == HL_AGENT_READY && info_of("1001").misses == 0, "released, no miss");
    json_t *e = last_event("queue", "abandoned");
    CHECK(e && json_integer_value(json_object_get(e, "waited_ms")) == 7000
          && !strcmp(json_string_value(json_object_get(e, "outcome")), "abandoned"), "abandoned with its wait");
    CHECK(invariants());
    CHECK(hl_timers_next_due(&F.timers) == UINT64_MAX, "the ring guard is stopped");
    teardown();
    return 0;
}

/* ---- logout while talking waits for the talk; an account removed likewise ---- */

TEST_IMPL(acd_logout_talking)
{
    setup();
    agent_ready("1001", "general");
    hl_acd_waiter *w = join("c1.general", "call-1");
    hl_acd_answered(F.acd, w, "1001");
    hl_acd_leave(F.acd, w, "answered");
    char err[200];
    CHECK(hl_acd_agent_set(F.acd, "1001", HL_AGENT_LOGGED_OUT, "", "ctl", err, sizeof err) == 0
          && strstr(err, "waits for the call to end"), "pending, said so: %s", err);
    CHECK(state_of("1001") == HL_AGENT_TALKING, "still talking");
    json_t *agents = hl_acd_agents_json(F.acd);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(agents, 0), "pending")), "logged-out"));
    json_decref(agents);
    hl_acd_waiter *w2 = join("c1.general", "call-2");
    hl_acd_agent_talk_ended(F.acd, "1001");
    CHECK(state_of("1001") == HL_AGENT_LOGGED_OUT, "logged out when the talk ends, no wrap-up");
    CHECK(hl_acd_position(F.acd, w2) == 1 && hl_acd_serving(F.acd, "c1.general") == 0);

    /* removal while talking: listed until the talk ends, then forgotten */
    agent_ready("1002", "general");
    CHECK(hl_acd_answered(F.acd, w2, "1002"));
    hl_acd_leave(F.acd, w2, "answered");
    hl_acd_agent_remove(F.acd, "1002");
    CHECK(state_of("1002") == HL_AGENT_TALKING, "removed while talking: still there");
    CHECK(set("1002", HL_AGENT_READY, NULL) == -1, "a removed account cannot undo its logout");
    CHECK(invariants());
    hl_acd_agent_talk_ended(F.acd, "1002");
    CHECK(state_of("1002") == (hl_agent_state)-1, "forgotten after the talk");
    agent_ready("1003", "general");
    hl_acd_agent_remove(F.acd, "1003");
    CHECK(state_of("1003") == (hl_agent_state)-1, "removed while ready: gone at once");
    CHECK(invariants());
    teardown();
    return 0;
}

/* ---- the phone's registration lost ---- */

TEST_IMPL(acd_registration)
{
    setup();
    agent_ready("1001", "general");
    agent_ready("1002", "general");
    hl_acd_agent_registered(F.acd, "1002", false);
    CHECK(state_of("1002") == HL_AGENT_LOGGED_OUT && !strcmp(info_of("1002").reason, "unregistered"));
    CHECK(set("1002", HL_AGENT_READY, NULL) == -1, "no login without a phone");
    hl_acd_agent_registered(F.acd, "1002", true);
    set("1002", HL_AGENT_READY, NULL);

    hl_acd_waiter *w = join("c1.general", "call-1");
    CHECK(!strcmp(last_offer()->agents[0], "1001"));
    hl_acd_ringing(F.acd, w, "1001");
    hl_acd_agent_registered(F.acd, "1001", false);
    CHECK(state_of("1001") == HL_AGENT_LOGGED_OUT, "ringing phone gone: logged out");
    CHECK(state_of("1002") == HL_AGENT_RESERVED && last_offer()->w == w, "the caller is offered the next agent");
    CHECK(info_of("1001").misses == 0, "no miss counted for a vanished phone");
    hl_acd_answered(F.acd, w, "1002");
    hl_acd_agent_registered(F.acd, "1002", false);
    CHECK(state_of("1002") == HL_AGENT_TALKING, "a talking agent's logout waits for the talk");
    CHECK(set("1002", HL_AGENT_READY, NULL) == -1, "and cannot be undone without a phone");
    hl_acd_agent_talk_ended(F.acd, "1002");
    CHECK(state_of("1002") == HL_AGENT_LOGGED_OUT && !strcmp(info_of("1002").reason, "unregistered"));
    hl_acd_leave(F.acd, w, "answered");
    CHECK(invariants());

    /* not ready asked while reserved: the offer is withdrawn (no miss), the caller goes on */
    hl_acd_agent_registered(F.acd, "1001", true);
    agent_ready("1001", "general");
    hl_acd_waiter *w3 = join("c1.general", "call-3");
    CHECK(state_of("1001") == HL_AGENT_RESERVED);
    CHECK(set("1001", HL_AGENT_NOT_READY, "toilet") == 0 && state_of("1001") == HL_AGENT_NOT_READY
          && info_of("1001").misses == 0, "withdrawn, no miss");
    CHECK(count_events("queue", "released") == 2 && !hl_acd_answered(F.acd, w3, "1001"),
          "released (the first was the vanished phone), and its late answer refused");
    hl_acd_leave(F.acd, w3, "abandoned");
    CHECK(invariants());
    teardown();
    return 0;
}

/* ---- a queue removed by a reload while callers wait ---- */

TEST_IMPL(acd_queue_removed)
{
    setup();
    hl_acd_waiter *w = join("c1.complaints", "call-1");
    char err[200];
    CHECK(hl_acd_set_queues(F.acd, QUEUES, 1, err, sizeof err) == 0, "reload without complaints");
    agent_ready("1001", "general complaints");
    CHECK(state_of("1001") == HL_AGENT_READY, "a removed queue's caller is offered nothing");
    CHECK(!hl_acd_join(F.acd, "c1.complaints", "1", "call-2", NULL, RING_MS, &OPS, NULL, err, sizeof err)
          && strstr(err, "unknown queue"), "no one joins a removed queue: %s", err);
    json_t *qs = hl_acd_queues_json(F.acd);
    CHECK(json_array_size(qs) == 2, "listed while its caller waits (leaders, without callers, is gone)");
    json_decref(qs);
    CHECK(invariants());
    hl_acd_leave(F.acd, w, "timeout");
    qs = hl_acd_queues_json(F.acd);
    CHECK(json_array_size(qs) == 1, "gone once its last caller left (%zu)", json_array_size(qs));
    json_decref(qs);
    CHECK(invariants());

    hl_acd_queue_def bad[2] = { QUEUES[0], QUEUES[0] };
    CHECK(hl_acd_set_queues(F.acd, bad, 2, err, sizeof err) == -1 && strstr(err, "twice"), "%s", err);
    bad[1] = QUEUES[1];
    bad[1].max_misses = -1;
    CHECK(hl_acd_set_queues(F.acd, bad, 2, err, sizeof err) == -1, "negative max_misses");
    teardown();
    return 0;
}

/* ---- strategies that choose nobody, fail, or choose wrong ---- */

TEST_IMPL(acd_strategy)
{
    setup();
    agent_ready("1001", "general");
    F.pick = PICK_NONE;
    hl_acd_waiter *w = join("c1.general", "call-1");
    CHECK(state_of("1001") == HL_AGENT_READY && log_has("chose none of 1 candidates"), "0: the caller waits");
    json_t *log = hl_acd_log_json(F.acd, NULL, 0);
    size_t before = json_array_size(log);
    json_decref(log);
    for (int i = 0; i < 5; i++)
        hl_acd_redispatch(F.acd);
    log = hl_acd_log_json(F.acd, NULL, 0);
    CHECK(json_array_size(log) == before, "the same pass-over is logged once, not per input");
    json_decref(log);
    F.pick = PICK_ERROR;
    hl_acd_redispatch(F.acd);
    CHECK(state_of("1001") == HL_AGENT_READY && log_has("strategy error for call call-1: strategy broke"));
    F.pick = PICK_BAD_INDEX;
    hl_acd_redispatch(F.acd);
    CHECK(state_of("1001") == HL_AGENT_READY && log_has("index 1 of 1"), "a bad index is an error");
    agent_ready("1002", "general");
    F.pick = PICK_TWICE;
    hl_acd_redispatch(F.acd);
    CHECK(state_of("1001") == HL_AGENT_READY && log_has("index 0 of 2 candidates twice"), "one agent twice");
    F.pick = PICK_TOO_MANY;
    hl_acd_redispatch(F.acd);
    CHECK(state_of("1001") == HL_AGENT_READY && log_has("chose 3 of at most 2"), "more than offered");
    hl_acd_set_strategy(F.acd, NULL, NULL);
    hl_acd_redispatch(F.acd);
    CHECK(state_of("1001") == HL_AGENT_READY && log_has("no strategy"), "no strategy: nobody is picked");
    hl_acd_set_strategy(F.acd, strategy, NULL);
    F.pick = PICK_FIRST;
    hl_acd_redispatch(F.acd);
    CHECK(state_of("1001") == HL_AGENT_RESERVED, "the next input asks again");
    CHECK(log_has("offered 1001 to call call-1"), "the offer is logged");
    hl_acd_leave(F.acd, w, "abandoned");
    CHECK(invariants());
    teardown();
    return 0;
}

/* ---- fairness across queues ---- */

TEST_IMPL(acd_fairness)
{
    setup();
    hl_acd_waiter *a = join("c1.complaints", "call-a");
    advance(1000);
    hl_acd_waiter *b = join("c1.general", "call-b");
    advance(1000);
    hl_acd_waiter *c = join("c1.general", "call-c");
    agent_ready("1001", "general complaints");
    CHECK(last_offer() && last_offer()->w == a, "the longest waiting head (complaints) goes first");
    agent_ready("1002", "general complaints");
    CHECK(last_offer()->w == b, "then general's head");
    agent_ready("1003", "general");
    CHECK(last_offer()->w == c, "an agent of one queue takes that queue's caller");
    CHECK(hl_acd_serving(F.acd, "c1.general") == 3 && hl_acd_serving(F.acd, "c1.complaints") == 2);
    hl_acd_leave(F.acd, a, "abandoned");
    hl_acd_leave(F.acd, b, "abandoned");
    hl_acd_leave(F.acd, c, "abandoned");
    CHECK(invariants());
    teardown();
    return 0;
}

/* ---- re-entrant callers and sinks ---- */

static hl_acd_waiter *leave_in_offer;
static void hook_miss_at_once(hl_acd_waiter *w, const char *const *agents, int n)
{
    if (!strcmp(agents[0], "1001"))
        hl_acd_missed(F.acd, w, agents[0], "failed");     /* a dead phone: reported at once */
    else if (w == leave_in_offer)
        hl_acd_leave(F.acd, w, "abandoned");
}
static void hook_event(const char *kind, json_t *e)
{
    const char *state = json_string_value(json_object_get(e, "state"));
    if (!strcmp(kind, "agent") && state && !strcmp(state, "talking"))
        set("1003", HL_AGENT_NOT_READY, "break");             /* a sink that calls back */
    char err[200];
    if (hl_acd_check(F.acd, err, sizeof err))
        FAIL("invariant broken inside the sink: %s", err);
}

TEST_IMPL(acd_reentrant)
{
    setup();
    F.on_offer_hook = hook_miss_at_once;
    F.on_event_hook = hook_event;
    agent_ready("1001", "general");
    agent_ready("1002", "general");
    hl_acd_waiter *w = join("c1.general", "call-1");
    CHECK(info_of("1001").misses == 1 && state_of("1002") == HL_AGENT_RESERVED,
          "missed inside on_offer: the next agent is offered in the same input");
    CHECK(invariants());
    leave_in_offer = NULL;
    agent_ready("1003", "general");
    hl_acd_waiter *w2 = join("c1.general", "call-2");
    CHECK(state_of("1003") == HL_AGENT_RESERVED, "call-2 offered 1003");
    hl_acd_missed(F.acd, w2, "1003", "busy");
    leave_in_offer = w2;
    set("1001", HL_AGENT_NOT_READY, "x");
    hl_acd_missed(F.acd, w, "1002", "busy");  /* 1002 ready again: offered call-2, who leaves */
    CHECK(state_of("1002") == HL_AGENT_READY, "the caller that left in on_offer released 1002");
    CHECK(count_events("queue", "abandoned") == 1);
    CHECK(invariants());
    set("1003", HL_AGENT_READY, NULL);
    CHECK(hl_acd_answered(F.acd, w, "1003") || hl_acd_answered(F.acd, w, "1002"), "someone answers call-1");
    CHECK(state_of("1003") == HL_AGENT_NOT_READY || state_of("1003") == HL_AGENT_TALKING,
          "the sink's nested change applied");
    CHECK(invariants());
    hl_acd_leave(F.acd, w, "answered");
    teardown();
    return 0;
}

/* ---- the expected wait ---- */

TEST_IMPL(acd_expected_wait)
{
    setup();
    CHECK(hl_acd_expected_wait_ms(F.acd, "c1.general", 1) == -1, "unknown before any call");
    agent_ready("1001", "general");
    agent_ready("1002", "general");
    int64_t talks[2] = { 60000, 120000 };
    for (int i = 0; i < 2; i++) {
        hl_acd_waiter *w = join("c1.general", i ? "call-2" : "call-1");
        const char *ag = last_offer()->agents[0];
        char number[HL_ACD_NAME];
        snprintf(number, sizeof number, "%s", ag);
        hl_acd_answered(F.acd, w, number);
        hl_acd_leave(F.acd, w, "answered");
        advance((uint64_t)talks[i]);
        hl_acd_agent_talk_ended(F.acd, number);
        advance((uint64_t)QUEUES[0].wrapup_ms);
    }
    int64_t mean = (talks[0] + talks[1]) / 2 + QUEUES[0].wrapup_ms;
    CHECK(hl_acd_expected_wait_ms(F.acd, "c1.general", 1) == mean / 2, "one ahead, two agents: %lld",
          (long long)hl_acd_expected_wait_ms(F.acd, "c1.general", 1));
    CHECK(hl_acd_expected_wait_ms(F.acd, "c1.general", 4) == mean * 4 / 2);
    CHECK(hl_acd_expected_wait_ms(F.acd, "c1.complaints", 1) == -1, "complaints has no calls yet");
    CHECK(hl_acd_expected_wait_ms(F.acd, "nope", 1) == -1);
    teardown();
    return 0;
}

/* ---- the views and the decision log ---- */

TEST_IMPL(acd_views)
{
    setup();
    agent_ready("1001", "general:7");
    F.pick = PICK_NONE;
    hl_acd_waiter *w = join("c1.general", "call-1");
    advance(2500);
    json_t *qs = hl_acd_queues_json(F.acd);
    json_t *q0 = json_array_get(qs, 0);
    CHECK(!strcmp(json_string_value(json_object_get(q0, "name")), "c1.general"));
    CHECK(json_integer_value(json_object_get(q0, "waiting")) == 1 && json_integer_value(json_object_get(q0, "ready")) == 1
          && json_integer_value(json_object_get(q0, "longest_wait_ms")) == 2500);
    json_t *caller = json_array_get(json_object_get(q0, "callers"), 0);
    CHECK(caller && json_integer_value(json_object_get(caller, "position")) == 1);
    json_decref(qs);
    json_t *as = hl_acd_agents_json(F.acd);
    CHECK(json_array_size(as) == 1 && !strcmp(json_string_value(json_object_get(json_array_get(as, 0), "state")), "ready"));
    json_decref(as);
    F.pick = PICK_FIRST;
    hl_acd_redispatch(F.acd);
    CHECK(info_of("1001").last_offer_seq == 1 && !strcmp(info_of("1001").call_id, "call-1"));
    hl_acd_leave(F.acd, w, "abandoned");

    char err[200];
    hl_acd_waiter *odd = hl_acd_join(F.acd, "c1.general", "\xff\xfe" "1", "call-\xc3", NULL, RING_MS, &OPS, NULL,
                                     err, sizeof err);
    json_t *j = last_event("queue", "join");
    CHECK(j && !strcmp(json_string_value(json_object_get(j, "caller")), "??1")
          && !strcmp(json_string_value(json_object_get(j, "call_id")), "call-?"), "bytes not UTF-8 become ?");
    hl_acd_leave(F.acd, odd, "abandoned");

    for (int i = 0; i < 3 * F.cfg.log_size; i++)
        hl_acd_redispatch(F.acd), set("1001", i % 2 ? HL_AGENT_READY : HL_AGENT_NOT_READY, "x"),
            hl_acd_agent_registered(F.acd, "1001", i % 2);
    json_t *log = hl_acd_log_json(F.acd, NULL, 0);
    CHECK(json_array_size(log) == (size_t)F.cfg.log_size, "the log is bounded: %zu", json_array_size(log));
    json_decref(log);
    log = hl_acd_log_json(F.acd, NULL, 3);
    CHECK(json_array_size(log) == 3, "the last 3");
    json_decref(log);
    log = hl_acd_log_json(F.acd, "c1.complaints", 0);
    CHECK(json_array_size(log) == 0, "filtered by queue");
    json_decref(log);
    teardown();
    return 0;
}

/* ---- the property test: random event sequences ---- */

#define P_AGENTS 5
#define P_CALLERS 6
static const char *const P_NUMBERS[P_AGENTS] = { "2001", "2002", "2003", "2004", "2005" };
static const char *const P_SKILLS[P_AGENTS] = { "general", "general complaints", "complaints:3",
                                                "leader general", "leader" };

typedef struct p_caller {
    hl_acd_waiter *w;
    bool alive, answered;
    char id[24];
} p_caller;
static p_caller P[P_CALLERS];
static uint64_t p_seed; /* the sequence running, for the failures' messages */
static int p_joined, p_left, p_answered;

static p_caller *p_of(hl_acd_waiter *w)
{
    for (int i = 0; i < P_CALLERS; i++)
        if (P[i].alive && P[i].w == w)
            return &P[i];
    return NULL;
}

static void p_leave(p_caller *c, const char *outcome)
{
    c->alive = false;
    p_left++;
    hl_acd_leave(F.acd, c->w, c->answered ? "answered" : outcome);
}

/* Whether agent missed the call call_id earlier (its events say so). */
static bool p_missed_before(const char *call_id, const char *agent)
{
    size_t i;
    json_t *e;
    json_array_foreach(F.events, i, e) {
        const char *word = json_string_value(json_object_get(e, "event"));
        if (word && !strcmp(word, "missed")
            && !strcmp(json_string_value(json_object_get(e, "call_id")), call_id)
            && !strcmp(json_string_value(json_object_get(e, "agent")), agent))
            return true;
    }
    return false;
}

/* A caller's owner that sometimes reports at once, from on_offer itself. */
static void p_hook(hl_acd_waiter *w, const char *const *agents, int n)
{
    p_caller *c = p_of(w);
    for (int i = 0; c && i < n; i++)
        if (p_missed_before(c->id, agents[i]))
            FAIL("%s offered again to %s, which it missed (seed %llu)", agents[i], c->id, (unsigned long long)p_seed);
    int r = rnd_below(10);
    if (!c || r > 2)
        return;
    char number[HL_ACD_NAME];
    snprintf(number, sizeof number, "%s", agents[rnd_below(n)]);
    if (r == 0)
        hl_acd_missed(F.acd, w, number, "failed");
    else if (r == 1)
        hl_acd_ringing(F.acd, w, number);
    else if (rnd_below(3) == 0)
        p_leave(c, "abandoned");
}

static const char *p_agent(void) { return P_NUMBERS[rnd_below(P_AGENTS)]; }

/* An agent to report for: mostly one offered to the caller, sometimes any (stale reports). */
static const char *p_report_agent(p_caller *c)
{
    for (int i = F.noffers - 1; i >= 0 && i >= F.noffers - MAX_SEEN && rnd_below(4); i--) {
        const offer_seen *o = &F.offers[i % MAX_SEEN];
        if (o->w == c->w)
            return o->agents[rnd_below(o->n)];
    }
    return p_agent();
}

static void p_caller_step(int r)
{
    p_caller *c = &P[rnd_below(P_CALLERS)];
    if (!c->alive) {
        char err[200];
        snprintf(c->id, sizeof c->id, "call-%d", p_joined);
        c->w = hl_acd_join(F.acd, QUEUES[rnd_below(3)].name, "138", c->id, NULL, RING_MS, &OPS, NULL, err, sizeof err);
        c->alive = c->w != NULL;
        c->answered = false;
        p_joined += c->alive;
        return;
    }
    const char *ag = p_report_agent(c);
    char number[HL_ACD_NAME];
    snprintf(number, sizeof number, "%s", ag);
    if (r == 0)
        p_leave(c, rnd_below(2) ? "abandoned" : "message");
    else if (r == 1)
        hl_acd_ringing(F.acd, c->w, number);
    else if (r == 2 && hl_acd_answered(F.acd, c->w, number)) {
        if (c->answered)
            FAIL("a second answer for %s won", c->id);
        c->answered = true;
        p_answered++;
    } else if (r == 3)
        hl_acd_missed(F.acd, c->w, number, "busy");
}

static void p_agent_step(int r)
{
    const char *ag = p_agent();
    static const hl_agent_state wants[] = { HL_AGENT_READY, HL_AGENT_READY, HL_AGENT_NOT_READY,
                                            HL_AGENT_LOGGED_OUT };
    if (r == 0)
        hl_acd_agent_talk_ended(F.acd, ag);
    else if (r == 1)
        hl_acd_agent_hold(F.acd, ag, rnd_below(2));
    else if (r == 2)
        set(ag, wants[rnd_below(4)], rnd_below(2) ? "break" : "");
    else if (r == 3)
        hl_acd_agent_registered(F.acd, ag, rnd_below(5) > 0);
    else if (r == 4 && rnd_below(8) == 0)
        hl_acd_agent_remove(F.acd, ag);
    else if (r == 4) {
        int i = rnd_below(P_AGENTS);
        hl_acd_agent_upsert(F.acd, P_NUMBERS[i], "p", i == 4 ? "c2" : "c1", P_SKILLS[i], "agent");
    }
}

static void p_other_step(int r)
{
    char err[200];
    if (r == 0)
        advance((uint64_t)rnd_below(RING_MS + 2 * F.cfg.ring_guard_ms));
    else if (r == 1)
        advance((uint64_t)rnd_below(1000));
    else if (r == 2 && rnd_below(10) == 0) {
        int n = 1 + rnd_below(3); /* a reload that keeps the first n queues */
        hl_acd_set_queues(F.acd, QUEUES, n, err, sizeof err);
    } else if (r == 3)
        hl_acd_redispatch(F.acd);
}

static int p_count_state(hl_agent_state s)
{
    int n = 0;
    for (int i = 0; i < P_AGENTS; i++)
        n += state_of(P_NUMBERS[i]) == s;
    return n;
}

/* The end of a sequence: every caller leaves, every talk ends, time passes every guard. */
static bool p_finish(uint64_t seed)
{
    for (int i = 0; i < P_CALLERS; i++)
        if (P[i].alive)
            p_leave(&P[i], "abandoned");
    for (int i = 0; i < P_AGENTS; i++)
        hl_acd_agent_talk_ended(F.acd, P_NUMBERS[i]);
    advance((uint64_t)(F.cfg.reserve_ms + RING_MS + F.cfg.ring_guard_ms + QUEUES[0].wrapup_ms));
    int stuck = p_count_state(HL_AGENT_RESERVED) + p_count_state(HL_AGENT_RINGING)
                + p_count_state(HL_AGENT_TALKING) + p_count_state(HL_AGENT_ON_HOLD)
                + p_count_state(HL_AGENT_WRAPUP);
    int gone = count_events("queue", "left") + count_events("queue", "abandoned");
    bool ok = invariants() && stuck == 0 && p_joined == count_events("queue", "join")
              && p_left == p_joined && gone == p_joined && hl_timers_next_due(&F.timers) == UINT64_MAX;
    if (!ok)
        printf("seed %llu: at the end %d agents busy, %d joined, %d left, %d leave events\n",
               (unsigned long long)seed, stuck, p_joined, p_left, gone);
    return ok;
}

/* How often each state was entered over every sequence, and each queue event word. */
static int p_entered[HL_AGENT_STATES];
static int p_words[8];
static const char *const P_WORDS[8] = { "join", "offer", "answered", "missed", "released",
                                        "abandoned", "left", NULL };

static void p_agent_step(int r);

/* The sink counts, and sometimes calls back in (an agent's change from an event). */
static void p_count_event(const char *kind, json_t *e)
{
    static int nested;
    if (!nested && rnd_below(20) == 0) {
        nested++;
        p_agent_step(rnd_below(5));
        nested--;
    }
    int s = hl_agent_state_parse(json_string_value(json_object_get(e, "state")));
    if (s >= 0)
        p_entered[s]++;
    const char *word = json_string_value(json_object_get(e, "event"));
    for (int i = 0; word && P_WORDS[i]; i++)
        p_words[i] += !strcmp(word, P_WORDS[i]);
}

static bool p_run(uint64_t seed, int steps)
{
    setup();
    p_seed = seed;
    F.rng = seed * 2654435761u + 1;
    F.pick = PICK_RANDOM;
    F.pick_max = 3;
    F.on_offer_hook = p_hook;
    memset(P, 0, sizeof P);
    p_joined = p_left = p_answered = 0;
    F.on_event_hook = p_count_event;
    for (int i = 0; i < P_AGENTS; i++) {
        hl_acd_agent_upsert(F.acd, P_NUMBERS[i], "p", i == 4 ? "c2" : "c1", P_SKILLS[i], "agent");
        hl_acd_agent_registered(F.acd, P_NUMBERS[i], true);
        set(P_NUMBERS[i], HL_AGENT_READY, NULL);
    }
    bool ok = true;
    for (int step = 0; step < steps && ok; step++) {
        int kind = rnd_below(3), r = rnd_below(5);
        if (kind == 0)
            p_caller_step(r);
        else if (kind == 1)
            p_agent_step(r);
        else
            p_other_step(r);
        if (!invariants()) {
            printf("seed %llu: invariant broken at step %d (kind %d/%d)\n", (unsigned long long)seed, step, kind, r);
            ok = false;
        }
    }
    ok = ok && p_finish(seed);
    teardown();
    return ok;
}

TEST_IMPL(acd_property)
{
    /* HL_ACD_SEQUENCES / HL_ACD_SEED: fewer runs under valgrind, or one failing seed again */
    const char *env = getenv("HL_ACD_SEQUENCES");
    int runs = env ? atoi(env) : 3000;
    uint64_t first = getenv("HL_ACD_SEED") ? strtoull(getenv("HL_ACD_SEED"), NULL, 10) : 1;
    int failed = 0, joined = 0, answered = 0;
    for (int i = 0; i < runs && failed < 3; i++) {
        bool ok = p_run(first + (uint64_t)i, 200);
        CHECK(ok, "sequence with seed %llu (HL_ACD_SEED=%llu HL_ACD_SEQUENCES=1 to replay)",
              (unsigned long long)(first + i), (unsigned long long)(first + i));
        failed += !ok;
        joined += p_joined;
        answered += p_answered;
    }
    printf("acd_property: %d sequences of 200 steps, %d callers, %d answered\n", runs, joined, answered);
    for (int s = 0; s < HL_AGENT_STATES; s++)
        printf("  entered %-10s %d\n", hl_agent_state_name(s), p_entered[s]);
    for (int i = 0; P_WORDS[i]; i++)
        printf("  queue %-10s %d\n", P_WORDS[i], p_words[i]);
    for (int s = 0; s < HL_AGENT_STATES; s++)
        CHECK(p_entered[s] > runs / 10, "state %s entered %d times", hl_agent_state_name(s), p_entered[s]);
    for (int i = 0; P_WORDS[i]; i++)
        CHECK(p_words[i] > runs / 10, "queue event %s seen %d times", P_WORDS[i], p_words[i]);
    return 0;
}
