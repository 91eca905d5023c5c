/* leg.h — a call leg as the call layer sees it, independent of how it is carried.
 *
 * A leg is one dialog with one party plus its media.  Two implementations exist:
 *   - app/leg_sip.c: a SIP dialog (sip.h) and an RTP media endpoint (media.h), on a loop;
 *   - sim/: a simulated caller with no SIP or audio, on a fake clock.
 * The call layer (call.h) drives a leg only through hl_leg_ops and learns what happened
 * only through hl_call_on_leg_event(), so call scripts cannot tell the two apart.
 *
 * Ownership: a leg belongs to exactly one call (leg->call).  The implementation frees its
 * own state in ops->destroy, which the call invokes once after the leg has ended. */
#ifndef HL_LEG_H
#define HL_LEG_H
#include <stdbool.h>
#include <stdint.h>
#include "media/monitor.h"
#include "media/record.h"
#include "store/cdr.h"

typedef struct hl_call hl_call;
typedef struct hl_leg hl_leg;

typedef enum { HL_LEG_INBOUND, HL_LEG_OUTBOUND } hl_leg_dir;
typedef enum { HL_LEG_NEW, HL_LEG_RINGING, HL_LEG_ANSWERED, HL_LEG_ENDED } hl_leg_state;
typedef enum { HL_DTMF_RFC4733, HL_DTMF_INFO, HL_DTMF_SIM } hl_dtmf_source;

/* A fax session on a leg (fax_start; added by the fax engineer, see engine/fax/fax.h). */
typedef struct hl_leg_fax_opts {
    bool send;                /* send path (else receive into path) */
    char path[512];           /* absolute path of the TIFF to send, or to write */
    char ident[24];           /* our T.30 identity ("" = cfg fax_ident) */
    bool calling_party;       /* our T.30 role: usually true to send, false to receive */
    bool no_ecm;              /* ECM is on unless this is set */
    int  max_ms;              /* the session's time limit (0 = the fax module's default) */
} hl_leg_fax_opts;

struct hl_fax_result;         /* fax/fax.h */


typedef enum {
    HL_LEG_EV_ANSWERED,     /* inbound: our 200 OK was ACKed; outbound: the far end answered */
    HL_LEG_EV_FAILED,       /* outbound only: rejected, unreachable or unanswered (code);
                             * a HANGUP event always follows it */
    HL_LEG_EV_DTMF,         /* a key: digit, dtmf_source, duration_ms */
    HL_LEG_EV_PLAY_DONE,    /* the playlist ended (interrupted = stopped early) */
    HL_LEG_EV_RECORD_DONE,  /* recording ended: reason "max", "silence", "stopped", "hangup"
                             * (stop keys are the call's: prim_record.c) */
    HL_LEG_EV_HOLD,         /* the far end put us on hold (re-INVITE sendonly/inactive) */
    HL_LEG_EV_RESUME,       /* the far end took us off hold */
    HL_LEG_EV_TRANSFERRED,  /* a REFER we sent succeeded (NOTIFY 2xx); code otherwise */
    HL_LEG_EV_FAX_DONE,     /* a fax_start session ended: fax (status, pages, reason...) */
    HL_LEG_EV_REFER,        /* the far end asks to transfer the call (a REFER from an agent's
                             * phone, accepted 202; only legs with agent set take one): uri (sip:/tel:, without <> and ?headers)
                             * and target (its user part, %-decoded; "" when it has none or an
                             * odd character).  The call answers with ops->refer_notify; one
                             * nobody takes is declined (call.c) */
    HL_LEG_EV_HANGUP,       /* the leg ended: reason "bye", "cancel", "rtp-timeout", "error", ...
                             * Sent exactly once per leg, also after ops->hangup (deferred to a
                             * later turn of the loop, never from inside the op). */
} hl_leg_event_type;

typedef struct hl_leg_event {
    hl_leg_event_type type;
    char           digit;
    hl_dtmf_source dtmf_source;
    int            duration_ms;   /* DTMF length, or recording length */
    int            code;          /* SIP status for FAILED / TRANSFERRED / HANGUP (0 = none) */
    const char    *reason;        /* short machine word, see above */
    bool           interrupted;   /* PLAY_DONE: stopped before the end */
    const struct hl_fax_result *fax; /* FAX_DONE: valid until the leg is destroyed */
    const char    *uri, *target;  /* REFER: valid until the leg's refer_notify */
} hl_leg_event;

