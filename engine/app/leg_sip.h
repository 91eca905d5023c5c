/* leg_sip.h — legs carried by SIP and RTP (see leg_sip.c).  The loop hands
 * hl_leg_sip_callbacks to hl_sip_new (with itself as the app pointer) and
 * hl_leg_sip_dial to its call env as env->dial. */
#ifndef HL_LEG_SIP_H
#define HL_LEG_SIP_H
#include "call/env.h"
#include "sip/sip.h"

extern const hl_sip_callbacks hl_leg_sip_callbacks;
hl_leg *hl_leg_sip_dial(hl_call_env *env, hl_call *call, const char *uri, const hl_dial_opts *o);
/* env->dial_agent: INVITE to the agent's newest registered phone, at the address it
 * registered from, showing the caller (From, P-Asserted-Identity) and X-Hotline-Route,
 * -Queue, -Wait (seconds), -Call. */
hl_leg *hl_leg_sip_dial_agent(hl_call_env *env, hl_call *call, const char *agent,
                              const hl_dial_agent_opts *o);
/* What dial_agent's INVITE carries (for tests): the caller's number (o->from_user, else
 * caller; "anonymous" when it is no plain number), the display name, P-Asserted-Identity
 * and the X-Hotline- headers that have a value; wait_s holds the wait's text. */
void hl_leg_sip_agent_invite_opts(const hl_dial_agent_opts *o, const char *caller,
                                  const char *call_id, char wait_s[16], hl_sip_invite_opts *out);

#endif
