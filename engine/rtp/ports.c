/* ports.c — even RTP port allocation (see ports.h). */
#include "rtp/ports.h"
#include <stdlib.h>
#include <string.h>

int hl_ports_init(hl_ports *p, int lo, int hi)
{
    memset(p, 0, sizeof *p);
    if (lo < 1)
        lo = 1;
    if (hi > 65536)
        hi = 65536;
    p->lo = lo + (lo & 1);
    p->count = hi - 1 > p->lo ? (hi - 1 - p->lo + 1) / 2 : 0;  /* RTP and RTP+1 below hi */
    if (p->count <= 0)
        return -1;
    p->busy = calloc((size_t)p->count, 1);
    return p->busy ? 0 : -1;
}

void hl_ports_free(hl_ports *p)
{
    free(p->busy);
    memset(p, 0, sizeof *p);
}

int hl_ports_take(hl_ports *p, int (*try_bind)(int port, void *arg), void *arg)
{
    for (int tries = 0; tries < p->count; tries++) {
        int i = p->next;
        p->next = (p->next + 1) % p->count;
        if (p->busy[i])
            continue;
        int port = p->lo + 2 * i;
        if (try_bind && try_bind(port, arg))
            continue;           /* someone else holds it: leave it for a later round */
        p->busy[i] = 1;
        p->used++;
        return port;
    }
    return -1;
}

void hl_ports_give(hl_ports *p, int port)
{
    int i = (port - p->lo) / 2;
    if (port < p->lo || (port - p->lo) % 2 || i >= p->count || !p->busy[i])
        return;
    p->busy[i] = 0;
    p->used--;
}
