/* say.h — Mandarin readings of numbers, amounts, digits and dates as prompt names.
 *
 * Pure functions: they fill out[] with prompt names from the digit and unit prompts
 * ("digit_0".."digit_9", "unit_shi", "unit_bai", "unit_qian", "unit_wan", "unit_yi",
 * "liang", "dian", "fu", "yuan", "jiao", "fen", "zheng", "year", "month", "day") and return
 * how many, or -1 when the input is malformed or out doesn't fit.
 *   10010     -> 一万零一十  (digit_1 unit_wan digit_0 digit_1 unit_shi)
 *   12345.67 yuan -> 一万二千三百四十五元六角七分 */
#ifndef HL_SAY_H
#define HL_SAY_H

#define HL_SAY_MAX 64
typedef char hl_say_word[16];

int hl_say_digits(const char *digits, hl_say_word *out, int max);   /* "0123" -> 零一二三 */
int hl_say_number(const char *number, hl_say_word *out, int max);   /* integer or decimal, up to 9999 9999 9999 */
int hl_say_amount(const char *yuan, hl_say_word *out, int max);     /* "12345.67" -> 元角分 */
int hl_say_date(int year, int month, int day, hl_say_word *out, int max); /* 二零二六年十一月二十八日 */

#endif
