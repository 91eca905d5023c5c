/* acd_policy.h — the ACD's questions to a policy snapshot (acd_policy.c): the queues it
 * defines (global acd_queues) and the agents' order for a waiting caller (global
 * acd_choose).  The owner (app/loop.c, sim/) calls these from the ACD's strategy callback
 * and at every reload, with the current snapshot. */
#ifndef HL_ACD_POLICY_H
#define HL_ACD_POLICY_H
#include "acd/acd.h"
#include "core/config.h"
#include "lua/script.h"

/* Sets the ACD's queues from the policy (none when it defines no acd_queues).  0, or -1 with
 * err (the policy's file:line where it failed). */
int hl_acd_policy_queues(hl_policy *p, hl_acd *acd, const hl_config *cfg, const hl_clock *clock,
                         char *err, int errlen);
/* hl_acd_strategy_fn's work on policy p: how many indexes it wrote, or -1 with err. */
int hl_acd_policy_choose(hl_policy *p, const hl_config *cfg, const hl_clock *clock, const hl_acd_choice *in,
                         int *chosen, int max, char *err, int errlen);

#endif
