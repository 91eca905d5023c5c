/* agents.h — agents' accounts and their phones' registrations (issue 8, item 1).
 *
 * Accounts live in the store's agents table (migration 8) and, while the engine runs, in
 * memory: number, name, centre, skills, role, the password as an Argon2id string (what
 * `ctl agent password` sets and the web console will check) and the two digest HA1s the
 * REGISTER check needs (MD5 and SHA-256 for agent_realm).  Registrations (bindings) are kept
 * in memory for the ACD and in agent_contacts, so a restart keeps them until they expire.
 *
 * REGISTER (app side of sip.h's on_register): lockout first (a source or an account that
 * failed agent_auth_fail_limit times in agent_auth_fail_window_s is refused 403 for
 * agent_lockout_s), then the digest (challenge; stale=true for an expired nonce; a replay
 * is refused), then the bindings: expires from the Contact's param, else the Expires
 * header, else agent_register_max_s; under agent_register_min_s is 423; over the max is cut
 * to it; 0 removes.  At most agent_max_contacts phones per agent: a new one past it replaces
 * the one registered longest ago (newest wins).
 *
 * Owner: the loop (app/loop.c) creates it after the store and before the SIP stack. */
#ifndef HL_AGENTS_H
#define HL_AGENTS_H
#include <jansson.h>
#include <uv.h>
#include "core/clock.h"
#include "core/config.h"
#include "ctl/ctl.h"
#include "sip/sip.h"
#include "store/store.h"

typedef struct hl_agents hl_agents;

/* Loads accounts and unexpired bindings from the store.  NULL with err on failure. */
hl_agents *hl_agents_new(uv_loop_t *uv, hl_store *store, const hl_config *live_cfg,
                         const hl_clock *clock, char *err, int errlen);
/* The SIP stack whose nonces check REGISTERs (set once it exists). */
void       hl_agents_set_sip(hl_agents *a, hl_sip *sip);
/* For tests: the digest check instead of hl_sip_register_verify. */
typedef hl_sip_auth (*hl_agents_verify_fn)(void *arg, const hl_sip_register_info *in,
                                           const char *realm, const char *ha1_md5,
                                           const char *ha1_sha256);
void       hl_agents_set_verify(hl_agents *a, hl_agents_verify_fn fn, void *arg);
/* `ctl agent ...` and `ctl agents`. */
void       hl_agents_register_ctl(hl_agents *a, hl_ctl *ctl);
/* sip.h's on_register. */
void       hl_agents_on_register(hl_agents *a, const hl_sip_register_info *in,
                                 hl_sip_register_reply *out);
/* For tests and ctl: an account added at once (the hashing done here, on the caller's
 * thread).  0, or -1 with err. */
int        hl_agents_add_now(hl_agents *a, const char *number, const char *centre,
                             const char *password, char *err, int errlen);
/* Who follows the accounts (the ACD, app/acd_app.c): told of every account at once and
 * of each change; ctl_state serves `ctl agent state NUMBER ...` (args as ctl gives them);
 * describe adds its fields to an agent's `ctl agents` object (NULL: none). */
typedef struct hl_agents_watch {
    void    (*account)(void *arg, const char *number, const char *name, const char *centre,
                       const char *skills, const char *role);
    void    (*removed)(void *arg, const char *number);
    json_t *(*ctl_state)(void *arg, json_t *args, char *err, int errlen);
    json_t *(*describe)(void *arg, const char *number);
} hl_agents_watch;
void       hl_agents_set_watch(hl_agents *a, const hl_agents_watch *w, void *arg);
/* Every agent with its bindings and their expiry (ctl agents). */
json_t    *hl_agents_json(hl_agents *a);
/* Counters and lockouts in force (ctl status). */
json_t    *hl_agents_status(hl_agents *a);
void       hl_agents_close(hl_agents *a);

#endif
