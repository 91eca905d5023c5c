/* buf.h — a growing byte buffer, always NUL-terminated (CSV lines and exports, an HTTP
 * stream's queue).  Running out of memory aborts, as elsewhere on the loop: a half-written
 * line is worse than a crash that the service manager restarts. */
#ifndef HL_BUF_H
#define HL_BUF_H
#include <stddef.h>

typedef struct hl_buf {
    char  *s;          /* NULL until the first add */
    size_t len, cap;
} hl_buf;

/* Appends n bytes of data (and keeps a NUL after them). */
void  hl_buf_add(hl_buf *b, const void *data, size_t n);
/* Hands the text over (the caller frees it; "" when nothing was added) and empties b. */
char *hl_buf_take(hl_buf *b);

#endif
