/* cdr.c — helpers for the call detail record (cdr.h). */
#include "store/cdr.h"
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
