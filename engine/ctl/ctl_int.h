/* ctl_int.h — private to engine/ctl: the server object shared by ctl_server.c (socket,
 * connections) and ctl_cmds.c (the commands ctl serves itself). */
#ifndef HL_CTL_INT_H
#define HL_CTL_INT_H
#include <limits.h>
#include <stdbool.h>
#include "ctl/ctl.h"

typedef struct ctl_cmd {
    char          *name;
    hl_ctl_handler fn;
    void          *arg;
    char          *help;
} ctl_cmd;

struct ctl_conn;

struct hl_ctl {
    uv_loop_t             *uv;
    uv_pipe_t              server;
    char                   path[PATH_MAX];
    struct hl_store       *store;     /* may be NULL: then no cdr/query commands */
    json_t                *queries;   /* the policy's named queries ({} or NULL: none) */
    const struct hl_clock *clock;     /* may be NULL: system time */
    ctl_cmd               *cmds;
    int                    ncmds, capcmds;
    struct ctl_conn       *conns;
    int                    nconns;
    int                    handles;   /* open uv handles (server + connections); freed at 0 */
    bool                   closing;
};

/* Registers help, and with a store cdr and query (ctl_cmds.c). */
void hl_ctl_register_builtins(hl_ctl *ctl);
/* Registers audit (ctl_audit.c); needs the store. */
void hl_ctl_register_audit(hl_ctl *ctl);

#endif
