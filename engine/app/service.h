/* service.h — telling the service manager (systemd, Type=notify) how the engine is doing:
 * ready once it listens, stopping when a signal ends it, and a watchdog ping from the loop
 * when the unit asks for one (WatchdogSec=).  Without NOTIFY_SOCKET (a terminal, a test, a
 * chroot) every call does nothing. */
#ifndef HL_SERVICE_H
#define HL_SERVICE_H
#include <uv.h>

/* READY=1 with status (one line: what it listens on), and the watchdog's timer on uv when
 * the manager set WATCHDOG_USEC for this process. */
void hl_service_ready(uv_loop_t *uv, const char *status);
/* STOPPING=1: calls are ending, the manager waits for the exit. */
void hl_service_stopping(void);
#endif
