/* monitor.h — supervision of a bridged call as who hears whom: the modes (listen, whisper,
 * barge) and their one table, shared by the media (hl_media_monitor, media.h), the legs
 * that apply it (call/leg.h: monitor) and the simulator that tells it.  Its own header so
 * that media needs nothing from the call layer above it (as record.h); the table and the
 * functions below are in media.c.
 *
 * Three parties: the supervisor, the agent and the caller; the agent and the caller are
 * bridged to each other (their own conversation, which a mode never changes). */
#ifndef HL_MONITOR_H
#define HL_MONITOR_H
#include <stdbool.h>

typedef enum {
    HL_MONITOR_STOP,          /* the supervisor hears nobody, nobody hears the supervisor */
    HL_MONITOR_LISTEN,        /* supervisor hears agent + caller; nobody hears the supervisor */
    HL_MONITOR_WHISPER,       /* supervisor hears both; the agent hears caller + supervisor;
                               * the caller hears only the agent */
    HL_MONITOR_BARGE,         /* each of the three hears the other two */
} hl_monitor_mode;

typedef enum { HL_PARTY_SUPERVISOR, HL_PARTY_AGENT, HL_PARTY_CALLER, HL_PARTIES } hl_party;

/* Whether who hears src in mode (false for who == src and for a mode out of range). */
bool hl_monitor_hears(hl_monitor_mode mode, hl_party who, hl_party src);
/* "listen", "whisper", "barge", "stop" ("?" out of range). */
const char *hl_monitor_name(hl_monitor_mode mode);

#endif
