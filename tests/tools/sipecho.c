/* sipecho.c — a tiny SIP endpoint on hl_sip alone, for testing the SIP stack with SIPp
 * before (and without) the rest of the engine.
 *
 * Inbound: answers every INVITE with 200 + SDP (or rejects it with -r CODE, or rings for
 * -g MS first), answers re-INVITEs (the stack does), hangs up when the caller does, and
 * optionally hangs up itself after -b MS.  Outbound (-c URI): places -n calls, -l at a time,
 * each hung up -d MS after answer (or CANCELled after -d MS if still ringing), and exits when
 * all are done.  Prints counters at exit (SIGINT/SIGTERM, or end of outbound calls).
 * SIGUSR1 prints glibc's malloc_stats() and the RSS to stderr; SIGUSR2 runs malloc_trim(0)
 * first (does the RSS left after a load run come back, i.e. is it free memory that the
 * allocator keeps?).
 *
 * Build (the Makefile rule is tests/tools/Makefile.inc):
 *   gcc -std=gnu11 -O2 -Iengine tests/tools/sipecho.c engine/sip/[a-z_]*.c engine/core/log.c \
 *       $(pkg-config --cflags --libs libuv libosip2) -o build/tests/sipecho
 * Usage:
 *   sipecho [-a ADDR] [-p PORT] [-r CODE] [-g RING_MS] [-b BYE_MS] [-R RATE] [-m MAXMSG] [-v]
 *           [-c URI -n CALLS -l PARALLEL -d MS] [-H]   (-H: hold+resume outbound calls once) */
#include "sip/sip.h"
#include "core/log.h"
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ECHO_RTP_PORT 40000 /* fake media port in our SDP; nothing listens there */

typedef struct echo echo;

typedef struct echo_call {
    echo *e;
    hl_sip_dialog *d;
    uv_timer_t t;
    bool answered, outbound, held, ended;
} echo_call;

struct echo {
    uv_loop_t *uv;
    hl_sip *sip;
    uv_signal_t sig_int, sig_term, sig_usr1, sig_usr2;
    const char *addr;
    int reject, ring_ms, bye_ms, call_ms, calls, parallel, placed, done_out;
    bool hold;
    const char *target;
    long n_invite, n_answered, n_confirmed, n_ended, n_cancel, n_bye, n_dtmf, n_reoffer,
         n_out_answered, n_out_failed, n_refer;
};

static void call_free(uv_handle_t *h) { free(h->data); }

static void call_end(echo_call *c)
{
    c->ended = true;
    uv_timer_stop(&c->t);
    uv_close((uv_handle_t *)&c->t, call_free);
}

static void place_calls(echo *e);

static void ring_done(uv_timer_t *t)
{
    echo_call *c = t->data;
    hl_sip_dialog_answer(c->d);
}

static void bye_timer(uv_timer_t *t)
{
    echo_call *c = t->data;
    if (c->outbound && c->answered && c->e->hold && !c->held) {
        c->held = true;
        hl_sip_dialog_hold(c->d, true);
        uv_timer_start(&c->t, bye_timer, 200, 0);
        return;
    }
    if (c->outbound && c->held == true && c->e->hold) {
        c->e->hold = c->e->hold; /* resume once, then hang up */
        hl_sip_dialog_hold(c->d, false);
        c->held = false;
        c->e->hold = false;
        uv_timer_start(&c->t, bye_timer, 200, 0);
        return;
    }
    hl_sip_dialog_hangup(c->d);
}

static int on_invite(void *app, hl_sip_dialog *d, const hl_sip_invite_info *info)
{
    echo *e = app;
    e->n_invite++;
    if (e->reject)
        return e->reject;
    hl_sdp local;
    hl_sdp_offer(e->addr, ECHO_RTP_PORT, &local);
    if (info->offer) {
        hl_sdp ans;
        if (hl_sdp_answer(info->offer, e->addr, ECHO_RTP_PORT, &ans) < 0)
            return 488;
    }
    echo_call *c = calloc(1, sizeof *c);
    if (!c)
        return 500;
    c->e = e;
    c->d = d;
    uv_timer_init(e->uv, &c->t);
    c->t.data = c;
    hl_sip_dialog_set_app(d, c);
    hl_sip_dialog_set_local_sdp(d, &local);
    if (e->ring_ms > 0) {
        hl_sip_dialog_ring(d);
        uv_timer_start(&c->t, ring_done, (uint64_t)e->ring_ms, 0);
    } else if (hl_sip_dialog_answer(d) < 0) {
        hl_warn("echo", "answer failed");
    }
    return 0;
}

