/* clock.c — engine and wall clocks (see clock.h). */
#include "core/clock.h"
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <uv.h>

static double system_wall(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

void hl_clock_init_real(hl_clock *c, void *uv_loop, double start_wall)
{
    memset(c, 0, sizeof *c);
    c->uv = uv_loop;
    c->wall_offset = start_wall < 0 ? 0 : start_wall - system_wall();
}

void hl_clock_init_fake(hl_clock *c, double start_wall)
{
    memset(c, 0, sizeof *c);
    c->fake = true;
    c->wall_base = start_wall;
}

uint64_t hl_clock_now_ms(const hl_clock *c)
{
    return c->fake ? c->now_ms : uv_now((uv_loop_t *)c->uv);
}

double hl_clock_wall(const hl_clock *c)
{
    return c->fake ? c->wall_base + c->now_ms / 1000.0 : system_wall() + c->wall_offset;
}

/* days_from_civil: Howard Hinnant's algorithm, exact for the proleptic Gregorian calendar. */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

double hl_clock_parse_iso(const char *s)
{
    int y, mo, d, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return -1;
    const char *p = s + n;
    if (*p == 'T' || *p == ' ') {
        int m2 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m2) != 2)
            return -1;
        p += 1 + m2;
        if (*p == ':') {
            int m3 = 0;
            if (sscanf(p + 1, "%lf%n", &sec, &m3) != 1)
                return -1;
            p += 1 + m3;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec >= 61)
        return -1;
    long off = HL_CENTRE_UTC_OFFSET;
    if (*p == 'Z') {
        off = 0; p++;
    } else if (*p == '+' || *p == '-') {
        int oh = 0, om = 0;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
            return -1;
        off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += strlen(p);
    }
    if (*p)
        return -1;
    return days_from_civil(y, mo, d) * 86400.0 + h * 3600 + mi * 60 + sec - off;
}

void hl_clock_format_iso(double wall, char *out, int outlen)
{
    time_t t = (time_t)wall + HL_CENTRE_UTC_OFFSET;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
