/* leg_sip.h — legs carried by SIP and RTP (see leg_sip.c).  The loop hands
 * hl_leg_sip_callbacks to hl_sip_new (with itself as the app pointer) and
 * hl_leg_sip_dial to its call env as env->dial. */
#ifndef HL_LEG_SIP_H
#define HL_LEG_SIP_H
#include "call/env.h"
#include "sip/sip.h"

extern const hl_sip_callbacks hl_leg_sip_callbacks;
hl_leg *hl_leg_sip_dial(hl_call_env *env, hl_call *call, const char *uri, const hl_dial_opts *o);

#endif
