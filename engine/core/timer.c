/* timer.c — the min-heap behind hl_timer (see timer.h). */
#include "core/timer.h"
#include <stdlib.h>
#include <string.h>

static bool earlier(const hl_timer *a, const hl_timer *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void heap_set(hl_timers *ts, size_t i, hl_timer *t)
{
    ts->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(hl_timers *ts, size_t i)
{
    hl_timer *t = ts->heap[i];
    while (i > 1 && earlier(t, ts->heap[i / 2])) {
        heap_set(ts, i, ts->heap[i / 2]);
        i /= 2;
    }
    heap_set(ts, i, t);
}

static void sift_down(hl_timers *ts, size_t i)
{
    hl_timer *t = ts->heap[i];
    for (;;) {
        size_t c = i * 2;
        if (c > ts->count)
            break;
        if (c + 1 <= ts->count && earlier(ts->heap[c + 1], ts->heap[c]))
            c++;
        if (!earlier(ts->heap[c], t))
            break;
        heap_set(ts, i, ts->heap[c]);
        i = c;
    }
    heap_set(ts, i, t);
}

static void notify(hl_timers *ts, uint64_t before)
{
    if (ts->on_change && hl_timers_next_due(ts) != before)
        ts->on_change(ts, ts->on_change_arg);
}

void hl_timers_init(hl_timers *ts, hl_clock *clock)
{
    memset(ts, 0, sizeof *ts);
    ts->clock = clock;
}

void hl_timers_free(hl_timers *ts)
{
    for (size_t i = 1; i <= ts->count; i++)
        ts->heap[i]->heap_index = 0;
    free(ts->heap);
    ts->heap = NULL;
    ts->count = ts->cap = 0;
}

static void remove_at(hl_timers *ts, size_t i)
{
    hl_timer *t = ts->heap[i];
    hl_timer *last = ts->heap[ts->count--];
    t->heap_index = 0;
    if (i <= ts->count) {
        heap_set(ts, i, last);
        sift_up(ts, i);
        sift_down(ts, last->heap_index);
    }
}

void hl_timer_start(hl_timers *ts, hl_timer *t, uint64_t delay_ms, hl_timer_cb cb, void *data)
{
    uint64_t before = hl_timers_next_due(ts);
    if (t->heap_index)
        remove_at(ts, t->heap_index);
    if (ts->count + 1 >= ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        hl_timer **h = realloc(ts->heap, cap * sizeof *h);
        if (!h)
            abort(); /* out of memory for a timer: nothing sane to do */
        ts->heap = h;
        ts->cap = cap;
    }
    t->due_ms = hl_clock_now_ms(ts->clock) + delay_ms;
    t->seq = ts->next_seq++;
    t->cb = cb;
    t->data = data;
    ts->count++;
    heap_set(ts, ts->count, t);
    sift_up(ts, ts->count);
    notify(ts, before);
}

void hl_timer_stop(hl_timers *ts, hl_timer *t)
{
    if (!t->heap_index)
        return;
    uint64_t before = hl_timers_next_due(ts);
    remove_at(ts, t->heap_index);
    notify(ts, before);
}

uint64_t hl_timers_next_due(const hl_timers *ts)
{
    return ts->count ? ts->heap[1]->due_ms : UINT64_MAX;
}

int hl_timers_run_due(hl_timers *ts, uint64_t now_ms)
{
    int fired = 0;
    void (*saved)(hl_timers *, void *) = ts->on_change;
    ts->on_change = NULL; /* re-arm once at the end, not per timer */
    while (ts->count && ts->heap[1]->due_ms <= now_ms) {
        hl_timer *t = ts->heap[1];
        remove_at(ts, 1);
        fired++;
        t->cb(t);
    }
    ts->on_change = saved;
    if (saved)
        saved(ts, ts->on_change_arg);
    return fired;
}
