/* log.c — formats log lines to stderr (see log.h): the time in the centre's zone with its
 * offset (as CDRs), the level, the subsystem, and for journald the level as a syslog
 * priority prefix. */
#include "core/log.h"
#include "core/clock.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

static hl_log_level log_level = HL_LOG_INFO; /* set once at start-up, read-only after */
static bool with_priority;                   /* decided once (pthread_once) */
static pthread_once_t decided = PTHREAD_ONCE_INIT;

void hl_log_set_level(hl_log_level lvl) { log_level = lvl; }
hl_log_level hl_log_get_level(void) { return log_level; }

/* systemd sets JOURNAL_STREAM=DEV:INODE for a service whose stderr is the journal; it is
 * inherited by children whose stderr is something else, so the device and inode must be
 * stderr's own (systemd.exec(5)). */
bool hl_log_stderr_is_journal(const char *journal_stream)
{
    unsigned long long dev, ino;
    struct stat st;
    if (!journal_stream || sscanf(journal_stream, "%llu:%llu", &dev, &ino) != 2)
        return false;
    return fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

static void decide_priority(void)
{
    const char *force = getenv("HL_LOG_PRIORITY");
    if (force && *force)
        with_priority = strcmp(force, "0") != 0;
    else
        with_priority = hl_log_stderr_is_journal(getenv("JOURNAL_STREAM"));
}

int hl_log_format_prefix(char *out, int outlen, hl_log_level lvl, bool priority, double wall,
                         const char *sub)
{
    static const char *names[] = { "DEBUG", "INFO ", "WARN ", "ERROR" };
    static const int syslog_pri[] = { 7, 6, 4, 3 };   /* debug, info, warning, err */
    time_t t = (time_t)wall;
    int ms = (int)((wall - (double)t) * 1000);
    if (ms > 999)
        ms = 999;
    t += HL_CENTRE_UTC_OFFSET;
    struct tm tm;
    gmtime_r(&t, &tm);
    int off = HL_CENTRE_UTC_OFFSET / 60;
    char zone[8] = "Z";
    if (off)
        snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
    char pri[8] = "";
    if (priority)
        snprintf(pri, sizeof pri, "<%d>", syslog_pri[lvl]);
    return snprintf(out, outlen, "%s%04d-%02d-%02dT%02d:%02d:%02d.%03d%s %s %s: ", pri, tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms, zone, names[lvl], sub);
}

void hl_log(hl_log_level lvl, const char *sub, const char *fmt, ...)
{
    if (lvl < log_level)
        return;
    pthread_once(&decided, decide_priority);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char line[2048];
    int n = hl_log_format_prefix(line, sizeof line, lvl, with_priority, tv.tv_sec + tv.tv_usec / 1e6, sub);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && n < (int)sizeof line)
        vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
