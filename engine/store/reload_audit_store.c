/* reload_audit_store.c — the audit of reloads in the store (issue 10, SPEC section 5): one
 * row per reload, refused, taken or found unchanged, in table reload_audit (migration 10):
 * when, who asked, the result, the version serving after it and the one before, what went
 * wrong or was noted, and the diff of scripts/ and rules/ it brought.  Written through the
 * store's worker like any write (the loop never waits); read by `hotline ctl audit`. */
#include "store/store.h"
#include <stdio.h>

void hl_store_audit_add(hl_store *s, const hl_reload_audit *a)
{
    json_t *p = json_pack("[f,s,i,s,s,s,s,s,s]", a->time, a->who, a->uid, a->result, a->version,
                          a->previous, a->detail ? a->detail : "", a->diff ? a->diff : "",
                          a->diff_base ? a->diff_base : "");
    if (!p)
        return;   /* not UTF-8 (a file's bytes in the diff): json_pack refuses it */
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
