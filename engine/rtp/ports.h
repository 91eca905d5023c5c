/* ports.h — the RTP port range of one media pool: even ports for RTP (RTP+1 for RTCP),
 * handed out next-fit so a just-freed port is not reused at once (late packets of the old
 * call would land in the new one). */
#ifndef HL_PORTS_H
#define HL_PORTS_H
#include <stdbool.h>
#include <stdint.h>

typedef struct hl_ports {
    int      lo;          /* first even port */
    int      count;       /* number of even ports in the range */
    int      next;        /* next index to try */
    int      used;
    uint8_t *busy;        /* one byte per even port */
} hl_ports;

/* Even ports in [lo, hi).  0, or -1 when the range holds none or memory is short. */
int  hl_ports_init(hl_ports *p, int lo, int hi);
void hl_ports_free(hl_ports *p);
/* Takes the next free port for which try_bind(port, arg) returns 0 (it binds it); ports
 * that fail to bind are skipped.  The port, or -1 when none is free. */
int  hl_ports_take(hl_ports *p, int (*try_bind)(int port, void *arg), void *arg);
void hl_ports_give(hl_ports *p, int port);

#endif
