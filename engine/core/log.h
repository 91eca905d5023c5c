/* log.h — the engine's log: one line per event on stderr, with a level and a subsystem.
 *
 * Lines look like `2026-11-28T10:00:00.123 INFO  sip: INVITE from 127.0.0.1:5070`.
 * The level is set once at start (HL_LOG_LEVEL env or --verbose); there is no other
 * state, so logging is safe from any loop.  Never log a PIN or an ID number. */
#ifndef HL_LOG_H
#define HL_LOG_H

typedef enum { HL_LOG_DEBUG, HL_LOG_INFO, HL_LOG_WARN, HL_LOG_ERROR } hl_log_level;

void hl_log_set_level(hl_log_level lvl);
hl_log_level hl_log_get_level(void);
void hl_log(hl_log_level lvl, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define hl_debug(sub, ...) do { if (hl_log_get_level() <= HL_LOG_DEBUG) hl_log(HL_LOG_DEBUG, sub, __VA_ARGS__); } while (0)
#define hl_info(sub, ...)  hl_log(HL_LOG_INFO, sub, __VA_ARGS__)
#define hl_warn(sub, ...)  hl_log(HL_LOG_WARN, sub, __VA_ARGS__)
#define hl_error(sub, ...) hl_log(HL_LOG_ERROR, sub, __VA_ARGS__)

#endif
