/* buf.c — the growing byte buffer (buf.h). */
#include "core/buf.h"
#include <stdlib.h>
#include <string.h>

#define BUF_FIRST 1024

void hl_buf_add(hl_buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : BUF_FIRST;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            abort();
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = 0;
}

char *hl_buf_take(hl_buf *b)
{
    char *s = b->s ? b->s : strdup("");
    if (!s)
        abort();
    *b = (hl_buf){ 0 };
    return s;
}
