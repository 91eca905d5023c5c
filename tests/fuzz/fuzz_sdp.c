/* fuzz_sdp.c — libFuzzer target for hl_sdp_parse (and answer/write on what parses).
 * Run with tests/fuzz/run.sh. */
// sources: engine/sip/sdp.c
#include "sip/sdp.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    /* a copy without a terminating NUL: the parser must respect len */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    hl_sdp s, a;
    char err[64], out[2048];
    if (hl_sdp_parse(buf, (int)size, &s, err, sizeof err) == 0) {
        if (hl_sdp_answer(&s, "127.0.0.1", 4000, &a) == 0) {
            int n = hl_sdp_write(&a, out, sizeof out);
            hl_sdp back;
            if (n > 0 && hl_sdp_parse(out, n, &back, err, sizeof err) != 0)
                abort(); /* what we write must parse */
        }
        hl_sdp_write(&s, out, sizeof out);
    }
    free(buf);
    return 0;
}
