/* record.h — what a recording captures and when it stops: the options the media layer's
 * recorder takes (media.h: hl_media_record_start) and the call layer's legs pass through
 * (call/leg.h: record_start).  Its own header so that media needs nothing from the call
 * layer above it. */
#ifndef HL_RECORD_H
#define HL_RECORD_H
#include <stdbool.h>

/* What a recording captures and when it stops. */
typedef struct hl_record_opts {
    char path[512];           /* absolute path of the WAV file to write */
    int  max_ms;              /* stop after this long (0 = no limit) */
    int  silence_ms;          /* stop after this much silence following speech (0 = never) */
    int  silence_level;       /* mean absolute sample level below which a frame is silent */
    bool both_legs;           /* record what the leg hears too: its bridged peer and any
                               * heard source, e.g. a barging supervisor (media.h) */
    bool stereo;              /* this leg left, what it hears right (else mixed mono) */
} hl_record_opts;

#endif
