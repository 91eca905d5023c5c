/* log.c — formats log lines to stderr (see log.h). */
#include "core/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static hl_log_level log_level = HL_LOG_INFO; /* set once at start-up, read-only after */

void hl_log_set_level(hl_log_level lvl) { log_level = lvl; }
hl_log_level hl_log_get_level(void) { return log_level; }

void hl_log(hl_log_level lvl, const char *sub, const char *fmt, ...)
{
    static const char *names[] = { "DEBUG", "INFO ", "WARN ", "ERROR" };
    if (lvl < log_level)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char line[2048];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03d %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), names[lvl], sub);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && n < (int)sizeof line)
        vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
