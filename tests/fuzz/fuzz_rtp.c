// sources: engine/rtp/dtmf4733.c
/* fuzz_rtp.c — libFuzzer target: RTP header parsing and the RFC 4733 state machine.
 *
 * The input is a sequence of records [len:1][time step:1][packet:len]; each packet is
 * parsed as RTP and, when it parses, its payload is fed to one telephone-event state
 * machine (as the media layer does for te_pt packets), with a poll for the end timeout.
 * Checks: no crash or over-read (ASan), the parser's payload stays inside the packet, and
 * every reported digit is a real key with a non-negative duration. */
#include "rtp/dtmf4733.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hl_dtmf4733 st;
    hl_dtmf4733_init(&st);
    uint64_t now = 0;
    size_t off = 0;
    while (off + 2 <= size) {
        size_t len = data[off];
        now += data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        /* A copy of exactly len bytes, so ASan sees any read past the packet. */
        uint8_t *pkt = malloc(len ? len : 1);
        memcpy(pkt, data + off, len);
        off += len;
        hl_rtp_header h;
        if (hl_rtp_header_parse(pkt, len, &h) == 0) {
            if (h.payload < pkt || h.payload + h.payload_len > pkt + len)
                abort();
            hl_dtmf_digit d[2];
            int n = hl_dtmf4733_feed(&st, h.ts, h.marker, h.payload, h.payload_len, now, d);
            if (n < 0 || n > 2)
                abort();
            for (int i = 0; i < n; i++)
                if (!d[i].digit || !strchr("0123456789*#ABCD", d[i].digit) || d[i].duration_ms < 0)
                    abort();
        }
        free(pkt);
        hl_dtmf_digit d;
        if (hl_dtmf4733_poll(&st, now, &d) && (!d.digit || d.duration_ms < 0))
            abort();
    }
    return 0;
}
