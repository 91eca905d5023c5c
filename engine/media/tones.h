/* tones.h — the named tones a playlist can hold as "tone:NAME", rendered once to 8 kHz
 * linear PCM (the prompt library caches them beside the prompts, shared by all calls).
 *
 *   beep      1000 Hz, 200 ms (the record beep)
 *   dial      450 Hz continuous, 1 s (Chinese dial tone)
 *   ringback  450 Hz, 1 s on 4 s off: one 5 s cadence (Chinese ringback, GB 3380)
 *   busy      450 Hz, 350 ms on 350 ms off: one 700 ms cadence (Chinese busy tone)
 *   hold      music on hold: a short pentatonic melody (Jasmine Flower opening), ~5 s
 * A tone plays its duration once; scripts repeat an item to loop it. */
#ifndef HL_TONES_H
#define HL_TONES_H
#include <stdint.h>

/* Duration in ms of a named tone, -1 when unknown. */
int hl_tone_ms(const char *name);
/* Renders a named tone (malloc'd samples).  0, or -1 when unknown / out of memory. */
int hl_tone_render(const char *name, int16_t **samples, int *n);

#endif
