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
 * Several phones of one agent: a call to the agent rings one, the newest registered (among
 * those answering qualify, else the newest of all).  The phone an agent registered last is
 * the one they sit at (a softphone started after the desk phone, a spare taken over); ringing
 * all would let two phones answer one ring and blur the answer time the scoring reads, and
 * forking is the ACD's choice to make (ring-all across agents), not the registrar's.
 *
 * An agent's own INVITE (hl_agents_on_invite): its From user is an account and it comes
 * from the exact source (ip:port/transport) one of that account's bindings registered from;
 * it must then answer a digest challenge with the agent's password, with the checks and
 * counts of REGISTER (lockout, stale nonce, replay).  From anywhere else an agent's number
 * is refused 403 (unless a trunk brings it: then it is an ordinary caller's).  No password,
 * no call: an unregistered phone cannot place one (no toll fraud by a guessed number).
 *
 * Qualify: every agent_qualify_s each binding is sent OPTIONS, at the address it registered
 * from; agent_qualify_fails unanswered in a row remove it, as if it had expired.
 *
 * on_change (hl_agents_set_on_change) tells when an agent goes from no binding to some or
 * back, whatever the cause: REGISTER, un-REGISTER, expiry, qualify, `ctl agent remove`.
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
/* An INVITE (sip.h on_invite) whose From user may be an agent's: 0 when it is not an
 * agent's call (no such account, or a trunk's source that is no binding of it: go on as
 * for any caller), 1 when admitted (agent_out = the number), else the status to refuse with
 * (401: the challenge is sent; 403: named with hl_sip_dialog_refusal_quiet). */
int        hl_agents_on_invite(hl_agents *a, hl_sip_dialog *d, const hl_sip_invite_info *info,
                               bool from_trunk, char *agent_out, size_t agent_len);
/* The phone to ring for number (the rule above): its Contact URI and the source it
 * registered from ("ip:port/udp").  0; -1 no such agent; -2 no live registration. */
int        hl_agents_contact(hl_agents *a, const char *number, char *uri, size_t urilen,
                             char *source, size_t sourcelen);
bool       hl_agents_registered(hl_agents *a, const char *number);
/* fn(arg, number, registered) at each change (see above); at once for every agent registered
 * now, so the caller starts from the current state.  NULL stops it. */
void       hl_agents_set_on_change(hl_agents *a,
                                   void (*fn)(void *arg, const char *number, bool registered),
                                   void *arg);
/* Every agent with its bindings and their expiry (ctl agents). */
json_t    *hl_agents_json(hl_agents *a);
/* Counters and lockouts in force (ctl status). */
json_t    *hl_agents_status(hl_agents *a);
void       hl_agents_close(hl_agents *a);

#endif
