/* clock.h — the engine's two clocks, owned by one loop (or one simulation).
 *
 *  - engine time: monotonic milliseconds, what timers run on;
 *  - wall time: seconds since the epoch, what hours, calendars and CDRs use.
 * A real loop takes engine time from uv_now() and wall time from the system clock,
 * shifted by a fixed offset when `hotline run --clock` starts it at another time.
 * A simulation sets both by hand (the fake clock of the simulated caller). */
#ifndef HL_CLOCK_H
#define HL_CLOCK_H
#include <stdint.h>
#include <stdbool.h>

typedef struct hl_clock {
    bool     fake;          /* true in a simulation: now_ms only moves when the sim moves it */
    uint64_t now_ms;        /* engine time (fake clock) */
    void    *uv;            /* uv_loop_t * for a real clock, NULL when fake */
    double   wall_offset;   /* seconds added to the system clock (real) */
    double   wall_base;     /* wall seconds at engine time 0 (fake) */
} hl_clock;

void     hl_clock_init_real(hl_clock *c, void *uv_loop, double start_wall /* <0: now */);
void     hl_clock_init_fake(hl_clock *c, double start_wall);
uint64_t hl_clock_now_ms(const hl_clock *c);
double   hl_clock_wall(const hl_clock *c);      /* seconds since epoch, with ms fraction */

/* Parses "2026-07-01T17:59:00" (local time of the centre, Asia/Shanghai, +08:00) or with an
 * explicit offset/Z. Returns epoch seconds, or -1 when malformed. */
double   hl_clock_parse_iso(const char *s);
/* Formats epoch seconds as "2026-07-01T17:59:00+08:00" in the centre's zone. */
void     hl_clock_format_iso(double wall, char *out, int outlen);

/* The centre's fixed zone offset in seconds (Asia/Shanghai has no DST). */
#define HL_CENTRE_UTC_OFFSET (8 * 3600)

#endif
