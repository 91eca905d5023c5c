/* fuzz_sip.c — libFuzzer target for the SIP stack's receive path: raw checks, libosip2
 * parsing, transactions, dialogs and every answer the stack builds by itself.  One hl_sip on
 * a private libuv loop takes each input as a UDP datagram (first byte odd: as a TCP message)
 * from 127.0.0.1:9 (the discard port); the stack's replies go there.
 * Run with tests/fuzz/run.sh. */
// sources: engine/sip/sip.c engine/sip/sip_msg.c engine/sip/sip_map.c engine/sip/sip_rate.c engine/sip/sip_transport.c engine/sip/sip_digest.c engine/sip/sdp.c engine/core/ipaddr.c engine/core/log.c
// pkgs: libuv libosip2 libsodium
#include "sip/sip.h"
#include "core/log.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int fz_invite(void *app, hl_sip_dialog *d, const hl_sip_invite_info *info)
{
    /* a trunk with digest credentials: the Authorization is parsed and checked, and some
     * are challenged (401 with our nonce) */
    if (!hl_sip_dialog_authorized(d, "fuzz", "user", "password") && (info->call_id[0] & 2)) {
        hl_sip_dialog_challenge(d, "fuzz");
        return 401;
    }
    /* answer some, reject others, so both paths run; answered dialogs are hung up */
    if (info->offer && (info->call_id[0] & 1)) {
        hl_sdp l;
        hl_sdp_offer("127.0.0.1", 4000, &l);
        hl_sip_dialog_set_local_sdp(d, &l);
        if (hl_sip_dialog_answer(d) == 0) {
            hl_sip_dialog_hangup(d);
            return 0;
        }
    }
    return 486;
}

static void fz_terminated(void *ad, hl_sip_dialog *d, int code, const char *reason) {}

static uv_loop_t loop;
static hl_sip *sip;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sip) {
        hl_log_set_level(HL_LOG_ERROR + 1); /* silence */
        uv_loop_init(&loop);
        hl_sip_cfg cfg = { .addr = "127.0.0.1", .port = 0, .rate_per_sec = 0,
                           .max_message = 8192, .user_agent = "fuzz" };
        hl_sip_callbacks cb = { .on_invite = fz_invite, .on_terminated = fz_terminated };
        sip = hl_sip_new(&loop, &cfg, &cb, NULL);
        if (!sip)
            abort();
    }
    if (size == 0 || size > 1 << 16)
        return 0;
    bool tcp = data[0] & 1;
    char *buf = malloc(size);
    memcpy(buf, data, size);
    hl_sip_inject(sip, "127.0.0.1", 9, tcp, buf + 1, size - 1);
    free(buf);
    uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}
