/* admin.h — `hotline ctl admin`: back-office records entered without the web console
 * (issue 9), one by one (`admin KIND FIELD=VALUE ...`) or in bulk (`admin import KIND
 * FILE.csv`, the client sending the file's text).  admin.c holds the mechanics only — the
 * CSV format (app/admin_csv.h), reading what the policy needs from the store, and writing in
 * one statement, all or nothing; what a record is and whether it is valid is the policy's,
 * through two global functions of scripts/main.lua (rules/backoffice.lua):
 *
 *   admin_plan(kind, rows, now)            -> { needs = { NAME = { sql =, params = } } }
 *                                             | { error = { line =, reason = } } | { reply = {...} }
 *   admin_check(kind, rows, ctx, now, by)  -> { table =, unique = { col... }, insert = { row... } }
 *                                             | { table =, update = { id =, set = {...},
 *                                                 guard = {...}, clear = { col... } } }
 *                                             | { error = { line =, reason = } }
 *
 * rows: [{line, values = {column = text}}] (line 0 for a record given on the command line);
 * ctx: NAME -> the rows of each need (run under the script authorizer, store.h); an insert
 * row carries its line.  The web console will send the same requests. */
#ifndef HL_ADMIN_H
#define HL_ADMIN_H
#include "call/env.h"
#include "ctl/ctl.h"

/* Registers the ctl command `admin`; env (the loop's) outlives every request. */
void hl_admin_register_ctl(hl_ctl *ctl, hl_call_env *env);

/* A CSV file the client sends is at most this large, and holds at most this many records:
 * the policy validates a file in one step on the loop (a few ms per thousand records), so a
 * bigger one is split rather than holding calls up. */
#define HL_ADMIN_CSV_MAX_BYTES (4 * 1024 * 1024)
#define HL_ADMIN_MAX_ROWS 5000

#endif
