/* cdr.h — the call detail record: one per call leg, everything the scoring and the
 * call statistics need.  The call layer fills it while the call runs; the store writes it
 * (store.h) when the leg ends; `hotline ctl cdr --json` prints it.
 *
 * Times are wall-clock seconds since the epoch with ms precision (0 = did not happen).
 * Lists are space-separated strings built with hl_cdr_append() so a CDR is one flat struct
 * with no allocations to free. */
#ifndef HL_CDR_H
#define HL_CDR_H
#include <stdint.h>

#define HL_CDR_LIST 1024

typedef struct hl_cdr {
    char     call_id[64];       /* the engine's call id, shared by every leg of one call */
    char     leg_id[80];        /* SIP Call-ID of this leg */
    int      leg_index;         /* 0 = the caller's leg, 1.. = legs the script dialled */
    char     direction[12];     /* "inbound" or "outbound" */
    char     caller[128];       /* From user part */
    char     called[128];       /* To / Request-URI user part */
    double   start, answer, end;
    char     hangup_side[12];   /* "caller", "engine", "callee" (the far end of an outbound leg) */
    char     hangup_cause[48];  /* "bye", "cancel", "rtp-timeout", "script", "fallback", "shutdown", "486", ... */
    char     dtmf[256];         /* keys received in order, e.g. "1*20#" */
    char     prompts[HL_CDR_LIST];  /* prompts played, in order, space-separated */
    char     menus[HL_CDR_LIST];    /* menus visited, in order, space-separated */
    char     route[128];        /* final route chosen by the script: "queue:sales", "message", "hangup", ... */
    char     script_version[64];/* policy snapshot that ran the call */
    char     recording[256];    /* relative path of the leg's recording, if any */
    uint64_t rtp_sent, rtp_received, rtp_lost;
    double   rtp_jitter_ms;
    char     codec[8];          /* "PCMU" / "PCMA" */
    char     vars[1024];        /* script-set variables to keep, as a JSON object text ("" = none) */
    /* the ACD (issue 8, item 7) */
    char     agent[32];         /* the agent's number: of an agent leg; on the caller's, who took it */
    char     queue[64];         /* the queue the caller waited in */
    int64_t  queue_wait_ms;
    char     queue_outcome[16]; /* answered, abandoned, timeout, key, empty ... */
    int      ring_ms;           /* an agent leg: from INVITE to answer or give-up */
    int      holds;             /* times this party put the other on hold */
    int64_t  hold_ms;           /* their total length */
    char     hold_log[512];     /* JSON: [{"start":wall,"ms":len,"reminders":n,"within":bool}] */
} hl_cdr;

/* Appends word to a space-separated list, truncating safely (a full list ends in "..."). */
void hl_cdr_append(char *list, int size, const char *word);

#endif