static void on_confirmed(void *ad, hl_sip_dialog *d)
{
    echo_call *c = ad;
    c->e->n_confirmed++;
    c->answered = true;
    if (c->e->bye_ms > 0)
        uv_timer_start(&c->t, bye_timer, (uint64_t)c->e->bye_ms, 0);
}

static void on_answered(void *ad, hl_sip_dialog *d, const hl_sdp *answer)
{
    echo_call *c = ad;
    c->e->n_out_answered++;
    c->answered = true;
    uv_timer_start(&c->t, bye_timer, (uint64_t)c->e->call_ms, 0);
}

static void on_progress(void *ad, hl_sip_dialog *d, int code) {}

static void on_reoffer(void *ad, hl_sip_dialog *d, const hl_sdp *offer)
{
    echo_call *c = ad;
    c->e->n_reoffer++;
}

static void on_info_dtmf(void *ad, hl_sip_dialog *d, char digit, int ms)
{
    echo_call *c = ad;
    c->e->n_dtmf++;
    hl_info("echo", "INFO DTMF %c %d ms", digit, ms);
}

static void on_refer_status(void *ad, hl_sip_dialog *d, int code)
{
    echo_call *c = ad;
    c->e->n_refer++;
}

static void on_terminated(void *ad, hl_sip_dialog *d, int code, const char *reason)
{
    echo_call *c = ad;
    if (!c)
        return;
    echo *e = c->e;
    e->n_ended++;
    if (strcmp(reason, "cancel") == 0)
        e->n_cancel++;
    if (strcmp(reason, "bye") == 0)
        e->n_bye++;
    if (c->outbound) {
        if (!c->answered)
            e->n_out_failed++;
        e->done_out++;
    }
    hl_debug("echo", "call %s ended: %d %s", hl_sip_dialog_call_id(d), code, reason);
    call_end(c);
    if (c->outbound)
        place_calls(e);
}

static void print_stats(echo *e)
{
    printf("sipecho: invites=%ld confirmed=%ld ended=%ld bye=%ld cancel=%ld dtmf=%ld "
           "reoffer=%ld out_placed=%d out_answered=%ld out_failed=%ld refer=%ld\n",
           e->n_invite, e->n_confirmed, e->n_ended, e->n_bye, e->n_cancel, e->n_dtmf,
           e->n_reoffer, e->placed, e->n_out_answered, e->n_out_failed, e->n_refer);
    fflush(stdout);
}

