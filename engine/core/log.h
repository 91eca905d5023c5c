/* log.h — the engine's log: one line per event on stderr, with a level and a subsystem.
 *
 * Lines look like `2026-11-28T10:00:00.123+08:00 INFO  sip: INVITE from 127.0.0.1:5070`:
 * the time in the centre's zone with its offset (core/clock.h, as CDRs show it).  When
 * stderr is the journal (JOURNAL_STREAM names it) or HL_LOG_PRIORITY=1, each line starts
 * with its level as a syslog priority, `<7>` debug, `<6>` info, `<4>` warn, `<3>` error,
 * which journald takes as the entry's priority (HL_LOG_PRIORITY=0: never).
 * The level is set once at start (HL_LOG_LEVEL env or --verbose); there is no other
 * state, so logging is safe from any loop.  Never log a PIN or an ID number. */
#ifndef HL_LOG_H
#define HL_LOG_H
#include <stdbool.h>

typedef enum { HL_LOG_DEBUG, HL_LOG_INFO, HL_LOG_WARN, HL_LOG_ERROR } hl_log_level;

void hl_log_set_level(hl_log_level lvl);
hl_log_level hl_log_get_level(void);
void hl_log(hl_log_level lvl, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The start of a line: "[<P>]TIME LEVEL SUB: " for wall (epoch seconds); snprintf's count.
 * (For tests; hl_log uses it.) */
int  hl_log_format_prefix(char *out, int outlen, hl_log_level lvl, bool priority, double wall,
                          const char *sub);
/* Whether JOURNAL_STREAM ("DEV:INODE") names this process's stderr. */
bool hl_log_stderr_is_journal(const char *journal_stream);

#define hl_debug(sub, ...) do { if (hl_log_get_level() <= HL_LOG_DEBUG) hl_log(HL_LOG_DEBUG, sub, __VA_ARGS__); } while (0)
#define hl_info(sub, ...)  hl_log(HL_LOG_INFO, sub, __VA_ARGS__)
#define hl_warn(sub, ...)  hl_log(HL_LOG_WARN, sub, __VA_ARGS__)
#define hl_error(sub, ...) hl_log(HL_LOG_ERROR, sub, __VA_ARGS__)

#endif
