/* cdr.h — the call detail record: one per call leg, everything the scoring and the
 * call statistics need.  The call layer fills it while the call runs; the store writes it
 * (store.h) when the leg ends; `hotline ctl cdr --json` prints it.
 *
 * Times are wall-clock seconds since the epoch with ms precision (0 = did not happen).
 * Lists are space-separated strings built with hl_cdr_append(), and the two lists of records
 * (holds, transfers) JSON array text built with hl_cdr_hold_add() / hl_cdr_transfer_add(),
 * so a CDR is one flat struct with no allocations to free.
 *
 * The ACD part (issue 8 item 7: what scoring needs) is per leg: on an agent's leg it is
 * that agent's (ring time, holds, transfers, wrap-up); on the caller's leg the queue it
 * waited in, how that ended and the agent who took it. */
#ifndef HL_CDR_H
#define HL_CDR_H
#include <stdint.h>

#define HL_CDR_LIST 1024
/* hold_log and transfers: five records or more each (a hold is about 90 bytes, a transfer
 * 100 with a queue's name), more than a call has; the counts (holds, hold_ms) stay exact
 * when the log is full (hl_cdr_hold_add). */
#define HL_CDR_RECORDS 512

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

    /* ACD (issue 8 item 7).  Durations in ms; 0 = did not happen unless said otherwise. */
    char     agent[64];         /* agent leg: the agent's number; caller leg: the agent who took it */
    char     queue[64];         /* the queue the caller waited in ("" = none) */
    int64_t  queue_wait_ms;     /* caller leg: from joining the queue to leaving it */
    char     queue_outcome[16]; /* caller leg: "answered", "abandoned", "message", "overflow",
                                 * "timeout", "key", "empty" ... (hl_acd_leave's outcome) */
    int64_t  ring_ms;           /* agent leg: INVITE sent to answer, or to giving up */
    char     hangup_first[8];   /* "caller", "agent" or "engine": who ended the talk */
    int64_t  hangup_gap_ms;     /* hangup_first "agent": ms since the caller last spoke, or
                                 * since the talk began when the caller has been silent
                                 * throughout (-1 = unknown); not meaningful otherwise */
    int      holds;             /* times the caller was put on hold */
    int64_t  hold_ms;           /* total time on hold */
    char     hold_log[HL_CDR_RECORDS];  /* JSON: [{"start","end","reminders","back_within_ms"}] */
    char     transfers[HL_CDR_RECORDS]; /* JSON: [{"kind","target","time","result"}] */
    int64_t  wrapup_ms;         /* agent leg: the wrap-up after this call */
} hl_cdr;

/* Appends word to a space-separated list, truncating safely (a full list ends in "..."). */
void hl_cdr_append(char *list, int size, const char *word);

/* One hold, added to hold_log, and counted in holds and hold_ms (end - start).  start, end:
 * wall seconds (a call that ended on hold: its end); reminders: reminder tones the agent
 * heard meanwhile; back_within_ms: ms from the hold's start to the agent's return to the
 * caller, or to the end of the call when it ended on hold (the caller heard no one that
 * long either way; -1 = not known).  A full log keeps its JSON valid and
 * drops the record; the counts still include it.  Returns 0, or -1 when dropped. */
int  hl_cdr_hold_add(hl_cdr *cdr, double start, double end, int reminders,
                     int64_t back_within_ms);
/* One transfer, added to transfers: kind "blind" or "attended"; target the agent, queue or
 * number; time wall seconds; result "completed", "cancelled", "failed" ...  Strings are
 * JSON-escaped.  Returns 0, or -1 when the list is full (the record is dropped). */
int  hl_cdr_transfer_add(hl_cdr *cdr, const char *kind, const char *target, double time,
                         const char *result);

#endif
