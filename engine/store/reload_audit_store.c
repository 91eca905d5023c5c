/* reload_audit_store.c — the audit of reloads in the store (issue 10, SPEC section 5): one
 * row per reload, refused, taken or found unchanged, in table reload_audit (migration 10):
 * when, who asked, the result, the version serving after it and the one before, what went
 * wrong or was noted, and the diff of scripts/ and rules/ it brought.  Written through the
 * store's worker like any write (the loop never waits); read by `hotline ctl audit`. */
#include "store/store.h"
#include <stdio.h>

static json_t *audit_params(const hl_reload_audit *a, const char *detail, const char *diff)
{
    return json_pack("[f,s,i,s,s,s,s,s,s]", a->time, a->who, a->uid, a->result, a->version, a->previous,
                     detail ? detail : "", diff ? diff : "", a->diff_base ? a->diff_base : "");
}

void hl_store_audit_add(hl_store *s, const hl_reload_audit *a)
{
    json_t *p = audit_params(a, a->detail, a->diff);
    if (!p)   /* a file's bytes that are not UTF-8 (in the diff, or quoted by an error) */
        p = audit_params(a, "(not shown: not UTF-8 text)", "(not shown: not UTF-8 text)");
    if (!p)
        return;
    hl_store_exec(s,
                  "INSERT INTO reload_audit (time, who, uid, result, version, previous, detail, diff,"
                  " diff_base) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  p, NULL, NULL);
    json_decref(p);
}

void hl_store_audit_read(hl_store *s, int last, hl_store_cb cb, void *arg)
{
    json_t *p = json_pack("[i]", last);
    hl_store_exec(s, "SELECT * FROM (SELECT * FROM reload_audit ORDER BY id DESC LIMIT ?) ORDER BY id",
                  p, cb, arg);
    json_decref(p);
}