typedef struct hl_leg_ops {
    int  (*ring)(hl_leg *);                        /* 180 Ringing (inbound) */
    int  (*answer)(hl_leg *);                      /* 200 OK with our SDP (inbound) */
    void (*hangup)(hl_leg *, int code, const char *reason); /* BYE, CANCEL or a final error, as the state needs */
    int  (*play)(hl_leg *, const char *const *items, int n); /* prompt names, "tone:NAME", "silence:MS" */
    void (*play_stop)(hl_leg *);
    int  (*record_start)(hl_leg *, const hl_record_opts *);
    void (*record_stop)(hl_leg *);
    int  (*send_dtmf)(hl_leg *, char digit, int duration_ms);
    int  (*bridge)(hl_leg *a, hl_leg *b);          /* a's audio to b and b's to a */
    void (*unbridge)(hl_leg *);
    int  (*hold)(hl_leg *, bool on);               /* re-INVITE to put the far end on hold / resume */
    int  (*transfer)(hl_leg *, const char *target_uri); /* REFER (blind transfer) */
    /* The outcome of a REFER the far end sent (HL_LEG_EV_REFER): code >= 200 is sent to its
     * phone as the final NOTIFY (200 transferred, 603 declined, 480 target unavailable...).
     * -1 when no REFER waits for it.  NULL where legs cannot be referred (simulation). */
    int  (*refer_notify)(hl_leg *, int code);
    void (*stats)(hl_leg *, hl_cdr *cdr);          /* fill rtp_* and codec of the CDR */
    /* Fax on the leg's audio (T.30 over G.711); FAX_DONE follows (never from inside the op).
     * -1 when it cannot start (bad file, a fax already running).  fax_stop ends a running
     * session early (FAX_DONE follows, status "stopped"); the leg ending stops it without
     * a FAX_DONE (the call sees the HANGUP). */
    int  (*fax_start)(hl_leg *, const hl_leg_fax_opts *);
    void (*fax_stop)(hl_leg *);
    /* Supervision: sup hears / is heard by agent and caller as mode says (media/monitor.h),
     * replacing whatever sup heard or was heard by before (so a new mode or a new call
     * needs no STOP first).  The three legs may belong to different calls and must be of
     * one kind; agent and caller are expected bridged (bridge), which monitor leaves as it
     * is, and unbridge leaves the monitor (the call layer stops it).  STOP takes sup alone
     * (agent and caller may be NULL or ended).  -1, and sup hears nothing, when a leg is
     * missing, ended or of another kind.  Closing any of the legs ends its part in it. */
    int  (*monitor)(hl_leg *sup, hl_leg *agent, hl_leg *caller, hl_monitor_mode mode);
    /* Wall time of the last voiced audio received from the leg's party (mean level over
     * silence_level), 0 when none came: "who hung up first, and how long after the other
     * last spoke".  Valid until destroy, also after the leg ended. */
    double (*last_voice)(hl_leg *);
    void (*destroy)(hl_leg *);                     /* free impl; the leg has ended */
} hl_leg_ops;

struct hl_leg {
    hl_call          *call;
    const hl_leg_ops *ops;
    void             *impl;
    hl_leg_dir        dir;
    hl_leg_state      state;
    int               index;          /* position in the call's legs */
    char              sip_call_id[80];
    char              from_user[128];
    char              to_user[128];
    char              remote_uri[256];
    /* An agent's phone (app/agents.h): the agent's number on the leg of an agent's own call
     * (leg 0: the call runs cfg->agent_entry instead of main, call.agent in Lua) and on a
     * leg that rings an agent (env->dial_agent); "" for everyone else. */
    char              agent[33];
    double            start, answer, end;   /* wall times */
    bool              held;                 /* the far end has put this leg on hold */
    char              hangup_side[12];
    char              hangup_cause[48];
    /* an agent's leg rung by the ACD (issue 8): its ring time, and whether the agent talks
     * on it (its end ends the agent's talk: wrap-up follows) */
    int               ring_ms;
    bool              acd_talking;
};

/* Implemented by the call layer (call.c): every event of every leg arrives here, on the loop. */
void hl_call_on_leg_event(hl_call *call, hl_leg *leg, const hl_leg_event *ev);

#endif
