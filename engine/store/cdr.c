/* cdr.c — helpers for the call detail record (cdr.h). */
#include "store/cdr.h"
#include <stdio.h>
#include <string.h>

#define FULL_MARK "..."

void hl_cdr_append(char *list, int size, const char *word)
{
    if (!list || size <= 0 || !word || !*word)
        return;
    size_t len = strlen(list), wl = strlen(word), mark = strlen(FULL_MARK);
    if (len >= mark && !strcmp(list + len - mark, FULL_MARK))
        return; /* already full */
    size_t need = (len ? 1 : 0) + wl;
    if (len + need < (size_t)size) {
        if (len)
            list[len++] = ' ';
        memcpy(list + len, word, wl + 1);
        return;
    }
    /* full: end the list in " ..." (dropping words from the end until it fits) */
    while (len && len + (len ? 1 : 0) + mark >= (size_t)size) {
        char *sp = strrchr(list, ' ');
        len = sp ? (size_t)(sp - list) : 0;
        list[len] = 0;
    }
    if (len + 1 + mark < (size_t)size)
        strcat(strcat(list, len ? " " : ""), FULL_MARK);
}

/* ---- lists of records: JSON array text ------------------------------------------- */

/* Appends one already-formatted JSON object to the array text in list ("" = empty). */
static int append_record(char *list, size_t size, const char *record)
{
    size_t len = strnlen(list, size), rl = strlen(record);
    if (len == 0) {
        if (rl + 3 > size)
            return -1;
        snprintf(list, size, "[%s]", record);
        return 0;
    }
    if (list[len - 1] != ']' || len + 1 + rl >= size)
        return -1; /* not ours (left as it is), or full */
    char *p = list + len - 1; /* over the closing ']' */
    *p++ = ',';
    memcpy(p, record, rl);
    memcpy(p + rl, "]", 2);
    return 0;
}

/* The length of out[0..o) without a UTF-8 character cut short at its end. */
static size_t utf8_whole(const char *out, size_t o)
{
    size_t lead = o;
    while (lead > 0 && ((unsigned char)out[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0 || (unsigned char)out[lead - 1] < 0xC0)
        return o; /* ends in ASCII (or stray continuation bytes: left to the reader) */
    unsigned char b = (unsigned char)out[lead - 1];
    size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    return o - (lead - 1) < need ? lead - 1 : o;
}

/* s as a JSON string (quotes included) into out; truncated to fit, never mid-escape. */
static void json_quote(char *out, size_t size, const char *s)
{
    size_t o = 0;
    out[o++] = '"';
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        if (ch == '"' || ch == '\\')
            snprintf(esc, sizeof esc, "\\%c", ch);
        else if (ch < 0x20)
            snprintf(esc, sizeof esc, "\\u%04x", ch);
        else
            esc[0] = (char)ch, esc[1] = 0;
        size_t el = strlen(esc);
        if (o + el + 2 > size) {
            o = utf8_whole(out, o);
            break;
        }
        memcpy(out + o, esc, el);
        o += el;
    }
    out[o++] = '"';
    out[o] = 0;
}

int hl_cdr_hold_add(hl_cdr *cdr, double start, double end, int reminders,
                    int64_t back_within_ms)
{
    cdr->holds++;
    if (end > start)
        cdr->hold_ms += (int64_t)((end - start) * 1000 + 0.5);
    char rec[160];
    snprintf(rec, sizeof rec,
             "{\"start\":%.3f,\"end\":%.3f,\"reminders\":%d,\"back_within_ms\":%lld}", start,
             end, reminders, (long long)back_within_ms);
    return append_record(cdr->hold_log, sizeof cdr->hold_log, rec);
}

int hl_cdr_transfer_add(hl_cdr *cdr, const char *kind, const char *target, double time,
                        const char *result)
{
    /* each string cut to a size of its own, so that one record always fits a list */
    char k[40], t[140], r[40], rec[HL_CDR_RECORDS];
    json_quote(k, sizeof k, kind);
    json_quote(t, sizeof t, target);
    json_quote(r, sizeof r, result);
    snprintf(rec, sizeof rec, "{\"kind\":%s,\"target\":%s,\"time\":%.3f,\"result\":%s}", k, t,
             time, r);
    return append_record(cdr->transfers, sizeof cdr->transfers, rec);
}
