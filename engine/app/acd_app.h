/* acd_app.h — the ACD wired into the running engine (acd_app.c): accounts and phones from
 * app/agents.h, queues and choices from the policy serving, events into the store, ctl
 * `queues`, `queue log` and `agent state`.  Owner: app/loop.c, once the store, the agents
 * and ctl exist; sets env->acd. */
#ifndef HL_ACD_APP_H
#define HL_ACD_APP_H
#include <stdbool.h>
#include "acd/acd.h"
#include "app/agents.h"
#include "call/env.h"
#include "ctl/ctl.h"
#include "lua/script.h"
#include "store/store.h"

typedef struct hl_acd_app hl_acd_app;

hl_acd_app *hl_acd_app_new(hl_call_env *env, hl_store *store, hl_agents *agents, hl_ctl *ctl);
/* The queues of the policy now serving (at start and after every swap).  0, or -1 with err:
 * the ACD keeps the queues it had. */
int         hl_acd_app_policy(hl_acd_app *app, hl_policy *p, char *err, int errlen);
/* An agent's phones: some registered, or none left (agents.h's on_change; arg = the app). */
void        hl_acd_app_registered(void *app, const char *number, bool registered);
/* After every call has ended. */
/* Every event the ACD keeps also goes to fn (issue 10: the event stream); event is borrowed. */
void        hl_acd_app_forward(hl_acd_app *app, hl_acd_event_fn fn, void *arg);
void        hl_acd_app_free(hl_acd_app *app);

#endif
