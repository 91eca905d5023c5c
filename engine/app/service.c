/* service.c — sd_notify for systemd's Type=notify (see service.h). */
#include "app/service.h"
#include "core/log.h"
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

/* The watchdog pings from a loop timer, so a loop stuck in one callback misses them and the
 * manager restarts the engine; twice per period, as sd_watchdog_enabled(3) advises. */
static uv_timer_t watchdog;

static void watchdog_ping(uv_timer_t *h) { sd_notify(0, "WATCHDOG=1"); }

void hl_service_ready(uv_loop_t *uv, const char *status)
{
    char msg[512];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status);
    int told = sd_notify(0, msg);
    if (told < 0)
        hl_warn("service", "could not tell the service manager we are ready: %s", strerror(-told));
    else if (told > 0)
        hl_info("service", "told the service manager: ready");
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
        uv_timer_init(uv, &watchdog);
        uv_timer_start(&watchdog, watchdog_ping, usec / 2000, usec / 2000);
        uv_unref((uv_handle_t *)&watchdog);
    }
}

void hl_service_stopping(void) { sd_notify(0, "STOPPING=1\nSTATUS=ending calls and stopping"); }
