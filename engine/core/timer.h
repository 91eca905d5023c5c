/* timer.h — one-shot timers on an hl_clock's engine time, kept in a binary min-heap.
 *
 * Call-level waits (collect timeouts, sleeps, ring timeouts, RTP timeouts) use these timers
 * rather than uv_timer_t so that the same call code runs on a real loop and in the
 * simulated caller's fake time.  A real loop drives the heap from one uv_timer_t that is
 * re-armed for the earliest deadline (see loop.c); a simulation pops deadlines in order and
 * moves its fake clock to each (see sim/).
 *
 * Life cycle: a timer is embedded in its owner (zeroed = stopped); start arms it (re-arming
 * a running timer moves it); stop disarms it and is a no-op on a stopped timer.  The owner
 * must stop it before freeing itself. */
#ifndef HL_TIMER_H
#define HL_TIMER_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "core/clock.h"

typedef struct hl_timer hl_timer;
typedef void (*hl_timer_cb)(hl_timer *t);

struct hl_timer {
    uint64_t    due_ms;
    uint64_t    seq;        /* start order: equal deadlines fire in start order */
    size_t      heap_index; /* 0 = not armed; else 1-based index in the heap */
    hl_timer_cb cb;
    void       *data;       /* the owner's pointer, free for it to use */
};

typedef struct hl_timers {
    hl_clock  *clock;
    hl_timer **heap;        /* 1-based; heap[0] unused */
    size_t     count, cap;
    uint64_t   next_seq;
    void     (*on_change)(struct hl_timers *, void *); /* earliest deadline changed (real loop re-arms) */
    void      *on_change_arg;
} hl_timers;

void hl_timers_init(hl_timers *ts, hl_clock *clock);
void hl_timers_free(hl_timers *ts);
void hl_timer_start(hl_timers *ts, hl_timer *t, uint64_t delay_ms, hl_timer_cb cb, void *data);
void hl_timer_stop(hl_timers *ts, hl_timer *t);
static inline bool hl_timer_active(const hl_timer *t) { return t->heap_index != 0; }

/* Earliest deadline, or UINT64_MAX when none is armed. */
uint64_t hl_timers_next_due(const hl_timers *ts);
/* Fires (in deadline order) every timer due at or before now; returns how many fired. */
int hl_timers_run_due(hl_timers *ts, uint64_t now_ms);

#endif
