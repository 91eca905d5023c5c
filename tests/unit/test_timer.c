/* test_timer.c — the timer heap (core/timer.c) on a fake clock: order, ties, stop,
 * re-arm, timers started from callbacks, the on_change notification. */
#include <stdio.h>
#include <string.h>
#include "core/clock.h"
#include "core/timer.h"

#include "unit.h"

static char order[256];
static hl_timers *g_ts; /* test-only: lets callbacks re-arm */

static void record(hl_timer *t)
{
    size_t n = strlen(order);
    order[n] = *(const char *)t->data;
    order[n + 1] = 0;
}

static int changes;
static void on_change(hl_timers *ts, void *arg) { changes++; }

static void run_to(hl_clock *c, hl_timers *ts, uint64_t t)
{
    c->now_ms = t;
    hl_timers_run_due(ts, t);
}

static hl_timer rearm_t;
static int rearm_count;
static void rearm(hl_timer *t)
{
    if (++rearm_count < 3)
        hl_timer_start(g_ts, t, 10, rearm, NULL);
}

TEST_IMPL(timer)
{
    hl_clock c;
    hl_clock_init_fake(&c, 0);
    hl_timers ts;
    hl_timers_init(&ts, &c);
    g_ts = &ts;

    CHECK(hl_timers_next_due(&ts) == UINT64_MAX, "empty heap has no deadline");

    /* deadline order, and equal deadlines in start order */
    hl_timer t[8];
    memset(t, 0, sizeof t);
    static const char names[] = "abcdefgh";
    uint64_t due[] = { 50, 10, 30, 10, 70, 30, 5, 100 };
    for (int i = 0; i < 8; i++)
        hl_timer_start(&ts, &t[i], due[i], record, (void *)&names[i]);
    CHECK(hl_timers_next_due(&ts) == 5, "earliest is 5, got %llu", (unsigned long long)hl_timers_next_due(&ts));
    for (int i = 0; i < 8; i++)
        CHECK(hl_timer_active(&t[i]), "timer %d armed", i);
    run_to(&c, &ts, 1000);
    CHECK(!strcmp(order, "gbdcfaeh"), "fire order gbdcfaeh, got %s", order);
    for (int i = 0; i < 8; i++)
        CHECK(!hl_timer_active(&t[i]), "timer %d disarmed after firing", i);

    /* stop, stop twice, re-arm moves */
    order[0] = 0;
    c.now_ms = 0;
    hl_timer_start(&ts, &t[0], 10, record, (void *)"a");
    hl_timer_start(&ts, &t[1], 20, record, (void *)"b");
    hl_timer_start(&ts, &t[2], 30, record, (void *)"c");
    hl_timer_stop(&ts, &t[1]);
    hl_timer_stop(&ts, &t[1]);
    hl_timer_start(&ts, &t[0], 40, record, (void *)"a"); /* moves a after c */
    run_to(&c, &ts, 35);
    CHECK(!strcmp(order, "c"), "only c by 35, got %s", order);
    run_to(&c, &ts, 40);
    CHECK(!strcmp(order, "ca"), "then a at 40, got %s", order);
    CHECK(hl_timers_next_due(&ts) == UINT64_MAX, "all done");

    /* partial runs fire only what is due */
    order[0] = 0;
    c.now_ms = 0;
    hl_timer_start(&ts, &t[3], 100, record, (void *)"d");
    int n = hl_timers_run_due(&ts, 99);
    CHECK(n == 0 && !order[0], "nothing due at 99");
    n = hl_timers_run_due(&ts, 100);
    CHECK(n == 1 && !strcmp(order, "d"), "d due at 100");

    /* a callback that re-arms itself */
    c.now_ms = 0;
    hl_timer_start(&ts, &rearm_t, 10, rearm, NULL);
    for (int i = 0; i < 10 && hl_timers_next_due(&ts) != UINT64_MAX; i++)
        run_to(&c, &ts, hl_timers_next_due(&ts));
    CHECK(rearm_count == 3 && c.now_ms == 30, "re-armed twice: count %d at %llu", rearm_count,
          (unsigned long long)c.now_ms);

    /* on_change: called when the earliest deadline changes, once per run */
    ts.on_change = on_change;
    changes = 0;
    c.now_ms = 0;
    hl_timer_start(&ts, &t[0], 50, record, (void *)"a");
    CHECK(changes == 1, "first timer changes the deadline (%d)", changes);
    hl_timer_start(&ts, &t[1], 60, record, (void *)"b");
    CHECK(changes == 1, "a later timer does not (%d)", changes);
    hl_timer_start(&ts, &t[2], 5, record, (void *)"c");
    CHECK(changes == 2, "an earlier one does (%d)", changes);
    hl_timer_stop(&ts, &t[1]);
    CHECK(changes == 2, "stopping a later one does not (%d)", changes);
    run_to(&c, &ts, 100);
    CHECK(changes == 3, "one notification per run (%d)", changes);

    /* many timers: the heap grows and stays ordered */
    static hl_timer many[1000];
    static char tag = 'x';
    c.now_ms = 0;
    for (int i = 0; i < 1000; i++)
        hl_timer_start(&ts, &many[i], (uint64_t)((i * 7919) % 1000), record, &tag);
    uint64_t last = 0;
    bool sorted = true;
    while (hl_timers_next_due(&ts) != UINT64_MAX) {
        uint64_t d = hl_timers_next_due(&ts);
        if (d < last)
            sorted = false;
        last = d;
        order[0] = 0;
        c.now_ms = d;
        hl_timers_run_due(&ts, d);
    }
    CHECK(sorted, "1000 timers fire in deadline order");
    hl_timers_free(&ts);
    return 0;
}