static void sip_done(void *arg)
{
    echo *e = arg;
    uv_close((uv_handle_t *)&e->sig_int, NULL);
    uv_close((uv_handle_t *)&e->sig_term, NULL);
    uv_close((uv_handle_t *)&e->sig_usr1, NULL);
    uv_close((uv_handle_t *)&e->sig_usr2, NULL);
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void on_memsig(uv_signal_t *h, int sig)
{
    long before = rss_kb();
    if (sig == SIGUSR2) {
        malloc_trim(0);
        fprintf(stderr, "sipecho: malloc_trim(0): RSS %ld kB -> %ld kB\n", before, rss_kb());
    }
    struct mallinfo2 mi = mallinfo2();
    fprintf(stderr, "sipecho: RSS %ld kB; heap arena %zu kB, in use %zu kB, free %zu kB, "
            "mmapped %zu kB\n", rss_kb(), mi.arena / 1024, mi.uordblks / 1024,
            mi.fordblks / 1024, mi.hblkhd / 1024);
    malloc_stats();
}

static void stop(echo *e)
{
    print_stats(e);
    uv_signal_stop(&e->sig_int);
    uv_signal_stop(&e->sig_term);
    uv_signal_stop(&e->sig_usr1);
    uv_signal_stop(&e->sig_usr2);
    hl_sip_shutdown(e->sip, sip_done, e);
}

static void on_signal(uv_signal_t *h, int sig) { stop(h->data); }

static void cancel_timer(uv_timer_t *t)
{
    echo_call *c = t->data;
    hl_sip_dialog_hangup(c->d); /* CANCEL if still ringing, BYE if answered */
}

static void place_calls(echo *e)
{
    if (!e->target)
        return;
    while (e->placed < e->calls && e->placed - e->done_out < e->parallel) {
        echo_call *c = calloc(1, sizeof *c);
        c->e = e;
        c->outbound = true;
        uv_timer_init(e->uv, &c->t);
        c->t.data = c;
        hl_sdp offer;
        hl_sdp_offer(e->addr, ECHO_RTP_PORT, &offer);
        e->placed++;
        c->d = hl_sip_invite(e->sip, e->target, "sipecho", &offer, c);
        if (!c->d) {
            e->n_out_failed++;
            e->done_out++;
            call_end(c);
            continue;
        }
        /* a call not answered within call_ms is cancelled */
        uv_timer_start(&c->t, cancel_timer, (uint64_t)e->call_ms * 5, 0);
    }
    if (e->done_out >= e->calls)
        stop(e);
}

int main(int argc, char **argv)
{
    echo e = { .addr = "127.0.0.1", .parallel = 1, .calls = 1, .call_ms = 1000 };
    int port = 5060, rate = 0, max_message = 65535, opt;
    while ((opt = getopt(argc, argv, "a:p:r:g:b:R:c:n:l:d:m:Hv")) != -1) {
        switch (opt) {
        case 'a': e.addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'r': e.reject = atoi(optarg); break;
        case 'g': e.ring_ms = atoi(optarg); break;
        case 'b': e.bye_ms = atoi(optarg); break;
        case 'R': rate = atoi(optarg); break;
        case 'c': e.target = optarg; break;
        case 'n': e.calls = atoi(optarg); break;
        case 'l': e.parallel = atoi(optarg); break;
        case 'd': e.call_ms = atoi(optarg); break;
        case 'H': e.hold = true; break;
        case 'm': max_message = atoi(optarg); break;
        case 'v': hl_log_set_level(HL_LOG_DEBUG); break;
        default:
            fprintf(stderr, "usage: see the comment at the top of tests/tools/sipecho.c\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    e.uv = uv_default_loop();
    hl_sip_cfg cfg = { .addr = e.addr, .port = port, .rate_per_sec = rate,
                       .max_message = max_message, .user_agent = "sipecho" };
    hl_sip_callbacks cb = {
        .on_invite = on_invite, .on_confirmed = on_confirmed, .on_answered = on_answered,
        .on_progress = on_progress, .on_reoffer = on_reoffer, .on_info_dtmf = on_info_dtmf,
        .on_refer_status = on_refer_status, .on_terminated = on_terminated,
    };
    e.sip = hl_sip_new(e.uv, &cfg, &cb, &e);
    if (!e.sip)
        return 1;
    printf("sipecho: listening on %s:%d\n", e.addr, hl_sip_port(e.sip));
    fflush(stdout);
    uv_signal_init(e.uv, &e.sig_int);
    uv_signal_init(e.uv, &e.sig_term);
    e.sig_int.data = e.sig_term.data = &e;
    uv_signal_start(&e.sig_int, on_signal, SIGINT);
    uv_signal_start(&e.sig_term, on_signal, SIGTERM);
    uv_signal_init(e.uv, &e.sig_usr1);
    uv_signal_init(e.uv, &e.sig_usr2);
    uv_signal_start(&e.sig_usr1, on_memsig, SIGUSR1);
    uv_signal_start(&e.sig_usr2, on_memsig, SIGUSR2);
    place_calls(&e);
    uv_run(e.uv, UV_RUN_DEFAULT);
    uv_loop_close(e.uv);
    return e.target && e.n_out_failed ? 1 : 0;
}
