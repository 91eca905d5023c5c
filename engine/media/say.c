/* say.c — Mandarin readings of numbers, amounts, digit strings and dates as prompt names
 * (see say.h).  Choices made here:
 *   - 10-19 at the start of a number drop the 一: 十, 十五, 十万 (but 一百一十);
 *   - a 2 that leads the number before 百/千/万/亿 is read 两 ("liang"): 两百, 两千, 两万,
 *     两千万, 两亿; anywhere else 二 (一万二千, 二十, 二元);
 *   - one 零 stands for any run of zeros between two non-zero digits, also across the
 *     万/亿 groups (10010 一万零一十, 100001000 一亿零一千); trailing zeros are silent;
 *   - decimals are read digit by digit after 点 (3.14 三点一四); negatives start with 负,
 *     except zero;
 *   - amounts: 元 then 角 and 分; a whole amount ends in 整 (一百元整); no 零元 before
 *     jiao/fen alone (0.05 五分, 0.5 五角); 零 between 元 and 分 when there are no jiao
 *     (一百元零五分); 0 and 0.00 are 零元; more than two decimals is malformed. */
#include "media/say.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SAY_MAX_INT_DIGITS 12     /* up to 9999 9999 9999 (the 亿 group has 4 digits) */
#define SAY_MAX_DECIMALS   8      /* digits read after 点 */

typedef struct words {
    hl_say_word *out;
    int          n, max;
    bool         overflow;
} words;

static void put(words *w, const char *word)
{
    if (w->n >= w->max) {
        w->overflow = true;
        return;
    }
    snprintf(w->out[w->n++], sizeof(hl_say_word), "%s", word);
}

static void put_digit(words *w, int d)
{
    char name[sizeof(hl_say_word)];
    snprintf(name, sizeof name, "digit_%d", d);
    put(w, name);
}

static int finish(words *w)
{
    return w->overflow ? -1 : w->n;
}

/* Splits "-123.45" into sign, integer digits and decimal digits; -1 if malformed. */
static int split_number(const char *s, bool *neg, const char **ip, int *ilen,
                        const char **fp, int *flen)
{
    if (!s)
        return -1;
    *neg = *s == '-';
    if (*neg)
        s++;
    *ip = s;
    for (*ilen = 0; s[*ilen] >= '0' && s[*ilen] <= '9'; (*ilen)++)
        ;
    if (*ilen == 0)
        return -1;
    s += *ilen;
    *fp = s;
    *flen = 0;
    if (*s == '.') {
        *fp = ++s;
        for (; s[*flen] >= '0' && s[*flen] <= '9'; (*flen)++)
            ;
        if (*flen == 0)
            return -1;
        s += *flen;
    }
    if (*s)
        return -1;
    /* Leading zeros say nothing: "007" is 7. */
    while (*ilen > 1 && **ip == '0') {
        (*ip)++;
        (*ilen)--;
    }
    return *ilen > SAY_MAX_INT_DIGITS ? -1 : 0;
}

/* The integer of len decimal digits at p (no leading zeros unless it is "0"). */
static void say_integer(words *w, const char *p, int len)
{
    static const char *const small_units[] = { NULL, "unit_shi", "unit_bai", "unit_qian" };
    static const char *const group_units[] = { NULL, "unit_wan", "unit_yi" };
    if (len == 1 && p[0] == '0') {
        put_digit(w, 0);
        return;
    }
    bool pending_zero = false, group_nonzero = false, first = true;
    for (int i = 0; i < len; i++) {
        int d = p[i] - '0', pos = len - 1 - i, unit = pos % 4, group = pos / 4;
        if (d == 0) {
            pending_zero = !first;
        } else {
            if (pending_zero)
                put_digit(w, 0);
            pending_zero = false;
            if (first && d == 1 && unit == 1)
                ;                                   /* 十, not 一十, at the start */
            else if (first && d == 2 && (unit >= 2 || (unit == 0 && group > 0)))
                put(w, "liang");
            else
                put_digit(w, d);
            if (unit)
                put(w, small_units[unit]);
            group_nonzero = true;
            first = false;
        }
        if (unit == 0 && group > 0) {
            if (group_nonzero)
                put(w, group_units[group]);
            group_nonzero = false;
        }
    }
}

int hl_say_digits(const char *digits, hl_say_word *out, int max)
{
    words w = { out, 0, max, false };
    if (!digits || !*digits)
        return -1;
    for (const char *c = digits; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        put_digit(&w, *c - '0');
    }
    return finish(&w);
}

int hl_say_number(const char *number, hl_say_word *out, int max)
{
    words w = { out, 0, max, false };
    bool neg;
    const char *ip, *fp;
    int ilen, flen;
    if (split_number(number, &neg, &ip, &ilen, &fp, &flen) || flen > SAY_MAX_DECIMALS)
        return -1;
    bool zero = ilen == 1 && ip[0] == '0';
    for (int i = 0; i < flen; i++)
        zero = zero && fp[i] == '0';
    if (neg && !zero)
        put(&w, "fu");
    say_integer(&w, ip, ilen);
    if (flen) {
        put(&w, "dian");
        for (int i = 0; i < flen; i++)
            put_digit(&w, fp[i] - '0');
    }
    return finish(&w);
}

int hl_say_amount(const char *yuan, hl_say_word *out, int max)
{
    words w = { out, 0, max, false };
    bool neg;
    const char *ip, *fp;
    int ilen, flen;
    if (split_number(yuan, &neg, &ip, &ilen, &fp, &flen) || flen > 2)
        return -1;
    int jiao = flen >= 1 ? fp[0] - '0' : 0, fen = flen >= 2 ? fp[1] - '0' : 0;
    bool int_zero = ilen == 1 && ip[0] == '0';
    if (neg && !(int_zero && jiao == 0 && fen == 0))
        put(&w, "fu");
    if (!int_zero || (jiao == 0 && fen == 0)) {
        say_integer(&w, ip, ilen);
        put(&w, "yuan");
    }
    if (jiao == 0 && fen == 0) {
        if (!int_zero)
            put(&w, "zheng");
        return finish(&w);
    }
    if (jiao) {
        put_digit(&w, jiao);
        put(&w, "jiao");
    } else if (!int_zero) {
        put_digit(&w, 0);                           /* 一百元零五分 */
    }
    if (fen) {
        put_digit(&w, fen);
        put(&w, "fen");
    }
    return finish(&w);
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int hl_say_date(int year, int month, int day, hl_say_word *out, int max)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > mdays[month - 1] + (month == 2 && leap(year)))
        return -1;
    words w = { out, 0, max, false };
    char buf[16];
    snprintf(buf, sizeof buf, "%d", year);
    for (const char *c = buf; *c; c++)
        put_digit(&w, *c - '0');
    put(&w, "year");
    snprintf(buf, sizeof buf, "%d", month);
    say_integer(&w, buf, (int)strlen(buf));
    put(&w, "month");
    snprintf(buf, sizeof buf, "%d", day);
    say_integer(&w, buf, (int)strlen(buf));
    put(&w, "day");
    return finish(&w);
}
