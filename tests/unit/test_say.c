/* test_say.c — Mandarin readings of numbers, amounts, digit strings and dates. */
#include "media/say.h"
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* Joins the words with spaces and compares with want ("" and rc -1 for malformed). */
static void expect(const char *what, int rc, hl_say_word *w, const char *want)
{
    char got[1024] = "";
    if (rc < 0) {
        snprintf(got, sizeof got, "ERR");
    } else {
        for (int i = 0; i < rc; i++) {
            if (i)
                strcat(got, " ");
            strcat(got, w[i]);
        }
    }
    CHECK(!strcmp(got, want), "%s: got '%s', want '%s'", what, got, want);
}

#define NUM(s, want) do { hl_say_word w[HL_SAY_MAX]; expect("number " s, hl_say_number(s, w, HL_SAY_MAX), w, want); } while (0)
#define AMT(s, want) do { hl_say_word w[HL_SAY_MAX]; expect("amount " s, hl_say_amount(s, w, HL_SAY_MAX), w, want); } while (0)
#define DIG(s, want) do { hl_say_word w[HL_SAY_MAX]; expect("digits " s, hl_say_digits(s, w, HL_SAY_MAX), w, want); } while (0)

TEST_IMPL(say)
{
    NUM("0", "digit_0");
    NUM("7", "digit_7");
    NUM("10", "unit_shi");
    NUM("15", "unit_shi digit_5");
    NUM("20", "digit_2 unit_shi");
    NUM("22", "digit_2 unit_shi digit_2");
    NUM("101", "digit_1 unit_bai digit_0 digit_1");
    NUM("110", "digit_1 unit_bai digit_1 unit_shi");
    NUM("200", "liang unit_bai");
    NUM("1001", "digit_1 unit_qian digit_0 digit_1");
    NUM("2000", "liang unit_qian");
    NUM("10010", "digit_1 unit_wan digit_0 digit_1 unit_shi");
    NUM("20000", "liang unit_wan");
    NUM("12000", "digit_1 unit_wan digit_2 unit_qian");
    NUM("100000", "unit_shi unit_wan");
    NUM("100001", "unit_shi unit_wan digit_0 digit_1");
    NUM("220000", "digit_2 unit_shi digit_2 unit_wan");
    NUM("20000000", "liang unit_qian unit_wan");
    NUM("10100000", "digit_1 unit_qian digit_0 digit_1 unit_shi unit_wan");
    NUM("100000000", "digit_1 unit_yi");
    NUM("200000000", "liang unit_yi");
    NUM("100001000", "digit_1 unit_yi digit_0 digit_1 unit_qian");
    NUM("110000000", "digit_1 unit_yi digit_1 unit_qian unit_wan");
    NUM("999999999999", "digit_9 unit_qian digit_9 unit_bai digit_9 unit_shi digit_9 unit_yi "
        "digit_9 unit_qian digit_9 unit_bai digit_9 unit_shi digit_9 unit_wan "
        "digit_9 unit_qian digit_9 unit_bai digit_9 unit_shi digit_9");
    NUM("007", "digit_7");
    NUM("3.14", "digit_3 dian digit_1 digit_4");
    NUM("0.5", "digit_0 dian digit_5");
    NUM("-12", "fu unit_shi digit_2");
    NUM("-0", "digit_0");
    NUM("1000000000000", "ERR");            /* 13 digits */
    NUM("", "ERR");
    NUM("-", "ERR");
    NUM("1.", "ERR");
    NUM(".5", "ERR");
    NUM("1.2.3", "ERR");
    NUM("12a", "ERR");
    NUM(" 12", "ERR");
    NUM("--1", "ERR");

    AMT("12345.67", "digit_1 unit_wan digit_2 unit_qian digit_3 unit_bai digit_4 unit_shi digit_5 "
        "yuan digit_6 jiao digit_7 fen");
    AMT("100.00", "digit_1 unit_bai yuan zheng");
    AMT("100", "digit_1 unit_bai yuan zheng");
    AMT("0.05", "digit_5 fen");
    AMT("0.5", "digit_5 jiao");
    AMT("0.55", "digit_5 jiao digit_5 fen");
    AMT("0", "digit_0 yuan");
    AMT("0.00", "digit_0 yuan");
    AMT("100.50", "digit_1 unit_bai yuan digit_5 jiao");
    AMT("100.05", "digit_1 unit_bai yuan digit_0 digit_5 fen");
    AMT("10.3", "unit_shi yuan digit_3 jiao");
    AMT("-2.5", "fu digit_2 yuan digit_5 jiao");
    AMT("1.234", "ERR");
    AMT("abc", "ERR");
    { hl_say_word w[HL_SAY_MAX]; expect("amount NULL", hl_say_amount(NULL, w, HL_SAY_MAX), w, "ERR"); }

    DIG("0431", "digit_0 digit_4 digit_3 digit_1");
    DIG("12333", "digit_1 digit_2 digit_3 digit_3 digit_3");
    DIG("", "ERR");
    DIG("12-3", "ERR");

    {
        hl_say_word w[HL_SAY_MAX];
        expect("date 2026-11-28", hl_say_date(2026, 11, 28, w, HL_SAY_MAX), w,
               "digit_2 digit_0 digit_2 digit_6 year unit_shi digit_1 month digit_2 unit_shi digit_8 day");
        expect("date 2024-02-29", hl_say_date(2024, 2, 29, w, HL_SAY_MAX), w,
               "digit_2 digit_0 digit_2 digit_4 year digit_2 month digit_2 unit_shi digit_9 day");
        expect("date 2026-10-10", hl_say_date(2026, 10, 10, w, HL_SAY_MAX), w,
               "digit_2 digit_0 digit_2 digit_6 year unit_shi month unit_shi day");
        expect("date 2025-02-29", hl_say_date(2025, 2, 29, w, HL_SAY_MAX), w, "ERR");
        expect("date month 13", hl_say_date(2026, 13, 1, w, HL_SAY_MAX), w, "ERR");
        expect("date day 0", hl_say_date(2026, 1, 0, w, HL_SAY_MAX), w, "ERR");
        /* out too small */
        expect("small out", hl_say_number("12345", w, 3), w, "ERR");
        expect("exact out", hl_say_number("15", w, 2), w, "unit_shi digit_5");
    }
    return 0;
}
