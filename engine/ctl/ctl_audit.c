/* ctl_audit.c — `hotline ctl audit [--last N]` (issue 10): the audit of reloads, from the
 * store's reload_audit table (store/reload_audit_store.c), oldest first, each with its time
 * in the centre's zone (as CDRs), who asked, the result, the versions and the diff. */
#include "ctl/ctl_int.h"
#include "core/clock.h"
#include "store/store.h"
#include <stdio.h>
#include <stdlib.h>

/* A screenful of reloads by default; diffs are long, so fewer than CDRs at most. */
#define HL_CTL_AUDIT_DEFAULT 10
#define HL_CTL_AUDIT_MAX 200

static void on_audit_rows(void *arg, json_t *rows, const char *err)
{
    hl_ctl_req *req = arg;
    if (!rows) {
        hl_ctl_reply_error(req, "reading the audit: %s", err ? err : "failed");
        return;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        char when[40];
        hl_clock_format_iso(json_number_value(json_object_get(row, "time")), when, sizeof when);
        json_object_set_new(row, "time", json_string(when));
    }
    hl_ctl_reply(req, json_pack("{s:b,s:O}", "ok", 1, "reloads", rows));
}

static json_t *cmd_audit(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    hl_ctl *ctl = arg;
    json_t *v = json_object_get(request, "last");
    json_int_t last = v ? (json_is_integer(v) ? json_integer_value(v) : 0) : HL_CTL_AUDIT_DEFAULT;
    if (last < 1 || last > HL_CTL_AUDIT_MAX) {
        snprintf(err, errlen, "last must be a number from 1 to %d", HL_CTL_AUDIT_MAX);
        return NULL;
    }
    hl_store_audit_read(ctl->store, (int)last, on_audit_rows, req);
    return HL_CTL_DEFERRED;
}

void hl_ctl_register_audit(hl_ctl *ctl)
{
    hl_ctl_register(ctl, "audit", cmd_audit, ctl,
                    "audit [--last N]: the last reloads: when, who asked, result, versions, diff");
}
